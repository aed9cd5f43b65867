/* Unit tests: HTTP client (src/http/client.c) over a fake tm_stream and a
 * fake port loop defined here (the real stream/loop objects are not linked:
 * every symbol the client needs from them is provided below). */
#include "tm_test.h"
#include "http/http.h"
#include "port/port.h"
#include "net/net.h"

#include <stdint.h>

/* ---- fake port ------------------------------------------------------------ */

static struct { tm_timer_cb cb; void *arg; bool on; int64_t due; } g_timers[8];
static int64_t g_now;            /* fake monotonic clock: tests move it */

unsigned tm_port_timer_add(uint32_t ms, tm_timer_cb cb, void *arg)
{
    for (unsigned i = 0; i < 8; i++)
        if (!g_timers[i].on) {
            g_timers[i].cb = cb;
            g_timers[i].arg = arg;
            g_timers[i].on = true;
            g_timers[i].due = g_now + (int64_t)ms;
            return i + 1;
        }
    return 0;
}
void tm_port_timer_cancel(unsigned id)
{
    if (id >= 1 && id <= 8)
        g_timers[id - 1].on = false;
}
int64_t tm_port_mono_ms(void) { return g_now; }
int64_t tm_port_wall_ms(void) { return 0; }

/* ---- fake server behind the fake stream ----------------------------------- */

typedef struct {
    char     in[65536];          /* what the client sent on this connection */
    size_t   in_len;
    char     out[65536];         /* what the server sends */
    size_t   out_len, out_off;
    uint64_t gen_left;           /* then this many generated body bytes */
    uint64_t gen_pos;
    char     tail[64];           /* then these bytes (a chunked body's end) */
    size_t   tail_len, tail_off;
    bool     close_after;        /* EOF after out + gen */
    bool     reset;              /* read returns an error */
    bool     unclean;            /* the EOF is a TLS FIN without close_notify */
} fake_conn;

static fake_conn g_conns[8];
static int       g_nconn;        /* connections opened */
static size_t    g_write_cap = SIZE_MAX;   /* bytes accepted per loop turn */
static size_t    g_write_left = SIZE_MAX;
static bool      g_want_read_seen_off;
static size_t    g_max_read_cap;
static size_t    g_read_chunk = SIZE_MAX;  /* bytes per read at most (TCP segments) */
static int       g_pending_open = -1;
static tm_stream *g_cur;

static fake_conn *conn_of(const tm_stream *s) { return &g_conns[s->fd]; }

tm_err tm_stream_open(tm_stream *s, const tm_stream_opts *opts, const tm_stream_events *ev, void *arg,
                      tm_reason *why)
{
    if (g_nconn >= 8)
        return tm_fail(why, TM_E_NET, "too many");
    memset(s, 0, sizeof *s);
    s->fd = g_nconn++;
    s->state = TM_STREAM_CONNECTING;
    s->ev = ev;
    s->arg = arg;
    s->want_read = true;
    snprintf(s->host, sizeof s->host, "%s", opts->host);
    s->port = opts->port;
    g_pending_open = s->fd;
    g_cur = s;
    return TM_OK;
}

/* Up to cap of the bytes of src not yet read (*off). */
static long take(void *buf, size_t cap, const char *src, size_t len, size_t *off)
{
    size_t n = len - *off < cap ? len - *off : cap;
    memcpy(buf, src + *off, n);
    *off += n;
    return (long)n;
}

long tm_stream_read(tm_stream *s, void *buf, size_t cap)
{
    if (s->state != TM_STREAM_OPEN)
        return TM_STREAM_ERROR;
    fake_conn *c = conn_of(s);
    if (cap > g_max_read_cap)
        g_max_read_cap = cap;
    if (cap > g_read_chunk)
        cap = g_read_chunk;
    if (c->reset) {
        tm_fail(&s->reason, TM_E_NET, "connection reset by peer");
        return TM_STREAM_ERROR;
    }
    if (c->out_off < c->out_len)
        return take(buf, cap, c->out, c->out_len, &c->out_off);
    if (c->gen_left) {
        size_t n = c->gen_left < cap ? (size_t)c->gen_left : cap;
        uint8_t *b = buf;
        for (size_t i = 0; i < n; i++)
            b[i] = (uint8_t)((c->gen_pos + i) % 251);
        c->gen_pos += n;
        c->gen_left -= n;
        return (long)n;
    }
    if (c->tail_off < c->tail_len)
        return take(buf, cap, c->tail, c->tail_len, &c->tail_off);
    if (c->close_after && c->unclean)
        s->eof_unclean = true;
    return c->close_after ? 0 : TM_STREAM_AGAIN;
}

