/* tlsmodem — ESP-AT links: sending.  AT+CIPSEND=[<id>,]<len>[,"<ip>",<port>]
 * and AT+CIPSENDEX (ends early at the two bytes "\0"; "\<c>" is <c>):
 * "OK", then ">", exactly <len> bytes (not echoed), "Recv <len> bytes",
 * then "SEND OK" once the bytes are in the socket (or "SEND FAIL" when the
 * link died).  The command stays running until then, so bytes beyond <len>
 * wait (and are answered as a busy module answers them).  A payload that
 * stops short is abandoned after ESP_PAYLOAD_IDLE_MS without a byte:
 * nothing is sent, "SEND FAIL", reason in the trace (the module itself
 * would wait forever).  AT+CIPSEND alone with AT+CIPMODE=1: passthrough,
 * raw bytes both ways until "+++" framed by the guard time (S12). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/trace.h"
#include "dialect/esp/sock_internal.h"
#include "net/net.h"
#include "port/port.h"

static struct {
    esp_link *k;
    bool      ex;              /* CIPSENDEX: "\0" ends, "\<c>" escapes */
    bool      esc;
    bool      ended;           /* the payload is complete: waiting for the socket */
    uint8_t   buf[ESP_SEND_MAX];
    size_t    len, want, raw;  /* bytes kept, announced, received */
    size_t    queued;          /* of buf moved into the link's tx */
    unsigned  watch;           /* the send timeout once the payload is complete (stuck) */
    struct sockaddr_storage to;/* UDP: this datagram's destination */
    socklen_t to_len;
    bool      transparent;
    uint64_t  tx_mark;         /* k->tx_total when the send timeout was armed */
} g_snd;

bool esp_send_transparent(const esp_link *k)
{
    return g_snd.transparent && g_snd.k == k;
}

void esp_send_reset(void)
{
    if (g_snd.watch)
        tm_port_timer_cancel(g_snd.watch);
    memset(&g_snd, 0, sizeof g_snd);
    g_sk.transparent = false;
}

static void finish(const char *line)
{
    tm_at *at = g_sk.at;
    if (g_snd.watch)
        tm_port_timer_cancel(g_snd.watch);
    g_snd.watch = 0;
    g_snd.k = NULL;
    g_snd.ended = false;
    tm_at_printf(at, "\r\n%s\r\n", line);       /* the firmware frames these with CR LF both sides */
    tm_at_complete_silent(at);
}

/* Moves the payload into the link as its tx buffer takes it; SEND OK once
 * the socket took everything. */
static void flush(void)
{
    esp_link *k = g_snd.k;
    if (!k || !g_snd.ended)
        return;
    if (k->kind == ESP_K_UDP) {
        long w = esp_link_write(k, g_snd.buf, g_snd.len);
        if (w == 0)
            return;                       /* on_raw_io writable comes back here via pump */
        if (w < 0) {
            tm_trace("reason", "link %d: %s", k->id, k->why_gone.detail);
            finish("SEND FAIL");
            return;
        }
        k->tx_total += g_snd.len;
        finish("SEND OK");
        return;
    }
    while (g_snd.queued < g_snd.len) {
        size_t room = TM_SOCK_TX_BUF - k->tx_len;
        size_t n = g_snd.len - g_snd.queued < room ? g_snd.len - g_snd.queued : room;
        if (n == 0)
            break;
        memcpy(k->tx + k->tx_len, g_snd.buf + g_snd.queued, n);
        k->tx_len += n;
        g_snd.queued += n;
        esp_link_pump_tx(k);
        if (g_snd.k != k || k->state != ESP_L_OPEN)
            return;
    }
    if (g_snd.queued == g_snd.len && k->tx_len == 0)
        finish("SEND OK");
}

/* The link's socket took bytes (sock.c pump) or died. */
void esp_send_link_gone(esp_link *k)
{
    if (g_snd.k != k)
        return;
    tm_at *at = g_sk.at;
    if (g_snd.transparent) {
        g_snd.transparent = false;
        g_sk.transparent = false;
        g_snd.k = NULL;
        tm_at_data_in_stop(at);
        tm_trace("esp", "passthrough ended: the link closed");
        tm_at_complete_silent(at);
        return;
    }
    if (g_snd.ended) {
        finish("SEND FAIL");
        return;
    }
    /* still receiving the payload: it is read to its end and then fails */
}

void esp_send_drained(esp_link *k)
{
    if (g_snd.k == k && g_snd.ended && !g_snd.transparent)
        flush();
}

static size_t pay_room(void *arg)
{
    (void)arg;
    return sizeof g_snd.buf - g_snd.len;
}

/* The payload is complete but the socket took none of it for the idle
 * timeout: the server does not read.  The link is closed (the module's
 * send timeout does the same): SEND FAIL, then CLOSED. */
