/* tlsmodem — ESP-AT dialect: links (TCP, UDP, SSL): AT+CIPMUX, CIPSTART,
 * CIPSTARTEX, CIPCLOSE, CIPSTATUS, CIPSTATE, CIPMODE, CIPDINFO, and the
 * link life cycle.  Sending is sock_send.c, receiving sock_recv.c, the
 * rest (DNS, ping, server) sock_misc.c.  docs/esp.md §3.
 *
 * Decisions:
 * - Links 0..4; CIPMUX=0 uses link 0 and says CONNECT / CLOSED / +IPD,<len>
 *   without an id.  Links refuse to open without a Wi-Fi IP.
 * - "TCP"/"SSL" go through the shared stream (src/net/stream.c): DNS in
 *   the background, the --timeout-connect budget (or the command's
 *   <timeout>), TLS per ssl.c (secure by default).  "UDP" is a raw socket
 *   bound to <local port> (0 = any) so the manual's <mode> 1/2 (follow the
 *   sender) work.  The v6 types need an IPv6 literal or a name with an
 *   IPv6 address.
 * - Received bytes wait in a 32 KiB buffer per link; when the host does not
 *   read (active: output full; passive: no CIPRECVDATA) the socket is no
 *   longer read, so the server waits: nothing is dropped (UDP: the kernel
 *   queue). */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/trace.h"
#include "dialect/esp/sock_internal.h"
#include "net/dns.h"
#include "net/net.h"
#include "port/port.h"

esp_sock_g g_sk;
static bool g_had_link;     /* CIPSTATUS 4: links were open and are all closed now */

bool esp_sock_mux(const esp_state *s)
{
    (void)s;
    return g_sk.mux;
}

esp_link *esp_link_get(int id)
{
    return id >= 0 && id < ESP_LINKS ? &g_sk.link[id] : NULL;
}

const char *esp_link_prefix(const esp_link *k, char *buf, size_t cap)
{
    if (g_sk.mux)
        snprintf(buf, cap, "%d,", k->id);
    else
        buf[0] = '\0';
    return buf;
}

tm_err esp_sock_need_ip(tm_at *at)
{
    if (!esp_wifi_has_ip(esp_get(at)))
        return tm_fail(tm_at_reason(at), TM_E_STATE, "no IP address: the station is not connected to an "
                       "access point (AT+CWJAP=\"<ssid>\",\"<password>\" first, then wait for WIFI GOT IP)");
    return TM_OK;
}

void esp_link_free(esp_link *k)
{
    if (k->timer)
        tm_port_timer_cancel(k->timer);
    tm_dns_cancel(k->dns);
    int fd = k->fd >= 0 ? k->fd : (k->st.state == TM_STREAM_OPEN ? k->st.fd : -1);
    if (k->abort_close && fd >= 0 && k->kind != ESP_K_UDP) {
        struct linger lg = { 1, 0 };              /* RST instead of FIN */
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    tm_stream_close(&k->st);
    if (k->fd >= 0) {
        tm_port_unwatch(k->fd);
        close(k->fd);
    }
    esp_tls_hold_free(&k->hold);
    free(k->rx);
    free(k->tx);
    int id = k->id;
    bool passive = k->passive;           /* AT+CIPRECVTYPE and CIPCLOSEMODE are per link id and outlive it */
    bool abort_close = k->abort_close;
    memset(k, 0, sizeof *k);
    k->id = id;
    k->fd = -1;
    k->passive = passive;
    k->abort_close = abort_close;
}

tm_err esp_link_arg(tm_at *at, const tm_at_args *a, int idx, bool allow_free, esp_link **out, int *next)
{
    long id = 0;
    if (g_sk.mux) {
        tm_err e = tm_at_get_int(at, a, idx, "link ID", 0, ESP_LINKS - 1, &id);
        if (e)
            return e;
        *next = idx + 1;
    } else {
        *next = idx;
    }
    esp_link *k = &g_sk.link[id];
    if (!allow_free && k->state != ESP_L_OPEN && k->state != ESP_L_GONE)
        return tm_fail(tm_at_reason(at), TM_E_BAD_SESSION, "link %ld is not connected (AT+CIPSTATE? lists the "
                       "links; AT+CIPSTART opens one)", id);
    *out = k;
    return TM_OK;
}

/* ---- I/O over either transport -------------------------------------------------- */

long esp_link_write(esp_link *k, const void *p, size_t n)
{
    if (k->fd < 0) {
        long w = tm_stream_write(&k->st, p, n);
        return w == TM_STREAM_ERROR ? -1 : w;
    }
    ssize_t w;
    if (k->kind == ESP_K_UDP)
        w = sendto(k->fd, p, n, MSG_NOSIGNAL, (const struct sockaddr *)&k->raddr, k->raddr_len);
    else
        w = send(k->fd, p, n, MSG_NOSIGNAL);
    if (w < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            tm_port_watch(k->fd, TM_IO_WRITE | (k->paused ? 0 : TM_IO_READ), esp_link_on_raw_io, k);
            return 0;
        }
        tm_fail(&k->why_gone, TM_E_NET, "send to %s:%d: %s", k->rip, k->rport, strerror(errno));
        return -1;
    }
    k->last_io_ms = tm_port_mono_ms();
    return (long)w;
}

