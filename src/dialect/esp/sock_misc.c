/* tlsmodem — ESP-AT links: name resolution and the rest.  AT+CIPDOMAIN
 * (background DNS, src/net/dns.c; --resolve entries first), AT+CIPDNS
 * (kept and reported; resolution uses the host's resolver), AT+PING (the
 * time of a TCP connect to port 80 of the host — a refusal counts as an
 * answer — because unprivileged ICMP sockets are usually not allowed; see
 * docs/esp.md §3), AT+CIPSERVER (a TCP server on the host machine,
 * 127.0.0.1:<port>, accepted clients take free link ids and say
 * "<id>,CONNECT"), AT+CIPSERVERMAXCONN, AT+CIPSTO (idle timeout of
 * accepted clients), AT+CIPSSLSIZE (ESP8266; accepted, no effect). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/trace.h"
#include "dialect/esp/sock_internal.h"
#include "net/dns.h"
#include "net/net.h"
#include "port/port.h"

/* ---- CIPDOMAIN ----------------------------------------------------------------- */

static struct {
    unsigned id;
    int      net;
    char     host[TM_HOST_MAX];
} g_dom;

static void addr_ip(const struct sockaddr_storage *a, char *buf, size_t cap)
{
    if (a->ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)a)->sin6_addr, buf, (socklen_t)cap);
    else
        inet_ntop(AF_INET, &((const struct sockaddr_in *)a)->sin_addr, buf, (socklen_t)cap);
}

static tm_err domain_answer(tm_at *at, const struct sockaddr_storage *a)
{
    char ip[64];
    if ((g_dom.net == 2 && a->ss_family != AF_INET) || (g_dom.net == 3 && a->ss_family != AF_INET6))
        return tm_fail(tm_at_reason(at), TM_E_DNS, "\"%s\" has no %s address (the resolver answered %s)",
                       g_dom.host, g_dom.net == 2 ? "IPv4" : "IPv6", a->ss_family == AF_INET ? "IPv4" : "IPv6");
    addr_ip(a, ip, sizeof ip);
    tm_at_line(at, "+CIPDOMAIN:\"%s\"", ip);
    return TM_OK;
}

static void domain_done(void *arg, tm_err result, const struct sockaddr_storage *addr, socklen_t len,
                        const tm_reason *why)
{
    tm_at *at = arg;
    (void)len;
    g_dom.id = 0;
    if (result) {
        *tm_at_reason(at) = *why;
        tm_at_complete(at, result);
        return;
    }
    tm_at_complete(at, domain_answer(at, addr));
}

tm_err esp_cipdomain_set(tm_at *at, const tm_at_args *a)
{
    long net, timeout, all;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 4)) || (e = tm_at_get_host(at, a, 1, "domain name", g_dom.host, sizeof g_dom.host)) ||
        (e = tm_at_opt_int(at, a, 2, "ip network", 1, 3, 1, &net)) ||
        (e = tm_at_opt_int(at, a, 3, "timeout", 0, 60000, 0, &timeout)) ||
        (e = tm_at_opt_int(at, a, 4, "show_all_ip", 0, 1, 0, &all)))
        return e;
    if ((e = esp_sock_need_ip(at)))
        return e;
    g_dom.net = (int)net;
    struct sockaddr_storage addr;
    socklen_t len;
    int r = tm_net_resolve_local(g_dom.host, 0, &addr, &len, tm_at_reason(at));
    if (r < 0)
        return TM_E_DNS;
    if (r == 1)
        return domain_answer(at, &addr);
    g_dom.id = tm_dns_start(g_dom.host, 0, timeout ? (uint32_t)timeout : tm_net_timeouts_get()->dns_ms,
                            domain_done, at, tm_at_reason(at));
    return g_dom.id ? TM_AT_PENDING : TM_E_DNS;
}

/* ---- CIPDNS --------------------------------------------------------------------- */

