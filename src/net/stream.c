/* See stream.h. */
#include "net/stream.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/trace.h"
#include "net/dns.h"
#include "net/net.h"
#include "port/port.h"

static void io_cb(void *arg, int fd, unsigned revents);
static tm_err begin_connect(tm_stream *s, tm_reason *why);
static void dns_done(void *arg, tm_err result, const struct sockaddr_storage *addr, socklen_t len,
                     const tm_reason *why);

static bool owns_socket(const tm_stream *s)
{
    return s->state == TM_STREAM_RESOLVING || s->state == TM_STREAM_CONNECTING ||
           s->state == TM_STREAM_HANDSHAKE || s->state == TM_STREAM_OPEN;
}

static void update_watch(tm_stream *s)
{
    unsigned ev = 0;
    switch (s->state) {
    case TM_STREAM_CONNECTING:
        ev = TM_IO_WRITE;
        break;
    case TM_STREAM_HANDSHAKE:
        ev = s->hs_want == TM_TLS_WANT_WRITE ? TM_IO_WRITE : TM_IO_READ;
        break;
    case TM_STREAM_OPEN:
        if (s->want_read)
            ev |= TM_IO_READ;
        if (s->write_blocked)
            ev |= s->tls_write_wants_read ? TM_IO_READ : TM_IO_WRITE;
        if (s->tls_wants_write)
            ev |= TM_IO_WRITE;
        break;
    default:
        return;
    }
    tm_port_watch(s->fd, ev, io_cb, s);
}

static void release(tm_stream *s)
{
    if (s->timer)
        tm_port_timer_cancel(s->timer);
    if (s->pending_timer)
        tm_port_timer_cancel(s->pending_timer);
    s->timer = s->pending_timer = 0;
    tm_dns_cancel(s->dns);
    s->dns = 0;
    if (s->tls) {
        tm_tls_free(s->tls);
        s->tls = NULL;
    }
    if (s->fd >= 0) {
        tm_port_unwatch(s->fd);
        close(s->fd);
        s->fd = -1;
    }
}

/* Cleans up, then tells the owner (which may reuse the stream). */
static void fail(tm_stream *s)
{
    release(s);
    s->state = TM_STREAM_FAILED;
    char line[TM_DETAIL_MAX + 64];
    tm_trace("net", "%s:%u failed: %s", s->host, s->port, tm_reason_text(&s->reason, line, sizeof line));
    if (s->ev && s->ev->on_error)
        s->ev->on_error(s->arg, &s->reason);
}

static void opened(tm_stream *s)
{
    if (s->timer)
        tm_port_timer_cancel(s->timer);
    s->timer = 0;
    s->state = TM_STREAM_OPEN;
    s->tls_cfg.anchors = NULL;          /* borrowed only until now */
    s->tls_cfg.client_chain = NULL;
    s->tls_cfg.client_key.p = NULL;
    update_watch(s);
    if (s->ev && s->ev->on_open)
        s->ev->on_open(s->arg);
}

static void handshake_step(tm_stream *s)
{
    tm_reason why;
    tm_reason_clear(&why);
    tm_tls_status st = tm_tls_handshake(s->tls, &why);
    if (st == TM_TLS_OK) {
        tm_trace("net", "%s:%u TLS open after %lld ms", s->host, s->port,
                 (long long)(tm_port_mono_ms() - s->t_start));
        opened(s);
        return;
    }
    if (st == TM_TLS_WANT_READ || st == TM_TLS_WANT_WRITE) {
        s->hs_want = st;
        update_watch(s);
        return;
    }
    s->reason = why;
    if (s->reason.code == TM_OK)
        tm_fail(&s->reason, TM_E_TLS_HANDSHAKE, "TLS handshake with %s failed", s->host);
    fail(s);
}

static void connected(tm_stream *s)
{
    tm_reason why;
    tm_reason_clear(&why);
    if (tm_net_connect_result_addr(s->fd, &s->addr, s->host, s->port, &why) != TM_OK) {
        s->reason = why;
        fail(s);
        return;
    }
    char local[64];
    tm_net_local_ip(s->fd, local, sizeof local);
    tm_trace("net", "connected to %s:%u (%s) in %lld ms, local %s", s->host, s->port, s->addr_str,
             (long long)(tm_port_mono_ms() - s->t_start), local);
    if (!s->use_tls) {
        opened(s);
        return;
    }
    s->tls = tm_tls_new(&s->tls_cfg, s->fd, &why);
    if (!s->tls) {
        s->reason = why;
        fail(s);
        return;
    }
    s->state = TM_STREAM_HANDSHAKE;
    handshake_step(s);
}

