/* See policy.h. */
#include "tls/policy.h"
#include "tls/hostmatch.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char *tstr(int64_t t, char *buf, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm)) {
        snprintf(buf, cap, "(time %lld)", (long long)t);
        return buf;
    }
    strftime(buf, cap, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

static const char *subj(const tm_cert_facts *c)
{
    return c->subject && c->subject[0] ? c->subject : "(empty subject)";
}

static const char *hint(const tm_policy_clock *clk)
{
    return clk->clock_hint && clk->clock_hint[0] ? clk->clock_hint : "the module clock command";
}

static bool date_ok(const tm_cert_facts *c, int64_t t) { return t >= c->not_before && t <= c->not_after; }

tm_err tm_policy_check_dates(const tm_cert_facts *c, const tm_policy_clock *clk, tm_reason *why)
{
    char nb[40], na[40], now[40], host[40];
    tstr(c->not_before, nb, sizeof nb);
    tstr(c->not_after, na, sizeof na);
    if (!clk->clock_set)
        return tm_fail(why, TM_E_CLOCK_NOT_SET,
                       "the module clock is not set, so the validity of depth %d '%s' "
                       "(notBefore %s, notAfter %s) cannot be checked; set the clock (%s)",
                       c->depth, subj(c), nb, na, hint(clk));
    if (date_ok(c, clk->now))
        return TM_OK;
    bool early = clk->now < c->not_before;
    tstr(clk->now, now, sizeof now);
    tstr(clk->host_now, host, sizeof host);
    bool host_passes = date_ok(c, clk->host_now);
    if (clk->trusted)
        goto verdict;
    if (clk->clock_from_cmd && host_passes)
        return tm_fail(why, TM_E_CLOCK_NOT_SET,
                       "module clock %s is %s %s %s of depth %d '%s' (the host clock %s would pass); "
                       "set the clock (%s)",
                       now, early ? "before" : "after", early ? "notBefore" : "notAfter",
                       early ? nb : na, c->depth, subj(c), host, hint(clk));
    if (!clk->clock_from_cmd && clk->now < TM_POLICY_PLAUSIBLE_MIN)
        return tm_fail(why, TM_E_CLOCK_NOT_SET,
                       "module clock %s is implausible and is %s %s %s of depth %d '%s'; "
                       "set the clock (%s)",
                       now, early ? "before" : "after", early ? "notBefore" : "notAfter",
                       early ? nb : na, c->depth, subj(c), hint(clk));
verdict:;
    const char *clock = clk->trusted ? "the time given is" : "module clock is";
    if (early)
        return tm_fail(why, TM_E_CERT_NOT_YET_VALID,
                       "depth %d '%s' is valid only from %s (notBefore); %s %s",
                       c->depth, subj(c), nb, clock, now);
    return tm_fail(why, TM_E_CERT_EXPIRED,
                   "depth %d '%s' expired on %s (notAfter); %s %s",
                   c->depth, subj(c), na, clock, now);
}

bool tm_policy_weak_sig(const char *sig_hash, const char *sig_alg)
{
    static const char *const weak[] = { "MD2", "MD4", "MD5", "SHA1", "SHA-1" };
    if (sig_hash && sig_hash[0]) {
        for (size_t i = 0; i < sizeof weak / sizeof weak[0]; i++)
            if (strcasecmp(sig_hash, weak[i]) == 0)
                return true;
        return false;
    }
    if (!sig_alg)
        return false;
    /* "sha1WithRSAEncryption", "ecdsa-with-SHA1", "dsaWithSHA1", "md5WithRSAEncryption" */
    for (const char *p = sig_alg; *p; p++) {
        if (strncasecmp(p, "md2", 3) == 0 || strncasecmp(p, "md4", 3) == 0 || strncasecmp(p, "md5", 3) == 0)
            return true;
        if (strncasecmp(p, "sha1", 4) == 0 && !(p[4] >= '0' && p[4] <= '9'))
            return true;
        if (strncasecmp(p, "sha-1", 5) == 0 && !(p[5] >= '0' && p[5] <= '9'))
            return true;
    }
    return false;
}

static tm_err check_key(const tm_cert_facts *c, tm_reason *why)
{
    const char *kt = c->key_type ? c->key_type : "";
    int min = 0;
    if (strncasecmp(kt, "RSA", 3) == 0 || strcasecmp(kt, "DSA") == 0)
        min = TM_POLICY_RSA_MIN_BITS;
    else if (strcasecmp(kt, "EC") == 0)
        min = TM_POLICY_EC_MIN_BITS;
    if (min && c->key_bits < min)
        return tm_fail(why, TM_E_CERT_WEAK_KEY,
                       "depth %d '%s'%s has a %s-%d key; at least %d bits are required",
                       c->depth, subj(c), c->is_anchor ? " (the trust anchor)" : "", kt,
                       c->key_bits, min);
    return TM_OK;
}

tm_err tm_policy_check_chain(const tm_cert_facts *chain, size_t n,
                             const tm_policy_clock *clk, tm_reason *why)
{
    if (n == 0)
        return tm_fail(why, TM_E_CERT_BAD, "the server sent no certificate");
    for (size_t i = 0; i < n; i++)
        if (tm_policy_check_dates(&chain[i], clk, why) != TM_OK)
            return why ? why->code : TM_E_CERT_EXPIRED;
    for (size_t i = 0; i < n; i++)
        if (check_key(&chain[i], why) != TM_OK)
            return TM_E_CERT_WEAK_KEY;
    for (size_t i = 0; i < n; i++) {
        const tm_cert_facts *c = &chain[i];
        if (c->is_anchor)
            continue;   /* the anchor's own signature is not relied upon */
        if (tm_policy_weak_sig(c->sig_hash, c->sig_alg))
            return tm_fail(why, TM_E_CERT_WEAK_SIGNATURE,
                           "depth %d '%s' is signed with %s; SHA-256 or better is required",
                           c->depth, subj(c), c->sig_alg && c->sig_alg[0] ? c->sig_alg : c->sig_hash);
    }
    const tm_cert_facts *leaf = &chain[0];
    if (leaf->is_ca && !leaf->is_anchor)
        return tm_fail(why, TM_E_CERT_LEAF_IS_CA,
                       "depth 0 '%s' has basicConstraints CA:TRUE; a server certificate must not "
                       "be a CA (load this exact certificate to pin it)", subj(leaf));
    if (leaf->has_eku && !leaf->eku_server_auth)
        return tm_fail(why, TM_E_CERT_EKU,
                       "depth 0 '%s' has an extendedKeyUsage without serverAuth", subj(leaf));
    for (size_t i = 1; i < n; i++) {
        const tm_cert_facts *c = &chain[i];
        if (!c->is_ca)
            return tm_fail(why, TM_E_CERT_NOT_CA,
                           "depth %d '%s' issued depth %d '%s' but is not a CA (no basicConstraints CA:TRUE)",
                           c->depth, subj(c), chain[i - 1].depth, subj(&chain[i - 1]));
    }
    return TM_OK;
}

/* Appends "DNS:a, DNS:b, IP:1.2.3.4" to buf. */
static void list_names(const tm_name_facts *nf, char *buf, size_t cap)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < nf->n_sans && o + 8 < cap; i++) {
        char ip[64];
        const tm_san *s = &nf->sans[i];
        int w;
        if (s->type == TM_SAN_DNS)
            w = snprintf(buf + o, cap - o, "%sDNS:%s", i ? ", " : "", s->dns ? s->dns : "");
        else
            w = snprintf(buf + o, cap - o, "%sIP:%s", i ? ", " : "",
                         tm_host_ip_str(s->ip, s->ip_len, ip, sizeof ip));
        if (w < 0 || (size_t)w >= cap - o) {
            if (cap >= 8)
                snprintf(buf + cap - 8, 8, ", …");
            return;
        }
        o += (size_t)w;
    }
}

