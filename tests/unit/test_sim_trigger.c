/* core/sim_trigger.c + sim_scenario.c: scenario triggers "on <K> <NAME>"
 * and "after <N> bytes" (docs/control.md "Scenarios"), against a fake
 * dialect that records the events; steps run from the loop (a 0 ms timer).
 * Also the "uart" command against a fake port hook. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/modem.h"
#include "core/sim.h"
#include "port/posix/loop.h"
#include "tm_test.h"

static tm_sim_event g_last;
static int g_calls;
static int g_resumed;

static tm_err fake_event(tm_modem *m, const tm_sim_event *ev, tm_reason *why)
{
    (void)m;
    (void)why;
    g_calls++;
    g_last = *ev;
    return TM_OK;
}

static void resume(void *arg) { (*(int *)arg)++; g_resumed++; }

static long g_baud;
static long fake_uart(void *arg, long baud)
{
    (void)arg;
    if (baud >= 0)
        g_baud = baud;
    return g_baud;
}

static const tm_dialect fake = { .name = "fake", .sim_event = fake_event };

static const char *scn(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/tm_test_trigger_%d.scn", (int)getpid());
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

static void loop(void)
{
    for (int i = 0; i < 3; i++)
        tm_loop_run_once(0);
}

int main(void)
{
    tm_modem m;
    char why[256], ans[256];
    memset(&m, 0, sizeof m);
    m.dialect = &fake;

    /* on <K> <NAME>: the K-th set/exec of NAME, whatever prefix it is written with */
    TM_EQ_INT(tm_sim_scenario_play(&m, scn("on 2 AT+CIPSEND csq 5\non 1 ktcpsnd csq 9\n"), why, sizeof why), 2);
    tm_sim_on_command("+CIPSEND");
    tm_sim_on_command("+CIPSENDEX");          /* another command */
    loop();
    TM_EQ_INT(g_calls, 0);
    tm_sim_on_command("+CIPSEND");
    TM_EQ_INT(g_calls, 0);                    /* not inside the engine: from the loop */
    loop();
    TM_EQ_INT(g_calls, 1);
    TM_EQ_INT(g_last.kind, TM_SIM_CSQ);
    TM_EQ_INT(g_last.arg, 5);
    tm_sim_on_command("+CIPSEND");            /* once only */
    loop();
    TM_EQ_INT(g_calls, 1);
    TM_EQ_INT(tm_sim_scenario_play(&m, scn("0 csq 1\n"), why, sizeof why), -1);   /* one step still armed */
    TM_CHECK_MSG(strstr(why, "a scenario is playing (1 steps left)") != NULL, "%s", why);
    tm_sim_on_command("+KTCPSND");
    loop();
    TM_EQ_INT(g_calls, 2);
    TM_EQ_INT(g_last.arg, 9);
    TM_EQ_INT(tm_sim_trigger_armed(), 0);

    /* after <N> bytes: the body stops at exactly N, is held until the step
     * ran, then resumed */
    int x = 0, y = 0;
    TM_EQ_INT(tm_sim_scenario_play(&m, scn("after 100 bytes coverage lost\n"), why, sizeof why), 1);
    TM_EQ_INT(tm_sim_body_room(0, 4096, resume, &x), 100);
    TM_EQ_INT(tm_sim_body_room(60, 30, resume, &x), 30);       /* the owner's room is smaller */
    TM_EQ_INT(tm_sim_body_room(90, 4096, resume, &x), 10);
    TM_EQ_INT(tm_sim_body_room(100, 4096, resume, &x), 0);     /* fired: held */
    TM_EQ_INT(tm_sim_body_room(100, 4096, resume, &x), 0);
    TM_EQ_INT(tm_sim_body_room(0, 4096, resume, &y), 4096);    /* another response is not held */
    TM_EQ_INT(g_calls, 2);
    loop();
    TM_EQ_INT(g_calls, 3);
    TM_EQ_INT(g_last.kind, TM_SIM_COVERAGE_LOST);
    TM_EQ_INT(x, 1);
    TM_EQ_INT(y, 0);
    TM_EQ_INT(tm_sim_body_room(100, 4096, resume, &x), 4096);

    /* a client closed (maybe freed) while held is not resumed */
    TM_EQ_INT(tm_sim_scenario_play(&m, scn("after 1 bytes csq 3\n"), why, sizeof why), 1);
    TM_EQ_INT(tm_sim_body_room(1, 4096, resume, &y), 0);
    tm_sim_body_forget(&y);
    loop();
    TM_EQ_INT(g_calls, 4);
    TM_EQ_INT(y, 0);

    /* play stop cancels armed triggers and lets a held body go on */
    TM_EQ_INT(tm_sim_scenario_play(&m, scn("after 10 bytes csq 4\non 3 S.SOCKW csq 4\n100000 csq 4\n"), why,
                                   sizeof why), 3);
    TM_EQ_INT(tm_sim_scenario_stop(ans, sizeof ans), 0);
    TM_EQ_STR(ans, "ok cancelled=3");
    TM_EQ_INT(tm_sim_body_room(50, 4096, resume, &y), 4096);

    /* malformed trigger lines change nothing and name the line */
    TM_EQ_INT(tm_sim_scenario_play(&m, scn("0 csq 4\non x KTCPSND reset\n"), why, sizeof why), -1);
    TM_CHECK_MSG(strstr(why, ":2: expected \"on <K> <COMMAND> <command>\"") != NULL, "%s", why);
    TM_EQ_INT(tm_sim_scenario_play(&m, scn("after 0 bytes reset\n"), why, sizeof why), -1);
    TM_CHECK_MSG(strstr(why, ":1: expected \"after <N> bytes <command>\" (N >= 1)") != NULL, "%s", why);
    TM_EQ_INT(tm_sim_scenario_play(&m, scn("on 2 KTCPSND\n"), why, sizeof why), -1);
    TM_EQ_INT(tm_sim_trigger_armed(), 0);
    unlink(scn(""));

    /* "uart": the port's pace through its hook */
    TM_EQ_INT(tm_sim_command(&m, "uart", ans, sizeof ans), 1);
    TM_EQ_STR(ans, "error code=TM_E_NOT_SUPPORTED reason=\"this port has no UART pace\"");
    tm_sim_set_uart_hook(fake_uart, NULL);
    TM_EQ_INT(tm_sim_command(&m, "uart", ans, sizeof ans), 0);
    TM_EQ_STR(ans, "ok uart=off");
    TM_EQ_INT(tm_sim_command(&m, "uart 115200", ans, sizeof ans), 0);
    TM_EQ_STR(ans, "ok uart=115200 bytes_per_s=11520");
    TM_EQ_INT(g_baud, 115200);
    TM_EQ_INT(tm_sim_command(&m, "uart fast", ans, sizeof ans), 1);
    TM_EQ_INT(tm_sim_command(&m, "uart 9600 8N1", ans, sizeof ans), 1);
    TM_EQ_INT(g_baud, 115200);                  /* an error changes nothing */
    TM_EQ_INT(tm_sim_command(&m, "uart off", ans, sizeof ans), 0);
    TM_EQ_STR(ans, "ok uart=off");
    TM_TEST_MAIN_END();
}
