/* libFuzzer target: the incremental HTTP response parser (src/http/parser.c).
 *
 * Input: byte 0 = flags, bytes 1-4 = seed of the splits, chunk sizes and
 * body budgets, the rest = payload.
 *  flags bit 0 = 0: differential.  The payload is a body; it is framed three
 *    ways -- Content-Length, chunked (fuzzer-chosen chunk sizes, hex case,
 *    leading zeros, extensions, trailers) and close-delimited -- and each is
 *    fed in random splits with random body budgets, followed by the start of
 *    a next response.  All three must complete with exactly that body, and
 *    none may consume the next response's bytes.
 *  flags bit 0 = 1: arbitrary bytes as a response (bit 1: to a HEAD
 *    request) in random splits, then end of stream.  Body bytes never exceed
 *    the budget of a call, a head is announced at most once per message,
 *    and the parser never claims more than it was given. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "http/http.h"

#define BODY_MAX (64 * 1024)

typedef struct {
    uint8_t body[BODY_MAX];
    size_t  body_len;
    size_t  budget, used;     /* this call */
} sink;

static sink           g_sink;
static tm_http_parser g_p;
static uint8_t        g_msg[4 * BODY_MAX + 4096];

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_http: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

static void on_body(void *arg, const uint8_t *p, size_t n)
{
    sink *s = arg;
    s->used += n;
    if (s->used > s->budget)
        fail("on_body beyond the call's budget", NULL);
    if (s->body_len + n <= sizeof s->body)
        memcpy(s->body + s->body_len, p, n);
    s->body_len += n;
}

typedef struct {
    tm_err err;
    bool   done;
    int    heads;
    size_t consumed;
    char   detail[TM_DETAIL_MAX];
} outcome;

static void feed(fz_rng *r, const uint8_t *msg, size_t len, bool head_req, bool eof, outcome *o)
{
    memset(o, 0, sizeof *o);
    g_sink.body_len = 0;
    tm_http_parser_init(&g_p, head_req);
    tm_reason why;
    tm_reason_clear(&why);
    size_t pos = 0;
    int idle = 0;
    while (pos < len && !o->done) {
        size_t seg = fz_rng_chunk(r);
        if (seg > len - pos)
            seg = len - pos;
        size_t budget = fz_rng_below(r, 4) == 0 ? 1 + fz_rng_below(r, 64) : SIZE_MAX;
        g_sink.budget = budget;
        g_sink.used = 0;
        size_t used = 0;
        bool head_ready = false, done = false;
        tm_err e = tm_http_parser_feed(&g_p, msg + pos, seg, budget, &used, &head_ready, &done, on_body, &g_sink,
                                       &why);
        if (used > seg)
            fail("parser used more than it was given", NULL);
        pos += used;
        if (e) {
            o->err = e;
            snprintf(o->detail, sizeof o->detail, "%s", why.detail);
            break;
        }
        if (head_ready)
            o->heads++;
        if (done)
            o->done = true;
        /* No progress with room for everything: the parser is stuck. */
        idle = (used == 0 && !head_ready && !done) ? idle + 1 : 0;
        if (idle > 64)
            fail("parser makes no progress", NULL);
    }
    o->consumed = pos;
    if (eof && !o->done && !o->err) {
        bool done = false;
        tm_err e = tm_http_parser_eof(&g_p, &done, &why);
        if (e) {
            o->err = e;
            snprintf(o->detail, sizeof o->detail, "%s", why.detail);
        }
        o->done = done;
    }
}

static const char NEXT[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";

static void expect_body(const char *how, const outcome *o, const uint8_t *body, size_t len, size_t msg_len)
{
    char d[TM_DETAIL_MAX + 128];
    if (o->err) {
        snprintf(d, sizeof d, "%s framing refused (%s)", how, o->detail);
        fail(d, NULL);
    }
    if (!o->done || o->heads != 1) {
        snprintf(d, sizeof d, "%s framing: done=%d heads=%d", how, o->done, o->heads);
        fail(d, NULL);
    }
    if (g_sink.body_len != len || memcmp(g_sink.body, body, len) != 0) {
        snprintf(d, sizeof d, "%s framing: body of %zu bytes, expected %zu", how, g_sink.body_len, len);
        fail(d, NULL);
    }
    if (msg_len && o->consumed != msg_len) {
        snprintf(d, sizeof d, "%s framing: consumed %zu of a %zu-byte message", how, o->consumed, msg_len);
        fail(d, NULL);
    }
}

static void differential(fz_rng *r, const uint8_t *body, size_t len)
{
    outcome o;
    size_t n;

    /* Content-Length, then the next response. */
    n = (size_t)snprintf((char *)g_msg, sizeof g_msg, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", len);
    memcpy(g_msg + n, body, len);
    n += len;
    memcpy(g_msg + n, NEXT, sizeof NEXT - 1);
    feed(r, g_msg, n + sizeof NEXT - 1, false, false, &o);
    expect_body("Content-Length", &o, body, len, n);

    /* Chunked, then the next response. */
    n = (size_t)snprintf((char *)g_msg, sizeof g_msg, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    size_t pos = 0;
    while (pos < len) {
        size_t c = fz_rng_below(r, 8) == 0 ? 1 + fz_rng_below(r, 4096) : 1 + fz_rng_below(r, 64);
        if (c > len - pos)
            c = len - pos;
        const char *zeros = fz_rng_below(r, 8) == 0 ? "00" : "";
        const char *fmt = fz_rng_below(r, 2) ? "%s%zx%s\r\n" : "%s%zX%s\r\n";
        const char *ext = fz_rng_below(r, 8) == 0 ? ";name=\"v\"" : "";
        n += (size_t)snprintf((char *)g_msg + n, sizeof g_msg - n, fmt, zeros, c, ext);
        memcpy(g_msg + n, body + pos, c);
        n += c;
        memcpy(g_msg + n, "\r\n", 2);
        n += 2;
        pos += c;
    }
    n += (size_t)snprintf((char *)g_msg + n, sizeof g_msg - n, "0\r\n%s\r\n",
                          fz_rng_below(r, 4) == 0 ? "X-Trailer: t\r\n" : "");
    memcpy(g_msg + n, NEXT, sizeof NEXT - 1);
    feed(r, g_msg, n + sizeof NEXT - 1, false, false, &o);
    expect_body("chunked", &o, body, len, n);

    /* Delimited by the end of the stream. */
    n = (size_t)snprintf((char *)g_msg, sizeof g_msg, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
    memcpy(g_msg + n, body, len);
    n += len;
    feed(r, g_msg, n, false, true, &o);
    expect_body("close-delimited", &o, body, len, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 5)
        return 0;
    fz_rng r;
    fz_rng_seed(&r, data + 1, 4);
    const uint8_t *p = data + 5;
    size_t len = size - 5;
    if (!(data[0] & 1)) {
        if (len > BODY_MAX)
            len = BODY_MAX;
        differential(&r, p, len);
        return 0;
    }
    outcome o;
    feed(&r, p, len, (data[0] & 2) != 0, true, &o);
    if (o.heads > 1)
        fail("more than one head for one message", NULL);
    if (o.err && !o.detail[0])
        fail("error without a reason", NULL);
    return 0;
}
