/* tlsmodem — HL TCP and TLS sockets: AT+KTCPCFG, KTCPCNX, KTCPSND, KTCPRCV,
 * KTCPSTART / ATO<id>, KTCPSTAT, KTCPCLOSE, KTCPDEL and the URCs +KTCP_IND,
 * +KTCP_DATA, +KTCP_NOTIF.
 *
 * Decisions (docs/hl.md):
 * - AT+KTCPCFG=[<cnx_cnf>],<mode>,"<remote_host>",<remote_port>[,[<source_port>]
 *   [,[<data_mode>][,[<URC_ENDTCP>][,<model's trailing arguments>]]]] -> "+KTCPCFG: <id>", OK.
 *   Trailing arguments by model (ktcpcfg_model_args): HL8548 <cipher_suite>
 *   (0),<sec_level> (0 encrypt only — announced, 1 verify the server
 *   (default), 2 verify and present local certificate 0 + private key 0 when
 *   asked; sec_level 0 only with <cipher_suite> empty: "…,0,0" is also the
 *   HL78 shape that verifies); HL78xx <af> (0 IPv4, 1 IPv6),<cipher_suite_index> (the
 *   AT+KSSLCRYPTO profile whose auth_mode gives the verification, default
 *   0 = verify),<expand> (0).  More arguments than the model has: 915 with
 *   the model's list, never reinterpreted.
 *   mode 0 = TCP client, 3 = TLS client; modes 1, 2, 4 (servers) answer
 *   +CME ERROR 4 (TM_E_NOT_SUPPORTED) with the reason.  <cnx_cnf> defaults
 *   to AT+KCNXPROFILE.  SNI and the name check use <remote_host>.
 *   With mode 0 a sec_level is accepted and ignored (trace).  <source_port>
 *   is accepted and ignored (the OS picks the port; trace).  <data_mode> 1
 *   (data inside +KTCP_DATA) and <URC_ENDTCP> 1 (+KTCP_ACK) are refused with
 *   +CME ERROR 4: a host waiting for them would wait forever.  The session id
 *   comes from the shared HL pool (none free -> +CME ERROR 912).
 * - AT+KTCPCFG? -> per TCP session "+KTCPCFG: <id>,<status>,<cnx_cnf>,<mode>,
 *   "<host>",<port>,<source_port>,<data_mode>,<URC_ENDTCP>,<trailing...>"
 *   (HL8548 <cipher_suite>,<sec_level>; HL78xx <af>,<cipher_suite_index>).
 * - <status> (KTCPCFG?, KTCPSTAT): 1 defined not used, 2 opening, 3 connected,
 *   4 closing (KTCPCLOSE waiting for sent data), 5 closed (by KTCPCLOSE, by
 *   the peer, or a failed connection).  0 never shows: an unknown id is
 *   +CME ERROR 910.
 * - AT+KTCPCNX=<id> (status 1 or 5; else 911 "busy") answers OK at once;
 *   "+KTCP_IND: <id>,1" follows when TCP is connected and, for mode 3, the
 *   TLS handshake and verification succeeded.  Any failure (DNS, refused,
 *   timeout, TLS, certificate) is "+KTCP_NOTIF: <id>,<code>" (codes as
 *   Sierra: 3 DNS, 5 connection, 12 timeout/no common TLS parameters,
 *   13 TLS/certificate, 14 TLS set-up), with the reason as a third quoted
 *   field at AT+CMEE=2; the session is then closed (status 5) and may be
 *   connected again.  sec_level 0 prints "+TMWARN: ..." (CMEE=2) and traces
 *   "NOT VERIFIED".  A new connection discards bytes left from the last one.
 * - Received bytes wait in a per-session ring of TM_SOCK_RX_BUF bytes; when
 *   it is full the socket is not read (the server waits, nothing is dropped).
 *   "+KTCP_DATA: <id>,<bytes_available>" is sent when the ring goes from
 *   empty to non-empty, and after a KTCPRCV that leaves bytes behind.
 * - AT+KTCPRCV=<id>,<ndata> (ndata 1..32768): "CONNECT", then
 *   min(ndata, bytes buffered when the command ran) bytes, the EOF pattern,
 *   OK.  Connected with nothing buffered: CONNECT, the pattern, OK (0
 *   bytes).  End of stream (the connection is closed — by the peer, a
 *   failure or KTCPCLOSE — and every received byte was read): +CME ERROR
 *   922 with the reason, never a 0-byte CONNECT.  Before the session was
 *   ever connected: 922.
 *   Bytes go out as the host output has room (never dropped).
 * - AT+KTCPSND=<id>,<ndata> (ndata 1..32768, status 3 else 922): "CONNECT",
 *   then the host sends the bytes and ends them with the EOF pattern (or
 *   +++ with guard times).  KTCPSND is all or nothing: the bytes are held
 *   until the end and sent only if their number equals <ndata>; otherwise
 *   nothing is sent, "+KTCP_NOTIF: <id>,8" and +CME ERROR 916 ("announced
 *   5 bytes, received 7").  A mangled EOF pattern (typographic dashes) sends
 *   nothing and answers 916 with the pattern to use.  OK comes once every
 *   byte is handed to the socket.  If the connection fails meanwhile: the
 *   +KTCP_NOTIF of the failure and an error result.
 * - AT+KTCPSTART=<id> (status 3): "CONNECT", transparent mode: host bytes go
 *   to the socket (only +++ with guard times ends it; no EOF pattern),
 *   socket bytes go to the host raw as they arrive (paced by the host
 *   output buffer).  "+++" -> OK, the session stays connected ("suspended");
 *   ATO<id> -> CONNECT and transparent again (buffered bytes first).  While
 *   suspended the session behaves like any other: +KTCP_DATA, KTCPRCV and
 *   KTCPSND work.  Several sessions may be suspended; ATO names the one.
 *   ATO on a session not started with KTCPSTART: 922.  The peer closing
 *   during transparent mode: the buffered bytes, then "NO CARRIER", command
 *   mode, "+KTCP_NOTIF: <id>,4".
 * - The peer closing (or a receive error) outside transparent mode:
 *   "+KTCP_NOTIF: <id>,4" (5 for other network errors), status 5; the bytes
 *   still buffered can be read with KTCPRCV.  Unsent bytes are discarded.
 * - AT+KTCPSTAT=<id> -> "+KTCPSTAT: <status>,<tcp_notif>,<rem_data>,<rcv_data>":
 *   tcp_notif = the last +KTCP_NOTIF code of the session (-1 none, reset by
 *   KTCPCNX), rem_data = bytes accepted from the host not yet handed to the
 *   socket, rcv_data = bytes buffered for KTCPRCV.
 * - AT+KTCPCLOSE=<id>[,<closing_type>]: 1 (default) waits until unsent bytes
 *   are handed to the socket (at most 10 s), 0 discards them; then the
 *   connection is closed (TLS close_notify) and unread bytes are discarded;
 *   OK.  Closing a session that is not connected (status 1 or 5) is OK
 *   (nothing to do); an opening connection is abandoned.
 * - AT+KTCPDEL=<id>: only when not connected (status 1 or 5), else 911 with
 *   "close it first"; frees the id.
 * - Errors leave the session unchanged: unknown id 910, missing argument 917,
 *   bad/out-of-range argument 916, too many 915, wrong state 922, busy 911.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/trace.h"
#include "dialect/hl/hl.h"
#include "port/port.h"

enum { ST_DEFINED = 1, ST_OPENING = 2, ST_CONNECTED = 3, ST_CLOSING = 4, ST_CLOSED = 5 };

enum {
    OP_NONE,
    OP_SND_DATA,      /* KTCPSND: the host is sending */
    OP_SND_DRAIN,     /* KTCPSND: data complete, handing it to the socket */
    OP_RCV,           /* KTCPRCV: bytes going to the host */
    OP_TRANSPARENT,   /* KTCPSTART / ATO: in transparent data mode */
    OP_CLOSE_DRAIN,   /* KTCPCLOSE=<id>,1: waiting for unsent bytes */
};

