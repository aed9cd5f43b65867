/* See shaper.h.  One link per shaped connection, two directions each:
 *
 *   up    the stream's end of the pair ("inner") -> the real socket ("net")
 *   down  net -> inner
 *
 * A direction is a byte ring plus a FIFO of segments, each with the time it
 * arrives at the other end (µs, from the loop's millisecond clock).  Reading
 * the source schedules a segment: the link is busy with it for len*8/rate
 * after it is free (serialisation), then the segment travels latency; one
 * timer per direction wakes the loop for the head segment.  An end of
 * stream (or a reset) travels the same way behind the last byte.
 *
 * The link ends when the stream closes its end: what it wrote before (a TLS
 * close_notify) still goes out after the latency, then the real socket is
 * closed.  Memory: allocated when a shaped connection opens, freed when it
 * ends; nothing at all while the link is off. */
#include "net/shaper.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "core/trace.h"
#include "net/link.h"
#include "port/port.h"

enum { SEG_DATA, SEG_FIN, SEG_RESET };

typedef struct {
    int64_t  due_us;
    uint32_t len;
    uint8_t  kind;
} seg_t;

typedef struct {
    uint8_t *buf;                 /* TM_SHAPE_BUF bytes */
    size_t   head, used;
    seg_t    q[TM_SHAPE_SEGS];
    unsigned qh, qn;
    int64_t  busy_us;             /* the link carries earlier segments until then */
    int64_t  last_due_us;         /* arrivals stay in order */
    unsigned timer;
    bool     up;
    bool     src_done;            /* end of stream or error read from the source */
    bool     wait_room;           /* UDP: the next datagram does not fit yet */
    bool     dst_blocked;         /* destination full: wait until it is writable */
    bool     dead;                /* destination gone: what arrives is discarded */
    uint64_t bytes, lost, resent;
} dir_t;

typedef struct {
    int      inner, net;
    int      app;                 /* the stream's end, until it detaches (-1 then) */
    bool     udp;
    bool     finished;            /* free at the end of the current callback */
    unsigned linger;
    dir_t    up, down;
    char     label[TM_HOST_MAX + 8];
} link_t;

static link_t *g_links[TM_SHAPE_LINKS];
static int     g_nlinks;
static uint8_t g_scratch[65536];          /* one segment or datagram in transit */
static uint64_t g_rng = 0x9e3779b97f4a7c15ULL;

bool tm_shape_on(void) { return tm_link_get()->on; }

uint32_t tm_shape_connect_delay_ms(bool udp)
{
    return udp || !tm_shape_on() ? 0 : 2 * tm_link_get()->latency_ms;
}

/* xorshift64*: a fixed seed, so a run's loss pattern depends only on its traffic. */
static uint32_t draw_ppm(void)
{
    g_rng ^= g_rng >> 12;
    g_rng ^= g_rng << 25;
    g_rng ^= g_rng >> 27;
    return (uint32_t)(((g_rng * 0x2545F4914F6CDD1DULL) >> 32) % 1000000u);
}

static int64_t now_us(void) { return tm_port_mono_ms() * 1000; }

/* ---- the ring --------------------------------------------------------------- */

static void ring_put(dir_t *d, const uint8_t *p, size_t n)
{
    size_t tail = (d->head + d->used) % TM_SHAPE_BUF;
    size_t first = n < TM_SHAPE_BUF - tail ? n : TM_SHAPE_BUF - tail;
    memcpy(d->buf + tail, p, first);
    memcpy(d->buf, p + first, n - first);
    d->used += n;
}

static void ring_peek(const dir_t *d, uint8_t *p, size_t n)
{
    size_t first = n < TM_SHAPE_BUF - d->head ? n : TM_SHAPE_BUF - d->head;
    memcpy(p, d->buf + d->head, first);
    memcpy(p + first, d->buf, n - first);
}

static void ring_drop(dir_t *d, size_t n)
{
    d->head = (d->head + n) % TM_SHAPE_BUF;
    d->used -= n;
}

/* ---- scheduling --------------------------------------------------------------- */

static void on_up_timer(void *arg);
static void on_down_timer(void *arg);
static void settle(link_t *l);

