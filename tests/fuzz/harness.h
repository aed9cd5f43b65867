/* tlsmodem fuzzing — what the libFuzzer targets share: a small PRNG for
 * fuzzer-chosen splits, and a whole modem (engine + real dialect + store in a
 * private temporary directory, network offline) that is built and torn down
 * for every input, so no state leaks from one input into the next. */
#ifndef TM_FUZZ_HARNESS_H
#define TM_FUZZ_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "core/modem.h"

/* Deterministic per input: the targets take the seed from the input's first
 * bytes, so a reproducer replays the same chunking. */
typedef struct { uint64_t s; } fz_rng;
void     fz_rng_seed(fz_rng *r, const uint8_t *p, size_t n);
uint32_t fz_rng_next(fz_rng *r);
uint32_t fz_rng_below(fz_rng *r, uint32_t n);     /* 0..n-1 (n > 0) */
/* A chunk length: mostly 1..16, sometimes up to 256, rarely up to 4096. */
size_t   fz_rng_chunk(fz_rng *r);

/* The store directory of this process (created on first use, under
 * $TM_FUZZ_TMP, else /dev/shm, else $TMPDIR or /tmp; removed at exit).
 * fz_store_wipe() empties it. */
const char *fz_store_dir(void);
void        fz_store_wipe(void);

/* Builds the modem for dialect "hl" or "spwf" on a wiped store, with the
 * network offline, traces formatted into nothing, and the engine clock at
 * *now.  fz_modem_start() runs the dialect's start (boot URCs, settings);
 * fz_modem_store_open() is for targets that fill the store before that. */
void fz_modem_store_open(tm_modem *m);
/* What every connection opened from now on receives from its fake server
 * (a socketpair: these bytes, then end of stream); NULL/0: connections are
 * refused (TM_E_NET "network disabled").  Called before fz_modem_start. */
void fz_modem_server(const uint8_t *resp, size_t len);
void fz_modem_start(tm_modem *m, const char *dialect, int64_t now);
/* Time passes to `now`: engine tick, due timers (the offline connection
 * failures), idle callbacks. */
void fz_modem_pump(tm_modem *m, int64_t now);
/* Takes up to max output bytes (SIZE_MAX: all). */
void fz_modem_drain(tm_modem *m, size_t max);
/* Feeds p/len in chunks chosen by rng, pumping and draining (drain_mode 0:
 * all after every chunk, 1: never until stalled, 2: random amounts), with
 * the clock advancing by random steps (some beyond the +++ guard time). */
void fz_modem_feed(tm_modem *m, fz_rng *r, const uint8_t *p, size_t len, int drain_mode, int64_t *now);
/* The dialect's stop, output drained, loop reset, engine freed, fake
 * servers closed.  Aborts when a connection's descriptor was not closed by
 * then (a leaked socket). */
void fz_modem_stop(tm_modem *m);

#endif
