/* tlsmodem — one outgoing connection, TCP or TLS over TCP, driven by the port
 * loop.  The owner (an HL/SPWF session, the HTTP client) gets events and
 * reads/writes without blocking.  Backpressure: tm_stream_want_read(false)
 * stops reading the socket, so the kernel window closes and the server waits;
 * nothing is ever dropped. */
#ifndef TM_STREAM_H
#define TM_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config.h"
#include "core/err.h"
#include "core/trace.h"
#include "tls/tls.h"

typedef struct {
    void (*on_open)(void *arg);              /* TCP connected and, for TLS, handshake verified */
    void (*on_readable)(void *arg);          /* call tm_stream_read until it returns TM_STREAM_AGAIN */
    void (*on_writable)(void *arg);          /* a previous write was short; room again */
    void (*on_error)(void *arg, const tm_reason *why);  /* connect/handshake/IO failure; stream closed */
} tm_stream_events;

typedef struct {
    char           host[TM_HOST_MAX];
    uint16_t       port;
    bool           use_tls;
    bool           udp;           /* a connected UDP socket: each write is one datagram,
                                     each read one datagram (no TLS) */
    tm_tls_config  tls;           /* used when use_tls; tls.host is set from host */
    uint32_t       connect_timeout_ms;   /* DNS + TCP + TLS handshake; 0 = tm_net_timeouts_get()->connect_ms,
                                            TM_TIMEOUT_NONE = never */
} tm_stream_opts;

typedef enum { TM_STREAM_IDLE, TM_STREAM_CONNECTING, TM_STREAM_HANDSHAKE,
               TM_STREAM_OPEN, TM_STREAM_CLOSED, TM_STREAM_FAILED,
               TM_STREAM_RESOLVING /* the system resolver works in the background (dns.h) */
} tm_stream_state;

typedef struct tm_stream {
    tm_stream_state         state;
    int                     fd;
    tm_tls                 *tls;
    const tm_stream_events *ev;
    void                   *arg;
    bool                    want_read;
    bool                    udp;
    bool                    write_blocked;
    bool                    tls_wants_write;   /* TLS read needs the socket writable */
    unsigned                timer;
    char                    host[TM_HOST_MAX];
    uint16_t                port;
    tm_reason               reason;
    /* added (internal to stream.c): */
    bool                    use_tls;
    bool                    tls_write_wants_read; /* TLS write needs the socket readable */
    tm_tls_status           hs_want;              /* handshake waits for READ or WRITE */
    tm_tls_config           tls_cfg;              /* copy; anchors/keys borrowed until on_open/on_error */
    char                    expected[TM_HOST_MAX];
    char                    addr_str[64];         /* "127.0.0.1:4433" */
    struct sockaddr_storage addr;                 /* the peer address tried */
    socklen_t               addr_len;
    unsigned                pending_timer;        /* 0 ms timer: decrypted bytes still buffered */
    int64_t                 t_start;              /* tm_port_mono_ms() at open */
    unsigned                dns;                  /* tm_dns_start id while RESOLVING */
    bool                    eof_unclean;          /* tm_stream_read returned 0 for a TLS stream closed
                                                     by a FIN without close_notify: the data may be
                                                     cut (never set for plain TCP, where FIN is the end) */
    /* progress lines on long transfers ("net  www.x.test:443: received 8.0 MiB so far ..."),
     * unless the owner says them itself with a better label (HTTP: the request line) */
    bool                    progress_off;
    tm_trace_progress       rx_prog, tx_prog;
    char                    prog_label[TM_HOST_MAX + 8];
} tm_stream;

/* Returns TM_OK when the connect started (on_open/on_error follow), or an
 * error now (unusable name, no socket). opts is copied where needed;
 * anchors/keys must stay valid until on_open/on_error.  Names that are not
 * literals or --resolve entries are resolved in the background: a DNS
 * failure or timeout then comes as on_error (TM_E_DNS), never inside this
 * call.  The connect timeout covers DNS + TCP + TLS handshake. */
tm_err tm_stream_open(tm_stream *s, const tm_stream_opts *opts,
                      const tm_stream_events *ev, void *arg, tm_reason *why);

enum { TM_STREAM_AGAIN = -1, TM_STREAM_ERROR = -2 };
/* > 0 bytes read, 0 = end of stream (TLS: s->eof_unclean tells a FIN without
 * close_notify from a clean close), TM_STREAM_AGAIN, TM_STREAM_ERROR (reason in s->reason).
 * With TLS, bytes already decrypted are announced again by a 0 ms timer
 * (on_readable) when the owner stops before TM_STREAM_AGAIN, and when
 * tm_stream_want_read(true) resumes: nothing stays stuck in the TLS buffer. */
long   tm_stream_read(tm_stream *s, void *buf, size_t cap);
/* >= 0 bytes accepted (may be short: wait for on_writable), TM_STREAM_ERROR.
 * With TLS, after 0 bytes were accepted retry with at least the same bytes
 * (OpenSSL keeps the record it began to send). */
long   tm_stream_write(tm_stream *s, const void *buf, size_t len);
void   tm_stream_want_read(tm_stream *s, bool on);
/* The owner finished an exchange and keeps the connection idle: TLS gives
 * its record buffers back (they come back with the next record). */
void   tm_stream_idle(tm_stream *s);
bool   tm_stream_is_open(const tm_stream *s);
/* Closes (TLS close_notify best effort) and unregisters; safe to call twice
 * and on a zeroed or never-opened stream (only CONNECTING/HANDSHAKE/OPEN
 * streams own a socket). */
void   tm_stream_close(tm_stream *s);

#endif
