/* tlsmodem — Espressif ESP-AT dialect (--dialect esp): shared state.
 *
 * AT+X=... with quoted strings (V.250 syntax, '\' escapes inside quotes),
 * answers OK / ERROR (with AT+SYSLOG=1 an "ERR CODE:0x…" line before ERROR),
 * "busy p..." for a command typed while one runs, ">" prompts for counted
 * payloads, +IPD for received data, "ready" at boot.  docs/esp.md documents
 * every command and decision.
 *
 * Files, one concept each (each owns its command table and its state):
 *   esp.c     life cycle, chip (--model esp32|esp8266), the table list
 *   voice.c   OK / ERROR / ERR CODE / busy p... / URCs
 *   basic.c   AT, GMR, RST, RESTORE, SYSMSG, SYSLOG, SYSSTORE, UART, CMD?
 *   wifi.c    simulated station: CWMODE, CWJAP, CWQAP, CWLAP, CIPSTA, ...
 *   sock.c    links: CIPMUX, CIPSTART(EX), CIPSEND(EX), +IPD, passive receive
 *   ssl.c     per-link TLS settings: CIPSSLCCONF, CIPSSLCSNI, CIPSSLCCN, ...
 *   sysmfg.c  AT+SYSMFG certificate namespaces, persisted in the store
 *   http.c    HTTPCLIENT, HTTPGETSIZE, HTTPCGET, HTTPCPOST/PUT, HTTPURLCFG
 *   diag.c    vendor extensions (AT+TMPROBE, AT+TMCERTLIST)
 *   sim.c     control-channel events (WIFI DISCONNECT, ...) */
#ifndef TM_ESP_H
#define TM_ESP_H

#include <stdbool.h>
#include <stdint.h>

#include "at/at.h"
#include "config.h"
#include "core/modem.h"
#include "core/sim.h"

typedef enum {
    ESP_CHIP_ESP32 = 0,        /* default */
    ESP_CHIP_ESP8266,
} esp_chip;

typedef struct {
    tm_modem *modem;
    esp_chip  chip;
    /* AT+SYSLOG: 1 = "ERR CODE:0x…" before ERROR (voice.c). */
    bool      syslog;
    /* AT+SYSMSG bit field (basic.c). */
    int       sysmsg;
    /* AT+SYSSTORE: 1 (default) = configuration commands persist. */
    bool      sysstore;
} esp_state;

esp_state *esp_get(tm_at *at);
tm_modem  *esp_modem(tm_at *at);

/* Voice (voice.c). */
extern const tm_at_voice esp_voice;

/* Command tables, one per file; esp.c lists them in this order. */
extern const tm_at_cmd esp_basic_table[];
extern const tm_at_cmd esp_wifi_table[];
extern const tm_at_cmd esp_sock_table[];
extern const tm_at_cmd esp_ssl_table[];
extern const tm_at_cmd esp_sysmfg_table[];
extern const tm_at_cmd esp_http_table[];
extern const tm_at_cmd esp_diag_table[];

/* Life-cycle hooks of the parts (esp.c calls them): start after the engine
 * is up (restore saved settings), reset on AT+RST / control-channel reset
 * (volatile state lost, store kept), stop before exit (close everything). */
void esp_basic_start(esp_state *s);
void esp_wifi_start(esp_state *s);
void esp_wifi_reset(esp_state *s);
void esp_sock_reset(esp_state *s);
void esp_ssl_reset(esp_state *s);
void esp_http_reset(esp_state *s);

/* The boot sequence as after power-on / AT+RST: volatile state of every part
 * dropped, then "ready" (esp.c). */
void esp_reboot(tm_at *at);

/* Control-channel events (sim.c); NULL-safe stub until implemented. */
tm_err esp_sim_event(tm_modem *m, const tm_sim_event *ev, tm_reason *why);

#endif
