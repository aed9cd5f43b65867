/* tlsmodem — ESP-AT links: receiving.  Active mode (default): the data goes
 * to the host as "+IPD,[<id>,]<len>[,"<ip>",<port>]:<data>" (CIPDINFO), at
 * most 2920 bytes per +IPD on ESP32 (1460 on ESP8266), one datagram per
 * +IPD for UDP, only while no command runs (never inside an answer), and
 * only as fast as the host reads: a slow host stops the socket being read,
 * nothing is dropped.  Passive mode (AT+CIPRECVMODE=1, v3.3+ AT+CIPRECVTYPE):
 * "+IPD,[<id>,]<total unread>" once, then again after each AT+CIPRECVDATA
 * that left bytes (hosts issue one read per notice); AT+CIPRECVLEN? gives
 * the counts (-1 = link not connected).  "[<id>,]CLOSED" comes after the
 * last byte was delivered (passive: read). */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "core/trace.h"
#include "dialect/esp/sock_internal.h"
#include "net/net.h"
#include "port/port.h"

static size_t ipd_max(void)
{
    return g_sk.s && g_sk.s->chip == ESP_CHIP_ESP8266 ? 1460 : 2920;
}

static void udp_sender(esp_link *k, const struct sockaddr_storage *from)
{
    char buf[80];
    tm_net_addr_str(from, buf, sizeof buf);
    const char *c = strrchr(buf, ':');
    if (buf[0] == '[') {
        const char *e = strchr(buf, ']');
        snprintf(k->sip, sizeof k->sip, "%.*s", e ? (int)(e - buf - 1) : 0, buf + 1);
    } else {
        snprintf(k->sip, sizeof k->sip, "%.*s", c ? (int)(c - buf) : (int)strlen(buf), buf);
    }
    k->sport = ntohs(from->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)from)->sin6_port
                                                 : ((const struct sockaddr_in *)from)->sin_port);
    bool differs = strcmp(k->sip, k->rip) != 0 || k->sport != k->rport;
    if (differs && (k->udp_mode == 2 || (k->udp_mode == 1 && !k->udp_changed))) {
        k->udp_changed = true;
        k->raddr = *from;
        k->raddr_len = from->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
        snprintf(k->rip, sizeof k->rip, "%s", k->sip);
        k->rport = k->sport;
        tm_trace("esp", "link %d: UDP mode %d: the peer is now %s:%d", k->id, k->udp_mode, k->rip, k->rport);
    }
}

static void set_paused(esp_link *k, bool on)
{
    if (k->paused == on || k->state != ESP_L_OPEN)
        return;
    k->paused = on;
    esp_link_want_read(k, !on);
    if (on)
        tm_trace("esp", "link %d: %zu bytes wait for the host: not reading the socket until it reads", k->id,
                 k->rx_len);
}

/* One UDP datagram into rx.  Active mode keeps one datagram at a time (one
 * +IPD each); passive mode appends while there is room. */
static bool udp_read(esp_link *k)
{
    if (!k->passive && k->rx_len)
        return false;
    size_t room = TM_SOCK_RX_BUF - k->rx_len;
    if (room < 2048)
        return false;
    struct sockaddr_storage from;
    socklen_t fl = sizeof from;
    ssize_t n = recvfrom(k->fd, k->rx + k->rx_len, room, MSG_TRUNC, (struct sockaddr *)&from, &fl);
    if (n < 0)
        return false;
    if ((size_t)n > room) {
        tm_trace("warn", "link %d: a UDP datagram of %zd bytes was cut to %zu", k->id, n, room);
        n = (ssize_t)room;
    }
    udp_sender(k, &from);
    k->rx_len += (size_t)n;
    k->rx_total += (uint64_t)n;
    k->last_io_ms = tm_port_mono_ms();
    return true;
}

void esp_recv_readable(esp_link *k)
{
    while (k->state == ESP_L_OPEN) {
        if (k->kind == ESP_K_UDP) {
            if (!udp_read(k)) {
                if (k->rx_len && (TM_SOCK_RX_BUF - k->rx_len < 2048 || !k->passive))
                    set_paused(k, true);
                break;
            }
            continue;
        }
        size_t room = TM_SOCK_RX_BUF - k->rx_len;
        if (room == 0) {
            set_paused(k, true);
            break;
        }
        long n;
        if (k->fd >= 0) {
            ssize_t r = recv(k->fd, k->rx + k->rx_len, room, 0);
            if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
                n = TM_STREAM_AGAIN;
            else if (r < 0) {
                tm_fail(&k->why_gone, TM_E_NET, "receive from %s:%d: %s", k->rip, k->rport, strerror(errno));
                n = TM_STREAM_ERROR;
            } else
                n = r;
        } else {
            n = tm_stream_read(&k->st, k->rx + k->rx_len, room);
        }
        if (n > 0) {
            k->rx_len += (size_t)n;
            k->rx_total += (uint64_t)n;
            k->last_io_ms = tm_port_mono_ms();
            continue;
        }
        if (n == 0) {
            tm_reason r;
            tm_reason_clear(&r);
            if (k->fd < 0 && k->st.eof_unclean)
                tm_fail(&r, TM_E_PEER_CLOSED, "%s:%d closed the connection without TLS close_notify (the last "
                        "data may be cut short)", k->host, k->rport);
            esp_link_gone(k, r.code ? &r : NULL);
            return;
        }
        if (n == TM_STREAM_ERROR) {
            tm_reason r = k->fd >= 0 ? k->why_gone : k->st.reason;
            esp_link_gone(k, &r);
            return;
        }
        break;   /* AGAIN */
    }
    esp_recv_idle(NULL);
}

