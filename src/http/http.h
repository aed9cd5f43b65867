/* tlsmodem — HTTP/1.1 client over a tm_stream, shared by every dialect.
 *
 * One tm_http per session (HL KHTTPSCFG id, SPWF HTTPGET call).  It keeps the
 * connection open between requests when the server allows (keep-alive reuse)
 * and reconnects when it does not.  Request: "<METHOD> <uri> HTTP/1.1", Host
 * from the server name (":port" when not the scheme default), the user's
 * header lines, Content-Length or chunked for bodies.  Response: status line
 * and headers parsed, body de-chunked and streamed to the owner as it arrives,
 * never held whole (a 64 MiB download keeps memory flat). */
#ifndef TM_HTTP_H
#define TM_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "core/err.h"
#include "net/stream.h"

typedef struct {
    /* Status line and headers received ("HTTP/1.1 200 OK\r\n…\r\n\r\n"). */
    void   (*on_head)(void *arg, int status, const char *reason_phrase,
                      const char *head, size_t head_len);
    /* Body bytes (de-chunked).  Never more than body_room() at once. */
    void   (*on_body)(void *arg, const uint8_t *p, size_t n);
    size_t (*body_room)(void *arg);            /* NULL: unlimited */
    /* Request line and headers are sent; the owner may stream the body with
     * tm_http_body_write() and must end it with tm_http_body_end(). */
    void   (*on_body_wanted)(void *arg);
    void   (*on_body_writable)(void *arg);     /* after a short tm_http_body_write */
    /* The response is complete (TM_OK) or the request failed. */
    void   (*on_done)(void *arg, tm_err result, const tm_reason *why);
    /* Optional: the kept-alive connection closed or broke between requests
     * (the server's idle timeout): the owner may release what it kept for it.
     * No callback may free the tm_http itself (defer it to a 0 ms timer). */
    void   (*on_idle_closed)(void *arg);
    /* Optional, both or neither: body bytes without framing (a Content-Length
     * or close-delimited body, the inside of a chunk) are read straight into
     * the owner's buffer — body_place gives a contiguous region (its size, 0:
     * not now), on_body_placed says how many body bytes were put there, in
     * place of on_body; one copy per byte fewer.  Within body_room(). */
    size_t (*body_place)(void *arg, uint8_t **p);
    void   (*on_body_placed)(void *arg, size_t n);
} tm_http_events;

typedef enum {
    TM_HTTP_BODY_NONE,       /* GET, HEAD, DELETE */
    TM_HTTP_BODY_LENGTH,     /* Content-Length: body_length (from the user's headers or given) */
    TM_HTTP_BODY_CHUNKED,    /* tm_http frames each body_write as a chunk */
    TM_HTTP_BODY_RAW,        /* user headers say Transfer-Encoding: chunked: bytes pass unchanged */
} tm_http_body_mode;

typedef struct {
    tm_stream_opts       conn;          /* host, port, tls config */
    const char          *method;        /* "GET", "HEAD", "POST", "PUT", "DELETE" */
    const char          *uri;           /* "/path?q" */
    const char          *user_headers;  /* "Name: value\r\n…" or NULL */
    tm_http_body_mode    body_mode;
    uint64_t             body_length;
    const char          *basic_user;    /* optional basic auth */
    const char          *basic_pass;
    /* 0 = the defaults (tm_net_timeouts_get()); TM_TIMEOUT_NONE = never.
     * response: request complete -> response head complete; idle: longest
     * silence of the server while a byte is awaited.  Expiry fails the
     * request with TM_E_TIMEOUT and a reason saying which and how much came. */
    uint32_t             response_timeout_ms;
    uint32_t             idle_timeout_ms;
} tm_http_request;

