/* tlsmodem — command line of the Linux binary (man/tlsmodem.1, docs/ports.md).
 *
 * tlsmodem [--dialect hl|spwf]
 *          [--stdio | --pty LINK | --listen ADDR:PORT | --serial DEV [--baud N]]
 *          [--store DIR] [--ca-bundle FILE|none] [--resolve HOST:PORT:ADDR]...
 *          [--trace FILE|-] [--name NAME] [--clock host|unset] [--model NAME]
 *          [--imei DIGITS] [--iccid DIGITS] [--imsi DIGITS]
 *          [--timeout-connect MS] [--timeout-dns MS] [--timeout-response MS]
 *          [--timeout-idle MS] [--control PATH|ADDR:PORT] [--wifi SSID[:PASSWORD]]...
 *          [--help] [--version]
 *
 * Options also take the --name=value form.  Parsing only checks syntax;
 * main applies the result (opens the store, the endpoint, …). */
#ifndef TM_PORT_POSIX_ARGS_H
#define TM_PORT_POSIX_ARGS_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "core/version.h"

#define TM_VERSION_STRING TM_VERSION
#define TM_DEFAULT_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"
#define TM_DEFAULT_BAUD 115200

typedef enum { TM_HOST_STDIO, TM_HOST_PTY, TM_HOST_LISTEN, TM_HOST_SERIAL } tm_host_kind;

typedef enum { TM_ARGS_RUN, TM_ARGS_HELP, TM_ARGS_VERSION, TM_ARGS_ERROR } tm_args_result;

typedef struct {
    const char  *dialect;          /* "hl" (default) or "spwf" */
    tm_host_kind host;             /* default TM_HOST_STDIO */
    const char  *host_arg;         /* LINK, ADDR:PORT or DEV */
    long         baud;             /* serial speed, default TM_DEFAULT_BAUD */
    bool         baud_given;
    const char  *store;            /* NULL = default location */
    const char  *ca_bundle;        /* "" = none; default TM_DEFAULT_CA_BUNDLE */
    bool         ca_bundle_given;
    const char  *resolve[TM_RESOLVE_MAX];
    int          resolve_count;
    const char  *trace;            /* NULL = off, "-" = stderr */
    bool         clock_unset;      /* --clock unset */
    /* --timeout-*: milliseconds, -1 = not given (config.h default), 0 = never */
    long         timeout_connect;
    long         timeout_dns;
    long         timeout_response;
    long         timeout_idle;
    const char  *model;            /* NULL = the dialect's default (main checks the name) */
    const char  *imei;             /* 15 digits, NULL = default */
    const char  *iccid;            /* 19 or 20 digits, NULL = default */
    const char  *imsi;             /* 6..15 digits, NULL = default */
    const char  *name;             /* --name: identity in the trace and banner; NULL = derived */
    const char  *control;          /* --control PATH|ADDR:PORT, NULL = none (control.c checks it) */
    const char  *wifi[TM_WIFI_MAX];  /* --wifi SSID[:PASSWORD] (--dialect esp), repeatable */
    int          wifi_count;
} tm_args;

/* Parses argv (pointers into argv are kept).  On TM_ARGS_ERROR err holds one
 * line ("--baud needs a number") for "tlsmodem: <err>" + usage, exit 2. */
tm_args_result tm_args_parse(int argc, char **argv, tm_args *a, char *err, size_t cap);

/* The usage text (ends with a newline). */
const char *tm_args_usage(void);

/* True when the serial rate is one the termios interface knows
 * (9600 .. 4000000). */
bool tm_args_baud_ok(long baud);

/* "ADDR:PORT", "[v6]:PORT", ":PORT" / "*:PORT" (all addresses).  host gets
 * "" for all addresses.  Returns false when malformed. */
bool tm_args_split_hostport(const char *s, char *host, size_t hcap, char *port, size_t pcap);

#endif
