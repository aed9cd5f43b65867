/* tlsmodem — AT+TMPIN: SPKI SHA-256 pinning per HTTPS/TCP session (vendor
 * extension; implemented in the TLS issue). */
#include <string.h>

#include "dialect/hl/hl.h"

void hl_tls_apply_pin(const hl_session *ss, tm_tls_config *t)
{
    if (ss->has_pin)
        t->pin_spki_sha256 = ss->pin;
}

tm_err hl_tmpin_set(tm_at *at, const tm_at_args *a)
{
    (void)a;
    return tm_fail(tm_at_reason(at), TM_E_NOT_SUPPORTED, "AT+TMPIN is not implemented yet");
}

tm_err hl_tmpin_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    (void)at;
    return TM_OK;
}
