/* tlsmodem — the simulated cellular network (net3gpp.h) and the 27.007 and
 * HL78 radio commands that read it.  docs/hl.md "Network" documents each.
 *
 * Model of the network: a SIM that is always READY, one home network
 * ("tlsmodem", MCC/MNC 00101) that registers the module as soon as the radio
 * is on (AT+CFUN=1) and PS attach is allowed, and a default PDP context (cid
 * 1) that is active while attached — as on LTE, where attach brings up the
 * default bearer.  Registration changes are reported with +CREG/+CGREG/
 * +CEREG URCs per their <n>, PDP changes with +CGEV per AT+CGEREP.  Power
 * saving (CPSMS, CEDRXS, KSLEEP) and RAT/band selection (KSRAT, KSELACQ,
 * KBNDCFG, KHWIOCFG) are checked, stored and read back; the module never
 * actually sleeps or changes radio, the bearer is the host's network.
 * Every set command checks all its arguments before it changes anything. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/trace.h"
#include "dialect/hl/hl.h"
#include "port/port.h"

#define OPERATOR "tlsmodem"
#define PLMN     "00101"

static tm_err need_hl78(tm_at *at, const char *cmd)
{
    hl_state *s = hl_get(at);
    if (s->model->hl78)
        return TM_OK;
    return tm_fail(tm_at_reason(at), TM_E_UNKNOWN_COMMAND, "AT%s is an HL78xx command; the %s has none "
                   "(start tlsmodem with --model hl7800)", cmd, s->model->cgmm);
}

/* ---- registration and URCs ------------------------------------------------------------- */

static int act_code(const hl_state *s)
{
    if (!s->model->hl78)
        return 2;                               /* UTRAN */
    return s->net.ksrat == 1 ? 9 : s->net.ksrat == 2 ? 0 : 7;   /* NB-S1 / GSM / E-UTRAN */
}

/* "<stat>[,"<tac>","<ci>",<AcT>[…]]" for <n>: the common tail of URCs and read forms. */
static void reg_tail(const hl_state *s, int n, char *buf, size_t cap)
{
    const hl_net *nt = &s->net;
    int len = snprintf(buf, cap, "%d", nt->stat);
    if (n >= 2 && nt->stat == 1) {
        len += snprintf(buf + len, cap - (size_t)len, ",\"%s\",\"%s\",%d", s->model->hl78 ? "A1B2" : "1A2B",
                        "01A2D001", act_code(s));
        if (n >= 4 && nt->cpsms_mode == 1)
            snprintf(buf + len, cap - (size_t)len, ",,,\"%s\",\"%s\"", nt->cpsms_active, nt->cpsms_tau);
    }
}

static void report_reg(hl_state *s, tm_at *at)
{
    char tail[96];
    const hl_net *nt = &s->net;
    if (nt->creg_n) {
        reg_tail(s, nt->creg_n, tail, sizeof tail);
        tm_at_urc(at, "+CREG: %s", tail);
    }
    if (nt->cgreg_n) {
        reg_tail(s, nt->cgreg_n, tail, sizeof tail);
        tm_at_urc(at, "+CGREG: %s", tail);
    }
    if (nt->cereg_n && s->model->hl78) {
        reg_tail(s, nt->cereg_n, tail, sizeof tail);
        tm_at_urc(at, "+CEREG: %s", tail);
    }
}

static void pdp_set_active_by(hl_state *s, tm_at *at, int cid, bool on, const char *by)
{
    hl_pdp *p = &s->net.pdp[cid];
    if (p->active == on)
        return;
    p->active = on;
    tm_trace("net", "PDP context %d %s", cid, on ? "active" : "inactive");
    if (s->net.cgerep_mode)
        tm_at_urc(at, "+CGEV: %s PDN %s %d", by, on ? "ACT" : "DEACT", cid);
}

static void pdp_set_active(hl_state *s, tm_at *at, int cid, bool on)
{
    pdp_set_active_by(s, at, cid, on, "ME");
}

/* Registration and attach follow CFUN and CGATT; URCs only on a change. */
/* Registration and attach follow CFUN and CGATT, and the network (control
 * channel: coverage, denial); URCs only on a change.  Stat 0 when the module
 * does not try (radio off, detached), 2 searching (no coverage), 3 denied.
 * A bearer the network took away reports +KCNX_IND status 0 ("disconnected
 * due to the network"), one the host closed 3. */
static void update(hl_state *s, tm_at *at)
{
    hl_net *nt = &s->net;
    bool trying = nt->cfun == 1 && nt->attached;
    int stat = !trying ? 0 : nt->sim_denied ? 3 : nt->sim_no_cover ? 2 : 1;
    if (stat != 1)          /* the network took it away ("NW") or the host did ("ME") */
        for (int c = 1; c <= HL_PDP_MAX; c++)
            pdp_set_active_by(s, at, c, false, trying ? "NW" : "ME");
    if (stat != nt->stat) {
        bool was = nt->stat == 1;
        nt->stat = stat;
        tm_trace("net", "%s", stat == 1 ? "registered (home network " OPERATOR ")" :
                 stat == 2 ? "not registered, searching (no coverage)" :
                 stat == 3 ? "registration denied by the network" : "not registered");
        report_reg(s, at);
        if (nt->cgerep_mode && (stat == 1 || was))
            tm_at_urc(at, "+CGEV: %s", stat == 1 ? "ME ATTACH" : trying ? "NW DETACH" : "ME DETACH");
    }
    if (stat == 1 && nt->pdp[1].defined)
        pdp_set_active(s, at, 1, true);      /* the default bearer */
    if (stat != 1)
        for (int i = 0; i < HL_CNX_MAX; i++)
            if (s->cnx[i].up) {
                s->cnx[i].up = false;
                tm_at_urc(at, "+KCNX_IND: %d,%d", i, trying ? 0 : 3);
            }
}

