/* Policy decisions as a table: facts -> expected tm_err (and detail bits). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tls/policy.h"
#include "tm_test.h"

int64_t tm_port_wall_ms(void);
int64_t tm_port_wall_ms(void) { return 0; }

#define DAY 86400
#define NOW 1795000000LL          /* 2026-11-18 */

static tm_cert_facts leaf(void)
{
    return (tm_cert_facts){ .depth = 0, .subject = "CN=www.example.test", .key_type = "RSA",
        .key_bits = 2048, .sig_alg = "sha256WithRSAEncryption", .sig_hash = "SHA256",
        .has_eku = true, .eku_server_auth = true,
        .not_before = NOW - 30 * DAY, .not_after = NOW + 60 * DAY };
}
static tm_cert_facts inter(void)
{
    return (tm_cert_facts){ .depth = 1, .subject = "CN=Test Int", .key_type = "RSA",
        .key_bits = 4096, .sig_alg = "sha256WithRSAEncryption", .sig_hash = "SHA256", .is_ca = true,
        .not_before = NOW - 300 * DAY, .not_after = NOW + 600 * DAY };
}
static tm_cert_facts root(void)
{
    return (tm_cert_facts){ .depth = 2, .subject = "CN=Test Root", .key_type = "RSA",
        .key_bits = 8192, .sig_alg = "sha256WithRSAEncryption", .sig_hash = "SHA256", .is_ca = true,
        .not_before = NOW - 3000 * DAY, .not_after = NOW + 3000 * DAY, .is_anchor = true, .self_signed = true };
}

static tm_policy_clock clk(void)
{
    return (tm_policy_clock){ .now = NOW, .clock_set = true, .host_now = NOW, .clock_hint = "AT+CCLK" };
}

enum { M_NONE, M_LEAF_SHA1, M_ROOT_SHA1, M_INT_MD5, M_ROOT_RSA1024, M_INT_RSA1024, M_LEAF_RSA1024,
       M_LEAF_EC256, M_LEAF_EC192, M_LEAF_ED25519, M_LEAF_CA, M_LEAF_CA_ANCHOR, M_EKU_CLIENT,
       M_EKU_NONE, M_INT_NOT_CA, M_LEAF_EXPIRED, M_LEAF_FUTURE, M_ROOT_EXPIRED,
       M_CLOCK_UNSET, M_CMD_CLOCK_OLD, M_CMD_CLOCK_OLD_REAL, M_HOST_CLOCK_1970, M_INT_ANCHOR_SHA1,
       M_SIGALG_ONLY_SHA1, M_SIGALG_ONLY_SHA1_ECDSA, M_LEAF_SHA512, M_ROOT_MD5_SELF, M_INT_DSA1024,
       M_LEAF_MD5, M_LEAF_SHA384_EC384, M_LEAF_RSA4096, M_LEAF_RSAPSS1024, M_INT_EXPIRED, M_INT_FUTURE,
       M_PIN_SELF_SIGNED_CA, M_INT_NOT_CA_ANCHOR, M_LEAF_CA_EKU_CLIENT, M_LEAF_EKU_ANY,
       M_TRUSTED_2022_EXPIRED, M_CMD_2022_EXPIRED, M_UNSET_2022_EXPIRED, M_TRUSTED_HOST_WOULD_PASS };

