/* tlsmodem — the ESP-AT module's reactions to the control channel's network
 * events (core/sim.h; docs/control.md and docs/esp.md §8 list each message).
 *
 * "Coverage" is the access point: lost = WIFI DISCONNECT and every open
 * link closes; back = the station joins again by itself (WIFI CONNECTED,
 * WIFI GOT IP) when the host had joined; reject = the access point
 * deauthenticates the station and refuses it (AT+CWJAP fails with
 * +CWJAP:4) until "coverage back"; csq = the signal AT+CWJAP? and AT+CWLAP
 * report; reset = a restart as AT+RST without its OK (a command running then
 * is abandoned without a result, as the module's power loss would). */
#include <stdio.h>

#include "core/trace.h"
#include "dialect/esp/esp.h"

static void abandon_drop(void *arg)
{
    esp_drop_volatile(arg);
}

tm_err esp_sim_event(tm_modem *m, const tm_sim_event *ev, tm_reason *why)
{
    tm_at *at = m->at;
    esp_state *s = esp_get(at);
    if (!s)
        return tm_fail(why, TM_E_STATE, "the ESP-AT dialect is not running");
    switch (ev->kind) {
    case TM_SIM_COVERAGE_LOST:
        return esp_wifi_coverage(s, true, why);
    case TM_SIM_COVERAGE_BACK:
        return esp_wifi_coverage(s, false, why);
    case TM_SIM_REJECT:
        return esp_wifi_reject(s, why);
    case TM_SIM_SOCKET_RESET: {
        tm_reason r;
        tm_fail(&r, TM_E_NET, "the connection was reset by the network");
        if (ev->arg >= 0 && ev->arg <= 4 && esp_sock_net_lost(s, (int)ev->arg, &r))
            return TM_OK;
        return tm_fail(why, TM_E_STATE, "no open link %ld (links 0 to 4; AT+CIPSTART first)", ev->arg);
    }
    case TM_SIM_RESET:
        if (tm_at_busy(at)) {
            /* as on the module: the command ends without a result, what the
             * host typed behind it is lost with the buffers, then "ready" */
            tm_trace("sim", "reset while AT%s runs: the command is abandoned", tm_at_command_name(at));
            tm_at_abandon(at, abandon_drop, s);
        }
        tm_trace("esp", "module reset (control channel): no OK, \"ready\", volatile state lost, store kept");
        esp_reboot(at);
        return TM_OK;
    case TM_SIM_CSQ:
        esp_wifi_set_csq(s, (int)ev->arg);
        return TM_OK;
    case TM_SIM_PDP_DROP:
        return tm_fail(why, TM_E_NOT_SUPPORTED, "the ESP-AT module is a Wi-Fi station: no PDP context (use "
                       "coverage lost, reject or socket reset)");
    }
    return tm_fail(why, TM_E_NOT_SUPPORTED, "event %d is unknown to the ESP-AT dialect", (int)ev->kind);
}
