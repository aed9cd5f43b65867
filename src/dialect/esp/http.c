/* tlsmodem — ESP-AT dialect: the HTTP client commands (docs/esp.md §6).
 *
 *   AT+HTTPCLIENT=<opt>,<content-type>,"<url>",["<host>"],["<path>"],<transport>[,"<data>"][,"<hdr>"...]
 *   AT+HTTPGETSIZE="<url>"[,<tx size>][,<rx size>][,<timeout>]
 *   AT+HTTPCGET="<url>"[,<tx size>][,<rx size>][,<timeout>]
 *   AT+HTTPCPOST / AT+HTTPCPUT="<url>",<length>[,<hdr count>,"<hdr>"...]
 *   AT+HTTPURLCFG=<len> (> url bytes, SET OK) | ?      AT+HTTPCHEAD=<len> (> one header, OK) | =0 | ?
 *
 * This file: arguments, the URL to use ("" = the AT+HTTPURLCFG one), the
 * request headers (defaults, the command's, then the AT+HTTPCHEAD ones, a
 * later line replacing an earlier one of the same name), the two settings
 * typed after '>'.  http_run.c runs the request and frames the answer.
 *
 * Trust of https:// URLs: esp_ssl_tls_config(ESP_LINK_HTTP) (ssl.c) — the
 * CAs loaded with AT+SYSMFG into client_ca, else the default bundle; the
 * name checked is the URL's host, SNI = that host.  Never unverified. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/trace.h"
#include "dialect/esp/http_internal.h"
#include "net/net.h"
#include "port/port.h"

#define URLCFG_MAX   8192
#define CHEAD_MAX    2048          /* one AT+HTTPCHEAD header */
#define CHEAD_TOTAL  4096          /* all of them: the merged head must fit TM_HTTP_HEADER_MAX */

static char   g_url[URLCFG_MAX + 1];        /* AT+HTTPURLCFG */
static size_t g_url_len;
static char   g_heads[CHEAD_TOTAL + 1];     /* AT+HTTPCHEAD lines, "Name: value\r\n" each */
static size_t g_heads_len;

/* ---- header lists ------------------------------------------------------------------ */

static size_t name_len(const char *line, size_t n)
{
    const char *c = memchr(line, ':', n);
    return c ? (size_t)(c - line) : n;
}

/* Appends one "Name: value" line (no CR LF) to a CRLF list, first removing
 * a line of the same name (case-insensitive): the later one wins. */
static bool hdr_put(char *buf, size_t *len, size_t cap, const char *line, size_t n)
{
    size_t nl = name_len(line, n);
    size_t pos = 0;
    while (pos < *len) {
        char *l = buf + pos;
        char *e = memchr(l, '\n', *len - pos);
        size_t ll = e ? (size_t)(e - l) + 1 : *len - pos;
        size_t ln = name_len(l, ll);
        if (ln == nl && strncasecmp(l, line, nl) == 0) {
            memmove(l, l + ll, *len - pos - ll);
            *len -= ll;
            continue;
        }
        pos += ll;
    }
    if (*len + n + 3 > cap)
        return false;
    memcpy(buf + *len, line, n);
    memcpy(buf + *len + n, "\r\n", 3);
    *len += n + 2;
    return true;
}

static tm_err add_header(tm_at *at, eh_request *rq, const char *line, size_t n, int idx)
{
    if (!hdr_put(rq->headers, &rq->headers_len, sizeof rq->headers, line, n)) {
        tm_reason_clear(tm_at_reason(at));
        tm_at_reason(at)->arg_index = idx;
        return tm_fail(tm_at_reason(at), TM_E_TOO_LARGE, "the request headers exceed %d bytes",
                       TM_HTTP_HEADER_MAX);
    }
    return TM_OK;
}

/* A header from a command argument: one line, checked now so the reason
 * names the argument. */
static tm_err header_arg(tm_at *at, const tm_at_args *a, int idx, eh_request *rq)
{
    const tm_at_arg *v = &a->v[idx - 1];
    tm_reason *why = tm_at_reason(at);
    tm_err e = tm_http_check_headers(v->p, v->len, NULL, 0, NULL, why);
    if (!e && (memchr(v->p, '\n', v->len) || v->len == 0))
        e = tm_fail(why, TM_E_HTTP_HEADER_SYNTAX, "one \"Name: value\" header per argument");
    if (e) {
        char d[TM_DETAIL_MAX];
        snprintf(d, sizeof d, "%s", why->detail);
        why->arg_index = idx;
        return tm_fail(why, e, "argument %d (http_req_header): %.900s", idx, d);
    }
    return add_header(at, rq, v->p, v->len, idx);
}

