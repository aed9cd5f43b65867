/* tlsmodem — every fixed limit in one place.
 *
 * The core never allocates beyond these bounds for protocol state; the Linux
 * build uses generous values, an MCU port may shrink them. */
#ifndef TM_CONFIG_H
#define TM_CONFIG_H

/* AT engine */
#define TM_AT_LINE_MAX        4096   /* bytes in one command line (V.250 needs >= 2 KiB for us) */
#define TM_AT_ARGS_MAX        24     /* arguments of one command */
#define TM_AT_NAME_MAX        32     /* command name incl. prefix (+KHTTPSCFG, +S.SOCKON) */
#define TM_AT_URC_QUEUE       64     /* URC lines held while a command runs */
#define TM_AT_URC_LINE_MAX    (1024 + 256) /* a CMEE=2 failure URC carries a whole reason (TM_DETAIL_MAX + sentence) */
#define TM_AT_PATTERN_MAX     128    /* EOF pattern of HL data mode */
#define TM_AT_ESCAPE_GUARD_MS 1000   /* default +++ guard time (S12 = 50 -> 1 s) */
#define TM_AT_SPOOL_MAX       (4 * 1024 * 1024) /* one spooled answer (tm_at_spool: listings) */

/* Output towards the host: producers (HTTP bodies, socket reads) stop when
 * this is full and resume when it drains (backpressure, nothing dropped). */
#define TM_OUT_BUF            (64 * 1024)

/* Sessions */
#define TM_SESSIONS_MAX       8      /* HL session ids 1..8, SPWF sockets 0..7 */
#define TM_SOCK_RX_BUF        (32 * 1024)  /* per-socket receive buffer (KTCPRCV/SOCKR) */
#define TM_SOCK_TX_BUF        (32 * 1024)

/* HTTP */
#define TM_HTTP_HEADER_MAX    8192   /* user headers of one session, and one response head */
#define TM_HTTP_URI_MAX       2048
#define TM_HOST_MAX           256
#define TM_HTTP_RX_BUF        (16 * 1024)  /* one read of a response: a whole TLS record */

/* Store */
#define TM_STORE_ITEM_MAX     (256 * 1024) /* one certificate/key/file (1000-SAN certs are ~40 KB) */
#define TM_STORE_NAME_MAX     128
#define TM_CERT_SLOTS         8      /* indexes per certificate type */
/* The SPWF file system (AT+S.FSC/FSA, HTTPGET/HTTPPOST output files): at most
 * this many files and bytes in all, like the module's flash; beyond them a
 * write fails with TM_E_STORE_FULL (AT-S.ERROR:46) and nothing is written.
 * AT+S.FSL streams any number of files (docs/spwf.md). */
#define TM_FS_FILES_MAX       4096
#define TM_FS_BYTES_MAX       (64 * 1024 * 1024)

/* Reasons */
#define TM_DETAIL_MAX         1024   /* per-event detail text */

/* Net — default timeouts (docs/reliability.md); --timeout-* and the
 * dialects' own settings change them at run time. */
#define TM_CONNECT_TIMEOUT_MS 30000  /* DNS + TCP connect + TLS handshake, in total */
#define TM_DNS_TIMEOUT_MS     10000  /* name resolution alone (within the connect timeout) */
#define TM_RESPONSE_TIMEOUT_MS 60000 /* request sent -> complete response head */
#define TM_IDLE_TIMEOUT_MS    30000  /* no byte from the server while one is awaited */
#define TM_DNS_MAX            16     /* resolutions running at once */
/* TLS: largest certificate chain accepted from a server (OpenSSL max_cert_list) */
#define TM_TLS_CHAIN_MAX      (100 * 1024)
/* TLS: SSL_CTX kept per distinct configuration (trust anchors or bundle,
 * client certificate and key, versions, verify on/off); least recently used
 * is dropped.  Each holds its parsed trust store (~20 KiB + the anchors). */
#define TM_TLS_CTX_CACHE      4
/* TLS: read-ahead buffer of a connection while it is reading (released when
 * drained, SSL_MODE_RELEASE_BUFFERS): several records per recv() */
#define TM_TLS_READ_BUF       (64 * 1024)
#define TM_RESOLVE_MAX        16     /* --resolve entries */
#define TM_WIFI_MAX           8      /* --wifi access points (ESP dialect's simulated Wi-Fi) */

#endif
