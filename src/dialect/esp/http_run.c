/* tlsmodem — ESP-AT HTTP commands: running one request (shared client
 * src/http/) and saying its answer the module's way.
 *
 * Framing (docs/esp.md §6):
 *   body     "<prefix>:<n>,<n bytes>\r\n" per frame, n <= the command's chunk
 *            size; the frames follow the network (no coalescing), as the
 *            module's do;
 *   HEAD     one frame per response header line: "+HTTPCLIENT:<n>,Name: value";
 *   end      OK (HTTPCLIENT, HTTPCGET, HTTPGETSIZE after its size line) or
 *            SEND OK (HTTPCPOST/PUT); a failure is ERROR (SEND FAIL for
 *            HTTPCPOST/PUT) with the reason in the trace.
 * A status of 400 or above is a failure (ERR CODE 0x010a7<status in hex>
 * through esp_err_ext); its body is not shown.  Redirects are not
 * followed (as the module): a 3xx answer is shown like a 200 one.
 *
 * Memory stays flat whatever the body size: a body frame is written only
 * when the output towards the host has room for it (tm_at_out_room); when it
 * has none the client stops reading the socket (tm_http body_room = 0) and
 * the idle hook resumes it once the host read some output.  The body the
 * host sends after '>' (HTTPCPOST/PUT) goes to the server as it arrives,
 * through a 16 KiB buffer; when the socket is slow the engine stops taking
 * host bytes (data-mode room). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/trace.h"
#include "dialect/esp/http_internal.h"
#include "net/net.h"
#include "port/port.h"

#define FRAME_OVH  24              /* "+HTTPCLIENT:10240," and CR LF */
#define HOST_BUF   (16 * 1024)     /* host body bytes waiting for the socket */

typedef struct {
    tm_at        *at;
    esp_state    *s;
    tm_http      *http;            /* tm_http_sizeof(), allocated on first use */
    esp_tls_hold  hold;            /* trust of an https request, until it ends */
    bool          running;         /* our command is pending */
    bool          live;            /* the tm_http request runs */
    bool          idle_hooked;
    const char   *prefix;
    int           status;
    uint64_t      body_bytes;
    /* the request ended while the host was still sending (HTTPCPOST/PUT) */
    bool          ended;
    tm_err        result;
    tm_reason     fail;
    /* HTTPCPOST/PUT: the body from the host */
    bool          data_mode;
    uint64_t      host_got;
    uint8_t      *hbuf;
    size_t        hlen;
    bool          body_wanted, body_ended;
    uint32_t      data_idle_ms;   /* --timeout-idle, the data mode's idle_ms */
    /* HTTPCLIENT <data> */
    size_t        body_off;
    int64_t       t0;
    uint32_t      errcode;         /* ERR CODE extension: 0x7000 | status, 0x7000 = no answer */
} eh_state;

static eh_state   g;
static eh_request g_req;

eh_request *eh_slot(void) { return &g_req; }

void eh_prompt(tm_at *at)
{
    tm_at_write(at, "\r\nOK\r\n\r\n>", 9);
}

static const char *target(char *buf, size_t cap)
{
    snprintf(buf, cap, "%s://%s:%u%s", g_req.url.tls ? "https" : "http", g_req.url.host,
             (unsigned)g_req.url.port, g_req.url.uri);
    return buf;
}

/* ---- the end of a command ------------------------------------------------------ */

static void release(void)
{
    g.live = false;
    if (g.http)
        tm_http_close(g.http);
    esp_tls_hold_free(&g.hold);
}

/* Says the result; the request is over and no host bytes are expected. */
static void answer(void)
{
    tm_at *at = g.at;
    release();
    g.running = false;
    char t[TM_HOST_MAX + TM_HTTP_URI_MAX + 32];
    if (g.result == TM_OK)
        tm_trace("esp", "HTTP %s %s: %d, %" PRIu64 " body bytes in %lld ms", g_req.method, target(t, sizeof t),
                 g.status, g.body_bytes, (long long)(tm_port_mono_ms() - g.t0));
    if (g_req.kind == EH_CPOST || g_req.kind == EH_CPUT) {
        if (g.result == TM_OK) {
            tm_at_printf(at, "\r\nSEND OK\r\n");
        } else {
            char text[TM_DETAIL_MAX + 128];
            tm_trace("reason", "%s (%s)", tm_reason_text(&g.fail, text, sizeof text), tm_err_name(g.fail.code));
            tm_at_printf(at, "\r\nSEND FAIL\r\n");
        }
        g.errcode = 0;
        tm_at_complete_silent(at);
        return;
    }
    if (g.result != TM_OK) {
        *tm_at_reason(at) = g.fail;
        esp_err_ext(g.s, (uint16_t)g.errcode);     /* ERR CODE:0x010a7xxx (voice.c) */
    }
    g.errcode = 0;
    tm_at_complete(at, g.result);
}