/* Defaults first (the module's User-Agent and the content type), the
 * command's headers later, the AT+HTTPCHEAD ones last (they win). */
static tm_err headers_begin(tm_at *at, eh_request *rq, const char *content_type)
{
    char ua[64];
    rq->headers_len = 0;
    rq->headers[0] = '\0';
    snprintf(ua, sizeof ua, "User-Agent: %s HTTP Client/1.0",
             esp_get(at)->chip == ESP_CHIP_ESP8266 ? "ESP8266" : "ESP32");
    tm_err e = add_header(at, rq, ua, strlen(ua), 0);
    if (!e && content_type) {
        char ct[96];
        snprintf(ct, sizeof ct, "Content-Type: %s", content_type);
        e = add_header(at, rq, ct, strlen(ct), 0);
    }
    return e;
}

static tm_err headers_end(tm_at *at, eh_request *rq)
{
    size_t pos = 0;
    while (pos < g_heads_len) {
        const char *l = g_heads + pos;
        const char *e = memchr(l, '\n', g_heads_len - pos);
        size_t ll = (size_t)(e - l) + 1;
        tm_err r = add_header(at, rq, l, ll - 2, 0);
        if (r)
            return r;
        pos += ll;
    }
    return TM_OK;
}

static void rq_reset(eh_request *rq)
{
    rq->method = NULL;
    memset(&rq->url, 0, sizeof rq->url);
    rq->headers_len = 0;
    rq->headers[0] = '\0';
    rq->body_len = 0;
    rq->has_body = false;
    rq->host_len = 0;
    rq->chunk = EH_CHUNK_CLIENT;
    rq->timeout_ms = 0;
}

/* ---- the URL ---------------------------------------------------------------------- */

/* Argument idx: a URL, or "" for the AT+HTTPURLCFG one. */
static tm_err url_arg(tm_at *at, const tm_at_args *a, int idx, eh_request *rq, bool *given)
{
    tm_reason *why = tm_at_reason(at);
    *given = !tm_at_omitted(a, idx);
    const char *u = *given ? a->v[idx - 1].p : g_url;
    size_t n = *given ? a->v[idx - 1].len : g_url_len;
    if (!*given && !g_url_len)
        return TM_E_ARG_MISSING;
    tm_err e = tm_http_url_parse(u, n, &rq->url, why);
    if (e) {
        char d[TM_DETAIL_MAX];
        snprintf(d, sizeof d, "%s", why->detail);
        why->arg_index = *given ? idx : 0;
        if (*given)
            return tm_fail(why, e, "argument %d (url): %.900s", idx, d);
        return tm_fail(why, e, "the URL set with AT+HTTPURLCFG: %.900s", d);
    }
    if (!*given)
        tm_trace("esp", "url \"\": the URL set with AT+HTTPURLCFG (%zu bytes)", g_url_len);
    return TM_OK;
}

/* ---- AT+HTTPCLIENT ------------------------------------------------------------------ */

static const char *const METHODS[] = { NULL, "HEAD", "GET", "POST", "PUT", "DELETE" };
static const char *const CTYPES[] = {
    "application/x-www-form-urlencoded", "application/json", "multipart/form-data", "text/xml",
};

