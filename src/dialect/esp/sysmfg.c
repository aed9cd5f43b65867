/* tlsmodem — ESP-AT dialect: AT+SYSMFG, the manufacturing NVS partition:
 * namespaces of key-value pairs, persisted in the store as
 * esp/mfg/<namespace>/<key> (first byte: the NVS type digit '1'..'8', then
 * the value as the host wrote it).
 *
 *   AT+SYSMFG?                                  namespaces
 *   AT+SYSMFG=0,"<ns>"[,"<key>"]                erase a namespace / a key
 *   AT+SYSMFG=1[,"<ns>"[,"<key>"[,<off>,<len>]]] list / read
 *   AT+SYSMFG=2,"<ns>","<key>",<type>,<value>   write; type 7/8: OK, ">",
 *                                               exactly <value> bytes, OK
 *
 * Decisions (docs/esp.md §5):
 * - Items of certificate namespaces are checked before anything is
 *   written: *_ca and *_cert must be certificates (PEM, one or many blocks,
 *   DER, or base64 of DER: src/store/certfmt.c), *_key a private key that
 *   parses (unencrypted).  Garbage is refused with ERROR and the reason
 *   (trace, and AT+SYSLOG's code); what was stored under that key stays.
 *   Other namespaces (factory_param, custom) are kept as sent.
 * - Only certificates the host loaded into client_ca (SSL links) or
 *   https_ca (HTTP) are trust anchors (ssl.c).
 * - A payload that stops short is abandoned after ESP_PAYLOAD_IDLE_MS of
 *   silence: ERROR, nothing written. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/trace.h"
#include "dialect/esp/sock_internal.h"
#include "port/port.h"
#include "store/certfmt.h"
#include "tls/x509.h"

#define MFG_NAME_MAX 15      /* NVS: namespace and key names are at most 15 characters */

static const char *const g_known_ns[] = {
    "factory_param", "client_cert", "client_key", "client_ca", "server_cert", "server_key", "server_ca",
    "mqtt_cert", "mqtt_key", "mqtt_ca", "https_cert", "https_key", "https_ca", "wss_cert", "wss_key",
    "wss_ca", "wpa_ent_cert", "wpa_ent_key", "wpa_ent_ca", NULL,
};

static uint8_t g_item[TM_STORE_ITEM_MAX + 1];

static void mfg_name(char *out, size_t cap, const char *ns, const char *key)
{
    snprintf(out, cap, "esp/mfg/%s/%s", ns, key ? key : "");
}

/* Reads the item with its type byte. */
static tm_err item_get(esp_state *s, const char *ns, const char *key, int *type, size_t *len, tm_reason *why)
{
    char name[TM_STORE_NAME_MAX + 8];
    mfg_name(name, sizeof name, ns, key);
    size_t n = 0;
    tm_err e = tm_store_get(&s->modem->store, name, g_item, sizeof g_item, &n, why);
    if (e)
        return e;
    if (n < 1 || g_item[0] < '1' || g_item[0] > '8')
        return tm_fail(why, TM_E_STORE_CORRUPT, "the stored item %s/%s is damaged (no type)", ns, key);
    *type = g_item[0] - '0';
    *len = n - 1;
    return TM_OK;
}

tm_err esp_mfg_get(esp_state *s, const char *ns, const char *key, uint8_t *buf, size_t cap, size_t *len,
                   tm_reason *why)
{
    int type;
    size_t n;
    tm_err e = item_get(s, ns, key, &type, &n, why);
    if (e)
        return e;
    if (n > cap)
        return tm_fail(why, TM_E_TOO_LARGE, "%s/%s holds %zu bytes, more than %zu", ns, key, n, cap);
    memcpy(buf, g_item + 1, n);
    *len = n;
    return TM_OK;
}

typedef struct {
    void      (*cb)(void *arg, const char *key);
    void       *arg;
    size_t      skip;
} keys_ctx;

static void one_key(void *arg, const char *name, size_t size)
{
    keys_ctx *k = arg;
    (void)size;
    if (strlen(name) > k->skip && !strchr(name + k->skip, '/'))
        k->cb(k->arg, name + k->skip);
}

int esp_mfg_keys(esp_state *s, const char *ns, void (*cb)(void *arg, const char *key), void *arg)
{
    char prefix[TM_STORE_NAME_MAX + 8];
    mfg_name(prefix, sizeof prefix, ns, NULL);
    keys_ctx k = { cb, arg, strlen(prefix) };
    return tm_store_list(&s->modem->store, prefix, one_key, &k);
}

