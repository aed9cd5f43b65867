/* tlsmodem — HL HTTPS client: AT+KHTTPSCFG, KHTTPSCNX, KHTTPSHEADER,
 * KHTTPSGET, KHTTPSHEAD, KHTTPSPOST, KHTTPSCLOSE, KHTTPSDEL and the URCs
 * +KHTTPS_IND / +KHTTPS_ERROR.
 *
 * Decisions (docs/hl.md):
 * - KHTTPSCFG with exactly 4 arguments reads the 4th as <sec_level> (what
 *   HL8548 users and Sierra's own example do); with 5 or more the documented
 *   order <http_version>,<cipher_suite>,<sec_level>,<login>,<password>.
 *   sec_level 0 encrypt only (announced), 1 verify the server (default),
 *   2 verify and present local certificate 0 + private key 0 when asked.
 * - A request connects (TCP, TLS handshake, verification), sends, and waits
 *   for the response head before "CONNECT": a failure before that is
 *   "NO CARRIER" + "+KHTTPS_ERROR: <id>,<code>" and no data mode.
 * - GET/HEAD/POST bodies are streamed to the host as they arrive, de-chunked,
 *   followed by the EOF pattern and OK, then "+KHTTPS_IND: <id>,3,<body
 *   bytes>,<status>,"<reason>"" (the HL78 form).
 * - POST: "CONNECT" once the connection is up; the host sends the body and
 *   ends it with the EOF pattern (or +++).  Content-Length from the stored
 *   headers is honoured and checked; a "Transfer-Encoding: chunked" header
 *   means the host frames chunks itself; with neither, tlsmodem sends the
 *   body chunked. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/trace.h"
#include "dialect/hl/hl.h"
#include "port/port.h"

enum { OP_NONE, OP_GET, OP_HEAD, OP_POST, OP_CNX };

/* Memory in proportion to use (docs/architecture.md "Memory per session"):
 * a configured session is struct hl_https alone (~0.6 KiB; the headers of
 * KHTTPSHEADER malloc'd to their size).  A request or an open connection
 * adds hl_https_conn with the HTTP client (~5 KiB, kept while a kept-alive
 * connection is open), the client adds its request buffers while a request
 * runs, and a POST its 32 KiB body buffer while the body comes in.  Each
 * part is released when what it is for ends. */
typedef struct {
    hl_creds     creds;          /* trust of the open connection (a transparent reconnect uses it) */
    bool         conn_has_pin;   /* the AT+TMPIN pin the open connection was verified with */
    uint8_t      conn_pin[32];
    tm_reason    fail;
    uint8_t     *tx;             /* POST body from the host (TM_SOCK_TX_BUF), during a POST only */
    size_t       tx_len;
    max_align_t  http[];         /* the tm_http (tm_http_sizeof()) */
} hl_https_conn;

struct hl_https {
    hl_session *ss;
    tm_at      *at;
    char        server[TM_HOST_MAX];
    long        port;
    long        http_version;
    long        cipher_suite;
    long        sec_level;
    char        login[64];
    char        password[64];
    char       *headers;         /* malloc'd, NUL-terminated; NULL = none */
    size_t      headers_len;
    hl_https_conn *c;            /* NULL: no request running and no connection open */
    tm_http    *http;            /* in c */
    unsigned    release_timer;   /* 0 ms timer: release c after a request (outside callbacks) */
    bool        connected;       /* for the read form */
    /* the running request */
    int         op;
    bool        show_header;
    bool        connect_sent;
    bool        data_mode;       /* POST body still coming from the host */
    bool        body_ended;
    bool        failed;          /* failure seen while the host was still sending (reason in c->fail) */
    uint64_t    body_bytes;
    int         status;
    char        reason_phrase[64];
};

static hl_https *https_of(hl_session *ss) { return ss->https; }

static const tm_http_events hl_http_events;

/* The connection part, created when a request or KHTTPSCNX starts. */
static bool conn_get(hl_https *h)
{
    if (h->c)
        return true;
    hl_https_conn *c = calloc(1, sizeof *c + tm_http_sizeof());
    if (!c)
        return false;
    h->c = c;
    h->http = (tm_http *)c->http;
    tm_http_init(h->http, &hl_http_events, h);
    return true;
}

