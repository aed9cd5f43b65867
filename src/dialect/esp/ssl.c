/* tlsmodem — ESP-AT dialect: per-link TLS settings (AT+CIPSSLCCONF, CCN,
 * CSNI, CALPN, CPSK) and the trust a TLS connection gets from them.
 *
 * Secure by default (docs/esp.md §4): a link the host never configured
 * verifies the server with the CAs the host loaded (AT+SYSMFG namespace
 * client_ca), else the default bundle (--ca-bundle), and checks the name
 * (RFC 6125; the host, or the AT+CIPSSLCCN name); SNI = host unless
 * AT+CIPSSLCSNI set one.  Auth modes:
 *   0  no verification — only when the host set it; every connection says
 *      "NOT VERIFIED" in the trace (no extra AT line: drivers parse CONNECT
 *      strictly);
 *   1  client certificate (client_cert.<pki>, client_key.<pki>) and the
 *      server verified as by default (the module would not verify: we do);
 *   2  server verified: client_ca.<ca> when loaded, else every loaded
 *      client_ca item, else the bundle;
 *   3  both.
 * A stored item that cannot be used refuses the connection (never less
 * trust).  Settings are volatile (reset by AT+RST), as the module keeps
 * them only in RAM unless AT+SYSSTORE... (decision: not persisted). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/trace.h"
#include "dialect/esp/esp.h"
#include "port/port.h"
#include "store/certfmt.h"
#include "tls/x509.h"

typedef struct {
    bool auth_set;              /* false (zeroed memory too) = never set: the secure default */
    int  auth;
    int  pki, ca;
    char cn[TM_HOST_MAX];
    char sni[TM_HOST_MAX];
    char alpn[5][64];
    int  n_alpn;
} ssl_conf;

static ssl_conf g_conf[ESP_LINKS];

static void conf_default(ssl_conf *c)
{
    memset(c, 0, sizeof *c);
}

static int auth_of(const ssl_conf *c)
{
    return c && c->auth_set ? c->auth : -1;
}

/* AT+CIPSSLCCONF modes that authenticate (1-3) are saved as the firmware
 * saves them (NVS, whatever SYSSTORE says): "sslcconf<id>" = "<auth>,<pki>,<ca>"
 * in esp/settings.  Mode 0 (encrypt only) is not: after a restart the link
 * verifies again (secure by default; docs/esp.md §4). */
static void conf_key(int i, char *key, size_t cap)
{
    snprintf(key, cap, "sslcconf%d", i);
}

static void conf_load(esp_state *s, int i)
{
    char key[16], v[32];
    int auth, pki, ca;
    conf_key(i, key, sizeof key);
    if (!esp_setting_get(s, key, v, sizeof v))
        return;
    if (sscanf(v, "%d,%d,%d", &auth, &pki, &ca) != 3 || auth < 1 || auth > 3 || pki < 0 ||
        pki >= TM_CERT_SLOTS || ca < 0 || ca >= TM_CERT_SLOTS) {
        tm_trace("warn", "esp/settings: %s=\"%s\" is not an auth mode 1-3 with pki and ca numbers: ignored "
                 "(link %d verifies the server)", key, v, i);
        return;
    }
    g_conf[i].auth_set = true;
    g_conf[i].auth = auth;
    g_conf[i].pki = pki;
    g_conf[i].ca = ca;
}

void esp_ssl_reset(esp_state *s)
{
    for (int i = 0; i < ESP_LINKS; i++) {
        conf_default(&g_conf[i]);
        if (s)
            conf_load(s, i);
    }
}

/* ---- the trust of one connection --------------------------------------------- */

static uint8_t g_raw[TM_STORE_ITEM_MAX];
static uint8_t g_der[TM_STORE_ITEM_MAX];

static bool hold_add(esp_tls_hold *h, const uint8_t *p, size_t n, size_t *off)
{
    if (h->len + n > h->cap) {
        size_t cap = h->cap ? h->cap : 8192;
        while (cap < h->len + n)
            cap *= 2;
        uint8_t *b = realloc(h->buf, cap);
        if (!b)
            return false;
        h->buf = b;
        h->cap = cap;
    }
    memcpy(h->buf + h->len, p, n);
    *off = h->len;
    h->len += n;
    return true;
}

