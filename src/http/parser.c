/* Incremental HTTP/1.x response parser (see http.h). */
#include "http/http.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

enum { P_HEAD, P_BODY_LEN, P_BODY_CLOSE, P_CHUNK_SIZE, P_CHUNK_DATA, P_CHUNK_CRLF, P_TRAILER, P_DONE, P_ERROR };

#define LEN_LIMIT ((uint64_t)1 << 62)

void tm_http_parser_init(tm_http_parser *p, bool head_request)
{
    memset(p, 0, sizeof *p);
    p->state = P_HEAD;
    p->head_request = head_request;
}

static tm_err perr(tm_http_parser *p, tm_reason *why, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static tm_err perr(tm_http_parser *p, tm_reason *why, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    p->state = P_ERROR;
    tm_vfail(why, TM_E_HTTP_PROTOCOL, fmt, ap);
    va_end(ap);
    return TM_E_HTTP_PROTOCOL;
}

static bool tchar(unsigned char c)
{
    return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static void show(char *dst, size_t cap, const char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n && i < 48 && o + 5 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x7f)
            o += (size_t)snprintf(dst + o, cap - o, "\\x%02x", c);
        else
            dst[o++] = (char)c;
    }
    dst[o] = '\0';
}

/* Does the comma-separated list v[0..n) contain token tok? Also reports the last element. */
static bool list_has(const char *v, size_t n, const char *tok, const char **last, size_t *last_len)
{
    bool found = false;
    size_t i = 0, tl = strlen(tok);
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t s = i;
        while (i < n && v[i] != ',')
            i++;
        size_t e = i;
        while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
            e--;
        if (e > s) {
            if (e - s == tl && strncasecmp(v + s, tok, tl) == 0)
                found = true;
            if (last) {
                *last = v + s;
                *last_len = e - s;
            }
        }
    }
    return found;
}