void esp_link_want_read(esp_link *k, bool on)
{
    if (k->fd < 0)
        tm_stream_want_read(&k->st, on);
    else
        tm_port_watch(k->fd, on ? TM_IO_READ : 0, esp_link_on_raw_io, k);
}

void esp_link_pump_tx(esp_link *k)
{
    while (k->tx_len && k->state == ESP_L_OPEN) {
        long n = esp_link_write(k, k->tx, k->tx_len);
        if (n < 0) {
            tm_reason r = k->why_gone.code ? k->why_gone : k->st.reason;
            esp_link_gone(k, &r);
            return;
        }
        if (n == 0)
            return;
        if (k->kind == ESP_K_UDP) {       /* one datagram per send: the whole buffer went */
            k->tx_total += k->tx_len;
            k->tx_len = 0;
            return;
        }
        memmove(k->tx, k->tx + n, k->tx_len - (size_t)n);
        k->tx_len -= (size_t)n;
        k->tx_total += (uint64_t)n;
    }
    if (k->tx_len == 0)
        esp_send_drained(k);
}

void esp_link_on_raw_io(void *arg, int fd, unsigned revents)
{
    esp_link *k = arg;
    (void)fd;
    if (revents & TM_IO_WRITE) {
        tm_port_watch(k->fd, k->paused ? 0 : TM_IO_READ, esp_link_on_raw_io, k);
        esp_link_pump_tx(k);
    }
    if (k->state == ESP_L_OPEN && (revents & (TM_IO_READ | TM_IO_ERROR)))
        esp_recv_readable(k);
}

/* The peer closed or the connection failed: the data already received is
 * still delivered; "[<id>,]CLOSED" follows it (sock_recv.c). */
void esp_link_gone(esp_link *k, const tm_reason *why)
{
    if (k->state != ESP_L_OPEN)
        return;
    k->state = ESP_L_GONE;
    k->peer_gone = true;
    if (why && why->code) {
        k->why_gone = *why;
        char t[TM_DETAIL_MAX + 128];
        tm_trace("reason", "link %d: %s", k->id, tm_reason_text(why, t, sizeof t));
    }
    tm_trace("esp", "link %d (%s:%d) closed %s after %llu bytes received, %llu sent; %zu not yet delivered",
             k->id, k->host, k->rport, why && why->code ? "by an error" : "by the peer",
             (unsigned long long)k->rx_total, (unsigned long long)k->tx_total, k->rx_len);
    tm_stream_close(&k->st);
    if (k->fd >= 0) {
        tm_port_unwatch(k->fd);
        close(k->fd);
        k->fd = -1;
    }
    esp_send_link_gone(k);
    esp_recv_idle(NULL);
}

/* ---- stream events ---------------------------------------------------------------- */

static void set_keepalive(int fd, long secs)
{
    if (fd < 0 || secs <= 0)
        return;
    int one = 1, idle = (int)secs, intvl = 1, cnt = 3;
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
}

const char *esp_link_type(const esp_link *k)
{
    static const char *const n[3][2] = { { "TCP", "TCPv6" }, { "UDP", "UDPv6" }, { "SSL", "SSLv6" } };
    return n[k->kind][k->v6];
}

/* What says a link opened: "<id>,CONNECT" (CIPMUX=0: "CONNECT"), or with
 * AT+SYSMSG bit 1 the firmware's detailed form
 * "+LINK_CONN:0,<id>,"<type>",<0 client|1 server>,"<remote ip>",<remote port>,<local port>". */
