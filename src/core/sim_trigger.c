/* tlsmodem — scenario steps that wait for something other than time
 * (sim.h; docs/control.md "Scenarios"): "after <N> bytes" of a response
 * body, "on <K> <NAME>" command.
 *
 * A step whose condition is met is queued and run from a 0 ms timer, so the
 * event (which may close sessions, free them, or reset the module) never
 * runs inside the engine or the HTTP client that noticed the condition.
 * A body is held at exactly N bytes until its step ran, then resumed: the
 * host has seen N bytes and not one more when the event happens. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "core/modem.h"
#include "core/sim.h"
#include "core/trace.h"
#include "port/port.h"

#define TRIG_MAX  TM_SIM_TRIG_MAX
#define HOLD_MAX  8
#define CMD_LINE  200

typedef struct {
    int      kind;
    uint64_t n;                   /* bytes (BODY) or K (COMMAND) */
    uint64_t count;               /* COMMAND: matching dispatches so far */
    char     name[TM_AT_NAME_MAX];/* COMMAND: normalised ("KTCPSND") */
    char     cmd[CMD_LINE];
    bool     fired;
} trig_t;

typedef struct {
    void (*resume)(void *arg);
    void  *arg;
} hold_t;

static trig_t    g_trig[TRIG_MAX];
static int       g_count;          /* steps in g_trig */
static int       g_armed;          /* of which not fired */
static int       g_body_armed;     /* BODY steps not fired */
static int       g_queue[TRIG_MAX];
static int       g_qn;
static unsigned  g_timer;
static hold_t    g_hold[HOLD_MAX];
static tm_modem *g_m;

/* "AT+KTCPSND", "+KTCPSND", "ktcpsnd" -> "KTCPSND" */
static const char *normal(const char *name)
{
    if (!strncasecmp(name, "AT", 2) && (name[2] == '+' || name[2] == '&' || name[2] == '#' || name[2] == '$'))
        name += 2;
    while (*name == '+')
        name++;
    return name;
}

static void run_hold(void)
{
    hold_t h[HOLD_MAX];
    memcpy(h, g_hold, sizeof h);
    memset(g_hold, 0, sizeof g_hold);
    for (int i = 0; i < HOLD_MAX; i++)
        if (h[i].resume)
            h[i].resume(h[i].arg);
}

static void run_queue(void *arg)
{
    (void)arg;
    g_timer = 0;
    int q[TRIG_MAX], n = g_qn;
    memcpy(q, g_queue, sizeof q);
    g_qn = 0;
    for (int i = 0; i < n; i++) {
        trig_t *t = &g_trig[q[i]];
        char ans[512];
        tm_sim_command(g_m, t->cmd, ans, sizeof ans);
        if (t->kind == TM_SIM_TRIG_BODY)
            tm_trace("sim", "scenario step after %llu body bytes: %s -> %s", (unsigned long long)t->n, t->cmd, ans);
        else
            tm_trace("sim", "scenario step on %s #%llu: %s -> %s", t->name, (unsigned long long)t->n, t->cmd, ans);
    }
    if (!g_armed && g_count) {
        tm_trace("sim", "scenario triggers done (%d)", g_count);
        g_count = 0;
    }
    run_hold();                     /* bodies held for a step continue (unless it closed them) */
}

static void fire(int i)
{
    g_trig[i].fired = true;
    g_armed--;
    if (g_trig[i].kind == TM_SIM_TRIG_BODY)
        g_body_armed--;
    g_queue[g_qn++] = i;
    if (!g_timer && !(g_timer = tm_port_timer_add(0, run_queue, NULL))) {
        tm_trace("warn", "scenario: no timer slot; the step runs at once");
        run_queue(NULL);
    }
}

void tm_sim_on_command(const char *name)
{
    if (!g_armed)
        return;
    const char *n = normal(name);
    for (int i = 0; i < g_count; i++) {
        trig_t *t = &g_trig[i];
        if (t->fired || t->kind != TM_SIM_TRIG_COMMAND || strcasecmp(t->name, n))
            continue;
        if (++t->count == t->n)
            fire(i);
    }
}

size_t tm_sim_body_room(uint64_t total, size_t room, void (*resume)(void *arg), void *arg)
{
    if (!g_body_armed && !g_qn)
        return room;
    for (int i = 0; i < HOLD_MAX; i++)
        if (g_hold[i].resume && g_hold[i].arg == arg)
            return 0;                       /* held until the step ran */
    for (int i = 0; i < g_count; i++) {
        trig_t *t = &g_trig[i];
        if (t->fired || t->kind != TM_SIM_TRIG_BODY)
            continue;
        if (total >= t->n) {
            fire(i);
            for (int j = 0; j < HOLD_MAX; j++)
                if (!g_hold[j].resume) {
                    g_hold[j].resume = resume;
                    g_hold[j].arg = arg;
                    return 0;
                }
            return room;                    /* no hold slot: the event comes a little later */
        }
        if (t->n - total < room)
            room = (size_t)(t->n - total);
    }
    return room;
}

void tm_sim_body_forget(void *arg)
{
    for (int i = 0; i < HOLD_MAX; i++)
        if (g_hold[i].arg == arg)
            g_hold[i].resume = NULL, g_hold[i].arg = NULL;
}

int tm_sim_trigger_add(tm_modem *m, int kind, uint64_t n, const char *name, const char *cmd)
{
    if (g_count == TRIG_MAX)
        return -1;
    trig_t *t = &g_trig[g_count++];
    memset(t, 0, sizeof *t);
    t->kind = kind;
    t->n = n;
    snprintf(t->name, sizeof t->name, "%s", name ? normal(name) : "");
    snprintf(t->cmd, sizeof t->cmd, "%s", cmd);
    g_armed++;
    if (kind == TM_SIM_TRIG_BODY)
        g_body_armed++;
    g_m = m;
    return 0;
}

int tm_sim_trigger_armed(void) { return g_armed; }

int tm_sim_trigger_clear(void)
{
    int left = g_armed;
    if (g_timer)
        tm_port_timer_cancel(g_timer);
    g_timer = 0;
    g_count = g_armed = g_body_armed = g_qn = 0;
    run_hold();
    return left;
}