#define CLOSE_DRAIN_MS 10000

struct hl_tcp {
    hl_session *ss;
    tm_at      *at;
    hl_state   *s;
    /* configuration */
    long        mode;
    char        host[TM_HOST_MAX];
    long        port;
    long        src_port;
    long        data_mode;
    long        urc_endtcp;
    long        sec_level;        /* HL8548: from KTCPCFG; HL78xx: from the profile at KTCPCNX */
    long        cipher;           /* HL8548 <cipher_suite> (0 only) */
    long        af;               /* HL78xx <af> 0 IPv4, 1 IPv6 */
    long        profile;          /* HL78xx <cipher_suite_index>: AT+KSSLCRYPTO profile */
    /* connection */
    int         status;
    int         notif;            /* last +KTCP_NOTIF code, -1 none */
    bool        down_reported;    /* the +KTCP_NOTIF of the last failure was sent */
    tm_reason   why;              /* the last failure */
    tm_stream   st;
    hl_creds    creds;
    bool        transparent;      /* started with KTCPSTART (active or suspended) */
    /* the running command */
    int         op;
    size_t      snd_expected;
    size_t      staged;           /* KTCPSND bytes held after the committed ones */
    bool        snd_failed;
    size_t      rcv_left;
    size_t      rcv_sent;
    unsigned    pump_timer;       /* host output full: try again */
    unsigned    done_timer;       /* deferred final result */
    unsigned    close_timer;      /* graceful close deadline */
    tm_err      done_err;
    bool        done_silent;
    /* receive ring */
    size_t      rx_head;
    size_t      rx_len;
    bool        announced;        /* +KTCP_DATA sent for the current non-empty ring */
    bool        urc_queued;       /* a +KTCP_DATA waits in the engine, its count made when written */
    uint64_t    rx_total;
    uint64_t    tx_total;
    /* transmit buffer: [committed tx_len][staged].  Both buffers (64 KiB)
     * are allocated by the first AT+KTCPCNX and kept until AT+KTCPDEL: a
     * configured session that never connects does not pay for them
     * (docs/architecture.md "Memory per session"). */
    size_t      tx_len;
    uint8_t    *tx;               /* TM_SOCK_TX_BUF */
    uint8_t    *rx;               /* TM_SOCK_RX_BUF */
};

static const char *status_name(int st)
{
    switch (st) {
    case ST_DEFINED:   return "defined, not connected";
    case ST_OPENING:   return "opening";
    case ST_CONNECTED: return "connected";
    case ST_CLOSING:   return "closing";
    case ST_CLOSED:    return "closed";
    default:           return "not defined";
    }
}

/* ---- completion (always from the loop, never inside a callback chain) ------- */

static void done_cb(void *arg)
{
    hl_tcp *t = arg;
    t->done_timer = 0;
    tm_at *at = t->at;
    bool silent = t->done_silent;
    tm_err e = t->done_err;
    /* last: a chained command may run now (and may even delete this session) */
    if (silent)
        tm_at_complete_silent(at);
    else
        tm_at_complete(at, e);
}

/* Ends the running command with e (TM_OK or an error with tm_at_reason()
 * filled) from a 0 ms timer, so that the rest of a ';' chain never runs
 * inside one of our callbacks. */
static void finish_later(hl_tcp *t, tm_err e, bool silent)
{
    t->op = OP_NONE;
    t->done_err = e;
    t->done_silent = silent;
    if (!t->done_timer)
        t->done_timer = tm_port_timer_add(0, done_cb, t);
    if (!t->done_timer) {       /* no timer slot: finish now */
        if (silent)
            tm_at_complete_silent(t->at);
        else
            tm_at_complete(t->at, e);
    }
}

/* ---- connection down ------------------------------------------------------------- */

static void rx_pump(hl_tcp *t);
static void tx_pump(hl_tcp *t);

static void release_conn(hl_tcp *t)
{
    tm_stream_close(&t->st);
    hl_creds_free(&t->creds);
    if (t->close_timer) {
        tm_port_timer_cancel(t->close_timer);
        t->close_timer = 0;
    }
}

static void report_down(hl_tcp *t)
{
    if (t->down_reported)
        return;
    t->down_reported = true;
    hl_report_failure(t->at, "+KTCP_NOTIF", t->ss->id, &t->why, false);
}

/* The connection failed or the peer closed it: the socket is released,
 * unsent bytes are lost, buffered received bytes stay readable. */
