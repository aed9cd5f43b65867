/* tlsmodem — ST SPWF04Sx "S." dialect: shared state of the dialect.
 *
 * AT+S.<NAME>=a,b,c (no quotes), answers AT-S.OK / AT-S.ERROR:<n>:<text>,
 * information lines AT-S.<Keyword>:…, payloads of an announced length read
 * straight after the command's CR, +WIND:<n>:<text> indications.
 * docs/spwf.md documents every command and decision. */
#ifndef TM_SPWF_H
#define TM_SPWF_H

#include <stdbool.h>
#include <stdint.h>

#include "at/at.h"
#include "config.h"
#include "core/modem.h"
#include "http/http.h"
#include "net/stream.h"
#include "tls/tls.h"

/* Host silence that ends a payload shorter than announced (AT-S.ERROR:14):
 * the engine's data-mode idle_ms (tm_at_data_in). */
#define SPWF_DATA_IDLE_MS 5000

/* AT-S.ERROR number of an HTTP request that failed (the module's). */
#define SPWF_ERR_REQUEST_FAILED 111

/* Trust and credentials for one connection (malloc'd, freed with the
 * connection). */
typedef struct {
    uint8_t *buf;
    size_t   len, cap;
    tm_blob  anchors[64];
    char     origin[64][96];      /* where each anchor came from (trace) */
    size_t   n_anchors;
    tm_blob  client_chain[8];
    size_t   n_client_chain;
    uint8_t *key;
    size_t   key_len;
    char     note[400];           /* CA-looking files that are not anchors, and why (reasons) */
} spwf_creds;

typedef struct spwf_sock spwf_sock;   /* sock.c */
typedef struct spwf_http spwf_http;   /* http.c */

/* Configuration variables (SCFG/GCFG), as the module keeps them in RAM;
 * WCFG saves them to the store (spwf/settings), FCFG restores defaults. */
typedef struct {
    const char *name;
    const char *dflt;
} spwf_var_def;

#define SPWF_VAR_MAX 128
#define SPWF_VAR_VAL 96

typedef void (*spwf_collect_end)(tm_at *at, tm_err pre, const uint8_t *p, size_t n);

typedef struct {
    tm_modem   *modem;
    char        vars[SPWF_VAR_MAX][SPWF_VAR_VAL];
    spwf_sock  *sock[TM_SESSIONS_MAX];
    spwf_http  *http;
    /* payload collection (FSC/FSA/TLSCERT, discarded payloads) */
    uint8_t    *collect;
    size_t      collect_len;
    size_t      collect_expected;
    tm_err      collect_pre;          /* error to report once the payload is swallowed */
    spwf_collect_end collect_end;
    char        collect_name[TM_STORE_NAME_MAX];
    int         collect_kind;
} spwf_state;

spwf_state *spwf_get(tm_at *at);
tm_modem   *spwf_modem(tm_at *at);

/* The configuration-variable table (config_vars.c): name + factory value,
 * NULL-terminated; index by name (-1 unknown); value check for index i
 * (range, read-only) with the reason filled. */
extern const spwf_var_def spwf_config_vars[];
int         spwf_config_index(const char *name);
tm_err      spwf_config_check(tm_at *at, int i, const char *val);
/* Radio, status and boot (radio.c): AT+S.STS, AT+S.PEERS, AT+S.WIFI, the
 * boot +WIND sequence (start and AT+S.RESET). */
void        spwf_boot_winds(tm_at *at);
/* Control channel (sim.c): the access point lost / back (+WIND:33 / +WIND:24),
 * whether it is lost, a socket the network closed (+WIND:58:…:1; false when
 * socket id has no open connection), the tm_dialect.sim_event hook. */
tm_err      spwf_radio_coverage(tm_at *at, bool lost, tm_reason *why);
bool        spwf_radio_bss_lost(void);
bool        spwf_sock_net_lost(spwf_state *s, int id, const tm_reason *why);
tm_err      spwf_sim_event(tm_modem *m, const tm_sim_event *ev, tm_reason *why);
/* Whether +WIND:<n> is masked by console_wind_off_* (spwf.c); sock.c keeps a
 * masked +WIND:55 armed and announces it when the masks drop. */
bool        spwf_wind_masked(tm_at *at, int n);
void        spwf_sock_winds_unmasked(spwf_state *s);
tm_err      spwf_peers_exec(tm_at *at, const tm_at_args *a);
tm_err      spwf_peers_set(tm_at *at, const tm_at_args *a);

/* Config variables. */
const char *spwf_var(spwf_state *s, const char *name);    /* NULL when unknown */
int         spwf_var_int(spwf_state *s, const char *name);
/* What became of the saved settings (AT+S.STS variable "settings"): saved,
 * defaults, or damaged with the reason. */
const char *spwf_settings_note(void);

