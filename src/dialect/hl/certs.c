/* tlsmodem — HL certificates and keys: AT+KCERTSTORE, AT+KCERTDELETE,
 * AT+KPRIVKSTORE, AT+KPRIVKDELETE, and the trust/credentials a connection
 * takes from the store.
 *
 * Decisions (docs/hl.md): any of PEM (one or many certificates), DER, bare
 * base64, CRLF or LF is accepted and detected; the data ends by the announced
 * byte count, by the EOF pattern or by "+++" (whichever first; when a count was
 * announced and the data ended otherwise, the counts must agree).  Items are
 * stored as DER under hl/root_ca.<index>, hl/local_cert.<index>,
 * hl/privkey.<index>, atomically; garbage is refused (+CME ERROR: 931) with
 * the reason and nothing stored.  A CA stored as local certificate, or a
 * non-CA stored as root (a pin), is stored and warned about. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag/load_hint.h"
#include "core/trace.h"
#include "dialect/hl/hl.h"
#include "port/port.h"
#include "store/certfmt.h"
#include "tls/x509.h"


static const char *item_name(int kind, int index, char *buf, size_t cap)
{
    static const char *const prefix[] = { "hl/root_ca", "hl/local_cert", "hl/privkey" };
    snprintf(buf, cap, "%s.%d", prefix[kind], index);
    return buf;
}

/* ---- collecting data-mode bytes ---------------------------------------- */

/* Data-mode sink callbacks; arg is the engine. */
static size_t collect_room(void *arg)
{
    hl_state *s = hl_get(arg);
    return s->collect_cap - s->collect_len;
}

static void collect_data(void *arg, const uint8_t *p, size_t n)
{
    hl_state *s = hl_get(arg);
    size_t room = s->collect_cap - s->collect_len;
    if (n > room)
        n = room;               /* the engine honours room(); this is a guard */
    memcpy(s->collect + s->collect_len, p, n);
    s->collect_len += n;
}

/* The upload buffer (TM_STORE_ITEM_MAX, 256 KiB) exists only while an
 * upload runs: taken at CONNECT, given back when its end was handled. */
void hl_collect_release(hl_state *s)
{
    free(s->collect);
    s->collect = NULL;
    s->collect_cap = s->collect_len = 0;
    s->collect_hold = false;
}

static void collect_ended(void *arg, tm_at_data_end how, size_t total)
{
    hl_state *s = hl_get(arg);
    s->collect_on_end(arg, how, total);
    if (!s->collect_hold)      /* hl_crlf_overrun still needs it: it releases it itself */
        hl_collect_release(s);
}

static bool collect_begin(hl_state *s)
{
    if (!s->collect) {
        s->collect = malloc(TM_STORE_ITEM_MAX);
        if (!s->collect)
            return false;
        s->collect_cap = TM_STORE_ITEM_MAX;
    }
    s->collect_len = 0;
    return true;
}

/* Checks how the data ended; fills the reason on a mismatch. */
tm_err hl_collect_end_check(tm_at *at, hl_state *s, tm_at_data_end how, size_t total)
{
    if (how == TM_AT_DATA_END_HOST_GONE)
        return tm_fail(tm_at_reason(at), TM_E_DATA_ABORTED,
                       "the host went away after %zu bytes of data; nothing was stored", total);
    if (how == TM_AT_DATA_END_MANGLED)
        return tm_fail(tm_at_reason(at), TM_E_DATA_PATTERN_MANGLED,
                       "the data ended with a look-alike of the EOF pattern (typographic dashes?); "
                       "the pattern is %s in ASCII; nothing was stored", tm_at_pattern(at));
    if (s->collect_expected && total != s->collect_expected)
        return tm_fail(tm_at_reason(at), TM_E_DATA_COUNT,
                       "announced %zu bytes, received %zu before the %s (every CR and LF counts); "
                       "nothing was stored", s->collect_expected, total,
                       how == TM_AT_DATA_END_PATTERN ? "EOF pattern" :
                       how == TM_AT_DATA_END_ESCAPE ? "+++" : "end");
    if (total == 0 && s->collect_kind != COLLECT_HEADER)
        return tm_fail(tm_at_reason(at), s->collect_kind == COLLECT_KEY ? TM_E_KEY_FORMAT : TM_E_CERT_FORMAT, "no data was received; nothing was stored");
    return TM_OK;
}

