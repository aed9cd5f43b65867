/* tlsmodem — SPWF certificates and file system: AT+S.TLSCERT, AT+S.FSC,
 * FSA, FSD, FSR, FSL, FSP, and the trust/credentials a connection takes from
 * the store.
 *
 * Decisions (docs/spwf.md):
 * - TLSCERT=ca|cert|key,<len>: PEM (one or many blocks), DER or bare base64,
 *   detected; stored as DER under spwf/tls/ca.<ski>, spwf/tls/cert,
 *   spwf/tls/key.  Each CA loaded prints AT-S.SubjectKeyId:<SKI> as the module
 *   did (upper-case hex with colons); a certificate without the SKI extension
 *   prints the RFC 5280 method-1 key identifier (SHA-1 of the public key).
 * - TLSCERT=content,2 removes what TLSCERT stored (not the file system).
 * - Trust for a connection = every TLSCERT CA + every file in the file system
 *   that holds a CA certificate (CA:TRUE or self-signed) or whose name ends in
 *   ".ca" (any case, SKI in hex with or without colons, or any other name).
 *   Nothing stored: the --ca-bundle.  The trace lists each anchor and where
 *   it came from. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/trace.h"
#include "dialect/spwf/spwf.h"
#include "port/port.h"
#include "store/certfmt.h"
#include "tls/x509.h"

enum { KIND_CA = 1, KIND_CERT, KIND_KEY, KIND_FSC, KIND_FSA };

static uint8_t g_der[TM_STORE_ITEM_MAX];
static uint8_t g_tmp[TM_STORE_ITEM_MAX];

static const char *ski_of(const tm_x509_info *x)
{
    return x->ski[0] ? x->ski : x->ski_computed;
}

/* "7F:D3:…" -> "7fd3…" */
static void ski_compact(const char *ski, char *out, size_t cap)
{
    size_t o = 0;
    for (const char *p = ski; *p && o + 1 < cap; p++)
        if (isxdigit((unsigned char)*p))
            out[o++] = (char)tolower((unsigned char)*p);
    out[o] = '\0';
}

/* ---- TLSCERT ------------------------------------------------------------------ */