static void conn_down(hl_tcp *t, const tm_reason *why)
{
    if (why != &t->why)
        t->why = *why;
    if (t->why.code == TM_OK)
        tm_fail(&t->why, TM_E_NET, "the connection to %s:%ld failed", t->host, t->port);
    int prev = t->status;
    release_conn(t);
    t->status = ST_CLOSED;
    t->notif = hl_notif_code(t->why.code);
    t->down_reported = false;
    if (t->tx_len)
        tm_trace("hl", "TCP session %d: %zu unsent bytes discarded", t->ss->id, t->tx_len);
    if (t->tx)
        memmove(t->tx, t->tx + t->tx_len, t->staged);
    t->tx_len = 0;
    tm_trace("hl", "TCP session %d: %s -> closed (+KTCP_NOTIF %d), %zu bytes still buffered",
             t->ss->id, status_name(prev), t->notif, t->rx_len);
    switch (t->op) {
    case OP_TRANSPARENT:
        rx_pump(t);             /* buffered bytes, then NO CARRIER + the URC */
        return;
    case OP_SND_DATA:
        t->snd_failed = true;   /* the error result comes when the host ends the data */
        report_down(t);
        return;
    case OP_SND_DRAIN:
        report_down(t);
        *tm_at_reason(t->at) = t->why;
        tm_reason_append(tm_at_reason(t->at), "the data was not (completely) sent");
        finish_later(t, t->why.code, false);
        return;
    case OP_CLOSE_DRAIN:
        report_down(t);
        finish_later(t, TM_OK, false);
        return;
    default:
        report_down(t);         /* a URC: queued while a command runs */
        return;
    }
}

/* ---- receive side ------------------------------------------------------------------ */

static void schedule_pump(hl_tcp *t);

static void rx_take(hl_tcp *t, size_t n)
{
    t->rx_head = (t->rx_head + n) % TM_SOCK_RX_BUF;
    t->rx_len -= n;
    if (t->rx_len == 0) {
        t->rx_head = 0;
        t->announced = false;
    }
    if (t->status == ST_CONNECTED && !t->st.want_read && t->rx_len < TM_SOCK_RX_BUF)
        tm_stream_want_read(&t->st, true);
}

static hl_tcp *tcp_by_id(hl_state *s, int id)
{
    for (int i = 0; s && i < TM_SESSIONS_MAX; i++)
        if (s->sess[i].id == id && s->sess[i].kind == HL_SESS_TCP)
            return s->sess[i].tcp;
    return NULL;
}

/* +KTCP_DATA with the count the ring holds when the line is written, not
 * when it was queued: a KTCPRCV the host typed meanwhile may have read the
 * bytes (the host would otherwise ask for bytes that are gone).  An emptied
 * ring leaves nothing to say; a deleted session neither (looked up by id). */
static bool render_ktcp_data(tm_at *at, int id, char *buf, size_t cap)
{
    hl_tcp *t = tcp_by_id(hl_get(at), id);
    if (!t || !t->urc_queued)
        return false;
    t->urc_queued = false;
    if (!t->rx_len)
        return false;           /* rx_take already cleared `announced` */
    snprintf(buf, cap, "+KTCP_DATA: %d,%zu", id, t->rx_len);
    return true;
}

static void announce(hl_tcp *t)
{
    if (t->rx_len && !t->announced) {
        t->announced = true;
        if (!t->urc_queued) {
            t->urc_queued = true;
            tm_at_urc_late(t->at, render_ktcp_data, t->ss->id);
        }
    }
}

/* Host-bound bytes from the ring, as far as tm_at_out_room allows.  Returns
 * the bytes written; stops at limit. */
static size_t rx_to_host(hl_tcp *t, size_t limit)
{
    size_t done = 0;
    while (done < limit && t->rx_len) {
        size_t room = tm_at_out_room(t->at);
        if (!room)
            break;
        size_t n = TM_SOCK_RX_BUF - t->rx_head;
        if (n > t->rx_len) n = t->rx_len;
        if (n > room) n = room;
        if (n > limit - done) n = limit - done;
        tm_at_write(t->at, t->rx + t->rx_head, n);
        rx_take(t, n);
        done += n;
    }
    return done;
}

static void rx_pump(hl_tcp *t)
{
    tm_at *at = t->at;
    if (t->op == OP_RCV) {
        size_t n = rx_to_host(t, t->rcv_left);
        t->rcv_left -= n;
        t->rcv_sent += n;
        if (t->rcv_left) {
            schedule_pump(t);
            return;
        }
        const char *pat = tm_at_pattern(at);
        tm_at_write(at, pat, strlen(pat));
        tm_trace("hl", "TCP session %d: KTCPRCV delivered %zu bytes, %zu left", t->ss->id,
                 t->rcv_sent, t->rx_len);
        t->announced = false;
        announce(t);            /* queued: follows the OK */
        finish_later(t, TM_OK, false);
        return;
    }
    if (t->op == OP_TRANSPARENT) {
        rx_to_host(t, (size_t)-1);
        if (t->rx_len) {
            schedule_pump(t);
            return;
        }
        if (t->status != ST_CONNECTED) {
            /* the peer closed (or the connection failed): back to command mode */
            tm_at_data_in_stop(at);
            t->transparent = false;
            tm_trace("hl", "TCP session %d: transparent mode ended by the connection", t->ss->id);
            if (t->down_reported) {
                tm_at_v250_result(at, "NO CARRIER", 3);
            } else {
                t->down_reported = true;
                hl_report_failure(at, "+KTCP_NOTIF", t->ss->id, &t->why, true);
            }
            finish_later(t, TM_OK, true);
        }
    }
}

static void pump_cb(void *arg)
{
    hl_tcp *t = arg;
    t->pump_timer = 0;
    rx_pump(t);
}

static void schedule_pump(hl_tcp *t)
{
    if (!t->pump_timer)
        t->pump_timer = tm_port_timer_add(1, pump_cb, t);
}