static void warn_cert(tm_at *at, int kind, int i, int count, const tm_x509_info *x, int64_t now)
{
    char date[40];
    if (kind == COLLECT_ROOT && !x->is_ca)
        hl_warn(at, "certificate %d/%d \"%s\" is not a CA certificate: as a root it trusts only this "
                    "one server (a pin) until %s", i + 1, count, x->subject,
                tm_x509_time_str(x->not_after, date, sizeof date));
    if (kind == COLLECT_LOCAL && x->is_ca)
        hl_warn(at, "certificate %d/%d \"%s\" is a CA certificate stored as local (client) certificate: "
                    "it will be presented as the client certificate and is NOT used to verify servers; "
                    "to trust it, store it with AT+KCERTSTORE=0", i + 1, count, x->subject);
    if (x->not_after < now)
        hl_warn(at, "certificate %d/%d \"%s\" expired on %s (module clock)", i + 1, count, x->subject,
                tm_x509_time_str(x->not_after, date, sizeof date));
}

static void cert_end(void *arg, tm_at_data_end how, size_t total)
{
    tm_at *at = arg;
    hl_state *s = hl_get(at);
    tm_reason *why = tm_at_reason(at);
    tm_err e = hl_collect_end_check(at, s, how, total);
    if (e) {
        tm_at_complete(at, e);
        return;
    }
    static uint8_t der[TM_STORE_ITEM_MAX];
    tm_certfmt_result res;
    tm_item_kind want = s->collect_kind == COLLECT_KEY ? TM_ITEM_KEY : TM_ITEM_CERT;
    e = tm_certfmt_decode(s->collect, s->collect_len, want, der, sizeof der, &res, why);
    if (e && how == TM_AT_DATA_END_COUNT && hl_crlf_overrun(at, s))
        return;                 /* a terminal's CR LF: the rest of the PEM is read, then explained */
    if (e) {
        tm_reason_append(why, "nothing was stored");
        tm_at_complete(at, e);
        return;
    }
    tm_modem *m = hl_modem(at);
    char name[64];
    if (want == TM_ITEM_CERT) {
        for (int i = 0; i < res.count; i++) {
            tm_x509_info x;
            e = tm_x509_info_der(der + res.off[i], res.len[i], &x, why);
            if (e) {
                tm_reason_append(why, "certificate %d of %d; nothing was stored", i + 1, res.count);
                tm_at_complete(at, e);
                return;
            }
            char nb[40], na[40];
            tm_trace("store", "%s %d/%d: %s, issuer %s, %s %d, %s, %s..%s, CA:%s, SKI %s",
                     s->collect_kind == COLLECT_ROOT ? "root" : "local", i + 1, res.count, x.subject,
                     x.issuer, x.key_type, x.key_bits, x.sig_alg,
                     tm_x509_time_str(x.not_before, nb, sizeof nb),
                     tm_x509_time_str(x.not_after, na, sizeof na), x.is_ca ? "yes" : "no",
                     x.ski[0] ? x.ski : "(none)");
            warn_cert(at, s->collect_kind, i, res.count, &x, tm_modem_now(m));
        }
    } else {
        e = tm_x509_check_key(der, res.total, NULL, 0, why);
        if (e) {
            tm_reason_append(why, "nothing was stored");
            tm_at_complete(at, e);
            return;
        }
    }
    item_name(s->collect_kind, s->collect_index, name, sizeof name);
    e = tm_store_put(&m->store, name, der, res.total, why);
    if (e == TM_OK)
        tm_trace("store", "stored %s: %d item(s), %zu bytes DER, received as %s (%zu bytes)", name,
                 res.count, res.total, tm_fmt_name(res.fmt), total);
    tm_at_complete(at, e);
}


