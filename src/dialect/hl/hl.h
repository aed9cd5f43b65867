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
#include "dialect/hl/model.h"
#include "dialect/hl/net3gpp.h"
#include "http/http.h"
#include "net/stream.h"
#include "tls/tls.h"

#define HL_CNX_MAX 5   /* bearer profiles 0..4 (KCNXCFG) */
#define HL_CRYPTO_PROFILES 8   /* AT+KSSLCRYPTO profiles 0..7 (HL78xx) */

/* One AT+KSSLCRYPTO profile (tlsprofile.c). */
typedef struct {
    long mkey, auth_algo, enc, mac, tls_ver, auth, root_idx;
} hl_crypto;

typedef enum { HL_SESS_FREE = 0, HL_SESS_HTTPS, HL_SESS_TCP, HL_SESS_UDP } hl_sess_kind;

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
typedef struct hl_tcp   hl_tcp;
typedef struct hl_udp   hl_udp;     /* udp.c */     /* pin.c — vendor extension AT+TMPIN=<session_id>,"<sha256>" / ? */
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
    hl_udp       *udp;              /* when kind == UDP (malloc'd) */
    bool          has_pin;          /* AT+TMPIN: SPKI SHA-256 the server key must have */
    uint8_t       pin[32];
} hl_session;

typedef struct {
    bool  defined;
    char  apn[64];
    char  login[64];
    char  password[64];
    long  timers[4];                 /* KCNXTIMER: connect s, attempts, delay s, idle s */
    bool  timer_set;                 /* KCNXTIMER was given for this profile */
    bool  idle_set;                  /* … with its 5th argument */
    bool  up;
} hl_cnx;

typedef struct {
    tm_modem    *modem;
    const hl_model *model;           /* --model */
    hl_crypto    crypto[HL_CRYPTO_PROFILES];
    hl_session   sess[TM_SESSIONS_MAX];
    hl_cnx       cnx[HL_CNX_MAX];
    int          cnx_profile;        /* KCNXPROFILE */
    hl_net       net;                /* net3gpp.c: the simulated network */
    int          reset_fun;          /* AT+CFUN=<fun>,1: functionality after the reset */
    int          clock_tz_quarters;  /* last zone given to AT+CCLK */
    /* data-mode collection buffer (certificates, keys, headers) */
    uint8_t     *collect;
    size_t       collect_len;
    size_t       collect_cap;
    int          collect_kind;       /* what the running collect is for */
    int          collect_index;
    size_t       collect_expected;   /* announced byte count, 0 = none */
    int          collect_session;
    void       (*collect_on_end)(void *at, tm_at_data_end how, size_t total);
    bool         collect_hold;       /* the buffer outlives on_end (crlf_overrun.c) */
} hl_state;

hl_state   *hl_get(tm_at *at);
tm_modem   *hl_modem(tm_at *at);

/* Session pool. */
hl_session *hl_session_alloc(hl_state *s, hl_sess_kind kind);
void        hl_session_free(hl_state *s, hl_session *ss);
/* Looks up a session id argument; on failure fills the reason (910). */
tm_err      hl_session_arg(tm_at *at, const tm_at_args *a, int idx, hl_sess_kind kind, hl_session **out);

/* Data-mode collection into hl_state.collect (certs.c): prints CONNECT and
 * collects until the count, the EOF pattern or +++; on_end gets the engine.
 * The buffer is allocated here and freed once on_end returned. */
enum { COLLECT_ROOT = 0, COLLECT_LOCAL = 1, COLLECT_KEY = 2, COLLECT_HEADER = 3 };
tm_err      hl_collect_start(tm_at *at, int kind, long index, long count,
                             void (*on_end)(void *at, tm_at_data_end how, size_t total));
/* After a counted certificate upload ended inside a PEM with CR LF line ends
 * (a terminal's LF -> CR LF): reads and drops the rest of the PEM, then fails
 * the command with "received CR LF line ends: announced N bytes, the PEM
 * needs M" (crlf_overrun.c).  False when that is not what happened. */
bool        hl_crlf_overrun(tm_at *at, hl_state *s);
/* Frees the collection buffer (done after on_end unless held). */
void        hl_collect_release(hl_state *s);
/* How the collection ended: TM_OK, or the reason (mangled pattern, count mismatch, empty). */
tm_err      hl_collect_end_check(tm_at *at, hl_state *s, tm_at_data_end how, size_t total);

/* Credentials from the store (certs.c). with_client: also the local
 * certificate 0 and private key 0 (sec_level 2).  A stored item that cannot
 * be used (empty, truncated, garbage, unreadable) fails with TM_E_CERT_FORMAT
 * / TM_E_KEY_FORMAT and a reason naming the slot: the connection must then be
 * refused (never fall back to fewer anchors or to the --ca-bundle). */
tm_err      hl_creds_load(hl_state *s, hl_creds *c, bool with_client, tm_reason *why);
void        hl_creds_free(hl_creds *c);
/* Fills the TLS part of a stream's options from the modem (trust, clock). */
void        hl_tls_config(hl_state *s, hl_creds *c, tm_tls_config *t, const char *host, int sec_level);

/* Applies the session's SPKI pin (AT+TMPIN) to a TLS config (pin.c). */
void        hl_tls_apply_pin(const hl_session *ss, tm_tls_config *t);

/* TLS profiles (tlsprofile.c): AT+KSSLCRYPTO; hl_crypto_tls applies a
 * profile's versions to t and returns its sec_level (0, 1, 2). */