static void tlscert_end(tm_at *at, tm_err pre, const uint8_t *p, size_t n)
{
    (void)pre;
    spwf_state *s = spwf_get(at);
    tm_modem *m = spwf_modem(at);
    tm_reason *why = tm_at_reason(at);
    tm_certfmt_result res;
    tm_item_kind want = s->collect_kind == KIND_KEY ? TM_ITEM_KEY : TM_ITEM_CERT;
    tm_err e = tm_certfmt_decode(p, n, want, g_der, sizeof g_der, &res, why);
    if (e) {
        tm_reason_append(why, "nothing was stored");
        tm_at_complete(at, e);
        return;
    }
    if (want == TM_ITEM_KEY) {
        size_t cl = 0;
        bool have_cert = tm_store_get(&m->store, "spwf/tls/cert", g_tmp, sizeof g_tmp, &cl, NULL) == TM_OK;
        /* the stored chain's first item is the leaf */
        size_t leaf_len = cl;
        if (have_cert && cl > 4 && g_tmp[0] == 0x30 && g_tmp[1] == 0x82)
            leaf_len = 4 + ((size_t)g_tmp[2] << 8 | g_tmp[3]);
        if (leaf_len > cl)
            leaf_len = cl;
        e = tm_x509_check_key(g_der, res.total, have_cert ? g_tmp : NULL, have_cert ? leaf_len : 0, why);
        if (e) {
            tm_reason_append(why, "nothing was stored%s", have_cert ? " (the client certificate loaded "
                             "with AT+S.TLSCERT=cert is kept)" : "");
            tm_at_complete(at, e);
            return;
        }
        e = tm_store_put(&m->store, "spwf/tls/key", g_der, res.total, why);
        if (!e)
            tm_trace("store", "client key stored (%s, %zu bytes DER)%s", tm_fmt_name(res.fmt), res.total,
                     have_cert ? ", matches the client certificate" : "");
        tm_at_complete(at, e);
        return;
    }
    tm_x509_info x;
    for (int i = 0; i < res.count; i++) {
        e = tm_x509_info_der(g_der + res.off[i], res.len[i], &x, why);
        if (e) {
            tm_reason_append(why, "certificate %d of %d; nothing was stored", i + 1, res.count);
            tm_at_complete(at, e);
            return;
        }
    }
    if (s->collect_kind == KIND_CERT) {
        e = tm_store_put(&m->store, "spwf/tls/cert", g_der, res.total, why);
        if (!e) {
            tm_x509_info_der(g_der + res.off[0], res.len[0], &x, why);
            tm_trace("store", "client certificate stored: '%s' (%s %d), %d certificate(s), %s", x.subject,
                     x.key_type, x.key_bits, res.count, tm_fmt_name(res.fmt));
            size_t kl;
            if (tm_store_get(&m->store, "spwf/tls/key", g_tmp, sizeof g_tmp, &kl, NULL) == TM_OK) {
                tm_reason r;
                tm_reason_clear(&r);
                if (tm_x509_check_key(g_tmp, kl, g_der + res.off[0], res.len[0], &r))
                    tm_trace("warn", "the stored client key does not match this certificate; load its key "
                             "with AT+S.TLSCERT=key (%s)", r.detail);
            }
        }
        tm_at_complete(at, e);
        return;
    }
    /* CA: one item per certificate, named by its key identifier */
    for (int i = 0; i < res.count; i++) {
        tm_x509_info_der(g_der + res.off[i], res.len[i], &x, why);
        char compact[64], name[TM_STORE_NAME_MAX], na[40];
        ski_compact(ski_of(&x), compact, sizeof compact);
        snprintf(name, sizeof name, "spwf/tls/ca.%s", compact);
        e = tm_store_put(&m->store, name, g_der + res.off[i], res.len[i], why);
        if (e) {
            tm_at_complete(at, e);
            return;
        }
        tm_at_line(at, "AT-S.SubjectKeyId:%s", ski_of(&x));
        tm_trace("store", "TLSCERT=ca %d/%d: '%s' (%s %d, %s, CA:%s%s), SKI %s%s, until %s -> %s", i + 1,
                 res.count, x.subject, x.key_type, x.key_bits, x.sig_alg, x.is_ca ? "yes" : "no",
                 x.self_signed ? ", self-signed" : "", ski_of(&x),
                 x.ski[0] ? "" : " (no SKI extension: computed from the key)",
                 tm_x509_time_str(x.not_after, na, sizeof na), name);
        if (!x.is_ca)
            tm_trace("warn", "'%s' is not a CA certificate: as a trust anchor it only pins this one server",
                     x.subject);
    }
    tm_at_complete(at, TM_OK);
}

typedef struct {
    tm_at *at;
    int    n;
    bool   del;
} list_ctx;

static void content_cb(void *arg, const char *name, size_t size)
{
    list_ctx *l = arg;
    tm_modem *m = spwf_modem(l->at);
    l->n++;
    if (l->del) {
        tm_store_del(&m->store, name, NULL);
        tm_trace("store", "TLSCERT=content,2: removed %s", name);
        return;
    }
    const char *item = name + strlen("spwf/tls/");
    size_t len;
    if (strncmp(item, "ca.", 3) == 0 &&
        tm_store_get(&m->store, name, g_tmp, sizeof g_tmp, &len, NULL) == TM_OK) {
        tm_x509_info x;
        tm_reason r;
        if (tm_x509_info_der(g_tmp, len, &x, &r) == TM_OK) {
            tm_at_line(l->at, "AT-S.Content:ca:%s:%s", ski_of(&x), x.subject);
            return;
        }
    }
    if (strcmp(item, "cert") == 0 &&
        tm_store_get(&m->store, name, g_tmp, sizeof g_tmp, &len, NULL) == TM_OK) {
        tm_x509_info x;
        tm_reason r;
        size_t leaf = len;
        if (len > 4 && g_tmp[1] == 0x82)
            leaf = 4 + ((size_t)g_tmp[2] << 8 | g_tmp[3]);
        if (leaf <= len && tm_x509_info_der(g_tmp, leaf, &x, &r) == TM_OK) {
            tm_at_line(l->at, "AT-S.Content:cert:%s", x.subject);
            return;
        }
    }
    tm_at_line(l->at, "AT-S.Content:%s:%zu", item, size);
}

