/* tlsmodem — host endpoints (stdio, pty, TCP listen, serial).  See host.h. */
#include "port/posix/host.h"
#include "port/posix/loop.h"
#include "port/port.h"
#include "core/trace.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static void host_idle(void *arg);
static void host_io(void *arg, int fd, unsigned ev);
static void update_watches(tm_host *h);

/* ---- small helpers --------------------------------------------------------- */

static int set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0)
        return -1;
    if (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -1;
    return fl;
}

/* "<what> <arg>: <strerror>" */
static void errf(char *err, size_t cap, const char *what, const char *arg, int e)
{
    snprintf(err, cap, "%s%s%s: %s", what, arg ? " " : "", arg ? arg : "", strerror(e));
}

/* ---- stdio ------------------------------------------------------------------ */

static int open_stdio(tm_host *h, char *err, size_t cap)
{
    h->in_fd = STDIN_FILENO;
    h->out_fd = STDOUT_FILENO;
    if (isatty(STDIN_FILENO)) {
        struct termios t;
        if (tcgetattr(STDIN_FILENO, &t) == 0) {
            h->tty_saved = t;
            h->tty_fd = STDIN_FILENO;
            /* Raw input, Enter sends CR; every control character (Ctrl-Z,
             * Ctrl-\, Ctrl-S/Q, Ctrl-V, and Ctrl-C too: no ISIG) reaches
             * the modem as a byte, so a payload byte 0x03 in data mode is
             * data, not SIGINT.  Ctrl-C still quits in command mode: the
             * reader (feed_remainder) stops on a 0x03 the engine is not in
             * data mode for.  No output processing either: the modem
             * writes its own CR LF, byte for byte (the trace sink writes
             * CR LF line ends when it shares the terminal). */
            t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL |
                                     IXON | IXOFF | INPCK);
            t.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ECHONL | IEXTEN | ISIG);
            h->ctrl_c_quits = true;
            t.c_oflag &= ~(tcflag_t)OPOST;
            t.c_cc[VSUSP] = _POSIX_VDISABLE;
            t.c_cc[VQUIT] = _POSIX_VDISABLE;
            t.c_cc[VMIN] = 1;
            t.c_cc[VTIME] = 0;
            tcsetattr(STDIN_FILENO, TCSANOW, &t);
        }
    }
    int fl0 = set_nonblock(STDIN_FILENO);
    int fl1 = set_nonblock(STDOUT_FILENO);
    if (fl0 < 0 || fl1 < 0) {
        errf(err, cap, "stdin/stdout", NULL, errno);
        return -1;
    }
    h->fl_saved[0] = fl0;
    h->fl_saved[1] = fl1;
    return 0;
}

/* ---- pty ---------------------------------------------------------------------- */

static int open_pty(tm_host *h, const char *link, char *err, size_t cap)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (m < 0) {
        errf(err, cap, "posix_openpt", NULL, errno);
        return -1;
    }
    const char *sp = NULL;
    if (grantpt(m) < 0 || unlockpt(m) < 0 || !(sp = ptsname(m))) {
        errf(err, cap, "pseudo-terminal setup", NULL, errno);
        close(m);
        return -1;
    }
    int w = snprintf(h->slave_path, sizeof h->slave_path, "%s", sp);
    if (w < 0 || (size_t)w >= sizeof h->slave_path) {
        errf(err, cap, "ptsname", sp, ENAMETOOLONG);
        close(m);
        return -1;
    }
    int s = open(h->slave_path, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (s < 0) {
        errf(err, cap, "open", h->slave_path, errno);
        close(m);
        return -1;
    }
    struct termios t;
    if (tcgetattr(s, &t) == 0) {
        cfmakeraw(&t);
        t.c_cflag |= CLOCAL | CREAD;
        t.c_cc[VMIN] = 1;
        t.c_cc[VTIME] = 0;
        cfsetispeed(&t, B115200);
        cfsetospeed(&t, B115200);
        tcsetattr(s, TCSANOW, &t);
    }
    set_nonblock(m);

    struct stat st;
    if (lstat(link, &st) == 0) {
        if (!S_ISLNK(st.st_mode)) {
            snprintf(err, cap, "--pty %s: exists and is not a symbolic link (not replaced)", link);
            close(s);
            close(m);
            return -1;
        }
        unlink(link);
    }
    if (symlink(h->slave_path, link) < 0) {
        errf(err, cap, "--pty: symlink", link, errno);
        close(s);
        close(m);
        return -1;
    }
    snprintf(h->link, sizeof h->link, "%s", link);
    h->link_made = true;
    h->in_fd = h->out_fd = m;
    h->pty_slave_fd = s;
    fprintf(stderr, "tlsmodem: pty %s linked at %s\n", h->slave_path, link);
    return 0;
}

