/* tlsmodem — one-line summaries of certificates and keys, and the store
 * listing built on them.  Shared by the module's diagnostic commands
 * (HL AT+TMCERTLIST / AT+TMPROBE, SPWF AT+S.TMCERTLIST / AT+S.TMPROBE) and
 * the host tool (tlsmodem-cert inspect/probe), so a certificate reads the
 * same everywhere.  Backend-neutral (no OpenSSL header). */
#ifndef TM_DIAG_SUMMARY_H
#define TM_DIAG_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "tls/x509.h"

/* A line printer: one report line at a time, without line ending. */
typedef void (*tm_diag_line_fn)(void *arg, const char *text);

/* "leaf", "intermediate", "root" (CA:TRUE and self-signed). */
const char *tm_x509_role(const tm_x509_info *x);
/* "RSA-2048", "EC P-256", "Ed25519". */
const char *tm_x509_key_str(const tm_x509_info *x, char *buf, size_t cap);

enum {
    TM_SUMMARY_ROLE = 1,   /* prefix "<role> " */
    TM_SUMMARY_SANS = 2,   /* append "; <SANs>" when the certificate has any */
};
/* The one-line summary:
 *   [<role> ]<subject>; issuer <issuer>; <key>; <signature>; until <notAfter>[ (EXPIRED)|(NOT YET VALID)][; <SANs>]
 * e.g. "CN=www.coursera.test; issuer CN=Test Intermediate CA; RSA-2048;
 * sha256WithRSAEncryption; until 2027-11-23 12:39:00 UTC".  now: the clock the
 * validity is judged with (the module clock on the module). */
const char *tm_x509_summary_line(const tm_x509_info *x, int64_t now, unsigned flags, char *buf, size_t cap);

/* A private key (DER: PKCS#8, traditional RSA or EC) -> "RSA-2048", "EC P-256",
 * "Ed25519"; false when the structure is not recognised (buf then says so). */
bool tm_key_summary(const uint8_t *der, size_t len, char *buf, size_t cap);

/* Store listing: for each item whose name starts with prefix (store order),
 * the item's certificates (DER, PEM or base64 as stored; one call per
 * certificate, i = 1..count), or its key (i = count = 0, summary = key
 * summary), or anything else (i = count = 0, summary "not a certificate or
 * key (<n> bytes)").  Returns the number of items, -1 on a store error. */
typedef enum { TM_CERTLIST_CERT, TM_CERTLIST_KEY, TM_CERTLIST_OTHER } tm_certlist_kind;
typedef void (*tm_certlist_fn)(void *arg, const char *name, tm_certlist_kind kind, int i, int count,
                               const char *summary);
int tm_certlist(tm_store *st, const char *prefix, int64_t now, tm_certlist_fn cb, void *arg);
/* The same for one item the caller read itself (a dialect that stores
 * items with its own framing, e.g. ESP's AT+SYSMFG type byte): name is only
 * passed on to cb. */
void tm_certlist_item(const char *name, const uint8_t *p, size_t len, int64_t now, tm_certlist_fn cb, void *arg);

#endif