/* 0 = final response parsed, 1 = interim (skip), else error. */
static int process_head(tm_http_parser *p, tm_reason *why)
{
    char sh[256];
    const char *h = p->head;
    size_t len = p->head_len;
    p->head[len] = '\0';
    const char *eol = memchr(h, '\n', len);
    size_t sl = (size_t)(eol - h);
    if (sl && h[sl - 1] == '\r')
        sl--;
    show(sh, sizeof sh, h, sl);
    /* "HTTP/1.1 200 OK" */
    if (sl < 12 || memcmp(h, "HTTP/", 5) != 0 || !isdigit((unsigned char)h[5]) || h[6] != '.' ||
        !isdigit((unsigned char)h[7]) || h[8] != ' ' || !isdigit((unsigned char)h[9]) ||
        !isdigit((unsigned char)h[10]) || !isdigit((unsigned char)h[11]) || (sl > 12 && h[12] != ' ')) {
        perr(p, why, "the status line \"%s\" is not \"HTTP/1.x NNN reason\"", sh);
        return -1;
    }
    if (h[5] != '1') {
        perr(p, why, "the server answered with HTTP/%c.%c; tlsmodem speaks HTTP/1.x", h[5], h[7]);
        return -1;
    }
    p->version_minor = h[7] - '0';
    p->status = (h[9] - '0') * 100 + (h[10] - '0') * 10 + (h[11] - '0');
    if (p->status < 100) {
        perr(p, why, "the status code %03d in \"%s\" is not valid", p->status, sh);
        return -1;
    }
    size_t rl = sl > 13 ? sl - 13 : 0;
    if (rl >= sizeof p->reason_phrase)
        rl = sizeof p->reason_phrase - 1;
    memcpy(p->reason_phrase, h + (sl > 13 ? 13 : sl), rl);
    p->reason_phrase[rl] = '\0';

    bool conn_close = false, conn_ka = false, te_chunked = false, has_te = false;
    bool has_cl = false;
    uint64_t cl = 0;
    size_t pos = (size_t)(eol - h) + 1;
    int line_no = 1;
    while (pos < len) {
        const char *line = h + pos;
        const char *e = memchr(line, '\n', len - pos);
        size_t n = e ? (size_t)(e - line) : len - pos;
        pos += n + 1;
        line_no++;
        if (n && line[n - 1] == '\r')
            n--;
        if (n == 0)
            break;   /* the end of the head */
        show(sh, sizeof sh, line, n);
        if (line[0] == ' ' || line[0] == '\t')
            continue;   /* obs-fold continuation: ignored (RFC 7230 3.2.4) */
        const char *colon = memchr(line, ':', n);
        if (!colon || colon == line) {
            perr(p, why, "header line %d \"%s\" is not \"Name: value\"", line_no, sh);
            return -1;
        }
        size_t nl_ = (size_t)(colon - line);
        for (size_t i = 0; i < nl_; i++)
            if (!tchar((unsigned char)line[i])) {
                perr(p, why, "header line %d \"%s\" has a bad character in its name", line_no, sh);
                return -1;
            }
        const char *v = colon + 1;
        size_t vl = n - nl_ - 1;
        while (vl && (*v == ' ' || *v == '\t'))
            v++, vl--;
        while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
            vl--;
        if (nl_ == 14 && strncasecmp(line, "Content-Length", 14) == 0) {
            /* "5" or "5, 5": every element must be the same number */
            size_t i = 0;
            bool any = false;
            while (i <= vl) {
                size_t s = i;
                while (i < vl && v[i] != ',')
                    i++;
                size_t a = s, b = i;
                while (a < b && (v[a] == ' ' || v[a] == '\t')) a++;
                while (b > a && (v[b - 1] == ' ' || v[b - 1] == '\t')) b--;
                uint64_t x = 0;
                if (a == b) {
                    perr(p, why, "Content-Length \"%s\" is empty", sh);
                    return -1;
                }
                for (size_t k = a; k < b; k++) {
                    if (v[k] < '0' || v[k] > '9') {
                        perr(p, why, "Content-Length in \"%s\" is not a number of bytes", sh);
                        return -1;
                    }
                    /* Checked before multiplying: x * 10 + d must stay below
                     * LEN_LIMIT, so 18446744073709551621 (2^64 + 5) can
                     * never wrap around to 5. */
                    uint64_t d = (uint64_t)(v[k] - '0');
                    if (x > (LEN_LIMIT - 1 - d) / 10) {
                        perr(p, why, "Content-Length in \"%s\" is too large (the limit is 2^62 - 1 bytes)", sh);
                        return -1;
                    }
                    x = x * 10 + d;
                }
                if ((has_cl || any) && x != cl) {
                    perr(p, why, "conflicting Content-Length values %" PRIu64 " and %" PRIu64, cl, x);
                    return -1;
                }
                cl = x;
                any = true;
                i++;
            }
            has_cl = true;
        } else if (nl_ == 17 && strncasecmp(line, "Transfer-Encoding", 17) == 0) {
            const char *last = NULL;
            size_t ll = 0;
            list_has(v, vl, "chunked", &last, &ll);
            has_te = true;
            te_chunked = last && ll == 7 && strncasecmp(last, "chunked", 7) == 0;
        } else if (nl_ == 10 && strncasecmp(line, "Connection", 10) == 0) {
            if (list_has(v, vl, "close", NULL, NULL))
                conn_close = true;
            if (list_has(v, vl, "keep-alive", NULL, NULL))
                conn_ka = true;
        }
    }
    if (p->status >= 100 && p->status < 200 && p->status != 101)
        return 1;
    p->keep_alive = p->version_minor >= 1 ? !conn_close : (conn_ka && !conn_close);
    p->no_body = p->head_request || p->status == 204 || p->status == 304 || p->status == 101;
    if (p->status == 101)
        p->keep_alive = false;
    p->has_length = has_cl;
    p->content_length = cl;
    p->chunked = false;
    if (p->no_body) {
        p->state = P_DONE;
    } else if (has_te) {
        if (has_cl)
            p->keep_alive = false;   /* RFC 7230 3.3.3: TE overrides, do not reuse */
        p->has_length = false;
        if (te_chunked) {
            p->chunked = true;
            p->state = P_CHUNK_SIZE;
            p->line_len = 0;
            p->ext = false;
        } else {
            p->state = P_BODY_CLOSE;
            p->keep_alive = false;
        }
    } else if (has_cl) {
        p->remaining = cl;
        p->state = cl ? P_BODY_LEN : P_DONE;
    } else {
        p->state = P_BODY_CLOSE;
        p->keep_alive = false;
    }
    return 0;
}