/* ---- names ------------------------------------------------------------------------ */

static tm_err name_arg(tm_at *at, const tm_at_args *a, int idx, const char *what, char *out, size_t cap)
{
    tm_err e = tm_at_get_str(at, a, idx, what, out, cap);
    if (e)
        return e;
    size_t n = strlen(out);
    bool good = n <= MFG_NAME_MAX;
    for (size_t i = 0; good && i < n; i++)
        if (!isalnum((unsigned char)out[i]) && out[i] != '_' && out[i] != '.' && out[i] != '-')
            good = false;
    if (!good) {
        tm_at_reason(at)->arg_index = idx;
        return tm_fail(tm_at_reason(at), TM_E_ARG_BAD, "argument %d \"%s\" is \"%s\": NVS names are 1 to %d "
                       "characters of letters, digits, '_', '.' or '-'", idx, what, out, MFG_NAME_MAX);
    }
    return TM_OK;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

/* ---- listing ------------------------------------------------------------------------ */

typedef struct {
    char names[64][MFG_NAME_MAX + 1];
    int  n;
} ns_list;

static void add_ns(ns_list *l, const char *ns)
{
    for (int i = 0; i < l->n; i++)
        if (!strcmp(l->names[i], ns))
            return;
    if (l->n < 64)
        snprintf(l->names[l->n++], sizeof l->names[0], "%s", ns);
}

static void ns_of_item(void *arg, const char *name, size_t size)
{
    (void)size;
    const char *p = name + strlen("esp/mfg/");
    const char *sl = strchr(p, '/');
    if (!sl || sl - p > MFG_NAME_MAX)
        return;
    char ns[MFG_NAME_MAX + 1];
    snprintf(ns, sizeof ns, "%.*s", (int)(sl - p), p);
    add_ns(arg, ns);
}

static tm_err list_namespaces(tm_at *at)
{
    static ns_list l;
    l.n = 0;
    for (int i = 0; g_known_ns[i]; i++)
        add_ns(&l, g_known_ns[i]);
    tm_store_list(&esp_get(at)->modem->store, "esp/mfg/", ns_of_item, &l);
    for (int i = 0; i < l.n; i++)
        tm_at_line(at, "+SYSMFG:\"%s\"", l.names[i]);
    return TM_OK;
}

typedef struct {
    tm_at      *at;
    const char *ns;
} key_line_ctx;

static void key_line(void *arg, const char *key)
{
    key_line_ctx *c = arg;
    int type;
    size_t len;
    tm_reason r;
    if (item_get(esp_get(c->at), c->ns, key, &type, &len, &r) == TM_OK)
        tm_at_line(c->at, "+SYSMFG:\"%s\",\"%s\",%d", c->ns, key, type);
}

static tm_err read_value(tm_at *at, const char *ns, const char *key, long off, long want)
{
    int type;
    size_t len;
    tm_reason *why = tm_at_reason(at);
    tm_err e = item_get(esp_get(at), ns, key, &type, &len, why);
    if (e == TM_E_NOT_FOUND)
        return tm_fail(why, TM_E_NOT_FOUND, "no key \"%s\" in namespace \"%s\" (AT+SYSMFG=1,\"%s\" lists the "
                       "keys)", key, ns, ns);
    if (e)
        return e;
    if ((size_t)off > len)
        return tm_fail(why, TM_E_ARG_RANGE, "offset %ld is beyond the %zu bytes of %s/%s", off, len, ns, key);
    size_t n = len - (size_t)off;
    if (want >= 0 && (size_t)want < n)
        n = (size_t)want;
    if (tm_at_out_room(at) < n + 256)
        return tm_fail(why, TM_E_TOO_LARGE, "%zu bytes do not fit the output now; read it in parts with "
                       "<offset>,<length>", n);
    char hdr[128];
    int h = snprintf(hdr, sizeof hdr, "+SYSMFG:\"%s\",\"%s\",%d,%zu,", ns, key, type, n);
    tm_at_write(at, hdr, (size_t)h);
    tm_at_write(at, g_item + 1 + off, n);
    tm_at_write(at, "\r\n", 2);
    return TM_OK;
}

/* ---- validation ------------------------------------------------------------------------ */

static uint8_t g_der[TM_STORE_ITEM_MAX];

/* What a certificate namespace accepts; the reason says what was seen. */
static tm_err validate(const char *ns, const char *key, const uint8_t *p, size_t n, char *note, size_t ncap,
                       tm_reason *why)
{
    note[0] = '\0';
    bool ca = ends_with(ns, "_ca"), cert = ends_with(ns, "_cert"), isk = ends_with(ns, "_key");
    if (!ca && !cert && !isk)
        return TM_OK;
    tm_certfmt_result res;
    tm_reason r;
    tm_reason_clear(&r);
    tm_err e = tm_certfmt_decode(p, n, isk ? TM_ITEM_KEY : TM_ITEM_CERT, g_der, sizeof g_der, &res, &r);
    if (e)
        return tm_fail(why, e, "%s/%s: %zu bytes received are not %s: %.500s; nothing was written%s", ns, key,
                       n, isk ? "a private key" : "a certificate", r.detail,
                       " (what was stored under this key, if anything, is kept)");
    if (isk) {
        tm_reason_clear(&r);
        if (tm_x509_check_key(g_der + res.off[0], res.len[0], NULL, 0, &r) != TM_OK)
            return tm_fail(why, TM_E_KEY_FORMAT, "%s/%s: the %s key does not parse: %.500s; nothing was written",
                           ns, key, tm_fmt_name(res.fmt), r.detail);
        snprintf(note, ncap, "%s private key (%s)", tm_fmt_name(res.fmt), res.pem_label[0]);
        return TM_OK;
    }
    int o = 0;
    for (int i = 0; i < res.count; i++) {
        tm_x509_info x;
        tm_reason_clear(&r);
        if (tm_x509_info_der(g_der + res.off[i], res.len[i], &x, &r) != TM_OK)
            return tm_fail(why, TM_E_CERT_FORMAT, "%s/%s: certificate %d of %d does not parse: %.400s; nothing "
                           "was written", ns, key, i + 1, res.count, r.detail);
        if (o < (int)ncap - 1)
            o += snprintf(note + o, ncap - (size_t)o, "%s'%s'%s", i ? ", " : "", x.subject,
                          ca && !x.is_ca ? " (not a CA: trusted as a pinned server certificate)" : "");
    }
    tm_trace("esp", "SYSMFG %s/%s: %d certificate(s), %s", ns, key, res.count, tm_fmt_name(res.fmt));
    return TM_OK;
}

static tm_err put_item(tm_at *at, const char *ns, const char *key, int type, const uint8_t *p, size_t n)
{
    char name[TM_STORE_NAME_MAX + 8];
    mfg_name(name, sizeof name, ns, key);
    uint8_t *buf = malloc(n + 1);
    if (!buf)
        return tm_fail(tm_at_reason(at), TM_E_NO_MEMORY, "no memory for %zu bytes", n);
    buf[0] = (uint8_t)('0' + type);
    memcpy(buf + 1, p, n);
    tm_err e = tm_store_put(&esp_get(at)->modem->store, name, buf, n + 1, tm_at_reason(at));
    free(buf);
    return e;
}

/* ---- payload (type 7 / 8) ------------------------------------------------------------------ */

static struct {
    char      ns[MFG_NAME_MAX + 1], key[MFG_NAME_MAX + 1];
    int       type;
    uint8_t  *buf;
    size_t    len, want;
    size_t    drained;         /* CR LF overrun: bytes of the rest read and dropped */
    bool      draining;
} g_up;

static void up_free(void)
{
    free(g_up.buf);
    memset(&g_up, 0, sizeof g_up);
}

static size_t up_room(void *arg)
{
    (void)arg;
    return g_up.want - g_up.len;
}

static void up_data(void *arg, const uint8_t *p, size_t n)
{
    (void)arg;
    if (n > g_up.want - g_up.len)
        n = g_up.want - g_up.len;
    memcpy(g_up.buf + g_up.len, p, n);
    g_up.len += n;
}

/* A PEM that a terminal lengthened by sending each LF as CR LF (the host
 * announced the file's size): the rest of the PEM is read and dropped,
 * never run as commands, and the reason gives both sizes (certfmt.c, as
 * HL and SPWF do).  The data mode's idle_ms covers a rest that never comes. */
static void drop(void *arg, const uint8_t *p, size_t n)
{
    (void)arg;
    (void)p;
    g_up.drained += n;
}

static void drained(tm_at *at, bool early)
{
    tm_err e = tm_certfmt_crlf_overrun_reason(
        tm_at_reason(at), g_up.buf, g_up.len, g_up.want, g_up.drained, early,
        "send the file unchanged (no LF -> CR LF translation) or as DER with its DER length");
    up_free();
    tm_at_complete(at, e);
}

static void drain_end(void *arg, tm_at_data_end how, size_t total)
{
    (void)total;
    if (how == TM_AT_DATA_END_HOST_GONE) {
        up_free();
        tm_at_complete_silent(arg);
        return;
    }
    drained(arg, how != TM_AT_DATA_END_COUNT);
}

static bool crlf_overrun(tm_at *at)
{
    if (!ends_with(g_up.ns, "_ca") && !ends_with(g_up.ns, "_cert") && !ends_with(g_up.ns, "_key"))
        return false;
    size_t rest = tm_certfmt_crlf_overrun_rest(g_up.buf, g_up.len, g_up.want);
    if (!rest)
        return false;
    g_up.draining = true;
    tm_at_data_in spec = {
        .count = rest,
        .on_data = drop,
        .on_end = drain_end,
        .arg = at,
        .idle_ms = ESP_PAYLOAD_IDLE_MS,
    };
    tm_at_data_in_start(at, &spec);
    tm_trace("esp", "SYSMFG %s/%s: the %zu bytes end inside a PEM with CR LF line ends: reading the other %zu "
             "and dropping them", g_up.ns, g_up.key, g_up.len, rest);
    return true;
}

static void up_end(void *arg, tm_at_data_end how, size_t total)
{
    tm_at *at = arg;
    (void)total;
    if (how == TM_AT_DATA_END_HOST_GONE) {
        up_free();
        tm_at_complete_silent(at);
        return;
    }
    if (how == TM_AT_DATA_END_IDLE) {
        tm_err e = tm_fail(tm_at_reason(at), TM_E_DATA_COUNT, "AT+SYSMFG: %zu bytes announced, %zu received, then "
                           "nothing for %d s; nothing was written (the data follows '>' directly; every byte "
                           "counts)", g_up.want, g_up.len, ESP_PAYLOAD_IDLE_MS / 1000);
        up_free();
        tm_at_complete(at, e);
        return;
    }
    if (crlf_overrun(at))
        return;
    char note[600];
    tm_err e = validate(g_up.ns, g_up.key, g_up.buf, g_up.len, note, sizeof note, tm_at_reason(at));
    if (!e)
        e = put_item(at, g_up.ns, g_up.key, g_up.type, g_up.buf, g_up.len);
    if (!e)
        tm_trace("esp", "SYSMFG: %s/%s written (%zu bytes)%s%s", g_up.ns, g_up.key, g_up.len, note[0] ? ": " : "",
                 note);
    up_free();
    tm_at_complete(at, e);
}

/* ---- the command ---------------------------------------------------------------------- */

static tm_err sysmfg_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    return list_namespaces(at);
}

