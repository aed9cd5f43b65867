/* See net.h. */
#include "net/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ctype.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "core/sim.h"
#include "core/trace.h"
#include "tls/hostmatch.h"

typedef struct {
    char                    host[TM_HOST_MAX];
    int                     port;        /* -1 = any ("*") */
    struct sockaddr_storage addr;
    socklen_t               len;
} resolve_entry;

static resolve_entry g_res[TM_RESOLVE_MAX];
static int g_nres;

static tm_net_timeouts g_timeouts = {
    TM_CONNECT_TIMEOUT_MS, TM_DNS_TIMEOUT_MS, TM_RESPONSE_TIMEOUT_MS, TM_IDLE_TIMEOUT_MS,
};

const tm_net_timeouts *tm_net_timeouts_get(void) { return &g_timeouts; }
void tm_net_timeouts_set(const tm_net_timeouts *t) { g_timeouts = *t; }
uint32_t tm_net_idle_ms_or_0(void) { return g_timeouts.idle_ms == TM_TIMEOUT_NONE ? 0 : g_timeouts.idle_ms; }

static bool name_eq(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la && a[la - 1] == '.') la--;
    if (lb && b[lb - 1] == '.') lb--;
    return la == lb && strncasecmp(a, b, la) == 0;
}

/* Text IP (v4 or v6, brackets allowed) -> sockaddr with port. */
static bool make_addr(const char *ip, uint16_t port, struct sockaddr_storage *out, socklen_t *len)
{
    uint8_t b[16];
    int n = tm_host_parse_ip(ip, b);
    memset(out, 0, sizeof *out);
    if (n == 4) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)out;
        s4->sin_family = AF_INET;
        s4->sin_port = htons(port);
        memcpy(&s4->sin_addr, b, 4);
        *len = sizeof *s4;
        return true;
    }
    if (n == 16) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)out;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(port);
        memcpy(&s6->sin6_addr, b, 16);
        *len = sizeof *s6;
        return true;
    }
    return false;
}

tm_err tm_net_add_resolve(const char *spec, tm_reason *why)
{
    const char *c1 = spec ? strchr(spec, ':') : NULL;
    const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c1 || !c2 || c1 == spec || (size_t)(c1 - spec) >= TM_HOST_MAX)
        return tm_fail(why, TM_E_ARG_BAD, "--resolve '%s': expected HOST:PORT:ADDR", spec ? spec : "");
    char port_s[16];
    size_t pl = (size_t)(c2 - c1 - 1);
    if (pl == 0 || pl >= sizeof port_s)
        return tm_fail(why, TM_E_ARG_BAD, "--resolve '%s': bad port", spec);
    memcpy(port_s, c1 + 1, pl);
    port_s[pl] = '\0';
    int port;
    if (strcmp(port_s, "*") == 0)
        port = -1;
    else {
        char *end;
        long p = strtol(port_s, &end, 10);
        if (*end || p < 0 || p > 65535)
            return tm_fail(why, TM_E_ARG_BAD, "--resolve '%s': bad port '%s'", spec, port_s);
        port = (int)p;
    }
    resolve_entry e;
    memset(&e, 0, sizeof e);
    memcpy(e.host, spec, (size_t)(c1 - spec));
    e.port = port;
    if (!make_addr(c2 + 1, (uint16_t)(port < 0 ? 0 : port), &e.addr, &e.len))
        return tm_fail(why, TM_E_ARG_BAD, "--resolve '%s': '%s' is not an IPv4 or IPv6 address", spec, c2 + 1);
    for (int i = 0; i < g_nres; i++)
        if (g_res[i].port == e.port && name_eq(g_res[i].host, e.host)) {
            g_res[i] = e;
            return TM_OK;
        }
    if (g_nres >= TM_RESOLVE_MAX)
        return tm_fail(why, TM_E_ARG_RANGE, "--resolve: at most %d entries", TM_RESOLVE_MAX);
    g_res[g_nres++] = e;
    return TM_OK;
}

