/* net/shaper.c: the relay below TLS (docs/control.md "Link shaping"), over
 * socketpairs standing for the server's socket, driven by the real poll()
 * loop: latency, rate, TCP loss as a retransmission delay (in order, no byte
 * lost), UDP loss as a drop, ends of stream both ways.  Lower bounds only
 * (the shaper never delivers early); the upper ones are generous. */
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/link.h"
#include "net/shaper.h"
#include "port/port.h"
#include "port/posix/loop.h"
#include "tm_test.h"

static void set_link(const char *spec)
{
    tm_link l;
    tm_reason why;
    tm_reason_clear(&why);
    TM_CHECK_MSG(tm_link_parse(spec, &l, &why) == TM_OK, "%s", why.detail);
    tm_link_set(&l);
}

/* Runs the loop until fd has n bytes (or a datagram / end of stream when
 * n == 0); returns what recv returned, *ms the time it took. */
static long wait_read(int fd, void *buf, size_t n, int64_t *ms, int64_t max_ms)
{
    int64_t t0 = tm_port_mono_ms();
    size_t got = 0;
    for (;;) {
        long r = recv(fd, (char *)buf + got, n ? n - got : 65536, MSG_DONTWAIT);
        if (r == 0 || (r > 0 && (n == 0 || (got += (size_t)r) == n))) {
            *ms = tm_port_mono_ms() - t0;
            return n ? (long)got : r;
        }
        if (tm_port_mono_ms() - t0 > max_ms) {
            *ms = tm_port_mono_ms() - t0;
            return -1;
        }
        tm_loop_run_once(5);
    }
}

static int attach(int type, int *server, bool udp)
{
    int sp[2];
    TM_CHECK(socketpair(AF_UNIX, type | SOCK_NONBLOCK, 0, sp) == 0);
    *server = sp[0];
    tm_reason why;
    tm_reason_clear(&why);
    int inner = tm_shape_attach(sp[1], udp, "test:1", &why);
    TM_CHECK_MSG(inner >= 0, "%s", why.detail);
    return inner;
}

static void test_latency_rate_and_ends(void)
{
    char buf[4096];
    int64_t ms;
    int server;
    set_link("latency=60ms");
    TM_EQ_INT(tm_shape_connect_delay_ms(false), 120);
    TM_EQ_INT(tm_shape_connect_delay_ms(true), 0);
    int inner = attach(SOCK_STREAM, &server, false);
    TM_EQ_INT(send(server, "hello", 5, 0), 5);
    TM_EQ_INT(wait_read(inner, buf, 5, &ms, 2000), 5);
    TM_EQ_MEM(buf, 5, "hello", 5);
    TM_CHECK_MSG(ms >= 59 && ms < 1000, "down latency %lld ms", (long long)ms);
    TM_EQ_INT(send(inner, "up", 2, 0), 2);
    TM_EQ_INT(wait_read(server, buf, 2, &ms, 2000), 2);
    TM_CHECK_MSG(ms >= 59 && ms < 1000, "up latency %lld ms", (long long)ms);

    /* rate: 2000 bytes at 80 kbit/s (10000 B/s) take 200 ms */
    set_link("rate=80k");
    static char blob[2000];
    for (size_t i = 0; i < sizeof blob; i++)
        blob[i] = (char)(i * 31);
    TM_EQ_INT(send(server, blob, sizeof blob, 0), (long)sizeof blob);
    TM_EQ_INT(wait_read(inner, buf, sizeof blob, &ms, 3000), (long)sizeof blob);
    TM_EQ_MEM(buf, sizeof blob, blob, sizeof blob);
    TM_CHECK_MSG(ms >= 199 && ms < 2000, "2000 bytes at 10000 B/s in %lld ms", (long long)ms);

    /* the server's end of stream reaches the module after the bytes before it */
    set_link("latency=30ms");
    TM_EQ_INT(send(server, "bye", 3, 0), 3);
    shutdown(server, SHUT_WR);
    TM_EQ_INT(wait_read(inner, buf, 3, &ms, 2000), 3);
    TM_EQ_INT(wait_read(inner, buf, 0, &ms, 2000), 0);
    /* the module closes: its last bytes, then the end, reach the server */
    TM_EQ_INT(send(inner, "last", 4, 0), 4);
    tm_shape_detach(inner);
    close(inner);
    TM_EQ_INT(wait_read(server, buf, 4, &ms, 2000), 4);
    TM_EQ_MEM(buf, 4, "last", 4);
    TM_CHECK(ms >= 29);
    TM_EQ_INT(wait_read(server, buf, 0, &ms, 2000), 0);
    close(server);
}

