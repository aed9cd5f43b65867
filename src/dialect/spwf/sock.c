/* tlsmodem — SPWF client sockets: AT+S.SOCKON, SOCKW, SOCKQ, SOCKR, SOCKC,
 * SOCKL and the indications +WIND:55 (Pending Data) / +WIND:58 (Socket
 * Closed).
 *
 * Decisions (docs/spwf.md):
 * - SOCKON=<host>,<port>,[<3rd>|NULL],<kind>: t TCP, s TLS (name checked =
 *   host), u UDP (a connected datagram socket: each SOCKW is one datagram,
 *   received datagrams are buffered like stream bytes), anything else TLS with that
 *   string as the name the certificate must carry.  SNI is always the host.
 * - Ids from 0, lowest free first, TM_SESSIONS_MAX at once.
 * - Received bytes wait in a TM_SOCK_RX_BUF buffer per socket; when it is
 *   full the socket is no longer read (the server waits), nothing is dropped.
 * - +WIND:55:Pending Data::<id>:<received>:<pending> once when data arrives;
 *   re-armed by SOCKQ/SOCKR on that socket.
 * - +WIND:58:Socket Closed:<id>:<0 peer closed | 1 error>; pending bytes can
 *   still be read; SOCKC frees the id.
 * - SOCKR=<id>[,<len>]: at most what is pending; the header says how many
 *   bytes follow: AT-S.Reading:<n>:<pending before>.
 * - A payload for a socket that cannot take it (bad id, closed) is still
 *   read (the announced count) and discarded, then the error is reported. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/trace.h"
#include "dialect/spwf/spwf.h"
#include "port/port.h"

struct spwf_sock {
    int         id;
    tm_at      *at;
    tm_stream   st;
    spwf_creds *creds;           /* TLS trust, until the handshake ended */
    bool        tls;
    bool        opening;
    bool        open;
    bool        closed;          /* by the peer or an error */
    int         close_reason;
    bool        paused;          /* rx full: socket not read */
    bool        wind_armed;
    char        host[TM_HOST_MAX];
    char        expected[TM_HOST_MAX];
    long        port;
    char        ip[64];
    uint64_t    rx_total, tx_total;
    /* Buffers exist only while they hold bytes (docs/architecture.md "Memory
     * per session"): rx (TM_SOCK_RX_BUF) from a readable socket to the SOCKR
     * that empties it, tx (TM_SOCK_TX_BUF) from SOCKW to the last byte sent. */
    uint8_t    *rx;
    size_t      rx_len;
    uint8_t    *tx;
    size_t      tx_len;
    /* SOCKW in progress */
    bool        writing;
    bool        w_failed;
    tm_reason   w_fail;
    /* SOCKR waiting for output room */
    unsigned    read_timer;
    size_t      read_want;
};

static void creds_drop(spwf_sock *k)
{
    if (k->creds) {
        spwf_creds_free(k->creds);
        free(k->creds);
        k->creds = NULL;
    }
}

static void sock_free(spwf_state *s, spwf_sock *k)
{
    if (k->read_timer)
        tm_port_timer_cancel(k->read_timer);
    tm_stream_close(&k->st);
    creds_drop(k);
    free(k->rx);
    free(k->tx);
    s->sock[k->id] = NULL;
    free(k);
}

/* The transmit buffer goes once it is empty and no SOCKW fills it. */
static void tx_trim(spwf_sock *k)
{
    if (k->tx && !k->tx_len && !k->writing) {
        free(k->tx);
        k->tx = NULL;
    }
}

void spwf_sock_close_all(spwf_state *s)
{
    for (int i = 0; i < TM_SESSIONS_MAX; i++)
        if (s->sock[i])
            sock_free(s, s->sock[i]);
}

static tm_err sock_arg(tm_at *at, const tm_at_args *a, int idx, spwf_sock **out)
{
    long id;
    tm_err e = tm_at_get_int(at, a, idx, "id", 0, 1000000, &id);
    if (e)
        return e;
    spwf_state *s = spwf_get(at);
    if (id >= TM_SESSIONS_MAX || !s->sock[id] || s->sock[id]->opening) {
        tm_at_reason(at)->arg_index = idx;
        return tm_fail(tm_at_reason(at), TM_E_BAD_SESSION, "no socket %ld is open (AT+S.SOCKL lists them; "
                       "AT+S.SOCKON opens one)", id);
    }
    *out = s->sock[id];
    return TM_OK;
}

/* ---- network events --------------------------------------------------------- */

