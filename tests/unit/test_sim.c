/* core/sim_events.c: the control channel's command parser and answers
 * (docs/control.md "Protocol"), against a fake dialect that records the
 * events it gets. */
#include "core/modem.h"
#include "core/sim.h"
#include "tm_test.h"

static tm_sim_event g_last;
static int g_calls;
static bool g_refuse;

static tm_err fake_event(tm_modem *m, const tm_sim_event *ev, tm_reason *why)
{
    (void)m;
    g_calls++;
    g_last = *ev;
    if (g_refuse)
        return tm_fail(why, TM_E_STATE, "refused \"quoted\" \\ here");
    return TM_OK;
}

static const tm_dialect fake = { .name = "fake", .sim_event = fake_event };
static const tm_dialect none = { .name = "none" };

static int run(tm_modem *m, const char *line, char *ans)
{
    return tm_sim_command(m, line, ans, 512);
}

int main(void)
{
    tm_modem m;
    char ans[512];
    memset(&m, 0, sizeof m);
    m.dialect = &fake;

    TM_EQ_INT(run(&m, "coverage lost", ans), 0);
    TM_EQ_STR(ans, "ok event=coverage-lost");
    TM_EQ_INT(g_last.kind, TM_SIM_COVERAGE_LOST);
    TM_EQ_INT(run(&m, "  coverage\tback \r\n", ans), 0);   /* blanks and a CR are separators */
    TM_EQ_INT(g_last.kind, TM_SIM_COVERAGE_BACK);
    TM_EQ_INT(run(&m, "socket reset 3", ans), 0);
    TM_EQ_INT(g_last.kind, TM_SIM_SOCKET_RESET);
    TM_EQ_INT(g_last.arg, 3);
    TM_EQ_INT(run(&m, "csq 99", ans), 0);
    TM_EQ_INT(g_last.arg, 99);

    /* malformed: no event reaches the dialect */
    int calls = g_calls;
    TM_EQ_INT(run(&m, "csq 32", ans), 1);
    TM_CHECK(strncmp(ans, "error code=TM_E_ARG_BAD reason=\"csq \\\"32\\\"", 40) == 0);
    TM_EQ_INT(run(&m, "socket reset x", ans), 1);
    TM_EQ_INT(run(&m, "coverage", ans), 1);
    TM_EQ_INT(run(&m, "coverage lost now", ans), 1);
    TM_EQ_INT(run(&m, "", ans), 1);
    TM_EQ_INT(run(&m, "a b c d e f g", ans), 1);
    TM_EQ_INT(run(&m, "dns fail maybe", ans), 1);
    TM_EQ_INT(g_calls, calls);

    /* the dialect's refusal: its code and reason, quotes escaped */
    g_refuse = true;
    TM_EQ_INT(run(&m, "reset", ans), 1);
    TM_EQ_STR(ans, "error code=TM_E_STATE reason=\"refused \\\"quoted\\\" \\\\ here\"");
    g_refuse = false;
    m.dialect = &none;
    TM_EQ_INT(run(&m, "reject", ans), 1);
    TM_CHECK(strstr(ans, "code=TM_E_NOT_SUPPORTED") != NULL);
    m.dialect = &fake;

    /* clock: set, jump, unset, host; bad dates refused */
    TM_EQ_INT(run(&m, "clock set 2031-05-06T07:08:09Z", ans), 0);
    TM_CHECK(strncmp(ans, "ok clock=2031-05-06T07:08:0", 27) == 0);
    TM_EQ_INT(m.clock_mode, TM_CLOCK_SET);
    TM_EQ_INT(run(&m, "clock jump 86400", ans), 0);
    TM_CHECK(strncmp(ans, "ok clock=2031-05-07T07:08:", 26) == 0);
    TM_EQ_INT(run(&m, "clock set 2031-02-28T00:00:00", ans), 0);     /* the Z is optional */
    TM_CHECK(strncmp(ans, "ok clock=2031-02-28T00:00:0", 27) == 0);
    TM_EQ_INT(run(&m, "clock set 2031-02-30T00:00:00Z", ans), 1);    /* no such day */
    TM_EQ_INT(run(&m, "clock set 2031-13-01T00:00:00Z", ans), 1);
    TM_EQ_INT(run(&m, "clock set 2031-01-01", ans), 1);
    TM_EQ_INT(run(&m, "clock set 2031-01-01T00:00:00+02", ans), 1);
    TM_EQ_INT(run(&m, "clock jump 1e9", ans), 1);
    TM_EQ_INT(run(&m, "clock unset", ans), 0);
    TM_EQ_INT(m.clock_mode, TM_CLOCK_UNSET);
    TM_EQ_INT(run(&m, "clock host", ans), 0);
    TM_EQ_INT(m.clock_mode, TM_CLOCK_HOST);

    /* dns fail is the core's */
    TM_EQ_INT(run(&m, "dns fail on", ans), 0);
    TM_EQ_STR(ans, "ok dns=fail");
    TM_EQ_INT(tm_sim_dns_fail, 1);
    TM_EQ_INT(run(&m, "status", ans), 0);
    TM_CHECK(strstr(ans, "ok dialect=fake ") == ans && strstr(ans, " dns=fail") != NULL);
    TM_EQ_INT(run(&m, "dns fail off", ans), 0);
    TM_EQ_INT(tm_sim_dns_fail, 0);

    /* a small answer buffer: truncated, still terminated */
    char small[16];
    TM_EQ_INT(tm_sim_command(&m, "nonsense here", small, sizeof small), 1);
    TM_EQ_INT(strlen(small) < sizeof small, 1);
    TM_TEST_MAIN_END();
}
