/* The strict certificate profile: one table row per rule (see policy.h and
 * docs/tls.md "Strict certificate profile").
 *
 * OpenSSL's X509_V_FLAG_X509_STRICT is set on every verification as a floor
 * (backend_openssl.c); this table is the ceiling and the voice: it covers
 * the same RFC 5280 rules and more (serials, DNS syntax of SANs, DSA, root
 * AKI, name constraints in leaves, the Web PKI EKU rules) and names the
 * certificate and the rule.  It works on tm_cert_facts only, so the modem's
 * handshake and `tlsmodem-cert verify` (which runs that same handshake) can
 * never disagree, and the unit test drives it without OpenSSL.
 *
 * Roles: the rules depend on what a certificate is used as in the path.
 *   LEAF   depth 0, not loaded by the host
 *   PIN    depth 0 and the trust anchor: the host loaded exactly this
 *          certificate, so its bytes are trusted and its CA-side structure
 *          (AKI/SKI/keyUsage/serial…) is not relied upon; only what the
 *          handshake itself needs is checked (no DSA)
 *   INTER  above the leaf, not self-signed (a loaded intermediate too)
 *   ROOT   above the leaf, self-signed */
#include "tls/policy.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

enum { LEAF = 1, PIN = 2, INTER = 4, ROOT = 8, ALL = LEAF | PIN | INTER | ROOT, NOT_PIN = LEAF | INTER | ROOT,
       CA = INTER | ROOT };

typedef struct {
    const tm_cert_facts *c;
    int                  role;
    tm_trust_origin      origin;
} rule_ctx;

typedef struct {
    const char *id;
    const char *ref;            /* where the rule comes from */
    int         roles;
    bool        web_pki_only;   /* only when trust is the default CA bundle */
    tm_err      err;
    /* true when the certificate breaks the rule; writes the "what" part */
    bool      (*broken)(const rule_ctx *x, char *what, size_t cap);
} rule;

#define W(...) (snprintf(what, cap, __VA_ARGS__), true)

static bool is_dsa_key(const tm_cert_facts *c) { return c->key_type && strcasecmp(c->key_type, "DSA") == 0; }

static bool is_dsa_sig(const tm_cert_facts *c)
{
    /* "dsaWithSHA256", "dsa_with_SHA256", "id-dsa-with-sha1"; never "ecdsa-with-…" */
    const char *a = c->sig_alg ? c->sig_alg : "";
    for (const char *p = a; *p; p++)
        if (strncasecmp(p, "dsa", 3) == 0 && (p == a || (p[-1] != 'c' && p[-1] != 'C')))
            return true;
    return false;
}

static bool r_v1(const rule_ctx *x, char *what, size_t cap)
{
    return x->c->prof.v1 &&
           W("is an X.509 version 1 certificate: it has no extensions, so it cannot say whether it is a CA "
             "or what its key may be used for");
}

static bool r_dsa_key(const rule_ctx *x, char *what, size_t cap)
{
    return is_dsa_key(x->c) &&
           W("has a DSA key; tlsmodem uses RSA, ECDSA and Ed25519 certificates only (no TLS 1.3 signature "
             "and none of the offered TLS 1.2 suites can use DSA: the handshake would fail with 'wrong "
             "certificate type')");
}

static bool r_dsa_sig(const rule_ctx *x, char *what, size_t cap)
{
    return !x->c->is_anchor && is_dsa_sig(x->c) &&
           W("is signed with DSA (%s); DSA signatures are not accepted", x->c->sig_alg);
}

static bool r_serial(const rule_ctx *x, char *what, size_t cap)
{
    switch (x->c->prof.serial_problem) {
    case 1: return W("has serial number 0; a serial number must be a positive integer");
    case 2: return W("has a negative serial number; a serial number must be a positive integer");
    case 3: return W("has a serial number of %d octets; at most 20 are allowed", x->c->prof.serial_len);
    default: return false;
    }
}