tm_err spwf_tlscert_set(tm_at *at, const tm_at_args *a)
{
    spwf_state *s = spwf_get(at);
    char kind[16];
    tm_err e;
    if ((e = tm_at_max_args(at, a, 2)) || (e = tm_at_get_str(at, a, 1, "type", kind, sizeof kind)))
        return e;
    if (!strcasecmp(kind, "content")) {
        long op;
        if ((e = tm_at_get_int(at, a, 2, "operation", 1, 2, &op)))
            return e;
        list_ctx l = { at, 0, op == 2 };
        tm_store_list(&spwf_modem(at)->store, "spwf/tls/", content_cb, &l);
        if (op == 2)
            tm_trace("store", "TLSCERT=content,2: %d item(s) removed (the file system is unchanged)", l.n);
        return TM_OK;
    }
    long count;
    if ((e = spwf_count_arg(at, a, 2, 16 * 1024 * 1024, &count)))
        return e;
    tm_err pre = TM_OK;
    if (!strcasecmp(kind, "ca"))
        s->collect_kind = KIND_CA;
    else if (!strcasecmp(kind, "cert"))
        s->collect_kind = KIND_CERT;
    else if (!strcasecmp(kind, "key"))
        s->collect_kind = KIND_KEY;
    else {
        tm_at_reason(at)->arg_index = 1;
        pre = tm_fail(tm_at_reason(at), TM_E_ARG_BAD, "argument 1 (type) \"%s\" is not ca, cert, key or "
                      "content", kind);
    }
    return spwf_collect_start(at, count, pre, tlscert_end);
}

/* ---- file system ---------------------------------------------------------------- */

tm_err spwf_fs_name(tm_at *at, const char *user, char *out, size_t cap)
{
    const char *n = user;
    while (*n == '/')
        n++;
    size_t len = strlen(n);
    if (len == 0)
        return tm_fail(tm_at_reason(at), TM_E_ARG_MISSING, "no file name");
    if (len > 64)
        return tm_fail(tm_at_reason(at), TM_E_ARG_BAD, "file name \"%s\" is longer than 64 bytes", n);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)n[i] < 0x20 || n[i] == '/' || (unsigned char)n[i] >= 0x7f)
            return tm_fail(tm_at_reason(at), TM_E_ARG_BAD, "file name \"%s\": character %zu is not allowed "
                           "(no '/', no control bytes)", n, i + 1);
    if (!strcmp(n, ".") || !strcmp(n, ".."))
        return tm_fail(tm_at_reason(at), TM_E_ARG_BAD, "file name \"%s\" is not allowed", n);
    snprintf(out, cap, "spwf/fs/%s", n);
    return TM_OK;
}

static void fs_end(tm_at *at, tm_err pre, const uint8_t *p, size_t n)
{
    (void)pre;
    spwf_state *s = spwf_get(at);
    tm_modem *m = spwf_modem(at);
    size_t old = 0;
    if (tm_store_get(&m->store, s->collect_name, g_tmp, sizeof g_tmp, &old, NULL) != TM_OK)
        old = 0;
    if (old + n > TM_STORE_ITEM_MAX) {
        tm_at_complete(at, tm_fail(tm_at_reason(at), TM_E_TOO_LARGE, "the file would hold %zu bytes, the "
                                   "limit is %d; nothing was written", old + n, TM_STORE_ITEM_MAX));
        return;
    }
    memcpy(g_tmp + old, p, n);
    tm_err e = tm_store_put(&m->store, s->collect_name, g_tmp, old + n, tm_at_reason(at));
    if (!e)
        tm_trace("store", "%s: %zu bytes %s (%zu in all)", s->collect_name, n, old ? "appended" : "written",
                 old + n);
    tm_at_complete(at, e);
}

static tm_err fs_write(tm_at *at, const tm_at_args *a, bool append)
{
    spwf_state *s = spwf_get(at);
    char user[128];
    long count;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 2)) || (e = spwf_count_arg(at, a, 2, 16 * 1024 * 1024, &count)))
        return e;
    tm_err pre = tm_at_get_str(at, a, 1, "filename", user, sizeof user);
    if (!pre)
        pre = spwf_fs_name(at, user, s->collect_name, sizeof s->collect_name);
    if (!pre && append && !tm_store_exists(&spwf_modem(at)->store, s->collect_name))
        pre = tm_fail(tm_at_reason(at), TM_E_NOT_FOUND, "no file \"%s\" to append to (create it with "
                      "AT+S.FSC)", user);
    s->collect_kind = append ? KIND_FSA : KIND_FSC;
    return spwf_collect_start(at, count, pre, fs_end);
}

