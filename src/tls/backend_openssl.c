/* See tls.h.  OpenSSL 3 backend: OpenSSL builds and checks the chain
 * (signatures, path building, name constraints), our policy (policy.c) and
 * host matching (hostmatch.c) decide the rest, and every outcome is mapped
 * to a tm_err with a detail naming the certificate. */
#include "diag/load_hint.h"
#include "tls/tls.h"
#include "tls/hostmatch.h"
#include "tls/policy.h"
#include "tls/x509_ossl.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "config.h"
#include "core/trace.h"

#define TM_TLS_CIPHERS "HIGH:!aNULL:!eNULL:!RC4:!3DES:!MD5:!PSK:!SRP:!CAMELLIA:!DSS:!aDH:!kDH"
#define MAX_ERRS 16

static unsigned long g_live;   /* tm_tls alive (tm_tls_live) */

typedef struct {
    int  err;
    int  depth;
    char subject[256];
    char issuer[256];
} verr;

struct tm_tls {
    SSL_CTX      *ctx;
    SSL          *ssl;
    int           fd;
    tm_tls_config cfg;            /* pointers borrowed until the handshake ends */
    char          host[TM_HOST_MAX];
    char          name[TM_HOST_MAX];   /* name checked: expected_name or host */
    char          sni[TM_HOST_MAX];    /* "" = none sent */
    char          clock_hint[32];
    char          load_hint[96];
    uint8_t       pin[32];
    bool          has_pin;
    bool          has_client_cert;
    char          client_subject[256];
    char          trust_desc[800];
    bool          done;
    bool          failed;
    /* seen on the wire (msg callback) */
    bool          server_hello_seen;
    int           server_hello_version;
    bool          cert_request_seen;
    int           alert_recv;          /* -1 = none */
    int           alert_sent;
    unsigned char first_record[5];
    bool          first_record_seen;
    /* verification */
    verr         *errs;               /* MAX_ERRS, allocated at the first error, freed after app_verify */
    int           n_errs;
    bool          verify_ran;
    bool          vfailed;
    tm_reason     vwhy;
    char          verdict[400];
    char          summary[TM_HOST_MAX + 700];
};

/* ---------------------------------------------------------------- helpers */

static const char *alert_name(int a)
{
    switch (a) {
    case 0: return "close_notify";
    case 10: return "unexpected_message";
    case 20: return "bad_record_mac";
    case 21: return "decryption_failed";
    case 22: return "record_overflow";
    case 30: return "decompression_failure";
    case 40: return "handshake_failure";
    case 41: return "no_certificate";
    case 42: return "bad_certificate";
    case 43: return "unsupported_certificate";
    case 44: return "certificate_revoked";
    case 45: return "certificate_expired";
    case 46: return "certificate_unknown";
    case 47: return "illegal_parameter";
    case 48: return "unknown_ca";
    case 49: return "access_denied";
    case 50: return "decode_error";
    case 51: return "decrypt_error";
    case 60: return "export_restriction";
    case 70: return "protocol_version";
    case 71: return "insufficient_security";
    case 80: return "internal_error";
    case 86: return "inappropriate_fallback";
    case 90: return "user_canceled";
    case 100: return "no_renegotiation";
    case 109: return "missing_extension";
    case 110: return "unsupported_extension";
    case 111: return "certificate_unobtainable";
    case 112: return "unrecognized_name";
    case 113: return "bad_certificate_status_response";
    case 114: return "bad_certificate_hash_value";
    case 115: return "unknown_psk_identity";
    case 116: return "certificate_required";
    case 120: return "no_application_protocol";
    default: return "unknown_alert";
    }
}

static const char *version_name(int v)
{
    switch (v) {
    case 0x0300: return "SSLv3";
    case 0x0301: return "TLSv1.0";
    case 0x0302: return "TLSv1.1";
    case 0x0303: return "TLSv1.2";
    case 0x0304: return "TLSv1.3";
    default: return "an unknown version";
    }
}

static const char *ssl_errstr(unsigned long e, char *buf, size_t cap)
{
    const char *r = ERR_reason_error_string(e);
    if (r)
        snprintf(buf, cap, "%s", r);
    else
        ERR_error_string_n(e, buf, cap);
    return buf;
}

static const char *sha_prefix(X509 *x, char *buf, size_t cap)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dl = 0;
    buf[0] = '\0';
    if (X509_digest(x, EVP_sha256(), d, &dl) && dl >= 8)
        snprintf(buf, cap, "%02X:%02X:%02X:%02X:%02X:%02X:%02X:%02X…",
                 d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]);
    return buf;
}

static bool der_equal_anchor(const tm_tls *t, X509 *x)
{
    unsigned char *der = NULL;
    int len = i2d_X509(x, &der);
    bool eq = false;
    for (size_t i = 0; len > 0 && i < t->cfg.n_anchors && !eq; i++)
        eq = t->cfg.anchors[i].len == (size_t)len && memcmp(t->cfg.anchors[i].p, der, (size_t)len) == 0;
    OPENSSL_free(der);
    return eq;
}

static void trace_cert(const char *tag, int depth, X509 *x, const char *origin)
{
    if (!tm_trace_enabled())
        return;
    tm_x509_info *in = malloc(sizeof *in);
    if (!in)
        return;
    tm_x509_fill(x, in);
    char nb[40], na[40];
    char key[48];
    if (in->curve[0])
        snprintf(key, sizeof key, "%s %s", in->key_type, in->curve);
    else
        snprintf(key, sizeof key, "%s-%d", in->key_type, in->key_bits);
    tm_trace(tag, "depth %d: '%s' issuer '%s' %s %s %s..%s%s%s%s%s", depth, in->subject, in->issuer, key,
             in->sig_alg, tm_x509_time_str(in->not_before, nb, sizeof nb),
             tm_x509_time_str(in->not_after, na, sizeof na), in->is_ca ? " CA" : "",
             in->sans[0] ? " SAN " : "", in->sans, origin ? origin : "");
    free(in);
}

/* ------------------------------------------------------- bundle cache */

static struct {
    char        path[1024];
    time_t      mtime;
    X509_STORE *store;
} g_bundle;

static X509_STORE *bundle_store(const char *path, tm_reason *why)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        tm_fail(why, TM_E_TLS_INIT, "cannot read the CA bundle %s: %s", path, strerror(errno));
        return NULL;
    }
    if (g_bundle.store && strcmp(g_bundle.path, path) == 0 && g_bundle.mtime == st.st_mtime) {
        X509_STORE_up_ref(g_bundle.store);
        return g_bundle.store;
    }
    X509_STORE *s = X509_STORE_new();
    int ok = s && (S_ISDIR(st.st_mode) ? X509_STORE_load_path(s, path) : X509_STORE_load_file(s, path));
    if (!ok) {
        char eb[200];
        unsigned long e = ERR_peek_last_error();
        tm_fail(why, TM_E_TLS_INIT, "cannot load the CA bundle %s: %s", path,
                e ? ssl_errstr(e, eb, sizeof eb) : "no certificates");
        ERR_clear_error();
        X509_STORE_free(s);
        return NULL;
    }
    if (g_bundle.store)
        X509_STORE_free(g_bundle.store);
    snprintf(g_bundle.path, sizeof g_bundle.path, "%s", path);
    g_bundle.mtime = st.st_mtime;
    g_bundle.store = s;
    X509_STORE_up_ref(s);
    return s;
}

/* ------------------------------------------------------- callbacks */

static void msg_cb(int write_p, int version, int content_type, const void *buf, size_t len, SSL *ssl, void *arg)
{
    tm_tls *t = arg;
    const unsigned char *p = buf;
    if (content_type == SSL3_RT_HEADER && !write_p && len >= 5 && !t->first_record_seen) {
        memcpy(t->first_record, p, 5);
        t->first_record_seen = true;
    } else if (content_type == SSL3_RT_ALERT && len >= 2) {
        if (write_p)
            t->alert_sent = p[1];
        else
            t->alert_recv = p[1];
    } else if (content_type == SSL3_RT_HANDSHAKE && !write_p && len >= 1) {
        if (p[0] == SSL3_MT_SERVER_HELLO && len >= 6) {
            t->server_hello_seen = true;
            t->server_hello_version = (p[4] << 8) | p[5];
        } else if (p[0] == SSL3_MT_CERTIFICATE_REQUEST) {
            t->cert_request_seen = true;
        }
    }
}

