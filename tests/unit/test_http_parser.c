/* Unit tests: incremental HTTP response parser (src/http/parser.c).
 * Every valid response is also fed split at every byte boundary, one byte at
 * a time and with a tiny body budget (backpressure); the body bytes, status
 * and keep-alive decision must be identical every time. */
#include "tm_test.h"
#include "http/http.h"

#include <stdint.h>

typedef struct {
    tm_err err;
    int    status;
    bool   keep_alive;
    bool   done;
    int    heads;
    bool   stuck;
    bool   over_budget;
    char   body[8192];
    size_t body_len;
    size_t leftover;      /* bytes after the end of the message */
    char   reason[64];
    char   detail[TM_DETAIL_MAX];
    size_t call_budget, call_used;
} result;

static void on_body(void *arg, const uint8_t *p, size_t n)
{
    result *r = arg;
    r->call_used += n;
    if (r->call_used > r->call_budget)
        r->over_budget = true;
    if (r->body_len + n <= sizeof r->body) {
        memcpy(r->body + r->body_len, p, n);
    }
    r->body_len += n;
}

static tm_http_parser g_p;

/* split: first segment length (0 = none); step: segment size (0 = whole). */
static void run(const char *resp, size_t len, bool head_req, size_t split, size_t step, size_t body_max,
                bool eof, result *r)
{
    memset(r, 0, sizeof *r);
    tm_http_parser_init(&g_p, head_req);
    tm_reason why;
    tm_reason_clear(&why);
    size_t pos = 0;
    while (pos < len && !r->done && !r->err) {
        size_t seg = step ? step : (split && pos == 0 ? split : len - pos);
        if (seg > len - pos)
            seg = len - pos;
        size_t off = 0;
        while (off < seg) {
            size_t used;
            bool head_ready, done;
            r->call_budget = body_max;
            r->call_used = 0;
            tm_err e = tm_http_parser_feed(&g_p, (const uint8_t *)resp + pos + off, seg - off, body_max, &used,
                                           &head_ready, &done, on_body, r, &why);
            off += used;
            if (e) {
                r->err = e;
                break;
            }
            if (head_ready) {
                r->heads++;
                r->status = g_p.status;
                snprintf(r->reason, sizeof r->reason, "%s", g_p.reason_phrase);
            }
            if (done) {
                r->done = true;
                break;
            }
            if (used == 0 && !head_ready) {
                r->stuck = true;
                break;
            }
        }
        pos += off;
        if (r->stuck)
            break;
    }
    if (r->done)
        r->leftover = len - pos;
    if (!r->done && !r->err && eof) {
        bool done;
        r->err = tm_http_parser_eof(&g_p, &done, &why);
        r->done = done;
    }
    r->keep_alive = g_p.keep_alive;
    snprintf(r->detail, sizeof r->detail, "%s", why.detail);
}

typedef struct {
    const char *name;
    const char *resp;
    bool        head_req;
    int         status;
    const char *body;
    bool        keep_alive;
    bool        need_eof;    /* close-delimited */
    size_t      leftover;
} valid_case;

