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
 * - Trust for a connection = every TLSCERT CA + every file the HOST wrote
 *   (AT+S.FSC/FSA) whose name ends in ".ca" (any case; SKI in hex with or
 *   without colons, or any other name), as the module takes "<ski>.ca" files.
 *   Files the module wrote from the network (HTTPGET/HTTPPOST output) are never
 *   anchors, whatever their name or content, also after AT+S.FSR: a provenance
 *   record spwf/fsmeta/<file> ("host <sha256 of the content>" or "net <by>")
 *   goes with each file, and only "host" with a matching hash counts (a crash
 *   between a file and its record therefore fails closed).  Nothing stored:
 *   the --ca-bundle.  The trace lists each anchor and where it came from, and
 *   each CA-looking file that is not an anchor and why (also in the reason of
 *   a refused chain). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "diag/load_hint.h"
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
    if (e && spwf_crlf_overrun(at, s))
        return;                 /* a terminal's CR LF: the rest of the PEM is read, then explained */
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

/* ---- provenance: who wrote a file-system file ------------------------------------ */

typedef enum { PROV_NONE, PROV_HOST, PROV_NET, PROV_CHANGED } prov_kind;

static void meta_name(const char *fsname, char *out, size_t cap)
{
    snprintf(out, cap, "spwf/fsmeta/%s", fsname + strlen("spwf/fs/"));
}

/* The record of fsname checked against its content p[0..n); `by` gets the
 * writer of a network file ("AT+S.HTTPGET"). */
static prov_kind prov_get(tm_store *st, const char *fsname, const uint8_t *p, size_t n, char *by, size_t cap)
{
    char mn[TM_STORE_NAME_MAX + 16], rec[128];
    size_t rl;
    meta_name(fsname, mn, sizeof mn);
    if (by && cap)
        by[0] = '\0';
    if (tm_store_get(st, mn, rec, sizeof rec - 1, &rl, NULL) != TM_OK)
        return PROV_NONE;
    rec[rl] = '\0';
    rec[strcspn(rec, "\r\n")] = '\0';
    if (strncmp(rec, "net ", 4) == 0) {
        if (by && cap)
            snprintf(by, cap, "%.*s", (int)(cap - 1), rec + 4);
        return PROV_NET;
    }
    if (strncmp(rec, "host ", 5) != 0)
        return PROV_NONE;
    uint8_t h[32];
    char hex[65];
    tm_sha256(p, n, h);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", h[i]);
    return strcmp(rec + 5, hex) == 0 ? PROV_HOST : PROV_CHANGED;
}

/* The host wrote fsname, which now holds p[0..n). */
static void prov_set_host(tm_store *st, const char *fsname, const uint8_t *p, size_t n)
{
    char mn[TM_STORE_NAME_MAX + 16], rec[80];
    uint8_t h[32];
    meta_name(fsname, mn, sizeof mn);
    tm_sha256(p, n, h);
    int o = snprintf(rec, sizeof rec, "host ");
    for (int i = 0; i < 32; i++)
        o += snprintf(rec + o, sizeof rec - (size_t)o, "%02x", h[i]);
    snprintf(rec + o, sizeof rec - (size_t)o, "\n");
    tm_reason r;
    if (tm_store_put(st, mn, rec, strlen(rec), &r) != TM_OK)
        tm_trace("warn", "provenance of %s not recorded (%s): the file is not a trust anchor", fsname, r.detail);
}

tm_err spwf_fs_from_network(tm_store *st, const char *fsname, const char *by, tm_reason *why)
{
    char mn[TM_STORE_NAME_MAX + 16], rec[96];
    meta_name(fsname, mn, sizeof mn);
    snprintf(rec, sizeof rec, "net %s\n", by);
    /* recorded before the file is written: a crash in between leaves an
     * older file marked "net", never a network file marked "host" */
    return tm_store_put(st, mn, rec, strlen(rec), why);
}

