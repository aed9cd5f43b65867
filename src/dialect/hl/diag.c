/* tlsmodem — HL vendor extensions for diagnostics: AT+TMPROBE and
 * AT+TMCERTLIST (stubs until src/diag/ lands). */
#include "dialect/hl/hl.h"

tm_err hl_tmprobe_set(tm_at *at, const tm_at_args *a)
{
    (void)a;
    return tm_fail(tm_at_reason(at), TM_E_NOT_SUPPORTED, "AT+TMPROBE is not implemented yet");
}

tm_err hl_tmcertlist_exec(tm_at *at, const tm_at_args *a)
{
    (void)a;
    return tm_fail(tm_at_reason(at), TM_E_NOT_SUPPORTED, "AT+TMCERTLIST is not implemented yet");
}
