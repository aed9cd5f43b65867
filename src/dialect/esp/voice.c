/* tlsmodem — how the ESP-AT dialect says things (docs/esp.md §1, §9).
 *
 * Framing as the firmware writes it: results "\r\nOK\r\n" / "\r\nERROR\r\n",
 * information lines and messages "<text>\r\n" (no leading CR LF),
 * "\r\nready\r\n" and "\r\nbusy p...\r\n" with one.  With AT+SYSLOG=1 a
 * failure adds "ERR CODE:0x01<sub><ext>\r\n" (and "+ERRNO:0x<n>\r\n" for a
 * connection or TLS failure) before ERROR; AT+SYSLOG=2 (tlsmodem) adds
 * "ERR REASON:<sentence: detail>\r\n" too.  The reason always goes to the
 * trace.  Handlers never print ERROR themselves: they return a tm_err. */
#include <stdio.h>
#include <string.h>

#include "core/trace.h"
#include "dialect/esp/esp.h"

/* Sub-categories of the firmware's error codes (ESP-AT "AT+SYSLOG"). */
enum {
    SUB_NO_TERMINATOR = 0x02,
    SUB_NO_AT         = 0x03,
    SUB_PARA_LENGTH   = 0x04,
    SUB_PARA_TYPE     = 0x05,
    SUB_PARA_NUM      = 0x06,
    SUB_PARA_INVALID  = 0x07,
    SUB_PARA_PARSE    = 0x08,
    SUB_UNSUPPORTED   = 0x09,
    SUB_EXEC_FAIL     = 0x0A,
    SUB_PROCESSING    = 0x0B,
    SUB_OP_ERROR      = 0x0C,
};

static uint32_t code(int sub, unsigned ext)
{
    return 0x01000000u | ((uint32_t)sub << 16) | (ext & 0xffffu);
}

/* The firmware numbers the bad parameter from 0. */
static unsigned para(const tm_reason *why)
{
    return why->arg_index > 0 ? (unsigned)(why->arg_index - 1) : 0;
}

uint32_t esp_err_code(const esp_state *s, const tm_reason *why)
{
    uint32_t c;
    switch (why->code) {
    case TM_E_SYNTAX:
        /* the engine's own text for a line without the AT prefix */
        c = strncmp(why->detail, "line does not start with AT", 27) == 0 ? code(SUB_NO_AT, 0)
                                                                        : code(SUB_PARA_PARSE, 0);
        break;
    case TM_E_UNKNOWN_COMMAND:    c = code(SUB_UNSUPPORTED, 0); break;
    case TM_E_FORM_NOT_SUPPORTED: c = code(SUB_OP_ERROR, 0); break;
    case TM_E_LINE_TOO_LONG:      c = code(SUB_PARA_LENGTH, 0); break;
    case TM_E_BINARY_NOISE:       c = code(SUB_PARA_PARSE, 0); break;
    case TM_E_ARG_MISSING:
    case TM_E_ARG_TOO_MANY:       c = code(SUB_PARA_NUM, 0); break;
    case TM_E_ARG_QUOTES:         c = code(SUB_PARA_TYPE, para(why)); break;
    case TM_E_ARG_RANGE:
        /* a string longer than allowed is a length error, a number out of range an invalid one */
        c = strstr(why->detail, "bytes long") ? code(SUB_PARA_LENGTH, para(why)) : code(SUB_PARA_INVALID, para(why));
        break;
    case TM_E_ARG_BAD:            c = code(SUB_PARA_INVALID, para(why)); break;
    case TM_E_BUSY:
    case TM_E_SESSION_BUSY:       c = code(SUB_PROCESSING, 0); break;
    default:                      c = code(SUB_EXEC_FAIL, 0); break;
    }
    if (s && s->err_ext_set)
        c = (c & 0xffff0000u) | s->err_ext;
    return c;
}

void esp_err_ext(esp_state *s, uint16_t ext)
{
    s->err_ext_set = true;
    s->err_ext = ext;
}

void esp_err_errno(esp_state *s, uint32_t errno_value)
{
    s->err_errno_set = true;
    s->err_errno = errno_value;
}

/* +ERRNO for a failed connection: the firmware gives the socket's errno
 * (newlib numbers), for TLS the certificate verification flags first, else
 * the mbedTLS error (its magnitude).  0 = no +ERRNO line. */
