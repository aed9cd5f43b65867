/* tlsmodem — the Linux program: command line (man/tlsmodem.1, docs/ports.md), trace sink,
 * signals, start-up and orderly shutdown around the poll() loop. */
#include "core/modem.h"
#include "core/trace.h"
#include "net/net.h"
#include "port/port.h"
#include "port/posix/args.h"
#include "port/posix/banner.h"
#include "port/posix/control.h"
#include "port/posix/host.h"
#include "port/posix/loop.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define DRAIN_MS 2000   /* bounded wait for the last output at exit */

static tm_modem g_modem;
static tm_host  g_host;
static int      g_sigpipe[2] = { -1, -1 };

/* ---- trace sink: one write() per line, as it happens ------------------------ */

static int  g_trace_fd = -1;
static bool g_trace_tty;    /* a terminal (maybe in raw mode): end lines with CR LF */

static void trace_sink(void *arg, const char *line, size_t len)
{
    (void)arg;
    int tries = 0;
    char crlf[2048 + 2];
    if (g_trace_tty && len && line[len - 1] == '\n' && len < sizeof crlf - 1) {
        memcpy(crlf, line, len - 1);
        crlf[len - 1] = '\r';
        crlf[len] = '\n';
        line = crlf;
        len++;
    }
    while (len > 0) {
        ssize_t w = write(g_trace_fd, line, len);
        if (w > 0) {
            line += w;
            len -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        /* stderr may share a non-blocking terminal with stdout: wait a little. */
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && tries++ < 50) {
            struct pollfd p = { .fd = g_trace_fd, .events = POLLOUT };
            poll(&p, 1, 20);
            continue;
        }
        return;          /* the trace never stops the modem */
    }
}

static const char *g_trace_path;

static int open_trace(const char *spec)
{
    g_trace_path = spec;
    if (!strcmp(spec, "-")) {
        g_trace_fd = STDERR_FILENO;
    } else {
        g_trace_fd = open(spec, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (g_trace_fd < 0)
            return -1;
    }
    g_trace_tty = isatty(g_trace_fd);
    tm_trace_set_sink(trace_sink, NULL);
    return 0;
}

/* ---- signals ---------------------------------------------------------------- */

/* SIGHUP reopens the trace file (logrotate's postrotate); the others stop. */
static void reopen_trace(void)
{
    if (!g_trace_path || !strcmp(g_trace_path, "-")) {
        tm_trace("host", "SIGHUP: no trace file to reopen; going on");
        return;
    }
    int fd = open(g_trace_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        tm_trace("warn", "SIGHUP: reopening %s: %s; keeping the old file", g_trace_path, strerror(errno));
        return;
    }
    tm_trace("host", "SIGHUP: reopening the trace file %s", g_trace_path);
    close(g_trace_fd);
    g_trace_fd = fd;
    g_trace_tty = isatty(fd);
    tm_trace("host", "SIGHUP: trace file %s reopened", g_trace_path);
}

static void on_signal(int sig)
{
    int saved = errno;
    if (sig != SIGHUP)
        tm_loop_stop();
    if (g_sigpipe[1] >= 0) {
        unsigned char b = (unsigned char)sig;
        ssize_t r = write(g_sigpipe[1], &b, 1);
        (void)r;
    }
    errno = saved;
}

static void on_sigpipe_readable(void *arg, int fd, unsigned ev)
{
    unsigned char buf[16];
    ssize_t n;
    bool stop = false;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == SIGHUP) {
                reopen_trace();
                continue;
            }
            tm_trace("host", "signal %d (%s): stopping", buf[i], strsignal(buf[i]));
            stop = true;
        }
    if (stop)
        tm_loop_stop();
}

static int setup_signals(void)
{
    if (pipe2(g_sigpipe, O_NONBLOCK | O_CLOEXEC) < 0)
        return -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return tm_port_watch(g_sigpipe[0], TM_IO_READ, on_sigpipe_readable, NULL);
}

/* ---- helpers ------------------------------------------------------------------ */

static int mkdir_p(const char *path)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0700) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(buf, 0700) < 0 && errno != EEXIST)
        return -1;
    return 0;
}

