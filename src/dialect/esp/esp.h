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

#include "diag/load_hint.h"
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
    /* AT+SYSLOG: 1 = "ERR CODE:0x…" (and +ERRNO) before ERROR; 2
     * (tlsmodem) = also "ERR REASON:<why>" (voice.c, docs/esp.md §9). */
    int       syslog;
    /* AT+SYSMSG bit field (basic.c): bit 0 +QUITT when passthrough ends,
     * bit 1 +LINK_CONN instead of <id>,CONNECT, bit 2 link/Wi-Fi messages
     * also in passthrough mode. */
    int       sysmsg;
    /* AT+SYSSTORE: 1 (default) = configuration commands persist. */
    bool      sysstore;
    /* Set by a part before it fails the running command (esp_err_ext):
     * the ERR CODE extension (HTTP: 0x7000 | status) and the +ERRNO value;
     * the voice uses them for that ERROR and clears them. */
    bool      err_ext_set;
    uint16_t  err_ext;
    bool      err_errno_set;
    uint32_t  err_errno;
} esp_state;

esp_state *esp_get(tm_at *at);
tm_modem  *esp_modem(tm_at *at);

/* Voice (voice.c). */
extern const tm_at_voice esp_voice;
/* The ERR CODE of a failure, 0x01<sub><ext> (docs/esp.md §9). */
uint32_t esp_err_code(const esp_state *s, const tm_reason *why);
/* For the next ERROR of the running command: the ERR CODE extension (low 16
 * bits; e.g. HTTP 0x7000 | status) instead of the one the code table gives. */
void esp_err_ext(esp_state *s, uint16_t ext);
/* ... and the +ERRNO value printed before it at AT+SYSLOG=1 (instead of the
 * one derived from the failure's tm_err). */
void esp_err_errno(esp_state *s, uint32_t errno_value);

/* ---- esp-basic: settings, life cycle (esp.c, basic.c) -------------------- */

/* One key of the saved settings (store item "esp/settings", written whole
 * and atomically).  save: only when AT+SYSSTORE=1, unless always (AT+UART_DEF,
 * AT+CWAUTOCONN are saved whatever SYSSTORE says); val NULL removes the key.
 * get: false when absent (or the item is damaged: esp_start noted it). */
tm_err esp_setting_save(esp_state *s, const char *key, const char *val, bool always, tm_reason *why);
bool   esp_setting_get(esp_state *s, const char *key, char *val, size_t cap);
/* The station got its address (wifi.c): an SNTP update waiting for the
 * network happens now (+TIME_UPDATED). */
void   esp_sntp_got_ip(esp_state *s);
/* AT+SYSMSG bits (basic.c). */
#define ESP_SYSMSG_QUITT      1
#define ESP_SYSMSG_LINK_CONN  2
#define ESP_SYSMSG_PASSTHRU   4

/* ---- esp-basic: the simulated Wi-Fi station (wifi.c) --------------------- */

/* True while the station is joined and has an IPv4 address ("WIFI GOT
 * IP"): sockets and HTTP refuse to connect without it, as the module does. */
bool esp_wifi_has_ip(const esp_state *s);
/* The station's IPv4 address ("0.0.0.0" when it has none). */
void esp_wifi_local_ip(const esp_state *s, char *buf, size_t cap);
/* AT+CIPSTATUS <stat> for the Wi-Fi part: 2 got IP, 5 not associated
 * (sock.c turns 2 into 3/4 by its links). */
int  esp_wifi_status(const esp_state *s);
/* Control channel (sim.c): the access point disappears / comes back /
 * denies association; the signal (csq 0..31, 99 unknown). */
tm_err esp_wifi_coverage(esp_state *s, bool lost, tm_reason *why);
tm_err esp_wifi_reject(esp_state *s, tm_reason *why);
void   esp_wifi_set_csq(esp_state *s, int csq);

/* ---- esp-sock: links (sock.c) -------------------------------------------- */

/* Wi-Fi dropped: each open link says [<id>,]CLOSED. */
void esp_sock_all_lost(esp_state *s, const tm_reason *why);
/* The network reset one link (control channel "socket reset <id>"); false
 * when that link is not open. */
bool esp_sock_net_lost(esp_state *s, int link, const tm_reason *why);

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
/* Links, TLS and HTTP state released, the station left (no output): a reset's
 * first half, also what a reset in the middle of a command drops (sim.c). */
void esp_drop_volatile(esp_state *s);

/* Control-channel events (sim.c); NULL-safe stub until implemented. */
tm_err esp_sim_event(tm_modem *m, const tm_sim_event *ev, tm_reason *why);

/* ---- sock.c (esp-sock) ---------------------------------------------------- */

/* Link ids 0..ESP_LINKS-1 (AT+CIPMUX=1); with AT+CIPMUX=0 the one link is 0.
 * ESP_LINKS as an id in AT+CIPCLOSE / AT+CIPSSLC* means "all links". */
#define ESP_LINKS      5
/* The HTTP commands' connection in esp_ssl_tls_config(). */
#define ESP_LINK_HTTP  (-1)

/* esp_sock_all_lost / esp_sock_net_lost: declared above (section esp-sock:
 * links).  A link closed by them says "[<id>,]CLOSED" after its data. */
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

/* ---- http.c, diag.c (esp-http) ---------------------------------------------- */

/* The command a reason names for loading a missing root (tm_tls_config
 * .load_hint, src/diag/load_hint.h). */
#define ESP_LOAD_ROOT_HINT TM_LOAD_ROOT_ESP

/* The station lost its access point (wifi.c): a running HTTP request ends as a
 * failed connection (ERROR with ERR CODE 0x010a7000; HTTPCPOST/PUT: SEND FAIL
 * once the host's body is in).  False when no request runs. */
bool esp_http_net_lost(esp_state *s, const tm_reason *why);

#endif