static void arm(link_t *l, dir_t *d)
{
    if (d->timer || !d->qn || d->dst_blocked)
        return;
    int64_t due_ms = (d->q[d->qh].due_us + 999) / 1000;
    int64_t in = due_ms - tm_port_mono_ms();
    d->timer = tm_port_timer_add(in > 0 ? (uint32_t)in : 0, d->up ? on_up_timer : on_down_timer, l);
    if (!d->timer)
        tm_trace("warn", "%s: shaped link: no timer slot; the %s direction stalls", l->label,
                 d->up ? "up" : "down");
}

static void push(dir_t *d, int64_t due, uint32_t len, uint8_t kind)
{
    if (due < d->last_due_us)
        due = d->last_due_us;
    d->last_due_us = due;
    seg_t *s = &d->q[(d->qh + d->qn) % TM_SHAPE_SEGS];
    s->due_us = due;
    s->len = len;
    s->kind = kind;
    d->qn++;
}

/* One segment read from the source: when it arrives on the other side. */
static void enqueue(link_t *l, dir_t *d, const uint8_t *p, size_t n)
{
    const tm_link *k = tm_link_get();
    uint64_t bps = !k->on ? 0 : d->up ? k->up_bps : k->down_bps;
    int64_t lat = k->on ? (int64_t)k->latency_ms * 1000 : 0;
    uint32_t loss = k->on ? k->loss_ppm : 0;
    int64_t ser = bps ? (int64_t)((uint64_t)n * 8u * 1000000u / bps) : 0;
    int64_t t = now_us();
    int64_t start = d->busy_us > t ? d->busy_us : t;
    d->busy_us = start + ser;
    int64_t due = d->busy_us + lat;
    d->bytes += n;
    if (loss && draw_ppm() < loss) {
        if (l->udp) {
            d->lost++;
            tm_trace("net", "%s: shaped link: %s datagram of %zu bytes lost", l->label, d->up ? "up" : "down", n);
            return;
        }
        /* TCP sends it again after a retransmission timeout, RTT + 200 ms
         * (Linux's minimum variance term) for a steady RTT, doubling each
         * time the copy is lost too (at most 8 times). */
        int64_t rto = 2 * lat + 200000;
        int tries = 0;
        do {
            d->busy_us += ser;
            due += rto + ser;
            rto *= 2;
            d->resent++;
        } while (++tries < 8 && draw_ppm() < loss);
        tm_trace("net", "%s: shaped link: %s segment of %zu bytes lost, resent %d time%s (+%lld ms)", l->label,
                 d->up ? "up" : "down", n, tries, tries > 1 ? "s" : "", (long long)((due - d->busy_us - lat) / 1000));
    }
    ring_put(d, p, n);
    push(d, due, (uint32_t)n, SEG_DATA);
    arm(l, d);
}

static void enqueue_end(link_t *l, dir_t *d, uint8_t kind)
{
    const tm_link *k = tm_link_get();
    int64_t lat = k->on ? (int64_t)k->latency_ms * 1000 : 0;
    int64_t t = now_us();
    push(d, (d->busy_us > t ? d->busy_us : t) + lat, 0, kind);
    arm(l, d);
}

/* ---- moving bytes --------------------------------------------------------------- */

static void linger_over(void *arg)
{
    link_t *l = arg;
    l->linger = 0;
    tm_trace("net", "%s: shaped link: the server did not take the last bytes in time; closed", l->label);
    l->finished = true;
    settle(l);
}

