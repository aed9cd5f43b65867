/* tlsmodem — ESP-AT dialect: life cycle, the chip it emulates, its table list. */
#include <string.h>

#include "core/trace.h"
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
    tm_at_v250_table,
    NULL,
};

const tm_at_dialect esp_at_dialect = {
    .name = "esp",
    .syntax = TM_AT_SYNTAX_V250,
    .tables = esp_tables,
    .voice = &esp_voice,
    .echo_default = true,            /* ATE1 at boot, as the module */
    .swallow_lf_after_cr = true,     /* hosts end lines with CR LF; the LF is not payload */
    .echo_eol_crlf = false,
};

static void drop_volatile(esp_state *s)
{
    esp_http_reset(s);
    esp_sock_reset(s);
    esp_ssl_reset(s);
    esp_wifi_reset(s);
}

void esp_reboot(tm_at *at)
{
    esp_state *s = esp_get(at);
    if (s)
        drop_volatile(s);
    tm_at_urc(at, "ready");
}

static void esp_start(tm_modem *m)
{
    memset(&g_esp, 0, sizeof g_esp);
    g_esp.modem = m;
    g_esp.chip = strcmp(m->model, "esp8266") == 0 ? ESP_CHIP_ESP8266 : ESP_CHIP_ESP32;
    g_esp.sysstore = true;
    m->dialect_state = &g_esp;
    esp_basic_start(&g_esp);
    esp_wifi_start(&g_esp);
    esp_sock_reset(&g_esp);     /* links and TLS settings start empty (esp-sock) */
    esp_ssl_reset(&g_esp);
    tm_trace("esp", "ESP-AT dialect ready (chip %s, store %s)",
             g_esp.chip == ESP_CHIP_ESP8266 ? "ESP8266" : "ESP32", m->store.root);
    tm_at_urc(m->at, "ready");
}

static void esp_stop(tm_modem *m)
{
    (void)m;
    drop_volatile(&g_esp);
}

const tm_dialect tm_dialect_esp = {
    .name = "esp",
    .at = &esp_at_dialect,
    .start = esp_start,
    .stop = esp_stop,
    .models = esp_models,
    .sim_event = esp_sim_event,
};
