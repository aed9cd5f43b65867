/* tlsmodem — HL vendor extensions for diagnostics (the +TM prefix cannot
 * collide with Sierra's +K commands; docs/hl.md "Vendor extensions:
 * diagnostics"):
 *
 *   AT+TMPROBE="<host>"[,<port>]   the probe of src/diag/probe.c from the
 *       module's network position, with the trust and clock AT+KHTTPSGET at
 *       sec_level 1 uses; "+TMPROBE: <text>" lines as it goes, then OK, or
 *       +CME ERROR when the server cannot be reached at TCP level.
 *   AT+TMCERTLIST                   the stored roots, local certificates and
 *       keys with the one-line summaries of src/diag/summary.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dialect/hl/hl.h"
#include "diag/probe_cmd.h"
#include "diag/summary.h"

/* One probe at a time (a pending command holds the engine anyway); static so
 * nothing is lost if the modem stops in the middle. */
static hl_creds g_probe_creds;

static void probe_release(void)
{
    hl_creds_free(&g_probe_creds);
}

static tm_probe_cmd g_probe = { .prefix = "+TMPROBE: ", .release = probe_release };

tm_err hl_tmprobe_set(tm_at *at, const tm_at_args *a)
{
    char host[TM_HOST_MAX];
    long port;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 2)) ||
        (e = tm_at_get_host(at, a, 1, "host", host, sizeof host)) ||
        (e = tm_at_opt_int(at, a, 2, "port", 1, 65535, 443, &port)))
        return e;
    if (!tm_probe_cmd_idle(&g_probe, at))
        return TM_E_BUSY;
    hl_state *s = hl_get(at);
    tm_tls_config cfg;
    if ((e = hl_creds_load(s, &g_probe_creds, false, tm_at_reason(at)))) {
        probe_release();
        return e;
    }
    hl_tls_config(s, &g_probe_creds, &cfg, host, 1);   /* what AT+KHTTPSGET at sec_level 1 trusts */
    return tm_probe_cmd_start(&g_probe, at, host, (uint16_t)port, &cfg);
}

/* ---- AT+TMCERTLIST ------------------------------------------------------------ */

typedef struct {
    tm_at      *at;
    const char *kind;    /* "root_cert", "local_cert", "privkey" */
} list_ctx;

/* Summaries go into a quoted field: double quotes become single quotes. */
static void unquote(char *s)
{
    for (; *s; s++)
        if (*s == '"' || *s == '\r' || *s == '\n')
            *s = *s == '"' ? '\'' : ' ';
}

static void list_cb(void *arg, const char *name, tm_certlist_kind kind, int i, int count, const char *summary)
{
    list_ctx *l = arg;
    const char *dot = strrchr(name, '.');
    const char *index = dot ? dot + 1 : name;
    char sum[1700];
    snprintf(sum, sizeof sum, "%s", summary);
    unquote(sum);
    if (kind == TM_CERTLIST_CERT)
        tm_at_line(l->at, "+TMCERTLIST: %s,%s,%d/%d,\"%s\"", l->kind, index, i, count, sum);
    else
        tm_at_line(l->at, "+TMCERTLIST: %s,%s,\"%s\"", l->kind, index, sum);
}

tm_err hl_tmcertlist_exec(tm_at *at, const tm_at_args *a)
{
    (void)a;
    tm_modem *m = hl_modem(at);
    static const char *const prefix[] = { "hl/root_ca.", "hl/local_cert.", "hl/privkey." };
    static const char *const kinds[] = { "root_cert", "local_cert", "privkey" };
    tm_at_spool(at);            /* 16 full slots are larger than the output buffer: streamed */
    for (int k = 0; k < 3; k++) {
        list_ctx l = { at, kinds[k] };
        if (tm_certlist(&m->store, prefix[k], tm_modem_now(m), list_cb, &l) < 0)
            return tm_at_spool_end(at, tm_fail(tm_at_reason(at), TM_E_STORE_IO,
                                               "the store could not be listed (%s)", prefix[k]));
    }
    return tm_at_spool_end(at, TM_OK);
}