static int verify_cb(int ok, X509_STORE_CTX *xs)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
    tm_tls *t = ssl ? SSL_get_app_data(ssl) : NULL;
    if (!ok && t && !t->errs)
        t->errs = malloc(MAX_ERRS * sizeof *t->errs);   /* 8 KiB only for a chain that has errors */
    if (!ok && t && t->errs && t->n_errs < MAX_ERRS) {
        verr *v = &t->errs[t->n_errs++];
        v->err = X509_STORE_CTX_get_error(xs);
        v->depth = X509_STORE_CTX_get_error_depth(xs);
        X509 *cur = X509_STORE_CTX_get_current_cert(xs);
        v->subject[0] = v->issuer[0] = '\0';
        if (cur) {
            tm_x509_name(X509_get_subject_name(cur), v->subject, sizeof v->subject);
            tm_x509_name(X509_get_issuer_name(cur), v->issuer, sizeof v->issuer);
        }
    }
    return 1;   /* we decide in app_verify, with all facts */
}

static bool deferred_err(int e)
{
    switch (e) {
    case X509_V_ERR_CERT_NOT_YET_VALID:
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_EE_KEY_TOO_SMALL:
    case X509_V_ERR_CA_KEY_TOO_SMALL:
    case X509_V_ERR_CA_MD_TOO_WEAK:
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
        return true;
    default:
        return false;
    }
}

/* The RFC 5280 checks of X509_V_FLAG_X509_STRICT: our profile table
 * (profile.c) checks the same and names the rule, so these are decided
 * after it; one that the table did not catch is still a refusal (the
 * floor), except on a pinned leaf (its structure is not relied upon). */
static bool strict_err(int e)
{
    return e == X509_V_ERR_SIGNATURE_ALGORITHM_INCONSISTENCY || e == X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION ||
           (e >= X509_V_ERR_PATHLEN_INVALID_FOR_NON_CA && e <= X509_V_ERR_EC_KEY_EXPLICIT_PARAMS);
}

/* OpenSSL 3 refuses a leaf whose EKU is anyExtendedKeyUsage without
 * serverAuth for TLS server use; RFC 5280 4.2.1.12 allows it.  policy.c and
 * profile.c decide such a leaf (accepted under a private CA, refused in the
 * Web PKI), as long as its keyUsage allows a TLS server key. */
static bool leaf_any_eku(X509 *x)
{
    if (!x)
        return false;
    uint32_t fl = X509_get_extension_flags(x);
    if (!(fl & EXFLAG_XKUSAGE) || !(X509_get_extended_key_usage(x) & XKU_ANYEKU))
        return false;
    if ((fl & EXFLAG_KUSAGE) &&
        !(X509_get_key_usage(x) & (KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT | KU_KEY_AGREEMENT)))
        return false;
    return true;
}

/* The fix for a missing root, in the dialect's words (tm_tls_config.load_hint,
 * src/diag/load_hint.h).  The root's name and then load_of(t) follow. */
#define LOAD_ROOT "load the root '%s' (%s)"

static const char *load_of(const tm_tls *t)
{
    return t->load_hint[0] ? t->load_hint : TM_LOAD_ROOT_ANY;
}

static bool name_says(const char *dn, const char *const *words)
{
    for (const char *p = dn; *p; p++)
        for (size_t i = 0; words[i]; i++)
            if (strncasecmp(p, words[i], strlen(words[i])) == 0)
                return true;
    return false;
}

/* The names CAs are given: the only hint the wire offers of what a missing
 * issuer is. */
static bool name_says_root(const char *dn)
{
    static const char *const w[] = { "root", NULL };
    return name_says(dn, w);
}

static bool name_says_intermediate(const char *dn)
{
    static const char *const w[] = { "intermediate", "issuing", "subordinate", "sub ca", "sub-ca", NULL };
    return name_says(dn, w) && !name_says_root(dn);
}

/* Why `cand` (same subject as cur's issuer) is not cur's issuer for OpenSSL;
 * NULL when it would be (then the reason is elsewhere). */
static const char *unused_because(X509 *cand, X509 *cur, char *buf, size_t cap)
{
    if (X509_get_extension_flags(cand) & EXFLAG_INVALID) {
        tm_x509_info *in = malloc(sizeof *in);
        if (in) {
            tm_x509_fill(cand, in);
            snprintf(buf, cap, "it has a malformed extension (%s), so OpenSSL does not use it as an issuer",
                     in->prof.bad_ext[0] ? in->prof.bad_ext : "rejected by OpenSSL");
            free(in);
            return buf;
        }
        return "it has a malformed extension, so OpenSSL does not use it as an issuer";
    }
    int rc = X509_check_issued(cand, cur);
    ERR_clear_error();
    switch (rc) {
    case X509_V_OK:
        break;
    case X509_V_ERR_SUBJECT_ISSUER_MISMATCH:
        return "its subject reads like that issuer name but is encoded differently (string types or attribute "
               "order), and OpenSSL compares names exactly";
    case X509_V_ERR_AKID_SKID_MISMATCH:
        return "its subjectKeyIdentifier is not the authorityKeyIdentifier of the certificate it should have "
               "issued: it is another CA with the same name (a re-created CA?)";
    case X509_V_ERR_AKID_ISSUER_SERIAL_MISMATCH:
        return "its issuer/serial number do not match the authorityKeyIdentifier of the certificate it should "
               "have issued: it is another certificate with the same name";
    case X509_V_ERR_KEYUSAGE_NO_CERTSIGN:
        return "its keyUsage does not allow keyCertSign, so it cannot issue certificates";
    default:
        snprintf(buf, cap, "OpenSSL does not accept it as the issuer: %s", X509_verify_cert_error_string(rc));
        return buf;
    }
    EVP_PKEY *k = X509_get0_pubkey(cand);
    if (!k)
        return "its public key cannot be read";
    int vr = X509_verify(cur, k);
    ERR_clear_error();
    if (vr <= 0)
        return "its key did not sign the certificate it should have issued: it is another CA with the same name";
    return NULL;
}

/* OpenSSL found no issuer for cur.  Looks for a certificate with that
 * subject among what the server sent, what the host loaded and the CA bundle,
 * and when one exists says why OpenSSL will not use it (returns true, reason
 * in why).  *bundle_root: the issuer is a usable root in the CA bundle that
 * does not count because certificates are loaded. */
static bool explain_unused_issuer(tm_tls *t, const verr *v, X509 *cur, STACK_OF(X509) *sent, tm_reason *why,
                                  bool *bundle_root)
{
    const X509_NAME *want = X509_get_issuer_name(cur);
    char buf[200];
    /* 1. sent by the server */
    for (int i = 0; sent && i < sk_X509_num(sent); i++) {
        X509 *c = sk_X509_value(sent, i);
        char s[256];
        tm_x509_name(X509_get_subject_name(c), s, sizeof s);
        if (c == cur || (X509_NAME_cmp(X509_get_subject_name(c), want) != 0 && strcmp(s, v->issuer) != 0))
            continue;
        const char *b = unused_because(c, cur, buf, sizeof buf);
        if (b) {
            tm_fail(why, TM_E_CERT_BAD, "the server sent '%s', the issuer named by depth %d '%s', but it cannot be "
                    "used: %s", s, v->depth, v->subject, b);
            return true;
        }
    }
    /* 2. loaded by the host */
    for (size_t i = 0; i < t->cfg.n_anchors; i++) {
        const unsigned char *p = t->cfg.anchors[i].p;
        X509 *c = d2i_X509(NULL, &p, (long)t->cfg.anchors[i].len);
        if (!c) {
            ERR_clear_error();
            continue;
        }
        char s[256];
        tm_x509_name(X509_get_subject_name(c), s, sizeof s);
        const char *b = X509_NAME_cmp(X509_get_subject_name(c), want) == 0 || strcmp(s, v->issuer) == 0
                        ? unused_because(c, cur, buf, sizeof buf) : NULL;
        X509_free(c);
        if (b) {
            tm_fail(why, TM_E_CERT_BAD, "the loaded certificate %zu '%s' has the name of the issuer of depth %d "
                    "'%s', but OpenSSL will not use it: %s", i, s, v->depth, v->subject, b);
            return true;
        }
    }
    /* 3. the CA bundle (the trust when nothing is loaded; otherwise only a hint) */
    if (!t->cfg.bundle_path || !t->cfg.bundle_path[0])
        return false;
    tm_reason ignore;
    X509_STORE *st = bundle_store(t->cfg.bundle_path, &ignore);
    if (!st)
        return false;
    STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(st);
    bool done = false;
    for (int i = 0; objs && i < sk_X509_OBJECT_num(objs) && !done; i++) {
        X509 *c = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));
        if (!c)
            continue;
        char s[256];
        tm_x509_name(X509_get_subject_name(c), s, sizeof s);
        if (X509_NAME_cmp(X509_get_subject_name(c), want) != 0 && strcmp(s, v->issuer) != 0)
            continue;
        const char *b = unused_because(c, cur, buf, sizeof buf);
        if (b && t->cfg.n_anchors == 0) {
            tm_fail(why, TM_E_CERT_BAD, "the CA bundle %s holds '%s', the issuer named by depth %d '%s', but "
                    "OpenSSL will not use it: %s", t->cfg.bundle_path, s, v->depth, v->subject, b);
            done = true;
        } else if (!b && t->cfg.n_anchors > 0 && X509_self_signed(c, 0) == 1) {
            *bundle_root = true;
        }
    }
    ERR_clear_error();
    X509_STORE_free(st);
    return done;
}