/* Gives back what the session no longer uses: the POST buffer after the
 * request, the connection part when no connection stays open.  Never from
 * inside a tm_http callback (the client is on the stack): see release_later. */
static void conn_release(hl_https *h)
{
    hl_https_conn *c = h->c;
    if (!c || h->op != OP_NONE)
        return;
    free(c->tx);
    c->tx = NULL;
    c->tx_len = 0;
    if (tm_http_connected(h->http))
        return;
    tm_http_close(h->http);
    hl_creds_free(&c->creds);
    free(c);
    h->c = NULL;
    h->http = NULL;
}

static void release_cb(void *arg)
{
    hl_https *h = arg;
    h->release_timer = 0;
    conn_release(h);
}

static void release_later(hl_https *h)
{
    if (!h->release_timer)
        h->release_timer = tm_port_timer_add(0, release_cb, h);
}

void hl_https_free(hl_session *ss)
{
    hl_https *h = ss->https;
    if (!h)
        return;
    if (h->release_timer)
        tm_port_timer_cancel(h->release_timer);
    if (h->c) {
        tm_http_close(h->http);
        hl_creds_free(&h->c->creds);
        free(h->c->tx);
        free(h->c);
    }
    free(h->headers);
    free(h);
    ss->https = NULL;
}

/* ---- configuration -------------------------------------------------------- */

tm_err hl_khttpscfg_set(tm_at *at, const tm_at_args *a)
{
    hl_state *s = hl_get(at);
    tm_reason *why = tm_at_reason(at);
    long cnx, port, ver = 0, cipher = 0, sec = 1;
    char server[TM_HOST_MAX], login[64] = "", pass[64] = "";
    tm_err e;
    if ((e = tm_at_max_args(at, a, 8)) ||
        (e = tm_at_opt_int(at, a, 1, "cnx_cnf", 0, HL_CNX_MAX - 1, s->cnx_profile, &cnx)) ||
        (e = tm_at_get_host(at, a, 2, "server", server, sizeof server)) ||
        (e = tm_at_opt_int(at, a, 3, "port", 1, 65535, 443, &port)))
        return e;
    if (port < 10) {
        why->arg_index = 3;
        return tm_fail(why, TM_E_ARG_BAD,
                       "port %ld is not an HTTPS port: the third argument is the port; to set the "
                       "security level write AT+KHTTPSCFG=%ld,\"%s\",443,%ld", port, cnx, server, port);
    }
    if (a->count == 4) {
        if ((e = tm_at_opt_int(at, a, 4, "sec_level", 0, 2, 1, &sec)))
            return e;
    } else if (a->count >= 5) {
        if ((e = tm_at_opt_int(at, a, 4, "http_version", 0, 1, 0, &ver)) ||
            (e = tm_at_opt_int(at, a, 5, "cipher_suite", 0, 255, 0, &cipher)) ||
            (e = tm_at_opt_int(at, a, 6, "sec_level", 0, 2, 1, &sec)) ||
            (e = tm_at_opt_str(at, a, 7, "login", login, sizeof login, "")) ||
            (e = tm_at_opt_str(at, a, 8, "password", pass, sizeof pass, "")))
            return e;
    }
    hl_session *ss = hl_session_alloc(s, HL_SESS_HTTPS);
    if (!ss)
        return tm_fail(why, TM_E_NO_SESSION_FREE, "all %d sessions are in use; delete one with "
                       "AT+KHTTPSDEL or AT+KTCPDEL", TM_SESSIONS_MAX);
    hl_https *h = calloc(1, sizeof *h);
    if (!h) {
        hl_session_free(s, ss);
        return tm_fail(why, TM_E_NO_MEMORY, "no memory for an HTTPS session");
    }
    ss->https = h;
    ss->cnx = (int)cnx;
    h->ss = ss;
    h->at = at;
    snprintf(h->server, sizeof h->server, "%s", server);
    h->port = port;
    h->http_version = ver;
    h->cipher_suite = cipher;
    h->sec_level = sec;
    snprintf(h->login, sizeof h->login, "%s", login);
    snprintf(h->password, sizeof h->password, "%s", pass);
    tm_at_line(at, "+KHTTPSCFG: %d", ss->id);
    tm_trace("hl", "HTTPS session %d: %s:%ld, sec_level %ld (%s)", ss->id, server, port, sec,
             sec == 0 ? "encrypt only, server NOT verified" :
             sec == 1 ? "verify server" : "verify server, client certificate when asked");
    if (sec == 0)
        hl_warn(at, "session %d: sec_level 0 encrypts only: the server will NOT be verified", ss->id);
    if (cipher != 0)
        hl_warn(at, "session %d: cipher_suite %ld ignored: tlsmodem negotiates TLS 1.2/1.3 with "
                    "modern suites (0 = server chooses)", ss->id, cipher);
    return TM_OK;
}

