/* See trace.h. */
#include "core/trace.h"
#include "port/port.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static tm_trace_sink g_sink;
static void *g_sink_arg;
static char g_ident[64];

void tm_trace_set_ident(const char *ident)
{
    snprintf(g_ident, sizeof g_ident, "%s", ident ? ident : "");
}

void tm_trace_set_sink(tm_trace_sink sink, void *arg)
{
    g_sink = sink;
    g_sink_arg = arg;
}

int tm_trace_enabled(void) { return g_sink != NULL; }

static size_t trace_prefix(char *buf, size_t cap, const char *cat)
{
    long long ms = (long long)tm_port_wall_ms();
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    int n = snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ %s%s%-7s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ms % 1000, g_ident, g_ident[0] ? " " : "", cat);
    return n > 0 ? (size_t)n : 0;
}

void tm_trace(const char *cat, const char *fmt, ...)
{
    if (!g_sink)
        return;
    char line[2048];
    size_t n = trace_prefix(line, sizeof line, cat);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    n += (size_t)m < sizeof line - n - 1 ? (size_t)m : sizeof line - n - 2;
    line[n++] = '\n';
    g_sink(g_sink_arg, line, n);
}

void tm_trace_bytes(const char *cat, const char *prefix, const void *data, size_t len)
{
    if (!g_sink)
        return;
    enum { SHOW = 400 };
    char out[SHOW * 4 + 64];
    size_t o = 0;
    const unsigned char *p = data;
    size_t shown = len < SHOW ? len : SHOW;
    for (size_t i = 0; i < shown; i++) {
        unsigned char c = p[i];
        if (c == '\r') { out[o++] = '\\'; out[o++] = 'r'; }
        else if (c == '\n') { out[o++] = '\\'; out[o++] = 'n'; }
        else if (c >= 0x20 && c < 0x7f && c != '\\') out[o++] = (char)c;
        else o += (size_t)snprintf(out + o, 5, "\\x%02x", c);
    }
    out[o] = '\0';
    if (shown < len)
        tm_trace(cat, "%s%s...(+%zu bytes)", prefix, out, len - shown);
    else
        tm_trace(cat, "%s%s", prefix, out);
}

void tm_trace_progress_start(tm_trace_progress *p)
{
    p->t0 = p->t_last = tm_port_mono_ms();
    p->total = p->at_last = 0;
}

void tm_trace_progress_add(tm_trace_progress *p, const char *cat, const char *label, const char *what,
                           uint64_t n)
{
    p->total += n;
    if (!g_sink || p->total == p->at_last)
        return;
    int64_t now = tm_port_mono_ms();
    if (p->total - p->at_last < TM_TRACE_PROGRESS_BYTES && now - p->t_last < TM_TRACE_PROGRESS_MS)
        return;
    double mib = 1024.0 * 1024.0;
    double dt = (double)(now - p->t_last) / 1000.0, all = (double)(now - p->t0) / 1000.0;
    double rate = dt > 0 ? (double)(p->total - p->at_last) / mib / dt : 0;
    double avg = all > 0 ? (double)p->total / mib / all : 0;
    tm_trace(cat, "%s: %s %.1f MiB so far (%" PRIu64 " bytes) in %.1f s, %.2f MiB/s now, %.2f MiB/s average",
             label, what, (double)p->total / mib, p->total, all, rate, avg);
    p->t_last = now;
    p->at_last = p->total;
}