void hl_net_update(hl_state *s, tm_at *at)
{
    update(s, at);
}

/* The network deactivates a PDP context (27.007 "+CGEV: NW PDN DEACT"): the
 * bearers over it go down; registration stays. */
void hl_net_pdp_drop(hl_state *s, tm_at *at, int cid)
{
    hl_pdp *p = &s->net.pdp[cid];
    if (!p->active)
        return;
    p->active = false;
    tm_trace("net", "PDP context %d deactivated by the network", cid);
    if (s->net.cgerep_mode)
        tm_at_urc(at, "+CGEV: NW PDN DEACT %d", cid);
    for (int i = 0; i < HL_CNX_MAX; i++)
        if (s->cnx[i].up) {
            s->cnx[i].up = false;
            tm_at_urc(at, "+KCNX_IND: %d,0", i);
        }
}

/* Sessions need the network: registered (stat 1). */
tm_err hl_net_usable(tm_at *at)
{
    hl_net *nt = &hl_get(at)->net;
    if (nt->stat == 1)
        return TM_OK;
    return tm_fail(tm_at_reason(at), TM_E_NET, "no network: %s", nt->stat == 2 ? "not registered, no coverage "
                   "(+CEREG/+CREG stat 2); it comes back with stat 1" : nt->stat == 3 ? "registration denied by "
                   "the network (stat 3)" : "not registered (AT+CFUN=1, AT+CGATT=1)");
}

void hl_net_boot(hl_state *s, tm_at *at, int cfun, bool power_on)
{
    hl_net *nt = &s->net;
    if (power_on) {
        /* settings the module keeps in non-volatile memory: defaults only at power-on */
        memset(nt, 0, sizeof *nt);
        nt->pdp[1].defined = true;
        snprintf(nt->pdp[1].type, sizeof nt->pdp[1].type, "%s", s->model->hl78 ? "IPV4V6" : "IP");
        snprintf(nt->cpsms_tau, sizeof nt->cpsms_tau, "01000011");
        snprintf(nt->cpsms_active, sizeof nt->cpsms_active, "00100100");
        snprintf(nt->cedrxs_value, sizeof nt->cedrxs_value, "0010");
        nt->cedrxs_act = 4;
        nt->ksleep_level = 1;
        nt->ksleep_delay = 5;
        nt->kselacq[0] = 1;
        snprintf(nt->kbndcfg[0], sizeof nt->kbndcfg[0], "%s", "A7E2BB0F38DF");
        snprintf(nt->kbndcfg[1], sizeof nt->kbndcfg[1], "%s", "A7E2BB0F38DF");
        snprintf(nt->kbndcfg[2], sizeof nt->kbndcfg[2], "%s", "C");
        nt->ksrep = 1;
        nt->sim_rssi = 20;
    }
    /* volatile state: as after any start */
    nt->cfun = cfun;
    nt->creg_n = nt->cgreg_n = nt->cereg_n = 0;
    nt->cgerep_mode = nt->cgerep_bfr = 0;
    nt->stat = 0;
    nt->attached = true;                    /* automatic PS attach, as the modules do */
    for (int c = 1; c <= HL_PDP_MAX; c++)
        nt->pdp[c].active = false;
    if (s->model->hl78 && nt->ksrep)
        tm_at_urc(at, "+KSUP: 0");          /* module ready, SIM ready */
    update(s, at);
}

tm_err hl_net_attach(tm_at *at)
{
    hl_state *s = hl_get(at);
    if (s->net.cfun != 1)
        return tm_fail(tm_at_reason(at), TM_E_STATE, "the radio is off (AT+CFUN=%d); AT+CFUN=1 first",
                       s->net.cfun);
    s->net.attached = true;
    update(s, at);
    return hl_net_usable(at);
}

/* ---- SIM ---------------------------------------------------------------------------------- */

static tm_err cpin_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    tm_at_line(at, "+CPIN: READY");
    return TM_OK;
}

static tm_err cpin_set(tm_at *at, const tm_at_args *a)
{
    char pin[16];
    tm_err e;
    if ((e = tm_at_max_args(at, a, 2)) || (e = tm_at_get_str(at, a, 1, "pin", pin, sizeof pin)))
        return e;
    tm_trace("net", "AT+CPIN: the SIM is not locked; nothing to unlock");
    return TM_OK;
}

/* ---- functionality --------------------------------------------------------------------------- */

static tm_err cfun_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    tm_at_line(at, "+CFUN: %d", hl_get(at)->net.cfun);
    return TM_OK;
}

static tm_err cfun_test(tm_at *at, const tm_at_args *a)
{
    (void)a;
    tm_at_line(at, "+CFUN: (0,1,4),(0-1)");
    return TM_OK;
}

static void reset_cb(void *arg);

