/* tlsmodem-cert — the host tool next to the modem: inspect, convert, verify,
 * probe and at-script (docs/cert-tool.md). */
#include "cert.h"

#include <stdio.h>
#include <string.h>

#include "core/trace.h"
#include "core/version.h"

static void usage(FILE *f)
{
    fputs("usage: tlsmodem-cert COMMAND ...\n"
          "  inspect FILE...                         what a PEM/DER/base64 file or bundle holds\n"
          "  convert FILE --to pem|der [-o OUT]      rewrite certificates (or a key) as PEM or DER\n"
          "  verify CHAIN [--ca ROOT] [--host NAME] [--time ISO8601]\n"
          "                                          the modem's own verification, offline\n"
          "  probe HOST:PORT [--resolve HOST:PORT:ADDR] [--ca-bundle FILE] [--dialect hl|spwf]\n"
          "                                          connect like the modem; chain, problems, load script\n"
          "  at-script FILE --dialect hl|spwf [--as ca|client-cert|client-key] [--index N]\n"
          "            [--spwf-form tlscert|fs]      the AT command sequence that loads FILE\n"
          "options for every command: --trace (the modem's trace lines on stderr)\n"
          "exit status: 0 ok, 1 not valid / probe found a problem, 2 usage, 3 unreadable input\n",
          f);
}

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
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? TC_EXIT_USAGE : TC_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        printf("tlsmodem-cert %s\n", TM_VERSION);
        return TC_EXIT_OK;
    }
    /* --trace anywhere */
    int k = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--trace") == 0)
            tc_trace_to_stderr();
        else
            argv[k++] = argv[i];
    }
    argc = k;
    argv[argc] = NULL;
    const char *c = argv[1];
    if (strcmp(c, "inspect") == 0)
        return cmd_inspect(argc - 1, argv + 1);
    if (strcmp(c, "convert") == 0)
        return cmd_convert(argc - 1, argv + 1);
    if (strcmp(c, "verify") == 0)
        return cmd_verify(argc - 1, argv + 1);
    if (strcmp(c, "probe") == 0)
        return cmd_probe(argc - 1, argv + 1);
    if (strcmp(c, "at-script") == 0)
        return cmd_at_script(argc - 1, argv + 1);
    fprintf(stderr, "tlsmodem-cert: unknown command '%s'\n", c);
    usage(stderr);
    return TC_EXIT_USAGE;
}
