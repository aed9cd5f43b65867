/* tlsmodem — data mode host -> module: byte count, EOF pattern (held back
 * so the sink never sees any part of it, typographic-dash variants
 * recognised), "+++" escape with guard times, sink backpressure.
 *
 * Bytes flow: input -> [escape candidates '+'] -> [pattern held-back
 * prefix] -> rel (released, waiting for sink room) -> sink.  No new input
 * byte is taken while rel is not empty, so rel never holds more than one
 * pattern prefix plus a few bytes. */
#include "at/at_internal.h"

#include <string.h>

/* ---- EOF pattern matching --------------------------------------------------
 * Forms of the pattern: each "--" (left to right, non-overlapping) may also
 * be written as one U+2013 (E2 80 93) or U+2014 (E2 80 94).
 * Returns 0: b is not a prefix of any form, 1: proper prefix, 2: the
 * pattern itself, 3: a mangled form. */
static int pat_match(const char *pat, const uint8_t *b, size_t n)
{
    size_t pi = 0, bi = 0;
    bool mangled = false;
    while (bi < n) {
        if (pat[pi] == '\0')
            return 0;
        if (pat[pi] == '-' && pat[pi + 1] == '-') {
            if (b[bi] == '-') {
                if (bi + 1 >= n)
                    return 1;
                if (b[bi + 1] != '-')
                    return 0;
                bi += 2;
            } else if (b[bi] == 0xE2) {
                if (bi + 1 < n && b[bi + 1] != 0x80)
                    return 0;
                if (bi + 2 < n && b[bi + 2] != 0x93 && b[bi + 2] != 0x94)
                    return 0;
                if (bi + 3 > n)
                    return 1;
                bi += 3;
                mangled = true;
            } else {
                return 0;
            }
            pi += 2;
            continue;
        }
        if ((uint8_t)pat[pi] != b[bi])
            return 0;
        pi++;
        bi++;
    }
    if (pat[pi] == '\0')
        return mangled ? 3 : 2;
    return 1;
}

const char *tm_at_pattern(tm_at *at) { return at->pattern; }

tm_err tm_at_set_pattern(tm_at *at, const char *pattern)
{
    size_t n = strlen(pattern);
    if (n < 1 || n > TM_AT_PATTERN_MAX)
        return tm_fail(&at->reason, TM_E_ARG_RANGE, "the EOF pattern must be 1 to %d bytes, got %zu",
                       TM_AT_PATTERN_MAX, n);
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)pattern[i];
        if (c < 0x21 || c > 0x7e)
            return tm_fail(&at->reason, TM_E_ARG_BAD,
                           "the EOF pattern must be printable ASCII without spaces; byte 0x%02x at position %zu",
                           c, i + 1);
    }
    memcpy(at->pattern, pattern, n + 1);
    return TM_OK;
}

/* ---- data mode state ------------------------------------------------------- */

bool tm_at_in_data_mode(tm_at *at) { return at->data.active; }

void tm_at_data_in_start(tm_at *at, const tm_at_data_in *spec)
{
    tm_at_data *D = &at->data;
    memset(D, 0, sizeof *D);
    D->active = true;
    D->spec = *spec;
    D->last_rx_ms = at->now;
    D->held_back_ms = at->now;
    /* A LF that came with the CR was already taken (engine.c); a LF that
     * arrives later is payload. */
    at->skip_lf = false;
}

void tm_at_data_in_stop(tm_at *at)
{
    at->data.active = false;
}

static void rel_push(tm_at_data *D, uint8_t b)
{
    if (D->rel_len < sizeof D->rel)
        D->rel[D->rel_len++] = b;
}

static void set_end(tm_at_data *D, tm_at_data_end how)
{
    if (!D->end_pending) {
        D->end_pending = true;
        D->end_how = how;
    }
}

/* A data byte (already counted) through the pattern stage. */
static void pat_byte(tm_at *at, uint8_t b)
{
    tm_at_data *D = &at->data;
    if (!D->spec.pattern) {
        rel_push(D, b);
        return;
    }
    D->held[D->held_len++] = b;
    for (;;) {
        int m = pat_match(at->pattern, D->held, D->held_len);
        if (m >= 2) {
            D->held_len = 0;      /* the pattern is not data */
            set_end(D, m == 2 ? TM_AT_DATA_END_PATTERN : TM_AT_DATA_END_MANGLED);
            return;
        }
        if (m == 1)
            return;
        rel_push(D, D->held[0]);
        memmove(D->held, D->held + 1, --D->held_len);
        if (D->held_len == 0)
            return;
    }
}

