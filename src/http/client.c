/* HTTP/1.1 client over a tm_stream (see http.h).
 *
 * States: IDLE (maybe holding a kept-alive connection) -> CONNECTING ->
 * HEAD (request head being written) -> BODY (owner streams the body) ->
 * RESPONSE (reading) -> IDLE.  The response is parsed whatever the state after
 * the head was sent (a server may answer before the body is complete).
 * Owner callbacks may re-enter (start the next request from on_done, close
 * from on_body): every callback is followed by a generation check. */
#include "http/http.h"
#include "core/sim.h"
#include "core/trace.h"
#include "net/net.h"
#include "port/port.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { H_IDLE, H_CONNECTING, H_HEAD, H_BODY, H_RESPONSE };

#define HEAD_CAP (TM_HTTP_URI_MAX + TM_HTTP_HEADER_MAX + TM_HOST_MAX + 512)
#define CHUNK_MAX 8192
/* One read takes a whole TLS record (16 KiB of plaintext at most): a
 * smaller buffer split each record over two reads and two trips through
 * the parser and the host output. */
#define RX_CAP TM_HTTP_RX_BUF

/* What only a running request needs (~43 KiB): allocated by tm_http_start,
 * released when the request ends (finish, fail, close), so an idle session,
 * even one holding a kept-alive connection, costs only struct tm_http. */
typedef struct {
    char                  head[HEAD_CAP];
    uint8_t               tx[CHUNK_MAX + 32];
    uint8_t               rx[RX_CAP];
    tm_http_parser        parser;
} tm_http_work;

struct tm_http {
    const tm_http_events *ev;
    void                 *arg;
    tm_stream             s;
    bool                  live;       /* s opened and not closed */
    bool                  reusable;   /* idle connection allowed by the last response */
    tm_stream_opts        opts;       /* target of the current connection / request */
    int                   state;
    unsigned              gen;
    unsigned              kick;       /* timer starting a request on a reused connection */

    tm_http_body_mode     mode;
    uint64_t              body_expect, body_sent;
    bool                  body_started;   /* on_body_wanted was called */
    bool                  body_ended;
    bool                  user_blocked;   /* a body write was short: on_body_writable owed */
    bool                  reused, retried, got_bytes, paused;
    bool                  connect_only;   /* tm_http_connect: open, no request */

    tm_http_work         *w;          /* NULL between requests */
    bool                  feeding;    /* inside tm_http_parser_feed: w must stay */
    size_t                head_len, head_off;
    char                  reqline[96];    /* for the trace */
    size_t                tx_len, tx_off;
    size_t                rx_len, rx_off;
    int64_t               t_start;
    tm_trace_progress     rx_prog, tx_prog;   /* progress lines on long bodies */
    /* waiting for the server (docs/reliability.md) */
    unsigned              wait_timer;
    uint32_t              resp_ms, idle_ms;   /* TM_TIMEOUT_NONE = never */
    int64_t               t_sent;             /* the request was complete */
    int64_t               last_rx;            /* last byte from the server (or resume) */
    bool                  head_done;          /* final response head parsed */
};

size_t tm_http_sizeof(void) { return sizeof(tm_http); }

size_t tm_http_request_bytes(const tm_http *h) { return h->w ? sizeof *h->w : 0; }

static void on_open(void *arg);
static void on_readable(void *arg);
static void on_writable(void *arg);
static void on_error(void *arg, const tm_reason *why);

static const tm_stream_events STREAM_EV = { on_open, on_readable, on_writable, on_error };

void tm_http_init(tm_http *h, const tm_http_events *ev, void *arg)
{
    memset(h, 0, sizeof *h);
    h->ev = ev;
    h->arg = arg;
    h->s.fd = -1;
}

bool tm_http_busy(const tm_http *h) { return h->state != H_IDLE; }

bool tm_http_connected(const tm_http *h) { return h->live && tm_stream_is_open(&h->s); }

static void drop_stream(tm_http *h)
{
    if (h->live)
        tm_stream_close(&h->s);
    h->live = false;
    h->reusable = false;
    h->paused = false;
    h->rx_len = h->rx_off = 0;
}

/* The request's buffers go back when it ends; not while the parser is
 * running over them (an owner callback closing from on_body): pump releases
 * them after the parser returned. */
