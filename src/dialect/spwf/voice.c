/* tlsmodem — how the SPWF dialect says things: AT-S.OK, AT-S.ERROR:<n>:<text>
 * per console_errs, our reason after the text per console_verbose, +WIND
 * lines, and the module's error numbers where the meaning matches
 * (docs/spwf.md has the table). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/trace.h"
#include "dialect/spwf/spwf.h"

int spwf_cert_error(tm_err e)
{
    switch (e) {
    case TM_E_CERT_NAME_MISMATCH:                    return 5;
    case TM_E_CERT_WEAK_KEY: case TM_E_CERT_WEAK_SIGNATURE:
        return 22;
    case TM_E_CA_NOT_FOUND: case TM_E_CERT_UNTRUSTED: case TM_E_CERT_CHAIN_INCOMPLETE:
    case TM_E_CERT_SELF_SIGNED:
        return 23;
    case TM_E_CERT_EXPIRED: case TM_E_CERT_NOT_YET_VALID: case TM_E_CLOCK_NOT_SET:
    case TM_E_CERT_LEAF_IS_CA: case TM_E_CERT_EKU: case TM_E_CERT_NOT_CA:
    case TM_E_CERT_NAME_CONSTRAINT: case TM_E_CERT_BAD: case TM_E_PIN_MISMATCH:
        return (int)e;
    default:
        return 0;
    }
}

int spwf_http_client_error(tm_err e)
{
    if (e == TM_E_HTTP_NO_RESPONSE)
        return 4;
    if (e >= 100 && e < 140)
        return 2;
    return (int)e;
}

void spwf_trace_reason(const char *what, const tm_reason *why)
{
    char text[TM_DETAIL_MAX + 128];
    tm_reason_text(why, text, sizeof text);
    tm_trace("reason", "%s%s%s (%s)", what ? what : "", what ? ": " : "", text, tm_err_name(why->code));
}

/* Line breaks in a reason would end the line early: make them spaces. */
static void one_line(char *s)
{
    for (; *s; s++)
        if (*s == '\r' || *s == '\n')
            *s = ' ';
}

void spwf_error_line(tm_at *at, int n, const char *text, const tm_reason *why)
{
    spwf_state *s = spwf_get(at);
    int errs = s ? spwf_var_int(s, "console_errs") : 2;
    int verbose = s ? spwf_var_int(s, "console_verbose") : 1;
    if (errs <= 0) {
        tm_at_printf(at, "AT-S.ERROR\r\n");
        return;
    }
    if (errs == 1) {
        tm_at_printf(at, "AT-S.ERROR:%d\r\n", n);
        return;
    }
    char line[TM_DETAIL_MAX + 256];
    int o = snprintf(line, sizeof line, "AT-S.ERROR:%d:%s", n, text);
    bool same = why && strcasecmp(text, tm_err_sentence(why->code)) == 0;
    if (verbose && why && (why->detail[0] || !same)) {
        char r[TM_DETAIL_MAX + 128];
        if (same)
            snprintf(r, sizeof r, "%s", why->detail);
        else
            tm_reason_text(why, r, sizeof r);
        if (r[0] && o > 0 && (size_t)o < sizeof line)
            snprintf(line + o, sizeof line - (size_t)o, ": %s", r);
    }
    one_line(line);
    tm_at_printf(at, "%s\r\n", line);
}

static void spwf_ok(tm_at *at)
{
    tm_at_printf(at, "AT-S.OK\r\n");
}

static void spwf_error(tm_at *at, const tm_reason *why)
{
    spwf_trace_reason(NULL, why);
    int ce = spwf_cert_error(why->code);
    if (ce)
        tm_at_printf(at, "AT-S.Certificate Error:%d\r\n", ce);
    char text[256];
    snprintf(text, sizeof text, "%s", tm_err_sentence(why->code));
    text[0] = (char)toupper((unsigned char)text[0]);
    spwf_error_line(at, (int)why->code, text, why);
}

static void spwf_line(tm_at *at, const char *text)
{
    tm_at_printf(at, "%s\r\n", text);
}

static void spwf_urc(tm_at *at, const char *text)
{
    tm_at_printf(at, "%s\r\n", text);
}

const tm_at_voice spwf_voice = {
    .ok = spwf_ok,
    .error = spwf_error,
    .line = spwf_line,
    .urc = spwf_urc,
};
