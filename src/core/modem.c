/* tlsmodem — the module clock.  See modem.h. */
#include "core/modem.h"
#include "port/port.h"

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

int64_t tm_modem_now(const tm_modem *m)
{
    int64_t ms = tm_port_wall_ms();
    /* HOST and UNSET both read the host clock (UNSET only changes what the
     * date checks conclude); SET adds the offset the dialect chose. */
    if (m && m->clock_mode == TM_CLOCK_SET)
        ms += m->clock_offset_ms;
    return floor_div(ms, 1000);
}

void tm_modem_set_clock(tm_modem *m, int64_t unix_seconds)
{
    if (!m)
        return;
    m->clock_mode = TM_CLOCK_SET;
    m->clock_offset_ms = unix_seconds * 1000 - tm_port_wall_ms();
}