long tm_stream_write(tm_stream *s, const void *buf, size_t len)
{
    if (s->state != TM_STREAM_OPEN)
        return TM_STREAM_ERROR;
    fake_conn *c = conn_of(s);
    size_t n = len < g_write_left ? len : g_write_left;
    if (c->in_len + n > sizeof c->in)
        n = sizeof c->in - c->in_len;
    memcpy(c->in + c->in_len, buf, n);
    c->in_len += n;
    g_write_left -= n;
    if (n < len)
        s->write_blocked = true;
    return (long)n;
}

void tm_stream_want_read(tm_stream *s, bool on)
{
    s->want_read = on;
    if (!on)
        g_want_read_seen_off = true;
}
bool tm_stream_is_open(const tm_stream *s) { return s->state == TM_STREAM_OPEN; }
static int g_idle_calls;
void tm_stream_idle(tm_stream *s) { g_idle_calls++; }
void tm_stream_close(tm_stream *s)
{
    s->state = TM_STREAM_CLOSED;
}

static bool readable(tm_stream *s)
{
    fake_conn *c = conn_of(s);
    return s->state == TM_STREAM_OPEN && s->want_read &&
           (c->out_off < c->out_len || c->gen_left || c->tail_off < c->tail_len || c->close_after || c->reset);
}

/* One loop turn: timers, open, writable, readable. */
static void loop_once(void)
{
    g_write_left = g_write_cap;
    for (unsigned i = 0; i < 8; i++)
        if (g_timers[i].on && g_timers[i].due <= g_now) {
            g_timers[i].on = false;
            g_timers[i].cb(g_timers[i].arg);
        }
    tm_stream *s = g_cur;
    if (!s)
        return;
    if (g_pending_open >= 0 && s->fd == g_pending_open && s->state == TM_STREAM_CONNECTING) {
        g_pending_open = -1;
        s->state = TM_STREAM_OPEN;
        s->ev->on_open(s->arg);
    }
    if (s->state == TM_STREAM_OPEN && s->write_blocked) {
        s->write_blocked = false;
        s->ev->on_writable(s->arg);
    }
    if (readable(s))
        s->ev->on_readable(s->arg);
}

/* ---- owner ----------------------------------------------------------------- */

typedef struct {
    int      status;
    int      heads;
    int      dones;
    tm_err   result;
    char     detail[TM_DETAIL_MAX];
    char     body[65536];
    size_t   body_len;
    uint64_t body_total;
    uint64_t body_sum;
    size_t   room;           /* body_room() answer; SIZE_MAX = unlimited */
    bool     over_room;
    int      wanted, writable;
    tm_http *h;
    const char *send;        /* body to send from on_body_wanted */
    size_t   send_len, send_off;
    bool     end_body;
} owner;

static void o_head(void *arg, int status, const char *rp, const char *head, size_t hl)
{
    owner *o = arg;
    o->status = status;
    o->heads++;
}
static void o_body(void *arg, const uint8_t *p, size_t n)
{
    owner *o = arg;
    if (n > o->room)
        o->over_room = true;
    if (o->room != SIZE_MAX)
        o->room -= n < o->room ? n : o->room;
    if (o->body_len + n <= sizeof o->body)
        memcpy(o->body + o->body_len, p, n);
    o->body_len += n;
    o->body_total += n;
    for (size_t i = 0; i < n; i++)
        o->body_sum += p[i];
}
static size_t o_room(void *arg) { return ((owner *)arg)->room; }
static void o_push(owner *o)
{
    while (o->send_off < o->send_len) {
        long w = tm_http_body_write(o->h, (const uint8_t *)o->send + o->send_off, o->send_len - o->send_off);
        if (w <= 0)
            return;
        o->send_off += (size_t)w;
    }
    if (o->end_body)
        tm_http_body_end(o->h);
}
static void o_wanted(void *arg)
{
    owner *o = arg;
    o->wanted++;
    o_push(o);
}
static void o_writable(void *arg)
{
    owner *o = arg;
    o->writable++;
    o_push(o);
}
static void o_done(void *arg, tm_err result, const tm_reason *why)
{
    owner *o = arg;
    o->dones++;
    o->result = result;
    snprintf(o->detail, sizeof o->detail, "%s", why ? why->detail : "");
}

