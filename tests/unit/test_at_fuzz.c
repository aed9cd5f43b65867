/* AT engine under random input: commands, quotes, separators, data modes and
 * binary noise, fed in random chunk sizes with random output draining.  The
 * engine must never crash or overrun (run under ASan/UBSan by `make test`),
 * never give a sink more than its room, and afterwards still answer a plain
 * "AT" with OK — bad input costs an error, never the modem. */
#include "at/at.h"
#include "tm_test.h"

#include <stdint.h>

static size_t g_room;
static int    g_violations;
static size_t g_sink_total;

static void v_ok(tm_at *at) { tm_at_v250_result(at, "OK", 0); }
static void v_error(tm_at *at, const tm_reason *why) { (void)why; tm_at_v250_result(at, "ERROR", 4); }
static void v_line(tm_at *at, const char *text) { tm_at_v250_line(at, text); }
static const tm_at_voice voice = { v_ok, v_error, v_line, v_line, NULL };

static tm_err hello_exec(tm_at *at, const tm_at_args *a) { (void)a; tm_at_line(at, "hello"); return TM_OK; }
static tm_err args_set(tm_at *at, const tm_at_args *a)
{
    long port;
    char s[32];
    tm_err e;
    if ((e = tm_at_max_args(at, a, 3)) || (e = tm_at_get_int(at, a, 1, "port", 1, 65535, &port)) ||
        (e = tm_at_get_host(at, a, 2, "host", s, sizeof s)))
        return e;
    return TM_OK;
}
static size_t sink_room(void *arg) { (void)arg; return g_room; }
static void sink_data(void *arg, const uint8_t *p, size_t n)
{
    (void)arg; (void)p;
    if (n > g_room)
        g_violations++;
    g_sink_total += n;
}
static void sink_end(void *arg, tm_at_data_end how, size_t total)
{
    (void)how; (void)total;
    tm_at_complete(arg, TM_OK);
}
/* AT+SEND=<count 1..>,<flags: 1 pattern, 2 escape> — always has a count, so
 * the end of a fuzz run can finish it with plain bytes. */
static tm_err send_set(tm_at *at, const tm_at_args *a)
{
    long count, flags;
    tm_err e;
    if ((e = tm_at_get_int(at, a, 1, "count", 1, 64, &count)) ||
        (e = tm_at_opt_int(at, a, 2, "flags", 0, 3, 0, &flags)))
        return e;
    tm_at_data_in d = { (size_t)count, flags & 1, (flags & 2) != 0, sink_data, sink_end, sink_room, at, 0 };
    tm_at_v250_result(at, "CONNECT", 1);
    tm_at_data_in_start(at, &d);
    return TM_AT_PENDING;
}

static const tm_at_cmd table[] = {
    { "+HELLO", NULL, NULL, NULL,     hello_exec, NULL },
    { "+ARGS",  NULL, NULL, args_set, NULL,       "+ARGS: (1-65535),<host>" },
    { "+SEND",  NULL, NULL, send_set, NULL,       NULL },
    { NULL, NULL, NULL, NULL, NULL, NULL },
};
static const tm_at_cmd *const tables[] = { table, tm_at_v250_table, NULL };
static const tm_at_dialect dialect = { "fuzz", TM_AT_SYNTAX_V250, tables, &voice, true, true, false, false, false };

static uint64_t g_rng;
static uint32_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (uint32_t)g_rng;
}

static const char *const tokens[] = {
    "AT", "at", "AT+HELLO", "AT+ARGS=", "AT+ARGS=?", "AT+ARGS?", "AT+SEND=5,1", "AT+SEND=3",
    "AT+SEND=9,3", "AT+NOPE", "ATE0", "ATE1", "ATV0", "ATV1", "ATQ1", "ATQ0", "AT+CMEE=2", "ATS12=1",
    "ATS12?", "ATZ", ";", ";+HELLO", ",", ",,", "\"", "\"host\"", "443", "65536", "-1", " ", "\r",
    "\n", "\r\n", "\b", "\x7f", "+++", "--EOF--Pattern--", "--EOF", "\xe2\x80\x9c", "\xe2\x80\x9d",
    "\xe2\x80\x93", "\x00", "\xff", "\x1b", "https://x/y", "A", "T",
};

