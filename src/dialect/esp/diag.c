/* tlsmodem — ESP-AT vendor extensions for diagnostics (docs/esp.md §7).
 * Espressif has no +TM commands, so the names cannot collide:
 *
 *   AT+TMPROBE="<host>"[,<port>[,<link ID>]]   the probe of src/diag/probe.c
 *       from the module's network position with the module's clock and the
 *       trust an https:// HTTP command uses (https_ca, else client_ca, else
 *       the bundle) — or, with <link ID> 0..4, the trust AT+CIPSTART "SSL"
 *       on that link uses (its AT+CIPSSLC* settings); "+TMPROBE:<text>" lines
 *       as it goes, then OK, or ERROR when the server cannot be reached at
 *       TCP level (reason in the trace).
 *   AT+TMCERTLIST   every item loaded with AT+SYSMFG: "+TMCERTLIST:<ns>/<key>:
 *       <i>/<count>:<summary>" per certificate, "+TMCERTLIST:<ns>/<key>:<key
 *       summary>" per key, "+TMCERTLIST:<ns>/<key>:not a certificate or key
 *       (<n> bytes)" otherwise; then OK.  Streamed (any number of items). */
#include <stdio.h>
#include <string.h>

#include "dialect/esp/esp.h"
#include "diag/probe_cmd.h"
#include "diag/summary.h"

static esp_tls_hold g_probe_hold;

static void probe_release(void)
{
    esp_tls_hold_free(&g_probe_hold);
}

static tm_probe_cmd g_probe = { .prefix = "+TMPROBE:", .release = probe_release };

static tm_err tmprobe_set(tm_at *at, const tm_at_args *a)
{
    char host[TM_HOST_MAX];
    long port, link;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 3)) ||
        (e = tm_at_get_host(at, a, 1, "host", host, sizeof host)) ||
        (e = tm_at_opt_int(at, a, 2, "port", 1, 65535, 443, &port)) ||
        (e = tm_at_opt_int(at, a, 3, "link ID", 0, ESP_LINKS - 1, ESP_LINK_HTTP, &link)))
        return e;
    if (!tm_probe_cmd_idle(&g_probe, at))
        return TM_E_BUSY;
    tm_tls_config cfg;
    if ((e = esp_ssl_tls_config(esp_get(at), (int)link, host, &g_probe_hold, &cfg, tm_at_reason(at))))
        return e;
    cfg.load_hint = ESP_LOAD_ROOT_HINT;
    return tm_probe_cmd_start(&g_probe, at, host, (uint16_t)port, &cfg);
}

static void one_line(char *s)
{
    for (; *s; s++)
        if (*s == '\r' || *s == '\n')
            *s = ' ';
}

static void list_cb(void *arg, const char *name, tm_certlist_kind kind, int i, int count, const char *summary)
{
    tm_at *at = arg;
    char sum[1700];
    const char *where = name + strlen("esp/mfg/");
    snprintf(sum, sizeof sum, "%s", summary);
    one_line(sum);
    if (kind == TM_CERTLIST_CERT)
        tm_at_line(at, "+TMCERTLIST:%s:%d/%d:%s", where, i, count, sum);
    else
        tm_at_line(at, "+TMCERTLIST:%s:%s", where, sum);
}

typedef struct {
    tm_at *at;
    int    n;
} mfg_ctx;

static uint8_t g_item[TM_STORE_ITEM_MAX];

/* Store names esp/mfg/<ns>/<key> (sysmfg.c); esp_mfg_get strips its type byte. */
static void mfg_item(void *arg, const char *name, size_t size)
{
    mfg_ctx *c = arg;
    const char *nk = name + strlen("esp/mfg/");
    const char *slash = strchr(nk, '/');
    (void)size;
    if (!slash || slash == nk || !slash[1])
        return;
    char ns[TM_STORE_NAME_MAX];
    snprintf(ns, sizeof ns, "%.*s", (int)(slash - nk), nk);
    size_t len;
    tm_reason why;
    tm_reason_clear(&why);
    tm_modem *m = esp_modem(c->at);
    c->n++;
    if (esp_mfg_get(esp_get(c->at), ns, slash + 1, g_item, sizeof g_item, &len, &why) != TM_OK) {
        tm_at_line(c->at, "+TMCERTLIST:%s:cannot be read: %.300s", nk, why.detail);
        return;
    }
    tm_certlist_item(name, g_item, len, tm_modem_now(m), list_cb, c->at);
}

static tm_err tmcertlist_exec(tm_at *at, const tm_at_args *a)
{
    (void)a;
    tm_modem *m = esp_modem(at);
    mfg_ctx c = { at, 0 };
    tm_at_spool(at);
    if (tm_store_list(&m->store, "esp/mfg/", mfg_item, &c) < 0)
        return tm_at_spool_end(at, tm_fail(tm_at_reason(at), TM_E_STORE_IO, "the store could not be listed"));
    return tm_at_spool_end(at, TM_OK);
}

const tm_at_cmd esp_diag_table[] = {
    { "+TMPROBE",    NULL, NULL, tmprobe_set, NULL,            NULL },
    { "+TMCERTLIST", NULL, NULL, NULL,        tmcertlist_exec, NULL },
    { NULL, NULL, NULL, NULL, NULL, NULL },
};
