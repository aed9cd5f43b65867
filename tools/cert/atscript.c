/* tlsmodem-cert at-script — the AT command sequence that loads a file.
 *
 * Byte format (docs/cert-tool.md):
 *   HL   ca           AT+KCERTSTORE=0,<n>[,<index>]<CR> + n bytes: PEM (every certificate,
 *                     64-column base64, LF line ends), as the module accepts PEM bundles
 *        client-cert  AT+KCERTSTORE=1,<n>[,<index>]<CR> + n bytes PEM
 *        client-key   AT+KPRIVKSTORE=<index>,<n><CR> + n bytes PEM (the key's own label)
 *   SPWF ca           per certificate AT+S.TLSCERT=ca,<n><CR> + n bytes DER
 *                     (--spwf-form fs: AT+S.FSC=/<ski>.ca,<n><CR> + DER; ski lower-case hex)
 *        client-cert  AT+S.TLSCERT=cert,<n><CR> + DER;  client-key AT+S.TLSCERT=key,<n><CR> + DER
 *   ESP  ca           AT+SYSMFG=2,"client_ca","client_ca.<i>",8,<n><CR><LF> + n bytes PEM (every
 *                     certificate, LF line ends), then AT+CIPSSLCCONF=2,0,<i><CR><LF>
 *        client-cert  AT+SYSMFG=2,"client_cert","client_cert.<i>",8,<n><CR><LF> + PEM (the
 *                     certificate and any intermediates after it)
 *        client-key   AT+SYSMFG=2,"client_key","client_key.<i>",8,<n><CR><LF> + PEM (the key's
 *                     own label), then AT+CIPSSLCCONF=3,<i>,0<CR><LF>
 *                     (i = --index, default 0; ESP lines end with CR LF)
 * n is always the count of the exact bytes that follow; nothing else is sent. */
#include "cert.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char  *p;
    size_t len, cap;
} sbuf;

static bool sput(sbuf *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 8192;
        while (nc < b->len + n + 1)
            nc *= 2;
        char *q = realloc(b->p, nc);
        if (!q)
            return false;
        b->p = q;
        b->cap = nc;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
    return true;
}

static bool sputf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool sputf(sbuf *b, const char *fmt, ...)
{
    char t[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t, sizeof t, fmt, ap);
    va_end(ap);
    return n > 0 && (size_t)n < sizeof t && sput(b, t, (size_t)n);
}