tm_err hl_khttpscfg_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    hl_state *s = hl_get(at);
    for (int i = 0; i < TM_SESSIONS_MAX; i++) {
        hl_session *ss = &s->sess[i];
        if (ss->kind != HL_SESS_HTTPS)
            continue;
        hl_https *h = https_of(ss);
        tm_at_line(at, "+KHTTPSCFG: %d,%d,\"%s\",%ld,%ld,%ld,%ld,\"%s\",\"%s\",%d", ss->id, ss->cnx,
                   h->server, h->port, h->http_version, h->cipher_suite, h->sec_level, h->login,
                   h->password, h->connected ? 1 : 0);
    }
    return TM_OK;
}

/* ---- headers -------------------------------------------------------------- */

static void header_end(void *arg, tm_at_data_end how, size_t total)
{
    tm_at *at = arg;
    hl_state *s = hl_get(at);
    tm_err e = hl_collect_end_check(at, s, how, total);
    if (e) {
        tm_reason_append(tm_at_reason(at), "the stored headers are unchanged");
        tm_at_complete(at, e);
        return;
    }
    hl_session *ss = &s->sess[s->collect_index - 1];
    if (ss->kind != HL_SESS_HTTPS) {
        tm_at_complete(at, tm_fail(tm_at_reason(at), TM_E_BAD_SESSION, "the session was deleted"));
        return;
    }
    hl_https *h = https_of(ss);
    char norm[TM_HTTP_HEADER_MAX];
    size_t n = 0;
    e = tm_http_check_headers((const char *)s->collect, s->collect_len, norm, sizeof norm, &n,
                              tm_at_reason(at));
    if (e) {
        tm_reason_append(tm_at_reason(at), "the stored headers are unchanged");
        tm_at_complete(at, e);
        return;
    }
    char *copy = NULL;
    if (n && !(copy = malloc(n + 1))) {
        tm_at_complete(at, tm_fail(tm_at_reason(at), TM_E_NO_MEMORY,
                                   "no memory for %zu bytes of headers; the stored headers are unchanged", n));
        return;
    }
    if (n) {
        memcpy(copy, norm, n);
        copy[n] = '\0';
    }
    free(h->headers);
    h->headers = copy;
    h->headers_len = n;
    tm_trace_bytes("hl", "headers stored: ", h->headers, n);
    tm_at_complete(at, TM_OK);
}

tm_err hl_khttpsheader_set(tm_at *at, const tm_at_args *a)
{
    hl_session *ss;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 1)) || (e = hl_session_arg(at, a, 1, HL_SESS_HTTPS, &ss)))
        return e;
    if (https_of(ss)->op != OP_NONE)
        return tm_fail(tm_at_reason(at), TM_E_SESSION_BUSY, "session %d has a request running", ss->id);
    return hl_collect_start(at, COLLECT_HEADER, ss->id, 0, header_end);
}

tm_err hl_khttpsheader_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    hl_state *s = hl_get(at);
    for (int i = 0; i < TM_SESSIONS_MAX; i++) {
        hl_session *ss = &s->sess[i];
        if (ss->kind != HL_SESS_HTTPS)
            continue;
        hl_https *h = https_of(ss);
        tm_at_line(at, "+KHTTPSHEADER: %d,%zu", ss->id, h->headers_len);
        if (h->headers_len)
            tm_at_write(at, h->headers, h->headers_len);
    }
    return TM_OK;
}

/* ---- requests --------------------------------------------------------------- */

static void req_finish_fail(hl_https *h, const tm_reason *why)
{
    tm_at *at = h->at;
    int op = h->op;
    h->op = OP_NONE;
    h->connected = false;
    hl_report_failure(at, "+KHTTPS_ERROR", h->ss->id, why, op != OP_CNX);
    release_later(h);
    if (op == OP_CNX)
        return;   /* KHTTPSCNX already answered OK */
    tm_at_complete_silent(at);
}