/* Chunk-size line complete in p->line. */
static tm_err chunk_size(tm_http_parser *p, tm_reason *why)
{
    char sh[160];
    size_t n = p->line_len;
    if (n && p->line[n - 1] == '\r')
        n--;
    show(sh, sizeof sh, p->line, n);
    size_t i = 0;
    uint64_t v = 0;
    while (i < n && isxdigit((unsigned char)p->line[i])) {
        int c = (unsigned char)p->line[i];
        int d = isdigit(c) ? c - '0' : (tolower(c) - 'a' + 10);
        /* Checked before multiplying (no wrap-around): v * 16 + d < LEN_LIMIT. */
        if (v > (LEN_LIMIT - 1 - (uint64_t)d) / 16)
            return perr(p, why, "the chunk size \"%s\" is too large (the limit is 2^62 - 1 bytes)", sh);
        v = v * 16 + (uint64_t)d;
        i++;
    }
    if (i == 0)
        return perr(p, why, "the chunk size line \"%s\" does not start with a hexadecimal size", sh);
    while (i < n && (p->line[i] == ' ' || p->line[i] == '\t'))
        i++;
    if (i < n && p->line[i] != ';')
        return perr(p, why, "the chunk size line \"%s\" has junk after the size", sh);
    if (!p->ext)
        for (size_t k = i; k < n; k++)
            if ((unsigned char)p->line[k] < 0x20 && p->line[k] != '\t')
                return perr(p, why, "the chunk size line \"%s\" has a control byte", sh);
    p->line_len = 0;
    p->ext = false;
    if (v == 0) {
        p->state = P_TRAILER;
        p->trailer_len = 0;
        p->line_len = 0;
    } else {
        p->state = P_CHUNK_DATA;
        p->remaining = v;
    }
    return TM_OK;
}

uint64_t tm_http_parser_body_direct(const tm_http_parser *p)
{
    switch (p->state) {
    case P_BODY_LEN:
    case P_CHUNK_DATA:
        return p->remaining;
    case P_BODY_CLOSE:
        return UINT64_MAX;
    default:
        return 0;
    }
}

tm_err tm_http_parser_feed(tm_http_parser *p, const uint8_t *in, size_t len, size_t body_max,
                           size_t *used, bool *head_ready, bool *done,
                           void (*on_body)(void *arg, const uint8_t *p, size_t n), void *arg,
                           tm_reason *why)
{
    size_t i = 0, budget = body_max;
    tm_err err = TM_OK;
    *head_ready = false;
    *done = p->state == P_DONE;
    *used = 0;
    if (p->state == P_ERROR)
        return tm_fail(why, TM_E_HTTP_PROTOCOL, "the response was already found malformed");
    while (i < len && p->state != P_DONE) {
        switch (p->state) {
        case P_HEAD: {
            const uint8_t *nl = memchr(in + i, '\n', len - i);
            size_t take = nl ? (size_t)(nl - (in + i)) + 1 : len - i;
            if (p->head_len + take >= sizeof p->head) {
                err = perr(p, why, "the response head is larger than %d bytes", TM_HTTP_HEADER_MAX - 1);
                goto out;
            }
            memcpy(p->head + p->head_len, in + i, take);
            p->head_len += take;
            i += take;
            /* Catch a non-HTTP answer early (e.g. a TLS alert or an SMTP banner). */
            if (p->line_start == 0 && p->head_len >= 5 && memcmp(p->head, "HTTP/", 5) != 0 &&
                !(p->head[0] == '\r' || p->head[0] == '\n')) {
                char sh[160];
                show(sh, sizeof sh, p->head, p->head_len < 40 ? p->head_len : 40);
                err = perr(p, why, "the response does not start with \"HTTP/\": it starts with \"%s\"", sh);
                goto out;
            }
            if (!nl)
                break;
            size_t ll = p->head_len - p->line_start;   /* incl. LF */
            bool empty = ll == 1 || (ll == 2 && p->head[p->line_start] == '\r');
            if (!empty) {
                p->line_start = p->head_len;
                break;
            }
            if (p->line_start == 0) {   /* empty line before the status line: ignored */
                p->head_len = 0;
                break;
            }
            int r = process_head(p, why);
            if (r < 0) {
                err = TM_E_HTTP_PROTOCOL;
                goto out;
            }
            if (r == 1) {   /* interim 1xx: forget it, parse the next head */
                p->interim++;
                p->head_len = 0;
                p->line_start = 0;
                p->head[0] = '\0';
                p->status = 0;
                break;
            }
            *head_ready = true;
            goto out;
        }
        case P_BODY_LEN:
        case P_CHUNK_DATA:
        case P_BODY_CLOSE: {
            if (budget == 0)
                goto out;
            size_t n = len - i;
            if (n > budget)
                n = budget;
            if (p->state != P_BODY_CLOSE && (uint64_t)n > p->remaining)
                n = (size_t)p->remaining;
            if (on_body)
                on_body(arg, in + i, n);
            i += n;
            budget -= n;
            p->body_total += n;
            if (p->state != P_BODY_CLOSE) {
                p->remaining -= n;
                if (p->remaining == 0) {
                    if (p->state == P_BODY_LEN) {
                        p->state = P_DONE;
                    } else {
                        p->state = P_CHUNK_CRLF;
                        p->line_len = 0;
                    }
                }
            }
            break;
        }
        case P_CHUNK_CRLF: {
            uint8_t c = in[i++];
            if (c == '\r' && p->line_len == 0) {
                p->line_len = 1;
            } else if (c == '\n') {
                p->state = P_CHUNK_SIZE;
                p->line_len = 0;
                p->ext = false;
            } else {
                err = perr(p, why, "chunk data is not followed by CRLF (found byte 0x%02x after %" PRIu64
                           " body bytes)", c, p->body_total);
                goto out;
            }
            break;
        }
        case P_CHUNK_SIZE: {
            uint8_t c = in[i++];
            if (c == '\n') {
                p->line[p->line_len] = '\0';
                if ((err = chunk_size(p, why)) != TM_OK)
                    goto out;
            } else if (p->ext) {
                /* long chunk extension: skipped */
            } else if (p->line_len < sizeof p->line - 1) {
                p->line[p->line_len++] = (char)c;
            } else if (memchr(p->line, ';', p->line_len)) {
                p->ext = true;
            } else {
                char sh[160];
                show(sh, sizeof sh, p->line, p->line_len);
                err = perr(p, why, "the chunk size line \"%s…\" is longer than %zu bytes", sh, sizeof p->line - 1);
                goto out;
            }
            break;
        }
        case P_TRAILER: {
            uint8_t c = in[i++];
            if (++p->trailer_len > TM_HTTP_HEADER_MAX) {
                err = perr(p, why, "the trailers after the last chunk exceed %d bytes", TM_HTTP_HEADER_MAX);
                goto out;
            }
            if (c == '\n') {
                if (p->line_len == 0)
                    p->state = P_DONE;
                p->line_len = 0;
            } else if (c != '\r') {
                p->line_len++;
            }
            break;
        }
        default:
            goto out;
        }
    }
out:
    *used = i;
    *done = p->state == P_DONE;
    return err;
}

