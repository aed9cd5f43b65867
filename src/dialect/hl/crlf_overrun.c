/* tlsmodem — HL: a counted certificate upload that a terminal made longer.
 *
 * A person at picocom/minicom/screen announces AT+KCERTSTORE=0,<size of the
 * file> and pastes or sends the PEM; the terminal turns every LF into CR LF,
 * so the PEM is longer than announced by one byte per line.  The count then
 * runs out inside the PEM: without this, the cut PEM would be refused with a
 * base64 error and the rest of it (the last line or two) would be read as
 * command lines.  Instead the rest is read and dropped (the size the whole
 * PEM needs is computed from its DER length: certfmt.c), and the reason
 * says what happened and what to announce. */
#include <stdio.h>

#include "dialect/hl/hl.h"
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
    hl_state *s = hl_get(at);
    tm_at_complete(at, tm_certfmt_crlf_overrun_reason(
        tm_at_reason(at), s->collect, s->collect_len, s->collect_expected, total,
        how != TM_AT_DATA_END_COUNT,
        "end the data with the EOF pattern instead of a count, or send the file with tlsmodem-cert "
        "at-script from another shell"));
    hl_collect_release(s);
}

bool hl_crlf_overrun(tm_at *at, hl_state *s)
{
    size_t rest = tm_certfmt_crlf_overrun_rest(s->collect, s->collect_len, s->collect_expected);
    if (!rest)
        return false;
    tm_at_data_in spec = {
        .count = rest,
        .pattern = true,
        .escape = true,
        .on_data = drop,
        .on_end = drained,
        .arg = at,
    };
    s->collect_hold = true;     /* drained() still reads the first part */
    tm_at_data_in_start(at, &spec);
    return true;
}