static const struct { int mod; size_t n; tm_err want; const char *needle; } rows[] = {
    { M_NONE,              3, TM_OK, NULL },
    { M_NONE,              2, TM_OK, NULL },           /* leaf + intermediate (partial chain anchored) */
    { M_LEAF_SHA1,         3, TM_E_CERT_WEAK_SIGNATURE, "depth 0 'CN=www.example.test' is signed with sha1WithRSAEncryption" },
    { M_ROOT_SHA1,         3, TM_OK, NULL },           /* anchor self-signature exempt */
    { M_ROOT_MD5_SELF,     3, TM_OK, NULL },
    { M_INT_MD5,           3, TM_E_CERT_WEAK_SIGNATURE, "depth 1" },
    { M_INT_ANCHOR_SHA1,   2, TM_OK, NULL },           /* loaded intermediate as anchor */
    { M_SIGALG_ONLY_SHA1,  3, TM_E_CERT_WEAK_SIGNATURE, NULL },
    { M_SIGALG_ONLY_SHA1_ECDSA, 3, TM_E_CERT_WEAK_SIGNATURE, "ecdsa-with-SHA1" },
    { M_LEAF_SHA512,       3, TM_OK, NULL },
    { M_ROOT_RSA1024,      3, TM_E_CERT_WEAK_KEY, "(the trust anchor) has a RSA-1024 key" },
    { M_INT_RSA1024,       3, TM_E_CERT_WEAK_KEY, "depth 1 'CN=Test Int' has a RSA-1024 key" },
    { M_INT_DSA1024,       3, TM_E_CERT_WEAK_KEY, "DSA-1024" },
    { M_LEAF_RSA1024,      3, TM_E_CERT_WEAK_KEY, "at least 2048 bits" },
    { M_LEAF_EC256,        3, TM_OK, NULL },
    { M_LEAF_EC192,        3, TM_E_CERT_WEAK_KEY, "EC-192" },
    { M_LEAF_ED25519,      3, TM_OK, NULL },
    { M_LEAF_CA,           3, TM_E_CERT_LEAF_IS_CA, "CA:TRUE" },
    { M_LEAF_CA_ANCHOR,    1, TM_OK, NULL },           /* pinned self-signed leaf from openssl req -x509 */
    { M_EKU_CLIENT,        3, TM_E_CERT_EKU, "without serverAuth" },
    { M_EKU_NONE,          3, TM_OK, NULL },
    { M_INT_NOT_CA,        3, TM_E_CERT_NOT_CA, "depth 1 'CN=Test Int' issued depth 0" },
    { M_LEAF_EXPIRED,      3, TM_E_CERT_EXPIRED, "expired on" },
    { M_LEAF_FUTURE,       3, TM_E_CERT_NOT_YET_VALID, "notBefore" },
    { M_ROOT_EXPIRED,      3, TM_E_CERT_EXPIRED, "depth 2 'CN=Test Root'" },
    { M_CLOCK_UNSET,       3, TM_E_CLOCK_NOT_SET, "not set" },
    { M_CMD_CLOCK_OLD,     3, TM_E_CLOCK_NOT_SET, "module clock 2016-06-19 14:30:54 UTC is before notBefore" },
    { M_CMD_CLOCK_OLD_REAL,3, TM_E_CERT_NOT_YET_VALID, NULL },  /* host clock fails too */
    { M_HOST_CLOCK_1970,   3, TM_E_CLOCK_NOT_SET, "implausible" },
    { M_LEAF_MD5,          3, TM_E_CERT_WEAK_SIGNATURE, "depth 0 'CN=www.example.test' is signed with md5WithRSAEncryption" },
    { M_LEAF_SHA384_EC384, 3, TM_OK, NULL },
    { M_LEAF_RSA4096,      3, TM_OK, NULL },
    { M_LEAF_RSAPSS1024,   3, TM_E_CERT_WEAK_KEY, "RSA-PSS-1024" },
    { M_INT_EXPIRED,       3, TM_E_CERT_EXPIRED, "depth 1 'CN=Test Int' expired on" },
    { M_INT_FUTURE,        3, TM_E_CERT_NOT_YET_VALID, "depth 1 'CN=Test Int' is valid only from" },
    { M_PIN_SELF_SIGNED_CA,1, TM_OK, NULL },           /* loaded self-signed CA:TRUE server cert */
    { M_INT_NOT_CA_ANCHOR, 2, TM_E_CERT_NOT_CA, "depth 1 'CN=Test Int' issued depth 0" },  /* a loaded non-CA above the leaf */
    { M_LEAF_CA_EKU_CLIENT,3, TM_E_CERT_LEAF_IS_CA, NULL },  /* CA:TRUE reported before EKU */
    { M_LEAF_EKU_ANY,      3, TM_OK, NULL },           /* anyExtendedKeyUsage counts as serverAuth */
    /* an explicit time (verify --time) or a clock set by command is believed before the plausibility floor */
    { M_TRUSTED_2022_EXPIRED, 3, TM_E_CERT_EXPIRED, "expired on 2022-01-01 00:00:00 UTC (notAfter); the time given is 2022-06-01 00:00:00 UTC" },
    { M_CMD_2022_EXPIRED,  3, TM_E_CERT_EXPIRED, "expired on 2022-01-01 00:00:00 UTC (notAfter); module clock is 2022-06-01" },
    { M_UNSET_2022_EXPIRED,3, TM_E_CLOCK_NOT_SET, "module clock 2022-06-01 00:00:00 UTC is implausible" },
    { M_TRUSTED_HOST_WOULD_PASS, 3, TM_E_CERT_NOT_YET_VALID, "the time given is 2016-06-19" },
};

