/* tlsmodem — the narrow TLS interface.  Nothing above src/tls/ includes an
 * OpenSSL header; backend_openssl.c implements this, a small-footprint MCU
 * backend may implement it later.
 *
 * Policy is ours (docs/tls.md) and applied whatever the backend: SNI from the
 * host when it is a DNS name (never from expected_name), RFC 6125 names
 * (SAN dNSName with left-most wildcard, iPAddress SAN for IP literals, CN only
 * when there is no SAN), TLS 1.2+1.3 only, no NULL/anon/RC4/3DES/export,
 * RSA >= 2048 and no SHA-1/MD5 in chains (anchors' self-signatures excepted),
 * leaf must not be CA:TRUE and must have serverAuth when EKU is present,
 * validity checked against the module clock, trust = what the host loaded or
 * the default bundle when nothing is loaded, a loaded certificate equal to
 * the server's leaf is a pin.  Every failure comes back as a tm_reason with
 * the certificate (depth, subject), what was expected and what was found. */
#ifndef TM_TLS_H
#define TM_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef struct {
    const uint8_t *p;
    size_t         len;
} tm_blob;

typedef struct {
    const char    *host;           /* target as the user gave it: DNS name or IP literal */
    const char    *expected_name;  /* name the certificate must carry; NULL = host */
    bool           verify;         /* false = encrypt only (the caller announces it) */
    const tm_blob *anchors;        /* DER certificates the host loaded (CAs or pinned leaves) */
    size_t         n_anchors;      /* 0 = use bundle_path */
    const char    *bundle_path;    /* default trust when nothing is loaded; NULL = none */
    const tm_blob *client_chain;   /* DER, leaf first; NULL = no client certificate */
    size_t         n_client_chain;
    tm_blob        client_key;     /* PEM or DER private key; p == NULL = none */
    int64_t        now;            /* module clock, seconds since 1970 */
    bool           clock_set;      /* false: the module has no clock (--clock unset): date errors say "clock not set" */
    bool           clock_from_cmd; /* true: `now` was set by the dialect's clock command (AT+CCLK, AT+S.TIME) */
    int64_t        host_now;       /* host wall clock; when `now` fails a validity check that host_now passes,
                                      the reason is a clock problem, with both dates */
    const uint8_t *pin_spki_sha256;/* optional 32-byte SPKI pin */
    int            min_version;    /* 0 = TLS 1.2; 0x0303 / 0x0304 to restrict (tests, profiles) */
    int            max_version;    /* 0 = TLS 1.3 */
    const char    *clock_hint;     /* added: the dialect's clock command for reasons ("AT+CCLK");
                                      NULL = "the module clock command" */
    bool           clock_trusted;  /* `now` is an explicit time (tlsmodem-cert verify --time): dates are
                                      judged against it alone, never called a clock problem */
    const char    *trust_note;     /* added: appended to the trust description in reasons, e.g.
                                      stored files that are not anchors and why; NULL = none */
    const char    *sni;            /* added (ESP AT+CIPSSLCSNI): the SNI to send instead of the one
                                      derived from host; NULL = from host, "" = none.  An IP literal
                                      is never sent (RFC 6066).  The name checked is still
                                      expected_name, else host. */
    const char    *load_hint;      /* added: the dialect's command that loads a root, for reasons
                                      ("load the root '…' (<hint>)"); NULL = the HL/SPWF commands */
    const uint8_t *alpn;           /* added (ESP AT+CIPSSLCALPN): ALPN protocol list in wire format
                                      (length-prefixed names); NULL/0 = no ALPN extension */
    size_t         alpn_len;
} tm_tls_config;

typedef enum {
    TM_TLS_OK = 0,        /* done / n bytes moved */
    TM_TLS_WANT_READ,     /* wait until the socket is readable, then call again */
    TM_TLS_WANT_WRITE,    /* wait until the socket is writable, then call again */
    TM_TLS_CLOSED,        /* peer sent close_notify or closed (read only) */
    TM_TLS_FAILED,        /* see the reason; the session is dead */
    TM_TLS_CLOSED_UNCLEAN,/* read only: the peer closed TCP without close_notify; what was
                             read may be cut short (a truncation attack looks the same) */
} tm_tls_status;

typedef struct tm_tls tm_tls;

/* Creates a client session on a connected non-blocking socket. */
tm_tls       *tm_tls_new(const tm_tls_config *cfg, int fd, tm_reason *why);
tm_tls_status tm_tls_handshake(tm_tls *t, tm_reason *why);
tm_tls_status tm_tls_read(tm_tls *t, void *buf, size_t cap, size_t *got, tm_reason *why);
tm_tls_status tm_tls_write(tm_tls *t, const void *buf, size_t len, size_t *put, tm_reason *why);
size_t        tm_tls_pending(tm_tls *t);      /* decrypted bytes ready without reading the socket */
void          tm_tls_close_notify(tm_tls *t); /* best effort, non-blocking */
void          tm_tls_free(tm_tls *t);
/* Between exchanges on a kept connection: gives OpenSSL's record buffers
 * back (SSL_free_buffers); kept when read-ahead bytes are still in them. */
void          tm_tls_release_buffers(tm_tls *t);
/* TLS sessions alive now (tm_tls_new .. tm_tls_free): the control
 * channel's "stats" (docs/control.md). */
unsigned long tm_tls_live(void);

/* Contexts (backend state shared by the connections of one configuration:
 * trust store, client certificate, versions) are cached, keyed by a hash of
 * everything they depend on, so a changed store or setting gets a new one.
 * For tests and the benchmark: the identity of t's context, how many
 * contexts were built since start-up, and dropping the cache (at exit, so a
 * leak checker sees nothing held). */
const void   *tm_tls_context_id(const tm_tls *t);
unsigned long tm_tls_contexts_built(void);
void          tm_tls_cache_clear(void);

/* Added: after the handshake, the verdict alone ("verified by root 'CN=…' (loaded, sha256 …)",
 * "verified: pinned leaf '…'", "NOT VERIFIED (encrypt only)"). */
const char   *tm_tls_verdict(tm_tls *t);

/* After the handshake: one line for the trace and for info commands,
 * e.g. "TLSv1.3 TLS_AES_128_GCM_SHA256, SNI www.example.test, verified by root 'CN=Test Root'". */
const char   *tm_tls_summary(tm_tls *t);

#endif