tm_err spwf_fsc_set(tm_at *at, const tm_at_args *a) { return fs_write(at, a, false); }
tm_err spwf_fsa_set(tm_at *at, const tm_at_args *a) { return fs_write(at, a, true); }

static tm_err fs_arg(tm_at *at, const tm_at_args *a, int idx, char *out, size_t cap, bool must_exist)
{
    char user[128];
    tm_err e;
    if ((e = tm_at_get_str(at, a, idx, "filename", user, sizeof user)) ||
        (e = spwf_fs_name(at, user, out, cap)))
        return e;
    if (must_exist && !tm_store_exists(&spwf_modem(at)->store, out))
        return tm_fail(tm_at_reason(at), TM_E_NOT_FOUND, "no file \"%s\" (AT+S.FSL lists the files)", user);
    return TM_OK;
}

tm_err spwf_fsd_set(tm_at *at, const tm_at_args *a)
{
    char name[TM_STORE_NAME_MAX];
    tm_err e;
    if ((e = tm_at_max_args(at, a, 1)) || (e = fs_arg(at, a, 1, name, sizeof name, true)))
        return e;
    e = tm_store_del(&spwf_modem(at)->store, name, tm_at_reason(at));
    if (!e)
        tm_trace("store", "deleted %s", name);
    return e;
}

tm_err spwf_fsr_set(tm_at *at, const tm_at_args *a)
{
    char from[TM_STORE_NAME_MAX], to[TM_STORE_NAME_MAX];
    tm_err e;
    if ((e = tm_at_max_args(at, a, 2)) || (e = fs_arg(at, a, 1, from, sizeof from, true)) ||
        (e = fs_arg(at, a, 2, to, sizeof to, false)))
        return e;
    e = tm_store_rename(&spwf_modem(at)->store, from, to, tm_at_reason(at));
    if (!e)
        tm_trace("store", "renamed %s -> %s", from, to);
    return e;
}

static void fsl_cb(void *arg, const char *name, size_t size)
{
    list_ctx *l = arg;
    l->n++;
    tm_at_line(l->at, "AT-S.File:%s:%zu", name + strlen("spwf/fs/"), size);
}

tm_err spwf_fsl_exec(tm_at *at, const tm_at_args *a)
{
    (void)a;
    list_ctx l = { at, 0, false };
    tm_store_list(&spwf_modem(at)->store, "spwf/fs/", fsl_cb, &l);
    return TM_OK;
}

tm_err spwf_fsl_set(tm_at *at, const tm_at_args *a)
{
    char name[TM_STORE_NAME_MAX];
    tm_err e;
    if (a->count == 1 && tm_at_omitted(a, 1))
        return spwf_fsl_exec(at, a);
    if ((e = tm_at_max_args(at, a, 1)) || (e = fs_arg(at, a, 1, name, sizeof name, true)))
        return e;
    list_ctx l = { at, 0, false };
    tm_store_list(&spwf_modem(at)->store, name, fsl_cb, &l);
    return TM_OK;
}

tm_err spwf_fsp_set(tm_at *at, const tm_at_args *a)
{
    char name[TM_STORE_NAME_MAX];
    long off, len;
    size_t size;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 3)) || (e = fs_arg(at, a, 1, name, sizeof name, true)) ||
        (e = tm_at_opt_int(at, a, 2, "offset", 0, TM_STORE_ITEM_MAX, 0, &off)) ||
        (e = tm_at_opt_int(at, a, 3, "length", 0, TM_STORE_ITEM_MAX, 0, &len)))
        return e;
    if ((e = tm_store_get(&spwf_modem(at)->store, name, g_tmp, sizeof g_tmp, &size, tm_at_reason(at))))
        return e;
    if ((size_t)off > size)
        return tm_fail(tm_at_reason(at), TM_E_ARG_RANGE, "argument 2 (offset) %ld is beyond the end of the "
                       "file (%zu bytes)", off, size);
    size_t n = size - (size_t)off;
    if (len > 0 && (size_t)len < n)
        n = (size_t)len;
    if (n + 128 > tm_at_out_room(at) + 4096)
        return tm_fail(tm_at_reason(at), TM_E_BUSY, "the output towards the host is full; read it, then "
                       "repeat (or print in parts with <offset>,<length>)");
    tm_at_line(at, "AT-S.Reading:%zu:%zu", n, size);
    tm_at_write(at, g_tmp + off, n);
    return TM_OK;
}

