/* tlsmodem — the verification policy as pure functions over facts.
 *
 * The backend extracts facts from the verified chain (one tm_cert_facts per
 * certificate, depth 0 = the server's leaf, last = the trust anchor) and
 * the names of the leaf; these functions decide.  No TLS library, no clock
 * reads: everything comes in as arguments, so tests/unit/test_policy.c
 * table-tests every rule.
 *
 * Decisions (DESIGN.md §3, with the open points decided here):
 *  - Keys: RSA/DSA < 2048 bits refused at every depth, the anchor's own key
 *    included (a weak root key is a weak chain); EC < 224 bits refused.
 *  - Signatures: MD2/MD4/MD5/SHA-1 refused at every depth except on the
 *    anchor itself (its signature is not what we trust: it was loaded/is in
 *    the bundle), which covers the self-signature of a root and a loaded
 *    intermediate used as a partial-chain anchor.
 *  - Leaf CA:TRUE refused, except when the leaf is itself the anchor (a
 *    loaded certificate equal to the server's leaf = a pin; `openssl req
 *    -x509` output is CA:TRUE and people load exactly that).
 *  - Leaf with an EKU extension lacking serverAuth (and anyExtendedKeyUsage)
 *    refused. Intermediates (depth 1..n-2, and the anchor when it is not the
 *    leaf) must be CA:TRUE.
 *  - Dates against the module clock `now`, every certificate including the
 *    anchor (a pin holds until it expires). A failure is reported as
 *    TM_E_CLOCK_NOT_SET instead of expired/not-yet-valid when the module has
 *    no clock (clock_set false: then no date can be checked at all), when
 *    the clock was set by command and the host clock would pass, or when
 *    `now` is implausible (before TM_POLICY_PLAUSIBLE_MIN) and nobody set it;
 *    the detail gives both dates and what to do.  A clock set by command
 *    that the host clock does not contradict, and an explicit time
 *    (`trusted`: tlsmodem-cert verify --time), are believed even before the
 *    plausibility floor: a certificate expired at a 2022 time is "expired".
 *  - Names: SAN dNSName (hostmatch rules) for DNS names, SAN iPAddress for IP
 *    literals, the subject CN only when the certificate has no SAN at all.
 *  - SPKI pin: SHA-256 of the leaf's SubjectPublicKeyInfo.
 *  - Strict profile (profile.c, tm_policy_check_profile): RFC 5280 structure
 *    rules for every chain (DSA never), the Web PKI EKU rules only when the
 *    trust is the default CA bundle; docs/tls.md lists them with the reasons. */
#ifndef TM_POLICY_H
#define TM_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define TM_POLICY_RSA_MIN_BITS   2048
#define TM_POLICY_EC_MIN_BITS    224
#define TM_POLICY_PLAUSIBLE_MIN  1704067200   /* 2024-01-01: a module clock before this is not set */

/* Structural facts for the strict certificate profile (profile.c).  Every
 * field is a *deviation*: all-zero means "conforms", so callers that know
 * nothing about the profile (and the table tests) describe a clean
 * certificate without mentioning it. */
typedef struct {
    bool    v1;                 /* X.509 version 1 */
    bool    aki_missing;        /* no authorityKeyIdentifier, or one without keyIdentifier */
    bool    aki_issuer_serial;  /* AKI carries authorityCertIssuer / authorityCertSerialNumber */
    bool    aki_ne_ski;         /* AKI keyIdentifier present and != this certificate's SKI */
    bool    aki_critical, ski_critical;
    bool    ski_missing;
    bool    issuer_empty, subject_empty;
    bool    has_san, san_critical, san_empty;
    bool    bc_not_critical;    /* basicConstraints present but not critical */
    bool    ku_missing;         /* no keyUsage extension */
    bool    ku_cert_sign;       /* keyUsage keyCertSign asserted */
    bool    pathlen_set;        /* basicConstraints pathLenConstraint present */
    bool    nc_present, nc_not_critical;
    bool    eku_any_only;       /* EKU has anyExtendedKeyUsage but not serverAuth */
    bool    sig_alg_mismatch;   /* signatureAlgorithm != tbsCertificate.signature */
    int     serial_problem;     /* 0 ok, 1 zero, 2 negative, 3 longer than 20 octets */
    int     serial_len;         /* octets, for the detail */
    char    bad_dns[80];        /* first dNSName SAN that is not a valid DNS name */
    char    bad_ext[96];        /* first malformed/duplicate extension: "authorityInfoAccess: …" */
} tm_cert_profile;

