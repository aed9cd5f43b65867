/* tlsmodem — HL UDP sessions: AT+KUDPCFG, KUDPSND, KUDPRCV, KUDPCLOSE,
 * KUDPDEL and the URCs +KUDP_IND, +KUDP_DATA, +KUDP_NOTIF (docs/hl.md "UDP").
 *
 * Decisions:
 * - AT+KUDPCFG=[<cnx_cnf>],<mode>[,[<port>][,[<data_mode>]…]] -> "+KUDPCFG:
 *   <id>", OK, then "+KUDP_IND: <id>,1" (the session exists).  Trailing
 *   arguments per model, never reinterpreted: HL8548 stops after
 *   <data_mode> (4 arguments); HL78xx takes 8 (the Zephyr hl78xx driver
 *   sends "1,0,,<urc>,,,<af>,0"): positions 5, 6 and 8 must be empty or 0,
 *   7 is <af> (0 IPv4, 1 IPv6).  <mode> 0 (client) only; 1 (server) -> 4.
 *   <port> (local) is accepted and ignored (the OS chooses).  <data_mode>
 *   0 only (announce with +KUDP_DATA, read with KUDPRCV); 1 and 2 (data
 *   inside the URC) -> 4 with the reason.
 * - AT+KUDPSND=<id>,"<host>",<port>,<ndata> (1..TM_UDP_DGRAM_MAX): CONNECT,
 *   the host sends <ndata> bytes and the EOF pattern (or +++); the bytes
 *   are one datagram, sent when their number equals <ndata> (else nothing,
 *   +CME ERROR 916).  The session's socket is connected to the destination
 *   of the send (a new destination reconnects it); OK once the datagram is
 *   handed to the socket.  A destination that does not resolve: +CME ERROR
 *   with the reason and "+KUDP_NOTIF: <id>,3".
 * - Datagrams from the destination are buffered (TM_SOCK_RX_BUF bytes; when
 *   full the socket is not read) and announced with "+KUDP_DATA: <id>,<n>"
 *   when the buffer goes from empty to non-empty and after a KUDPRCV that
 *   leaves bytes; AT+KUDPRCV=<id>,<ndata>: CONNECT, up to <ndata> bytes,
 *   the EOF pattern, OK — datagram boundaries are not kept.  Nothing
 *   buffered: +CME ERROR 922 (never a 0-byte CONNECT…EOF).
 * - AT+KUDPCLOSE=<id>[,<keep_cfg>]: closes the socket; keep_cfg 0 (default)
 *   also deletes the session, 1 keeps it.  AT+KUDPDEL=<id> deletes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/trace.h"
#include "dialect/hl/hl.h"
#include "port/port.h"

#define TM_UDP_DGRAM_MAX 4096

struct hl_udp {
    hl_session *ss;
    tm_at      *at;
    hl_state   *s;
    long        mode, af;
    tm_stream   st;
    bool        opening;
    char        dst[TM_HOST_MAX];
    long        dst_port;
    /* the running KUDPSND / KUDPRCV */
    bool        sending;          /* a KUDPSND runs */
    bool        data_done;        /* … and its datagram is complete */
    size_t      snd_expected, staged;
    size_t      rcv_left;
    unsigned    done_timer, pump_timer;
    tm_err      done_err;
    /* received bytes */
    size_t      rx_head, rx_len;
    bool        announced;
    uint8_t     tx[TM_UDP_DGRAM_MAX];
    uint8_t     rx[TM_SOCK_RX_BUF];
};

static void done_cb(void *arg)
{
    hl_udp *u = arg;
    u->done_timer = 0;
    tm_at_complete(u->at, u->done_err);
}

static void finish_later(hl_udp *u, tm_err e)
{
    u->done_err = e;
    if (!u->done_timer)
        u->done_timer = tm_port_timer_add(0, done_cb, u);
    if (!u->done_timer)
        tm_at_complete(u->at, e);
}

static void announce(hl_udp *u)
{
    if (u->rx_len && !u->announced) {
        u->announced = true;
        tm_at_urc(u->at, "+KUDP_DATA: %d,%zu", u->ss->id, u->rx_len);
    }
}

static void ev_readable(void *arg)
{
    hl_udp *u = arg;
    uint8_t d[2048];
    for (;;) {
        size_t room = TM_SOCK_RX_BUF - u->rx_len;
        if (room < sizeof d) {
            tm_stream_want_read(&u->st, false);      /* the kernel keeps (or drops) datagrams */
            break;
        }
        long n = tm_stream_read(&u->st, d, sizeof d);
        if (n <= 0)
            break;
        for (long i = 0; i < n; i++)
            u->rx[(u->rx_head + u->rx_len + (size_t)i) % TM_SOCK_RX_BUF] = d[i];
        u->rx_len += (size_t)n;
    }
    if (!u->sending && !u->rcv_left)
        announce(u);
}

