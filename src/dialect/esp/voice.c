/* tlsmodem — how the ESP-AT dialect says things: V.250 framing (CR LF OK
 * CR LF), ERROR with AT+SYSLOG=1's "ERR CODE:0x01<sub><ext>" before it, our
 * reason in the trace.  (Skeleton: the error-code table is to be completed
 * from Espressif's manual; docs/esp.md lists it.) */
#include <stdio.h>

#include "core/trace.h"
#include "dialect/esp/esp.h"

static void esp_ok(tm_at *at)
{
    tm_at_v250_result(at, "OK", 0);
}

static void esp_error(tm_at *at, const tm_reason *why)
{
    char text[TM_DETAIL_MAX + 128];
    tm_reason_text(why, text, sizeof text);
    tm_trace("reason", "%s (%s)", text, tm_err_name(why->code));
    tm_at_v250_result(at, "ERROR", 4);
}

static void esp_line(tm_at *at, const char *text)
{
    tm_at_v250_line(at, text);
}

static void esp_urc(tm_at *at, const char *text)
{
    tm_at_v250_line(at, text);
}

const tm_at_voice esp_voice = {
    .ok = esp_ok,
    .error = esp_error,
    .line = esp_line,
    .urc = esp_urc,
};
