/* tlsmodem — typed argument getters: every failure names the argument by
 * index and manual name, says what was expected and what was found. */
#include <stdio.h>
#include "at/at_internal.h"

#include <limits.h>
#include <string.h>

bool tm_at_omitted(const tm_at_args *a, int idx)
{
    if (idx < 1 || idx > a->count)
        return true;
    const tm_at_arg *g = &a->v[idx - 1];
    return g->len == 0 || (g->flags & TM_ARG_NULL);
}

static tm_err fail_arg(tm_at *at, int idx, tm_err code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static tm_err fail_arg(tm_at *at, int idx, tm_err code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tm_vfail(&at->reason, code, fmt, ap);
    va_end(ap);
    at->reason.arg_index = idx;
    return code;
}

static tm_err check_quotes(tm_at *at, const tm_at_arg *g, int idx, const char *name)
{
    if (!(g->flags & TM_ARG_SMARTQUOTES))
        return TM_OK;
    return fail_arg(at, idx, TM_E_ARG_QUOTES,
                    "argument %d (%s) is written with typographic quotes \xe2\x80\x9c%.200s\xe2\x80\x9d; "
                    "use plain ASCII double quotes: \"%.200s\"", idx, name, g->p, g->p);
}

static tm_err missing(tm_at *at, int idx, const char *name)
{
    return fail_arg(at, idx, TM_E_ARG_MISSING, "argument %d (%s) is missing", idx, name);
}

tm_err tm_at_get_int(tm_at *at, const tm_at_args *a, int idx, const char *name,
                     long lo, long hi, long *out)
{
    if (tm_at_omitted(a, idx))
        return missing(at, idx, name);
    const tm_at_arg *g = &a->v[idx - 1];
    tm_err e = check_quotes(at, g, idx, name);
    if (e)
        return e;
    const char *s = g->p, *end = g->p + g->len;
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    bool neg = false;
    if (s < end && (*s == '+' || *s == '-'))
        neg = *s++ == '-';
    if (s == end)
        goto bad;
    unsigned long long v = 0;
    bool big = false;
    for (; s < end; s++) {
        if (*s < '0' || *s > '9')
            goto bad;
        v = v * 10 + (unsigned)(*s - '0');
        if (v > (unsigned long long)LONG_MAX)
            big = true, v = (unsigned long long)LONG_MAX;
    }
    long n = neg ? -(long)v : (long)v;
    if (big || n < lo || n > hi)
        return fail_arg(at, idx, TM_E_ARG_RANGE, "argument %d (%s) is %s%.40s, allowed %ld to %ld",
                        idx, name, big ? "too large: " : "", g->p, lo, hi);
    *out = n;
    return TM_OK;
bad:
    return fail_arg(at, idx, TM_E_ARG_BAD, "argument %d (%s) must be a number from %ld to %ld, found \"%.40s\"",
                    idx, name, lo, hi, g->p);
}

tm_err tm_at_opt_int(tm_at *at, const tm_at_args *a, int idx, const char *name,
                     long lo, long hi, long dflt, long *out)
{
    if (tm_at_omitted(a, idx) && !(idx >= 1 && idx <= a->count && (a->v[idx - 1].flags & TM_ARG_SMARTQUOTES))) {
        *out = dflt;
        return TM_OK;
    }
    return tm_at_get_int(at, a, idx, name, lo, hi, out);
}

static tm_err copy_str(tm_at *at, const tm_at_arg *g, int idx, const char *name, char *out, size_t cap)
{
    tm_err e = check_quotes(at, g, idx, name);
    if (e)
        return e;
    if (g->len >= cap)
        return fail_arg(at, idx, TM_E_ARG_RANGE, "argument %d (%s) is %zu bytes long, at most %zu allowed",
                        idx, name, g->len, cap ? cap - 1 : 0);
    memcpy(out, g->p, g->len);
    out[g->len] = '\0';
    return TM_OK;
}

tm_err tm_at_get_str(tm_at *at, const tm_at_args *a, int idx, const char *name,
                     char *out, size_t cap)
{
    if (tm_at_omitted(a, idx)) {
        if (idx >= 1 && idx <= a->count && (a->v[idx - 1].flags & TM_ARG_SMARTQUOTES))
            return check_quotes(at, &a->v[idx - 1], idx, name);   /* “” */
        return missing(at, idx, name);
    }
    return copy_str(at, &a->v[idx - 1], idx, name, out, cap);
}

tm_err tm_at_opt_str(tm_at *at, const tm_at_args *a, int idx, const char *name,
                     char *out, size_t cap, const char *dflt)
{
    if (tm_at_omitted(a, idx)) {
        if (idx >= 1 && idx <= a->count && (a->v[idx - 1].flags & TM_ARG_SMARTQUOTES))
            return check_quotes(at, &a->v[idx - 1], idx, name);
        if (!dflt)
            dflt = "";
        size_t l = strlen(dflt);
        if (cap == 0)
            return TM_OK;
        if (l >= cap)
            l = cap - 1;
        memcpy(out, dflt, l);
        out[l] = '\0';
        return TM_OK;
    }
    return copy_str(at, &a->v[idx - 1], idx, name, out, cap);
}

tm_err tm_at_max_args(tm_at *at, const tm_at_args *a, int max)
{
    if (a->count <= max)
        return TM_OK;
    return fail_arg(at, max + 1, TM_E_ARG_TOO_MANY, "AT%s takes at most %d parameter%s, %d given",
                    at->tok.name, max, max == 1 ? "" : "s", a->count);
}

/* A host name or IP literal: what the user typed must be exactly the host
 * (a user of the HL8548 wrote "www.coursera.org " with a trailing space). */
tm_err tm_at_get_host(tm_at *at, const tm_at_args *a, int idx, const char *name, char *out, size_t cap)
{
    tm_err e = tm_at_get_str(at, a, idx, name, out, cap);
    if (e)
        return e;
    size_t n = strlen(out);
    if (out[0] == ' ' || out[n - 1] == ' ' || out[0] == '\t' || out[n - 1] == '\t') {
        char trimmed[256];
        size_t b = 0, t = n;
        while (b < n && (out[b] == ' ' || out[b] == '\t')) b++;
        while (t > b && (out[t - 1] == ' ' || out[t - 1] == '\t')) t--;
        snprintf(trimmed, sizeof trimmed, "%.*s", (int)(t - b), out + b);
        tm_at_reason(at)->arg_index = idx;
        return tm_fail(tm_at_reason(at), TM_E_ARG_BAD,
                       "argument %d (%s) \"%s\" %s a space; remove it: \"%s\"", idx, name, out,
                       out[n - 1] == ' ' || out[n - 1] == '\t' ? "ends with" : "starts with", trimmed);
    }
    const char *scheme = strstr(out, "://");
    if (scheme) {
        const char *h = scheme + 3;
        size_t hl = strcspn(h, "/?#");
        tm_at_reason(at)->arg_index = idx;
        return tm_fail(tm_at_reason(at), TM_E_ARG_BAD,
                       "argument %d (%s) \"%s\" is a URL, not a host name; give only the host: \"%.*s\" "
                       "(no scheme or path; the path goes in the request)", idx, name, out, (int)hl, h);
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)out[i];
        if (c <= ' ' || c == '/' || c == '"' || c >= 0x7f) {
            tm_at_reason(at)->arg_index = idx;
            return tm_fail(tm_at_reason(at), TM_E_ARG_BAD,
                           "argument %d (%s) \"%s\" is not a host name or IP address "
                           "(character %zu is not allowed; give only the host, no scheme or path)",
                           idx, name, out, i + 1);
        }
    }
    return TM_OK;
}
