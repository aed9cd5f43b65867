/* tlsmodem — the control channel (--control, docs/control.md): a UNIX
 * socket (0600, in a directory only the user can write; peers of another
 * uid refused) or a loopback TCP port, served by the poll() loop.  One
 * command per line (core/sim.h), one answer line per command. */
#ifndef TM_PORT_POSIX_CONTROL_H
#define TM_PORT_POSIX_CONTROL_H

#include <stddef.h>

#include "core/modem.h"

/* Opens the listener; on failure err holds one line, returns -1. */
int  tm_control_open(const char *spec, tm_modem *m, char *err, size_t cap);
/* Closes the clients and the listener; removes the socket file. */
void tm_control_close(void);

#endif