tm_err hl_collect_start(tm_at *at, int kind, long index, long count,
                        void (*on_end)(void *at, tm_at_data_end how, size_t total))
{
    hl_state *s = hl_get(at);
    if (count > TM_STORE_ITEM_MAX)
        return tm_fail(tm_at_reason(at), TM_E_TOO_LARGE, "%ld bytes announced, the limit is %d",
                       count, TM_STORE_ITEM_MAX);
    if (!collect_begin(s))
        return tm_fail(tm_at_reason(at), TM_E_NO_MEMORY, "no memory for the data buffer");
    s->collect_kind = kind;
    s->collect_index = (int)index;
    s->collect_expected = (size_t)count;
    s->collect_on_end = on_end;
    s->collect_hold = false;
    tm_at_v250_result(at, "CONNECT", 1);
    tm_at_data_in spec = {
        .count = (size_t)count,
        .pattern = true,
        .escape = true,
        .on_data = collect_data,
        .on_end = collect_ended,
        .room = collect_room,
        .arg = at,
    };
    tm_at_data_in_start(at, &spec);
    return TM_AT_PENDING;
}

tm_err hl_kcertstore_set(tm_at *at, const tm_at_args *a)
{
    long type, count, index;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 3)) ||
        (e = tm_at_get_int(at, a, 1, "data_type", 0, 1, &type)) ||
        (e = tm_at_opt_int(at, a, 2, "NbData", 1, TM_STORE_ITEM_MAX, 0, &count)) ||
        (e = tm_at_opt_int(at, a, 3, "index", 0, TM_CERT_SLOTS - 1, 0, &index)))
        return e;
    return hl_collect_start(at, type == 0 ? COLLECT_ROOT : COLLECT_LOCAL, index, count, cert_end);
}

tm_err hl_kprivkstore_set(tm_at *at, const tm_at_args *a)
{
    long index, count;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 2)) ||
        (e = tm_at_get_int(at, a, 1, "index", 0, TM_CERT_SLOTS - 1, &index)) ||
        (e = tm_at_opt_int(at, a, 2, "NbData", 1, TM_STORE_ITEM_MAX, 0, &count)))
        return e;
    return hl_collect_start(at, COLLECT_KEY, index, count, cert_end);
}

static tm_err delete_item(tm_at *at, int kind, long index)
{
    char name[64];
    tm_modem *m = hl_modem(at);
    item_name(kind, (int)index, name, sizeof name);
    tm_err e = tm_store_del(&m->store, name, tm_at_reason(at));
    if (e == TM_OK)
        tm_trace("store", "deleted %s", name);
    return e;
}

tm_err hl_kcertdelete_set(tm_at *at, const tm_at_args *a)
{
    long type, index;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 2)) ||
        (e = tm_at_get_int(at, a, 1, "data_type", 0, 1, &type)) ||
        (e = tm_at_opt_int(at, a, 2, "index", 0, TM_CERT_SLOTS - 1, 0, &index)))
        return e;
    return delete_item(at, type == 0 ? COLLECT_ROOT : COLLECT_LOCAL, index);
}

tm_err hl_kprivkdelete_set(tm_at *at, const tm_at_args *a)
{
    long index;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 1)) ||
        (e = tm_at_get_int(at, a, 1, "index", 0, TM_CERT_SLOTS - 1, &index)))
        return e;
    return delete_item(at, COLLECT_KEY, index);
}


/* One certificate as PEM with CRLF line ends (what a terminal shows and a
 * Windows tool writes), 64 base64 characters a line. */
static size_t pem_crlf(const uint8_t *der, size_t len, char *out, size_t cap)
{
    static const char head[] = "-----BEGIN CERTIFICATE-----\r\n";
    static const char tail[] = "-----END CERTIFICATE-----\r\n";
    size_t lines = (len + 47) / 48;     /* 48 bytes -> one 64-character line */
    if (len == 0 || sizeof head + lines * 66 + sizeof tail > cap)
        return 0;
    size_t o = sizeof head - 1;
    memcpy(out, head, o);
    for (size_t i = 0; i < len; i += 48) {
        size_t k = len - i < 48 ? len - i : 48;
        o += tm_base64_encode(der + i, k, out + o, cap - o, 0);
        out[o++] = '\r';
        out[o++] = '\n';
    }
    memcpy(out + o, tail, sizeof tail - 1);
    return o + sizeof tail - 1;
}