const char *esp_link_connect_text(const esp_link *k, char *buf, size_t cap)
{
    if (esp_get(g_sk.at)->sysmsg & ESP_SYSMSG_LINK_CONN) {
        snprintf(buf, cap, "+LINK_CONN:0,%d,\"%s\",%d,\"%s\",%d,%d", k->id, esp_link_type(k), k->server ? 1 : 0,
                 k->rip, k->rport, k->lport);
    } else {
        char pre[8];
        snprintf(buf, cap, "%sCONNECT", esp_link_prefix(k, pre, sizeof pre));
    }
    return buf;
}

static void say_connect(esp_link *k)
{
    char t[160];
    tm_at_line(g_sk.at, "%s", esp_link_connect_text(k, t, sizeof t));
}

static void link_opened(esp_link *k)
{
    k->state = ESP_L_OPEN;
    k->last_io_ms = tm_port_mono_ms();
    esp_sock_note_opened();
    say_connect(k);
    tm_at_complete(g_sk.at, TM_OK);
}

static void ev_open(void *arg)
{
    esp_link *k = arg;
    const char *a = k->st.addr_str;
    if (a[0] == '[') {
        const char *e = strchr(a, ']');
        snprintf(k->rip, sizeof k->rip, "%.*s", e ? (int)(e - a - 1) : 0, a + 1);
    } else {
        const char *c = strrchr(a, ':');
        snprintf(k->rip, sizeof k->rip, "%.*s", c ? (int)(c - a) : (int)strlen(a), a);
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(k->st.fd, (struct sockaddr *)&ss, &sl) == 0)
        k->lport = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                  : ((struct sockaddr_in *)&ss)->sin_port);
    set_keepalive(k->st.fd, k->keepalive);
    if (k->kind == ESP_K_SSL) {
        tm_trace("esp", "link %d: %s", k->id, tm_tls_summary(k->st.tls));
        if (k->hold.unverified)
            tm_trace("warn", "link %d: NOT VERIFIED: auth mode 0 (AT+CIPSSLCCONF) - the server was not "
                     "authenticated", k->id);
    }
    esp_tls_hold_free(&k->hold);
    tm_trace("esp", "link %d: connected to %s (%s:%d), local port %d", k->id, k->host, k->rip, k->rport,
             k->lport);
    link_opened(k);
}

static void ev_readable(void *arg)
{
    esp_recv_readable(arg);
}

static void ev_writable(void *arg)
{
    esp_link_pump_tx(arg);
}

static void ev_error(void *arg, const tm_reason *why)
{
    esp_link *k = arg;
    if (k->state == ESP_L_OPENING) {
        tm_at *at = g_sk.at;
        *tm_at_reason(at) = *why;
        tm_err e = why->code ? why->code : TM_E_NET;
        tm_trace("esp", "link %d: CIPSTART %s:%d failed", k->id, k->host, k->rport);
        esp_link_free(k);
        tm_at_complete(at, e);
        return;
    }
    esp_link_gone(k, why);
}

static const tm_stream_events link_events = {
    .on_open = ev_open,
    .on_readable = ev_readable,
    .on_writable = ev_writable,
    .on_error = ev_error,
};

/* ---- UDP (raw socket) ------------------------------------------------------------- */

