/* tlsmodem-cert inspect / convert. */
#include "cert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static bool eku_has(const tm_x509_info *x, const char *what)
{
    return strstr(x->eku, what) != NULL;
}

/* One sentence about a single certificate. */
static void describe_one(const tm_x509_info *x, char *out, size_t cap)
{
    char na[40];
    tm_x509_time_str(x->not_after, na, sizeof na);
    na[10] = '\0';   /* the date is enough here */
    if (x->is_ca && x->self_signed)
        snprintf(out, cap, "a root CA (self-signed): load it as a root (trust anchor)");
    else if (x->is_ca && strcmp(x->subject, x->issuer) == 0)
        snprintf(out, cap, "a CA whose issuer has the same name but whose signature is not its own (a cross-signed or re-keyed CA)");
    else if (x->is_ca)
        snprintf(out, cap, "an intermediate CA issued by '%s': loaded as a root it is a partial-chain anchor; "
                           "usually the server should send it and you load its root", x->issuer);
    else if (x->has_eku && !x->eku_server_auth && eku_has(x, "clientAuth"))
        snprintf(out, cap, "a client certificate, not a CA (EKU %s): load it as the module's own certificate "
                           "(with its key), not as a root", x->eku);
    else if (x->self_signed)
        snprintf(out, cap, "a self-signed server certificate, not a CA: loading it as a root pins this one server "
                           "until %s", na);
    else
        snprintf(out, cap, "a server certificate, not a CA: loading it as a root pins this one server until %s; "
                           "to trust every server certificate of that CA instead, load the root above its issuer '%s'", na, x->issuer);
}

static void print_cert(const tm_x509_info *x, int64_t now)
{
    char nb[40], na[40], valid[80];
    tm_x509_time_str(x->not_before, nb, sizeof nb);
    tm_x509_time_str(x->not_after, na, sizeof na);
    if (now < x->not_before)
        snprintf(valid, sizeof valid, "NOT YET VALID now");
    else if (now > x->not_after)
        snprintf(valid, sizeof valid, "EXPIRED now");
    else
        snprintf(valid, sizeof valid, "valid now, %lld days left", (long long)((x->not_after - now) / 86400));
    printf("    subject      %s\n", x->subject);
    printf("    issuer       %s\n", x->issuer);
    printf("    serial       %s\n", x->serial);
    printf("    validity     %s .. %s (%s)\n", nb, na, valid);
    if (x->curve[0])
        printf("    key          %s %s (%d bits)%s\n", x->key_type, x->curve, x->key_bits,
               x->key_bits < 224 ? "  WEAK: the modem refuses EC keys under 224 bits" : "");
    else
        printf("    key          %s %d bits%s\n", x->key_type, x->key_bits,
               (strcmp(x->key_type, "RSA") == 0 || strcmp(x->key_type, "DSA") == 0) && x->key_bits < 2048
                   ? "  WEAK: the modem refuses RSA keys under 2048 bits" : "");
    bool weak = (strstr(x->sig_hash, "SHA1") || strstr(x->sig_hash, "MD5")) ;
    printf("    signature    %s%s\n", x->sig_alg,
           weak ? (x->self_signed ? "  (weak, but a root's own signature is not checked)"
                                  : "  WEAK: the modem refuses SHA-1/MD5 signatures in chains") : "");
    printf("    SANs         %s\n", x->n_sans ? x->sans : "(none)");
    printf("    SKI          %s\n", x->ski[0] ? x->ski : "(none)");
    if (!x->ski[0])
        printf("    SKI computed %s (SHA-1 of the public key, RFC 5280 method 1)\n", x->ski_computed);
    printf("    AKI          %s\n", x->aki[0] ? x->aki : "(none)");
    if (x->is_ca) {
        if (x->path_len >= 0)
            printf("    CA           yes, path length %d\n", x->path_len);
        else
            printf("    CA           yes, path length unlimited\n");
    } else {
        printf("    CA           no%s\n", x->is_v1 ? " (X.509 v1: no extensions)" : "");
    }
    printf("    EKU          %s\n", x->has_eku ? x->eku : "(none: any use)");
    printf("    SHA-256      %s\n", x->sha256);
}