tm_err tm_policy_check_name(const char *name, const tm_name_facts *nf, tm_reason *why)
{
    if (!name || !name[0])
        return tm_fail(why, TM_E_CERT_NAME_MISMATCH, "no host name to check the certificate against");
    uint8_t ip[16];
    int iplen = tm_host_parse_ip(name, ip);
    if (nf->n_sans > 0) {
        for (size_t i = 0; i < nf->n_sans; i++) {
            const tm_san *s = &nf->sans[i];
            if (iplen && s->type == TM_SAN_IP && tm_host_match_ip(s->ip, s->ip_len, name))
                return TM_OK;
            if (!iplen && s->type == TM_SAN_DNS && tm_host_match_dns(s->dns, name))
                return TM_OK;
        }
        char names[700];
        list_names(nf, names, sizeof names);
        tm_fail(why, TM_E_CERT_NAME_MISMATCH, "asked for %s%s; certificate has %s",
                iplen ? "IP " : "", name, names);
        /* Hints for the usual slips. */
        for (size_t i = 0; i < nf->n_sans && why; i++) {
            const tm_san *s = &nf->sans[i];
            if (s->type != TM_SAN_DNS || !s->dns)
                continue;
            const char *refused = tm_host_pattern_refused(s->dns);
            if (iplen && strcasecmp(s->dns, name) == 0)
                tm_reason_append(why, "'%s' is listed as a DNS name; an IP address matches only an IP SAN",
                                 s->dns);
            else if (refused && !iplen)
                tm_reason_append(why, "pattern '%s' is refused (%s)", s->dns, refused);
        }
        if (why && nf->cn && ((iplen && strcmp(nf->cn, name) == 0) ||
                              (!iplen && tm_host_match_dns(nf->cn, name))))
            tm_reason_append(why, "the subject CN '%s' is not used because the certificate has subjectAltNames",
                             nf->cn);
        return TM_E_CERT_NAME_MISMATCH;
    }
    /* No SAN at all: legacy CN fallback (exact for IP literals, as curl). */
    if (nf->cn) {
        if (iplen ? strcmp(nf->cn, name) == 0 : tm_host_match_dns(nf->cn, name))
            return TM_OK;
        return tm_fail(why, TM_E_CERT_NAME_MISMATCH,
                       "asked for %s%s; certificate has no subjectAltName and CN=%s",
                       iplen ? "IP " : "", name, nf->cn);
    }
    return tm_fail(why, TM_E_CERT_NAME_MISMATCH,
                   "asked for %s%s; certificate has no subjectAltName and no CN", iplen ? "IP " : "", name);
}

static void b64(const uint8_t *in, size_t n, char *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n) v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n) v |= in[i + 2];
        out[o++] = tab[(v >> 18) & 63];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? tab[v & 63] : '=';
    }
    out[o] = '\0';
}

tm_err tm_policy_check_pin(const uint8_t *pin, const uint8_t *spki_sha256, tm_reason *why)
{
    if (!pin)
        return TM_OK;
    if (spki_sha256 && memcmp(pin, spki_sha256, 32) == 0)
        return TM_OK;
    char want[48], got[48] = "(none)", wanth[65], goth[65] = "(none)";
    b64(pin, 32, want);
    for (int i = 0; i < 32; i++)
        snprintf(wanth + 2 * i, 3, "%02x", pin[i]);
    if (spki_sha256) {
        b64(spki_sha256, 32, got);
        for (int i = 0; i < 32; i++)
            snprintf(goth + 2 * i, 3, "%02x", spki_sha256[i]);
    }
    return tm_fail(why, TM_E_PIN_MISMATCH, "pinned sha256//%s (hex %s), server key is sha256//%s (hex %s)",
                   want, wanth, got, goth);
}