static tm_err udp_bind_connect(esp_link *k, const struct sockaddr_storage *addr, socklen_t len, tm_reason *why)
{
    int fam = addr->ss_family;
    if (k->v6 != (fam == AF_INET6))
        return tm_fail(why, TM_E_DNS, "\"%s\" is an %s address but the link type is \"%s\"", k->host,
                       fam == AF_INET6 ? "IPv6" : "IPv4", k->v6 ? "UDPv6" : "UDP");
    int fd = socket(fam, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return tm_fail(why, TM_E_NET, "UDP socket: %s", strerror(errno));
    struct sockaddr_storage me;
    memset(&me, 0, sizeof me);
    socklen_t ml;
    if (fam == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&me;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)k->lport);
        s6->sin6_addr = in6addr_any;
        ml = sizeof *s6;
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&me;
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)k->lport);
        s4->sin_addr.s_addr = htonl(INADDR_ANY);
        ml = sizeof *s4;
    }
    if (bind(fd, (struct sockaddr *)&me, ml) != 0) {
        int err = errno;
        close(fd);
        return tm_fail(why, TM_E_NET, "UDP local port %d: %s", k->lport, strerror(err));
    }
    socklen_t sl = sizeof me;
    if (getsockname(fd, (struct sockaddr *)&me, &sl) == 0)
        k->lport = ntohs(fam == AF_INET6 ? ((struct sockaddr_in6 *)&me)->sin6_port
                                         : ((struct sockaddr_in *)&me)->sin_port);
    k->raddr = *addr;
    k->raddr_len = len;
    char buf[80];
    tm_net_addr_str(addr, buf, sizeof buf);
    if (buf[0] == '[') {
        const char *e = strchr(buf, ']');
        snprintf(k->rip, sizeof k->rip, "%.*s", e ? (int)(e - buf - 1) : 0, buf + 1);
    } else {
        const char *c = strrchr(buf, ':');
        snprintf(k->rip, sizeof k->rip, "%.*s", c ? (int)(c - buf) : (int)strlen(buf), buf);
    }
    k->fd = fd;
    if (tm_port_watch(fd, TM_IO_READ, esp_link_on_raw_io, k) != 0) {
        close(fd);
        k->fd = -1;
        return tm_fail(why, TM_E_NET, "too many descriptors");
    }
    tm_trace("esp", "link %d: UDP %s:%d <-> local port %d, mode %d", k->id, k->rip, k->rport, k->lport,
             k->udp_mode);
    return TM_OK;
}

static void udp_dns_done(void *arg, tm_err result, const struct sockaddr_storage *addr, socklen_t len,
                         const tm_reason *why)
{
    esp_link *k = arg;
    tm_at *at = g_sk.at;
    k->dns = 0;
    if (k->timer)
        tm_port_timer_cancel(k->timer);
    k->timer = 0;
    tm_err e = result;
    if (!e)
        e = udp_bind_connect(k, addr, len, tm_at_reason(at));
    else
        *tm_at_reason(at) = *why;
    if (e) {
        esp_link_free(k);
        tm_at_complete(at, e);
        return;
    }
    link_opened(k);
}

static tm_err udp_open(esp_link *k, uint32_t timeout_ms, tm_reason *why)
{
    struct sockaddr_storage addr;
    socklen_t len = 0;
    int r = tm_net_resolve_local(k->host, (uint16_t)k->rport, &addr, &len, why);
    if (r < 0)
        return why->code ? why->code : TM_E_DNS;
    if (r == 1) {
        tm_err e = udp_bind_connect(k, &addr, len, why);
        if (e)
            return e;
        link_opened(k);
        return TM_AT_PENDING;
    }
    k->dns = tm_dns_start(k->host, (uint16_t)k->rport, timeout_ms, udp_dns_done, k, why);
    if (!k->dns)
        return why->code ? why->code : TM_E_DNS;
    return TM_AT_PENDING;
}

/* ---- CIPSTART ---------------------------------------------------------------------- */