static void ev_readable(void *arg)
{
    hl_tcp *t = arg;
    if (t->status != ST_CONNECTED && t->status != ST_CLOSING)
        return;
    bool got = false;
    for (;;) {
        if (t->rx_len == TM_SOCK_RX_BUF) {
            tm_stream_want_read(&t->st, false);   /* backpressure: the server waits */
            break;
        }
        size_t tail = (t->rx_head + t->rx_len) % TM_SOCK_RX_BUF;
        size_t cap = tail < t->rx_head ? t->rx_head - tail : TM_SOCK_RX_BUF - tail;
        long n = tm_stream_read(&t->st, t->rx + tail, cap);
        if (n > 0) {
            t->rx_len += (size_t)n;
            t->rx_total += (uint64_t)n;
            got = true;
            continue;
        }
        if (n == TM_STREAM_AGAIN)
            break;
        if (got && t->op != OP_TRANSPARENT && t->op != OP_RCV)
            announce(t);        /* +KTCP_DATA before +KTCP_NOTIF */
        tm_reason why;
        if (n == 0) {
            tm_fail(&why, TM_E_PEER_CLOSED, "%s:%ld closed the connection%s", t->host, t->port,
                    t->st.eof_unclean ? " without TLS close_notify (the last data may be cut short)" : "");
        } else {
            why = t->st.reason;
            if (why.code == TM_OK)
                tm_fail(&why, TM_E_NET, "receive from %s:%ld failed", t->host, t->port);
        }
        conn_down(t, &why);
        return;
    }
    if (!got)
        return;
    if (t->op == OP_TRANSPARENT)
        rx_pump(t);
    else if (t->op != OP_RCV)
        announce(t);
}

/* ---- transmit side ------------------------------------------------------------------- */

static void do_close(hl_tcp *t)
{
    release_conn(t);
    t->status = ST_CLOSED;
    t->transparent = false;
    if (t->rx_len)
        tm_trace("hl", "TCP session %d: %zu unread bytes discarded by KTCPCLOSE", t->ss->id, t->rx_len);
    t->rx_len = t->rx_head = 0;
    t->announced = false;
    t->tx_len = t->staged = 0;
    tm_trace("hl", "TCP session %d closed (%llu bytes sent, %llu received)", t->ss->id,
             (unsigned long long)t->tx_total, (unsigned long long)t->rx_total);
}

static void tx_pump(hl_tcp *t)
{
    while (t->tx_len && (t->status == ST_CONNECTED || t->status == ST_CLOSING)) {
        long n = tm_stream_write(&t->st, t->tx, t->tx_len);
        if (n < 0) {
            tm_reason why = t->st.reason;
            if (why.code == TM_OK)
                tm_fail(&why, TM_E_NET, "send to %s:%ld failed", t->host, t->port);
            conn_down(t, &why);
            return;
        }
        if (n == 0)
            break;
        memmove(t->tx, t->tx + n, t->tx_len - (size_t)n + t->staged);
        t->tx_len -= (size_t)n;
        t->tx_total += (uint64_t)n;
    }
    if (t->tx_len)
        return;
    if (t->op == OP_SND_DRAIN) {
        tm_trace("hl", "TCP session %d: KTCPSND: %zu bytes handed to the socket", t->ss->id,
                 t->snd_expected);
        finish_later(t, TM_OK, false);
    } else if (t->op == OP_CLOSE_DRAIN) {
        do_close(t);
        finish_later(t, TM_OK, false);
    }
}

static void ev_writable(void *arg)
{
    tx_pump(arg);
}

static void ev_open(void *arg)
{
    hl_tcp *t = arg;
    t->status = ST_CONNECTED;
    hl_creds_free(&t->creds);       /* borrowed by the stream only until now */
    if (t->mode == 3 && t->st.tls) {
        tm_trace("tls", "TCP session %d: %s", t->ss->id, tm_tls_summary(t->st.tls));
        if (t->sec_level == 0)
            tm_trace("verdict", "TCP session %d: sec_level 0: server certificate NOT VERIFIED "
                     "(encrypt only)", t->ss->id);
    }
    tm_trace("hl", "TCP session %d connected to %s:%ld", t->ss->id, t->host, t->port);
    tm_at_urc(t->at, "+KTCP_IND: %d,1", t->ss->id);
}

static void ev_error(void *arg, const tm_reason *why)
{
    conn_down(arg, why);
}

static const tm_stream_events tcp_events = {
    .on_open = ev_open,
    .on_readable = ev_readable,
    .on_writable = ev_writable,
    .on_error = ev_error,
};

/* ---- helpers for the handlers ---------------------------------------------------------- */

static tm_err tcp_arg(tm_at *at, const tm_at_args *a, int max, hl_tcp **out)
{
    hl_session *ss;
    tm_err e;
    if ((e = tm_at_max_args(at, a, max)) || (e = hl_session_arg(at, a, 1, HL_SESS_TCP, &ss)))
        return e;
    if (!ss->tcp)
        return tm_fail(tm_at_reason(at), TM_E_INTERNAL, "TCP session %d has no state", ss->id);
    *out = ss->tcp;
    return TM_OK;
}

static tm_err need_connected(tm_at *at, hl_tcp *t, const char *cmd)
{
    if (t->status == ST_CONNECTED)
        return TM_OK;
    int id = t->ss->id;
    if (t->status == ST_DEFINED)
        return tm_fail(tm_at_reason(at), TM_E_STATE, "%s: session %d is not connected; connect it "
                       "with AT+KTCPCNX=%d and wait for +KTCP_IND: %d,1", cmd, id, id, id);
    if (t->status == ST_OPENING)
        return tm_fail(tm_at_reason(at), TM_E_STATE, "%s: session %d is still connecting; wait for "
                       "+KTCP_IND: %d,1", cmd, id, id);
    return tm_fail(tm_at_reason(at), TM_E_STATE, "%s: session %d is %s%s%s; connect it again with "
                   "AT+KTCPCNX=%d", cmd, id, status_name(t->status),
                   t->why.code != TM_OK ? " after: " : "",
                   t->why.code != TM_OK ? t->why.detail : "", id);
}

void hl_tcp_free(hl_session *ss)
{
    hl_tcp *t = ss->tcp;
    if (!t)
        return;
    if (t->pump_timer)
        tm_port_timer_cancel(t->pump_timer);
    if (t->done_timer)
        tm_port_timer_cancel(t->done_timer);
    release_conn(t);
    free(t->tx);
    free(t->rx);
    free(t);
    ss->tcp = NULL;
}

/* ---- AT+KTCPCFG -------------------------------------------------------------------------- */

