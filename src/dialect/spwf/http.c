/* tlsmodem — SPWF HTTP client: AT+S.HTTPGET and AT+S.HTTPPOST.
 *
 * =<host>,<path&query>,<port>,<TLS>,<user>,<pass>,<file7>,<file8>
 *
 * Decisions (docs/spwf.md):
 * - Empty path = "/"; a path without a leading '/' gets one (an SPWF04 user wrote
 *   "conf").  Empty port = 80, or 443 with TLS.  <TLS> 0 plain, 1 and 2 TLS
 *   (both: verify the server against the stored CAs, present the TLSCERT
 *   client certificate when the server asks).  The name checked is <host>,
 *   RFC 6125 (SAN, wildcards), not the CN-only exact match of the module.
 * - One connection per command (a new handshake each time), closed after.
 * - Success: AT-S.Http Server Status Code:<n>, the body de-chunked and raw,
 *   then CR LF and AT-S.OK.  The body is what the server sent as content
 *   (Transfer-Encoding framing removed), so a host never has to de-chunk.
 * - HTTPGET with a file name (7th, else 8th argument): the body goes to that
 *   file of the file system instead of the host; AT-S.File:<name>:<bytes>.
 *   HTTPPOST: 7th = file whose content is the request body (none: empty
 *   body), 8th = file for the response body.
 * - Failure: [AT-S.Certificate Error:<n>] AT-S.Http Client Error:<n>
 *   AT-S.ERROR:111:Request failed[: <reason>]. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/trace.h"
#include "dialect/spwf/spwf.h"
#include "port/port.h"

struct spwf_http {
    tm_at      *at;
    tm_http    *http;
    spwf_creds  creds;
    bool        running;
    bool        head_seen;
    int         status;
    uint64_t    body_bytes;
    bool        to_file;
    char        out_name[TM_STORE_NAME_MAX];
    char        out_user[128];
    uint8_t    *out_buf;
    size_t      out_len;
    bool        out_overflow;
    uint8_t    *body;
    size_t      body_len, body_off;
    bool        body_ended;
    tm_reason   fail;
    char        host[TM_HOST_MAX];
    char        uri[TM_HTTP_URI_MAX];
    int64_t     t0;
    unsigned    release_timer;   /* 0 ms: free the client after a request (outside its callbacks) */
};

void spwf_http_free(spwf_state *s)
{
    spwf_http *h = s->http;
    if (!h)
        return;
    if (h->release_timer)
        tm_port_timer_cancel(h->release_timer);
    if (h->http) {
        tm_http_close(h->http);
        free(h->http);
    }
    spwf_creds_free(&h->creds);
    free(h->out_buf);
    free(h->body);
    free(h);
    s->http = NULL;
}

/* Every request closes its connection ("Connection: close"): between
 * requests nothing is kept — the client (~14 KiB with its trust list), the
 * 256 KiB response-file and request-body buffers (docs/architecture.md
 * "Memory per session").  Freed from a 0 ms timer: the request ends inside
 * a tm_http callback, with the client on the stack. */
static void release_cb(void *arg)
{
    spwf_http *h = arg;
    h->release_timer = 0;
    if (!h->running)
        spwf_http_free(spwf_get(h->at));
}

static void release_later(spwf_http *h)
{
    if (!h->release_timer)
        h->release_timer = tm_port_timer_add(0, release_cb, h);
}

static void finish_fail(spwf_http *h, const tm_reason *why)
{
    tm_at *at = h->at;
    h->running = false;
    tm_http_close(h->http);
    spwf_creds_free(&h->creds);
    spwf_trace_reason("HTTP request failed", why);
    if (h->head_seen && !h->to_file)
        tm_at_write(at, "\r\n", 2);
    int ce = spwf_cert_error(why->code);
    if (ce)
        tm_at_printf(at, "AT-S.Certificate Error:%d\r\n", ce);
    tm_at_printf(at, "AT-S.Http Client Error:%d\r\n", spwf_http_client_error(why->code));
    spwf_error_line(at, SPWF_ERR_REQUEST_FAILED, "Request failed", why);
    tm_trace("at>", "HTTP request failed: %s", tm_err_name(why->code));
    release_later(h);
    tm_at_complete_silent(at);
}