static tm_err parse_type(tm_at *at, const tm_at_args *a, int idx, esp_kind *kind, bool *v6)
{
    char t[16];
    tm_err e = tm_at_get_str(at, a, idx, "type", t, sizeof t);
    if (e)
        return e;
    static const struct { const char *n; esp_kind k; bool v6; } types[] = {
        { "TCP", ESP_K_TCP, false }, { "TCPv6", ESP_K_TCP, true }, { "UDP", ESP_K_UDP, false },
        { "UDPv6", ESP_K_UDP, true }, { "SSL", ESP_K_SSL, false }, { "SSLv6", ESP_K_SSL, true },
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (!strcasecmp(t, types[i].n)) {
            *kind = types[i].k;
            *v6 = types[i].v6;
            return TM_OK;
        }
    tm_at_reason(at)->arg_index = idx;
    return tm_fail(tm_at_reason(at), TM_E_ARG_BAD, "argument %d \"type\" is \"%s\"; expected \"TCP\", \"UDP\", "
                   "\"SSL\" or their v6 forms (\"TCPv6\", \"UDPv6\", \"SSLv6\")", idx, t);
}

static tm_err start_link(tm_at *at, const tm_at_args *a, esp_link *k, int first)
{
    tm_reason *why = tm_at_reason(at);
    esp_kind kind = ESP_K_TCP;
    bool v6 = false;
    char host[TM_HOST_MAX];
    long port, keep = 0, lport = 0, mode = 0, timeout = 0;
    tm_err e;
    if ((e = parse_type(at, a, first, &kind, &v6)) ||
        (e = tm_at_max_args(at, a, first + (kind == ESP_K_UDP ? 6 : 5))) ||
        (e = tm_at_get_host(at, a, first + 1, "remote host", host, sizeof host)) ||
        (e = tm_at_get_int(at, a, first + 2, "remote port", 1, 65535, &port)))
        return e;
    if (kind == ESP_K_UDP) {
        if ((e = tm_at_opt_int(at, a, first + 3, "local port", 0, 65535, 0, &lport)) ||
            (e = tm_at_opt_int(at, a, first + 4, "mode", 0, 2, 0, &mode)) ||
            (e = tm_at_opt_int(at, a, first + 6, "timeout", 0, 60000, 0, &timeout)))
            return e;
    } else {
        if ((e = tm_at_opt_int(at, a, first + 3, "keep_alive", 0, 7200, 0, &keep)))
            return e;
        /* [,<"local IP">][,<timeout>]: local IP at first+4, timeout at first+5 */
        if ((e = tm_at_opt_int(at, a, first + 5, "timeout", 0, 60000, 0, &timeout)))
            return e;
    }
    if (kind == ESP_K_UDP && a->count > first + 5 && !tm_at_omitted(a, first + 5))
        tm_trace("esp", "CIPSTART: local IP \"%s\" ignored (the host's interfaces decide)", a->v[first + 4].p);
    if (k->state == ESP_L_OPEN || k->state == ESP_L_OPENING) {
        tm_at_line(at, "ALREADY CONNECTED");
        return tm_fail(why, TM_E_SESSION_BUSY, "link %d is already connected to %s:%d (AT+CIPCLOSE%s first)",
                       k->id, k->host, k->rport, g_sk.mux ? "=<link ID>" : "");
    }
    if (k->state == ESP_L_GONE && k->rx_len) {
        tm_at_line(at, "ALREADY CONNECTED");
        return tm_fail(why, TM_E_SESSION_BUSY, "link %d was closed by the peer but %zu received bytes are not "
                       "read yet (AT+CIPRECVDATA reads them, AT+CIPCLOSE%s discards them)", k->id, k->rx_len,
                       g_sk.mux ? "=<link ID>" : "");
    }
    if (k->state == ESP_L_GONE)
        esp_link_free(k);                 /* closed, its CLOSED not yet said: the host starts anew */
    if ((e = esp_sock_need_ip(at)))
        return e;
    if (v6 && !g_sk.ipv6)
        return tm_fail(why, TM_E_STATE, "the v6 link types need AT+CIPV6=1 first");
    if (v6 && tm_net_is_ip_literal(host) && !strchr(host, ':'))
        return tm_fail(why, TM_E_ARG_BAD, "type \"%sv6\" needs an IPv6 address; \"%s\" is IPv4",
                       kind == ESP_K_TCP ? "TCP" : kind == ESP_K_UDP ? "UDP" : "SSL", host);
    k->rx = malloc(TM_SOCK_RX_BUF);
    k->tx = malloc(TM_SOCK_TX_BUF);
    if (!k->rx || !k->tx) {
        esp_link_free(k);
        return tm_fail(why, TM_E_NO_MEMORY, "no memory for link %d", k->id);
    }
    k->state = ESP_L_OPENING;
    k->kind = kind;
    k->v6 = v6;
    k->rport = (int)port;
    k->lport = (int)lport;
    k->udp_mode = (int)mode;
    k->keepalive = keep;
    snprintf(k->host, sizeof k->host, "%s", host);
    uint32_t tmo = timeout > 0 ? (uint32_t)timeout : 0;
    if (kind == ESP_K_UDP) {
        e = udp_open(k, tmo ? tmo : tm_net_timeouts_get()->dns_ms, why);
        if (e != TM_AT_PENDING)
            esp_link_free(k);
        return e;
    }
    tm_stream_opts o;
    memset(&o, 0, sizeof o);
    snprintf(o.host, sizeof o.host, "%s", host);
    o.port = (uint16_t)port;
    o.use_tls = kind == ESP_K_SSL;
    o.connect_timeout_ms = tmo;
    if (o.use_tls && (e = esp_ssl_tls_config(esp_get(at), k->id, o.host, &k->hold, &o.tls, why))) {
        esp_link_free(k);
        return e;
    }
    tm_trace("esp", "link %d: CIPSTART %s to %s:%ld%s", k->id, kind == ESP_K_SSL ? "SSL" : "TCP", host, port,
             tmo ? " (command timeout)" : "");
    e = tm_stream_open(&k->st, &o, &link_events, k, why);
    if (e) {
        esp_link_free(k);
        return e;
    }
    return TM_AT_PENDING;
}

static tm_err cipstart_set(tm_at *at, const tm_at_args *a)
{
    esp_link *k;
    int next;
    tm_err e;
    if (g_sk.mux && a->count >= 1 && (a->v[0].flags & TM_ARG_QUOTED))
        return tm_fail(tm_at_reason(at), TM_E_ARG_BAD, "AT+CIPMUX=1: the first argument is the link ID "
                       "(0..4), e.g. AT+CIPSTART=0,\"TCP\",\"host\",80; AT+CIPSTARTEX picks a free one");
    if ((e = esp_link_arg(at, a, 1, true, &k, &next)))
        return e;
    return start_link(at, a, k, next);
}

static tm_err cipstartex_set(tm_at *at, const tm_at_args *a)
{
    if (!g_sk.mux)
        return start_link(at, a, &g_sk.link[0], 1);
    for (int i = 0; i < ESP_LINKS; i++)
        if (g_sk.link[i].state == ESP_L_FREE)
            return start_link(at, a, &g_sk.link[i], 1);
    return tm_fail(tm_at_reason(at), TM_E_NO_SESSION_FREE, "all %d links are in use (AT+CIPCLOSE=<link ID> "
                   "frees one)", ESP_LINKS);
}

/* ---- CIPCLOSE ------------------------------------------------------------------------ */

static void close_one(esp_link *k)
{
    char pre[8];
    bool said = k->state == ESP_L_OPEN || k->state == ESP_L_GONE;
    tm_trace("esp", "link %d closed by the host (%llu bytes received, %llu sent, %zu unread discarded)", k->id,
             (unsigned long long)k->rx_total, (unsigned long long)k->tx_total, k->rx_len);
    esp_link_prefix(k, pre, sizeof pre);
    esp_link_free(k);
    if (said)
        tm_at_line(g_sk.at, "%sCLOSED", pre);
}

static tm_err cipclose_set(tm_at *at, const tm_at_args *a)
{
    long id;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 1)) || (e = tm_at_get_int(at, a, 1, "link ID", 0, ESP_LINKS, &id)))
        return e;
    if (id == ESP_LINKS) {
        for (int i = 0; i < ESP_LINKS; i++)
            if (g_sk.link[i].state != ESP_L_FREE)
                close_one(&g_sk.link[i]);
        return TM_OK;
    }
    esp_link *k = &g_sk.link[id];
    if (k->state == ESP_L_FREE)
        return tm_fail(tm_at_reason(at), TM_E_BAD_SESSION, "link %ld is not connected", id);
    if (k->state == ESP_L_OPENING)
        return tm_fail(tm_at_reason(at), TM_E_SESSION_BUSY, "link %ld is still connecting", id);
    close_one(k);
    return TM_OK;
}

