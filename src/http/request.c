/* HTTP request side: user header checks, header lookup, request head. */
#include "http/http.h"
#include "store/certfmt.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static bool tchar(unsigned char c)
{
    return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* A line shown in a message: at most 60 bytes, quotes kept readable. */
static void show_line(char *dst, size_t cap, const char *s, size_t n)
{
    size_t o = 0, lim = 60;
    for (size_t i = 0; i < n && i < lim && o + 5 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            o += (size_t)snprintf(dst + o, cap - o, "\\x%02x", c);
        else
            dst[o++] = (char)c;
    }
    if (n > lim && o + 4 < cap) {
        memcpy(dst + o, "…", 3);
        o += 3;
    }
    dst[o] = '\0';
}

tm_err tm_http_check_headers(const char *in, size_t len, char *normalized, size_t cap,
                             size_t *out_len, tm_reason *why)
{
    size_t o = 0;
    if (out_len)
        *out_len = 0;
    if (normalized && cap)
        normalized[0] = '\0';
    if (!in)
        len = 0;
    /* Trailing line ends (and empty lines) are dropped: they would end the head early. */
    while (len && (in[len - 1] == '\n' || in[len - 1] == '\r'))
        len--;
    size_t pos = 0;
    int line_no = 0;
    char shown[256];
    while (pos < len) {
        const char *line = in + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        pos += n + (nl ? 1 : 0);
        line_no++;
        if (n && line[n - 1] == '\r')
            n--;
        show_line(shown, sizeof shown, line, n);
        if (n == 0)
            return tm_fail(why, TM_E_HTTP_HEADER_SYNTAX,
                           "line %d is empty; an empty line would end the headers, remove it", line_no);
        if (line[0] == ' ' || line[0] == '\t')
            return tm_fail(why, TM_E_HTTP_HEADER_SYNTAX,
                           "line %d \"%s\" starts with white space (obsolete line folding); put the value "
                           "on one line with its header", line_no, shown);
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)line[i];
            if ((c < 0x20 && c != '\t') || c == 0x7f)
                return tm_fail(why, TM_E_HTTP_HEADER_SYNTAX,
                               "line %d \"%s\" has the control byte 0x%02x at column %zu",
                               line_no, shown, c, i + 1);
        }
        const char *colon = memchr(line, ':', n);
        if (!colon)
            return tm_fail(why, TM_E_HTTP_HEADER_SYNTAX,
                           "line %d \"%s\" has no colon; header lines are \"Name: value\"", line_no, shown);
        size_t nl_name = (size_t)(colon - line);
        if (nl_name == 0)
            return tm_fail(why, TM_E_HTTP_HEADER_SYNTAX, "line %d \"%s\" has no header name before the colon",
                           line_no, shown);
        if (line[nl_name - 1] == ' ' || line[nl_name - 1] == '\t') {
            size_t nn = nl_name;
            while (nn && (line[nn - 1] == ' ' || line[nn - 1] == '\t'))
                nn--;
            const char *v = colon + 1;
            size_t vl = n - nl_name - 1;
            while (vl && (*v == ' ' || *v == '\t'))
                v++, vl--;
            char fix[256];
            char fixed_line[512];
            snprintf(fixed_line, sizeof fixed_line, "%.*s: %.*s", (int)nn, line, (int)vl, v);
            show_line(fix, sizeof fix, fixed_line, strlen(fixed_line));
            return tm_fail(why, TM_E_HTTP_HEADER_SYNTAX,
                           "line %d \"%s\" has a space before the colon; send \"%s\"", line_no, shown, fix);
        }
        for (size_t i = 0; i < nl_name; i++)
            if (!tchar((unsigned char)line[i]))
                return tm_fail(why, TM_E_HTTP_HEADER_SYNTAX,
                               "line %d \"%s\": the header name has the character '%c', which names "
                               "may not contain", line_no, shown, line[i]);
        if (normalized) {
            if (o + n + 2 >= cap)
                return tm_fail(why, TM_E_TOO_LARGE, "the header lines exceed %zu bytes", cap ? cap - 1 : 0);
            memcpy(normalized + o, line, n);
            o += n;
            normalized[o++] = '\r';
            normalized[o++] = '\n';
            normalized[o] = '\0';
        } else {
            o += n + 2;
        }
    }
    if (out_len)
        *out_len = o;
    return TM_OK;
}

/* Value of the first "name:" line (case-insensitive), OWS trimmed. */
static bool find_header(const char *h, size_t len, const char *name, const char **val, size_t *vlen)
{
    size_t nl_ = strlen(name);
    size_t pos = 0;
    while (pos < len) {
        const char *line = h + pos;
        const char *e = memchr(line, '\n', len - pos);
        size_t n = e ? (size_t)(e - line) : len - pos;
        pos += n + (e ? 1 : 0);
        if (n && line[n - 1] == '\r')
            n--;
        if (n > nl_ && line[nl_] == ':' && strncasecmp(line, name, nl_) == 0) {
            const char *v = line + nl_ + 1;
            size_t vl = n - nl_ - 1;
            while (vl && (*v == ' ' || *v == '\t'))
                v++, vl--;
            while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
                vl--;
            *val = v;
            *vlen = vl;
            return true;
        }
    }
    return false;
}

bool tm_http_header_value(const char *headers, const char *name, char *val, size_t cap)
{
    const char *v;
    size_t vl;
    if (!headers || !name)
        return false;
    if (!find_header(headers, strlen(headers), name, &v, &vl))
        return false;
    if (cap) {
        size_t n = vl < cap - 1 ? vl : cap - 1;
        memcpy(val, v, n);
        val[n] = '\0';
    }
    return true;
}