static struct {
    int  enable;
    char ip[3][64];
    int  n;
} g_dns = { 0, { "208.67.222.222", "114.114.114.114", "8.8.8.8" }, 3 };

tm_err esp_cipdns_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    char line[256];
    int o = snprintf(line, sizeof line, "+CIPDNS:%d", g_dns.enable);
    for (int i = 0; i < g_dns.n; i++)
        o += snprintf(line + o, sizeof line - (size_t)o, ",\"%s\"", g_dns.ip[i]);
    tm_at_line(at, "%s", line);
    return TM_OK;
}

tm_err esp_cipdns_set(tm_at *at, const tm_at_args *a)
{
    long en;
    char ip[3][64];
    int n = 0;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 4)) || (e = tm_at_get_int(at, a, 1, "enable", 0, 1, &en)))
        return e;
    for (int i = 0; i < 3 && en; i++) {
        if (tm_at_omitted(a, 2 + i))
            continue;
        if ((e = tm_at_get_str(at, a, 2 + i, "DNS IP", ip[n], sizeof ip[n])))
            return e;
        if (!tm_net_is_ip_literal(ip[n])) {
            tm_at_reason(at)->arg_index = 2 + i;
            return tm_fail(tm_at_reason(at), TM_E_ARG_BAD, "argument %d \"%s\" is not an IP address", 2 + i, ip[n]);
        }
        for (int j = 0; j < n; j++)
            if (!strcasecmp(ip[j], ip[n]))
                return tm_fail(tm_at_reason(at), TM_E_ARG_BAD, "DNS server %s is given twice", ip[n]);
        n++;
    }
    g_dns.enable = (int)en;
    if (!en || n == 0) {
        static const char *const dflt[3] = { "208.67.222.222", "114.114.114.114", "8.8.8.8" };
        for (int i = 0; i < 3; i++)
            snprintf(g_dns.ip[i], sizeof g_dns.ip[i], "%s", dflt[i]);
        g_dns.n = 3;
    } else {
        for (int i = 0; i < n; i++)
            memcpy(g_dns.ip[i], ip[i], sizeof ip[i]);
        g_dns.n = n;
    }
    tm_trace("esp", "CIPDNS: kept for AT+CIPDNS?; names are still resolved by the host's resolver "
             "(and --resolve)");
    return TM_OK;
}

/* ---- PING ---------------------------------------------------------------------- */

static struct {
    int      fd;
    unsigned timer, dns;
    int64_t  t0;
    char     host[TM_HOST_MAX];
    tm_at   *at;
} g_ping = { .fd = -1 };

static void ping_end(bool answered)
{
    tm_at *at = g_ping.at;
    if (g_ping.fd >= 0) {
        tm_port_unwatch(g_ping.fd);
        close(g_ping.fd);
    }
    g_ping.fd = -1;
    if (g_ping.timer)
        tm_port_timer_cancel(g_ping.timer);
    g_ping.timer = 0;
    tm_dns_cancel(g_ping.dns);
    g_ping.dns = 0;
    if (answered) {
        long ms = (long)(tm_port_mono_ms() - g_ping.t0);
        tm_at_line(at, "+PING:%ld", ms < 1 ? 1 : ms);
        tm_at_complete(at, TM_OK);
        return;
    }
    tm_at_line(at, "+PING:TIMEOUT");
    tm_at_complete(at, tm_at_reason(at)->code ? tm_at_reason(at)->code : TM_E_TIMEOUT);
}

static void ping_io(void *arg, int fd, unsigned ev)
{
    (void)arg;
    (void)ev;
    int err = 0;
    socklen_t l = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l);
    bool answered = err == 0 || err == ECONNREFUSED || err == ECONNRESET;
    if (!answered)
        tm_fail(tm_at_reason(g_ping.at), TM_E_NET, "%s did not answer: %s", g_ping.host, strerror(err));
    ping_end(answered);
}

