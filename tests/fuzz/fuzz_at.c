/* libFuzzer target: the AT engine driven by a real dialect (FUZZ_DIALECT,
 * "hl" or "spwf"), the network offline (connections fail like refused ones,
 * from a timer), the store in a temporary directory.
 *
 * Input: byte 0 = flags (bits 0-1: how the host drains output: 0 after every
 * chunk, 1 only when input stalls, 2 random amounts), bytes 1-4 = seed of the
 * chunk sizes and clock steps, the rest = bytes the host sends.  A transcript
 * of real commands is a good seed: prefix it with 5 bytes. */
#include <stdint.h>
#include <string.h>

#include "harness.h"

#ifndef FUZZ_DIALECT
#define FUZZ_DIALECT "hl"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 5)
        return 0;
    int drain_mode = data[0] & 3;
    if (drain_mode == 3)
        drain_mode = 0;
    fz_rng r;
    fz_rng_seed(&r, data + 1, 4);
    int64_t now = 1000000;

    static tm_modem m;
    fz_modem_start(&m, FUZZ_DIALECT, now);
    fz_modem_feed(&m, &r, data + 5, size - 5, drain_mode, &now);
    /* Past any +++ guard time, then everything due runs once more. */
    now += 3000;
    fz_modem_pump(&m, now);
    fz_modem_stop(&m);
    return 0;
}