static void apply(int mod, tm_cert_facts *c, tm_policy_clock *k)
{
    switch (mod) {
    case M_LEAF_SHA1: c[0].sig_alg = "sha1WithRSAEncryption"; c[0].sig_hash = "SHA1"; break;
    case M_ROOT_SHA1: c[2].sig_alg = "sha1WithRSAEncryption"; c[2].sig_hash = "SHA1"; break;
    case M_ROOT_MD5_SELF: c[2].sig_alg = "md5WithRSAEncryption"; c[2].sig_hash = "MD5"; break;
    case M_INT_MD5: c[1].sig_alg = "md5WithRSAEncryption"; c[1].sig_hash = "MD5"; break;
    case M_INT_ANCHOR_SHA1: c[1].is_anchor = true; c[1].sig_alg = "sha1WithRSAEncryption"; c[1].sig_hash = "SHA1"; break;
    case M_SIGALG_ONLY_SHA1: c[1].sig_alg = "sha1WithRSAEncryption"; c[1].sig_hash = NULL; break;
    case M_SIGALG_ONLY_SHA1_ECDSA: c[0].sig_alg = "ecdsa-with-SHA1"; c[0].sig_hash = ""; break;
    case M_LEAF_SHA512: c[0].sig_alg = "sha512WithRSAEncryption"; c[0].sig_hash = NULL; break;
    case M_ROOT_RSA1024: c[2].key_bits = 1024; break;
    case M_INT_RSA1024: c[1].key_bits = 1024; break;
    case M_INT_DSA1024: c[1].key_type = "DSA"; c[1].key_bits = 1024; break;
    case M_LEAF_RSA1024: c[0].key_bits = 1024; break;
    case M_LEAF_EC256: c[0].key_type = "EC"; c[0].key_bits = 256; break;
    case M_LEAF_EC192: c[0].key_type = "EC"; c[0].key_bits = 192; break;
    case M_LEAF_ED25519: c[0].key_type = "Ed25519"; c[0].key_bits = 253; break;
    case M_LEAF_CA: c[0].is_ca = true; break;
    case M_LEAF_CA_ANCHOR: c[0].is_ca = true; c[0].is_anchor = true; c[0].self_signed = true;
        c[0].sig_alg = "sha1WithRSAEncryption"; c[0].sig_hash = "SHA1"; c[0].has_eku = false; break;
    case M_EKU_CLIENT: c[0].eku_server_auth = false; break;
    case M_EKU_NONE: c[0].has_eku = false; c[0].eku_server_auth = false; break;
    case M_INT_NOT_CA: c[1].is_ca = false; break;
    case M_LEAF_EXPIRED: c[0].not_after = NOW - DAY; break;
    case M_LEAF_FUTURE: c[0].not_before = NOW + DAY; break;
    case M_ROOT_EXPIRED: c[2].not_after = NOW - DAY; break;
    case M_CLOCK_UNSET: k->clock_set = false; break;
    case M_CMD_CLOCK_OLD: k->clock_from_cmd = true; k->now = 1466346654; break;   /* 2016-06-19 14:30:54 */
    case M_CMD_CLOCK_OLD_REAL: k->clock_from_cmd = true; k->now = NOW - 10 * DAY; c[0].not_before = NOW + DAY; break;
    case M_HOST_CLOCK_1970: k->now = 0; k->host_now = 0; break;
    case M_LEAF_MD5: c[0].sig_alg = "md5WithRSAEncryption"; c[0].sig_hash = "MD5"; break;
    case M_LEAF_SHA384_EC384: c[0].key_type = "EC"; c[0].key_bits = 384; c[0].sig_alg = "ecdsa-with-SHA384"; c[0].sig_hash = "SHA384"; break;
    case M_LEAF_RSA4096: c[0].key_bits = 4096; break;
    case M_LEAF_RSAPSS1024: c[0].key_type = "RSA-PSS"; c[0].key_bits = 1024; break;
    case M_INT_EXPIRED: c[1].not_after = NOW - 2 * DAY; break;
    case M_INT_FUTURE: c[1].not_before = NOW + 2 * DAY; break;
    case M_PIN_SELF_SIGNED_CA: c[0].is_ca = true; c[0].is_anchor = true; c[0].self_signed = true; break;
    case M_INT_NOT_CA_ANCHOR: c[1].is_ca = false; break;
    case M_LEAF_CA_EKU_CLIENT: c[0].is_ca = true; c[0].eku_server_auth = false; break;
    case M_LEAF_EKU_ANY: c[0].has_eku = true; c[0].eku_server_auth = true; break;
    case M_TRUSTED_2022_EXPIRED: case M_CMD_2022_EXPIRED: case M_UNSET_2022_EXPIRED:
        k->trusted = mod == M_TRUSTED_2022_EXPIRED;
        k->clock_from_cmd = mod == M_CMD_2022_EXPIRED;
        k->now = 1654041600;                               /* 2022-06-01 */
        c[0].not_before = 1609459200; c[0].not_after = 1640995200;   /* 2021-01-01 .. 2022-01-01 */
        c[1].not_before = c[2].not_before = 1500000000;
        break;
    case M_TRUSTED_HOST_WOULD_PASS: k->trusted = true; k->now = 1466346654; break;
    default: break;
    }
}

/* ---- strict profile: one row per rule, both sides of each (clean chains pass) */

