/* See err.h. */
#include "core/err.h"

#include <stdio.h>
#include <string.h>

const char *tm_err_name(tm_err e)
{
    switch (e) {
#define TM_ERR_NAME(sym, num, text) case sym: return #sym;
        TM_ERR_LIST(TM_ERR_NAME)
#undef TM_ERR_NAME
    }
    return "TM_E_UNKNOWN";
}

const char *tm_err_sentence(tm_err e)
{
    switch (e) {
#define TM_ERR_TEXT(sym, num, text) case sym: return text;
        TM_ERR_LIST(TM_ERR_TEXT)
#undef TM_ERR_TEXT
    }
    return "unknown error";
}

void tm_reason_clear(tm_reason *r)
{
    r->code = TM_OK;
    r->arg_index = 0;
    r->detail[0] = '\0';
}

tm_err tm_vfail(tm_reason *r, tm_err code, const char *fmt, va_list ap)
{
    if (!r)
        return code;
    r->code = code;
    if (fmt)
        vsnprintf(r->detail, sizeof r->detail, fmt, ap);
    else
        r->detail[0] = '\0';
    return code;
}

tm_err tm_fail(tm_reason *r, tm_err code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tm_vfail(r, code, fmt, ap);
    va_end(ap);
    return code;
}

void tm_reason_append(tm_reason *r, const char *fmt, ...)
{
    size_t used = strlen(r->detail);
    if (used + 3 >= sizeof r->detail)
        return;
    if (used) {
        memcpy(r->detail + used, "; ", 3);
        used += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->detail + used, sizeof r->detail - used, fmt, ap);
    va_end(ap);
}

const char *tm_reason_text(const tm_reason *r, char *buf, size_t cap)
{
    if (r->detail[0])
        snprintf(buf, cap, "%s: %s", tm_err_sentence(r->code), r->detail);
    else
        snprintf(buf, cap, "%s", tm_err_sentence(r->code));
    return buf;
}
