/* tlsmodem — identity commands, answered like the chosen model (--model):
 * ATI, AT+CGMI/GMI, AT+CGMM/GMM, AT+CGMR/GMR, AT+CGSN/GSN (IMEI), AT+CIMI
 * (IMSI), AT+CCID / AT+ICCID (SIM ICCID).  The numbers come from --imei,
 * --iccid, --imsi, else fixed test values (TAC 35265309 of a Sierra module
 * type, test PLMN 001-01, an ICCID with a valid Luhn digit).
 *
 * Information lines are bare (no "+CGMI:" prefix) as on the modules: hosts
 * take "the line before OK" (Zephyr modem_chat matches "" = any line,
 * TinyGSM reads the first line after the command). */
#include <stdio.h>
#include <string.h>

#include "core/version.h"
#include "dialect/hl/hl.h"

#define DEFAULT_IMEI  "352653090000017"
#define DEFAULT_IMSI  "001010123456789"
#define DEFAULT_ICCID "89000000000000000017"
#define MANUFACTURER  "Sierra Wireless"

static const char *imei(tm_at *at)
{
    const tm_modem *m = hl_modem(at);
    return m->imei[0] ? m->imei : DEFAULT_IMEI;
}

static tm_err ati(tm_at *at, const tm_at_args *a)
{
    (void)a;
    const hl_model *mdl = hl_get(at)->model;
    tm_at_line(at, "%s", mdl->cgmm);
    tm_at_line(at, "tlsmodem " TM_VERSION " (Sierra HL K-command dialect, open firmware; revision %s)", mdl->cgmr);
    return TM_OK;
}

static tm_err cgmi(tm_at *at, const tm_at_args *a) { (void)a; tm_at_line(at, MANUFACTURER); return TM_OK; }
static tm_err cgmm(tm_at *at, const tm_at_args *a) { (void)a; tm_at_line(at, "%s", hl_get(at)->model->cgmm); return TM_OK; }
static tm_err cgmr(tm_at *at, const tm_at_args *a) { (void)a; tm_at_line(at, "%s", hl_get(at)->model->cgmr); return TM_OK; }
static tm_err cgsn(tm_at *at, const tm_at_args *a) { (void)a; tm_at_line(at, "%s", imei(at)); return TM_OK; }

/* AT+CGSN=<snt>: 0 serial number (the IMEI), 1 "+CGSN: "<imei>"" (27.007). */
static tm_err cgsn_set(tm_at *at, const tm_at_args *a)
{
    long snt;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 1)) || (e = tm_at_get_int(at, a, 1, "snt", 0, 1, &snt)))
        return e;
    if (snt == 0)
        tm_at_line(at, "%s", imei(at));
    else
        tm_at_line(at, "+CGSN: \"%s\"", imei(at));
    return TM_OK;
}

static tm_err cimi(tm_at *at, const tm_at_args *a)
{
    (void)a;
    const tm_modem *m = hl_modem(at);
    tm_at_line(at, "%s", m->imsi[0] ? m->imsi : DEFAULT_IMSI);
    return TM_OK;
}

static tm_err ccid(tm_at *at, const tm_at_args *a)
{
    (void)a;
    const tm_modem *m = hl_modem(at);
    tm_at_line(at, "+CCID: %s", m->iccid[0] ? m->iccid : DEFAULT_ICCID);
    return TM_OK;
}

static tm_err ccid_read(tm_at *at, const tm_at_args *a) { return ccid(at, a); }

const tm_at_cmd hl_identity_table[] = {
    /* name     test  read       set       exec  usage */
    { "I",      NULL, NULL,      NULL,     ati,  NULL },
    { "+CGMI",  NULL, NULL,      NULL,     cgmi, NULL },
    { "+GMI",   NULL, NULL,      NULL,     cgmi, NULL },
    { "+CGMM",  NULL, NULL,      NULL,     cgmm, NULL },
    { "+GMM",   NULL, NULL,      NULL,     cgmm, NULL },
    { "+CGMR",  NULL, NULL,      NULL,     cgmr, NULL },
    { "+GMR",   NULL, NULL,      NULL,     cgmr, NULL },
    { "+CGSN",  NULL, NULL,      cgsn_set, cgsn, "+CGSN: (0-1)" },
    { "+GSN",   NULL, NULL,      NULL,     cgsn, NULL },
    { "+CIMI",  NULL, NULL,      NULL,     cimi, NULL },
    { "+CCID",  NULL, ccid_read, NULL,     ccid, NULL },
    { "+ICCID", NULL, ccid_read, NULL,     ccid, NULL },
    { NULL,     NULL, NULL,      NULL,     NULL, NULL },
};
