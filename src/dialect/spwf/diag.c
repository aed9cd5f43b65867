/* tlsmodem — SPWF vendor extensions for diagnostics ("TM" commands: ST has
 * none of that name; docs/spwf.md "Vendor extensions: diagnostics"):
 *
 *   AT+S.TMPROBE=<host>[,<port>]   the probe of src/diag/probe.c from the
 *       module's network position with the trust and clock AT+S.SOCKON
 *       (TLS) / AT+S.HTTPGET use; "AT-S.TMProbe:<text>" lines as it goes,
 *       then AT-S.OK, or AT-S.ERROR when the server cannot be reached at TCP
 *       level.
 *   AT+S.TMCERTLIST                "AT-S.TMCertList:<where>:<n>/<count>:<summary>"
 *       per stored certificate (TLSCERT items and file-system files),
 *       "AT-S.TMCertList:<where>:<key>" per key, then AT-S.OK. */
#include <stdio.h>
#include <string.h>

#include "dialect/spwf/spwf.h"
#include "diag/probe_cmd.h"
#include "diag/summary.h"

tm_err spwf_tmprobe_set(tm_at *at, const tm_at_args *a);
tm_err spwf_tmcertlist_exec(tm_at *at, const tm_at_args *a);

static spwf_creds g_probe_creds;

static void probe_release(void)
{
    spwf_creds_free(&g_probe_creds);
}

static tm_probe_cmd g_probe = { .prefix = "AT-S.TMProbe:", .release = probe_release };

tm_err spwf_tmprobe_set(tm_at *at, const tm_at_args *a)
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
    spwf_state *s = spwf_get(at);
    tm_tls_config cfg;
    if ((e = spwf_creds_load(s, &g_probe_creds, false, tm_at_reason(at)))) {
        probe_release();
        return e;
    }
    spwf_tls_config(s, &g_probe_creds, &cfg, host, NULL);   /* what a TLS socket / HTTPS GET trusts */
    return tm_probe_cmd_start(&g_probe, at, host, (uint16_t)port, &cfg);
}

typedef struct {
    tm_at      *at;
    bool        fs;      /* file system: files that are neither certificates nor keys are not listed */
} list_ctx;

static void one_line(char *s)
{
    for (; *s; s++)
        if (*s == '\r' || *s == '\n')
            *s = ' ';
}

static void list_cb(void *arg, const char *name, tm_certlist_kind kind, int i, int count, const char *summary)
{
    list_ctx *l = arg;
    if (l->fs && kind == TM_CERTLIST_OTHER)
        return;
    char where[TM_STORE_NAME_MAX + 16], sum[1700];
    if (l->fs)
        snprintf(where, sizeof where, "fs:%s", name + strlen("spwf/fs/"));
    else
        snprintf(where, sizeof where, "tlscert:%s", name + strlen("spwf/tls/"));
    snprintf(sum, sizeof sum, "%s", summary);
    char why[200];
    if (l->fs && kind == TM_CERTLIST_CERT &&
        spwf_fs_not_anchor(&spwf_modem(l->at)->store, name, why, sizeof why)) {
        size_t o = strlen(sum);
        snprintf(sum + o, sizeof sum - o, "; not a trust anchor: %s", why);
    }
    one_line(sum);
    if (kind == TM_CERTLIST_CERT)
        tm_at_line(l->at, "AT-S.TMCertList:%s:%d/%d:%s", where, i, count, sum);
    else
        tm_at_line(l->at, "AT-S.TMCertList:%s:%s", where, sum);
}

tm_err spwf_tmcertlist_exec(tm_at *at, const tm_at_args *a)
{
    (void)a;
    tm_modem *m = spwf_modem(at);
    list_ctx tls = { at, false }, fs = { at, true };
    tm_at_spool(at);            /* thousands of files are larger than the output buffer: streamed */
    if (tm_certlist(&m->store, "spwf/tls/", tm_modem_now(m), list_cb, &tls) < 0 ||
        tm_certlist(&m->store, "spwf/fs/", tm_modem_now(m), list_cb, &fs) < 0)
        return tm_at_spool_end(at, tm_fail(tm_at_reason(at), TM_E_STORE_IO, "the store could not be listed"));
    return tm_at_spool_end(at, TM_OK);
}