/* TCP loss: every segment arrives, in order; a lost one one retransmission
 * timeout (RTT + 200 ms, here 200 ms) late, the ones behind it wait. */
static void test_tcp_loss_is_a_delay(void)
{
    char buf[64];
    int64_t ms;
    int server;
    set_link("loss=20%");
    int inner = attach(SOCK_STREAM, &server, false);
    int fast = 0, late = 0;
    for (int i = 0; i < 8; i++) {
        char seg[8];
        int len = snprintf(seg, sizeof seg, "seg%d", i);
        TM_EQ_INT(send(server, seg, (size_t)len, 0), len);
        TM_EQ_INT(wait_read(inner, buf, (size_t)len, &ms, 60000), len);
        TM_EQ_MEM(buf, (size_t)len, seg, (size_t)len);
        TM_CHECK_MSG(ms < 100 || ms >= 199, "segment %d after %lld ms: neither on time nor an RTO late", i,
                     (long long)ms);
        if (ms < 100)
            fast++;
        else
            late++;
    }
    TM_CHECK_MSG(fast > 0 && late > 0, "20%% loss over 8 segments: %d on time, %d late", fast, late);
    tm_shape_detach(inner);
    close(inner);
    close(server);
}

/* UDP: datagrams keep their boundaries; a lost one is gone. */
static void test_udp_datagrams_and_loss(void)
{
    char buf[256];
    int64_t ms;
    int server;
    set_link("latency=20ms");
    int inner = attach(SOCK_DGRAM, &server, true);
    TM_EQ_INT(send(inner, "one", 3, 0), 3);
    TM_EQ_INT(send(inner, "two!", 4, 0), 4);
    TM_EQ_INT(wait_read(server, buf, 0, &ms, 2000), 3);
    TM_CHECK(ms >= 19);
    TM_EQ_INT(wait_read(server, buf, 0, &ms, 2000), 4);
    TM_EQ_MEM(buf, 4, "two!", 4);
    TM_EQ_INT(send(server, "back", 4, 0), 4);
    TM_EQ_INT(wait_read(inner, buf, 0, &ms, 2000), 4);
    set_link("loss=100%");
    TM_EQ_INT(send(server, "lost", 4, 0), 4);
    TM_EQ_INT(wait_read(inner, buf, 0, &ms, 300), -1);
    tm_shape_detach(inner);
    close(inner);
    close(server);
}

/* A reset by the server reaches the stream as a reset, after the bytes
 * before it (a real TCP connection stands for the server's). */
static void test_tcp_reset_passes(void)
{
    char buf[64];
    int64_t ms;
    set_link("latency=20ms");
    int lst = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t al = sizeof a;
    TM_CHECK(bind(lst, (struct sockaddr *)&a, sizeof a) == 0 && listen(lst, 1) == 0);
    TM_CHECK(getsockname(lst, (struct sockaddr *)&a, &al) == 0);
    int net = socket(AF_INET, SOCK_STREAM, 0);
    TM_CHECK(connect(net, (struct sockaddr *)&a, sizeof a) == 0);
    int server = accept(lst, NULL, NULL);
    close(lst);
    fcntl(net, F_SETFL, O_NONBLOCK);
    tm_reason why;
    tm_reason_clear(&why);
    int inner = tm_shape_attach(net, false, "test:rst", &why);
    TM_CHECK(inner >= 0);
    TM_EQ_INT(send(server, "abc", 3, 0), 3);
    struct linger lg = { 1, 0 };
    setsockopt(server, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(server);                                 /* RST */
    TM_EQ_INT(wait_read(inner, buf, 3, &ms, 2000), 3);
    TM_EQ_MEM(buf, 3, "abc", 3);
    int64_t t0 = tm_port_mono_ms();
    long r;
    while ((r = recv(inner, buf, sizeof buf, MSG_DONTWAIT)) < 0 && errno == EAGAIN &&
           tm_port_mono_ms() - t0 < 2000)
        tm_loop_run_once(5);
    TM_EQ_INT(r, -1);
    TM_EQ_INT(errno, ECONNRESET);
    TM_CHECK(send(inner, "x", 1, MSG_NOSIGNAL) < 0);   /* writes fail too */
    tm_shape_detach(inner);
    close(inner);
}

int main(void)
{
    tm_loop_reset();
    test_latency_rate_and_ends();
    test_tcp_loss_is_a_delay();
    test_udp_datagrams_and_loss();
    test_tcp_reset_passes();
    for (int i = 0; i < 20; i++)
        tm_loop_run_once(20);        /* the links see their ends and are freed */
    set_link("off");
    TM_CHECK(!tm_shape_on());
    TM_TEST_MAIN_END();
}
