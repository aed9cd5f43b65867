/* tlsmodem — the HL dialect's command table: one row per command, one
 * handler per form (test, read, set, execute).  docs/hl.md documents each. */
#include "dialect/hl/hl.h"

static const tm_at_cmd hl_table[] = {
    /* name           test                 read                  set                    exec             usage */
    { "O",            NULL,                NULL,                 hl_ato_set,            NULL,             NULL },
    { "+CCLK",        NULL,                hl_cclk_read,         hl_cclk_set,           NULL,             NULL },
    { "+KPATTERN",    NULL,                hl_kpattern_read,     hl_kpattern_set,       NULL,             "+KPATTERN: (128)" },
    { "+KCNXCFG",     NULL,                hl_kcnxcfg_read,      hl_kcnxcfg_set,        NULL,             "+KCNXCFG: (0-4),\"GPRS\",<apn>[,<login>[,<password>]]" },
    { "+KCNXTIMER",   NULL,                hl_kcnxtimer_read,    hl_kcnxtimer_set,      NULL,             "+KCNXTIMER: (0-4),(1-120),(1-4),(1-3600),(0-3600)" },
    { "+KCNXPROFILE", NULL,                hl_kcnxprofile_read,  hl_kcnxprofile_set,    NULL,             "+KCNXPROFILE: (0-4)" },
    { "+KCNXUP",      NULL,                NULL,                 hl_kcnxup_set,         NULL,             "+KCNXUP: (0-4)" },
    { "+KCNXDOWN",    NULL,                NULL,                 hl_kcnxdown_set,       NULL,             "+KCNXDOWN: (0-4),(0-1)" },
    { "+KCGPADDR",    hl_kcgpaddr_test,    NULL,                 hl_kcgpaddr_set,       hl_kcgpaddr_exec, NULL },
    { "+KCERTSTORE",  NULL,                hl_kcertstore_read,   hl_kcertstore_set,     NULL,             "+KCERTSTORE: (0-1),<NbData>,(0-7)" },
    { "+KCERTDELETE", NULL,                NULL,                 hl_kcertdelete_set,    NULL,             "+KCERTDELETE: (0-1),(0-7)" },
    { "+KPRIVKSTORE", NULL,                NULL,                 hl_kprivkstore_set,    NULL,             "+KPRIVKSTORE: (0-7),<NbData>" },
    { "+KPRIVKDELETE",NULL,                NULL,                 hl_kprivkdelete_set,   NULL,             "+KPRIVKDELETE: (0-7)" },
    { "+KHTTPSCFG",   NULL,                hl_khttpscfg_read,    hl_khttpscfg_set,      NULL,
      "+KHTTPSCFG: (0-4),<server>,(1-65535),(0-1),(0),(0-2),<login>,<password>" },
    { "+KHTTPSCNX",   NULL,                NULL,                 hl_khttpscnx_set,      NULL,             "+KHTTPSCNX: (1-8)" },
    { "+KHTTPSHEADER",NULL,                hl_khttpsheader_read, hl_khttpsheader_set,   NULL,             NULL },
    { "+KHTTPSGET",   NULL,                NULL,                 hl_khttpsget_set,      NULL,             "+KHTTPSGET: (1-8),<request_uri>,(0-1)" },
    { "+KHTTPSHEAD",  NULL,                NULL,                 hl_khttpshead_set,     NULL,             "+KHTTPSHEAD: (1-8),<request_uri>" },
    { "+KHTTPSPOST",  NULL,                NULL,                 hl_khttpspost_set,     NULL,             "+KHTTPSPOST: (1-8),<request_uri>,(0-1)" },
    { "+KHTTPSCLOSE", NULL,                NULL,                 hl_khttpsclose_set,    NULL,             "+KHTTPSCLOSE: (1-8)" },
    { "+KHTTPSDEL",   NULL,                NULL,                 hl_khttpsdel_set,      NULL,             "+KHTTPSDEL: (1-8)" },
    { "+KTCPCFG",     hl_ktcpcfg_test,     hl_ktcpcfg_read,      hl_ktcpcfg_set,        NULL,             NULL },
    { "+KUDPCFG",     NULL,                hl_kudpcfg_read,      hl_kudpcfg_set,        NULL,             "+KUDPCFG: (0-4),(0),(0-65535),(0)" },
    { "+KUDPSND",     NULL,                NULL,                 hl_kudpsnd_set,        NULL,             "+KUDPSND: (1-8),<udp_remote_address>,(1-65535),(1-4096)" },
    { "+KUDPRCV",     NULL,                NULL,                 hl_kudprcv_set,        NULL,             "+KUDPRCV: (1-8),(1-32768)" },
    { "+KUDPCLOSE",   NULL,                NULL,                 hl_kudpclose_set,      NULL,             "+KUDPCLOSE: (1-8),(0-1)" },
    { "+KUDPDEL",     NULL,                NULL,                 hl_kudpdel_set,        NULL,             "+KUDPDEL: (1-8)" },
    { "+KSSLCRYPTO",  hl_ksslcrypto_test,  hl_ksslcrypto_read,   hl_ksslcrypto_set,     NULL,             NULL },
    { "+KTCPCNX",     NULL,                NULL,                 hl_ktcpcnx_set,        NULL,             "+KTCPCNX: (1-8)" },
    { "+KTCPSND",     NULL,                NULL,                 hl_ktcpsnd_set,        NULL,             "+KTCPSND: (1-8),(1-32768)" },
    { "+KTCPRCV",     NULL,                NULL,                 hl_ktcprcv_set,        NULL,             "+KTCPRCV: (1-8),(1-32768)" },
    { "+KTCPSTART",   NULL,                NULL,                 hl_ktcpstart_set,      NULL,             "+KTCPSTART: (1-8)" },
    { "+KTCPSTAT",    NULL,                NULL,                 hl_ktcpstat_set,       NULL,             "+KTCPSTAT: (1-8)" },
    { "+KTCPCLOSE",   NULL,                NULL,                 hl_ktcpclose_set,      NULL,             "+KTCPCLOSE: (1-8),(0-1)" },
    { "+KTCPDEL",     NULL,                NULL,                 hl_ktcpdel_set,        NULL,             "+KTCPDEL: (1-8)" },
    /* vendor extensions: the +TM prefix cannot collide with Sierra's +K commands */
    { "+TMPIN",       NULL,                hl_tmpin_read,        hl_tmpin_set,          NULL,
      "+TMPIN: (1-8),<spki_sha256 as 64 hex digits or base64, empty to remove>" },
    { "+TMPROBE",     NULL,                NULL,                 hl_tmprobe_set,        NULL,
      "+TMPROBE: <host>,(1-65535)" },
    { "+TMCERTLIST",  NULL,                NULL,                 NULL,                  hl_tmcertlist_exec, NULL },
    { NULL,           NULL,                NULL,                 NULL,                  NULL,             NULL },
};

static const tm_at_cmd *const hl_tables[] = {
    hl_table, hl_net_table, hl_identity_table, hl_unimplemented_table, tm_at_v250_table, NULL,
};

const tm_at_dialect hl_at_dialect = {
    .name = "hl",
    .syntax = TM_AT_SYNTAX_V250,
    .tables = hl_tables,
    .voice = &hl_voice,
    .echo_default = true,
    .swallow_lf_after_cr = true,
};