/* The trailing arguments differ by model (docs/hl.md, "Models"):
 *   HL8548  …,[<URC_ENDTCP>][,[<cipher_suite>][,<sec_level>]]        (9 at most)
 *   HL78xx  …,[<URC_ENDTCP>][,[<af>][,[<cipher_suite_index>][,<expand>]]]  (10)
 * A position is only ever read as what that model's guide says it is, and
 * more arguments than the model has are refused: an HL78 command (whose 8th
 * argument is the address family, typically 0) must never reach the HL8548
 * list's <sec_level> and switch verification off. */
static tm_err ktcpcfg_model_args(tm_at *at, const tm_at_args *a, const hl_model *mdl, long mode,
                                 long *sec, long *cipher, long *af, long *profile, long *expand)
{
    tm_reason *why = tm_at_reason(at);
    tm_err e;
    int max = mdl->hl78 ? 10 : 9;
    if (a->count > max) {
        why->arg_index = max + 1;
        return tm_fail(why, TM_E_ARG_TOO_MANY, "%d arguments; the %s's AT+KTCPCFG takes at most %d "
                       "(%s)%s", a->count, mdl->cgmm, max,
                       mdl->hl78 ? "...,<URC_ENDTCP>,<af>,<cipher_suite_index>,<expand>"
                                 : "...,<URC_ENDTCP>,<cipher_suite>,<sec_level>",
                       mdl->hl78 ? "" : "; a 10-argument form is the HL78xx list: start tlsmodem "
                                        "with --model hl7800");
    }
    if (!mdl->hl78) {
        if ((e = tm_at_opt_int(at, a, 8, "cipher_suite", 0, 0, 0, cipher)) ||
            (e = tm_at_opt_int(at, a, 9, "sec_level", 0, 2, 1, sec)))
            return e;
        /* "…,0,0" is also the HL78xx shape <af>=0,<cipher_suite_index>=0 (a
         * verified session there): switching verification off needs the
         * unambiguous form with <cipher_suite> left empty. */
        if (mode == 3 && *sec == 0 && !tm_at_omitted(a, 8)) {
            why->arg_index = 9;
            return tm_fail(why, TM_E_ARG_BAD, "sec_level 0 (server not verified) after an explicit "
                           "cipher_suite: \",0,0\" is also the HL78xx form <af>,<cipher_suite_index> "
                           "that verifies the server; to switch verification off on the HL8548 leave "
                           "cipher_suite empty (\"…,,,,,0\")");
        }
        return TM_OK;
    }
    if ((e = tm_at_opt_int(at, a, 8, "af", 0, 1, 0, af)) ||
        (e = tm_at_opt_int(at, a, 9, "cipher_suite_index", 0, HL_CRYPTO_PROFILES - 1, 0, profile)) ||
        (e = tm_at_opt_int(at, a, 10, "expand", 0, 1, 0, expand)))
        return e;
    if (*expand == 1) {
        why->arg_index = 10;
        return tm_fail(why, TM_E_NOT_SUPPORTED, "expand 1 is not supported; leave it empty or 0");
    }
    return TM_OK;
}

tm_err hl_ktcpcfg_set(tm_at *at, const tm_at_args *a)
{
    hl_state *s = hl_get(at);
    tm_reason *why = tm_at_reason(at);
    long cnx, mode, port, src = 0, dmode = 0, endtcp = 0, sec = 1, cipher = 0, af = 0, profile = 0, expand = 0;
    char host[TM_HOST_MAX];
    tm_err e;
    if ((e = tm_at_opt_int(at, a, 1, "cnx_cnf", 0, HL_CNX_MAX - 1, s->cnx_profile, &cnx)) ||
        (e = tm_at_get_int(at, a, 2, "mode", 0, 4, &mode)))
        return e;
    if (mode == 1 || mode == 2 || mode == 4) {
        why->arg_index = 2;
        return tm_fail(why, TM_E_NOT_SUPPORTED, "mode %ld (%s) is not supported: tlsmodem opens "
                       "outgoing connections only (mode 0 TCP client, 3 TLS client)", mode,
                       mode == 1 ? "TCP server" : mode == 2 ? "server child" : "TLS server");
    }
    if ((e = tm_at_get_host(at, a, 3, "remote_name", host, sizeof host)) ||
        (e = tm_at_get_int(at, a, 4, "remote_port", 1, 65535, &port)) ||
        (e = tm_at_opt_int(at, a, 5, "source_port", 0, 65535, 0, &src)) ||
        (e = tm_at_opt_int(at, a, 6, "data_mode", 0, 1, 0, &dmode)) ||
        (e = tm_at_opt_int(at, a, 7, "URC_ENDTCP", 0, 1, 0, &endtcp)) ||
        (e = ktcpcfg_model_args(at, a, s->model, mode, &sec, &cipher, &af, &profile, &expand)))
        return e;
    if (af == 1)
        tm_trace("hl", "KTCPCFG: af 1 (IPv6): the host name decides the address family");
    if (dmode == 1) {
        why->arg_index = 6;
        return tm_fail(why, TM_E_NOT_SUPPORTED, "data_mode 1 (data inside +KTCP_DATA) is not "
                       "supported; use 0 and read the data with AT+KTCPRCV");
    }
    if (endtcp == 1) {
        why->arg_index = 7;
        return tm_fail(why, TM_E_NOT_SUPPORTED, "URC_ENDTCP 1 (+KTCP_ACK) is not supported; use 0 "
                       "(AT+KTCPSTAT shows the bytes not yet sent)");
    }
    hl_session *ss = hl_session_alloc(s, HL_SESS_TCP);
    if (!ss)
        return tm_fail(why, TM_E_NO_SESSION_FREE, "all %d sessions are in use; delete one with "
                       "AT+KTCPDEL or AT+KHTTPSDEL", TM_SESSIONS_MAX);
    hl_tcp *t = calloc(1, sizeof *t);
    if (!t) {
        hl_session_free(s, ss);
        return tm_fail(why, TM_E_NO_MEMORY, "no memory for a TCP session");
    }
    ss->tcp = t;
    ss->cnx = (int)cnx;
    t->ss = ss;
    t->at = at;
    t->s = s;
    t->st.fd = -1;
    t->mode = mode;
    snprintf(t->host, sizeof t->host, "%s", host);
    t->port = port;
    t->src_port = src;
    t->data_mode = dmode;
    t->urc_endtcp = endtcp;
    t->sec_level = sec;
    t->cipher = cipher;
    t->af = af;
    t->profile = profile;
    t->status = ST_DEFINED;
    t->notif = -1;
    tm_at_line(at, "+KTCPCFG: %d", ss->id);
    if (s->model->hl78)
        tm_trace("hl", "TCP session %d: %s %s:%ld%s%ld", ss->id, mode == 3 ? "TLS" : "TCP", host, port,
                 mode == 3 ? ", verification from AT+KSSLCRYPTO profile " : ", af ",
                 mode == 3 ? profile : af);
    else
        tm_trace("hl", "TCP session %d: %s %s:%ld%s", ss->id, mode == 3 ? "TLS" : "TCP", host, port,
                 mode != 3 ? "" : sec == 0 ? ", sec_level 0 (encrypt only, server NOT verified)" :
                 sec == 1 ? ", sec_level 1 (verify server)" :
                 ", sec_level 2 (verify server, client certificate when asked)");
    if (src)
        tm_trace("hl", "TCP session %d: source_port %ld ignored (the OS chooses)", ss->id, src);
    if (mode == 0 && !s->model->hl78 && !tm_at_omitted(a, 9))
        tm_trace("hl", "TCP session %d: sec_level ignored for mode 0 (plain TCP)", ss->id);
    return TM_OK;
}