/* ---- TCP listen ---------------------------------------------------------------- */

static int open_listen(tm_host *h, const char *spec, char *err, size_t cap)
{
    char host[256], port[16];
    if (!tm_args_split_hostport(spec, host, sizeof host, port, sizeof port)) {
        snprintf(err, cap, "--listen %s: expected ADDR:PORT", spec);
        return -1;
    }
    struct addrinfo hints = { 0 }, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int g = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
    if (g) {
        snprintf(err, cap, "--listen %s: %s", spec, gai_strerror(g));
        return -1;
    }
    int fd = -1, e = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            e = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 4) == 0)
            break;
        e = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        errf(err, cap, "--listen", spec, e);
        return -1;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char hb[NI_MAXHOST] = "?", pb[NI_MAXSERV] = "?";
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        getnameinfo((struct sockaddr *)&ss, sl, hb, sizeof hb, pb, sizeof pb,
                    NI_NUMERICHOST | NI_NUMERICSERV);
    fprintf(stderr, strchr(hb, ':') ? "tlsmodem: listening on [%s]:%s\n"
                                     : "tlsmodem: listening on %s:%s\n", hb, pb);
    h->listen_fd = fd;
    h->in_fd = h->out_fd = -1;
    return 0;
}

/* The TCP host is gone (or done): what it typed and was not answered goes
 * with it (tm_at_host_gone: half-typed line, bytes behind a pending
 * command, unsent output; a data mode is abandoned).  A command still
 * waiting for the network finishes first, its answer discarded ("draining"),
 * and only then is the next host accepted, so it never receives the answer
 * to a command it did not send (docs/ports.md). */
static void host_disconnect(tm_host *h, const char *why)
{
    if (h->in_fd < 0)
        return;
    tm_trace("host", "host disconnected (%s)", why);
    tm_port_unwatch(h->in_fd);
    close(h->in_fd);
    h->in_fd = h->out_fd = -1;
    h->watched_in = h->watched_out = 0;
    h->in_eof = false;
    h->rx_len = h->rx_off = 0;      /* the rest of what that host typed goes with it */
    if (h->retry_timer)
        tm_port_timer_cancel(h->retry_timer);
    h->retry_timer = 0;
    if (h->at) {
        tm_at_host_gone(h->at);
        h->draining = tm_at_busy(h->at);
        if (h->draining)
            tm_trace("host", "AT%s is still running for the host that left: its answer will be discarded; "
                     "the next host is accepted when it ends", tm_at_command_name(h->at));
    }
    if (h->listen_fd >= 0 && !h->input_stopped && !h->draining)
        tm_port_watch(h->listen_fd, TM_IO_READ, host_io, h);
}

static void host_accept(tm_host *h)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int fd = accept4(h->listen_fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char hb[NI_MAXHOST] = "?", pb[NI_MAXSERV] = "?";
    getnameinfo((struct sockaddr *)&ss, sl, hb, sizeof hb, pb, sizeof pb, NI_NUMERICHOST | NI_NUMERICSERV);
    tm_trace("host", "host connected from %s port %s", hb, pb);
    /* One host at a time: the next waits in the backlog. */
    tm_port_watch(h->listen_fd, 0, host_io, h);
    h->in_fd = h->out_fd = fd;
    h->watched_in = h->watched_out = 0;
    h->rx_len = h->rx_off = 0;
    host_idle(h);
}

/* ---- serial ------------------------------------------------------------------- */