static tm_err httpclient_set(tm_at *at, const tm_at_args *a)
{
    eh_request *rq = eh_slot();
    tm_reason *why = tm_at_reason(at);
    long opt, ctype, transport;
    tm_err e;
    if ((e = tm_at_get_int(at, a, 1, "opt", 1, 5, &opt)) ||
        (e = tm_at_get_int(at, a, 2, "content-type", 0, 3, &ctype)) ||
        (e = tm_at_opt_int(at, a, 6, "transport_type", 1, 2, 1, &transport)))
        return e;
    rq_reset(rq);
    rq->kind = EH_CLIENT;
    rq->method = METHODS[opt];
    rq->chunk = EH_CHUNK_CLIENT;
    bool given;
    e = url_arg(at, a, 3, rq, &given);
    if (e == TM_E_ARG_MISSING) {
        /* no URL: "<host>" and "<path>" with the transport's scheme */
        char host[TM_HOST_MAX], path[TM_HTTP_URI_MAX], url[TM_HOST_MAX + TM_HTTP_URI_MAX + 16];
        if (tm_at_omitted(a, 4)) {
            why->arg_index = 3;
            return tm_fail(why, TM_E_ARG_MISSING, "argument 3 (url) is empty, no URL was set with "
                           "AT+HTTPURLCFG and argument 4 (host) is empty: give a URL (\"http://host/path\")");
        }
        if ((e = tm_at_get_host(at, a, 4, "host", host, sizeof host)) ||
            (e = tm_at_opt_str(at, a, 5, "path", path, sizeof path, "/")))
            return e;
        snprintf(url, sizeof url, "%s://%s%s%s%s", transport == 2 ? "https" : "http",
                 strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "", path[0] == '/' ? path : "/");
        if (path[0] != '/')
            snprintf(url + strlen(url), sizeof url - strlen(url), "%s", path);
        if ((e = tm_http_url_parse(url, strlen(url), &rq->url, why))) {
            why->arg_index = 5;
            return e;
        }
    } else if (e) {
        return e;
    } else if (rq->url.tls != (transport == 2)) {
        tm_trace("esp", "HTTPCLIENT: the URL's scheme (%s) decides, not transport_type %ld",
                 rq->url.tls ? "https" : "http", transport);
    }
    int first_hdr = 7;
    if (opt == 3) {                     /* POST: argument 7 is the body */
        rq->has_body = true;
        first_hdr = 8;
        if (!tm_at_omitted(a, 7)) {
            memcpy(rq->body, a->v[6].p, a->v[6].len);
            rq->body_len = a->v[6].len;
        }
    } else if (opt == 4) {
        rq->has_body = true;            /* PUT without data: Content-Length: 0, as the module */
    }
    if ((e = headers_begin(at, rq, CTYPES[ctype])))
        return e;
    for (int i = first_hdr; i <= a->count; i++)
        if (!tm_at_omitted(a, i) && (e = header_arg(at, a, i, rq)))
            return e;
    if ((e = headers_end(at, rq)))
        return e;
    return eh_run(at, esp_get(at));
}

/* ---- AT+HTTPGETSIZE, AT+HTTPCGET --------------------------------------------------------- */

static tm_err get_common(tm_at *at, const tm_at_args *a, eh_kind kind)
{
    eh_request *rq = eh_slot();
    long tx, rx, timeout;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 4)) ||
        (e = tm_at_opt_int(at, a, 2, "tx size", 0, 10240, 2048, &tx)) ||
        (e = tm_at_opt_int(at, a, 3, "rx size", 0, 10240, 2048, &rx)) ||
        (e = tm_at_opt_int(at, a, 4, "timeout", 0, 180000, 0, &timeout)))
        return e;
    rq_reset(rq);
    rq->kind = kind;
    rq->method = "GET";
    rq->chunk = rx ? (size_t)rx : EH_CHUNK_CGET;
    rq->timeout_ms = (uint32_t)timeout;     /* 0: the shared defaults (--timeout-*) */
    bool given;
    e = url_arg(at, a, 1, rq, &given);
    if (e == TM_E_ARG_MISSING) {
        tm_at_reason(at)->arg_index = 1;
        return tm_fail(tm_at_reason(at), e, "argument 1 (url) is empty and no URL was set with AT+HTTPURLCFG");
    }
    if (e || (e = headers_begin(at, rq, NULL)) || (e = headers_end(at, rq)))
        return e;
    return eh_run(at, esp_get(at));
}

static tm_err httpgetsize_set(tm_at *at, const tm_at_args *a) { return get_common(at, a, EH_GETSIZE); }
static tm_err httpcget_set(tm_at *at, const tm_at_args *a)    { return get_common(at, a, EH_CGET); }

/* ---- AT+HTTPCPOST, AT+HTTPCPUT ------------------------------------------------------------ */

