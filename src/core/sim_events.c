/* tlsmodem — the control channel's commands (sim.h, docs/control.md).
 *
 * One command per line, words separated by blanks.  The answer is one line
 * of key=value pairs after "ok" or "error"; a value with blanks, quotes or
 * '=' is double-quoted with \" and \\ escaped, so a shell or a test splits
 * it without guessing.  Network events go to the dialect; the clock is the
 * modem's and the same for every dialect. */
#include "core/sim.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/modem.h"
#include "core/trace.h"
#include "port/port.h"

int tm_sim_dns_fail;

#define WORDS_MAX 6

static int answer(char *ans, size_t cap, int rc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int answer(char *ans, size_t cap, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ans, cap, fmt, ap);
    va_end(ap);
    return rc;
}

/* "error code=<name> reason=\"<text>\"" */
static int fail_answer(char *ans, size_t cap, tm_err code, const char *text)
{
    size_t n = (size_t)snprintf(ans, cap, "error code=%s reason=\"", tm_err_name(code));
    for (const char *p = text; *p && n + 3 < cap; p++) {
        if (*p == '"' || *p == '\\')
            ans[n++] = '\\';
        ans[n++] = (*p == '\n' || *p == '\r') ? ' ' : *p;
    }
    if (n + 1 < cap)
        ans[n++] = '"';
    ans[n < cap ? n : cap - 1] = '\0';
    return 1;
}

static int usage_answer(char *ans, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int usage_answer(char *ans, size_t cap, const char *fmt, ...)
{
    char text[TM_DETAIL_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    return fail_answer(ans, cap, TM_E_ARG_BAD, text);
}

static bool parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* "2027-01-31T12:00:00Z" (or without the Z; always UTC) -> seconds since 1970. */
static bool parse_iso(const char *s, int64_t *out)
{
    struct tm t;
    memset(&t, 0, sizeof t);
    int used = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &t.tm_year, &t.tm_mon, &t.tm_mday, &t.tm_hour, &t.tm_min,
               &t.tm_sec, &used) != 6)
        return false;
    if (s[used] && strcmp(s + used, "Z"))
        return false;
    if (t.tm_year < 1970 || t.tm_year > 2999 || t.tm_mon < 1 || t.tm_mon > 12 || t.tm_mday < 1 ||
        t.tm_mday > 31 || t.tm_hour > 23 || t.tm_min > 59 || t.tm_sec > 60)
        return false;
    t.tm_year -= 1900;
    t.tm_mon -= 1;
    int mday = t.tm_mday;
    time_t v = timegm(&t);
    if (t.tm_mday != mday)
        return false;                    /* 2031-02-30: normalised to March, not a date */
    *out = (int64_t)v;
    return true;
}

static void clock_text(const tm_modem *m, char *buf, size_t cap)
{
    time_t now = (time_t)tm_modem_now(m);
    struct tm t;
    gmtime_r(&now, &t);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &t);
}

static const char *clock_mode_name(const tm_modem *m)
{
    return m->clock_mode == TM_CLOCK_SET ? "set" : m->clock_mode == TM_CLOCK_UNSET ? "unset" : "host";
}

static int clock_cmd(tm_modem *m, char **w, int n, char *ans, size_t cap)
{
    char now[32];
    if (n == 3 && !strcmp(w[1], "set")) {
        int64_t t;
        if (!parse_iso(w[2], &t))
            return usage_answer(ans, cap, "clock set \"%s\": expected a UTC time such as 2027-01-31T12:00:00Z", w[2]);
        tm_modem_set_clock(m, t);
    } else if (n == 3 && !strcmp(w[1], "jump")) {
        long s;
        if (!parse_long(w[2], -3153600000L, 3153600000L, &s))
            return usage_answer(ans, cap, "clock jump \"%s\": expected seconds (negative goes back)", w[2]);
        int64_t base = tm_modem_now(m);
        tm_modem_set_clock(m, base + s);
    } else if (n == 2 && !strcmp(w[1], "unset")) {
        m->clock_mode = TM_CLOCK_UNSET;
        m->clock_offset_ms = 0;
    } else if (n == 2 && !strcmp(w[1], "host")) {
        m->clock_mode = TM_CLOCK_HOST;
        m->clock_offset_ms = 0;
    } else if (n != 1) {
        return usage_answer(ans, cap, "clock: expected clock [set <iso> | jump <seconds> | unset | host]");
    }
    clock_text(m, now, sizeof now);
    if (n > 1)
        tm_trace("sim", "clock %s: module clock now %s (%s)", w[1], now, clock_mode_name(m));
    return answer(ans, cap, 0, "ok clock=%s mode=%s", now, clock_mode_name(m));
}