/* AT+KCERTSTORE? can be larger than the output buffer (16 slots of up to
 * TM_STORE_ITEM_MAX each): it streams (tm_at_stream), one slot encoded at a
 * time and written as the host reads, then OK. */
static struct {
    int    slot;             /* next slot: kind * TM_CERT_SLOTS + index */
    size_t off, len;         /* PEM of the current slot: written / total */
} g_kcs;
static char g_kcs_pem[TM_STORE_ITEM_MAX * 2];

static tm_err kcertstore_more(tm_at *at, void *arg, bool stop)
{
    static uint8_t der[TM_STORE_ITEM_MAX];
    static const char *const kinds[] = { "root_cert", "local_cert" };
    (void)arg;
    tm_modem *m = hl_modem(at);
    while (!stop) {
        size_t room = tm_at_out_room(at);
        if (g_kcs.off < g_kcs.len) {
            if (!room)
                return TM_AT_PENDING;
            size_t n = g_kcs.len - g_kcs.off < room ? g_kcs.len - g_kcs.off : room;
            tm_at_write(at, g_kcs_pem + g_kcs.off, n);
            g_kcs.off += n;
            continue;
        }
        if (g_kcs.slot >= 2 * TM_CERT_SLOTS)
            break;
        if (room < 128)
            return TM_AT_PENDING;
        int kind = g_kcs.slot / TM_CERT_SLOTS, idx = g_kcs.slot % TM_CERT_SLOTS;
        g_kcs.slot++;
        char name[64];
        size_t len;
        item_name(kind, idx, name, sizeof name);
        if (tm_store_get(&m->store, name, der, sizeof der, &len, NULL) != TM_OK)
            continue;
        tm_blob items[TM_CERTFMT_MAX_ITEMS];
        int n = (int)tm_der_split(der, len, items, TM_CERTFMT_MAX_ITEMS);
        size_t o = 0;
        for (int i = 0; i < n && o < sizeof g_kcs_pem - 128; i++)
            o += pem_crlf(items[i].p, items[i].len, g_kcs_pem + o, sizeof g_kcs_pem - o);
        tm_at_line(at, "+KCERTSTORE: %s,%d,%zu", kinds[kind], idx, o);
        g_kcs.off = 0;
        g_kcs.len = o;
    }
    memset(&g_kcs, 0, sizeof g_kcs);
    return TM_OK;
}

tm_err hl_kcertstore_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    memset(&g_kcs, 0, sizeof g_kcs);
    return tm_at_stream(at, kcertstore_more, NULL);
}

/* ---- credentials for a connection --------------------------------------- */

/* A stored item that cannot be used must refuse the connection: skipping it
 * would leave fewer anchors (or none, and then the --ca-bundle would decide),
 * which widens trust instead of failing.  The reason names the slot and the
 * command that repairs it. */

typedef struct {
    size_t total;
} size_acc;

static void add_size(void *arg, const char *name, size_t size)
{
    (void)name;
    ((size_acc *)arg)->total += size;
}

typedef struct {
    hl_creds  *c;
    tm_store  *st;
    size_t     cap;      /* bytes of c->buf */
    tm_reason *why;
    tm_err     err;      /* first unusable item */
} load_ctx;

/* "hl/root_ca.3" -> 3 */
static int slot_of(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot ? atoi(dot + 1) : 0;
}

static void load_root(void *arg, const char *name, size_t size)
{
    load_ctx *l = arg;
    hl_creds *c = l->c;
    if (l->err)
        return;
    int slot = slot_of(name);
    size_t len = 0, n = 0, room = sizeof c->anchors / sizeof c->anchors[0] - c->n_anchors;
    char what[300] = "";
    tm_reason r;
    tm_reason_clear(&r);
    if (c->len + size > l->cap ||
        tm_store_get(l->st, name, c->buf + c->len, l->cap - c->len, &len, &r) != TM_OK)
        snprintf(what, sizeof what, "it cannot be read (%.200s)", r.detail[0] ? r.detail : "it changed while read");
    else if ((n = tm_x509_check_der_certs(c->buf + c->len, len, what, sizeof what)) > room)
        snprintf(what, sizeof what, "it holds %zu certificates, more than the %zu anchors a connection "
                 "can take", n, room);
    if (what[0]) {
        l->err = tm_fail(l->why, TM_E_CERT_FORMAT, "stored root certificate %d (%s, %zu bytes): %s; the "
                         "connection is refused rather than trusting anything else; delete it with "
                         "AT+KCERTDELETE=0,%d and store the root again with AT+KCERTSTORE=0", slot, name, size,
                         what, slot);
        return;
    }
    c->n_anchors += tm_der_split(c->buf + c->len, len, c->anchors + c->n_anchors, room);
    c->len += len;
}