static void ping_timeout(void *arg)
{
    (void)arg;
    g_ping.timer = 0;
    tm_fail(tm_at_reason(g_ping.at), TM_E_TIMEOUT, "%s did not answer within %u ms", g_ping.host,
            (unsigned)tm_net_timeouts_get()->connect_ms);
    ping_end(false);
}

static void ping_go(const struct sockaddr_storage *addr, socklen_t len)
{
    tm_reason *why = tm_at_reason(g_ping.at);
    if (tm_net_connect_start(addr, len, &g_ping.fd, why) != TM_OK) {
        ping_end(false);
        return;
    }
    tm_port_watch(g_ping.fd, TM_IO_WRITE, ping_io, NULL);
}

static void ping_dns(void *arg, tm_err result, const struct sockaddr_storage *addr, socklen_t len,
                     const tm_reason *why)
{
    (void)arg;
    g_ping.dns = 0;
    if (result) {
        *tm_at_reason(g_ping.at) = *why;
        ping_end(false);
        return;
    }
    ping_go(addr, len);
}

tm_err esp_ping_set(tm_at *at, const tm_at_args *a)
{
    tm_err e;
    if ((e = tm_at_max_args(at, a, 1)) || (e = tm_at_get_host(at, a, 1, "host", g_ping.host, sizeof g_ping.host)))
        return e;
    if ((e = esp_sock_need_ip(at)))
        return e;
    g_ping.at = at;
    g_ping.t0 = tm_port_mono_ms();
    uint32_t tmo = tm_net_timeouts_get()->connect_ms;
    g_ping.timer = tm_port_timer_add(tmo == TM_TIMEOUT_NONE ? 30000 : tmo, ping_timeout, NULL);
    tm_trace("esp", "PING %s: measured as the time of a TCP connect to port 80 (a refusal is an answer)",
             g_ping.host);
    struct sockaddr_storage addr;
    socklen_t len;
    tm_reason r;
    tm_reason_clear(&r);
    int k = tm_net_resolve_local(g_ping.host, 80, &addr, &len, &r);
    if (k < 0) {
        *tm_at_reason(at) = r;
        ping_end(false);
        return TM_AT_PENDING;
    }
    if (k == 1) {
        ping_go(&addr, len);
        return TM_AT_PENDING;
    }
    g_ping.dns = tm_dns_start(g_ping.host, 80, tm_net_timeouts_get()->dns_ms, ping_dns, NULL, tm_at_reason(at));
    if (!g_ping.dns)
        ping_end(false);
    return TM_AT_PENDING;
}

/* ---- CIPSERVER ----------------------------------------------------------------- */

static struct {
    int      fd;
    int      port;
    int      maxconn;
    unsigned sto_timer;
} g_srv = { .fd = -1, .maxconn = ESP_LINKS };

bool esp_sock_server_running(void)
{
    return g_srv.fd >= 0;
}

static void sto_tick(void *arg);

static void sto_arm(void)
{
    if (!g_srv.sto_timer)
        g_srv.sto_timer = tm_port_timer_add(1000, sto_tick, NULL);
}

static void sto_tick(void *arg)
{
    (void)arg;
    g_srv.sto_timer = 0;
    bool any = false;
    int64_t now = tm_port_mono_ms();
    for (int i = 0; i < ESP_LINKS; i++) {
        esp_link *k = &g_sk.link[i];
        if (!k->server || k->state != ESP_L_OPEN)
            continue;
        any = true;
        if (g_sk.sto > 0 && now - k->last_io_ms >= g_sk.sto * 1000) {
            tm_reason r;
            tm_fail(&r, TM_E_TIMEOUT, "client %s:%d of the server was silent for %ld s (AT+CIPSTO)", k->rip,
                    k->rport, g_sk.sto);
            esp_link_gone(k, &r);
        }
    }
    if (any)
        sto_arm();
}

