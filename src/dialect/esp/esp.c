/* tlsmodem — ESP-AT dialect: life cycle, the chip it emulates, its table
 * list, the saved settings (store item "esp/settings"). */
#include <stdio.h>
#include <string.h>

#include "core/trace.h"
#include "store/store.h"
#include "dialect/esp/esp.h"

static esp_state g_esp;

esp_state *esp_get(tm_at *at)
{
    tm_modem *m = tm_at_user(at);
    return m ? m->dialect_state : NULL;
}

tm_modem *esp_modem(tm_at *at)
{
    return tm_at_user(at);
}

/* --model: the chip a host stack checks in AT+GMR; default first. */
static const char *const esp_models[] = { "esp32", "esp8266", NULL };

static const tm_at_cmd *const esp_tables[] = {
    esp_basic_table,
    esp_wifi_table,
    esp_sock_table,
    esp_ssl_table,
    esp_sysmfg_table,
    esp_http_table,
    esp_diag_table,
    NULL,       /* no V.250 table: the firmware has ATE only (basic.c), no ATV/ATQ/ATZ/AT&F/ATS */
};

const tm_at_dialect esp_at_dialect = {
    .name = "esp",
    .syntax = TM_AT_SYNTAX_V250,
    .tables = esp_tables,
    .voice = &esp_voice,
    .echo_default = true,            /* ATE1 at boot, as the module */
    .swallow_lf_after_cr = true,     /* hosts end lines with CR LF; the LF is not payload */
    .echo_eol_crlf = true,           /* the echo of "AT\r\n" is "AT\r\n" (also for a lone CR) */
    .refuse_while_busy = true,       /* "busy p..." for a line sent while a command runs */
    .backslash_escapes = true,       /* \" \\ \, inside quoted values */
};

/* ---- saved settings ------------------------------------------------------ */

#define SETTINGS "esp/settings"

tm_err esp_setting_save(esp_state *s, const char *key, const char *val, bool always, tm_reason *why)
{
    if (!s->sysstore && !always)
        return TM_OK;
    tm_err e = tm_store_setting_set(&s->modem->store, SETTINGS, key, val, why);
    if (e)
        tm_reason_append(why, "setting %s of %s not saved", key, SETTINGS);
    else
        tm_trace("store", "%s: %s=%s", SETTINGS, key, val ? (strstr(key, "pwd") ? "(password)" : val)
                                                           : "(removed)");
    return e;
}

bool esp_setting_get(esp_state *s, const char *key, char *val, size_t cap)
{
    return tm_store_setting_get(&s->modem->store, SETTINGS, key, val, cap) == TM_OK;
}

/* A damaged settings item: defaults are used, the file is kept for
 * inspection until the host saves (which rewrites it); said on stderr and in
 * the trace. */
static void check_settings(esp_state *s)
{
    static char buf[TM_STORE_SETTINGS_MAX + 1];
    static tm_setting v[TM_STORE_SETTINGS_KEYS];
    size_t n = 0;
    tm_reason why;
    tm_reason_clear(&why);
    tm_err e = tm_store_settings_load(&s->modem->store, SETTINGS, buf, sizeof buf, v, TM_STORE_SETTINGS_KEYS,
                                      &n, &why);
    if (e == TM_OK || e == TM_E_NOT_FOUND)
        return;
    snprintf(s->modem->start_note, sizeof s->modem->start_note,
             "store %.300s: settings %s are damaged, defaults in use (%.600s); the file is kept until the host saves",
             s->modem->store.root, SETTINGS, why.detail);
    tm_trace("warn", "%s", s->modem->start_note);
}

void esp_drop_volatile(esp_state *s)
{
    esp_http_reset(s);
    esp_sock_reset(s);
    esp_ssl_reset(s);
    esp_wifi_reset(s);
}

/* As after power-on: links, TLS and HTTP state gone, the volatile basics
 * back to their defaults (echo on, SYSLOG 0, SYSSTORE 1), saved settings
 * read again; "ready", then the auto-join of a saved access point. */
void esp_reboot(tm_at *at)
{
    esp_state *s = esp_get(at);
    tm_at_set_echo(at, true);
    if (!s) {
        tm_at_urc(at, "ready");
        return;
    }
    esp_drop_volatile(s);
    s->syslog = 0;
    s->sysstore = true;
    s->err_ext_set = s->err_errno_set = false;
    esp_basic_start(s);
    tm_at_urc(at, "ready");
    esp_wifi_start(s);
}

static void esp_start(tm_modem *m)
{
    memset(&g_esp, 0, sizeof g_esp);
    g_esp.modem = m;
    g_esp.chip = strcmp(m->model, "esp8266") == 0 ? ESP_CHIP_ESP8266 : ESP_CHIP_ESP32;
    g_esp.sysstore = true;
    m->dialect_state = &g_esp;
    check_settings(&g_esp);
    esp_basic_start(&g_esp);
    esp_sock_reset(&g_esp);     /* links and TLS settings start empty (esp-sock) */
    esp_ssl_reset(&g_esp);
    tm_trace("esp", "ESP-AT dialect ready (chip %s, store %s)",
             g_esp.chip == ESP_CHIP_ESP8266 ? "ESP8266" : "ESP32", m->store.root);
    tm_at_urc(m->at, "ready");
    esp_wifi_start(&g_esp);        /* after "ready": the auto-join's WIFI CONNECTED / GOT IP */
}

static void esp_stop(tm_modem *m)
{
    (void)m;
    esp_drop_volatile(&g_esp);
}

const tm_dialect tm_dialect_esp = {
    .name = "esp",
    .at = &esp_at_dialect,
    .start = esp_start,
    .stop = esp_stop,
    .models = esp_models,
    .sim_event = esp_sim_event,
};
