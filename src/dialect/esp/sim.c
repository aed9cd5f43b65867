/* tlsmodem — ESP-AT dialect: control-channel events (--control, core/sim.h).
 * (Skeleton: to be filled; every event is refused with a reason.) */
#include "dialect/esp/esp.h"

tm_err esp_sim_event(tm_modem *m, const tm_sim_event *ev, tm_reason *why)
{
    (void)m;
    (void)ev;
    return tm_fail(why, TM_E_NOT_SUPPORTED, "the ESP-AT dialect does not simulate network events yet");
}
