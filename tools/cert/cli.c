/* tlsmodem-cert — the command line: one table per subcommand, parsed with
 * getopt_long (so --opt value, --opt=value, options before or after the
 * file), values checked here once (enumerations, numbers, times), so the
 * commands get a filled tc_opts and never see a malformed option.
 *
 * A usage error is one line on stderr naming the command, the option and
 * what was expected, ending with how to get help; exit 2. --help of a
 * command prints only that command's help on stdout, exit 0. */
#include "cert.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/version.h"
#include "net/net.h"

enum {
    O_HELP = 'h', O_OUT = 'o', O_VERSION = 'V',
    O_TRACE = 256, O_TIME, O_TO, O_CA, O_HOST, O_RESOLVE, O_BUNDLE, O_DIALECT, O_FORM, O_SCRIPT,
    O_AS, O_INDEX, O_PASSWORD,
};

#define OPT_COMMON { "help", no_argument, NULL, O_HELP }, { "trace", no_argument, NULL, O_TRACE }

static const struct option INSPECT_OPTS[] = {
    OPT_COMMON, { "time", required_argument, NULL, O_TIME }, { "password", required_argument, NULL, O_PASSWORD },
    { NULL, 0, NULL, 0 },
};
static const struct option CONVERT_OPTS[] = {
    OPT_COMMON, { "to", required_argument, NULL, O_TO }, { "output", required_argument, NULL, O_OUT },
    { "password", required_argument, NULL, O_PASSWORD }, { NULL, 0, NULL, 0 },
};
static const struct option VERIFY_OPTS[] = {
    OPT_COMMON, { "ca", required_argument, NULL, O_CA }, { "host", required_argument, NULL, O_HOST },
    { "time", required_argument, NULL, O_TIME }, { NULL, 0, NULL, 0 },
};
static const struct option PROBE_OPTS[] = {
    OPT_COMMON, { "resolve", required_argument, NULL, O_RESOLVE },
    { "ca-bundle", required_argument, NULL, O_BUNDLE }, { "dialect", required_argument, NULL, O_DIALECT },
    { "spwf-form", required_argument, NULL, O_FORM }, { "output", required_argument, NULL, O_OUT },
    { "script", no_argument, NULL, O_SCRIPT }, { NULL, 0, NULL, 0 },
};
static const struct option ATSCRIPT_OPTS[] = {
    OPT_COMMON, { "dialect", required_argument, NULL, O_DIALECT }, { "as", required_argument, NULL, O_AS },
    { "index", required_argument, NULL, O_INDEX }, { "spwf-form", required_argument, NULL, O_FORM },
    { "output", required_argument, NULL, O_OUT }, { NULL, 0, NULL, 0 },
};

#define COMMON_HELP \
    "  --trace                the modem's trace lines (chain, verdict, reason...) on stderr\n" \
    "  -h, --help             this help\n"