static tm_err cfun_set(tm_at *at, const tm_at_args *a)
{
    hl_state *s = hl_get(at);
    long fun, rst;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 2)) || (e = tm_at_get_int(at, a, 1, "fun", 0, 127, &fun)) ||
        (e = tm_at_opt_int(at, a, 2, "rst", 0, 1, 0, &rst)))
        return e;
    if (fun != 0 && fun != 1 && fun != 4) {
        tm_at_reason(at)->arg_index = 1;
        return tm_fail(tm_at_reason(at), TM_E_ARG_RANGE, "argument 1 (fun) is %ld; the module takes "
                       "0 (minimum), 1 (full) or 4 (radio off)", fun);
    }
    if (rst) {
        /* OK first, then the module restarts (the boot URCs follow). */
        tm_trace("net", "AT+CFUN=%ld,1: module reset", fun);
        s->reset_fun = (int)fun;
        if (!tm_port_timer_add(0, reset_cb, s))
            reset_cb(s);
        return TM_OK;
    }
    s->net.cfun = (int)fun;
    if (fun == 1)
        s->net.attached = true;
    update(s, at);
    return TM_OK;
}

/* The reset: every session closed, V.250 settings back to defaults, the
 * network state as after power-on with the requested functionality. */
static void reset_cb(void *arg)
{
    hl_state *s = arg;
    tm_at *at = s->modem->at;
    for (int i = 0; i < TM_SESSIONS_MAX; i++)
        if (s->sess[i].kind != HL_SESS_FREE)
            hl_session_free(s, &s->sess[i]);
    for (int i = 0; i < HL_CNX_MAX; i++)
        s->cnx[i].up = false;
    tm_at_set_echo(at, tm_at_get_dialect(at)->echo_default);
    tm_at_set_verbose(at, true);
    tm_at_set_quiet(at, false);
    tm_at_set_cmee(at, 1);
    hl_crypto_defaults(s);
    int fun = s->reset_fun;
    tm_trace("net", "module restarted (CFUN %d)", fun);
    hl_net_boot(s, at, fun, false);
}

/* A reset the host did not ask for (control channel: brown-out, watchdog):
 * no OK, the same restart as AT+CFUN=1,1. */
void hl_net_reset(hl_state *s)
{
    s->reset_fun = 1;
    reset_cb(s);
}

/* ---- registration -------------------------------------------------------------------------- */

static tm_err xreg_set(tm_at *at, const tm_at_args *a, int *n)
{
    long v;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 1)) || (e = tm_at_get_int(at, a, 1, "n", 0, 5, &v)))
        return e;
    *n = (int)v;
    return TM_OK;
}

static tm_err xreg_read(tm_at *at, const char *name, int n)
{
    char tail[96];
    reg_tail(hl_get(at), n, tail, sizeof tail);
    tm_at_line(at, "%s: %d,%s", name, n, tail);
    return TM_OK;
}

static tm_err creg_set(tm_at *at, const tm_at_args *a) { return xreg_set(at, a, &hl_get(at)->net.creg_n); }
static tm_err cgreg_set(tm_at *at, const tm_at_args *a) { return xreg_set(at, a, &hl_get(at)->net.cgreg_n); }
static tm_err creg_read(tm_at *at, const tm_at_args *a) { (void)a; return xreg_read(at, "+CREG", hl_get(at)->net.creg_n); }
static tm_err cgreg_read(tm_at *at, const tm_at_args *a) { (void)a; return xreg_read(at, "+CGREG", hl_get(at)->net.cgreg_n); }

static tm_err cereg_set(tm_at *at, const tm_at_args *a)
{
    tm_err e;
    if ((e = need_hl78(at, "+CEREG")))
        return e;
    return xreg_set(at, a, &hl_get(at)->net.cereg_n);
}

static tm_err cereg_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    tm_err e;
    if ((e = need_hl78(at, "+CEREG")))
        return e;
    return xreg_read(at, "+CEREG", hl_get(at)->net.cereg_n);
}

/* ---- attach and PDP contexts ------------------------------------------------------------------ */

static tm_err cgatt_set(tm_at *at, const tm_at_args *a)
{
    hl_state *s = hl_get(at);
    long v;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 1)) || (e = tm_at_get_int(at, a, 1, "state", 0, 1, &v)))
        return e;
    if (v == 1)
        return hl_net_attach(at);
    s->net.attached = false;
    update(s, at);
    return TM_OK;
}

static tm_err cgatt_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    tm_at_line(at, "+CGATT: %d", hl_get(at)->net.stat == 1 ? 1 : 0);
    return TM_OK;
}

static tm_err cid_arg(tm_at *at, const tm_at_args *a, int idx, long *cid)
{
    return tm_at_get_int(at, a, idx, "cid", 1, HL_PDP_MAX, cid);
}

static tm_err cgdcont_set(tm_at *at, const tm_at_args *a)
{
    hl_state *s = hl_get(at);
    long cid;
    char type[16], apn[64];
    tm_err e;
    if ((e = tm_at_max_args(at, a, 12)) || (e = cid_arg(at, a, 1, &cid)))
        return e;
    if (a->count == 1) {                       /* AT+CGDCONT=<cid>: undefine */
        if (s->net.pdp[cid].active)
            return tm_fail(tm_at_reason(at), TM_E_STATE, "PDP context %ld is active; deactivate it "
                           "(AT+CGACT=0,%ld) first", cid, cid);
        memset(&s->net.pdp[cid], 0, sizeof s->net.pdp[cid]);
        return TM_OK;
    }
    if ((e = tm_at_get_str(at, a, 2, "PDP_type", type, sizeof type)) ||
        (e = tm_at_opt_str(at, a, 3, "APN", apn, sizeof apn, "")))
        return e;
    for (char *p = type; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    if (strcmp(type, "IP") && strcmp(type, "IPV6") && strcmp(type, "IPV4V6")) {
        tm_at_reason(at)->arg_index = 2;
        return tm_fail(tm_at_reason(at), TM_E_ARG_BAD, "argument 2 (PDP_type) is \"%s\"; expected "
                       "\"IP\", \"IPV6\" or \"IPV4V6\"", type);
    }
    if (s->net.pdp[cid].active)
        return tm_fail(tm_at_reason(at), TM_E_STATE, "PDP context %ld is active; deactivate it "
                       "(AT+CGACT=0,%ld) before changing it", cid, cid);
    hl_pdp *p = &s->net.pdp[cid];
    p->defined = true;
    snprintf(p->type, sizeof p->type, "%.7s", type);
    snprintf(p->apn, sizeof p->apn, "%s", apn);
    update(s, at);
    return TM_OK;
}

static tm_err cgdcont_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    hl_state *s = hl_get(at);
    for (int c = 1; c <= HL_PDP_MAX; c++)
        if (s->net.pdp[c].defined)
            tm_at_line(at, "+CGDCONT: %d,\"%s\",\"%s\",\"\",0,0", c, s->net.pdp[c].type, s->net.pdp[c].apn);
    return TM_OK;
}