tm_err hl_ktcpcfg_test(tm_at *at, const tm_at_args *a)
{
    (void)a;
    if (hl_get(at)->model->hl78)
        tm_at_line(at, "+KTCPCFG: (0-4),(0,3),<remote_name>,(1-65535),,(0-1),(0-1),(0-1),(0-%d),(0)",
                   HL_CRYPTO_PROFILES - 1);
    else
        tm_at_line(at, "+KTCPCFG: (0-4),(0,3),<remote_name>,(1-65535),,(0-1),(0-1),(0),(0-2)");
    return TM_OK;
}

tm_err hl_ktcpcfg_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    hl_state *s = hl_get(at);
    for (int i = 0; i < TM_SESSIONS_MAX; i++) {
        hl_session *ss = &s->sess[i];
        if (ss->kind != HL_SESS_TCP || !ss->tcp)
            continue;
        hl_tcp *t = ss->tcp;
        if (s->model->hl78)
            tm_at_line(at, "+KTCPCFG: %d,%d,%d,%ld,\"%s\",%ld,%ld,%ld,%ld,%ld,%ld", ss->id, t->status,
                       ss->cnx, t->mode, t->host, t->port, t->src_port, t->data_mode, t->urc_endtcp,
                       t->af, t->profile);
        else
            tm_at_line(at, "+KTCPCFG: %d,%d,%d,%ld,\"%s\",%ld,%ld,%ld,%ld,%ld,%ld", ss->id, t->status,
                       ss->cnx, t->mode, t->host, t->port, t->src_port, t->data_mode, t->urc_endtcp,
                       t->cipher, t->sec_level);
    }
    return TM_OK;
}

/* ---- AT+TMPIN on a TCP session (pin.c) ------------------------------------------------- */

/* A pin needs TLS (mode 3), and it is checked when the connection is made:
 * it cannot change under an open connection, so that AT+TMPIN? always shows
 * the pin every open connection was verified with. */
tm_err hl_tcp_pin_change(hl_session *ss, bool setting, tm_reason *why)
{
    hl_tcp *t = ss->tcp;
    if (setting && t->mode != 3)
        return tm_fail(why, TM_E_NOT_SUPPORTED, "session %d is a plain TCP session (AT+KTCPCFG mode %ld): an "
                       "SPKI pin needs TLS (mode 3)", ss->id, t->mode);
    if (t->status == ST_OPENING || t->status == ST_CONNECTED || t->status == ST_CLOSING)
        return tm_fail(why, TM_E_SESSION_BUSY, "session %d is %s: its pin is checked when the connection is "
                       "made; close it first (AT+KTCPCLOSE=%d), then change the pin and connect again",
                       ss->id, status_name(t->status), ss->id);
    return TM_OK;
}

/* ---- AT+KTCPCNX ---------------------------------------------------------------------------- */

tm_err hl_ktcpcnx_set(tm_at *at, const tm_at_args *a)
{
    hl_tcp *t;
    tm_err e;
    if ((e = tcp_arg(at, a, 1, &t)))
        return e;
    int id = t->ss->id;
    if (t->status == ST_OPENING || t->status == ST_CONNECTED || t->status == ST_CLOSING)
        return tm_fail(tm_at_reason(at), TM_E_SESSION_BUSY, "session %d is already %s; close it "
                       "first with AT+KTCPCLOSE=%d", id, status_name(t->status), id);
    if ((e = hl_net_usable(at)))
        return e;
    if (!t->tx)
        t->tx = malloc(TM_SOCK_TX_BUF);
    if (!t->rx)
        t->rx = malloc(TM_SOCK_RX_BUF);
    if (!t->tx || !t->rx)
        return tm_fail(tm_at_reason(at), TM_E_NO_MEMORY, "no memory for the buffers of session %d "
                       "(%d bytes)", id, TM_SOCK_TX_BUF + TM_SOCK_RX_BUF);
    if (t->rx_len)
        tm_trace("hl", "TCP session %d: %zu unread bytes of the last connection discarded", id, t->rx_len);
    t->rx_len = t->rx_head = 0;
    t->tx_len = t->staged = 0;
    t->announced = false;
    t->transparent = false;
    t->notif = -1;
    t->down_reported = false;
    t->rx_total = t->tx_total = 0;
    tm_reason_clear(&t->why);

    tm_stream_opts opts;
    memset(&opts, 0, sizeof opts);
    snprintf(opts.host, sizeof opts.host, "%s", t->host);
    opts.port = (uint16_t)t->port;
    uint32_t idle_ms;        /* sockets have no idle timeout: an idle socket is legitimate */
    hl_cnx_timeouts(t->s, t->ss->cnx, &opts.connect_timeout_ms, &idle_ms);
    tm_reason why;
    tm_reason_clear(&why);
    if (t->mode == 3) {
        opts.use_tls = true;
        if (t->s->model->hl78) {
            tm_tls_config probe;
            memset(&probe, 0, sizeof probe);
            t->sec_level = hl_crypto_tls(t->s, (int)t->profile, &probe);
        }
        hl_creds_free(&t->creds);
        if (hl_creds_load(t->s, &t->creds, t->sec_level >= 2, &why) != TM_OK) {
            /* an unusable stored root refuses the connection (never the bundle instead) */
            hl_creds_free(&t->creds);
            t->status = ST_OPENING;
            conn_down(t, &why);     /* the URC is queued: it follows the OK */
            return TM_OK;
        }
        hl_tls_config(t->s, &t->creds, &opts.tls, t->host, (int)t->sec_level);
        if (t->s->model->hl78)
            hl_crypto_tls(t->s, (int)t->profile, &opts.tls);
        hl_tls_apply_pin(t->ss, &opts.tls);
        if (t->sec_level == 0)
            hl_warn(at, "session %d: sec_level 0: the server certificate will not be verified "
                        "(encrypt only)", id);
        else if (t->sec_level == 2 && t->creds.n_client_chain == 0)
            hl_warn(at, "session %d: sec_level 2 but no client certificate is stored "
                        "(AT+KCERTSTORE=1 and AT+KPRIVKSTORE=0)", id);
    }
    t->status = ST_OPENING;
    e = tm_stream_open(&t->st, &opts, &tcp_events, t, &why);
    if (e != TM_OK) {
        if (why.code == TM_OK)
            tm_fail(&why, e, "cannot connect to %s:%ld", t->host, t->port);
        conn_down(t, &why);     /* the URC is queued: it follows the OK */
    }
    return TM_OK;
}

