/* AT engine transcripts: exact output bytes for scripted host input, each
 * script also fed in random 1..N-byte chunks (many seeds) with identical
 * results. */
#include "at/at.h"
#include "tm_test.h"

#include <stdint.h>

/* ---- mock dialect ------------------------------------------------------- */

static char   g_sink[1 << 16];
static size_t g_sink_len;
static size_t g_room;                 /* sink room; SIZE_MAX = unlimited */
static int    g_room_violations;      /* sink got more than room() said */
static tm_at *g_at;

static void v_ok(tm_at *at) { tm_at_v250_result(at, "OK", 0); }
static void v_error(tm_at *at, const tm_reason *why)
{
    char buf[TM_DETAIL_MAX + 200];
    if (tm_at_cmee(at) == 0) {
        tm_at_v250_result(at, "ERROR", 4);
    } else if (tm_at_cmee(at) == 1) {
        snprintf(buf, sizeof buf, "+CME ERROR: %d", (int)why->code);
        tm_at_v250_line(at, buf);
    } else {
        char t[TM_DETAIL_MAX + 100];
        snprintf(buf, sizeof buf, "+CME ERROR: %s", tm_reason_text(why, t, sizeof t));
        tm_at_v250_line(at, buf);
    }
}
static void v_line(tm_at *at, const char *text) { tm_at_v250_line(at, text); }
static const tm_at_voice mock_voice = { v_ok, v_error, v_line, v_line, NULL };

static tm_err hello_exec(tm_at *at, const tm_at_args *a) { tm_at_line(at, "hello"); return TM_OK; }

static tm_err echoargs_set(tm_at *at, const tm_at_args *a)
{
    char buf[8192];
    size_t o = (size_t)snprintf(buf, sizeof buf, "%d:", a->count);
    for (int i = 0; i < a->count && o < sizeof buf; i++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "[%s]%u%s", a->v[i].p, a->v[i].flags,
                              tm_at_omitted(a, i + 1) ? "o" : "");
    tm_at_line(at, "%s", buf);
    return TM_OK;
}

static tm_err len_set(tm_at *at, const tm_at_args *a)
{
    tm_at_line(at, "len=%zu", a->count ? a->v[0].len : 0);
    return TM_OK;
}

static tm_err args_set(tm_at *at, const tm_at_args *a)
{
    long port, n;
    char apn[16];
    tm_err e;
    if ((e = tm_at_max_args(at, a, 3)) || (e = tm_at_get_int(at, a, 1, "port", 1, 65535, &port)) ||
        (e = tm_at_get_str(at, a, 2, "apn", apn, sizeof apn)) ||
        (e = tm_at_opt_int(at, a, 3, "n", 0, 9, 7, &n)))
        return e;
    tm_at_line(at, "port=%ld apn=%s n=%ld", port, apn, n);
    return TM_OK;
}

static tm_err wait_exec(tm_at *at, const tm_at_args *a) { return TM_AT_PENDING; }
static tm_err fail_exec(tm_at *at, const tm_at_args *a)
{
    return tm_fail(tm_at_reason(at), TM_E_ARG_BAD, "boom");
}
static tm_err urc_exec(tm_at *at, const tm_at_args *a)
{
    tm_at_urc(at, "+URC: inside");
    return TM_OK;
}
static tm_err quick_exec(tm_at *at, const tm_at_args *a)
{
    tm_fail(tm_at_reason(at), TM_E_TIMEOUT, "at once");
    tm_at_complete(at, TM_E_TIMEOUT);   /* before returning PENDING */
    return TM_AT_PENDING;
}
static tm_err i_exec(tm_at *at, const tm_at_args *a) { tm_at_line(at, "tlsmodem-test"); return TM_OK; }

static size_t sink_room(void *arg) { return g_room; }
static void sink_data(void *arg, const uint8_t *p, size_t n)
{
    if (n > g_room)
        g_room_violations++;
    if (g_room != SIZE_MAX)
        g_room -= n;
    if (g_sink_len + n <= sizeof g_sink) {
        memcpy(g_sink + g_sink_len, p, n);
        g_sink_len += n;
    }
}
static void sink_end(void *arg, tm_at_data_end how, size_t total)
{
    tm_at *at = arg;
    tm_at_line(at, "END %d %zu", (int)how, total);
    if (how == TM_AT_DATA_END_MANGLED)
        tm_at_complete(at, tm_fail(tm_at_reason(at), TM_E_DATA_PATTERN_MANGLED, "typographic dashes"));
    else
        tm_at_complete(at, TM_OK);
}

/* AT+SEND=<count>,<flags: 1 pattern, 2 escape, 4 idle 1000 ms> */
static tm_err send_set(tm_at *at, const tm_at_args *a)
{
    long count, flags;
    tm_err e;
    if ((e = tm_at_get_int(at, a, 1, "count", 0, 100000, &count)) ||
        (e = tm_at_opt_int(at, a, 2, "flags", 0, 7, 0, &flags)))
        return e;
    tm_at_data_in d = { (size_t)count, flags & 1, (flags & 2) != 0, sink_data, sink_end, sink_room, at,
                        flags & 4 ? 1000 : 0 };
    tm_at_line(at, "CONNECT");
    tm_at_data_in_start(at, &d);
    return TM_AT_PENDING;
}

/* AT+LIST=<n>: n lines "+LIST: <i> xxxx…" (100 bytes each) streamed with
 * tm_at_stream; g_list_stopped counts stop calls. */
