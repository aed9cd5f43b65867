/* tlsmodem — command-line parsing.  See args.h. */
#include "port/posix/args.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char USAGE[] =
    "usage: tlsmodem [options]\n"
    "  --dialect hl|spwf|esp      AT dialect: Sierra HL (default), ST SPWF04 or Espressif ESP-AT\n"
    "  --stdio                    host on standard input/output (default; pipes or a terminal)\n"
    "  --pty LINK                 create a pseudo-terminal and symlink its slave at LINK\n"
    "  --listen ADDR:PORT         host over TCP (one connection at a time)\n"
    "  --serial DEV [--baud N]    host on a serial port, raw, RTS/CTS flow control (default 115200)\n"
    "  --store DIR                persistent store (default $XDG_DATA_HOME/tlsmodem\n"
    "                             or ~/.local/share/tlsmodem)\n"
    "  --ca-bundle FILE|none      default trust when no CA is loaded\n"
    "                             (default " TM_DEFAULT_CA_BUNDLE ")\n"
    "  --resolve HOST:PORT:ADDR   pin a name to an address (repeatable)\n"
    "  --trace FILE|-             readable timeline of events (- = stderr); SIGHUP reopens FILE\n"
    "  --name NAME                this modem's name on every trace line (default: from the endpoint)\n"
    "  --clock host|unset         module clock follows the host (default) or starts unset\n"
    "  --timeout-connect MS       DNS + TCP connect + TLS handshake, in total (default 30000)\n"
    "  --timeout-dns MS           name resolution alone (default 10000)\n"
    "  --timeout-response MS      request sent -> complete response head (default 60000)\n"
    "  --timeout-idle MS          longest silence of a server while data is awaited\n"
    "                             (default 30000); 0 = never, for any --timeout-*\n"
    "  --model NAME               module model: hl8548 (default), hl7800, hl7802 (--dialect hl);\n"
    "                             esp32 (default), esp8266 (--dialect esp)\n"
    "  --imei DIGITS              IMEI the module reports (15 digits)\n"
    "  --iccid DIGITS             SIM ICCID the module reports (19 or 20 digits)\n"
    "  --imsi DIGITS              SIM IMSI the module reports (6 to 15 digits)\n"
    "  --control PATH|ADDR:PORT   control channel driving the simulated network (docs/control.md)\n"
    "  --wifi SSID[:PASSWORD]     an access point the simulated station sees (--dialect esp;\n"
    "                             repeatable; default: tlsmodem:tlsmodem)\n"
    "  --help, --version\n";

const char *tm_args_usage(void) { return USAGE; }

static const long BAUDS[] = {
    9600, 19200, 38400, 57600, 115200, 230400, 460800, 500000, 576000, 921600,
    1000000, 1152000, 1500000, 2000000, 2500000, 3000000, 3500000, 4000000,
};

bool tm_args_baud_ok(long baud)
{
    for (size_t i = 0; i < sizeof BAUDS / sizeof BAUDS[0]; i++)
        if (BAUDS[i] == baud)
            return true;
    return false;
}

bool tm_args_split_hostport(const char *s, char *host, size_t hcap, char *port, size_t pcap)
{
    const char *colon;
    const char *h = s;
    size_t hlen;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':')
            return false;
        h = s + 1;
        hlen = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            return false;
        hlen = (size_t)(colon - s);
        if (memchr(s, ':', hlen))
            return false;          /* bare IPv6 must be bracketed */
    }
    const char *p = colon + 1;
    if (!*p || strlen(p) >= pcap || hlen >= hcap)
        return false;
    char *end;
    errno = 0;
    long v = strtol(p, &end, 10);
    if (*end || errno || v < 0 || v > 65535)
        return false;
    if (hlen == 1 && h[0] == '*')
        hlen = 0;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    strcpy(port, p);
    return true;
}