void tm_net_clear_resolves(void) { g_nres = 0; }

bool tm_net_is_ip_literal(const char *host)
{
    uint8_t b[16];
    return tm_host_parse_ip(host, b) != 0;
}

static void set_port(struct sockaddr_storage *a, uint16_t port)
{
    if (a->ss_family == AF_INET)
        ((struct sockaddr_in *)a)->sin_port = htons(port);
    else if (a->ss_family == AF_INET6)
        ((struct sockaddr_in6 *)a)->sin6_port = htons(port);
}

const char *tm_net_addr_str(const struct sockaddr_storage *a, char *buf, size_t cap)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)a;
        inet_ntop(AF_INET, &s->sin_addr, ip, sizeof ip);
        snprintf(buf, cap, "%s:%u", ip, ntohs(s->sin_port));
    } else if (a->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)a;
        inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof ip);
        snprintf(buf, cap, "[%s]:%u", ip, ntohs(s->sin6_port));
    } else
        snprintf(buf, cap, "(no address)");
    return buf;
}

static tm_net_offline_fn g_offline;
static void             *g_offline_arg;

void tm_net_set_offline(tm_net_offline_fn fn, void *arg)
{
    g_offline = fn;
    g_offline_arg = arg;
}
bool tm_net_offline(void) { return g_offline != NULL; }
int  tm_net_offline_connect(const char *host, uint16_t port, bool udp)
{
    return g_offline ? g_offline(g_offline_arg, host, port, udp) : -1;
}

int tm_net_resolve_local(const char *host, uint16_t port, struct sockaddr_storage *out,
                         socklen_t *out_len, tm_reason *why)
{
    if (!host || !host[0]) {
        tm_fail(why, TM_E_DNS, "no host name given");
        return -1;
    }
    if (make_addr(host, port, out, out_len))
        return 1;
    if (tm_sim_dns_fail) {                      /* "dns fail on" (control channel) */
        tm_fail(why, TM_E_DNS, "cannot resolve '%s': the name server does not answer", host);
        return -1;
    }
    /* exact port first, then "*"; port 0 is a lookup of the name alone
     * (ESP AT+CIPDOMAIN): then an entry for any port answers last */
    for (int pass = 0; pass < (port ? 2 : 3); pass++)
        for (int i = 0; i < g_nres; i++)
            if ((pass == 0 ? g_res[i].port == port : pass == 1 ? g_res[i].port == -1 : true) &&
                name_eq(g_res[i].host, host)) {
                *out = g_res[i].addr;
                *out_len = g_res[i].len;
                set_port(out, port);
                char a[80];
                tm_trace("net", "resolve %s -> %s (--resolve)", host, tm_net_addr_str(out, a, sizeof a));
                return 1;
            }
    size_t hl = strlen(host);
    if (isspace((unsigned char)host[0]) || isspace((unsigned char)host[hl - 1])) {
        tm_fail(why, TM_E_DNS, "'%s' begins or ends with a space; remove it", host);
        return -1;
    }
    return 0;
}