/* ---- AT+KTCPSND ---------------------------------------------------------------------------- */

static size_t snd_room(void *arg)
{
    hl_tcp *t = arg;
    if (t->snd_failed || t->staged >= t->snd_expected)
        return TM_SOCK_TX_BUF;          /* counted, then discarded */
    tx_pump(t);
    if (t->snd_failed)
        return TM_SOCK_TX_BUF;
    return TM_SOCK_TX_BUF - t->tx_len - t->staged;
}

static void snd_data(void *arg, const uint8_t *p, size_t n)
{
    hl_tcp *t = arg;
    if (t->snd_failed)
        return;
    size_t want = t->snd_expected > t->staged ? t->snd_expected - t->staged : 0;
    size_t space = TM_SOCK_TX_BUF - t->tx_len - t->staged;
    if (n > want) n = want;             /* beyond the announced count: only counted */
    if (n > space) n = space;
    memcpy(t->tx + t->tx_len + t->staged, p, n);
    t->staged += n;
}

static void snd_end(void *arg, tm_at_data_end how, size_t total)
{
    hl_tcp *t = arg;
    tm_at *at = t->at;
    tm_reason *why = tm_at_reason(at);
    int id = t->ss->id;
    t->op = OP_NONE;
    if (how == TM_AT_DATA_END_HOST_GONE) {
        t->staged = 0;
        tm_fail(why, TM_E_DATA_ABORTED, "the host went away after %zu of %zu bytes; nothing was sent",
                total, t->snd_expected);
        finish_later(t, TM_E_DATA_ABORTED, false);
        return;
    }
    if (how == TM_AT_DATA_END_MANGLED) {
        t->staged = 0;
        tm_fail(why, TM_E_DATA_PATTERN_MANGLED, "the data ended with a look-alike of the EOF pattern "
                "(typographic dashes?); the EOF pattern is %s in plain ASCII; nothing was sent",
                tm_at_pattern(at));
        finish_later(t, TM_E_DATA_PATTERN_MANGLED, false);
        return;
    }
    if (t->snd_failed) {
        t->staged = 0;
        *why = t->why;
        tm_reason_append(why, "nothing was sent");
        finish_later(t, t->why.code, false);
        return;
    }
    if (total != t->snd_expected) {
        t->staged = 0;
        tm_fail(why, TM_E_DATA_COUNT, "announced %zu bytes, received %zu; nothing was sent (every "
                "byte counts, CR and LF too)", t->snd_expected, total);
        t->notif = 8;
        hl_report_failure(at, "+KTCP_NOTIF", id, why, false);
        finish_later(t, TM_E_DATA_COUNT, false);
        return;
    }
    t->tx_len += t->staged;
    t->staged = 0;
    t->op = OP_SND_DRAIN;
    tx_pump(t);
}

tm_err hl_ktcpsnd_set(tm_at *at, const tm_at_args *a)
{
    hl_tcp *t;
    long ndata;
    tm_err e;
    if ((e = tcp_arg(at, a, 2, &t)) ||
        (e = tm_at_get_int(at, a, 2, "ndata", 1, TM_SOCK_TX_BUF, &ndata)) ||
        (e = need_connected(at, t, "AT+KTCPSND")))
        return e;
    t->op = OP_SND_DATA;
    t->snd_expected = (size_t)ndata;
    t->staged = 0;
    t->snd_failed = false;
    tm_at_v250_result(at, "CONNECT", 1);
    tm_at_data_in spec = {
        .count = 0, .pattern = true, .escape = true,
        .on_data = snd_data, .on_end = snd_end, .room = snd_room, .arg = t,
    };
    tm_at_data_in_start(at, &spec);
    return TM_AT_PENDING;
}

/* ---- AT+KTCPRCV ---------------------------------------------------------------------------- */

tm_err hl_ktcprcv_set(tm_at *at, const tm_at_args *a)
{
    hl_tcp *t;
    long ndata;
    tm_err e;
    if ((e = tcp_arg(at, a, 2, &t)) ||
        (e = tm_at_get_int(at, a, 2, "ndata", 1, TM_SOCK_RX_BUF, &ndata)))
        return e;
    if (t->status == ST_DEFINED || t->status == ST_OPENING)
        return need_connected(at, t, "AT+KTCPRCV");
    if (t->status == ST_CLOSED && t->rx_len == 0) {
        /* End of stream: an error, as the module answers, never a 0-byte
         * CONNECT…EOF (the Zephyr hl78xx parser waits forever for data
         * before the pattern; a +CME ERROR ends its read). */
        int id = t->ss->id;
        return tm_fail(tm_at_reason(at), TM_E_STATE, "AT+KTCPRCV: session %d is closed (%s) and no "
                       "received byte is left (+KTCP_NOTIF: %d,%d)", id,
                       t->why.code != TM_OK ? t->why.detail : "closed", id, t->notif);
    }
    t->op = OP_RCV;
    t->rcv_left = (size_t)ndata < t->rx_len ? (size_t)ndata : t->rx_len;
    t->rcv_sent = 0;
    tm_at_v250_result(at, "CONNECT", 1);
    rx_pump(t);
    return TM_AT_PENDING;
}

