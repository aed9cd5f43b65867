/* tlsmodem-cert — the host tool next to the modem: inspect, convert, verify,
 * probe and at-script (docs/cert-tool.md).  The command line is cli.c. */
#include "cert.h"

#include <stdio.h>

#include "core/trace.h"

static void sink(void *arg, const char *line, size_t len)
{
    (void)arg;
    fwrite(line, 1, len, stderr);
    if (len == 0 || line[len - 1] != '\n')
        fputc('\n', stderr);
}

void tc_trace_to_stderr(void)
{
    tm_trace_set_sink(sink, NULL);
}

int main(int argc, char **argv)
{
    return tc_cli_main(argc, argv);
}