static tm_args_result fail(char *err, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static tm_args_result fail(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return TM_ARGS_ERROR;
}

enum {
    O_DIALECT = 256, O_STDIO, O_PTY, O_LISTEN, O_SERIAL, O_BAUD, O_STORE, O_CA,
    O_RESOLVE, O_TRACE, O_CLOCK, O_HELP, O_VERSION, O_MODEL, O_IMEI, O_ICCID, O_IMSI,
    O_TO_CONNECT, O_TO_DNS, O_TO_RESPONSE, O_TO_IDLE, O_NAME, O_CONTROL, O_WIFI,
};

static const struct option LONGOPTS[] = {
    { "dialect",   required_argument, NULL, O_DIALECT },
    { "stdio",     no_argument,       NULL, O_STDIO },
    { "pty",       required_argument, NULL, O_PTY },
    { "listen",    required_argument, NULL, O_LISTEN },
    { "serial",    required_argument, NULL, O_SERIAL },
    { "baud",      required_argument, NULL, O_BAUD },
    { "store",     required_argument, NULL, O_STORE },
    { "ca-bundle", required_argument, NULL, O_CA },
    { "resolve",   required_argument, NULL, O_RESOLVE },
    { "trace",     required_argument, NULL, O_TRACE },
    { "clock",     required_argument, NULL, O_CLOCK },
    { "timeout-connect",  required_argument, NULL, O_TO_CONNECT },
    { "timeout-dns",      required_argument, NULL, O_TO_DNS },
    { "timeout-response", required_argument, NULL, O_TO_RESPONSE },
    { "timeout-idle",     required_argument, NULL, O_TO_IDLE },
    { "model",     required_argument, NULL, O_MODEL },
    { "imei",      required_argument, NULL, O_IMEI },
    { "iccid",     required_argument, NULL, O_ICCID },
    { "imsi",      required_argument, NULL, O_IMSI },
    { "name",      required_argument, NULL, O_NAME },
    { "control",   required_argument, NULL, O_CONTROL },
    { "wifi",      required_argument, NULL, O_WIFI },
    { "help",      no_argument,       NULL, O_HELP },
    { "version",   no_argument,       NULL, O_VERSION },
    { NULL, 0, NULL, 0 },
};

tm_args_result tm_args_parse(int argc, char **argv, tm_args *a, char *err, size_t cap)
{
    memset(a, 0, sizeof *a);
    a->dialect = "hl";
    a->host = TM_HOST_STDIO;
    a->baud = TM_DEFAULT_BAUD;
    a->ca_bundle = TM_DEFAULT_CA_BUNDLE;
    a->timeout_connect = a->timeout_dns = a->timeout_response = a->timeout_idle = -1;
    if (cap)
        err[0] = '\0';

    bool host_given = false;
    const char *host_opt = NULL;
    tm_args_result result = TM_ARGS_RUN;

    optind = 0;          /* GNU: full re-initialisation (parse may run more than once) */
    opterr = 0;
    for (;;) {
        int prev = optind ? optind : 1;
        int c = getopt_long(argc, argv, "+:hV", LONGOPTS, NULL);
        if (c == -1)
            break;
        const char *opt = prev < argc ? argv[prev] : "?";
        switch (c) {
        case O_DIALECT:
            if (strcmp(optarg, "hl") && strcmp(optarg, "spwf") && strcmp(optarg, "esp"))
                return fail(err, cap, "--dialect: unknown dialect \"%s\" (hl, spwf or esp)", optarg);
            a->dialect = optarg;
            break;
        case O_STDIO: case O_PTY: case O_LISTEN: case O_SERIAL: {
            static const char *const names[] = { "--stdio", "--pty", "--listen", "--serial" };
            const char *name = names[c - O_STDIO];
            if (host_given && strcmp(host_opt, name))
                return fail(err, cap, "%s and %s exclude each other (one host endpoint)", host_opt, name);
            host_given = true;
            host_opt = name;
            a->host = (tm_host_kind)(TM_HOST_STDIO + (c - O_STDIO));
            a->host_arg = c == O_STDIO ? NULL : optarg;
            if (c != O_STDIO && !*optarg)
                return fail(err, cap, "%s needs a non-empty argument", name);
            if (c == O_LISTEN) {
                char h[256], p[16];
                if (!tm_args_split_hostport(optarg, h, sizeof h, p, sizeof p))
                    return fail(err, cap, "--listen \"%s\": expected ADDR:PORT (e.g. 127.0.0.1:7000, [::1]:7000)", optarg);
            }
            break;
        }
        case O_BAUD: {
            char *end;
            errno = 0;
            long v = strtol(optarg, &end, 10);
            if (!*optarg || *end || errno || v <= 0)
                return fail(err, cap, "--baud \"%s\": expected a number such as 115200", optarg);
            if (!tm_args_baud_ok(v))
                return fail(err, cap, "--baud %ld: rate not supported (9600, 19200, 38400, 57600, 115200, "
                            "230400, 460800, 921600, ... 4000000)", v);
            a->baud = v;
            a->baud_given = true;
            break;
        }
        case O_STORE:
            if (!*optarg)
                return fail(err, cap, "--store needs a directory");
            a->store = optarg;
            break;
        case O_CA:
            if (!*optarg)
                return fail(err, cap, "--ca-bundle needs a file name or \"none\"");
            a->ca_bundle = strcmp(optarg, "none") ? optarg : "";
            a->ca_bundle_given = true;
            break;
        case O_RESOLVE:
            if (a->resolve_count >= TM_RESOLVE_MAX)
                return fail(err, cap, "--resolve: at most %d entries", TM_RESOLVE_MAX);
            a->resolve[a->resolve_count++] = optarg;
            break;
        case O_TRACE:
            if (!*optarg)
                return fail(err, cap, "--trace needs a file name or -");
            a->trace = optarg;
            break;
        case O_CLOCK:
            if (!strcmp(optarg, "host"))
                a->clock_unset = false;
            else if (!strcmp(optarg, "unset"))
                a->clock_unset = true;
            else
                return fail(err, cap, "--clock \"%s\": expected host or unset", optarg);
            break;
        case O_TO_CONNECT: case O_TO_DNS: case O_TO_RESPONSE: case O_TO_IDLE: {
            static const char *const names[] = { "--timeout-connect", "--timeout-dns", "--timeout-response",
                                                 "--timeout-idle" };
            char *end;
            errno = 0;
            long v = strtol(optarg, &end, 10);
            if (!*optarg || *end || errno || v < 0 || v > 86400000)
                return fail(err, cap, "%s \"%s\": expected milliseconds, 0 (never) to 86400000",
                            names[c - O_TO_CONNECT], optarg);
            long *dst[] = { &a->timeout_connect, &a->timeout_dns, &a->timeout_response, &a->timeout_idle };
            *dst[c - O_TO_CONNECT] = v;
            break;
        }
        case O_MODEL:
            if (!*optarg)
                return fail(err, cap, "--model needs a model name (hl8548, hl7800, hl7802, esp32, esp8266)");
            a->model = optarg;
            break;
        case O_IMEI: case O_ICCID: case O_IMSI: {
            static const char *const names[] = { "--imei", "--iccid", "--imsi" };
            static const size_t lo[] = { 15, 19, 6 }, hi[] = { 15, 20, 15 };  /* IMEI, ICCID, IMSI */
            int k = c - O_IMEI;
            size_t n = strlen(optarg);
            if (n < lo[k] || n > hi[k] || strspn(optarg, "0123456789") != n)
                return fail(err, cap, "%s \"%s\": expected %s digits", names[k], optarg,
                            k == 0 ? "15" : k == 1 ? "19 or 20" : "6 to 15");
            if (k == 0) a->imei = optarg; else if (k == 1) a->iccid = optarg; else a->imsi = optarg;
            break;
        }
        case O_NAME:
            if (!*optarg || strlen(optarg) > 32 || strpbrk(optarg, " \t\r\n"))
                return fail(err, cap, "--name \"%s\": expected 1 to 32 characters without spaces", optarg);
            a->name = optarg;
            break;
        case O_CONTROL:
            if (!*optarg)
                return fail(err, cap, "--control needs a socket path or 127.0.0.1:PORT");
            a->control = optarg;
            break;
        case O_WIFI: {
            /* SSID up to the first ':' (1..32 bytes), then the WPA2 passphrase
             * (8..63 characters, or 64 hex digits); none or empty = open */
            if (a->wifi_count >= TM_WIFI_MAX)
                return fail(err, cap, "--wifi: at most %d access points", TM_WIFI_MAX);
            const char *colon = strchr(optarg, ':');
            size_t sl = colon ? (size_t)(colon - optarg) : strlen(optarg);
            size_t pl = colon ? strlen(colon + 1) : 0;
            if (sl == 0 || sl > 32)
                return fail(err, cap, "--wifi \"%s\": expected SSID[:PASSWORD] with an SSID of 1 to 32 bytes",
                            optarg);
            if (pl != 0 && (pl < 8 || pl > 64))
                return fail(err, cap, "--wifi \"%s\": a WPA2 password has 8 to 63 characters (or 64 hex "
                            "digits); leave it out (SSID or SSID:) for an open network", optarg);
            for (const char *q = optarg; *q; q++)
                if ((unsigned char)*q < 0x20 || *q == 0x7f)
                    return fail(err, cap, "--wifi: control characters are not allowed in SSID or password");
            a->wifi[a->wifi_count++] = optarg;
            break;
        }
        case 'h': case O_HELP:
            result = TM_ARGS_HELP;
            break;
        case 'V': case O_VERSION:
            if (result != TM_ARGS_HELP)
                result = TM_ARGS_VERSION;
            break;
        case ':':
            return fail(err, cap, "%s needs an argument", opt);
        default:
            if (optopt && optopt < 256)
                return fail(err, cap, "unknown option -%c", optopt);
            if (optopt >= O_DIALECT)
                return fail(err, cap, "%s needs an argument", opt);
            return fail(err, cap, "unknown option %s", opt);
        }
    }
    if (optind < argc)
        return fail(err, cap, "unexpected argument \"%s\"", argv[optind]);
    if (a->baud_given && a->host != TM_HOST_SERIAL)
        return fail(err, cap, "--baud applies to --serial only");
    return result;
}
