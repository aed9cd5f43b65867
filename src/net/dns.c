/* See dns.h. */
#include "net/dns.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "core/trace.h"
#include "net/net.h"
#include "port/port.h"

typedef struct {
    unsigned         id;          /* 0 = free */
    bool             in_glibc;    /* getaddrinfo_a has not finished with req */
    tm_dns_cb        cb;          /* NULL: the owner is gone (or was told) */
    void            *arg;
    unsigned         timer;
    uint32_t         timeout_ms;
    int64_t          t0;
    uint16_t         port;
    char             host[TM_HOST_MAX];
    char             service[8];
    struct addrinfo  hints;
    struct gaicb     req;
    struct sigevent  sev;
} dns_slot;

static dns_slot g_slot[TM_DNS_MAX];
static unsigned g_next_id = 1;
static int      g_pipe[2] = { -1, -1 };

/* Runs in glibc's helper thread: only a write(2) (async-signal-safe), the
 * loop does the rest. */
static void notify(union sigval v)
{
    (void)v;
    unsigned char b = 1;
    ssize_t r = write(g_pipe[1], &b, 1);
    (void)r;                /* a full pipe already wakes the loop */
}

static void release(dns_slot *d)
{
    if (d->timer)
        tm_port_timer_cancel(d->timer);
    d->timer = 0;
    if (d->req.ar_result)
        freeaddrinfo(d->req.ar_result);
    d->req.ar_result = NULL;
    d->id = 0;
    d->cb = NULL;
}

/* The answer (or failure) of a finished request to its owner, if any. */
static void deliver(dns_slot *d, int rc)
{
    tm_dns_cb cb = d->cb;
    void *arg = d->arg;
    d->cb = NULL;
    if (!cb) {
        release(d);
        return;
    }
    tm_reason why;
    tm_reason_clear(&why);
    struct sockaddr_storage out;
    socklen_t len = 0;
    memset(&out, 0, sizeof out);
    long long ms = (long long)(tm_port_mono_ms() - d->t0);
    tm_err e = TM_OK;
    if (rc != 0 || !d->req.ar_result) {
        e = tm_fail(&why, TM_E_DNS, "cannot resolve '%s': %s (after %lld ms)", d->host,
                    rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc), ms);
    } else {
        struct addrinfo *pick = d->req.ar_result;   /* IPv4 first (loopback test setups) */
        for (struct addrinfo *r = d->req.ar_result; r; r = r->ai_next)
            if (r->ai_family == AF_INET) { pick = r; break; }
        memcpy(&out, pick->ai_addr, pick->ai_addrlen);
        len = pick->ai_addrlen;
        char a[80];
        tm_trace("net", "resolve %s -> %s (%lld ms)", d->host, tm_net_addr_str(&out, a, sizeof a), ms);
    }
    release(d);              /* before the call: the owner may start another */
    cb(arg, e, len ? &out : NULL, len, &why);
}

static void pipe_cb(void *arg, int fd, unsigned revents)
{
    (void)arg;
    (void)revents;
    unsigned char buf[64];
    while (read(fd, buf, sizeof buf) > 0)
        ;
    for (int i = 0; i < TM_DNS_MAX; i++) {
        dns_slot *d = &g_slot[i];
        if (!d->id || !d->in_glibc)
            continue;
        int rc = gai_error(&d->req);
        if (rc == EAI_INPROGRESS)
            continue;
        d->in_glibc = false;
        deliver(d, rc);
    }
}