/* ---- file-system bounds ------------------------------------------------------ */

typedef struct {
    const char *skip;      /* the file being rewritten: its old size does not count */
    size_t      files, bytes;
} fs_usage;

static void usage_cb(void *arg, const char *name, size_t size)
{
    fs_usage *u = arg;
    if (u->skip && strcmp(name, u->skip) == 0)
        return;
    u->files++;
    u->bytes += size;
}

tm_err spwf_fs_room(tm_store *st, const char *fsname, size_t new_size, tm_reason *why)
{
    fs_usage u = { fsname, 0, 0 };
    if (tm_store_list(st, "spwf/fs/", usage_cb, &u) < 0)
        return tm_fail(why, TM_E_STORE_IO, "the file system could not be listed");
    if (u.files + 1 > TM_FS_FILES_MAX && !tm_store_exists(st, fsname))
        return tm_fail(why, TM_E_STORE_FULL, "the file system holds %zu files, the limit is %d; delete one "
                       "with AT+S.FSD; nothing was written", u.files, TM_FS_FILES_MAX);
    if (u.bytes + new_size > TM_FS_BYTES_MAX)
        return tm_fail(why, TM_E_STORE_FULL, "%zu bytes would make the files hold %zu bytes, the limit is %d; "
                       "delete files with AT+S.FSD; nothing was written", new_size, u.bytes + new_size,
                       TM_FS_BYTES_MAX);
    return TM_OK;
}

static void fs_end(tm_at *at, tm_err pre, const uint8_t *p, size_t n)
{
    (void)pre;
    spwf_state *s = spwf_get(at);
    tm_modem *m = spwf_modem(at);
    size_t old = 0;
    bool exists = tm_store_get(&m->store, s->collect_name, g_tmp, sizeof g_tmp, &old, NULL) == TM_OK;
    if (!exists)
        old = 0;
    /* a new file is the host's; appending keeps the file's provenance: bytes
     * the host adds to a downloaded file do not make it the host's */
    bool host = !exists || prov_get(&m->store, s->collect_name, g_tmp, old, NULL, 0) == PROV_HOST;
    if (old + n > TM_STORE_ITEM_MAX) {
        tm_at_complete(at, tm_fail(tm_at_reason(at), TM_E_TOO_LARGE, "the file would hold %zu bytes, the "
                                   "limit is %d; nothing was written", old + n, TM_STORE_ITEM_MAX));
        return;
    }
    tm_err e = spwf_fs_room(&m->store, s->collect_name, old + n, tm_at_reason(at));
    if (e) {
        tm_at_complete(at, e);
        return;
    }
    memcpy(g_tmp + old, p, n);
    e = tm_store_put(&m->store, s->collect_name, g_tmp, old + n, tm_at_reason(at));
    if (!e) {
        if (host)
            prov_set_host(&m->store, s->collect_name, g_tmp, old + n);
        tm_trace("store", "%s: %zu bytes %s (%zu in all)%s", s->collect_name, n, old ? "appended" : "written",
                 old + n, host ? "" : "; still not the host's file (it was written from the network or "
                 "before provenance was recorded): never a trust anchor");
    }
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
    if (!pre)   /* full already: say so before the payload (which is then read and discarded) */
        pre = spwf_fs_room(&spwf_modem(at)->store, s->collect_name, append ? 0 : (size_t)count,
                           tm_at_reason(at));
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
    if (!e) {
        char mn[TM_STORE_NAME_MAX + 16];
        meta_name(name, mn, sizeof mn);
        tm_store_del(&spwf_modem(at)->store, mn, NULL);
        tm_trace("store", "deleted %s", name);
    }
    return e;
}

