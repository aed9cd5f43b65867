/* tlsmodem-cert — reading certificate and key files of any format. */
#include "cert.h"

#include "diag/summary.h"
#include "tls/container.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint8_t *tc_read_file(const char *path, size_t *len, char *err, size_t cap)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        snprintf(err, cap, "%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t n = 0, c = 65536;
    uint8_t *b = malloc(c + 1);
    while (b) {
        size_t r = fread(b + n, 1, c - n, f);
        n += r;
        if (n < c) {
            if (ferror(f)) {
                snprintf(err, cap, "%s: read error", path);
                free(b);
                b = NULL;
            }
            break;
        }
        c *= 2;
        uint8_t *nb = realloc(b, c + 1);
        if (!nb)
            free(b);
        b = nb;
    }
    if (f != stdin)
        fclose(f);
    if (!b) {
        if (!err[0])
            snprintf(err, cap, "%s: out of memory", path);
        return NULL;
    }
    b[n] = 0;
    *len = n;
    return b;
}

void tc_items_free(tc_items *it)
{
    for (size_t i = 0; i < it->n; i++)
        free((void *)it->items[i].p);
    free(it->items);
    free(it->labels);
    memset(it, 0, sizeof *it);
}

static int add_item(tc_items *it, const uint8_t *p, size_t len, const char *label)
{
    tm_blob *ni = realloc(it->items, (it->n + 1) * sizeof *ni);
    if (!ni)
        return -1;
    it->items = ni;
    char (*nl)[32] = realloc(it->labels, (it->n + 1) * sizeof *nl);
    if (!nl)
        return -1;
    it->labels = nl;
    uint8_t *d = malloc(len);
    if (!d)
        return -1;
    memcpy(d, p, len);
    it->items[it->n].p = d;
    it->items[it->n].len = len;
    snprintf(it->labels[it->n], sizeof it->labels[it->n], "%s", label);
    it->n++;
    return 0;
}

static const char *memfind(const char *h, size_t hl, const char *n)
{
    size_t nl = strlen(n);
    for (size_t i = 0; i + nl <= hl; i++)
        if (h[i] == n[0] && memcmp(h + i, n, nl) == 0)
            return h + i;
    return NULL;
}

/* One decode through the module's own format detection. */
static int decode_one(const uint8_t *p, size_t len, tm_item_kind want, tc_items *out, tm_fmt *fmt,
                      char *err, size_t cap)
{
    size_t dcap = len + 64;
    uint8_t *der = malloc(dcap);
    tm_certfmt_result res;
    tm_reason why;
    tm_reason_clear(&why);
    if (!der) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    tm_err e = tm_certfmt_decode(p, len, want, der, dcap, &res, &why);
    if (e != TM_OK) {
        char t[TM_DETAIL_MAX + 200];
        snprintf(err, cap, "%s", tm_reason_text(&why, t, sizeof t));
        free(der);
        return -1;
    }
    for (int i = 0; i < res.count; i++)
        if (add_item(out, der + res.off[i], res.len[i], res.pem_label[i]) != 0) {
            free(der);
            snprintf(err, cap, "out of memory");
            return -1;
        }
    if (fmt)
        *fmt = res.fmt;
    free(der);
    return 0;
}

static bool label_is_cert(const char *l, size_t n)
{
    return (n == 11 && memcmp(l, "CERTIFICATE", 11) == 0) || (n == 19 && memcmp(l, "TRUSTED CERTIFICATE", 19) == 0) ||
           (n == 16 && memcmp(l, "X509 CERTIFICATE", 16) == 0);
}

static bool label_is_key(const char *l, size_t n)
{
    return n >= 11 && memcmp(l + n - 11, "PRIVATE KEY", 11) == 0;
}

const char *tc_password;

const char *tc_format(const tc_items *it)
{
    return it->container[0] ? it->container : tm_fmt_name(it->fmt);
}

/* PKCS#12 / PKCS#7: 1 = handled (0 or -1 in *rc), 0 = not a container. */
static int load_container(const uint8_t *data, size_t len, tm_item_kind want, tc_items *out, char *err, size_t cap,
                          int *rc)
{
    tm_container_kind k = tm_container_sniff(data, len);
    if (k == TM_CONT_NONE)
        return 0;
    tm_container c;
    tm_reason why;
    tm_reason_clear(&why);
    *rc = -1;
    if (tm_container_open(data, len, tc_password, &c, &why) != TM_OK) {
        snprintf(err, cap, "%s", why.detail);
        return 1;
    }
    snprintf(out->container, sizeof out->container, "%s", tm_container_name(k));
    out->fmt = TM_FMT_DER;
    if (c.key.p)
        snprintf(out->inner_key, sizeof out->inner_key, "%s", c.key_desc);
    if (want == TM_ITEM_KEY) {
        if (!c.key.p)
            snprintf(err, cap, "this is a %s file with %zu certificate%s and no private key", tm_container_name(k),
                     c.n_certs, c.n_certs == 1 ? "" : "s");
        else if (add_item(out, c.key.p, c.key.len, "PRIVATE KEY") != 0)
            snprintf(err, cap, "out of memory");
        else
            *rc = 0;
    } else if (c.n_certs == 0) {
        snprintf(err, cap, "this is a %s file with a private key (%s) and no certificate", tm_container_name(k),
                 c.key_desc);
    } else {
        *rc = 0;
        for (size_t i = 0; i < c.n_certs && *rc == 0; i++)
            if (add_item(out, c.certs[i].p, c.certs[i].len, "CERTIFICATE") != 0) {
                snprintf(err, cap, "out of memory");
                *rc = -1;
            }
    }
    tm_container_free(&c);
    if (*rc != 0)
        tc_items_free(out);
    return 1;
}