static const valid_case VALID[] = {
    { "content-length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello",
      false, 200, "hello", true, false, 0 },
    { "content-length zero", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false, 200, "", true, false, 0 },
    { "LF only", "HTTP/1.1 200 OK\nContent-Length: 3\n\nabc", false, 200, "abc", true, false, 0 },
    { "repeated equal lengths", "HTTP/1.1 200 OK\r\nContent-Length: 4, 4\r\ncontent-length: 4\r\n\r\nabcd",
      false, 200, "abcd", true, false, 0 },
    { "bytes after message", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA", false, 200, "ok", true,
      false, 5 },
    { "chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
      false, 200, "hello world", true, false, 0 },
    { "chunked ext trailers uppercase", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n"
      "A;name=value;x=\"q\"\r\n0123456789\r\n1A \r\nabcdefghijklmnopqrstuvwxyz\r\n0000;last\r\n"
      "Trailer-One: 1\r\nTrailer-Two: 2\r\n\r\n", false, 200, "0123456789abcdefghijklmnopqrstuvwxyz", true,
      false, 0 },
    { "chunked LF only", "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n3\nabc\n0\n\n", false, 200, "abc",
      true, false, 0 },
    { "chunked wins over length", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n"
      "2\r\nhi\r\n0\r\n\r\n", false, 200, "hi", false, false, 0 },
    { "close-delimited", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end", false, 200,
      "until the end", false, true, 0 },
    { "close-delimited 1.0", "HTTP/1.0 200 OK\r\n\r\nold", false, 200, "old", false, true, 0 },
    { "HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", true, 200, "", true, false, 0 },
    { "HEAD chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", true, 200, "", true, false, 0 },
    { "204", "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", false, 204, "", true, false, 0 },
    { "304", "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n", false, 304, "", true, false, 0 },
    { "100-continue then 200", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\nX: y\r\n\r\n"
      "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok", false, 201, "ok", true, false, 0 },
    { "connection close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx", false, 200,
      "x", false, false, 0 },
    { "connection tokens", "HTTP/1.1 200 OK\r\nConnection: Upgrade, CLOSE\r\nContent-Length: 1\r\n\r\nx",
      false, 200, "x", false, false, 0 },
    { "1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nab", false, 200,
      "ab", true, false, 0 },
    { "1.0 default close", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nab", false, 200, "ab", false, false, 0 },
    { "no reason phrase", "HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n", false, 404, "", true, false, 0 },
    { "leading empty line", "\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz", false, 200, "z", true, false,
      0 },
    { "obs-fold ignored", "HTTP/1.1 200 OK\r\nX-Long: a\r\n  b\r\nContent-Length: 1\r\n\r\nq", false, 200, "q",
      true, false, 0 },
    { "binary body", "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n\r\n0\r\n\r\n", false, 200, "\r\n0\r\n\r\n",
      true, false, 0 },
};

static void check_valid(const valid_case *c, const result *r, const char *mode)
{
    size_t bl = strlen(c->body);
    TM_CHECK_MSG(r->err == TM_OK, "%s/%s: err %d (%s)", c->name, mode, r->err, r->detail);
    TM_CHECK_MSG(r->done, "%s/%s: not done", c->name, mode);
    TM_CHECK_MSG(!r->stuck, "%s/%s: stuck", c->name, mode);
    TM_CHECK_MSG(!r->over_budget, "%s/%s: body_max exceeded", c->name, mode);
    TM_CHECK_MSG(r->heads == 1, "%s/%s: head_ready %d times", c->name, mode, r->heads);
    TM_CHECK_MSG(r->status == c->status, "%s/%s: status %d", c->name, mode, r->status);
    TM_CHECK_MSG(r->body_len == bl && memcmp(r->body, c->body, bl) == 0, "%s/%s: body \"%.*s\"", c->name, mode,
                 (int)r->body_len, r->body);
    TM_CHECK_MSG(r->keep_alive == c->keep_alive, "%s/%s: keep_alive %d", c->name, mode, r->keep_alive);
    if (!c->need_eof)   /* with eof every leftover is consumed by the body */
        TM_CHECK_MSG(r->leftover == c->leftover, "%s/%s: leftover %zu", c->name, mode, r->leftover);
}

static void test_valid(void)
{
    result r;
    char mode[64];
    for (size_t k = 0; k < sizeof VALID / sizeof VALID[0]; k++) {
        const valid_case *c = &VALID[k];
        size_t len = strlen(c->resp);
        run(c->resp, len, c->head_req, 0, 0, SIZE_MAX, c->need_eof, &r);
        check_valid(c, &r, "whole");
        if (!c->need_eof) {   /* without eof a length-delimited message must finish on its own */
            TM_CHECK_MSG(r.done, "%s: needs eof", c->name);
        } else {
            run(c->resp, len, c->head_req, 0, 0, SIZE_MAX, false, &r);
            TM_CHECK_MSG(!r.done && r.err == TM_OK, "%s: close-delimited finished early", c->name);
        }
        for (size_t s = 1; s < len; s++) {
            snprintf(mode, sizeof mode, "split@%zu", s);
            run(c->resp, len, c->head_req, s, 0, SIZE_MAX, c->need_eof, &r);
            check_valid(c, &r, mode);
        }
        run(c->resp, len, c->head_req, 0, 1, SIZE_MAX, c->need_eof, &r);
        check_valid(c, &r, "bytewise");
        size_t budgets[] = { 1, 7 };
        for (size_t b = 0; b < 2; b++) {
            snprintf(mode, sizeof mode, "body_max=%zu", budgets[b]);
            run(c->resp, len, c->head_req, 0, 0, budgets[b], c->need_eof, &r);
            check_valid(c, &r, mode);
            snprintf(mode, sizeof mode, "bytewise body_max=%zu", budgets[b]);
            run(c->resp, len, c->head_req, 0, 3, budgets[b], c->need_eof, &r);
            check_valid(c, &r, mode);
        }
    }
}

static void test_head_fields(void)
{
    result r;
    const char *resp = "HTTP/1.1 418 I'm a teapot\r\nServer: t\r\nContent-Length: 0\r\n\r\n";
    run(resp, strlen(resp), false, 0, 0, SIZE_MAX, false, &r);
    TM_EQ_INT(r.status, 418);
    TM_EQ_STR(r.reason, "I'm a teapot");
    TM_EQ_STR(g_p.head, "HTTP/1.1 418 I'm a teapot\r\nServer: t\r\nContent-Length: 0\r\n\r\n");
    TM_EQ_INT(g_p.head_len, strlen(resp));
    char v[32];
    TM_CHECK(tm_http_header_value(g_p.head, "server", v, sizeof v));
    TM_EQ_STR(v, "t");
    TM_CHECK(g_p.has_length);
    /* the head is reported before any body byte */
    const char *r2 = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";
    tm_http_parser_init(&g_p, false);
    size_t used;
    bool hr, done;
    tm_reason why;
    result rr = {0};
    rr.call_budget = SIZE_MAX;
    TM_EQ_INT(tm_http_parser_feed(&g_p, (const uint8_t *)r2, strlen(r2), SIZE_MAX, &used, &hr, &done, on_body,
                                  &rr, &why), TM_OK);
    TM_CHECK(hr && !done);
    TM_EQ_INT(used, strlen(r2) - 3);
    TM_EQ_INT(rr.body_len, 0);
    /* body_max 0: nothing consumed, no progress, no error */
    TM_EQ_INT(tm_http_parser_feed(&g_p, (const uint8_t *)r2 + used, 3, 0, &used, &hr, &done, on_body, &rr,
                                  &why), TM_OK);
    TM_EQ_INT(used, 0);
    TM_CHECK(!done);
    TM_EQ_INT(tm_http_parser_feed(&g_p, (const uint8_t *)r2 + strlen(r2) - 3, 3, 2, &used, &hr, &done, on_body,
                                  &rr, &why), TM_OK);
    TM_EQ_INT(used, 2);
    TM_EQ_INT(g_p.body_total, 2);
}

/* tm_http_parser_body_direct: how many next bytes are unframed body (read
 * straight to the owner, then fed with on_body NULL to be counted). */
static void feed_all(const char *s, size_t n)
{
    size_t used;
    bool hr, done;
    tm_reason why;
    tm_http_parser_feed(&g_p, (const uint8_t *)s, n, SIZE_MAX, &used, &hr, &done, NULL, NULL, &why);
}

static void test_body_direct(void)
{
    const char *h = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";
    tm_http_parser_init(&g_p, false);
    TM_EQ_INT(tm_http_parser_body_direct(&g_p), 0);          /* head not yet parsed */
    feed_all(h, strlen(h) - 2);
    TM_EQ_INT(tm_http_parser_body_direct(&g_p), 0);
    feed_all("\r\n", 2);
    TM_EQ_INT(tm_http_parser_body_direct(&g_p), 10);
    feed_all("0123", 4);                                     /* counted, state moves on */
    TM_EQ_INT(tm_http_parser_body_direct(&g_p), 6);
    TM_EQ_INT(g_p.body_total, 4);
    feed_all("456789", 6);
    TM_EQ_INT(tm_http_parser_body_direct(&g_p), 0);          /* done */
    /* chunked: inside a chunk only, never its framing */
    h = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    tm_http_parser_init(&g_p, false);
    feed_all(h, strlen(h));
    TM_EQ_INT(tm_http_parser_body_direct(&g_p), 0);          /* chunk-size line next */
    feed_all("1f4\r\n", 5);
    TM_EQ_INT(tm_http_parser_body_direct(&g_p), 500);
    static char body[500];
    memset(body, 'x', sizeof body);
    feed_all(body, 499);
    TM_EQ_INT(tm_http_parser_body_direct(&g_p), 1);
    feed_all(body, 1);
    TM_EQ_INT(tm_http_parser_body_direct(&g_p), 0);          /* CRLF after the chunk */
    /* close-delimited: unbounded */
    h = "HTTP/1.0 200 OK\r\n\r\n";
    tm_http_parser_init(&g_p, false);
    feed_all(h, strlen(h));
    TM_CHECK(tm_http_parser_body_direct(&g_p) == UINT64_MAX);
    /* HEAD response: no body however long Content-Length says */
    h = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";
    tm_http_parser_init(&g_p, true);
    feed_all(h, strlen(h));
    TM_EQ_INT(tm_http_parser_body_direct(&g_p), 0);
}

typedef struct {
    const char *name;
    const char *resp;
    bool        eof;
    tm_err      err;
    const char *detail;
} bad_case;

static const bad_case BAD[] = {
    { "not http", "SSH-2.0-OpenSSH_9.6\r\n", false, TM_E_HTTP_PROTOCOL, "does not start with \"HTTP/\"" },
    { "bad status line", "HTTP/1.1 2OO OK\r\n\r\n", false, TM_E_HTTP_PROTOCOL, "is not \"HTTP/1.x NNN reason\"" },
    { "http 2", "HTTP/2.0 200 OK\r\n\r\n", false, TM_E_HTTP_PROTOCOL, "HTTP/2.0" },
    { "status 099", "HTTP/1.1 099 X\r\n\r\n", false, TM_E_HTTP_PROTOCOL, "not valid" },
    { "negative length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", false, TM_E_HTTP_PROTOCOL,
      "not a number" },
    { "overflowing length", "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n", false,
      TM_E_HTTP_PROTOCOL, "too large" },
    /* 2^64 + 5: a parser that multiplies first reads it as 5 */
    { "length wrapping to 5", "HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551621\r\n\r\nhello", false,
      TM_E_HTTP_PROTOCOL, "too large" },
    { "length 2^64", "HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551616\r\n\r\n", false,
      TM_E_HTTP_PROTOCOL, "too large" },
    { "length 2^62", "HTTP/1.1 200 OK\r\nContent-Length: 4611686018427387904\r\n\r\n", false,
      TM_E_HTTP_PROTOCOL, "too large" },
    { "length wrapping in a list", "HTTP/1.1 200 OK\r\nContent-Length: 5, 18446744073709551621\r\n\r\nhello",
      false, TM_E_HTTP_PROTOCOL, "too large" },
    { "conflicting lengths", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", false,
      TM_E_HTTP_PROTOCOL, "conflicting Content-Length values 5 and 6" },
    { "length list differs", "HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n", false, TM_E_HTTP_PROTOCOL,
      "conflicting" },
    { "empty length", "HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n", false, TM_E_HTTP_PROTOCOL, "empty" },
    { "header without colon", "HTTP/1.1 200 OK\r\nBroken header\r\n\r\n", false, TM_E_HTTP_PROTOCOL,
      "header line 2 \"Broken header\"" },
    { "space before colon", "HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\n", false, TM_E_HTTP_PROTOCOL,
      "bad character in its name" },
    { "chunk size not hex", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", false,
      TM_E_HTTP_PROTOCOL, "does not start with a hexadecimal size" },
    { "negative chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n", false,
      TM_E_HTTP_PROTOCOL, "\"-5\"" },
    { "0x chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n", false,
      TM_E_HTTP_PROTOCOL, "junk after the size" },
    { "empty chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", false,
      TM_E_HTTP_PROTOCOL, "hexadecimal" },
    { "overflowing chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFF\r\n", false,
      TM_E_HTTP_PROTOCOL, "too large" },
    /* 2^64 + 5 in hex: wraps to 5 when multiplied before the check */
    { "chunk wrapping to 5", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000005\r\nhello\r\n"
      "0\r\n\r\n", false, TM_E_HTTP_PROTOCOL, "too large" },
    { "chunk 2^62", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4000000000000000\r\n", false,
      TM_E_HTTP_PROTOCOL, "too large" },
    { "chunk without CRLF", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n",
      false, TM_E_HTTP_PROTOCOL, "not followed by CRLF (found byte 0x58" },
    { "chunk line too long", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
      "000000000000000000000000000000000000000000000000000000000005\r\nhello\r\n", false, TM_E_HTTP_PROTOCOL,
      "longer than" },
    { "nothing", "", true, TM_E_HTTP_NO_RESPONSE, "without sending a response" },
    { "cut head", "HTTP/1.1 200 OK\r\nContent-Le", true, TM_E_HTTP_PROTOCOL, "inside the response head" },
    { "cut body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", true, TM_E_HTTP_TRUNCATED,
      "body truncated: the connection closed after 3 of 10 body bytes" },
    { "cut chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", true, TM_E_HTTP_TRUNCATED,
      "no final 0-size chunk" },
    { "only interim", "HTTP/1.1 100 Continue\r\n\r\n", true, TM_E_HTTP_PROTOCOL, "inside the response head" },
};

static void test_bad(void)
{
    result r;
    for (size_t k = 0; k < sizeof BAD / sizeof BAD[0]; k++) {
        const bad_case *c = &BAD[k];
        size_t len = strlen(c->resp);
        for (size_t step = 0; step <= 1; step++) {
            run(c->resp, len, false, 0, step, step ? 1 : SIZE_MAX, c->eof, &r);
            TM_CHECK_MSG(r.err == c->err, "%s (step %zu): err %d, want %d (%s)", c->name, step, r.err, c->err,
                         r.detail);
            TM_CHECK_MSG(strstr(r.detail, c->detail) != NULL, "%s: detail \"%s\" lacks \"%s\"", c->name,
                         r.detail, c->detail);
        }
    }
    /* after an error every feed fails */
    size_t used;
    bool hr, done;
    tm_reason why;
    TM_EQ_INT(tm_http_parser_feed(&g_p, (const uint8_t *)"x", 1, 10, &used, &hr, &done, NULL, NULL, &why),
              TM_E_HTTP_PROTOCOL);
    /* oversized head */
    static char big[TM_HTTP_HEADER_MAX + 100];
    size_t o = (size_t)snprintf(big, sizeof big, "HTTP/1.1 200 OK\r\n");
    while (o < sizeof big - 40)
        o += (size_t)snprintf(big + o, sizeof big - o, "X-Pad: 0123456789012345678901234\r\n");
    run(big, o, false, 0, 0, SIZE_MAX, false, &r);
    TM_EQ_INT(r.err, TM_E_HTTP_PROTOCOL);
    TM_CHECK(strstr(r.detail, "larger than") != NULL);
}

/* A large chunked body through a tiny budget: memory stays in the parser struct. */
static uint64_t g_sum, g_count;
static void sum_body(void *arg, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        g_sum += p[i];
    g_count += n;
}

static void test_large(void)
{
    tm_http_parser_init(&g_p, false);
    const char *head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    size_t used;
    bool hr, done;
    tm_reason why;
    TM_EQ_INT(tm_http_parser_feed(&g_p, (const uint8_t *)head, strlen(head), 0, &used, &hr, &done, sum_body,
                                  NULL, &why), TM_OK);
    TM_CHECK(hr);
    static uint8_t chunk[4096 + 16];
    size_t hl = (size_t)snprintf((char *)chunk, 16, "1000\r\n");
    memset(chunk + hl, 'a', 4096);
    memcpy(chunk + hl + 4096, "\r\n", 2);
    size_t cl = hl + 4098;
    uint64_t expect = 0;
    for (int i = 0; i < 4096; i++) {   /* 16 MiB */
        size_t off = 0;
        while (off < cl) {
            TM_CHECK(tm_http_parser_feed(&g_p, chunk + off, cl - off, 1000, &used, &hr, &done, sum_body, NULL,
                                         &why) == TM_OK);
            off += used;
        }
        expect += 4096;
    }
    TM_EQ_INT(tm_http_parser_feed(&g_p, (const uint8_t *)"0\r\n\r\n", 5, 1000, &used, &hr, &done, sum_body,
                                  NULL, &why), TM_OK);
    TM_CHECK(done);
    TM_EQ_INT(g_count, expect);
    TM_EQ_INT(g_sum, expect * 'a');
}

/* The largest lengths still accepted are read exactly (no wrap, no cut). */
static void test_length_limits(void)
{
    static const char *const heads[] = {
        "HTTP/1.1 200 OK\r\nContent-Length: 4611686018427387903\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551621\r\n\r\n",
    };
    for (int k = 0; k < 2; k++) {
        tm_http_parser_init(&g_p, false);
        size_t used;
        bool hr = false, done = false;
        tm_reason why;
        tm_reason_clear(&why);
        tm_err e = tm_http_parser_feed(&g_p, (const uint8_t *)heads[k], strlen(heads[k]), 0, &used, &hr, &done,
                                       NULL, NULL, &why);
        if (k == 0) {
            TM_EQ_INT(e, TM_OK);
            TM_CHECK(hr && !done);
            TM_CHECK(g_p.content_length == 4611686018427387903ULL);
            TM_CHECK(g_p.remaining == 4611686018427387903ULL);
        } else {
            TM_EQ_INT(e, TM_E_HTTP_PROTOCOL);
            TM_CHECK(!hr);
            TM_CHECK_MSG(strstr(why.detail, "18446744073709551621") && strstr(why.detail, "too large"),
                         "detail: %s", why.detail);
        }
    }
    /* chunk sizes: the largest accepted one, then one hex digit more */
    const char *ch = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3fffffffffffffff\r\nab";
    result r;
    run(ch, strlen(ch), false, 0, 0, SIZE_MAX, false, &r);
    TM_EQ_INT(r.err, TM_OK);
    TM_CHECK(g_p.remaining == 0x3fffffffffffffffULL - 2);
}

int main(void)
{
    test_body_direct();
    test_valid();
    test_head_fields();
    test_bad();
    test_length_limits();
    test_large();
    TM_TEST_MAIN_END();
}
