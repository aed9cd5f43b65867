/* tlsmodem — problems of a chain as sent (see chain.h). */
#include "diag/load_hint.h"
#include "diag/chain.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tls/hostmatch.h"
#include "tls/policy.h"

/* SAN text "DNS:a, IP:1.2.3.4" -> tm_san list for the policy's name check. */
static size_t parse_sans(const char *s, tm_san *out, size_t cap, char *strbuf, size_t scap)
{
    size_t n = 0, so = 0;
    while (*s && n < cap) {
        while (*s == ' ' || *s == ',')
            s++;
        size_t l = strcspn(s, ",");
        if (strncmp(s, "DNS:", 4) == 0 && so + l < scap) {
            memcpy(strbuf + so, s + 4, l - 4);
            strbuf[so + l - 4] = '\0';
            out[n].type = TM_SAN_DNS;
            out[n].dns = strbuf + so;
            so += l - 3;
            n++;
        } else if (strncmp(s, "IP:", 3) == 0 && l < 64) {
            char ip[64];
            snprintf(ip, sizeof ip, "%.*s", (int)(l - 3), s + 3);
            int k = tm_host_parse_ip(ip, out[n].ip);
            if (k) {
                out[n].type = TM_SAN_IP;
                out[n].ip_len = (size_t)k;
                n++;
            }
        }
        s += l;
    }
    return n;
}

tm_err tm_chain_check_name(const tm_x509_info *leaf, const char *host, tm_reason *why)
{
    tm_san sans[64];
    char sb[4096];
    size_t ns = parse_sans(leaf->sans, sans, 64, sb, sizeof sb);
    tm_name_facts nf = { sans, ns, leaf->cn[0] ? leaf->cn : NULL };
    return tm_policy_check_name(host, &nf, why);
}

static void say(tm_diag_line_fn line, void *larg, size_t *count, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void say(tm_diag_line_fn line, void *larg, size_t *count, const char *fmt, ...)
{
    char buf[TM_DETAIL_MAX + 1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    line(larg, buf);
    (*count)++;
}

size_t tm_chain_problems(const tm_blob *chain, const tm_x509_info *x, size_t n, const tm_chain_check *c,
                         tm_diag_line_fn line, void *larg, size_t *top_out)
{
    size_t count = 0;
    if (top_out)
        *top_out = 0;
    if (n == 0) {
        say(line, larg, &count, "the server sent no certificate");
        return count;
    }
    bool dup[64] = { false };
    if (n > 64)
        n = 64;
    for (size_t i = 1; i < n; i++)
        for (size_t j = 0; j < i && !dup[i]; j++)
            if (chain[i].len == chain[j].len && memcmp(chain[i].p, chain[j].p, chain[i].len) == 0) {
                dup[i] = true;
                say(line, larg, &count, "duplicate: [%zu] is the same certificate as [%zu] ('%s'); harmless for the "
                    "modem, but the server's chain file lists it twice", i, j, x[i].subject);
            }
    for (size_t i = 0; i + 1 < n; i++) {
        if (dup[i] || dup[i + 1] || strcmp(x[i].issuer, x[i + 1].subject) == 0)
            continue;
        bool found = false;
        for (size_t j = 0; j < n; j++)
            found |= j != i && strcmp(x[i].issuer, x[j].subject) == 0;
        say(line, larg, &count, "out of order: [%zu] '%s' is followed by [%zu] '%s', not by its issuer '%s'%s", i,
            x[i].subject, i + 1, x[i + 1].subject, x[i].issuer, found ? " (sent elsewhere in the list)" : "");
    }
    for (size_t i = 0; i < n; i++) {
        char d[40];
        if (c->now > x[i].not_after)
            say(line, larg, &count, "expired: [%zu] '%s' expired on %s", i, x[i].subject,
                tm_x509_time_str(x[i].not_after, d, sizeof d));
        else if (c->now < x[i].not_before)
            say(line, larg, &count, "not yet valid: [%zu] '%s' until %s", i, x[i].subject,
                tm_x509_time_str(x[i].not_before, d, sizeof d));
        bool rsa = !strcmp(x[i].key_type, "RSA") || !strcmp(x[i].key_type, "DSA");
        if ((rsa && x[i].key_bits < TM_POLICY_RSA_MIN_BITS) ||
            (!strcmp(x[i].key_type, "EC") && x[i].key_bits < TM_POLICY_EC_MIN_BITS))
            say(line, larg, &count, "weak key: [%zu] '%s' has %s %d bits (the modem requires RSA >= %d, EC >= %d)", i,
                x[i].subject, x[i].key_type, x[i].key_bits, TM_POLICY_RSA_MIN_BITS, TM_POLICY_EC_MIN_BITS);
        if (!x[i].self_signed && tm_policy_weak_sig(x[i].sig_hash, x[i].sig_alg))
            say(line, larg, &count, "weak signature: [%zu] '%s' is signed with %s", i, x[i].subject, x[i].sig_alg);
    }
    if (c->host && c->host[0]) {
        tm_reason nw;
        tm_reason_clear(&nw);
        if (tm_chain_check_name(&x[0], c->host, &nw) != TM_OK)
            say(line, larg, &count, "name mismatch: %s", nw.detail);
    }
    /* the top of the issuer walk from the leaf */
    size_t top = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        size_t j;
        for (j = 0; j < n && strcmp(x[top].issuer, x[j].subject) != 0; j++)
            ;
        if (j == n || j == top)
            break;
        top = j;
    }
    if (top_out)
        *top_out = top;
    if (c->has_subject && !x[top].self_signed && !c->has_subject(c->trust_arg, x[top].issuer)) {
        const char *hint = c->load_hint ? c->load_hint : TM_LOAD_ROOT_ANY;
        bool rootish = strcasestr(x[top].issuer, "root") != NULL;
        bool interish = !rootish && (strcasestr(x[top].issuer, "intermediate") || strcasestr(x[top].issuer, "issuing") ||
                                     strcasestr(x[top].issuer, "subordinate") || strcasestr(x[top].issuer, "sub ca") ||
                                     strcasestr(x[top].issuer, "sub-ca"));
        if ((!x[top].is_ca || top == 0) && n == 1 && rootish)
            say(line, larg, &count, "incomplete chain: the issuer '%s' of [%zu] '%s' was not sent and is not in %s: "
                "it is a root that signed the server certificate directly: load the root '%s' "
                "(%s)", x[top].issuer, top, x[top].subject, c->trust_name, x[top].issuer, hint);
        else if ((!x[top].is_ca || top == 0) && n == 1 && !interish)
            say(line, larg, &count, "incomplete chain: the issuer '%s' of [%zu] '%s' was not sent and is not in %s: "
                "if it is a root (a private CA that signed the server certificate directly), load the root '%s' "
                "(%s); if it is an intermediate CA, the server must send its intermediate certificate(s)", x[top].issuer,
                top, x[top].subject, c->trust_name, x[top].issuer, hint);
        else if (!x[top].is_ca || top == 0)
            say(line, larg, &count, "incomplete chain: the issuer '%s' of [%zu] '%s' was not sent and is not in %s: "
                "the server must send its intermediate certificate(s)", x[top].issuer, top, x[top].subject,
                c->trust_name);
        else
            say(line, larg, &count, "untrusted: the chain ends at '%s', issued by '%s', which is not in %s: "
                "load the root '%s' (%s)", x[top].subject, x[top].issuer, c->trust_name, x[top].issuer, hint);
    }
    return count;
}
