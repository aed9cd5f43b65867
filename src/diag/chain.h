/* tlsmodem — what is wrong with a certificate chain as a server sent it:
 * duplicates, order, dates, weak keys and signatures, the name, an
 * incomplete or untrusted top.  One implementation for the module's probe
 * (src/diag/probe.c) and tlsmodem-cert probe (tools/cert/probe.c). */
#ifndef TM_DIAG_CHAIN_H
#define TM_DIAG_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag/summary.h"
#include "tls/tls.h"
#include "tls/x509.h"

typedef struct {
    const char *host;          /* the name the connection asks for (policy name check) */
    int64_t     now;           /* clock for validity */
    /* Does the trust hold a certificate with this subject?  NULL = unknown
     * (then incomplete/untrusted are not judged here). */
    bool      (*has_subject)(void *arg, const char *subject);
    void       *trust_arg;
    const char *trust_name;    /* "the bundle", "the stored roots" */
    const char *load_hint;     /* the command that loads a root (diag/load_hint.h); NULL: any dialect's */
} tm_chain_check;

/* chain[i] as sent, x[i] its facts (parsed by the caller).  Calls line() once
 * per problem (text without a leading "- "); returns the number of problems.
 * *top (may be NULL): index of the top of the issuer walk from the leaf. */
size_t tm_chain_problems(const tm_blob *chain, const tm_x509_info *x, size_t n, const tm_chain_check *c,
                         tm_diag_line_fn line, void *larg, size_t *top);

/* The policy's own name check on a leaf: TM_OK, or the reason (name mismatch). */
tm_err tm_chain_check_name(const tm_x509_info *leaf, const char *host, tm_reason *why);

#endif