static speed_t baud_speed(long baud)
{
    switch (baud) {
    case 9600: return B9600;
    case 19200: return B19200;
    case 38400: return B38400;
    case 57600: return B57600;
    case 115200: return B115200;
    case 230400: return B230400;
#ifdef B460800
    case 460800: return B460800;
#endif
#ifdef B500000
    case 500000: return B500000;
#endif
#ifdef B576000
    case 576000: return B576000;
#endif
#ifdef B921600
    case 921600: return B921600;
#endif
#ifdef B1000000
    case 1000000: return B1000000;
#endif
#ifdef B1152000
    case 1152000: return B1152000;
#endif
#ifdef B1500000
    case 1500000: return B1500000;
#endif
#ifdef B2000000
    case 2000000: return B2000000;
#endif
#ifdef B2500000
    case 2500000: return B2500000;
#endif
#ifdef B3000000
    case 3000000: return B3000000;
#endif
#ifdef B3500000
    case 3500000: return B3500000;
#endif
#ifdef B4000000
    case 4000000: return B4000000;
#endif
    default: return B0;
    }
}

static int open_serial(tm_host *h, const char *dev, long baud, char *err, size_t cap)
{
    speed_t sp = baud_speed(baud);
    if (sp == B0) {
        snprintf(err, cap, "--baud %ld: rate not supported on this system", baud);
        return -1;
    }
    int fd = open(dev, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        errf(err, cap, "--serial", dev, errno);
        return -1;
    }
    struct termios t;
    if (!isatty(fd) || tcgetattr(fd, &t) < 0) {
        snprintf(err, cap, "--serial %s: not a serial port (terminal) device", dev);
        close(fd);
        return -1;
    }
    h->tty_saved = t;
    h->tty_fd = fd;
    /* Raw 8N1, receiver on, modem-control lines ignored (CLOCAL), hardware
     * flow control RTS/CTS: the modem stops sending when the host drops RTS
     * and the host must honour our CTS (real HL/SPWF modules default to it). */
    cfmakeraw(&t);
    t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB | CSTOPB);
    t.c_cflag |= CS8 | CLOCAL | CREAD | CRTSCTS;
    t.c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY);
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    if (cfsetispeed(&t, sp) < 0 || cfsetospeed(&t, sp) < 0 || tcsetattr(fd, TCSANOW, &t) < 0) {
        errf(err, cap, "--serial (raw mode, speed)", dev, errno);
        close(fd);
        h->tty_fd = -1;
        return -1;
    }
    struct termios chk;
    if (tcgetattr(fd, &chk) == 0 && cfgetospeed(&chk) != sp) {
        snprintf(err, cap, "--serial %s: the device does not accept %ld baud", dev, baud);
        tcsetattr(fd, TCSANOW, &h->tty_saved);
        close(fd);
        h->tty_fd = -1;
        return -1;
    }
    tcflush(fd, TCIOFLUSH);
    h->in_fd = h->out_fd = fd;
    snprintf(h->dev, sizeof h->dev, "%s", dev);
    return 0;
}

/* ---- open/close ----------------------------------------------------------------- */

int tm_host_open(tm_host *h, const tm_args *a, char *err, size_t cap)
{
    memset(h, 0, sizeof *h);
    h->kind = a->host;
    h->in_fd = h->out_fd = h->listen_fd = h->pty_slave_fd = h->tty_fd = -1;
    h->fl_saved[0] = h->fl_saved[1] = -1;
    switch (a->host) {
    case TM_HOST_STDIO:  return open_stdio(h, err, cap);
    case TM_HOST_PTY:    return open_pty(h, a->host_arg, err, cap);
    case TM_HOST_LISTEN: return open_listen(h, a->host_arg, err, cap);
    case TM_HOST_SERIAL: return open_serial(h, a->host_arg, a->baud, err, cap);
    }
    snprintf(err, cap, "no host endpoint");
    return -1;
}

void tm_host_close(tm_host *h)
{
    tm_loop_remove_idle(host_idle, h);
    if (h->tick_timer)
        tm_port_timer_cancel(h->tick_timer);
    h->tick_timer = 0;
    if (h->retry_timer)
        tm_port_timer_cancel(h->retry_timer);
    h->retry_timer = 0;
    if (h->in_fd >= 0)
        tm_port_unwatch(h->in_fd);
    if (h->out_fd >= 0 && h->out_fd != h->in_fd)
        tm_port_unwatch(h->out_fd);
    if (h->listen_fd >= 0) {
        tm_port_unwatch(h->listen_fd);
        close(h->listen_fd);
        h->listen_fd = -1;
    }
    if (h->tty_fd >= 0) {
        tcsetattr(h->tty_fd, TCSANOW, &h->tty_saved);
        h->tty_fd = -1;
    }
    for (int i = 0; i < 2; i++)
        if (h->fl_saved[i] >= 0) {
            fcntl(i, F_SETFL, h->fl_saved[i]);
            h->fl_saved[i] = -1;
        }
    if (h->kind != TM_HOST_STDIO && h->in_fd >= 0)
        close(h->in_fd);
    h->in_fd = h->out_fd = -1;
    if (h->pty_slave_fd >= 0) {
        close(h->pty_slave_fd);
        h->pty_slave_fd = -1;
    }
    if (h->link_made) {
        /* Only our link: another instance may have replaced it since. */
        char cur[PATH_MAX];
        ssize_t n = readlink(h->link, cur, sizeof cur - 1);
        if (n >= 0) {
            cur[n] = '\0';
            if (!strcmp(cur, h->slave_path))
                unlink(h->link);
        }
        h->link_made = false;
    }
}