tm_err tm_net_resolve(const char *host, uint16_t port, struct sockaddr_storage *out,
                      socklen_t *out_len, tm_reason *why)
{
    int local = tm_net_resolve_local(host, port, out, out_len, why);
    if (local > 0)
        return TM_OK;
    if (local < 0)
        return TM_E_DNS;
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;
    char ps[8];
    snprintf(ps, sizeof ps, "%u", port);
    int rc = getaddrinfo(host, ps, &hints, &res);
    if (rc != 0 || !res) {
        tm_err e = tm_fail(why, TM_E_DNS, "cannot resolve '%s': %s", host,
                           rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
        if (res)
            freeaddrinfo(res);
        return e;
    }
    /* Prefer IPv4 (loopback test setups), else the first answer. */
    struct addrinfo *pick = res;
    for (struct addrinfo *r = res; r; r = r->ai_next)
        if (r->ai_family == AF_INET) { pick = r; break; }
    memset(out, 0, sizeof *out);
    memcpy(out, pick->ai_addr, pick->ai_addrlen);
    *out_len = pick->ai_addrlen;
    freeaddrinfo(res);
    char a[80];
    tm_trace("net", "resolve %s -> %s", host, tm_net_addr_str(out, a, sizeof a));
    return TM_OK;
}

static tm_err connect_errno(int err, const char *addr, const char *host, tm_reason *why)
{
    tm_err code = err == ECONNREFUSED ? TM_E_CONNECT_REFUSED
                : err == ETIMEDOUT ? TM_E_CONNECT_TIMEOUT : TM_E_NET;
    char paren[TM_HOST_MAX + 4] = "";
    if (host && host[0] && !tm_net_is_ip_literal(host))
        snprintf(paren, sizeof paren, " (%s)", host);
    return tm_fail(why, code, "connect to %s%s: %s", addr, paren, strerror(err));
}

tm_err tm_net_connect_start(const struct sockaddr_storage *addr, socklen_t len, int *fd, tm_reason *why)
{
    char a[80];
    tm_net_addr_str(addr, a, sizeof a);
    int s = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
    if (s < 0)
        return tm_fail(why, TM_E_NET, "socket for %s: %s", a, strerror(errno));
    int one = 1;
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(s, (const struct sockaddr *)addr, len) != 0 && errno != EINPROGRESS) {
        int err = errno;
        close(s);
        return connect_errno(err, a, NULL, why);
    }
    *fd = s;
    return TM_OK;
}

tm_err tm_net_udp_start(const struct sockaddr_storage *addr, socklen_t len, int *fd, tm_reason *why)
{
    char a[80];
    tm_net_addr_str(addr, a, sizeof a);
    int s = socket(addr->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
    if (s < 0)
        return tm_fail(why, TM_E_NET, "UDP socket for %s: %s", a, strerror(errno));
    if (connect(s, (const struct sockaddr *)addr, len) != 0) {
        int err = errno;
        close(s);
        return connect_errno(err, a, NULL, why);
    }
    *fd = s;
    return TM_OK;
}

tm_err tm_net_connect_result_addr(int fd, const struct sockaddr_storage *addr, const char *host,
                                  uint16_t port, tm_reason *why)
{
    int err = 0;
    socklen_t l = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) != 0)
        err = errno;
    if (err == 0)
        return TM_OK;
    char a[80];
    if (addr)
        tm_net_addr_str(addr, a, sizeof a);
    else
        snprintf(a, sizeof a, "%s:%u", host ? host : "?", port);
    return connect_errno(err, a, addr ? host : NULL, why);
}

tm_err tm_net_connect_result(int fd, const char *host, uint16_t port, tm_reason *why)
{
    return tm_net_connect_result_addr(fd, NULL, host, port, why);
}

static void sock_ip(int fd, bool peer, char *buf, size_t cap)
{
    struct sockaddr_storage a;
    socklen_t l = sizeof a;
    buf[0] = '\0';
    int r = peer ? getpeername(fd, (struct sockaddr *)&a, &l) : getsockname(fd, (struct sockaddr *)&a, &l);
    if (r != 0)
        return;
    if (a.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&a)->sin_addr, buf, (socklen_t)cap);
    else if (a.ss_family == AF_INET6) {
        struct in6_addr *in6 = &((struct sockaddr_in6 *)&a)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(in6))
            inet_ntop(AF_INET, &in6->s6_addr[12], buf, (socklen_t)cap);
        else
            inet_ntop(AF_INET6, in6, buf, (socklen_t)cap);
    }
}

void tm_net_peer_ip(int fd, char *buf, size_t cap)  { sock_ip(fd, true, buf, cap); }
void tm_net_local_ip(int fd, char *buf, size_t cap) { sock_ip(fd, false, buf, cap); }
