/* See trace.h. */
#include "core/trace.h"
#include "port/port.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static tm_trace_sink g_sink;
static void *g_sink_arg;

void tm_trace_set_sink(tm_trace_sink sink, void *arg)
{
    g_sink = sink;
    g_sink_arg = arg;
}

int tm_trace_enabled(void) { return g_sink != NULL; }

static size_t trace_prefix(char *buf, size_t cap, const char *cat)
{
    long long ms = (long long)tm_port_wall_ms();
    long long s = ms / 1000;
    int n = snprintf(buf, cap, "%02lld:%02lld:%02lld.%03lld %-7s ",
                     (s / 3600) % 24, (s / 60) % 60, s % 60, ms % 1000, cat);
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
        tm_trace(cat, "%s%s…(+%zu bytes)", prefix, out, len - shown);
    else
        tm_trace(cat, "%s%s", prefix, out);
}