static size_t drain(tm_at *at, size_t max)
{
    size_t got = 0;
    const uint8_t *p;
    size_t n;
    while (got < max && (n = tm_at_out_peek(at, &p)) > 0) {
        if (n > max - got)
            n = max - got;
        tm_at_out_consume(at, n);
        got += n;
    }
    return got;
}

/* Feeds everything, honouring backpressure: what the engine does not take
 * now is offered again after time passes and output drains. */
static void feed_all(tm_at *at, const uint8_t *p, size_t len, int64_t *now)
{
    size_t off = 0;
    int stuck = 0;
    while (off < len) {
        size_t chunk = 1 + rnd() % 64;
        if (chunk > len - off)
            chunk = len - off;
        *now += rnd() % 3 ? 1 : 60;      /* sometimes a guard time of silence */
        tm_at_set_now(at, *now);
        tm_at_tick(at, *now);
        size_t used = tm_at_feed(at, p + off, chunk);
        off += used;
        drain(at, rnd() % 2 ? SIZE_MAX : rnd() % 512);
        g_room = rnd() % 4 ? SIZE_MAX : rnd() % 8;
        stuck = used ? 0 : stuck + 1;
        if (stuck > 10000) {
            TM_CHECK_MSG(0, "the engine took no input for 10000 rounds at offset %zu", off);
            return;
        }
    }
}

int main(void)
{
    static _Alignas(16) uint8_t mem[1 << 20];
    TM_CHECK(tm_at_sizeof() <= sizeof mem);
    tm_at *at = (tm_at *)mem;
    static uint8_t in[8192];
    for (int run = 0; run < 2000; run++) {
        g_rng = 0x9e3779b97f4a7c15ULL ^ (uint64_t)(run + 1) * 0x2545f4914f6cdd1dULL;
        tm_at_init(at, &dialect, NULL);
        g_room = SIZE_MAX;
        g_violations = 0;
        int64_t now = 1000;
        size_t n = 0;
        while (n < sizeof in - 64) {
            if (rnd() % 5 == 0) {
                in[n++] = (uint8_t)rnd();                 /* raw noise */
            } else {
                const char *tk = tokens[rnd() % (sizeof tokens / sizeof tokens[0])];
                size_t l = tk[0] ? strlen(tk) : 1;        /* "\x00" is one NUL byte */
                memcpy(in + n, tk, l);
                n += l;
            }
        }
        feed_all(at, in, n, &now);
        /* finish any data mode by its count, then a line of its own */
        static const uint8_t tail[] = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
        g_room = SIZE_MAX;
        feed_all(at, tail, sizeof tail - 1, &now);
        static const uint8_t probe[] = "\r\nATE0Q0V1\r\n";
        feed_all(at, probe, sizeof probe - 1, &now);
        drain(at, SIZE_MAX);
        static const uint8_t at_line[] = "AT\r";
        TM_EQ_INT(tm_at_feed(at, at_line, sizeof at_line - 1), sizeof at_line - 1);
        const uint8_t *p;
        size_t k = tm_at_out_peek(at, &p);
        TM_CHECK_MSG(k == 6 && memcmp(p, "\r\nOK\r\n", 6) == 0, "run %d: after the noise AT gave %zu bytes '%.*s'",
                     run, k, (int)(k < 80 ? k : 80), (const char *)p);
        TM_CHECK_MSG(!tm_at_busy(at) && !tm_at_in_data_mode(at), "run %d: engine still busy", run);
        TM_EQ_INT(g_violations, 0);
        drain(at, SIZE_MAX);
    }
    TM_TEST_MAIN_END();
}
