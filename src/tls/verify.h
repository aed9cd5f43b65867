/* tlsmodem — certificate chains without a live server (tlsmodem-cert).
 *
 * tm_tls_verify_offline() decides about a chain with exactly the code the
 * modem runs on a connection: it creates the modem's own TLS client
 * (tm_tls_new with the caller's tm_tls_config: trust, host name, clock) on
 * one end of a socketpair, and on the other end a scripted in-process
 * "server" answers the ClientHello with a TLS 1.2 ServerHello and a
 * Certificate message carrying `chain` exactly as given (order and extra
 * certificates included, as a real server would send it).  The client then
 * runs its usual verification (OpenSSL path building + policy.c + hostmatch.c
 * + the reason mapping of backend_openssl.c); the handshake is abandoned
 * right after it.  No second implementation of the policy exists.
 *
 * tm_tls_peek_*: a non-blocking TLS client that only records what a server
 * sends (version, suite, the certificate chain as DER) without verifying
 * anything; tlsmodem-cert probe uses it next to a modem-like tm_stream
 * connection, because tm_tls does not expose the peer's certificates. */
#ifndef TM_TLS_VERIFY_H
#define TM_TLS_VERIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "tls/tls.h"

/* chain[0] is the leaf.  cfg->host names the server (SNI and name check);
 * cfg->verify is forced on.  TM_OK when the modem would accept the chain:
 * verdict (may be NULL) gets tm_tls_verdict() ("verified by root '…' (loaded,
 * sha256 …)").  Otherwise the modem's reason. */
tm_err tm_tls_verify_offline(const tm_blob *chain, size_t n, const tm_tls_config *cfg,
                             char *verdict, size_t vcap, tm_reason *why);

#define TM_PEEK_MAX_CERTS 16

typedef struct tm_tls_peek tm_tls_peek;

/* sni NULL or "" = no SNI.  min_tls10: also offer TLS 1.0/1.1 (to name what
 * an old server offers); the modem itself never does. */
tm_tls_peek  *tm_tls_peek_new(int fd, const char *sni, bool min_tls10, tm_reason *why);
/* TM_TLS_OK when the handshake is done, WANT_READ/WANT_WRITE, FAILED (reason). */
tm_tls_status tm_tls_peek_step(tm_tls_peek *p, tm_reason *why);
const char   *tm_tls_peek_version(tm_tls_peek *p);   /* "TLSv1.3" */
const char   *tm_tls_peek_suite(tm_tls_peek *p);     /* "TLS_AES_256_GCM_SHA384" */
const char   *tm_tls_peek_group(tm_tls_peek *p);     /* "x25519", "" when unknown */
/* The certificates as sent, DER; valid until tm_tls_peek_free. */
size_t        tm_tls_peek_chain(tm_tls_peek *p, tm_blob *out, size_t cap);
void          tm_tls_peek_free(tm_tls_peek *p);

#endif
