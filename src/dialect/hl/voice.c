/* tlsmodem — how the HL dialect says things: V.250 framing, +CME ERROR per
 * AT+CMEE, Sierra's notification codes, our reasons at CMEE=2. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/trace.h"
#include "dialect/hl/hl.h"

/* tm_err -> +CME ERROR number.  Sierra's private 9xx where the meaning
 * matches (docs/hl.md lists the table); 0 = plain "ERROR" at CMEE 1. */
static int cme_code(tm_err e)
{
    switch (e) {
    case TM_E_SYNTAX: case TM_E_UNKNOWN_COMMAND: case TM_E_LINE_TOO_LONG:
    case TM_E_BINARY_NOISE:
        return 0;
    case TM_E_FORM_NOT_SUPPORTED: case TM_E_NOT_SUPPORTED:  return 4;
    case TM_E_ARG_MISSING:                                  return 917;
    case TM_E_ARG_TOO_MANY:                                 return 915;
    case TM_E_ARG_BAD: case TM_E_ARG_RANGE: case TM_E_ARG_QUOTES:
    case TM_E_HTTP_HEADER_SYNTAX: case TM_E_DATA_PATTERN_MANGLED:
    case TM_E_DATA_COUNT:
        return 916;
    case TM_E_BAD_SESSION: case TM_E_NOT_FOUND:             return 910;
    case TM_E_SESSION_BUSY: case TM_E_BUSY:                 return 911;
    case TM_E_NO_SESSION_FREE:                              return 912;
    case TM_E_STATE:                                        return 922;
    case TM_E_CERT_FORMAT: case TM_E_KEY_FORMAT: case TM_E_KEY_MISMATCH:
    case TM_E_TOO_LARGE:
        return 931;
    case TM_E_DATA_ABORTED:                                 return 3;
    case TM_E_NO_MEMORY:                                    return 23;
    case TM_E_STORE_FULL:                                   return 20;   /* 27.007 "memory full" */
    default:                                                return 100;
    }
}

int hl_notif_code(tm_err e)
{
    switch (e) {
    case TM_E_DNS:                                   return 3;
    case TM_E_NO_MEMORY:                             return 2;
    case TM_E_NO_SESSION_FREE:                       return 11;
    case TM_E_BAD_SESSION:                           return 9;
    case TM_E_SESSION_BUSY:                          return 10;
    case TM_E_DATA_COUNT:                            return 8;
    case TM_E_PEER_CLOSED: case TM_E_TLS_ALERT:
    case TM_E_HTTP_TRUNCATED:                        return 4;   /* disconnected by the server */
    case TM_E_CONNECT_REFUSED: case TM_E_NET:        return 5;
    case TM_E_CONNECT_TIMEOUT: case TM_E_TIMEOUT:
    case TM_E_TLS_VERSION: case TM_E_TLS_CIPHER: case TM_E_TLS_WEAK_DH:
        return 12;
    case TM_E_TLS_INIT: case TM_E_KEY_FORMAT: case TM_E_KEY_MISMATCH:
    case TM_E_CERT_FORMAT:
        return 14;
    case TM_E_HTTP_PROTOCOL: case TM_E_HTTP_NO_RESPONSE: case TM_E_HTTP_BODY_LENGTH:
        return 6;
    default:
        if (e >= 100 && e < 140)
            return 13;          /* every verification/handshake failure: SSL connection error */
        return 6;
    }
}

/* Reason text with double quotes made single, so it fits in a quoted field. */
static void reason_quoted(const tm_reason *why, char *buf, size_t cap)
{
    tm_reason_text(why, buf, cap);
    for (char *p = buf; *p; p++)
        if (*p == '"')
            *p = '\'';
}

static void hl_ok(tm_at *at)
{
    tm_at_v250_result(at, "OK", 0);
}

static void hl_error(tm_at *at, const tm_reason *why)
{
    char text[TM_DETAIL_MAX + 128];
    tm_reason_text(why, text, sizeof text);
    tm_trace("reason", "%s (%s)", text, tm_err_name(why->code));
    int level = tm_at_cmee(at);
    if (tm_at_quiet(at))
        return;
    if (level == 2) {
        char line[sizeof text + 16];
        snprintf(line, sizeof line, "+CME ERROR: %s", text);
        tm_at_v250_line(at, line);
        return;
    }
    int code = cme_code(why->code);
    if (level == 0 || code == 0) {
        tm_at_v250_result(at, "ERROR", 4);
        return;
    }
    char line[32];
    snprintf(line, sizeof line, "+CME ERROR: %d", code);
    tm_at_v250_line(at, line);
}

static void hl_line(tm_at *at, const char *text)
{
    tm_at_v250_line(at, text);
}

static void hl_urc(tm_at *at, const char *text)
{
    tm_at_v250_line(at, text);
}

const tm_at_voice hl_voice = {
    .ok = hl_ok,
    .error = hl_error,
    .line = hl_line,
    .urc = hl_urc,
};

void hl_report_failure(tm_at *at, const char *urc_name, int id, const tm_reason *why, bool no_carrier)
{
    char text[TM_DETAIL_MAX + 128];
    tm_reason_text(why, text, sizeof text);
    tm_trace("reason", "session %d: %s (%s)", id, text, tm_err_name(why->code));
    if (no_carrier)
        tm_at_v250_result(at, "NO CARRIER", 3);
    int code = hl_notif_code(why->code);
    if (tm_at_cmee(at) == 2) {
        reason_quoted(why, text, sizeof text);
        tm_at_urc(at, "%s: %d,%d,\"%s\"", urc_name, id, code, text);
    } else {
        tm_at_urc(at, "%s: %d,%d", urc_name, id, code);
    }
}

void hl_warn(tm_at *at, const char *fmt, ...)
{
    char text[TM_DETAIL_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    tm_trace("warn", "%s", text);
    if (tm_at_cmee(at) == 2)
        tm_at_line(at, "+TMWARN: %s", text);
}
