/* tlsmodem — the simulated cellular network the HL's 3GPP 27.007 commands
 * see (net3gpp.c).  One small state: SIM, functionality (CFUN), registration,
 * attach, PDP contexts, power-saving settings, HL78 RAT/band selection.
 * Every command reads and changes this one state, so the answers agree with
 * each other (AT+KCNXUP attaches, AT+CGATT? then says 1; CFUN=4 deregisters
 * and the +CEREG URC says so).  The bearer itself is the host's network. */
#ifndef TM_HL_NET3GPP_H
#define TM_HL_NET3GPP_H

#include <stdbool.h>

#define HL_PDP_MAX 5         /* PDP context ids 1..5 */

typedef struct {
    bool  defined;
    bool  active;
    char  type[8];           /* "IP", "IPV6", "IPV4V6" */
    char  apn[64];
} hl_pdp;

typedef struct {
    int    cfun;             /* 0 minimum, 1 full, 4 radio off */
    int    creg_n, cgreg_n, cereg_n;   /* 0..5 */
    int    stat;             /* registration: 0 not registered, 1 home */
    bool   attached;         /* PS attach (AT+CGATT) */
    int    cgerep_mode, cgerep_bfr;
    hl_pdp pdp[HL_PDP_MAX + 1];        /* [1..HL_PDP_MAX] */
    int    cpsms_mode;
    char   cpsms_tau[9], cpsms_active[9];
    int    cedrxs_mode, cedrxs_act;
    char   cedrxs_value[5];
    int    ksleep_mngt, ksleep_level, ksleep_delay;
    int    ksrat;            /* 0 CAT-M1, 1 NB-IoT, 2 GSM (HL7802) */
    int    kselacq[3];       /* preferred RATs 1..3, 0 = none */
    char   kbndcfg[3][33];   /* per RAT, upper-case hex band mask */
    int    khwiocfg[8][2];   /* function -> enable, gpio */
    int    ksrep;            /* +KSUP at boot (HL78) */
    /* The network itself, changed by the control channel (sim.c): not
     * module state, so a module reset keeps it. */
    bool   sim_no_cover;     /* coverage lost: stat 2 (searching) */
    bool   sim_denied;       /* registration denied: stat 3 */
    int    sim_rssi;         /* AT+CSQ <rssi> while registered (0..31, 99) */
} hl_net;

#endif