enum { P_NONE, P_V1_LEAF, P_V1_ROOT, P_DSA_LEAF, P_DSA_PIN, P_DSA_SIG_INT, P_ECDSA_SIG_OK, P_SERIAL_ZERO,
       P_SERIAL_NEG, P_SERIAL_LONG, P_SERIAL_20, P_BAD_EXT_AIA, P_SIG_MISMATCH, P_ISSUER_EMPTY,
       P_SUBJECT_EMPTY_CA, P_SUBJECT_EMPTY_NO_SAN, P_SUBJECT_EMPTY_SAN_CRIT, P_SUBJECT_EMPTY_SAN_NONCRIT,
       P_SAN_EMPTY, P_AKI_MISSING_LEAF, P_AKI_MISSING_INT, P_AKI_MISSING_ROOT, P_AKI_CRIT, P_ROOT_AKI_ISSUER,
       P_ROOT_AKI_NE_SKI, P_INT_AKI_NE_SKI, P_SKI_MISSING_INT, P_SKI_MISSING_LEAF, P_SKI_CRIT, P_BC_NONCRIT_ROOT,
       P_BC_NONCRIT_LEAF, P_CA_NO_KU, P_PATHLEN_NO_KCS, P_KCS_LEAF, P_NC_LEAF, P_NC_NONCRIT, P_NC_CRIT_CA,
       P_SAN_DOT, P_WEB_LEAF_NO_EKU, P_LOADED_LEAF_NO_EKU, P_WEB_LEAF_ANY, P_LOADED_LEAF_ANY, P_WEB_ROOT_EKU,
       P_LOADED_ROOT_EKU, P_PIN_NO_AKI_NO_KU, P_WEB_INT_ANCHOR_LEAF_OK, P_ROOT_NO_KU_LOADED,
       P_ROOT_NO_KU_BUNDLE };