void esp_tls_hold_free(esp_tls_hold *h)
{
    if (!h)
        return;
    free(h->buf);
    free(h->key);
    memset(h, 0, sizeof *h);
}

/* Decodes one stored item of namespace ns into DER items (g_der). */
static tm_err mfg_decode(esp_state *s, const char *ns, const char *key, tm_item_kind kind,
                         tm_certfmt_result *res, tm_reason *why)
{
    size_t len = 0;
    tm_reason r;
    tm_reason_clear(&r);
    tm_err e = esp_mfg_get(s, ns, key, g_raw, sizeof g_raw, &len, &r);
    if (e == TM_E_NOT_FOUND)
        return e;
    if (e)
        return tm_fail(why, kind == TM_ITEM_KEY ? TM_E_KEY_FORMAT : TM_E_CERT_FORMAT,
                       "the item %s/%s cannot be read (%.300s); write it again with AT+SYSMFG=2", ns, key,
                       r.detail);
    e = tm_certfmt_decode(g_raw, len, kind, g_der, sizeof g_der, res, &r);
    if (e)
        return tm_fail(why, e, "the item %s/%s (%zu bytes) cannot be used: %.400s; the connection is refused "
                       "rather than trusting anything else; write it again with AT+SYSMFG=2 or erase it with "
                       "AT+SYSMFG=0,\"%s\",\"%s\"", ns, key, len, r.detail, ns, key);
    return TM_OK;
}

typedef struct {
    esp_state    *s;
    esp_tls_hold *h;
    tm_reason    *why;
    tm_err        err;
    const char   *ns;          /* "client_ca" (links) or "https_ca" (HTTP) */
} ca_ctx;

/* While the hold fills, h->buf may move (realloc): blobs carry their offset
 * in .p until fix_pointers() turns them into pointers at the end. */
static const uint8_t *as_off(size_t off)
{
    return (const uint8_t *)(uintptr_t)off;
}

static void fix_pointers(esp_tls_hold *h)
{
    for (size_t i = 0; i < h->n_anchors; i++)
        h->anchors[i].p = h->buf + (size_t)(uintptr_t)h->anchors[i].p;
    for (size_t i = 0; i < h->n_client_chain; i++)
        h->client_chain[i].p = h->buf + (size_t)(uintptr_t)h->client_chain[i].p;
}

static void add_ca_key(void *arg, const char *key)
{
    ca_ctx *c = arg;
    if (c->err)
        return;
    tm_certfmt_result res;
    tm_err e = mfg_decode(c->s, c->ns, key, TM_ITEM_CERT, &res, c->why);
    if (e == TM_E_NOT_FOUND)
        return;
    if (e) {
        c->err = e;
        return;
    }
    for (int i = 0; i < res.count; i++) {
        if (c->h->n_anchors >= ESP_TLS_ANCHORS_MAX) {
            tm_trace("warn", "trust: more than %d CA certificates loaded; %s/%s certificate %d ignored",
                     ESP_TLS_ANCHORS_MAX, c->ns, key, i + 1);
            return;
        }
        size_t off;
        if (!hold_add(c->h, g_der + res.off[i], res.len[i], &off)) {
            c->err = tm_fail(c->why, TM_E_NO_MEMORY, "no memory for the CA certificates");
            return;
        }
        c->h->anchors[c->h->n_anchors].p = as_off(off);
        c->h->anchors[c->h->n_anchors++].len = res.len[i];
        tm_x509_info x;
        tm_reason r;
        if (tm_x509_info_der(g_der + res.off[i], res.len[i], &x, &r) == TM_OK)
            tm_trace("tls", "trust: anchor '%s' from AT+SYSMFG %s/%s", x.subject, c->ns, key);
    }
}