static void send_staged(hl_udp *u)
{
    long n = tm_stream_write(&u->st, u->tx, u->staged);
    tm_reason *why = tm_at_reason(u->at);
    u->sending = false;
    if (n != (long)u->staged) {
        *why = u->st.reason;
        if (why->code == TM_OK)
            tm_fail(why, TM_E_NET, "the datagram to %s:%ld could not be sent", u->dst, u->dst_port);
        finish_later(u, why->code);
        return;
    }
    tm_trace("hl", "UDP session %d: %zu-byte datagram to %s:%ld", u->ss->id, u->staged, u->dst, u->dst_port);
    u->staged = 0;
    finish_later(u, TM_OK);
    announce(u);
}

static void ev_open(void *arg)
{
    hl_udp *u = arg;
    u->opening = false;
    tm_stream_want_read(&u->st, true);
    if (u->sending && u->data_done)
        send_staged(u);
}

static void ev_error(void *arg, const tm_reason *why)
{
    hl_udp *u = arg;
    u->opening = false;
    tm_stream_close(&u->st);
    hl_report_failure(u->at, "+KUDP_NOTIF", u->ss->id, why, false);
    u->dst[0] = '\0';
    if (u->sending && u->data_done) {
        u->sending = false;
        *tm_at_reason(u->at) = *why;
        tm_reason_append(tm_at_reason(u->at), "the datagram was not sent");
        finish_later(u, why->code);
    }
}

bool hl_udp_net_lost(hl_session *ss, const tm_reason *why)
{
    hl_udp *u = ss->udp;
    if (!u || (!u->opening && !tm_stream_is_open(&u->st)))
        return false;
    ev_error(u, why);              /* +KUDP_NOTIF; a complete datagram waiting to go fails */
    return true;
}

static const tm_stream_events udp_events = {
    .on_open = ev_open, .on_readable = ev_readable, .on_error = ev_error,
};

void hl_udp_free(hl_session *ss)
{
    hl_udp *u = ss->udp;
    if (!u)
        return;
    if (u->done_timer)
        tm_port_timer_cancel(u->done_timer);
    if (u->pump_timer)
        tm_port_timer_cancel(u->pump_timer);
    tm_stream_close(&u->st);
    free(u);
    ss->udp = NULL;
}

static tm_err udp_arg(tm_at *at, const tm_at_args *a, int max, hl_udp **out)
{
    hl_session *ss;
    tm_err e;
    if ((e = tm_at_max_args(at, a, max)) || (e = hl_session_arg(at, a, 1, HL_SESS_UDP, &ss)))
        return e;
    *out = ss->udp;
    return TM_OK;
}

/* ---- AT+KUDPCFG ----------------------------------------------------------------------- */

