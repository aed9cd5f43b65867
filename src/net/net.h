/* tlsmodem — name resolution and non-blocking TCP connects.
 *
 * --resolve HOST:PORT:ADDR entries (like curl) are consulted first, so tests
 * can point real host names at 127.0.0.1.  Other names go to the system
 * resolver in the background (dns.h), so the loop never blocks on DNS.
 * Every socket gets TCP_NODELAY. */
#ifndef TM_NET_H
#define TM_NET_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/err.h"

/* Default timeouts in ms (config.h values until --timeout-* changes them);
 * TM_TIMEOUT_NONE = never.  connect: DNS + TCP + TLS handshake in total;
 * dns: the resolution alone; response: request complete -> response head;
 * idle: longest silence of a server while a byte is awaited (HTTP). */
#define TM_TIMEOUT_NONE UINT32_MAX
typedef struct {
    uint32_t connect_ms;
    uint32_t dns_ms;
    uint32_t response_ms;
    uint32_t idle_ms;
} tm_net_timeouts;
const tm_net_timeouts *tm_net_timeouts_get(void);
/* The idle timeout as a data mode's idle_ms (tm_at_data_in): 0 = never. */
uint32_t tm_net_idle_ms_or_0(void);
void   tm_net_timeouts_set(const tm_net_timeouts *t);

/* "HOST:PORT:ADDR" (ADDR may be [v6]; PORT may be "*" = any port); a later
 * entry for the same HOST:PORT replaces the earlier; TM_E_ARG_BAD on a
 * malformed spec. */
tm_err tm_net_add_resolve(const char *spec, tm_reason *why);
void   tm_net_clear_resolves(void);

/* True when host is an IPv4 or IPv6 literal (then no SNI is sent). */
bool   tm_net_is_ip_literal(const char *host);

/* Offline switch (a test seam; NULL, the default, is online).  While set,
 * tm_stream_open touches neither DNS nor a real socket: it asks fn for a
 * connected non-blocking descriptor that stands for the server (one end of a
 * socketpair the fuzz harness fills, tests/fuzz/).  fn returns -1 to refuse:
 * the connection then fails from a 0 ms timer with TM_E_NET "network
 * disabled", like a refused connect.  TLS is not simulated: the descriptor
 * carries the bytes of the TLS session in clear, as if the handshake had
 * been verified. */
typedef int (*tm_net_offline_fn)(void *arg, const char *host, uint16_t port, bool udp);
void   tm_net_set_offline(tm_net_offline_fn fn, void *arg);
bool   tm_net_offline(void);
int    tm_net_offline_connect(const char *host, uint16_t port, bool udp);   /* fn's answer */

/* Blocking (system resolver for names): for host tools only; the modem
 * uses tm_net_resolve_local + tm_dns_start (dns.h) and never blocks. */
tm_err tm_net_resolve(const char *host, uint16_t port, struct sockaddr_storage *out,
                      socklen_t *out_len, tm_reason *why);
/* Without the system resolver: 1 = IP literal or --resolve entry (out set),
 * 0 = a name for the system resolver, -1 = unusable name (why: TM_E_DNS).
 * --resolve entries: the exact port, then "*"; port 0 (the name alone, as
 * AT+CIPDOMAIN asks) takes an entry for any port last. */
int    tm_net_resolve_local(const char *host, uint16_t port, struct sockaddr_storage *out,
                            socklen_t *out_len, tm_reason *why);

/* Starts a non-blocking connect; *fd is set on success (connection may still
 * be in progress: wait for writable, then tm_net_connect_result). */
tm_err tm_net_connect_start(const struct sockaddr_storage *addr, socklen_t len, int *fd, tm_reason *why);
/* The same for a connected UDP socket (SPWF SOCKON …,u): datagrams go to and
 * come from that one peer only. */
tm_err tm_net_udp_start(const struct sockaddr_storage *addr, socklen_t len, int *fd, tm_reason *why);
tm_err tm_net_connect_result(int fd, const char *host, uint16_t port, tm_reason *why);

/* Added: like tm_net_connect_result, with the address tried, for the detail
 * "connect to 127.0.0.1:4433 (www.example.test): Connection refused". */
tm_err tm_net_connect_result_addr(int fd, const struct sockaddr_storage *addr, const char *host,
                                  uint16_t port, tm_reason *why);
/* Added: "127.0.0.1:443" / "[::1]:443". */
const char *tm_net_addr_str(const struct sockaddr_storage *a, char *buf, size_t cap);

/* "127.0.0.1" / "::1" of the peer or local end, for AT-S.On:<ip>:<id> etc. */
void   tm_net_peer_ip(int fd, char *buf, size_t cap);
void   tm_net_local_ip(int fd, char *buf, size_t cap);

#endif