static void stuck(void *arg)
{
    (void)arg;
    g_snd.watch = 0;
    esp_link *k = g_snd.k;
    if (!k || !g_snd.ended)
        return;
    if (k->tx_total != g_snd.tx_mark) {      /* slow but moving: wait again */
        g_snd.tx_mark = k->tx_total;
        g_snd.watch = tm_port_timer_add(tm_net_timeouts_get()->idle_ms, stuck, NULL);
        return;
    }
    tm_reason r;
    tm_fail(&r, TM_E_TIMEOUT, "%s:%d took no data for %u ms (%zu bytes of the send and %zu before it still "
            "waiting): the server does not read; the link is closed (--timeout-idle)", k->host, k->rport,
            (unsigned)tm_net_timeouts_get()->idle_ms, g_snd.len - g_snd.queued, k->tx_len);
    esp_link_gone(k, &r);
}

static void pay_done(void)
{
    tm_at *at = g_sk.at;
    esp_link *k = g_snd.k;
    if (g_snd.watch)
        tm_port_timer_cancel(g_snd.watch);
    g_snd.watch = 0;
    tm_at_printf(at, "\r\nRecv %zu bytes\r\n", g_snd.raw);
    if (!k || k->state != ESP_L_OPEN) {
        tm_trace("reason", "the link closed while the payload was being sent: %zu bytes not sent", g_snd.len);
        finish("SEND FAIL");
        return;
    }
    g_snd.ended = true;
    flush();
    if (g_snd.k == k && g_snd.ended) {       /* the server does not take the data: --timeout-idle */
        uint32_t ms = tm_net_timeouts_get()->idle_ms;
        g_snd.tx_mark = k->tx_total;
        if (ms != TM_TIMEOUT_NONE)
            g_snd.watch = tm_port_timer_add(ms, stuck, NULL);
    }
}

static void pay_data(void *arg, const uint8_t *p, size_t n)
{
    (void)arg;
    for (size_t i = 0; i < n; i++) {
        g_snd.raw++;
        uint8_t b = p[i];
        if (g_snd.ex) {
            if (g_snd.esc) {
                g_snd.esc = false;
                if (b == '0') {
                    if (i + 1 < n)
                        tm_trace("warn", "CIPSENDEX: %zu bytes after \\0 in the same write were dropped", n - i - 1);
                    tm_at_data_in_stop(g_sk.at);
                    pay_done();
                    return;
                }
            } else if (b == '\\') {
                g_snd.esc = true;
                continue;
            }
        }
        if (g_snd.len < sizeof g_snd.buf)
            g_snd.buf[g_snd.len++] = b;
    }
}

static void pay_end(void *arg, tm_at_data_end how, size_t total)
{
    (void)arg;
    (void)total;
    if (how == TM_AT_DATA_END_HOST_GONE) {
        if (g_snd.watch)
            tm_port_timer_cancel(g_snd.watch);
        g_snd.watch = 0;
        g_snd.k = NULL;
        tm_at_complete_silent(g_sk.at);
        return;
    }
    if (how == TM_AT_DATA_END_IDLE) {
        tm_trace("reason", "%s: %zu bytes announced, %zu received, then nothing for %d s: the payload is "
                 "abandoned and nothing was sent (the data follows '>' directly; every byte counts)",
                 g_snd.ex ? "AT+CIPSENDEX" : "AT+CIPSEND", g_snd.want, g_snd.raw, ESP_PAYLOAD_IDLE_MS / 1000);
        finish("SEND FAIL");
        return;
    }
    pay_done();
}

static void prompt(tm_at *at)
{
    tm_at_write(at, "\r\nOK\r\n\r\n>", 9);
}

static tm_err send_start(tm_at *at, const tm_at_args *a, bool ex)
{
    esp_link *k;
    int next;
    long len, port = 0;
    char host[TM_HOST_MAX] = "";
    tm_err e;
    if ((e = esp_link_arg(at, a, 1, false, &k, &next)) || (e = tm_at_max_args(at, a, next + 2)) ||
        (e = tm_at_get_int(at, a, next, "length", 1, ESP_SEND_MAX, &len)))
        return e;
    if (!tm_at_omitted(a, next + 1)) {
        if ((e = tm_at_get_host(at, a, next + 1, "remote host", host, sizeof host)) ||
            (e = tm_at_get_int(at, a, next + 2, "remote port", 1, 65535, &port)))
            return e;
        if (k->kind != ESP_K_UDP)
            return tm_fail(tm_at_reason(at), TM_E_ARG_BAD, "a remote host and port can be given for UDP "
                           "links only; link %d is %s", k->id, k->kind == ESP_K_SSL ? "SSL" : "TCP");
    }
    if (k->state != ESP_L_OPEN)
        return tm_fail(tm_at_reason(at), TM_E_PEER_CLOSED, "link %d was closed%s%s", k->id,
                       k->why_gone.code ? ": " : " by the peer", k->why_gone.detail);
    if (g_snd.k)
        return tm_fail(tm_at_reason(at), TM_E_BUSY, "a send is still running");
    memset(&g_snd, 0, sizeof g_snd);
    if (host[0]) {
        if (tm_net_resolve_local(host, (uint16_t)port, &g_snd.to, &g_snd.to_len, tm_at_reason(at)) != 1)
            return tm_fail(tm_at_reason(at), TM_E_ARG_BAD, "the remote host of a UDP send must be an IP "
                           "address (AT+CIPDOMAIN resolves names), got \"%s\"", host);
        k->raddr = g_snd.to;
        k->raddr_len = g_snd.to_len;
        snprintf(k->rip, sizeof k->rip, "%.63s", host);
        k->rport = (int)port;
    }
    g_snd.k = k;
    g_snd.ex = ex;
    g_snd.want = (size_t)len;
    prompt(at);
    tm_at_data_in spec = {
        .count = (size_t)len,
        .on_data = pay_data,
        .on_end = pay_end,
        .room = pay_room,
        .arg = at,
        .idle_ms = ESP_PAYLOAD_IDLE_MS,
    };
    tm_at_data_in_start(at, &spec);
    return TM_AT_PENDING;
}