tm_err hl_kudpcfg_set(tm_at *at, const tm_at_args *a)
{
    hl_state *s = hl_get(at);
    tm_reason *why = tm_at_reason(at);
    const hl_model *mdl = s->model;
    long cnx, mode, port, dmode, af = 0, r5 = 0, r6 = 0, r8 = 0;
    int max = mdl->hl78 ? 8 : 4;
    tm_err e;
    if (a->count > max) {
        why->arg_index = max + 1;
        return tm_fail(why, TM_E_ARG_TOO_MANY, "%d arguments; the %s's AT+KUDPCFG takes at most %d%s",
                       a->count, mdl->cgmm, max, mdl->hl78 ? "" : " (an 8-argument form is the HL78xx "
                       "list: start tlsmodem with --model hl7800)");
    }
    if ((e = tm_at_opt_int(at, a, 1, "cnx_cnf", 0, HL_CNX_MAX - 1, s->cnx_profile, &cnx)) ||
        (e = tm_at_get_int(at, a, 2, "mode", 0, 1, &mode)) ||
        (e = tm_at_opt_int(at, a, 3, "port", 0, 65535, 0, &port)) ||
        (e = tm_at_opt_int(at, a, 4, "data_mode", 0, 2, 0, &dmode)))
        return e;
    if (mdl->hl78 &&
        ((e = tm_at_opt_int(at, a, 5, "reserved (5)", 0, 0, 0, &r5)) ||
         (e = tm_at_opt_int(at, a, 6, "reserved (6)", 0, 0, 0, &r6)) ||
         (e = tm_at_opt_int(at, a, 7, "af", 0, 1, 0, &af)) ||
         (e = tm_at_opt_int(at, a, 8, "reserved (8)", 0, 0, 0, &r8))))
        return e;
    if (mode == 1) {
        why->arg_index = 2;
        return tm_fail(why, TM_E_NOT_SUPPORTED, "mode 1 (UDP server) is not supported; use 0 (client)");
    }
    if (dmode != 0) {
        why->arg_index = 4;
        return tm_fail(why, TM_E_NOT_SUPPORTED, "data_mode %ld (data inside the URC) is not supported; use 0 "
                       "(+KUDP_DATA announces, AT+KUDPRCV reads)", dmode);
    }
    hl_session *ss = hl_session_alloc(s, HL_SESS_UDP);
    if (!ss)
        return tm_fail(why, TM_E_NO_SESSION_FREE, "all %d sessions are in use; delete one with AT+KUDPDEL, "
                       "AT+KTCPDEL or AT+KHTTPSDEL", TM_SESSIONS_MAX);
    hl_udp *u = calloc(1, sizeof *u);
    if (!u) {
        hl_session_free(s, ss);
        return tm_fail(why, TM_E_NO_MEMORY, "no memory for a UDP session");
    }
    ss->udp = u;
    ss->cnx = (int)cnx;
    u->ss = ss;
    u->at = at;
    u->s = s;
    u->mode = mode;
    u->af = af;
    u->st.fd = -1;
    tm_at_line(at, "+KUDPCFG: %d", ss->id);
    tm_at_urc(at, "+KUDP_IND: %d,1", ss->id);
    if (port)
        tm_trace("hl", "UDP session %d: local port %ld ignored (the OS chooses)", ss->id, port);
    return TM_OK;
}

tm_err hl_kudpcfg_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    hl_state *s = hl_get(at);
    for (int i = 0; i < TM_SESSIONS_MAX; i++) {
        hl_session *ss = &s->sess[i];
        if (ss->kind == HL_SESS_UDP && ss->udp)
            tm_at_line(at, "+KUDPCFG: %d,%d,%ld,0,0", ss->id, ss->cnx, ss->udp->mode);
    }
    return TM_OK;
}

/* ---- AT+KUDPSND ------------------------------------------------------------------------ */

static size_t snd_room(void *arg)
{
    (void)arg;
    return TM_UDP_DGRAM_MAX;
}

static void snd_data(void *arg, const uint8_t *p, size_t n)
{
    hl_udp *u = arg;
    size_t want = u->snd_expected > u->staged ? u->snd_expected - u->staged : 0;
    if (n > want)
        n = want;                                  /* beyond the count: only counted */
    memcpy(u->tx + u->staged, p, n);
    u->staged += n;
}

static void snd_end(void *arg, tm_at_data_end how, size_t total)
{
    hl_udp *u = arg;
    tm_at *at = u->at;
    tm_reason *why = tm_at_reason(at);
    if (how == TM_AT_DATA_END_MANGLED || total != u->snd_expected) {
        u->sending = false;
        u->staged = 0;
        if (how == TM_AT_DATA_END_MANGLED)
            tm_fail(why, TM_E_DATA_PATTERN_MANGLED, "the data ended with a look-alike of the EOF pattern; "
                    "it is %s in plain ASCII; nothing was sent", tm_at_pattern(at));
        else
            tm_fail(why, TM_E_DATA_COUNT, "announced %zu bytes, received %zu; nothing was sent",
                    u->snd_expected, total);
        finish_later(u, why->code);
        return;
    }
    u->data_done = true;
    if (tm_stream_is_open(&u->st))
        send_staged(u);
    else if (!u->opening) {
        /* the socket went away while the host sent the data (hl_udp_net_lost) */
        u->sending = false;
        u->staged = 0;
        tm_fail(why, TM_E_NET, "the session's socket was closed by the network while the data came; "
                "the datagram was not sent");
        finish_later(u, why->code);
    }
    /* else: ev_open sends it (or ev_error reports) */
}

