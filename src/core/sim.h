/* tlsmodem — events of the simulated network, driven from outside (the
 * control channel, docs/control.md).  The core parses one command line into
 * an event; the dialect makes the module react as the real one does
 * (tm_dialect.sim_event).  Events that are the same for every dialect (the
 * module clock) are applied here. */
#ifndef TM_CORE_SIM_H
#define TM_CORE_SIM_H

#include <stddef.h>

#include "core/err.h"

typedef enum {
    TM_SIM_COVERAGE_LOST = 1,  /* the network (cell, access point) is gone */
    TM_SIM_COVERAGE_BACK,      /* it is back (and registration not denied) */
    TM_SIM_REJECT,             /* registration denied by the network */
    TM_SIM_PDP_DROP,           /* the network deactivates the bearer */
    TM_SIM_SOCKET_RESET,       /* the network resets one socket: arg = id */
    TM_SIM_RESET,              /* module reset / brown-out */
    TM_SIM_CSQ,                /* signal quality: arg = rssi 0..31, 99 */
} tm_sim_kind;

typedef struct {
    tm_sim_kind kind;
    long        arg;
} tm_sim_event;

typedef struct tm_modem tm_modem;

/* Runs one control command ("coverage lost", "clock jump 86400", …) on the
 * modem and writes the one-line answer (no newline) into ans:
 *   ok <key=value>…          or   error code=<name> reason="<text>"
 * Returns 0 when the answer is ok, 1 otherwise. */
int tm_sim_command(tm_modem *m, const char *line, char *ans, size_t cap);

/* "play FILE" (sim_scenario.c): schedules the file's "<ms> <command>" steps;
 * returns the step count, or -1 with the reason in why.  "play stop". */
int tm_sim_scenario_play(tm_modem *m, const char *path, char *why, size_t cap);
int tm_sim_scenario_stop(char *ans, size_t cap);

/* DNS failure injected by "dns fail on" (net/dns.c asks). */
extern int tm_sim_dns_fail;

#endif
