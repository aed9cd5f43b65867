/* tlsmodem — AT engine output ring towards the host (see at.h). */
#include "at/at_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t tm_at_out_peek(tm_at *at, const uint8_t **p)
{
    *p = at->out + at->out_head;
    size_t first = TM_OUT_BUF - at->out_head;
    return at->out_len < first ? at->out_len : first;
}

void tm_at_out_consume(tm_at *at, size_t n)
{
    if (n > at->out_len)
        n = at->out_len;
    at->out_head = (at->out_head + n) % TM_OUT_BUF;
    at->out_len -= n;
    if (at->out_len == 0)
        at->out_head = 0;   /* keeps peek contiguous as often as possible */
}

size_t tm_at_out_pending(tm_at *at) { return at->out_len; }

size_t tm_at_out_room(tm_at *at)
{
    size_t free_ = TM_OUT_BUF - at->out_len;
    size_t room = free_ > TM_AT_OUT_RESERVE ? free_ - TM_AT_OUT_RESERVE : 0;
    if (room < TM_AT_STREAM_ROOM)
        at->out_short = true;     /* the asker may now wait for the host to drain */
    return room;
}

bool tm_at_out_take_short(tm_at *at)
{
    bool s = at->out_short;
    at->out_short = false;
    return s;
}

uint64_t tm_at_out_dropped(tm_at *at) { return at->out_dropped; }

static void spool_add(tm_at *at, const void *p, size_t n)
{
    if (at->spool_cut)
        return;
    if (at->spool_len + n > at->spool_cap) {
        size_t cap = at->spool_cap ? at->spool_cap : 64 * 1024;
        while (cap < at->spool_len + n && cap < TM_AT_SPOOL_MAX)
            cap *= 2;
        if (cap > TM_AT_SPOOL_MAX)
            cap = TM_AT_SPOOL_MAX;
        uint8_t *b = cap >= at->spool_len + n ? realloc(at->spool, cap) : NULL;
        if (!b) {
            at->spool_cut = true;
            tm_at__log(at, "warn", "AT%s: answer longer than %d bytes (or no memory): cut", at->tok.name,
                       TM_AT_SPOOL_MAX);
            return;
        }
        at->spool = b;
        at->spool_cap = cap;
    }
    memcpy(at->spool + at->spool_len, p, n);
    at->spool_len += n;
}

static void spool_free(tm_at *at)
{
    free(at->spool);
    at->spool = NULL;
    at->spool_len = at->spool_cap = at->spool_off = 0;
    at->spool_on = at->spool_cut = false;
}

void tm_at_cleanup(tm_at *at)
{
    spool_free(at);
}

void tm_at_spool(tm_at *at)
{
    spool_free(at);
    at->spool_on = true;
}

static tm_err spool_more(tm_at *at, void *arg, bool stop)
{
    (void)arg;
    while (!stop && at->spool_off < at->spool_len) {
        size_t room = tm_at_out_room(at);
        if (!room)
            return TM_AT_PENDING;
        size_t n = at->spool_len - at->spool_off < room ? at->spool_len - at->spool_off : room;
        tm_at_write(at, at->spool + at->spool_off, n);
        at->spool_off += n;
    }
    spool_free(at);
    return at->spool_result;
}

tm_err tm_at_spool_end(tm_at *at, tm_err result)
{
    if (at->spool_cut) {
        at->spool_on = false;
        tm_at_line(at, "(answer cut at %d bytes)", TM_AT_SPOOL_MAX);
        at->spool_cut = false;
    }
    at->spool_on = false;
    if (!at->spool_len) {
        spool_free(at);
        return result;
    }
    at->spool_result = result;
    return tm_at_stream(at, spool_more, NULL);
}

/* Nearly full: whoever writes next (a body, the engine taking host bytes, a
 * URC, a streamed answer) may now wait for the host to drain. */
static void note_fill(tm_at *at)
{
    if (TM_OUT_BUF - at->out_len < TM_AT_OUT_RESERVE + TM_AT_STREAM_ROOM)
        at->out_short = true;
}