static const struct { int mod; size_t n; tm_trust_origin o; tm_err want; const char *needle; } prows[] = {
    { P_NONE,            3, TM_TRUST_LOADED, TM_OK, NULL },
    { P_NONE,            3, TM_TRUST_BUNDLE, TM_OK, NULL },
    { P_V1_LEAF,         3, TM_TRUST_LOADED, TM_E_CERT_BAD, "depth 0 'CN=www.example.test' is an X.509 version 1 certificate" },
    { P_V1_ROOT,         3, TM_TRUST_LOADED, TM_E_CERT_BAD, "depth 2 'CN=Test Root' is an X.509 version 1 certificate: it has no extensions, so it cannot say whether it is a CA or what its key may be used for (rule v1-certificate, RFC 5280 4.1.2.1)" },
    { P_DSA_LEAF,        3, TM_TRUST_LOADED, TM_E_CERT_WEAK_KEY, "depth 0 'CN=www.example.test' has a DSA key; tlsmodem uses RSA, ECDSA and Ed25519 certificates only" },
    { P_DSA_PIN,         1, TM_TRUST_LOADED, TM_E_CERT_WEAK_KEY, "(rule dsa-key" },
    { P_DSA_SIG_INT,     3, TM_TRUST_LOADED, TM_E_CERT_WEAK_SIGNATURE, "depth 1 'CN=Test Int' is signed with DSA (dsa_with_SHA256)" },
    { P_ECDSA_SIG_OK,    3, TM_TRUST_LOADED, TM_OK, NULL },
    { P_SERIAL_ZERO,     3, TM_TRUST_LOADED, TM_E_CERT_BAD, "has serial number 0; a serial number must be a positive integer (rule serial-number" },
    { P_SERIAL_NEG,      3, TM_TRUST_LOADED, TM_E_CERT_BAD, "has a negative serial number" },
    { P_SERIAL_LONG,     3, TM_TRUST_LOADED, TM_E_CERT_BAD, "has a serial number of 21 octets; at most 20 are allowed" },
    { P_SERIAL_20,       3, TM_TRUST_LOADED, TM_OK, NULL },
    { P_BAD_EXT_AIA,     3, TM_TRUST_LOADED, TM_E_CERT_BAD, "depth 1 'CN=Test Int' has a malformed extension: Authority Information Access is empty (rule malformed-extension, RFC 5280 4.2)" },
    { P_SIG_MISMATCH,    3, TM_TRUST_LOADED, TM_E_CERT_BAD, "(rule signature-algorithm-mismatch" },
    { P_ISSUER_EMPTY,    3, TM_TRUST_LOADED, TM_E_CERT_BAD, "depth 0 'CN=www.example.test' has an empty issuer name (rule issuer-empty, RFC 5280 4.1.2.4)" },
    { P_SUBJECT_EMPTY_CA,3, TM_TRUST_LOADED, TM_E_CERT_BAD, "depth 1 '(empty subject)' is a CA certificate with an empty subject name (rule subject-empty" },
    { P_SUBJECT_EMPTY_NO_SAN, 3, TM_TRUST_LOADED, TM_E_CERT_BAD, "has an empty subject name and no subjectAltName" },
    { P_SUBJECT_EMPTY_SAN_CRIT, 3, TM_TRUST_LOADED, TM_OK, NULL },
    { P_SUBJECT_EMPTY_SAN_NONCRIT, 3, TM_TRUST_LOADED, TM_E_CERT_BAD, "(rule empty-subject-san-not-critical" },
    { P_SAN_EMPTY,       3, TM_TRUST_LOADED, TM_E_CERT_BAD, "(rule san-empty" },
    { P_AKI_MISSING_LEAF,3, TM_TRUST_LOADED, TM_E_CERT_BAD, "depth 0 'CN=www.example.test' has no authorityKeyIdentifier (keyIdentifier); every certificate except a self-signed root must identify its issuer's key (rule aki-missing, RFC 5280 4.2.1.1)" },
    { P_AKI_MISSING_INT, 3, TM_TRUST_BUNDLE, TM_E_CERT_BAD, "depth 1 'CN=Test Int' has no authorityKeyIdentifier" },
    { P_AKI_MISSING_ROOT,3, TM_TRUST_LOADED, TM_OK, NULL },             /* a self-signed root needs none */
    { P_AKI_CRIT,        3, TM_TRUST_LOADED, TM_E_CERT_BAD, "has a critical authorityKeyIdentifier" },
    { P_ROOT_AKI_ISSUER, 3, TM_TRUST_LOADED, TM_E_CERT_BAD, "depth 2 'CN=Test Root' is a root whose authorityKeyIdentifier carries authorityCertIssuer/authorityCertSerialNumber" },
    { P_ROOT_AKI_NE_SKI, 3, TM_TRUST_LOADED, TM_E_CERT_BAD, "depth 2 'CN=Test Root' is a root whose authorityKeyIdentifier does not match its own subjectKeyIdentifier (rule root-aki" },
    { P_INT_AKI_NE_SKI,  3, TM_TRUST_LOADED, TM_OK, NULL },             /* an intermediate's AKI names its issuer */
    { P_SKI_MISSING_INT, 3, TM_TRUST_LOADED, TM_E_CERT_BAD, "depth 1 'CN=Test Int' is a CA certificate without subjectKeyIdentifier (rule ski-missing, RFC 5280 4.2.1.2)" },
    { P_SKI_MISSING_LEAF,3, TM_TRUST_LOADED, TM_OK, NULL },             /* RFC 5280: SHOULD for leaves */
    { P_SKI_CRIT,        3, TM_TRUST_LOADED, TM_E_CERT_BAD, "has a critical subjectKeyIdentifier" },
    { P_BC_NONCRIT_ROOT, 3, TM_TRUST_LOADED, TM_E_CERT_BAD, "depth 2 'CN=Test Root' is a CA certificate whose basicConstraints is not critical (rule ca-basic-constraints-not-critical" },
    { P_BC_NONCRIT_LEAF, 3, TM_TRUST_LOADED, TM_OK, NULL },
    { P_CA_NO_KU,        3, TM_TRUST_LOADED, TM_E_CERT_BAD, "depth 1 'CN=Test Int' is a CA certificate without keyUsage" },
    { P_ROOT_NO_KU_LOADED, 3, TM_TRUST_LOADED, TM_OK, NULL },        /* openssl req -x509 root, loaded */
    { P_ROOT_NO_KU_BUNDLE, 3, TM_TRUST_BUNDLE, TM_E_CERT_BAD, "depth 2 'CN=Test Root' is a CA certificate without keyUsage" },
    { P_PATHLEN_NO_KCS,  3, TM_TRUST_LOADED, TM_E_CERT_BAD, "has a pathLenConstraint but its keyUsage lacks keyCertSign" },
    { P_KCS_LEAF,        3, TM_TRUST_LOADED, TM_E_CERT_BAD, "depth 0 'CN=www.example.test' asserts keyUsage keyCertSign but is not a CA (no basicConstraints CA:TRUE) (rule keycertsign-non-ca" },
    { P_NC_LEAF,         3, TM_TRUST_LOADED, TM_E_CERT_BAD, "depth 0 'CN=www.example.test' has nameConstraints but is not a CA" },
    { P_NC_NONCRIT,      3, TM_TRUST_LOADED, TM_E_CERT_BAD, "depth 1 'CN=Test Int' has nameConstraints that are not critical" },
    { P_NC_CRIT_CA,      3, TM_TRUST_LOADED, TM_OK, NULL },
    { P_SAN_DOT,         3, TM_TRUST_LOADED, TM_E_CERT_BAD, "depth 0 'CN=www.example.test' has subjectAltName DNS:.example.com, which is not a valid DNS name" },
    { P_WEB_LEAF_NO_EKU, 3, TM_TRUST_BUNDLE, TM_E_CERT_EKU, "depth 0 'CN=www.example.test' has no extendedKeyUsage; a Web PKI server certificate must list serverAuth (rule web-pki-leaf-eku" },
    { P_LOADED_LEAF_NO_EKU, 3, TM_TRUST_LOADED, TM_OK, NULL },
    { P_WEB_LEAF_ANY,    3, TM_TRUST_BUNDLE, TM_E_CERT_EKU, "anyExtendedKeyUsage without serverAuth" },
    { P_LOADED_LEAF_ANY, 3, TM_TRUST_LOADED, TM_OK, NULL },
    { P_WEB_ROOT_EKU,    3, TM_TRUST_BUNDLE, TM_E_CERT_BAD, "depth 2 'CN=Test Root' is a root with an extendedKeyUsage; Web PKI roots carry none (rule web-pki-root-eku" },
    { P_LOADED_ROOT_EKU, 3, TM_TRUST_LOADED, TM_OK, NULL },
    { P_PIN_NO_AKI_NO_KU,1, TM_TRUST_LOADED, TM_OK, NULL },             /* openssl req -x509 output, loaded: a pin */
    { P_WEB_INT_ANCHOR_LEAF_OK, 2, TM_TRUST_BUNDLE, TM_OK, NULL },
};

