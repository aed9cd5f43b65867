/* tlsmodem — the HL models a tlsmodem can be (--model): what differs between
 * the HL8548 (HL85xx, 2G/3G) and the HL78xx family (HL7800, HL7802: LTE-M /
 * NB-IoT) as the host sees it: identity answers, argument lists of the socket
 * commands, boot URCs, which 27.007 / K commands exist.  docs/hl.md lists
 * every difference. */
#ifndef TM_HL_MODEL_H
#define TM_HL_MODEL_H

#include <stdbool.h>

typedef enum { HL_MODEL_HL8548 = 0, HL_MODEL_HL7800, HL_MODEL_HL7802 } hl_model_id;

typedef struct {
    const char  *name;        /* --model name, lower case: "hl8548" */
    hl_model_id  id;
    bool         hl78;        /* HL78xx family: LTE, +KSUP, KSRAT/KSELACQ/KBNDCFG, KSSLCRYPTO, <af> */
    const char  *cgmm;        /* AT+CGMM / AT+GMM */
    const char  *cgmr;        /* AT+CGMR / AT+GMR: firmware revision string */
    const char  *rats;        /* what AT+KSRAT / CEREG report ("LTE-M", "3G") */
} hl_model;

/* NULL-terminated list of names, the default first (tm_dialect.models). */
extern const char *const hl_model_names[];
/* By name (case-insensitive); NULL when unknown. */
const hl_model *hl_model_find(const char *name);

#endif
