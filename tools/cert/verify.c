/* tlsmodem-cert verify — the modem's own verification (tm_tls_verify_offline:
 * the modem's TLS client, its policy and its reasons) over a chain file. */
#include "cert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tls/verify.h"

/* The name the leaf is for, when the user gave no --host. */
static void leaf_name(const tm_x509_info *x, char *out, size_t cap)
{
    out[0] = '\0';
    const char *s = x->sans;
    while (*s) {
        while (*s == ' ' || *s == ',')
            s++;
        if (strncmp(s, "DNS:", 4) == 0 || strncmp(s, "IP:", 3) == 0) {
            const char *v = s + (s[0] == 'D' ? 4 : 3);
            size_t l = strcspn(v, ",");
            if (l < cap && !(l && v[0] == '*')) {
                snprintf(out, cap, "%.*s", (int)l, v);
                return;
            }
        }
        s += strcspn(s, ",");
    }
    if (x->cn[0])
        snprintf(out, cap, "%s", x->cn);
}

int cmd_verify(const tc_opts *o)
{
    const char *chain_path = o->args[0], *ca = o->ca, *host = o->host;
    int64_t now = o->time_given ? o->now : (int64_t)time(NULL);
    bool time_given = o->time_given;
    char err[1400];
    tc_items chain, anchors = { 0 };
    if (tc_load(chain_path, TM_ITEM_CERT, &chain, err, sizeof err) != 0) {
        fprintf(stderr, "verify: %s\n", err);
        return TC_EXIT_INPUT;
    }
    if (ca && tc_load(ca, TM_ITEM_CERT, &anchors, err, sizeof err) != 0) {
        fprintf(stderr, "verify: --ca %s\n", err);
        tc_items_free(&chain);
        return TC_EXIT_INPUT;
    }
    tm_x509_info *x = calloc(1, sizeof *x);
    tm_reason why;
    tm_reason_clear(&why);
    char tb[40], name[TM_HOST_MAX];
    printf("chain: %zu certificate%s (%s) from %s\n", chain.n, chain.n == 1 ? "" : "s", tm_fmt_name(chain.fmt), chain_path);
    for (size_t i = 0; i < chain.n; i++) {
        if (tm_x509_info_der(chain.items[i].p, chain.items[i].len, x, &why) != TM_OK) {
            printf("  [%zu] does not parse: %s\n", i, why.detail);
            continue;
        }
        if (i == 0)
            leaf_name(x, name, sizeof name);
        printf("  [%zu] %-12s %s (issuer %s)\n", i, tc_role(x), x->subject, x->issuer);
    }
    if (ca) {
        printf("trust: %s (%zu certificate%s, as if loaded into the module)\n", ca, anchors.n, anchors.n == 1 ? "" : "s");
    } else {
        printf("trust: the CA bundle %s (as when nothing is loaded)\n", TC_DEFAULT_BUNDLE);
    }
    if (host)
        printf("host:  %s\n", host);
    else
        printf("host:  %s (no --host: the leaf's first name; give --host to check the name you connect to)\n",
               name[0] ? name : "(none)");
    printf("time:  %s (%s)\n", tm_x509_time_str(now, tb, sizeof tb), time_given ? "--time" : "host clock");

    tm_tls_config cfg = { 0 };
    cfg.host = host ? host : name;
    cfg.verify = true;
    cfg.anchors = anchors.items;
    cfg.n_anchors = anchors.n;
    cfg.bundle_path = ca ? NULL : TC_DEFAULT_BUNDLE;
    cfg.now = now;
    cfg.clock_set = true;
    cfg.clock_from_cmd = false;
    cfg.clock_trusted = time_given;    /* --time is what the user asks about: no clock diagnosis */
    cfg.host_now = now;
    char verdict[512];
    tm_reason_clear(&why);
    tm_err e = tm_tls_verify_offline(chain.items, chain.n, &cfg, verdict, sizeof verdict, &why);
    int rc;
    if (e == TM_OK) {
        printf("VALID: %s\n", verdict);
        rc = TC_EXIT_OK;
    } else {
        char t[TM_DETAIL_MAX + 200];
        printf("NOT VALID: %s (%d): %s\n", tm_err_name(e), (int)e, tm_reason_text(&why, t, sizeof t));
        rc = TC_EXIT_FAIL;
    }
    free(x);
    tc_items_free(&chain);
    tc_items_free(&anchors);
    return rc;
}