/* Maps the first chain-building error OpenSSL recorded. */
static tm_err map_verify_error(tm_tls *t, const verr *v, STACK_OF(X509) *chain, STACK_OF(X509) *sent,
                               tm_reason *why)
{
    int n_sent = sent ? sk_X509_num(sent) : 0;
    char vs[160];
    snprintf(vs, sizeof vs, "%s", X509_verify_cert_error_string(v->err));
    switch (v->err) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT: {
        X509 *cur = chain && v->depth < sk_X509_num(chain) ? sk_X509_value(chain, v->depth) : NULL;
        bool cur_is_ca = cur && X509_check_ca(cur) > 0;
        /* a certificate with the issuer's name exists, but OpenSSL will not use it */
        bool bundle_root = false;
        if (cur && explain_unused_issuer(t, v, cur, sent, why, &bundle_root))
            return why->code;
        if (bundle_root)
            return tm_fail(why, TM_E_CA_NOT_FOUND,
                           "no loaded certificate is '%s', the issuer of depth %d '%s'; trust is %s (the CA "
                           "bundle %s holds that root, but it no longer counts once certificates are loaded): "
                           LOAD_ROOT, v->issuer, v->depth, v->subject, t->trust_desc,
                           t->cfg.bundle_path, v->issuer, load_of(t));
        if (v->depth == 0 || !cur_is_ca) {
            /* The wire cannot tell a missing intermediate from a private root
             * that signed the server certificate directly.  A server that sent
             * other certificates, or an issuer named like an intermediate, gets
             * the intermediate advice; one named like a root the root advice; a
             * leaf alone under an issuer with a neutral name gets both. */
            bool rootish = name_says_root(v->issuer);
            tm_fail(why, TM_E_CERT_CHAIN_INCOMPLETE,
                    "the server sent %d certificate%s; the issuer '%s' of depth %d '%s' was not sent "
                    "and is not among %s", n_sent, n_sent == 1 ? "" : "s", v->issuer, v->depth, v->subject,
                    t->trust_desc);
            if (n_sent == 1 && rootish)
                tm_reason_append(why, "'%s' is a root that signed the server certificate directly: " LOAD_ROOT,
                                 v->issuer, v->issuer, load_of(t));
            else if (n_sent == 1 && !name_says_intermediate(v->issuer))
                tm_reason_append(why, "if '%s' is a root (a private CA that signed the server certificate "
                                 "directly), " LOAD_ROOT "; if it is an intermediate CA, the server should send "
                                 "its intermediate certificates", v->issuer, v->issuer, load_of(t));
            else
                tm_reason_append(why, "the server should send its intermediate certificates");
            return TM_E_CERT_CHAIN_INCOMPLETE;
        }
        /* the top certificate the server sent is a CA: its issuer is the root to load */
        if (t->cfg.n_anchors > 0)
            return tm_fail(why, TM_E_CA_NOT_FOUND,
                           "no loaded certificate is '%s', the issuer of depth %d '%s'; trust is %s; " LOAD_ROOT,
                           v->issuer, v->depth, v->subject, t->trust_desc, v->issuer, load_of(t));
        return tm_fail(why, TM_E_CERT_UNTRUSTED,
                       "the issuer '%s' of depth %d '%s' is not among %s; " LOAD_ROOT,
                       v->issuer, v->depth, v->subject, t->trust_desc, v->issuer, load_of(t));
    }
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        return tm_fail(why, TM_E_CERT_SELF_SIGNED,
                       "depth 0 '%s' is self-signed and is not among %s; load this certificate to pin it",
                       v->subject, t->trust_desc);
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        return tm_fail(why, TM_E_CERT_UNTRUSTED,
                       "the chain ends at root '%s' (depth %d, sent by the server), which is not among %s; "
                       "if you trust it, " LOAD_ROOT,
                       v->subject, v->depth, t->trust_desc, v->subject, load_of(t));
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_CERT_REJECTED:
        return tm_fail(why, TM_E_CERT_UNTRUSTED, "depth %d '%s': %s", v->depth, v->subject, vs);
    case X509_V_ERR_INVALID_CA: {
        X509 *cur = chain && v->depth < sk_X509_num(chain) ? sk_X509_value(chain, v->depth) : NULL;
        uint32_t fl = cur ? X509_get_extension_flags(cur) : 0;
        const char *what = "(basicConstraints/keyUsage)";
        if (cur && !(fl & EXFLAG_CA))
            what = "(basicConstraints/keyUsage): it has no basicConstraints CA:TRUE";
        else if (cur && (fl & EXFLAG_KUSAGE) && !(X509_get_key_usage(cur) & KU_KEY_CERT_SIGN))
            what = "(basicConstraints/keyUsage): its keyUsage does not allow keyCertSign, so it cannot issue "
                   "certificates";
        return tm_fail(why, TM_E_CERT_NOT_CA, "depth %d '%s' is used as an issuer but is not a valid CA %s",
                       v->depth, v->subject, what);
    }
    case X509_V_ERR_INVALID_PURPOSE: {
        X509 *cur = chain && v->depth < sk_X509_num(chain) ? sk_X509_value(chain, v->depth) : NULL;
        char eku[128] = "";
        if (cur) {
            tm_x509_info *in = malloc(sizeof *in);
            if (in) {
                tm_x509_fill(cur, in);
                snprintf(eku, sizeof eku, "%s", in->eku);
                free(in);
            }
        }
        return tm_fail(why, TM_E_CERT_EKU,
                       "depth %d '%s' is not allowed for TLS server use: extendedKeyUsage %s%s",
                       v->depth, v->subject, eku[0] ? eku : "(none; keyUsage forbids it)",
                       eku[0] ? " has no serverAuth" : "");
    }
    case X509_V_ERR_PERMITTED_VIOLATION:
    case X509_V_ERR_EXCLUDED_VIOLATION:
    case X509_V_ERR_SUBTREE_MINMAX:
    case X509_V_ERR_UNSUPPORTED_CONSTRAINT_TYPE:
    case X509_V_ERR_UNSUPPORTED_CONSTRAINT_SYNTAX:
    case X509_V_ERR_UNSUPPORTED_NAME_SYNTAX:
        return tm_fail(why, TM_E_CERT_NAME_CONSTRAINT, "depth %d '%s': %s (issuer '%s')",
                       v->depth, v->subject, vs, v->issuer);
    case X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION:
        return tm_fail(why, TM_E_CERT_BAD, "depth %d '%s' has a critical extension that tlsmodem does not "
                       "process; a certificate with an unknown critical extension must be refused (RFC 5280 4.2)",
                       v->depth, v->subject);
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
        return tm_fail(why, TM_E_CERT_BAD, "the signature on depth %d '%s' by '%s' does not verify",
                       v->depth, v->subject, v->issuer);
    default:
        return tm_fail(why, TM_E_CERT_BAD, "depth %d '%s': %s (OpenSSL verify error %d)",
                       v->depth, v->subject, vs, v->err);
    }
}

static int x509_err_for(tm_err e)
{
    switch (e) {
    case TM_E_CERT_EXPIRED: return X509_V_ERR_CERT_HAS_EXPIRED;
    case TM_E_CERT_NOT_YET_VALID: return X509_V_ERR_CERT_NOT_YET_VALID;
    case TM_E_CERT_NAME_MISMATCH: return X509_V_ERR_HOSTNAME_MISMATCH;
    case TM_E_CERT_SELF_SIGNED: return X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT;
    case TM_E_CERT_CHAIN_INCOMPLETE:
    case TM_E_CA_NOT_FOUND:
    case TM_E_CERT_UNTRUSTED: return X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY;
    default: return X509_V_ERR_APPLICATION_VERIFICATION;
    }
}