typedef struct {
    int         depth;
    const char *subject;        /* RFC 2253 one line */
    const char *key_type;       /* "RSA", "EC", "DSA", "Ed25519", … */
    int         key_bits;
    const char *sig_alg;        /* "sha256WithRSAEncryption", … (for the detail) */
    const char *sig_hash;       /* "SHA256", "SHA1", "MD5", … ; NULL/"" = derive from sig_alg */
    bool        is_ca;          /* basicConstraints CA:TRUE */
    bool        has_eku;
    bool        eku_server_auth;/* serverAuth or anyExtendedKeyUsage present */
    int64_t     not_before, not_after;
    bool        is_anchor;      /* the trust anchor that ended the verified chain */
    bool        self_signed;
    tm_cert_profile prof;       /* strict profile facts (zero = conforming) */
} tm_cert_facts;

/* Where the trust came from: the Web PKI rules (CA/Browser Forum) apply only
 * to chains that end in the default CA bundle; a private CA loaded by the
 * host is held to RFC 5280 (docs/tls.md, "Private CAs and the Web PKI"). */
typedef enum { TM_TRUST_LOADED = 0, TM_TRUST_BUNDLE = 1 } tm_trust_origin;

typedef struct {
    int64_t     now;            /* module clock */
    bool        clock_set;
    bool        clock_from_cmd;
    int64_t     host_now;
    const char *clock_hint;     /* "AT+CCLK" / "AT+S.TIME"; NULL = "the module clock command" */
    bool        trusted;        /* an explicit time (verify --time): no clock diagnosis at all */
} tm_policy_clock;

typedef enum { TM_SAN_DNS = 1, TM_SAN_IP = 2 } tm_san_type;

typedef struct {
    tm_san_type type;
    const char *dns;            /* TM_SAN_DNS */
    uint8_t     ip[16];         /* TM_SAN_IP */
    size_t      ip_len;
} tm_san;

typedef struct {
    const tm_san *sans;
    size_t        n_sans;
    const char   *cn;           /* subject commonName, NULL when none */
} tm_name_facts;

/* Dates, keys, signatures, CA flags and EKU over chain[0..n-1] (0 = leaf).
 * Returns TM_OK or the first violation with a detail naming the
 * certificate (depth, subject), what was expected and what was found. */
tm_err tm_policy_check_chain(const tm_cert_facts *chain, size_t n,
                             const tm_policy_clock *clk, tm_reason *why);

/* The strict certificate profile (profile.c), table-driven: RFC 5280 for
 * every chain, plus the Web PKI rules when trust is TM_TRUST_BUNDLE.  Run
 * after tm_policy_check_chain.  Returns TM_OK or the first rule broken, the
 * detail naming the certificate (depth, subject) and the rule
 * ("… (rule ski-missing, RFC 5280 4.2.1.2)"). */
tm_err tm_policy_check_profile(const tm_cert_facts *chain, size_t n, tm_trust_origin origin,
                               tm_reason *why);

/* Number of rules and their ids, for docs and tests. */
size_t      tm_policy_profile_rules(void);
const char *tm_policy_profile_rule_id(size_t i);

/* True when `s` is a valid DNS name for a dNSName SAN: LDH labels of 1..63
 * octets, 253 at most, no empty label (".example.com", "a..b"), no leading
 * or trailing hyphen, optionally "*" as the whole left-most label. */
bool tm_policy_dns_name_valid(const char *s);

/* Only the validity dates of one certificate (also used when the chain did
 * not verify, to tell a clock problem from an untrusted chain). */
tm_err tm_policy_check_dates(const tm_cert_facts *c, const tm_policy_clock *clk, tm_reason *why);

/* True when the signature hash is MD2/MD4/MD5/SHA-1. */
bool   tm_policy_weak_sig(const char *sig_hash, const char *sig_alg);

/* Name check: `name` is a DNS name or an IP literal.  The detail lists the
 * name asked for and the names present: "asked for www.ssllabs.com;
 * certificate has DNS:ssllabs.com, DNS:*.ssllabs.com". */
tm_err tm_policy_check_name(const char *name, const tm_name_facts *nf, tm_reason *why);

/* SPKI pin: both 32-byte SHA-256 values; pin == NULL -> TM_OK. */
tm_err tm_policy_check_pin(const uint8_t *pin, const uint8_t *spki_sha256, tm_reason *why);

#endif
