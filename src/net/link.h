/* tlsmodem — the simulated radio link between the module and the network:
 * rate down/up, one-way latency and loss, from a named profile (gprs,
 * lte-m, nb-iot, wifi) or explicit values (docs/control.md "Link shaping").
 *
 * One setting per modem (this process), off by default.  --link sets it at
 * start, the control channel's "link ..." changes it at run time; the
 * shaper (shaper.h) reads it for every segment it schedules, so a change
 * applies to the shaped connections already open from their next byte on
 * (a connection opened while it was off is not shaped). */
#ifndef TM_NET_LINK_H
#define TM_NET_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef struct {
    bool     on;            /* false: no shaping (nothing is interposed) */
    char     name[16];      /* profile name, "custom" when only values were given */
    uint64_t down_bps;      /* network -> module, bit/s; 0 = unlimited */
    uint64_t up_bps;        /* module -> network, bit/s; 0 = unlimited */
    uint32_t latency_ms;    /* one way */
    uint32_t loss_ppm;      /* probability a packet is lost, per million */
} tm_link;

/* "off", a profile name, "key=value" items, or a profile followed by items
 * that change it ("nb-iot,loss=5%"); items are separated by commas (or
 * blanks): rate=64k (both directions), down=, up= (bit/s, k/M/G suffixes,
 * optional "bit"/"bps"), latency=200ms (or s), loss=1% (0..100 %).
 * TM_E_ARG_BAD naming the bad item. */
tm_err tm_link_parse(const char *spec, tm_link *out, tm_reason *why);

const tm_link *tm_link_get(void);
void           tm_link_set(const tm_link *l);

/* "link=nb-iot down_bps=26000 up_bps=16000 latency_ms=800 loss_pct=1" or
 * "link=off": the control channel's answer and the trace line. */
void tm_link_describe(const tm_link *l, char *buf, size_t cap);

/* Profile names for the usage text: "gprs, lte-m, nb-iot, wifi". */
const char *tm_link_profiles(void);

#endif