static void idle_closed(tm_http *h)
{
    if (h->ev->on_idle_closed)
        h->ev->on_idle_closed(h->arg);
}

static void release_work(tm_http *h)
{
    if (h->feeding || !h->w)
        return;
    free(h->w);
    h->w = NULL;
    h->tx_len = h->tx_off = 0;
    h->rx_len = h->rx_off = 0;
}

static void cancel_kick(tm_http *h)
{
    if (h->kick) {
        tm_port_timer_cancel(h->kick);
        h->kick = 0;
    }
    if (h->wait_timer) {
        tm_port_timer_cancel(h->wait_timer);
        h->wait_timer = 0;
    }
}

void tm_http_close(tm_http *h)
{
    tm_sim_body_forget(h);
    cancel_kick(h);
    if (h->live)
        tm_trace("http", "closing the connection to %s:%u", h->opts.host, (unsigned)h->opts.port);
    drop_stream(h);
    h->state = H_IDLE;
    h->gen++;
    release_work(h);
}

/* The request failed: the connection is dropped, on_done reports it. */
static void fail(tm_http *h, tm_err code, const tm_reason *why)
{
    tm_reason r;
    if (why)
        r = *why;
    else
        tm_reason_clear(&r);
    r.code = code;
    char text[TM_DETAIL_MAX + 128];
    tm_trace("http", "%s failed: %s", h->reqline, tm_reason_text(&r, text, sizeof text));
    cancel_kick(h);
    drop_stream(h);
    h->state = H_IDLE;
    h->connect_only = false;
    h->gen++;
    release_work(h);
    if (h->ev->on_done)
        h->ev->on_done(h->arg, code, &r);
}

