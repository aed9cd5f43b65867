/* tlsmodem-cert — internal header of the host tool (tools/cert/). */
#ifndef TM_CERT_TOOL_H
#define TM_CERT_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "store/certfmt.h"
#include "tls/tls.h"
#include "tls/x509.h"

/* exit statuses (documented in docs/cert-tool.md) */
enum { TC_EXIT_OK = 0, TC_EXIT_FAIL = 1, TC_EXIT_USAGE = 2, TC_EXIT_INPUT = 3 };

#define TC_DEFAULT_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

/* A file's certificates (or a key), as DER items. */
typedef struct {
    tm_fmt    fmt;           /* how the file was written */
    size_t    n;
    tm_blob  *items;         /* DER, each malloc'd */
    char    (*labels)[32];   /* PEM label or inferred ("CERTIFICATE", "PRIVATE KEY", …) */
    int       skipped;       /* PEM blocks that are not what was asked for */
    char      skipped_what[128];
    char      container[16]; /* "PKCS#12", "PKCS#7" when the file was one; "" otherwise */
    char      inner_key[32]; /* a PKCS#12 that also holds a key: "EC prime256v1", "RSA-2048"; "" none */
} tc_items;

/* Password for PKCS#12 files (--password of convert, inspect, at-script); NULL = none/empty. */
extern const char *tc_password;
/* The input format to show: the container when there was one, else PEM/DER/base64. */
const char *tc_format(const tc_items *it);

/* Reads a file ("-" = stdin). */
uint8_t *tc_read_file(const char *path, size_t *len, char *err, size_t cap);
/* Certificates (want TM_ITEM_CERT) or a key (TM_ITEM_KEY) from a file of any
 * format; PEM bundles of any size. 0 or -1 with err. */
int  tc_load(const char *path, tm_item_kind want, tc_items *out, char *err, size_t cap);
int  tc_load_mem(const uint8_t *data, size_t len, tm_item_kind want, tc_items *out, char *err, size_t cap);
void tc_items_free(tc_items *it);

/* PEM text of one DER item ("-----BEGIN <label>-----\n…\n-----END <label>-----\n"), malloc'd. */
char *tc_pem(const tm_blob *der, const char *label, size_t *len);

/* "2030-01-01", "2030-01-01T12:00:00Z", "2030-01-01 12:00:00", "@1700000000" -> seconds. */
bool tc_parse_time(const char *s, int64_t *out);

/* Short role of a certificate in a file: "leaf", "intermediate", "root". */
const char *tc_role(const tm_x509_info *x);
/* Writes "SKI" without colons, lower case (SPWF file names). */
void tc_ski_hex(const tm_x509_info *x, char *out, size_t cap);

/* The AT load script for DER items. kind: "ca", "client-cert", "client-key".
 * Writes to out (malloc'd), returns its length; 0 with err on failure. */
size_t tc_at_script(const tc_items *it, const char *dialect, const char *kind, const char *spwf_form,
                    int index, char **out, char *err, size_t cap);

/* The command line, parsed and checked by cli.c (getopt_long): commands get
 * valid values only (enumerations checked, --index 0..7, --time parsed). */
typedef struct {
    const char         *cmd;
    const char *const  *args;        /* positional arguments (files, HOST:PORT) */
    int                 n_args;
    const char         *out;         /* -o/--output, NULL = stdout */
    const char         *to;          /* convert: "pem" | "der" */
    const char         *ca, *host;   /* verify */
    int64_t             now;         /* --time, when time_given */
    bool                time_given;
    const char         *ca_bundle;   /* probe; default TC_DEFAULT_BUNDLE */
    const char         *dialect;     /* "hl" (default) | "spwf" */
    const char         *spwf_form;   /* "tlscert" (default) | "fs" */
    bool                script_only; /* probe --script */
    const char         *as;          /* at-script: "ca" (default) | "client-cert" | "client-key" */
    int                 index;       /* at-script: 0..7, -1 = none */
    const char         *password;    /* inspect/convert --password: PKCS#12; NULL = none */
} tc_opts;

int tc_cli_main(int argc, char **argv);

int cmd_inspect(const tc_opts *o);
int cmd_convert(const tc_opts *o);
int cmd_verify(const tc_opts *o);
int cmd_probe(const tc_opts *o);
int cmd_at_script(const tc_opts *o);

void tc_trace_to_stderr(void);

#endif