static const tm_http_events EV = { o_head, o_body, o_room, o_wanted, o_writable, o_done, NULL, NULL, NULL };

static tm_http *g_h;
static owner g_o;

static void reset_all(void)
{
    memset(g_conns, 0, sizeof g_conns);
    memset(g_timers, 0, sizeof g_timers);
    g_now = 0;
    g_nconn = 0;
    g_write_cap = SIZE_MAX;
    g_pending_open = -1;
    g_cur = NULL;
    g_want_read_seen_off = false;
    g_read_chunk = SIZE_MAX;
    memset(&g_o, 0, sizeof g_o);
    g_o.room = SIZE_MAX;
    g_o.h = g_h;
    tm_http_init(g_h, &EV, &g_o);
}

static void new_request(void)
{
    int keep = g_nconn;
    (void)keep;
    g_o.status = g_o.heads = g_o.dones = 0;
    g_o.result = TM_OK;
    g_o.body_len = 0;
    g_o.body_total = g_o.body_sum = 0;
    g_o.detail[0] = '\0';
    g_o.send = NULL;
    g_o.send_len = g_o.send_off = 0;
    g_o.end_body = false;
}

static tm_http_request req_get(const char *uri)
{
    tm_http_request r;
    memset(&r, 0, sizeof r);
    snprintf(r.conn.host, sizeof r.conn.host, "api.test");
    r.conn.port = 443;
    r.conn.use_tls = true;
    r.method = "GET";
    r.uri = uri;
    return r;
}

static void run_until_done(int max)
{
    for (int i = 0; i < max && g_o.dones == 0; i++)
        loop_once();
}

static void serve(int conn, const char *resp, bool close_after)
{
    fake_conn *c = &g_conns[conn];
    size_t n = strlen(resp);
    memcpy(c->out + c->out_len, resp, n);
    c->out_len += n;
    c->close_after = close_after;
}