/* ---- AT+KTCPSTART / ATO<id> ------------------------------------------------------------------ */

static size_t tp_room(void *arg)
{
    hl_tcp *t = arg;
    if (t->status != ST_CONNECTED)
        return TM_SOCK_TX_BUF;          /* the connection is gone: discarded */
    tx_pump(t);
    if (t->status != ST_CONNECTED)
        return TM_SOCK_TX_BUF;
    return TM_SOCK_TX_BUF - t->tx_len;
}

static void tp_data(void *arg, const uint8_t *p, size_t n)
{
    hl_tcp *t = arg;
    if (t->status != ST_CONNECTED)
        return;
    size_t space = TM_SOCK_TX_BUF - t->tx_len;
    if (n > space) n = space;
    memcpy(t->tx + t->tx_len, p, n);
    t->tx_len += n;
    tx_pump(t);
}

static void tp_end(void *arg, tm_at_data_end how, size_t total)
{
    hl_tcp *t = arg;
    (void)how;
    tm_trace("hl", "TCP session %d: transparent mode suspended by +++ (%zu bytes from the host); "
             "ATO%d resumes", t->ss->id, total, t->ss->id);
    t->op = OP_NONE;
    announce(t);                        /* queued: follow the OK */
    if (t->status != ST_CONNECTED)
        report_down(t);                 /* closed while its last bytes were on their way */
    finish_later(t, TM_OK, false);
}

static tm_err start_transparent(tm_at *at, hl_tcp *t)
{
    t->transparent = true;
    t->op = OP_TRANSPARENT;
    tm_at_v250_result(at, "CONNECT", 1);
    tm_at_data_in spec = {
        .count = 0, .pattern = false, .escape = true,
        .on_data = tp_data, .on_end = tp_end, .room = tp_room, .arg = t,
    };
    tm_at_data_in_start(at, &spec);
    rx_pump(t);
    return TM_AT_PENDING;
}

tm_err hl_ktcpstart_set(tm_at *at, const tm_at_args *a)
{
    hl_tcp *t;
    tm_err e;
    if ((e = tcp_arg(at, a, 1, &t)) || (e = need_connected(at, t, "AT+KTCPSTART")))
        return e;
    tm_trace("hl", "TCP session %d: transparent mode (+++ to suspend)", t->ss->id);
    return start_transparent(at, t);
}

tm_err hl_ato_set(tm_at *at, const tm_at_args *a)
{
    hl_tcp *t;
    tm_err e;
    if ((e = tcp_arg(at, a, 1, &t)))
        return e;
    int id = t->ss->id;
    if (!t->transparent)
        return tm_fail(tm_at_reason(at), TM_E_STATE, "session %d is not in transparent mode; "
                       "start it with AT+KTCPSTART=%d", id, id);
    if (t->status != ST_CONNECTED && t->rx_len == 0)
        return need_connected(at, t, "ATO");
    tm_trace("hl", "TCP session %d: transparent mode resumed", id);
    return start_transparent(at, t);
}

/* ---- AT+KTCPSTAT, KTCPCLOSE, KTCPDEL ------------------------------------------------------- */

tm_err hl_ktcpstat_set(tm_at *at, const tm_at_args *a)
{
    hl_tcp *t;
    tm_err e;
    if ((e = tcp_arg(at, a, 1, &t)))
        return e;
    tm_at_line(at, "+KTCPSTAT: %d,%d,%zu,%zu", t->status, t->notif, t->tx_len, t->rx_len);
    return TM_OK;
}

static void close_timeout(void *arg)
{
    hl_tcp *t = arg;
    t->close_timer = 0;
    if (t->op != OP_CLOSE_DRAIN)
        return;
    tm_trace("hl", "TCP session %d: %zu bytes not accepted by the peer within %d ms; closing anyway",
             t->ss->id, t->tx_len, CLOSE_DRAIN_MS);
    do_close(t);
    finish_later(t, TM_OK, false);
}

tm_err hl_ktcpclose_set(tm_at *at, const tm_at_args *a)
{
    hl_tcp *t;
    long type;
    tm_err e;
    if ((e = tcp_arg(at, a, 2, &t)) ||
        (e = tm_at_opt_int(at, a, 2, "closing_type", 0, 1, 1, &type)))
        return e;
    switch (t->status) {
    case ST_DEFINED:
    case ST_CLOSED:
        tm_trace("hl", "TCP session %d: KTCPCLOSE: not connected, nothing to do", t->ss->id);
        t->transparent = false;
        return TM_OK;
    case ST_CONNECTED:
        if (type == 1 && t->tx_len) {
            t->status = ST_CLOSING;
            t->op = OP_CLOSE_DRAIN;
            t->close_timer = tm_port_timer_add(CLOSE_DRAIN_MS, close_timeout, t);
            tx_pump(t);
            return TM_AT_PENDING;
        }
        /* fall through */
    default:
        do_close(t);
        return TM_OK;
    }
}

tm_err hl_ktcpdel_set(tm_at *at, const tm_at_args *a)
{
    hl_tcp *t;
    tm_err e;
    if ((e = tcp_arg(at, a, 1, &t)))
        return e;
    int id = t->ss->id;
    if (t->status != ST_DEFINED && t->status != ST_CLOSED)
        return tm_fail(tm_at_reason(at), TM_E_SESSION_BUSY, "session %d is %s; close it first with "
                       "AT+KTCPCLOSE=%d", id, status_name(t->status), id);
    tm_trace("hl", "TCP session %d deleted", id);
    hl_session_free(hl_get(at), t->ss);
    return TM_OK;
}

/* The control channel's network events (sim.c): coverage lost, bearer
 * dropped, socket reset.  The session ends as when the peer resets it. */
bool hl_tcp_net_lost(hl_session *ss, const tm_reason *why)
{
    hl_tcp *t = ss->tcp;
    if (!t || (t->status != ST_OPENING && t->status != ST_CONNECTED && t->status != ST_CLOSING))
        return false;
    conn_down(t, why);          /* +KTCP_NOTIF (or NO CARRIER first in transparent mode) */
    return true;
}