static void release_plus(tm_at *at)
{
    int n = at->data.plus;
    at->data.plus = 0;
    for (int i = 0; i < n && !at->data.end_pending; i++)
        pat_byte(at, '+');
}

static void release_held(tm_at_data *D)
{
    for (size_t i = 0; i < D->held_len; i++)
        rel_push(D, D->held[i]);
    D->held_len = 0;
}

static void count_check(tm_at *at)
{
    tm_at_data *D = &at->data;
    if (D->spec.count && D->recv >= D->spec.count && !D->end_pending) {
        release_plus(at);
        if (!D->end_pending) {
            /* The count ran out inside what may be the EOF pattern (a count
             * larger than the data, then the pattern): decide when the
             * pattern completes (END_PATTERN, the owner sees the shortfall)
             * or breaks (END_COUNT with the extra bytes as data), instead of
             * storing half a pattern and parsing the rest as a command. */
            if (D->held_len > 0 && D->spec.pattern &&
                memcmp(D->held, at->pattern, D->held_len) == 0) {
                D->deferred = true;
                D->defer_base = D->held_len;
                return;
            }
            release_held(D);
            set_end(D, TM_AT_DATA_END_COUNT);
        }
    }
}

static void step(tm_at *at, uint8_t b)
{
    tm_at_data *D = &at->data;
    int64_t guard = (int64_t)tm_at_guard_ms(at);
    int64_t quiet = at->now - D->last_rx_ms;
    D->last_rx_ms = at->now;
    D->recv++;
    if (D->spec.escape) {
        if (D->plus > 0 && D->plus < 3 && b == '+') {
            if (++D->plus == 3)
                D->plus3_ms = at->now;
            count_check(at);
            return;
        }
        if (D->plus > 0)
            release_plus(at);          /* not an escape: the '+' are data */
        if (D->end_pending)
            return;
        if (b == '+' && quiet >= guard) {
            release_held(D);           /* an escape candidate interrupts a pattern prefix */
            D->plus = 1;
            count_check(at);
            return;
        }
    }
    pat_byte(at, b);
    count_check(at);
}

/* Gives rel to the sink as far as room allows; true when rel is empty. */
static bool drain_rel(tm_at *at)
{
    tm_at_data *D = &at->data;
    if (!D->rel_len)
        return true;
    size_t room = D->spec.room ? D->spec.room(D->spec.arg) : D->rel_len;
    size_t n = room < D->rel_len ? room : D->rel_len;
    if (n) {
        if (D->spec.on_data)
            D->spec.on_data(D->spec.arg, D->rel, n);
        D->delivered += n;
        memmove(D->rel, D->rel + n, D->rel_len - n);
        D->rel_len -= n;
    }
    return D->rel_len == 0;
}

static void finish(tm_at *at)
{
    tm_at_data *D = &at->data;
    tm_at_data_in spec = D->spec;
    tm_at_data_end how = D->end_how;
    size_t total = D->delivered;
    D->active = false;
    D->end_pending = false;
    if (how == TM_AT_DATA_END_COUNT && spec.pattern && !at->skip_pat_armed) {
        at->skip_pat_armed = true;
        at->skip_pat_from = 0;
        at->skip_pat_len = 0;
    }
    tm_at__log(at, "at<", "data mode ended (%s) after %zu bytes",
               how == TM_AT_DATA_END_COUNT ? "count" : how == TM_AT_DATA_END_PATTERN ? "pattern" :
               how == TM_AT_DATA_END_ESCAPE ? "+++" : how == TM_AT_DATA_END_HOST_GONE ? "host gone" :
               how == TM_AT_DATA_END_IDLE ? "host silent" : "mangled pattern", total);
    if (spec.on_end)
        spec.on_end(spec.arg, how, total);
}

/* Ends at once, dropping what is held back (pattern prefix, '+' candidates,
 * bytes waiting for room): the payload is abandoned. */
static void abandon(tm_at *at, tm_at_data_end how)
{
    tm_at_data *D = &at->data;
    D->held_len = 0;
    D->rel_len = 0;
    D->plus = 0;
    D->deferred = false;
    D->end_how = how;
    finish(at);
    at->skip_pat_armed = false;
}

void tm_at__data_abort(tm_at *at)
{
    if (at->data.active)
        abandon(at, TM_AT_DATA_END_HOST_GONE);
}

/* idle_ms: when the host's silence ends the payload, or -1. */
static int64_t idle_due(tm_at *at)
{
    tm_at_data *D = &at->data;
    if (!D->spec.idle_ms || D->end_pending)
        return -1;
    if (D->rel_len || (D->spec.room && D->spec.room(D->spec.arg) == 0))
        D->held_back_ms = at->now;     /* the sink holds the host back: not its silence */
    int64_t from = D->last_rx_ms > D->held_back_ms ? D->last_rx_ms : D->held_back_ms;
    return from + (int64_t)D->spec.idle_ms;
}