static tm_err creds_load(hl_state *s, hl_creds *c, bool with_client, tm_reason *why)
{
    tm_store *st = &s->modem->store;
    memset(c, 0, sizeof *c);
    size_acc acc = { 0 };
    tm_store_list(st, "hl/root_ca.", add_size, &acc);
    size_t cert_len = 0, key_len = 0;
    static uint8_t tmp[TM_STORE_ITEM_MAX];
    tm_reason r;
    tm_reason_clear(&r);
    bool have_cert = false;
    if (with_client) {
        tm_err e = tm_store_get(st, "hl/local_cert.0", tmp, sizeof tmp, &cert_len, &r);
        if (e == TM_OK)
            have_cert = true;
        else if (e != TM_E_NOT_FOUND)
            return tm_fail(why, TM_E_CERT_FORMAT, "stored local certificate 0 (hl/local_cert.0) cannot be "
                           "read (%s); delete it with AT+KCERTDELETE=1,0 and store it again with "
                           "AT+KCERTSTORE=1", r.detail);
        acc.total += cert_len;
    }
    c->buf = malloc(acc.total ? acc.total : 1);
    if (!c->buf)
        return tm_fail(why, TM_E_NO_MEMORY, "no memory for the stored certificates (%zu bytes)", acc.total);
    load_ctx l = { c, st, acc.total ? acc.total : 1, why, TM_OK };
    tm_store_list(st, "hl/root_ca.", load_root, &l);
    if (l.err)
        return l.err;
    if (have_cert) {
        char what[300];
        if (c->len + cert_len > l.cap)
            return tm_fail(why, TM_E_CERT_FORMAT, "stored local certificate 0 changed while it was read; "
                           "try again");
        memcpy(c->buf + c->len, tmp, cert_len);
        if (tm_x509_check_der_certs(c->buf + c->len, cert_len, what, sizeof what) == 0)
            return tm_fail(why, TM_E_CERT_FORMAT, "stored local certificate 0 (hl/local_cert.0, %zu bytes): "
                           "%s; delete it with AT+KCERTDELETE=1,0 and store it again with AT+KCERTSTORE=1",
                           cert_len, what);
        c->n_client_chain = tm_der_split(c->buf + c->len, cert_len, c->client_chain, 8);
        c->len += cert_len;
        tm_err e = tm_store_get(st, "hl/privkey.0", tmp, sizeof tmp, &key_len, &r);
        if (e == TM_OK) {
            tm_reason_clear(&r);
            if (key_len == 0 || tm_x509_check_key(tmp, key_len, NULL, 0, &r) != TM_OK)
                return tm_fail(why, TM_E_KEY_FORMAT, "stored private key 0 (hl/privkey.0, %zu bytes): %s; "
                               "delete it with AT+KPRIVKDELETE=0 and store it again with AT+KPRIVKSTORE=0",
                               key_len, key_len ? r.detail : "the file is empty");
            if ((c->key = malloc(key_len)) == NULL)
                return tm_fail(why, TM_E_NO_MEMORY, "no memory for the private key");
            memcpy(c->key, tmp, key_len);
            c->key_len = key_len;
        } else if (e != TM_E_NOT_FOUND) {
            return tm_fail(why, TM_E_KEY_FORMAT, "stored private key 0 (hl/privkey.0) cannot be read (%s); "
                           "delete it with AT+KPRIVKDELETE=0 and store it again with AT+KPRIVKSTORE=0",
                           r.detail);
        }
    }
    return TM_OK;
}

