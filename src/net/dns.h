/* tlsmodem — name resolution that never blocks the loop.
 *
 * The system resolver (getaddrinfo) may take seconds (an unreachable DNS
 * server, retries); while it runs, a blocking call would stop the modem
 * answering even AT.  tm_dns_start asks glibc's getaddrinfo_a instead: glibc
 * resolves in its own helper thread and signals completion by writing one
 * byte to a pipe that the port loop watches, so the core itself stays
 * single-threaded.  Each resolution has its own timeout (TM_E_DNS "no
 * answer within N ms"); an abandoned one is cancelled or, when glibc is
 * already inside the lookup, forgotten and cleaned up when it ends.
 * Literals and --resolve entries never come here (tm_net_resolve_local). */
#ifndef TM_DNS_H
#define TM_DNS_H

#include <stdint.h>
#include <sys/socket.h>

#include "core/err.h"

/* result: TM_OK with the address (IPv4 preferred, port set), or TM_E_DNS
 * with the reason.  Called from the loop, never inside tm_dns_start. */
typedef void (*tm_dns_cb)(void *arg, tm_err result, const struct sockaddr_storage *addr, socklen_t len,
                          const tm_reason *why);

/* Returns an id > 0, or 0 with *why filled (all TM_DNS_MAX slots busy, no
 * pipe, glibc refused).  timeout_ms: TM_TIMEOUT_NONE = none. */
unsigned tm_dns_start(const char *host, uint16_t port, uint32_t timeout_ms, tm_dns_cb cb, void *arg,
                      tm_reason *why);
/* The owner is gone: cb will not be called.  Harmless on 0 or a finished id. */
void     tm_dns_cancel(unsigned id);
/* Resolutions still inside glibc (for tests and the trace). */
int      tm_dns_running(void);

#endif