static bool put(char *out, size_t cap, size_t *o, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static bool put(char *out, size_t cap, size_t *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out + *o, cap - *o, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap - *o)
        return false;
    *o += (size_t)n;
    return true;
}

static bool parse_u64(const char *s, size_t n, uint64_t *v)
{
    uint64_t x = 0;
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        if (x > (UINT64_MAX - 9) / 10)
            return false;
        x = x * 10 + (uint64_t)(s[i] - '0');
    }
    *v = x;
    return true;
}

tm_err tm_http_build_head(const tm_http_request *req, char *out, size_t cap, size_t *out_len,
                          uint64_t *body_len, tm_reason *why)
{
    static char user[TM_HTTP_HEADER_MAX + 1];   /* single-threaded core */
    size_t ul = 0, o = 0;
    if (out_len)
        *out_len = 0;
    const char *method = req->method && *req->method ? req->method : "GET";
    for (const char *c = method; *c; c++)
        if (!tchar((unsigned char)*c))
            return tm_fail(why, TM_E_ARG_BAD, "method \"%s\" is not an HTTP token", method);
    const char *uri = req->uri && *req->uri ? req->uri : "/";
    size_t uri_len = strlen(uri);
    if (uri_len > TM_HTTP_URI_MAX)
        return tm_fail(why, TM_E_ARG_BAD, "the URI is %zu bytes, the limit is %d", uri_len, TM_HTTP_URI_MAX);
    for (size_t i = 0; i < uri_len; i++) {
        unsigned char c = (unsigned char)uri[i];
        if (c <= 0x20 || c == 0x7f)
            return tm_fail(why, TM_E_ARG_BAD, "the URI has %s at position %zu; encode it as %%%02X",
                           c == ' ' ? "a space" : "a control byte", i + 1, c);
    }
    const char *uh = req->user_headers ? req->user_headers : "";
    tm_err e = tm_http_check_headers(uh, strlen(uh), user, sizeof user, &ul, why);
    if (e)
        return e;

    if (!put(out, cap, &o, "%s %s HTTP/1.1\r\n", method, uri))
        goto too_large;
    const char *v;
    size_t vl;
    if (!find_header(user, ul, "Host", &v, &vl)) {
        const char *host = req->conn.host;
        bool v6 = strchr(host, ':') != NULL;
        uint16_t def = req->conn.use_tls ? 443 : 80;
        if (!put(out, cap, &o, "Host: %s%s%s", v6 ? "[" : "", host, v6 ? "]" : ""))
            goto too_large;
        if (req->conn.port && req->conn.port != def && !put(out, cap, &o, ":%u", (unsigned)req->conn.port))
            goto too_large;
        if (!put(out, cap, &o, "\r\n"))
            goto too_large;
    }
    if (ul) {
        if (ul >= cap - o)
            goto too_large;
        memcpy(out + o, user, ul);
        o += ul;
    }
    if (req->basic_user && !find_header(user, ul, "Authorization", &v, &vl)) {
        char cred[512], b64[700];
        int cn = snprintf(cred, sizeof cred, "%s:%s", req->basic_user, req->basic_pass ? req->basic_pass : "");
        if (cn < 0 || (size_t)cn >= sizeof cred)
            return tm_fail(why, TM_E_ARG_BAD, "the basic-auth user name and password are too long");
        if (!tm_base64_encode((const uint8_t *)cred, (size_t)cn, b64, sizeof b64, 0) ||
            !put(out, cap, &o, "Authorization: Basic %s\r\n", b64))
            goto too_large;
    }
    bool has_cl = find_header(user, ul, "Content-Length", &v, &vl);
    uint64_t user_cl = 0;
    if (has_cl && !parse_u64(v, vl, &user_cl))
        return tm_fail(why, TM_E_HTTP_HEADER_SYNTAX, "Content-Length \"%.*s\" is not a number of bytes",
                       (int)(vl < 40 ? vl : 40), v);
    bool has_te = find_header(user, ul, "Transfer-Encoding", &v, &vl);
    uint64_t expect = req->body_length;
    switch (req->body_mode) {
    case TM_HTTP_BODY_LENGTH:
        if (has_te)
            return tm_fail(why, TM_E_HTTP_HEADER_SYNTAX,
                           "the headers say Transfer-Encoding but the body is sent with a length");
        if (has_cl) {
            if (req->body_length && user_cl != req->body_length)
                return tm_fail(why, TM_E_HTTP_BODY_LENGTH, "the headers say Content-Length: %" PRIu64
                               " but the body is %" PRIu64 " bytes", user_cl, req->body_length);
            expect = user_cl;
        } else if (!put(out, cap, &o, "Content-Length: %" PRIu64 "\r\n", req->body_length)) {
            goto too_large;
        }
        break;
    case TM_HTTP_BODY_CHUNKED:
        if (has_cl)
            return tm_fail(why, TM_E_HTTP_HEADER_SYNTAX,
                           "the headers say Content-Length but the body is sent chunked; remove Content-Length");
        if (!has_te && !put(out, cap, &o, "Transfer-Encoding: chunked\r\n"))
            goto too_large;
        break;
    case TM_HTTP_BODY_NONE:
        if (!has_cl && !has_te && (!strcmp(method, "POST") || !strcmp(method, "PUT") || !strcmp(method, "PATCH")) &&
            !put(out, cap, &o, "Content-Length: 0\r\n"))
            goto too_large;
        expect = 0;
        break;
    case TM_HTTP_BODY_RAW:
        break;
    }
    if (!put(out, cap, &o, "\r\n"))
        goto too_large;
    if (out_len)
        *out_len = o;
    if (body_len)
        *body_len = expect;
    return TM_OK;
too_large:
    return tm_fail(why, TM_E_TOO_LARGE, "the request head does not fit in %zu bytes", cap);
}