/* The request is over (result and reason); the answer waits for the end
 * of the host's body when it is still coming. */
static void finish(tm_err result, const tm_reason *why)
{
    if (!g.running || g.ended)
        return;
    g.ended = true;
    g.result = result;
    if (result != TM_OK) {
        g.fail = *why;
        if (!g.fail.code)
            g.fail.code = result;
        if (!g.errcode)
            g.errcode = 0x7000;      /* no usable response: the manual's "Connection Failed" */
    }
    release();
    if (g.data_mode) {
        if (result != TM_OK)
            tm_trace("esp", "HTTP request failed while the host is still sending its body; the remaining %" PRIu64
                     " bytes are read and dropped, then SEND FAIL", g_req.host_len - g.host_got);
        return;
    }
    answer();
}

static void failf(tm_err code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void failf(tm_err code, const char *fmt, ...)
{
    tm_reason r;
    tm_reason_clear(&r);
    va_list ap;
    va_start(ap, fmt);
    tm_vfail(&r, code, fmt, ap);
    va_end(ap);
    finish(code, &r);
}

/* ---- the response -------------------------------------------------------------- */

static void frame(const uint8_t *p, size_t n)
{
    tm_at_printf(g.at, "%s:%zu,", g.prefix, n);
    tm_at_write(g.at, p, n);
    tm_at_write(g.at, "\r\n", 2);
}

static void head_lines(const char *head, size_t len)
{
    const char *p = memchr(head, '\n', len);     /* the status line is not shown */
    const char *end = head + len;
    while (p && p + 1 < end) {
        const char *line = p + 1;
        p = memchr(line, '\n', (size_t)(end - line));
        size_t n = p ? (size_t)(p - line) : (size_t)(end - line);
        if (n && line[n - 1] == '\r')
            n--;
        if (n)
            frame((const uint8_t *)line, n);
    }
}

static void ev_head(void *arg, int status, const char *phrase, const char *head, size_t len)
{
    (void)arg;
    char t[TM_HOST_MAX + TM_HTTP_URI_MAX + 32], v[512];
    g.status = status;
    if (status >= 400) {
        g.errcode = 0x7000 | (uint32_t)(status & 0xfff);
        failf(TM_E_HTTP_STATUS, "HTTP %d %s from %s (ERR CODE 0x010a%04x); the response body is not shown, "
              "as the module shows none for a failed request", status, phrase, target(t, sizeof t),
              (unsigned)g.errcode);
        return;
    }
    if (status >= 300 && status < 400)
        tm_trace("esp", "HTTP %d from %s: redirects are not followed (as the module)%s%s", status,
                 target(t, sizeof t), tm_http_header_value(head, "Location", v, sizeof v) ? "; Location: " : "",
                 tm_http_header_value(head, "Location", v, sizeof v) ? v : "");
    if (g_req.kind == EH_GETSIZE) {
        if (!tm_http_header_value(head, "Content-Length", v, sizeof v)) {
            failf(TM_E_NOT_SUPPORTED, "%s answered %d without Content-Length (%s): the size is not known "
                  "before the whole body is read; use AT+HTTPCGET", target(t, sizeof t), status,
                  tm_http_header_value(head, "Transfer-Encoding", v, sizeof v) ? "chunked" : "body until close");
            return;
        }
        tm_at_line(g.at, "+HTTPGETSIZE:%s", v);
        tm_reason ok;
        tm_reason_clear(&ok);
        finish(TM_OK, &ok);          /* the body is not needed: closing is the module's way too */
        return;
    }
    if (strcmp(g_req.method, "HEAD") == 0)
        head_lines(head, len);
}

static void ev_body(void *arg, const uint8_t *p, size_t n)
{
    (void)arg;
    g.body_bytes += n;
    while (n) {
        size_t m = n < g_req.chunk ? n : g_req.chunk;
        frame(p, m);
        p += m;
        n -= m;
    }
}

/* Body bytes that fit as whole frames into the output's free room. */
static size_t ev_room(void *arg)
{
    (void)arg;
    size_t r = tm_at_out_room(g.at);
    size_t per = g_req.chunk + FRAME_OVH;
    if (r < 256)
        return 0;
    r -= 256;                        /* a chunked body may come in more, smaller pieces */
    size_t rest = r % per;
    return (r / per) * g_req.chunk + (rest > FRAME_OVH ? rest - FRAME_OVH : 0);
}

static void pump_body(void)
{
    if (!g.live || !g.body_wanted || g.body_ended)
        return;
    if (g_req.kind == EH_CLIENT) {
        while (g.body_off < g_req.body_len) {
            long w = tm_http_body_write(g.http, g_req.body + g.body_off, g_req.body_len - g.body_off);
            if (!g.live || w <= 0)
                return;
            g.body_off += (size_t)w;
        }
    } else {
        size_t off = 0;
        while (off < g.hlen) {
            long w = tm_http_body_write(g.http, g.hbuf + off, g.hlen - off);
            if (!g.live)
                return;
            if (w <= 0)
                break;
            off += (size_t)w;
        }
        if (off) {
            memmove(g.hbuf, g.hbuf + off, g.hlen - off);
            g.hlen -= off;
        }
        if (g.hlen || g.host_got < g_req.host_len)
            return;
    }
    g.body_ended = true;
    tm_http_body_end(g.http);
}

static void ev_body_wanted(void *arg)
{
    (void)arg;
    g.body_wanted = true;
    pump_body();
}

static void ev_body_writable(void *arg)
{
    (void)arg;
    pump_body();
}

static void ev_done(void *arg, tm_err result, const tm_reason *why)
{
    (void)arg;
    g.live = false;
    finish(result, why);
}

static const tm_http_events EV = {
    .on_head = ev_head,
    .on_body = ev_body,
    .body_room = ev_room,
    .on_body_wanted = ev_body_wanted,
    .on_body_writable = ev_body_writable,
    .on_done = ev_done,
};

/* ---- the body from the host (HTTPCPOST / HTTPCPUT) ------------------------------- */

static size_t cp_room(void *arg)
{
    (void)arg;
    return g.ended ? (size_t)1 << 20 : HOST_BUF - g.hlen;    /* after a failure: read and drop */
}

static void cp_data(void *arg, const uint8_t *p, size_t n)
{
    (void)arg;
    g.host_got += n;
    if (g.ended)
        return;
    memcpy(g.hbuf + g.hlen, p, n);
    g.hlen += n;
    pump_body();
}

static void cp_end(void *arg, tm_at_data_end how, size_t total)
{
    (void)arg;
    (void)total;
    g.data_mode = false;
    if (how == TM_AT_DATA_END_IDLE) {
        if (!g.ended)
            failf(TM_E_TIMEOUT, "the host sent %" PRIu64 " of the %" PRIu64 " body bytes announced, then nothing "
                  "for %u ms (--timeout-idle): the request was abandoned and the connection closed; later bytes "
                  "are read as commands", g.host_got, g_req.host_len, (unsigned)g.data_idle_ms);
        else
            answer();
        return;
    }
    if (how != TM_AT_DATA_END_COUNT && !g.ended)
        failf(TM_E_PEER_CLOSED, "the host went away after %" PRIu64 " of the %" PRIu64 " body bytes",
              g.host_got, g_req.host_len);
    if (g.ended) {
        answer();
        return;
    }
    pump_body();
}

/* ---- start ------------------------------------------------------------------------ */

static void eh_idle(void *arg)
{
    (void)arg;
    if (g.live && g.http && tm_at_out_room(g.at) >= g_req.chunk + FRAME_OVH + 256)
        tm_http_resume(g.http);
}

static const char *prefix_of(eh_kind k)
{
    switch (k) {
    case EH_CLIENT:  return "+HTTPCLIENT";
    case EH_GETSIZE: return "+HTTPGETSIZE";
    case EH_CGET:    return "+HTTPCGET";
    case EH_CPOST:   return "+HTTPCPOST";
    case EH_CPUT:    return "+HTTPCPUT";
    }
    return "+HTTP";
}

tm_err eh_run(tm_at *at, esp_state *s)
{
    tm_reason *why = tm_at_reason(at);
    eh_request *rq = &g_req;
    if (!esp_wifi_has_ip(s)) {              /* as the module, and as the links (sock.c) */
        esp_err_ext(s, 0x7000);
        return tm_fail(why, TM_E_STATE, "no IP address: the station is not connected to an access point "
                       "(AT+CWJAP=\"<ssid>\",\"<password>\" first, then wait for WIFI GOT IP)");
    }
    if (!g.http) {
        g.http = malloc(tm_http_sizeof());
        if (!g.http)
            return tm_fail(why, TM_E_NO_MEMORY, "no memory for the HTTP client");
        tm_http_init(g.http, &EV, NULL);
    }
    bool host_body = rq->kind == EH_CPOST || rq->kind == EH_CPUT;
    if (host_body && !g.hbuf && !(g.hbuf = malloc(HOST_BUF)))
        return tm_fail(why, TM_E_NO_MEMORY, "no memory for the request body buffer");
    g.at = at;
    g.s = s;
    g.prefix = prefix_of(rq->kind);
    g.status = 0;
    g.body_bytes = 0;
    g.ended = false;
    g.result = TM_OK;
    tm_reason_clear(&g.fail);
    g.errcode = 0;
    g.data_mode = false;
    g.host_got = 0;
    g.hlen = 0;
    g.body_wanted = g.body_ended = false;
    g.body_off = 0;
    g.t0 = tm_port_mono_ms();

    tm_http_request req;
    memset(&req, 0, sizeof req);
    memcpy(req.conn.host, rq->url.host, sizeof req.conn.host);     /* same size, NUL-terminated */
    req.conn.port = rq->url.port;
    req.conn.use_tls = rq->url.tls;
    tm_err e;
    if (rq->url.tls && (e = esp_ssl_tls_config(s, ESP_LINK_HTTP, rq->url.host, &g.hold, &req.conn.tls, why)))
        return e;
    req.conn.tls.load_hint = ESP_LOAD_ROOT_HINT;
    req.method = rq->method;
    req.uri = rq->url.uri;
    req.user_headers = rq->headers_len ? rq->headers : NULL;
    uint64_t blen = host_body ? rq->host_len : rq->body_len;
    req.body_mode = rq->has_body && blen ? TM_HTTP_BODY_LENGTH : TM_HTTP_BODY_NONE;
    req.body_length = blen;
    req.response_timeout_ms = req.idle_timeout_ms = rq->timeout_ms;
    tm_http_init(g.http, &EV, NULL);
    e = tm_http_start(g.http, &req, why);
    if (e) {
        esp_tls_hold_free(&g.hold);
        return e;
    }
    g.live = true;
    g.running = true;
    char t[TM_HOST_MAX + TM_HTTP_URI_MAX + 32];
    tm_trace("esp", "%s: %s %s%s", g.prefix + 1, rq->method, target(t, sizeof t),
             host_body ? "" : rq->body_len ? " (body from the command)" : "");
    if (!g.idle_hooked) {
        tm_port_on_idle(eh_idle, NULL);
        g.idle_hooked = true;
    }
    if (host_body) {
        g.data_mode = true;
        g.data_idle_ms = tm_net_idle_ms_or_0();
        eh_prompt(at);
        tm_at_data_in spec = {
            .count = (size_t)rq->host_len,
            .on_data = cp_data,
            .on_end = cp_end,
            .room = cp_room,          /* 0 while the server is slow: the host is held, not silent */
            .idle_ms = g.data_idle_ms,
        };
        tm_at_data_in_start(at, &spec);
    }
    return TM_AT_PENDING;
}

bool esp_http_net_lost(esp_state *s, const tm_reason *why)
{
    (void)s;
    if (!g.running || g.ended)
        return false;
    tm_trace("esp", "HTTP request cut: %s", why->detail);
    finish(why->code ? why->code : TM_E_NET, why);
    return true;
}

void eh_stop(void)
{
    if (g.data_mode && g.at)
        tm_at_data_in_stop(g.at);
    g.data_mode = false;
    release();
    g.running = false;
    free(g.http);
    g.http = NULL;
    free(g.hbuf);
    g.hbuf = NULL;
}