static void consume(esp_link *k, size_t n)
{
    memmove(k->rx, k->rx + n, k->rx_len - n);
    k->rx_len -= n;
    if (k->paused && k->rx_len < TM_SOCK_RX_BUF / 2) {
        set_paused(k, false);
        if (k->kind == ESP_K_UDP || k->fd < 0)
            esp_recv_readable(k);       /* the kernel may hold more already */
    }
}

/* Active mode: as much as the host's output takes, one +IPD at a time. */
static void push_active(esp_link *k)
{
    tm_at *at = g_sk.at;
    while (k->rx_len) {
        size_t n = k->rx_len < ipd_max() ? k->rx_len : ipd_max();
        if (tm_at_out_room(at) < n + 160)
            return;
        char hdr[160];
        int h;
        const char *ip = k->kind == ESP_K_UDP && k->sip[0] ? k->sip : k->rip;
        int port = k->kind == ESP_K_UDP && k->sip[0] ? k->sport : k->rport;
        if (g_sk.mux)
            h = snprintf(hdr, sizeof hdr, "\r\n+IPD,%d,%zu", k->id, n);
        else
            h = snprintf(hdr, sizeof hdr, "\r\n+IPD,%zu", n);
        if (g_sk.dinfo)
            h += snprintf(hdr + h, sizeof hdr - (size_t)h, ",\"%s\",%d", ip, port);
        hdr[h++] = ':';
        tm_at_write(at, hdr, (size_t)h);
        tm_at_write(at, k->rx, n);
        consume(k, n);
        if (k->kind == ESP_K_UDP && k->state == ESP_L_OPEN) {
            esp_recv_readable(k);       /* the next datagram */
            return;
        }
    }
}

static void say_closed(esp_link *k)
{
    char pre[8];
    esp_link_prefix(k, pre, sizeof pre);
    esp_link_free(k);
    tm_at_urc(g_sk.at, "%sCLOSED", pre);
}

static bool g_in_idle;

void esp_recv_idle(void *unused)
{
    (void)unused;
    tm_at *at = g_sk.at;
    if (!at || g_in_idle)
        return;
    g_in_idle = true;
    for (int i = 0; i < ESP_LINKS; i++) {
        esp_link *k = &g_sk.link[i];
        if (k->state != ESP_L_OPEN && k->state != ESP_L_GONE)
            continue;
        if (esp_send_transparent(k)) {      /* passthrough: raw bytes */
            size_t room = tm_at_out_room(at);
            size_t n = k->rx_len < room ? k->rx_len : room;
            if (n) {
                tm_at_write(at, k->rx, n);
                consume(k, n);
            }
            continue;
        }
        if (tm_at_busy(at) || tm_at_urc_queued(at))
            continue;                       /* never inside an answer; URCs first */
        if (k->passive) {
            if (k->rx_len && !k->ipd_told) {
                k->ipd_told = true;
                if (g_sk.mux)
                    tm_at_urc(at, "+IPD,%d,%zu", k->id, k->rx_len);
                else
                    tm_at_urc(at, "+IPD,%zu", k->rx_len);
            }
        } else {
            push_active(k);
        }
        if (k->state == ESP_L_GONE && k->rx_len == 0)
            say_closed(k);
    }
    g_in_idle = false;
}

/* ---- receive mode ---------------------------------------------------------------- */

tm_err esp_recvmode_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    tm_at_line(at, "+CIPRECVMODE:%d", g_sk.link[0].passive ? 1 : 0);
    return TM_OK;
}

tm_err esp_recvmode_set(tm_at *at, const tm_at_args *a)
{
    long v;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 1)) || (e = tm_at_get_int(at, a, 1, "mode", 0, 1, &v)))
        return e;
    if (v && g_sk.cipmode)
        return tm_fail(tm_at_reason(at), TM_E_STATE, "passive receive cannot be used in passthrough mode "
                       "(AT+CIPMODE=0 first)");
    for (int i = 0; i < ESP_LINKS; i++)
        g_sk.link[i].passive = v != 0;
    return TM_OK;
}

tm_err esp_recvtype_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    int n = g_sk.mux ? ESP_LINKS : 1;
    for (int i = 0; i < n; i++)
        tm_at_line(at, "+CIPRECVTYPE:%d,%d", i, g_sk.link[i].passive ? 1 : 0);
    return TM_OK;
}