/* Runs OpenSSL's chain verification, then our policy, name and pin checks. */
static int app_verify(X509_STORE_CTX *xs, void *arg)
{
    tm_tls *t = arg;
    t->verify_ran = true;
    t->n_errs = 0;
    int ok = X509_verify_cert(xs);
    STACK_OF(X509) *chain = X509_STORE_CTX_get1_chain(xs);
    STACK_OF(X509) *sent = X509_STORE_CTX_get0_untrusted(xs);
    X509 *leaf = X509_STORE_CTX_get0_cert(xs);
    int n = chain ? sk_X509_num(chain) : 0;
    /* With loaded certificates (X509_V_FLAG_PARTIAL_CHAIN) OpenSSL accepts the
     * chain as soon as one of its certificates is in the store, but keeps the
     * certificates above it in the chain it returns: a loaded leaf (a pin) came
     * back as "leaf + the server's intermediate", and the intermediate was then
     * taken for the anchor.  The anchor is the lowest certificate equal to a
     * loaded one; what is above it is not part of the trusted path. */
    if (ok > 0 && t->cfg.n_anchors > 0) {
        for (int i = 0; i < n - 1; i++) {
            if (der_equal_anchor(t, sk_X509_value(chain, i))) {
                while (sk_X509_num(chain) > i + 1)
                    X509_free(sk_X509_pop(chain));
                n = i + 1;
                break;
            }
        }
    }
    tm_reason *why = &t->vwhy;
    tm_reason_clear(why);
    tm_err rc = TM_OK;

    int n_sent = sent ? sk_X509_num(sent) : (leaf ? 1 : 0);
    tm_trace("chain", "server sent %d certificate%s; path built: %d", n_sent, n_sent == 1 ? "" : "s", n);
    for (int i = 0; i < n; i++) {
        X509 *x = sk_X509_value(chain, i);
        const char *origin = "";
        if (i > 0 || n == 1) {
            bool from_server = false;
            for (int j = 0; sent && j < sk_X509_num(sent) && !from_server; j++)
                from_server = X509_cmp(sk_X509_value(sent, j), x) == 0;
            bool anchor = i == n - 1 && ok > 0;
            if (anchor && der_equal_anchor(t, x)) origin = " [loaded, anchor]";
            else if (anchor) origin = t->cfg.n_anchors ? " [trust store, anchor]" : " [bundle, anchor]";
            else if (!from_server) origin = " [from trust store]";
        }
        trace_cert("chain", i, x, origin);
    }

    /* 1. chain building errors (trust), in the order OpenSSL met them */
    for (int i = 0; i < t->n_errs && rc == TM_OK; i++)
        if (!deferred_err(t->errs[i].err) && !strict_err(t->errs[i].err) &&
            !(t->errs[i].err == X509_V_ERR_INVALID_PURPOSE && t->errs[i].depth == 0 && leaf_any_eku(leaf)))
            rc = map_verify_error(t, &t->errs[i], chain, sent, why);
    if (rc == TM_OK && ok <= 0 && t->n_errs == 0)
        rc = tm_fail(why, TM_E_CERT_BAD, "verification failed: %s",
                     X509_verify_cert_error_string(X509_STORE_CTX_get_error(xs)));

    /* 2. our policy over the verified chain */
    tm_x509_info *info = NULL;
    tm_cert_facts *facts = NULL;
    if (rc == TM_OK && n > 0) {
        info = calloc((size_t)n, sizeof *info);
        facts = calloc((size_t)n, sizeof *facts);
        if (!info || !facts)
            rc = tm_fail(why, TM_E_NO_MEMORY, "chain facts");
        for (int i = 0; rc == TM_OK && i < n; i++) {
            tm_x509_fill(sk_X509_value(chain, i), &info[i]);
            tm_x509_facts(&info[i], i, &facts[i]);
            facts[i].is_anchor = i == n - 1;
        }
        if (rc == TM_OK) {
            tm_policy_clock clk = { .now = t->cfg.now, .clock_set = t->cfg.clock_set,
                .clock_from_cmd = t->cfg.clock_from_cmd, .host_now = t->cfg.host_now,
                .clock_hint = t->cfg.clock_hint, .trusted = t->cfg.clock_trusted };
            rc = tm_policy_check_chain(facts, (size_t)n, &clk, why);
        }
        if (rc == TM_OK)
            rc = tm_policy_check_profile(facts, (size_t)n, t->cfg.n_anchors ? TM_TRUST_LOADED : TM_TRUST_BUNDLE,
                                         why);
        /* the floor: a strict-mode error OpenSSL found that the table did not */
        bool pin = n == 1 && facts && facts[0].is_anchor;
        /* ... except what the profile waives on purpose: a loaded root without keyUsage */
        bool loaded_root = t->cfg.n_anchors > 0 && n > 1 && facts && facts[n - 1].self_signed;
        for (int i = 0; rc == TM_OK && i < t->n_errs; i++)
            if (strict_err(t->errs[i].err) && !(pin && t->errs[i].depth == 0) &&
                !(loaded_root && t->errs[i].depth == n - 1 && t->errs[i].err == X509_V_ERR_CA_CERT_MISSING_KEY_USAGE))
                rc = map_verify_error(t, &t->errs[i], chain, sent, why);
    }
    /* 3. names */
    if (rc == TM_OK && leaf) {
        /* every SAN is checked, however many (1000-name certificates exist) */
        tm_san small[64];
        char smallbuf[8192];
        tm_san *sans = small;
        char *strbuf = smallbuf;
        size_t cap = 64, strcap = sizeof smallbuf, total = 0;
        size_t ns = tm_x509_sans(leaf, sans, cap, strbuf, strcap, &total);
        if (total > ns) {
            size_t bigcap = total, bigstr = total * 256 + 1;
            tm_san *bs = malloc(bigcap * sizeof *bs);
            char *bb = malloc(bigstr);
            if (bs && bb) {
                sans = bs;
                strbuf = bb;
                cap = bigcap;
                strcap = bigstr;
                ns = tm_x509_sans(leaf, sans, cap, strbuf, strcap, &total);
            } else {
                free(bs);
                free(bb);
            }
        }
        tm_name_facts nf = { sans, ns, info && info[0].cn[0] ? info[0].cn : NULL };
        rc = tm_policy_check_name(t->name, &nf, why);
        if (rc != TM_OK && total > ns)
            tm_reason_append(why, "%zu more names not checked", total - ns);
        if (sans != small) {
            free(sans);
            free(strbuf);
        }
        if (rc != TM_OK && strcmp(t->name, t->host) != 0)
            tm_reason_append(why, "the name checked is the expected name; SNI was %s%s%s",
                             t->sni[0] ? "'" : "", t->sni[0] ? t->sni : "not sent", t->sni[0] ? "'" : "");
    }
    /* 4. SPKI pin */
    if (rc == TM_OK && leaf && t->has_pin) {
        uint8_t h[32];
        rc = tm_policy_check_pin(t->pin, tm_x509_spki_hash(leaf, h) ? h : NULL, why);
    }

    if (rc == TM_OK && n > 0) {
        X509 *top = sk_X509_value(chain, n - 1);
        char sha[64];
        bool loaded = der_equal_anchor(t, top);
        sha_prefix(top, sha, sizeof sha);
        if (n == 1 && loaded)
            snprintf(t->verdict, sizeof t->verdict, "verified: pinned leaf '%s' (loaded, sha256 %s)",
                     info ? info[0].subject : "", sha);
        else
            snprintf(t->verdict, sizeof t->verdict, "verified by %s '%s' (%s, sha256 %s)%s",
                     info && info[n - 1].self_signed ? "root" : "intermediate",
                     info ? info[n - 1].subject : "", loaded ? "loaded" : t->cfg.n_anchors ? "trust store" : "CA bundle", sha,
                     t->has_pin ? ", SPKI pin matches" : "");
        tm_trace("verdict", "%s", t->verdict);
    }
    free(info);
    free(facts);
    sk_X509_pop_free(chain, X509_free);
    free(t->errs);
    t->errs = NULL;
    t->n_errs = 0;
    if (rc != TM_OK) {
        t->vfailed = true;
        snprintf(t->verdict, sizeof t->verdict, "REFUSED: %s", tm_err_name(rc));
        tm_trace("verdict", "REFUSED (%s)", tm_err_name(rc));
        tm_trace("reason", "%s", why->detail);
        X509_STORE_CTX_set_error(xs, x509_err_for(rc));
        return 0;
    }
    return 1;
}

/* sec_level 0 ("encrypt only") with an SPKI pin: the chain and the name are
 * not checked, but the pin is — a pin is enforced whatever the session's
 * security level (it only ever narrows what is accepted). */
static int pin_only_verify(X509_STORE_CTX *xs, void *arg)
{
    tm_tls *t = arg;
    t->verify_ran = true;
    tm_reason *why = &t->vwhy;
    tm_reason_clear(why);
    X509 *leaf = X509_STORE_CTX_get0_cert(xs);
    uint8_t h[32];
    tm_err rc = tm_policy_check_pin(t->pin, leaf && tm_x509_spki_hash(leaf, h) ? h : NULL, why);
    if (rc != TM_OK) {
        t->vfailed = true;
        tm_reason_append(why, "the session verifies nothing else (encrypt only) but its pin is enforced");
        snprintf(t->verdict, sizeof t->verdict, "REFUSED: %s", tm_err_name(rc));
        tm_trace("verdict", "REFUSED (%s): encrypt only, SPKI pin enforced", tm_err_name(rc));
        tm_trace("reason", "%s", why->detail);
        X509_STORE_CTX_set_error(xs, x509_err_for(rc));
        return 0;
    }
    return 1;
}

