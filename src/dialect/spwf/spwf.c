/* tlsmodem — SPWF dialect: state, configuration variables (SCFG, GCFG, STS,
 * WCFG, FCFG), time (AT+S.TIME), reset and boot indications, payload
 * collection with a silence watchdog, start/stop. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/trace.h"
#include "core/version.h"
#include "dialect/spwf/spwf.h"
#include "port/port.h"

extern const tm_at_dialect spwf_at_dialect;

static spwf_state g_spwf;

spwf_state *spwf_get(tm_at *at)
{
    tm_modem *m = tm_at_user(at);
    return m ? m->dialect_state : NULL;
}

tm_modem *spwf_modem(tm_at *at) { return tm_at_user(at); }

/* ---- configuration variables -------------------------------------------- */

/* The table (names, factory values, ranges) lives in config_vars.c. */
static const spwf_var_def *const vars = spwf_config_vars;

static int var_index(const char *name)
{
    return spwf_config_index(name);
}

const char *spwf_var(spwf_state *s, const char *name)
{
    int i = var_index(name);
    return i < 0 ? NULL : s->vars[i];
}

int spwf_var_int(spwf_state *s, const char *name)
{
    const char *v = spwf_var(s, name);
    return v ? (int)strtol(v, NULL, 0) : 0;
}

static void vars_defaults(spwf_state *s)
{
    for (int i = 0; vars[i].name; i++)
        snprintf(s->vars[i], SPWF_VAR_VAL, "%s", vars[i].dflt);
}

static void apply_vars(tm_at *at, spwf_state *s)
{
    tm_at_set_echo(at, spwf_var_int(s, "console_echo") != 0);
    tm_at_set_cmee(at, spwf_var_int(s, "console_errs") >= 2 ? 2 : 1);
}

static tm_err unknown_var(tm_at *at, const char *name)
{
    tm_at_reason(at)->arg_index = 1;
    return tm_fail(tm_at_reason(at), TM_E_ARG_BAD, "no configuration variable \"%s\" (AT+S.GCFG lists them)",
                   name);
}

tm_err spwf_scfg_set(tm_at *at, const tm_at_args *a)
{
    spwf_state *s = spwf_get(at);
    char name[64], val[SPWF_VAR_VAL];
    tm_err e;
    if ((e = tm_at_max_args(at, a, 2)) ||
        (e = tm_at_get_str(at, a, 1, "variable", name, sizeof name)))
        return e;
    if (a->count < 2)
        return tm_fail(tm_at_reason(at), TM_E_ARG_MISSING, "AT+S.SCFG=<variable>,<value>: no value");
    if (a->v[1].len >= sizeof val) {
        tm_at_reason(at)->arg_index = 2;
        return tm_fail(tm_at_reason(at), TM_E_ARG_RANGE, "the value is %zu bytes, the limit is %zu",
                       a->v[1].len, sizeof val - 1);
    }
    memcpy(val, a->v[1].p, a->v[1].len + 1);
    int i = var_index(name);
    if (i < 0)
        return unknown_var(at, name);
    if ((e = spwf_config_check(at, i, val)))
        return e;
    memcpy(s->vars[i], val, strlen(val) + 1);
    tm_trace("spwf", "SCFG %s=%s (RAM; AT+S.WCFG saves)", vars[i].name, val);
    apply_vars(at, s);
    if (!strncasecmp(vars[i].name, "console_wind_off_", 17))
        spwf_sock_winds_unmasked(s);
    return TM_OK;
}

tm_err spwf_gcfg_exec(tm_at *at, const tm_at_args *a)
{
    (void)a;
    spwf_state *s = spwf_get(at);
    for (int i = 0; vars[i].name; i++)
        tm_at_line(at, "AT-S.Var:%s=%s", vars[i].name, s->vars[i]);
    return TM_OK;
}

tm_err spwf_gcfg_set(tm_at *at, const tm_at_args *a)
{
    spwf_state *s = spwf_get(at);
    char name[64];
    tm_err e;
    if ((e = tm_at_max_args(at, a, 1)) || (e = tm_at_get_str(at, a, 1, "variable", name, sizeof name)))
        return e;
    int i = var_index(name);
    if (i < 0)
        return unknown_var(at, name);
    tm_at_line(at, "AT-S.Var:%s=%s", vars[i].name, s->vars[i]);
    return TM_OK;
}

/* What became of spwf/settings at start or RESET: AT+S.STS shows it as the
 * status variable "settings" (docs/spwf.md). */