static tm_err cgdcont_test(tm_at *at, const tm_at_args *a)
{
    (void)a;
    tm_at_line(at, "+CGDCONT: (1-%d),\"IP\",,,(0),(0)", HL_PDP_MAX);
    tm_at_line(at, "+CGDCONT: (1-%d),\"IPV6\",,,(0),(0)", HL_PDP_MAX);
    tm_at_line(at, "+CGDCONT: (1-%d),\"IPV4V6\",,,(0),(0)", HL_PDP_MAX);
    return TM_OK;
}

static tm_err cgact_set(tm_at *at, const tm_at_args *a)
{
    hl_state *s = hl_get(at);
    long st, cids[TM_AT_ARGS_MAX];
    int n = 0;
    tm_err e;
    if ((e = tm_at_get_int(at, a, 1, "state", 0, 1, &st)))
        return e;
    for (int i = 2; i <= a->count; i++) {
        if ((e = cid_arg(at, a, i, &cids[n])))
            return e;
        if (!s->net.pdp[cids[n]].defined) {
            tm_at_reason(at)->arg_index = i;
            return tm_fail(tm_at_reason(at), TM_E_ARG_BAD, "PDP context %ld is not defined "
                           "(AT+CGDCONT=%ld,\"IP\",\"<apn>\")", cids[n], cids[n]);
        }
        n++;
    }
    if (n == 0)
        for (int c = 1; c <= HL_PDP_MAX; c++)
            if (s->net.pdp[c].defined)
                cids[n++] = c;
    if (st == 1 && s->net.stat != 1)
        return tm_fail(tm_at_reason(at), TM_E_STATE, "not attached to the network (AT+CFUN=%d, "
                       "AT+CGATT?); AT+CFUN=1 first", s->net.cfun);
    for (int i = 0; i < n; i++)
        pdp_set_active(s, at, (int)cids[i], st == 1);
    return TM_OK;
}

static tm_err cgact_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    hl_state *s = hl_get(at);
    for (int c = 1; c <= HL_PDP_MAX; c++)
        if (s->net.pdp[c].defined)
            tm_at_line(at, "+CGACT: %d,%d", c, s->net.pdp[c].active ? 1 : 0);
    return TM_OK;
}

/* The first name server of the host, "8.8.8.8" when there is none. */
static void host_dns(char *buf, size_t cap)
{
    snprintf(buf, cap, "8.8.8.8");
    FILE *f = fopen("/etc/resolv.conf", "r");
    if (!f)
        return;
    char line[256], ip[64];
    while (fgets(line, sizeof line, f))
        if (sscanf(line, " nameserver %63s", ip) == 1 && strchr(ip, '.') && !strchr(ip, ':')) {
            snprintf(buf, cap, "%s", ip);
            break;
        }
    fclose(f);
}

static void contrdp_line(tm_at *at, int cid)
{
    hl_state *s = hl_get(at);
    char ip[64], gw[64], dns[64];
    hl_local_ipv4(ip, sizeof ip);
    snprintf(gw, sizeof gw, "%s", ip);
    char *dot = strrchr(gw, '.');
    if (dot)
        snprintf(dot, sizeof gw - (size_t)(dot - gw), ".1");
    host_dns(dns, sizeof dns);
    /* address and subnet mask in one field, as the module prints it */
    tm_at_line(at, "+CGCONTRDP: %d,%d,\"%s\",\"%s.255.255.255.0\",\"%s\",\"%s\",\"0.0.0.0\"", cid, cid + 4,
               s->net.pdp[cid].apn, ip, gw, dns);
}

static tm_err cgcontrdp_exec(tm_at *at, const tm_at_args *a)
{
    (void)a;
    hl_state *s = hl_get(at);
    for (int c = 1; c <= HL_PDP_MAX; c++)
        if (s->net.pdp[c].active)
            contrdp_line(at, c);
    return TM_OK;
}

static tm_err cgcontrdp_set(tm_at *at, const tm_at_args *a)
{
    hl_state *s = hl_get(at);
    long cid;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 1)) || (e = cid_arg(at, a, 1, &cid)))
        return e;
    if (!s->net.pdp[cid].defined) {
        tm_at_reason(at)->arg_index = 1;
        return tm_fail(tm_at_reason(at), TM_E_ARG_BAD, "PDP context %ld is not defined", cid);
    }
    if (s->net.pdp[cid].active)
        contrdp_line(at, (int)cid);
    return TM_OK;
}

