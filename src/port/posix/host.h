/* tlsmodem — the host endpoint: where the AT host's bytes come from and go.
 *
 *   stdio   stdin/stdout, pipes or a terminal (a terminal is put in raw mode:
 *           no echo, no line editing, no signals from keys, Enter sends CR;
 *           Ctrl-C quits in command mode and is a data byte in data mode;
 *           restored at exit).  End of input ends the program once the engine
 *           is idle and the output is flushed.
 *   pty     a pseudo-terminal in raw mode whose slave is symlinked at LINK;
 *           hosts may open and close it any number of times.
 *   listen  a TCP server, one host at a time; the next is accepted when the
 *           current one is gone.  A host that disconnects takes its
 *           unanswered lines and unsent answers with it (a command still
 *           running finishes first, its answer discarded, before the next
 *           host is accepted); one that half-closes (end of input) gets the
 *           answers to everything it sent, then the connection is closed.
 *           URCs produced while no host is connected are held (producers
 *           pause when the buffer is full) and go to the next host.
 *   serial  a hang-up (read 0, EIO) ends the program with status 1.
 *   serial  a serial device: raw 8N1, the given speed, RTS/CTS flow control.
 *
 * Host bytes are read only when the engine took the previous chunk: a
 * remainder left by tm_at_feed() (backpressure from a data-mode sink) stops
 * reading until the idle callback manages to feed it.  Output is written when
 * pending (WRITE interest only then).  tm_at_tick() runs when its deadline is
 * due. */
#ifndef TM_PORT_POSIX_HOST_H
#define TM_PORT_POSIX_HOST_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <termios.h>

#include "core/modem.h"
#include "port/posix/args.h"
#include "port/posix/pace.h"

#define TM_HOST_RX_CHUNK 4096
#define TM_HOST_RETRY_MS 10     /* retry feeding a remainder the engine refused */

typedef struct {
    tm_host_kind kind;
    tm_at       *at;
    tm_modem    *modem;

    int in_fd, out_fd;          /* current host (-1: none, e.g. TCP between hosts) */
    int listen_fd;              /* --listen */
    int pty_slave_fd;           /* --pty: held open so the master never sees EIO */
    char link[PATH_MAX];        /* --pty LINK, removed at close */
    char slave_path[PATH_MAX];
    bool link_made;

    int  tty_fd;                /* terminal whose settings we changed (-1 none) */
    bool ctrl_c_quits;          /* stdio on a terminal: 0x03 quits in command mode (ISIG is off) */
    struct termios tty_saved;
    int  fl_saved[2];           /* O_NONBLOCK restored on fds 0/1 (-1 untouched) */

    uint8_t rx[TM_HOST_RX_CHUNK];
    size_t  rx_off, rx_len;     /* unconsumed remainder */

    bool in_eof;                /* end of input seen (stdio; listen: the host half-closed) */
    bool draining;              /* listen: a departed host's command still runs; its output is discarded */
    char dev[PATH_MAX];         /* --serial device (messages) */
    bool input_stopped;         /* shutting down: read nothing more */
    bool failed;                /* unrecoverable I/O error on the endpoint */
    unsigned tick_timer;
    unsigned retry_timer;
    int64_t  tick_due;
    unsigned watched_in, watched_out;   /* current interest (for change detection) */
    tm_pace  rx_pace, tx_pace;  /* --uart-rate (pace.h); unpaced when zero */
    long     uart_baud;         /* their baud, 0 = off */
    unsigned pace_timer;
} tm_host;

/* Opens the endpoint (no engine yet).  Returns 0, or -1 with err filled. */
int  tm_host_open(tm_host *h, const tm_args *a, char *err, size_t cap);
/* Connects it to the engine and the loop (watches, idle callback). */
void tm_host_attach(tm_host *h, tm_at *at, tm_modem *m);
/* Shutdown: read nothing more from the host. */
void tm_host_stop_input(tm_host *h);
/* Writes what can be written without waiting; returns the bytes still pending. */
size_t tm_host_flush(tm_host *h);
/* Waits up to ms for the pending output to leave; returns what is left. */
size_t tm_host_drain(tm_host *h, int ms);
/* The UART pace (--uart-rate): baud >= 0 sets it (0 = off), -1 reads it;
 * returns the baud in force.  The control channel's "uart" (core/sim.h). */
long tm_host_uart(void *arg, long baud);
/* Restores terminals, removes the pty link, closes descriptors. */
void tm_host_close(tm_host *h);

#endif
