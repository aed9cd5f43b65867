/* tlsmodem — internal to src/tls/: certificate facts from OpenSSL objects,
 * shared by x509.c and backend_openssl.c.  Never include outside src/tls/. */
#ifndef TM_X509_OSSL_H
#define TM_X509_OSSL_H

#include <openssl/x509.h>
#include <openssl/evp.h>

#include "tls/policy.h"
#include "tls/x509.h"

void   tm_x509_fill(X509 *x, tm_x509_info *out);
/* Structured SANs (dNSName, iPAddress) of x; DNS strings are copied into
 * strbuf. Returns the number stored (at most cap); *total gets all SANs. */
size_t tm_x509_sans(X509 *x, tm_san *out, size_t cap, char *strbuf, size_t strcap, size_t *total);
/* Parses a private key in PEM or DER (PKCS#8, traditional RSA/EC). */
EVP_PKEY *tm_x509_load_key(const uint8_t *key, size_t len);
/* RFC 2253 one-line name. */
void   tm_x509_name(const X509_NAME *n, char *buf, size_t cap);
/* SHA-256 of the SPKI. */
int    tm_x509_spki_hash(X509 *x, uint8_t out[32]);

#endif