typedef struct {
    char names[64][MFG_NAME_MAX + 1];
    int  n;
} key_list;

static void collect_key(void *arg, const char *k)
{
    key_list *l = arg;
    if (l->n < 64 && strlen(k) <= MFG_NAME_MAX)
        snprintf(l->names[l->n++], sizeof l->names[0], "%s", k);
}

static tm_err op_erase(tm_at *at, const tm_at_args *a)
{
    char ns[64], key[64], name[TM_STORE_NAME_MAX + 8];
    tm_err e;
    if ((e = tm_at_max_args(at, a, 3)) || (e = name_arg(at, a, 2, "namespace", ns, sizeof ns)))
        return e;
    tm_store *st = &esp_get(at)->modem->store;
    if (!tm_at_omitted(a, 3)) {
        if ((e = name_arg(at, a, 3, "key", key, sizeof key)))
            return e;
        mfg_name(name, sizeof name, ns, key);
        if (!tm_store_exists(st, name))
            return tm_fail(tm_at_reason(at), TM_E_NOT_FOUND, "no key \"%s\" in namespace \"%s\"", key, ns);
        return tm_store_del(st, name, tm_at_reason(at));
    }
    static key_list l;          /* every key of the namespace, then erased */
    l.n = 0;
    esp_mfg_keys(esp_get(at), ns, collect_key, &l);
    for (int i = 0; i < l.n; i++) {
        mfg_name(name, sizeof name, ns, l.names[i]);
        if ((e = tm_store_del(st, name, tm_at_reason(at))))
            return e;
    }
    tm_trace("esp", "SYSMFG: namespace %s erased (%d key(s))", ns, l.n);
    return TM_OK;
}