static long g_list_n, g_list_i;
static int  g_list_stopped;
static tm_err list_more(tm_at *at, void *arg, bool stop)
{
    if (stop) {
        g_list_stopped++;
        return TM_OK;
    }
    while (g_list_i < g_list_n) {
        if (tm_at_out_room(at) < 200)
            return TM_AT_PENDING;
        tm_at_line(at, "+LIST: %06ld %.*s", g_list_i, 80,
                   "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
        g_list_i++;
    }
    return g_list_n == 7 ? tm_fail(tm_at_reason(at), TM_E_STORE_IO, "seven") : TM_OK;
}
static tm_err list_set(tm_at *at, const tm_at_args *a)
{
    tm_err e;
    if ((e = tm_at_get_int(at, a, 1, "n", 0, 1000000, &g_list_n)))
        return e;
    g_list_i = 0;
    return tm_at_stream(at, list_more, NULL);
}

/* AT+STREAM: pending, abandoned by the host's +++ */
static void stream_abort(void *arg)
{
    tm_at *at = arg;
    tm_at_v250_result(at, "NO CARRIER", 3);
    tm_at_complete_silent(at);
}
static tm_err stream_exec(tm_at *at, const tm_at_args *a)
{
    tm_at_set_abort(at, stream_abort, at);
    return TM_AT_PENDING;
}

/* AT+SPOOL=<n>[,<fail>]: n lines built in one go through tm_at_spool. */
static tm_err spool_set(tm_at *at, const tm_at_args *a)
{
    long n, fail;
    tm_err e;
    if ((e = tm_at_get_int(at, a, 1, "n", 0, 100000, &n)) ||
        (e = tm_at_opt_int(at, a, 2, "fail", 0, 2, 0, &fail)))
        return e;
    tm_at_spool(at);
    for (long i = 0; i < n; i++)
        tm_at_line(at, "+SPOOL: %06ld %.*s", i, 80,
                   "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy");
    if (fail == 2)          /* forgets tm_at_spool_end: the engine ends the spool */
        return tm_fail(tm_at_reason(at), TM_E_NOT_FOUND, "forgot");
    return tm_at_spool_end(at, fail ? tm_fail(tm_at_reason(at), TM_E_STORE_IO, "half") : TM_OK);
}

static const tm_at_cmd mock_table[] = {
    { "+STREAM",   NULL, NULL, NULL,         stream_exec, NULL },
    { "+LIST",     NULL, NULL, list_set,     NULL, NULL },
    { "+SPOOL",    NULL, NULL, spool_set,    NULL, NULL },
    { "+HELLO",    NULL, NULL, NULL,         hello_exec, NULL },
    { "+ECHOARGS", NULL, NULL, echoargs_set, NULL, NULL },
    { "+LEN",      NULL, NULL, len_set,      NULL, NULL },
    { "+ARGS",     NULL, NULL, args_set,     NULL, NULL },
    { "+WAIT",     NULL, NULL, NULL,         wait_exec, NULL },
    { "+FAIL",     NULL, NULL, NULL,         fail_exec, NULL },
    { "+URC",      NULL, NULL, NULL,         urc_exec, NULL },
    { "+USE",      NULL, NULL, NULL,         hello_exec, "+USE: (0-1)" },
    { "+SEND",     NULL, NULL, send_set,     NULL, NULL },
    { "+QUICK",    NULL, NULL, NULL,         quick_exec, NULL },
    { "I",         NULL, NULL, i_exec,       i_exec, NULL },
    { NULL, NULL, NULL, NULL, NULL, NULL },
};
static const tm_at_cmd *const mock_tables[] = { mock_table, tm_at_v250_table, NULL };
static const tm_at_dialect d_noecho = { "mock", TM_AT_SYNTAX_V250, mock_tables, &mock_voice, false, true, false,
                                      false, false };
static const tm_at_dialect d_echo   = { "mock", TM_AT_SYNTAX_V250, mock_tables, &mock_voice, true, true, false,
                                      false, false };

/* SPWF-like dialect */
static void s_ok(tm_at *at) { tm_at_printf(at, "AT-S.OK\r\n"); }
static void s_error(tm_at *at, const tm_reason *why) { tm_at_printf(at, "AT-S.ERROR:%d\r\n", (int)why->code); }
static void s_line(tm_at *at, const char *t) { tm_at_printf(at, "AT-S.%s\r\n", t); }
static const tm_at_voice spwf_voice = { s_ok, s_error, s_line, s_line, NULL };
static tm_err sockw_set(tm_at *at, const tm_at_args *a)
{
    long id, n;
    tm_err e;
    if ((e = tm_at_get_int(at, a, 1, "id", 0, 7, &id)) || (e = tm_at_get_int(at, a, 2, "len", 1, 4096, &n)))
        return e;
    tm_at_data_in d = { (size_t)n, false, false, sink_data, sink_end, sink_room, at, 0 };
    tm_at_data_in_start(at, &d);
    return TM_AT_PENDING;
}
static const tm_at_cmd spwf_table[] = {
    { "+S.SOCKW", NULL, NULL, sockw_set,    NULL, NULL },
    { "+S.ARGS",  NULL, NULL, echoargs_set, hello_exec, NULL },
    { NULL, NULL, NULL, NULL, NULL, NULL },
};
static const tm_at_cmd *const spwf_tables[] = { spwf_table, NULL };
static const tm_at_dialect d_spwf = { "spwf", TM_AT_SYNTAX_SPWF, spwf_tables, &spwf_voice, false, false, false,
                                    false, false };

/* ESP-like dialect: lines typed while a command runs are refused ("busy
 * p..."), backslash escapes inside quotes, terminator echoed as CR LF. */
static void e_busy(tm_at *at) { tm_at_printf(at, "\r\nbusy p...\r\n"); }
static const tm_at_voice esp_voice = { v_ok, v_error, v_line, v_line, e_busy };
static const tm_at_dialect d_esp = { "esp", TM_AT_SYNTAX_V250, mock_tables, &esp_voice, true, true, true,
                                     true, true };

/* ---- scripts ---------------------------------------------------------------- */

enum { END, FEED, NOW, TICK, COMPLETE, SILENT, URC, ROOM, CMEE, DEADLINE, START, DROP };
typedef struct { int op; const char *s; size_t len; long v; } step;
#define F(str)        { FEED, str, sizeof(str) - 1, 0 }
#define FS(ptr, n)    { FEED, ptr, n, 0 }
#define S_NOW(ms)     { NOW, NULL, 0, ms }
#define S_TICK(ms)    { TICK, NULL, 0, ms }
#define S_DONE(code)  { COMPLETE, NULL, 0, code }
#define S_URC(text)   { URC, text, 0, 0 }
#define S_ROOM(n)     { ROOM, NULL, 0, n }
#define S_CMEE(n)     { CMEE, NULL, 0, n }
#define S_DL(ms)      { DEADLINE, NULL, 0, ms }
#define S_END         { END, NULL, 0, 0 }

static char    g_out[1 << 18];
static size_t  g_out_len;
static uint8_t g_in[1 << 15];            /* port-side input not yet taken */
static size_t  g_in_len;
static uint64_t g_rng;
static int64_t g_now;

/* What the port's loop does after a network callback completed a command:
 * it comes around, sees tm_at_next_deadline() due and ticks. */
static void loop_comes_around(void)
{
    int64_t d = tm_at_next_deadline(g_at);
    if (d >= 0 && d <= g_now)
        tm_at_tick(g_at, g_now);
}

static unsigned rnd(void)
{
    g_rng ^= g_rng << 13; g_rng ^= g_rng >> 7; g_rng ^= g_rng << 17;
    return (unsigned)(g_rng >> 11);
}

static void drain(void)
{
    const uint8_t *p;
    size_t n;
    while ((n = tm_at_out_peek(g_at, &p)) > 0) {
        if (g_out_len + n <= sizeof g_out) {
            memcpy(g_out + g_out_len, p, n);
            g_out_len += n;
        }
        tm_at_out_consume(g_at, n);
    }
}

/* Feeds port-side input; chunk 0 = all at once, else random 1..chunk. */
static void pump_input(size_t chunk)
{
    while (g_in_len > 0) {
        size_t n = chunk ? 1 + rnd() % chunk : g_in_len;
        if (n > g_in_len)
            n = g_in_len;
        size_t used = tm_at_feed(g_at, g_in, n);
        drain();
        memmove(g_in, g_in + used, g_in_len - used);
        g_in_len -= used;
        if (used < n)
            break;                        /* backpressure */
    }
}

static void run_script(const tm_at_dialect *d, const step *s, size_t chunk)
{
    tm_at_init(g_at, d, NULL);
    g_out_len = 0;
    g_sink_len = 0;
    g_in_len = 0;
    g_room = SIZE_MAX;
    g_room_violations = 0;
    g_now = 0;
    for (; s->op != END; s++) {
        switch (s->op) {
        case FEED:
            memcpy(g_in + g_in_len, s->s, s->len);
            g_in_len += s->len;
            break;
        case NOW:      g_now = s->v; tm_at_set_now(g_at, s->v); break;
        case TICK:     g_now = s->v; tm_at_tick(g_at, s->v); break;
        case COMPLETE: tm_at_complete(g_at, (tm_err)s->v); loop_comes_around(); break;
        case SILENT:   tm_at_complete_silent(g_at); loop_comes_around(); break;
        case URC:      tm_at_urc(g_at, "%s", s->s); break;
        case ROOM:     g_room = s->v < 0 ? SIZE_MAX : (size_t)s->v; break;
        case CMEE:     tm_at_set_cmee(g_at, (int)s->v); break;
        case DEADLINE: TM_EQ_INT(tm_at_next_deadline(g_at), s->v); break;
        case START: {      /* a pending command enters data mode from a "network" callback */
            tm_at_data_in d = { (size_t)s->v, false, false, sink_data, sink_end, sink_room, g_at, 0 };
            tm_at_line(g_at, "CONNECT");
            tm_at_data_in_start(g_at, &d);
            break;
        }
        case DROP:         /* the connection died during data mode */
            tm_at_data_in_stop(g_at);
            tm_at_v250_result(g_at, "NO CARRIER", 3);
            tm_at_complete_silent(g_at);
            loop_comes_around();
            break;
        }
        drain();
        pump_input(chunk);
    }
    TM_EQ_INT(g_in_len, 0);
    TM_EQ_INT(g_room_violations, 0);
}

/* Runs the script whole and in random chunks; checks output and sink. */
static void check_script(int line, const tm_at_dialect *d, const step *s,
                         const char *want, size_t want_len, const char *want_sink, size_t sink_len)
{
    static char first[1 << 18];
    run_script(d, s, 0);
    TM_CHECK_MSG(g_out_len == want_len && memcmp(g_out, want, want_len) == 0,
                 "line %d: output\n  got  (%zu) \"%.*s\"\n  want (%zu) \"%.*s\"", line, g_out_len,
                 (int)(g_out_len > 600 ? 600 : g_out_len), g_out, want_len,
                 (int)(want_len > 600 ? 600 : want_len), want);
    if (want_sink)
        TM_CHECK_MSG(g_sink_len == sink_len && memcmp(g_sink, want_sink, sink_len) == 0,
                     "line %d: sink got (%zu) \"%.*s\" want \"%.*s\"", line, g_sink_len,
                     (int)(g_sink_len > 300 ? 300 : g_sink_len), g_sink, (int)sink_len, want_sink);
    memcpy(first, g_out, g_out_len);
    size_t first_len = g_out_len;
    static const size_t chunks[] = { 1, 2, 3, 5, 8, 17, 64, 700, 5000 };
    int bad = 0;
    for (unsigned seed = 1; seed <= 60; seed++) {
        g_rng = 0x9E3779B97F4A7C15ull * seed;
        size_t chunk = chunks[seed % (sizeof chunks / sizeof chunks[0])];
        run_script(d, s, chunk);
        bool same = g_out_len == first_len && memcmp(g_out, first, first_len) == 0 &&
                    (!want_sink || (g_sink_len == sink_len && memcmp(g_sink, want_sink, sink_len) == 0));
        if (!same && bad++ == 0)
            fprintf(stderr, "line %d: seed %u chunk %zu differs: \"%.*s\"\n", line, seed, chunk,
                    (int)(g_out_len > 400 ? 400 : g_out_len), g_out);
    }
    TM_CHECK_MSG(bad == 0, "line %d: %d chunked runs differ", line, bad);
}

#define CHECK(d, script, want) check_script(__LINE__, d, script, want, sizeof(want) - 1, NULL, 0)
#define CHECK_SINK(d, script, want, sink) \
    check_script(__LINE__, d, script, want, sizeof(want) - 1, sink, sizeof(sink) - 1)

#define OK "\r\nOK\r\n"

/* ---- transcripts ------------------------------------------------------------ */

static void test_basics(void)
{
    { step s[] = { F("AT\r"), S_END };                      CHECK(&d_noecho, s, OK); }
    { step s[] = { F("at\rAt\raT\r"), S_END };              CHECK(&d_noecho, s, OK OK OK); }
    { step s[] = { F("AT\r"), S_END };                      CHECK(&d_echo, s, "AT\r" OK); }
    { step s[] = { F("ATE0\rAT\rATE1\rAT\r"), S_END };
      CHECK(&d_echo, s, "ATE0\r" OK OK OK "AT\r" OK); }
    { step s[] = { F("ATE0V1\r"), S_END };                  CHECK(&d_echo, s, "ATE0V1\r" OK); }
    { step s[] = { F("ATV0\rAT\rAT+FAIL\rATV1\r"), S_END }; CHECK(&d_noecho, s, "0\r0\r+CME ERROR: 7\r\n" OK); }
    { step s[] = { F("ATQ1\rAT\rATQ0\r"), S_END };          CHECK(&d_noecho, s, OK); }
    /* CRLF, lone LF, blank lines */
    { step s[] = { F("AT\r\nAT+HELLO\nAT\r\n\r\n\n  \r"), S_END };
      CHECK(&d_noecho, s, OK "\r\nhello\r\n" OK OK); }
    { step s[] = { F("AT\r\nAT\r\n"), S_END };              CHECK(&d_echo, s, "AT\r" OK "AT\r" OK); }
    /* backspace and DEL */
    { step s[] = { F("AT+HELX\bLO\rAT+HEL\x7fLLO\r"), S_END };
      CHECK(&d_noecho, s, "\r\nhello\r\n" OK "\r\nhello\r\n" OK); }
    { step s[] = { F("AT+HX\b\r"), S_END };                 CHECK(&d_echo, s, "AT+HX\b\r\r\n+CME ERROR: 2\r\n"); }
    /* a dialect row overrides the V.250 table; I comes from the dialect */
    { step s[] = { F("ATI\rATI0\r"), S_END };
      CHECK(&d_noecho, s, "\r\ntlsmodem-test\r\n" OK "\r\ntlsmodem-test\r\n" OK); }
}

static void test_errors(void)
{
    { step s[] = { S_CMEE(2), F("hello\r"), S_END };
      CHECK(&d_noecho, s, "\r\n+CME ERROR: the command line is malformed: line does not start with AT: \"hello\"\r\n"); }
    { step s[] = { S_CMEE(2), F("\x01\x02 \t\r"), S_END };   CHECK(&d_noecho, s, ""); }
    { step s[] = { S_CMEE(2), F("AT+HE\x01LLO\r"), S_END };
      CHECK(&d_noecho, s, "\r\n+CME ERROR: non-text bytes on the command line: byte 0x01 at position 6 of the line\r\n"); }
    { step s[] = { S_CMEE(2), FS("AT\0\r", 4), S_END };
      CHECK(&d_noecho, s, "\r\n+CME ERROR: non-text bytes on the command line: byte 0x00 at position 3 of the line\r\n"); }
    { step s[] = { S_CMEE(2), F("AT+FOO\r"), S_END };
      CHECK(&d_noecho, s, "\r\n+CME ERROR: unknown command: AT+FOO\r\n"); }
    { step s[] = { F("AT+HELLO?\rAT+CMEE=2\rAT+HELLO=1\r"), S_END };
      CHECK(&d_noecho, s, "\r\n+CME ERROR: 4\r\n" OK
            "\r\n+CME ERROR: this form of the command is not supported: AT+HELLO= (set form)\r\n"); }
    { step s[] = { F("AT+USE=?\r"), S_END };                CHECK(&d_noecho, s, "\r\n+USE: (0-1)\r\n" OK); }
    { step s[] = { F("AT+CMEE=0\rAT+FOO\r"), S_END };       CHECK(&d_noecho, s, OK "\r\nERROR\r\n"); }
    /* chain: an error stops it; one final result per line */
    { step s[] = { F("at+hello;+FAIL;+HELLO\r"), S_END };
      CHECK(&d_noecho, s, "\r\nhello\r\n\r\n+CME ERROR: 7\r\n"); }
    { step s[] = { F("AT+HELLO;+hello ; +HELLO\r"), S_END };
      CHECK(&d_noecho, s, "\r\nhello\r\n\r\nhello\r\n\r\nhello\r\n" OK); }
    { step s[] = { F("AT+HELLO;+FOO;+HELLO\r"), S_END };
      CHECK(&d_noecho, s, "\r\nhello\r\n\r\n+CME ERROR: 2\r\n"); }
    /* syntax error anywhere: nothing runs */
    { step s[] = { S_CMEE(2), F("AT+HELLO;+ECHOARGS=\"abc\r"), S_END };
      CHECK(&d_noecho, s, "\r\n+CME ERROR: the command line is malformed: unterminated quoted string in "
            "parameter 1 of AT+ECHOARGS (opened at position 20)\r\n"); }
    { step s[] = { F("AT+HELLO!\"x\"\r"), S_END };     CHECK(&d_noecho, s, "\r\n+CME ERROR: 1\r\n"); }
}

static void test_args(void)
{
    { step s[] = { F("AT+ECHOARGS=1,,\"a, b ;c\",  x y ;+ECHOARGS=\rAT+ECHOARGS=1,\r"), S_END };
      CHECK(&d_noecho, s, "\r\n4:[1]0[]0o[a, b ;c]1[xy]0\r\n\r\n1:[]0o\r\n" OK "\r\n2:[1]0[]0o\r\n" OK); }
    { step s[] = { F("AT+ECHOARGS=\"\",\"it\xe2\x80\x99s\"\r"), S_END };
      CHECK(&d_noecho, s, "\r\n2:[]1o[it\xe2\x80\x99s]1\r\n" OK); }
    /* seed 000: the HL bearer chain */
    { step s[] = { F("at+echoargs=1,\"GPRS\",\"MYAPN\";+ECHOARGS=1,30,1,30;+hello;+CMEE=1\r"), S_END };
      CHECK(&d_noecho, s, "\r\n3:[1]0[GPRS]1[MYAPN]1\r\n\r\n4:[1]0[30]0[1]0[30]0\r\n\r\nhello\r\n" OK); }
    /* typed getters */
    { step s[] = { S_CMEE(2), F("AT+ARGS=80,\"apn\"\rAT+ARGS=80,\"apn\",3\rAT+ARGS=0,x\r"), S_END };
      CHECK(&d_noecho, s, "\r\nport=80 apn=apn n=7\r\n" OK "\r\nport=80 apn=apn n=3\r\n" OK
            "\r\n+CME ERROR: a parameter is out of range: argument 1 (port) is 0, allowed 1 to 65535\r\n"); }
    { step s[] = { S_CMEE(2), F("AT+ARGS=8x0,a\rAT+ARGS=80\rAT+ARGS=80,a,1,2\rAT+ARGS=1,\"0123456789abcdef\"\r"), S_END };
      CHECK(&d_noecho, s,
            "\r\n+CME ERROR: a parameter is invalid: argument 1 (port) must be a number from 1 to 65535, found \"8x0\"\r\n"
            "\r\n+CME ERROR: a required parameter is missing: argument 2 (apn) is missing\r\n"
            "\r\n+CME ERROR: too many parameters: AT+ARGS takes at most 3 parameters, 4 given\r\n"
            "\r\n+CME ERROR: a parameter is out of range: argument 2 (apn) is 16 bytes long, at most 15 allowed\r\n"); }
    /* typographic quotes */
    { step s[] = { S_CMEE(2), F("AT+ARGS=80,\xe2\x80\x9cMYAPN\xe2\x80\x9d\r"), S_END };
      CHECK(&d_noecho, s, "\r\n+CME ERROR: a parameter uses typographic quotes instead of ASCII double quotes: "
            "argument 2 (apn) is written with typographic quotes \xe2\x80\x9cMYAPN\xe2\x80\x9d; "
            "use plain ASCII double quotes: \"MYAPN\"\r\n"); }
    { step s[] = { F("AT+ECHOARGS=\xe2\x80\x9c" "A, B\xe2\x80\x9d,\xe2\x80\x98x\xe2\x80\x99,\xe2\x80\x9d" "y\"\r"), S_END };
      CHECK(&d_noecho, s, "\r\n3:[A, B]2[x]2[y]2\r\n" OK); }
    { step s[] = { F("AT+ARGS=80,\xe2\x80\x9cMYAPN\r"), S_END };   CHECK(&d_noecho, s, "\r\n+CME ERROR: 1\r\n"); }
}

static void test_lines(void)
{
    /* 5000-byte line: discarded, never executed; the next line works */
    static char big[6000], want[200];
    memcpy(big, "AT+HELLO;+ECHOARGS=", 19);
    memset(big + 19, 'x', 5000 - 19);
    memcpy(big + 5000, "\rAT\r", 4);
    { step s[] = { S_CMEE(2), FS(big, 5004), S_END };
      int n = snprintf(want, sizeof want, "\r\n+CME ERROR: the command line is too long and was discarded: "
                       "5000 bytes, limit %d\r\n" OK, TM_AT_LINE_MAX);
      check_script(__LINE__, &d_noecho, s, want, (size_t)n, NULL, 0); }
    /* echo of an overlong line still happens byte for byte */
    { step s[] = { FS(big, 5001), S_END };
      static char w2[6000];
      memcpy(w2, big, 5001);
      memcpy(w2 + 5001, "\r\n+CME ERROR: 3\r\n", 17);
      check_script(__LINE__, &d_echo, s, w2, 5018, NULL, 0); }
    /* exactly TM_AT_LINE_MAX bytes are accepted, one more is not */
    static char max[TM_AT_LINE_MAX + 4];
    memcpy(max, "AT+LEN=", 7);
    memset(max + 7, 'y', TM_AT_LINE_MAX - 7);
    max[TM_AT_LINE_MAX] = '\r';
    { step s[] = { FS(max, TM_AT_LINE_MAX + 1), S_END };
      int n = snprintf(want, sizeof want, "\r\nlen=%d\r\n" OK, TM_AT_LINE_MAX - 7);
      check_script(__LINE__, &d_noecho, s, want, (size_t)n, NULL, 0); }
    /* 2 KiB quoted argument */
    static char two[2200];
    memcpy(two, "AT+LEN=\"", 8);
    memset(two + 8, 'z', 2048);
    memcpy(two + 8 + 2048, "\"\r", 2);
    { step s[] = { FS(two, 2058), S_END };            CHECK(&d_noecho, s, "\r\nlen=2048\r\n" OK); }
}

static void test_v250(void)
{
    { step s[] = { F("ATS12?\rATS12=10\rATS12?\rATS3?\rATS3=13\rATS3=10\r"), S_END };
      CHECK(&d_noecho, s, "\r\n050\r\n" OK OK "\r\n010\r\n" OK "\r\n013\r\n" OK OK "\r\n+CME ERROR: 18\r\n"); }
    { step s[] = { F("AT&K3\rAT&K2\rAT&F\rAT&D2&C1\rAT&K\r"), S_END };
      CHECK(&d_noecho, s, OK "\r\n+CME ERROR: 8\r\n" OK OK OK); }
    { step s[] = { F("AT+CMEE?\rAT+CMEE=?\rAT+CMEE=2\rAT+CMEE?\rAT+CMEE=3\r"), S_END };
      CHECK(&d_noecho, s, "\r\n+CMEE: 1\r\n" OK "\r\n+CMEE: (0-2)\r\n" OK OK "\r\n+CMEE: 2\r\n" OK
            "\r\n+CME ERROR: a parameter is out of range: argument 1 (n) is 3, allowed 0 to 2\r\n"); }
    { step s[] = { F("ATE0V0Q0\rAT+CMEE=0\rATZ\rAT+CMEE?\r"), S_END };
      CHECK(&d_echo, s, "ATE0V0Q0\r" "0\r" "0\r" OK "AT+CMEE?\r" "\r\n+CMEE: 1\r\n" OK); }
    { step s[] = { F("ATS99?\rATS\r"), S_END };  CHECK(&d_noecho, s, "\r\n+CME ERROR: 18\r\n\r\n+CME ERROR: 1\r\n"); }
    tm_at_init(g_at, &d_noecho, NULL);
    TM_EQ_INT(tm_at_guard_ms(g_at), 1000);
    TM_EQ_INT(tm_at_cmee(g_at), 1);
    TM_CHECK(tm_at_set_pattern(g_at, "") == TM_E_ARG_RANGE);
    TM_CHECK(tm_at_set_pattern(g_at, "a b") == TM_E_ARG_BAD);
    TM_CHECK(tm_at_set_pattern(g_at, "\x01") == TM_E_ARG_BAD);
    TM_EQ_STR(tm_at_pattern(g_at), "--EOF--Pattern--");
    TM_CHECK(tm_at_set_pattern(g_at, "##END##") == TM_OK);
    TM_EQ_STR(tm_at_pattern(g_at), "##END##");
    char longp[TM_AT_PATTERN_MAX + 2];
    memset(longp, 'p', sizeof longp - 1);
    longp[sizeof longp - 1] = '\0';
    TM_CHECK(tm_at_set_pattern(g_at, longp) == TM_E_ARG_RANGE);
    longp[TM_AT_PATTERN_MAX] = '\0';
    TM_CHECK(tm_at_set_pattern(g_at, longp) == TM_OK);
    TM_CHECK(tm_at_sizeof() > TM_OUT_BUF);
}

static void test_pending_urc(void)
{
    { step s[] = { S_URC("+URC: idle"), F("AT\r"), S_END };  CHECK(&d_noecho, s, "\r\n+URC: idle\r\n" OK); }
    { step s[] = { F("AT+WAIT\r"), S_URC("+URC: 1"), F("AT+HELLO\r"), S_DONE(TM_OK), S_END };
      CHECK(&d_noecho, s, OK "\r\n+URC: 1\r\n\r\nhello\r\n" OK); }
    { step s[] = { F("AT+WAIT\r"), S_URC("+URC: 1"), S_URC("+URC: 2"), S_DONE(TM_E_TIMEOUT), S_END };
      CHECK(&d_noecho, s, "\r\n+CME ERROR: 65\r\n\r\n+URC: 1\r\n\r\n+URC: 2\r\n"); }
    /* echo of bytes received while pending happens when they are run */
    { step s[] = { F("AT+WAIT;+HELLO\rAT\r"), S_URC("+URC: 1"), S_DONE(TM_OK), S_END };
      CHECK(&d_echo, s, "AT+WAIT;+HELLO\r\r\nhello\r\n" OK "\r\n+URC: 1\r\n" "AT\r" OK); }
    /* chain continues after a pending command; an error later stops it */
    { step s[] = { F("AT+WAIT;+WAIT;+FAIL;+HELLO\r"), S_DONE(TM_OK), S_DONE(TM_OK), S_END };
      CHECK(&d_noecho, s, "\r\n+CME ERROR: 7\r\n"); }
    { step s[] = { F("AT+WAIT\r"), { SILENT, NULL, 0, 0 }, F("AT\r"), S_END };  CHECK(&d_noecho, s, OK); }
    /* URC while a line is typed: after that line's result */
    { step s[] = { F("AT+HEL"), S_URC("+URC: 2"), F("LO\r"), S_END };
      CHECK(&d_noecho, s, "\r\nhello\r\n" OK "\r\n+URC: 2\r\n"); }
    /* URC raised by a handler itself */
    { step s[] = { F("AT+URC\r"), S_END };               CHECK(&d_noecho, s, OK "\r\n+URC: inside\r\n"); }
    /* completion that fires before the handler returned */
    { step s[] = { F("AT+QUICK;+HELLO\rAT\r"), S_END };  CHECK(&d_noecho, s, "\r\n+CME ERROR: 65\r\n" OK); }
    /* data mode started later by a pending command: held bytes go to the sink */
    { step s[] = { F("AT+WAIT\rhelloAT\r"), { START, NULL, 0, 5 }, S_DL(0), S_TICK(0), S_END };
      CHECK_SINK(&d_noecho, s, "\r\nCONNECT\r\n\r\nEND 0 5\r\n" OK OK, "hello"); }
    { step s[] = { F("AT+SEND=0,1\rab"), { DROP, NULL, 0, 0 }, F("AT\r"), S_END };
      CHECK_SINK(&d_noecho, s, "\r\nCONNECT\r\n\r\nNO CARRIER\r\n" OK, "ab"); }
    /* completion before anything runs is ignored */
    { step s[] = { S_DONE(TM_OK), F("AT\r"), S_END };     CHECK(&d_noecho, s, OK); }
    /* busy flag and held-byte backpressure */
    tm_at_init(g_at, &d_noecho, NULL);
    TM_EQ_INT(tm_at_feed(g_at, (const uint8_t *)"AT+WAIT\r", 8), 8);
    TM_CHECK(tm_at_busy(g_at));
    static uint8_t lots[TM_AT_LINE_MAX + 100];
    memset(lots, ' ', sizeof lots);
    size_t took = tm_at_feed(g_at, lots, sizeof lots);
    TM_EQ_INT(took, TM_AT_LINE_MAX + 2);
    TM_EQ_INT(tm_at_feed(g_at, lots, 10), 0);
    tm_at_complete(g_at, TM_OK);
    TM_CHECK(!tm_at_busy(g_at));
    TM_EQ_INT(tm_at_feed(g_at, lots, 10), 10);
}

/* refuse_while_busy: a line (even an empty one) that arrives while a
 * command runs is answered "busy p..." at its terminator, not echoed and
 * never run; the command's own result and later lines are unaffected; data
 * mode still takes its bytes.  The HL-like dialect holds the same line. */
static void test_refuse_while_busy(void)
{
    { step s[] = { F("AT+WAIT\r\n"), F("AT+HELLO\r\n"), S_DONE(TM_OK), F("AT\r\n"), S_END };
      CHECK(&d_esp, s, "AT+WAIT\r\n" "\r\nbusy p...\r\n" OK "AT\r\n" OK); }
    /* the same bytes in one chunk: the second line is still refused */
    { step s[] = { F("AT+WAIT\r\nAT+HELLO\r\n?\r\n"), S_DONE(TM_E_TIMEOUT), S_END };
      CHECK(&d_esp, s, "AT+WAIT\r\n" "\r\nbusy p...\r\n" "\r\nbusy p...\r\n" "\r\n+CME ERROR: 65\r\n"); }
    /* an extra CR LF behind the command is a (refused) empty line; CR, LF, CR LF count once each */
    { step s[] = { F("AT+WAIT\r\n\r\n"), F("x\ry\n"), S_DONE(TM_OK), S_END };
      CHECK(&d_esp, s, "AT+WAIT\r\n" "\r\nbusy p...\r\n\r\nbusy p...\r\n\r\nbusy p...\r\n" OK); }
    /* without the flag the line is held and run afterwards */
    { step s[] = { F("AT+WAIT\r\nAT+HELLO\r\n"), S_DONE(TM_OK), S_END };
      CHECK(&d_echo, s, "AT+WAIT\r" OK "AT+HELLO\r\r\nhello\r\n" OK); }
    /* data mode is not "busy": its bytes go to the sink */
    { step s[] = { F("AT+SEND=5\rhello"), F("AT\r\n"), S_END };
      CHECK_SINK(&d_esp, s, "AT+SEND=5\r\n\r\nCONNECT\r\n\r\nEND 0 5\r\n" OK "AT\r\n" OK, "hello"); }
    /* backslash escapes inside quotes: \" \\ \, */
    { step s[] = { F("AT+ECHOARGS=\"a\\\"b\\\\c\\,d\",\"x\\y\"\r\n"), S_END };
      CHECK(&d_esp, s, "AT+ECHOARGS=\"a\\\"b\\\\c\\,d\",\"x\\y\"\r\n\r\n2:[a\"b\\c,d]1[xy]1\r\n" OK); }
    /* ...and not in the other dialects */
    { step s[] = { F("AT+ECHOARGS=\"a\\,b\"\r"), S_END };
      CHECK(&d_noecho, s, "\r\n1:[a\\,b]1\r\n" OK); }
}

/* +++ with guard times abandons a pending stream (tm_at_set_abort); '+'
 * without them, or pipelined, are input held for later. */
static void test_abort_pending_stream(void)
{
    /* guard 1000 ms: silence, +++, silence -> the abort runs from the tick */
    { step s[] = { S_NOW(0), F("AT+STREAM\r"), S_NOW(1500), F("+++"), S_DL(2500), S_TICK(2499),
                   S_TICK(2500), F("AT\r"), S_END };
      CHECK(&d_noecho, s, "\r\nNO CARRIER\r\n" OK); }
    /* no silence before: the '+' are input (a line run after the stream ends) */
    { step s[] = { S_NOW(0), F("AT+STREAM\r+++AT\r"), S_TICK(5000), S_DONE(TM_OK), S_END };
      CHECK(&d_noecho, s, OK "\r\n+CME ERROR: 1\r\n"); }
    /* more bytes after +++ within the guard time: not an escape */
    { step s[] = { S_NOW(0), F("AT+STREAM\r"), S_NOW(1500), F("+++"), S_NOW(1600), F("AT\r"),
                   S_TICK(5000), S_DONE(TM_OK), S_END };
      CHECK(&d_noecho, s, OK "\r\n+CME ERROR: 1\r\n"); }
    /* pipelined commands behind the stream stay held; the escape still works */
    { step s[] = { S_NOW(0), F("AT+STREAM\rAT+HELLO\r"), S_NOW(1500), F("+++"), S_TICK(2500), S_END };
      CHECK(&d_noecho, s, "\r\nNO CARRIER\r\n\r\nhello\r\n" OK); }
    /* completion disarms: a later +++ is an ordinary (bad) line */
    { step s[] = { S_NOW(0), F("AT+STREAM\r"), S_DONE(TM_OK), S_NOW(1500), F("+++\r"), S_TICK(3000), S_END };
      CHECK(&d_noecho, s, OK "\r\n+CME ERROR: 1\r\n"); }
}

/* A network callback completes a command and then reads its own session
 * state to build the URC: commands the host pipelined behind it (which may
 * free that session) must not run inside tm_at_complete(), only when the
 * loop comes around.  (Issue 10: AT+KHTTPSGET;AT+KHTTPSDEL use-after-free.) */
static void test_completion_does_not_dispatch(void)
{
    static const struct { const tm_at_dialect *d; const char *in; const char *after_complete;
                          const char *after_tick; } cases[] = {
        /* pipelined line behind a pending command */
        { &d_noecho, "AT+WAIT\rAT+HELLO\r", OK, OK "\r\nhello\r\n" OK },
        /* rest of a ';' chain */
        { &d_noecho, "AT+WAIT;+HELLO\r", "", "\r\nhello\r\n" OK },
        /* failure: final result now, the held line later */
        { &d_noecho, "AT+WAIT\rAT+HELLO\r", NULL, NULL },
        /* SPWF: no chains, pipelined lines only */
        { &d_spwf, "AT+S.SOCKW=0,2\rabAT+S.ARGS\r", NULL, NULL },
    };
    /* case 1 and 2 */
    for (int i = 0; i < 2; i++) {
        tm_at_init(g_at, cases[i].d, NULL);
        g_out_len = 0;
        TM_EQ_INT(tm_at_feed(g_at, (const uint8_t *)cases[i].in, strlen(cases[i].in)), strlen(cases[i].in));
        drain();
        TM_EQ_INT(g_out_len, 0);
        tm_at_complete(g_at, TM_OK);
        drain();
        TM_EQ_INT(g_out_len, strlen(cases[i].after_complete));
        TM_EQ_INT(tm_at_next_deadline(g_at), 0);     /* the loop must come around now */
        tm_at_tick(g_at, 0);
        drain();
        g_out[g_out_len] = '\0';
        TM_EQ_STR(g_out, cases[i].after_tick);
        TM_CHECK(!tm_at_busy(g_at));
    }
    /* case 3: a failed command writes its error at once, the next line waits */
    tm_at_init(g_at, &d_noecho, NULL);
    g_out_len = 0;
    tm_at_feed(g_at, (const uint8_t *)cases[2].in, strlen(cases[2].in));
    tm_at_complete(g_at, TM_E_TIMEOUT);
    drain();
    g_out[g_out_len] = '\0';
    TM_EQ_STR(g_out, "\r\n+CME ERROR: 65\r\n");
    tm_at_tick(g_at, 0);
    drain();
    g_out[g_out_len] = '\0';
    TM_EQ_STR(g_out, "\r\n+CME ERROR: 65\r\n\r\nhello\r\n" OK);
    /* case 4: SPWF data mode ends by count inside the feed: on_end has
     * returned before the engine goes on with the rest of the input */
    tm_at_init(g_at, &d_spwf, NULL);
    g_out_len = 0;
    g_sink_len = 0;
    g_room = SIZE_MAX;
    tm_at_feed(g_at, (const uint8_t *)cases[3].in, strlen(cases[3].in));
    tm_at_tick(g_at, 0);
    drain();
    g_out[g_out_len] = '\0';
    TM_EQ_STR(g_out, "AT-S.END 0 2\r\nAT-S.OK\r\nAT-S.hello\r\nAT-S.OK\r\n");
    /* a second completion of the same command is ignored */
    tm_at_init(g_at, &d_noecho, NULL);
    g_out_len = 0;
    tm_at_feed(g_at, (const uint8_t *)"AT+WAIT;+HELLO\r", 15);
    tm_at_complete(g_at, TM_OK);
    tm_at_complete(g_at, TM_E_TIMEOUT);
    tm_at_tick(g_at, 0);
    drain();
    g_out[g_out_len] = '\0';
    TM_EQ_STR(g_out, "\r\nhello\r\n" OK);
}

static void test_datamode(void)
{
    /* by count, data in the same feed as the command; HL swallows the LF */
    { step s[] = { F("AT+SEND=5\rhelloAT\r"), S_END };
      CHECK_SINK(&d_noecho, s, "\r\nCONNECT\r\n\r\nEND 0 5\r\n" OK OK, "hello"); }
    { step s[] = { F("AT+SEND=5\rhel\r\nAT\r\n"), S_END };
      CHECK_SINK(&d_echo, s, "AT+SEND=5\r\r\nCONNECT\r\n\r\nEND 0 5\r\n" OK "AT\r" OK, "hel\r\n"); }
    /* HL: the LF that comes with the CR in one chunk is part of the terminator;
       a LF sent later (after CONNECT) is payload.  Chunk-dependent by design,
       so these run unchunked. */
    { step s[] = { F("AT+SEND=5\r\nhel\r\n"), S_END };
      run_script(&d_noecho, s, 0);
      TM_EQ_MEM(g_sink, g_sink_len, "hel\r\n", 5); }
    { step s[] = { F("AT+SEND=5\r"), F("\nabcd"), S_END };
      run_script(&d_noecho, s, 0);
      TM_EQ_MEM(g_sink, g_sink_len, "\nabcd", 5); }
    /* by pattern, split across feeds, data holding partial prefixes */
    { step s[] = { F("AT+SEND=0,1\r"), F("a-b--EOF--Pattern-c--EOF--"), F("--EOF--Pat"), F("tern"),
                   F("--AT\r"), S_END };
      CHECK_SINK(&d_noecho, s, "\r\nCONNECT\r\n\r\nEND 1 26\r\n" OK OK, "a-b--EOF--Pattern-c--EOF--"); }
    { step s[] = { F("AT+SEND=0,1\r---EOF--Pattern--"), S_END };
      CHECK_SINK(&d_noecho, s, "\r\nCONNECT\r\n\r\nEND 1 1\r\n" OK, "-"); }
    { step s[] = { F("AT+SEND=0,1\r--EOF--Pattern--"), S_END };
      CHECK_SINK(&d_noecho, s, "\r\nCONNECT\r\n\r\nEND 1 0\r\n" OK, ""); }
    /* count and pattern: count first releases held bytes */
    { step s[] = { F("AT+SEND=6,1\rabc--EAT\r"), S_END };
      CHECK_SINK(&d_noecho, s, "\r\nCONNECT\r\n\r\nEND 0 6\r\n" OK OK, "abc--E"); }
    /* count reached, then the host still sends the EOF pattern (Zephyr's HL78
       driver does): it is swallowed, not parsed as a command line */
    { step s[] = { F("AT+SEND=5,1\rhello--EOF--Pattern--AT\r"), S_END };
      CHECK_SINK(&d_noecho, s, "\r\nCONNECT\r\n\r\nEND 0 5\r\n" OK OK, "hello"); }
    /* a count larger than the data, then the pattern: the pattern ends it
       (the owner sees 3 of 8 bytes), nothing leaks into the command line */
    { step s[] = { F("AT+SEND=8,1\rabc--EOF--Pattern--AT\r"), S_END };
      CHECK_SINK(&d_noecho, s, "\r\nCONNECT\r\n\r\nEND 1 3\r\n" OK OK, "abc"); }
    /* the data itself ends with a pattern prefix and the next command follows:
       the count decides, the command is intact */
    { step s[] = { F("AT+SEND=5,1\rabc--AT\r"), S_END };
      CHECK_SINK(&d_noecho, s, "\r\nCONNECT\r\n\r\nEND 0 5\r\n" OK OK, "abc--"); }
    /* ... and past the count the bytes matched the pattern a little further */
    { step s[] = { F("AT+SEND=5,1\rabc--EOAT\r"), S_END };
      CHECK_SINK(&d_noecho, s, "\r\nCONNECT\r\n\r\nEND 0 5\r\n" OK "\r\n+CME ERROR: 1\r\n", "abc--"); }
    /* ... but only the exact pattern: "--X" after the count is a (bad) command line */
    { step s[] = { F("AT+SEND=5,1\rhello--XAT\r"), S_END };
      CHECK_SINK(&d_noecho, s, "\r\nCONNECT\r\n\r\nEND 0 5\r\n" OK "\r\n+CME ERROR: 1\r\n", "hello"); }
    /* mangled patterns */
    { step s[] = { F("AT+SEND=0,1\rdata\xe2\x80\x93" "EOF\xe2\x80\x93Pattern--AT\r"), S_END };
      CHECK_SINK(&d_noecho, s, "\r\nCONNECT\r\n\r\nEND 3 4\r\n\r\n+CME ERROR: 15\r\n" OK, "data"); }
    { step s[] = { F("AT+SEND=0,1\rx\xe2\x80\x93" "EOF\xe2\x80\x93Pattern\xe2\x80\x93"), S_END };
      CHECK_SINK(&d_noecho, s, "\r\nCONNECT\r\n\r\nEND 3 1\r\n\r\n+CME ERROR: 15\r\n", "x"); }
    { step s[] = { F("AT+SEND=0,1\r\xe2\x80\x94" "EOF\xe2\x80\x94Pattern\xe2\x80\x94"), S_END };
      CHECK_SINK(&d_noecho, s, "\r\nCONNECT\r\n\r\nEND 3 0\r\n\r\n+CME ERROR: 15\r\n", ""); }
    /* a dash that is not part of the pattern reaches the sink */
    { step s[] = { F("AT+SEND=0,1\r\xe2\x80\x93x\xe2\x80\x99--EOF--Pattern--"), S_END };
      CHECK_SINK(&d_noecho, s, "\r\nCONNECT\r\n\r\nEND 1 7\r\n" OK, "\xe2\x80\x93x\xe2\x80\x99"); }
    /* custom pattern */
    { step s[] = { F("AT+SEND=0,1\r"), S_END };
      run_script(&d_noecho, s, 0);
      TM_CHECK(tm_at_in_data_mode(g_at)); }
}

static void test_escape(void)
{
    /* +++ with guard time before and after */
    { step s[] = { S_NOW(0), F("AT+SEND=0,2\r"), S_NOW(100), F("abc"), S_NOW(1200), F("+++"),
                   S_DL(2200), S_TICK(1500), S_TICK(2199), S_TICK(2200), S_DL(-1), F("AT\r"), S_END };
      CHECK_SINK(&d_noecho, s, "\r\nCONNECT\r\n\r\nEND 2 3\r\n" OK OK, "abc"); }
    /* no guard before: data */
    { step s[] = { S_NOW(0), F("AT+SEND=0,2\r"), S_NOW(100), F("a+++b"), S_TICK(5000), S_NOW(6000),
                   F("+++"), S_TICK(7000), S_END };
      CHECK_SINK(&d_noecho, s, "\r\nCONNECT\r\n\r\nEND 2 5\r\n" OK, "a+++b"); }
    /* a byte within the guard after the third '+': data */
    { step s[] = { S_NOW(0), F("AT+SEND=0,2\r"), S_NOW(2000), F("+++"), S_NOW(2500), F("x"),
                   S_TICK(9000), S_NOW(9000), F("++"), S_DL(10000), S_TICK(10000), S_END };
      CHECK_SINK(&d_noecho, s, "\r\nCONNECT\r\n", "+++x++"); }
    /* the next byte after the guard time proves the escape even without a tick */
    { step s[] = { S_NOW(0), F("AT+SEND=0,2\r"), S_NOW(2000), F("+++"), S_NOW(3000), F("AT\r"), S_END };
      CHECK_SINK(&d_noecho, s, "\r\nCONNECT\r\n\r\nEND 2 0\r\n" OK OK, ""); }
    /* escape plus pattern: the escape interrupts a pattern prefix */
    { step s[] = { S_NOW(0), F("AT+SEND=0,3\r"), F("q--EOF"), S_NOW(1000), F("+++"), S_TICK(2000), S_END };
      CHECK_SINK(&d_noecho, s, "\r\nCONNECT\r\n\r\nEND 2 6\r\n" OK, "q--EOF"); }
    /* count reached with '+' candidates: they are data */
    { step s[] = { S_NOW(0), F("AT+SEND=3,2\r"), S_NOW(5000), F("++"), S_NOW(5001), F("+AT\r"), S_END };
      CHECK_SINK(&d_noecho, s, "\r\nCONNECT\r\n\r\nEND 0 3\r\n" OK OK, "+++"); }
}

static void test_backpressure(void)
{
    { step s[] = { S_ROOM(0), F("AT+SEND=10\r0123456789AT\r"), S_ROOM(0), S_ROOM(4), S_ROOM(0), S_ROOM(100), S_END };
      CHECK_SINK(&d_noecho, s, "\r\nCONNECT\r\n\r\nEND 0 10\r\n" OK OK, "0123456789"); }
    { step s[] = { S_ROOM(3), F("AT+SEND=0,1\rab-c--EO--EOF-"), S_ROOM(1), S_ROOM(1), S_ROOM(0), F("-Pattern--AT\r"),
                   S_ROOM(2), S_ROOM(50), S_END };
      CHECK_SINK(&d_noecho, s, "\r\nCONNECT\r\n\r\nEND 1 8\r\n" OK OK, "ab-c--EO"); }
    /* big transfer through a slow sink */
    static char big[20000];
    memcpy(big, "AT+SEND=19000\r", 14);
    for (int i = 0; i < 19000; i++)
        big[14 + i] = (char)('a' + i % 26);
    { step s[] = { S_ROOM(1000), FS(big, 14 + 19000), S_ROOM(7000), S_ROOM(0), S_ROOM(5000), S_ROOM(9000),
                   S_END };
      run_script(&d_noecho, s, 0);
      TM_EQ_INT(g_sink_len, 19000);
      TM_CHECK(memcmp(g_sink, big + 14, 19000) == 0);
      check_script(__LINE__, &d_noecho, s, "\r\nCONNECT\r\n\r\nEND 0 19000\r\n" OK,
                   sizeof "\r\nCONNECT\r\n\r\nEND 0 19000\r\n" OK - 1, big + 14, 19000); }
}

/* idle_ms: a host that stops short of its count ends the data mode
 * (TM_AT_DATA_END_IDLE = 5) after that much silence; a sink without room
 * holds the host back, and that silence does not count. */
static void test_data_idle(void)
{
    { step s[] = { S_NOW(0), F("AT+SEND=10,4\r"), S_NOW(100), F("abc"), S_DL(1100), S_TICK(1099), S_TICK(1100),
                   S_DL(-1), F("AT\r"), S_END };
      CHECK_SINK(&d_noecho, s, "\r\nCONNECT\r\n\r\nEND 5 3\r\n" OK OK, "abc"); }
    /* no room: the host waits for us, however long */
    { step s[] = { S_ROOM(0), S_NOW(0), F("AT+SEND=5,4\r01"), S_TICK(5000), S_TICK(9000), S_DL(10000),
                   S_ROOM(-1), S_NOW(9500), F("234"), S_END };
      CHECK_SINK(&d_noecho, s, "\r\nCONNECT\r\n\r\nEND 0 5\r\n" OK, "01234"); }
    /* a held-back pattern prefix is dropped with the payload */
    { step s[] = { S_NOW(0), F("AT+SEND=0,5\rab--EO"), S_TICK(999), S_TICK(1000), S_END };
      CHECK_SINK(&d_noecho, s, "\r\nCONNECT\r\n\r\nEND 5 2\r\n" OK, "ab"); }
    /* without idle_ms the host may pause for ever */
    { step s[] = { S_NOW(0), F("AT+SEND=10\rabc"), S_DL(-1), S_TICK(100000), S_END };
      CHECK_SINK(&d_noecho, s, "\r\nCONNECT\r\n", "abc"); }
}

/* The port wakes its loop after draining output only when someone may be
 * waiting for room (tm_at_out_take_short): never for an ordinary answer,
 * always once the output came close to full or a producer was refused room. */
static void test_out_short(void)
{
    tm_at_init(g_at, &d_noecho, NULL);
    (void)tm_at_out_take_short(g_at);
    tm_at_write(g_at, "\r\nOK\r\n", 6);
    TM_CHECK(!tm_at_out_take_short(g_at));          /* an answer: no extra loop round */
    static char blk[4096];
    memset(blk, 'x', sizeof blk);
    while (TM_OUT_BUF - tm_at_out_pending(g_at) >= TM_AT_OUT_RESERVE + TM_AT_STREAM_ROOM + sizeof blk)
        tm_at_write(g_at, blk, sizeof blk);
    TM_CHECK(!tm_at_out_take_short(g_at));          /* still room for everyone */
    tm_at_write(g_at, blk, sizeof blk);
    TM_CHECK(tm_at_out_take_short(g_at));           /* close to full: a waiter may exist */
    TM_CHECK(!tm_at_out_take_short(g_at));          /* once */
    const uint8_t *p;
    tm_at_out_consume(g_at, tm_at_out_peek(g_at, &p));
    while (tm_at_out_pending(g_at))
        tm_at_out_consume(g_at, tm_at_out_peek(g_at, &p));
    TM_CHECK(tm_at_out_room(g_at) >= TM_AT_STREAM_ROOM);
    TM_CHECK(!tm_at_out_take_short(g_at));          /* asked and got enough */
}

/* The host writes and does not read: input stops when the output is full,
 * nothing is dropped, every line gets its answer once the host reads. */
static void test_host_not_reading(void)
{
    for (int echo = 0; echo < 2; echo++) {
        tm_at_init(g_at, echo ? &d_echo : &d_noecho, NULL);
        static uint8_t in[3 * 50000];
        for (int i = 0; i < 50000; i++)
            memcpy(in + 3 * i, "AT\r", 3);
        size_t off = 0;
        /* not reading: feed until the engine refuses */
        for (int k = 0; k < 100000 && off < sizeof in; k++) {
            size_t n = tm_at_feed(g_at, in + off, sizeof in - off < 4096 ? sizeof in - off : 4096);
            if (!n)
                break;
            off += n;
        }
        TM_CHECK(off < sizeof in);
        TM_CHECK(tm_at_out_full(g_at));
        TM_EQ_INT(tm_at_out_dropped(g_at), 0);
        TM_CHECK(tm_at_out_pending(g_at) <= TM_OUT_BUF);
        /* the loop must not spin while waiting for the host */
        TM_EQ_INT(tm_at_next_deadline(g_at), -1);
        /* now the host reads everything, writing the rest */
        g_out_len = 0;
        size_t oks = 0;
        static char ring[8];
        for (int k = 0; k < 1000000; k++) {
            const uint8_t *p;
            size_t n;
            while ((n = tm_at_out_peek(g_at, &p)) > 0) {
                for (size_t j = 0; j < n; j++) {
                    memmove(ring, ring + 1, 5);
                    ring[5] = (char)p[j];
                    if (memcmp(ring, "\r\nOK\r\n", 6) == 0)
                        oks++;
                }
                tm_at_out_consume(g_at, n);
            }
            if (off == sizeof in)
                break;
            off += tm_at_feed(g_at, in + off, sizeof in - off < 777 ? sizeof in - off : 777);
        }
        TM_EQ_INT(off, sizeof in);
        TM_EQ_INT(oks, 50000);
        TM_EQ_INT(tm_at_out_dropped(g_at), 0);
    }
    /* a long echoed line against a nearly full output: echo and answer fit */
    tm_at_init(g_at, &d_echo, NULL);
    static uint8_t blob[TM_OUT_BUF];
    memset(blob, 'b', sizeof blob);
    tm_at_write(g_at, blob, TM_OUT_BUF - TM_AT_OUT_RESERVE - 100);
    static uint8_t line[TM_AT_LINE_MAX];
    memcpy(line, "AT+LEN=", 7);
    memset(line + 7, 'x', sizeof line - 8);
    line[sizeof line - 1] = '\r';
    size_t off = 0;
    for (int k = 0; k < 1000 && off < sizeof line; k++) {
        size_t n = tm_at_feed(g_at, line + off, sizeof line - off);
        off += n;
        if (!n) {
            const uint8_t *p;
            size_t m = tm_at_out_peek(g_at, &p);
            tm_at_out_consume(g_at, m < 1000 ? m : 1000);
        }
    }
    TM_EQ_INT(off, sizeof line);
    TM_EQ_INT(tm_at_out_dropped(g_at), 0);
}

/* A spooled answer against a nearly full buffer: complete, then its result. */
static void test_spool(void)
{
    static const struct { const char *cmd; int lines; const char *tail; } cases[] = {
        { "AT+SPOOL=2000\rAT\r", 2000, "yy\r\n\r\nOK\r\n\r\nOK\r\n" },
        { "AT+SPOOL=900,1\r", 900, "yy\r\n\r\n+CME ERROR: 43\r\n" },
        { "AT+SPOOL=5,2\r", 5, "yy\r\n\r\n+CME ERROR: 44\r\n" },
        { "AT+SPOOL=0\rAT+HELLO\r", 0, "\r\nOK\r\n\r\nhello\r\n\r\nOK\r\n" },
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        tm_at_init(g_at, &d_noecho, NULL);
        static uint8_t blob[TM_OUT_BUF];
        memset(blob, 'b', sizeof blob);
        tm_at_write(g_at, blob, tm_at_out_room(g_at) + 1);  /* the host has not read for a while */
        size_t len = strlen(cases[c].cmd);
        TM_EQ_INT(tm_at_feed(g_at, (const uint8_t *)cases[c].cmd, len), 0);   /* full: waits */
        g_out_len = 0;
        size_t off = 0;
        for (int k = 0; k < 100000; k++) {
            const uint8_t *p;
            size_t n = tm_at_out_peek(g_at, &p);
            if (n > 3000)
                n = 3000;
            if (g_out_len + n <= sizeof g_out) {
                memcpy(g_out + g_out_len, p, n);
                g_out_len += n;
            }
            tm_at_out_consume(g_at, n);
            if (off < len)
                off += tm_at_feed(g_at, (const uint8_t *)cases[c].cmd + off, len - off);
            int64_t d = tm_at_next_deadline(g_at);
            if (d >= 0)
                tm_at_tick(g_at, d);
            if (!n && off == len && !tm_at_busy(g_at) && tm_at_out_pending(g_at) == 0)
                break;
        }
        TM_EQ_INT(tm_at_out_dropped(g_at), 0);
        int lines = 0;
        for (char *q = g_out; (q = memmem(q, g_out + g_out_len - q, "+SPOOL: ", 8)) != NULL; q += 8)
            lines++;
        TM_EQ_INT(lines, cases[c].lines);
        size_t tl = strlen(cases[c].tail);
        TM_CHECK_MSG(g_out_len >= tl && memcmp(g_out + g_out_len - tl, cases[c].tail, tl) == 0,
                     "case %zu tail \"%.*s\"", c, 40, g_out_len > 40 ? g_out + g_out_len - 40 : g_out);
    }
}

/* Writing in place (tm_at_out_place/commit): the contiguous free region at
 * the tail, within the room; bytes go out exactly as if written. */
static void test_out_place(void)
{
    tm_at_init(g_at, &d_noecho, NULL);
    uint8_t *w;
    size_t n = tm_at_out_place(g_at, &w);
    TM_EQ_INT(n, TM_OUT_BUF - TM_AT_OUT_RESERVE);            /* empty: the room */
    memcpy(w, "hello", 5);
    tm_at_out_commit(g_at, 5);
    tm_at_write(g_at, " world", 6);                           /* ordinary writes follow it */
    const uint8_t *p;
    n = tm_at_out_peek(g_at, &p);
    TM_EQ_MEM(p, n, "hello world", 11);
    /* near the end of the ring: only up to the end (contiguous) */
    tm_at_init(g_at, &d_noecho, NULL);
    static uint8_t blob[TM_OUT_BUF];
    memset(blob, 'b', sizeof blob);
    tm_at_write(g_at, blob, TM_OUT_BUF - 5000);
    tm_at_out_consume(g_at, TM_OUT_BUF - 6000);              /* 1000 pending, tail 5000 before the end */
    n = tm_at_out_place(g_at, &w);
    TM_EQ_INT(n, 5000);
    memset(w, 'c', n);
    tm_at_out_commit(g_at, n);
    /* wrapped: from the start up to the pending bytes, within the room */
    n = tm_at_out_place(g_at, &w);
    TM_EQ_INT(n, tm_at_out_room(g_at));
    TM_CHECK(n < TM_OUT_BUF - 6000);
    memcpy(w, "dd", 2);
    tm_at_out_commit(g_at, 2);
    TM_EQ_INT(tm_at_out_pending(g_at), 1000 + 5000 + 2);
    n = tm_at_out_peek(g_at, &p);
    TM_EQ_INT(n, 6000);
    TM_CHECK(p[999] == 'b' && p[1000] == 'c' && p[5999] == 'c');
    tm_at_out_consume(g_at, n);
    n = tm_at_out_peek(g_at, &p);
    TM_EQ_MEM(p, n, "dd", 2);
    /* full up to the reserve: no room in place either */
    tm_at_init(g_at, &d_noecho, NULL);
    tm_at_write(g_at, blob, tm_at_out_room(g_at));
    TM_EQ_INT(tm_at_out_place(g_at, &w), 0);
    TM_CHECK(tm_at_out_take_short(g_at));
    /* while an answer is spooled nothing is placed (it would jump the queue) */
    tm_at_init(g_at, &d_noecho, NULL);
    tm_at_spool(g_at);
    TM_EQ_INT(tm_at_out_place(g_at, &w), 0);
    tm_at_cleanup(g_at);
    tm_at_init(g_at, &d_noecho, NULL);
    TM_EQ_INT(tm_at_out_dropped(g_at), 0);
}

/* URCs while the host does not read: queued, not dropped, then in order. */
static void test_urc_backpressure(void)
{
    tm_at_init(g_at, &d_noecho, NULL);
    static uint8_t blob[TM_OUT_BUF];
    memset(blob, 'b', sizeof blob);
    tm_at_write(g_at, blob, tm_at_out_room(g_at));          /* bulk data filled the buffer */
    char big[1000];
    memset(big, 'u', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    for (int i = 0; i < 20; i++)
        tm_at_urc(g_at, "+U: %02d %s", i, big);
    TM_EQ_INT(tm_at_out_dropped(g_at), 0);
    TM_CHECK(tm_at_urc_queued(g_at) > 0);
    TM_EQ_INT(tm_at_next_deadline(g_at), -1);               /* no spinning while full */
    size_t total = 0;
    int seen = 0;
    bool order = true;
    for (int k = 0; k < 100; k++) {
        const uint8_t *p;
        size_t n = tm_at_out_peek(g_at, &p);
        for (size_t j = 0; j + 4 < n; j++)
            if (!memcmp(p + j, "+U: ", 4)) {
                order = order && (p[j + 4] - '0') * 10 + (p[j + 5] - '0') == seen;
                seen++;
            }
        total += n;
        tm_at_out_consume(g_at, n);
        int64_t d = tm_at_next_deadline(g_at);
        if (d >= 0)
            tm_at_tick(g_at, d);
        if (!n && !tm_at_urc_queued(g_at))
            break;
    }
    TM_EQ_INT(seen, 20);
    TM_CHECK(order);
    TM_EQ_INT(tm_at_out_dropped(g_at), 0);
}

/* Drains output in steps of `step` bytes, ticking in between, until the
 * streamed command is done (or max rounds). */
static void stream_drain(size_t step, int rounds)
{
    for (int r = 0; r < rounds; r++) {
        int64_t d = tm_at_next_deadline(g_at);
        if (d >= 0 && d <= g_now)
            tm_at_tick(g_at, g_now);
        const uint8_t *p;
        size_t n = tm_at_out_peek(g_at, &p);
        if (!n && !tm_at_busy(g_at) && (d < 0 || d > g_now))
            return;
        if (n > step)
            n = step;
        if (g_out_len + n <= sizeof g_out) {
            memcpy(g_out + g_out_len, p, n);
            g_out_len += n;
        }
        tm_at_out_consume(g_at, n);
    }
}

static void test_stream(void)
{
    g_now = 0;
    /* 5000 lines of 100 bytes (500 KB, eight times the buffer), a URC during
     * the listing and the next command typed behind it */
    tm_at_init(g_at, &d_noecho, NULL);
    g_out_len = 0;
    static const char cmd[] = "AT+LIST=2000\rAT+HELLO\r";
    TM_EQ_INT(tm_at_feed(g_at, (const uint8_t *)cmd, sizeof cmd - 1), sizeof cmd - 1);
    TM_CHECK(tm_at_busy(g_at));
    TM_EQ_INT(tm_at_next_deadline(g_at), 0);       /* the loop calls the producer at once */
    tm_at_tick(g_at, 0);
    TM_CHECK(tm_at_out_pending(g_at) > 50000);
    TM_CHECK(tm_at_busy(g_at));
    TM_EQ_INT(tm_at_next_deadline(g_at), -1);      /* full: nothing to do until the host reads */
    tm_at_urc(g_at, "+URC: later");
    stream_drain(3000, 100000);
    TM_EQ_INT(tm_at_out_dropped(g_at), 0);
    TM_CHECK(!tm_at_busy(g_at));
    size_t lines = 0;
    bool order = true;
    for (char *q = g_out; (q = memmem(q, g_out + g_out_len - q, "+LIST: ", 7)) != NULL; q += 7) {
        char want[16];
        snprintf(want, sizeof want, "%06zu", lines);
        order = order && memcmp(q + 7, want, 6) == 0;
        lines++;
    }
    TM_EQ_INT(lines, 2000);
    TM_CHECK(order);
    static const char tail[] = "xx\r\n\r\nOK\r\n\r\n+URC: later\r\n\r\nhello\r\n\r\nOK\r\n";
    TM_CHECK_MSG(g_out_len > sizeof tail && memcmp(g_out + g_out_len - (sizeof tail - 1), tail,
                                                   sizeof tail - 1) == 0,
                 "tail \"%.*s\"", 60, g_out + g_out_len - 60);
    /* a streamed answer that ends in an error, inside a chain */
    tm_at_init(g_at, &d_noecho, NULL);
    g_out_len = 0;
    tm_at_feed(g_at, (const uint8_t *)"AT+LIST=7;+HELLO\r", 18);
    stream_drain(100000, 100);
    TM_CHECK(memmem(g_out, g_out_len, "+LIST: 000006", 13) != NULL);
    TM_CHECK(memmem(g_out, g_out_len, "+CME ERROR: 43\r\n", 16) != NULL);
    TM_CHECK(memmem(g_out, g_out_len, "hello", 5) == NULL);
    /* the host goes away in the middle: stop is called, output discarded,
     * the engine takes the next host's line */
    tm_at_init(g_at, &d_noecho, NULL);
    g_out_len = 0;
    g_list_stopped = 0;
    tm_at_feed(g_at, (const uint8_t *)"AT+LIST=100000\rAT+HELLO\r", 25);
    tm_at_tick(g_at, 0);
    stream_drain(1000, 10);
    tm_at_host_gone(g_at);
    TM_EQ_INT(g_list_stopped, 1);
    TM_CHECK(!tm_at_busy(g_at));
    TM_EQ_INT(tm_at_out_pending(g_at), 0);
    g_out_len = 0;
    tm_at_feed(g_at, (const uint8_t *)"AT\r", 3);
    stream_drain(100000, 10);
    TM_EQ_MEM(g_out, g_out_len, "\r\nOK\r\n", 6);
    /* the host goes away during data mode: on_end says so, the held line goes too */
    tm_at_init(g_at, &d_noecho, NULL);
    g_out_len = 0;
    g_room = SIZE_MAX;
    g_sink_len = 0;
    tm_at_feed(g_at, (const uint8_t *)"AT+SEND=100\rabc", 16);
    TM_CHECK(tm_at_in_data_mode(g_at));
    tm_at_host_gone(g_at);
    TM_CHECK(!tm_at_in_data_mode(g_at));
    TM_CHECK(!tm_at_busy(g_at));
    TM_EQ_INT(tm_at_out_pending(g_at), 0);
    tm_at_feed(g_at, (const uint8_t *)"AT+HELLO\r", 9);
    g_out_len = 0;
    stream_drain(100000, 10);
    TM_EQ_MEM(g_out, g_out_len, "\r\nhello\r\n\r\nOK\r\n", 15);
}

static void test_output(void)
{
    tm_at_init(g_at, &d_noecho, NULL);
    TM_EQ_INT(tm_at_out_room(g_at), TM_OUT_BUF - 4096);
    static uint8_t blob[TM_OUT_BUF];
    memset(blob, 'b', sizeof blob);
    tm_at_write(g_at, blob, tm_at_out_room(g_at));
    TM_EQ_INT(tm_at_out_room(g_at), 0);
    tm_at_urc(g_at, "+URC: fits");         /* the reserve keeps room for it */
    TM_EQ_INT(tm_at_out_pending(g_at), TM_OUT_BUF - 4096 + 14);
    TM_EQ_INT(tm_at_out_dropped(g_at), 0);
    tm_at_write(g_at, blob, 5000);           /* beyond everything: counted, not crashing */
    TM_EQ_INT(tm_at_out_pending(g_at), TM_OUT_BUF);
    TM_EQ_INT(tm_at_out_dropped(g_at), 5000 - (4096 - 14));
    /* ring wraps: peek gives contiguous pieces in order */
    tm_at_init(g_at, &d_noecho, NULL);
    tm_at_write(g_at, blob, TM_OUT_BUF - 10);
    tm_at_out_consume(g_at, TM_OUT_BUF - 20);
    tm_at_write(g_at, "0123456789ABCDEFGHIJ", 20);
    const uint8_t *p;
    size_t n = tm_at_out_peek(g_at, &p);
    TM_EQ_INT(n, 20);
    TM_EQ_MEM(p, 10, "bbbbbbbbbb", 10);
    TM_EQ_MEM(p + 10, 10, "0123456789", 10);
    tm_at_out_consume(g_at, n);
    n = tm_at_out_peek(g_at, &p);
    TM_EQ_MEM(p, n, "ABCDEFGHIJ", 10);
}

static void test_spwf(void)
{
    { step s[] = { F("AT+S.SOCKW=0,5\rhelloAT+S.ARGS= a b ,NULL,,\"q\"\rAT+s.args\rAT+S.NOPE\r"), S_END };
      CHECK_SINK(&d_spwf, s, "AT-S.END 0 5\r\nAT-S.OK\r\nAT-S.4:[ a b ]0[NULL]4o[]0o[\"q\"]0\r\nAT-S.OK\r\n"
                 "AT-S.hello\r\nAT-S.OK\r\nAT-S.ERROR:2\r\n", "hello"); }
    { step s[] = { F("AT+S.SOCKW=0,5\r\nhell"), S_END };
      CHECK_SINK(&d_spwf, s, "AT-S.END 0 5\r\nAT-S.OK\r\n", "\nhell"); }
    { step s[] = { F("AT+S.ARGS=a;b\rAT+S.ARGS=\rAT+S.SOCKW=9,1\r"), S_END };
      CHECK(&d_spwf, s, "AT-S.1:[a;b]0\r\nAT-S.OK\r\nAT-S.1:[]0o\r\nAT-S.OK\r\nAT-S.ERROR:8\r\n"); }
}


/* tm_at_urc_late: the text is made when the URC is written.  A count queued
 * behind a running command is the count at flush time; nothing left to say
 * drops it; order with plain URCs is kept. */
static int g_late_count;
static bool late_render(tm_at *at, int key, char *buf, size_t cap)
{
    (void)at;
    if (g_late_count == 0)
        return false;
    snprintf(buf, cap, "+DATA: %d,%d", key, g_late_count);
    return true;
}

static void test_late_urc(void)
{
    tm_at_init(g_at, &d_noecho, NULL);
    g_out_len = 0;
    g_late_count = 5;
    tm_at_urc_late(g_at, late_render, 1);          /* idle: written at once */
    drain();
    TM_EQ_MEM(g_out, g_out_len, "\r\n+DATA: 1,5\r\n", 14);
    g_out_len = 0;
    TM_EQ_INT(tm_at_feed(g_at, (const uint8_t *)"AT+WAIT\r", 8), 8);
    g_late_count = 7;
    tm_at_urc_late(g_at, late_render, 2);          /* queued with 7 available */
    tm_at_urc(g_at, "+URC: after");
    g_late_count = 3;                              /* the running command read 4 */
    tm_at_complete(g_at, TM_OK);
    tm_at_tick(g_at, 0);
    drain();
    static const char want[] = "\r\nOK\r\n\r\n+DATA: 2,3\r\n\r\n+URC: after\r\n";
    TM_EQ_MEM(g_out, g_out_len, want, sizeof want - 1);
    g_out_len = 0;
    TM_EQ_INT(tm_at_feed(g_at, (const uint8_t *)"AT+WAIT\r", 8), 8);
    tm_at_urc_late(g_at, late_render, 3);
    g_late_count = 0;                              /* all read: nothing to announce */
    tm_at_complete(g_at, TM_OK);
    tm_at_tick(g_at, 0);
    drain();
    TM_EQ_MEM(g_out, g_out_len, "\r\nOK\r\n", 6);
    TM_EQ_INT(tm_at_urc_queued(g_at), 0);
}

int main(void)
{
    g_at = calloc(1, tm_at_sizeof());
    test_basics();
    test_errors();
    test_args();
    test_lines();
    test_v250();
    test_pending_urc();
    test_late_urc();
    test_datamode();
    test_escape();
    test_backpressure();
    test_data_idle();
    test_out_short();
    test_completion_does_not_dispatch();
    test_abort_pending_stream();
    test_refuse_while_busy();
    test_output();
    test_host_not_reading();
    test_urc_backpressure();
    test_spool();
    test_out_place();
    test_stream();
    test_spwf();
    free(g_at);
    TM_TEST_MAIN_END();
}