static void pump_tx(spwf_sock *k)
{
    while (k->tx_len && k->open && !k->closed) {
        long n = tm_stream_write(&k->st, k->tx, k->tx_len);
        if (n == TM_STREAM_ERROR) {
            return;     /* on_error follows */
        }
        if (n <= 0)
            return;
        memmove(k->tx, k->tx + n, k->tx_len - (size_t)n);
        k->tx_len -= (size_t)n;
        k->tx_total += (uint64_t)n;
    }
    tx_trim(k);
}

static void mark_closed(spwf_sock *k, int reason, const tm_reason *why)
{
    if (k->closed)
        return;
    k->closed = true;
    k->close_reason = reason;
    if (why)
        spwf_trace_reason("socket closed", why);
    tm_trace("spwf", "socket %d: %s after %llu bytes received, %llu sent; %zu bytes still to read",
             k->id, reason ? "connection failed" : "closed by the server",
             (unsigned long long)k->rx_total, (unsigned long long)k->tx_total, k->rx_len);
    tm_stream_close(&k->st);
    if (k->writing && !k->w_failed) {
        k->w_failed = true;
        if (why)
            k->w_fail = *why;
        else
            tm_fail(&k->w_fail, TM_E_PEER_CLOSED, "socket %d was closed by the server", k->id);
    }
    spwf_wind(k->at, 58, "Socket Closed:%d:%d", k->id, reason);
}

static void ev_open(void *arg)
{
    spwf_sock *k = arg;
    k->opening = false;
    k->open = true;
    const char *a = k->st.addr_str;
    if (a[0] == '[') {
        const char *e = strchr(a, ']');
        snprintf(k->ip, sizeof k->ip, "%.*s", e ? (int)(e - a - 1) : 0, a + 1);
    } else {
        const char *c = strrchr(a, ':');
        snprintf(k->ip, sizeof k->ip, "%.*s", c ? (int)(c - a) : (int)strlen(a), a);
    }
    creds_drop(k);
    if (k->tls)
        tm_trace("spwf", "socket %d: %s", k->id, tm_tls_summary(k->st.tls));
    tm_at_line(k->at, "AT-S.On:%s:%d", k->ip, k->id);
    tm_at_complete(k->at, TM_OK);
}

static void rx_trim(spwf_sock *k)
{
    if (k->rx && !k->rx_len) {
        free(k->rx);
        k->rx = NULL;
    }
}

static void ev_readable(void *arg)
{
    spwf_sock *k = arg;
    size_t got = 0;
    if (!k->rx && !k->closed && !(k->rx = malloc(TM_SOCK_RX_BUF))) {
        if (!k->paused) {        /* backpressure: the server waits until memory is back (SOCKR retries) */
            k->paused = true;
            tm_stream_want_read(&k->st, false);
            tm_trace("spwf", "socket %d: no memory for the receive buffer: not reading", k->id);
        }
        return;
    }
    while (!k->closed) {
        if (k->rx_len == TM_SOCK_RX_BUF) {
            if (!k->paused) {
                k->paused = true;
                tm_stream_want_read(&k->st, false);
                tm_trace("spwf", "socket %d: %zu bytes pending, buffer full: not reading until SOCKR",
                         k->id, k->rx_len);
            }
            break;
        }
        long n = tm_stream_read(&k->st, k->rx + k->rx_len, TM_SOCK_RX_BUF - k->rx_len);
        if (n > 0) {
            k->rx_len += (size_t)n;
            k->rx_total += (uint64_t)n;
            got += (size_t)n;
            continue;
        }
        if (n == 0) {
            if (got && k->wind_armed && !spwf_wind_masked(k->at, 55)) {
                k->wind_armed = false;
                spwf_wind(k->at, 55, "Pending Data::%d:%zu:%zu", k->id, got, k->rx_len);
                got = 0;
            }
            if (k->st.eof_unclean) {    /* still +WIND:58 …:0 (closed by the server); the trace tells */
                tm_reason r;
                tm_fail(&r, TM_E_PEER_CLOSED, "socket %d: %s:%ld closed the connection without TLS "
                        "close_notify (the last data may be cut short)", k->id, k->host, k->port);
                mark_closed(k, 0, &r);
            } else {
                mark_closed(k, 0, NULL);
            }
            rx_trim(k);
            return;
        }
        if (n == TM_STREAM_ERROR) {
            tm_reason r = k->st.reason;
            mark_closed(k, 1, &r);
            rx_trim(k);
            return;
        }
        break;   /* AGAIN */
    }
    if (!k->closed)
        tm_stream_idle(&k->st);   /* all received bytes taken: no TLS record buffers held */
    rx_trim(k);
    if (got && k->wind_armed && !spwf_wind_masked(k->at, 55)) {
        k->wind_armed = false;
        spwf_wind(k->at, 55, "Pending Data::%d:%zu:%zu", k->id, got, k->rx_len);
    }
}