bool spwf_http_net_lost(spwf_state *s, const tm_reason *why)
{
    spwf_http *h = s->http;
    if (!h || !h->running)
        return false;
    finish_fail(h, why);
    return true;
}

static void ev_head(void *arg, int status, const char *reason, const char *head, size_t len)
{
    spwf_http *h = arg;
    (void)head;
    (void)len;
    h->status = status;
    h->head_seen = true;
    tm_trace("http", "%s%s: %d %s", h->host, h->uri, status, reason);
    tm_at_line(h->at, "AT-S.Http Server Status Code:%d", status);
}

static void ev_body(void *arg, const uint8_t *p, size_t n)
{
    spwf_http *h = arg;
    h->body_bytes += n;
    if (!h->to_file) {
        tm_at_write(h->at, p, n);
        return;
    }
    if (h->out_len + n > TM_STORE_ITEM_MAX) {
        h->out_overflow = true;
        return;
    }
    memcpy(h->out_buf + h->out_len, p, n);
    h->out_len += n;
}

static size_t ev_body_room(void *arg)
{
    spwf_http *h = arg;
    return h->to_file ? 1 << 20 : tm_at_out_room(h->at);
}

/* The body straight from TLS into where it goes (tm_http's body_place): the
 * host's output ring, or the file buffer; a body too large for the file
 * comes through ev_body, which notes the overflow. */
static size_t ev_body_place(void *arg, uint8_t **p)
{
    spwf_http *h = arg;
    if (!h->to_file)
        return tm_at_out_place(h->at, p);
    *p = h->out_buf + h->out_len;
    return h->out_overflow ? 0 : TM_STORE_ITEM_MAX - h->out_len;
}

static void ev_body_placed(void *arg, size_t n)
{
    spwf_http *h = arg;
    h->body_bytes += n;
    if (h->to_file)
        h->out_len += n;
    else
        tm_at_out_commit(h->at, n);
}

static void body_pump(spwf_http *h)
{
    while (h->body_off < h->body_len) {
        long n = tm_http_body_write(h->http, h->body + h->body_off, h->body_len - h->body_off);
        if (n <= 0)
            return;
        h->body_off += (size_t)n;
    }
    if (!h->body_ended) {
        h->body_ended = true;
        tm_http_body_end(h->http);
    }
}

static void ev_body_wanted(void *arg)
{
    spwf_http *h = arg;
    h->body_off = 0;
    h->body_ended = false;
    body_pump(h);
}

static void ev_body_writable(void *arg)
{
    body_pump(arg);
}

static void ev_done(void *arg, tm_err result, const tm_reason *why)
{
    spwf_http *h = arg;
    tm_at *at = h->at;
    if (result != TM_OK) {
        tm_reason r = *why;
        if (!r.code)
            r.code = result;
        finish_fail(h, &r);
        return;
    }
    if (h->to_file && h->out_overflow) {
        tm_reason r;
        tm_fail(&r, TM_E_TOO_LARGE, "the response body (%llu bytes) does not fit into a file (limit %d); "
                "nothing was written to '%s'", (unsigned long long)h->body_bytes, TM_STORE_ITEM_MAX,
                h->out_user);
        finish_fail(h, &r);
        return;
    }
    h->running = false;
    tm_http_close(h->http);
    spwf_creds_free(&h->creds);
    tm_trace("http", "%s%s: HTTP %d, %llu body bytes in %lld ms", h->host, h->uri, h->status,
             (unsigned long long)h->body_bytes, (long long)(tm_port_mono_ms() - h->t0));
    if (h->to_file) {
        /* a file from the network is never a trust anchor (docs/tls.md) */
        tm_err e = spwf_fs_room(&spwf_modem(at)->store, h->out_name, h->out_len, tm_at_reason(at));
        if (!e)
            e = spwf_fs_from_network(&spwf_modem(at)->store, h->out_name, "AT+S.HTTPGET/HTTPPOST",
                                     tm_at_reason(at));
        if (!e)
            e = tm_store_put(&spwf_modem(at)->store, h->out_name, h->out_buf, h->out_len, tm_at_reason(at));
        if (e) {
            release_later(h);
            tm_at_complete(at, e);
            return;
        }
        tm_at_line(at, "AT-S.File:%s:%zu", h->out_user, h->out_len);
    } else {
        tm_at_write(at, "\r\n", 2);
    }
    release_later(h);
    tm_at_complete(at, TM_OK);
}

