/* tlsmodem — one-line summaries of certificates and keys; store listing. */
#include "diag/summary.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/certfmt.h"

const char *tm_x509_role(const tm_x509_info *x)
{
    if (!x->is_ca)
        return "leaf";
    return x->self_signed ? "root" : "intermediate";
}

const char *tm_x509_key_str(const tm_x509_info *x, char *buf, size_t cap)
{
    if (x->curve[0])
        snprintf(buf, cap, "%s %s", x->key_type, x->curve);
    else if (x->key_bits > 0 && strcmp(x->key_type, "Ed25519") != 0 && strcmp(x->key_type, "Ed448") != 0)
        snprintf(buf, cap, "%s-%d", x->key_type, x->key_bits);
    else
        snprintf(buf, cap, "%s", x->key_type);
    return buf;
}

const char *tm_x509_summary_line(const tm_x509_info *x, int64_t now, unsigned flags, char *buf, size_t cap)
{
    char na[40], key[48];
    tm_x509_time_str(x->not_after, na, sizeof na);
    tm_x509_key_str(x, key, sizeof key);
    snprintf(buf, cap, "%s%s%s; issuer %s; %s; %s; until %s%s%s%s",
             flags & TM_SUMMARY_ROLE ? tm_x509_role(x) : "", flags & TM_SUMMARY_ROLE ? " " : "",
             x->subject, x->issuer, key, x->sig_alg, na,
             now > x->not_after ? " (EXPIRED)" : now < x->not_before ? " (NOT YET VALID)" : "",
             (flags & TM_SUMMARY_SANS) && x->n_sans ? "; " : "",
             (flags & TM_SUMMARY_SANS) && x->n_sans ? x->sans : "");
    return buf;
}

/* ---- private keys: just enough DER to name the algorithm and size ------- */

typedef struct {
    const uint8_t *p;
    size_t         len;
} der_span;

/* Reads one TLV at *in; fills tag and value; advances *in. */
static bool tlv(der_span *in, uint8_t *tag, der_span *val)
{
    if (in->len < 2)
        return false;
    *tag = in->p[0];
    size_t l = in->p[1], hdr = 2;
    if (l & 0x80) {
        size_t nb = l & 0x7f;
        if (nb < 1 || nb > 4 || in->len < 2 + nb)
            return false;
        l = 0;
        for (size_t i = 0; i < nb; i++)
            l = (l << 8) | in->p[2 + i];
        hdr += nb;
    }
    if (l > in->len - hdr)
        return false;
    val->p = in->p + hdr;
    val->len = l;
    in->p += hdr + l;
    in->len -= hdr + l;
    return true;
}

static int int_bits(der_span v)
{
    while (v.len && v.p[0] == 0) {
        v.p++;
        v.len--;
    }
    if (!v.len)
        return 0;
    int b = 0;
    for (uint8_t c = v.p[0]; c; c >>= 1)
        b++;
    return (int)(v.len - 1) * 8 + b;
}

static bool oid_is(der_span v, const uint8_t *o, size_t n)
{
    return v.len == n && memcmp(v.p, o, n) == 0;
}

static const uint8_t OID_RSA[] = { 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01 };
static const uint8_t OID_RSAPSS[] = { 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0A };
static const uint8_t OID_EC[] = { 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01 };
static const uint8_t OID_ED25519[] = { 0x2B, 0x65, 0x70 };
static const uint8_t OID_ED448[] = { 0x2B, 0x65, 0x71 };
static const uint8_t OID_P256[] = { 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07 };
static const uint8_t OID_P384[] = { 0x2B, 0x81, 0x04, 0x00, 0x22 };
static const uint8_t OID_P521[] = { 0x2B, 0x81, 0x04, 0x00, 0x23 };
static const uint8_t OID_P224[] = { 0x2B, 0x81, 0x04, 0x00, 0x21 };
static const uint8_t OID_P192[] = { 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x01 };

static const char *curve_name(der_span oid)
{
    if (oid_is(oid, OID_P256, sizeof OID_P256)) return "P-256";
    if (oid_is(oid, OID_P384, sizeof OID_P384)) return "P-384";
    if (oid_is(oid, OID_P521, sizeof OID_P521)) return "P-521";
    if (oid_is(oid, OID_P224, sizeof OID_P224)) return "P-224";
    if (oid_is(oid, OID_P192, sizeof OID_P192)) return "P-192";
    return "(unknown curve)";
}

/* RSAPrivateKey ::= SEQUENCE { version, modulus, ... } -> modulus bits */
static int rsa_bits(der_span body)
{
    uint8_t t;
    der_span v;
    if (!tlv(&body, &t, &v) || t != 0x02 || !tlv(&body, &t, &v) || t != 0x02)
        return 0;
    return int_bits(v);
}

/* ECPrivateKey ::= SEQUENCE { version 1, privateKey OCTET STRING, [0] curve OID, ... } */
static const char *ec_curve(der_span body)
{
    uint8_t t;
    der_span v;
    if (!tlv(&body, &t, &v) || t != 0x02 || !tlv(&body, &t, &v) || t != 0x04)
        return NULL;
    while (body.len && tlv(&body, &t, &v)) {
        if (t == 0xA0) {
            der_span o;
            if (tlv(&v, &t, &o) && t == 0x06)
                return curve_name(o);
        }
    }
    return NULL;
}