static void papply(int mod, tm_cert_facts *c)
{
    switch (mod) {
    case P_V1_LEAF: c[0].prof.v1 = true; break;
    case P_V1_ROOT: c[2].prof.v1 = true; break;
    case P_DSA_LEAF: c[0].key_type = "DSA"; c[0].key_bits = 3072; break;
    case P_DSA_PIN: c[0].key_type = "DSA"; c[0].key_bits = 3072; c[0].is_anchor = true; c[0].self_signed = true; break;
    case P_DSA_SIG_INT: c[1].sig_alg = "dsa_with_SHA256"; break;
    case P_ECDSA_SIG_OK: c[1].sig_alg = "ecdsa-with-SHA256"; c[2].key_type = "EC"; c[2].key_bits = 256; break;
    case P_SERIAL_ZERO: c[0].prof.serial_problem = 1; break;
    case P_SERIAL_NEG: c[1].prof.serial_problem = 2; break;
    case P_SERIAL_LONG: c[0].prof.serial_problem = 3; c[0].prof.serial_len = 21; break;
    case P_SERIAL_20: c[0].prof.serial_len = 20; break;
    case P_BAD_EXT_AIA: snprintf(c[1].prof.bad_ext, sizeof c[1].prof.bad_ext, "Authority Information Access is empty"); break;
    case P_SIG_MISMATCH: c[0].prof.sig_alg_mismatch = true; break;
    case P_ISSUER_EMPTY: c[0].prof.issuer_empty = true; break;
    case P_SUBJECT_EMPTY_CA: c[1].prof.subject_empty = true; c[1].subject = ""; break;
    case P_SUBJECT_EMPTY_NO_SAN: c[0].prof.subject_empty = true; break;
    case P_SUBJECT_EMPTY_SAN_CRIT: c[0].prof.subject_empty = true; c[0].prof.has_san = true; c[0].prof.san_critical = true; break;
    case P_SUBJECT_EMPTY_SAN_NONCRIT: c[0].prof.subject_empty = true; c[0].prof.has_san = true; break;
    case P_SAN_EMPTY: c[0].prof.has_san = true; c[0].prof.san_empty = true; break;
    case P_AKI_MISSING_LEAF: c[0].prof.aki_missing = true; break;
    case P_AKI_MISSING_INT: c[1].prof.aki_missing = true; break;
    case P_AKI_MISSING_ROOT: c[2].prof.aki_missing = true; break;
    case P_AKI_CRIT: c[0].prof.aki_critical = true; break;
    case P_ROOT_AKI_ISSUER: c[2].prof.aki_issuer_serial = true; break;
    case P_ROOT_AKI_NE_SKI: c[2].prof.aki_ne_ski = true; break;
    case P_INT_AKI_NE_SKI: c[1].prof.aki_ne_ski = true; break;
    case P_SKI_MISSING_INT: c[1].prof.ski_missing = true; break;
    case P_SKI_MISSING_LEAF: c[0].prof.ski_missing = true; break;
    case P_SKI_CRIT: c[1].prof.ski_critical = true; break;
    case P_BC_NONCRIT_ROOT: c[2].prof.bc_not_critical = true; break;
    case P_BC_NONCRIT_LEAF: c[0].prof.bc_not_critical = true; break;
    case P_CA_NO_KU: c[1].prof.ku_missing = true; break;
    case P_ROOT_NO_KU_LOADED: case P_ROOT_NO_KU_BUNDLE: c[2].prof.ku_missing = true; break;
    case P_PATHLEN_NO_KCS: c[1].prof.pathlen_set = true; c[1].prof.ku_cert_sign = false; break;
    case P_KCS_LEAF: c[0].prof.ku_cert_sign = true; break;
    case P_NC_LEAF: c[0].prof.nc_present = true; break;
    case P_NC_NONCRIT: c[1].prof.nc_present = true; c[1].prof.nc_not_critical = true; break;
    case P_NC_CRIT_CA: c[1].prof.nc_present = true; break;
    case P_SAN_DOT: snprintf(c[0].prof.bad_dns, sizeof c[0].prof.bad_dns, ".example.com"); break;
    case P_WEB_LEAF_NO_EKU: case P_LOADED_LEAF_NO_EKU: c[0].has_eku = false; c[0].eku_server_auth = false; break;
    case P_WEB_LEAF_ANY: case P_LOADED_LEAF_ANY: c[0].prof.eku_any_only = true; break;
    case P_WEB_ROOT_EKU: case P_LOADED_ROOT_EKU: c[2].has_eku = true; c[2].eku_server_auth = true; break;
    case P_PIN_NO_AKI_NO_KU: c[0].is_anchor = true; c[0].self_signed = true; c[0].is_ca = true;
        c[0].prof.ku_missing = true; c[0].prof.aki_missing = true; c[0].prof.bc_not_critical = true; break;
    default: break;
    }
    /* CAs in the clean chain: keyCertSign asserted */
    if (mod != P_PATHLEN_NO_KCS)
        c[1].prof.ku_cert_sign = c[2].prof.ku_cert_sign = true;
}

