/* tlsmodem-cert probe — connect like the modem does and explain the result.
 *
 * Connections (each a tm_stream driven by the posix loop, as in the modem):
 *   1. TLS with SNI = HOST, verified against the CA bundle: what the modem
 *      would say (tm_tls summary or reason);
 *   2. TLS with the server's IP as host (so no SNI), encrypt only: is the
 *      handshake aborted without SNI?
 *   3. TCP, then a recording-only TLS client (tm_tls_peek) to get the
 *      certificates the server sends, which tm_tls does not expose.
 * The chain is then checked offline (tm_tls_verify_offline = the modem's own
 * verification) against each bundle root that could anchor it. */
#include "diag/load_hint.h"
#include "cert.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "net/net.h"
#include "net/stream.h"
#include "port/port.h"
#include "port/posix/loop.h"
#include "diag/chain.h"
#include "diag/summary.h"
#include "tls/verify.h"

#define PROBE_TIMEOUT_MS 15000

typedef struct {
    tm_stream s;
    bool      done, ok;
    tm_reason why;
    char      summary[1024];
    char      verdict[512];
} conn;

static void c_open(void *a)
{
    conn *c = a;
    c->done = c->ok = true;
    if (c->s.tls) {
        snprintf(c->summary, sizeof c->summary, "%s", tm_tls_summary(c->s.tls));
        snprintf(c->verdict, sizeof c->verdict, "%s", tm_tls_verdict(c->s.tls));
    }
}
static void c_readable(void *a) { (void)a; }
static void c_writable(void *a) { (void)a; }
static void c_error(void *a, const tm_reason *w)
{
    conn *c = a;
    c->done = true;
    c->ok = false;
    c->why = *w;
}
static const tm_stream_events c_ev = { c_open, c_readable, c_writable, c_error };

/* Runs one connection to its open or failure; leaves the stream open on success. */
static void run_conn(conn *c, const tm_stream_opts *o)
{
    memset(c, 0, sizeof *c);
    tm_reason_clear(&c->why);
    if (tm_stream_open(&c->s, o, &c_ev, c, &c->why) != TM_OK) {
        c->done = true;
        return;
    }
    int64_t end = tm_port_mono_ms() + PROBE_TIMEOUT_MS;
    while (!c->done && tm_port_mono_ms() < end)
        tm_loop_run_once(200);
    if (!c->done) {
        tm_stream_close(&c->s);
        tm_fail(&c->why, TM_E_TIMEOUT, "no answer within %d s", PROBE_TIMEOUT_MS / 1000);
        c->done = true;
    }
}

/* Peeks at the chain over a TCP stream opened like the modem's. */
static tm_tls_peek *peek(const char *host, uint16_t port, const char *sni, tm_reason *why)
{
    conn c;
    tm_stream_opts o = { 0 };
    snprintf(o.host, sizeof o.host, "%s", host);
    o.port = port;
    o.use_tls = false;
    run_conn(&c, &o);
    if (!c.ok) {
        *why = c.why;
        return NULL;
    }
    tm_tls_peek *p = tm_tls_peek_new(c.s.fd, sni, false, why);
    int64_t end = tm_port_mono_ms() + PROBE_TIMEOUT_MS;
    tm_tls_status st = TM_TLS_FAILED;
    while (p && tm_port_mono_ms() < end) {
        st = tm_tls_peek_step(p, why);
        if (st == TM_TLS_OK || st == TM_TLS_FAILED)
            break;
        struct pollfd pf = { c.s.fd, (short)(st == TM_TLS_WANT_WRITE ? POLLOUT : POLLIN), 0 };
        poll(&pf, 1, 200);
    }
    if (p && st != TM_TLS_OK) {
        if (st != TM_TLS_FAILED)
            tm_fail(why, TM_E_TIMEOUT, "no TLS answer within %d s", PROBE_TIMEOUT_MS / 1000);
        tm_tls_peek_free(p);
        p = NULL;
    }
    tm_stream_close(&c.s);
    return p;
}

static bool split_hostport(const char *s, char *host, size_t cap, uint16_t *port)
{
    const char *colon;
    if (s[0] == '[') {
        const char *rb = strchr(s, ']');
        if (!rb || rb[1] != ':')
            return false;
        snprintf(host, cap, "%.*s", (int)(rb - s - 1), s + 1);
        colon = rb + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon || colon == s)
            return false;
        snprintf(host, cap, "%.*s", (int)(colon - s), s);
    }
    char *e;
    long p = strtol(colon + 1, &e, 10);
    if (*e || p < 1 || p > 65535)
        return false;
    *port = (uint16_t)p;
    return true;
}

/* One line per certificate sent: the summary the module's AT+TMPROBE and
 * AT+TMCERTLIST print (src/diag/summary.c), after the role. */