static int cert_cb(SSL *ssl, void *arg)
{
    tm_tls *t = arg;
    t->cert_request_seen = true;
    tm_trace("tls", "server asked for a client certificate; %s", t->has_client_cert ? "sending the stored one" : "none configured");
    return 1;
}

/* The context is shared by every connection with the same configuration, so
 * its certificate-verify callback cannot carry a session: it finds the
 * session through the SSL being verified (app data, set in tm_tls_new). */
static int ctx_verify(X509_STORE_CTX *xs, void *arg)
{
    (void)arg;
    SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
    tm_tls *t = ssl ? SSL_get_app_data(ssl) : NULL;
    if (!t)
        return 0;
    if (t->cfg.verify)
        return app_verify(xs, t);
    if (t->has_pin)
        return pin_only_verify(xs, t);
    return X509_verify_cert(xs);        /* SSL_VERIFY_NONE: the result is ignored */
}

/* ------------------------------------------------------- context cache
 *
 * Building an SSL_CTX costs ~1.2 M instructions, and parsing each loaded
 * anchor another ~1.5 M: per connection that was most of a fresh GET.  One
 * context per distinct configuration is kept; the key is a SHA-256 over
 * everything the context depends on (anchor and client-certificate bytes,
 * key, bundle store identity, versions, verify).  A changed store therefore
 * changes the key by itself: nothing needs to be told to invalidate, and a
 * stale context cannot be used.  Per-connection state (SNI, name, time,
 * pin, callbacks' session) lives on the SSL. */

typedef struct {
    SSL_CTX      *ctx;               /* NULL = free slot; the cache holds one reference */
    uint8_t       key[32];
    unsigned long used;              /* LRU tick */
    bool          has_client_cert;
    char          client_subject[256];
    char          trust_desc[800];   /* before trust_note, which is per connection */
} ctx_slot;

static ctx_slot      g_ctx[TM_TLS_CTX_CACHE];
static unsigned long g_ctx_tick;
static unsigned long g_ctx_built;

static void key_blob(EVP_MD_CTX *md, const void *p, size_t len)
{
    uint64_t l = len;
    EVP_DigestUpdate(md, &l, sizeof l);
    if (len)
        EVP_DigestUpdate(md, p, len);
}

/* bundle: the bundle store in use (identity only), NULL when none. */
static bool ctx_key(const tm_tls_config *c, int minv, int maxv, const X509_STORE *bundle, uint8_t out[32])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    bool ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    if (ok) {
        int head[4] = { minv, maxv, c->verify ? 1 : 0, (int)c->n_anchors };
        key_blob(md, head, sizeof head);
        for (size_t i = 0; i < c->n_anchors; i++)
            key_blob(md, c->anchors[i].p, c->anchors[i].len);
        key_blob(md, &bundle, sizeof bundle);
        size_t nc = c->client_chain ? c->n_client_chain : 0;
        key_blob(md, &nc, sizeof nc);
        for (size_t i = 0; i < nc; i++)
            key_blob(md, c->client_chain[i].p, c->client_chain[i].len);
        key_blob(md, c->client_key.p, c->client_key.p ? c->client_key.len : 0);
        unsigned int n = 0;
        ok = EVP_DigestFinal_ex(md, out, &n) && n == 32;
    }
    EVP_MD_CTX_free(md);
    return ok;
}

static ctx_slot *ctx_find(const uint8_t key[32])
{
    for (size_t i = 0; i < TM_TLS_CTX_CACHE; i++)
        if (g_ctx[i].ctx && memcmp(g_ctx[i].key, key, 32) == 0) {
            g_ctx[i].used = ++g_ctx_tick;
            return &g_ctx[i];
        }
    return NULL;
}

static void ctx_put(const uint8_t key[32], const tm_tls *t)
{
    ctx_slot *s = &g_ctx[0];
    for (size_t i = 0; i < TM_TLS_CTX_CACHE; i++) {
        if (!g_ctx[i].ctx) {
            s = &g_ctx[i];
            break;
        }
        if (g_ctx[i].used < s->used)
            s = &g_ctx[i];
    }
    SSL_CTX_free(s->ctx);              /* connections still using it hold their own reference */
    SSL_CTX_up_ref(t->ctx);
    s->ctx = t->ctx;
    memcpy(s->key, key, 32);
    s->used = ++g_ctx_tick;
    s->has_client_cert = t->has_client_cert;
    snprintf(s->client_subject, sizeof s->client_subject, "%s", t->client_subject);
    snprintf(s->trust_desc, sizeof s->trust_desc, "%s", t->trust_desc);
}

unsigned long tm_tls_contexts_built(void)
{
    return g_ctx_built;
}

const void *tm_tls_context_id(const tm_tls *t)
{
    return t ? (const void *)t->ctx : NULL;
}

void tm_tls_cache_clear(void)
{
    for (size_t i = 0; i < TM_TLS_CTX_CACHE; i++) {
        SSL_CTX_free(g_ctx[i].ctx);
        g_ctx[i].ctx = NULL;
    }
    if (g_bundle.store)
        X509_STORE_free(g_bundle.store);
    g_bundle.store = NULL;
}

/* ------------------------------------------------------- setup */

static tm_err setup_client_cert(tm_tls *t, tm_reason *why)
{
    const tm_tls_config *c = &t->cfg;
    if (!c->client_chain || c->n_client_chain == 0)
        return TM_OK;
    const unsigned char *p = c->client_chain[0].p;
    X509 *x = d2i_X509(NULL, &p, (long)c->client_chain[0].len);
    if (!x)
        return tm_fail(why, TM_E_CERT_FORMAT, "the client certificate (%zu bytes) does not parse",
                       c->client_chain[0].len);
    tm_x509_name(X509_get_subject_name(x), t->client_subject, sizeof t->client_subject);
    if (SSL_CTX_use_certificate(t->ctx, x) != 1) {
        char eb[200];
        X509_free(x);
        tm_err e = tm_fail(why, TM_E_TLS_INIT, "the client certificate '%s' cannot be used: %s",
                           t->client_subject, ssl_errstr(ERR_peek_last_error(), eb, sizeof eb));
        ERR_clear_error();
        return e;
    }
    X509_free(x);
    for (size_t i = 1; i < c->n_client_chain; i++) {
        p = c->client_chain[i].p;
        X509 *ix = d2i_X509(NULL, &p, (long)c->client_chain[i].len);
        if (!ix || SSL_CTX_add0_chain_cert(t->ctx, ix) != 1) {
            X509_free(ix);
            ERR_clear_error();
            return tm_fail(why, TM_E_CERT_FORMAT, "client chain certificate %zu does not parse", i + 1);
        }
    }
    if (!c->client_key.p)
        return tm_fail(why, TM_E_KEY_FORMAT, "no private key is stored for the client certificate '%s'",
                       t->client_subject);
    EVP_PKEY *pk = tm_x509_load_key(c->client_key.p, c->client_key.len);
    if (!pk)
        return tm_fail(why, TM_E_KEY_FORMAT, "the client private key (%zu bytes) is not an unencrypted PEM or DER key",
                       c->client_key.len);
    int ok = SSL_CTX_use_PrivateKey(t->ctx, pk) == 1 && SSL_CTX_check_private_key(t->ctx) == 1;
    EVP_PKEY_free(pk);
    ERR_clear_error();
    if (!ok)
        return tm_fail(why, TM_E_KEY_MISMATCH, "the stored private key does not belong to the client certificate '%s'",
                       t->client_subject);
    t->has_client_cert = true;
    return TM_OK;
}