static void test_profile(void)
{
    for (size_t i = 0; i < sizeof prows / sizeof prows[0]; i++) {
        tm_cert_facts c[3] = { leaf(), inter(), root() };
        papply(prows[i].mod, c);
        if (prows[i].n == 2)
            c[1].is_anchor = true;
        tm_reason r;
        tm_reason_clear(&r);
        tm_err e = tm_policy_check_profile(c, prows[i].n, prows[i].o, &r);
        TM_CHECK_MSG(e == prows[i].want, "profile row %zu: got %s want %s (%s)", i, tm_err_name(e),
                     tm_err_name(prows[i].want), r.detail);
        if (prows[i].needle)
            TM_CHECK_MSG(strstr(r.detail, prows[i].needle) != NULL, "profile row %zu: detail '%s' lacks '%s'",
                         i, r.detail, prows[i].needle);
    }
    /* every rule of the table is exercised by a row above (ids appear in docs/tls.md too) */
    TM_CHECK(tm_policy_profile_rules() >= 20);

    static const struct { const char *name; bool ok; } dns[] = {
        { "example.com", true }, { "*.example.com", true }, { "xn--bcher-kva.example", true },
        { "a-b.c0.example", true }, { "localhost", true }, { "127.0.0.1", true },
        { ".example.com", false }, { "example.com.", false }, { "a..b", false }, { "", false },
        { "*", false }, { "a.*.example.com", false }, { "f*.example.com", false }, { "**.example.com", false },
        { "-a.example", false }, { "a-.example", false }, { "under_score.example", false },
        { "sp ace.example", false }, { "b\xc3\xbc" "cher.example", false },
        { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example", false },  /* 64-octet label */
    };
    for (size_t i = 0; i < sizeof dns / sizeof dns[0]; i++)
        TM_CHECK_MSG(tm_policy_dns_name_valid(dns[i].name) == dns[i].ok, "dns '%s' want %d", dns[i].name, dns[i].ok);
}

int main(void)
{
    test_profile();

    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        tm_cert_facts c[3] = { leaf(), inter(), root() };
        tm_policy_clock k = clk();
        apply(rows[i].mod, c, &k);
        if (rows[i].n == 2)
            c[1].is_anchor = true;
        tm_reason r;
        tm_reason_clear(&r);
        tm_err e = tm_policy_check_chain(c, rows[i].n, &k, &r);
        TM_CHECK_MSG(e == rows[i].want, "row %zu: got %s want %s (%s)", i, tm_err_name(e),
                     tm_err_name(rows[i].want), r.detail);
        if (rows[i].needle)
            TM_CHECK_MSG(strstr(r.detail, rows[i].needle) != NULL, "row %zu: detail '%s' lacks '%s'",
                         i, r.detail, rows[i].needle);
    }

    /* dates detail with both dates and the hint */
    {
        tm_cert_facts c[1] = { leaf() };
        c[0].not_before = 1795000000 - 3600;   /* 2026-11-18 10:06:40 */
        tm_policy_clock k = clk();
        k.clock_from_cmd = true; k.now = 1466346654;
        tm_reason r; tm_reason_clear(&r);
        TM_EQ_INT(tm_policy_check_dates(&c[0], &k, &r), TM_E_CLOCK_NOT_SET);
        TM_EQ_STR(r.detail, "module clock 2016-06-19 14:30:54 UTC is before notBefore 2026-11-18 10:06:40 UTC "
                            "of depth 0 'CN=www.example.test' (the host clock 2026-11-18 11:06:40 UTC would pass); "
                            "set the clock (AT+CCLK)");
    }

    /* names */
    tm_san ssllabs[] = { { .type = TM_SAN_DNS, .dns = "ssllabs.com" }, { .type = TM_SAN_DNS, .dns = "*.ssllabs.com" } };
    tm_san ipsan[] = { { .type = TM_SAN_IP, .ip = { 127, 0, 0, 1 }, .ip_len = 4 } };
    tm_san ipdns[] = { { .type = TM_SAN_DNS, .dns = "127.0.0.1" } };
    tm_san v6[] = { { .type = TM_SAN_IP, .ip = { [15] = 1 }, .ip_len = 16 }, { .type = TM_SAN_DNS, .dns = "localhost" } };
    tm_san wide[] = { { .type = TM_SAN_DNS, .dns = "*.test" } };
    struct { const char *name; tm_name_facts nf; tm_err want; const char *detail; } nrows[] = {
        { "www.ssllabs.com", { ssllabs, 2, "ssllabs.com" }, TM_OK, NULL },
        { "ssllabs.com", { ssllabs, 2, NULL }, TM_OK, NULL },
        { "a.b.ssllabs.com", { ssllabs, 2, NULL }, TM_E_CERT_NAME_MISMATCH,
          "asked for a.b.ssllabs.com; certificate has DNS:ssllabs.com, DNS:*.ssllabs.com" },
        { "www.ssllabs.org", { ssllabs, 2, "www.ssllabs.org" }, TM_E_CERT_NAME_MISMATCH,
          "asked for www.ssllabs.org; certificate has DNS:ssllabs.com, DNS:*.ssllabs.com; the subject CN 'www.ssllabs.org' is not used because the certificate has subjectAltNames" },
        { "127.0.0.1", { ipsan, 1, NULL }, TM_OK, NULL },
        { "127.0.0.9", { ipsan, 1, NULL }, TM_E_CERT_NAME_MISMATCH, "asked for IP 127.0.0.9; certificate has IP:127.0.0.1" },
        { "127.0.0.1", { ipdns, 1, NULL }, TM_E_CERT_NAME_MISMATCH,
          "asked for IP 127.0.0.1; certificate has DNS:127.0.0.1; '127.0.0.1' is listed as a DNS name; an IP address matches only an IP SAN" },
        { "::1", { v6, 2, NULL }, TM_OK, NULL },
        { "[0:0::1]", { v6, 2, NULL }, TM_OK, NULL },
        { "localhost", { v6, 2, NULL }, TM_OK, NULL },
        { "a.test", { wide, 1, NULL }, TM_E_CERT_NAME_MISMATCH, "pattern '*.test' is refused (wildcard over fewer than 3 labels)" },
        { "cn.test", { NULL, 0, "cn.test" }, TM_OK, NULL },
        { "other.test", { NULL, 0, "cn.test" }, TM_E_CERT_NAME_MISMATCH, "asked for other.test; certificate has no subjectAltName and CN=cn.test" },
        { "192.168.1.1", { NULL, 0, "192.168.1.1" }, TM_OK, NULL },
        { "x.test", { NULL, 0, NULL }, TM_E_CERT_NAME_MISMATCH, "no CN" },
        { "ssllabs.com.", { ssllabs, 2, NULL }, TM_OK, NULL },
        { "127.0.0.1.", { ipdns, 1, NULL }, TM_E_CERT_NAME_MISMATCH, NULL },
        { "::1", { ipdns, 1, NULL }, TM_E_CERT_NAME_MISMATCH, "asked for IP ::1" },
        { "127.0.0.1", { NULL, 0, "cn.test" }, TM_E_CERT_NAME_MISMATCH, "asked for IP 127.0.0.1; certificate has no subjectAltName and CN=cn.test" },
        { "cn.test", { ipsan, 1, "cn.test" }, TM_E_CERT_NAME_MISMATCH, NULL },
    };
    for (size_t i = 0; i < sizeof nrows / sizeof nrows[0]; i++) {
        tm_reason r; tm_reason_clear(&r);
        tm_err e = tm_policy_check_name(nrows[i].name, &nrows[i].nf, &r);
        TM_CHECK_MSG(e == nrows[i].want, "name row %zu: got %s (%s)", i, tm_err_name(e), r.detail);
        if (nrows[i].detail)
            TM_CHECK_MSG(strstr(r.detail, nrows[i].detail) != NULL, "name row %zu: '%s' lacks '%s'", i, r.detail, nrows[i].detail);
    }

    /* pin */
    uint8_t a[32] = { 1 }, b[32] = { 2 };
    tm_reason r; tm_reason_clear(&r);
    TM_EQ_INT(tm_policy_check_pin(NULL, a, &r), TM_OK);
    TM_EQ_INT(tm_policy_check_pin(a, a, &r), TM_OK);
    TM_EQ_INT(tm_policy_check_pin(a, b, &r), TM_E_PIN_MISMATCH);
    TM_CHECK(strstr(r.detail, "pinned sha256//AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=") != NULL);
    TM_CHECK(strstr(r.detail, "(hex 0100000000000000000000000000000000000000000000000000000000000000), "
                              "server key is sha256//AgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= "
                              "(hex 0200000000000000000000000000000000000000000000000000000000000000)") != NULL);
    TM_EQ_INT(tm_policy_check_pin(a, NULL, &r), TM_E_PIN_MISMATCH);
    TM_CHECK(strstr(r.detail, "server key is sha256//(none)") != NULL);
    TM_CHECK(tm_policy_weak_sig(NULL, "dsaWithSHA1"));
    TM_CHECK(!tm_policy_weak_sig(NULL, "sha1WithRSAEncryption2") == false);
    TM_CHECK(!tm_policy_weak_sig("SHA256", "sha1WithRSAEncryption"));
    TM_CHECK(!tm_policy_weak_sig(NULL, "ED25519"));
    TM_TEST_MAIN_END();
}