/* Reads the source while there is room. */
static void fill(link_t *l, dir_t *d)
{
    int src = d->up ? l->inner : l->net;
    while (!d->src_done && !d->wait_room && d->qn + 1 < TM_SHAPE_SEGS && d->used < TM_SHAPE_BUF) {
        size_t want = TM_SHAPE_BUF - d->used;
        if (l->udp) {
            ssize_t size = recv(src, NULL, 0, MSG_PEEK | MSG_TRUNC);
            if (size > (ssize_t)want) {
                d->wait_room = true;
                break;
            }
            want = sizeof g_scratch;
        } else if (want > TM_SHAPE_SEG)
            want = TM_SHAPE_SEG;
        ssize_t n = recv(src, g_scratch, want, 0);
        if (n > 0) {
            enqueue(l, d, g_scratch, (size_t)n);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            break;
        if (l->udp && (n == 0 ? !d->up : errno == ECONNREFUSED))
            continue;              /* an empty datagram; an ICMP refusal of an earlier one */
        int err = n < 0 ? errno : 0;
        d->src_done = true;
        if (d->up) {
            /* The stream closed its end: the session is over. */
            l->down.dead = true;
            if (!l->linger)
                l->linger = tm_port_timer_add(TM_SHAPE_LINGER_MS, linger_over, l);
        } else if (n < 0) {
            tm_trace("net", "%s: shaped link: receive: %s (passed on after the bytes before it)", l->label,
                     strerror(err));
        }
        enqueue_end(l, d, n == 0 || d->up ? SEG_FIN : SEG_RESET);
        break;
    }
}

static void end_reached(link_t *l, dir_t *d, uint8_t kind)
{
    if (d->up) {
        l->finished = true;        /* the stream is gone and its last bytes are out */
        return;
    }
    /* The server's end of stream reaches the module: the stream reads 0. */
    if (kind == SEG_FIN) {
        shutdown(l->inner, SHUT_WR);
        return;
    }
    /* A reset: closing a unix socket whose receive queue holds unread bytes
     * makes its peer's next read (after the bytes queued for it) fail with
     * ECONNRESET, as a TCP reset does; the byte is put there from the
     * stream's own end, which is still open (it detaches before closing). */
    l->up.src_done = l->up.dead = true;
    l->up.qn = 0;
    if (l->app >= 0)
        send(l->app, "R", 1, MSG_DONTWAIT | MSG_NOSIGNAL);
    tm_port_unwatch(l->inner);
    close(l->inner);
    l->inner = -1;
}

/* Hands the segments that have arrived to the destination. */
static void deliver(link_t *l, dir_t *d)
{
    int dst = d->up ? l->net : l->inner;
    int64_t t = now_us();
    bool freed = false;
    while (d->qn) {
        seg_t *s = &d->q[d->qh];
        if (s->due_us > t && !d->dead)
            break;
        if (s->kind != SEG_DATA) {
            d->qh = (d->qh + 1) % TM_SHAPE_SEGS;
            d->qn--;
            end_reached(l, d, s->kind);
            continue;
        }
        ssize_t n = (ssize_t)s->len;
        if (!d->dead) {
            ring_peek(d, g_scratch, s->len);
            n = send(dst, g_scratch, s->len, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
                d->dst_blocked = true;
                break;
            }
            if (n < 0 && l->udp && d->up && errno == ECONNREFUSED)
                n = (ssize_t)s->len;           /* no one listens there: the datagram is gone */
            else if (n < 0) {
                d->dead = true;                /* the destination is gone */
                n = (ssize_t)s->len;
            }
        }
        ring_drop(d, (size_t)n);
        freed = true;
        if ((size_t)n < s->len) {
            s->len -= (uint32_t)n;
            d->dst_blocked = true;
            break;
        }
        d->qh = (d->qh + 1) % TM_SHAPE_SEGS;
        d->qn--;
    }
    if (freed) {
        d->wait_room = false;
        fill(l, d);
    }
    arm(l, d);
}

/* ---- the loop's view --------------------------------------------------------------- */

static void io_cb(void *arg, int fd, unsigned ev);

static bool can_read(const dir_t *d)
{
    return !d->src_done && !d->wait_room && d->qn + 1 < TM_SHAPE_SEGS && d->used < TM_SHAPE_BUF;
}

static void link_free(link_t *l)
{
    tm_trace("net", "%s: shaped link closed: up %llu bytes (%llu resent, %llu lost), down %llu bytes "
             "(%llu resent, %llu lost)", l->label, (unsigned long long)l->up.bytes,
             (unsigned long long)l->up.resent, (unsigned long long)l->up.lost,
             (unsigned long long)l->down.bytes, (unsigned long long)l->down.resent,
             (unsigned long long)l->down.lost);
    tm_port_timer_cancel(l->up.timer);
    tm_port_timer_cancel(l->down.timer);
    tm_port_timer_cancel(l->linger);
    if (l->inner >= 0) {
        tm_port_unwatch(l->inner);
        close(l->inner);
    }
    tm_port_unwatch(l->net);
    close(l->net);
    for (int i = 0; i < TM_SHAPE_LINKS; i++)
        if (g_links[i] == l) {
            g_links[i] = NULL;
            g_nlinks--;
        }
    free(l->up.buf);
    free(l->down.buf);
    free(l);
}

/* End of every callback: free a finished link or update what it waits for. */
static void settle(link_t *l)
{
    if (l->finished) {
        link_free(l);
        return;
    }
    unsigned ei = 0, en = 0;
    if (can_read(&l->up))
        ei |= TM_IO_READ;
    if (l->down.dst_blocked)
        ei |= TM_IO_WRITE;
    if (can_read(&l->down))
        en |= TM_IO_READ;
    if (l->up.dst_blocked)
        en |= TM_IO_WRITE;
    if (l->inner >= 0)
        tm_port_watch(l->inner, ei, io_cb, l);
    tm_port_watch(l->net, en, io_cb, l);
}

static void on_timer(link_t *l, dir_t *d)
{
    d->timer = 0;
    deliver(l, d);
    settle(l);
}

static void on_up_timer(void *arg)   { link_t *l = arg; on_timer(l, &l->up); }
static void on_down_timer(void *arg) { link_t *l = arg; on_timer(l, &l->down); }

static void io_cb(void *arg, int fd, unsigned ev)
{
    link_t *l = arg;
    /* inner carries up's source and down's destination; net the reverse */
    dir_t *src = fd == l->inner ? &l->up : &l->down;
    dir_t *dst = fd == l->inner ? &l->down : &l->up;
    if ((ev & (TM_IO_WRITE | TM_IO_ERROR)) && dst->dst_blocked) {
        dst->dst_blocked = false;
        deliver(l, dst);
    }
    if (ev & (TM_IO_READ | TM_IO_ERROR))
        fill(l, src);
    settle(l);
}

int tm_shape_attach(int net_fd, bool udp, const char *label, tm_reason *why)
{
    int slot = -1;
    for (int i = 0; i < TM_SHAPE_LINKS && slot < 0; i++)
        if (!g_links[i])
            slot = i;
    if (slot < 0) {
        tm_fail(why, TM_E_INTERNAL, "link shaping: more than %d shaped connections at once", TM_SHAPE_LINKS);
        return -1;
    }
    int sv[2];
    /* SEQPACKET for UDP: datagram boundaries kept, and the stream's close is
     * seen as an end of stream. */
    if (socketpair(AF_UNIX, (udp ? SOCK_SEQPACKET : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) {
        tm_fail(why, TM_E_INTERNAL, "link shaping: socketpair: %s", strerror(errno));
        return -1;
    }
    link_t *l = calloc(1, sizeof *l);
    if (l) {
        l->up.buf = malloc(TM_SHAPE_BUF);
        l->down.buf = malloc(TM_SHAPE_BUF);
    }
    if (!l || !l->up.buf || !l->down.buf) {
        if (l) {
            free(l->up.buf);
            free(l->down.buf);
        }
        free(l);
        close(sv[0]);
        close(sv[1]);
        tm_fail(why, TM_E_INTERNAL, "link shaping: out of memory");
        return -1;
    }
    if (!udp) {
        /* Small pair buffers: the stream's writes block as soon as the
         * shaper's own queue is full (a 200 KiB default would hide minutes
         * of a slow link from the producer). */
        int sz = TM_SHAPE_PAIR_BUF;
        setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
        setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    }
    l->inner = sv[0];
    l->app = sv[1];
    l->net = net_fd;
    l->udp = udp;
    l->up.up = true;
    snprintf(l->label, sizeof l->label, "%s", label);
    g_links[slot] = l;
    g_nlinks++;
    char desc[160];
    tm_link_describe(tm_link_get(), desc, sizeof desc);
    tm_trace("net", "%s: shaped (%s)", l->label, desc);
    settle(l);                     /* takes net_fd's watch over */
    return sv[1];
}

void tm_shape_detach(int fd)
{
    if (!g_nlinks || fd < 0)
        return;
    for (int i = 0; i < TM_SHAPE_LINKS; i++) {
        link_t *l = g_links[i];
        if (!l || l->app != fd)
            continue;
        l->app = -1;
        if (l->inner < 0)
            link_free(l);          /* reset already delivered: nothing more to carry */
        return;                    /* else the end of stream comes through inner (fill) */
    }
}