static const struct {
    const char *name;
    const struct option *opts;
    const char *shortopts;
    int min_args, max_args;     /* positional arguments; -1 = any number */
    const char *arg_name;
    int (*run)(const tc_opts *o);
    const char *summary;        /* one line in the general help */
    const char *help;
} CMDS[] = {
    { "inspect", INSPECT_OPTS, "+h", 1, -1, "FILE", cmd_inspect,
      "inspect FILE...            what a PEM/DER/base64 file or bundle holds",
      "usage: tlsmodem-cert inspect FILE... [--time WHEN] [--password PASS]\n"
      "What each file is (certificate, bundle, key), every certificate's facts (subject, issuer,\n"
      "validity, key, SANs, SKI, CA flag, SHA-256) and what loading it as a root means.\n"
      "  --time WHEN            judge validity at WHEN: 2030-01-31, 2030-01-31T12:00:00Z,\n"
      "                         '2030-01-31 12:00:00' or @EPOCH (default: now)\n"
      "  --password PASS        the password of a PKCS#12 file (default: none/empty)\n"
      COMMON_HELP
      "FILE - reads stdin. Exit: 0 every file read, 1 a file is not usable (e.g. an encrypted key),\n"
      "2 usage, 3 a file cannot be read or is not a certificate/key.\n" },
    { "convert", CONVERT_OPTS, "+ho:", 1, 1, "FILE", cmd_convert,
      "convert FILE --to pem|der  rewrite certificates (or a key) as PEM or DER",
      "usage: tlsmodem-cert convert FILE --to pem|der [-o OUT] [--password PASS]\n"
      "Rewrites the certificates (or the key) of FILE: pem = every certificate, canonical PEM;\n"
      "der = the first certificate only (DER holds one; stderr says so).\n"
      "  --to pem|der           output format (required)\n"
      "  -o, --output OUT       write to OUT (default stdout; - = stdout)\n"
      "  --password PASS        the password of a PKCS#12 file (default: none/empty); FILE may be\n"
      "                         PKCS#12 (.p12/.pfx: pem = certificates, then the key) or PKCS#7\n"
      COMMON_HELP
      "Exit: 0 written, 2 usage, 3 FILE cannot be read or holds no certificate/key.\n" },
    { "verify", VERIFY_OPTS, "+h", 1, 1, "CHAIN file", cmd_verify,
      "verify CHAIN [--ca ROOT]   the modem's own verification of a chain, offline",
      "usage: tlsmodem-cert verify CHAIN [--ca ROOT] [--host NAME] [--time WHEN]\n"
      "Runs the modem's TLS client against the chain as a server would send it; the verdict and\n"
      "the reason are the ones the modem reports.\n"
      "  --ca ROOT              the certificates loaded into the module (default: the CA bundle\n"
      "                         " TC_DEFAULT_BUNDLE ")\n"
      "  --host NAME            the name connected to (default: the leaf's first name)\n"
      "  --time WHEN            2030-01-31, 2030-01-31T12:00:00Z, '2030-01-31 12:00:00' or @EPOCH\n"
      COMMON_HELP
      "Exit: 0 VALID, 1 NOT VALID, 2 usage, 3 a file cannot be read or is not a certificate.\n" },
    { "probe", PROBE_OPTS, "+ho:", 1, 1, "HOST:PORT", cmd_probe,
      "probe HOST:PORT            connect like the modem: chain, problems, the root to load",
      "usage: tlsmodem-cert probe HOST:PORT [--resolve HOST:PORT:ADDR]... [--ca-bundle FILE]\n"
      "                           [--dialect hl|spwf|esp] [--spwf-form tlscert|fs] [-o SCRIPT] [--script]\n"
      "Connects as the modem does (SNI, verification), without SNI, and once more to record the\n"
      "chain; reports the problems, the root that anchors the chain and the AT commands to load it.\n"
      "  --resolve HOST:PORT:ADDR  use ADDR for HOST:PORT (repeatable, like curl)\n"
      "  --ca-bundle FILE       the trust to judge with (default " TC_DEFAULT_BUNDLE ")\n"
      "  --dialect hl|spwf|esp  the dialect of the AT script (default hl)\n"
      "  --spwf-form tlscert|fs SPWF: AT+S.TLSCERT (default) or a file-system CA (AT+S.FSC)\n"
      "  -o, --output SCRIPT    also write the exact AT script to SCRIPT\n"
      "  --script               stdout carries only the AT script (the report goes to stderr)\n"
      COMMON_HELP
      "Exit: 0 the modem connects and no problem was found, 1 a problem or a failure, 2 usage,\n"
      "3 the CA bundle cannot be read.\n" },
    { "at-script", ATSCRIPT_OPTS, "+ho:", 1, 1, "FILE", cmd_at_script,
      "at-script FILE             the AT command sequence that loads FILE",
      "usage: tlsmodem-cert at-script FILE [--dialect hl|spwf|esp] [--as ca|client-cert|client-key]\n"
      "                           [--index 0..7] [--spwf-form tlscert|fs] [-o OUT]\n"
      "The exact bytes a host sends to load FILE: command line ended by CR (CR LF for esp), then the data.\n"
      "  --dialect hl|spwf|esp  the module's dialect (default hl, as probe)\n"
      "  --as ca|client-cert|client-key   what FILE is loaded as (default ca)\n"
      "  --index 0..7           HL: the slot (AT+KCERTSTORE/AT+KPRIVKSTORE index; default none);\n"
      "                         ESP: the AT+SYSMFG key number (client_ca.<i>; default 0)\n"
      "  --spwf-form tlscert|fs SPWF: AT+S.TLSCERT (default) or a file-system CA (AT+S.FSC)\n"
      "  -o, --output OUT       write the script to OUT (default stdout; - = stdout)\n"
      COMMON_HELP
      "Exit: 0 written, 2 usage, 3 FILE cannot be read, holds nothing of the kind asked, or more\n"
      "certificates than the module takes in one command (HL: 16).\n" },
};
#define N_CMDS (sizeof CMDS / sizeof CMDS[0])

