/* tlsmodem — link shaping below TLS (docs/control.md "Link shaping").
 *
 * When the link (link.h) is on, a connected socket is handed to the shaper,
 * which gives back one end of a socketpair; the stream (and TLS on top of
 * it) reads and writes that end as if it were the socket.  The shaper relays
 * between the pair and the real socket from the one poll() loop: each
 * segment (at most TM_SHAPE_SEG bytes of TCP, or one UDP datagram) occupies
 * the link for its size over the rate, then arrives after the one-way
 * latency.  Loss: a UDP datagram is dropped; a TCP segment cannot be (the
 * kernel's TCP below us retransmits nothing), so it arrives one
 * retransmission timeout late, in order (the segments behind it wait).
 *
 * Never blocking, never dropping TCP bytes: at most TM_SHAPE_BUF bytes per
 * direction are in flight; beyond that the shaper stops reading its source
 * (the stream's writes then block: backpressure to the producer; the
 * server's TCP window closes).  A connection opened while the link is off
 * is never shaped and costs nothing. */
#ifndef TM_NET_SHAPER_H
#define TM_NET_SHAPER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

/* True when new connections are to be shaped (tm_link_get()->on). */
bool tm_shape_on(void);

/* Takes over net_fd (a connected, non-blocking TCP or UDP socket: the
 * shaper watches and closes it) and returns the descriptor the stream uses
 * instead, or -1 (why set; net_fd is then still the caller's).  label names
 * the connection in the trace ("www.x.test:443"). */
int tm_shape_attach(int net_fd, bool udp, const char *label, tm_reason *why);

/* The stream is about to close the descriptor tm_shape_attach gave it
 * (stream.c release()); the link then sends what the stream wrote and
 * closes.  A no-op for a descriptor that is not shaped. */
void tm_shape_detach(int fd);

/* Time a TCP connect takes on the link: SYN and SYN-ACK, 2 x the one-way
 * latency (0 for UDP, which has no handshake). */
uint32_t tm_shape_connect_delay_ms(bool udp);

#endif