static const tm_http_events spwf_http_events = {
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
    spwf_http *h = arg;
    finish_fail(h, &h->fail);
}

static tm_err file_arg(tm_at *at, const tm_at_args *a, int idx, char *store_name, size_t cap, char *user,
                       size_t ucap)
{
    tm_err e = tm_at_get_str(at, a, idx, "filename", user, ucap);
    if (e)
        return e;
    e = spwf_fs_name(at, user, store_name, cap);
    if (e)
        tm_at_reason(at)->arg_index = idx;
    return e;
}

static tm_err request_start(tm_at *at, const tm_at_args *a, bool post)
{
    spwf_state *s = spwf_get(at);
    tm_reason *why = tm_at_reason(at);
    char host[TM_HOST_MAX], path[TM_HTTP_URI_MAX], user[64] = "", pass[64] = "";
    long port, tls;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 8)) || (e = tm_at_get_host(at, a, 1, "host", host, sizeof host)) ||
        (e = tm_at_opt_str(at, a, 2, "path", path, sizeof path - 1, "/")) ||
        (e = tm_at_opt_int(at, a, 4, "TLS", 0, 2, 0, &tls)) ||
        (e = tm_at_opt_int(at, a, 3, "port", 1, 65535, tls ? 443 : 80, &port)) ||
        (e = tm_at_opt_str(at, a, 5, "user", user, sizeof user, "")) ||
        (e = tm_at_opt_str(at, a, 6, "password", pass, sizeof pass, "")))
        return e;
    if (spwf_radio_bss_lost())
        return tm_fail(why, TM_E_NET, "no network: the access point is lost (+WIND:33); wait for +WIND:24 "
                       "(WiFi Up)");
    if (!s->http) {
        s->http = calloc(1, sizeof *s->http);
        if (s->http && (s->http->http = calloc(1, tm_http_sizeof())) != NULL)
            tm_http_init(s->http->http, &spwf_http_events, s->http);
        if (!s->http || !s->http->http) {
            spwf_http_free(s);
            return tm_fail(why, TM_E_NO_MEMORY, "no memory for the HTTP client");
        }
    }
    spwf_http *h = s->http;
    if (h->running)
        return tm_fail(why, TM_E_BUSY, "an HTTP request is running");
    h->at = at;
    h->to_file = false;
    h->out_overflow = false;
    h->out_len = 0;
    free(h->body);
    h->body = NULL;
    h->body_len = 0;
    int out_idx = post ? 8 : (!tm_at_omitted(a, 7) ? 7 : 8);
    if (!tm_at_omitted(a, out_idx)) {
        if ((e = file_arg(at, a, out_idx, h->out_name, sizeof h->out_name, h->out_user, sizeof h->out_user)))
            return e;
        if (!h->out_buf && !(h->out_buf = malloc(TM_STORE_ITEM_MAX)))
            return tm_fail(why, TM_E_NO_MEMORY, "no memory for the response file");
        h->to_file = true;
    }
    if (post && !tm_at_omitted(a, 7)) {
        char name[TM_STORE_NAME_MAX], u[128];
        size_t len;
        if ((e = file_arg(at, a, 7, name, sizeof name, u, sizeof u)))
            return e;
        if (!(h->body = malloc(TM_STORE_ITEM_MAX)))
            return tm_fail(why, TM_E_NO_MEMORY, "no memory for the request body");
        e = tm_store_get(&spwf_modem(at)->store, name, h->body, TM_STORE_ITEM_MAX, &len, why);
        if (e) {
            why->arg_index = 7;
            if (e == TM_E_NOT_FOUND)
                tm_fail(why, e, "argument 7 (in_file): no file \"%s\" (create it with AT+S.FSC)", u);
            return e;
        }
        h->body_len = len;
    }
    if (path[0] != '/') {
        memmove(path + 1, path, strlen(path) + 1);
        path[0] = '/';
        tm_trace("spwf", "path without a leading '/': requesting %s", path);
    }
    snprintf(h->host, sizeof h->host, "%s", host);
    snprintf(h->uri, sizeof h->uri, "%s", path);
    tm_http_request req;
    memset(&req, 0, sizeof req);
    snprintf(req.conn.host, sizeof req.conn.host, "%s", host);
    req.conn.port = (uint16_t)port;
    req.conn.use_tls = tls != 0;
    spwf_creds_free(&h->creds);
    if (tls && (e = spwf_creds_load(s, &h->creds, true, why)))
        return e;               /* an unusable stored credential refuses the request */
    if (tls) {
        spwf_tls_config(s, &h->creds, &req.conn.tls, req.conn.host, NULL);
    }
    req.method = post ? "POST" : "GET";
    req.uri = h->uri;
    req.user_headers = "Connection: close\r\n";
    long recv_ms = spwf_var_int(s, "ip_http_get_recv_timeout");   /* ms, as on the module */
    if (recv_ms > 0)
        req.idle_timeout_ms = (uint32_t)recv_ms;   /* else --timeout-idle */
    if (post) {
        req.body_mode = TM_HTTP_BODY_LENGTH;
        req.body_length = h->body_len;
    } else {
        req.body_mode = TM_HTTP_BODY_NONE;
    }
    if (user[0]) {
        req.basic_user = user;
        req.basic_pass = pass;
    }
    h->running = true;
    h->head_seen = false;
    h->status = 0;
    h->body_bytes = 0;
    h->t0 = tm_port_mono_ms();
    tm_trace("spwf", "HTTP%s %s %s:%ld%s (%s)", post ? "POST" : "GET", h->uri, host, port,
             tls ? " TLS" : "", h->to_file ? "body to a file" : "body to the host");
    tm_http_close(h->http);
    tm_http_init(h->http, &spwf_http_events, h);
    e = tm_http_start(h->http, &req, why);
    if (e) {
        h->fail = *why;
        if (!h->fail.code)
            h->fail.code = e;
        tm_port_timer_add(0, deferred_fail, h);
    }
    return TM_AT_PENDING;
}

/* A request refused before it started keeps nothing either. */
static tm_err request(tm_at *at, const tm_at_args *a, bool post)
{
    tm_err e = request_start(at, a, post);
    spwf_state *s = spwf_get(at);
    if (e != TM_AT_PENDING && s->http && !s->http->running)
        spwf_http_free(s);
    return e;
}

/* From the loop's idle hook: the host took output, let a paused body go on. */
void spwf_http_idle(spwf_state *s)
{
    spwf_http *h = s->http;
    if (h && h->running && !h->to_file && tm_at_out_room(h->at) > 0)
        tm_http_resume(h->http);
}

tm_err spwf_httpget_set(tm_at *at, const tm_at_args *a)  { return request(at, a, false); }
tm_err spwf_httppost_set(tm_at *at, const tm_at_args *a) { return request(at, a, true); }