static void general_help(FILE *f)
{
    fprintf(f, "usage: tlsmodem-cert COMMAND [options] ARGS   (tlsmodem-cert COMMAND --help for one)\n");
    for (size_t i = 0; i < N_CMDS; i++)
        fprintf(f, "  %s\n", CMDS[i].summary);
    fputs("  --version, --help\n"
          "Options take \"--opt value\" or \"--opt=value\", before or after the file.\n"
          "Exit status: 0 ok, 1 not valid / probe found a problem, 2 usage, 3 unreadable input\n"
          "(details: each command's --help, docs/cert-tool.md, man tlsmodem-cert).\n",
          f);
}

static int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int usage_error(const char *cmd, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "tlsmodem-cert%s%s: %s (try 'tlsmodem-cert%s%s --help')\n", cmd ? " " : "",
            cmd ? cmd : "", msg, cmd ? " " : "", cmd ? cmd : "");
    return TC_EXIT_USAGE;
}

static bool one_of(const char *v, const char *a, const char *b, const char *c)
{
    return !strcmp(v, a) || !strcmp(v, b) || (c && !strcmp(v, c));
}

/* The option as the user wrote it, for messages ("--index", "-o"). */
static const char *opt_name(const struct option *opts, int c, char *buf, size_t cap)
{
    if (c == O_OUT) {
        snprintf(buf, cap, "-o/--output");
        return buf;
    }
    for (const struct option *o = opts; o->name; o++)
        if (o->val == c) {
            snprintf(buf, cap, "--%s", o->name);
            return buf;
        }
    snprintf(buf, cap, "-%c", c);
    return buf;
}