static bool r_bad_ext(const rule_ctx *x, char *what, size_t cap)
{
    return x->c->prof.bad_ext[0] && W("has a malformed extension: %s", x->c->prof.bad_ext);
}

static bool r_sig_mismatch(const rule_ctx *x, char *what, size_t cap)
{
    return x->c->prof.sig_alg_mismatch &&
           W("names two different signature algorithms (signatureAlgorithm and tbsCertificate.signature)");
}

static bool r_issuer_empty(const rule_ctx *x, char *what, size_t cap)
{
    return x->c->prof.issuer_empty && W("has an empty issuer name");
}

static bool r_subject_empty(const rule_ctx *x, char *what, size_t cap)
{
    const tm_cert_profile *p = &x->c->prof;
    if (!p->subject_empty)
        return false;
    if (x->c->is_ca)
        return W("is a CA certificate with an empty subject name");
    if (!p->has_san)
        return W("has an empty subject name and no subjectAltName");
    return false;
}

static bool r_empty_subject_san(const rule_ctx *x, char *what, size_t cap)
{
    const tm_cert_profile *p = &x->c->prof;
    return p->subject_empty && p->has_san && !p->san_critical &&
           W("has an empty subject name and a non-critical subjectAltName; with an empty subject the "
             "subjectAltName must be critical");
}

static bool r_san_empty(const rule_ctx *x, char *what, size_t cap)
{
    return x->c->prof.san_empty && W("has a subjectAltName extension with no names in it");
}

static bool r_san_dns(const rule_ctx *x, char *what, size_t cap)
{
    return x->c->prof.bad_dns[0] &&
           W("has subjectAltName DNS:%s, which is not a valid DNS name (letters, digits and hyphens in "
             "non-empty labels; '*' only as the whole left-most label)", x->c->prof.bad_dns);
}

static bool r_aki_missing(const rule_ctx *x, char *what, size_t cap)
{
    return !x->c->self_signed && x->c->prof.aki_missing &&
           W("has no authorityKeyIdentifier (keyIdentifier); every certificate except a self-signed root "
             "must identify its issuer's key");
}

static bool r_aki_critical(const rule_ctx *x, char *what, size_t cap)
{
    return x->c->prof.aki_critical && W("has a critical authorityKeyIdentifier; it must be non-critical");
}

static bool r_ski_critical(const rule_ctx *x, char *what, size_t cap)
{
    return x->c->prof.ski_critical && W("has a critical subjectKeyIdentifier; it must be non-critical");
}

static bool r_ski_missing(const rule_ctx *x, char *what, size_t cap)
{
    return x->c->is_ca && x->c->prof.ski_missing &&
           W("is a CA certificate without subjectKeyIdentifier");
}

static bool r_root_aki(const rule_ctx *x, char *what, size_t cap)
{
    if (x->c->prof.aki_issuer_serial)
        return W("is a root whose authorityKeyIdentifier carries authorityCertIssuer/authorityCertSerialNumber; "
                 "a root's AKI may only repeat its own key identifier");
    if (x->c->prof.aki_ne_ski)
        return W("is a root whose authorityKeyIdentifier does not match its own subjectKeyIdentifier");
    return false;
}

static bool r_bc_critical(const rule_ctx *x, char *what, size_t cap)
{
    return x->c->is_ca && x->c->prof.bc_not_critical &&
           W("is a CA certificate whose basicConstraints is not critical");
}

static bool r_ca_ku(const rule_ctx *x, char *what, size_t cap)
{
    /* A root the host loaded is trusted by its key: `openssl req -x509` with
     * the default configuration makes roots without keyUsage, and refusing
     * them would refuse the usual self-made PKI (docs/tls.md, decision). */
    if (x->role == ROOT && x->c->is_anchor && x->origin == TM_TRUST_LOADED)
        return false;
    return x->c->is_ca && x->c->prof.ku_missing && W("is a CA certificate without keyUsage");
}

