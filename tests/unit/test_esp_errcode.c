/* The ESP-AT voice's code table: each tlsmodem error maps to the firmware's
 * ERR CODE 0x01<sub><ext> (docs/esp.md §9), parameter errors carry the
 * 0-based parameter index, and a part's extension replaces the table's. */
#include "tm_test.h"
#include "dialect/esp/esp.h"

static uint32_t code_of(tm_err e, int arg_index, const char *detail)
{
    tm_reason r;
    tm_fail(&r, e, "%s", detail);
    r.arg_index = arg_index;
    return esp_err_code(NULL, &r);
}

int main(void)
{
    TM_EQ_INT(code_of(TM_E_UNKNOWN_COMMAND, 0, "AT+FAKE"), 0x01090000);
    TM_EQ_INT(code_of(TM_E_SYNTAX, 0, "line does not start with AT: \"?\""), 0x01030000);
    TM_EQ_INT(code_of(TM_E_SYNTAX, 0, "unterminated quoted string in parameter 1"), 0x01080000);
    TM_EQ_INT(code_of(TM_E_BINARY_NOISE, 0, "byte 0x01"), 0x01080000);
    TM_EQ_INT(code_of(TM_E_LINE_TOO_LONG, 0, "5000 bytes"), 0x01040000);
    TM_EQ_INT(code_of(TM_E_FORM_NOT_SUPPORTED, 0, "AT+GMR?"), 0x010C0000);
    TM_EQ_INT(code_of(TM_E_ARG_MISSING, 5, "argument 5 (flow control) is missing"), 0x01060000);
    TM_EQ_INT(code_of(TM_E_ARG_TOO_MANY, 6, "at most 5"), 0x01060000);
    TM_EQ_INT(code_of(TM_E_ARG_BAD, 1, "argument 1 (ip)"), 0x01070000);
    TM_EQ_INT(code_of(TM_E_ARG_RANGE, 5, "argument 5 (flow control) is 9, allowed 0 to 3"), 0x01070004);
    TM_EQ_INT(code_of(TM_E_ARG_RANGE, 2, "argument 2 (pwd) is 70 bytes long, at most 64 allowed"), 0x01040001);
    TM_EQ_INT(code_of(TM_E_ARG_QUOTES, 3, "typographic"), 0x01050002);
    TM_EQ_INT(code_of(TM_E_BUSY, 0, "running"), 0x010B0000);
    TM_EQ_INT(code_of(TM_E_SESSION_BUSY, 0, "link busy"), 0x010B0000);
    /* everything the module tried and could not do: execution failed */
    static const tm_err exec[] = { TM_E_STATE, TM_E_NET, TM_E_DNS, TM_E_CONNECT_REFUSED, TM_E_CERT_UNTRUSTED,
                                   TM_E_TLS_HANDSHAKE, TM_E_STORE_IO, TM_E_HTTP_PROTOCOL, TM_E_INTERNAL };
    for (size_t i = 0; i < sizeof exec / sizeof exec[0]; i++)
        TM_EQ_INT(code_of(exec[i], 0, "x"), 0x010A0000);
    /* a part's own extension for the next error (HTTP 404 -> 0x7194) */
    esp_state s;
    memset(&s, 0, sizeof s);
    esp_err_ext(&s, 0x7000 | 404);
    tm_reason r;
    tm_fail(&r, TM_E_HTTP_PROTOCOL, "404");
    TM_EQ_INT(esp_err_code(&s, &r), 0x010A7194);
    TM_TEST_MAIN_END();
}
