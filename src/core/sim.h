/* tlsmodem — events of the simulated network, driven from outside (the
 * control channel, docs/control.md).  The core parses one command line into
 * an event; the dialect makes the module react as the real one does
 * (tm_dialect.sim_event).  Events that are the same for every dialect (the
 * module clock) are applied here. */
#ifndef TM_CORE_SIM_H
#define TM_CORE_SIM_H

#include <stddef.h>
#include <stdint.h>

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

/* Scenario triggers (sim_trigger.c, docs/control.md "Scenarios"): hooks
 * for the layers that see what a trigger waits for.  Each costs one test of
 * a counter while no trigger is armed.
 *
 * The AT engine calls tm_sim_on_command() when it dispatches a command's
 * set or execute form (name as in the dialect's table: "+KTCPSND",
 * "+S.SOCKW", "+CIPSEND"); a matching "on <K> <NAME>" step runs from the
 * loop right after (a 0 ms timer), never inside the engine.
 *
 * The HTTP client asks tm_sim_body_room() how many body bytes it may hand
 * to its owner (total = body bytes of this response so far): an
 * "after <N> bytes" step stops the body at exactly N (0 = pause until the
 * step ran; then resume(arg) continues it); tm_sim_body_forget(arg) when
 * that client closes (it may be freed). */
void   tm_sim_on_command(const char *name);
size_t tm_sim_body_room(uint64_t total, size_t room, void (*resume)(void *arg), void *arg);
void   tm_sim_body_forget(void *arg);

/* "--scenario FILE" / "play FILE" accept these lines besides "<ms> <command>":
 *   after <N> bytes <command>     N >= 1, the first response body to pass N
 *   on <K> <NAME> <command>       the K-th (K >= 1) set/exec of command NAME
 * (sim_scenario.c parses, sim_trigger.c arms; internal to core/sim_*.c). */
enum { TM_SIM_TRIG_BODY = 1, TM_SIM_TRIG_COMMAND };
#define TM_SIM_TRIG_MAX 32             /* trigger steps of one scenario */
int  tm_sim_trigger_add(tm_modem *m, int kind, uint64_t n, const char *name, const char *cmd);
int  tm_sim_trigger_armed(void);       /* steps not yet run */
int  tm_sim_trigger_clear(void);       /* cancels them; returns how many were left */

/* The host UART's pace (--uart-rate, docs/ports.md), which belongs to the
 * port: the port registers fn at start-up; the control channel's "uart"
 * command calls fn(arg, baud) to set it (0 = off, the port's full speed) or
 * fn(arg, -1) to read it; fn returns the baud in force (0 = off).  No hook:
 * "uart" answers TM_E_NOT_SUPPORTED. */
typedef long (*tm_sim_uart_fn)(void *arg, long baud);
void tm_sim_set_uart_hook(tm_sim_uart_fn fn, void *arg);

/* DNS failure injected by "dns fail on" (net/dns.c asks). */
extern int tm_sim_dns_fail;

#endif