/* tm_net_offline() without a descriptor: the connection fails like a refused one, later. */
static void offline_fail(void *arg)
{
    tm_stream *s = arg;
    s->timer = 0;
    tm_fail(&s->reason, TM_E_NET, "connect to %s:%u: network disabled (offline)", s->host, s->port);
    fail(s);
}

static void on_timeout(void *arg)
{
    tm_stream *s = arg;
    s->timer = 0;
    uint32_t ms = (uint32_t)(tm_port_mono_ms() - s->t_start);
    if (s->state == TM_STREAM_RESOLVING)
        tm_fail(&s->reason, TM_E_DNS, "cannot resolve '%s': no answer from the DNS within the connect "
                "timeout (%u ms)", s->host, ms);
    else if (s->state == TM_STREAM_CONNECTING)
        tm_fail(&s->reason, TM_E_CONNECT_TIMEOUT, "connect to %s (%s): no answer within %u ms",
                s->addr_str, s->host, ms);
    else if (s->state == TM_STREAM_HANDSHAKE)
        tm_fail(&s->reason, TM_E_TIMEOUT, "TLS handshake with %s (%s) not finished within %u ms",
                s->addr_str, s->host, ms);
    else
        return;
    fail(s);
}

static void on_pending(void *arg)
{
    tm_stream *s = arg;
    s->pending_timer = 0;
    if (s->state == TM_STREAM_OPEN && s->want_read && s->tls && tm_tls_pending(s->tls) > 0 &&
        s->ev && s->ev->on_readable)
        s->ev->on_readable(s->arg);
}

static void schedule_pending(tm_stream *s)
{
    if (!s->pending_timer && s->tls && tm_tls_pending(s->tls) > 0)
        s->pending_timer = tm_port_timer_add(0, on_pending, s);
}

static void io_cb(void *arg, int fd, unsigned revents)
{
    tm_stream *s = arg;
    switch (s->state) {
    case TM_STREAM_CONNECTING:
        connected(s);
        return;
    case TM_STREAM_HANDSHAKE:
        handshake_step(s);
        return;
    case TM_STREAM_OPEN:
        break;
    default:
        return;
    }
    bool writable = (revents & TM_IO_WRITE) != 0;
    bool readable = (revents & (TM_IO_READ | TM_IO_ERROR)) != 0;
    /* A blocked TLS write waiting for readability, or a read waiting for writability. */
    bool wake_writer = s->write_blocked && (s->tls_write_wants_read ? readable : writable);
    bool wake_reader = s->want_read && (readable || (s->tls_wants_write && writable));
    if (wake_writer) {
        s->write_blocked = false;
        s->tls_write_wants_read = false;
        update_watch(s);
    }
    if (s->tls_wants_write && writable) {
        s->tls_wants_write = false;
        update_watch(s);
    }
    if (wake_writer && s->ev && s->ev->on_writable) {
        s->ev->on_writable(s->arg);
        if (s->state != TM_STREAM_OPEN || s->fd != fd)
            return;
    }
    if (wake_reader && s->ev && s->ev->on_readable)
        s->ev->on_readable(s->arg);
}