static void cgpaddr_line(tm_at *at, int cid)
{
    char ip[64];
    hl_local_ipv4(ip, sizeof ip);
    if (hl_get(at)->net.pdp[cid].active)
        tm_at_line(at, "+CGPADDR: %d,\"%s\"", cid, ip);
    else
        tm_at_line(at, "+CGPADDR: %d", cid);
}

static tm_err cgpaddr_exec(tm_at *at, const tm_at_args *a)
{
    (void)a;
    hl_state *s = hl_get(at);
    for (int c = 1; c <= HL_PDP_MAX; c++)
        if (s->net.pdp[c].defined)
            cgpaddr_line(at, c);
    return TM_OK;
}

static tm_err cgpaddr_set(tm_at *at, const tm_at_args *a)
{
    hl_state *s = hl_get(at);
    long cids[TM_AT_ARGS_MAX];
    tm_err e;
    for (int i = 1; i <= a->count; i++) {
        if ((e = cid_arg(at, a, i, &cids[i - 1])))
            return e;
        if (!s->net.pdp[cids[i - 1]].defined) {
            tm_at_reason(at)->arg_index = i;
            return tm_fail(tm_at_reason(at), TM_E_ARG_BAD, "PDP context %ld is not defined", cids[i - 1]);
        }
    }
    for (int i = 0; i < a->count; i++)
        cgpaddr_line(at, (int)cids[i]);
    return TM_OK;
}

/* ---- signal and operator ---------------------------------------------------------------------- */

static tm_err csq_exec(tm_at *at, const tm_at_args *a)
{
    (void)a;
    hl_net *nt = &hl_get(at)->net;
    tm_at_line(at, "+CSQ: %d,99", nt->stat == 1 ? nt->sim_rssi : 99);
    return TM_OK;
}

static tm_err cesq_exec(tm_at *at, const tm_at_args *a)
{
    (void)a;
    hl_state *s = hl_get(at);
    int rssi = s->net.sim_rssi;                 /* 20 unless the control channel said otherwise */
    if (s->net.stat != 1 || rssi == 99)
        tm_at_line(at, "+CESQ: 99,99,255,255,255,255");
    else if (s->model->hl78)                    /* RSRQ -10 dB, RSRP -91 dBm at rssi 20 */
        tm_at_line(at, "+CESQ: 99,99,255,255,20,%d", 2 * rssi + 10);
    else                                        /* RSCP -81 dBm at rssi 20, Ec/No -9.5 dB */
        tm_at_line(at, "+CESQ: 99,99,%d,30,255,255", 2 * rssi);
    return TM_OK;
}

static tm_err cops_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    hl_state *s = hl_get(at);
    if (s->net.stat == 1)
        tm_at_line(at, "+COPS: 0,0,\"%s\",%d", OPERATOR, act_code(s));
    else
        tm_at_line(at, "+COPS: 0");
    return TM_OK;
}

static tm_err cops_test(tm_at *at, const tm_at_args *a)
{
    (void)a;
    tm_at_line(at, "+COPS: (1,\"%s\",\"%s\",\"%s\",%d),,(0-4),(0-2)", OPERATOR, OPERATOR, PLMN,
               act_code(hl_get(at)));
    return TM_OK;
}

static tm_err cops_set(tm_at *at, const tm_at_args *a)
{
    hl_state *s = hl_get(at);
    long mode, fmt;
    char oper[32];
    tm_err e;
    if ((e = tm_at_max_args(at, a, 4)) || (e = tm_at_get_int(at, a, 1, "mode", 0, 4, &mode)) ||
        (e = tm_at_opt_int(at, a, 2, "format", 0, 2, 0, &fmt)) ||
        (e = tm_at_opt_str(at, a, 3, "oper", oper, sizeof oper, "")))
        return e;
    if (mode == 3)
        return TM_OK;                          /* set the format only */
    if ((mode == 1 || mode == 4) && strcmp(oper, OPERATOR) && strcmp(oper, PLMN)) {
        tm_at_reason(at)->arg_index = 3;
        return tm_fail(tm_at_reason(at), TM_E_ARG_BAD, "operator \"%s\" is not available; the only "
                       "network is \"%s\" (%s)", oper, OPERATOR, PLMN);
    }
    s->net.attached = mode != 2;
    update(s, at);
    return TM_OK;
}

static tm_err cgerep_set(tm_at *at, const tm_at_args *a)
{
    long mode, bfr;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 2)) || (e = tm_at_get_int(at, a, 1, "mode", 0, 2, &mode)) ||
        (e = tm_at_opt_int(at, a, 2, "bfr", 0, 1, 0, &bfr)))
        return e;
    hl_get(at)->net.cgerep_mode = (int)mode;
    hl_get(at)->net.cgerep_bfr = (int)bfr;
    return TM_OK;
}

static tm_err cgerep_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    tm_at_line(at, "+CGEREP: %d,%d", hl_get(at)->net.cgerep_mode, hl_get(at)->net.cgerep_bfr);
    return TM_OK;
}

/* ---- power saving --------------------------------------------------------------------------------- */

static tm_err bits_arg(tm_at *at, const tm_at_args *a, int idx, const char *name, size_t len, char *out)
{
    char v[16];
    tm_err e;
    if (tm_at_omitted(a, idx))
        return TM_OK;
    if ((e = tm_at_get_str(at, a, idx, name, v, sizeof v)))
        return e;
    if (strlen(v) != len || strspn(v, "01") != len) {
        tm_at_reason(at)->arg_index = idx;
        return tm_fail(tm_at_reason(at), TM_E_ARG_BAD, "argument %d (%s) is \"%s\"; expected %zu binary "
                       "digits as a string (e.g. \"%s\")", idx, name, v, len, len == 8 ? "00100100" : "0010");
    }
    memcpy(out, v, len + 1);
    return TM_OK;
}

