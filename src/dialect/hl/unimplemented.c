/* tlsmodem — commands the real modules have that tlsmodem does not
 * implement.  A host that sends one gets the module's own "operation not
 * supported" (+CME ERROR: 4 at AT+CMEE=1, the sentence and the command's
 * name at 2) instead of the plain ERROR of an unknown command, so its parser
 * sees the error shape it expects and the trace names the command.  Every
 * form (test, read, set, execute) answers the same way. */
#include <ctype.h>
#include <stdio.h>

#include "dialect/hl/hl.h"

static tm_err unimplemented(tm_at *at, const tm_at_args *a)
{
    (void)a;
    char name[40];
    const char *n = tm_at_command_name(at);
    size_t i = 0;
    for (; n[i] && i + 1 < sizeof name; i++)
        name[i] = (char)toupper((unsigned char)n[i]);
    name[i] = '\0';
    return tm_fail(tm_at_reason(at), TM_E_NOT_SUPPORTED, "AT%s is a command of the %s that tlsmodem "
                   "does not implement (docs/hl.md lists what it does)", name, hl_get(at)->model->cgmm);
}

#define U(name) { name, unimplemented, unimplemented, unimplemented, unimplemented, NULL }

const tm_at_cmd hl_unimplemented_table[] = {
    /* FTP, plain HTTP, SMTP/POP3 sessions */
    U("+KFTPCFG"), U("+KFTPSND"), U("+KFTPRCV"), U("+KFTPCLOSE"), U("+KFTPDEL"),
    U("+KHTTPCFG"), U("+KHTTPGET"), U("+KHTTPPOST"), U("+KHTTPHEAD"), U("+KHTTPHEADER"),
    U("+KHTTPCLOSE"), U("+KHTTPDEL"), U("+KSMTPPARAM"), U("+KPOPCNX"),
    U("+KTCPACKINFO"), U("+KIPOPT"), U("+KDNSCFG"),
    /* SMS, SIM access, phone book */
    U("+CMGF"), U("+CMGS"), U("+CMGR"), U("+CMGL"), U("+CMGD"), U("+CNMI"), U("+CSCA"), U("+CSMS"),
    U("+CLCK"), U("+CPWD"), U("+CRSM"), U("+CSIM"), U("+CPOL"), U("+CNUM"), U("+CPBR"), U("+CPBW"),
    /* power, cells, GNSS, misc */
    U("+CPWROFF"), U("+KNETSCAN"), U("+KCELL"), U("+KSIMDET"), U("+KSIMSEL"), U("+KTEMPMON"),
    U("+KSYNC"), U("+KGPIO"), U("+KGPIOCFG"), U("+KADC"), U("+GNSSSTART"), U("+GNSSSTOP"),
    U("+GNSSCONF"), U("+KSTATEV"), U("+CEDRXRDP"), U("+KCARRIERCFG"), U("+IPR"), U("+IFC"),
    { NULL, NULL, NULL, NULL, NULL, NULL },
};