tm_err tm_stream_open(tm_stream *s, const tm_stream_opts *opts, const tm_stream_events *ev, void *arg,
                      tm_reason *why)
{
    memset(s, 0, sizeof *s);
    s->fd = -1;
    s->state = TM_STREAM_IDLE;
    s->ev = ev;
    s->arg = arg;
    s->want_read = true;
    snprintf(s->host, sizeof s->host, "%s", opts->host);
    s->port = opts->port;
    s->use_tls = opts->use_tls && !opts->udp;
    s->udp = opts->udp;
    if (s->use_tls) {
        s->tls_cfg = opts->tls;
        s->tls_cfg.host = s->host;
        if (opts->tls.expected_name) {
            snprintf(s->expected, sizeof s->expected, "%s", opts->tls.expected_name);
            s->tls_cfg.expected_name = s->expected;
        }
    }
    s->t_start = tm_port_mono_ms();
    tm_reason_clear(&s->reason);
    tm_trace_progress_start(&s->rx_prog);
    tm_trace_progress_start(&s->tx_prog);
    snprintf(s->prog_label, sizeof s->prog_label, "%s:%u", s->host, (unsigned)s->port);

    if (tm_net_offline()) {
        /* The test seam (net.h): a descriptor standing for the server, or a
         * failure like a refused connect; either way later, from the loop. */
        s->state = TM_STREAM_CONNECTING;
        s->fd = tm_net_offline_connect(s->host, s->port, s->udp);
        s->use_tls = false;
        if (s->fd >= 0 && tm_port_watch(s->fd, TM_IO_WRITE, io_cb, s) == 0)
            return TM_OK;
        if (s->fd >= 0)
            close(s->fd);
        s->fd = -1;
        s->timer = tm_port_timer_add(0, offline_fail, s);
        if (!s->timer) {
            s->state = TM_STREAM_FAILED;
            return tm_fail(why, TM_E_INTERNAL, "the event loop has no room for another timer");
        }
        return TM_OK;
    }

    const tm_net_timeouts *dt = tm_net_timeouts_get();
    uint32_t to = opts->connect_timeout_ms ? opts->connect_timeout_ms : dt->connect_ms;
    int local = tm_net_resolve_local(s->host, s->port, &s->addr, &s->addr_len, why);
    if (local < 0) {
        s->state = TM_STREAM_FAILED;
        if (why)
            s->reason = *why;
        tm_trace("net", "%s:%u: %s", s->host, s->port, why ? why->detail : "");
        return TM_E_DNS;
    }
    if (local == 0) {
        /* A name for the system resolver: in the background, within both the
         * DNS timeout and the connect timeout (which covers everything). */
        uint32_t dto = dt->dns_ms < to ? dt->dns_ms : to;
        s->dns = tm_dns_start(s->host, s->port, dto, dns_done, s, why);
        if (!s->dns) {
            s->state = TM_STREAM_FAILED;
            if (why)
                s->reason = *why;
            return why && why->code ? why->code : TM_E_DNS;
        }
        s->state = TM_STREAM_RESOLVING;
        if (to != TM_TIMEOUT_NONE)
            s->timer = tm_port_timer_add(to, on_timeout, s);
        return TM_OK;
    }
    tm_err e = begin_connect(s, why);
    if (e != TM_OK)
        return e;
    if (to != TM_TIMEOUT_NONE)
        s->timer = tm_port_timer_add(to, on_timeout, s);
    return TM_OK;
}

/* Address known: the non-blocking connect.  Errors are returned (the
 * caller reports them). */
static tm_err begin_connect(tm_stream *s, tm_reason *why)
{
    tm_net_addr_str(&s->addr, s->addr_str, sizeof s->addr_str);
    tm_trace("net", "connecting to %s:%u (%s)%s", s->host, s->port, s->addr_str,
             s->use_tls ? " TLS" : s->udp ? " UDP" : "");
    tm_err e = s->udp ? tm_net_udp_start(&s->addr, s->addr_len, &s->fd, why)
               : tm_net_connect_start(&s->addr, s->addr_len, &s->fd, why);
    if (e != TM_OK) {
        s->fd = -1;
        s->state = TM_STREAM_FAILED;
        if (why) {
            if (!tm_net_is_ip_literal(s->host)) {
                char d[TM_DETAIL_MAX];
                snprintf(d, sizeof d, "%s", why->detail);
                /* "connect to 1.2.3.4:443: …" -> add the host name */
                const char *colon = strstr(d, ": ");
                if (colon && strncmp(d, "connect to ", 11) == 0)
                    snprintf(why->detail, sizeof why->detail, "%.*s (%s)%s", (int)(colon - d), d, s->host, colon);
            }
            s->reason = *why;
        }
        tm_trace("net", "%s:%u: %s", s->host, s->port, why ? why->detail : "");
        return e;
    }
    s->state = TM_STREAM_CONNECTING;
    if (tm_port_watch(s->fd, TM_IO_WRITE, io_cb, s) != 0) {
        close(s->fd);
        s->fd = -1;
        s->state = TM_STREAM_FAILED;
        return tm_fail(why, TM_E_INTERNAL, "the event loop has no room for another socket");
    }
    return TM_OK;
}

static void dns_done(void *arg, tm_err result, const struct sockaddr_storage *addr, socklen_t len,
                     const tm_reason *why)
{
    tm_stream *s = arg;
    s->dns = 0;
    if (s->state != TM_STREAM_RESOLVING)
        return;
    if (result != TM_OK || !addr) {
        s->reason = *why;
        fail(s);
        return;
    }
    s->addr = *addr;
    s->addr_len = len;
    tm_reason r;
    tm_reason_clear(&r);
    if (begin_connect(s, &r) != TM_OK) {
        s->reason = r;
        fail(s);
    }
}

static long rx_moved(tm_stream *s, long n)
{
    if (n > 0 && !s->progress_off)
        tm_trace_progress_add(&s->rx_prog, "net", s->prog_label, "received", (uint64_t)n);
    return n;
}