static int inspect_file(const char *path, int64_t now)
{
    tc_items it;
    char err[1400];
    if (tc_load(path, TM_ITEM_CERT, &it, err, sizeof err) != 0) {
        /* maybe a key */
        tc_items k;
        char e2[1400];
        if (tc_load(path, TM_ITEM_KEY, &k, e2, sizeof e2) == 0) {
            tm_reason why;
            tm_reason_clear(&why);
            tm_err e = tm_x509_check_key(k.items[0].p, k.items[0].len, NULL, 0, &why);
            printf("%s: a private key (%s, %s, %zu bytes DER)%s%s\n", path, k.labels[0], tc_format(&k),
                   k.items[0].len, e ? ": " : "; load it with --as client-key", e ? why.detail : "");
            tc_items_free(&k);
            return e ? TC_EXIT_FAIL : TC_EXIT_OK;
        }
        if (strstr(e2, "encrypted keys are not supported")) {
            /* the exact command for this file */
            printf("%s: an encrypted private key (PEM); the module takes unencrypted keys only. Decrypt it "
                   "(openssl asks for the pass phrase):\n  openssl pkey -in %s -out %s.decrypted.pem\n"
                   "then load %s.decrypted.pem (tlsmodem-cert at-script %s.decrypted.pem --as client-key)\n",
                   path, path, path, path, path);
            return TC_EXIT_FAIL;
        }
        fprintf(stderr, "inspect: %s\n", err);
        return TC_EXIT_INPUT;
    }
    tm_x509_info *x = calloc(it.n, sizeof *x);
    if (!x) {
        tc_items_free(&it);
        return TC_EXIT_INPUT;
    }
    int rc = TC_EXIT_OK;
    for (size_t i = 0; i < it.n; i++) {
        tm_reason why;
        tm_reason_clear(&why);
        if (tm_x509_info_der(it.items[i].p, it.items[i].len, &x[i], &why) != TM_OK) {
            fprintf(stderr, "inspect: %s: certificate %zu does not parse: %s\n", path, i + 1, why.detail);
            rc = TC_EXIT_INPUT;
            goto out;
        }
    }
    char what[1024];
    if (it.n == 1) {
        describe_one(&x[0], what, sizeof what);
        printf("%s: %s certificate, %s\n", path, tc_format(&it), what);
    } else {
        int roots = 0, inters = 0, leaves = 0;
        for (size_t i = 0; i < it.n; i++) {
            const char *r = tc_role(&x[i]);
            roots += strcmp(r, "root") == 0;
            inters += strcmp(r, "intermediate") == 0;
            leaves += strcmp(r, "leaf") == 0;
        }
        size_t o = (size_t)snprintf(what, sizeof what, "a bundle of %zu certificates: ", it.n);
        if (it.n <= 6) {
            for (size_t i = 0; i < it.n; i++)
                o += (size_t)snprintf(what + o, sizeof what - o, "%s%s", i ? ", " : "", tc_role(&x[i]));
        } else {
            o += (size_t)snprintf(what + o, sizeof what - o, "%d root%s, %d intermediate%s, %d lea%s", roots,
                                  roots == 1 ? "" : "s", inters, inters == 1 ? "" : "s", leaves,
                                  leaves == 1 ? "f" : "ves");
        }
        /* chain order: each certificate issued by the next */
        bool chain = true;
        for (size_t i = 0; i + 1 < it.n && chain; i++)
            chain = strcmp(x[i].issuer, x[i + 1].subject) == 0;
        if (leaves == 1 && !x[0].is_ca) {
            if (chain)
                o += (size_t)snprintf(what + o, sizeof what - o, " (a chain in order, leaf first%s)",
                                      roots ? "; a server need not send the root" : "");
            else
                o += (size_t)snprintf(what + o, sizeof what - o, " (NOT in chain order: each certificate should be "
                                                                 "followed by its issuer)");
        } else if (leaves == 0 && roots == (int)it.n) {
            o += (size_t)snprintf(what + o, sizeof what - o, " (a CA bundle)");
        } else if (leaves >= 1 && x[0].is_ca) {
            o += (size_t)snprintf(what + o, sizeof what - o, " (the leaf is not first)");
        }
        printf("%s: %s, %s\n", path, tc_format(&it), what);
    }
    if (it.container[0] && it.inner_key[0])
        printf("  (a %s file that also holds a private key, %s; the module takes PEM/DER: tlsmodem-cert convert %s "
               "--to pem%s writes the certificates and then the key)\n", it.container, it.inner_key, path,
               tc_password ? " --password …" : "");
    else if (it.container[0])
        printf("  (a %s file; the module takes PEM/DER: tlsmodem-cert convert %s --to pem writes the "
               "certificates)\n", it.container, path);
    if (it.skipped)
        printf("  (skipped %d PEM block%s that %s not certificates: %s)\n", it.skipped, it.skipped == 1 ? "" : "s",
               it.skipped == 1 ? "is" : "are", it.skipped_what);
    for (size_t i = 0; i < it.n; i++) {
        printf("  [%zu] %s%s, %zu bytes DER\n", i + 1, tc_role(&x[i]),
               x[i].is_ca ? "" : (x[i].self_signed ? " (self-signed)" : ""), it.items[i].len);
        if (it.n > 1) {
            char w[1024];
            describe_one(&x[i], w, sizeof w);
            printf("    is           %s\n", w);
        }
        print_cert(&x[i], now);
    }
out:
    free(x);
    tc_items_free(&it);
    return rc;
}

