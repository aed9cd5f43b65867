/* libFuzzer target: the AT engine driven by a real dialect (FUZZ_DIALECT,
 * "hl", "spwf" or "esp"), the network offline (connections fail like refused ones,
 * from a timer), the store in a temporary directory.
 *
 * Input: byte 0 = flags (bits 0-1: how the host drains output: 0 after every
 * chunk, 1 only when input stalls, 2 random amounts; bit 2: a server
 * answers), bytes 1-4 = seed of the chunk sizes and clock steps; with bit 2,
 * bytes 5-6 = length L (little endian) and the next L bytes are what every
 * connection receives (then end of stream; TLS is not simulated, the bytes
 * are the session's clear text); without it connections are refused.  The
 * rest = bytes the host sends.  A transcript of real commands is a good
 * seed: prefix it with 5 bytes. */
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
    const uint8_t *p = data + 5;
    size_t len = size - 5;
    fz_modem_server(NULL, 0);
    if ((data[0] & 4) && len >= 2) {
        size_t rl = (size_t)p[0] | (size_t)p[1] << 8;
        p += 2;
        len -= 2;
        if (rl > len)
            rl = len;
        fz_modem_server(p, rl);
        p += rl;
        len -= rl;
    }

    static tm_modem m;
    fz_modem_store_open(&m);
    fz_modem_start(&m, FUZZ_DIALECT, now);
    fz_modem_feed(&m, &r, p, len, drain_mode, &now);
    /* Past any +++ guard time; the servers' bytes and everything due run. */
    for (int i = 0; i < 8; i++) {
        now += 500;
        fz_modem_pump(&m, now);
        fz_modem_drain(&m, SIZE_MAX);
    }
    fz_modem_stop(&m);
    return 0;
}