static char g_settings_note[TM_DETAIL_MAX + 160];

const char *spwf_settings_note(void) { return g_settings_note; }

/* Every variable that differs from its default, in one write: the file is
 * all old or all new after a crash (docs/reliability.md). */
tm_err spwf_wcfg_exec(tm_at *at, const tm_at_args *a)
{
    (void)a;
    spwf_state *s = spwf_get(at);
    tm_modem *m = spwf_modem(at);
    tm_setting v[SPWF_VAR_MAX];
    size_t n = 0;
    for (int i = 0; vars[i].name; i++)
        if (strcmp(s->vars[i], vars[i].dflt) != 0)
            v[n++] = (tm_setting){ vars[i].name, s->vars[i] };
    tm_err e = tm_store_settings_save(&m->store, "spwf/settings", v, n, tm_at_reason(at));
    if (e)
        return e;
    snprintf(g_settings_note, sizeof g_settings_note, "saved (%zu variable(s) differ from the defaults)", n);
    tm_trace("store", "WCFG: configuration saved to spwf/settings (%zu variable(s) differ from the defaults)", n);
    return TM_OK;
}

/* Loads spwf/settings into s->vars, all or nothing: a damaged file, an
 * unknown variable or a bad value leaves the defaults, says why (trace,
 * AT+S.STS, and at start stderr through m->start_note) and keeps the file
 * as it is until the host saves with AT+S.WCFG. */
static void load_saved(tm_modem *m, spwf_state *s, bool at_start)
{
    static char buf[TM_STORE_SETTINGS_MAX + 1];
    static char tmpv[SPWF_VAR_MAX][SPWF_VAR_VAL];
    tm_setting v[TM_STORE_SETTINGS_KEYS];
    size_t n = 0;
    tm_reason why;
    tm_reason_clear(&why);
    vars_defaults(s);
    tm_err e = tm_store_settings_load(&m->store, "spwf/settings", buf, sizeof buf, v, TM_STORE_SETTINGS_KEYS,
                                      &n, &why);
    if (e == TM_E_NOT_FOUND) {
        snprintf(g_settings_note, sizeof g_settings_note, "defaults (nothing saved)");
        return;
    }
    memcpy(tmpv, s->vars, sizeof tmpv);
    for (size_t k = 0; e == TM_OK && k < n; k++) {
        int i = var_index(v[k].key);
        if (i < 0) {
            e = tm_fail(&why, TM_E_STORE_CORRUPT, "settings spwf/settings: unknown variable \"%.64s\"", v[k].key);
            break;
        }
        if (spwf_config_check(m->at, i, v[k].val) != TM_OK) {
            e = tm_fail(&why, TM_E_STORE_CORRUPT, "settings spwf/settings: %s", tm_at_reason(m->at)->detail);
            tm_reason_clear(tm_at_reason(m->at));
            break;
        }
        snprintf(tmpv[i], SPWF_VAR_VAL, "%s", v[k].val);
    }
    if (e) {
        snprintf(g_settings_note, sizeof g_settings_note, "damaged, defaults in use: %s; the file is kept "
                 "until AT+S.WCFG saves", why.detail);
        tm_trace("warn", "%s", g_settings_note);
        if (at_start)
            snprintf(m->start_note, sizeof m->start_note, "store %s: %s", m->store.root, g_settings_note);
        return;
    }
    memcpy(s->vars, tmpv, sizeof tmpv);
    snprintf(g_settings_note, sizeof g_settings_note, "saved (%zu variable(s) loaded)", n);
}

tm_err spwf_fcfg_exec(tm_at *at, const tm_at_args *a)
{
    (void)a;
    spwf_state *s = spwf_get(at);
    vars_defaults(s);
    apply_vars(at, s);
    tm_trace("spwf", "FCFG: factory defaults in RAM (AT+S.WCFG saves them)");
    return TM_OK;
}

/* ---- Wi-Fi (accepted, no effect) ----------------------------------------- */

tm_err spwf_ssidtxt_set(tm_at *at, const tm_at_args *a)
{
    spwf_state *s = spwf_get(at);
    int i = var_index("wifi_ssid");
    snprintf(s->vars[i], SPWF_VAR_VAL, "%s", a->count ? a->v[0].p : "");
    return TM_OK;
}

tm_err spwf_ok_exec(tm_at *at, const tm_at_args *a)
{
    (void)at;
    (void)a;
    return TM_OK;
}

