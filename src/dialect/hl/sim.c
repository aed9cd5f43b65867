/* tlsmodem — the HL module's reactions to the control channel's network
 * events (core/sim.h; docs/control.md lists each URC and its source).
 *
 * The network state is net3gpp.c's; these handlers change the network side
 * (coverage, denial, signal) and let net3gpp.c report what the module sees,
 * so a control event and an AT command that reach the same state produce the
 * same URCs.  Sessions over a bearer the network took away end the way a
 * connection reset ends them: +KTCP_NOTIF / +KUDP_NOTIF code 5, a request
 * in flight NO CARRIER + +KHTTPS_ERROR code 5 (reason at CMEE=2). */
#include <stdio.h>

#include "core/trace.h"
#include "dialect/hl/hl.h"

/* One session loses its connection (TCP, HTTPS request or UDP socket). */
static bool lose(hl_session *ss, const tm_reason *why)
{
    switch (ss->kind) {
    case HL_SESS_TCP:   return hl_tcp_net_lost(ss, why);
    case HL_SESS_HTTPS: return hl_https_net_lost(ss, why);
    case HL_SESS_UDP:   return hl_udp_net_lost(ss, why);
    default:            return false;
    }
}

/* Every session with a connection loses it. */
static int drop_sessions(hl_state *s, const char *what)
{
    tm_reason why;
    int n = 0;
    for (int i = 0; i < TM_SESSIONS_MAX; i++) {
        tm_fail(&why, TM_E_NET, "%s", what);
        n += lose(&s->sess[i], &why);
    }
    return n;
}

/* A reset in the middle of a command: it ends without a result (what the
 * host typed behind it is lost with the module's buffers), its sessions go
 * with the others; the boot URCs follow (hl_net_reset). */
static void free_sessions(void *arg)
{
    hl_state *s = arg;
    for (int i = 0; i < TM_SESSIONS_MAX; i++)
        if (s->sess[i].kind != HL_SESS_FREE)
            hl_session_free(s, &s->sess[i]);
}

static void abort_running(hl_state *s, tm_at *at)
{
    tm_trace("sim", "reset while AT%s runs: the command is abandoned", tm_at_command_name(at));
    tm_at_abandon(at, free_sessions, s);
}

tm_err hl_sim_event(tm_modem *m, const tm_sim_event *ev, tm_reason *why)
{
    hl_state *s = hl_get(m->at);
    tm_at *at = m->at;
    hl_net *nt = &s->net;
    switch (ev->kind) {
    case TM_SIM_COVERAGE_LOST:
        if (nt->sim_no_cover)
            return tm_fail(why, TM_E_STATE, "coverage is already lost");
        nt->sim_no_cover = true;
        hl_net_update(s, at);
        drop_sessions(s, "the network connection was lost (no coverage)");
        return TM_OK;
    case TM_SIM_COVERAGE_BACK:
        if (!nt->sim_no_cover && !nt->sim_denied)
            return tm_fail(why, TM_E_STATE, "the network is there already (coverage lost or reject first)");
        nt->sim_no_cover = false;
        nt->sim_denied = false;
        hl_net_update(s, at);
        return TM_OK;
    case TM_SIM_REJECT:
        if (nt->sim_denied)
            return tm_fail(why, TM_E_STATE, "registration is already denied");
        nt->sim_denied = true;
        hl_net_update(s, at);
        drop_sessions(s, "the network connection was lost (registration denied)");
        return TM_OK;
    case TM_SIM_PDP_DROP:
        if (nt->stat != 1 || !nt->pdp[1].active)
            return tm_fail(why, TM_E_STATE, "PDP context 1 is not active (stat %d)", nt->stat);
        hl_net_pdp_drop(s, at, 1);
        drop_sessions(s, "the network deactivated the bearer (PDP context 1)");
        return TM_OK;
    case TM_SIM_SOCKET_RESET: {
        for (int i = 0; i < TM_SESSIONS_MAX; i++) {
            hl_session *ss = &s->sess[i];
            if (ss->id != ev->arg || ss->kind == HL_SESS_FREE)
                continue;
            tm_reason r;
            tm_fail(&r, TM_E_NET, "the connection was reset by the network");
            if (lose(ss, &r))
                return TM_OK;
        }
        return tm_fail(why, TM_E_STATE, "no session %ld with a connection (a connected KTCP session, a KHTTPS "
                       "request or connection, a KUDP socket)", ev->arg);
    }
    case TM_SIM_RESET:
        if (tm_at_busy(at))
            abort_running(s, at);
        hl_net_reset(s);
        return TM_OK;
    case TM_SIM_CSQ:
        nt->sim_rssi = (int)ev->arg;
        tm_trace("net", "signal quality: rssi %d (+CSQ)", nt->sim_rssi);
        return TM_OK;
    }
    return tm_fail(why, TM_E_NOT_SUPPORTED, "event %d is unknown to the HL dialect", (int)ev->kind);
}