tm_err hl_kudpsnd_set(tm_at *at, const tm_at_args *a)
{
    hl_udp *u;
    char host[TM_HOST_MAX];
    long port, n;
    tm_err e;
    if ((e = udp_arg(at, a, 4, &u)) ||
        (e = tm_at_get_host(at, a, 2, "udp_remote_address", host, sizeof host)) ||
        (e = tm_at_get_int(at, a, 3, "udp_port", 1, 65535, &port)) ||
        (e = tm_at_get_int(at, a, 4, "ndata", 1, TM_UDP_DGRAM_MAX, &n)))
        return e;
    bool same = !strcmp(host, u->dst) && port == u->dst_port && (tm_stream_is_open(&u->st) || u->opening);
    if (!same && (e = hl_net_usable(at)))          /* no coverage, denied, detached */
        return e;
    if (!same) {                                   /* (re)connect the socket to this destination */
        tm_stream_close(&u->st);
        snprintf(u->dst, sizeof u->dst, "%s", host);
        u->dst_port = port;
        u->rx_len = u->rx_head = 0;
        u->announced = false;
        tm_stream_opts o;
        memset(&o, 0, sizeof o);
        snprintf(o.host, sizeof o.host, "%s", host);
        o.port = (uint16_t)port;
        o.udp = true;
        tm_reason why;
        tm_reason_clear(&why);
        u->opening = true;
        if (tm_stream_open(&u->st, &o, &udp_events, u, &why) != TM_OK) {
            u->opening = false;
            u->dst[0] = '\0';
            if (why.code == TM_OK)
                tm_fail(&why, TM_E_NET, "cannot send to %s:%ld", host, port);
            hl_report_failure(at, "+KUDP_NOTIF", u->ss->id, &why, false);
            *tm_at_reason(at) = why;
            return why.code;
        }
    }
    u->data_done = false;
    u->sending = true;
    u->snd_expected = (size_t)n;
    u->staged = 0;
    tm_at_v250_result(at, "CONNECT", 1);
    tm_at_data_in spec = {
        .count = 0, .pattern = true, .escape = true,
        .on_data = snd_data, .on_end = snd_end, .room = snd_room, .arg = u,
    };
    tm_at_data_in_start(at, &spec);
    return TM_AT_PENDING;
}

/* ---- AT+KUDPRCV ------------------------------------------------------------------------ */

static void rcv_pump(void *arg)
{
    hl_udp *u = arg;
    u->pump_timer = 0;
    tm_at *at = u->at;
    while (u->rcv_left) {
        size_t room = tm_at_out_room(at);
        if (!room) {
            u->pump_timer = tm_port_timer_add(1, rcv_pump, u);
            return;
        }
        size_t n = TM_SOCK_RX_BUF - u->rx_head;
        if (n > u->rx_len) n = u->rx_len;
        if (n > u->rcv_left) n = u->rcv_left;
        if (n > room) n = room;
        tm_at_write(at, u->rx + u->rx_head, n);
        u->rx_head = (u->rx_head + n) % TM_SOCK_RX_BUF;
        u->rx_len -= n;
        u->rcv_left -= n;
    }
    const char *pat = tm_at_pattern(at);
    tm_at_write(at, pat, strlen(pat));
    if (u->rx_len == 0)
        u->rx_head = 0;
    u->announced = false;
    if (tm_stream_is_open(&u->st) && !u->st.want_read)
        tm_stream_want_read(&u->st, true);
    finish_later(u, TM_OK);
    announce(u);                                   /* queued: follows the OK */
}

tm_err hl_kudprcv_set(tm_at *at, const tm_at_args *a)
{
    hl_udp *u;
    long n;
    tm_err e;
    if ((e = udp_arg(at, a, 2, &u)) || (e = tm_at_get_int(at, a, 2, "ndata", 1, TM_SOCK_RX_BUF, &n)))
        return e;
    if (u->rx_len == 0)
        return tm_fail(tm_at_reason(at), TM_E_STATE, "AT+KUDPRCV: no datagram is buffered for session %d "
                       "(wait for +KUDP_DATA)", u->ss->id);
    u->rcv_left = (size_t)n < u->rx_len ? (size_t)n : u->rx_len;
    tm_at_v250_result(at, "CONNECT", 1);
    rcv_pump(u);
    return TM_AT_PENDING;
}

/* ---- AT+KUDPCLOSE, KUDPDEL ------------------------------------------------------------- */

tm_err hl_kudpclose_set(tm_at *at, const tm_at_args *a)
{
    hl_udp *u;
    long keep;
    tm_err e;
    if ((e = udp_arg(at, a, 2, &u)) || (e = tm_at_opt_int(at, a, 2, "keep_cfg", 0, 1, 0, &keep)))
        return e;
    tm_stream_close(&u->st);
    u->rx_len = u->rx_head = 0;
    u->dst[0] = '\0';
    if (!keep)
        hl_session_free(hl_get(at), u->ss);
    return TM_OK;
}

tm_err hl_kudpdel_set(tm_at *at, const tm_at_args *a)
{
    hl_udp *u;
    tm_err e;
    if ((e = udp_arg(at, a, 1, &u)))
        return e;
    hl_session_free(hl_get(at), u->ss);
    return TM_OK;
}