static bool r_pathlen(const rule_ctx *x, char *what, size_t cap)
{
    const tm_cert_facts *c = x->c;
    if (!c->prof.pathlen_set)
        return false;
    if (!c->is_ca)
        return W("has a pathLenConstraint but is not a CA");
    if (!c->prof.ku_cert_sign)
        return W("has a pathLenConstraint but its keyUsage lacks keyCertSign");
    return false;
}

static bool r_kcs_non_ca(const rule_ctx *x, char *what, size_t cap)
{
    return !x->c->is_ca && x->c->prof.ku_cert_sign &&
           W("asserts keyUsage keyCertSign but is not a CA (no basicConstraints CA:TRUE)");
}

static bool r_nc_leaf(const rule_ctx *x, char *what, size_t cap)
{
    return !x->c->is_ca && x->c->prof.nc_present &&
           W("has nameConstraints but is not a CA; name constraints belong in CA certificates only");
}

static bool r_nc_critical(const rule_ctx *x, char *what, size_t cap)
{
    return x->c->prof.nc_present && x->c->prof.nc_not_critical &&
           W("has nameConstraints that are not critical; they must be critical");
}

static bool r_web_leaf_eku(const rule_ctx *x, char *what, size_t cap)
{
    const tm_cert_facts *c = x->c;
    if (!c->has_eku)
        return W("has no extendedKeyUsage; a Web PKI server certificate must list serverAuth");
    if (c->prof.eku_any_only)
        return W("has extendedKeyUsage anyExtendedKeyUsage without serverAuth; the Web PKI requires serverAuth");
    return false;
}

static bool r_web_root_eku(const rule_ctx *x, char *what, size_t cap)
{
    return x->c->has_eku && W("is a root with an extendedKeyUsage; Web PKI roots carry none");
}

/* Order: what makes a certificate unusable first (version, algorithms,
 * encoding), then the issuer/subject linkage, then the CA-structure rules,
 * then names, then the Web PKI additions.  The first broken rule is
 * reported. */
static const rule RULES[] = {
    { "v1-certificate",     "RFC 5280 4.1.2.1",            NOT_PIN, false, TM_E_CERT_BAD, r_v1 },
    { "dsa-key",            "tlsmodem policy",             ALL,     false, TM_E_CERT_WEAK_KEY, r_dsa_key },
    { "dsa-signature",      "tlsmodem policy",             ALL,     false, TM_E_CERT_WEAK_SIGNATURE, r_dsa_sig },
    { "malformed-extension","RFC 5280 4.2",                NOT_PIN, false, TM_E_CERT_BAD, r_bad_ext },
    { "serial-number",      "RFC 5280 4.1.2.2",            NOT_PIN, false, TM_E_CERT_BAD, r_serial },
    { "signature-algorithm-mismatch", "RFC 5280 4.1.1.2",  NOT_PIN, false, TM_E_CERT_BAD, r_sig_mismatch },
    { "issuer-empty",       "RFC 5280 4.1.2.4",            NOT_PIN, false, TM_E_CERT_BAD, r_issuer_empty },
    { "subject-empty",      "RFC 5280 4.1.2.6",            NOT_PIN, false, TM_E_CERT_BAD, r_subject_empty },
    { "empty-subject-san-not-critical", "RFC 5280 4.2.1.6", NOT_PIN, false, TM_E_CERT_BAD, r_empty_subject_san },
    { "san-empty",          "RFC 5280 4.2.1.6",            NOT_PIN, false, TM_E_CERT_BAD, r_san_empty },
    { "aki-missing",        "RFC 5280 4.2.1.1",            LEAF | INTER, false, TM_E_CERT_BAD, r_aki_missing },
    { "aki-critical",       "RFC 5280 4.2.1.1",            NOT_PIN, false, TM_E_CERT_BAD, r_aki_critical },
    { "root-aki",           "RFC 5280 4.2.1.1",            ROOT,    false, TM_E_CERT_BAD, r_root_aki },
    { "ski-missing",        "RFC 5280 4.2.1.2",            CA,      false, TM_E_CERT_BAD, r_ski_missing },
    { "ski-critical",       "RFC 5280 4.2.1.2",            NOT_PIN, false, TM_E_CERT_BAD, r_ski_critical },
    { "ca-basic-constraints-not-critical", "RFC 5280 4.2.1.9", CA,  false, TM_E_CERT_BAD, r_bc_critical },
    { "ca-key-usage-missing", "RFC 5280 4.2.1.3",          CA,      false, TM_E_CERT_BAD, r_ca_ku },
    { "pathlen",            "RFC 5280 4.2.1.9",            NOT_PIN, false, TM_E_CERT_BAD, r_pathlen },
    { "keycertsign-non-ca", "RFC 5280 4.2.1.3",            NOT_PIN, false, TM_E_CERT_BAD, r_kcs_non_ca },
    { "name-constraints-in-leaf", "RFC 5280 4.2.1.10",     NOT_PIN, false, TM_E_CERT_BAD, r_nc_leaf },
    { "name-constraints-not-critical", "RFC 5280 4.2.1.10", NOT_PIN, false, TM_E_CERT_BAD, r_nc_critical },
    { "san-dns-syntax",     "RFC 5280 4.2.1.6",            NOT_PIN, false, TM_E_CERT_BAD, r_san_dns },
    { "web-pki-leaf-eku",   "CA/Browser Forum BR 7.1.2.7", LEAF,    true,  TM_E_CERT_EKU, r_web_leaf_eku },
    { "web-pki-root-eku",   "CA/Browser Forum BR 7.1.2.1", ROOT,    true,  TM_E_CERT_BAD, r_web_root_eku },
};

