/* tlsmodem-ctl — sends one command to a tlsmodem control channel and prints
 * the answer (docs/control.md).
 *
 *   tlsmodem-ctl PATH|ADDR:PORT COMMAND...
 *
 * Exit status: 0 the answer is "ok …", 1 it is "error …", 2 usage or the
 * channel could not be reached.  Standalone on purpose: it links nothing of
 * the modem, so it can be copied next to a CI runner. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int connect_unix(const char *path)
{
    struct sockaddr_un sa;
    if (strlen(path) >= sizeof sa.sun_path) {
        fprintf(stderr, "tlsmodem-ctl: %s: path too long\n", path);
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        fprintf(stderr, "tlsmodem-ctl: %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static int connect_tcp(const char *spec)
{
    char host[256];
    const char *colon = strrchr(spec, ':');
    size_t hl = (size_t)(colon - spec);
    if (hl >= sizeof host) {
        fprintf(stderr, "tlsmodem-ctl: %s: address too long\n", spec);
        return -1;
    }
    memcpy(host, spec, hl);
    host[hl] = '\0';
    char *h = host;
    if (h[0] == '[' && hl > 1 && h[hl - 1] == ']') {
        h[hl - 1] = '\0';
        h++;
    }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    int rc = getaddrinfo(h, colon + 1, &hints, &res);
    if (rc) {
        fprintf(stderr, "tlsmodem-ctl: %s: %s\n", spec, gai_strerror(rc));
        return -1;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) < 0) {
        fprintf(stderr, "tlsmodem-ctl: %s: %s\n", spec, strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

int main(int argc, char **argv)
{
    if (argc < 3 || !strcmp(argv[1], "--help")) {
        fprintf(argc < 3 && !(argc == 2 && !strcmp(argv[1], "--help")) ? stderr : stdout,
                "usage: tlsmodem-ctl PATH|ADDR:PORT COMMAND...\n"
                "  sends one command to tlsmodem --control and prints the answer;\n"
                "  exit 0 ok, 1 error answer, 2 usage or no connection.  'help' lists the commands.\n");
        return argc == 2 && !strcmp(argv[1], "--help") ? 0 : 2;
    }
    const char *spec = argv[1];
    int is_path = strchr(spec, '/') || !strchr(spec, ':');
    int fd = is_path ? connect_unix(spec) : connect_tcp(spec);
    if (fd < 0)
        return 2;
    char line[512];
    size_t n = 0;
    for (int i = 2; i < argc; i++) {
        size_t l = strlen(argv[i]);
        if (n + l + 2 > sizeof line) {
            fprintf(stderr, "tlsmodem-ctl: command too long\n");
            return 2;
        }
        if (strchr(argv[i], '\n')) {
            fprintf(stderr, "tlsmodem-ctl: one command only (no newline in the arguments)\n");
            return 2;
        }
        if (n)
            line[n++] = ' ';
        memcpy(line + n, argv[i], l);
        n += l;
    }
    line[n++] = '\n';
    for (size_t off = 0; off < n;) {
        ssize_t w = write(fd, line + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            fprintf(stderr, "tlsmodem-ctl: %s: %s\n", spec, strerror(errno));
            return 2;
        }
        off += (size_t)w;
    }
    char ans[4096];
    size_t got = 0;
    for (;;) {
        ssize_t r = read(fd, ans + got, sizeof ans - 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
        if (memchr(ans, '\n', got) || got == sizeof ans - 1)
            break;
    }
    close(fd);
    ans[got] = '\0';
    char *nl = strchr(ans, '\n');
    if (!nl) {
        fprintf(stderr, "tlsmodem-ctl: %s: no answer (connection closed)\n", spec);
        return 2;
    }
    *nl = '\0';
    puts(ans);
    return strncmp(ans, "ok", 2) == 0 && (ans[2] == ' ' || ans[2] == '\0') ? 0 : 1;
}