static void on_accept(void *arg, int fd, unsigned ev)
{
    (void)arg;
    (void)ev;
    struct sockaddr_storage peer;
    socklen_t pl = sizeof peer;
    int c = accept4(fd, (struct sockaddr *)&peer, &pl, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c < 0)
        return;
    int used = 0;
    esp_link *k = NULL;
    for (int i = 0; i < ESP_LINKS; i++) {
        if (g_sk.link[i].server && g_sk.link[i].state != ESP_L_FREE)
            used++;
        if (!k && g_sk.link[i].state == ESP_L_FREE)
            k = &g_sk.link[i];
    }
    if (!k || used >= g_srv.maxconn) {
        tm_trace("esp", "server: a client was refused (%s)", k ? "AT+CIPSERVERMAXCONN reached" : "no free link");
        close(c);
        return;
    }
    k->rx = malloc(TM_SOCK_RX_BUF);
    k->tx = malloc(TM_SOCK_TX_BUF);
    if (!k->rx || !k->tx) {
        close(c);
        esp_link_free(k);
        return;
    }
    k->server = true;
    k->kind = ESP_K_TCP;
    k->v6 = peer.ss_family == AF_INET6;
    k->fd = c;
    addr_ip(&peer, k->rip, sizeof k->rip);
    snprintf(k->host, sizeof k->host, "%s", k->rip);
    k->rport = ntohs(peer.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&peer)->sin6_port
                                                : ((struct sockaddr_in *)&peer)->sin_port);
    k->lport = g_srv.port;
    k->state = ESP_L_OPEN;
    k->last_io_ms = tm_port_mono_ms();
    esp_sock_note_opened();
    tm_port_watch(c, TM_IO_READ, esp_link_on_raw_io, k);
    tm_trace("esp", "server: client %s:%d on link %d", k->rip, k->rport, k->id);
    char t[160];
    tm_at_urc(g_sk.at, "%s", esp_link_connect_text(k, t, sizeof t));
    sto_arm();
}

tm_err esp_cipserver_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    if (g_srv.fd < 0)
        tm_at_line(at, "+CIPSERVER:0");
    else
        tm_at_line(at, "+CIPSERVER:1,%d,\"TCP\",0", g_srv.port);
    return TM_OK;
}

static void server_close(bool clients)
{
    if (g_srv.fd >= 0) {
        tm_port_unwatch(g_srv.fd);
        close(g_srv.fd);
    }
    g_srv.fd = -1;
    for (int i = 0; clients && i < ESP_LINKS; i++) {
        esp_link *k = &g_sk.link[i];
        if (k->server && k->state != ESP_L_FREE) {
            esp_link_free(k);
            tm_at_urc(g_sk.at, "%d,CLOSED", i);
        }
    }
}

