/* tlsmodem — the trace: one readable line per event, timestamped, written as
 * it happens (people follow it with `tail -f`).
 *
 * Line format: "2026-11-30T18:15:40.673Z <ident> <cat> <text>": UTC date and
 * time in ISO 8601, the modem's identity (--name, else derived from the host
 * endpoint), the category padded to 7 columns, the text.
 *
 * Categories are short words: "at<" (host -> modem line), "at>" (modem ->
 * host line), "urc", "net", "tls", "chain", "verdict", "reason", "http",
 * "store", "warn".  With no sink set, tracing costs one branch. */
#ifndef TM_TRACE_H
#define TM_TRACE_H

#include <stddef.h>
#include <stdint.h>

typedef void (*tm_trace_sink)(void *arg, const char *line, size_t len);

void tm_trace_set_sink(tm_trace_sink sink, void *arg);
int  tm_trace_enabled(void);
void tm_trace(const char *cat, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Who is speaking, printed after the time on every line ("modem0", "ttyS1"):
 * several modems may share one journal.  Copied; NULL or "" = none. */
void tm_trace_set_ident(const char *ident);
/* Bytes shown printable: CR -> \r, LF -> \n, others \xNN; long data cut with "…(+N)". */
void tm_trace_bytes(const char *cat, const char *prefix, const void *data, size_t len);

/* Progress of a long transfer: one line every TM_TRACE_PROGRESS_BYTES or
 * TM_TRACE_PROGRESS_MS (whichever comes first, checked when bytes move), with
 * the total so far and the rate, so a 20 MB GET is not silent between its
 * start and its end. */
#define TM_TRACE_PROGRESS_BYTES (4u << 20)
#define TM_TRACE_PROGRESS_MS    5000
typedef struct {
    int64_t  t0, t_last;
    uint64_t total, at_last;
} tm_trace_progress;
void tm_trace_progress_start(tm_trace_progress *p);
/* "<label>: <what> 8.0 MiB so far (8388608 bytes) in 1.9 s, 4.21 MiB/s now, 4.20 MiB/s average" */
void tm_trace_progress_add(tm_trace_progress *p, const char *cat, const char *label, const char *what,
                           uint64_t n);

#endif
