/* tlsmodem — AT+TMPIN: SPKI SHA-256 pinning per HTTPS/TCP session (vendor
 * extension; the +TM prefix cannot collide with Sierra's +K commands).
 *
 *   AT+TMPIN=<session_id>,"<sha256>"   set: 64 hex digits (colons/spaces between
 *                                      bytes allowed, any case) or base64 of the
 *                                      32 bytes (with or without "sha256//")
 *   AT+TMPIN=<session_id>,""           remove the pin
 *   AT+TMPIN?                          +TMPIN: <id>,"<64 lower-case hex>" per pinned session
 *
 * The pin is checked after the chain and the name verified (it narrows trust,
 * it never replaces it): a mismatch fails the connection with
 * TM_E_PIN_MISMATCH (+KHTTPS_ERROR: <id>,13) and a reason giving both hashes.
 * The pin lives with the session: AT+KHTTPSDEL / AT+KTCPDEL drop it.  Both the
 * HTTPS client and the TCP sockets call hl_tls_apply_pin() on their TLS config.
 * It is enforced always: at sec_level 0 too (only the pin is checked then),
 * at every HTTPS request (a kept-alive connection verified with another pin
 * is closed and a new one made, https.c), and a TCP session's pin cannot
 * change while it is connected (tcp.c) nor be set on a plain TCP session. */
#include <ctype.h>
#include <strings.h>
#include <stdio.h>
#include <string.h>

#include "core/trace.h"
#include "dialect/hl/hl.h"
#include "store/certfmt.h"

void hl_tls_apply_pin(const hl_session *ss, tm_tls_config *t)
{
    if (ss && ss->has_pin)
        t->pin_spki_sha256 = ss->pin;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* 64 hex digits, optionally with ':' or ' ' between bytes.  Returns 1 on
 * success, 0 when the text is not hex at all, -1 when it is hex of the wrong
 * length (detail filled). */
static int parse_hex(const char *s, uint8_t out[32], size_t *ndigits)
{
    size_t n = 0;
    for (const char *p = s; *p; p++) {
        if (*p == ':' || *p == ' ')
            continue;
        int v = hexval((unsigned char)*p);
        if (v < 0)
            return 0;
        if (n < 64)
            out[n / 2] = (uint8_t)(n % 2 ? (out[n / 2] | v) : v << 4);
        n++;
    }
    *ndigits = n;
    return n == 64 ? 1 : -1;
}

static tm_err parse_pin(tm_at *at, const char *text, uint8_t out[32])
{
    tm_reason *why = tm_at_reason(at);
    const char *s = text;
    if (strncasecmp(s, "sha256//", 8) == 0)
        s += 8;
    size_t nd = 0;
    int h = parse_hex(s, out, &nd);
    if (h == 1)
        return TM_OK;
    bool has_colon = strchr(s, ':') != NULL;
    if (h == -1 && (has_colon || nd != 44)) {
        why->arg_index = 2;
        return tm_fail(why, TM_E_ARG_BAD,
                       "argument 2 (spki_sha256) has %zu hex digits; a SHA-256 is 64 hex digits "
                       "(colons allowed) or 44 characters of base64", nd);
    }
    /* base64 (standard or URL-safe alphabet) of exactly 32 bytes */
    char b[128];
    size_t bl = 0;
    for (const char *p = s; *p && bl < sizeof b - 1; p++) {
        char c = *p;
        if (c == '-') c = '+';
        else if (c == '_') c = '/';
        b[bl++] = c;
    }
    b[bl] = '\0';
    if (bl == 43)           /* padding omitted */
        b[bl++] = '=', b[bl] = '\0';
    uint8_t tmp[64];
    long n = tm_base64_decode(b, bl, tmp, sizeof tmp);
    if (n == 32) {
        memcpy(out, tmp, 32);
        return TM_OK;
    }
    why->arg_index = 2;
    if (n > 0)
        return tm_fail(why, TM_E_ARG_BAD,
                       "argument 2 (spki_sha256) \"%s\" is base64 of %ld bytes; a SHA-256 is 32 bytes "
                       "(64 hex digits or 44 characters of base64)", text, n);
    return tm_fail(why, TM_E_ARG_BAD,
                   "argument 2 (spki_sha256) \"%s\" is neither 64 hex digits (colons allowed) nor base64 "
                   "of 32 bytes; e.g. openssl x509 -pubkey -noout | openssl pkey -pubin -outform DER | "
                   "openssl dgst -sha256", text);
}

static hl_session *any_session(tm_at *at, const tm_at_args *a, tm_err *e)
{
    long id;
    *e = tm_at_get_int(at, a, 1, "session_id", 0, 1000000, &id);
    if (*e)
        return NULL;
    hl_state *s = hl_get(at);
    if (id < 1 || id > TM_SESSIONS_MAX || s->sess[id - 1].kind == HL_SESS_FREE) {
        tm_at_reason(at)->arg_index = 1;
        *e = tm_fail(tm_at_reason(at), TM_E_BAD_SESSION,
                     "session %ld is not configured (create one with AT+KHTTPSCFG or AT+KTCPCFG first; "
                     "the pin belongs to the session)", id);
        return NULL;
    }
    return &s->sess[id - 1];
}

tm_err hl_tmpin_set(tm_at *at, const tm_at_args *a)
{
    tm_err e;
    if ((e = tm_at_max_args(at, a, 2)))
        return e;
    hl_session *ss = any_session(at, a, &e);
    if (!ss)
        return e;
    if (a->count < 2)
        return tm_fail(tm_at_reason(at), TM_E_ARG_MISSING,
                       "argument 2 (spki_sha256) is missing; give the SHA-256 of the server's "
                       "SubjectPublicKeyInfo, or \"\" to remove the pin");
    char text[160];
    if (ss->kind == HL_SESS_TCP &&
        (e = hl_tcp_pin_change(ss, !tm_at_omitted(a, 2), tm_at_reason(at))))
        return e;
    if (tm_at_omitted(a, 2)) {
        ss->has_pin = false;
        memset(ss->pin, 0, sizeof ss->pin);
        tm_trace("hl", "session %d: SPKI pin removed", ss->id);
        return TM_OK;
    }
    if ((e = tm_at_get_str(at, a, 2, "spki_sha256", text, sizeof text)))
        return e;
    uint8_t pin[32];
    if ((e = parse_pin(at, text, pin)))
        return e;
    memcpy(ss->pin, pin, 32);
    ss->has_pin = true;
    char hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", pin[i]);
    tm_trace("hl", "session %d: SPKI SHA-256 pin %s", ss->id, hex);
    return TM_OK;
}

tm_err hl_tmpin_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    hl_state *s = hl_get(at);
    for (int i = 0; i < TM_SESSIONS_MAX; i++) {
        hl_session *ss = &s->sess[i];
        if (ss->kind == HL_SESS_FREE || !ss->has_pin)
            continue;
        char hex[65];
        for (int j = 0; j < 32; j++)
            snprintf(hex + 2 * j, 3, "%02x", ss->pin[j]);
        tm_at_line(at, "+TMPIN: %d,\"%s\"", ss->id, hex);
    }
    return TM_OK;
}
