/* tlsmodem — the SPWF dialect's command table: one row per command, one
 * handler per form.  Names match case-insensitively ("AT+s.sockon" works).
 * docs/spwf.md documents each. */
#include "dialect/spwf/spwf.h"

/* diag.c (vendor extensions; declared here to leave spwf.h to its owner) */
tm_err spwf_tmprobe_set(tm_at *at, const tm_at_args *a);
tm_err spwf_tmcertlist_exec(tm_at *at, const tm_at_args *a);

static const tm_at_cmd spwf_table[] = {
    /* name          test  read  set                 exec              usage */
    { "+S.SCFG",     NULL, NULL, spwf_scfg_set,      NULL,             "AT+S.SCFG=<variable>,<value>" },
    { "+S.GCFG",     NULL, NULL, spwf_gcfg_set,      spwf_gcfg_exec,   "AT+S.GCFG[=<variable>]" },
    { "+S.STS",      NULL, NULL, spwf_sts_set,       spwf_sts_exec,    "AT+S.STS[=<variable>]" },
    { "+S.WCFG",     NULL, NULL, NULL,               spwf_wcfg_exec,   "AT+S.WCFG" },
    { "+S.FCFG",     NULL, NULL, NULL,               spwf_fcfg_exec,   "AT+S.FCFG" },
    { "+S.RESET",    NULL, NULL, NULL,               spwf_reset_exec,  "AT+S.RESET" },
    { "+S.HELP",     NULL, NULL, NULL,               spwf_help_exec,   NULL },
    { "+S.TIME",     NULL, NULL, spwf_time_set,      spwf_time_exec,   "AT+S.TIME[=<seconds since 1970>]" },
    { "+S.SSIDTXT",  NULL, NULL, spwf_ssidtxt_set,   NULL,             "AT+S.SSIDTXT=<ssid>" },
    { "+S.WIFI",     NULL, NULL, spwf_wifi_set,      NULL,             "AT+S.WIFI=<0|1>" },
    { "+S.PEERS",    NULL, NULL, spwf_peers_set,     spwf_peers_exec,  "AT+S.PEERS[=<peer_number>[,<peer_var>]]" },
    { "+S.SOCKON",   NULL, NULL, spwf_sockon_set,    NULL,             "AT+S.SOCKON=<host>,<port>,[NULL],<t|s|name>" },
    { "+S.SOCKW",    NULL, NULL, spwf_sockw_set,     NULL,             "AT+S.SOCKW=<id>,<len>" },
    { "+S.SOCKQ",    NULL, NULL, spwf_sockq_set,     NULL,             "AT+S.SOCKQ=<id>" },
    { "+S.SOCKR",    NULL, NULL, spwf_sockr_set,     NULL,             "AT+S.SOCKR=<id>[,<len>]" },
    { "+S.SOCKC",    NULL, NULL, spwf_sockc_set,     NULL,             "AT+S.SOCKC=<id>" },
    { "+S.SOCKL",    NULL, NULL, NULL,               spwf_sockl_exec,  "AT+S.SOCKL" },
    { "+S.HTTPGET",  NULL, NULL, spwf_httpget_set,   NULL,
      "AT+S.HTTPGET=<host>,<path>,<port>,<TLS>,<user>,<pass>,<out_file>,<out_file>" },
    { "+S.HTTPPOST", NULL, NULL, spwf_httppost_set,  NULL,
      "AT+S.HTTPPOST=<host>,<path>,<port>,<TLS>,<user>,<pass>,<in_file>,<out_file>" },
    { "+S.TLSCERT",  NULL, NULL, spwf_tlscert_set,   NULL,             "AT+S.TLSCERT=<ca|cert|key>,<len> | content,<1|2>" },
    { "+S.FSC",      NULL, NULL, spwf_fsc_set,       NULL,             "AT+S.FSC=<name>,<len>" },
    { "+S.FSA",      NULL, NULL, spwf_fsa_set,       NULL,             "AT+S.FSA=<name>,<len>" },
    { "+S.FSD",      NULL, NULL, spwf_fsd_set,       NULL,             "AT+S.FSD=<name>" },
    { "+S.FSR",      NULL, NULL, spwf_fsr_set,       NULL,             "AT+S.FSR=<old>,<new>" },
    { "+S.FSL",      NULL, NULL, spwf_fsl_set,       spwf_fsl_exec,    "AT+S.FSL[=<name>]" },
    { "+S.FSP",      NULL, NULL, spwf_fsp_set,       NULL,             "AT+S.FSP=<name>[,<offset>,<length>]" },
    /* vendor extensions (src/dialect/spwf/diag.c): "TM" names cannot collide with ST's commands */
    { "+S.TMPROBE",  NULL, NULL, spwf_tmprobe_set,   NULL,             "AT+S.TMPROBE=<host>[,<port>]" },
    { "+S.TMCERTLIST", NULL, NULL, NULL,             spwf_tmcertlist_exec, "AT+S.TMCERTLIST" },
    { "+S.",         NULL, NULL, NULL,               spwf_ok_exec,     NULL },
    { NULL,          NULL, NULL, NULL,               NULL,             NULL },
};

static const tm_at_cmd *const spwf_tables[] = { spwf_table, NULL };

const tm_at_dialect spwf_at_dialect = {
    .name = "spwf",
    .syntax = TM_AT_SYNTAX_SPWF,
    .tables = spwf_tables,
    .voice = &spwf_voice,
    .echo_default = false,
    .swallow_lf_after_cr = false,
    .echo_eol_crlf = true,
};
