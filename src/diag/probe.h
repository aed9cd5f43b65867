/* tlsmodem — the server probe, asynchronous and dialect-neutral.
 *
 * What tlsmodem-cert probe tells on the host, from the module's network
 * position and with the module's trust and clock, driven by the port loop
 * (tm_port_watch / timers; nothing blocks but DNS for names not given with
 * --resolve, as for every connection):
 *   1. TCP like a modem connection (tm_stream), then a recording-only TLS
 *      client (tm_tls_peek) WITH SNI: version, suite, group, the chain as
 *      sent, one summary line per certificate (tm_x509_summary_line);
 *   2. the same WITHOUT SNI: does the server need it (and the alert);
 *   3. tm_tls_verify_offline() on the chain with the caller's trust and clock
 *      = the verdict a connection with that tm_tls_config would reach (same
 *      code, same reason text), then the chain's problems (src/diag/chain.c).
 *
 * Report lines (line callback, one at a time, no line ending), in order:
 *   "probe <host>:<port> (<addr>)"
 *   "trust: <what the verdict uses>; clock <module clock>"
 *   "TLS: <version> <suite>, group <g>, SNI <host>"  | "TLS with SNI <host>: handshake failed: <reason>"
 *   "chain: <n> certificate(s) sent"
 *   "[<depth>] <role> <summary>"                    (one per certificate)
 *   "server needs SNI: yes|no|unknown|not tried (…)"
 *   "verdict: <tm_tls_verdict text>"                | "verdict: refused: <sentence>: <detail>"
 *   "problem: <text>" ...                           | "problems: none"
 * then done(TM_OK).  When the first TCP connection fails (DNS, refused,
 * timeout) done() gets that error and its reason, after the first line. */
#ifndef TM_DIAG_PROBE_H
#define TM_DIAG_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "core/err.h"
#include "diag/summary.h"
#include "net/stream.h"
#include "tls/tls.h"
#include "tls/verify.h"

#define TM_PROBE_TLS_TIMEOUT_MS 15000   /* per TLS handshake of the probe */

typedef void (*tm_probe_done_fn)(void *arg, tm_err result, const tm_reason *why);

/* Caller-owned storage (static on the module); fields are internal. */
typedef struct tm_probe {
    bool              active;
    int               phase;
    char              host[TM_HOST_MAX];
    uint16_t          port;
    tm_tls_config     cfg;          /* copy; anchors/bundle borrowed until done */
    tm_diag_line_fn   line;
    tm_probe_done_fn  done;
    void             *arg;
    tm_stream         s;
    tm_tls_peek      *pk;           /* with SNI: kept for the chain */
    tm_tls_peek      *pk0;          /* without SNI */
    tm_tls_peek      *cur;
    unsigned          timer;        /* TLS handshake timeout */
    unsigned          next_timer;   /* 0 ms: next phase outside the I/O callback */
    bool              host_is_ip;
    bool              sni_tls_ok;
    tm_reason         sni_why;      /* failure with SNI */
    bool              nosni_tls_ok;
    tm_reason         nosni_why;
    tm_reason         why;
} tm_probe;

/* Starts the probe of host:port with the trust and clock of cfg (cfg->host is
 * ignored: the probed host is used; verify is forced on for the verdict).
 * cfg's anchors/bundle/keys must stay valid until done() was called.
 * TM_OK: line() and then done() follow from the loop (never from inside this
 * call).  Otherwise the reason (e.g. DNS) and nothing follows. */
tm_err tm_probe_start(tm_probe *p, const char *host, uint16_t port, const tm_tls_config *cfg,
                      tm_diag_line_fn line, tm_probe_done_fn done, void *arg, tm_reason *why);
/* Stops a running probe without calling done (host gone, dialect stop). */
void   tm_probe_cancel(tm_probe *p);
bool   tm_probe_running(const tm_probe *p);

#endif