static void ev_writable(void *arg)
{
    pump_tx(arg);
}

static void ev_error(void *arg, const tm_reason *why)
{
    spwf_sock *k = arg;
    tm_at *at = k->at;
    if (k->opening) {
        spwf_state *s = spwf_get(at);
        *tm_at_reason(at) = *why;
        tm_err e = why->code ? why->code : TM_E_NET;
        tm_trace("spwf", "SOCKON %s:%ld failed", k->host, k->port);
        sock_free(s, k);
        tm_at_complete(at, e);
        return;
    }
    mark_closed(k, 1, why);
}

static const tm_stream_events sock_events = {
    .on_open = ev_open,
    .on_readable = ev_readable,
    .on_writable = ev_writable,
    .on_error = ev_error,
};

/* ---- SOCKON ---------------------------------------------------------------------- */

tm_err spwf_sockon_set(tm_at *at, const tm_at_args *a)
{
    spwf_state *s = spwf_get(at);
    tm_reason *why = tm_at_reason(at);
    char host[TM_HOST_MAX], kind[TM_HOST_MAX] = "t";
    long port;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 4)) || (e = tm_at_get_host(at, a, 1, "host", host, sizeof host)) ||
        (e = tm_at_get_int(at, a, 2, "port", 1, 65535, &port)) ||
        (e = tm_at_opt_str(at, a, 4, "kind", kind, sizeof kind, "t")))
        return e;
    if (!tm_at_omitted(a, 3)) {
        long v;
        if (tm_at_get_int(at, a, 3, "ip_version", 0, 65535, &v))
            return tm_fail(why, TM_E_ARG_BAD, "argument 3 \"%s\" must be empty or NULL (or a number)",
                               a->v[2].p);
    }
    if (spwf_radio_bss_lost())
        return tm_fail(why, TM_E_NET, "no network: the access point is lost (+WIND:33); wait for +WIND:24 "
                       "(WiFi Up)");
    bool tls, udp = false;
    char expected[TM_HOST_MAX] = "";
    if (!strcasecmp(kind, "t")) {
        tls = false;
    } else if (!strcasecmp(kind, "u")) {
        tls = false;
        udp = true;
    } else if (!strcasecmp(kind, "s")) {
        tls = true;
    } else {
        tls = true;
        for (const char *p = kind; *p; p++)
            if ((unsigned char)*p <= ' ' || *p == '/' || (unsigned char)*p >= 0x7f) {
                why->arg_index = 4;
                return tm_fail(why, TM_E_ARG_BAD, "argument 4 \"%s\" is not t, u, s or a certificate name "
                               "(no spaces or '/')", kind);
            }
        snprintf(expected, sizeof expected, "%s", kind);
    }
    int id = -1;
    for (int i = 0; i < TM_SESSIONS_MAX; i++)
        if (!s->sock[i]) {
            id = i;
            break;
        }
    if (id < 0)
        return tm_fail(why, TM_E_NO_SESSION_FREE, "all %d sockets are open; close one with AT+S.SOCKC",
                       TM_SESSIONS_MAX);
    spwf_sock *k = calloc(1, sizeof *k);
    if (!k)
        return tm_fail(why, TM_E_NO_MEMORY, "no memory for a socket");
    k->id = id;
    k->at = at;
    k->tls = tls;
    k->opening = true;
    k->wind_armed = true;
    k->port = port;
    snprintf(k->host, sizeof k->host, "%s", host);
    snprintf(k->expected, sizeof k->expected, "%s", expected);
    s->sock[id] = k;
    tm_stream_opts o;
    memset(&o, 0, sizeof o);
    snprintf(o.host, sizeof o.host, "%s", host);
    o.port = (uint16_t)port;
    o.use_tls = tls;
    o.udp = udp;
    if (tls) {
        if (!(k->creds = calloc(1, sizeof *k->creds))) {
            sock_free(s, k);
            return tm_fail(why, TM_E_NO_MEMORY, "no memory for the socket's trust store");
        }
        if ((e = spwf_creds_load(s, k->creds, true, why))) {
            sock_free(s, k);
            return e;
        }
        spwf_tls_config(s, k->creds, &o.tls, o.host, expected);
        tm_trace("spwf", "SOCKON %d: TLS to %s:%ld, SNI %s, certificate name checked: %s", id, host, port, host,
                 expected[0] ? expected : host);
    } else {
        tm_trace("spwf", "SOCKON %d: %s to %s:%ld", id, udp ? "UDP" : "TCP", host, port);
    }
    e = tm_stream_open(&k->st, &o, &sock_events, k, why);
    if (e) {
        sock_free(s, k);
        return e;
    }
    return TM_AT_PENDING;
}