tm_err esp_cipserver_set(tm_at *at, const tm_at_args *a)
{
    long mode, p2;
    char type[16] = "TCP";
    tm_err e;
    if ((e = tm_at_max_args(at, a, 5)) || (e = tm_at_get_int(at, a, 1, "mode", 0, 1, &mode)))
        return e;
    if (!mode) {
        if ((e = tm_at_opt_int(at, a, 2, "close all", 0, 1, 0, &p2)))
            return e;
        if (g_srv.fd < 0 && !p2)
            return tm_fail(tm_at_reason(at), TM_E_STATE, "no server is running");
        server_close(p2 != 0);
        return TM_OK;
    }
    if ((e = tm_at_opt_int(at, a, 2, "port", 1, 65535, 333, &p2)) ||
        (e = tm_at_opt_str(at, a, 3, "type", type, sizeof type, "TCP")))
        return e;
    if (!g_sk.mux)
        return tm_fail(tm_at_reason(at), TM_E_STATE, "a server needs multiple connections (AT+CIPMUX=1 first)");
    if (g_srv.fd >= 0)
        return tm_fail(tm_at_reason(at), TM_E_STATE, "a server is already running on port %d (one at most)",
                       g_srv.port);
    if (strcasecmp(type, "TCP") && strcasecmp(type, "TCPv6"))
        return tm_fail(tm_at_reason(at), TM_E_NOT_SUPPORTED, "server type \"%s\": tlsmodem serves plain TCP only "
                       "(an SSL server would need a server certificate and key, not supported)", type);
    if ((e = esp_sock_need_ip(at)))
        return e;
    bool v6 = strcasecmp(type, "TCPv6") == 0;
    int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return tm_fail(tm_at_reason(at), TM_E_NET, "server socket: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_storage me;
    memset(&me, 0, sizeof me);
    socklen_t ml;
    if (v6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&me;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)p2);
        s6->sin6_addr = in6addr_loopback;
        ml = sizeof *s6;
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&me;
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)p2);
        s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ml = sizeof *s4;
    }
    if (bind(fd, (struct sockaddr *)&me, ml) != 0 || listen(fd, 5) != 0) {
        int err = errno;
        close(fd);
        return tm_fail(tm_at_reason(at), TM_E_NET, "cannot listen on %s:%ld of the host machine: %s",
                       v6 ? "[::1]" : "127.0.0.1", p2, strerror(err));
    }
    g_srv.fd = fd;
    g_srv.port = (int)p2;
    tm_port_watch(fd, TM_IO_READ, on_accept, NULL);
    tm_trace("esp", "server: listening on %s:%ld of the host machine", v6 ? "[::1]" : "127.0.0.1", p2);
    return TM_OK;
}

tm_err esp_servermax_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    tm_at_line(at, "+CIPSERVERMAXCONN:%d", g_srv.maxconn);
    return TM_OK;
}

tm_err esp_servermax_set(tm_at *at, const tm_at_args *a)
{
    long n;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 1)) || (e = tm_at_get_int(at, a, 1, "num", 1, ESP_LINKS, &n)))
        return e;
    g_srv.maxconn = (int)n;
    return TM_OK;
}

void esp_server_reset(void)
{
    if (g_srv.fd >= 0) {
        tm_port_unwatch(g_srv.fd);
        close(g_srv.fd);
    }
    if (g_srv.sto_timer)
        tm_port_timer_cancel(g_srv.sto_timer);
    g_srv.fd = -1;
    g_srv.sto_timer = 0;
    g_srv.maxconn = ESP_LINKS;
    if (g_ping.fd >= 0 || g_ping.timer || g_ping.dns) {
        if (g_ping.fd >= 0) {
            tm_port_unwatch(g_ping.fd);
            close(g_ping.fd);
        }
        if (g_ping.timer)
            tm_port_timer_cancel(g_ping.timer);
        tm_dns_cancel(g_ping.dns);
        g_ping.fd = -1;
        g_ping.timer = g_ping.dns = 0;
    }
    tm_dns_cancel(g_dom.id);
    g_dom.id = 0;
}

/* Wi-Fi lost: the server stops listening (its clients are closed by the caller). */
void esp_server_lost(void)
{
    server_close(false);
}

/* ---- CIPSTO / CIPSSLSIZE ------------------------------------------------------------ */

tm_err esp_cipsto_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    tm_at_line(at, "+CIPSTO:%ld", g_sk.sto);
    return TM_OK;
}

tm_err esp_cipsto_set(tm_at *at, const tm_at_args *a)
{
    long v;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 1)) || (e = tm_at_get_int(at, a, 1, "time", 0, 7200, &v)))
        return e;
    g_sk.sto = v;
    return TM_OK;
}

tm_err esp_cipsslsize_set(tm_at *at, const tm_at_args *a)
{
    long v;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 1)) || (e = tm_at_get_int(at, a, 1, "size", 2048, 4096, &v)))
        return e;
    tm_trace("esp", "CIPSSLSIZE=%ld: accepted; tlsmodem's TLS buffers are not limited by it", v);
    return TM_OK;
}