tm_err esp_recvtype_set(tm_at *at, const tm_at_args *a)
{
    long id = 0, v, rep;
    int k = 1;
    tm_err e;
    if (g_sk.mux) {
        if ((e = tm_at_get_int(at, a, 1, "link ID", 0, ESP_LINKS, &id)))
            return e;
        k = 2;
    }
    if ((e = tm_at_max_args(at, a, k + 1)) || (e = tm_at_get_int(at, a, k, "mode", 0, 1, &v)) ||
        (e = tm_at_opt_int(at, a, k + 1, "data_len_report_mode", 0, 1, 0, &rep)))
        return e;
    if (v && g_sk.cipmode)
        return tm_fail(tm_at_reason(at), TM_E_STATE, "passive receive cannot be used in passthrough mode "
                       "(AT+CIPMODE=0 first)");
    if (rep)
        tm_trace("esp", "CIPRECVTYPE: data_len_report_mode 1 taken as 0 (lengths are the total buffered)");
    for (int i = id == ESP_LINKS ? 0 : (int)id; i <= (id == ESP_LINKS ? ESP_LINKS - 1 : (int)id); i++)
        g_sk.link[i].passive = v != 0;
    return TM_OK;
}

tm_err esp_recvlen_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    char line[128];
    int o = snprintf(line, sizeof line, "+CIPRECVLEN:");
    int n = g_sk.mux ? ESP_LINKS : 1;
    for (int i = 0; i < n; i++) {
        const esp_link *k = &g_sk.link[i];
        bool up = k->state == ESP_L_OPEN || (k->state == ESP_L_GONE && k->rx_len);
        o += snprintf(line + o, sizeof line - (size_t)o, "%s%ld", i ? "," : "", up ? (long)k->rx_len : -1L);
    }
    tm_at_line(at, "%s", line);
    return TM_OK;
}

/* ---- CIPRECVDATA ------------------------------------------------------------------- */

static struct {
    esp_link *k;
    size_t    want;
    unsigned  timer;
} g_rd;

void esp_recv_reset(void)
{
    if (g_rd.timer)
        tm_port_timer_cancel(g_rd.timer);
    memset(&g_rd, 0, sizeof g_rd);
}

static bool read_now(tm_at *at)
{
    esp_link *k = g_rd.k;
    size_t n = g_rd.want < k->rx_len ? g_rd.want : k->rx_len;
    if (tm_at_out_room(at) < n + 160)
        return false;
    char hdr[160];
    int h = snprintf(hdr, sizeof hdr, "+CIPRECVDATA:%zu,", n);
    if (g_sk.dinfo) {
        const char *ip = k->kind == ESP_K_UDP && k->sip[0] ? k->sip : k->rip;
        int port = k->kind == ESP_K_UDP && k->sip[0] ? k->sport : k->rport;
        h += snprintf(hdr + h, sizeof hdr - (size_t)h, "\"%s\",%d,", ip, port);
    }
    tm_at_write(at, hdr, (size_t)h);
    tm_at_write(at, k->rx, n);
    consume(k, n);
    k->ipd_told = false;                     /* announce again what is left (after OK: URC queue) */
    return true;
}

static void read_retry(void *arg)
{
    tm_at *at = arg;
    g_rd.timer = 0;
    if (!g_rd.k)
        return;
    if (read_now(at)) {
        g_rd.k = NULL;
        tm_at_complete(at, TM_OK);
        return;
    }
    g_rd.timer = tm_port_timer_add(5, read_retry, at);
}

tm_err esp_recvdata_set(tm_at *at, const tm_at_args *a)
{
    esp_link *k;
    int next;
    long len, keep;
    tm_err e;
    if ((e = esp_link_arg(at, a, 1, true, &k, &next)) || (e = tm_at_max_args(at, a, next + 1)) ||
        (e = tm_at_get_int(at, a, next, "len", 1, 0x7fffffffL, &len)) ||
        (e = tm_at_opt_int(at, a, next + 1, "keep_datagram_integrity", 0, 1, 0, &keep)))
        return e;
    if (!k->passive)
        return tm_fail(tm_at_reason(at), TM_E_STATE, "link %d is in active receive mode (data comes as "
                       "+IPD,...:<data>); AT+CIPRECVTYPE=%s1 or AT+CIPRECVMODE=1 first", k->id,
                       g_sk.mux ? "<link ID>," : "");
    if (k->rx_len == 0)
        return tm_fail(tm_at_reason(at), TM_E_STATE, "link %d has no data to read (%s)", k->id,
                       k->state == ESP_L_FREE ? "it is not connected" : "AT+CIPRECVLEN? shows the counts");
    g_rd.k = k;
    g_rd.want = (size_t)len;
    if (read_now(at)) {
        g_rd.k = NULL;
        return TM_OK;
    }
    g_rd.timer = tm_port_timer_add(5, read_retry, at);   /* host output full: wait for room */
    return TM_AT_PENDING;
}