int tc_load_mem(const uint8_t *data, size_t len, tm_item_kind want, tc_items *out, char *err, size_t cap)
{
    memset(out, 0, sizeof *out);
    err[0] = '\0';
    int crc;
    if (load_container(data, len, want, out, err, cap, &crc))
        return crc;
    const char *s = (const char *)data;
    const char *b = memfind(s, len, "-----BEGIN ");
    if (!b || want == TM_ITEM_KEY) {
        /* DER, bare base64, or a key file: the module's detection as is */
        if (decode_one(data, len, want, out, &out->fmt, err, cap) != 0) {
            tc_items_free(out);
            return -1;
        }
        return 0;
    }
    /* PEM, possibly a bundle larger than the module's per-command limit:
     * decode block by block with the module's decoder */
    out->fmt = TM_FMT_PEM;
    while (b) {
        const char *lab = b + 11;
        const char *le = memfind(lab, len - (size_t)(lab - s), "-----");
        if (!le)
            break;
        size_t ll = (size_t)(le - lab);
        char endmark[64];
        snprintf(endmark, sizeof endmark, "-----END %.*s-----", (int)(ll < 40 ? ll : 40), lab);
        const char *e = memfind(le, len - (size_t)(le - s), endmark);
        if (!e) {
            snprintf(err, cap, "PEM block '%.*s' has no '%s' line", (int)(ll < 40 ? ll : 40), lab, endmark);
            tc_items_free(out);
            return -1;
        }
        const char *end = e + strlen(endmark);
        if (label_is_cert(lab, ll)) {
            char e2[512];
            if (decode_one((const uint8_t *)b, (size_t)(end - b), TM_ITEM_CERT, out, NULL, e2, sizeof e2) != 0) {
                snprintf(err, cap, "PEM block %zu: %s", out->n + (size_t)out->skipped + 1, e2);
                tc_items_free(out);
                return -1;
            }
        } else {
            out->skipped++;
            size_t o = strlen(out->skipped_what);
            if (o < sizeof out->skipped_what - 50)
                snprintf(out->skipped_what + o, sizeof out->skipped_what - o, "%s%.*s", o ? ", " : "",
                         (int)(ll < 40 ? ll : 40), lab);
            (void)label_is_key;
        }
        b = memfind(end, len - (size_t)(end - s), "-----BEGIN ");
    }
    if (out->n == 0) {
        snprintf(err, cap, "no CERTIFICATE block in the PEM text%s%s", out->skipped ? " (found: " : "",
                 out->skipped ? out->skipped_what : "");
        if (out->skipped)
            strncat(err, ")", cap - strlen(err) - 1);
        tc_items_free(out);
        return -1;
    }
    return 0;
}

int tc_load(const char *path, tm_item_kind want, tc_items *out, char *err, size_t cap)
{
    size_t len = 0;
    err[0] = '\0';
    uint8_t *d = tc_read_file(path, &len, err, cap);
    if (!d)
        return -1;
    char e2[1200];
    int r = tc_load_mem(d, len, want, out, e2, sizeof e2);
    if (r != 0)
        snprintf(err, cap, "%s: %s", path, e2);
    free(d);
    return r;
}

char *tc_pem(const tm_blob *der, const char *label, size_t *len)
{
    size_t cap = der->len * 4 / 3 + der->len / 48 + 200;
    char *o = malloc(cap);
    if (!o)
        return NULL;
    size_t n = (size_t)snprintf(o, cap, "-----BEGIN %s-----\n", label);
    size_t b = tm_base64_encode(der->p, der->len, o + n, cap - n, 64);
    if (b == 0) {
        free(o);
        return NULL;
    }
    n += b;
    n += (size_t)snprintf(o + n, cap - n, "-----END %s-----\n", label);
    *len = n;
    return o;
}

bool tc_parse_time(const char *s, int64_t *out)
{
    if (s[0] == '@') {
        char *e;
        long long v = strtoll(s + 1, &e, 10);
        if (*e)
            return false;
        *out = v;
        return true;
    }
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int y, mo, d, h = 0, mi = 0, se = 0;
    char sep = 0, z[8] = "";
    int n = sscanf(s, "%4d-%2d-%2d%c%2d:%2d:%2d%7s", &y, &mo, &d, &sep, &h, &mi, &se, z);
    if (n != 3 && n < 6)
        return false;
    if (n >= 4 && sep != 'T' && sep != ' ' && sep != 't')
        return false;
    if (n == 8 && strcmp(z, "Z") != 0 && strcmp(z, "z") != 0 && strcmp(z, "+00:00") != 0)
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return false;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    *out = (int64_t)timegm(&tm);
    return true;
}

const char *tc_role(const tm_x509_info *x)
{
    return tm_x509_role(x);   /* one definition, shared with the module (src/diag/summary.c) */
}

void tc_ski_hex(const tm_x509_info *x, char *out, size_t cap)
{
    const char *s = x->ski[0] ? x->ski : x->ski_computed;
    size_t o = 0;
    for (; *s && o + 1 < cap; s++)
        if (*s != ':')
            out[o++] = (char)(*s >= 'A' && *s <= 'F' ? *s - 'A' + 'a' : *s);
    out[o] = '\0';
}
