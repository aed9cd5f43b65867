/* net.c (resolve table, literals, connect errors) and stream.c over plain
 * TCP against an in-process listener: data, backpressure, peer close. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/dns.h"
#include "net/net.h"
#include "net/stream.h"
#include "port/posix/loop.h"
#include "port/port.h"
#include "tm_test.h"

typedef struct {
    tm_stream s;
    bool      opened, done;
    tm_err    err;
    size_t    got;
    int       readable_calls;
    bool      pause_after_first;
} run_t;

static void ev_open(void *arg) { ((run_t *)arg)->opened = true; }
static void ev_readable(void *arg)
{
    run_t *r = arg;
    r->readable_calls++;
    for (;;) {
        char buf[4096];
        long n = tm_stream_read(&r->s, buf, sizeof buf);
        if (n == TM_STREAM_AGAIN)
            return;
        if (n <= 0) {
            r->done = true;
            r->err = n == 0 ? TM_OK : r->s.reason.code;
            tm_stream_close(&r->s);
            return;
        }
        r->got += (size_t)n;
        if (r->pause_after_first) {
            tm_stream_want_read(&r->s, false);
            return;
        }
    }
}
static void ev_writable(void *arg) { (void)arg; }
static void ev_error(void *arg, const tm_reason *why)
{
    run_t *r = arg;
    r->done = true;
    r->err = why->code;
}
static const tm_stream_events evs = { ev_open, ev_readable, ev_writable, ev_error };

static int    g_dns_calls;
static tm_err g_dns_err;
static char   g_dns_detail[TM_DETAIL_MAX];
static void dns_cb(void *arg, tm_err result, const struct sockaddr_storage *addr, socklen_t len,
                   const tm_reason *why)
{
    (void)arg; (void)addr; (void)len;
    g_dns_calls++;
    g_dns_err = result;
    snprintf(g_dns_detail, sizeof g_dns_detail, "%s", why->detail);
}

static int refuse_all(void *arg, const char *host, uint16_t port, bool udp) { return -1; }
static int give_fd(void *arg, const char *host, uint16_t port, bool udp) { return *(int *)arg; }

static void spin(run_t *r, bool *flag, int ms)
{
    int64_t end = tm_port_mono_ms() + ms;
    while (!*flag && tm_port_mono_ms() < end)
        tm_loop_run_once(20);
    (void)r;
}

int main(void)
{
    tm_reason why;
    tm_reason_clear(&why);
    TM_CHECK(tm_net_is_ip_literal("127.0.0.1"));
    TM_CHECK(tm_net_is_ip_literal("::1"));
    TM_CHECK(tm_net_is_ip_literal("[2001:db8::1]"));
    TM_CHECK(!tm_net_is_ip_literal("www.example.test"));
    TM_CHECK(!tm_net_is_ip_literal("127.0.0.1 "));
    TM_EQ_INT(tm_net_add_resolve("www.example.test:443:127.0.0.1", &why), TM_OK);
    TM_EQ_INT(tm_net_add_resolve("v6.test:443:[::1]", &why), TM_OK);
    TM_EQ_INT(tm_net_add_resolve("any.test:*:10.1.2.3", &why), TM_OK);
    TM_EQ_INT(tm_net_add_resolve("www.example.test:443:127.0.0.2", &why), TM_OK);   /* replaces */
    TM_EQ_INT(tm_net_add_resolve("x.test:99999:127.0.0.1", &why), TM_E_ARG_BAD);
    TM_EQ_INT(tm_net_add_resolve("x.test:443:nothing", &why), TM_E_ARG_BAD);
    TM_EQ_INT(tm_net_add_resolve("x.test", &why), TM_E_ARG_BAD);
    struct sockaddr_storage a;
    socklen_t al;
    char s[80];
    TM_EQ_INT(tm_net_resolve("WWW.example.test.", 443, &a, &al, &why), TM_OK);
    TM_EQ_STR(tm_net_addr_str(&a, s, sizeof s), "127.0.0.2:443");
    TM_EQ_INT(tm_net_resolve("v6.test", 443, &a, &al, &why), TM_OK);
    TM_EQ_STR(tm_net_addr_str(&a, s, sizeof s), "[::1]:443");
    TM_EQ_INT(tm_net_resolve("any.test", 8443, &a, &al, &why), TM_OK);
    TM_EQ_STR(tm_net_addr_str(&a, s, sizeof s), "10.1.2.3:8443");
    /* the name alone (port 0, AT+CIPDOMAIN): an entry for any port; a port
     * without an entry of its own or "*" is not answered from another port's */
    TM_EQ_INT(tm_net_resolve_local("www.example.test", 0, &a, &al, &why), 1);
    TM_EQ_STR(tm_net_addr_str(&a, s, sizeof s), "127.0.0.2:0");
    TM_EQ_INT(tm_net_resolve_local("www.example.test", 8443, &a, &al, &why), 0);
    TM_EQ_INT(tm_net_resolve_local("any.test", 0, &a, &al, &why), 1);
    TM_EQ_STR(tm_net_addr_str(&a, s, sizeof s), "10.1.2.3:0");
    TM_EQ_INT(tm_net_resolve("::1", 80, &a, &al, &why), TM_OK);
    TM_EQ_STR(tm_net_addr_str(&a, s, sizeof s), "[::1]:80");
    TM_EQ_INT(tm_net_resolve("www.example.test ", 443, &a, &al, &why), TM_E_DNS);
    TM_CHECK(strstr(why.detail, "ends with a space") != NULL);

    /* listener */
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    TM_EQ_INT(bind(ls, (struct sockaddr *)&sin, sizeof sin), 0);
    TM_EQ_INT(listen(ls, 4), 0);
    socklen_t sl = sizeof sin;
    getsockname(ls, (struct sockaddr *)&sin, &sl);
    uint16_t port = ntohs(sin.sin_port);

    static run_t r;
    tm_stream_opts o;
    memset(&o, 0, sizeof o);
    snprintf(o.host, sizeof o.host, "127.0.0.1");
    o.port = port;
    TM_EQ_INT(tm_stream_open(&r.s, &o, &evs, &r, &why), TM_OK);
    spin(&r, &r.opened, 2000);
    TM_CHECK(r.opened && tm_stream_is_open(&r.s));
    int peer = accept(ls, NULL, NULL);
    TM_CHECK(peer >= 0);
    char ip[64];
    tm_net_peer_ip(r.s.fd, ip, sizeof ip);
    TM_EQ_STR(ip, "127.0.0.1");

    /* write from the stream, read at the peer */
    TM_EQ_INT(tm_stream_write(&r.s, "hello", 5), 5);
    char buf[16] = "";
    TM_EQ_INT(read(peer, buf, sizeof buf), 5);

    /* backpressure: pause after the first read, nothing more is delivered until resumed */
    r.pause_after_first = true;
    static char big[100000];
    memset(big, 'x', sizeof big);
    ssize_t w = write(peer, big, sizeof big);
    TM_CHECK(w > 0);
    int64_t end = tm_port_mono_ms() + 300;
    while (tm_port_mono_ms() < end)
        tm_loop_run_once(20);
    TM_EQ_INT(r.readable_calls, 1);
    TM_CHECK(r.got > 0 && r.got < (size_t)w);
    r.pause_after_first = false;
    tm_stream_want_read(&r.s, true);
    close(peer);
    spin(&r, &r.done, 2000);
    TM_EQ_INT(r.got, w);
    TM_EQ_INT(r.err, TM_OK);
    TM_CHECK(!tm_stream_is_open(&r.s));
    tm_stream_close(&r.s);   /* twice is fine */

    /* refused */
    close(ls);
    memset(&r, 0, sizeof r);
    tm_err e = tm_stream_open(&r.s, &o, &evs, &r, &why);
    if (e == TM_OK)
        spin(&r, &r.done, 2000);
    else
        r.err = e;
    TM_EQ_INT(r.err, TM_E_CONNECT_REFUSED);
    TM_EQ_STR(r.s.reason.detail[0] ? r.s.reason.detail : why.detail,
              (snprintf(s, sizeof s, "connect to 127.0.0.1:%u: Connection refused", port), s));

    /* A name for the system resolver ("localhost", not in --resolve) is
     * resolved in the background: tm_stream_open returns at once (state
     * RESOLVING, no callback inside), the loop completes it. */
    ls = socket(AF_INET, SOCK_STREAM, 0);
    sin.sin_port = 0;
    TM_EQ_INT(bind(ls, (struct sockaddr *)&sin, sizeof sin), 0);
    TM_EQ_INT(listen(ls, 4), 0);
    sl = sizeof sin;
    getsockname(ls, (struct sockaddr *)&sin, &sl);
    port = ntohs(sin.sin_port);
    memset(&r, 0, sizeof r);
    snprintf(o.host, sizeof o.host, "localhost");
    o.port = port;
    TM_EQ_INT(tm_stream_open(&r.s, &o, &evs, &r, &why), TM_OK);
    TM_EQ_INT(r.s.state, TM_STREAM_RESOLVING);
    TM_CHECK(!r.opened && !r.done);
    spin(&r, &r.opened, 5000);
    TM_CHECK_MSG(r.opened, "localhost: err %d %s", r.err, r.s.reason.detail);
    tm_stream_close(&r.s);
    TM_EQ_INT(tm_dns_running(), 0);

    /* an unknown name fails through on_error with TM_E_DNS, not inside open */
    memset(&r, 0, sizeof r);
    snprintf(o.host, sizeof o.host, "no-such-host.invalid");
    TM_EQ_INT(tm_stream_open(&r.s, &o, &evs, &r, &why), TM_OK);
    TM_CHECK(!r.done);
    spin(&r, &r.done, 15000);
    TM_EQ_INT(r.err, TM_E_DNS);
    TM_CHECK_MSG(strstr(r.s.reason.detail, "cannot resolve 'no-such-host.invalid'"), "%s", r.s.reason.detail);

    /* closed while resolving: no callback ever, the slot is freed */
    memset(&r, 0, sizeof r);
    snprintf(o.host, sizeof o.host, "localhost");
    TM_EQ_INT(tm_stream_open(&r.s, &o, &evs, &r, &why), TM_OK);
    tm_stream_close(&r.s);
    end = tm_port_mono_ms() + 300;
    while (tm_port_mono_ms() < end)
        tm_loop_run_once(20);
    TM_CHECK(!r.opened && !r.done);
    TM_EQ_INT(tm_dns_running(), 0);

    /* the DNS timeout: direct, with 0 ms (expires at the first loop turn
     * unless glibc already answered; either way exactly one callback) */
    unsigned id = tm_dns_start("localhost", 80, 0, dns_cb, NULL, &why);
    TM_CHECK(id > 0);
    end = tm_port_mono_ms() + 2000;
    while (tm_port_mono_ms() < end && tm_dns_running())
        tm_loop_run_once(20);
    tm_loop_run_once(0);
    TM_EQ_INT(g_dns_calls, 1);
    TM_CHECK(g_dns_err == TM_OK || (g_dns_err == TM_E_DNS && strstr(g_dns_detail, "DNS timeout")));
    close(ls);

    /* offline (the fuzz seam): no DNS, no socket; the failure comes later,
     * from the loop, like a refused connect; closing before it is harmless */
    tm_net_set_offline(refuse_all, NULL);
    memset(&r, 0, sizeof r);
    snprintf(o.host, sizeof o.host, "no.such.name.invalid");
    TM_EQ_INT(tm_stream_open(&r.s, &o, &evs, &r, &why), TM_OK);
    TM_EQ_INT(r.s.fd, -1);
    TM_CHECK(!r.done);
    spin(&r, &r.done, 2000);
    TM_EQ_INT(r.err, TM_E_NET);
    TM_EQ_STR(r.s.reason.detail, (snprintf(s, sizeof s, "connect to no.such.name.invalid:%u: network disabled (offline)", port), s));
    memset(&r, 0, sizeof r);
    TM_EQ_INT(tm_stream_open(&r.s, &o, &evs, &r, &why), TM_OK);
    tm_stream_close(&r.s);
    tm_loop_run_once(0);
    TM_CHECK(!r.done);

    /* offline with a descriptor: the stream opens on it (no TLS) and reads
     * what the fake server wrote */
    int sp[2];
    TM_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp), 0);
    TM_EQ_INT(write(sp[1], "hello", 5), 5);
    shutdown(sp[1], SHUT_WR);
    tm_net_set_offline(give_fd, &sp[0]);
    memset(&r, 0, sizeof r);
    o.use_tls = true;
    TM_EQ_INT(tm_stream_open(&r.s, &o, &evs, &r, &why), TM_OK);
    spin(&r, &r.opened, 2000);
    TM_CHECK(r.opened);
    spin(&r, &r.done, 2000);
    TM_EQ_INT(r.got, 5);
    TM_EQ_INT(r.err, TM_OK);
    close(sp[1]);
    tm_net_set_offline(NULL, NULL);
    TM_TEST_MAIN_END();
}