/* ---- credentials for a connection -------------------------------------------------- */

static bool creds_add(spwf_creds *c, const uint8_t *p, size_t n)
{
    if (n == 0)
        return true;    /* an empty stored file: nothing to copy (and c->buf may still be NULL) */
    if (c->len + n > c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64 * 1024;
        while (cap < c->len + n)
            cap *= 2;
        uint8_t *b = realloc(c->buf, cap);
        if (!b)
            return false;
        c->buf = b;
        c->cap = cap;
    }
    memcpy(c->buf + c->len, p, n);
    c->len += n;
    return true;
}

static size_t g_off[64];

static void add_anchor(spwf_creds *c, const uint8_t *der, size_t n, const char *origin)
{
    size_t max = sizeof c->anchors / sizeof c->anchors[0];
    if (c->n_anchors >= max) {
        tm_trace("warn", "trust: more than %zu anchors; %s ignored", max, origin);
        return;
    }
    /* the same certificate twice (TLSCERT and a file) counts once */
    for (size_t i = 0; i < c->n_anchors; i++)
        if (c->anchors[i].len == n && memcmp(c->buf + g_off[i], der, n) == 0)
            return;
    g_off[c->n_anchors] = c->len;
    if (!creds_add(c, der, n))
        return;
    c->anchors[c->n_anchors].len = n;
    snprintf(c->origin[c->n_anchors], sizeof c->origin[0], "%s", origin);
    c->n_anchors++;
}

typedef struct {
    spwf_creds *c;
    tm_store   *st;
} load_ctx;

static void load_tlscert_ca(void *arg, const char *name, size_t size)
{
    load_ctx *l = arg;
    size_t len;
    (void)size;
    if (tm_store_get(l->st, name, g_tmp, sizeof g_tmp, &len, NULL) != TM_OK)
        return;
    add_anchor(l->c, g_tmp, len, "AT+S.TLSCERT=ca");
}

/* Is "<hex with or without colons>.ca" (any case)?  Fills the compact hex. */
static bool ski_named(const char *file, char *hex, size_t cap)
{
    size_t n = strlen(file);
    if (n < 4 || strcasecmp(file + n - 3, ".ca") != 0)
        return false;
    size_t o = 0;
    for (size_t i = 0; i < n - 3; i++) {
        char ch = file[i];
        if (ch == ':' || ch == ' ' || ch == '-')
            continue;
        if (!isxdigit((unsigned char)ch) || o + 1 >= cap)
            return false;
        hex[o++] = (char)tolower((unsigned char)ch);
    }
    hex[o] = '\0';
    return o > 0;
}

static void load_fs_file(void *arg, const char *name, size_t size)
{
    load_ctx *l = arg;
    size_t len;
    (void)size;
    if (tm_store_get(l->st, name, g_tmp, sizeof g_tmp, &len, NULL) != TM_OK)
        return;
    const char *file = name + strlen("spwf/fs/");
    size_t fl = strlen(file);
    bool dot_ca = fl > 3 && strcasecmp(file + fl - 3, ".ca") == 0;
    static uint8_t der[TM_STORE_ITEM_MAX];
    tm_certfmt_result res;
    tm_reason r;
    tm_reason_clear(&r);
    if (tm_certfmt_decode(g_tmp, len, TM_ITEM_CERT, der, sizeof der, &res, &r) != TM_OK) {
        if (dot_ca)
            tm_trace("warn", "trust: file '%s' is named like a CA but holds no certificate (%s); ignored",
                     file, r.detail);
        return;
    }
    char hex[80];
    bool skin = ski_named(file, hex, sizeof hex);
    for (int i = 0; i < res.count; i++) {
        tm_x509_info x;
        if (tm_x509_info_der(der + res.off[i], res.len[i], &x, &r) != TM_OK)
            continue;
        if (!(x.is_ca || x.self_signed || dot_ca))
            continue;
        char origin[96], a[64], b[64];
        ski_compact(x.ski, a, sizeof a);
        ski_compact(x.ski_computed, b, sizeof b);
        if (skin && (!strcmp(hex, a) || !strcmp(hex, b)))
            snprintf(origin, sizeof origin, "file '%.50s' (named by its SKI)", file);
        else {
            snprintf(origin, sizeof origin, "file '%.60s'", file);
            if (skin)
                tm_trace("warn", "trust: file '%s' is named like a key identifier but the certificate's is %s; "
                         "used anyway", file, ski_of(&x));
        }
        add_anchor(l->c, der + res.off[i], res.len[i], origin);
    }
}

