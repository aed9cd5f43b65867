/* tlsmodem — the asynchronous server probe (see probe.h). */
#include "diag/probe.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/trace.h"
#include "diag/chain.h"
#include "net/net.h"
#include "port/port.h"
#include "tls/x509.h"

enum { PH_IDLE, PH_SNI_TCP, PH_SNI_TLS, PH_NOSNI_TCP, PH_NOSNI_TLS, PH_REAL, PH_REPORT };

static void say(tm_probe *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(tm_probe *p, const char *fmt, ...)
{
    char buf[TM_DETAIL_MAX + 1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    /* one line: a reason never breaks the report */
    for (char *c = buf; *c; c++)
        if (*c == '\r' || *c == '\n')
            *c = ' ';
    p->line(p->arg, buf);
}

static void cancel_timers(tm_probe *p)
{
    if (p->timer)
        tm_port_timer_cancel(p->timer);
    if (p->next_timer)
        tm_port_timer_cancel(p->next_timer);
    p->timer = p->next_timer = 0;
}

static void release(tm_probe *p)
{
    cancel_timers(p);
    tm_stream_close(&p->s);
    tm_tls_peek_free(p->pk);
    tm_tls_peek_free(p->pk0);
    p->pk = p->pk0 = p->cur = NULL;
}

static void finish(tm_probe *p, tm_err e, const tm_reason *why)
{
    release(p);
    p->active = false;
    p->phase = PH_IDLE;
    tm_trace("diag", "probe %s:%u finished: %s", p->host, p->port, e ? tm_err_name(e) : "ok");
    if (p->done)
        p->done(p->arg, e, why);
}

static void next_phase(tm_probe *p);
static void on_next(void *arg)
{
    tm_probe *p = arg;
    p->next_timer = 0;
    next_phase(p);
}

/* Runs the next phase from the loop, outside the callback that ended this one. */
static void schedule_next(tm_probe *p)
{
    cancel_timers(p);
    p->next_timer = tm_port_timer_add(0, on_next, p);
    if (!p->next_timer) {
        tm_reason w;
        tm_fail(&w, TM_E_INTERNAL, "the event loop has no room for another timer");
        finish(p, w.code, &w);
    }
}

/* ---- the recording TLS client over the stream's socket -------------------- */

static void peek_step(tm_probe *p);

static void peek_io(void *arg, int fd, unsigned revents)
{
    (void)fd;
    (void)revents;
    peek_step(arg);
}

static void peek_ended(tm_probe *p, bool ok, const tm_reason *why)
{
    if (p->timer)
        tm_port_timer_cancel(p->timer);
    p->timer = 0;
    tm_stream_close(&p->s);
    if (p->phase == PH_SNI_TLS) {
        p->sni_tls_ok = ok;
        if (!ok) {
            p->sni_why = *why;
            tm_tls_peek_free(p->pk);
            p->pk = NULL;
        }
    } else {
        p->nosni_tls_ok = ok;
        if (!ok) {
            p->nosni_why = *why;
            tm_tls_peek_free(p->pk0);
            p->pk0 = NULL;
        }
    }
    p->cur = NULL;
    schedule_next(p);
}

static void peek_step(tm_probe *p)
{
    tm_reason why;
    tm_reason_clear(&why);
    tm_tls_status st = tm_tls_peek_step(p->cur, &why);
    if (st == TM_TLS_WANT_READ || st == TM_TLS_WANT_WRITE) {
        tm_port_watch(p->s.fd, st == TM_TLS_WANT_WRITE ? TM_IO_WRITE : TM_IO_READ, peek_io, p);
        return;
    }
    if (st != TM_TLS_OK && why.code == TM_OK)
        tm_fail(&why, TM_E_TLS_HANDSHAKE, "the TLS handshake failed");
    peek_ended(p, st == TM_TLS_OK, &why);
}

static void peek_timeout(void *arg)
{
    tm_probe *p = arg;
    p->timer = 0;
    tm_reason why;
    tm_fail(&why, TM_E_TIMEOUT, "no TLS answer from %s within %d s", p->s.addr_str,
            TM_PROBE_TLS_TIMEOUT_MS / 1000);
    peek_ended(p, false, &why);
}

/* ---- stream events ---------------------------------------------------------- */

static void header_lines(tm_probe *p)
{
    char t[40];
    const tm_tls_config *c = &p->cfg;
    say(p, "probe %s:%u (%s)", p->host, p->port, p->s.addr_str[0] ? p->s.addr_str : "not resolved");
    char trust[TM_DETAIL_MAX];
    if (c->n_anchors)
        snprintf(trust, sizeof trust, "%zu stored certificate%s (only these)", c->n_anchors,
                 c->n_anchors == 1 ? "" : "s");
    else if (c->bundle_path)
        snprintf(trust, sizeof trust, "nothing stored, the default bundle %s", c->bundle_path);
    else
        snprintf(trust, sizeof trust, "nothing stored and no default bundle (no server can be verified)");
    if (c->clock_set)
        say(p, "trust: %s; module clock %s", trust, tm_x509_time_str(c->now, t, sizeof t));
    else
        say(p, "trust: %s; module clock not set", trust);
}

static void s_open(void *arg)
{
    tm_probe *p = arg;
    if (p->phase == PH_REAL) {
        p->sni_tls_ok = true;
        tm_reason_clear(&p->why);
        snprintf(p->why.detail, sizeof p->why.detail, "%s", p->s.tls ? tm_tls_verdict(p->s.tls) : "");
        tm_stream_close(&p->s);
        schedule_next(p);
        return;
    }
    bool sni = p->phase == PH_SNI_TCP;
    if (sni)
        header_lines(p);
    tm_reason why;
    tm_reason_clear(&why);
    tm_tls_peek *pk = tm_tls_peek_new(p->s.fd, sni && !p->host_is_ip ? p->host : NULL, false, &why);
    p->phase = sni ? PH_SNI_TLS : PH_NOSNI_TLS;
    if (!pk) {
        peek_ended(p, false, &why);
        return;
    }
    if (sni)
        p->pk = pk;
    else
        p->pk0 = pk;
    p->cur = pk;
    p->timer = tm_port_timer_add(TM_PROBE_TLS_TIMEOUT_MS, peek_timeout, p);
    peek_step(p);
}

static void s_readable(void *arg) { (void)arg; }
static void s_writable(void *arg) { (void)arg; }

static void s_error(void *arg, const tm_reason *w)
{
    tm_probe *p = arg;
    if (p->phase == PH_SNI_TCP) {
        header_lines(p);
        finish(p, w->code ? w->code : TM_E_NET, w);
        return;
    }
    if (p->phase == PH_REAL) {
        p->sni_tls_ok = false;
        p->why = *w;
        schedule_next(p);
        return;
    }
    /* without SNI, at TCP level: say so, go on */
    p->nosni_tls_ok = false;
    p->nosni_why = *w;
    p->phase = PH_NOSNI_TLS;
    schedule_next(p);
}

static const tm_stream_events s_ev = { s_open, s_readable, s_writable, s_error };

static tm_err open_tcp(tm_probe *p, tm_reason *why)
{
    tm_stream_opts o;
    memset(&o, 0, sizeof o);
    snprintf(o.host, sizeof o.host, "%s", p->host);
    o.port = p->port;
    o.use_tls = false;
    return tm_stream_open(&p->s, &o, &s_ev, p, why);
}

/* ---- the report --------------------------------------------------------------- */

static void problem_line(void *arg, const char *text)
{
    say(arg, "problem: %s", text);
}

static bool has_anchor_subject(void *arg, const char *subject)
{
    const tm_tls_config *c = arg;
    for (size_t i = 0; i < c->n_anchors; i++) {
        tm_x509_info x;
        tm_reason w;
        if (tm_x509_info_der(c->anchors[i].p, c->anchors[i].len, &x, &w) == TM_OK && strcmp(x.subject, subject) == 0)
            return true;
    }
    return false;
}

static void report(tm_probe *p)
{
    char rt[TM_DETAIL_MAX + 256];
    tm_blob chain[TM_PEEK_MAX_CERTS];
    size_t n = p->pk ? tm_tls_peek_chain(p->pk, chain, TM_PEEK_MAX_CERTS) : 0;
    tm_x509_info *x = n ? calloc(n, sizeof *x) : NULL;
    if (n && !x) {
        tm_reason w;
        tm_fail(&w, TM_E_NO_MEMORY, "probe report");
        finish(p, w.code, &w);
        return;
    }
    int64_t now = p->cfg.now;

    /* 1. what the server sent with SNI */
    if (p->pk) {
        const char *g = tm_tls_peek_group(p->pk);
        if (p->host_is_ip)
            say(p, "TLS: %s %s%s%s, no SNI (%s is an IP literal)", tm_tls_peek_version(p->pk),
                tm_tls_peek_suite(p->pk), g[0] ? ", group " : "", g, p->host);
        else
            say(p, "TLS: %s %s%s%s, SNI %s", tm_tls_peek_version(p->pk), tm_tls_peek_suite(p->pk),
                g[0] ? ", group " : "", g, p->host);
        say(p, "chain: %zu certificate%s sent", n, n == 1 ? "" : "s");
        for (size_t i = 0; i < n; i++) {
            tm_reason w;
            tm_reason_clear(&w);
            char sum[1600];
            if (tm_x509_info_der(chain[i].p, chain[i].len, &x[i], &w) == TM_OK)
                say(p, "[%zu] %s", i, tm_x509_summary_line(&x[i], now, TM_SUMMARY_ROLE | (i == 0 ? TM_SUMMARY_SANS : 0),
                                                           sum, sizeof sum));
            else
                say(p, "[%zu] does not parse: %s", i, w.detail);
        }
    } else {
        say(p, "TLS with SNI %s: handshake failed: %s", p->host_is_ip ? "(none: IP literal)" : p->host,
            tm_reason_text(&p->sni_why, rt, sizeof rt));
    }

    /* 2. SNI */
    bool sni_needed = false;
    if (p->host_is_ip) {
        say(p, "server needs SNI: not tried (%s is an IP literal: no SNI is ever sent to it)", p->host);
    } else if (p->nosni_tls_ok) {
        if (p->pk) {
            say(p, "server needs SNI: no (the handshake without SNI completes too)");
            tm_blob a[1], b[1];
            if (p->pk0 && tm_tls_peek_chain(p->pk0, a, 1) && n &&
                tm_tls_peek_chain(p->pk, b, 1) && (a[0].len != b[0].len || memcmp(a[0].p, b[0].p, a[0].len) != 0)) {
                tm_x509_info *o = calloc(1, sizeof *o);
                tm_reason w;
                if (o && tm_x509_info_der(a[0].p, a[0].len, o, &w) == TM_OK)
                    say(p, "without SNI the server sends another certificate: '%s' (SANs %s)", o->subject,
                        o->n_sans ? o->sans : "none");
                free(o);
            }
        } else {
            say(p, "server needs SNI: no, but the handshake WITH SNI fails (see above)");
        }
    } else if (p->pk) {
        sni_needed = true;
        say(p, "server needs SNI: yes (without SNI: %s)", tm_reason_text(&p->nosni_why, rt, sizeof rt));
    } else {
        say(p, "server needs SNI: unknown (the handshake fails without SNI too: %s)",
            tm_reason_text(&p->nosni_why, rt, sizeof rt));
    }

    /* 3. verdict: the modem's own verification with the caller's trust and clock */
    tm_err verdict = TM_OK;
    if (n) {
        tm_tls_config c = p->cfg;
        c.host = p->host;
        c.verify = true;
        char v[512];
        tm_reason w;
        tm_reason_clear(&w);
        verdict = tm_tls_verify_offline(chain, n, &c, v, sizeof v, &w);
        if (verdict == TM_OK)
            say(p, "verdict: %s", v);
        else
            say(p, "verdict: refused: %s", tm_reason_text(&w, rt, sizeof rt));
    } else if (p->phase == PH_REPORT && p->why.code != TM_OK) {
        /* no chain to look at: what a real connection says */
        say(p, "verdict: refused: %s", tm_reason_text(&p->why, rt, sizeof rt));
        verdict = p->why.code;
    } else if (p->phase == PH_REPORT && p->sni_tls_ok) {
        say(p, "verdict: %s", p->why.detail);
    } else {
        say(p, "verdict: no certificate received");
    }

    /* 4. problems of the chain as sent */
    size_t problems = 0;
    if (n) {
        tm_chain_check cc = { p->host, now, NULL, (void *)&p->cfg, "the stored certificates", p->cfg.load_hint };
        if (p->cfg.n_anchors)
            cc.has_subject = has_anchor_subject;
        size_t top = 0;
        problems = tm_chain_problems(chain, x, n, &cc, problem_line, p, &top);
        if (!p->cfg.n_anchors && verdict == TM_E_CERT_CHAIN_INCOMPLETE && !x[top].self_signed) {
            say(p, "problem: incomplete chain: the issuer '%s' of [%zu] '%s' was not sent and is not in %s: "
                   "the server must send its intermediate certificate(s)", x[top].issuer, top, x[top].subject,
                p->cfg.bundle_path ? "the default bundle" : "the trust");
            problems++;
        }
    }
    if (sni_needed) {
        say(p, "problem: the server needs SNI (not a problem for tlsmodem, which sends it; "
               "modules that do not send it fail here)");
        problems++;
    }
    if (!problems)
        say(p, "problems: none");
    free(x);
    finish(p, TM_OK, NULL);
}

static void next_phase(tm_probe *p)
{
    tm_reason why;
    tm_reason_clear(&why);
    switch (p->phase) {
    case PH_SNI_TLS:
        if (!p->host_is_ip) {
            p->phase = PH_NOSNI_TCP;
            if (open_tcp(p, &why) != TM_OK) {
                p->nosni_tls_ok = false;
                p->nosni_why = why;
                p->phase = PH_NOSNI_TLS;
                schedule_next(p);
            }
            return;
        }
        /* nothing to try without SNI */
        __attribute__((fallthrough));
    case PH_NOSNI_TLS:
        if (!p->pk) {
            /* no chain: let a real modem connection say why */
            tm_stream_opts o;
            memset(&o, 0, sizeof o);
            snprintf(o.host, sizeof o.host, "%s", p->host);
            o.port = p->port;
            o.use_tls = true;
            o.tls = p->cfg;
            o.tls.verify = true;
            o.connect_timeout_ms = TM_PROBE_TLS_TIMEOUT_MS;
            p->phase = PH_REAL;
            tm_reason_clear(&p->why);
            if (tm_stream_open(&p->s, &o, &s_ev, p, &why) != TM_OK) {
                p->why = why;
                p->phase = PH_REPORT;
                report(p);
            }
            return;
        }
        p->phase = PH_REPORT;
        report(p);
        return;
    case PH_REAL:
        p->phase = PH_REPORT;
        report(p);
        return;
    default:
        return;
    }
}

tm_err tm_probe_start(tm_probe *p, const char *host, uint16_t port, const tm_tls_config *cfg,
                      tm_diag_line_fn line, tm_probe_done_fn done, void *arg, tm_reason *why)
{
    if (p->active)
        return tm_fail(why, TM_E_BUSY, "a probe is already running");
    memset(p, 0, sizeof *p);
    p->s.fd = -1;
    snprintf(p->host, sizeof p->host, "%s", host);
    p->port = port;
    p->cfg = *cfg;
    p->cfg.host = p->host;
    p->cfg.verify = true;
    p->line = line;
    p->done = done;
    p->arg = arg;
    p->host_is_ip = tm_net_is_ip_literal(p->host);
    tm_reason_clear(&p->sni_why);
    tm_reason_clear(&p->nosni_why);
    tm_reason_clear(&p->why);
    p->phase = PH_SNI_TCP;
    tm_trace("diag", "probe %s:%u", p->host, p->port);
    tm_err e = open_tcp(p, why);
    if (e != TM_OK) {
        p->phase = PH_IDLE;
        return e;
    }
    p->active = true;
    return TM_OK;
}

void tm_probe_cancel(tm_probe *p)
{
    if (!p->active)
        return;
    release(p);
    p->active = false;
    p->phase = PH_IDLE;
}

bool tm_probe_running(const tm_probe *p)
{
    return p->active;
}