/* Links: client_ca.<ca> when the host chose a CA by number and loaded it,
 * else every client_ca item.  HTTP: every https_ca item, else every
 * client_ca item.  Nothing loaded: the caller uses the bundle. */
static tm_err load_anchors(esp_state *s, esp_tls_hold *h, const ssl_conf *c, tm_reason *why)
{
    ca_ctx cx = { .s = s, .h = h, .why = why, .err = TM_OK, .ns = "client_ca" };
    char one[32];
    snprintf(one, sizeof one, "client_ca.%d", c ? c->ca : 0);
    bool picked = false;
    if (auth_of(c) >= 2) {
        add_ca_key(&cx, one);
        picked = h->n_anchors > 0 || cx.err;
    }
    if (!c && !cx.err) {
        cx.ns = "https_ca";
        esp_mfg_keys(s, "https_ca", add_ca_key, &cx);
        if (h->n_anchors)
            picked = true, snprintf(one, sizeof one, "every https_ca item");
        cx.ns = "client_ca";
    }
    if (!picked && !cx.err)
        esp_mfg_keys(s, "client_ca", add_ca_key, &cx);
    if (cx.err)
        return cx.err;
    if (h->n_anchors)
        snprintf(h->note, sizeof h->note, "%s", picked ? one : "every client_ca item");
    return TM_OK;
}

static tm_err load_client(esp_state *s, esp_tls_hold *h, int pki, tm_reason *why)
{
    char ck[32], kk[32];
    snprintf(ck, sizeof ck, "client_cert.%d", pki);
    snprintf(kk, sizeof kk, "client_key.%d", pki);
    tm_certfmt_result res;
    tm_err e = mfg_decode(s, "client_cert", ck, TM_ITEM_CERT, &res, why);
    if (e == TM_E_NOT_FOUND)
        return tm_fail(why, TM_E_NOT_FOUND, "auth mode %s needs a client certificate: client_cert/%s is not "
                       "loaded (AT+SYSMFG=2,\"client_cert\",\"%s\",8,<len>)", "1 or 3", ck, ck);
    if (e)
        return e;
    size_t first = 0;
    for (int i = 0; i < res.count && h->n_client_chain < 8; i++) {
        size_t off;
        if (!hold_add(h, g_der + res.off[i], res.len[i], &off))
            return tm_fail(why, TM_E_NO_MEMORY, "no memory for the client certificate");
        if (i == 0)
            first = off;
        h->client_chain[h->n_client_chain].len = res.len[i];
        h->client_chain[h->n_client_chain++].p = as_off(off);
    }
    e = mfg_decode(s, "client_key", kk, TM_ITEM_KEY, &res, why);
    if (e == TM_E_NOT_FOUND)
        return tm_fail(why, TM_E_NOT_FOUND, "auth mode 1 or 3 needs the client key: client_key/%s is not "
                       "loaded (AT+SYSMFG=2,\"client_key\",\"%s\",8,<len>)", kk, kk);
    if (e)
        return e;
    tm_reason r;
    tm_reason_clear(&r);
    e = tm_x509_check_key(g_der + res.off[0], res.len[0], NULL, 0, &r);
    if (e == TM_OK && h->n_client_chain)
        e = tm_x509_check_key(g_der + res.off[0], res.len[0], h->buf + first, h->client_chain[0].len, &r);
    if (e)
        return tm_fail(why, e, "client_key/%s cannot be used with client_cert/%s: %.400s", kk, ck, r.detail);
    if ((h->key = malloc(res.len[0])) == NULL)
        return tm_fail(why, TM_E_NO_MEMORY, "no memory for the client key");
    memcpy(h->key, g_der + res.off[0], res.len[0]);
    h->key_len = res.len[0];
    tm_trace("tls", "client certificate: %s (%zu certificate(s)) with %s, sent when the server asks", ck,
             h->n_client_chain, kk);
    return TM_OK;
}

