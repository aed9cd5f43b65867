/* See pace.h. */
#include "port/posix/pace.h"

void tm_pace_init(tm_pace *p, uint32_t bytes_per_s)
{
    p->bytes_per_s = bytes_per_s;
    p->free_ns = 0;
}

static int64_t byte_ns(const tm_pace *p) { return 1000000000LL / p->bytes_per_s; }

size_t tm_pace_allow(tm_pace *p, size_t want, int64_t now_ms)
{
    if (!p->bytes_per_s || !want)
        return want;
    int64_t now = now_ms * 1000000LL;
    if (p->free_ns < now)
        p->free_ns = now;           /* an idle line earns no credit */
    int64_t room = now + TM_PACE_AHEAD_MS * 1000000LL - p->free_ns;
    if (room <= 0)
        return 0;
    uint64_t n = (uint64_t)room * p->bytes_per_s / 1000000000ULL;
    return n < want ? (size_t)n : want;
}

void tm_pace_used(tm_pace *p, size_t n, int64_t now_ms)
{
    if (!p->bytes_per_s || !n)
        return;
    int64_t now = now_ms * 1000000LL;
    if (p->free_ns < now)
        p->free_ns = now;
    p->free_ns += (int64_t)((uint64_t)n * 1000000000ULL / p->bytes_per_s);
}

uint32_t tm_pace_wait_ms(const tm_pace *p, int64_t now_ms)
{
    if (!p->bytes_per_s)
        return 0;
    /* one byte fits once free_ns + one byte <= now + ahead */
    int64_t t = p->free_ns + byte_ns(p) - TM_PACE_AHEAD_MS * 1000000LL - now_ms * 1000000LL;
    if (t <= 0)
        return 0;
    return (uint32_t)((t + 999999) / 1000000);
}