size_t tm_at_out_place(tm_at *at, uint8_t **p)
{
    if (at->spool_on)
        return 0;
    size_t room = tm_at_out_room(at);
    size_t tail = (at->out_head + at->out_len) % TM_OUT_BUF;
    /* free bytes from the tail up to the end of the ring, or up to the head
     * once the pending bytes wrapped */
    size_t contig = tail < at->out_head ? at->out_head - tail : TM_OUT_BUF - tail;
    *p = at->out + tail;
    return contig < room ? contig : room;
}

void tm_at_out_commit(tm_at *at, size_t n)
{
    size_t free_ = TM_OUT_BUF - at->out_len;
    at->out_len += n < free_ ? n : free_;
    note_fill(at);
}

void tm_at_write(tm_at *at, const void *p, size_t n)
{
    if (at->spool_on) {
        spool_add(at, p, n);
        return;
    }
    size_t free_ = TM_OUT_BUF - at->out_len;
    if (n > free_) {
        /* Only reachable when a producer ignored tm_at_out_room() and used
         * up the reserve too: keep what fits, count and say the rest. */
        at->out_dropped += n - free_;
        tm_at__log(at, "warn", "out overflow: %zu of %zu bytes dropped (host not reading; "
                   "a producer ignored tm_at_out_room)", n - free_, n);
        n = free_;
    }
    const uint8_t *s = p;
    size_t tail = (at->out_head + at->out_len) % TM_OUT_BUF;
    size_t first = TM_OUT_BUF - tail;
    if (first > n)
        first = n;
    memcpy(at->out + tail, s, first);
    memcpy(at->out, s + first, n - first);
    at->out_len += n;
    note_fill(at);
}

void tm_at_printf(tm_at *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(at->printbuf, sizeof at->printbuf, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof at->printbuf) {
        tm_at__log(at, "warn", "tm_at_printf: %d bytes cut to %zu", n, sizeof at->printbuf - 1);
        n = (int)sizeof at->printbuf - 1;
    }
    tm_at_write_ascii(at, at->printbuf, (size_t)n);
}

/* Typographic characters our own texts use (reasons, probe reports), and
 * what a module prints instead.  Only these: other bytes >= 0x80 are the
 * host's own (an SSID, "it’s" in an argument) reflected back, and pass as
 * they came. */
static const struct { const char *utf8, *ascii; } ASCII_FOR[] = {
    { "\xe2\x80\xa6", "..." },  /* … */
    { "\xe2\x80\x93", "-" },    /* – */
    { "\xe2\x80\x94", "-" },    /* — */
    { "\xe2\x86\x92", "->" },   /* → */
    { "\xe2\x89\xa4", "<=" },   /* ≤ */
    { "\xe2\x89\xa5", ">=" },   /* ≥ */
    { "\xc2\xb1", "+-" },        /* ± */
};

void tm_at_write_ascii(tm_at *at, const char *s, size_t n)
{
    size_t run = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k;
        for (k = 0; k < sizeof ASCII_FOR / sizeof ASCII_FOR[0]; k++) {
            size_t l = strlen(ASCII_FOR[k].utf8);
            if (l <= n - i && memcmp(s + i, ASCII_FOR[k].utf8, l) == 0) {
                tm_at_write(at, s + run, i - run);
                tm_at_write(at, ASCII_FOR[k].ascii, strlen(ASCII_FOR[k].ascii));
                i += l;
                run = i;
                break;
            }
        }
        if (k == sizeof ASCII_FOR / sizeof ASCII_FOR[0])
            i++;       /* the host's byte: as it came */
    }
    tm_at_write(at, s + run, n - run);
}

void tm_at_line(tm_at *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(at->linebuf, sizeof at->linebuf, fmt, ap);
    va_end(ap);
    tm_at__log(at, "at>", "%s", at->linebuf);
    if (at->d->voice && at->d->voice->line)
        at->d->voice->line(at, at->linebuf);
    else
        tm_at_v250_line(at, at->linebuf);
}

void tm_at_v250_result(tm_at *at, const char *verbose, int numeric)
{
    if (at->quiet)
        return;
    if (at->verbose)
        tm_at_printf(at, "\r\n%s\r\n", verbose);
    else
        tm_at_printf(at, "%d\r", numeric);
}

void tm_at_v250_line(tm_at *at, const char *text)
{
    if (at->verbose)
        tm_at_printf(at, "\r\n%s\r\n", text);
    else
        tm_at_printf(at, "%s\r\n", text);
}