static void test_get_and_reuse(void)
{
    reset_all();
    tm_reason why;
    tm_http_request r = req_get("/one");
    serve(0, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", false);
    TM_EQ_INT(tm_http_start(g_h, &r, &why), TM_OK);
    TM_CHECK(tm_http_busy(g_h));
    TM_EQ_INT(tm_http_start(g_h, &r, &why), TM_E_BUSY);
    TM_CHECK(tm_http_request_bytes(g_h) > 0);       /* the request's buffers exist while it runs */
    run_until_done(20);
    TM_EQ_INT(g_o.dones, 1);
    TM_EQ_INT(tm_http_request_bytes(g_h), 0);       /* … and not between requests */
    TM_EQ_INT(g_idle_calls, 1);                     /* the kept connection was told it is idle */
    TM_CHECK(tm_http_sizeof() < 4096);              /* an idle kept-alive client is small */
    TM_EQ_INT(g_o.result, TM_OK);
    TM_EQ_INT(g_o.status, 200);
    TM_EQ_INT(g_o.heads, 1);
    TM_EQ_MEM(g_o.body, g_o.body_len, "hello", 5);
    TM_EQ_STR(g_conns[0].in, "GET /one HTTP/1.1\r\nHost: api.test\r\n\r\n");
    TM_CHECK(!tm_http_busy(g_h));
    TM_CHECK(tm_http_connected(g_h));

    /* second request reuses the connection */
    new_request();
    r = req_get("/two");
    serve(0, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", false);
    TM_EQ_INT(tm_http_start(g_h, &r, &why), TM_OK);
    TM_EQ_INT(g_conns[0].in_len, strlen("GET /one HTTP/1.1\r\nHost: api.test\r\n\r\n"));  /* nothing sent yet */
    run_until_done(20);
    TM_EQ_INT(g_o.result, TM_OK);
    TM_EQ_MEM(g_o.body, g_o.body_len, "abc", 3);
    TM_EQ_INT(g_nconn, 1);
    TM_CHECK(strstr(g_conns[0].in, "GET /two HTTP/1.1\r\n") != NULL);

    /* the server closes the idle connection: noticed, next request reconnects */
    g_conns[0].close_after = true;
    loop_once();
    TM_CHECK(!tm_http_connected(g_h));
    new_request();
    serve(1, "HTTP/1.1 204 No Content\r\n\r\n", false);
    TM_EQ_INT(tm_http_start(g_h, &r, &why), TM_OK);
    run_until_done(20);
    TM_EQ_INT(g_o.result, TM_OK);
    TM_EQ_INT(g_o.status, 204);
    TM_EQ_INT(g_nconn, 2);

    /* closed but not yet noticed: reused, EOF before any byte -> one transparent reconnect */
    g_conns[1].close_after = true;
    new_request();
    serve(2, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok", false);
    TM_EQ_INT(tm_http_start(g_h, &r, &why), TM_OK);
    run_until_done(20);
    TM_EQ_INT(g_o.result, TM_OK);
    TM_EQ_MEM(g_o.body, g_o.body_len, "ok", 2);
    TM_EQ_INT(g_nconn, 3);
    TM_CHECK(strstr(g_conns[2].in, "GET /two HTTP/1.1\r\n") != NULL);
    /* Connection: close -> not reused */
    TM_CHECK(!tm_http_connected(g_h));
    new_request();
    serve(3, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false);
    TM_EQ_INT(tm_http_start(g_h, &r, &why), TM_OK);
    run_until_done(20);
    TM_EQ_INT(g_o.result, TM_OK);
    TM_EQ_INT(g_nconn, 4);

    /* different target: new connection */
    new_request();
    r.conn.port = 8443;
    serve(4, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false);
    TM_EQ_INT(tm_http_start(g_h, &r, &why), TM_OK);
    run_until_done(20);
    TM_EQ_INT(g_o.result, TM_OK);
    TM_EQ_INT(g_nconn, 5);
    TM_CHECK(strstr(g_conns[4].in, "Host: api.test:8443\r\n") != NULL);
    tm_http_close(g_h);
    TM_CHECK(!tm_http_connected(g_h));
    TM_EQ_INT(tm_http_request_bytes(g_h), 0);
}

/* The owner closes the client from on_body, in the middle of the parser's
 * run over the receive buffer: the buffer is released after the parser
 * returned (ASan would see a use after free otherwise), and nothing more is
 * delivered. */
static bool g_close_in_body;
static void o_body_close(void *arg, const uint8_t *p, size_t n)
{
    o_body(arg, p, n);
    if (g_close_in_body)
        tm_http_close(((owner *)arg)->h);
}

static void test_close_from_body(void)
{
    static const tm_http_events ev_close = { o_head, o_body_close, o_room, o_wanted, o_writable, o_done, NULL, NULL, NULL };
    reset_all();
    tm_http_init(g_h, &ev_close, &g_o);
    tm_reason why;
    tm_http_request r = req_get("/c");
    serve(0, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n", false);
    g_close_in_body = true;
    TM_EQ_INT(tm_http_start(g_h, &r, &why), TM_OK);
    for (int i = 0; i < 20; i++)
        loop_once();
    g_close_in_body = false;
    TM_EQ_MEM(g_o.body, g_o.body_len, "abc", 3);   /* closed after the first chunk */
    TM_EQ_INT(g_o.dones, 0);                        /* tm_http_close does not call on_done */
    TM_CHECK(!tm_http_busy(g_h));
    TM_CHECK(!tm_http_connected(g_h));
    TM_EQ_INT(tm_http_request_bytes(g_h), 0);
    /* the client is usable again */
    new_request();
    serve(1, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false);
    TM_EQ_INT(tm_http_start(g_h, &r, &why), TM_OK);
    run_until_done(20);
    TM_EQ_INT(g_o.result, TM_OK);
    TM_EQ_MEM(g_o.body, g_o.body_len, "ok", 2);
    tm_http_close(g_h);
}

static void test_errors(void)
{
    tm_reason why;
    tm_http_request r = req_get("/");
    /* garbage */
    reset_all();
    serve(0, "SSH-2.0-x\r\n", false);
    TM_EQ_INT(tm_http_start(g_h, &r, &why), TM_OK);
    run_until_done(20);
    TM_EQ_INT(g_o.result, TM_E_HTTP_PROTOCOL);
    TM_CHECK(strstr(g_o.detail, "SSH-2.0") != NULL);
    TM_CHECK(!tm_http_connected(g_h));
    /* fresh connection closed without a byte: no reconnect */
    reset_all();
    g_conns[0].close_after = true;
    TM_EQ_INT(tm_http_start(g_h, &r, &why), TM_OK);
    run_until_done(20);
    TM_EQ_INT(g_o.result, TM_E_HTTP_NO_RESPONSE);
    TM_EQ_INT(g_nconn, 1);
    /* reset in the middle of a body */
    reset_all();
    serve(0, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", false);
    TM_EQ_INT(tm_http_start(g_h, &r, &why), TM_OK);
    loop_once();
    loop_once();
    g_conns[0].reset = true;
    run_until_done(20);
    TM_EQ_INT(g_o.result, TM_E_NET);
    TM_EQ_INT(g_o.dones, 1);
    /* body cut by close */
    reset_all();
    serve(0, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", true);
    TM_EQ_INT(tm_http_start(g_h, &r, &why), TM_OK);
    run_until_done(20);
    TM_EQ_INT(g_o.result, TM_E_HTTP_TRUNCATED);
    TM_CHECK(strstr(g_o.detail, "body truncated") && strstr(g_o.detail, "3 of 10"));
    /* a close-delimited body ended by a FIN without close_notify (TLS) is truncated */
    reset_all();
    serve(0, "HTTP/1.0 200 OK\r\n\r\nall of it", true);
    g_conns[0].unclean = true;
    TM_EQ_INT(tm_http_start(g_h, &r, &why), TM_OK);
    run_until_done(20);
    TM_EQ_INT(g_o.result, TM_E_HTTP_TRUNCATED);
    TM_CHECK_MSG(strstr(g_o.detail, "body truncated: connection closed without TLS close_notify after 9 bytes"),
                 "detail: %s", g_o.detail);
    /* a Content-Length body complete before the unclean FIN is complete */
    reset_all();
    serve(0, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc", true);
    g_conns[0].unclean = true;
    TM_EQ_INT(tm_http_start(g_h, &r, &why), TM_OK);
    run_until_done(20);
    TM_EQ_INT(g_o.result, TM_OK);
    /* close-delimited body completes on EOF */
    reset_all();
    serve(0, "HTTP/1.0 200 OK\r\n\r\nall of it", true);
    TM_EQ_INT(tm_http_start(g_h, &r, &why), TM_OK);
    run_until_done(20);
    TM_EQ_INT(g_o.result, TM_OK);
    TM_EQ_MEM(g_o.body, g_o.body_len, "all of it", 9);
    /* header syntax error reported by start, nothing connects */
    reset_all();
    r.user_headers = "Accept : x";
    TM_EQ_INT(tm_http_start(g_h, &r, &why), TM_E_HTTP_HEADER_SYNTAX);
    TM_EQ_INT(g_nconn, 0);
    TM_CHECK(!tm_http_busy(g_h));
}

static void test_bodies(void)
{
    tm_reason why;
    tm_http_request r = req_get("/up");
    r.method = "POST";
    /* chunked: each write one chunk, end writes the last chunk */
    reset_all();
    r.body_mode = TM_HTTP_BODY_CHUNKED;
    serve(0, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", false);
    TM_EQ_INT(tm_http_start(g_h, &r, &why), TM_OK);
    g_o.send = "hello world";
    g_o.send_len = 11;
    g_o.end_body = true;
    run_until_done(20);
    TM_EQ_INT(g_o.result, TM_OK);
    TM_EQ_INT(g_o.status, 201);
    TM_EQ_STR(g_conns[0].in, "POST /up HTTP/1.1\r\nHost: api.test\r\nTransfer-Encoding: chunked\r\n\r\n"
                             "b\r\nhello world\r\n0\r\n\r\n");
    /* length: exact */
    reset_all();
    r.body_mode = TM_HTTP_BODY_LENGTH;
    r.body_length = 5;
    serve(0, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false);
    TM_EQ_INT(tm_http_start(g_h, &r, &why), TM_OK);
    g_o.send = "12345";
    g_o.send_len = 5;
    g_o.end_body = true;
    run_until_done(20);
    TM_EQ_INT(g_o.result, TM_OK);
    TM_EQ_STR(g_conns[0].in, "POST /up HTTP/1.1\r\nHost: api.test\r\nContent-Length: 5\r\n\r\n12345");
    /* length: short */
    reset_all();
    serve(0, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false);
    TM_EQ_INT(tm_http_start(g_h, &r, &why), TM_OK);
    g_o.send = "123";
    g_o.send_len = 3;
    g_o.end_body = true;
    run_until_done(20);
    TM_EQ_INT(g_o.result, TM_E_HTTP_BODY_LENGTH);
    TM_CHECK(strstr(g_o.detail, "after 3 bytes but Content-Length announced 5") != NULL);
    /* length: too long */
    reset_all();
    TM_EQ_INT(tm_http_start(g_h, &r, &why), TM_OK);
    g_o.send = "1234567";
    g_o.send_len = 7;
    run_until_done(20);
    TM_EQ_INT(g_o.result, TM_E_HTTP_BODY_LENGTH);
    TM_EQ_INT(g_o.send_off, 0);
    /* short writes everywhere: head and a 40 KB chunked body, 100 bytes per loop turn */
    reset_all();
    r.body_mode = TM_HTTP_BODY_CHUNKED;
    static char big[40000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)('a' + i % 26);
    g_write_cap = 100;
    TM_EQ_INT(tm_http_start(g_h, &r, &why), TM_OK);
    g_o.send = big;
    g_o.send_len = sizeof big;
    g_o.end_body = true;
    for (int i = 0; i < 100000; i++) {   /* the server answers once the body is complete */
        loop_once();
        size_t il = g_conns[0].in_len;
        if (il > 5 && memcmp(g_conns[0].in + il - 5, "0\r\n\r\n", 5) == 0)
            break;
    }
    TM_CHECK(g_o.dones == 0);
    serve(0, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false);
    run_until_done(100);
    TM_EQ_INT(g_o.result, TM_OK);
    TM_CHECK(g_o.writable > 0);
    /* de-chunk what the server got and compare */
    const char *p = strstr(g_conns[0].in, "\r\n\r\n") + 4;
    static char got[40000];
    size_t gl = 0;
    for (;;) {
        unsigned long n = strtoul(p, (char **)&p, 16);
        p += 2;
        if (n == 0)
            break;
        if (gl + n <= sizeof got)
            memcpy(got + gl, p, n);
        gl += n;
        p += n + 2;
    }
    TM_CHECK_MSG(gl == sizeof big && memcmp(got, big, gl) == 0, "de-chunked %zu bytes", gl);
}

/* The sum of the bytes the fake server generates for a body of total bytes. */
static uint64_t gen_sum(uint64_t total)
{
    uint64_t sum = 0;
    for (uint64_t i = 0; i < total; i++)
        sum += i % 251;
    return sum;
}

static void test_backpressure_64mib(void)
{
    tm_reason why;
    tm_http_request r = req_get("/big");
    size_t rooms[] = { 1000, 7 };
    for (int k = 0; k < 2; k++) {
        reset_all();
        uint64_t total = k == 0 ? (uint64_t)64 << 20 : 100000;
        char head[128];
        snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %llu\r\n\r\n", (unsigned long long)total);
        serve(0, head, false);
        g_conns[0].gen_left = total;
        g_o.room = rooms[k];
        TM_EQ_INT(tm_http_start(g_h, &r, &why), TM_OK);
        /* the owner accepts `rooms[k]` bytes per turn, then resumes the client */
        for (long i = 0; i < 100000000 && g_o.dones == 0; i++) {
            loop_once();
            if (g_o.dones)
                break;
            uint64_t before = g_o.body_total;
            loop_once();   /* room is 0 now: nothing may be delivered */
            if (g_o.body_total != before)
                g_o.over_room = true;
            g_o.room = rooms[k];
            tm_http_resume(g_h);
        }
        TM_EQ_INT(g_o.result, TM_OK);
        TM_EQ_INT(g_o.body_total, total);
        TM_CHECK(!g_o.over_room);
        TM_CHECK(g_want_read_seen_off);
        TM_CHECK(g_max_read_cap <= 64 * 1024);
        TM_EQ_INT(g_o.body_sum, gen_sum(total));
    }
    TM_CHECK(tm_http_sizeof() < 128 * 1024);   /* fixed size, nothing grows with the body */
}

/* An owner that takes body bytes in place (body_place / on_body_placed), as
 * the HL dialect does with its output ring: unframed body bytes are read
 * straight into its buffer, framing still goes through the client's own. */
static uint8_t g_place[3000];
static size_t  g_place_cap;      /* what body_place offers */
static int     g_placed_calls;
static size_t o_place(void *arg, uint8_t **p)
{
    *p = g_place;
    return g_place_cap;
}
static void o_placed(void *arg, size_t n)
{
    g_placed_calls++;
    TM_CHECK(n <= g_place_cap);
    o_body(arg, g_place, n);
}

static void test_body_in_place(void)
{
    static const tm_http_events ev_place = { o_head, o_body, o_room, o_wanted, o_writable, o_done, NULL,
                                             o_place, o_placed };
    tm_reason why;
    tm_http_request r = req_get("/big");
    const uint64_t total = 100000;
    /* 0: Content-Length, the owner's room 1000 per turn; 1: chunked, one
     * 100000-byte chunk arriving 4096 bytes per read; 2: close-delimited;
     * 3: the owner offers less than the minimum: read through rx */
    for (int k = 0; k < 4; k++) {
        reset_all();
        tm_http_init(g_h, &ev_place, &g_o);
        g_place_cap = k == 3 ? 100 : sizeof g_place;
        g_placed_calls = 0;
        char head[160];
        if (k == 1)
            snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%llx\r\n",
                     (unsigned long long)total);
        else if (k == 2)
            snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
        else
            snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %llu\r\n\r\n",
                     (unsigned long long)total);
        serve(0, head, k == 2);
        g_conns[0].gen_left = total;
        if (k == 1) {
            strcpy(g_conns[0].tail, "\r\n0\r\n\r\n");
            g_conns[0].tail_len = strlen(g_conns[0].tail);
            g_read_chunk = 4096;
        }
        g_o.room = k == 0 ? 1000 : SIZE_MAX;
        TM_EQ_INT(tm_http_start(g_h, &r, &why), TM_OK);
        for (int i = 0; i < 100000 && g_o.dones == 0; i++) {
            loop_once();
            if (k == 0 && g_o.room == 0) {
                g_o.room = 1000;
                tm_http_resume(g_h);
            }
        }
        TM_EQ_INT(g_o.dones, 1);
        TM_EQ_INT(g_o.result, TM_OK);
        TM_EQ_INT(g_o.body_total, total);
        TM_EQ_INT(g_o.body_sum, gen_sum(total));
        TM_CHECK(!g_o.over_room);
        if (k == 3)
            TM_EQ_INT(g_placed_calls, 0);
        else
            TM_CHECK_MSG(g_placed_calls >= (int)(total / 4096), "%d placed", g_placed_calls);
        if (k == 0)
            TM_CHECK(g_want_read_seen_off);     /* paused at the owner's room */
        if (k == 2)
            continue;
        /* nothing of the next response was taken as body: the connection is
         * reused for a second request */
        new_request();
        serve(0, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false);
        g_o.room = SIZE_MAX;
        TM_EQ_INT(tm_http_start(g_h, &r, &why), TM_OK);
        run_until_done(20);
        TM_EQ_INT(g_o.result, TM_OK);
        TM_EQ_MEM(g_o.body, g_o.body_len, "ok", 2);
        TM_EQ_INT(g_nconn, 1);
    }
    tm_http_close(g_h);
    tm_http_init(g_h, &EV, &g_o);
}

/* Response and idle timeouts: a server that stalls after the request, in the
 * middle of the body, or drips its head slower than the response timeout. */
static void test_timeouts(void)
{
    tm_reason why;
    tm_http_request r;
    memset(&r, 0, sizeof r);
    snprintf(r.conn.host, sizeof r.conn.host, "h.test");
    r.conn.port = 443;
    r.method = "GET";
    r.uri = "/";
    r.response_timeout_ms = 5000;
    r.idle_timeout_ms = 1000;

    /* stall after the request: the idle timeout ends it */
    reset_all();
    serve(0, "", false);
    TM_EQ_INT(tm_http_start(g_h, &r, &why), TM_OK);
    for (int i = 0; i < 5; i++)
        loop_once();
    g_now = 999;
    loop_once();
    TM_EQ_INT(g_o.dones, 0);
    g_now = 1000;
    loop_once();
    TM_EQ_INT(g_o.dones, 1);
    TM_EQ_INT(g_o.result, TM_E_TIMEOUT);
    TM_CHECK_MSG(strstr(g_o.detail, "sent nothing for 1000 ms while the response head was awaited"),
                 "detail: %s", g_o.detail);
    TM_CHECK(!tm_http_busy(g_h));

    /* stall in the middle of a Content-Length body */
    reset_all();
    serve(0, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", false);
    TM_EQ_INT(tm_http_start(g_h, &r, &why), TM_OK);
    for (int i = 0; i < 5; i++)
        loop_once();
    TM_EQ_INT(g_o.heads, 1);
    g_now = 1000;
    loop_once();
    TM_EQ_INT(g_o.result, TM_E_TIMEOUT);
    TM_CHECK_MSG(strstr(g_o.detail, "in the middle of the body (3 body bytes received)"), "detail: %s",
                 g_o.detail);

    /* a byte every 600 ms keeps the body going (idle 1000), and it completes */
    reset_all();
    serve(0, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n", false);
    TM_EQ_INT(tm_http_start(g_h, &r, &why), TM_OK);
    for (int i = 0; i < 5; i++)
        loop_once();
    for (int k = 0; k < 4; k++) {
        g_now += 600;
        g_conns[0].out[g_conns[0].out_len++] = (char)('w' + k);
        loop_once();
        loop_once();
    }
    TM_EQ_INT(g_o.dones, 1);
    TM_EQ_INT(g_o.result, TM_OK);
    TM_EQ_MEM(g_o.body, g_o.body_len, "wxyz", 4);

    /* a head dripped every 600 ms never trips idle; the response timeout ends it */
    reset_all();
    serve(0, "", false);
    TM_EQ_INT(tm_http_start(g_h, &r, &why), TM_OK);
    for (int i = 0; i < 5; i++)
        loop_once();
    const char *drip = "HTTP/1.1 200 OK\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    for (size_t k = 0; k < strlen(drip) && g_o.dones == 0; k++) {
        g_now += 600;
        g_conns[0].out[g_conns[0].out_len++] = drip[k];
        loop_once();
    }
    TM_EQ_INT(g_o.result, TM_E_TIMEOUT);
    TM_CHECK_MSG(strstr(g_o.detail, "no complete response head from h.test:443 within 5000 ms"), "detail: %s",
                 g_o.detail);
    TM_CHECK(g_now >= 5000 && g_now < 5700);

    /* paused for the host: the server is not idle, no timeout; resuming restarts the count */
    reset_all();
    serve(0, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nabc", false);
    g_o.room = 0;
    TM_EQ_INT(tm_http_start(g_h, &r, &why), TM_OK);
    for (int i = 0; i < 5; i++)
        loop_once();
    g_now = 10000;
    loop_once();
    TM_EQ_INT(g_o.dones, 0);
    g_o.room = SIZE_MAX;
    tm_http_resume(g_h);
    TM_EQ_MEM(g_o.body, g_o.body_len, "abc", 3);
    g_now = 10999;
    loop_once();
    TM_EQ_INT(g_o.dones, 0);
    g_now = 11000;
    loop_once();
    TM_EQ_INT(g_o.result, TM_E_TIMEOUT);

    /* TM_TIMEOUT_NONE: never */
    reset_all();
    serve(0, "", false);
    r.response_timeout_ms = r.idle_timeout_ms = TM_TIMEOUT_NONE;
    TM_EQ_INT(tm_http_start(g_h, &r, &why), TM_OK);
    for (int i = 0; i < 5; i++)
        loop_once();
    g_now = 100000000;
    loop_once();
    TM_EQ_INT(g_o.dones, 0);
    tm_http_close(g_h);
}

int main(void)
{
    g_h = calloc(1, tm_http_sizeof());
    test_get_and_reuse();
    test_errors();
    test_bodies();
    test_backpressure_64mib();
    test_timeouts();
    test_close_from_body();
    test_body_in_place();
    tm_http_close(g_h);
    free(g_h);
    TM_TEST_MAIN_END();
}