static tm_err send_common(tm_at *at, const tm_at_args *a, eh_kind kind)
{
    eh_request *rq = eh_slot();
    tm_reason *why = tm_at_reason(at);
    long len, cnt;
    tm_err e;
    if ((e = tm_at_get_int(at, a, 2, "length", 1, 0x7fffffffL, &len)) ||
        (e = tm_at_opt_int(at, a, 3, "http_req_header_cnt", 0, TM_AT_ARGS_MAX - 3, 0, &cnt)))
        return e;
    int given_hdrs = a->count > 3 ? a->count - 3 : 0;
    if (given_hdrs != cnt) {
        why->arg_index = 3;
        return tm_fail(why, TM_E_ARG_BAD, "argument 3 (http_req_header_cnt) is %ld but %d header argument%s "
                       "follow%s", cnt, given_hdrs, given_hdrs == 1 ? "" : "s", given_hdrs == 1 ? "s" : "");
    }
    rq_reset(rq);
    rq->kind = kind;
    rq->method = kind == EH_CPOST ? "POST" : "PUT";
    rq->chunk = EH_CHUNK_CLIENT;
    rq->has_body = true;
    rq->host_len = (uint64_t)len;
    bool given;
    e = url_arg(at, a, 1, rq, &given);
    if (e == TM_E_ARG_MISSING) {
        why->arg_index = 1;
        return tm_fail(why, e, "argument 1 (url) is empty and no URL was set with AT+HTTPURLCFG");
    }
    if (e || (e = headers_begin(at, rq, CTYPES[0])))
        return e;
    for (int i = 4; i <= a->count; i++)
        if ((e = header_arg(at, a, i, rq)))
            return e;
    if ((e = headers_end(at, rq)))
        return e;
    return eh_run(at, esp_get(at));
}

static tm_err httpcpost_set(tm_at *at, const tm_at_args *a) { return send_common(at, a, EH_CPOST); }
static tm_err httpcput_set(tm_at *at, const tm_at_args *a)  { return send_common(at, a, EH_CPUT); }

/* ---- what the host types after '>' (AT+HTTPURLCFG, AT+HTTPCHEAD) ---------------------------- */

typedef enum { COL_URL, COL_HEAD } col_what;

static struct {
    tm_at   *at;
    col_what what;
    char     buf[URLCFG_MAX + 1];
    size_t   len, want;
    uint32_t idle_ms;        /* --timeout-idle, the data mode's idle_ms */
} g_col;

static void col_data(void *arg, const uint8_t *p, size_t n)
{
    (void)arg;
    size_t room = g_col.want - g_col.len;
    if (n > room)
        n = room;
    memcpy(g_col.buf + g_col.len, p, n);
    g_col.len += n;
}

static tm_err col_commit(tm_at *at)
{
    tm_reason *why = tm_at_reason(at);
    g_col.buf[g_col.len] = '\0';
    if (g_col.what == COL_URL) {
        tm_http_url u;
        tm_err e = tm_http_url_parse(g_col.buf, g_col.len, &u, why);
        if (e) {
            char d[TM_DETAIL_MAX];
            snprintf(d, sizeof d, "%s", why->detail);
            return tm_fail(why, e, "AT+HTTPURLCFG: %.900s; the URL set before is kept", d);
        }
        memcpy(g_url, g_col.buf, g_col.len + 1);
        g_url_len = g_col.len;
        tm_trace("esp", "HTTPURLCFG: %zu bytes, %s://%s:%u, path of %zu bytes", g_url_len,
                 u.tls ? "https" : "http", u.host, (unsigned)u.port, strlen(u.uri));
        return TM_OK;
    }
    size_t n = g_col.len;
    while (n && (g_col.buf[n - 1] == '\n' || g_col.buf[n - 1] == '\r'))
        n--;                                 /* "no need to end with \r\n": tolerated when sent */
    tm_err e = tm_http_check_headers(g_col.buf, n, NULL, 0, NULL, why);
    if (!e && (n == 0 || memchr(g_col.buf, '\n', n)))
        e = tm_fail(why, TM_E_HTTP_HEADER_SYNTAX, "%s", n ? "more than one line: AT+HTTPCHEAD takes one "
                    "\"Name: value\" header per command" : "the header is empty");
    if (e) {
        char d[TM_DETAIL_MAX];
        snprintf(d, sizeof d, "%s", why->detail);
        return tm_fail(why, e, "AT+HTTPCHEAD: %.900s; nothing was added", d);
    }
    if (!hdr_put(g_heads, &g_heads_len, sizeof g_heads, g_col.buf, n))
        return tm_fail(why, TM_E_TOO_LARGE, "AT+HTTPCHEAD: the headers set would exceed %d bytes; clear them "
                       "with AT+HTTPCHEAD=0", CHEAD_TOTAL);
    tm_trace("esp", "HTTPCHEAD: \"%.*s\" is sent with every HTTP command", (int)n, g_col.buf);
    return TM_OK;
}