bool hl_https_net_lost(hl_session *ss, const tm_reason *why)
{
    hl_https *h = https_of(ss);
    if (!h || !h->c || (h->op == OP_NONE && !tm_http_connected(h->http)))
        return false;
    tm_http_close(h->http);
    h->connected = false;
    if (h->op == OP_NONE) {
        release_later(h);          /* a kept-alive connection: the next request connects again */
        return true;
    }
    if (h->data_mode) {            /* finish when the host has ended the body (post_end) */
        h->failed = true;
        h->c->fail = *why;
        return true;
    }
    req_finish_fail(h, why);
    return true;
}

static void ev_head(void *arg, int status, const char *reason, const char *head, size_t len)
{
    hl_https *h = arg;
    h->status = status;
    snprintf(h->reason_phrase, sizeof h->reason_phrase, "%s", reason);
    h->connected = true;
    if (!h->connect_sent) {
        tm_at_v250_result(h->at, "CONNECT", 1);
        h->connect_sent = true;
    }
    if (h->show_header || h->op == OP_HEAD)
        tm_at_write(h->at, head, len);
}

static void ev_body(void *arg, const uint8_t *p, size_t n)
{
    hl_https *h = arg;
    h->body_bytes += n;
    tm_at_write(h->at, p, n);
}

static size_t ev_body_room(void *arg)
{
    hl_https *h = arg;
    return tm_at_out_room(h->at);
}

/* The body goes to the host unchanged: TLS decrypts it straight into the
 * output ring (tm_http's body_place), no copy on the way. */
static size_t ev_body_place(void *arg, uint8_t **p)
{
    hl_https *h = arg;
    return tm_at_out_place(h->at, p);
}

static void ev_body_placed(void *arg, size_t n)
{
    hl_https *h = arg;
    h->body_bytes += n;
    tm_at_out_commit(h->at, n);
}

static void post_pump(hl_https *h)
{
    hl_https_conn *c = h->c;
    while (c->tx_len) {
        long n = tm_http_body_write(h->http, c->tx, c->tx_len);
        if (n <= 0)
            return;
        memmove(c->tx, c->tx + n, c->tx_len - (size_t)n);
        c->tx_len -= (size_t)n;
    }
    if (h->body_ended && !h->data_mode) {
        h->body_ended = false;
        tm_http_body_end(h->http);
    }
}

static size_t post_room(void *arg)
{
    hl_https *h = arg;
    if (h->failed)
        return TM_SOCK_TX_BUF;  /* discard what the host still sends */
    post_pump(h);
    return TM_SOCK_TX_BUF - h->c->tx_len;
}

static void post_data(void *arg, const uint8_t *p, size_t n)
{
    hl_https *h = arg;
    if (h->failed)
        return;
    hl_https_conn *c = h->c;
    size_t room = TM_SOCK_TX_BUF - c->tx_len;
    if (n > room)
        n = room;
    memcpy(c->tx + c->tx_len, p, n);
    c->tx_len += n;
    post_pump(h);
}

static void post_end(void *arg, tm_at_data_end how, size_t total)
{
    hl_https *h = arg;
    h->data_mode = false;
    tm_trace("hl", "session %d: request body from the host ended after %zu bytes", h->ss->id, total);
    if (h->failed) {
        req_finish_fail(h, &h->c->fail);
        return;
    }
    if (how == TM_AT_DATA_END_HOST_GONE) {
        tm_http_close(h->http);
        h->op = OP_NONE;
        release_later(h);
        tm_at_complete(h->at, tm_fail(tm_at_reason(h->at), TM_E_DATA_ABORTED,
                                      "the host went away during the request body; the request was "
                                      "not completed"));
        return;
    }
    if (how == TM_AT_DATA_END_MANGLED) {
        tm_http_close(h->http);
        h->op = OP_NONE;
        release_later(h);
        tm_at_complete(h->at, tm_fail(tm_at_reason(h->at), TM_E_DATA_PATTERN_MANGLED,
                                      "the body ended with a look-alike of the EOF pattern; the "
                                      "pattern is %s in ASCII; the request was not completed",
                                      tm_at_pattern(h->at)));
        return;
    }
    h->body_ended = true;
    post_pump(h);
}