void spwf_creds_load(spwf_state *s, spwf_creds *c, bool with_client)
{
    tm_store *st = &s->modem->store;
    memset(c, 0, sizeof *c);
    load_ctx l = { c, st };
    tm_store_list(st, "spwf/tls/ca.", load_tlscert_ca, &l);
    tm_store_list(st, "spwf/fs/", load_fs_file, &l);
    size_t cert_off = 0, cert_len = 0;
    if (with_client &&
        tm_store_get(st, "spwf/tls/cert", g_tmp, sizeof g_tmp, &cert_len, NULL) == TM_OK) {
        cert_off = c->len;
        if (!creds_add(c, g_tmp, cert_len))
            cert_len = 0;
        size_t kl;
        if (cert_len && tm_store_get(st, "spwf/tls/key", g_tmp, sizeof g_tmp, &kl, NULL) == TM_OK &&
            (c->key = malloc(kl)) != NULL) {
            memcpy(c->key, g_tmp, kl);
            c->key_len = kl;
        }
    }
    /* c->buf is NULL when every stored anchor is empty: such an anchor stays
     * (0 bytes, unparsable: the connection is refused with a reason). */
    for (size_t i = 0; i < c->n_anchors; i++)
        c->anchors[i].p = c->buf ? c->buf + g_off[i] : NULL;
    if (cert_len)
        c->n_client_chain = tm_der_split(c->buf + cert_off, cert_len, c->client_chain, 8);
}

void spwf_creds_free(spwf_creds *c)
{
    free(c->buf);
    free(c->key);
    memset(c, 0, sizeof *c);
}

void spwf_tls_config(spwf_state *s, spwf_creds *c, tm_tls_config *t, const char *host, const char *expected)
{
    tm_modem *m = s->modem;
    memset(t, 0, sizeof *t);
    t->host = host;
    t->expected_name = expected && expected[0] ? expected : NULL;
    t->verify = true;
    t->anchors = c->anchors;
    t->n_anchors = c->n_anchors;
    t->bundle_path = c->n_anchors ? NULL : (m->ca_bundle[0] ? m->ca_bundle : NULL);
    if (c->n_client_chain && c->key) {
        t->client_chain = c->client_chain;
        t->n_client_chain = c->n_client_chain;
        t->client_key.p = c->key;
        t->client_key.len = c->key_len;
    }
    t->now = tm_modem_now(m);
    t->clock_set = m->clock_mode != TM_CLOCK_UNSET;
    t->clock_from_cmd = m->clock_mode == TM_CLOCK_SET;
    t->host_now = tm_port_wall_ms() / 1000;
    t->clock_hint = "AT+S.TIME=<seconds since 1970>";
    if (c->n_anchors) {
        tm_trace("tls", "trust: %zu stored certificate(s) (only these):", c->n_anchors);
        for (size_t i = 0; i < c->n_anchors; i++) {
            tm_x509_info x;
            tm_reason r;
            if (tm_x509_info_der(c->anchors[i].p, c->anchors[i].len, &x, &r) == TM_OK)
                tm_trace("tls", "trust: anchor %zu: '%s' SKI %s from %s", i + 1, x.subject, ski_of(&x),
                         c->origin[i]);
        }
    } else {
        tm_trace("tls", "trust: nothing stored (TLSCERT or file system), default bundle %s",
                 t->bundle_path ? t->bundle_path : "(none: every server will fail with Certificate Error:23)");
    }
    if (t->client_chain)
        tm_trace("tls", "client certificate: %zu certificate(s) from AT+S.TLSCERT=cert, key from "
                 "AT+S.TLSCERT=key (sent when the server asks)", c->n_client_chain);
}