static tm_err cipclose_exec(tm_at *at, const tm_at_args *a)
{
    (void)a;
    esp_link *k = &g_sk.link[0];
    if (g_sk.mux)
        return tm_fail(tm_at_reason(at), TM_E_ARG_MISSING, "AT+CIPMUX=1: say which link, AT+CIPCLOSE=<link ID> "
                       "(5 = all)");
    if (k->state == ESP_L_FREE)
        return tm_fail(tm_at_reason(at), TM_E_BAD_SESSION, "no connection is open");
    close_one(k);
    return TM_OK;
}

static bool any_link(void)
{
    for (int i = 0; i < ESP_LINKS; i++)
        if (g_sk.link[i].state != ESP_L_FREE)
            return true;
    return false;
}

static tm_err cipclosemode_set(tm_at *at, const tm_at_args *a)
{
    long id = 0, mode;
    int k = 1;
    tm_err e;
    if (g_sk.mux) {
        if ((e = tm_at_get_int(at, a, 1, "link ID", 0, ESP_LINKS - 1, &id)))
            return e;
        k = 2;
    }
    if ((e = tm_at_max_args(at, a, k)) || (e = tm_at_get_int(at, a, k, "close mode", 0, 1, &mode)))
        return e;
    g_sk.link[id].abort_close = mode != 0;
    return TM_OK;
}

static tm_err cipv6_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    tm_at_line(at, "+CIPV6:%d", g_sk.ipv6 ? 1 : 0);
    return TM_OK;
}