static void alpn_wire(esp_tls_hold *h, const ssl_conf *c)
{
    h->alpn_len = 0;
    for (int i = 0; i < c->n_alpn; i++) {
        size_t n = strlen(c->alpn[i]);
        if (n == 0 || n > 255 || h->alpn_len + 1 + n > sizeof h->alpn)
            continue;
        h->alpn[h->alpn_len++] = (uint8_t)n;
        memcpy(h->alpn + h->alpn_len, c->alpn[i], n);
        h->alpn_len += n;
    }
}

static tm_err tls_config(esp_state *s, int link, const char *host, esp_tls_hold *h, tm_tls_config *t,
                         tm_reason *why)
{
    tm_modem *m = s->modem;
    const ssl_conf *c = link >= 0 && link < ESP_LINKS ? &g_conf[link] : NULL;
    memset(h, 0, sizeof *h);
    memset(t, 0, sizeof *t);
    int auth = auth_of(c);
    tm_err e;
    if (auth != 0 && (e = load_anchors(s, h, c, why)))
        return e;
    if ((auth == 1 || auth == 3) && (e = load_client(s, h, c->pki, why)))
        return e;
    fix_pointers(h);                         /* h->buf no longer moves */
    if (c) {
        snprintf(h->sni, sizeof h->sni, "%s", c->sni);
        snprintf(h->expected, sizeof h->expected, "%s", c->cn);
        alpn_wire(h, c);
    }
    h->unverified = auth == 0;

    t->host = host;
    t->expected_name = h->expected[0] ? h->expected : NULL;
    t->sni = h->sni[0] ? h->sni : NULL;
    t->alpn = h->alpn_len ? h->alpn : NULL;
    t->alpn_len = h->alpn_len;
    t->verify = !h->unverified;
    t->anchors = h->n_anchors ? h->anchors : NULL;
    t->n_anchors = h->n_anchors;
    t->bundle_path = h->n_anchors ? NULL : (m->ca_bundle[0] ? m->ca_bundle : NULL);
    if (h->n_client_chain && h->key) {
        t->client_chain = h->client_chain;
        t->n_client_chain = h->n_client_chain;
        t->client_key.p = h->key;
        t->client_key.len = h->key_len;
    }
    t->now = tm_modem_now(m);
    t->clock_set = m->clock_mode != TM_CLOCK_UNSET;
    t->clock_from_cmd = m->clock_mode == TM_CLOCK_SET;
    t->host_now = tm_port_wall_ms() / 1000;
    t->clock_hint = "AT+CIPSNTPCFG (SNTP)";
    t->trust_note = h->note[0] ? h->note : NULL;

    char who[16];
    if (link == ESP_LINK_HTTP)
        snprintf(who, sizeof who, "HTTP");
    else
        snprintf(who, sizeof who, "link %d", link);
    if (h->unverified)
        tm_trace("warn", "%s: auth mode 0 set by AT+CIPSSLCCONF: the server to %s is NOT VERIFIED (encrypt "
                 "only; anyone on the path can read and change the data)", who, host);
    else if (h->n_anchors)
        tm_trace("tls", "%s: trust %zu CA certificate(s) from AT+SYSMFG (%s) only; name checked '%s'%s", who,
                 h->n_anchors, h->note, h->expected[0] ? h->expected : host,
                 h->expected[0] ? " (AT+CIPSSLCCN)" : "");
    else
        tm_trace("tls", "%s: no CA loaded with AT+SYSMFG: default bundle %s; name checked '%s'%s", who,
                 t->bundle_path ? t->bundle_path : "(none: every server will fail as untrusted)",
                 h->expected[0] ? h->expected : host, h->expected[0] ? " (AT+CIPSSLCCN)" : "");
    if (h->sni[0])
        tm_trace("tls", "%s: SNI '%s' from AT+CIPSSLCSNI", who, h->sni);
    return TM_OK;
}

tm_err esp_ssl_tls_config(esp_state *s, int link, const char *host, esp_tls_hold *hold, tm_tls_config *cfg,
                          tm_reason *why)
{
    tm_err e = tls_config(s, link, host, hold, cfg, why);
    if (e) {
        esp_tls_hold_free(hold);
        memset(cfg, 0, sizeof *cfg);
        return e;
    }
    cfg->load_hint = ESP_LOAD_ROOT_HINT;     /* reasons name this dialect's command */
    return TM_OK;
}

