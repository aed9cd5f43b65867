/* tlsmodem — the AT side of a probe command (HL/ESP AT+TMPROBE, SPWF
 * AT+S.TMPROBE), one implementation for the dialects: one probe at a time,
 * each report line of src/diag/probe.c to the host as "<prefix><text>", the
 * command completed with the probe's result and reason.  The dialect parses
 * its arguments and builds the tm_tls_config with its own trust; release()
 * frees what it loaded for that trust, once, on every path (started or not). */
#ifndef TM_DIAG_PROBE_CMD_H
#define TM_DIAG_PROBE_CMD_H

#include "at/at.h"
#include "diag/probe.h"

typedef struct {
    tm_probe    probe;
    const char *prefix;            /* "+TMPROBE: ", "AT-S.TMProbe:", … */
    void      (*release)(void);    /* may be NULL */
    tm_at      *at;                /* internal */
} tm_probe_cmd;

/* Before loading anything: false (with TM_E_BUSY and the reason set) while
 * a probe runs. */
bool   tm_probe_cmd_idle(tm_probe_cmd *p, tm_at *at);
/* Starts the probe: TM_AT_PENDING, or the error (release() already called). */
tm_err tm_probe_cmd_start(tm_probe_cmd *p, tm_at *at, const char *host, uint16_t port, const tm_tls_config *cfg);

#endif