static void ev_body_wanted(void *arg)
{
    hl_https *h = arg;
    if (h->op != OP_POST) {
        tm_http_body_end(h->http);
        return;
    }
    if (!h->c->tx && !(h->c->tx = malloc(TM_SOCK_TX_BUF))) {
        tm_reason why;
        tm_reason_clear(&why);
        tm_fail(&why, TM_E_NO_MEMORY, "no memory for the request body buffer (%d bytes)", TM_SOCK_TX_BUF);
        tm_http_close(h->http);
        req_finish_fail(h, &why);
        return;
    }
    h->connected = true;
    tm_at_v250_result(h->at, "CONNECT", 1);
    h->connect_sent = true;
    h->data_mode = true;
    tm_at_data_in spec = {
        .pattern = true, .escape = true,
        .on_data = post_data, .on_end = post_end, .room = post_room, .arg = h,
    };
    tm_at_data_in_start(h->at, &spec);
}

static void ev_body_writable(void *arg)
{
    post_pump(arg);
}

static void ev_done(void *arg, tm_err result, const tm_reason *why)
{
    hl_https *h = arg;
    tm_at *at = h->at;
    if (result != TM_OK) {
        if (h->data_mode) {     /* finish when the host has ended the body */
            h->failed = true;
            h->c->fail = *why;
            return;
        }
        req_finish_fail(h, why);
        return;
    }
    int op = h->op;
    h->op = OP_NONE;
    release_later(h);    /* the POST buffer; the rest too if the server closed */
    if (op == OP_CNX) {
        h->connected = true;
        tm_at_urc(at, "+KHTTPS_IND: %d,1", h->ss->id);
        return;
    }
    const char *pat = tm_at_pattern(at);
    tm_at_write(at, pat, strlen(pat));
    tm_trace("hl", "session %d: HTTP %d, %llu body bytes delivered", h->ss->id, h->status,
             (unsigned long long)h->body_bytes);
    tm_at_complete(at, TM_OK);
    tm_at_urc(at, "+KHTTPS_IND: %d,3,%llu,%d,\"%s\"", h->ss->id, (unsigned long long)h->body_bytes,
              h->status, h->reason_phrase);
}

/* The server closed the kept-alive connection between requests. */
static void ev_idle_closed(void *arg)
{
    hl_https *h = arg;
    h->connected = false;
    release_later(h);
}

static const tm_http_events hl_http_events = {
    .on_idle_closed = ev_idle_closed,
    .on_head = ev_head,
    .on_body = ev_body,
    .body_room = ev_body_room,
    .body_place = ev_body_place,
    .on_body_placed = ev_body_placed,
    .on_body_wanted = ev_body_wanted,
    .on_body_writable = ev_body_writable,
    .on_done = ev_done,
};

static void deferred_fail(void *arg)
{
    hl_https *h = arg;
    req_finish_fail(h, &h->c->fail);
}

/* Where and how a session connects: the server, TLS with the store's trust
 * (loaded again for each new connection), the module clock, the pin. */
static tm_err conn_opts(tm_at *at, hl_https *h, tm_stream_opts *o, tm_reason *why)
{
    snprintf(o->host, sizeof o->host, "%s", h->server);
    o->port = (uint16_t)h->port;
    o->use_tls = true;
    uint32_t idle;
    hl_cnx_timeouts(hl_get(at), h->ss->cnx, &o->connect_timeout_ms, &idle);
    hl_https_conn *c = h->c;
    if (!tm_http_connected(h->http)) {
        hl_creds_free(&c->creds);
        tm_err e = hl_creds_load(hl_get(at), &c->creds, h->sec_level >= 2, why);
        if (e) {
            hl_creds_free(&c->creds);
            return e;
        }
        c->conn_has_pin = h->ss->has_pin;
        memcpy(c->conn_pin, h->ss->pin, sizeof c->conn_pin);
    }
    hl_tls_config(hl_get(at), &c->creds, &o->tls, o->host, (int)h->sec_level);
    hl_tls_apply_pin(h->ss, &o->tls);
    return TM_OK;
}

/* AT+TMPIN is enforced at every request: a kept-alive connection verified
 * with another pin (or none) is closed, and the request opens a new one,
 * verified with the session's pin as it is now. */