static tm_err cpsms_set(tm_at *at, const tm_at_args *a)
{
    hl_state *s = hl_get(at);
    long mode;
    char rau[9], ready[9], tau[9], act[9];
    snprintf(tau, sizeof tau, "%s", s->net.cpsms_tau);
    snprintf(act, sizeof act, "%s", s->net.cpsms_active);
    tm_err e;
    if ((e = need_hl78(at, "+CPSMS")) || (e = tm_at_max_args(at, a, 5)) ||
        (e = tm_at_opt_int(at, a, 1, "mode", 0, 2, 0, &mode)) ||
        (e = bits_arg(at, a, 2, "Requested_Periodic-RAU", 8, rau)) ||
        (e = bits_arg(at, a, 3, "Requested_GPRS-READY-timer", 8, ready)) ||
        (e = bits_arg(at, a, 4, "Requested_Periodic-TAU", 8, tau)) ||
        (e = bits_arg(at, a, 5, "Requested_Active-Time", 8, act)))
        return e;
    if (mode == 2) {                           /* disable and reset to the defaults */
        mode = 0;
        snprintf(tau, sizeof tau, "01000011");
        snprintf(act, sizeof act, "00100100");
    }
    s->net.cpsms_mode = (int)mode;
    memcpy(s->net.cpsms_tau, tau, sizeof tau);
    memcpy(s->net.cpsms_active, act, sizeof act);
    tm_trace("net", "PSM %s (accepted and reported; the module never sleeps)", mode ? "on" : "off");
    return TM_OK;
}

static tm_err cpsms_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    tm_err e;
    if ((e = need_hl78(at, "+CPSMS")))
        return e;
    hl_net *nt = &hl_get(at)->net;
    tm_at_line(at, "+CPSMS: %d,,,\"%s\",\"%s\"", nt->cpsms_mode, nt->cpsms_tau, nt->cpsms_active);
    return TM_OK;
}

static tm_err cedrxs_set(tm_at *at, const tm_at_args *a)
{
    hl_state *s = hl_get(at);
    long mode, act;
    char value[5];
    snprintf(value, sizeof value, "%s", s->net.cedrxs_value);
    tm_err e;
    if ((e = need_hl78(at, "+CEDRXS")) || (e = tm_at_max_args(at, a, 3)) ||
        (e = tm_at_opt_int(at, a, 1, "mode", 0, 3, 0, &mode)) ||
        (e = tm_at_opt_int(at, a, 2, "AcT-type", 4, 5, s->net.cedrxs_act, &act)) ||
        (e = bits_arg(at, a, 3, "Requested_eDRX_value", 4, value)))
        return e;
    if (mode == 3) {                           /* disable and discard the parameters */
        mode = 0;
        snprintf(value, sizeof value, "0010");
    }
    s->net.cedrxs_mode = (int)mode;
    s->net.cedrxs_act = (int)act;
    memcpy(s->net.cedrxs_value, value, sizeof value);
    return TM_OK;
}

static tm_err cedrxs_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    tm_err e;
    if ((e = need_hl78(at, "+CEDRXS")))
        return e;
    hl_net *nt = &hl_get(at)->net;
    if (nt->cedrxs_mode)
        tm_at_line(at, "+CEDRXS: %d,\"%s\"", nt->cedrxs_act, nt->cedrxs_value);
    return TM_OK;
}

static tm_err ksleep_set(tm_at *at, const tm_at_args *a)
{
    hl_net *nt = &hl_get(at)->net;
    long mngt, level, delay;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 3)) || (e = tm_at_get_int(at, a, 1, "mngt", 0, 2, &mngt)) ||
        (e = tm_at_opt_int(at, a, 2, "level", 0, 2, nt->ksleep_level, &level)) ||
        (e = tm_at_opt_int(at, a, 3, "delay", 1, 255, nt->ksleep_delay, &delay)))
        return e;
    nt->ksleep_mngt = (int)mngt;
    nt->ksleep_level = (int)level;
    nt->ksleep_delay = (int)delay;
    return TM_OK;
}

static tm_err ksleep_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    hl_net *nt = &hl_get(at)->net;
    tm_at_line(at, "+KSLEEP: %d,%d,%d", nt->ksleep_mngt, nt->ksleep_level, nt->ksleep_delay);
    return TM_OK;
}

/* ---- HL78 RAT, bands, GPIOs, boot report ----------------------------------------------------------------- */

static int max_rat(const hl_state *s)
{
    return s->model->id == HL_MODEL_HL7802 ? 2 : 1;      /* the HL7802 adds GSM */
}

static tm_err rat_range(tm_at *at, int idx, long v, int lo)
{
    hl_state *s = hl_get(at);
    int hi = max_rat(s) + lo;
    if (v >= lo && v <= hi)
        return TM_OK;
    tm_at_reason(at)->arg_index = idx;
    return tm_fail(tm_at_reason(at), TM_E_ARG_RANGE, "argument %d (rat) is %ld; the %s takes %d-%d (%s)",
                   idx, v, s->model->cgmm, lo, hi, lo ? "1 CAT-M1, 2 NB-IoT, 3 GSM on the HL7802"
                                                     : "0 CAT-M1, 1 NB-IoT, 2 GSM on the HL7802");
}

