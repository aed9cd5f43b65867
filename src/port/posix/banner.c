/* See banner.h. */
#include "port/posix/banner.h"
#include "core/version.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *base(const char *path)
{
    const char *s = strrchr(path, '/');
    return s && s[1] ? s + 1 : path;
}

void tm_banner_ident(const tm_args *a, char *out, size_t cap)
{
    if (a->name) {
        snprintf(out, cap, "%s", a->name);
        return;
    }
    switch (a->host) {
    case TM_HOST_STDIO:  snprintf(out, cap, "stdio"); break;
    case TM_HOST_PTY:    snprintf(out, cap, "%s", base(a->host_arg)); break;
    case TM_HOST_SERIAL: snprintf(out, cap, "%s", base(a->host_arg)); break;
    case TM_HOST_LISTEN: {
        const char *port = strrchr(a->host_arg, ':');
        snprintf(out, cap, "tcp:%s", port ? port + 1 : a->host_arg);
        break;
    }
    }
}

void tm_banner_print(int fd, const tm_args *a, const char *dialect, const char *store,
                     const char *ca_bundle)
{
    /* stdout may be this terminal in raw mode: end lines with CR LF there */
    const char *nl = isatty(fd) ? "\r\n" : "\n";
    char where[600], quit[200], name[64];
    bool term = a->host == TM_HOST_STDIO && isatty(STDIN_FILENO);
    switch (a->host) {
    case TM_HOST_STDIO:
        snprintf(where, sizeof where, "%s", term ? "this terminal" : "stdin/stdout");
        break;
    case TM_HOST_PTY:
        snprintf(where, sizeof where, "pty %s", a->host_arg);
        break;
    case TM_HOST_LISTEN:
        snprintf(where, sizeof where, "TCP %s (one host at a time)", a->host_arg);
        break;
    case TM_HOST_SERIAL:
        snprintf(where, sizeof where, "serial %s, %ld baud, RTS/CTS", a->host_arg, a->baud);
        break;
    }
    if (term)
        snprintf(quit, sizeof quit, "type AT commands, Enter sends them (CR); Ctrl-C quits");
    else if (a->host == TM_HOST_STDIO)
        snprintf(quit, sizeof quit, "end of input, Ctrl-C or SIGTERM (pid %ld) quits", (long)getpid());
    else
        snprintf(quit, sizeof quit, "Ctrl-C or SIGTERM (pid %ld) quits", (long)getpid());
    tm_banner_ident(a, name, sizeof name);
    dprintf(fd, "tlsmodem %s ready (%s): dialect %s, host on %s, store %s, trust %s%s, trace %s%s"
                "tlsmodem: %s%s",
            TM_VERSION, name, dialect, where, store,
            ca_bundle[0] ? "loaded CAs, else " : "loaded CAs only", ca_bundle,
            !a->trace ? "off" : strcmp(a->trace, "-") ? a->trace : "stderr", nl, quit, nl);
}