static tm_err cipv6_set(tm_at *at, const tm_at_args *a)
{
    long v;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 1)) || (e = tm_at_get_int(at, a, 1, "enable", 0, 1, &v)))
        return e;
    if (!v && any_link())
        return tm_fail(tm_at_reason(at), TM_E_STATE, "links are open: close them before AT+CIPV6=0");
    g_sk.ipv6 = v != 0;
    return TM_OK;
}

/* ---- CIPMUX / CIPMODE / CIPDINFO / CIPSTATUS / CIPSTATE -------------------------------- */


static tm_err cipmux_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    tm_at_line(at, "+CIPMUX:%d", g_sk.mux ? 1 : 0);
    return TM_OK;
}

static tm_err cipmux_set(tm_at *at, const tm_at_args *a)
{
    long v;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 1)) || (e = tm_at_get_int(at, a, 1, "mode", 0, 1, &v)))
        return e;
    if ((v != 0) == g_sk.mux)
        return TM_OK;
    if (any_link())
        return tm_fail(tm_at_reason(at), TM_E_STATE, "links are open: CIPMUX changes only after all are closed "
                       "(AT+CIPCLOSE%s)", g_sk.mux ? "=5" : "");
    if (v && g_sk.cipmode)
        return tm_fail(tm_at_reason(at), TM_E_STATE, "passthrough mode is set (AT+CIPMODE=1): multiple "
                       "connections need AT+CIPMODE=0 first");
    if (!v && esp_sock_server_running())
        return tm_fail(tm_at_reason(at), TM_E_STATE, "a server is running: AT+CIPSERVER=0 first");
    g_sk.mux = v != 0;
    return TM_OK;
}

static tm_err cipmode_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    tm_at_line(at, "+CIPMODE:%d", g_sk.cipmode);
    return TM_OK;
}

static tm_err cipmode_set(tm_at *at, const tm_at_args *a)
{
    long v;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 1)) || (e = tm_at_get_int(at, a, 1, "mode", 0, 1, &v)))
        return e;
    if (v && g_sk.mux)
        return tm_fail(tm_at_reason(at), TM_E_STATE, "passthrough mode needs a single connection "
                       "(AT+CIPMUX=0 first)");
    g_sk.cipmode = (int)v;
    return TM_OK;
}

static tm_err cipdinfo_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    tm_at_line(at, "+CIPDINFO:%s", g_sk.dinfo ? "true" : "false");
    return TM_OK;
}

static tm_err cipdinfo_set(tm_at *at, const tm_at_args *a)
{
    long v;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 1)) || (e = tm_at_get_int(at, a, 1, "mode", 0, 1, &v)))
        return e;
    g_sk.dinfo = v != 0;
    return TM_OK;
}

static int open_count(void)
{
    int n = 0;
    for (int i = 0; i < ESP_LINKS; i++)
        if (g_sk.link[i].state == ESP_L_OPEN)
            n++;
    return n;
}

static void link_lines(tm_at *at, const char *cmd)
{
    for (int i = 0; i < ESP_LINKS; i++) {
        const esp_link *k = &g_sk.link[i];
        if (k->state != ESP_L_OPEN)
            continue;
        tm_at_line(at, "+%s:%d,\"%s\",\"%s\",%d,%d,%d", cmd, k->id, esp_link_type(k), k->rip, k->rport, k->lport,
                   k->server ? 1 : 0);
    }
}

/* STATUS:<stat> (deprecated in v4 but what WiFiEspAT reads): wifi.c says
 * 2 (got IP) or 5 (no IP); links make 2 into 3 (a link is open) or 4
 * (links were open, all closed). */

static tm_err cipstatus_exec(tm_at *at, const tm_at_args *a)
{
    (void)a;
    int st = esp_wifi_status(esp_get(at));
    if (st == 2 && open_count())
        st = 3;
    else if (st == 2 && g_had_link)
        st = 4;
    tm_at_line(at, "STATUS:%d", st);
    link_lines(at, "CIPSTATUS");
    return TM_OK;
}

static tm_err cipstate_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    link_lines(at, "CIPSTATE");
    return TM_OK;
}

/* ---- interfaces for wifi.c / sim.c ------------------------------------------------------- */