static tm_err ksrat_set(tm_at *at, const tm_at_args *a)
{
    hl_state *s = hl_get(at);
    long rat, reboot;
    tm_err e;
    if ((e = need_hl78(at, "+KSRAT")) || (e = tm_at_max_args(at, a, 2)) ||
        (e = tm_at_get_int(at, a, 1, "rat", 0, 9, &rat)) || (e = rat_range(at, 1, rat, 0)) ||
        (e = tm_at_opt_int(at, a, 2, "reboot", 0, 1, 0, &reboot)))
        return e;
    s->net.ksrat = (int)rat;
    if (reboot) {                              /* OK, then the module restarts on the new RAT */
        s->reset_fun = s->net.cfun;
        if (!tm_port_timer_add(0, reset_cb, s))
            reset_cb(s);
    }
    return TM_OK;
}

static tm_err ksrat_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    tm_err e;
    if ((e = need_hl78(at, "+KSRAT")))
        return e;
    tm_at_line(at, "+KSRAT: %d", hl_get(at)->net.ksrat);
    return TM_OK;
}

static tm_err kselacq_set(tm_at *at, const tm_at_args *a)
{
    hl_state *s = hl_get(at);
    long mode, rats[3] = { 0, 0, 0 };
    tm_err e;
    if ((e = need_hl78(at, "+KSELACQ")) || (e = tm_at_max_args(at, a, 4)) ||
        (e = tm_at_get_int(at, a, 1, "mode", 0, 0, &mode)))
        return e;
    for (int i = 2; i <= a->count; i++) {
        if ((e = tm_at_get_int(at, a, i, "rat", 0, 9, &rats[i - 2])))
            return e;
        if (rats[i - 2] == 0 && a->count == 2)
            break;                             /* AT+KSELACQ=0,0: empty list */
        if ((e = rat_range(at, i, rats[i - 2], 1)))
            return e;
    }
    for (int i = 0; i < 3; i++)
        s->net.kselacq[i] = (int)rats[i];
    return TM_OK;
}

static tm_err kselacq_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    tm_err e;
    if ((e = need_hl78(at, "+KSELACQ")))
        return e;
    /* "+KSELACQ: <rat1>[,<rat2>[,<rat3>]]" (the list alone, as the Zephyr
     * driver parses it: argv[1..3] are the RATs), "+KSELACQ: 0" when empty */
    const int *r = hl_get(at)->net.kselacq;
    if (!r[0])
        tm_at_line(at, "+KSELACQ: 0");
    else if (!r[1])
        tm_at_line(at, "+KSELACQ: %d", r[0]);
    else if (!r[2])
        tm_at_line(at, "+KSELACQ: %d,%d", r[0], r[1]);
    else
        tm_at_line(at, "+KSELACQ: %d,%d,%d", r[0], r[1], r[2]);
    return TM_OK;
}

/* LTE bands of the HL78 RF front end; bit n-1 of the mask = band n. */
static bool band_ok(const hl_state *s, int rat, int band)
{
    static const int lte[] = { 1, 2, 3, 4, 5, 8, 9, 10, 12, 13, 17, 18, 19, 20, 25, 26, 27, 28, 66, 0 };
    if (rat == 2)
        return band == 3 || band == 4;          /* GSM 900 (bit 2), DCS 1800 (bit 3) on the HL7802 */
    (void)s;
    for (int i = 0; lte[i]; i++)
        if (lte[i] == band)
            return true;
    return false;
}

static tm_err kbndcfg_set(tm_at *at, const tm_at_args *a)
{
    hl_state *s = hl_get(at);
    tm_reason *why = tm_at_reason(at);
    long rat;
    char mask[40];
    tm_err e;
    if ((e = need_hl78(at, "+KBNDCFG")) || (e = tm_at_max_args(at, a, 2)) ||
        (e = tm_at_get_int(at, a, 1, "rat", 0, 9, &rat)) || (e = rat_range(at, 1, rat, 0)) ||
        (e = tm_at_get_str(at, a, 2, "bnd_bitmap", mask, sizeof mask)))
        return e;
    size_t n = strlen(mask);
    why->arg_index = 2;
    if (n > 32 || strspn(mask, "0123456789abcdefABCDEF") != n)
        return tm_fail(why, TM_E_ARG_BAD, "argument 2 (bnd_bitmap) \"%s\" is not a hexadecimal band "
                       "mask of at most 32 digits (bit n-1 = band n, e.g. \"0808189F\")", mask);
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        int nib = isdigit((unsigned char)mask[n - 1 - i]) ? mask[n - 1 - i] - '0'
                                                          : toupper((unsigned char)mask[n - 1 - i]) - 'A' + 10;
        for (int b = 0; b < 4; b++)
            if (nib & (1 << b)) {
                int band = (int)(i * 4) + b + 1;
                any = true;
                if (!band_ok(s, (int)rat, band))
                    return tm_fail(why, TM_E_ARG_RANGE, "argument 2 (bnd_bitmap) \"%s\" sets band %d, "
                                   "which the %s does not support on %s", mask, band, s->model->cgmm,
                                   rat == 0 ? "CAT-M1" : rat == 1 ? "NB-IoT" : "GSM");
            }
    }
    if (!any)
        return tm_fail(why, TM_E_ARG_BAD, "argument 2 (bnd_bitmap) \"%s\" selects no band", mask);
    why->arg_index = 0;
    char *dst = s->net.kbndcfg[rat];
    const char *p = mask;
    size_t k = 0;
    for (; *p; p++)
        dst[k++] = (char)toupper((unsigned char)*p);
    dst[k] = '\0';
    return TM_OK;
}