int tc_cli_main(int argc, char **argv)
{
    if (argc < 2)
        return usage_error(NULL, "no command given");
    const char *c = argv[1];
    if (!strcmp(c, "-h") || !strcmp(c, "--help") || !strcmp(c, "help")) {
        general_help(stdout);
        return TC_EXIT_OK;
    }
    if (!strcmp(c, "-V") || !strcmp(c, "--version")) {
        printf("tlsmodem-cert %s\n", TM_VERSION);
        return TC_EXIT_OK;
    }
    size_t k;
    for (k = 0; k < N_CMDS && strcmp(CMDS[k].name, c); k++)
        ;
    if (k == N_CMDS)
        return usage_error(NULL, "unknown command '%s' (inspect, convert, verify, probe, at-script)", c);

    tc_opts o;
    memset(&o, 0, sizeof o);
    o.cmd = CMDS[k].name;
    o.dialect = "hl";
    o.as = "ca";
    o.spwf_form = "tlscert";
    o.ca_bundle = TC_DEFAULT_BUNDLE;
    o.index = -1;
    o.now = 0;

    /* argv + 1: the command is argv[0] for getopt; GNU getopt permutes, so
     * options may follow the file. "+" is not used for that reason; "--"
     * ends options as usual. */
    int sub_argc = argc - 1;
    char **sub_argv = argv + 1;
    const struct option *opts = CMDS[k].opts;
    const char *shortopts = CMDS[k].shortopts + 1;   /* without '+': permute */
    char sh[16];
    snprintf(sh, sizeof sh, ":%s", shortopts);
    optind = 0;
    opterr = 0;
    char nb[48];
    for (;;) {
        int ch = getopt_long(sub_argc, sub_argv, sh, opts, NULL);
        if (ch == -1)
            break;
        /* after an error GNU getopt has stepped past the offending word */
        const char *as_written = optind > 0 && optind <= sub_argc ? sub_argv[optind - 1] : "?";
        switch (ch) {
        case O_HELP:
            fputs(CMDS[k].help, stdout);
            return TC_EXIT_OK;
        case O_TRACE:
            tc_trace_to_stderr();
            break;
        case O_TIME:
            if (!tc_parse_time(optarg, &o.now))
                return usage_error(o.cmd, "--time '%s': expected 2030-01-31, 2030-01-31T12:00:00Z, "
                                   "'2030-01-31 12:00:00' or @EPOCH", optarg);
            o.time_given = true;
            break;
        case O_TO:
            if (!one_of(optarg, "pem", "der", NULL))
                return usage_error(o.cmd, "--to '%s': expected pem or der", optarg);
            o.to = optarg;
            break;
        case O_OUT:
            if (!*optarg)
                return usage_error(o.cmd, "%s needs a file name (or - for stdout)", opt_name(opts, ch, nb, sizeof nb));
            o.out = optarg;
            break;
        case O_CA:
            o.ca = optarg;
            break;
        case O_HOST:
            if (!*optarg)
                return usage_error(o.cmd, "--host needs a name");
            o.host = optarg;
            break;
        case O_RESOLVE: {
            tm_reason why;
            tm_reason_clear(&why);
            if (tm_net_add_resolve(optarg, &why) != TM_OK)
                return usage_error(o.cmd, "%s", why.detail);   /* names the option and the value */
            break;
        }
        case O_BUNDLE:
            if (!*optarg)
                return usage_error(o.cmd, "--ca-bundle needs a file name");
            o.ca_bundle = optarg;
            break;
        case O_DIALECT:
            if (!one_of(optarg, "hl", "spwf", "esp"))
                return usage_error(o.cmd, "--dialect '%s': expected hl, spwf or esp", optarg);
            o.dialect = optarg;
            break;
        case O_FORM:
            if (!one_of(optarg, "tlscert", "fs", NULL))
                return usage_error(o.cmd, "--spwf-form '%s': expected tlscert or fs", optarg);
            o.spwf_form = optarg;
            break;
        case O_SCRIPT:
            o.script_only = true;
            break;
        case O_AS:
            if (!one_of(optarg, "ca", "client-cert", "client-key"))
                return usage_error(o.cmd, "--as '%s': expected ca, client-cert or client-key", optarg);
            o.as = optarg;
            break;
        case O_PASSWORD:
            o.password = optarg;
            break;
        case O_INDEX: {
            char *end;
            errno = 0;
            long v = strtol(optarg, &end, 10);
            if (!*optarg || *end || errno || v < 0 || v > 7)
                return usage_error(o.cmd, "--index '%s': expected a number 0..7", optarg);
            o.index = (int)v;
            break;
        }
        case ':':
            return usage_error(o.cmd, "%s needs a value", opt_name(opts, optopt, nb, sizeof nb));
        default:
            if (optopt && optopt < 256)
                return usage_error(o.cmd, "unknown option -%c", optopt);
            if (optopt >= 256)     /* a known long option given a value it does not take */
                return usage_error(o.cmd, "%s takes no value", opt_name(opts, optopt, nb, sizeof nb));
            return usage_error(o.cmd, "unknown option '%s'", as_written);
        }
    }
    o.args = (const char *const *)sub_argv + optind;
    o.n_args = sub_argc - optind;
    if (o.n_args < CMDS[k].min_args)
        return usage_error(o.cmd, "missing %s", CMDS[k].arg_name);
    if (CMDS[k].max_args >= 0 && o.n_args > CMDS[k].max_args)
        return usage_error(o.cmd, "one %s only (unexpected '%s')", CMDS[k].arg_name, o.args[CMDS[k].max_args]);
    if (!strcmp(o.cmd, "convert") && !o.to)
        return usage_error(o.cmd, "--to pem|der is required");
    return CMDS[k].run(&o);
}
