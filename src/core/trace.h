/* tlsmodem — the trace: one readable line per event, timestamped, written as
 * it happens (people follow it with `tail -f`).
 *
 * Categories are short words: "at<" (host -> modem line), "at>" (modem ->
 * host line), "urc", "net", "tls", "chain", "verdict", "reason", "http",
 * "store", "warn".  With no sink set, tracing costs one branch. */
#ifndef TM_TRACE_H
#define TM_TRACE_H

#include <stddef.h>

typedef void (*tm_trace_sink)(void *arg, const char *line, size_t len);

void tm_trace_set_sink(tm_trace_sink sink, void *arg);
int  tm_trace_enabled(void);
void tm_trace(const char *cat, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Bytes shown printable: CR -> \r, LF -> \n, others \xNN; long data cut with "…(+N)". */
void tm_trace_bytes(const char *cat, const char *prefix, const void *data, size_t len);

#endif