/* Client behaviour details (client.c):
 * - tm_http_start builds and checks the head first (errors come back at once,
 *   nothing connects); TM_E_BUSY while a request runs.  Callbacks never run
 *   inside tm_http_start.
 * - Connection reuse: when the previous response allowed keep-alive, was read
 *   to its end and the target (host, port, TLS, verify, expected name) is the
 *   same, the open connection is reused; if it turns out closed before any
 *   response byte (and before any body byte was handed over), it reconnects
 *   once transparently.  An idle kept connection closed by the server is
 *   noticed and dropped.
 * - tm_http_body_write returns the bytes accepted: 0 (or fewer than n) means
 *   wait for on_body_writable; -1 when no body is expected now or the request
 *   failed.  CHUNKED: each call becomes one chunk of at most 8 KiB.  LENGTH:
 *   more bytes than announced, or tm_http_body_end before all of them, fail the
 *   request with TM_E_HTTP_BODY_LENGTH (on_done is called from inside the
 *   write/end call).
 * - The response is read even while the body is being sent (a server may
 *   answer early); the connection is then not reused.
 * - Backpressure: on_body never gets more than body_room() bytes per call;
 *   at 0 the socket is no longer read (tm_stream_want_read(false)) and the
 *   unparsed bytes wait in the TM_HTTP_RX_BUF (16 KiB) buffer until tm_http_resume().
 * - tm_http_close does not call on_done.  The owner may call tm_http_start
 *   from on_done and tm_http_close from any callback.
 * - Memory: tm_http_sizeof() (~3 KiB: the connection, kept between
 *   requests) plus, only while a request runs, its buffers (request head,
 *   chunk, receive buffer, response parser: tm_http_request_bytes()),
 *   released when the request ends; whatever the body size. */
typedef struct tm_http tm_http;
size_t   tm_http_sizeof(void);
void     tm_http_init(tm_http *h, const tm_http_events *ev, void *arg);
tm_err   tm_http_start(tm_http *h, const tm_http_request *req, tm_reason *why);
/* Opens the connection without a request (HL AT+KHTTPSCNX); on_done(TM_OK)
 * when it is up (TLS verified), on_done(error) otherwise.  The next request
 * to the same target reuses it. */
tm_err   tm_http_connect(tm_http *h, const tm_stream_opts *conn, tm_reason *why);
long     tm_http_body_write(tm_http *h, const uint8_t *p, size_t n);  /* accepted bytes, or -1 */
void     tm_http_body_end(tm_http *h);
void     tm_http_resume(tm_http *h);     /* body_room grew: continue delivering */
bool     tm_http_busy(const tm_http *h);
bool     tm_http_connected(const tm_http *h);
/* Heap held for the running request beyond tm_http_sizeof(); 0 between
 * requests (also with a kept-alive connection). */
size_t   tm_http_request_bytes(const tm_http *h);
void     tm_http_close(tm_http *h);      /* drop the connection (and any request) */

/* ---- pieces with no I/O, unit-tested on their own ---------------------- */

/* Checks user header lines; fixes nothing silently: "Accept : text/html"
 * (space before the colon) -> TM_E_HTTP_HEADER_SYNTAX naming the line and the
 * fix. Accepts CRLF or LF line ends; *normalized gets CRLF lines. */
tm_err tm_http_check_headers(const char *in, size_t len, char *normalized, size_t cap,
                             size_t *out_len, tm_reason *why);
/* Finds a header value in "Name: value\r\n" text, case-insensitive name. */
bool   tm_http_header_value(const char *headers, const char *name, char *val, size_t cap);

/* Builds the request head: "<METHOD> <uri> HTTP/1.1\r\n", "Host: <host>"
 * (":port" unless 443 with TLS / 80 without; IPv6 literals in brackets; a
 * Host line in user_headers replaces ours), the user's header lines (checked
 * with tm_http_check_headers, CRLF-normalized), "Authorization: Basic …" when
 * basic_user is set (unless the user sent Authorization), then per body_mode
 * unless the user headers already carry it: LENGTH "Content-Length: N",
 * CHUNKED "Transfer-Encoding: chunked", NONE with POST/PUT/PATCH
 * "Content-Length: 0", RAW nothing; then the empty line.  No Connection
 * header (HTTP/1.1 keeps the connection by default).  *body_len (may be NULL)
 * gets the body length the server will expect in LENGTH mode: the user's
 * Content-Length when present, else req->body_length; a user Content-Length
 * that differs from a non-zero body_length is TM_E_HTTP_BODY_LENGTH.
 * Errors: TM_E_ARG_BAD (method/uri), TM_E_HTTP_HEADER_SYNTAX, TM_E_TOO_LARGE. */
tm_err tm_http_build_head(const tm_http_request *req, char *out, size_t cap, size_t *out_len,
                          uint64_t *body_len, tm_reason *why);