/* ---- SOCKW ------------------------------------------------------------------------- */

static spwf_sock *g_writer;
static size_t     g_writer_count;   /* bytes announced by the running AT+S.SOCKW */

static size_t w_room(void *arg)
{
    spwf_sock *k = g_writer;
    (void)arg;
    if (!k || k->w_failed)
        return 1 << 20;   /* discarded */
    pump_tx(k);
    return TM_SOCK_TX_BUF - k->tx_len;   /* 0: the server is slow, not the host (no idle timeout) */
}

static void w_data(void *arg, const uint8_t *p, size_t n)
{
    spwf_sock *k = g_writer;
    (void)arg;
    if (!k || k->w_failed)
        return;
    size_t room = TM_SOCK_TX_BUF - k->tx_len;
    if (n > room)
        n = room;
    memcpy(k->tx + k->tx_len, p, n);
    k->tx_len += n;
    pump_tx(k);
}

static void w_end(void *arg, tm_at_data_end how, size_t total)
{
    tm_at *at = arg;
    spwf_sock *k = g_writer;
    g_writer = NULL;
    if (how == TM_AT_DATA_END_IDLE) {
        if (k) {
            k->writing = false;
            tx_trim(k);
        }
        tm_at_complete(at, tm_fail(tm_at_reason(at), TM_E_DATA_COUNT,
                                   "announced %zu bytes after AT+S.SOCKW, received %zu, then nothing for %d s "
                                   "(the payload follows the command's CR directly, every byte counts); "
                                   "the %zu bytes received were %s", g_writer_count, total,
                                   SPWF_DATA_IDLE_MS / 1000, total,
                                   k && k->tx_total + k->tx_len ? "sent" : "discarded"));
        return;
    }
    if (!k) {
        tm_at_complete(at, tm_fail(tm_at_reason(at), TM_E_BAD_SESSION, "the socket was closed during the "
                                   "write; %zu bytes discarded", total));
        return;
    }
    k->writing = false;
    tx_trim(k);
    if (k->w_failed) {
        *tm_at_reason(at) = k->w_fail;
        tm_reason_append(tm_at_reason(at), "socket %d: %zu bytes of the write were read and discarded",
                         k->id, total);
        tm_at_complete(at, k->w_fail.code ? k->w_fail.code : TM_E_PEER_CLOSED);
        return;
    }
    tm_trace("spwf", "socket %d: %zu bytes from the host (%zu still queued for the network)", k->id, total,
             k->tx_len);
    tm_at_complete(at, TM_OK);
}

tm_err spwf_sockw_set(tm_at *at, const tm_at_args *a)
{
    long count;
    spwf_sock *k = NULL;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 2)) || (e = spwf_count_arg(at, a, 2, 16 * 1024 * 1024, &count)))
        return e;
    tm_err pre = sock_arg(at, a, 1, &k);
    if (!pre && k->closed)
        pre = tm_fail(tm_at_reason(at), TM_E_PEER_CLOSED, "socket %d was closed %s; read what is pending "
                      "with AT+S.SOCKR and close it with AT+S.SOCKC", k->id,
                      k->close_reason ? "after an error" : "by the server");
    if (!pre && !k->tx && !(k->tx = malloc(TM_SOCK_TX_BUF)))
        pre = tm_fail(tm_at_reason(at), TM_E_NO_MEMORY, "no memory for the transmit buffer of socket %d", k->id);
    if (pre)
        return spwf_collect_start(at, count, pre, NULL);
    g_writer = k;
    g_writer_count = (size_t)count;
    k->writing = true;
    k->w_failed = false;
    tm_at_data_in spec = {
        .count = (size_t)count,
        .on_data = w_data,
        .on_end = w_end,
        .room = w_room,
        .arg = at,
        .idle_ms = SPWF_DATA_IDLE_MS,
    };
    tm_at_data_in_start(at, &spec);
    return TM_AT_PENDING;
}

/* ---- SOCKQ / SOCKR / SOCKC / SOCKL ------------------------------------------------------ */

