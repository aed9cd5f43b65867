/* tlsmodem — scenarios for the control channel ("play FILE", --scenario
 * FILE; docs/control.md "Scenarios"): a file of "<ms> <command>" lines, each
 * command run <ms> after the play started, in file order, and of trigger
 * lines ("after <N> bytes <command>", "on <K> <NAME> <command>") armed at
 * the start and run once when their condition is met (sim_trigger.c).  The
 * whole file is read and checked before anything is scheduled (a bad line
 * changes nothing); one scenario at a time; "play stop" cancels what is
 * left.  Each step is traced with its answer (category sim). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/modem.h"
#include "core/sim.h"
#include "core/trace.h"
#include "config.h"
#include "port/port.h"

#define STEPS_MAX 64
#define STEP_LINE 200

typedef struct {
    int      trig;              /* 0 = timed, else TM_SIM_TRIG_* */
    long     ms;
    uint64_t n;                 /* trigger: bytes or K */
    char     name[TM_AT_NAME_MAX];
    char     cmd[STEP_LINE];
} step_t;

static step_t    g_steps[STEPS_MAX];
static int       g_count, g_next;
static unsigned  g_timer;
static int64_t   g_t0;
static tm_modem *g_m;

static void arm(void);

static void fire(void *arg)
{
    (void)arg;
    g_timer = 0;
    char ans[512];
    step_t *s = &g_steps[g_next++];
    tm_sim_command(g_m, s->cmd, ans, sizeof ans);
    tm_trace("sim", "scenario step %d/%d at %ld ms: %s -> %s", g_next, g_count, s->ms, s->cmd, ans);
    arm();
}

static void arm(void)
{
    if (g_next >= g_count) {
        if (g_count)
            tm_trace("sim", "scenario done (%d steps)", g_count);
        g_count = g_next = 0;
        return;
    }
    int64_t due = g_t0 + g_steps[g_next].ms - tm_port_mono_ms();
    g_timer = tm_port_timer_add(due > 0 ? (uint32_t)due : 0, fire, NULL);
    if (!g_timer) {
        tm_trace("warn", "scenario: no timer slot; %d steps dropped", g_count - g_next);
        g_count = g_next = 0;
    }
}

int tm_sim_scenario_stop(char *ans, size_t cap)
{
    int left = g_count - g_next + tm_sim_trigger_clear();
    if (g_timer)
        tm_port_timer_cancel(g_timer);
    g_timer = 0;
    g_count = g_next = 0;
    snprintf(ans, cap, "ok cancelled=%d", left);
    return 0;
}

int tm_sim_scenario_play(tm_modem *m, const char *path, char *why, size_t cap)
{
    static step_t tmp[STEPS_MAX];
    int left = g_count - g_next + tm_sim_trigger_armed();
    if (left > 0) {
        snprintf(why, cap, "a scenario is playing (%d steps left); play stop first", left);
        return -1;
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(why, cap, "%s: %s", path, strerror(errno));
        return -1;
    }
    char line[STEP_LINE + 32];
    int n = 0, lineno = 0, ntrig = 0;
    long last = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strlen(line);
        if (len && line[len - 1] != '\n' && !feof(f)) {
            snprintf(why, cap, "%s:%d: line too long", path, lineno);
            fclose(f);
            return -1;
        }
        line[strcspn(line, "\r\n")] = '\0';
        char *p = line + strspn(line, " \t");
        if (!*p || *p == '#')
            continue;                               /* blank or comment */
        char *end;
        int trig = 0;
        unsigned long long tn = 0;
        char tname[TM_AT_NAME_MAX] = "";
        long ms = 0;
        if (!strncmp(p, "after", 5) && (p[5] == ' ' || p[5] == '\t')) {
            /* after <N> bytes <command> */
            int used = 0;
            trig = TM_SIM_TRIG_BODY;
            if (sscanf(p + 5, " %llu bytes%n", &tn, &used) != 1 || !used || tn == 0 ||
                (p[5 + used] != ' ' && p[5 + used] != '\t')) {
                snprintf(why, cap, "%s:%d: expected \"after <N> bytes <command>\" (N >= 1)", path, lineno);
                fclose(f);
                return -1;
            }
            end = p + 5 + used;
        } else if (!strncmp(p, "on", 2) && (p[2] == ' ' || p[2] == '\t')) {
            /* on <K> <NAME> <command> */
            int used = 0;
            trig = TM_SIM_TRIG_COMMAND;
            if (sscanf(p + 2, " %llu %31s%n", &tn, tname, &used) != 2 || tn == 0 ||
                (p[2 + used] != ' ' && p[2 + used] != '\t')) {
                snprintf(why, cap, "%s:%d: expected \"on <K> <COMMAND> <command>\" (K >= 1, a command name "
                         "such as KTCPSND, AT+S.SOCKW)", path, lineno);
                fclose(f);
                return -1;
            }
            end = p + 2 + used;
        } else {
            errno = 0;
            ms = strtol(p, &end, 10);
            if (end == p || errno || ms < 0 || ms > 86400000L || (*end != ' ' && *end != '\t')) {
                snprintf(why, cap, "%s:%d: expected \"<ms> <command>\" (ms 0..86400000), \"after <N> bytes "
                         "<command>\" or \"on <K> <COMMAND> <command>\"", path, lineno);
                fclose(f);
                return -1;
            }
        }
        if (!trig && ms < last) {
            snprintf(why, cap, "%s:%d: %ld ms is before the previous step (%ld ms)", path, lineno, ms, last);
            fclose(f);
            return -1;
        }
        end += strspn(end, " \t");
        if (!*end || strlen(end) >= STEP_LINE || !strncmp(end, "play", 4)) {
            snprintf(why, cap, "%s:%d: %s", path, lineno, !*end ? "no command" : *end == 'p' ?
                     "a scenario cannot play another" : "command too long");
            fclose(f);
            return -1;
        }
        if (trig && ++ntrig > TM_SIM_TRIG_MAX) {
            snprintf(why, cap, "%s: more than %d trigger steps", path, TM_SIM_TRIG_MAX);
            fclose(f);
            return -1;
        }
        if (n == STEPS_MAX) {
            snprintf(why, cap, "%s: more than %d steps", path, STEPS_MAX);
            fclose(f);
            return -1;
        }
        tmp[n].trig = trig;
        tmp[n].ms = ms;
        tmp[n].n = tn;
        snprintf(tmp[n].name, sizeof tmp[n].name, "%s", tname);
        snprintf(tmp[n].cmd, sizeof tmp[n].cmd, "%s", end);
        if (!trig)
            last = ms;
        n++;
    }
    fclose(f);
    /* timed steps into the timer chain, triggers armed */
    int timed = 0, trigs = 0;
    tm_sim_trigger_clear();
    for (int i = 0; i < n; i++) {
        if (!tmp[i].trig)
            g_steps[timed++] = tmp[i];
        else if (tm_sim_trigger_add(m, tmp[i].trig, tmp[i].n, tmp[i].name, tmp[i].cmd) == 0)
            trigs++;
    }
    g_count = timed;
    g_next = 0;
    g_m = m;
    g_t0 = tm_port_mono_ms();
    tm_trace("sim", "scenario %s: %d timed steps over %ld ms, %d triggers", path, timed, last, trigs);
    arm();
    return n;
}