static uint32_t errno_of(tm_err e)
{
    switch (e) {
    case TM_E_CONNECT_REFUSED:      return 111;        /* ECONNREFUSED */
    case TM_E_CONNECT_TIMEOUT:
    case TM_E_TIMEOUT:              return 116;        /* ETIMEDOUT */
    case TM_E_NET:
    case TM_E_PEER_CLOSED:          return 104;        /* ECONNRESET */
    case TM_E_CERT_EXPIRED:         return 0x01;       /* MBEDTLS_X509_BADCERT_EXPIRED */
    case TM_E_CERT_NAME_MISMATCH:
    case TM_E_CERT_NAME_CONSTRAINT: return 0x04;       /* BADCERT_CN_MISMATCH */
    case TM_E_CERT_UNTRUSTED:
    case TM_E_CERT_CHAIN_INCOMPLETE:
    case TM_E_CERT_SELF_SIGNED:
    case TM_E_CERT_NOT_CA:
    case TM_E_CA_NOT_FOUND:
    case TM_E_PIN_MISMATCH:         return 0x08;       /* BADCERT_NOT_TRUSTED */
    case TM_E_CERT_LEAF_IS_CA:
    case TM_E_CERT_BAD:             return 0x0100;     /* BADCERT_OTHER */
    case TM_E_CERT_NOT_YET_VALID:
    case TM_E_CLOCK_NOT_SET:        return 0x0200;     /* BADCERT_FUTURE */
    case TM_E_CERT_EKU:             return 0x1000;     /* BADCERT_EXT_KEY_USAGE */
    case TM_E_CERT_WEAK_SIGNATURE:  return 0x4000;     /* BADCERT_BAD_MD */
    case TM_E_CERT_WEAK_KEY:        return 0x10000;    /* BADCERT_BAD_KEY */
    case TM_E_TLS_ALERT:
    case TM_E_TLS_SNI_REQUIRED:
    case TM_E_CLIENT_CERT_REQUIRED:
    case TM_E_CLIENT_CERT_REJECTED: return 0x7780;     /* MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE */
    case TM_E_TLS_HANDSHAKE:
    case TM_E_TLS_VERSION:
    case TM_E_TLS_CIPHER:
    case TM_E_TLS_WEAK_DH:          return 0x6e00;     /* MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE */
    default:                        return 0;
    }
}

static void esp_ok(tm_at *at)
{
    tm_at_printf(at, "\r\nOK\r\n");
}

static void esp_error(tm_at *at, const tm_reason *why)
{
    esp_state *s = esp_get(at);
    char text[TM_DETAIL_MAX + 128];
    tm_reason_text(why, text, sizeof text);
    uint32_t c = esp_err_code(s, why);
    uint32_t en = s && s->err_errno_set ? s->err_errno : errno_of(why->code);
    tm_trace("reason", "%s (%s) -> ERR CODE:0x%08x", text, tm_err_name(why->code), c);
    if (s && s->syslog >= 1) {
        tm_at_printf(at, "ERR CODE:0x%08x\r\n", c);
        if (en)
            tm_at_printf(at, "+ERRNO:0x%x\r\n", en);
        if (s->syslog >= 2) {
            for (char *p = text; *p; p++)      /* one line, whatever the detail holds */
                if (*p == '\r' || *p == '\n')
                    *p = ' ';
            tm_at_printf(at, "ERR REASON:%s\r\n", text);
        }
    }
    if (s) {
        s->err_ext_set = false;
        s->err_errno_set = false;
    }
    tm_at_printf(at, "\r\nERROR\r\n");
}

static void esp_line(tm_at *at, const char *text)
{
    tm_at_printf(at, "%s\r\n", text);
}

/* Messages: "<text>\r\n"; the boot message "ready" has a CR LF before it
 * too (the firmware's "\r\nready\r\n"). */
static void esp_urc(tm_at *at, const char *text)
{
    if (strcmp(text, "ready") == 0)
        tm_at_printf(at, "\r\nready\r\n");
    else
        tm_at_printf(at, "%s\r\n", text);
}

/* A line sent while a command runs: refused, never run later (the engine's
 * refuse_while_busy).  At SYSLOG=1 the firmware's code for it comes first. */
static void esp_busy(tm_at *at)
{
    esp_state *s = esp_get(at);
    if (s && s->syslog >= 1)
        tm_at_printf(at, "ERR CODE:0x%08x\r\n", code(SUB_PROCESSING, 0));
    tm_at_printf(at, "\r\nbusy p...\r\n");
}

const tm_at_voice esp_voice = {
    .ok = esp_ok,
    .error = esp_error,
    .line = esp_line,
    .urc = esp_urc,
    .busy = esp_busy,
};
