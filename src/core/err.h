/* tlsmodem — one error enum for the whole modem.
 *
 * Every failure is one of these codes (stable numbers: hosts and docs rely on
 * them), with a name and one sentence (tm_err_name/tm_err_sentence), plus a
 * per-event detail text carried in a tm_reason: what failed, on which
 * certificate, what was expected and found, what to do.  Dialects map codes to
 * their own numbers (HL +CME ERROR / +KHTTPS_ERROR, SPWF AT-S.ERROR /
 * Certificate Error) and print sentence + detail in verbose mode. */
#ifndef TM_ERR_H
#define TM_ERR_H

#include <stdarg.h>
#include <stddef.h>
#include "config.h"

/* X(symbol, number, "sentence") — numbers never change once released. */
#define TM_ERR_LIST(X) \
    X(TM_OK,                      0, "no error") \
    /* command syntax and arguments: 1..39 */ \
    X(TM_E_SYNTAX,                1, "the command line is malformed") \
    X(TM_E_UNKNOWN_COMMAND,       2, "unknown command") \
    X(TM_E_LINE_TOO_LONG,         3, "the command line is too long and was discarded") \
    X(TM_E_FORM_NOT_SUPPORTED,    4, "this form of the command is not supported") \
    X(TM_E_ARG_MISSING,           5, "a required parameter is missing") \
    X(TM_E_ARG_TOO_MANY,          6, "too many parameters") \
    X(TM_E_ARG_BAD,               7, "a parameter is invalid") \
    X(TM_E_ARG_RANGE,             8, "a parameter is out of range") \
    X(TM_E_ARG_QUOTES,            9, "a parameter uses typographic quotes instead of ASCII double quotes") \
    X(TM_E_BAD_SESSION,          10, "no such session") \
    X(TM_E_SESSION_BUSY,         11, "the session is busy") \
    X(TM_E_NO_SESSION_FREE,      12, "all sessions are in use") \
    X(TM_E_STATE,                13, "not allowed in the current state") \
    X(TM_E_DATA_COUNT,           14, "the number of data bytes does not match the announced count") \
    X(TM_E_DATA_PATTERN_MANGLED, 15, "the data ended with a mangled EOF pattern") \
    X(TM_E_DATA_ABORTED,         16, "data mode was aborted") \
    X(TM_E_BINARY_NOISE,         17, "non-text bytes on the command line") \
    X(TM_E_NOT_SUPPORTED,        18, "operation not supported") \
    X(TM_E_BUSY,                 19, "a command is still running") \
    /* store and credentials: 40..59 */ \
    X(TM_E_CERT_FORMAT,          40, "the data is not a certificate in PEM, DER or base64") \
    X(TM_E_KEY_FORMAT,           41, "the data is not a private key in PEM, DER or base64") \
    X(TM_E_KEY_MISMATCH,         42, "the private key does not belong to the client certificate") \
    X(TM_E_STORE_IO,             43, "the persistent store could not be written") \
    X(TM_E_NOT_FOUND,            44, "no such item in the store") \
    X(TM_E_TOO_LARGE,            45, "the item is larger than the module accepts") \
    X(TM_E_STORE_FULL,           46, "no space left: the file system holds its maximum number of files or bytes") \
    X(TM_E_STORE_CORRUPT,        47, "a stored item is damaged") \
    /* network: 60..79 */ \
    X(TM_E_DNS,                  60, "the host name could not be resolved") \
    X(TM_E_CONNECT_REFUSED,      61, "the server refused the TCP connection") \
    X(TM_E_CONNECT_TIMEOUT,      62, "the TCP connection timed out") \
    X(TM_E_NET,                  63, "network error") \
    X(TM_E_PEER_CLOSED,          64, "the server closed the connection") \
    X(TM_E_TIMEOUT,              65, "the operation timed out") \
    /* TLS and certificates: 100..139 */ \
    X(TM_E_TLS_INIT,            100, "TLS could not be set up") \
    X(TM_E_TLS_HANDSHAKE,       101, "the TLS handshake failed") \
    X(TM_E_TLS_ALERT,           102, "the server aborted the TLS handshake with an alert") \
    X(TM_E_TLS_VERSION,         103, "no common TLS version (tlsmodem requires TLS 1.2 or 1.3)") \
    X(TM_E_TLS_CIPHER,          104, "no common cipher suite") \
    X(TM_E_TLS_SNI_REQUIRED,    105, "the server requires the TLS server name (SNI)") \
    X(TM_E_CERT_UNTRUSTED,      106, "the server certificate chain does not lead to a trusted root") \
    X(TM_E_CERT_CHAIN_INCOMPLETE,107,"the server sent an incomplete certificate chain") \
    X(TM_E_CERT_SELF_SIGNED,    108, "the server certificate is self-signed and not loaded") \
    X(TM_E_CERT_EXPIRED,        109, "a certificate has expired") \
    X(TM_E_CERT_NOT_YET_VALID,  110, "a certificate is not yet valid") \
    X(TM_E_CLOCK_NOT_SET,       111, "the module clock is not set or implausible") \
    X(TM_E_CERT_NAME_MISMATCH,  112, "the certificate names do not include the requested host") \
    X(TM_E_CERT_WEAK_KEY,       113, "a certificate key is too weak") \
    X(TM_E_CERT_WEAK_SIGNATURE, 114, "a certificate is signed with a weak algorithm") \
    X(TM_E_CERT_LEAF_IS_CA,     115, "the server certificate is a CA certificate") \
    X(TM_E_CERT_EKU,            116, "the server certificate is not for TLS server use (EKU)") \
    X(TM_E_CERT_NOT_CA,         117, "an intermediate certificate is not a CA") \
    X(TM_E_CERT_NAME_CONSTRAINT,118, "the host name violates an issuer's name constraints") \
    X(TM_E_CERT_BAD,            119, "a certificate in the chain is invalid") \
    X(TM_E_CLIENT_CERT_REQUIRED,120, "the server requires a client certificate and none is stored") \
    X(TM_E_CLIENT_CERT_REJECTED,121, "the server rejected the client certificate") \
    X(TM_E_PIN_MISMATCH,        122, "the server key does not match the pinned key") \
    X(TM_E_TLS_WEAK_DH,         123, "the server's Diffie-Hellman group is too small") \
    X(TM_E_CA_NOT_FOUND,        124, "no stored CA certificate matches the server's issuer") \
    /* HTTP: 160..179 */ \
    X(TM_E_HTTP_PROTOCOL,       160, "the server's HTTP response is malformed") \
    X(TM_E_HTTP_HEADER_SYNTAX,  161, "a header line is malformed") \
    X(TM_E_HTTP_NO_RESPONSE,    162, "the server sent no HTTP response") \
    X(TM_E_HTTP_BODY_LENGTH,    163, "the request body length does not match Content-Length") \
    X(TM_E_HTTP_TRUNCATED,      164, "the response body was cut short") \
    X(TM_E_HTTP_STATUS,         165, "the server answered with an HTTP error status (400 or above)") \
    /* internal: 250.. */ \
    X(TM_E_INTERNAL,            250, "internal error") \
    X(TM_E_NO_MEMORY,           251, "out of memory")

typedef enum {
#define TM_ERR_ENUM(sym, num, text) sym = num,
    TM_ERR_LIST(TM_ERR_ENUM)
#undef TM_ERR_ENUM
} tm_err;

const char *tm_err_name(tm_err e);      /* "TM_E_CERT_EXPIRED" -> "cert_expired" */
const char *tm_err_sentence(tm_err e);  /* fixed sentence */

/* A failure as it happened: code + detail text + (for argument errors) the
 * 1-based index of the bad argument (0 = none). */
typedef struct {
    tm_err code;
    int    arg_index;
    char   detail[TM_DETAIL_MAX];
} tm_reason;

void tm_reason_clear(tm_reason *r);
/* Sets code and detail (printf format); returns code so handlers can
 * `return tm_fail(r, TM_E_ARG_BAD, "…", …);` */
tm_err tm_fail(tm_reason *r, tm_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
tm_err tm_vfail(tm_reason *r, tm_err code, const char *fmt, va_list ap);
/* Appends "; more" to the detail. */
void tm_reason_append(tm_reason *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "sentence: detail" (or the sentence alone) into buf. */
const char *tm_reason_text(const tm_reason *r, char *buf, size_t cap);

#endif
