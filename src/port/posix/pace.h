/* tlsmodem — the host UART's byte rate (--uart-rate, docs/ports.md).
 *
 * A real module talks to its MCU over a UART at the configured baud: 10 bits
 * a byte (start, 8 data, stop), so 115200 baud carry 11520 bytes a second
 * each way, not a pipe's hundreds of megabytes.  One pace per direction
 * keeps the time the line is busy until; a transfer may run at most
 * TM_PACE_AHEAD_MS ahead of the line (the UART's FIFO and driver buffer),
 * so bytes leave in small chunks at the line's rate and the loop waits on a
 * timer, never blocks. */
#ifndef TM_PORT_POSIX_PACE_H
#define TM_PORT_POSIX_PACE_H

#include <stddef.h>
#include <stdint.h>

#define TM_PACE_AHEAD_MS 10

typedef struct {
    uint32_t bytes_per_s;    /* 0 = not paced */
    int64_t  free_ns;        /* the line carries what was sent until then (monotonic ns) */
} tm_pace;

void   tm_pace_init(tm_pace *p, uint32_t bytes_per_s);
/* How many of want bytes may go now (want when not paced). */
size_t tm_pace_allow(tm_pace *p, size_t want, int64_t now_ms);
/* n bytes went. */
void   tm_pace_used(tm_pace *p, size_t n, int64_t now_ms);
/* Milliseconds until at least one byte may go (0 = now). */
uint32_t tm_pace_wait_ms(const tm_pace *p, int64_t now_ms);

#endif
