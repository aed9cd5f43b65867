/* The POSIX poll() loop behind port.h: timers, watches, idle callbacks, and
 * changes made from inside callbacks. */
#include "tm_test.h"
#include "port/port.h"
#include "port/posix/loop.h"

#include <fcntl.h>
#include <unistd.h>

static char order[64];
static size_t order_len;

static void mark(void *arg) { order[order_len++] = *(const char *)arg; order[order_len] = '\0'; }

static void run_until(int64_t ms, bool (*done)(void))
{
    int64_t end = tm_port_mono_ms() + ms;
    while (tm_port_mono_ms() < end && !(done && done()))
        tm_loop_run_once(10);
}

static bool order_has3(void) { return order_len >= 3; }

static void test_timer_order(void)
{
    tm_loop_reset();
    order_len = 0;
    static const char a = 'a', b = 'b', c = 'c', d = 'd';
    unsigned ic = tm_port_timer_add(30, mark, (void *)&c);
    unsigned ia = tm_port_timer_add(5, mark, (void *)&a);
    unsigned ib = tm_port_timer_add(15, mark, (void *)&b);
    TM_CHECK(ia > 0 && ib > 0 && ic > 0);
    TM_CHECK(ia != ib && ib != ic && ia != ic);
    unsigned id = tm_port_timer_add(100000, mark, (void *)&d);
    TM_CHECK(tm_loop_next_timer_in() >= 0 && tm_loop_next_timer_in() <= 5);
    int64_t t0 = tm_port_mono_ms();
    run_until(2000, order_has3);
    TM_EQ_STR(order, "abc");
    TM_CHECK(tm_port_mono_ms() - t0 >= 29);
    tm_port_timer_cancel(id);
    tm_port_timer_cancel(ia);            /* already fired: harmless */
    TM_EQ_INT(tm_loop_next_timer_in(), -1);

    /* Equal deadlines fire in creation order. */
    tm_loop_reset();
    order_len = 0;
    static const char x = 'x', y = 'y', z = 'z';
    tm_port_timer_add(0, mark, (void *)&x);
    tm_port_timer_add(0, mark, (void *)&y);
    tm_port_timer_add(0, mark, (void *)&z);
    tm_loop_run_once(0);
    TM_EQ_STR(order, "xyz");
}

/* Poll sleeps no longer than the next timer. */
static void test_timeout_bounded_by_timer(void)
{
    tm_loop_reset();
    order_len = 0;
    static const char t = 't';
    tm_port_timer_add(40, mark, (void *)&t);
    int64_t t0 = tm_port_mono_ms();
    for (int i = 0; i < 5 && !order_len; i++)
        tm_loop_run_once(-1);
    int64_t dt = tm_port_mono_ms() - t0;
    TM_EQ_STR(order, "t");
    TM_CHECK_MSG(dt >= 39 && dt < 1000, "slept %lld ms", (long long)dt);
}

/* ---- cancel / re-arm from inside timer callbacks ---- */

static unsigned victim_id;
static int victim_fired, canceller_fired, rearm_count;

static void victim(void *arg) { victim_fired++; }
static void canceller(void *arg) { canceller_fired++; tm_port_timer_cancel(victim_id); }
static void rearm(void *arg)
{
    rearm_count++;
    if (rearm_count < 3)
        tm_port_timer_add(0, rearm, NULL);   /* must not fire again in the same round */
}

static void test_timer_cancel_during_dispatch(void)
{
    tm_loop_reset();
    victim_fired = canceller_fired = 0;
    tm_port_timer_add(0, canceller, NULL);
    victim_id = tm_port_timer_add(0, victim, NULL);
    usleep(2000);
    tm_loop_run_once(0);
    tm_loop_run_once(0);
    TM_EQ_INT(canceller_fired, 1);
    TM_EQ_INT(victim_fired, 0);

    rearm_count = 0;
    tm_port_timer_add(0, rearm, NULL);
    tm_loop_run_once(0);
    TM_CHECK_MSG(rearm_count <= 2, "re-armed timer ran %d times in one iteration", rearm_count);
    tm_loop_run_once(0);
    tm_loop_run_once(0);
    TM_EQ_INT(rearm_count, 3);
}

/* ---- descriptors ---- */

static int pa[2], pb[2];
static int a_calls, b_calls;
static unsigned a_ev;
static char a_buf[16];

static void on_a(void *arg, int fd, unsigned ev)
{
    a_calls++;
    a_ev = ev;
    ssize_t n = read(fd, a_buf, sizeof a_buf - 1);
    if (n >= 0)
        a_buf[n] = '\0';
    if (arg)                 /* unwatch the other pipe that is also ready */
        tm_port_unwatch(pb[0]);
}

static void on_b(void *arg, int fd, unsigned ev)
{
    b_calls++;
    char tmp[16];
    ssize_t r = read(fd, tmp, sizeof tmp);
    (void)r;
    if (arg)
        tm_port_unwatch(pa[0]);
}