static bool pipe_ready(tm_reason *why)
{
    if (g_pipe[0] >= 0)     /* (again: a test may have reset the loop) */
        return tm_port_watch(g_pipe[0], TM_IO_READ, pipe_cb, NULL) == 0 ||
               (tm_fail(why, TM_E_INTERNAL, "the event loop has no room for the resolver"), false);
    if (pipe2(g_pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
        tm_fail(why, TM_E_INTERNAL, "pipe for the resolver: %s", strerror(errno));
        return false;
    }
    if (tm_port_watch(g_pipe[0], TM_IO_READ, pipe_cb, NULL) != 0) {
        close(g_pipe[0]);
        close(g_pipe[1]);
        g_pipe[0] = g_pipe[1] = -1;
        tm_fail(why, TM_E_INTERNAL, "the event loop has no room for the resolver");
        return false;
    }
    return true;
}

static void timeout_cb(void *arg)
{
    dns_slot *d = arg;
    d->timer = 0;
    if (!d->id || !d->cb)
        return;
    int rc = d->in_glibc ? gai_cancel(&d->req) : EAI_ALLDONE;
    if (rc == EAI_ALLDONE) {            /* finished meanwhile: the pipe has the news */
        if (d->in_glibc && gai_error(&d->req) != EAI_INPROGRESS) {
            d->in_glibc = false;
            deliver(d, gai_error(&d->req));
        }
        return;
    }
    if (rc == EAI_CANCELED)
        d->in_glibc = false;
    /* EAI_NOTCANCELED: glibc is inside the lookup; the slot stays busy until
     * it ends (pipe_cb releases it), the owner hears now. */
    tm_dns_cb cb = d->cb;
    void *cbarg = d->arg;
    d->cb = NULL;
    tm_reason why;
    tm_fail(&why, TM_E_DNS, "cannot resolve '%s': no answer from the DNS within %u ms (DNS timeout)",
            d->host, (unsigned)d->timeout_ms);
    tm_trace("net", "%s", why.detail);
    if (!d->in_glibc)
        release(d);
    cb(cbarg, TM_E_DNS, NULL, 0, &why);
}

unsigned tm_dns_start(const char *host, uint16_t port, uint32_t timeout_ms, tm_dns_cb cb, void *arg,
                      tm_reason *why)
{
    if (!pipe_ready(why))
        return 0;
    dns_slot *d = NULL;
    for (int i = 0; i < TM_DNS_MAX && !d; i++)
        if (!g_slot[i].id)
            d = &g_slot[i];
    if (!d) {
        tm_fail(why, TM_E_DNS, "cannot resolve '%s': %d resolutions are already running", host, TM_DNS_MAX);
        return 0;
    }
    memset(d, 0, sizeof *d);
    snprintf(d->host, sizeof d->host, "%s", host);
    snprintf(d->service, sizeof d->service, "%u", port);
    d->port = port;
    d->hints.ai_family = AF_UNSPEC;
    d->hints.ai_socktype = SOCK_STREAM;
    d->hints.ai_flags = AI_ADDRCONFIG;
    d->req.ar_name = d->host;
    d->req.ar_service = d->service;
    d->req.ar_request = &d->hints;
    d->sev.sigev_notify = SIGEV_THREAD;
    d->sev.sigev_notify_function = notify;
    struct gaicb *list[1] = { &d->req };
    int rc = getaddrinfo_a(GAI_NOWAIT, list, 1, &d->sev);
    if (rc != 0) {
        tm_fail(why, TM_E_DNS, "cannot resolve '%s': %s", host, rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
        return 0;
    }
    d->id = g_next_id++;
    if (!d->id)
        d->id = g_next_id++;
    d->in_glibc = true;
    d->cb = cb;
    d->arg = arg;
    d->t0 = tm_port_mono_ms();
    d->timeout_ms = timeout_ms;
    if (timeout_ms != TM_TIMEOUT_NONE)
        d->timer = tm_port_timer_add(timeout_ms, timeout_cb, d);
    tm_trace("net", "resolving %s (system resolver, in the background%s)", host,
             timeout_ms != TM_TIMEOUT_NONE ? "" : ", no timeout");
    return d->id;
}

void tm_dns_cancel(unsigned id)
{
    if (!id)
        return;
    for (int i = 0; i < TM_DNS_MAX; i++) {
        dns_slot *d = &g_slot[i];
        if (d->id != id)
            continue;
        d->cb = NULL;
        if (d->timer)
            tm_port_timer_cancel(d->timer);
        d->timer = 0;
        if (d->in_glibc) {
            int rc = gai_cancel(&d->req);
            if (rc == EAI_CANCELED || (rc == EAI_ALLDONE && gai_error(&d->req) != EAI_INPROGRESS))
                d->in_glibc = false;
        }
        if (!d->in_glibc)
            release(d);
        return;
    }
}

int tm_dns_running(void)
{
    int n = 0;
    for (int i = 0; i < TM_DNS_MAX; i++)
        if (g_slot[i].id && g_slot[i].in_glibc)
            n++;
    return n;
}