static tm_err setup_trust(tm_tls *t, tm_reason *why)
{
    const tm_tls_config *c = &t->cfg;
    if (c->n_anchors > 0) {
        X509_STORE *st = SSL_CTX_get_cert_store(t->ctx);
        size_t o = (size_t)snprintf(t->trust_desc, sizeof t->trust_desc, "the %zu loaded certificate%s (",
                                    c->n_anchors, c->n_anchors == 1 ? "" : "s");
        for (size_t i = 0; i < c->n_anchors; i++) {
            const unsigned char *p = c->anchors[i].p;
            X509 *x = d2i_X509(NULL, &p, (long)c->anchors[i].len);
            if (!x) {
                ERR_clear_error();
                return tm_fail(why, TM_E_CERT_FORMAT, "loaded certificate %zu (%zu bytes) does not parse",
                               i + 1, c->anchors[i].len);
            }
            X509_STORE_add_cert(st, x);
            char s[256];
            tm_x509_name(X509_get_subject_name(x), s, sizeof s);
            if (o < sizeof t->trust_desc - 8)
                o += (size_t)snprintf(t->trust_desc + o, sizeof t->trust_desc - o, "%s'%s'", i ? ", " : "", s);
            X509_free(x);
        }
        ERR_clear_error();
        if (o < sizeof t->trust_desc - 2)
            snprintf(t->trust_desc + o, sizeof t->trust_desc - o, ")");
        else
            snprintf(t->trust_desc + sizeof t->trust_desc - 6, 6, "…)");
        return TM_OK;
    }
    if (c->bundle_path && c->bundle_path[0]) {
        if (!c->verify) {
            snprintf(t->trust_desc, sizeof t->trust_desc, "nothing (encrypt only)");
            return TM_OK;
        }
        X509_STORE *st = bundle_store(c->bundle_path, why);
        if (!st)
            return TM_E_TLS_INIT;
        SSL_CTX_set1_cert_store(t->ctx, st);
        X509_STORE_free(st);
        snprintf(t->trust_desc, sizeof t->trust_desc, "the CA bundle %s", c->bundle_path);
        return TM_OK;
    }
    snprintf(t->trust_desc, sizeof t->trust_desc, "the trusted certificates (none: nothing is loaded and there is no CA bundle)");
    return TM_OK;
}

/* A new context for t's configuration (t->cfg); fills t->ctx, trust_desc,
 * client_subject, has_client_cert.  Everything per connection is set on the
 * SSL in tm_tls_new, not here. */