static void test_watch_pipe(void)
{
    tm_loop_reset();
    TM_CHECK(pipe(pa) == 0 && pipe(pb) == 0);
    a_calls = b_calls = 0;
    TM_EQ_INT(tm_port_watch(pa[0], TM_IO_READ, on_a, NULL), 0);
    TM_EQ_INT(tm_loop_run_once(0), 0);          /* nothing to read */
    TM_EQ_INT(a_calls, 0);
    TM_CHECK(write(pa[1], "hi", 2) == 2);
    TM_EQ_INT(tm_loop_run_once(100), 1);
    TM_EQ_INT(a_calls, 1);
    TM_CHECK(a_ev & TM_IO_READ);
    TM_EQ_STR(a_buf, "hi");

    /* events == 0 keeps the registration but waits for nothing */
    TM_CHECK(write(pa[1], "x", 1) == 1);
    tm_port_watch(pa[0], 0, on_a, NULL);
    tm_loop_run_once(0);
    TM_EQ_INT(a_calls, 1);
    tm_port_watch(pa[0], TM_IO_READ, on_a, NULL);
    tm_loop_run_once(0);
    TM_EQ_INT(a_calls, 2);

    /* writable */
    tm_port_watch(pa[1], TM_IO_WRITE, on_b, NULL);
    tm_loop_run_once(0);
    TM_EQ_INT(b_calls, 1);
    tm_port_unwatch(pa[1]);

    /* unwatch forgets */
    TM_CHECK(write(pa[1], "y", 1) == 1);
    tm_port_unwatch(pa[0]);
    tm_loop_run_once(0);
    TM_EQ_INT(a_calls, 2);
    char tmp[8];
    TM_CHECK(read(pa[0], tmp, sizeof tmp) == 1);

    /* End of file: the writer closes; the reader is told (READ and/or ERROR). */
    int pc[2];
    TM_CHECK(pipe(pc) == 0);
    close(pc[1]);
    a_calls = 0;
    tm_port_watch(pc[0], TM_IO_READ, on_a, NULL);
    tm_loop_run_once(100);
    TM_EQ_INT(a_calls, 1);
    TM_CHECK(a_ev & TM_IO_READ);
    tm_port_unwatch(pc[0]);
    close(pc[0]);
}

static void test_unwatch_during_dispatch(void)
{
    tm_loop_reset();
    a_calls = b_calls = 0;
    TM_CHECK(write(pa[1], "1", 1) == 1);
    TM_CHECK(write(pb[1], "2", 1) == 1);
    /* Whichever is dispatched first unwatches the other: exactly one runs. */
    tm_port_watch(pa[0], TM_IO_READ, on_a, (void *)1);
    tm_port_watch(pb[0], TM_IO_READ, on_b, (void *)1);
    tm_loop_run_once(100);
    TM_EQ_INT(a_calls + b_calls, 1);
    tm_loop_reset();
    char tmp[8];
    if (a_calls)
        TM_CHECK(read(pb[0], tmp, sizeof tmp) == 1);
    else
        TM_CHECK(read(pa[0], tmp, sizeof tmp) == 1);
}

static void test_table_full(void)
{
    tm_loop_reset();
    int fds[TM_LOOP_WATCH_MAX + 1];
    int ok = 0;
    for (int i = 0; i <= TM_LOOP_WATCH_MAX; i++) {
        fds[i] = open("/dev/null", O_RDONLY);
        if (tm_port_watch(fds[i], 0, on_a, NULL) == 0)
            ok++;
    }
    TM_EQ_INT(ok, TM_LOOP_WATCH_MAX);
    for (int i = 0; i <= TM_LOOP_WATCH_MAX; i++) {
        tm_port_unwatch(fds[i]);
        close(fds[i]);
    }
    TM_EQ_INT(tm_port_watch(pa[0], TM_IO_READ, on_a, NULL), 0);
    tm_loop_reset();
}

/* ---- idle ---- */

static int idle_calls, idle2_calls;
static void on_idle(void *arg) { idle_calls++; }
static void on_idle2(void *arg) { idle2_calls++; }

static void test_idle(void)
{
    tm_loop_reset();
    idle_calls = idle2_calls = 0;
    tm_port_on_idle(on_idle, NULL);
    tm_port_on_idle(on_idle, NULL);   /* same callback twice: registered once */
    tm_port_on_idle(on_idle2, &idle2_calls);
    for (int i = 0; i < 3; i++)
        tm_loop_run_once(0);
    TM_EQ_INT(idle_calls, 3);
    TM_EQ_INT(idle2_calls, 3);
    tm_loop_remove_idle(on_idle2, &idle2_calls);
    tm_loop_run_once(0);
    TM_EQ_INT(idle_calls, 4);
    TM_EQ_INT(idle2_calls, 3);
    tm_loop_reset();
}

static void test_stop_and_clocks(void)
{
    tm_loop_reset();
    TM_CHECK(!tm_loop_stopped());
    tm_loop_stop();
    TM_CHECK(tm_loop_stopped());
    int64_t t0 = tm_port_mono_ms();
    tm_loop_run_once(5000);            /* a stop request makes poll() not sleep */
    TM_CHECK(tm_port_mono_ms() - t0 < 1000);
    tm_loop_clear_stop();
    TM_CHECK(!tm_loop_stopped());
    TM_CHECK(tm_port_wall_ms() > 1600000000000LL);
    TM_CHECK(tm_port_mono_ms() >= t0);
}

int main(void)
{
    test_timer_order();
    test_timeout_bounded_by_timer();
    test_timer_cancel_during_dispatch();
    test_watch_pipe();
    test_unwatch_during_dispatch();
    test_table_full();
    test_idle();
    test_stop_and_clocks();
    TM_TEST_MAIN_END();
}