static void col_end(void *arg, tm_at_data_end how, size_t total)
{
    (void)arg;
    (void)total;
    tm_at *at = g_col.at;
    if (how == TM_AT_DATA_END_IDLE) {
        tm_at_complete(at, tm_fail(tm_at_reason(at), TM_E_TIMEOUT, "%s: %zu of the %zu bytes announced came, "
                                   "then nothing for %u ms (--timeout-idle); nothing was set, later bytes are "
                                   "read as commands", g_col.what == COL_URL ? "AT+HTTPURLCFG" : "AT+HTTPCHEAD",
                                   g_col.len, g_col.want, (unsigned)g_col.idle_ms));
        return;
    }
    if (how != TM_AT_DATA_END_COUNT) {
        tm_at_complete_silent(at);
        return;
    }
    tm_err e = col_commit(at);
    if (!e && g_col.what == COL_URL) {
        tm_at_printf(at, "\r\nSET OK\r\n");
        tm_at_complete_silent(at);
        return;
    }
    tm_at_complete(at, e);
}

static tm_err collect(tm_at *at, col_what what, size_t want)
{
    g_col.at = at;
    g_col.what = what;
    g_col.len = 0;
    g_col.want = want;
    g_col.idle_ms = tm_net_idle_ms_or_0();
    eh_prompt(at);
    tm_at_data_in spec = { .count = want, .on_data = col_data, .on_end = col_end, .idle_ms = g_col.idle_ms };
    tm_at_data_in_start(at, &spec);
    return TM_AT_PENDING;
}

static tm_err httpurlcfg_set(tm_at *at, const tm_at_args *a)
{
    long len;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 1)) || (e = tm_at_get_int(at, a, 1, "url length", 0, URLCFG_MAX, &len)))
        return e;
    if (len == 0) {
        g_url_len = 0;
        g_url[0] = '\0';
        return TM_OK;
    }
    if (len < 8) {
        tm_at_reason(at)->arg_index = 1;
        return tm_fail(tm_at_reason(at), TM_E_ARG_RANGE, "argument 1 (url length) is %ld; 0 clears the URL, "
                       "8..%d sets one (\"http://a\" is the shortest)", len, URLCFG_MAX);
    }
    return collect(at, COL_URL, (size_t)len);
}

static tm_err httpurlcfg_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    if (g_url_len) {
        tm_at_printf(at, "+HTTPURLCFG:%zu,", g_url_len);
        tm_at_write(at, g_url, g_url_len);
        tm_at_write(at, "\r\n", 2);
    }
    return TM_OK;
}

static tm_err httpchead_set(tm_at *at, const tm_at_args *a)
{
    long len;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 1)) || (e = tm_at_get_int(at, a, 1, "req_header_len", 0, CHEAD_MAX, &len)))
        return e;
    if (len == 0) {
        g_heads_len = 0;
        g_heads[0] = '\0';
        tm_trace("esp", "HTTPCHEAD: every header set was cleared");
        return TM_OK;
    }
    return collect(at, COL_HEAD, (size_t)len);
}

static tm_err httpchead_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    size_t pos = 0;
    int i = 0;
    while (pos < g_heads_len) {
        const char *l = g_heads + pos;
        const char *e = memchr(l, '\n', g_heads_len - pos);
        size_t ll = (size_t)(e - l) + 1;
        tm_at_line(at, "+HTTPCHEAD:%d,\"%.*s\"", i++, (int)(ll - 2), l);
        pos += ll;
    }
    return TM_OK;
}

/* ---- table, life cycle -------------------------------------------------------------------- */

const tm_at_cmd esp_http_table[] = {
    { "+HTTPCLIENT",  NULL, NULL,            httpclient_set,  NULL, NULL },
    { "+HTTPGETSIZE", NULL, NULL,            httpgetsize_set, NULL, NULL },
    { "+HTTPCGET",    NULL, NULL,            httpcget_set,    NULL, NULL },
    { "+HTTPCPOST",   NULL, NULL,            httpcpost_set,   NULL, NULL },
    { "+HTTPCPUT",    NULL, NULL,            httpcput_set,    NULL, NULL },
    { "+HTTPURLCFG",  NULL, httpurlcfg_read, httpurlcfg_set,  NULL, NULL },
    { "+HTTPCHEAD",   NULL, httpchead_read,  httpchead_set,   NULL, NULL },
    { NULL, NULL, NULL, NULL, NULL, NULL },
};

/* AT+RST: the module forgets the URL and the headers (RAM only). */
void esp_http_reset(esp_state *s)
{
    (void)s;
    eh_stop();
    g_url_len = 0;
    g_url[0] = '\0';
    g_heads_len = 0;
    g_heads[0] = '\0';
}