static int default_store(char *out, size_t cap)
{
    const char *xdg = getenv("XDG_DATA_HOME");
    int n;
    if (xdg && xdg[0] == '/') {
        n = snprintf(out, cap, "%s/tlsmodem", xdg);
    } else {
        const char *home = getenv("HOME");
        if (!home || !*home)
            return -1;
        n = snprintf(out, cap, "%s/.local/share/tlsmodem", home);
    }
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* Engine diagnostics ("at<", "at>", "urc", "warn") go to the trace. */
static void at_log(void *arg, const char *cat, const char *text)
{
    (void)arg;
    tm_trace(cat, "%s", text);
}

static void usage_error(const char *msg)
{
    fprintf(stderr, "tlsmodem: %s (try 'tlsmodem --help')\n", msg);   /* one line, not the whole usage */
}

static void restore_at_exit(void)
{
    /* Normal paths close the host themselves; this catches exit() elsewhere. */
    tm_host_close(&g_host);
}

/* ---- main ------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    tm_args a;
    char err[1024];
    switch (tm_args_parse(argc, argv, &a, err, sizeof err)) {
    case TM_ARGS_HELP:
        fputs(tm_args_usage(), stdout);
        return 0;
    case TM_ARGS_VERSION:
        printf("tlsmodem %s\n", TM_VERSION_STRING);
        return 0;
    case TM_ARGS_ERROR:
        usage_error(err);
        return 2;
    case TM_ARGS_RUN:
        break;
    }

    /* Options whose check needs the system (still "bad options": exit 2). */
    const tm_dialect *dialect = tm_dialect_find(a.dialect);
    if (!dialect) {
        snprintf(err, sizeof err, "--dialect %s: not available in this build", a.dialect);
        usage_error(err);
        return 2;
    }
    if (a.model) {
        int i = 0;
        while (dialect->models && dialect->models[i] && strcasecmp(dialect->models[i], a.model))
            i++;
        if (!dialect->models || !dialect->models[i]) {
            char list[128] = "";
            for (int j = 0; dialect->models && dialect->models[j]; j++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", j ? ", " : "",
                         dialect->models[j]);
            snprintf(err, sizeof err, "--model %s: unknown for --dialect %s (%s)", a.model, dialect->name,
                     list[0] ? list : "this dialect has one model; leave --model out");
            usage_error(err);
            return 2;
        }
    }
    if (!dialect->cellular && (a.imei || a.iccid || a.imsi)) {
        snprintf(err, sizeof err, "%s: --dialect %s is not a cellular module (no IMEI, ICCID or IMSI); "
                 "leave it out", a.imei ? "--imei" : a.iccid ? "--iccid" : "--imsi", dialect->name);
        usage_error(err);
        return 2;
    }
    if (a.wifi_count && strcmp(dialect->name, "esp") != 0) {
        usage_error("--wifi applies to --dialect esp only (the other dialects' network is not Wi-Fi, "
                    "or has no access point list)");
        return 2;
    }
    if (strlen(a.ca_bundle) >= sizeof g_modem.ca_bundle) {
        usage_error("--ca-bundle: path too long");
        return 2;
    }
    if (a.ca_bundle_given && a.ca_bundle[0] && access(a.ca_bundle, R_OK) < 0) {
        snprintf(err, sizeof err, "--ca-bundle %s: %s", a.ca_bundle, strerror(errno));
        usage_error(err);
        return 2;
    }
    for (int i = 0; i < a.resolve_count; i++) {
        tm_reason why;
        tm_reason_clear(&why);
        if (tm_net_add_resolve(a.resolve[i], &why) != TM_OK) {
            char text[TM_DETAIL_MAX + 128];
            snprintf(err, sizeof err, "%s", why.detail[0] ? why.detail :   /* names --resolve and the value */
                     tm_reason_text(&why, text, sizeof text));
            usage_error(err);
            return 2;
        }
    }
    {   /* --timeout-*: 0 = never; not given = config.h */
        tm_net_timeouts to = *tm_net_timeouts_get();
        long given[] = { a.timeout_connect, a.timeout_dns, a.timeout_response, a.timeout_idle };
        uint32_t *dst[] = { &to.connect_ms, &to.dns_ms, &to.response_ms, &to.idle_ms };
        for (int i = 0; i < 4; i++)
            if (given[i] >= 0)
                *dst[i] = given[i] == 0 ? TM_TIMEOUT_NONE : (uint32_t)given[i];
        tm_net_timeouts_set(&to);
    }
    char ident[64];
    tm_banner_ident(&a, ident, sizeof ident);
    tm_trace_set_ident(ident);
    if (a.trace && open_trace(a.trace) < 0) {
        snprintf(err, sizeof err, "--trace %s: %s", a.trace, strerror(errno));
        usage_error(err);
        return 2;
    }

    char store_dir[1024];
    if (a.store)
        snprintf(store_dir, sizeof store_dir, "%s", a.store);
    else if (default_store(store_dir, sizeof store_dir) < 0) {
        usage_error("no --store given and neither XDG_DATA_HOME nor HOME is set");
        return 2;
    }
    if (mkdir_p(store_dir) < 0) {
        fprintf(stderr, "tlsmodem: store %s: %s\n", store_dir, strerror(errno));
        return 1;
    }

    signal(SIGPIPE, SIG_IGN);
    if (tm_host_open(&g_host, &a, err, sizeof err) < 0) {
        tm_host_close(&g_host);
        fprintf(stderr, "tlsmodem: %s\n", err);
        return 1;
    }
    atexit(restore_at_exit);
    if (setup_signals() < 0) {
        fprintf(stderr, "tlsmodem: signal setup: %s\n", strerror(errno));
        return 1;
    }

    tm_modem *m = &g_modem;
    snprintf(m->ca_bundle, sizeof m->ca_bundle, "%s", a.ca_bundle);
    m->clock_mode = a.clock_unset ? TM_CLOCK_UNSET : TM_CLOCK_HOST;
    m->clock_offset_ms = 0;
    m->dialect = dialect;
    snprintf(m->model, sizeof m->model, "%s", a.model ? a.model : "");
    snprintf(m->imei, sizeof m->imei, "%s", a.imei ? a.imei : "");
    snprintf(m->iccid, sizeof m->iccid, "%s", a.iccid ? a.iccid : "");
    snprintf(m->imsi, sizeof m->imsi, "%s", a.imsi ? a.imsi : "");
    for (int i = 0; i < a.wifi_count; i++)
        m->wifi[i] = a.wifi[i];
    m->wifi_count = a.wifi_count;

    tm_reason why;
    tm_reason_clear(&why);
    if (tm_store_open(&m->store, store_dir, &why) != TM_OK) {
        char text[TM_DETAIL_MAX + 128];
        fprintf(stderr, "tlsmodem: store %s: %s\n", store_dir, tm_reason_text(&why, text, sizeof text));
        return 1;
    }
    /* One modem per store (a lock held until we exit), and leftovers of
     * writes a crash interrupted removed. */
    if (tm_store_claim(&m->store, &why) != TM_OK) {
        fprintf(stderr, "tlsmodem: store %s\n", why.detail);
        tm_trace("host", "store %s", why.detail);
        return 1;
    }

    tm_at *at = calloc(1, tm_at_sizeof());
    if (!at) {
        fprintf(stderr, "tlsmodem: out of memory\n");
        return 1;
    }
    m->at = at;
    tm_at_init(at, dialect->at, m);
    tm_at_set_now(at, tm_port_mono_ms());
    if (tm_trace_enabled())
        tm_at_set_log(at, at_log, NULL);

    tm_trace("host", "tlsmodem %s, dialect %s, store %s, ca-bundle %s, clock %s", TM_VERSION_STRING,
             dialect->name, store_dir, m->ca_bundle[0] ? m->ca_bundle : "(none)",
             a.clock_unset ? "unset" : "host");

    tm_host_attach(&g_host, at, m);
    if (dialect->start)
        dialect->start(m);
    if (a.control && tm_control_open(a.control, m, err, sizeof err) < 0) {
        fprintf(stderr, "tlsmodem: %s\n", err);
        return 1;
    }
    tm_banner_print(STDERR_FILENO, &a, dialect->name, store_dir, m->ca_bundle);
    if (m->start_note[0])
        fprintf(stderr, "tlsmodem: %s\n", m->start_note);

    while (!tm_loop_stopped()) {
        if (tm_loop_run_once(-1) < 0) {
            fprintf(stderr, "tlsmodem: poll: %s\n", strerror(errno));
            break;
        }
    }

    on_sigpipe_readable(NULL, g_sigpipe[0], 0);   /* trace which signal, if any */

    /* Shutdown: read nothing more, deliver what is queued, let the dialect
     * close its sessions, deliver what that produced. */
    tm_host_stop_input(&g_host);
    tm_control_close();
    tm_host_drain(&g_host, DRAIN_MS);
    if (dialect->stop)
        dialect->stop(m);
    tm_host_drain(&g_host, DRAIN_MS / 4);
    if (tm_at_out_dropped(at))
        tm_trace("warn", "%llu output bytes were lost (output buffer overflow)",
                 (unsigned long long)tm_at_out_dropped(at));
    int rc = g_host.failed ? 1 : 0;
    tm_trace("host", "exit %d", rc);
    tm_host_close(&g_host);
    tm_loop_reset();
    tm_at_cleanup(at);
    free(at);
    m->at = NULL;
    return rc;
}