static void cert_line(size_t i, const tm_x509_info *x, int64_t now)
{
    char sum[1600];
    printf("  [%zu] %-12s %s\n", i, tm_x509_role(x),
           tm_x509_summary_line(x, now, i == 0 ? TM_SUMMARY_SANS : 0, sum, sizeof sum));
}

static void problem_line(void *arg, const char *text)
{
    (void)arg;
    printf("  - %s\n", text);
}

static bool bundle_has_subject(void *arg, const char *subject)
{
    const tc_items *b = arg;
    for (size_t i = 0; i < b->n; i++) {
        tm_x509_info bi;
        tm_reason w;
        if (tm_x509_info_der(b->items[i].p, b->items[i].len, &bi, &w) == TM_OK && strcmp(bi.subject, subject) == 0)
            return true;
    }
    return false;
}

int cmd_probe(const tc_opts *opt)
{
    const char *target = opt->args[0], *bundle = opt->ca_bundle, *dialect = opt->dialect, *form = opt->spwf_form;
    const char *script_out = opt->out;
    bool script_only = opt->script_only;
    tm_reason why;
    tm_reason_clear(&why);
    char host[TM_HOST_MAX];
    uint16_t port = 0;
    if (!split_hostport(target, host, sizeof host, &port)) {
        fprintf(stderr, "tlsmodem-cert probe: '%s': expected HOST:PORT, e.g. www.example.com:443 or [::1]:8443 "
                        "(try 'tlsmodem-cert probe --help')\n", target);
        return TC_EXIT_USAGE;
    }
    /* with --script stdout carries only the AT script: the report goes to stderr */
    int real_out = -1;
    if (script_only) {
        fflush(stdout);
        real_out = dup(1);
        dup2(2, 1);
    }

    int64_t now = (int64_t)time(NULL);
    char err[1400];
    tc_items bundle_items = { 0 };
    if (tc_load(bundle, TM_ITEM_CERT, &bundle_items, err, sizeof err) != 0) {
        fprintf(stderr, "probe: --ca-bundle %s\n", err);
        return TC_EXIT_INPUT;
    }
    struct sockaddr_storage ss;
    socklen_t sl;
    char addr[80] = "", ip[80] = "";
    if (tm_net_resolve(host, port, &ss, &sl, &why) != TM_OK) {
        fprintf(stderr, "probe: %s: %s\n", host, why.detail);
        tc_items_free(&bundle_items);
        return TC_EXIT_FAIL;
    }
    tm_net_addr_str(&ss, addr, sizeof addr);
    snprintf(ip, sizeof ip, "%s", addr);
    char *pc = strrchr(ip, ':');
    if (pc)
        *pc = '\0';
    if (ip[0] == '[') {
        memmove(ip, ip + 1, strlen(ip));
        char *rb = strchr(ip, ']');
        if (rb)
            *rb = '\0';
    }
    bool host_is_ip = tm_net_is_ip_literal(host);
    printf("probe %s:%u (%s)\n", host, port, addr);
    printf("trust: the CA bundle %s (%zu certificate%s), as the modem uses it when nothing is loaded\n", bundle,
           bundle_items.n, bundle_items.n == 1 ? "" : "s");

    /* 1. as the modem */
    conn c1;
    tm_stream_opts o = { 0 };
    snprintf(o.host, sizeof o.host, "%s", host);
    o.port = port;
    o.use_tls = true;
    o.tls.verify = true;
    o.tls.bundle_path = bundle;
    o.tls.now = now;
    o.tls.clock_set = true;
    o.tls.host_now = now;
    run_conn(&c1, &o);
    char rt[TM_DETAIL_MAX + 200];
    printf("\nas the modem connects (SNI %s, verify against the bundle):\n", host_is_ip ? "none: IP literal" : host);
    if (c1.ok)
        printf("  OK: %s\n", c1.summary);
    else
        printf("  FAILED: %s (%d): %s\n", tm_err_name(c1.why.code), (int)c1.why.code, tm_reason_text(&c1.why, rt, sizeof rt));
    if (c1.ok)
        tm_stream_close(&c1.s);

    /* 3. the chain (with SNI) */
    tm_reason pwhy;
    tm_reason_clear(&pwhy);
    tm_tls_peek *pk = peek(host, port, host_is_ip ? NULL : host, &pwhy);

    /* 2. without SNI */
    bool sni_needed = false;
    printf("\nwithout SNI (host %s, no verification):\n", ip);
    if (host_is_ip) {
        printf("  not tried: the host is an IP literal, the modem never sends SNI to it\n");
    } else {
        conn c2;
        tm_stream_opts o2 = { 0 };
        snprintf(o2.host, sizeof o2.host, "%s", ip);
        o2.port = port;
        o2.use_tls = true;
        o2.tls.verify = false;
        o2.tls.now = now;
        o2.tls.clock_set = true;
        o2.tls.host_now = now;
        run_conn(&c2, &o2);
        if (c2.ok) {
            printf("  handshake completed: %s -> the server does not need SNI\n", c2.summary);
            tm_stream_close(&c2.s);
            /* same certificate without SNI? */
            tm_reason w3;
            tm_tls_peek *p0 = peek(host, port, NULL, &w3);
            if (p0 && pk) {
                tm_blob a[1], b[1];
                if (tm_tls_peek_chain(p0, a, 1) && tm_tls_peek_chain(pk, b, 1) &&
                    (a[0].len != b[0].len || memcmp(a[0].p, b[0].p, a[0].len) != 0)) {
                    tm_x509_info *x = calloc(1, sizeof *x);
                    if (x && tm_x509_info_der(a[0].p, a[0].len, x, &w3) == TM_OK)
                        printf("  but without SNI it sends another certificate: %s (SANs %s): a module "
                               "without SNI would see that one\n", x->subject, x->n_sans ? x->sans : "none");
                    free(x);
                }
            }
            tm_tls_peek_free(p0);
        } else {
            bool reached = c1.ok || pk != NULL;
            sni_needed = reached;
            printf("  handshake aborted: %s (%d): %s\n", tm_err_name(c2.why.code), (int)c2.why.code,
                   tm_reason_text(&c2.why, rt, sizeof rt));
            if (reached)
                printf("  -> the server needs SNI (the TLS server name): with it the handshake goes through. "
                       "tlsmodem always sends it for host names; modules that do not (such as the HL8548) fail here\n");
        }
    }

    int problems = 0;
    tm_x509_info *x = NULL;
    tm_blob chain[TM_PEEK_MAX_CERTS];
    size_t n = 0;
    tc_items anchor = { 0 };
    if (!pk) {
        printf("\nchain: not received: %s\n", tm_reason_text(&pwhy, rt, sizeof rt));
        problems++;
        goto script;
    }
    printf("\nnegotiated: %s %s%s%s\n", tm_tls_peek_version(pk), tm_tls_peek_suite(pk),
           tm_tls_peek_group(pk)[0] ? ", group " : "", tm_tls_peek_group(pk));
    n = tm_tls_peek_chain(pk, chain, TM_PEEK_MAX_CERTS);
    x = calloc(n ? n : 1, sizeof *x);
    printf("\nchain sent by the server (%zu certificate%s):\n", n, n == 1 ? "" : "s");
    for (size_t i = 0; i < n && x; i++) {
        if (tm_x509_info_der(chain[i].p, chain[i].len, &x[i], &why) == TM_OK)
            cert_line(i, &x[i], now);
        else
            printf("  [%zu] does not parse: %s\n", i, why.detail);
    }

    /* problems */
    printf("\nproblems:\n");
    size_t top = 0;
    if (!x) {
        printf("  - out of memory for the chain\n");
        problems++;
    } else {
        tm_chain_check cc = { host, now, bundle_has_subject, &bundle_items, "the bundle", tm_load_root_hint(dialect) };
        problems += (int)tm_chain_problems(chain, x, n, &cc, problem_line, NULL, &top);
    }
    if (sni_needed) {
        printf("  - the server needs SNI (not a problem for tlsmodem, which sends it)\n");
    }

    /* anchor: which bundle certificate makes the modem accept the chain */
    if (x && n) {
        const char *want = x[top].self_signed ? x[top].subject : x[top].issuer;
        tm_reason last;
        tm_reason_clear(&last);
        size_t tried = 0;
        for (size_t b = 0; b < bundle_items.n && anchor.n == 0; b++) {
            tm_x509_info bi;
            if (tm_x509_info_der(bundle_items.items[b].p, bundle_items.items[b].len, &bi, &why) != TM_OK ||
                strcmp(bi.subject, want) != 0)
                continue;
            tried++;
            tm_tls_config cfg = { 0 };
            cfg.host = host;
            cfg.verify = true;
            cfg.anchors = &bundle_items.items[b];
            cfg.n_anchors = 1;
            cfg.now = now;
            cfg.clock_set = true;
            cfg.host_now = now;
            char v[512];
            tm_reason w;
            tm_reason_clear(&w);
            if (tm_tls_verify_offline(chain, n, &cfg, v, sizeof v, &w) == TM_OK) {
                anchor.items = malloc(sizeof *anchor.items);
                anchor.labels = calloc(1, sizeof *anchor.labels);
                uint8_t *d = malloc(bundle_items.items[b].len);
                if (anchor.items && anchor.labels && d) {
                    memcpy(d, bundle_items.items[b].p, bundle_items.items[b].len);
                    anchor.items[0].p = d;
                    anchor.items[0].len = bundle_items.items[b].len;
                    snprintf(anchor.labels[0], sizeof anchor.labels[0], "CERTIFICATE");
                    anchor.n = 1;
                    anchor.fmt = TM_FMT_DER;
                    printf("\nanchor: %s '%s' from the bundle (SKI %s, SHA-256 %s)\n"
                           "  the modem's verification with only this certificate loaded: %s\n",
                           bi.self_signed ? "root" : "CA", bi.subject, bi.ski[0] ? bi.ski : bi.ski_computed,
                           bi.sha256, v);
                } else {
                    free(d);
                }
            } else {
                last = w;
            }
        }
        if (anchor.n == 0) {
            if (tried)
                printf("\nanchor: '%s' is in the bundle, but the modem would still refuse the chain: %s\n", want,
                       tm_reason_text(&last, rt, sizeof rt));
            else
                printf("\nanchor: none: no certificate in the bundle is '%s'\n", want);
            problems++;
        }
    }

script:
    if (anchor.n) {
        char *s = NULL;
        char e2[300];
        size_t sl2 = tc_at_script(&anchor, dialect, "ca", form, -1, &s, e2, sizeof e2);
        if (sl2) {
            bool spwf = strcmp(dialect, "spwf") == 0, esp = strcmp(dialect, "esp") == 0;
            if (script_out) {
                FILE *f = fopen(script_out, "wb");
                if (!f || fwrite(s, 1, sl2, f) != sl2) {
                    fprintf(stderr, "probe: -o %s: %s\n", script_out, strerror(errno));
                } else {
                    printf("\nAT script for %s written to %s (%zu bytes)\n", dialect, script_out, sl2);
                }
                if (f)
                    fclose(f);
            }
            size_t cmdl = strcspn(s, "\r");
            printf("\nAT commands to load this root (%s dialect; the count is of the exact bytes that follow "
                   "the command's %s):\n", dialect, esp ? "CR LF" : "CR");
            if (esp) {
                /* command CR LF, the PEM, then AT+CIPSSLCCONF CR LF */
                size_t data_at = cmdl + 2, data_len;
                const char *comma = s + cmdl;
                while (comma > s && comma[-1] != ',')
                    comma--;
                data_len = (size_t)strtoul(comma, NULL, 10);
                printf("----8<----\n");
                fwrite(s, 1, cmdl, stdout);
                printf("<CR><LF>\n");
                fwrite(s + data_at, 1, data_len, stdout);
                const char *rest = s + data_at + data_len;
                printf("%.*s<CR><LF>\n", (int)strcspn(rest, "\r"), rest);
                printf("----8<----\n");
                printf("  the module answers OK and > after the first line, OK after the PEM and OK to "
                       "AT+CIPSSLCCONF (verify with this root on the link; AT+HTTPCLIENT https:// uses it as well).\n"
                       "  To pipe it: tlsmodem-cert probe %s --dialect esp ... --script | <modem>\n", target);
            } else if (!spwf) {
                printf("----8<----\n");
                fwrite(s, 1, cmdl, stdout);
                printf("<CR>\n");
                fwrite(s + cmdl + 1, 1, sl2 - cmdl - 1, stdout);
                printf("----8<----\n");
                printf("  then the module answers OK. To pipe it: tlsmodem-cert probe %s ... --script | <modem>\n", target);
            } else {
                printf("  %.*s<CR> followed by %zu bytes DER (binary: use -o FILE or --script to send it)\n",
                       (int)cmdl, s, sl2 - cmdl - 1);
                char ski[64] = "";
                tm_x509_info *ai = calloc(1, sizeof *ai);
                if (ai && tm_x509_info_der(anchor.items[0].p, anchor.items[0].len, ai, &why) == TM_OK)
                    tc_ski_hex(ai, ski, sizeof ski);
                free(ai);
                printf("  the module answers AT-S.SubjectKeyId:<SKI> and AT-S.OK; as a file-system CA it is "
                       "AT+S.FSC=/%s.ca,%zu (--spwf-form fs)\n", ski, sl2 - cmdl - 1);
            }
            if (real_out >= 0) {
                for (size_t w = 0; w < sl2;) {
                    ssize_t k = write(real_out, s + w, sl2 - w);
                    if (k <= 0)
                        break;
                    w += (size_t)k;
                }
            }
            free(s);
        }
    } else {
        printf("\nno AT script: no root in the bundle anchors this chain\n");
    }
    printf("\nresult: %s\n", c1.ok && problems == 0 ? "OK: the modem connects and verifies"
                                                  : c1.ok ? "the modem connects, with the problems above"
                                                          : "the modem would fail (see above)");
    fflush(stdout);
    if (real_out >= 0)
        close(real_out);
    free(x);
    tm_tls_peek_free(pk);
    tc_items_free(&anchor);
    tc_items_free(&bundle_items);
    return c1.ok && problems == 0 ? TC_EXIT_OK : TC_EXIT_FAIL;
}