static int event_cmd(tm_modem *m, const char *name, tm_sim_event ev, char *ans, size_t cap)
{
    tm_reason why;
    tm_reason_clear(&why);
    if (!m->dialect->sim_event)
        return fail_answer(ans, cap, TM_E_NOT_SUPPORTED, "this dialect reacts to no network event");
    tm_trace("sim", "event: %s", name);
    tm_err e = m->dialect->sim_event(m, &ev, &why);
    if (e != TM_OK) {
        char text[TM_DETAIL_MAX + 128];
        tm_trace("sim", "event %s refused: %s", name, why.detail);
        return fail_answer(ans, cap, e, why.detail[0] ? why.detail : tm_reason_text(&why, text, sizeof text));
    }
    return answer(ans, cap, 0, "ok event=%s", name);
}

static const char HELP[] =
    "coverage lost|back; reject; pdp drop; socket reset <id>; dns fail on|off; reset; csq <rssi>; "
    "clock [set <iso>|jump <s>|unset|host]; play <file>|stop; status; stats; help";

int tm_sim_command(tm_modem *m, const char *line, char *ans, size_t cap)
{
    char buf[256];
    char *w[WORDS_MAX];
    int n = 0;
    if (strlen(line) >= sizeof buf)
        return usage_answer(ans, cap, "command too long (at most %zu characters)", sizeof buf - 1);
    snprintf(buf, sizeof buf, "%s", line);
    for (char *p = strtok(buf, " \t\r\n"); p; p = strtok(NULL, " \t\r\n")) {
        if (n == WORDS_MAX)
            return usage_answer(ans, cap, "too many words (try help)");
        w[n++] = p;
    }
    if (n == 0)
        return usage_answer(ans, cap, "empty command (try help)");
    const char *c = w[0];
    tm_sim_event ev = { 0, 0 };
    long v;
    if (!strcmp(c, "help") && n == 1)
        return answer(ans, cap, 0, "ok commands=\"%s\"", HELP);
    if (!strcmp(c, "status") && n == 1) {
        char now[32];
        clock_text(m, now, sizeof now);
        return answer(ans, cap, 0, "ok dialect=%s clock=%s mode=%s dns=%s", m->dialect->name, now,
                      clock_mode_name(m), tm_sim_dns_fail ? "fail" : "ok");
    }
    if (!strcmp(c, "clock"))
        return clock_cmd(m, w, n, ans, cap);
    if (!strcmp(c, "coverage") && n == 2 && (!strcmp(w[1], "lost") || !strcmp(w[1], "back"))) {
        ev.kind = !strcmp(w[1], "lost") ? TM_SIM_COVERAGE_LOST : TM_SIM_COVERAGE_BACK;
        return event_cmd(m, ev.kind == TM_SIM_COVERAGE_LOST ? "coverage-lost" : "coverage-back", ev, ans, cap);
    }
    if (!strcmp(c, "reject") && n == 1) {
        ev.kind = TM_SIM_REJECT;
        return event_cmd(m, "reject", ev, ans, cap);
    }
    if (!strcmp(c, "pdp") && n == 2 && !strcmp(w[1], "drop")) {
        ev.kind = TM_SIM_PDP_DROP;
        return event_cmd(m, "pdp-drop", ev, ans, cap);
    }
    if (!strcmp(c, "socket") && n == 3 && !strcmp(w[1], "reset")) {
        if (!parse_long(w[2], 0, 1000, &v))
            return usage_answer(ans, cap, "socket reset \"%s\": expected the socket id the host uses", w[2]);
        ev.kind = TM_SIM_SOCKET_RESET;
        ev.arg = v;
        return event_cmd(m, "socket-reset", ev, ans, cap);
    }
    if (!strcmp(c, "reset") && n == 1) {
        ev.kind = TM_SIM_RESET;
        return event_cmd(m, "reset", ev, ans, cap);
    }
    if (!strcmp(c, "csq") && n == 2) {
        if (!parse_long(w[1], 0, 99, &v) || (v > 31 && v != 99))
            return usage_answer(ans, cap, "csq \"%s\": expected an rssi 0..31 or 99 (unknown)", w[1]);
        ev.kind = TM_SIM_CSQ;
        ev.arg = v;
        return event_cmd(m, "csq", ev, ans, cap);
    }
    if (!strcmp(c, "dns") && n == 3 && !strcmp(w[1], "fail") && (!strcmp(w[2], "on") || !strcmp(w[2], "off"))) {
        tm_sim_dns_fail = !strcmp(w[2], "on");
        tm_trace("sim", "DNS %s", tm_sim_dns_fail ? "fails from now on" : "answers again");
        return answer(ans, cap, 0, "ok dns=%s", tm_sim_dns_fail ? "fail" : "ok");
    }
    if (!strcmp(c, "play") && n == 2 && !strcmp(w[1], "stop"))
        return tm_sim_scenario_stop(ans, cap);
    if (!strcmp(c, "play") && n == 2) {
        char why[TM_DETAIL_MAX];
        int steps = tm_sim_scenario_play(m, w[1], why, sizeof why);
        if (steps < 0)
            return fail_answer(ans, cap, TM_E_ARG_BAD, why);
        return answer(ans, cap, 0, "ok steps=%d", steps);
    }
    return usage_answer(ans, cap, "unknown command \"%s\" (try help)", line);
}