/* ---- commands ------------------------------------------------------------------ */

/* The link id argument: with AT+CIPMUX=1 the first argument (0..ESP_LINKS,
 * ESP_LINKS = all); with CIPMUX=0 none (link 0).  *first = index of the next
 * argument. */
static tm_err link_arg(tm_at *at, const tm_at_args *a, int *lo, int *hi, int *first)
{
    esp_state *s = esp_get(at);
    if (!esp_sock_mux(s)) {
        *lo = *hi = 0;
        *first = 1;
        return TM_OK;
    }
    long id;
    tm_err e = tm_at_get_int(at, a, 1, "link ID", 0, ESP_LINKS, &id);
    if (e)
        return e;
    *lo = id == ESP_LINKS ? 0 : (int)id;
    *hi = id == ESP_LINKS ? ESP_LINKS - 1 : (int)id;
    *first = 2;
    return TM_OK;
}

static int shown_links(tm_at *at)
{
    return esp_sock_mux(esp_get(at)) ? ESP_LINKS : 1;
}

static tm_err ccconf_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    for (int i = 0; i < shown_links(at); i++) {
        const ssl_conf *c = &g_conf[i];
        /* never set = our default, which verifies the server: shown as 2 */
        tm_at_line(at, "+CIPSSLCCONF:%d,%d,%d,%d", i, c->auth_set ? c->auth : 2, c->pki, c->ca);
    }
    return TM_OK;
}

static tm_err ccconf_set(tm_at *at, const tm_at_args *a)
{
    int lo, hi, k;
    long auth, pki, ca;
    tm_err e;
    if ((e = link_arg(at, a, &lo, &hi, &k)) || (e = tm_at_max_args(at, a, k + 2)) ||
        (e = tm_at_get_int(at, a, k, "auth_mode", 0, 3, &auth)) ||
        (e = tm_at_opt_int(at, a, k + 1, "pki_number", 0, TM_CERT_SLOTS - 1, 0, &pki)) ||
        (e = tm_at_opt_int(at, a, k + 2, "ca_number", 0, TM_CERT_SLOTS - 1, 0, &ca)))
        return e;
    esp_state *s = esp_get(at);
    for (int i = lo; i <= hi; i++) {
        char key[16], v[32];
        conf_key(i, key, sizeof key);
        snprintf(v, sizeof v, "%ld,%ld,%ld", auth, pki, ca);
        if ((e = esp_setting_save(s, key, auth ? v : NULL, true, tm_at_reason(at))))
            return e;
        g_conf[i].auth_set = true;
        g_conf[i].auth = (int)auth;
        g_conf[i].pki = (int)pki;
        g_conf[i].ca = (int)ca;
    }
    if (auth == 0)
        tm_trace("warn", "AT+CIPSSLCCONF: auth mode 0 on link(s) %d..%d: SSL connections there will NOT verify "
                 "the server (encrypt only)", lo, hi);
    else
        tm_trace("tls", "AT+CIPSSLCCONF: auth mode %ld (%s), pki %ld, ca %ld", auth,
                 auth == 1 ? "client certificate; server verified too" : auth == 2 ? "verify the server"
                 : "mutual", pki, ca);
    return TM_OK;
}

static tm_err name_read(tm_at *at, const char *cmd, size_t field)
{
    for (int i = 0; i < shown_links(at); i++)
        tm_at_line(at, "+%s:%d,\"%s\"", cmd, i, (const char *)&g_conf[i] + field);
    return TM_OK;
}