size_t tm_policy_profile_rules(void) { return sizeof RULES / sizeof RULES[0]; }

const char *tm_policy_profile_rule_id(size_t i)
{
    return i < tm_policy_profile_rules() ? RULES[i].id : NULL;
}

static int role_of(const tm_cert_facts *chain, size_t n, size_t i)
{
    if (i == 0)
        return chain[0].is_anchor ? PIN : LEAF;
    return chain[i].self_signed ? ROOT : INTER;
}

tm_err tm_policy_check_profile(const tm_cert_facts *chain, size_t n, tm_trust_origin origin, tm_reason *why)
{
    /* Rule by rule, then depth by depth: the report names the most basic
     * problem, and among equal problems the one nearest the leaf. */
    for (size_t r = 0; r < sizeof RULES / sizeof RULES[0]; r++) {
        const rule *ru = &RULES[r];
        if (ru->web_pki_only && origin != TM_TRUST_BUNDLE)
            continue;
        for (size_t i = 0; i < n; i++) {
            rule_ctx x = { &chain[i], role_of(chain, n, i), origin };
            if (!(ru->roles & x.role))
                continue;
            char what[400];
            if (!ru->broken(&x, what, sizeof what))
                continue;
            const char *s = chain[i].subject && chain[i].subject[0] ? chain[i].subject : "(empty subject)";
            return tm_fail(why, ru->err, "depth %d '%s' %s (rule %s, %s)", chain[i].depth, s, what, ru->id,
                           ru->ref);
        }
    }
    return TM_OK;
}

bool tm_policy_dns_name_valid(const char *s)
{
    if (!s || !s[0])
        return false;
    size_t len = strlen(s);
    if (len > 253)
        return false;
    const char *p = s;
    bool first = true;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t l = dot ? (size_t)(dot - p) : strlen(p);
        if (l == 0 || l > 63)
            return false;           /* ".example.com", "a..b", "example.com." */
        if (first && l == 1 && p[0] == '*') {
            if (!dot)
                return false;       /* "*" alone */
        } else {
            if (p[0] == '-' || p[l - 1] == '-')
                return false;
            for (size_t k = 0; k < l; k++) {
                char ch = p[k];
                if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                      ch == '-'))
                    return false;   /* '*', '_', ' ', '@', non-ASCII (IDNs are A-labels) */
            }
        }
        if (!dot)
            return true;
        p = dot + 1;
        first = false;
    }
}