tm_err esp_cipsend_set(tm_at *at, const tm_at_args *a)
{
    if (g_sk.cipmode)
        return tm_fail(tm_at_reason(at), TM_E_STATE, "AT+CIPMODE=1 (passthrough): send with AT+CIPSEND alone, "
                       "or AT+CIPMODE=0 first");
    return send_start(at, a, false);
}

tm_err esp_cipsendex_set(tm_at *at, const tm_at_args *a)
{
    if (g_sk.cipmode)
        return tm_fail(tm_at_reason(at), TM_E_STATE, "AT+CIPMODE=1 (passthrough): AT+CIPSENDEX needs "
                       "AT+CIPMODE=0");
    return send_start(at, a, true);
}

/* ---- passthrough --------------------------------------------------------------- */

static size_t thru_room(void *arg)
{
    (void)arg;
    esp_link *k = g_snd.k;
    if (!k || k->state != ESP_L_OPEN)
        return 1 << 20;                   /* discarded: the link is gone */
    esp_link_pump_tx(k);
    return TM_SOCK_TX_BUF - k->tx_len;
}

static void thru_data(void *arg, const uint8_t *p, size_t n)
{
    (void)arg;
    esp_link *k = g_snd.k;
    if (!k || k->state != ESP_L_OPEN)
        return;
    if (k->kind == ESP_K_UDP) {
        if (esp_link_write(k, p, n) > 0)
            k->tx_total += n;
        return;
    }
    memcpy(k->tx + k->tx_len, p, n);
    k->tx_len += n;
    esp_link_pump_tx(k);
}

static void thru_end(void *arg, tm_at_data_end how, size_t total)
{
    (void)arg;
    g_snd.transparent = false;
    g_sk.transparent = false;
    g_snd.k = NULL;
    tm_trace("esp", "passthrough ended (%s) after %zu bytes from the host",
             how == TM_AT_DATA_END_ESCAPE ? "+++" : "host gone", total);
    if (how == TM_AT_DATA_END_ESCAPE && (esp_get(g_sk.at)->sysmsg & ESP_SYSMSG_QUITT))
        tm_at_line(g_sk.at, "+QUITT");       /* AT+SYSMSG bit 0 */
    tm_at_complete_silent(g_sk.at);
}

tm_err esp_cipsend_exec(tm_at *at, const tm_at_args *a)
{
    (void)a;
    esp_link *k = &g_sk.link[0];
    if (!g_sk.cipmode)
        return tm_fail(tm_at_reason(at), TM_E_STATE, "AT+CIPSEND without arguments is passthrough mode: set "
                       "AT+CIPMODE=1 first (or send with AT+CIPSEND=%s<length>)", g_sk.mux ? "<link ID>," : "");
    if (g_sk.mux)
        return tm_fail(tm_at_reason(at), TM_E_STATE, "passthrough needs a single connection (AT+CIPMUX=0)");
    if (k->state != ESP_L_OPEN)
        return tm_fail(tm_at_reason(at), TM_E_BAD_SESSION, "no connection is open (AT+CIPSTART first)");
    if (k->kind == ESP_K_UDP && k->udp_mode != 0)
        return tm_fail(tm_at_reason(at), TM_E_STATE, "UDP passthrough needs <mode> 0 in AT+CIPSTART");
    memset(&g_snd, 0, sizeof g_snd);
    g_snd.k = k;
    g_snd.transparent = true;
    g_sk.transparent = true;
    prompt(at);
    tm_at_data_in spec = {
        .escape = true,
        .on_data = thru_data,
        .on_end = thru_end,
        .room = thru_room,
        .arg = at,
    };
    tm_at_data_in_start(at, &spec);
    tm_trace("esp", "passthrough on link 0 (%s:%d): '+++' with %u ms of silence around it ends it", k->host,
             k->rport, (unsigned)tm_at_guard_ms(at));
    esp_recv_idle(NULL);
    return TM_AT_PENDING;
}
