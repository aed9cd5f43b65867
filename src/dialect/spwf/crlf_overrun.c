/* tlsmodem — SPWF: a counted PEM upload (AT+S.TLSCERT=ca,<n>, AT+S.FSC) that
 * a terminal made longer by sending every LF as CR LF.  As in HL
 * (src/dialect/hl/crlf_overrun.c): the rest of the PEM is read and dropped,
 * never parsed as commands, and the reason gives both sizes.  The payload
 * watchdog covers a rest that never comes. */
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
    spwf_data_unwatch(at);
    size_t need = 0;
    tm_certfmt_pem_crlf_need(s->collect, s->collect_len, &need);
    tm_at_complete(at, tm_fail(tm_at_reason(at), TM_E_DATA_COUNT,
                               "received CR LF line ends: announced %zu bytes, the PEM needs %zu (the terminal "
                               "sends every LF as CR LF); the remaining %zu bytes of the PEM were read and "
                               "dropped%s; nothing was stored. Announce %zu, or send the certificate as DER "
                               "with tlsmodem-cert at-script --dialect spwf from another shell",
                               s->collect_expected, need, total,
                               how == TM_AT_DATA_END_COUNT ? "" : " (then the data ended early)", need));
}

static void drain_abort(tm_at *at, size_t got, size_t expected)
{
    tm_at_data_in_stop(at);
    drained(at, TM_AT_DATA_END_ESCAPE, got);
    (void)expected;
}

bool spwf_crlf_overrun(tm_at *at, spwf_state *s)
{
    size_t need = 0;
    if (!s->collect_expected || s->collect_len != s->collect_expected ||
        !tm_certfmt_pem_crlf_need(s->collect, s->collect_len, &need) || need - s->collect_len > 4096)
        return false;
    tm_at_data_in spec = {
        .count = need - s->collect_len,
        .on_data = drop,
        .on_end = drained,
        .arg = at,
    };
    tm_at_data_in_start(at, &spec);
    spwf_data_watch(at, need - s->collect_len, drain_abort);
    return true;
}