void esp_sock_all_lost(esp_state *s, const tm_reason *why)
{
    (void)s;
    for (int i = 0; i < ESP_LINKS; i++) {
        esp_link *k = &g_sk.link[i];
        if (k->state == ESP_L_OPENING) {
            tm_at *at = g_sk.at;
            *tm_at_reason(at) = *why;
            esp_link_free(k);
            tm_at_complete(at, why->code ? why->code : TM_E_NET);
        } else if (k->state == ESP_L_OPEN) {
            esp_link_gone(k, why);
        }
    }
    esp_server_lost();
}

bool esp_sock_net_lost(esp_state *s, int link, const tm_reason *why)
{
    (void)s;
    esp_link *k = esp_link_get(link);
    if (!k || k->state != ESP_L_OPEN)
        return false;
    esp_link_gone(k, why);
    return true;
}

void esp_sock_reset(esp_state *s)
{
    esp_server_reset();
    esp_send_reset();
    esp_recv_reset();
    for (int i = 0; i < ESP_LINKS; i++) {
        esp_link *k = &g_sk.link[i];
        if (g_sk.at)       /* started before: release what the links hold */
            esp_link_free(k);
    }
    memset(&g_sk, 0, sizeof g_sk);
    g_sk.s = s;
    g_sk.at = s->modem->at;
    g_sk.sto = 180;
    for (int i = 0; i < ESP_LINKS; i++) {
        g_sk.link[i].id = i;
        g_sk.link[i].fd = -1;
    }
    g_had_link = false;
    /* The manual's +++: more than 20 ms of silence before and after (the
     * firmware has no ATS12 to change it). */
    tm_at_set_guard_ms(g_sk.at, ESP_ESCAPE_GUARD_MS);
    tm_port_on_idle(esp_recv_idle, NULL);
}

void esp_sock_note_opened(void)
{
    g_had_link = true;
}

const tm_at_cmd esp_sock_table[] = {
    { "+CIPMUX",      NULL, cipmux_read,   cipmux_set,     NULL,           NULL },
    { "+CIPSTART",    NULL, NULL,          cipstart_set,   NULL,           NULL },
    { "+CIPSTARTEX",  NULL, NULL,          cipstartex_set, NULL,           NULL },
    { "+CIPCLOSE",    NULL, NULL,          cipclose_set,   cipclose_exec,  NULL },
    { "+CIPMODE",     NULL, cipmode_read,  cipmode_set,    NULL,           NULL },
    { "+CIPDINFO",    NULL, cipdinfo_read, cipdinfo_set,   NULL,           NULL },
    { "+CIPSTATUS",   NULL, NULL,          NULL,           cipstatus_exec, NULL },
    { "+CIPCLOSEMODE", NULL, NULL,         cipclosemode_set, NULL,         NULL },
    { "+CIPV6",       NULL, cipv6_read,    cipv6_set,      NULL,           NULL },
    { "+CIPSTATE",    NULL, cipstate_read, NULL,           NULL,           NULL },
    { "+CIPSEND",     NULL, NULL,          esp_cipsend_set, esp_cipsend_exec, NULL },
    { "+CIPSENDEX",   NULL, NULL,          esp_cipsendex_set, NULL,        NULL },
    { "+CIPRECVMODE", NULL, esp_recvmode_read, esp_recvmode_set, NULL,     NULL },
    { "+CIPRECVTYPE", NULL, esp_recvtype_read, esp_recvtype_set, NULL,     NULL },
    { "+CIPRECVLEN",  NULL, esp_recvlen_read, NULL,        NULL,           NULL },
    { "+CIPRECVDATA", NULL, NULL,          esp_recvdata_set, NULL,         NULL },
    { "+CIPDOMAIN",   NULL, NULL,          esp_cipdomain_set, NULL,        NULL },
    { "+CIPDNS",      NULL, esp_cipdns_read, esp_cipdns_set, NULL,         NULL },
    { "+PING",        NULL, NULL,          esp_ping_set,   NULL,           NULL },
    { "+CIPSERVER",   NULL, esp_cipserver_read, esp_cipserver_set, NULL,   NULL },
    { "+CIPSERVERMAXCONN", NULL, esp_servermax_read, esp_servermax_set, NULL, NULL },
    { "+CIPSTO",      NULL, esp_cipsto_read, esp_cipsto_set, NULL,         NULL },
    { "+CIPSSLSIZE",  NULL, NULL,          esp_cipsslsize_set, NULL,       NULL },
    { NULL, NULL, NULL, NULL, NULL, NULL },
};
