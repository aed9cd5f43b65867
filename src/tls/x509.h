/* tlsmodem — facts about one certificate or key, for the store's warnings,
 * SPWF's SubjectKeyId line, the trace and tlsmodem-cert.  Backend-neutral. */
#ifndef TM_X509_H
#define TM_X509_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "tls/policy.h"
#include "tls/tls.h"

typedef struct {
    char    subject[256];     /* one-line RFC 2253 ("CN=www.example.test,O=…") */
    char    issuer[256];
    char    serial[80];       /* hex */
    int64_t not_before, not_after;   /* seconds since 1970 */
    char    key_type[16];     /* "RSA", "EC", "Ed25519", … */
    int     key_bits;         /* RSA modulus / EC field size */
    char    curve[24];        /* "P-256" etc. when EC */
    char    sig_alg[48];      /* "sha256WithRSAEncryption", "ecdsa-with-SHA384", … */
    bool    is_ca;            /* basicConstraints CA:TRUE */
    int     path_len;         /* -1 = none */
    bool    self_signed;      /* subject == issuer and the signature verifies with its own key */
    char    ski[64];          /* SKI as "7F:D3:…", "" when absent */
    char    aki[64];          /* AKI keyid, "" when absent */
    char    ski_computed[64]; /* SHA-1 of the public key (RFC 5280 method 1), always set */
    char    eku[128];         /* "serverAuth,clientAuth", "" when absent */
    char    sans[1024];       /* "DNS:a.test, DNS:*.b.test, IP:127.0.0.1" (cut with "…" when long) */
    int     n_sans;
    char    sha256[100];      /* fingerprint "AB:CD:…" */
    /* added by the TLS engineer: */
    char    cn[256];          /* subject commonName (first), "" when absent */
    char    sig_hash[16];     /* digest of the signature: "SHA256", "SHA1", "MD5"; "" for Ed25519 etc. */
    bool    has_eku;
    bool    eku_server_auth;  /* EKU has serverAuth or anyExtendedKeyUsage */
    bool    is_v1;            /* X.509 version 1 (no extensions) */
    tm_cert_profile prof;     /* strict-profile facts (policy.h); zero = conforming */
} tm_x509_info;

/* The policy's view of one certificate at `depth` (pointers into `in`). */
void tm_x509_facts(const tm_x509_info *in, int depth, tm_cert_facts *out);

/* Parses one DER certificate. */
tm_err tm_x509_info_der(const uint8_t *der, size_t len, tm_x509_info *out, tm_reason *why);
/* Checks that a private key (PEM or DER) parses; with a certificate, that it matches. */
tm_err tm_x509_check_key(const uint8_t *key, size_t key_len,
                         const uint8_t *cert_der, size_t cert_len, tm_reason *why);
/* SHA-256 of any bytes (file provenance records). */
void   tm_sha256(const void *p, size_t len, uint8_t out[32]);
/* SHA-256 of the certificate's SubjectPublicKeyInfo (for SPKI pins). */
tm_err tm_x509_spki_sha256(const uint8_t *der, size_t len, uint8_t out[32], tm_reason *why);
/* Checks that p[0..len) is DER certificates back to back and nothing else
 * (how the store keeps them).  Returns how many, or 0 with `what` saying what
 * is wrong ("it is empty", "it is not DER …", "… not complete DER items …",
 * "item 2 of 3 is not a certificate (…)"). */
size_t tm_x509_check_der_certs(const uint8_t *p, size_t len, char *what, size_t cap);
/* Splits DER items stored back to back (how the store keeps a chain) into
 * out[0..max); returns how many complete items were found. */
size_t tm_der_split(const uint8_t *p, size_t len, tm_blob *out, size_t max);

/* "2027-03-01 12:00:00 UTC" */
const char *tm_x509_time_str(int64_t t, char *buf, size_t cap);

#endif