tm_err spwf_fsr_set(tm_at *at, const tm_at_args *a)
{
    char from[TM_STORE_NAME_MAX], to[TM_STORE_NAME_MAX];
    tm_err e;
    if ((e = tm_at_max_args(at, a, 2)) || (e = fs_arg(at, a, 1, from, sizeof from, true)) ||
        (e = fs_arg(at, a, 2, to, sizeof to, false)))
        return e;
    tm_store *st = &spwf_modem(at)->store;
    char mfrom[TM_STORE_NAME_MAX + 16], mto[TM_STORE_NAME_MAX + 16], rec[128];
    meta_name(from, mfrom, sizeof mfrom);
    meta_name(to, mto, sizeof mto);
    e = tm_store_rename(st, from, to, tm_at_reason(at));
    if (!e) {
        tm_store_del(st, mto, NULL);      /* the old target's record never describes the new content */
        /* the provenance goes with the content: a downloaded file renamed to
         * "<ski>.ca" is still a downloaded file */
        size_t rl;
        if (tm_store_get(st, mfrom, rec, sizeof rec, &rl, NULL) == TM_OK &&
            tm_store_put(st, mto, rec, rl, NULL) == TM_OK)
            tm_store_del(st, mfrom, NULL);
        tm_trace("store", "renamed %s -> %s", from, to);
    }
    return e;
}

/* AT+S.FSL streams (tm_at_stream): the names are taken when the command
 * runs, then printed as the host reads, so any number of files is listed
 * completely, followed by AT-S.OK. */
typedef struct {
    char   name[TM_STORE_NAME_MAX + 1];
    size_t size;
} fsl_ent;

static struct {
    fsl_ent *v;
    size_t   n, cap, next;
    bool     oom;
} g_fsl;

static void fsl_free(void)
{
    free(g_fsl.v);
    memset(&g_fsl, 0, sizeof g_fsl);
}

static void fsl_cb(void *arg, const char *name, size_t size)
{
    (void)arg;
    if (g_fsl.n == g_fsl.cap) {
        size_t nc = g_fsl.cap ? g_fsl.cap * 2 : 64;
        fsl_ent *nv = realloc(g_fsl.v, nc * sizeof *nv);
        if (!nv) {
            g_fsl.oom = true;
            return;
        }
        g_fsl.v = nv;
        g_fsl.cap = nc;
    }
    snprintf(g_fsl.v[g_fsl.n].name, sizeof g_fsl.v[0].name, "%s", name + strlen("spwf/fs/"));
    g_fsl.v[g_fsl.n].size = size;
    g_fsl.n++;
}

static tm_err fsl_more(tm_at *at, void *arg, bool stop)
{
    (void)arg;
    while (!stop && g_fsl.next < g_fsl.n) {
        if (tm_at_out_room(at) < TM_STORE_NAME_MAX + 64)
            return TM_AT_PENDING;
        const fsl_ent *e = &g_fsl.v[g_fsl.next++];
        tm_at_line(at, "AT-S.File:%s:%zu", e->name, e->size);
    }
    if (!stop)
        tm_trace("store", "FSL: %zu file(s) listed", g_fsl.n);
    fsl_free();
    return TM_OK;
}

static tm_err fsl_start(tm_at *at, const char *prefix)
{
    fsl_free();
    if (tm_store_list(&spwf_modem(at)->store, prefix, fsl_cb, NULL) < 0 || g_fsl.oom) {
        bool oom = g_fsl.oom;
        fsl_free();
        return oom ? tm_fail(tm_at_reason(at), TM_E_NO_MEMORY, "no memory for the file list")
                   : tm_fail(tm_at_reason(at), TM_E_STORE_IO, "the file system could not be listed");
    }
    return tm_at_stream(at, fsl_more, NULL);
}

tm_err spwf_fsl_exec(tm_at *at, const tm_at_args *a)
{
    (void)a;
    return fsl_start(at, "spwf/fs/");
}

tm_err spwf_fsl_set(tm_at *at, const tm_at_args *a)
{
    char name[TM_STORE_NAME_MAX];
    tm_err e;
    if (a->count == 1 && tm_at_omitted(a, 1))
        return spwf_fsl_exec(at, a);
    if ((e = tm_at_max_args(at, a, 1)) || (e = fs_arg(at, a, 1, name, sizeof name, true)))
        return e;
    return fsl_start(at, name);
}