/* ---- the data path ---------------------------------------------------------------- */

static void retry_timer_cb(void *arg)
{
    tm_host *h = arg;
    h->retry_timer = 0;
    host_idle(h);
}

/* Feeds the remainder while the engine makes progress.  When it takes
 * nothing (a data-mode sink is full), room may come back from a component
 * that raises no loop event of its own (another idle callback, a buffer
 * drained inside some other callback), so a short timer retries. */
static void feed_remainder(tm_host *h)
{
    while (h->rx_len && h->at) {
        tm_at_set_now(h->at, tm_port_mono_ms());
        size_t lim = h->rx_len;
        if (h->ctrl_c_quits) {
            /* a terminal's Ctrl-C: data in data mode, quit otherwise (see open_stdio) */
            const uint8_t *p = h->rx + h->rx_off, *c3 = memchr(p, 0x03, h->rx_len);
            if (c3 == p && !tm_at_in_data_mode(h->at)) {
                tm_trace("host", "Ctrl-C (0x03) from the terminal in command mode: stopping");
                h->rx_len = h->rx_off = 0;
                h->input_stopped = true;
                tm_loop_stop();
                return;
            }
            if (c3)
                lim = c3 == p ? 1 : (size_t)(c3 - p);   /* decide the 0x03 in the state the bytes before leave */
        }
        size_t n = tm_at_feed(h->at, h->rx + h->rx_off, lim);
        if (n > h->rx_len)
            n = h->rx_len;
        h->rx_off += n;
        h->rx_len -= n;
        if (!n)
            break;
    }
    if (!h->rx_len) {
        h->rx_off = 0;
        if (h->retry_timer)
            tm_port_timer_cancel(h->retry_timer);
        h->retry_timer = 0;
    } else if (h->at && tm_at_out_full(h->at)) {
        /* Waiting for the host to read its answers: POLLOUT (host_io ->
         * host_idle) brings us back; no timer, no busy loop. */
        if (h->retry_timer)
            tm_port_timer_cancel(h->retry_timer);
        h->retry_timer = 0;
    } else if (!h->retry_timer) {
        h->retry_timer = tm_port_timer_add(TM_HOST_RETRY_MS, retry_timer_cb, h);
    }
}

