/* tlsmodem — SPWF: a counted PEM upload (AT+S.TLSCERT=ca,<n>, AT+S.FSC) that
 * a terminal made longer by sending every LF as CR LF.  As in HL
 * (src/dialect/hl/crlf_overrun.c): the rest of the PEM is read and dropped,
 * never parsed as commands, and the reason gives both sizes.  The data
 * mode's idle_ms covers a rest that never comes. */
#include <stdio.h>

#include "dialect/spwf/spwf.h"
#include "store/certfmt.h"

static void drop(void *arg, const uint8_t *p, size_t n)
{
    (void)arg;
    (void)p;
    (void)n;
}

static void drained(void *arg, tm_at_data_end how, size_t total)
{
    tm_at *at = arg;
    spwf_state *s = spwf_get(at);
    tm_at_complete(at, tm_certfmt_crlf_overrun_reason(
        tm_at_reason(at), s->collect, s->collect_len, s->collect_expected, total,
        how != TM_AT_DATA_END_COUNT,
        "send the certificate as DER with tlsmodem-cert at-script --dialect spwf from another shell"));
}

bool spwf_crlf_overrun(tm_at *at, spwf_state *s)
{
    size_t rest = tm_certfmt_crlf_overrun_rest(s->collect, s->collect_len, s->collect_expected);
    if (!rest)
        return false;
    tm_at_data_in spec = {
        .count = rest,
        .on_data = drop,
        .on_end = drained,
        .arg = at,
        .idle_ms = SPWF_DATA_IDLE_MS,
    };
    tm_at_data_in_start(at, &spec);
    return true;
}