/* AT+S.FSP of a file larger than the free output streams (tm_at_stream):
 * the bytes are copied when the command runs and written as the host reads. */
static struct {
    uint8_t *buf;
    size_t   off, len;
} g_fsp;

static tm_err fsp_more(tm_at *at, void *arg, bool stop)
{
    (void)arg;
    while (!stop && g_fsp.off < g_fsp.len) {
        size_t room = tm_at_out_room(at);
        if (!room)
            return TM_AT_PENDING;
        size_t n = g_fsp.len - g_fsp.off < room ? g_fsp.len - g_fsp.off : room;
        tm_at_write(at, g_fsp.buf + g_fsp.off, n);
        g_fsp.off += n;
    }
    free(g_fsp.buf);
    memset(&g_fsp, 0, sizeof g_fsp);
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
    if (n + 128 <= tm_at_out_room(at)) {
        tm_at_line(at, "AT-S.Reading:%zu:%zu", n, size);
        tm_at_write(at, g_tmp + off, n);
        return TM_OK;
    }
    free(g_fsp.buf);
    memset(&g_fsp, 0, sizeof g_fsp);
    if (!(g_fsp.buf = malloc(n ? n : 1)))
        return tm_fail(tm_at_reason(at), TM_E_NO_MEMORY, "no memory to print %zu bytes", n);
    memcpy(g_fsp.buf, g_tmp + off, n);
    g_fsp.len = n;
    tm_at_line(at, "AT-S.Reading:%zu:%zu", n, size);
    return tm_at_stream(at, fsp_more, NULL);
}

/* ---- credentials for a connection -------------------------------------------------- */