static void host_read(tm_host *h)
{
    if (h->rx_len || h->in_fd < 0 || h->in_eof || h->input_stopped)
        return;                        /* backpressure: the engine has not taken the last chunk */
    ssize_t n = read(h->in_fd, h->rx, sizeof h->rx);
    if (n > 0) {
        h->rx_off = 0;
        h->rx_len = (size_t)n;
        feed_remainder(h);
        return;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    int e = n < 0 ? errno : 0;
    switch (h->kind) {
    case TM_HOST_STDIO:
        if (e)
            tm_trace("host", "stdin: %s (treated as end of input)", strerror(e));
        else
            tm_trace("host", "end of input");
        h->in_eof = true;
        tm_port_unwatch(h->in_fd);
        h->watched_in = 0;
        break;
    case TM_HOST_LISTEN:
        if (e) {
            host_disconnect(h, strerror(e));
            break;
        }
        /* End of input: the host closed, or half-closed after sending (nc -N,
         * socat -).  Like --stdio: what it sent is answered, then the
         * connection is closed (host_idle); a write that fails meanwhile
         * means it closed for good and the answers are discarded. */
        tm_trace("host", "end of input from the host: answering what it sent, then closing");
        h->in_eof = true;
        update_watches(h);
        break;
    case TM_HOST_PTY:
        if (e == EIO || !e)
            return;                    /* cannot happen while we hold the slave; ignore */
        fprintf(stderr, "tlsmodem: pty: %s\n", strerror(e));
        tm_trace("host", "host endpoint failed: %s", strerror(e));
        h->failed = true;
        h->in_eof = true;
        tm_port_unwatch(h->in_fd);
        h->watched_in = 0;
        tm_loop_stop();
        break;
    case TM_HOST_SERIAL:
        /* Read 0 (or EIO) on a terminal is a hang-up: the line is gone and
         * every further poll() would report it at once (100 % CPU). */
        if (!e || e == EIO)
            fprintf(stderr, "tlsmodem: serial port %s: hang-up (the line was closed%s); exiting\n",
                    h->dev, e ? ": input/output error" : "");
        else
            fprintf(stderr, "tlsmodem: serial port %s: %s\n", h->dev, strerror(e));
        tm_trace("host", "serial port %s: %s", h->dev, !e || e == EIO ? "hang-up" : strerror(e));
        h->failed = true;
        h->in_eof = true;
        tm_port_unwatch(h->in_fd);
        h->watched_in = 0;
        tm_loop_stop();
        break;
    }
}

static size_t flush_out(tm_host *h);

/* Writes what the host can take now.  Space freed in the output buffer is
 * what paused producers (a body held back by backpressure) wait for; they
 * resume from their idle callback, so the loop must come round once more
 * before it sleeps (tm_loop_wake) — when a producer was short of room, not
 * after every write (a zero-timeout poll per flush otherwise). */
size_t tm_host_flush(tm_host *h)
{
    size_t before = h->at ? tm_at_out_pending(h->at) : 0;
    size_t left = flush_out(h);
    if (left < before && tm_at_out_take_short(h->at))
        tm_loop_wake();
    return left;
}

static size_t flush_out(tm_host *h)
{
    if (!h->at)
        return 0;
    for (;;) {
        const uint8_t *p = NULL;
        size_t n = tm_at_out_peek(h->at, &p);
        if (!n || !p)
            return tm_at_out_pending(h->at);
        if (h->out_fd < 0 && h->kind == TM_HOST_LISTEN && h->draining) {
            tm_at_out_consume(h->at, n);       /* the answer of a host that left */
            continue;
        }
        if (h->out_fd < 0 && h->kind == TM_HOST_LISTEN && !h->failed)
            return tm_at_out_pending(h->at);   /* URCs between hosts: held for the next (like a pty) */
        if (h->out_fd < 0 || h->failed) {
            /* Nobody will ever read it (stdout gone, device failed): dropped. */
            tm_at_out_consume(h->at, n);
            continue;
        }
        ssize_t w = write(h->out_fd, p, n);
        if (w > 0) {
            tm_at_out_consume(h->at, (size_t)w);
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return tm_at_out_pending(h->at);
        int e = w < 0 ? errno : EIO;
        if (h->kind == TM_HOST_LISTEN) {
            host_disconnect(h, strerror(e));
            continue;
        }
        if (h->kind == TM_HOST_PTY && e == EIO)
            return tm_at_out_pending(h->at);  /* slave side momentarily closed */
        tm_trace("host", "output to the host failed: %s; stopping", strerror(e));
        if (h->kind == TM_HOST_SERIAL)
            fprintf(stderr, "tlsmodem: serial port: %s\n", strerror(e));
        h->failed = h->kind != TM_HOST_STDIO;   /* stdout closed by the reader: a normal end */
        h->in_eof = true;
        h->out_fd = -1;
        if (h->kind == TM_HOST_STDIO) {
            tm_port_unwatch(STDOUT_FILENO);
            if (h->in_fd >= 0)
                tm_port_unwatch(h->in_fd);
            h->watched_in = h->watched_out = 0;
        }
        tm_loop_stop();
    }
}

size_t tm_host_drain(tm_host *h, int ms)
{
    int64_t end = tm_port_mono_ms() + ms;
    for (;;) {
        size_t left = tm_host_flush(h);
        int64_t now = tm_port_mono_ms();
        if (!left || h->out_fd < 0 || now >= end)
            return left;
        struct pollfd p = { .fd = h->out_fd, .events = POLLOUT };
        poll(&p, 1, (int)(end - now));
    }
}

static void update_watches(tm_host *h)
{
    bool out = h->at && tm_at_out_pending(h->at) > 0 && h->out_fd >= 0;
    bool in = h->in_fd >= 0 && !h->rx_len && !h->in_eof && !h->input_stopped;
    if (h->in_fd >= 0 && h->in_fd == h->out_fd) {
        unsigned ev = (in ? TM_IO_READ : 0) | (out ? TM_IO_WRITE : 0);
        if (ev != h->watched_in || !h->watched_in) {
            tm_port_watch(h->in_fd, ev, host_io, h);
            h->watched_in = ev;
        }
        return;
    }
    if (h->in_fd >= 0 && !h->in_eof) {
        unsigned ev = in ? TM_IO_READ : 0;
        tm_port_watch(h->in_fd, ev, host_io, h);
        h->watched_in = ev;
    }
    if (h->out_fd >= 0) {
        unsigned ev = out ? TM_IO_WRITE : 0;
        tm_port_watch(h->out_fd, ev, host_io, h);
        h->watched_out = ev;
    }
}

static void tick_timer_cb(void *arg)
{
    tm_host *h = arg;
    h->tick_timer = 0;
    host_idle(h);
}

static void schedule_tick(tm_host *h)
{
    int64_t now = tm_port_mono_ms();
    int64_t d = tm_at_next_deadline(h->at);
    if (d >= 0 && d <= now) {
        tm_at_tick(h->at, now);
        d = tm_at_next_deadline(h->at);
    }
    if (d < 0) {
        if (h->tick_timer)
            tm_port_timer_cancel(h->tick_timer);
        h->tick_timer = 0;
        return;
    }
    if (h->tick_timer && h->tick_due == d)
        return;
    if (h->tick_timer)
        tm_port_timer_cancel(h->tick_timer);
    int64_t in = d - now;
    if (in < 0)
        in = 0;
    h->tick_timer = tm_port_timer_add((uint32_t)(in > 0x7fffffff ? 0x7fffffff : in), tick_timer_cb, h);
    h->tick_due = d;
}

/* Once per loop iteration and after every host event. */
static void host_idle(void *arg)
{
    tm_host *h = arg;
    if (!h->at)
        return;
    feed_remainder(h);
    schedule_tick(h);
    size_t left = tm_host_flush(h);
    update_watches(h);

    if (h->kind == TM_HOST_STDIO && h->in_eof && !h->rx_len && !left &&
        (!tm_at_busy(h->at) || tm_at_in_data_mode(h->at)))
        tm_loop_stop();        /* end of input, engine idle, output delivered */
    if (h->kind == TM_HOST_LISTEN && h->in_fd >= 0 && h->in_eof && !h->rx_len) {
        if (tm_at_in_data_mode(h->at))
            host_disconnect(h, "end of input in the middle of data: abandoned");
        else if (!left && !tm_at_busy(h->at))
            host_disconnect(h, "end of input; everything it sent was answered");
    }
    if (h->kind == TM_HOST_LISTEN && h->draining && !tm_at_busy(h->at)) {
        h->draining = false;
        tm_host_flush(h);      /* discards the departed host's answer */
        tm_trace("host", "the departed host's command ended (answer discarded); accepting the next host");
        if (h->listen_fd >= 0 && !h->input_stopped && h->in_fd < 0)
            tm_port_watch(h->listen_fd, TM_IO_READ, host_io, h);
    }
    if (h->modem && h->modem->quit && !left)
        tm_loop_stop();
}

static void host_io(void *arg, int fd, unsigned ev)
{
    tm_host *h = arg;
    if (fd == h->listen_fd) {
        if (h->in_fd < 0)
            host_accept(h);
        return;
    }
    if ((ev & TM_IO_WRITE) && fd == h->out_fd)
        tm_host_flush(h);
    if ((ev & (TM_IO_READ | TM_IO_ERROR)) && fd == h->in_fd && fd >= 0)
        host_read(h);
    host_idle(h);
}

void tm_host_attach(tm_host *h, tm_at *at, tm_modem *m)
{
    h->at = at;
    h->modem = m;
    tm_port_on_idle(host_idle, h);
    if (h->listen_fd >= 0)
        tm_port_watch(h->listen_fd, TM_IO_READ, host_io, h);
    update_watches(h);
}

void tm_host_stop_input(tm_host *h)
{
    h->input_stopped = true;
    if (h->listen_fd >= 0)
        tm_port_watch(h->listen_fd, 0, host_io, h);
    if (h->at)
        update_watches(h);
}