/* A copy whose blobs point into its own buffer. */
static bool creds_copy(hl_creds *dst, const hl_creds *src)
{
    *dst = *src;
    dst->key = NULL;
    dst->buf = malloc(src->len ? src->len : 1);
    if (!dst->buf || (src->key && !(dst->key = malloc(src->key_len)))) {
        free(dst->buf);
        memset(dst, 0, sizeof *dst);
        return false;
    }
    memcpy(dst->buf, src->buf, src->len);
    for (size_t i = 0; i < src->n_anchors; i++)
        dst->anchors[i].p = dst->buf + (src->anchors[i].p - src->buf);
    for (size_t i = 0; i < src->n_client_chain; i++)
        dst->client_chain[i].p = dst->buf + (src->client_chain[i].p - src->buf);
    if (src->key)
        memcpy(dst->key, src->key, src->key_len);
    return true;
}

/* The last successful load (with and without the client certificate), kept
 * while the store is unchanged: same generation (no write through the store
 * API) and same stamp (no file of hl/ replaced, damaged or touched behind
 * tlsmodem's back — one directory listing).  A request then no longer reads
 * every root and parses it again (~1.5 M instructions per stored root).
 * Failures are not kept: they are read again and reported each time, with
 * the file named. */
static struct {
    bool          valid;
    unsigned long gen;
    uint64_t      stamp;
    hl_creds      c;
} g_memo[2];

tm_err hl_creds_load(hl_state *s, hl_creds *c, bool with_client, tm_reason *why)
{
    tm_store *st = &s->modem->store;
    unsigned long gen = st->gen;
    uint64_t stamp = tm_store_stamp(st, "hl/");
    if (g_memo[with_client].valid && g_memo[with_client].gen == gen && g_memo[with_client].stamp == stamp) {
        if (creds_copy(c, &g_memo[with_client].c))
            return TM_OK;
        return tm_fail(why, TM_E_NO_MEMORY, "no memory for the stored certificates (%zu bytes)",
                       g_memo[with_client].c.len);
    }
    tm_err e = creds_load(s, c, with_client, why);
    if (e) {
        hl_creds_free(c);
        return e;
    }
    hl_creds_free(&g_memo[with_client].c);
    g_memo[with_client].valid = creds_copy(&g_memo[with_client].c, c);
    g_memo[with_client].gen = gen;
    g_memo[with_client].stamp = stamp;
    return TM_OK;
}

void hl_creds_free(hl_creds *c)
{
    free(c->buf);
    free(c->key);
    memset(c, 0, sizeof *c);
}

void hl_tls_config(hl_state *s, hl_creds *c, tm_tls_config *t, const char *host, int sec_level)
{
    tm_modem *m = s->modem;
    memset(t, 0, sizeof *t);
    t->host = host;
    t->verify = sec_level > 0;
    t->anchors = c->anchors;
    t->n_anchors = c->n_anchors;
    t->bundle_path = c->n_anchors ? NULL : (m->ca_bundle[0] ? m->ca_bundle : NULL);
    if (sec_level >= 2 && c->n_client_chain && !c->key)
        tm_trace("warn", "local certificate 0 is stored but no private key 0 (AT+KPRIVKSTORE=0): "
                         "no client certificate will be presented");
    if (sec_level >= 2 && c->n_client_chain && c->key) {
        t->client_chain = c->client_chain;
        t->n_client_chain = c->n_client_chain;
        t->client_key.p = c->key;
        t->client_key.len = c->key_len;
    }
    t->now = tm_modem_now(m);
    t->clock_set = m->clock_mode != TM_CLOCK_UNSET;
    t->clock_from_cmd = m->clock_mode == TM_CLOCK_SET;
    t->host_now = tm_port_wall_ms() / 1000;
    t->clock_hint = "AT+CCLK";      /* clock reasons name the dialect's clock command */
    t->load_hint = TM_LOAD_ROOT_HL; /* … and its command that loads a root */
    if (c->n_anchors)
        tm_trace("tls", "trust: %zu certificate(s) loaded with AT+KCERTSTORE=0 (only these)", c->n_anchors);
    else
        tm_trace("tls", "trust: nothing loaded, default bundle %s", t->bundle_path ? t->bundle_path : "(none)");
}
