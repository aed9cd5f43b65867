/* tlsmodem — what the program says on stderr once it is ready, and the name
 * a modem goes by in the trace. */
#ifndef TM_PORT_POSIX_BANNER_H
#define TM_PORT_POSIX_BANNER_H

#include <stddef.h>

#include "port/posix/args.h"

/* --name, else derived from the endpoint: "stdio", the pty link's or serial
 * device's file name ("modem0.pty", "ttyS1"), "tcp:5555".  Several modems
 * on one machine (one journal) thus tell their lines apart. */
void tm_banner_ident(const tm_args *a, char *out, size_t cap);

/* The ready banner, two lines on fd (stderr): version, dialect, endpoint,
 * store, trust, trace; then how to type and how to quit.  Never on the AT
 * channel: the host must see only the module's bytes. */
void tm_banner_print(int fd, const tm_args *a, const char *dialect, const char *store,
                     const char *ca_bundle);

#endif
