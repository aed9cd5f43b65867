/* tlsmodem — the AT side of a probe command (see probe_cmd.h). */
#include "diag/probe_cmd.h"

static void on_line(void *arg, const char *text)
{
    tm_probe_cmd *p = arg;
    tm_at_line(p->at, "%s%s", p->prefix, text);
}

static void on_done(void *arg, tm_err e, const tm_reason *why)
{
    tm_probe_cmd *p = arg;
    if (p->release)
        p->release();
    if (e != TM_OK && why)
        *tm_at_reason(p->at) = *why;
    tm_at_complete(p->at, e);
}

bool tm_probe_cmd_idle(tm_probe_cmd *p, tm_at *at)
{
    if (!tm_probe_running(&p->probe))
        return true;
    tm_fail(tm_at_reason(at), TM_E_BUSY, "a probe is already running");
    return false;
}

tm_err tm_probe_cmd_start(tm_probe_cmd *p, tm_at *at, const char *host, uint16_t port, const tm_tls_config *cfg)
{
    p->at = at;
    tm_err e = tm_probe_start(&p->probe, host, port, cfg, on_line, on_done, p, tm_at_reason(at));
    if (e != TM_OK) {
        if (p->release)
            p->release();
        return e;
    }
    return TM_AT_PENDING;
}