/* +WIND:<n>:<text> through the URC queue, unless masked by console_wind_off_*. */
void spwf_wind(tm_at *at, int n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Voice (voice.c). */
extern const tm_at_voice spwf_voice;
/* AT-S.ERROR line (per console_errs / console_verbose) for number n, short
 * text and optional reason; used by the voice and by HTTP's 111. */
void spwf_error_line(tm_at *at, int n, const char *text, const tm_reason *why);
int  spwf_cert_error(tm_err e);       /* Certificate Error number, 0 = not a certificate problem */
int  spwf_http_client_error(tm_err e);/* Http Client Error number */
void spwf_trace_reason(const char *what, const tm_reason *why);

/* Payload after the command's CR: exactly count bytes.  With pre != TM_OK the
 * bytes are swallowed and the command then fails with pre (the reason must be
 * filled already).  Otherwise they are collected (<= TM_STORE_ITEM_MAX) and
 * end() is called with them. */
tm_err spwf_collect_start(tm_at *at, long count, tm_err pre, spwf_collect_end end);
/* A counted PEM upload cut inside the PEM, with CR LF line ends (a terminal's
 * LF -> CR LF): reads and drops the rest, then fails with "received CR LF line
 * ends: announced N bytes, the PEM needs M" (crlf_overrun.c).  False when
 * that is not what happened. */
bool   spwf_crlf_overrun(tm_at *at, spwf_state *s);
/* A count argument for a payload (1..max); fills the reason. */
tm_err spwf_count_arg(tm_at *at, const tm_at_args *a, int idx, long max, long *out);


/* Credentials (certs.c). */
/* Trust + client credentials from the store.  A stored item that cannot be
 * used fails (TM_E_CERT_FORMAT / TM_E_KEY_FORMAT, reason naming it): the
 * connection must then be refused, never made with less (or bundle) trust. */
tm_err spwf_creds_load(spwf_state *s, spwf_creds *c, bool with_client, tm_reason *why);
void   spwf_creds_free(spwf_creds *c);
/* Records that the module writes fsname ("spwf/fs/<file>") from the network
 * (`by`: "AT+S.HTTPGET"); call before writing the file.  Such a file is never
 * a trust anchor (certs.c). */
tm_err spwf_fs_from_network(tm_store *st, const char *fsname, const char *by, tm_reason *why);
/* Why the file fsname is not a trust anchor (text in buf), or NULL when it is
 * one (AT+S.TMCERTLIST). */
const char *spwf_fs_not_anchor(tm_store *st, const char *fsname, char *buf, size_t cap);
void   spwf_tls_config(spwf_state *s, spwf_creds *c, tm_tls_config *t, const char *host,
                       const char *expected);
/* File-system name -> store name ("spwf/fs/<name>", leading '/' dropped). */
tm_err spwf_fs_name(tm_at *at, const char *user, char *out, size_t cap);
/* Would writing fsname with new_size bytes stay within TM_FS_FILES_MAX and
 * TM_FS_BYTES_MAX?  TM_E_STORE_FULL with the numbers otherwise. */
tm_err spwf_fs_room(tm_store *st, const char *fsname, size_t new_size, tm_reason *why);

/* Handlers, by file. */
/* spwf.c */
tm_err spwf_scfg_set(tm_at *at, const tm_at_args *a);
tm_err spwf_gcfg_set(tm_at *at, const tm_at_args *a);
tm_err spwf_gcfg_exec(tm_at *at, const tm_at_args *a);
tm_err spwf_sts_set(tm_at *at, const tm_at_args *a);
tm_err spwf_sts_exec(tm_at *at, const tm_at_args *a);
tm_err spwf_wcfg_exec(tm_at *at, const tm_at_args *a);
tm_err spwf_fcfg_exec(tm_at *at, const tm_at_args *a);
tm_err spwf_reset_exec(tm_at *at, const tm_at_args *a);
tm_err spwf_time_set(tm_at *at, const tm_at_args *a);
tm_err spwf_time_exec(tm_at *at, const tm_at_args *a);
tm_err spwf_ssidtxt_set(tm_at *at, const tm_at_args *a);
tm_err spwf_wifi_set(tm_at *at, const tm_at_args *a);
tm_err spwf_help_exec(tm_at *at, const tm_at_args *a);
tm_err spwf_ok_exec(tm_at *at, const tm_at_args *a);
/* certs.c */
tm_err spwf_tlscert_set(tm_at *at, const tm_at_args *a);
tm_err spwf_fsc_set(tm_at *at, const tm_at_args *a);
tm_err spwf_fsa_set(tm_at *at, const tm_at_args *a);
tm_err spwf_fsd_set(tm_at *at, const tm_at_args *a);
tm_err spwf_fsr_set(tm_at *at, const tm_at_args *a);
tm_err spwf_fsl_exec(tm_at *at, const tm_at_args *a);
tm_err spwf_fsl_set(tm_at *at, const tm_at_args *a);
tm_err spwf_fsp_set(tm_at *at, const tm_at_args *a);
/* sock.c */
tm_err spwf_sockon_set(tm_at *at, const tm_at_args *a);
tm_err spwf_sockw_set(tm_at *at, const tm_at_args *a);
tm_err spwf_sockq_set(tm_at *at, const tm_at_args *a);
tm_err spwf_sockr_set(tm_at *at, const tm_at_args *a);
tm_err spwf_sockc_set(tm_at *at, const tm_at_args *a);
tm_err spwf_sockl_exec(tm_at *at, const tm_at_args *a);
void   spwf_sock_close_all(spwf_state *s);
/* http.c */
tm_err spwf_httpget_set(tm_at *at, const tm_at_args *a);
tm_err spwf_httppost_set(tm_at *at, const tm_at_args *a);
void   spwf_http_free(spwf_state *s);
/* The network went away under a running HTTPGET/HTTPPOST: it fails with
 * AT-S.Http Client Error and AT-S.ERROR:111 naming why; false when none runs. */
bool   spwf_http_net_lost(spwf_state *s, const tm_reason *why);
void   spwf_http_idle(spwf_state *s);

#endif