void        hl_crypto_defaults(hl_state *s);
int         hl_crypto_tls(const hl_state *s, int profile, tm_tls_config *t);
tm_err hl_ksslcrypto_set(tm_at *at, const tm_at_args *a);
tm_err hl_ksslcrypto_read(tm_at *at, const tm_at_args *a);
tm_err hl_ksslcrypto_test(tm_at *at, const tm_at_args *a);

/* The simulated network (net3gpp.c).  hl_net_boot: state after power-on
 * or reset, then the boot URCs (HL78 +KSUP: 0) and the registration.
 * hl_net_attach: AT+KCNXUP's attach (TM_OK, or the reason: radio off). */
void        hl_net_boot(hl_state *s, tm_at *at, int cfun, bool power_on);
tm_err      hl_net_attach(tm_at *at);
/* Control-channel events (sim.c): re-evaluate registration after the
 * network changed; the network drops a PDP context; sessions need stat 1. */
void        hl_net_update(hl_state *s, tm_at *at);
void        hl_net_pdp_drop(hl_state *s, tm_at *at, int cid);
tm_err      hl_net_usable(tm_at *at);
void        hl_net_reset(hl_state *s);
/* tcp.c: the network took the connection away (+KTCP_NOTIF with why);
 * false when the session had no connection. */
bool        hl_tcp_net_lost(hl_session *ss, const tm_reason *why);
/* sim.c: tm_dialect.sim_event */
tm_err      hl_sim_event(tm_modem *m, const tm_sim_event *ev, tm_reason *why);
/* Identity (identity.c) and the commands the real module has that tlsmodem
 * does not implement (unimplemented.c): tables searched after hl_table. */
extern const tm_at_cmd hl_net_table[];
extern const tm_at_cmd hl_identity_table[];
extern const tm_at_cmd hl_unimplemented_table[];

/* Voice helpers (voice.c). */
extern const tm_at_voice hl_voice;
int         hl_notif_code(tm_err e);                /* tm_err -> +KTCP_NOTIF / +KHTTPS_ERROR code */
/* "+KHTTPS_ERROR: <id>,<code>" (+ ,"<reason>" at CMEE=2) after "NO CARRIER". */
void        hl_report_failure(tm_at *at, const char *urc_name, int id, const tm_reason *why, bool no_carrier);
/* Saved settings (hl/settings) found damaged at start: the reason ("" when
 * fine); AT+KPATTERN? repeats it as +TMWARN until AT+KPATTERN= saves. */
const char *hl_settings_damage(void);
void        hl_settings_damage_clear(void);
/* "+TMWARN: <text>" at CMEE=2 (always in the trace). */
void        hl_warn(tm_at *at, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Command handlers, by file. */
/* basic.c */
tm_err hl_kcnxcfg_set(tm_at *at, const tm_at_args *a);
tm_err hl_kcnxcfg_read(tm_at *at, const tm_at_args *a);
tm_err hl_kcnxtimer_set(tm_at *at, const tm_at_args *a);
tm_err hl_kcnxtimer_read(tm_at *at, const tm_at_args *a);
/* Connect and idle timeouts (ms, TM_TIMEOUT_NONE = never) of a bearer profile. */
void   hl_cnx_timeouts(hl_state *s, int cnx, uint32_t *connect_ms, uint32_t *idle_ms);
tm_err hl_kcnxprofile_set(tm_at *at, const tm_at_args *a);
tm_err hl_kcnxprofile_read(tm_at *at, const tm_at_args *a);
tm_err hl_kcnxup_set(tm_at *at, const tm_at_args *a);
tm_err hl_kcnxdown_set(tm_at *at, const tm_at_args *a);
tm_err hl_kcgpaddr_exec(tm_at *at, const tm_at_args *a);
tm_err hl_kcgpaddr_set(tm_at *at, const tm_at_args *a);
tm_err hl_kcgpaddr_test(tm_at *at, const tm_at_args *a);
void   hl_local_ipv4(char *buf, size_t cap);   /* the host's first non-loopback IPv4 */
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
tm_err hl_ktcpcfg_test(tm_at *at, const tm_at_args *a);
tm_err hl_ktcpcnx_set(tm_at *at, const tm_at_args *a);
tm_err hl_ktcpsnd_set(tm_at *at, const tm_at_args *a);
tm_err hl_ktcprcv_set(tm_at *at, const tm_at_args *a);
tm_err hl_ktcpstart_set(tm_at *at, const tm_at_args *a);
tm_err hl_ato_set(tm_at *at, const tm_at_args *a);
tm_err hl_ktcpstat_set(tm_at *at, const tm_at_args *a);
tm_err hl_ktcpclose_set(tm_at *at, const tm_at_args *a);
tm_err hl_ktcpdel_set(tm_at *at, const tm_at_args *a);
void   hl_tcp_free(hl_session *ss);
/* udp.c */
tm_err hl_kudpcfg_set(tm_at *at, const tm_at_args *a);
tm_err hl_kudpcfg_read(tm_at *at, const tm_at_args *a);
tm_err hl_kudpsnd_set(tm_at *at, const tm_at_args *a);
tm_err hl_kudprcv_set(tm_at *at, const tm_at_args *a);
tm_err hl_kudpclose_set(tm_at *at, const tm_at_args *a);
tm_err hl_kudpdel_set(tm_at *at, const tm_at_args *a);
void   hl_udp_free(hl_session *ss);
/* May AT+TMPIN set (setting) or remove the pin of this TCP session now? */
tm_err hl_tcp_pin_change(hl_session *ss, bool setting, tm_reason *why);

#endif