static tm_err kbndcfg_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    tm_err e;
    if ((e = need_hl78(at, "+KBNDCFG")))
        return e;
    hl_state *s = hl_get(at);
    for (int r = 0; r <= max_rat(s); r++)
        tm_at_line(at, "+KBNDCFG: %d,%s", r, s->net.kbndcfg[r]);
    return TM_OK;
}

static tm_err khwiocfg_set(tm_at *at, const tm_at_args *a)
{
    hl_state *s = hl_get(at);
    long fn, en, gpio;
    tm_err e;
    if ((e = need_hl78(at, "+KHWIOCFG")) || (e = tm_at_max_args(at, a, 3)) ||
        (e = tm_at_get_int(at, a, 1, "function", 0, 7, &fn)) ||
        (e = tm_at_get_int(at, a, 2, "enable", 0, 1, &en)) ||
        (e = tm_at_opt_int(at, a, 3, "gpio", 1, 15, s->net.khwiocfg[fn][1], &gpio)))
        return e;
    s->net.khwiocfg[fn][0] = (int)en;
    s->net.khwiocfg[fn][1] = (int)gpio;
    return TM_OK;
}

static tm_err khwiocfg_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    tm_err e;
    if ((e = need_hl78(at, "+KHWIOCFG")))
        return e;
    hl_state *s = hl_get(at);
    for (int f = 0; f < 8; f++)
        if (s->net.khwiocfg[f][0])
            tm_at_line(at, "+KHWIOCFG: %d,%d,%d", f, s->net.khwiocfg[f][0], s->net.khwiocfg[f][1]);
    return TM_OK;
}

static tm_err ksrep_set(tm_at *at, const tm_at_args *a)
{
    long v;
    tm_err e;
    if ((e = need_hl78(at, "+KSREP")) || (e = tm_at_max_args(at, a, 1)) ||
        (e = tm_at_get_int(at, a, 1, "mode", 0, 1, &v)))
        return e;
    hl_get(at)->net.ksrep = (int)v;
    return TM_OK;
}

static tm_err ksrep_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    tm_err e;
    if ((e = need_hl78(at, "+KSREP")))
        return e;
    tm_at_line(at, "+KSREP: %d,0", hl_get(at)->net.ksrep);
    return TM_OK;
}

const tm_at_cmd hl_net_table[] = {
    /* name          test          read           set             exec            usage */
    { "+CPIN",       NULL,         cpin_read,     cpin_set,       NULL,           NULL },
    { "+CFUN",       cfun_test,    cfun_read,     cfun_set,       NULL,           NULL },
    { "+CREG",       NULL,         creg_read,     creg_set,       NULL,           "+CREG: (0-5)" },
    { "+CGREG",      NULL,         cgreg_read,    cgreg_set,      NULL,           "+CGREG: (0-5)" },
    { "+CEREG",      NULL,         cereg_read,    cereg_set,      NULL,           "+CEREG: (0-5)" },
    { "+CGATT",      NULL,         cgatt_read,    cgatt_set,      NULL,           "+CGATT: (0-1)" },
    { "+CGDCONT",    cgdcont_test, cgdcont_read,  cgdcont_set,    NULL,           NULL },
    { "+CGACT",      NULL,         cgact_read,    cgact_set,      NULL,           "+CGACT: (0-1)" },
    { "+CGCONTRDP",  NULL,         NULL,          cgcontrdp_set,  cgcontrdp_exec, "+CGCONTRDP: (1-5)" },
    { "+CGPADDR",    NULL,         NULL,          cgpaddr_set,    cgpaddr_exec,   "+CGPADDR: (1-5)" },
    { "+CSQ",        NULL,         NULL,          NULL,           csq_exec,       "+CSQ: (0-31,99),(0-7,99)" },
    { "+CESQ",       NULL,         NULL,          NULL,           cesq_exec,
      "+CESQ: (0-63,99),(0-7,99),(0-96,255),(0-49,255),(0-34,255),(0-97,255)" },
    { "+COPS",       cops_test,    cops_read,     cops_set,       NULL,           NULL },
    { "+CGEREP",     NULL,         cgerep_read,   cgerep_set,     NULL,           "+CGEREP: (0-2),(0-1)" },
    { "+CPSMS",      NULL,         cpsms_read,    cpsms_set,      NULL,           "+CPSMS: (0-2),,,(\"00000000\"-\"11111111\"),(\"00000000\"-\"11111111\")" },
    { "+CEDRXS",     NULL,         cedrxs_read,   cedrxs_set,     NULL,           "+CEDRXS: (0-3),(4,5),(\"0000\"-\"1111\")" },
    { "+KSLEEP",     NULL,         ksleep_read,   ksleep_set,     NULL,           "+KSLEEP: (0-2),(0-2),(1-255)" },
    { "+KSRAT",      NULL,         ksrat_read,    ksrat_set,      NULL,           "+KSRAT: (0-2),(0-1)" },
    { "+KSELACQ",    NULL,         kselacq_read,  kselacq_set,    NULL,           "+KSELACQ: (0),(1-3),(1-3),(1-3)" },
    { "+KBNDCFG",    NULL,         kbndcfg_read,  kbndcfg_set,    NULL,           "+KBNDCFG: (0-2),<bnd_bitmap>" },
    { "+KHWIOCFG",   NULL,         khwiocfg_read, khwiocfg_set,   NULL,           "+KHWIOCFG: (0-7),(0-1),(1-15)" },
    { "+KSREP",      NULL,         ksrep_read,    ksrep_set,      NULL,           "+KSREP: (0-1)" },
    { NULL,          NULL,         NULL,          NULL,           NULL,           NULL },
};
