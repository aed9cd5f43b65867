/* tlsmodem — the POSIX event loop behind port.h, as main and the tests see it.
 *
 * One iteration (tm_loop_run_once): run the timers that are due, run every
 * idle callback once, poll() the watched descriptors with a timeout bounded
 * by the next timer and the caller's cap, dispatch what is ready, run the
 * timers that became due while sleeping.  Callbacks may watch, unwatch, add
 * and cancel timers at any point; a descriptor unwatched (or re-registered)
 * during a dispatch round is not called with the stale readiness. */
#ifndef TM_PORT_POSIX_LOOP_H
#define TM_PORT_POSIX_LOOP_H

#include <stdbool.h>
#include <stdint.h>

/* Port-local limits (the loop serves the host endpoint, the signal pipe, the
 * listening socket and TM_SESSIONS_MAX network sockets). */
#define TM_LOOP_WATCH_MAX  64
#define TM_LOOP_TIMER_MAX  128
#define TM_LOOP_IDLE_MAX   16

/* One iteration; timeout_cap_ms < 0 = no cap (sleep until an fd or a timer).
 * Returns the number of descriptors dispatched, 0 on timeout, -1 when poll()
 * failed for a reason other than EINTR. */
int  tm_loop_run_once(int timeout_cap_ms);

/* Stop flag: set by tm_loop_stop() (signal handler safe), read by main. */
/* The next poll() does not sleep: something freed during this iteration
 * (host output drained) lets an idle callback continue. */
void tm_loop_wake(void);
void tm_loop_stop(void);
bool tm_loop_stopped(void);
void tm_loop_clear_stop(void);

/* Forget every watch, timer and idle callback (tests; main at exit). */
void tm_loop_reset(void);

/* Idle callbacks have no removal in port.h; the host endpoint needs one. */
void tm_loop_remove_idle(void (*cb)(void *arg), void *arg);

/* Milliseconds until the earliest timer (0 if one is due), or -1 when none. */
int64_t tm_loop_next_timer_in(void);

#endif