bool tm_key_summary(const uint8_t *der, size_t len, char *buf, size_t cap)
{
    der_span in = { der, len }, seq, v;
    uint8_t t;
    if (!tlv(&in, &t, &seq) || t != 0x30 || !tlv(&seq, &t, &v) || t != 0x02)
        goto unknown;
    der_span rest = seq;
    if (!tlv(&rest, &t, &v))
        goto unknown;
    if (t == 0x30) {                       /* PKCS#8: AlgorithmIdentifier, then OCTET STRING */
        der_span alg = v, oid, param = { NULL, 0 };
        uint8_t pt = 0;
        if (!tlv(&alg, &t, &oid) || t != 0x06)
            goto unknown;
        if (alg.len)
            tlv(&alg, &pt, &param);
        der_span key, body = { NULL, 0 };
        bool have_body = false;
        if (tlv(&rest, &t, &key) && t == 0x04)          /* the algorithm's own private key structure */
            have_body = tlv(&key, &t, &body) && t == 0x30;
        if (oid_is(oid, OID_RSA, sizeof OID_RSA) || oid_is(oid, OID_RSAPSS, sizeof OID_RSAPSS)) {
            int bits = have_body ? rsa_bits(body) : 0;
            snprintf(buf, cap, "%s-%d", oid_is(oid, OID_RSA, sizeof OID_RSA) ? "RSA" : "RSA-PSS", bits);
            return bits > 0;
        }
        if (oid_is(oid, OID_EC, sizeof OID_EC)) {
            const char *c = pt == 0x06 ? curve_name(param) : have_body ? ec_curve(body) : NULL;
            snprintf(buf, cap, "EC %s", c ? c : "(unknown curve)");
            return true;
        }
        if (oid_is(oid, OID_ED25519, sizeof OID_ED25519)) {
            snprintf(buf, cap, "Ed25519");
            return true;
        }
        if (oid_is(oid, OID_ED448, sizeof OID_ED448)) {
            snprintf(buf, cap, "Ed448");
            return true;
        }
        snprintf(buf, cap, "a private key of an unknown algorithm");
        return false;
    }
    if (t == 0x02) {                       /* traditional RSA: version, modulus, ... */
        int bits = int_bits(v);
        snprintf(buf, cap, "RSA-%d", bits);
        return bits > 0;
    }
    if (t == 0x04) {                       /* traditional EC */
        const char *c = ec_curve(seq);
        snprintf(buf, cap, "EC %s", c ? c : "(unknown curve)");
        return true;
    }
unknown:
    snprintf(buf, cap, "not a private key structure (%zu bytes)", len);
    return false;
}

/* ---- store listing -------------------------------------------------------- */

typedef struct {
    tm_store      *st;
    int64_t        now;
    tm_certlist_fn cb;
    void          *arg;
} list_ctx;

static uint8_t g_raw[TM_STORE_ITEM_MAX];
static uint8_t g_der[TM_STORE_ITEM_MAX];

void tm_certlist_item(const char *name, const uint8_t *p, size_t len, int64_t now, tm_certlist_fn cb, void *arg)
{
    char sum[1600];
    tm_certfmt_result res;
    tm_reason why;
    tm_reason_clear(&why);
    if (tm_certfmt_decode(p, len, TM_ITEM_CERT, g_der, sizeof g_der, &res, &why) == TM_OK) {
        tm_x509_info *x = malloc(sizeof *x);
        for (int i = 0; x && i < res.count; i++) {
            if (tm_x509_info_der(g_der + res.off[i], res.len[i], x, &why) == TM_OK)
                tm_x509_summary_line(x, now, TM_SUMMARY_ROLE, sum, sizeof sum);
            else
                snprintf(sum, sizeof sum, "does not parse: %s", why.detail);
            cb(arg, name, TM_CERTLIST_CERT, i + 1, res.count, sum);
        }
        free(x);
        return;
    }
    if (tm_certfmt_decode(p, len, TM_ITEM_KEY, g_der, sizeof g_der, &res, &why) == TM_OK && res.count >= 1) {
        tm_key_summary(g_der + res.off[0], res.len[0], sum, sizeof sum);
        cb(arg, name, TM_CERTLIST_KEY, 0, 0, sum);
        return;
    }
    snprintf(sum, sizeof sum, "not a certificate or key (%zu bytes)", len);
    cb(arg, name, TM_CERTLIST_OTHER, 0, 0, sum);
}

static void list_item(void *arg, const char *name, size_t size)
{
    list_ctx *l = arg;
    size_t len;
    if (tm_store_get(l->st, name, g_raw, sizeof g_raw, &len, NULL) != TM_OK) {
        char sum[64];
        snprintf(sum, sizeof sum, "cannot be read (%zu bytes)", size);
        l->cb(l->arg, name, TM_CERTLIST_OTHER, 0, 0, sum);
        return;
    }
    tm_certlist_item(name, g_raw, len, l->now, l->cb, l->arg);
}

int tm_certlist(tm_store *st, const char *prefix, int64_t now, tm_certlist_fn cb, void *arg)
{
    list_ctx l = { st, now, cb, arg };
    return tm_store_list(st, prefix, list_item, &l);
}
