/* tlsmodem — what the portable core needs from the platform.
 *
 * One event loop (poll() on POSIX, a super-loop on an MCU): the core asks to
 * be told when a descriptor is readable/writable and when a timer is due; it
 * never blocks and never starts threads.  Callbacks run from the loop only. */
#ifndef TM_PORT_H
#define TM_PORT_H

#include <stdint.h>

enum { TM_IO_READ = 1, TM_IO_WRITE = 2, TM_IO_ERROR = 4 };

typedef void (*tm_io_cb)(void *arg, int fd, unsigned revents);
typedef void (*tm_timer_cb)(void *arg);

/* Set the interest for fd (TM_IO_READ|TM_IO_WRITE); events == 0 keeps the
 * registration but waits for nothing; tm_port_unwatch forgets it.  Returns 0,
 * or -1 when the table is full. */
int  tm_port_watch(int fd, unsigned events, tm_io_cb cb, void *arg);
void tm_port_unwatch(int fd);

/* One-shot timer; returns an id > 0 (0 on failure). Cancelling an id that
 * already fired is harmless. */
unsigned tm_port_timer_add(uint32_t ms, tm_timer_cb cb, void *arg);
void     tm_port_timer_cancel(unsigned id);

/* Called by the loop once per iteration before it sleeps (redis
 * "before sleep"): flush queued output, resume paused producers. */
typedef void (*tm_idle_cb)(void *arg);
void tm_port_on_idle(tm_idle_cb cb, void *arg);

int64_t tm_port_mono_ms(void);   /* monotonic milliseconds */
int64_t tm_port_wall_ms(void);   /* host wall clock, ms since 1970 */

#endif