static tm_err op_read(tm_at *at, const tm_at_args *a)
{
    char ns[64], key[64];
    long off = 0, len = -1;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 5)))
        return e;
    if (tm_at_omitted(a, 2))
        return list_namespaces(at);
    if ((e = name_arg(at, a, 2, "namespace", ns, sizeof ns)))
        return e;
    if (tm_at_omitted(a, 3)) {
        key_line_ctx c = { at, ns };
        esp_mfg_keys(esp_get(at), ns, key_line, &c);
        return TM_OK;
    }
    if ((e = name_arg(at, a, 3, "key", key, sizeof key)))
        return e;
    if (!tm_at_omitted(a, 4) &&
        ((e = tm_at_get_int(at, a, 4, "offset", 0, TM_STORE_ITEM_MAX, &off)) ||
         (e = tm_at_get_int(at, a, 5, "length", 1, TM_STORE_ITEM_MAX, &len))))
        return e;
    return read_value(at, ns, key, off, len);
}

static tm_err op_write(tm_at *at, const tm_at_args *a)
{
    char ns[64], key[64];
    long type, val;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 5)) || (e = name_arg(at, a, 2, "namespace", ns, sizeof ns)) ||
        (e = name_arg(at, a, 3, "key", key, sizeof key)) || (e = tm_at_get_int(at, a, 4, "type", 1, 8, &type)))
        return e;
    static const long lo[7] = { 0, 0, -128, 0, -32768, 0, -2147483647L - 1 };
    static const long hi[7] = { 0, 255, 127, 65535, 32767, 4294967295L, 2147483647L };
    if (type <= 6) {
        if ((e = tm_at_get_int(at, a, 5, "value", lo[type], hi[type], &val)))
            return e;
        if (ends_with(ns, "_ca") || ends_with(ns, "_cert") || ends_with(ns, "_key"))
            return tm_fail(tm_at_reason(at), TM_E_ARG_BAD, "namespace \"%s\" holds certificates or keys: write "
                           "them as type 8 (binary) with their length", ns);
        char txt[24];
        int n = snprintf(txt, sizeof txt, "%ld", val);
        return put_item(at, ns, key, (int)type, (const uint8_t *)txt, (size_t)n);
    }
    if ((e = tm_at_get_int(at, a, 5, "value (length)", 1, TM_STORE_ITEM_MAX, &val)))
        return e;
    if (type == 7 && (ends_with(ns, "_ca") || ends_with(ns, "_cert") || ends_with(ns, "_key")))
        tm_trace("esp", "SYSMFG: %s/%s written as type 7 (string); it is checked as type 8 would be", ns, key);
    up_free();
    g_up.buf = malloc((size_t)val);
    if (!g_up.buf)
        return tm_fail(tm_at_reason(at), TM_E_NO_MEMORY, "no memory for %ld bytes", val);
    memcpy(g_up.ns, ns, strlen(ns) + 1);      /* name_arg checked <= MFG_NAME_MAX */
    memcpy(g_up.key, key, strlen(key) + 1);
    g_up.type = (int)type;
    g_up.want = (size_t)val;
    tm_at_write(at, "\r\nOK\r\n\r\n>", 9);
    tm_at_data_in spec = {
        .count = (size_t)val,
        .on_data = up_data,
        .on_end = up_end,
        .room = up_room,
        .arg = at,
        .idle_ms = ESP_PAYLOAD_IDLE_MS,
    };
    tm_at_data_in_start(at, &spec);
    return TM_AT_PENDING;
}

static tm_err sysmfg_set(tm_at *at, const tm_at_args *a)
{
    long op;
    tm_err e = tm_at_get_int(at, a, 1, "operation", 0, 2, &op);
    if (e)
        return e;
    return op == 0 ? op_erase(at, a) : op == 1 ? op_read(at, a) : op_write(at, a);
}

const tm_at_cmd esp_sysmfg_table[] = {
    { "+SYSMFG", NULL, sysmfg_read, sysmfg_set, NULL, NULL },
    { NULL, NULL, NULL, NULL, NULL, NULL },
};