static long tx_moved(tm_stream *s, long n)
{
    if (n > 0 && !s->progress_off)
        tm_trace_progress_add(&s->tx_prog, "net", s->prog_label, "sent", (uint64_t)n);
    return n;
}

long tm_stream_read(tm_stream *s, void *buf, size_t cap)
{
    if (s->state != TM_STREAM_OPEN)
        return s->state == TM_STREAM_CLOSED ? 0 : TM_STREAM_ERROR;
    if (cap == 0)
        return TM_STREAM_AGAIN;
    if (!s->tls) {
        ssize_t n = recv(s->fd, buf, cap, 0);
        if (n > 0)
            return rx_moved(s, (long)n);
        if (n == 0 && s->udp)
            return TM_STREAM_AGAIN;        /* an empty datagram carries nothing */
        if (n == 0) {
            tm_trace("net", "%s:%u closed by the server", s->host, s->port);
            return 0;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return TM_STREAM_AGAIN;
        tm_fail(&s->reason, errno == ECONNRESET ? TM_E_PEER_CLOSED : TM_E_NET, "receive from %s (%s): %s",
                s->addr_str, s->host, strerror(errno));
        tm_trace("net", "%s:%u: %s", s->host, s->port, s->reason.detail);
        return TM_STREAM_ERROR;
    }
    size_t got = 0;
    tm_reason why;
    tm_reason_clear(&why);
    tm_tls_status st = tm_tls_read(s->tls, buf, cap, &got, &why);
    switch (st) {
    case TM_TLS_OK:
        schedule_pending(s);
        return rx_moved(s, (long)got);
    case TM_TLS_WANT_READ:
        return TM_STREAM_AGAIN;
    case TM_TLS_WANT_WRITE:
        s->tls_wants_write = true;
        update_watch(s);
        return TM_STREAM_AGAIN;
    case TM_TLS_CLOSED:
        tm_trace("net", "%s:%u closed by the server (TLS close_notify)", s->host, s->port);
        return 0;
    case TM_TLS_CLOSED_UNCLEAN:
        s->eof_unclean = true;
        tm_trace("net", "%s:%u closed by the server WITHOUT TLS close_notify", s->host, s->port);
        return 0;
    default:
        s->reason = why;
        return TM_STREAM_ERROR;
    }
}

long tm_stream_write(tm_stream *s, const void *buf, size_t len)
{
    if (s->state != TM_STREAM_OPEN) {
        if (s->reason.code == TM_OK)
            tm_fail(&s->reason, TM_E_STATE, "the connection to %s is not open", s->host);
        return TM_STREAM_ERROR;
    }
    if (len == 0)
        return 0;
    if (!s->tls) {
        ssize_t n = send(s->fd, buf, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                n = 0;
            else {
                tm_fail(&s->reason, errno == EPIPE || errno == ECONNRESET ? TM_E_PEER_CLOSED : TM_E_NET,
                        "send to %s (%s): %s", s->addr_str, s->host, strerror(errno));
                return TM_STREAM_ERROR;
            }
        }
        if ((size_t)n < len) {
            s->write_blocked = true;
            update_watch(s);
        }
        return tx_moved(s, (long)n);
    }
    size_t put = 0;
    tm_reason why;
    tm_reason_clear(&why);
    tm_tls_status st = tm_tls_write(s->tls, buf, len, &put, &why);
    switch (st) {
    case TM_TLS_OK:
        if (put < len) {
            s->write_blocked = true;
            update_watch(s);
        }
        return tx_moved(s, (long)put);
    case TM_TLS_WANT_WRITE:
    case TM_TLS_WANT_READ:
        s->write_blocked = true;
        s->tls_write_wants_read = st == TM_TLS_WANT_READ;
        update_watch(s);
        return 0;
    default:
        s->reason = why;
        return TM_STREAM_ERROR;
    }
}

void tm_stream_idle(tm_stream *s)
{
    if (s->state == TM_STREAM_OPEN && s->tls)
        tm_tls_release_buffers(s->tls);
}

void tm_stream_want_read(tm_stream *s, bool on)
{
    if (s->want_read == on)
        return;
    s->want_read = on;
    if (s->state != TM_STREAM_OPEN)
        return;
    update_watch(s);
    if (on)
        schedule_pending(s);
}

bool tm_stream_is_open(const tm_stream *s)
{
    return s->state == TM_STREAM_OPEN;
}

void tm_stream_close(tm_stream *s)
{
    if (!owns_socket(s))
        return;
    if (s->tls && s->state == TM_STREAM_OPEN)
        tm_tls_close_notify(s->tls);
    release(s);
    s->state = TM_STREAM_CLOSED;
    tm_trace("net", "%s:%u closed", s->host, s->port);
}