tm_err spwf_help_exec(tm_at *at, const tm_at_args *a)
{
    (void)a;
    static const char *const cmds[] = {
        "AT+S.SCFG=<var>,<value>", "AT+S.GCFG[=<var>]", "AT+S.STS[=<var>]", "AT+S.WCFG", "AT+S.FCFG",
        "AT+S.RESET", "AT+S.TIME[=<seconds since 1970>]",
        "AT+S.SOCKON=<host>,<port>,[NULL],<t|s|name>", "AT+S.SOCKW=<id>,<len>", "AT+S.SOCKQ=<id>",
        "AT+S.SOCKR=<id>[,<len>]", "AT+S.SOCKC=<id>", "AT+S.SOCKL",
        "AT+S.HTTPGET=<host>,<path>,<port>,<TLS>,<user>,<pass>,<out_file>,",
        "AT+S.HTTPPOST=<host>,<path>,<port>,<TLS>,<user>,<pass>,<in_file>,<out_file>",
        "AT+S.TLSCERT=<ca|cert|key>,<len> | =content,<1|2>",
        "AT+S.FSC=<name>,<len>", "AT+S.FSA=<name>,<len>", "AT+S.FSD=<name>", "AT+S.FSR=<old>,<new>",
        "AT+S.FSL", "AT+S.FSP=<name>[,<offset>,<length>]", NULL,
    };
    for (int i = 0; cmds[i]; i++)
        tm_at_line(at, "AT-S.Help:%s", cmds[i]);
    return TM_OK;
}

/* ---- +WIND ------------------------------------------------------------------ */

bool spwf_wind_masked(tm_at *at, int n)
{
    spwf_state *s = spwf_get(at);
    if (!s || n < 0 || n >= 96)
        return false;
    static const char *const masks[] = { "console_wind_off_low", "console_wind_off_medium",
                                         "console_wind_off_high" };
    const char *v = spwf_var(s, masks[n / 32]);
    unsigned long mask = v ? strtoul(v, NULL, 0) : 0;
    return (mask & (1UL << (n % 32))) != 0;
}

void spwf_wind(tm_at *at, int n, const char *fmt, ...)
{
    if (spwf_wind_masked(at, n)) {
        tm_trace("urc", "+WIND:%d masked by console_wind_off_*", n);
        return;
    }
    char text[TM_AT_URC_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    tm_at_urc(at, "+WIND:%d:%s", n, text);
}

tm_err spwf_reset_exec(tm_at *at, const tm_at_args *a)
{
    (void)a;
    spwf_state *s = spwf_get(at);
    tm_modem *m = spwf_modem(at);
    spwf_sock_close_all(s);
    load_saved(m, s, false);
    apply_vars(at, s);
    tm_trace("spwf", "RESET: sockets closed, saved configuration reloaded");
    spwf_boot_winds(at);   /* queued: written after AT-S.OK */
    return TM_OK;
}

/* ---- time ------------------------------------------------------------------- */

tm_err spwf_time_set(tm_at *at, const tm_at_args *a)
{
    long t;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 1)) ||
        (e = tm_at_get_int(at, a, 1, "seconds since 1970", 0, 0x7fffffffL, &t)))
        return e;
    tm_modem *m = spwf_modem(at);
    tm_modem_set_clock(m, t);
    char buf[40];
    struct tm tmv;
    time_t tt = (time_t)t;
    gmtime_r(&tt, &tmv);
    strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tmv);
    tm_trace("clock", "module clock set by AT+S.TIME to %ld (%s)", t, buf);
    return TM_OK;
}

tm_err spwf_time_exec(tm_at *at, const tm_at_args *a)
{
    (void)a;
    tm_modem *m = spwf_modem(at);
    if (m->clock_mode == TM_CLOCK_UNSET) {
        tm_at_line(at, "AT-S.Time:not set");
        tm_at_line(at, "AT-S.Date:not set");
        return TM_OK;
    }
    time_t tt = (time_t)tm_modem_now(m);
    struct tm tmv;
    char d[32], t[32];
    gmtime_r(&tt, &tmv);
    strftime(t, sizeof t, "%H:%M:%S", &tmv);
    strftime(d, sizeof d, "%d:%m:%Y", &tmv);
    tm_at_line(at, "AT-S.Time:%s", t);
    tm_at_line(at, "AT-S.Date:%s", d);
    tm_at_line(at, "AT-S.Var:time=%lld", (long long)tt);
    return TM_OK;
}

/* ---- arguments ---------------------------------------------------------------- */

