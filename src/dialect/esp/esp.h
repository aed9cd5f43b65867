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
#include "tls/tls.h"

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

/* ---- sock.c (esp-sock) ---------------------------------------------------- */

/* Link ids 0..ESP_LINKS-1 (AT+CIPMUX=1); with AT+CIPMUX=0 the one link is 0.
 * ESP_LINKS as an id in AT+CIPCLOSE / AT+CIPSSLC* means "all links". */
#define ESP_LINKS      5
/* The HTTP commands' connection in esp_ssl_tls_config(). */
#define ESP_LINK_HTTP  (-1)

/* Wi-Fi dropped: each open link says "[<id>,]CLOSED", all are closed. */
void esp_sock_all_lost(esp_state *s, const tm_reason *why);
/* The network reset one link: "[<id>,]CLOSED"; false when it is not open. */
bool esp_sock_net_lost(esp_state *s, int link, const tm_reason *why);
/* AT+CIPMUX: true = multiple connections (link ids in commands and +IPD). */
bool esp_sock_mux(const esp_state *s);

/* ---- ssl.c (esp-sock) ----------------------------------------------------- */

#define ESP_TLS_ANCHORS_MAX 32
#define ESP_TLS_ALPN_MAX    (5 * 33)

/* What one TLS connection trusts and presents; owns every buffer the
 * tm_tls_config filled by esp_ssl_tls_config() points to, so it must live as
 * long as the connection is being set up (tm_tls_new copies what it keeps).
 * Zero it before the first use; esp_tls_hold_free() releases it. */
typedef struct {
    uint8_t *buf;                               /* DER of anchors, then the client chain */
    size_t   len, cap;
    tm_blob  anchors[ESP_TLS_ANCHORS_MAX];
    size_t   n_anchors;
    tm_blob  client_chain[8];
    size_t   n_client_chain;
    uint8_t *key;                               /* client key as stored (PEM or DER) */
    size_t   key_len;
    char     sni[TM_HOST_MAX];                  /* AT+CIPSSLCSNI, "" = from the host */
    char     expected[TM_HOST_MAX];             /* AT+CIPSSLCCN, "" = the host */
    uint8_t  alpn[ESP_TLS_ALPN_MAX];            /* AT+CIPSSLCALPN, wire format */
    size_t   alpn_len;
    char     note[512];                         /* where the trust came from (trace, reasons) */
    bool     unverified;                        /* auth mode 0 set by the host: announce it */
} esp_tls_hold;

/* The trust and credentials of a TLS connection: link 0..ESP_LINKS-1 (its
 * AT+CIPSSLC* settings) or ESP_LINK_HTTP (defaults: secure).  A link the host
 * never configured verifies the server with the CAs it loaded with
 * AT+SYSMFG (namespace client_ca), else the default bundle (--ca-bundle),
 * and the name (host, or AT+CIPSSLCCN); SNI = host.  A stored item that
 * cannot be used fails (never less trust).  On failure hold is freed. */
tm_err esp_ssl_tls_config(esp_state *s, int link, const char *host, esp_tls_hold *hold,
                          tm_tls_config *cfg, tm_reason *why);
void   esp_tls_hold_free(esp_tls_hold *hold);

/* ---- sysmfg.c (esp-sock) -------------------------------------------------- */

/* An item the host wrote with AT+SYSMFG=2,"<ns>","<key>",...: its bytes as
 * sent.  TM_E_NOT_FOUND when absent. */
tm_err esp_mfg_get(esp_state *s, const char *ns, const char *key, uint8_t *buf, size_t cap,
                   size_t *len, tm_reason *why);
/* Calls cb for each key of namespace ns, in name order; returns how many. */
int    esp_mfg_keys(esp_state *s, const char *ns, void (*cb)(void *arg, const char *key), void *arg);

#endif
