/* tlsmodem — Sierra Wireless HL "K" dialect: shared state of the dialect.
 *
 * One session pool for all protocol commands (KHTTPS*, KTCP*), ids 1..N
 * allocated by the module and returned by the …CFG command, as on the HL85. */
#ifndef TM_HL_H
#define TM_HL_H

#include <stdbool.h>
#include <stdint.h>

#include "at/at.h"
#include "config.h"
#include "core/modem.h"
#include "http/http.h"
#include "net/stream.h"
#include "tls/tls.h"

#define HL_CNX_MAX 5   /* bearer profiles 0..4 (KCNXCFG) */

typedef enum { HL_SESS_FREE = 0, HL_SESS_HTTPS, HL_SESS_TCP } hl_sess_kind;

/* Trust and credentials gathered from the store for one connection; stays
 * alive as long as the connection attempt that uses it. */
typedef struct {
    uint8_t  *buf;                 /* DER items back to back (malloc'd) */
    size_t    len;
    tm_blob   anchors[32];
    size_t    n_anchors;
    tm_blob   client_chain[8];
    size_t    n_client_chain;
    uint8_t  *key;                 /* malloc'd */
    size_t    key_len;
} hl_creds;

typedef struct hl_https hl_https;   /* https.c */
typedef struct hl_tcp   hl_tcp;     /* pin.c — vendor extension AT+TMPIN=<session_id>,"<sha256>" / ? */
tm_err hl_tmpin_set(tm_at *at, const tm_at_args *a);
tm_err hl_tmpin_read(tm_at *at, const tm_at_args *a);
/* diag.c — vendor extensions AT+TMPROBE="<host>"[,<port>] and AT+TMCERTLIST */
tm_err hl_tmprobe_set(tm_at *at, const tm_at_args *a);
tm_err hl_tmcertlist_exec(tm_at *at, const tm_at_args *a);
/* tcp.c */

typedef struct {
    int           id;               /* 1..TM_SESSIONS_MAX */
    hl_sess_kind  kind;
    int           cnx;              /* bearer profile */
    hl_https     *https;            /* when kind == HTTPS (malloc'd) */
    hl_tcp       *tcp;              /* when kind == TCP (malloc'd) */
    bool          has_pin;          /* AT+TMPIN: SPKI SHA-256 the server key must have */
    uint8_t       pin[32];
} hl_session;

typedef struct {
    bool  defined;
    char  apn[64];
    char  login[64];
    char  password[64];
    long  timers[4];
    bool  up;
} hl_cnx;

typedef struct {
    tm_modem    *modem;
    hl_session   sess[TM_SESSIONS_MAX];
    hl_cnx       cnx[HL_CNX_MAX];
    int          cnx_profile;        /* KCNXPROFILE */
    bool         attached;           /* CGATT */
    int          clock_tz_quarters;  /* last zone given to AT+CCLK */
    /* data-mode collection buffer (certificates, keys, headers) */
    uint8_t     *collect;
    size_t       collect_len;
    size_t       collect_cap;
    int          collect_kind;       /* what the running collect is for */
    int          collect_index;
    size_t       collect_expected;   /* announced byte count, 0 = none */
    int          collect_session;
} hl_state;

hl_state   *hl_get(tm_at *at);
tm_modem   *hl_modem(tm_at *at);

/* Session pool. */
hl_session *hl_session_alloc(hl_state *s, hl_sess_kind kind);
void        hl_session_free(hl_state *s, hl_session *ss);
/* Looks up a session id argument; on failure fills the reason (910). */
tm_err      hl_session_arg(tm_at *at, const tm_at_args *a, int idx, hl_sess_kind kind, hl_session **out);

/* Data-mode collection into hl_state.collect (certs.c): prints CONNECT and
 * collects until the count, the EOF pattern or +++; on_end gets the engine. */
enum { COLLECT_ROOT = 0, COLLECT_LOCAL = 1, COLLECT_KEY = 2, COLLECT_HEADER = 3 };
tm_err      hl_collect_start(tm_at *at, int kind, long index, long count,
                             void (*on_end)(void *at, tm_at_data_end how, size_t total));
/* After a counted certificate upload ended inside a PEM with CR LF line ends
 * (a terminal's LF -> CR LF): reads and drops the rest of the PEM, then fails
 * the command with "received CR LF line ends: announced N bytes, the PEM
 * needs M" (crlf_overrun.c).  False when that is not what happened. */
bool        hl_crlf_overrun(tm_at *at, hl_state *s);
/* How the collection ended: TM_OK, or the reason (mangled pattern, count mismatch, empty). */
tm_err      hl_collect_end_check(tm_at *at, hl_state *s, tm_at_data_end how, size_t total);

/* Credentials from the store (certs.c). with_client: also the local
 * certificate 0 and private key 0 (sec_level 2). */
void        hl_creds_load(hl_state *s, hl_creds *c, bool with_client);
void        hl_creds_free(hl_creds *c);
/* Fills the TLS part of a stream's options from the modem (trust, clock). */
void        hl_tls_config(hl_state *s, hl_creds *c, tm_tls_config *t, const char *host, int sec_level);