static tm_err name_set(tm_at *at, const tm_at_args *a, const char *what, size_t field, bool dns)
{
    int lo, hi, k;
    char v[TM_HOST_MAX];
    tm_err e;
    if ((e = link_arg(at, a, &lo, &hi, &k)) || (e = tm_at_max_args(at, a, k)))
        return e;
    if (tm_at_omitted(a, k))
        v[0] = '\0';
    else if ((e = dns ? tm_at_get_host(at, a, k, what, v, sizeof v) : tm_at_get_str(at, a, k, what, v, sizeof v)))
        return e;
    for (int i = lo; i <= hi; i++)
        snprintf((char *)&g_conf[i] + field, TM_HOST_MAX, "%s", v);
    return TM_OK;
}

static tm_err ccn_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    return name_read(at, "CIPSSLCCN", offsetof(ssl_conf, cn));
}

static tm_err ccn_set(tm_at *at, const tm_at_args *a)
{
    return name_set(at, a, "common name", offsetof(ssl_conf, cn), true);
}

static tm_err csni_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    return name_read(at, "CIPSSLCSNI", offsetof(ssl_conf, sni));
}

static tm_err csni_set(tm_at *at, const tm_at_args *a)
{
    return name_set(at, a, "sni", offsetof(ssl_conf, sni), true);
}

static tm_err calpn_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    for (int i = 0; i < shown_links(at); i++) {
        char line[5 * 70 + 32];
        int o = snprintf(line, sizeof line, "+CIPSSLCALPN:%d", i);
        for (int j = 0; j < g_conf[i].n_alpn; j++)
            o += snprintf(line + o, sizeof line - (size_t)o, ",\"%s\"", g_conf[i].alpn[j]);
        tm_at_line(at, "%s", line);
    }
    return TM_OK;
}

static tm_err calpn_set(tm_at *at, const tm_at_args *a)
{
    int lo, hi, k;
    long n;
    tm_err e;
    if ((e = link_arg(at, a, &lo, &hi, &k)) || (e = tm_at_get_int(at, a, k, "counts", 0, 5, &n)) ||
        (e = tm_at_max_args(at, a, k + (int)n)))
        return e;
    char v[5][64];
    for (int j = 0; j < n; j++)
        if ((e = tm_at_get_str(at, a, k + 1 + j, "alpn", v[j], sizeof v[j])))
            return e;
    for (int i = lo; i <= hi; i++) {
        g_conf[i].n_alpn = (int)n;
        for (int j = 0; j < n; j++)
            memcpy(g_conf[i].alpn[j], v[j], sizeof v[j]);
    }
    return TM_OK;
}

/* PSK: refused.  Our TLS profile is certificate-based (TLS 1.2 PSK suites
 * have no forward secrecy and no server authentication by certificate, and
 * the OpenSSL 1.3 PSK path would need an external-PSK session per link);
 * the host gets ERROR with this reason rather than a link that quietly
 * does something else. */
static tm_err cpsk_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    for (int i = 0; i < shown_links(at); i++)
        tm_at_line(at, "+CIPSSLCPSK:%d,\"\",\"\"", i);
    return TM_OK;
}

static tm_err cpsk_set(tm_at *at, const tm_at_args *a)
{
    (void)a;
    return tm_fail(tm_at_reason(at), TM_E_NOT_SUPPORTED, "TLS-PSK is not supported by tlsmodem: links "
                   "authenticate the server by certificate (load its CA with AT+SYSMFG=2,\"client_ca\","
                   "\"client_ca.0\",8,<len>); see docs/esp.md section 4");
}

const tm_at_cmd esp_ssl_table[] = {
    { "+CIPSSLCCONF", NULL, ccconf_read, ccconf_set, NULL, NULL },
    { "+CIPSSLCCN",   NULL, ccn_read,    ccn_set,    NULL, NULL },
    { "+CIPSSLCSNI",  NULL, csni_read,   csni_set,   NULL, NULL },
    { "+CIPSSLCALPN", NULL, calpn_read,  calpn_set,  NULL, NULL },
    { "+CIPSSLCPSK",  NULL, cpsk_read,   cpsk_set,   NULL, NULL },
    { "+CIPSSLCPSKHEX", NULL, cpsk_read, cpsk_set,   NULL, NULL },
    { NULL, NULL, NULL, NULL, NULL, NULL },
};
