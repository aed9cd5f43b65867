/* tlsmodem — HL dialect: state, session pool, start/stop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/trace.h"
#include "dialect/hl/hl.h"
#include "port/port.h"

extern const tm_at_dialect hl_at_dialect;

static hl_state g_hl;

hl_state *hl_get(tm_at *at)
{
    tm_modem *m = tm_at_user(at);
    return m->dialect_state;
}

tm_modem *hl_modem(tm_at *at)
{
    return tm_at_user(at);
}

hl_session *hl_session_alloc(hl_state *s, hl_sess_kind kind)
{
    for (int i = 0; i < TM_SESSIONS_MAX; i++) {
        hl_session *ss = &s->sess[i];
        if (ss->kind == HL_SESS_FREE) {
            memset(ss, 0, sizeof *ss);
            ss->id = i + 1;
            ss->kind = kind;
            return ss;
        }
    }
    return NULL;
}

void hl_session_free(hl_state *s, hl_session *ss)
{
    (void)s;
    if (ss->https)
        hl_https_free(ss);
    if (ss->tcp)
        hl_tcp_free(ss);
    if (ss->udp)
        hl_udp_free(ss);
    int id = ss->id;
    memset(ss, 0, sizeof *ss);
    ss->id = id;
}

tm_err hl_session_arg(tm_at *at, const tm_at_args *a, int idx, hl_sess_kind kind, hl_session **out)
{
    long id;
    tm_err e = tm_at_get_int(at, a, idx, "session_id", 0, 1000000, &id);
    if (e)
        return e;
    hl_state *s = hl_get(at);
    if (id < 1 || id > TM_SESSIONS_MAX || s->sess[id - 1].kind != kind)
        return tm_fail(tm_at_reason(at), TM_E_BAD_SESSION,
                       "session %ld is not a configured %s session (create one with %s)", id,
                       kind == HL_SESS_HTTPS ? "HTTPS" : kind == HL_SESS_UDP ? "UDP" : "TCP",
                       kind == HL_SESS_HTTPS ? "AT+KHTTPSCFG" : kind == HL_SESS_UDP ? "AT+KUDPCFG" : "AT+KTCPCFG");
    *out = &s->sess[id - 1];
    return TM_OK;
}


/* Once per loop iteration: sessions paused because the host output was full
 * continue when it drained (backpressure without polling the host fd here). */
static void hl_idle(void *arg)
{
    hl_state *s = arg;
    for (int i = 0; i < TM_SESSIONS_MAX; i++)
        if (s->sess[i].kind == HL_SESS_HTTPS)
            hl_https_idle(&s->sess[i]);
}

static char g_settings_damage[TM_DETAIL_MAX + 128];

const char *hl_settings_damage(void) { return g_settings_damage; }
void hl_settings_damage_clear(void) { g_settings_damage[0] = '\0'; }

static void hl_start(tm_modem *m)
{
    memset(&g_hl, 0, sizeof g_hl);
    g_hl.modem = m;
    g_hl.model = hl_model_find(m->model);
    if (!g_hl.model)                    /* main checked the name; be safe */
        g_hl.model = hl_model_find(NULL);
    hl_crypto_defaults(&g_hl);
    g_hl.cnx_profile = 1;
    for (int i = 0; i < TM_SESSIONS_MAX; i++)
        g_hl.sess[i].id = i + 1;
    m->dialect_state = &g_hl;
    char pat[TM_AT_PATTERN_MAX + 1];
    tm_err pe = tm_store_setting_get(&m->store, "hl/settings", "kpattern", pat, sizeof pat);
    if (pe == TM_OK) {
        tm_at_set_pattern(m->at, pat);
    } else if (pe == TM_E_STORE_CORRUPT) {
        /* said at start, the default pattern in use; the file stays until
         * AT+KPATTERN saves a new one */
        static char buf[TM_STORE_SETTINGS_MAX + 1];
        static tm_setting v[TM_STORE_SETTINGS_KEYS];
        size_t n;
        tm_reason why;
        tm_reason_clear(&why);
        tm_store_settings_load(&m->store, "hl/settings", buf, sizeof buf, v, TM_STORE_SETTINGS_KEYS, &n, &why);
        snprintf(m->start_note, sizeof m->start_note, "store %s: %s; the default EOF pattern is in use until "
                 "AT+KPATTERN saves one", m->store.root, why.detail);
        snprintf(g_settings_damage, sizeof g_settings_damage, "saved settings damaged, defaults in use: %s; "
                 "the file is kept until AT+KPATTERN= saves", why.detail);
        tm_trace("warn", "%s", m->start_note);
    }
    tm_port_on_idle(hl_idle, &g_hl);
    hl_net_boot(&g_hl, m->at, 1, true);
    tm_trace("hl", "HL dialect ready: model %s (store %s)", g_hl.model->cgmm, m->store.root);
}

static void hl_stop(tm_modem *m)
{
    for (int i = 0; i < TM_SESSIONS_MAX; i++)
        if (g_hl.sess[i].kind != HL_SESS_FREE)
            hl_session_free(&g_hl, &g_hl.sess[i]);
    free(g_hl.collect);
    g_hl.collect = NULL;
    (void)m;
}

const tm_dialect tm_dialect_hl = {
    .name = "hl",
    .at = &hl_at_dialect,
    .start = hl_start,
    .stop = hl_stop,
    .models = hl_model_names,
    .cellular = true,
    .sim_event = hl_sim_event,
};