static bool creds_add(spwf_creds *c, const uint8_t *p, size_t n)
{
    if (n == 0)
        return true;            /* nothing to copy (and c->buf may still be NULL) */
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

/* A stored credential that cannot be used refuses the connection: skipping
 * it would leave fewer anchors (or none, and then the --ca-bundle decides),
 * which widens trust instead of failing. */
typedef struct {
    spwf_creds *c;
    tm_store   *st;
    tm_reason  *why;
    tm_err      err;       /* first unusable item */
} load_ctx;

static void load_tlscert_ca(void *arg, const char *name, size_t size)
{
    load_ctx *l = arg;
    size_t len = 0;
    char what[300] = "";
    tm_reason r;
    tm_reason_clear(&r);
    if (l->err)
        return;
    if (tm_store_get(l->st, name, g_tmp, sizeof g_tmp, &len, &r) != TM_OK)
        snprintf(what, sizeof what, "it cannot be read (%.200s)", r.detail);
    else if (tm_x509_check_der_certs(g_tmp, len, what, sizeof what) != 1 && !what[0])
        snprintf(what, sizeof what, "it holds more than one certificate");
    if (what[0]) {
        l->err = tm_fail(l->why, TM_E_CERT_FORMAT, "the CA stored with AT+S.TLSCERT=ca (item %s, %zu bytes) "
                         "cannot be used: %s; the connection is refused rather than trusting anything else; "
                         "AT+S.TLSCERT=content,2 removes what TLSCERT stored, then load the CA again", name +
                         strlen("spwf/tls/"), size, what);
        return;
    }
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

/* Why a file is not an anchor; NULL when it is one (a host-written *.ca). */
static const char *why_not_anchor(bool dot_ca, prov_kind prov, const char *by, char *buf, size_t cap)
{
    if (prov == PROV_NET)
        snprintf(buf, cap, "it was written from the network by %s (never a trust anchor)", by);
    else if (prov == PROV_CHANGED)
        snprintf(buf, cap, "it changed after the host wrote it");
    else if (prov == PROV_NONE)
        snprintf(buf, cap, "it was not written by the host with AT+S.FSC (store it again)");
    else if (!dot_ca)
        snprintf(buf, cap, "its name does not end in .ca (rename it with AT+S.FSR to <SKI>.ca to trust it)");
    else
        return NULL;
    return buf;
}

const char *spwf_fs_not_anchor(tm_store *st, const char *fsname, char *buf, size_t cap)
{
    size_t len;
    if (tm_store_get(st, fsname, g_tmp, sizeof g_tmp, &len, NULL) != TM_OK)
        return NULL;
    const char *file = fsname + strlen("spwf/fs/");
    size_t fl = strlen(file);
    char by[96];
    prov_kind prov = prov_get(st, fsname, g_tmp, len, by, sizeof by);
    return why_not_anchor(fl > 3 && strcasecmp(file + fl - 3, ".ca") == 0, prov, by, buf, cap);
}

/* A file that looks like trust but is not an anchor: said in the trace and
 * kept for the reason of a refused chain (tm_tls_config.trust_note). */
static void not_anchor(spwf_creds *c, const char *file, const char *subject, const char *why)
{
    tm_trace("tls", "trust: file '%s'%s%s%s is NOT an anchor: %s", file, subject ? " (CA '" : "",
             subject ? subject : "", subject ? "')" : "", why);
    char one[sizeof c->note];
    int n = snprintf(one, sizeof one, "file '%s'%s%s%s is not an anchor: %s", file, subject ? " (CA '" : "",
                     subject ? subject : "", subject ? "')" : "", why);
    size_t o = strlen(c->note);
    if (n > 0 && o + (size_t)n + 16 < sizeof c->note) {   /* whole entries only */
        memcpy(c->note + o, o ? "; " : "stored ", o ? 2 : 7);
        o += o ? 2 : 7;
        memcpy(c->note + o, one, (size_t)n + 1);
    }
}

static void load_fs_file(void *arg, const char *name, size_t size)
{
    load_ctx *l = arg;
    size_t len;
    (void)size;
    if (l->err || tm_store_get(l->st, name, g_tmp, sizeof g_tmp, &len, NULL) != TM_OK)
        return;
    const char *file = name + strlen("spwf/fs/");
    size_t fl = strlen(file);
    bool dot_ca = fl > 3 && strcasecmp(file + fl - 3, ".ca") == 0;
    char by[96];
    prov_kind prov = prov_get(l->st, name, g_tmp, len, by, sizeof by);
    static uint8_t der[TM_STORE_ITEM_MAX];
    tm_certfmt_result res;
    tm_reason r;
    tm_reason_clear(&r);
    bool certs = tm_certfmt_decode(g_tmp, len, TM_ITEM_CERT, der, sizeof der, &res, &r) == TM_OK;
    if (!dot_ca || prov != PROV_HOST) {
        /* not an anchor; say so when it looks like one */
        const char *subject = NULL;
        tm_x509_info x;
        tm_reason r2;
        for (int i = 0; certs && i < res.count && !subject; i++)
            if (tm_x509_info_der(der + res.off[i], res.len[i], &x, &r2) == TM_OK && (x.is_ca || x.self_signed))
                subject = x.subject;
        if (!subject && !dot_ca)
            return;
        char why[160];
        not_anchor(l->c, file, subject, why_not_anchor(dot_ca, prov, by, why, sizeof why));
        return;
    }
    if (!certs) {
        l->err = tm_fail(l->why, TM_E_CERT_FORMAT, "file '%s' (%zu bytes) is named as a CA (.ca) but holds no "
                         "certificate (%.300s); the connection is refused rather than trusting anything else; "
                         "delete it (AT+S.FSD=%s) or store the CA again", file, len, r.detail, file);
        return;
    }
    char hex[80];
    bool skin = ski_named(file, hex, sizeof hex);
    for (int i = 0; i < res.count; i++) {
        tm_x509_info x;
        if (tm_x509_info_der(der + res.off[i], res.len[i], &x, &r) != TM_OK) {
            l->err = tm_fail(l->why, TM_E_CERT_FORMAT, "file '%s' is named as a CA (.ca) but certificate %d of "
                             "%d does not parse (%.300s); the connection is refused; delete it (AT+S.FSD=%s) "
                             "or store the CA again", file, i + 1, res.count, r.detail, file);
            return;
        }
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

static tm_err creds_load(spwf_state *s, spwf_creds *c, bool with_client, tm_reason *why)
{
    tm_store *st = &s->modem->store;
    memset(c, 0, sizeof *c);
    load_ctx l = { c, st, why, TM_OK };
    tm_store_list(st, "spwf/tls/ca.", load_tlscert_ca, &l);
    if (!l.err)
        tm_store_list(st, "spwf/fs/", load_fs_file, &l);
    if (l.err)
        return l.err;
    size_t cert_off = 0, cert_len = 0;
    tm_reason r;
    tm_reason_clear(&r);
    tm_err e = with_client ? tm_store_get(st, "spwf/tls/cert", g_tmp, sizeof g_tmp, &cert_len, &r) : TM_E_NOT_FOUND;
    if (e == TM_OK) {
        char what[300] = "";
        if (tm_x509_check_der_certs(g_tmp, cert_len, what, sizeof what) == 0)
            return tm_fail(why, TM_E_CERT_FORMAT, "the client certificate stored with AT+S.TLSCERT=cert (%zu "
                           "bytes) cannot be used: %s; load it again with AT+S.TLSCERT=cert", cert_len, what);
        cert_off = c->len;
        if (!creds_add(c, g_tmp, cert_len))
            return tm_fail(why, TM_E_NO_MEMORY, "no memory for the client certificate");
        size_t kl = 0;
        tm_reason_clear(&r);
        e = tm_store_get(st, "spwf/tls/key", g_tmp, sizeof g_tmp, &kl, &r);
        if (e == TM_OK) {
            tm_reason_clear(&r);
            if (kl == 0 || tm_x509_check_key(g_tmp, kl, NULL, 0, &r) != TM_OK)
                return tm_fail(why, TM_E_KEY_FORMAT, "the client key stored with AT+S.TLSCERT=key (%zu bytes) "
                               "cannot be used: %s; load it again with AT+S.TLSCERT=key", kl,
                               kl ? r.detail : "it is empty");
            if ((c->key = malloc(kl)) == NULL)
                return tm_fail(why, TM_E_NO_MEMORY, "no memory for the client key");
            memcpy(c->key, g_tmp, kl);
            c->key_len = kl;
        } else if (e != TM_E_NOT_FOUND) {
            return tm_fail(why, TM_E_KEY_FORMAT, "the client key stored with AT+S.TLSCERT=key cannot be read "
                           "(%s); load it again with AT+S.TLSCERT=key", r.detail);
        }
    } else if (e != TM_E_NOT_FOUND) {
        return tm_fail(why, TM_E_CERT_FORMAT, "the client certificate stored with AT+S.TLSCERT=cert cannot be "
                       "read (%s); load it again with AT+S.TLSCERT=cert", r.detail);
    }
    /* c->buf is NULL when every stored anchor is empty: such an anchor stays
     * (0 bytes, unparsable: the connection is refused with a reason). */
    for (size_t i = 0; i < c->n_anchors; i++)
        c->anchors[i].p = c->buf ? c->buf + g_off[i] : NULL;
    if (cert_len)
        c->n_client_chain = tm_der_split(c->buf + cert_off, cert_len, c->client_chain, 8);
    return TM_OK;
}

tm_err spwf_creds_load(spwf_state *s, spwf_creds *c, bool with_client, tm_reason *why)
{
    tm_err e = creds_load(s, c, with_client, why);
    if (e)
        spwf_creds_free(c);
    return e;
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
    t->trust_note = c->note[0] ? c->note : NULL;
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
    t->load_hint = TM_LOAD_ROOT_SPWF;
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
