/* tlsmodem — the command that loads a missing root, in each dialect's words:
 * the fix a trust reason names (tm_tls_config.load_hint, tm_chain_check
 * .load_hint).  One place for the dialects and tlsmodem-cert probe. */
#ifndef TM_DIAG_LOAD_HINT_H
#define TM_DIAG_LOAD_HINT_H

#include <string.h>

#define TM_LOAD_ROOT_HL   "AT+KCERTSTORE=0,<size>"
#define TM_LOAD_ROOT_SPWF "AT+S.TLSCERT=ca,<length>"
/* one SYSMFG item serves the ESP links and the HTTP commands */
#define TM_LOAD_ROOT_ESP  "AT+SYSMFG=2,\"client_ca\",\"client_ca.0\",8,<length>"
/* no dialect known (a unit test, a config without a hint) */
#define TM_LOAD_ROOT_ANY  "AT+KCERTSTORE=0 / AT+S.TLSCERT=ca ..."

static inline const char *tm_load_root_hint(const char *dialect)
{
    if (dialect && !strcmp(dialect, "hl"))
        return TM_LOAD_ROOT_HL;
    if (dialect && !strcmp(dialect, "spwf"))
        return TM_LOAD_ROOT_SPWF;
    if (dialect && !strcmp(dialect, "esp"))
        return TM_LOAD_ROOT_ESP;
    return TM_LOAD_ROOT_ANY;
}

#endif