tm_err tm_http_parser_eof(tm_http_parser *p, bool *done, tm_reason *why)
{
    return tm_http_parser_eof_tls(p, true, done, why);
}

tm_err tm_http_parser_eof_tls(tm_http_parser *p, bool clean, bool *done, tm_reason *why)
{
    *done = false;
    switch (p->state) {
    case P_DONE:
        *done = true;
        return TM_OK;
    case P_BODY_CLOSE:
        if (!clean) {
            /* Over TLS only close_notify ends a close-delimited body: a bare
             * FIN is what a truncation attack (or a crash) looks like. */
            p->state = P_ERROR;
            return tm_fail(why, TM_E_HTTP_TRUNCATED, "body truncated: connection closed without TLS "
                           "close_notify after %" PRIu64 " bytes (the body has no Content-Length or "
                           "chunked framing, so only close_notify can mark its end)", p->body_total);
        }
        p->state = P_DONE;
        *done = true;
        return TM_OK;
    case P_HEAD:
        if (p->head_len == 0 && p->interim == 0) {
            p->state = P_ERROR;
            return tm_fail(why, TM_E_HTTP_NO_RESPONSE,
                           "the server closed the connection without sending a response");
        }
        p->state = P_ERROR;
        return tm_fail(why, TM_E_HTTP_PROTOCOL, "the connection closed inside the response head "
                       "(%zu bytes of it received)", p->head_len);
    case P_BODY_LEN:
        p->state = P_ERROR;
        return tm_fail(why, TM_E_HTTP_TRUNCATED, "body truncated: the connection closed after %" PRIu64
                       " of %" PRIu64 " body bytes (Content-Length)", p->body_total, p->content_length);
    case P_ERROR:
        return tm_fail(why, TM_E_HTTP_PROTOCOL, "the response was already found malformed");
    default:
        p->state = P_ERROR;
        return tm_fail(why, TM_E_HTTP_TRUNCATED, "body truncated: the connection closed inside the chunked "
                       "body after %" PRIu64 " body bytes (no final 0-size chunk)", p->body_total);
    }
}
