/* tlsmodem — port.h over poll().  See loop.h. */
#include "port/posix/loop.h"
#include "port/port.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <time.h>

typedef struct {
    int      fd;          /* -1 = free slot */
    unsigned events;      /* TM_IO_READ | TM_IO_WRITE */
    unsigned gen;         /* bumped on every (re)registration and unwatch */
    tm_io_cb cb;
    void    *arg;
} watch_t;

typedef struct {
    unsigned    id;       /* 0 = free slot */
    uint64_t    seq;      /* creation order: ties fire in creation order */
    int64_t     due;      /* tm_port_mono_ms() */
    tm_timer_cb cb;
    void       *arg;
} timer_t_;

typedef struct {
    tm_idle_cb cb;
    void      *arg;
} idle_t;

static watch_t  g_watch[TM_LOOP_WATCH_MAX];
static bool     g_watch_init;
static unsigned g_gen;
static timer_t_ g_timer[TM_LOOP_TIMER_MAX];
static unsigned g_next_id = 1;
static uint64_t g_next_seq = 1;
static idle_t   g_idle[TM_LOOP_IDLE_MAX];
static volatile sig_atomic_t g_stop;

/* ---- clocks --------------------------------------------------------------- */

static int64_t clock_ms(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t tm_port_mono_ms(void) { return clock_ms(CLOCK_MONOTONIC); }
int64_t tm_port_wall_ms(void) { return clock_ms(CLOCK_REALTIME); }

/* ---- descriptors ---------------------------------------------------------- */

static void watch_init(void)
{
    if (g_watch_init)
        return;
    for (int i = 0; i < TM_LOOP_WATCH_MAX; i++)
        g_watch[i].fd = -1;
    g_watch_init = true;
}

static watch_t *watch_find(int fd)
{
    watch_init();
    for (int i = 0; i < TM_LOOP_WATCH_MAX; i++)
        if (g_watch[i].fd == fd)
            return &g_watch[i];
    return NULL;
}

int tm_port_watch(int fd, unsigned events, tm_io_cb cb, void *arg)
{
    if (fd < 0 || !cb)
        return -1;
    watch_t *w = watch_find(fd);
    if (!w)
        w = watch_find(-1);
    if (!w)
        return -1;
    if (w->fd != fd || w->cb != cb || w->arg != arg)
        w->gen = ++g_gen;          /* a new owner: stale readiness is dropped */
    w->fd = fd;
    w->events = events & (TM_IO_READ | TM_IO_WRITE);
    w->cb = cb;
    w->arg = arg;
    return 0;
}

void tm_port_unwatch(int fd)
{
    if (fd < 0)
        return;
    watch_t *w = watch_find(fd);
    if (!w)
        return;
    w->fd = -1;
    w->events = 0;
    w->cb = NULL;
    w->arg = NULL;
    w->gen = ++g_gen;
}

/* ---- timers --------------------------------------------------------------- */

unsigned tm_port_timer_add(uint32_t ms, tm_timer_cb cb, void *arg)
{
    if (!cb)
        return 0;
    for (int i = 0; i < TM_LOOP_TIMER_MAX; i++) {
        timer_t_ *t = &g_timer[i];
        if (t->id)
            continue;
        /* Ids grow and skip 0 and ids still in use: 2^32 timers before one
         * could come back. */
        unsigned id;
        for (;;) {
            id = g_next_id++;
            if (id == 0)
                continue;
            bool used = false;
            for (int j = 0; j < TM_LOOP_TIMER_MAX; j++)
                if (g_timer[j].id == id) { used = true; break; }
            if (!used)
                break;
        }
        t->id = id;
        t->seq = g_next_seq++;
        t->due = tm_port_mono_ms() + (int64_t)ms;
        t->cb = cb;
        t->arg = arg;
        return id;
    }
    return 0;
}

void tm_port_timer_cancel(unsigned id)
{
    if (!id)
        return;
    for (int i = 0; i < TM_LOOP_TIMER_MAX; i++)
        if (g_timer[i].id == id) {
            g_timer[i].id = 0;
            g_timer[i].cb = NULL;
            return;
        }
}

/* Fires the timers due now that existed when the round started, earliest
 * first (creation order on ties).  Timers added by callbacks wait for the next
 * round, so a callback re-arming itself with 0 ms cannot starve the loop. */
static void run_timers(void)
{
    uint64_t limit = g_next_seq;
    int64_t now = tm_port_mono_ms();
    for (;;) {
        timer_t_ *best = NULL;
        for (int i = 0; i < TM_LOOP_TIMER_MAX; i++) {
            timer_t_ *t = &g_timer[i];
            if (!t->id || t->seq >= limit || t->due > now)
                continue;
            if (!best || t->due < best->due || (t->due == best->due && t->seq < best->seq))
                best = t;
        }
        if (!best)
            return;
        tm_timer_cb cb = best->cb;
        void *arg = best->arg;
        best->id = 0;          /* one-shot: free before the call (it may add timers) */
        best->cb = NULL;
        cb(arg);
    }
}

int64_t tm_loop_next_timer_in(void)
{
    int64_t due = -1;
    for (int i = 0; i < TM_LOOP_TIMER_MAX; i++)
        if (g_timer[i].id && (due < 0 || g_timer[i].due < due))
            due = g_timer[i].due;
    if (due < 0)
        return -1;
    int64_t in = due - tm_port_mono_ms();
    return in < 0 ? 0 : in;
}

/* ---- idle callbacks --------------------------------------------------------- */

void tm_port_on_idle(tm_idle_cb cb, void *arg)
{
    if (!cb)
        return;
    for (int i = 0; i < TM_LOOP_IDLE_MAX; i++)
        if (g_idle[i].cb == cb && g_idle[i].arg == arg)
            return;                               /* registered already */
    for (int i = 0; i < TM_LOOP_IDLE_MAX; i++)
        if (!g_idle[i].cb) {
            g_idle[i].cb = cb;
            g_idle[i].arg = arg;
            return;
        }
}

void tm_loop_remove_idle(void (*cb)(void *arg), void *arg)
{
    for (int i = 0; i < TM_LOOP_IDLE_MAX; i++)
        if (g_idle[i].cb == cb && g_idle[i].arg == arg) {
            g_idle[i].cb = NULL;
            g_idle[i].arg = NULL;
        }
}

/* Newest first: the host endpoint registers at start-up, before the
 * dialect, so its flush (which decides whether poll() waits for the host to
 * be writable) runs after every producer that may have written output in
 * its own idle callback (e.g. a body resumed after backpressure). */
static void run_idle(void)
{
    for (int i = TM_LOOP_IDLE_MAX - 1; i >= 0; i--) {
        tm_idle_cb cb = g_idle[i].cb;
        if (cb)
            cb(g_idle[i].arg);
    }
}

/* ---- the loop --------------------------------------------------------------- */

static bool g_wake;
void tm_loop_wake(void)       { g_wake = true; }
void tm_loop_stop(void)       { g_stop = 1; }
bool tm_loop_stopped(void)    { return g_stop != 0; }
void tm_loop_clear_stop(void) { g_stop = 0; }

void tm_loop_reset(void)
{
    g_watch_init = false;
    watch_init();
    for (int i = 0; i < TM_LOOP_TIMER_MAX; i++) {
        g_timer[i].id = 0;
        g_timer[i].cb = NULL;
    }
    for (int i = 0; i < TM_LOOP_IDLE_MAX; i++) {
        g_idle[i].cb = NULL;
        g_idle[i].arg = NULL;
    }
    g_stop = 0;
}

int tm_loop_run_once(int timeout_cap_ms)
{
    watch_init();
    run_timers();
    run_idle();

    struct pollfd pfd[TM_LOOP_WATCH_MAX];
    unsigned gen[TM_LOOP_WATCH_MAX];
    int n = 0;
    for (int i = 0; i < TM_LOOP_WATCH_MAX; i++) {
        watch_t *w = &g_watch[i];
        if (w->fd < 0 || !w->events)
            continue;
        pfd[n].fd = w->fd;
        pfd[n].events = (short)(((w->events & TM_IO_READ) ? POLLIN : 0) |
                                ((w->events & TM_IO_WRITE) ? POLLOUT : 0));
        pfd[n].revents = 0;
        gen[n] = w->gen;
        n++;
    }

    int timeout = timeout_cap_ms;
    int64_t t = tm_loop_next_timer_in();
    if (t >= 0 && (timeout < 0 || t < timeout))
        timeout = t > INT_MAX ? INT_MAX : (int)t;
    if (g_stop)
        timeout = 0;

    if (g_wake) {                 /* an idle callback has more to do: don't sleep */
        g_wake = false;
        timeout = 0;
    }
    int r = poll(pfd, (nfds_t)n, timeout);
    if (r < 0) {
        if (errno != EINTR)
            return -1;
        r = 0;
    }
    int dispatched = 0;
    for (int i = 0; r > 0 && i < n; i++) {
        if (!pfd[i].revents)
            continue;
        watch_t *w = watch_find(pfd[i].fd);
        /* Unwatched or handed to another owner by an earlier callback. */
        if (!w || w->gen != gen[i] || !w->events)
            continue;
        short re = pfd[i].revents;
        unsigned ev = 0;
        if (re & POLLIN)
            ev |= TM_IO_READ;
        if (re & POLLOUT)
            ev |= TM_IO_WRITE;
        if (re & (POLLERR | POLLHUP | POLLNVAL)) {
            /* Let the owner find out with read()/write()/getsockopt(). */
            ev |= TM_IO_ERROR | (w->events & (TM_IO_READ | TM_IO_WRITE));
        }
        ev &= w->events | TM_IO_ERROR;
        if (!ev)
            continue;
        dispatched++;
        w->cb(w->arg, w->fd, ev);
    }
    run_timers();
    return dispatched;
}