/* Guard time after "+++" passed: escape; after one or two '+': they are data. */
static void timers(tm_at *at)
{
    tm_at_data *D = &at->data;
    if (D->plus == 0 || D->end_pending)
        return;
    int64_t guard = (int64_t)tm_at_guard_ms(at);
    if (D->plus == 3 && at->now - D->plus3_ms >= guard) {
        D->plus = 0;
        set_end(D, TM_AT_DATA_END_ESCAPE);
    } else if (D->plus < 3 && at->now - D->last_rx_ms >= guard) {
        release_plus(at);
        count_check(at);
    }
}

static bool special(tm_at *at, uint8_t c)
{
    const tm_at_data_in *s = &at->data.spec;
    if (s->escape && c == '+')
        return true;
    if (s->pattern && (c == (uint8_t)at->pattern[0] ||
                       (c == 0xE2 && at->pattern[0] == '-' && at->pattern[1] == '-')))
        return true;
    return false;
}

/* The count ran out inside a possible EOF pattern (count_check): a byte
 * that continues the pattern is taken (true); one that breaks it is left for
 * the command line (false), the held bytes up to the count are data, and the
 * pattern bytes taken after the count go back to the command line first. */
static bool defer_byte(tm_at *at, uint8_t b)
{
    tm_at_data *D = &at->data;
    size_t plen = strlen(at->pattern);
    if (D->held_len < plen && b == (uint8_t)at->pattern[D->held_len]) {
        D->held[D->held_len++] = b;
        D->recv++;
        D->last_rx_ms = at->now;
        if (D->held_len == plen) {
            D->held_len = 0;
            D->deferred = false;
            set_end(D, TM_AT_DATA_END_PATTERN);
        }
        return true;
    }
    for (size_t k = 0; k < D->defer_base; k++)
        rel_push(D, D->held[k]);
    at->skip_pat_armed = true;          /* replay, see engine.c */
    at->skip_pat_from = D->defer_base;
    at->skip_pat_len = D->held_len - D->defer_base;
    D->held_len = 0;
    D->deferred = false;
    set_end(D, TM_AT_DATA_END_COUNT);
    return false;
}

size_t tm_at__data_feed(tm_at *at, const uint8_t *p, size_t len)
{
    tm_at_data *D = &at->data;
    size_t i = 0;
    for (;;) {
        if (!D->active)
            return i;
        if (!drain_rel(at))
            return i;
        if (D->plus && i < len) {
            timers(at);
            if (!drain_rel(at))
                return i;
        }
        if (D->end_pending) {
            finish(at);
            return i;
        }
        if (i >= len)
            return i;
        if (D->held_len == 0 && D->plus == 0) {
            size_t lim = len;
            if (D->spec.count && D->spec.count - D->recv < lim - i)
                lim = i + (D->spec.count - D->recv);
            size_t j = i;
            while (j < lim && !special(at, p[j]))
                j++;
            if (j > i) {
                size_t room = D->spec.room ? D->spec.room(D->spec.arg) : j - i;
                size_t n = room < j - i ? room : j - i;
                if (n == 0)
                    return i;
                if (D->spec.on_data)
                    D->spec.on_data(D->spec.arg, p + i, n);
                D->delivered += n;
                D->recv += n;
                D->last_rx_ms = at->now;
                i += n;
                count_check(at);
                continue;
            }
        }
        if (D->deferred) {
            if (defer_byte(at, p[i]))
                i++;
            continue;
        }
        step(at, p[i++]);
    }
}

void tm_at__data_tick(tm_at *at)
{
    if (!at->data.active)
        return;
    timers(at);
    int64_t due = idle_due(at);
    if (due >= 0 && at->now >= due) {
        abandon(at, TM_AT_DATA_END_IDLE);
        return;
    }
    tm_at__data_feed(at, NULL, 0);
}

int64_t tm_at__data_deadline(tm_at *at)
{
    tm_at_data *D = &at->data;
    if (!D->active)
        return -1;
    int64_t guard = (int64_t)tm_at_guard_ms(at);
    int64_t d = -1;
    if (D->plus == 3)
        d = D->plus3_ms + guard;
    else if (D->plus > 0)
        d = D->last_rx_ms + guard;
    int64_t idle = idle_due(at);
    if (idle >= 0 && (d < 0 || idle < d))
        d = idle;
    return d;
}
