/* bench/drain.c — the host-side reader of the download benchmark, the same
 * for tlsmodem and curl, written in C so that the reader is never the
 * slowest process on the pipe (bench/README.md, "The reader").
 *
 *   drain [-s START] [-e END] [-i IDLE_S]
 *
 * Reads stdin in 1 MiB reads.  -s: the bytes up to and including the first
 * START are skipped (tlsmodem's "CONNECT\r\n"; it must come within 64 KiB).
 * Then the bytes are counted, kept nowhere, until END (tlsmodem's EOF
 * pattern, found across read borders) or, without -e, until end of file.
 * Writes "<count>\n" to stdout followed by the bytes read after END (the
 * rest of the last read: the result lines the benchmark checks next) and
 * exits 0.  Exit 3: IDLE_S seconds (default 10) without a byte — a stall;
 * exit 4: START not within 64 KiB, or end of file before END (stdout then
 * has the count and the bytes seen before START, for the diagnosis). */
#define _GNU_SOURCE    /* memmem */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READ_CAP  (1 << 20)
#define START_MAX (64 * 1024)
#define MARK_MAX  64

static unsigned char g_buf[MARK_MAX + READ_CAP];

/* One read of at most cap bytes into p; 0 at end of file, -3 after idle_ms
 * without a byte, -1 on an error. */
static long read_some(unsigned char *p, size_t cap, int idle_ms)
{
    struct pollfd pfd = { .fd = 0, .events = POLLIN };
    int r = poll(&pfd, 1, idle_ms);
    if (r == 0)
        return -3;
    if (r < 0)
        return -1;
    ssize_t n = read(0, p, cap);
    return n < 0 ? -1 : (long)n;
}

static int finish(unsigned long long count, const unsigned char *rest, size_t n, int code)
{
    printf("%llu\n", count);
    fwrite(rest, 1, n, stdout);
    fflush(stdout);
    return code;
}

int main(int argc, char **argv)
{
    const char *start = NULL, *end = NULL;
    int idle_ms = 10000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "-s"))
            start = argv[i + 1];
        else if (!strcmp(argv[i], "-e"))
            end = argv[i + 1];
        else if (!strcmp(argv[i], "-i"))
            idle_ms = atoi(argv[i + 1]) * 1000;
        else
            argc = 0;
    }
    if (argc % 2 == 0 || (end && (!*end || strlen(end) > MARK_MAX)) || (start && !*start)) {
        fprintf(stderr, "usage: drain [-s START] [-e END (1..%d bytes)] [-i IDLE_S]\n", MARK_MAX);
        return 2;
    }
    size_t have = 0;      /* bytes at the front of g_buf not counted yet */
    if (start) {
        size_t sl = strlen(start);
        for (;;) {
            unsigned char *hit = memmem(g_buf, have, start, sl);
            if (hit) {
                size_t after = have - (size_t)(hit + sl - g_buf);
                memmove(g_buf, hit + sl, after);
                have = after;
                break;
            }
            if (have >= START_MAX)
                return finish(0, g_buf, have, 4);
            long n = read_some(g_buf + have, sizeof g_buf - have, idle_ms);
            if (n <= 0)
                return finish(0, g_buf, have, n == -3 ? 3 : 4);
            have += (size_t)n;
        }
    }
    unsigned long long count = 0;
    size_t el = end ? strlen(end) : 0;
    for (;;) {
        if (end) {
            unsigned char *hit = memmem(g_buf, have, end, el);
            if (hit) {
                size_t before = (size_t)(hit - g_buf);
                return finish(count + before, hit + el, have - before - el, 0);
            }
        }
        /* count all but what may be the start of END */
        size_t keep = end ? (have < el - 1 ? have : el - 1) : 0;
        count += have - keep;
        memmove(g_buf, g_buf + have - keep, keep);
        have = keep;
        long n = read_some(g_buf + have, READ_CAP, idle_ms);
        if (n == 0)
            return finish(count + have, NULL, 0, end ? 4 : 0);
        if (n < 0)
            return finish(count + have, NULL, 0, n == -3 ? 3 : 4);
        have += (size_t)n;
    }
}