static void failf(tm_http *h, tm_err code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void failf(tm_http *h, tm_err code, const char *fmt, ...)
{
    va_list ap;
    tm_reason r;
    tm_reason_clear(&r);
    va_start(ap, fmt);
    tm_vfail(&r, code, fmt, ap);
    va_end(ap);
    fail(h, code, &r);
}

static bool same_target(const tm_stream_opts *a, const tm_stream_opts *b)
{
    const char *ea = a->tls.expected_name ? a->tls.expected_name : "";
    const char *eb = b->tls.expected_name ? b->tls.expected_name : "";
    return strcmp(a->host, b->host) == 0 && a->port == b->port && a->use_tls == b->use_tls &&
           (!a->use_tls || (a->tls.verify == b->tls.verify && strcmp(ea, eb) == 0));
}

static tm_err connect_now(tm_http *h, tm_reason *why)
{
    drop_stream(h);
    h->state = H_CONNECTING;
    h->head_off = 0;
    tm_trace("http", "connecting to %s:%u%s", h->opts.host, (unsigned)h->opts.port, h->opts.use_tls ? " (TLS)" : "");
    tm_err e = tm_stream_open(&h->s, &h->opts, &STREAM_EV, h, why);
    h->s.progress_off = true;    /* progress is said per request, with its request line */
    if (e == TM_OK)
        h->live = true;
    return e;
}

/* A reused connection broke before any response byte: reconnect once,
 * unless body bytes already went out (they cannot be sent again). */
static bool try_reconnect(tm_http *h, const char *what)
{
    if (!h->reused || h->retried || h->got_bytes || h->body_started)
        return false;
    h->retried = true;
    h->reused = false;
    tm_trace("http", "the reused connection to %s:%u %s before any response byte; reconnecting once",
             h->opts.host, (unsigned)h->opts.port, what);
    tm_http_parser_init(&h->w->parser, h->w->parser.head_request);
    tm_reason r;
    tm_reason_clear(&r);
    if (connect_now(h, &r) != TM_OK)
        fail(h, r.code, &r);
    return true;
}

/* Writes pending tx bytes; false on a stream error (already handled). */
static bool flush_tx(tm_http *h)
{
    while (h->tx_off < h->tx_len) {
        long w = tm_stream_write(&h->s, h->w->tx + h->tx_off, h->tx_len - h->tx_off);
        if (w < 0) {
            fail(h, h->s.reason.code ? h->s.reason.code : TM_E_NET, &h->s.reason);
            return false;
        }
        if (w == 0)
            return true;
        h->tx_off += (size_t)w;
    }
    h->tx_off = h->tx_len = 0;
    return true;
}

static void pump(tm_http *h);

/* Response and idle timeouts.  The response timeout runs from the moment the
 * request is complete to the end of the response head (a server that drips
 * its head slower than the idle timeout still ends); the idle timeout is the
 * longest silence of the server while a byte is awaited.  Neither runs while
 * the body is paused for the host (then the server is not the slow one).
 * One timer, re-armed lazily: reading a byte only records the time. */
static void wait_cb(void *arg)
{
    tm_http *h = arg;
    h->wait_timer = 0;
    if (h->state != H_RESPONSE)
        return;
    int64_t now = tm_port_mono_ms();
    int64_t due = INT64_MAX;
    if (!h->head_done && h->resp_ms != TM_TIMEOUT_NONE) {
        int64_t d = h->t_sent + (int64_t)h->resp_ms;
        if (now >= d) {
            failf(h, TM_E_TIMEOUT, "no complete response head from %s:%u within %u ms of the request "
                  "(%zu bytes of it received)", h->opts.host, (unsigned)h->opts.port, (unsigned)h->resp_ms,
                  h->w->parser.head_len);
            return;
        }
        due = d;
    }
    if (h->idle_ms != TM_TIMEOUT_NONE && !h->paused) {
        int64_t d = h->last_rx + (int64_t)h->idle_ms;
        if (now >= d) {
            if (h->head_done)
                failf(h, TM_E_TIMEOUT, "the server %s:%u sent nothing for %u ms in the middle of the body "
                      "(%" PRIu64 " body bytes received)", h->opts.host, (unsigned)h->opts.port,
                      (unsigned)h->idle_ms, h->w->parser.body_total);
            else
                failf(h, TM_E_TIMEOUT, "the server %s:%u sent nothing for %u ms while the response head "
                      "was awaited (%zu bytes of it received)", h->opts.host, (unsigned)h->opts.port,
                      (unsigned)h->idle_ms, h->w->parser.head_len);
            return;
        }
        if (d < due)
            due = d;
    }
    if (due != INT64_MAX)
        h->wait_timer = tm_port_timer_add((uint32_t)(due - now), wait_cb, h);
}

/* The request is complete: from now on the server must answer. */
static void start_wait(tm_http *h)
{
    if (h->wait_timer)
        tm_port_timer_cancel(h->wait_timer);
    h->wait_timer = 0;
    h->t_sent = h->last_rx = tm_port_mono_ms();
    if (h->resp_ms == TM_TIMEOUT_NONE && h->idle_ms == TM_TIMEOUT_NONE)
        return;
    uint32_t first = h->resp_ms < h->idle_ms ? h->resp_ms : h->idle_ms;
    h->wait_timer = tm_port_timer_add(first, wait_cb, h);
}

static void send_head(tm_http *h)
{
    while (h->head_off < h->head_len) {
        long w = tm_stream_write(&h->s, h->w->head + h->head_off, h->head_len - h->head_off);
        if (w < 0) {
            if (!try_reconnect(h, "failed on write"))
                fail(h, h->s.reason.code ? h->s.reason.code : TM_E_NET, &h->s.reason);
            return;
        }
        if (w == 0)
            return;   /* on_writable continues */
        h->head_off += (size_t)w;
    }
    if (h->state != H_HEAD)
        return;
    tm_trace("http", "> %s (%s:%u, %s connection)", h->reqline, h->opts.host, (unsigned)h->opts.port,
             h->reused ? "reused" : "new");
    if (h->mode == TM_HTTP_BODY_NONE) {
        h->state = H_RESPONSE;
        h->body_ended = true;
        start_wait(h);
    } else {
        h->state = H_BODY;
        h->body_started = true;
        unsigned g = h->gen;
        if (h->ev->on_body_wanted)
            h->ev->on_body_wanted(h->arg);
        if (h->gen != g)
            return;
    }
    pump(h);   /* a response may already be waiting */
}

static void kick_cb(void *arg)
{
    tm_http *h = arg;
    h->kick = 0;
    if (h->state != H_HEAD)
        return;
    if (!tm_stream_is_open(&h->s)) {
        if (!try_reconnect(h, "was closed"))
            failf(h, TM_E_PEER_CLOSED, "the connection closed before the request was sent");
        return;
    }
    send_head(h);
}

tm_err tm_http_start(tm_http *h, const tm_http_request *req, tm_reason *why)
{
    if (h->state != H_IDLE)
        return tm_fail(why, TM_E_BUSY, "the previous HTTP request is still running");
    if (!h->w && !(h->w = malloc(sizeof *h->w)))
        return tm_fail(why, TM_E_NO_MEMORY, "no memory for the HTTP request buffers (%zu bytes)",
                       sizeof *h->w);
    uint64_t expect = 0;
    size_t hl = 0;
    tm_err e = tm_http_build_head(req, h->w->head, sizeof h->w->head, &hl, &expect, why);
    if (e) {
        release_work(h);
        return e;
    }
    h->head_len = hl;
    h->head_off = 0;
    const char *eol = memchr(h->w->head, '\r', hl);
    snprintf(h->reqline, sizeof h->reqline, "%.*s", (int)(eol ? (size_t)(eol - h->w->head) : 0), h->w->head);
    h->mode = req->body_mode;
    h->body_expect = expect;
    h->body_sent = 0;
    h->body_started = h->body_ended = h->user_blocked = false;
    h->retried = h->got_bytes = h->paused = false;
    h->tx_len = h->tx_off = 0;
    bool head_req = req->method && strcmp(req->method, "HEAD") == 0;
    tm_http_parser_init(&h->w->parser, head_req);
    const tm_net_timeouts *dt = tm_net_timeouts_get();
    h->resp_ms = req->response_timeout_ms ? req->response_timeout_ms : dt->response_ms;
    h->idle_ms = req->idle_timeout_ms ? req->idle_timeout_ms : dt->idle_ms;
    h->head_done = false;
    h->t_start = tm_port_mono_ms();
    tm_trace_progress_start(&h->rx_prog);
    tm_trace_progress_start(&h->tx_prog);
    h->gen++;

    bool reuse = h->live && h->reusable && same_target(&h->opts, &req->conn) && tm_stream_is_open(&h->s);
    if (h->live && !reuse)
        tm_trace("http", "not reusing the connection to %s:%u (%s)", h->opts.host, (unsigned)h->opts.port,
                 !h->reusable ? "the last response did not allow it" :
                 !same_target(&h->opts, &req->conn) ? "different target" : "closed");
    h->opts = req->conn;
    if (reuse) {
        h->reused = true;
        h->reusable = false;
        h->state = H_HEAD;
        h->rx_len = h->rx_off = 0;
        tm_trace("http", "reusing the connection to %s:%u", h->opts.host, (unsigned)h->opts.port);
        h->kick = tm_port_timer_add(0, kick_cb, h);
        if (!h->kick) {
            h->state = H_IDLE;
            release_work(h);
            return tm_fail(why, TM_E_INTERNAL, "no timer free");
        }
        return TM_OK;
    }
    h->reused = false;
    e = connect_now(h, why);
    if (e) {
        h->state = H_IDLE;
        release_work(h);
        return e;
    }
    return TM_OK;
}

tm_err tm_http_connect(tm_http *h, const tm_stream_opts *conn, tm_reason *why)
{
    if (h->state != H_IDLE)
        return tm_fail(why, TM_E_BUSY, "the previous HTTP request is still running");
    h->opts = *conn;
    h->connect_only = true;
    int w = snprintf(h->reqline, sizeof h->reqline, "connect to %.60s:%u", conn->host, (unsigned)conn->port);
    (void)w;   /* a cut name in the trace label is fine */
    h->reused = h->retried = h->got_bytes = h->paused = false;
    h->t_start = tm_port_mono_ms();
    h->gen++;
    tm_err e = connect_now(h, why);
    if (e) {
        h->connect_only = false;
        h->state = H_IDLE;
    }
    return e;
}

long tm_http_body_write(tm_http *h, const uint8_t *p, size_t n)
{
    if (h->state != H_BODY || h->body_ended)
        return -1;
    if (h->tx_off < h->tx_len) {
        unsigned g = h->gen;
        if (!flush_tx(h) || h->gen != g)
            return -1;
        if (h->tx_off < h->tx_len) {
            h->user_blocked = true;
            return 0;
        }
    }
    if (n == 0)
        return 0;
    if (h->mode == TM_HTTP_BODY_LENGTH && n > h->body_expect - h->body_sent) {
        failf(h, TM_E_HTTP_BODY_LENGTH, "the body is longer than the announced Content-Length: %" PRIu64
              " bytes (%" PRIu64 " sent, %zu more offered)", h->body_expect, h->body_sent, n);
        return -1;
    }
    if (h->mode == TM_HTTP_BODY_CHUNKED) {
        size_t m = n < CHUNK_MAX ? n : CHUNK_MAX;
        int hl = snprintf((char *)h->w->tx, 16, "%zx\r\n", m);
        memcpy(h->w->tx + hl, p, m);
        memcpy(h->w->tx + hl + m, "\r\n", 2);
        h->tx_len = (size_t)hl + m + 2;
        h->tx_off = 0;
        h->body_sent += m;
        tm_trace_progress_add(&h->tx_prog, "http", h->reqline, "body sent", m);
        unsigned g = h->gen;
        if (!flush_tx(h) || h->gen != g)
            return -1;
        if (h->tx_off < h->tx_len)
            h->user_blocked = true;
        return (long)m;
    }
    long w = tm_stream_write(&h->s, p, n);
    if (w < 0) {
        fail(h, h->s.reason.code ? h->s.reason.code : TM_E_NET, &h->s.reason);
        return -1;
    }
    h->body_sent += (uint64_t)w;
    tm_trace_progress_add(&h->tx_prog, "http", h->reqline, "body sent", (uint64_t)w);
    if ((size_t)w < n)
        h->user_blocked = true;
    return w;
}

void tm_http_body_end(tm_http *h)
{
    if (h->state != H_BODY || h->body_ended)
        return;
    if (h->mode == TM_HTTP_BODY_LENGTH && h->body_sent != h->body_expect) {
        failf(h, TM_E_HTTP_BODY_LENGTH, "the body ended after %" PRIu64 " bytes but Content-Length announced %"
              PRIu64, h->body_sent, h->body_expect);
        return;
    }
    h->body_ended = true;
    tm_trace("http", "> body %" PRIu64 " bytes sent", h->body_sent);
    if (h->mode == TM_HTTP_BODY_CHUNKED) {
        if (h->tx_off == h->tx_len)
            h->tx_off = h->tx_len = 0;
        memcpy(h->w->tx + h->tx_len, "0\r\n\r\n", 5);
        h->tx_len += 5;
        unsigned g = h->gen;
        if (!flush_tx(h) || h->gen != g)
            return;
    }
    h->state = H_RESPONSE;
    start_wait(h);
    pump(h);
}

static void on_open(void *arg)
{
    tm_http *h = arg;
    if (h->state != H_CONNECTING)
        return;
    tm_trace("http", "connected to %s:%u", h->opts.host, (unsigned)h->opts.port);
    if (h->connect_only) {          /* kept for the next request */
        h->connect_only = false;
        h->reusable = true;
        h->state = H_IDLE;
        h->gen++;
        tm_reason ok;
        tm_reason_clear(&ok);
        if (h->ev->on_done)
            h->ev->on_done(h->arg, TM_OK, &ok);
        return;
    }
    h->state = H_HEAD;
    send_head(h);
}

static void on_writable(void *arg)
{
    tm_http *h = arg;
    unsigned g = h->gen;
    if (h->state == H_HEAD) {
        send_head(h);
        return;
    }
    if (h->tx_off < h->tx_len && (!flush_tx(h) || h->gen != g))
        return;
    if (h->tx_off < h->tx_len)
        return;
    if (h->user_blocked && h->state == H_BODY) {
        h->user_blocked = false;
        if (h->ev->on_body_writable)
            h->ev->on_body_writable(h->arg);
    }
}

static void on_error(void *arg, const tm_reason *why)
{
    tm_http *h = arg;
    if (h->state == H_IDLE) {
        drop_stream(h);   /* closed already; closing twice is harmless */
        tm_trace("http", "the idle connection to %s:%u broke", h->opts.host, (unsigned)h->opts.port);
        idle_closed(h);
        return;
    }
    if (try_reconnect(h, "broke"))
        return;
    fail(h, why && why->code ? why->code : TM_E_NET, why);
}

static void deliver(void *arg, const uint8_t *p, size_t n)
{
    tm_http *h = arg;
    if (h->state == H_IDLE)
        return;   /* closed from a callback */
    tm_trace_progress_add(&h->rx_prog, "http", h->reqline, "body received", n);
    if (h->ev->on_body)
        h->ev->on_body(h->arg, p, n);
}

static void finish(tm_http *h)
{
    bool ka = h->w->parser.keep_alive && h->rx_off == h->rx_len && h->body_ended && h->tx_off == h->tx_len;
    int64_t ms = tm_port_mono_ms() - h->t_start;
    tm_trace("http", "< %d done: %" PRIu64 " body bytes in %lld ms; %s", h->w->parser.status, h->w->parser.body_total,
             (long long)ms, ka ? "connection kept for the next request" :
             h->w->parser.keep_alive ? "connection closed (request unfinished or extra bytes)" :
             "connection closed (the response does not allow reuse)");
    cancel_kick(h);
    if (ka) {
        h->reusable = true;
        h->rx_len = h->rx_off = 0;
        if (h->paused) {
            h->paused = false;
            tm_stream_want_read(&h->s, true);
        }
        tm_stream_idle(&h->s);   /* the idle connection holds no record buffers */
    } else {
        drop_stream(h);
    }
    h->state = H_IDLE;
    h->gen++;
    release_work(h);
    tm_reason ok;
    tm_reason_clear(&ok);
    if (h->ev->on_done)
        h->ev->on_done(h->arg, TM_OK, &ok);
}

static void peer_closed(tm_http *h, bool error)
{
    if (h->state == H_IDLE) {
        tm_trace("http", "the server closed the idle connection to %s:%u", h->opts.host, (unsigned)h->opts.port);
        drop_stream(h);
        idle_closed(h);
        return;
    }
    if (try_reconnect(h, error ? "broke" : "was closed by the server"))
        return;
    if (error) {
        fail(h, h->s.reason.code ? h->s.reason.code : TM_E_NET, &h->s.reason);
        return;
    }
    bool done = false;
    tm_reason r;
    tm_reason_clear(&r);
    tm_err e = tm_http_parser_eof_tls(&h->w->parser, !h->s.eof_unclean, &done, &r);
    if (e) {
        fail(h, e, &r);
        return;
    }
    if (done) {
        h->w->parser.keep_alive = false;
        finish(h);
    }
}

static void sim_resume(void *arg)
{
    tm_http_resume(arg);
}

/* A kept-alive connection between requests has no receive buffer: what the
 * server may say now is a close (or a TLS alert); anything else is
 * unexpected and ends the connection. */
static void idle_read(tm_http *h)
{
    uint8_t b[256];
    long r = tm_stream_read(&h->s, b, sizeof b);
    if (r == TM_STREAM_AGAIN) {
        tm_stream_idle(&h->s);
        return;
    }
    if (r > 0) {
        tm_trace("http", "unexpected %ld bytes from %s:%u on an idle connection; closing it",
                 r, h->opts.host, (unsigned)h->opts.port);
        drop_stream(h);
        idle_closed(h);
        return;
    }
    peer_closed(h, r == TM_STREAM_ERROR);
}

/* No room at the owner: stop reading; tm_http_resume continues. */
static void pause_reading(tm_http *h)
{
    if (!h->paused) {
        h->paused = true;
        tm_stream_want_read(&h->s, false);
    }
}

/* Below this much contiguous room at the owner a body is read through rx:
 * a tiny SSL_read at the end of the owner's ring costs more than a copy. */
#define DIRECT_MIN 2048

/* Reads body bytes straight into the owner's buffer (ev->body_place) when
 * the parser says the next bytes are unframed body.  1: some were read and
 * delivered, go on; 0: not applicable now, read into rx; -1: stop pumping
 * (nothing to read, no room: paused, or the request ended). */
static int read_direct(tm_http *h)
{
    uint64_t want = h->ev->body_place ? tm_http_parser_body_direct(&h->w->parser) : 0;
    if (!want)
        return 0;
    size_t room = h->ev->body_room ? h->ev->body_room(h->arg) : SIZE_MAX;
    room = tm_sim_body_room(h->w->parser.body_total, room, sim_resume, h);
    if (!room) {
        pause_reading(h);
        return -1;
    }
    uint8_t *dst = NULL;
    size_t n = h->ev->body_place(h->arg, &dst);
    if (n < DIRECT_MIN && n < want)
        return 0;
    if (n > room)
        n = room;
    if (n > want)
        n = (size_t)want;
    long r = tm_stream_read(&h->s, dst, n);
    if (r == TM_STREAM_AGAIN)
        return -1;
    if (r == TM_STREAM_ERROR || r == 0) {
        peer_closed(h, r == TM_STREAM_ERROR);
        return -1;
    }
    h->last_rx = tm_port_mono_ms();
    h->got_bytes = true;
    size_t used = 0;
    bool head_ready, done;
    tm_reason why;
    tm_reason_clear(&why);
    /* all body bytes (r <= want): the parser only counts them */
    tm_http_parser_feed(&h->w->parser, dst, (size_t)r, (size_t)r, &used, &head_ready, &done, NULL, NULL, &why);
    tm_trace_progress_add(&h->rx_prog, "http", h->reqline, "body received", (uint64_t)r);
    unsigned g = h->gen;
    h->ev->on_body_placed(h->arg, (size_t)r);
    if (h->gen != g)
        return -1;    /* closed from the callback */
    if (done) {
        finish(h);
        return -1;
    }
    return 1;
}

static void pump(tm_http *h)
{
    unsigned g = h->gen;
    for (;;) {
        if (h->rx_off < h->rx_len) {
            if (h->state == H_IDLE || h->state == H_CONNECTING) {
                tm_trace("http", "unexpected %zu bytes from %s:%u on an idle connection; closing it",
                         h->rx_len - h->rx_off, h->opts.host, (unsigned)h->opts.port);
                drop_stream(h);
                if (h->state == H_IDLE)
                    idle_closed(h);
                return;
            }
            size_t room = h->ev->body_room ? h->ev->body_room(h->arg) : SIZE_MAX;
            /* a scenario's "after <N> bytes" stops the body at N (core/sim.h) */
            room = tm_sim_body_room(h->w->parser.body_total, room, sim_resume, h);
            size_t used = 0;
            bool head_ready = false, done = false;
            tm_reason r;
            tm_reason_clear(&r);
            h->feeding = true;
            tm_err e = tm_http_parser_feed(&h->w->parser, h->w->rx + h->rx_off, h->rx_len - h->rx_off, room, &used,
                                           &head_ready, &done, deliver, h, &r);
            h->feeding = false;
            if (h->gen != g) {
                if (h->state == H_IDLE)
                    release_work(h);   /* closed from on_body */
                return;
            }
            h->rx_off += used;
            if (e) {
                fail(h, e, &r);
                return;
            }
            if (head_ready) {
                h->head_done = true;
                tm_trace("http", "< HTTP/1.%d %d %s%s", h->w->parser.version_minor, h->w->parser.status,
                         h->w->parser.reason_phrase, h->w->parser.interim ? " (after interim 1xx)" : "");
                if (h->ev->on_head)
                    h->ev->on_head(h->arg, h->w->parser.status, h->w->parser.reason_phrase, h->w->parser.head,
                                   h->w->parser.head_len);
                if (h->gen != g)
                    return;
            }
            if (done) {
                finish(h);
                return;
            }
            if (used == 0 && !head_ready) {
                pause_reading(h);
                return;
            }
            continue;
        }
        h->rx_off = h->rx_len = 0;
        if (h->paused || !h->live || h->state == H_CONNECTING)
            return;
        if (!h->w) {
            idle_read(h);
            return;
        }
        if (h->head_done) {
            int d = read_direct(h);
            if (d > 0)
                continue;
            if (d < 0)
                return;
        }
        long r = tm_stream_read(&h->s, h->w->rx, sizeof h->w->rx);
        if (r == TM_STREAM_AGAIN)
            return;
        if (r == TM_STREAM_ERROR || r == 0) {
            peer_closed(h, r == TM_STREAM_ERROR);
            return;
        }
        h->rx_len = (size_t)r;
        h->last_rx = tm_port_mono_ms();
        if (h->state != H_IDLE)
            h->got_bytes = true;
    }
}

static void on_readable(void *arg)
{
    pump(arg);
}

void tm_http_resume(tm_http *h)
{
    if (!h->paused || h->state == H_IDLE)
        return;
    h->paused = false;
    h->last_rx = tm_port_mono_ms();    /* the idle timeout counts from the resume */
    if (h->live)
        tm_stream_want_read(&h->s, true);
    unsigned g = h->gen;
    pump(h);
    if (h->gen == g && h->state == H_RESPONSE && !h->wait_timer && h->idle_ms != TM_TIMEOUT_NONE)
        h->wait_timer = tm_port_timer_add(h->idle_ms, wait_cb, h);
    /* Still no room: pump paused again. */
}