size_t tc_at_script(const tc_items *it, const char *dialect, const char *kind, const char *spwf_form,
                    int index, char **out, char *err, size_t cap)
{
    sbuf b = { 0 };
    bool key = strcmp(kind, "client-key") == 0;
    bool ok = true;
    *out = NULL;
    if (it->n == 0) {
        snprintf(err, cap, "nothing to load");
        return 0;
    }
    if (strcmp(dialect, "hl") == 0) {
        if (it->n > TM_CERTFMT_MAX_ITEMS) {
            snprintf(err, cap, "%zu certificates: the module takes at most %d per AT+KCERTSTORE; load the one root "
                               "you need (tlsmodem-cert probe names it)", it->n, TM_CERTFMT_MAX_ITEMS);
            return 0;
        }
        sbuf data = { 0 };
        for (size_t i = 0; ok && i < (key ? 1 : it->n); i++) {
            size_t l;
            char *p = tc_pem(&it->items[i], key ? it->labels[i] : "CERTIFICATE", &l);
            ok = p && sput(&data, p, l);
            free(p);
        }
        if (ok) {
            if (key)
                ok = sputf(&b, "AT+KPRIVKSTORE=%d,%zu\r", index < 0 ? 0 : index, data.len);
            else if (index >= 0)
                ok = sputf(&b, "AT+KCERTSTORE=%d,%zu,%d\r", strcmp(kind, "ca") == 0 ? 0 : 1, data.len, index);
            else
                ok = sputf(&b, "AT+KCERTSTORE=%d,%zu\r", strcmp(kind, "ca") == 0 ? 0 : 1, data.len);
            ok = ok && sput(&b, data.p, data.len);
        }
        free(data.p);
    } else if (strcmp(dialect, "spwf") == 0) {
        bool fs = spwf_form && strcmp(spwf_form, "fs") == 0;
        for (size_t i = 0; ok && i < (key ? 1 : it->n); i++) {
            if (key) {
                ok = sputf(&b, "AT+S.TLSCERT=key,%zu\r", it->items[i].len);
            } else if (strcmp(kind, "client-cert") == 0) {
                ok = sputf(&b, "AT+S.TLSCERT=cert,%zu\r", it->items[i].len);
                if (it->n > 1 && i == 0) {
                    /* only the client's own certificate */
                }
            } else if (fs) {
                tm_x509_info *x = calloc(1, sizeof *x);
                tm_reason why;
                char ski[64];
                if (!x || tm_x509_info_der(it->items[i].p, it->items[i].len, x, &why) != TM_OK) {
                    free(x);
                    snprintf(err, cap, "certificate %zu does not parse", i + 1);
                    free(b.p);
                    return 0;
                }
                tc_ski_hex(x, ski, sizeof ski);
                free(x);
                ok = sputf(&b, "AT+S.FSC=/%s.ca,%zu\r", ski, it->items[i].len);
            } else {
                ok = sputf(&b, "AT+S.TLSCERT=ca,%zu\r", it->items[i].len);
            }
            ok = ok && sput(&b, it->items[i].p, it->items[i].len);
            if (strcmp(kind, "client-cert") == 0)
                break;   /* SPWF takes the client certificate alone */
        }
    } else if (strcmp(dialect, "esp") == 0) {
        if (it->n > TM_CERTFMT_MAX_ITEMS) {
            snprintf(err, cap, "%zu certificates: the module takes at most %d in one AT+SYSMFG item; load the "
                               "one root you need (tlsmodem-cert probe names it)", it->n, TM_CERTFMT_MAX_ITEMS);
            return 0;
        }
        int i = index < 0 ? 0 : index;
        const char *ns = key ? "client_key" : strcmp(kind, "ca") == 0 ? "client_ca" : "client_cert";
        sbuf data = { 0 };
        for (size_t k = 0; ok && k < (key ? 1 : it->n); k++) {
            size_t l;
            char *p = tc_pem(&it->items[k], key ? it->labels[k] : "CERTIFICATE", &l);
            ok = p && sput(&data, p, l);
            free(p);
        }
        ok = ok && sputf(&b, "AT+SYSMFG=2,\"%s\",\"%s.%d\",8,%zu\r\n", ns, ns, i, data.len) &&
             sput(&b, data.p, data.len);
        free(data.p);
        if (ok && strcmp(kind, "ca") == 0)
            ok = sputf(&b, "AT+CIPSSLCCONF=2,0,%d\r\n", i);
        else if (ok && key)
            ok = sputf(&b, "AT+CIPSSLCCONF=3,%d,0\r\n", i);
    } else {
        snprintf(err, cap, "unknown dialect '%s' (hl, spwf or esp)", dialect);
        return 0;
    }
    if (!ok) {
        free(b.p);
        snprintf(err, cap, "out of memory");
        return 0;
    }
    *out = b.p;
    return b.len;
}

int cmd_at_script(const tc_opts *o)
{
    const char *in = o->args[0], *dialect = o->dialect, *kind = o->as, *form = o->spwf_form, *outp = o->out;
    int index = o->index;
    tc_items it;
    char err[1400];
    bool key = strcmp(kind, "client-key") == 0;
    if (tc_load(in, key ? TM_ITEM_KEY : TM_ITEM_CERT, &it, err, sizeof err) != 0) {
        fprintf(stderr, "at-script: %s\n", err);
        return TC_EXIT_INPUT;
    }
    if (key) {
        tm_reason why;
        tm_reason_clear(&why);
        if (tm_x509_check_key(it.items[0].p, it.items[0].len, NULL, 0, &why) != TM_OK) {
            fprintf(stderr, "at-script: %s: %s\n", in, why.detail);
            tc_items_free(&it);
            return TC_EXIT_INPUT;
        }
    }
    /* say on stderr what is being loaded (stdout is the script) */
    for (size_t i = 0; !key && i < it.n; i++) {
        tm_x509_info *x = calloc(1, sizeof *x);
        tm_reason why;
        if (x && tm_x509_info_der(it.items[i].p, it.items[i].len, x, &why) == TM_OK) {
            fprintf(stderr, "at-script: %zu/%zu %s '%s'%s\n", i + 1, it.n, tc_role(x), x->subject,
                    !strcmp(kind, "ca") && !x->is_ca ? " — NOT a CA: as a root it pins this one server" :
                    !strcmp(kind, "client-cert") && x->is_ca ? " — a CA, not a client certificate" : "");
        }
        free(x);
    }
    char *script = NULL;
    size_t n = tc_at_script(&it, dialect, kind, form, index, &script, err, sizeof err);
    tc_items_free(&it);
    if (!n) {
        fprintf(stderr, "at-script: %s\n", err);
        return TC_EXIT_INPUT;
    }
    FILE *f = outp && strcmp(outp, "-") != 0 ? fopen(outp, "wb") : stdout;
    if (!f) {
        perror(outp);
        free(script);
        return TC_EXIT_INPUT;
    }
    int rc = fwrite(script, 1, n, f) == n ? TC_EXIT_OK : TC_EXIT_INPUT;
    if (f != stdout)
        fclose(f);
    else
        fflush(stdout);
    free(script);
    return rc;
}