static tm_err build_ctx(tm_tls *t, int minv, int maxv, tm_reason *why)
{
    char eb[200];
    g_ctx_built++;
    t->ctx = SSL_CTX_new(TLS_client_method());
    if (!t->ctx)
        return tm_fail(why, TM_E_TLS_INIT, "SSL_CTX_new: %s", ssl_errstr(ERR_peek_last_error(), eb, sizeof eb));
    SSL_CTX_set_security_level(t->ctx, 2);
    if (!SSL_CTX_set_min_proto_version(t->ctx, minv) || !SSL_CTX_set_max_proto_version(t->ctx, maxv)
        || !SSL_CTX_set_cipher_list(t->ctx, TM_TLS_CIPHERS))
        return tm_fail(why, TM_E_TLS_INIT, "TLS versions/ciphers: %s", ssl_errstr(ERR_peek_last_error(), eb, sizeof eb));
    /* No SSL_OP_IGNORE_UNEXPECTED_EOF: a FIN without close_notify must stay
     * distinguishable from a clean close (tm_tls_read -> TM_TLS_CLOSED_UNCLEAN),
     * or a close-delimited HTTP body cut by an attacker looks complete. */
    SSL_CTX_set_options(t->ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    /* Bound what the server may send as its certificate chain (a 200 KB chain
     * fails the handshake with a reason instead of growing memory). */
    SSL_CTX_set_max_cert_list(t->ctx, TM_TLS_CHAIN_MAX);
    /* RELEASE_BUFFERS: an idle connection gives its record buffers (2 x ~16
     * KiB) back; read-ahead into one TM_TLS_READ_BUF buffer: a download reads
     * the socket in large gulps (several records per recv) instead of one
     * header + one body read per record.  tm_tls_pending accounts for the
     * bytes read ahead but not yet decrypted. */
    SSL_CTX_set_mode(t->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                     SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_read_ahead(t->ctx, 1);
    SSL_CTX_set_default_read_buffer_len(t->ctx, TM_TLS_READ_BUF);
    SSL_CTX_set_session_cache_mode(t->ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_cert_verify_callback(t->ctx, ctx_verify, NULL);
    tm_err e = setup_trust(t, why);
    if (e == TM_OK)
        e = setup_client_cert(t, why);
    return e;
}

tm_tls *tm_tls_new(const tm_tls_config *cfg, int fd, tm_reason *why)
{
    tm_tls *t = calloc(1, sizeof *t);
    if (!t) {
        tm_fail(why, TM_E_NO_MEMORY, "TLS session");
        return NULL;
    }
    g_live++;
    t->cfg = *cfg;
    t->fd = fd;
    t->alert_recv = t->alert_sent = -1;
    snprintf(t->host, sizeof t->host, "%s", cfg->host ? cfg->host : "");
    snprintf(t->name, sizeof t->name, "%s", cfg->expected_name && cfg->expected_name[0] ? cfg->expected_name : t->host);
    if (cfg->pin_spki_sha256) {
        memcpy(t->pin, cfg->pin_spki_sha256, 32);
        t->has_pin = true;
    }
    t->cfg.host = t->host;
    t->cfg.expected_name = NULL;
    t->cfg.pin_spki_sha256 = NULL;
    t->cfg.load_hint = NULL;
    if (cfg->load_hint)
        snprintf(t->load_hint, sizeof t->load_hint, "%s", cfg->load_hint);
    t->cfg.clock_hint = NULL;
    if (cfg->clock_hint) {
        snprintf(t->clock_hint, sizeof t->clock_hint, "%s", cfg->clock_hint);
        t->cfg.clock_hint = t->clock_hint;
    }

    int minv = cfg->min_version ? cfg->min_version : TLS1_2_VERSION;
    int maxv = cfg->max_version ? cfg->max_version : TLS1_3_VERSION;
    if (minv < TLS1_2_VERSION)
        minv = TLS1_2_VERSION;
    tm_err e = TM_OK;
    char eb[200];
    X509_STORE *bundle = NULL;        /* the default trust in use: part of the context's key */
    if (cfg->n_anchors == 0 && cfg->bundle_path && cfg->bundle_path[0] && cfg->verify &&
        !(bundle = bundle_store(cfg->bundle_path, why))) {
        e = TM_E_TLS_INIT;
        goto fail;
    }
    uint8_t key[32];
    bool keyed = ctx_key(cfg, minv, maxv, bundle, key);
    ERR_clear_error();
    ctx_slot *hit = keyed ? ctx_find(key) : NULL;
    if (hit) {
        SSL_CTX_up_ref(hit->ctx);
        t->ctx = hit->ctx;
        t->has_client_cert = hit->has_client_cert;
        snprintf(t->client_subject, sizeof t->client_subject, "%s", hit->client_subject);
        snprintf(t->trust_desc, sizeof t->trust_desc, "%s", hit->trust_desc);
    } else if ((e = build_ctx(t, minv, maxv, why)) != TM_OK) {
        goto fail;
    } else if (keyed) {
        ctx_put(key, t);
    }
    X509_STORE_free(bundle);
    bundle = NULL;
    if (cfg->trust_note && cfg->trust_note[0]) {    /* e.g. stored files that are not anchors, and why */
        size_t o = strlen(t->trust_desc);
        snprintf(t->trust_desc + o, sizeof t->trust_desc - o, "; %s", cfg->trust_note);
    }

    t->ssl = SSL_new(t->ctx);
    if (!t->ssl || !SSL_set_fd(t->ssl, fd)) {
        e = tm_fail(why, TM_E_TLS_INIT, "SSL_new: %s", ssl_errstr(ERR_peek_last_error(), eb, sizeof eb));
        goto fail;
    }
    SSL_set_app_data(t->ssl, t);
    SSL_set_cert_cb(t->ssl, cert_cb, t);
    if (cfg->verify)
        SSL_set_verify(t->ssl, SSL_VERIFY_PEER, verify_cb);
    else
        SSL_set_verify(t->ssl, t->has_pin ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
    SSL_set_msg_callback(t->ssl, msg_cb);
    SSL_set_msg_callback_arg(t->ssl, t);
    X509_VERIFY_PARAM *vp = SSL_get0_param(t->ssl);
    X509_VERIFY_PARAM_set_time(vp, (time_t)cfg->now);
    X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_X509_STRICT);   /* the floor of profile.c */
    if (cfg->n_anchors > 0)
        X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_PARTIAL_CHAIN);
    uint8_t ip[16];
    snprintf(t->sni, sizeof t->sni, "%s", cfg->sni ? cfg->sni : t->host);
    size_t sl = strlen(t->sni);
    if (sl > 1 && t->sni[sl - 1] == '.')
        t->sni[sl - 1] = '\0';
    if ((!cfg->sni && (!t->host[0] || tm_host_parse_ip(t->host, ip))) || tm_host_parse_ip(t->sni, ip))
        t->sni[0] = '\0';                /* RFC 6066: no SNI for an IP literal ("127.0.0.1." too) */
    if (t->sni[0]) {
        if (!SSL_set_tlsext_host_name(t->ssl, t->sni)) {
            e = tm_fail(why, TM_E_TLS_INIT, "cannot send SNI '%s'", t->sni);
            goto fail;
        }
    }
    if (cfg->alpn && cfg->alpn_len && SSL_set_alpn_protos(t->ssl, cfg->alpn, (unsigned)cfg->alpn_len) != 0) {
        e = tm_fail(why, TM_E_TLS_INIT, "cannot offer the ALPN list (%zu bytes)", cfg->alpn_len);
        goto fail;
    }
    SSL_set_connect_state(t->ssl);
    tm_trace("tls", "ClientHello %s..%s, %s, verify %s, trust %s%s%s", version_name(minv), version_name(maxv),
             t->sni[0] ? "SNI sent" : "no SNI (IP literal)", cfg->verify ? "on" : "OFF (encrypt only)",
             t->trust_desc, t->has_client_cert ? ", client certificate " : "", t->client_subject);
    if (t->sni[0])
        tm_trace("tls", "SNI '%s'%s%s%s", t->sni, strcmp(t->name, t->host) ? ", name checked '" : "",
                 strcmp(t->name, t->host) ? t->name : "", strcmp(t->name, t->host) ? "'" : "");
    ERR_clear_error();
    return t;
fail:
    X509_STORE_free(bundle);
    ERR_clear_error();
    tm_trace("reason", "TLS setup: %s", why ? why->detail : "");
    tm_tls_free(t);
    return NULL;
}

/* ------------------------------------------------------- failures */

static bool is_client_cert_alert(int a)
{
    return a == 40 || a == 41 || a == 42 || a == 43 || a == 44 || a == 45 || a == 46 || a == 48 ||
           a == 49 || a == 51 || a == 116;
}

/* Failure after an alert from the server (handshake or first reads in TLS 1.3). */
static tm_err alert_failure(tm_tls *t, int a, tm_reason *why)
{
    if (t->cert_request_seen && is_client_cert_alert(a)) {
        if (!t->has_client_cert)
            return tm_fail(why, TM_E_CLIENT_CERT_REQUIRED,
                           "the server asked for a client certificate (CertificateRequest) and none is configured; "
                           "it then sent alert %s (%d)", alert_name(a), a);
        return tm_fail(why, TM_E_CLIENT_CERT_REJECTED,
                       "the server sent alert %s (%d) after receiving the client certificate '%s'",
                       alert_name(a), a, t->client_subject);
    }
    if (a == 116)
        return tm_fail(why, TM_E_CLIENT_CERT_REQUIRED,
                       "alert received: certificate_required (116); no client certificate was sent");
    if (a == 70 && t->first_record_seen && t->first_record[0] == 0x15 && t->first_record[1] == 3 &&
        t->first_record[2] < 3)
        return tm_fail(why, TM_E_TLS_VERSION,
                       "alert received: protocol_version (70) in a %s record: the server speaks only %s; "
                       "tlsmodem requires TLSv1.2 or TLSv1.3",
                       version_name(0x0300 | t->first_record[2]), version_name(0x0300 | t->first_record[2]));
    if (a == 70)
        return tm_fail(why, TM_E_TLS_VERSION,
                       "alert received: protocol_version (70): the server accepts none of %s..%s "
                       "(it probably offers only TLSv1.0/1.1)",
                       version_name(t->cfg.min_version ? t->cfg.min_version : 0x0303),
                       version_name(t->cfg.max_version ? t->cfg.max_version : 0x0304));
    if (a == 112 && !t->sni[0])
        return tm_fail(why, TM_E_TLS_SNI_REQUIRED,
                       "alert received: unrecognized_name (112); no SNI was sent because '%s' is an IP literal",
                       t->host);
    if ((a == 40 || a == 71) && !t->server_hello_seen)
        return tm_fail(why, TM_E_TLS_CIPHER,
                       "alert received: %s (%d) in answer to the ClientHello%s%s%s: the server accepts none of "
                       "the cipher suites, groups and signature algorithms tlsmodem offers (TLSv1.2 ECDHE/DHE "
                       "suites with AES or ChaCha20, the TLSv1.3 suites; never NULL, anonymous, RC4, 3DES or "
                       "export suites)", alert_name(a), a, t->sni[0] ? " (SNI '" : " (no SNI: IP literal",
                       t->sni, t->sni[0] ? "')" : ")");
    if (t->sni[0])
        tm_fail(why, TM_E_TLS_ALERT, "alert received: %s (%d), sent by the server after %s with SNI '%s'",
                alert_name(a), a, t->server_hello_seen ? "ServerHello" : "ClientHello", t->sni);
    else
        tm_fail(why, TM_E_TLS_ALERT, "alert received: %s (%d), sent by the server after %s without SNI (IP literal)",
                alert_name(a), a, t->server_hello_seen ? "ServerHello" : "ClientHello");
    if ((a == 40 || a == 71) && !t->server_hello_seen)
        tm_reason_append(why, "no common cipher suite, group or signature algorithm, or the server refuses this name");
    return TM_E_TLS_ALERT;
}

static tm_err ssl_failure(tm_tls *t, int ret, int ssl_err, bool in_handshake, tm_reason *why)
{
    unsigned long e = ERR_peek_error();
    int reason = e ? ERR_GET_REASON(e) : 0;
    char eb[200] = "";
    if (e)
        ssl_errstr(e, eb, sizeof eb);
    tm_err rc;
    if (t->vfailed) {
        *why = t->vwhy;
        rc = why->code;
    } else if (t->alert_recv > 0) {
        rc = alert_failure(t, t->alert_recv, why);
    } else if (reason >= SSL_AD_REASON_OFFSET && reason < SSL_AD_REASON_OFFSET + 256) {
        rc = alert_failure(t, reason - SSL_AD_REASON_OFFSET, why);
    } else if (ssl_err == SSL_ERROR_SYSCALL || ssl_err == SSL_ERROR_ZERO_RETURN ||
               (ssl_err == SSL_ERROR_SSL && reason == SSL_R_UNEXPECTED_EOF_WHILE_READING)) {
        int en = errno;
        /* SSL_read_ex/SSL_write_ex return 0 (not -1) on a socket error:
         * errno (cleared before the call) tells a reset from an EOF. */
        if (ssl_err == SSL_ERROR_SYSCALL && (ret < 0 || en) && en)
            rc = tm_fail(why, TM_E_NET, "%s: %s%s", in_handshake ? "TLS handshake" : "TLS I/O", strerror(en),
                         en == ECONNRESET && !in_handshake ? " (the server reset the connection in the "
                         "middle of the data)" : "");
        else
            rc = tm_fail(why, in_handshake ? TM_E_TLS_HANDSHAKE : TM_E_PEER_CLOSED,
                         "the server closed the connection%s%s without an alert%s%s%s",
                         in_handshake ? " " : "",
                         in_handshake ? (t->server_hello_seen ? "during the handshake" : "after ClientHello") : "",
                         t->sni[0] ? " (SNI '" : " (no SNI: IP literal", t->sni, t->sni[0] ? "')" : ")");
    } else if (reason == SSL_R_UNSUPPORTED_PROTOCOL || reason == SSL_R_NO_PROTOCOLS_AVAILABLE ||
               reason == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION || reason == SSL_R_VERSION_TOO_LOW) {
        if (t->server_hello_seen && t->server_hello_version && t->server_hello_version < 0x0303)
            rc = tm_fail(why, TM_E_TLS_VERSION, "the server offers only %s; tlsmodem requires TLSv1.2 or TLSv1.3",
                         version_name(t->server_hello_version));
        else
            rc = tm_fail(why, TM_E_TLS_VERSION, "no common TLS version (%s)", eb);
    } else if (reason == SSL_R_WRONG_VERSION_NUMBER ||
               reason == SSL_R_PACKET_LENGTH_TOO_LONG || reason == SSL_R_UNKNOWN_PROTOCOL) {
        const unsigned char *r = t->first_record;
        if (t->first_record_seen && memcmp(r, "HTTP/", 5) == 0)
            rc = tm_fail(why, TM_E_TLS_HANDSHAKE, "the server answered in plain HTTP: this port does not speak TLS");
        else if (t->first_record_seen && r[0] == 0x15 && r[1] == 3 && r[2] < 3)
            rc = tm_fail(why, TM_E_TLS_VERSION, "the server answered with a %s alert record; it offers no TLSv1.2/1.3",
                         version_name((r[1] << 8) | r[2]));
        else if (t->first_record_seen && r[0] >= 0x14 && r[0] <= 0x17 && r[1] == 3 && r[2] < 3)
            rc = tm_fail(why, TM_E_TLS_VERSION, "the server offers only %s; tlsmodem requires TLSv1.2 or TLSv1.3",
                         version_name((r[1] << 8) | r[2]));
        else
            rc = tm_fail(why, TM_E_TLS_HANDSHAKE, "the server's reply is not TLS (%s; first bytes %02x %02x %02x %02x %02x)",
                         eb, r[0], r[1], r[2], r[3], r[4]);
    } else if (reason == SSL_R_NO_SHARED_CIPHER || reason == SSL_R_NO_CIPHERS_AVAILABLE ||
               reason == SSL_R_WRONG_CIPHER_RETURNED || reason == SSL_R_NO_SHARED_SIGNATURE_ALGORITHMS ||
               reason == SSL_R_WRONG_SIGNATURE_TYPE || reason == SSL_R_WRONG_CURVE) {
        rc = tm_fail(why, TM_E_TLS_CIPHER, "%s (tlsmodem offers %s with TLS 1.2 and the TLS 1.3 AEAD suites)",
                     eb, TM_TLS_CIPHERS);
    } else if (reason == SSL_R_DH_KEY_TOO_SMALL || reason == SSL_R_BAD_DH_VALUE) {
        rc = tm_fail(why, TM_E_TLS_WEAK_DH, "the server's DHE group is smaller than 2048 bits (%s)", eb);
    } else if (reason == SSL_R_EXCESSIVE_MESSAGE_SIZE) {
        rc = tm_fail(why, TM_E_TLS_HANDSHAKE, "the server sent a handshake message larger than tlsmodem "
                     "accepts: its certificate chain must stay below %d KiB", TM_TLS_CHAIN_MAX / 1024);
    } else if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED) {
        long vr = SSL_get_verify_result(t->ssl);
        rc = tm_fail(why, TM_E_CERT_BAD, "verification failed: %s", X509_verify_cert_error_string(vr));
    } else if (reason == SSL_R_CA_KEY_TOO_SMALL || reason == SSL_R_EE_KEY_TOO_SMALL ||
               reason == SSL_R_CA_MD_TOO_WEAK) {
        rc = tm_fail(why, reason == SSL_R_CA_MD_TOO_WEAK ? TM_E_CERT_WEAK_SIGNATURE : TM_E_CERT_WEAK_KEY, "%s", eb);
    } else {
        rc = tm_fail(why, in_handshake ? TM_E_TLS_HANDSHAKE : TM_E_NET, "%s%s",
                     eb[0] ? eb : "TLS failure", t->alert_sent > 0 ? "" : "");
        if (t->alert_sent > 0 && why)
            tm_reason_append(why, "tlsmodem sent alert %s (%d)", alert_name(t->alert_sent), t->alert_sent);
    }
    ERR_clear_error();
    t->failed = true;
    if (!t->vfailed)   /* verification failures are traced already */
        tm_trace("reason", "%s: %s", tm_err_name(rc), why ? why->detail : "");
    return rc;
}

/* ------------------------------------------------------- operations */

static void after_handshake(tm_tls *t)
{
    const char *ver = SSL_get_version(t->ssl);
    const char *suite = SSL_CIPHER_get_name(SSL_get_current_cipher(t->ssl));
    char grp[64] = "";
    int gid = SSL_get_negotiated_group(t->ssl);
    if (gid > 0) {
        const char *gn = SSL_group_to_name(t->ssl, gid);
        if (gn)
            snprintf(grp, sizeof grp, ", group %s", gn);
    }
    tm_trace("tls", "%s %s%s, %s%s%s%s", ver, suite, grp, t->sni[0] ? "SNI " : "no SNI (IP literal)",
             t->sni, t->cert_request_seen ? (t->has_client_cert ? ", client certificate sent" : ", client certificate asked, none sent") : "",
             "");
    if (!t->cfg.verify) {
        STACK_OF(X509) *sent = SSL_get_peer_cert_chain(t->ssl);
        int n = sent ? sk_X509_num(sent) : 0;
        tm_trace("chain", "server sent %d certificate%s (not verified)", n, n == 1 ? "" : "s");
        for (int i = 0; i < n; i++)
            trace_cert("chain", i, sk_X509_value(sent, i), "");
        snprintf(t->verdict, sizeof t->verdict, "NOT VERIFIED (encrypt only)%s",
                 t->has_pin ? ", SPKI pin matches" : "");
        tm_trace("verdict", "%s", t->verdict);
    }
    const char *v = t->verdict;
    if (strncmp(v, "verified ", 9) == 0)
        v += 9;
    else if (strncmp(v, "verified: ", 10) == 0)
        v += 10;
    snprintf(t->summary, sizeof t->summary, "%s %s, %s%s, %s", ver, suite, t->sni[0] ? "SNI " : "no SNI (IP literal)",
             t->sni, t->verdict[0] ? v : "verified");
}

tm_tls_status tm_tls_handshake(tm_tls *t, tm_reason *why)
{
    if (t->done)
        return TM_TLS_OK;
    if (t->failed)
        return TM_TLS_FAILED;
    ERR_clear_error();
    errno = 0;
    int r = SSL_do_handshake(t->ssl);
    if (r == 1) {
        t->done = true;
        after_handshake(t);
        /* the handshake's records are done with: a connection that waits
         * for its first request holds no record buffers */
        SSL_free_buffers(t->ssl);
        return TM_TLS_OK;
    }
    int e = SSL_get_error(t->ssl, r);
    if (e == SSL_ERROR_WANT_READ)
        return TM_TLS_WANT_READ;
    if (e == SSL_ERROR_WANT_WRITE)
        return TM_TLS_WANT_WRITE;
    ssl_failure(t, r, e, true, why);
    return TM_TLS_FAILED;
}

tm_tls_status tm_tls_read(tm_tls *t, void *buf, size_t cap, size_t *got, tm_reason *why)
{
    *got = 0;
    if (t->failed)
        return TM_TLS_FAILED;
    ERR_clear_error();
    errno = 0;
    int r = SSL_read_ex(t->ssl, buf, cap, got);
    if (r == 1)
        return TM_TLS_OK;
    int e = SSL_get_error(t->ssl, r);
    if (e == SSL_ERROR_WANT_READ)
        return TM_TLS_WANT_READ;
    if (e == SSL_ERROR_WANT_WRITE)
        return TM_TLS_WANT_WRITE;
    if (e == SSL_ERROR_ZERO_RETURN) {        /* close_notify received */
        ERR_clear_error();
        return TM_TLS_CLOSED;
    }
    unsigned long pe = ERR_peek_error();
    if ((e == SSL_ERROR_SYSCALL && pe == 0 && errno == 0) ||
        (e == SSL_ERROR_SSL && ERR_GET_REASON(pe) == SSL_R_UNEXPECTED_EOF_WHILE_READING)) {
        ERR_clear_error();
        t->failed = true;                  /* nothing more can come */
        tm_trace("tls", "%s closed the TCP connection without TLS close_notify", t->host);
        return TM_TLS_CLOSED_UNCLEAN;
    }
    ssl_failure(t, r, e, false, why);
    return TM_TLS_FAILED;
}

tm_tls_status tm_tls_write(tm_tls *t, const void *buf, size_t len, size_t *put, tm_reason *why)
{
    *put = 0;
    if (t->failed)
        return TM_TLS_FAILED;
    if (len == 0)
        return TM_TLS_OK;
    ERR_clear_error();
    errno = 0;
    int r = SSL_write_ex(t->ssl, buf, len, put);
    if (r == 1)
        return TM_TLS_OK;
    int e = SSL_get_error(t->ssl, r);
    if (e == SSL_ERROR_WANT_READ)
        return TM_TLS_WANT_READ;
    if (e == SSL_ERROR_WANT_WRITE)
        return TM_TLS_WANT_WRITE;
    ssl_failure(t, r, e, false, why);
    return TM_TLS_FAILED;
}

size_t tm_tls_pending(tm_tls *t)
{
    if (!t || !t->ssl || t->failed)
        return 0;
    int n = SSL_pending(t->ssl);
    if (n > 0)
        return (size_t)n;
    /* read ahead but not yet decrypted: the socket may stay silent, so the
     * caller must read again without waiting for it */
    return SSL_has_pending(t->ssl) ? 1 : 0;
}

void tm_tls_close_notify(tm_tls *t)
{
    if (!t || !t->ssl || !t->done || t->failed)
        return;
    SSL_shutdown(t->ssl);
    ERR_clear_error();
}

unsigned long tm_tls_live(void) { return g_live; }

void tm_tls_free(tm_tls *t)
{
    if (!t)
        return;
    g_live--;
    free(t->errs);
    SSL_free(t->ssl);
    SSL_CTX_free(t->ctx);
    free(t);
}

void tm_tls_release_buffers(tm_tls *t)
{
    /* RELEASE_BUFFERS alone leaves the read buffer in place after some
     * record sequences.  SSL_free_buffers refuses (returns 0) while a record
     * is half read or a write is pending; bytes read ahead are kept too. */
    if (t && t->ssl && t->done && !t->failed && !SSL_has_pending(t->ssl))
        SSL_free_buffers(t->ssl);
}

const char *tm_tls_summary(tm_tls *t)
{
    return t && t->summary[0] ? t->summary : "";
}

const char *tm_tls_verdict(tm_tls *t)
{
    return t ? t->verdict : "";
}