tm_err spwf_sockq_set(tm_at *at, const tm_at_args *a)
{
    spwf_sock *k;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 1)) || (e = sock_arg(at, a, 1, &k)))
        return e;
    tm_at_line(at, "AT-S.Query:%zu", k->rx_len);
    k->wind_armed = true;
    return TM_OK;
}

static bool read_now(spwf_sock *k)
{
    tm_at *at = k->at;
    size_t n = k->read_want;
    if (n > k->rx_len)
        n = k->rx_len;
    if (tm_at_out_room(at) < n + 128)
        return false;
    tm_at_line(at, "AT-S.Reading:%zu:%zu", n, k->rx_len);
    if (n) {
        tm_at_write(at, k->rx, n);
        memmove(k->rx, k->rx + n, k->rx_len - n);
        k->rx_len -= n;
    }
    rx_trim(k);
    k->wind_armed = true;
    if (k->paused && !k->closed) {
        k->paused = false;
        tm_stream_want_read(&k->st, true);
    }
    return true;
}

static void read_retry(void *arg)
{
    spwf_sock *k = arg;
    k->read_timer = 0;
    if (read_now(k)) {
        tm_at_complete(k->at, TM_OK);
        return;
    }
    k->read_timer = tm_port_timer_add(5, read_retry, k);
}

tm_err spwf_sockr_set(tm_at *at, const tm_at_args *a)
{
    spwf_sock *k;
    long len;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 2)) || (e = sock_arg(at, a, 1, &k)) ||
        (e = tm_at_opt_int(at, a, 2, "length", 0, 16 * 1024 * 1024, 0, &len)))
        return e;
    k->read_want = len > 0 ? (size_t)len : k->rx_len;
    if ((size_t)len > k->rx_len)
        tm_trace("spwf", "socket %d: SOCKR asked for %ld bytes, %zu pending: giving %zu", k->id, len,
                 k->rx_len, k->rx_len);
    if (read_now(k))
        return TM_OK;
    k->read_timer = tm_port_timer_add(5, read_retry, k);   /* host output full: wait for room */
    return TM_AT_PENDING;
}

tm_err spwf_sockc_set(tm_at *at, const tm_at_args *a)
{
    spwf_sock *k;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 1)) || (e = sock_arg(at, a, 1, &k)))
        return e;
    tm_trace("spwf", "socket %d closed by the host (%llu bytes received, %llu sent, %zu unread discarded)",
             k->id, (unsigned long long)k->rx_total, (unsigned long long)k->tx_total, k->rx_len);
    sock_free(spwf_get(at), k);
    return TM_OK;
}

tm_err spwf_sockl_exec(tm_at *at, const tm_at_args *a)
{
    (void)a;
    spwf_state *s = spwf_get(at);
    for (int i = 0; i < TM_SESSIONS_MAX; i++) {
        spwf_sock *k = s->sock[i];
        if (!k || k->opening)
            continue;
        tm_at_line(at, "AT-S.Socket:%d:%s:%ld:%s:%s:%zu", k->id, k->ip, k->port,
                   k->tls ? "s" : "t", k->closed ? "closed" : "open", k->rx_len);
    }
    return TM_OK;
}

/* The +WIND masks were lowered (AT+S.SCFG=console_wind_off_*): data that
 * arrived while +WIND:55 was masked is announced now, so a host that masks
 * the indications around its reads (the mbed driver) still learns of it. */
void spwf_sock_winds_unmasked(spwf_state *s)
{
    for (int i = 0; i < TM_SESSIONS_MAX; i++) {
        spwf_sock *k = s->sock[i];
        if (k && k->wind_armed && k->rx_len && !spwf_wind_masked(k->at, 55)) {
            k->wind_armed = false;
            spwf_wind(k->at, 55, "Pending Data::%d:%zu:%zu", k->id, k->rx_len, k->rx_len);
        }
    }
}

/* The control channel's network events (sim.c): the connection is gone as
 * after a reset: +WIND:58:Socket Closed:<id>:1; unread bytes stay readable. */
bool spwf_sock_net_lost(spwf_state *s, int id, const tm_reason *why)
{
    if (id < 0 || id >= TM_SESSIONS_MAX || !s->sock[id])
        return false;
    spwf_sock *k = s->sock[id];
    if (k->closed || (!k->open && !k->opening))
        return false;
    if (k->opening)
        return false;           /* SOCKON still running: not simulated yet */
    mark_closed(k, 1, why);
    return true;
}
