/* tlsmodem — HL78xx TLS profiles: AT+KSSLCRYPTO.
 *
 * AT+KSSLCRYPTO=<profile>,<mkey_algo>,<auth_algo>,<enc_algo>,<mac_algo>,
 *               <tls_version>,<auth_mode>[,<root_cert_idx>]
 * A KTCPCFG mode 3 session names a profile (its 9th argument, default 0) and
 * takes its verification from it.  What maps onto tlsmodem's TLS is applied:
 *   <auth_mode>   0 none (encrypt only: announced, like sec_level 0),
 *                 1 verify the server, 3 verify + client certificate 0 when
 *                 asked (sec_level 2); 2 (client only, server NOT verified)
 *                 is refused: it lowers verification without saying so.
 *   <tls_version> bit mask 1 TLS 1.0, 2 TLS 1.1, 4 TLS 1.2 (8 TLS 1.3, our
 *                 extension); it must contain 4 or 8 — tlsmodem never speaks
 *                 below 1.2, so 1/2 alone are refused; without 8 the session
 *                 stops at TLS 1.2 like the module.
 *   <enc_algo>    must name a cipher family tlsmodem offers (AES-GCM 8192 /
 *                 16384, AES-CBC 64 / 128); a CCM-only mask is refused.
 * <mkey_algo>, <auth_algo>, <mac_algo> and <root_cert_idx> are checked for
 * range and stored (read back); the suites tlsmodem offers are its modern
 * default set and every root loaded with AT+KCERTSTORE=0 is trusted.
 * Nothing is half-applied: a refused command leaves the profile as it was.
 * The HL8548 has no AT+KSSLCRYPTO (its sessions take <cipher_suite>,
 * <sec_level> in KTCPCFG) and answers +CME ERROR 4 with the reason. */
#include <stdio.h>
#include <string.h>

#include "core/trace.h"
#include "dialect/hl/hl.h"

/* The module's factory profile: ECDHE, RSA+ECDSA, AES-128/256 GCM+CBC (25392
 * = 16384|8192|512|256|128|64|16... as the guide lists it), SHA256+384, TLS
 * 1.2, verify the server. */
static const hl_crypto DEFAULT_PROFILE = { 8, 3, 25392, 12, 4, 1, 0 };

void hl_crypto_defaults(hl_state *s)
{
    for (int i = 0; i < HL_CRYPTO_PROFILES; i++)
        s->crypto[i] = DEFAULT_PROFILE;
}

static tm_err need_hl78(tm_at *at)
{
    hl_state *s = hl_get(at);
    if (s->model->hl78)
        return TM_OK;
    return tm_fail(tm_at_reason(at), TM_E_NOT_SUPPORTED, "AT+KSSLCRYPTO is an HL78xx command; the %s "
                   "takes <cipher_suite>,<sec_level> in AT+KTCPCFG / AT+KHTTPSCFG (or start tlsmodem "
                   "with --model hl7800)", s->model->cgmm);
}

tm_err hl_ksslcrypto_set(tm_at *at, const tm_at_args *a)
{
    tm_reason *why = tm_at_reason(at);
    long id;
    hl_crypto p;
    tm_err e;
    if ((e = need_hl78(at)) || (e = tm_at_max_args(at, a, 8)) ||
        (e = tm_at_get_int(at, a, 1, "cipher_suite_index", 0, HL_CRYPTO_PROFILES - 1, &id)) ||
        (e = tm_at_get_int(at, a, 2, "mkey_algo", 1, 255, &p.mkey)) ||
        (e = tm_at_get_int(at, a, 3, "auth_algo", 1, 255, &p.auth_algo)) ||
        (e = tm_at_get_int(at, a, 4, "enc_algo", 1, 65535, &p.enc)) ||
        (e = tm_at_get_int(at, a, 5, "mac_algo", 0, 255, &p.mac)) ||
        (e = tm_at_get_int(at, a, 6, "tls_version", 1, 15, &p.tls_ver)) ||
        (e = tm_at_get_int(at, a, 7, "auth_mode", 0, 3, &p.auth)) ||
        (e = tm_at_opt_int(at, a, 8, "root_cert_idx", 0, 7, 0, &p.root_idx)))
        return e;
    if (!(p.tls_ver & (4 | 8))) {
        why->arg_index = 6;
        return tm_fail(why, TM_E_NOT_SUPPORTED, "tls_version %ld allows only TLS 1.0/1.1; tlsmodem "
                       "speaks TLS 1.2 (4) and 1.3 (8) only", p.tls_ver);
    }
    if (!(p.enc & (64 | 128 | 8192 | 16384))) {
        why->arg_index = 4;
        return tm_fail(why, TM_E_NOT_SUPPORTED, "enc_algo %ld names only AES-CCM suites, which "
                       "tlsmodem does not offer; include AES-GCM (8192, 16384) or AES-CBC (64, 128)",
                       p.enc);
    }
    if (p.auth == 2) {
        why->arg_index = 7;
        return tm_fail(why, TM_E_NOT_SUPPORTED, "auth_mode 2 (client authentication only) would "
                       "not verify the server; use 1 (server) or 3 (mutual), or 0 for an announced "
                       "encrypt-only session");
    }
    hl_state *s = hl_get(at);
    s->crypto[id] = p;
    tm_trace("hl", "TLS profile %ld: tls_version mask %ld, auth_mode %ld (%s)", id, p.tls_ver, p.auth,
             p.auth == 0 ? "server NOT verified" : p.auth == 1 ? "verify server" :
             "verify server, client certificate when asked");
    return TM_OK;
}

tm_err hl_ksslcrypto_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    tm_err e;
    if ((e = need_hl78(at)))
        return e;
    hl_state *s = hl_get(at);
    for (int i = 0; i < HL_CRYPTO_PROFILES; i++) {
        const hl_crypto *p = &s->crypto[i];
        tm_at_line(at, "+KSSLCRYPTO: %d,%ld,%ld,%ld,%ld,%ld,%ld,%ld", i, p->mkey, p->auth_algo, p->enc,
                   p->mac, p->tls_ver, p->auth, p->root_idx);
    }
    return TM_OK;
}

tm_err hl_ksslcrypto_test(tm_at *at, const tm_at_args *a)
{
    (void)a;
    tm_err e;
    if ((e = need_hl78(at)))
        return e;
    tm_at_line(at, "+KSSLCRYPTO: (0-%d),(1-255),(1-255),(1-65535),(0-255),(1-15),(0,1,3),(0-7)",
               HL_CRYPTO_PROFILES - 1);
    return TM_OK;
}

int hl_crypto_tls(const hl_state *s, int profile, tm_tls_config *t)
{
    const hl_crypto *p = &s->crypto[profile];
    t->min_version = 0x0303;
    t->max_version = (p->tls_ver & 8) ? 0x0304 : 0x0303;
    return p->auth == 0 ? 0 : p->auth == 3 ? 2 : 1;
}