tm_err spwf_count_arg(tm_at *at, const tm_at_args *a, int idx, long max, long *out)
{
    return tm_at_get_int(at, a, idx, "length", 1, max, out);
}


/* ---- payload collection ----------------------------------------------------------- */

static size_t collect_room(void *arg)
{
    spwf_state *s = spwf_get(arg);
    if (s->collect_pre)
        return 1 << 20;
    return TM_STORE_ITEM_MAX - s->collect_len;
}

static void collect_data(void *arg, const uint8_t *p, size_t n)
{
    tm_at *at = arg;
    spwf_state *s = spwf_get(at);
    if (s->collect_pre)
        return;
    size_t room = TM_STORE_ITEM_MAX - s->collect_len;
    if (n > room)
        n = room;
    memcpy(s->collect + s->collect_len, p, n);
    s->collect_len += n;
}

static void collect_on_end(void *arg, tm_at_data_end how, size_t total)
{
    tm_at *at = arg;
    spwf_state *s = spwf_get(at);
    if (how == TM_AT_DATA_END_HOST_GONE) {
        tm_at_complete(at, tm_fail(tm_at_reason(at), TM_E_DATA_ABORTED, "the host went away after %zu of "
                                   "%zu payload bytes; nothing was done", total, s->collect_expected));
        return;
    }
    if (how == TM_AT_DATA_END_IDLE) {
        tm_at_complete(at, tm_fail(tm_at_reason(at), TM_E_DATA_COUNT,
                                   "announced %zu bytes after the command, received %zu, then nothing for %d s "
                                   "(the payload follows the command's CR directly, every byte counts); "
                                   "nothing was done", s->collect_expected, total, SPWF_DATA_IDLE_MS / 1000));
        return;
    }
    if (s->collect_pre) {
        tm_reason_append(tm_at_reason(at), "the %zu payload bytes were read and discarded",
                         s->collect_expected);
        tm_at_complete(at, s->collect_pre);
        return;
    }
    s->collect_end(at, TM_OK, s->collect, s->collect_len);
}

tm_err spwf_collect_start(tm_at *at, long count, tm_err pre, spwf_collect_end end)
{
    spwf_state *s = spwf_get(at);
    if (!s->collect) {
        s->collect = malloc(TM_STORE_ITEM_MAX);
        if (!s->collect && !pre)
            pre = tm_fail(tm_at_reason(at), TM_E_NO_MEMORY, "no memory for the payload");
    }
    if (!pre && count > TM_STORE_ITEM_MAX)
        pre = tm_fail(tm_at_reason(at), TM_E_TOO_LARGE, "%ld bytes announced, the limit is %d", count,
                      TM_STORE_ITEM_MAX);
    s->collect_len = 0;
    s->collect_expected = (size_t)count;
    s->collect_pre = pre;
    s->collect_end = end;
    if (pre)
        tm_trace("spwf", "payload of %ld bytes will be discarded: %s", count, tm_at_reason(at)->detail);
    tm_at_data_in spec = {
        .count = (size_t)count,
        .on_data = collect_data,
        .on_end = collect_on_end,
        .room = collect_room,
        .arg = at,
        .idle_ms = SPWF_DATA_IDLE_MS,
    };
    tm_at_data_in_start(at, &spec);
    return TM_AT_PENDING;
}

/* ---- life cycle -------------------------------------------------------------------- */

static void spwf_idle(void *arg)
{
    spwf_http_idle(arg);
}

static void spwf_start(tm_modem *m)
{
    memset(&g_spwf, 0, sizeof g_spwf);
    g_spwf.modem = m;
    m->dialect_state = &g_spwf;
    load_saved(m, &g_spwf, true);
    apply_vars(m->at, &g_spwf);
    tm_trace("spwf", "SPWF04 dialect ready (store %s, settings %s, echo %s)", m->store.root, g_settings_note,
             spwf_var_int(&g_spwf, "console_echo") ? "on" : "off");
    tm_port_on_idle(spwf_idle, &g_spwf);
    spwf_boot_winds(m->at);
}

static void spwf_stop(tm_modem *m)
{
    (void)m;
    spwf_sock_close_all(&g_spwf);
    spwf_http_free(&g_spwf);
    free(g_spwf.collect);
    g_spwf.collect = NULL;
}

const tm_dialect tm_dialect_spwf = {
    .name = "spwf",
    .at = &spwf_at_dialect,
    .start = spwf_start,
    .stop = spwf_stop,
    .sim_event = spwf_sim_event,
};