static void pin_recheck(hl_https *h)
{
    hl_session *ss = h->ss;
    if (!h->c || !tm_http_connected(h->http))
        return;
    if (h->c->conn_has_pin == ss->has_pin && (!ss->has_pin || memcmp(h->c->conn_pin, ss->pin, 32) == 0))
        return;
    tm_trace("hl", "session %d: the SPKI pin changed since the kept-alive connection was verified: closing it; "
             "the next connection is verified with the %s", ss->id, ss->has_pin ? "new pin" : "pin removed");
    tm_http_close(h->http);
    h->connected = false;
}

/* The host sent +++ (with guard times) while a GET/HEAD was streaming: the
 * module stops, closes the connection and says so (NO CARRIER, then
 * +KHTTPS_ERROR with the reason); the session stays configured. */
static void host_abort(void *arg)
{
    hl_https *h = arg;
    if (h->op != OP_GET && h->op != OP_HEAD)
        return;
    tm_http_close(h->http);
    tm_reason why;
    tm_reason_clear(&why);
    tm_fail(&why, TM_E_DATA_ABORTED, "the host abandoned the request with +++ after %llu body bytes "
            "(%s); the connection was closed", (unsigned long long)h->body_bytes,
            h->connect_sent ? "the body was being sent" : "before the response head");
    req_finish_fail(h, &why);
}

static tm_err start_request(tm_at *at, hl_session *ss, int op, const char *uri, bool show)
{
    hl_https *h = https_of(ss);
    tm_reason *why = tm_at_reason(at);
    if (h->op != OP_NONE)
        return tm_fail(why, TM_E_SESSION_BUSY, "session %d has a request running", ss->id);
    if (uri[0] != '/' && uri[0] != '*')
        return tm_fail(why, TM_E_ARG_BAD, "argument 2 (request_uri) \"%s\" must start with '/'; give "
                       "the path only, the server is set with AT+KHTTPSCFG", uri);
    tm_err ne = hl_net_usable(at);         /* no coverage, denied, detached: refused at once */
    if (ne)
        return ne;
    static const char *const methods[] = { "", "GET", "HEAD", "POST", "" };
    if (!conn_get(h))
        return tm_fail(why, TM_E_NO_MEMORY, "no memory for the connection of session %d", ss->id);
    pin_recheck(h);
    tm_http_request req;
    memset(&req, 0, sizeof req);
    tm_err ce = conn_opts(at, h, &req.conn, why);
    req.method = methods[op];
    req.uri = uri;
    req.user_headers = h->headers_len ? h->headers : NULL;
    req.body_mode = TM_HTTP_BODY_NONE;
    uint32_t connect_ms;
    hl_cnx_timeouts(hl_get(at), ss->cnx, &connect_ms, &req.idle_timeout_ms);
    if (op == OP_POST) {
        char v[64];
        if (h->headers_len && tm_http_header_value(h->headers, "Content-Length", v, sizeof v)) {
            req.body_mode = TM_HTTP_BODY_LENGTH;
            req.body_length = strtoull(v, NULL, 10);
        } else if (h->headers_len && tm_http_header_value(h->headers, "Transfer-Encoding", v, sizeof v)) {
            req.body_mode = TM_HTTP_BODY_RAW;
        } else {
            req.body_mode = TM_HTTP_BODY_CHUNKED;
        }
    }
    if (h->login[0]) {
        req.basic_user = h->login;
        req.basic_pass = h->password;
    }
    h->op = op;
    h->show_header = show;
    h->connect_sent = false;
    h->data_mode = false;
    h->body_ended = false;
    h->failed = false;
    h->body_bytes = 0;
    h->status = 0;
    h->c->tx_len = 0;
    if (h->sec_level == 0)
        tm_trace("verdict", "session %d: sec_level 0: server certificate NOT VERIFIED (encrypt only)",
                 ss->id);
    tm_err e = ce ? ce : tm_http_start(h->http, &req, why);
    if (e) {
        /* unusable stored credentials, DNS and the like fail at once; report as the module does (NO
         * CARRIER + +KHTTPS_ERROR) from the loop, after this handler returns */
        h->c->fail = *why;
        tm_port_timer_add(0, deferred_fail, h);
    } else if (op == OP_GET || op == OP_HEAD) {
        tm_at_set_abort(at, host_abort, h);
    }
    return TM_AT_PENDING;
}

