/* tlsmodem — the SPWF04's reactions to the control channel's network events
 * (core/sim.h; docs/control.md lists each indication and its source).
 *
 * A WiFi module has no registration, PDP context or signal report: those
 * events answer "not supported" with the reason, so a test learns it asked
 * the wrong dialect instead of seeing nothing happen. */
#include <stdio.h>

#include "core/trace.h"
#include "dialect/spwf/spwf.h"

/* Every open socket and a running HTTP request lose the connection. */
static void drop_sockets(spwf_state *s, const char *what)
{
    tm_reason why;
    for (int i = 0; i < TM_SESSIONS_MAX; i++) {
        tm_fail(&why, TM_E_NET, "%s", what);
        spwf_sock_net_lost(s, i, &why);
    }
    tm_fail(&why, TM_E_NET, "%s", what);
    spwf_http_net_lost(s, &why);
}

/* A reset in the middle of a command: it ends without a result (what the
 * host typed behind it is lost with the module's buffers); the boot
 * indications follow (spwf_reset_exec). */
static void free_sessions(void *arg)
{
    spwf_state *s = arg;
    spwf_sock_close_all(s);
    spwf_http_free(s);
}

static void abort_running(spwf_state *s, tm_at *at)
{
    tm_trace("sim", "reset while AT%s runs: the command is abandoned", tm_at_command_name(at));
    tm_at_abandon(at, free_sessions, s);
}

tm_err spwf_sim_event(tm_modem *m, const tm_sim_event *ev, tm_reason *why)
{
    tm_at *at = m->at;
    spwf_state *s = spwf_get(at);
    tm_err e;
    switch (ev->kind) {
    case TM_SIM_COVERAGE_LOST:
        if ((e = spwf_radio_coverage(at, true, why)))
            return e;
        drop_sockets(s, "the network connection was lost (access point out of range)");
        return TM_OK;
    case TM_SIM_COVERAGE_BACK:
        return spwf_radio_coverage(at, false, why);
    case TM_SIM_SOCKET_RESET: {
        tm_reason r;
        tm_fail(&r, TM_E_NET, "the connection was reset by the network");
        if (spwf_sock_net_lost(s, (int)ev->arg, &r))
            return TM_OK;
        return tm_fail(why, TM_E_STATE, "no open socket %ld (AT+S.SOCKON first)", ev->arg);
    }
    case TM_SIM_RESET:
        if (tm_at_busy(at))
            abort_running(s, at);
        tm_trace("spwf", "module reset (control channel): no AT-S.OK, the boot indications");
        spwf_reset_exec(at, NULL);
        return TM_OK;
    case TM_SIM_REJECT:
        return tm_fail(why, TM_E_NOT_SUPPORTED, "the SPWF04 is a WiFi module: no registration to deny "
                       "(use coverage lost)");
    case TM_SIM_PDP_DROP:
        return tm_fail(why, TM_E_NOT_SUPPORTED, "the SPWF04 is a WiFi module: no PDP context (use coverage "
                       "lost or socket reset)");
    case TM_SIM_CSQ:
        return tm_fail(why, TM_E_NOT_SUPPORTED, "the SPWF04 has no AT+CSQ (signal quality is not simulated "
                       "for it)");
    }
    return tm_fail(why, TM_E_NOT_SUPPORTED, "event %d is unknown to the SPWF dialect", (int)ev->kind);
}
