/* See harness.h. */
#include "harness.h"

#include <fcntl.h>
#include <ftw.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/trace.h"
#include "net/net.h"
#include "port/posix/loop.h"

/* ---- PRNG (splitmix64) -------------------------------------------------- */

void fz_rng_seed(fz_rng *r, const uint8_t *p, size_t n)
{
    r->s = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < n; i++)
        r->s = (r->s ^ p[i]) * 0x100000001B3ull;
}

uint32_t fz_rng_next(fz_rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (uint32_t)((z ^ (z >> 31)) >> 32);
}

uint32_t fz_rng_below(fz_rng *r, uint32_t n) { return fz_rng_next(r) % n; }

size_t fz_rng_chunk(fz_rng *r)
{
    uint32_t k = fz_rng_below(r, 100);
    if (k < 80)
        return 1 + fz_rng_below(r, 16);
    if (k < 97)
        return 1 + fz_rng_below(r, 256);
    return 1 + fz_rng_below(r, 4096);
}

/* ---- the store directory ------------------------------------------------- */

static char g_dir[512];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    if (ftw->level > 0)
        remove(path);
    return 0;
}

static void remove_dir(void)
{
    if (!g_dir[0])
        return;
    nftw(g_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    rmdir(g_dir);
}

const char *fz_store_dir(void)
{
    if (g_dir[0])
        return g_dir;
    const char *base = getenv("TM_FUZZ_TMP");
    if (!base || !*base)
        base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    snprintf(g_dir, sizeof g_dir, "%s/tlsmodem-fuzz.XXXXXX", base);
    if (!mkdtemp(g_dir)) {
        perror("fuzz: mkdtemp");
        abort();
    }
    atexit(remove_dir);
    return g_dir;
}

void fz_store_wipe(void)
{
    nftw(fz_store_dir(), rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Traces are formatted (their arguments are data too) and thrown away. */
static void null_sink(void *arg, const char *line, size_t len)
{
    (void)arg;
    static int show = -1;
    if (show < 0) {
        const char *e = getenv("TM_FUZZ_TRACE");
        show = e && *e && *e != '0';
    }
    if (show)
        fwrite(line, 1, len, stderr);     /* TM_FUZZ_TRACE=1: the --trace lines */
}

static void null_log(void *arg, const char *cat, const char *text)
{
    (void)arg;
    (void)cat;
    (void)text;
}

/* ---- fake servers ------------------------------------------------------------ */

#define FZ_CONN_MAX 64
static const uint8_t *g_resp;
static size_t         g_resp_len;
static int            g_ours[FZ_CONN_MAX], g_peers[FZ_CONN_MAX], g_nconn;

void fz_modem_server(const uint8_t *resp, size_t len)
{
    g_resp = resp;
    g_resp_len = resp ? len : 0;
}

static int offline_connect(void *arg, const char *host, uint16_t port, bool udp)
{
    (void)arg;
    (void)host;
    (void)port;
    if (!g_resp || g_nconn >= FZ_CONN_MAX)
        return -1;
    int sp[2];
    if (socketpair(AF_UNIX, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sp) < 0)
        return -1;
    if (g_resp_len) {
        ssize_t w = write(sp[1], g_resp, g_resp_len);   /* short when larger than the socket buffer */
        (void)w;
    }
    if (!udp)
        shutdown(sp[1], SHUT_WR);
    g_ours[g_nconn] = sp[0];
    g_peers[g_nconn++] = sp[1];
    return sp[0];
}

static bool is_peer(int fd)
{
    for (int i = 0; i < g_nconn; i++)
        if (g_peers[i] == fd)
            return true;
    return false;
}

static void close_servers(void)
{
    for (int i = 0; i < g_nconn; i++) {
        /* A number closed by the stream may since have been given to a later
         * server end (still open here): that is not a leak. */
        if (fcntl(g_ours[i], F_GETFD) >= 0 && !is_peer(g_ours[i])) {
            char link[64], what[256] = "?";
            snprintf(link, sizeof link, "/proc/self/fd/%d", g_ours[i]);
            ssize_t n = readlink(link, what, sizeof what - 1);
            what[n > 0 ? n : 0] = '\0';
            fprintf(stderr, "fuzz: connection %d of %d (fd %d, %s) still open after the dialect stopped\n",
                    i + 1, g_nconn, g_ours[i], what);
            abort();
        }
    }
    for (int i = 0; i < g_nconn; i++)
        close(g_peers[i]);
    g_nconn = 0;
}

/* ---- the modem ------------------------------------------------------------ */

void fz_modem_store_open(tm_modem *m)
{
    memset(m, 0, sizeof *m);
    tm_net_set_offline(offline_connect, NULL);
    tm_trace_set_sink(null_sink, NULL);
    fz_store_wipe();
    tm_reason why;
    tm_reason_clear(&why);
    if (tm_store_open(&m->store, fz_store_dir(), &why) != TM_OK) {
        fprintf(stderr, "fuzz: store %s: %s\n", fz_store_dir(), why.detail);
        abort();
    }
    m->clock_mode = TM_CLOCK_HOST;
}

void fz_modem_start(tm_modem *m, const char *dialect, int64_t now)
{
    if (!m->store.root[0])
        fz_modem_store_open(m);
    m->dialect = tm_dialect_find(dialect);
    if (!m->dialect)
        abort();
    m->at = calloc(1, tm_at_sizeof());
    if (!m->at)
        abort();
    tm_at_init(m->at, m->dialect->at, m);
    tm_at_set_now(m->at, now);
    tm_at_set_log(m->at, null_log, NULL);
    if (m->dialect->start)
        m->dialect->start(m);
}

void fz_modem_pump(tm_modem *m, int64_t now)
{
    for (int i = 0; i < 3; i++) {
        tm_at_tick(m->at, now);
        tm_loop_run_once(0);
    }
    tm_at_tick(m->at, now);
}

/* TM_FUZZ_SHOW=1: what the host would read goes to stderr (replaying a
 * reproducer: build-fuzz/fuzz/fuzz_at_hl FILE). */
static int show_output(void)
{
    static int show = -1;
    if (show < 0) {
        const char *e = getenv("TM_FUZZ_SHOW");
        show = e && *e && *e != '0';
    }
    return show;
}

void fz_modem_drain(tm_modem *m, size_t max)
{
    while (max > 0) {
        const uint8_t *p;
        size_t n = tm_at_out_peek(m->at, &p);
        if (n == 0)
            return;
        if (n > max)
            n = max;
        /* Touch every byte: a pointer past the buffer shows up here. */
        volatile uint8_t sum = 0;
        for (size_t i = 0; i < n; i++)
            sum ^= p[i];
        (void)sum;
        if (show_output())
            fwrite(p, 1, n, stderr);
        tm_at_out_consume(m->at, n);
        max -= n;
    }
}

void fz_modem_feed(tm_modem *m, fz_rng *r, const uint8_t *p, size_t len, int drain_mode, int64_t *now)
{
    size_t pos = 0;
    int stalls = 0;
    while (pos < len && stalls < 4) {
        size_t n = fz_rng_chunk(r);
        if (n > len - pos)
            n = len - pos;
        tm_at_set_now(m->at, *now);
        size_t used = tm_at_feed(m->at, p + pos, n);
        if (used > n)
            abort();                       /* the engine claims bytes it was not given */
        pos += used;
        fz_modem_pump(m, *now);
        if (drain_mode == 0)
            fz_modem_drain(m, SIZE_MAX);
        else if (drain_mode == 2)
            fz_modem_drain(m, fz_rng_below(r, 2048));
        if (used < n) {
            /* Backpressure: a data sink or the output is full; let time pass
             * and the host read, as a real host eventually does. */
            stalls++;
            fz_modem_drain(m, SIZE_MAX);
            *now += 1000;
            fz_modem_pump(m, *now);
        } else {
            stalls = 0;
        }
        uint32_t k = fz_rng_below(r, 16);
        *now += k < 12 ? 0 : k < 15 ? fz_rng_below(r, 100) : 1000 + fz_rng_below(r, 2000);
    }
}

void fz_modem_stop(tm_modem *m)
{
    fz_modem_drain(m, SIZE_MAX);
    if (m->dialect->stop)
        m->dialect->stop(m);
    fz_modem_drain(m, SIZE_MAX);
    tm_loop_reset();
    close_servers();
    free(m->at);
    m->at = NULL;
    m->store.root[0] = '\0';     /* the next fz_modem_start wipes it again */
}