/* Applies the session's SPKI pin (AT+TMPIN) to a TLS config (pin.c). */
void        hl_tls_apply_pin(const hl_session *ss, tm_tls_config *t);

/* Voice helpers (voice.c). */
extern const tm_at_voice hl_voice;
int         hl_notif_code(tm_err e);                /* tm_err -> +KTCP_NOTIF / +KHTTPS_ERROR code */
/* "+KHTTPS_ERROR: <id>,<code>" (+ ,"<reason>" at CMEE=2) after "NO CARRIER". */
void        hl_report_failure(tm_at *at, const char *urc_name, int id, const tm_reason *why, bool no_carrier);
/* "+TMWARN: <text>" at CMEE=2 (always in the trace). */
void        hl_warn(tm_at *at, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Command handlers, by file. */
/* basic.c */
tm_err hl_ati(tm_at *at, const tm_at_args *a);
tm_err hl_kcnxcfg_set(tm_at *at, const tm_at_args *a);
tm_err hl_kcnxcfg_read(tm_at *at, const tm_at_args *a);
tm_err hl_kcnxtimer_set(tm_at *at, const tm_at_args *a);
tm_err hl_kcnxprofile_set(tm_at *at, const tm_at_args *a);
tm_err hl_kcnxprofile_read(tm_at *at, const tm_at_args *a);
tm_err hl_kcnxup_set(tm_at *at, const tm_at_args *a);
tm_err hl_kcnxdown_set(tm_at *at, const tm_at_args *a);
tm_err hl_kcgpaddr_exec(tm_at *at, const tm_at_args *a);
tm_err hl_kcgpaddr_set(tm_at *at, const tm_at_args *a);
tm_err hl_kcgpaddr_test(tm_at *at, const tm_at_args *a);
tm_err hl_cgatt_set(tm_at *at, const tm_at_args *a);
tm_err hl_cgatt_read(tm_at *at, const tm_at_args *a);
tm_err hl_cclk_set(tm_at *at, const tm_at_args *a);
tm_err hl_cclk_read(tm_at *at, const tm_at_args *a);
tm_err hl_kpattern_set(tm_at *at, const tm_at_args *a);
tm_err hl_kpattern_read(tm_at *at, const tm_at_args *a);
/* certs.c */
tm_err hl_kcertstore_set(tm_at *at, const tm_at_args *a);
tm_err hl_kcertstore_read(tm_at *at, const tm_at_args *a);
tm_err hl_kcertdelete_set(tm_at *at, const tm_at_args *a);
tm_err hl_kprivkstore_set(tm_at *at, const tm_at_args *a);
tm_err hl_kprivkdelete_set(tm_at *at, const tm_at_args *a);
/* https.c */
tm_err hl_khttpscfg_set(tm_at *at, const tm_at_args *a);
tm_err hl_khttpscfg_read(tm_at *at, const tm_at_args *a);
tm_err hl_khttpscnx_set(tm_at *at, const tm_at_args *a);
tm_err hl_khttpsheader_set(tm_at *at, const tm_at_args *a);
tm_err hl_khttpsheader_read(tm_at *at, const tm_at_args *a);
tm_err hl_khttpsget_set(tm_at *at, const tm_at_args *a);
tm_err hl_khttpshead_set(tm_at *at, const tm_at_args *a);
tm_err hl_khttpspost_set(tm_at *at, const tm_at_args *a);
tm_err hl_khttpsclose_set(tm_at *at, const tm_at_args *a);
tm_err hl_khttpsdel_set(tm_at *at, const tm_at_args *a);
void   hl_https_free(hl_session *ss);
void   hl_https_idle(hl_session *ss);   /* resume a body paused for host backpressure */
/* pin.c — vendor extension AT+TMPIN=<session_id>,"<sha256>" / ? */
tm_err hl_tmpin_set(tm_at *at, const tm_at_args *a);
tm_err hl_tmpin_read(tm_at *at, const tm_at_args *a);
/* diag.c — vendor extensions AT+TMPROBE="<host>"[,<port>] and AT+TMCERTLIST */
tm_err hl_tmprobe_set(tm_at *at, const tm_at_args *a);
tm_err hl_tmcertlist_exec(tm_at *at, const tm_at_args *a);
/* tcp.c */
tm_err hl_ktcpcfg_set(tm_at *at, const tm_at_args *a);
tm_err hl_ktcpcfg_read(tm_at *at, const tm_at_args *a);
tm_err hl_ktcpcnx_set(tm_at *at, const tm_at_args *a);
tm_err hl_ktcpsnd_set(tm_at *at, const tm_at_args *a);
tm_err hl_ktcprcv_set(tm_at *at, const tm_at_args *a);
tm_err hl_ktcpstart_set(tm_at *at, const tm_at_args *a);
tm_err hl_ato_set(tm_at *at, const tm_at_args *a);
tm_err hl_ktcpstat_set(tm_at *at, const tm_at_args *a);
tm_err hl_ktcpclose_set(tm_at *at, const tm_at_args *a);
tm_err hl_ktcpdel_set(tm_at *at, const tm_at_args *a);
void   hl_tcp_free(hl_session *ss);

#endif
