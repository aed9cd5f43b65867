/* tlsmodem — certificate containers the host tool reads: PKCS#12 (.p12/.pfx:
 * certificates and a private key under a password) and PKCS#7 (.p7b/.p7c:
 * a "certs-only" SignedData, how Windows and some CAs hand out chains).
 * The module itself never sees them (the host converts); tlsmodem-cert uses
 * this to convert, inspect and script them.  Backend-neutral interface. */
#ifndef TM_TLS_CONTAINER_H
#define TM_TLS_CONTAINER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "tls/tls.h"

typedef enum { TM_CONT_NONE = 0, TM_CONT_PKCS12, TM_CONT_PKCS7 } tm_container_kind;

#define TM_CONT_MAX_CERTS 32

typedef struct {
    tm_container_kind kind;
    size_t            n_certs;
    tm_blob           certs[TM_CONT_MAX_CERTS];   /* DER, malloc'd; the key's certificate first */
    tm_blob           key;                        /* PKCS#8 DER, malloc'd; p NULL = none */
    char              key_desc[32];               /* "RSA-2048", "EC P-256" */
} tm_container;

/* "PKCS#12", "PKCS#7", "" */
const char *tm_container_name(tm_container_kind k);
/* What the bytes are, without a password (PEM "PKCS7" blocks, DER PFX / ContentInfo). */
tm_container_kind tm_container_sniff(const uint8_t *p, size_t len);
/* Opens a container.  password: NULL tries none and the empty password.
 * TM_E_CERT_FORMAT with a reason when it does not parse, the password is
 * wrong or missing ("… give it with --password"). */
tm_err tm_container_open(const uint8_t *p, size_t len, const char *password, tm_container *out, tm_reason *why);
void   tm_container_free(tm_container *c);

#endif
