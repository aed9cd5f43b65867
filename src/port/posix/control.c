/* tlsmodem — the control channel: listener and clients on the poll() loop.
 * See control.h and docs/control.md.
 *
 * Why these checks: whoever can talk to the control channel can cut the
 * modem's network and move its clock, so only the user running tlsmodem
 * may.  A UNIX socket is created 0600 in a directory that nobody else can
 * write (else another user could swap the socket file), and each peer's
 * uid is checked (SO_PEERCRED) as well.  TCP listens on loopback only. */
#include "port/posix/control.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <malloc.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/sim.h"
#include "core/trace.h"
#include "port/port.h"
#include "tls/tls.h"
#include "port/posix/args.h"

#define CTL_CLIENTS 4
#define CTL_LINE    256

typedef struct {
    int    fd;                  /* -1 free */
    char   line[CTL_LINE];
    size_t len;
    bool   overlong;            /* the current line is too long: answered once, rest ignored */
} ctl_client;

static int        g_listen = -1;
static char       g_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static tm_modem  *g_modem;
static ctl_client g_client[CTL_CLIENTS] = { { .fd = -1 }, { .fd = -1 }, { .fd = -1 }, { .fd = -1 } };

static void client_close(ctl_client *c)
{
    tm_port_unwatch(c->fd);
    close(c->fd);
    c->fd = -1;
    c->len = 0;
    c->overlong = false;
}

/* Answers are one short line; a client that does not read them is dropped
 * rather than allowed to stall the modem. */
static void client_send(ctl_client *c, const char *ans)
{
    char buf[CTL_LINE + TM_DETAIL_MAX + 64];
    int n = snprintf(buf, sizeof buf, "%s\n", ans);
    if (n >= (int)sizeof buf) {
        buf[sizeof buf - 2] = '\n';
        n = (int)sizeof buf - 1;
    }
    ssize_t w = send(c->fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w != n) {
        tm_trace("ctl", "client not reading its answers: disconnected");
        client_close(c);
    }
}

/* "stats": the process's heap in use, for the benchmark (bench/bench.py)
 * and memory tests.  glibc's own count (mallinfo2): bytes handed out by
 * malloc in the arenas plus the large blocks it mmaps (>= 128 KiB); not RSS,
 * so it moves by the bytes allocated, not by pages.  A port's business, not
 * the simulated network's: answered here, not by tm_sim_command. */
static bool stats_cmd(const char *line, char *ans, size_t cap)
{
    char w[16];
    char extra[2];
    if (sscanf(line, " %15s %1s", w, extra) != 1 || strcmp(w, "stats") != 0)
        return false;
    struct mallinfo2 mi = mallinfo2();
    snprintf(ans, cap, "ok heap=%zu arena_used=%zu mmapped=%zu arena_free=%zu tls=%lu",
             mi.uordblks + mi.hblkhd, mi.uordblks, mi.hblkhd, mi.fordblks, tm_tls_live());
    return true;
}

static void run_line(ctl_client *c)
{
    char ans[CTL_LINE + TM_DETAIL_MAX + 32];
    c->line[c->len] = '\0';
    if (c->len && c->line[c->len - 1] == '\r')
        c->line[--c->len] = '\0';
    tm_trace("ctl", "< %s", c->line);
    if (!stats_cmd(c->line, ans, sizeof ans))
        tm_sim_command(g_modem, c->line, ans, sizeof ans);
    tm_trace("ctl", "> %s", ans);
    client_send(c, ans);
}

static void on_client(void *arg, int fd, unsigned ev)
{
    ctl_client *c = arg;
    char buf[512];
    ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n <= 0) {
        client_close(c);
        return;
    }
    for (ssize_t i = 0; i < n && c->fd >= 0; i++) {
        char ch = buf[i];
        if (ch == '\n') {
            if (c->overlong)
                client_send(c, "error code=TM_E_ARG_BAD reason=\"command too long\"");
            else
                run_line(c);
            c->len = 0;
            c->overlong = false;
            continue;
        }
        if (c->len + 1 >= sizeof c->line)
            c->overlong = true;
        else
            c->line[c->len++] = ch;
    }
}