int cmd_inspect(const tc_opts *o)
{
    int64_t now = o->time_given ? o->now : (int64_t)time(NULL);
    int rc = TC_EXIT_OK;
    tc_password = o->password;
    for (int i = 0; i < o->n_args; i++) {
        if (i)
            printf("\n");
        int r = inspect_file(o->args[i], now);
        if (r > rc)
            rc = r;
    }
    return rc;
}

int cmd_convert(const tc_opts *o)
{
    const char *in = o->args[0], *to = o->to, *outp = o->out;
    tc_password = o->password;
    tc_items it;
    char err[1400];
    bool key = false;
    if (tc_load(in, TM_ITEM_CERT, &it, err, sizeof err) != 0) {
        char e2[1400];
        if (tc_load(in, TM_ITEM_KEY, &it, e2, sizeof e2) != 0) {
            fprintf(stderr, "convert: %s\n", err);
            return TC_EXIT_INPUT;
        }
        key = true;
    }
    bool der = strcmp(to, "der") == 0;
    if (der && it.n > 1) {
        fprintf(stderr, "convert: %s holds %zu certificates; DER holds one: writing only the first "
                        "(convert to pem to keep them all)\n", in, it.n);
    }
    FILE *f = outp && strcmp(outp, "-") != 0 ? fopen(outp, "wb") : stdout;
    if (!f) {
        perror(outp);
        tc_items_free(&it);
        return TC_EXIT_INPUT;
    }
    int rc = TC_EXIT_OK;
    for (size_t i = 0; i < (der ? 1 : it.n); i++) {
        if (der) {
            fwrite(it.items[i].p, 1, it.items[i].len, f);
        } else {
            size_t l;
            char *p = tc_pem(&it.items[i], key ? it.labels[i] : "CERTIFICATE", &l);
            if (!p) {
                rc = TC_EXIT_INPUT;
                break;
            }
            fwrite(p, 1, l, f);
            free(p);
        }
    }
    tc_items k12 = { 0 };
    if (rc == TC_EXIT_OK && !key && !der && it.inner_key[0]) {
        /* a PKCS#12: the key follows the certificates, as openssl pkcs12 -nodes writes it */
        char e3[400];
        if (tc_load(in, TM_ITEM_KEY, &k12, e3, sizeof e3) == 0 && k12.n) {
            size_t l;
            char *p = tc_pem(&k12.items[0], "PRIVATE KEY", &l);
            if (p)
                fwrite(p, 1, l, f);
            free(p);
        }
    }
    if (f != stdout && fclose(f) != 0) {
        perror(outp);
        rc = TC_EXIT_INPUT;
    }
    if (f != stdout && rc == 0)
        fprintf(stderr, "convert: wrote %s (%s, %zu %s%s from %s input)\n", outp, der ? "DER" : "PEM",
                der ? (size_t)1 : it.n, key ? "key" : "certificate(s)", k12.n ? " and the private key" : "",
                tc_format(&it));
    tc_items_free(&k12);
    tc_items_free(&it);
    return rc;
}