/* From the loop's idle hook: the host took output, let paused bodies go on. */
void hl_https_idle(hl_session *ss)
{
    hl_https *h = ss->https;
    if (h && h->op != OP_NONE && h->http && tm_at_out_room(h->at) > 0)
        tm_http_resume(h->http);
}

static tm_err request_cmd(tm_at *at, const tm_at_args *a, int op)
{
    hl_session *ss;
    char uri[TM_HTTP_URI_MAX];
    long show = op == OP_HEAD;
    tm_err e;
    if ((e = tm_at_max_args(at, a, op == OP_HEAD ? 2 : 3)) ||
        (e = hl_session_arg(at, a, 1, HL_SESS_HTTPS, &ss)) ||
        (e = tm_at_get_str(at, a, 2, "request_uri", uri, sizeof uri)) ||
        (op != OP_HEAD && (e = tm_at_opt_int(at, a, 3, "show_resp_header", 0, 1, 0, &show))))
        return e;
    return start_request(at, ss, op, uri, show != 0);
}

tm_err hl_khttpsget_set(tm_at *at, const tm_at_args *a)  { return request_cmd(at, a, OP_GET); }
tm_err hl_khttpshead_set(tm_at *at, const tm_at_args *a) { return request_cmd(at, a, OP_HEAD); }
tm_err hl_khttpspost_set(tm_at *at, const tm_at_args *a) { return request_cmd(at, a, OP_POST); }

tm_err hl_khttpscnx_set(tm_at *at, const tm_at_args *a)
{
    hl_session *ss;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 1)) || (e = hl_session_arg(at, a, 1, HL_SESS_HTTPS, &ss)))
        return e;
    hl_https *h = https_of(ss);
    if (h->op != OP_NONE)
        return tm_fail(tm_at_reason(at), TM_E_SESSION_BUSY, "session %d has a request running", ss->id);
    if (!conn_get(h))
        return tm_fail(tm_at_reason(at), TM_E_NO_MEMORY, "no memory for the connection of session %d", ss->id);
    pin_recheck(h);
    if (tm_http_connected(h->http)) {
        tm_at_urc(at, "+KHTTPS_IND: %d,1", ss->id);
        return TM_OK;
    }
    /* OK now; "+KHTTPS_IND: <id>,1" when the connection is up and verified
     * (the next request reuses it), "+KHTTPS_ERROR: <id>,<code>" if not. */
    tm_stream_opts o;
    memset(&o, 0, sizeof o);
    if ((e = conn_opts(at, h, &o, tm_at_reason(at))) ||
        (e = tm_http_connect(h->http, &o, tm_at_reason(at)))) {
        conn_release(h);
        return e;
    }
    h->op = OP_CNX;
    return TM_OK;
}

tm_err hl_khttpsclose_set(tm_at *at, const tm_at_args *a)
{
    hl_session *ss;
    long type;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 2)) || (e = hl_session_arg(at, a, 1, HL_SESS_HTTPS, &ss)) ||
        (e = tm_at_opt_int(at, a, 2, "closing_type", 0, 1, 1, &type)))
        return e;
    hl_https *h = https_of(ss);
    if (h->op == OP_CNX) {
        /* The host gives up on a KHTTPSCNX still connecting (a stalled
         * server): abandon it; no +KHTTPS_IND / +KHTTPS_ERROR follows. */
        tm_trace("hl", "session %d: KHTTPSCLOSE abandons the connection still being opened", ss->id);
        h->op = OP_NONE;
    } else if (h->op != OP_NONE) {
        return tm_fail(tm_at_reason(at), TM_E_SESSION_BUSY, "session %d has a request running", ss->id);
    }
    if (h->http)
        tm_http_close(h->http);
    h->connected = false;
    conn_release(h);
    return TM_OK;
}

tm_err hl_khttpsdel_set(tm_at *at, const tm_at_args *a)
{
    hl_session *ss;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 1)) || (e = hl_session_arg(at, a, 1, HL_SESS_HTTPS, &ss)))
        return e;
    if (https_of(ss)->op != OP_NONE)
        return tm_fail(tm_at_reason(at), TM_E_SESSION_BUSY,
                       "session %d has a request running; close it first", ss->id);
    hl_session_free(hl_get(at), ss);
    return TM_OK;
}