static void on_accept(void *arg, int fd, unsigned ev)
{
    int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (cfd < 0)
        return;
    if (g_path[0]) {                             /* UNIX: the same user only */
        struct ucred cr = { .pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1 };
        socklen_t len = sizeof cr;
        if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 || cr.uid != getuid()) {
            tm_trace("ctl", "connection from uid %ld refused (only uid %ld may)", (long)cr.uid, (long)getuid());
            close(cfd);
            return;
        }
    }
    for (int i = 0; i < CTL_CLIENTS; i++)
        if (g_client[i].fd < 0) {
            g_client[i].fd = cfd;
            g_client[i].len = 0;
            g_client[i].overlong = false;
            if (tm_port_watch(cfd, TM_IO_READ, on_client, &g_client[i]) < 0) {
                g_client[i].fd = -1;          /* no watch slot: answered "busy" below */
                break;
            }
            tm_trace("ctl", "client connected");
            return;
        }
    static const char busy[] = "error code=TM_E_SESSION_BUSY reason=\"too many control clients\"\n";
    ssize_t w = send(cfd, busy, sizeof busy - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)w;
    close(cfd);
}

static int open_unix(const char *path, char *err, size_t cap)
{
    struct sockaddr_un sa;
    if (strlen(path) >= sizeof sa.sun_path) {
        snprintf(err, cap, "--control %s: path too long (at most %zu characters)", path, sizeof sa.sun_path - 1);
        return -1;
    }
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    const char *d = dirname(dir);
    struct stat st;
    if (stat(d, &st) < 0) {
        snprintf(err, cap, "--control %s: directory %s: %s", path, d, strerror(errno));
        return -1;
    }
    if (st.st_uid != getuid() || (st.st_mode & 022)) {
        snprintf(err, cap, "--control %s: directory %s must belong to you and be writable by nobody else "
                 "(e.g. $XDG_RUNTIME_DIR or a directory made with mkdir -m 700)", path, d);
        return -1;
    }
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            snprintf(err, cap, "--control %s: exists and is not a socket; not replacing it", path);
            return -1;
        }
        unlink(path);                            /* a stale socket of an earlier run */
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, cap, "--control: socket: %s", strerror(errno));
        return -1;
    }
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    mode_t old = umask(0177);                    /* created 0600: no window with a wider mode */
    int rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
    umask(old);
    if (rc < 0 || chmod(path, 0600) < 0 || listen(fd, 4) < 0) {
        snprintf(err, cap, "--control %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    snprintf(g_path, sizeof g_path, "%s", path);
    return fd;
}

static int open_tcp(const char *spec, char *err, size_t cap)
{
    char host[256], port[16];
    struct sockaddr_storage ss;
    socklen_t len;
    memset(&ss, 0, sizeof ss);
    if (!tm_args_split_hostport(spec, host, sizeof host, port, sizeof port)) {
        snprintf(err, cap, "--control \"%s\": expected a socket path or 127.0.0.1:PORT", spec);
        return -1;
    }
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, host, &s4->sin_addr) == 1 && (ntohl(s4->sin_addr.s_addr) >> 24) == 127) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)atoi(port));
        len = sizeof *s4;
    } else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1 && IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr)) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)atoi(port));
        len = sizeof *s6;
    } else {
        snprintf(err, cap, "--control %s: TCP only on a loopback address (127.0.0.1, [::1]); "
                 "anyone who can connect can cut the network", spec);
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 4) < 0) {
        snprintf(err, cap, "--control %s: %s", spec, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

int tm_control_open(const char *spec, tm_modem *m, char *err, size_t cap)
{
    g_modem = m;
    g_path[0] = '\0';
    bool is_path = strchr(spec, '/') || !strchr(spec, ':');
    g_listen = is_path ? open_unix(spec, err, cap) : open_tcp(spec, err, cap);
    if (g_listen < 0)
        return -1;
    if (tm_port_watch(g_listen, TM_IO_READ, on_accept, NULL) < 0) {
        snprintf(err, cap, "--control %s: no watch slot free", spec);
        tm_control_close();
        return -1;
    }
    tm_trace("ctl", "control channel on %s", spec);
    return 0;
}

void tm_control_close(void)
{
    for (int i = 0; i < CTL_CLIENTS; i++)
        if (g_client[i].fd >= 0)
            client_close(&g_client[i]);
    if (g_listen >= 0) {
        tm_port_unwatch(g_listen);
        close(g_listen);
        g_listen = -1;
    }
    if (g_path[0]) {
        unlink(g_path);
        g_path[0] = '\0';
    }
}