/* Incremental response parser: feed bytes, get head/body callbacks. */
typedef struct {
    int      state;
    int      status;
    char     reason_phrase[64];
    char     head[TM_HTTP_HEADER_MAX];   /* NUL-terminated once head_ready */
    size_t   head_len;
    bool     chunked;
    bool     has_length;
    uint64_t remaining;      /* body bytes or current chunk bytes left */
    bool     keep_alive;
    bool     no_body;        /* HEAD / 204 / 304 */
    char     line[128];      /* chunk-size line */
    size_t   line_len;
    /* added: */
    bool     head_request;
    int      version_minor;  /* HTTP/1.<minor> */
    size_t   line_start;     /* start of the current head line in head */
    uint64_t content_length; /* when has_length */
    uint64_t body_total;     /* body bytes delivered so far */
    size_t   trailer_len;    /* bytes of trailers seen */
    int      interim;        /* 1xx responses skipped */
    bool     ext;            /* chunk-size line: extension being skipped */
} tm_http_parser;

void   tm_http_parser_init(tm_http_parser *p, bool head_request);
/* Consumes up to len bytes; body bytes are passed to on_body (at most
 * body_max per call in total: the return value says how much of `in` was
 * used).  *done set when the message is complete.  Errors -> TM_E_HTTP_PROTOCOL.
 * Details: the call returns as soon as the head is complete (*head_ready,
 * *used = bytes up to the end of the head) so the caller can handle the head
 * before any body byte; 1xx interim responses (but 101) are skipped; framing
 * bytes (chunk sizes, CRLFs, trailers) are consumed even when body_max is
 * used up, body bytes never beyond body_max; nothing after the end of the
 * message is consumed.  After an error every later call fails again. */
tm_err tm_http_parser_feed(tm_http_parser *p, const uint8_t *in, size_t len, size_t body_max,
                           size_t *used, bool *head_ready, bool *done,
                           void (*on_body)(void *arg, const uint8_t *p, size_t n), void *arg,
                           tm_reason *why);
/* The server closed: completes a body delimited by close.  Otherwise
 * TM_E_HTTP_NO_RESPONSE (nothing received), TM_E_HTTP_PROTOCOL (inside the
 * head) or TM_E_HTTP_TRUNCATED (Content-Length or chunked body cut short),
 * with counts in the detail ("body truncated: …"). */
tm_err tm_http_parser_eof(tm_http_parser *p, bool *done, tm_reason *why);
/* The same for a TLS stream: clean = the server sent close_notify.  Without
 * it a close-delimited body is TM_E_HTTP_TRUNCATED too ("body truncated:
 * connection closed without TLS close_notify after N bytes").  Plain HTTP
 * has no close_notify: its FIN is the legitimate end (tm_http_parser_eof). */
tm_err tm_http_parser_eof_tls(tm_http_parser *p, bool clean, bool *done, tm_reason *why);
/* How many of the next response bytes are body bytes with no framing between
 * them (the rest of a Content-Length body or of a chunk; UINT64_MAX for a
 * close-delimited body; 0 outside a body): a reader may take that many
 * straight to the owner and then feed them with on_body NULL (accounting). */
uint64_t tm_http_parser_body_direct(const tm_http_parser *p);

/* ---- URLs (url.c) --------------------------------------------------------
 * "http[s]://host[:port][/path?query]", the form the ESP-AT HTTP commands
 * take.  Scheme case-insensitive; host a name, an IPv4 literal or an IPv6
 * literal in brackets (stored without them); port 1..65535, default 80 / 443;
 * no path = "/"; a '#fragment' is dropped (never sent); userinfo ("user@")
 * is refused rather than sent as a host.  Errors name what is wrong and
 * quote the URL: TM_E_ARG_BAD (scheme, host, port, spaces/control bytes),
 * TM_E_TOO_LARGE (host or path beyond TM_HOST_MAX / TM_HTTP_URI_MAX). */
typedef struct {
    bool     tls;                      /* https */
    char     host[TM_HOST_MAX];
    uint16_t port;
    char     uri[TM_HTTP_URI_MAX];     /* "/path?query" */
} tm_http_url;

tm_err tm_http_url_parse(const char *url, size_t len, tm_http_url *out, tm_reason *why);

#endif
