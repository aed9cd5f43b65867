/* tlsmodem — the modem: one per process.  Holds what every dialect shares:
 * the AT engine, the store, the trust defaults, the module clock. */
#ifndef TM_MODEM_H
#define TM_MODEM_H

#include <stdbool.h>
#include <stdint.h>

#include "at/at.h"
#include "core/sim.h"
#include "store/store.h"

typedef struct tm_dialect tm_dialect;

typedef enum {
    TM_CLOCK_HOST,        /* follows the host clock (default) */
    TM_CLOCK_SET,         /* set by the dialect's clock command (offset from host) */
    TM_CLOCK_UNSET,       /* --clock unset: no RTC; date checks fail with "clock not set" */
} tm_clock_mode;

typedef struct tm_modem {
    tm_at            *at;
    const tm_dialect *dialect;
    void             *dialect_state;   /* owned by the dialect */
    tm_store          store;
    char              ca_bundle[1024]; /* "" = none */
    tm_clock_mode     clock_mode;
    int64_t           clock_offset_ms; /* module clock = host wall clock + offset */
    bool              quit;            /* set to end the loop after output drains */
    /* --model and the identity the module reports (--imei, --iccid, --imsi);
     * "" = the dialect's default.  The dialect validates nothing here: main
     * checked the model against tm_dialect.models and the digits. */
    char              model[16];
    char              imei[16];
    char              iccid[21];
    char              imsi[16];
    /* --wifi SSID[:PASSWORD]: the access points the ESP dialect's simulated
     * station can see, in order (none given: its default network,
     * docs/esp.md §2).  main checked the lengths. */
    const char       *wifi[TM_WIFI_MAX];
    int               wifi_count;
    /* Set by the dialect's start when something the host must know about
     * went wrong (damaged saved settings); main prints it on stderr. */
    char              start_note[TM_DETAIL_MAX + 256];
} tm_modem;

/* Module clock, seconds since 1970 (valid even when mode is UNSET: host time). */
int64_t tm_modem_now(const tm_modem *m);
void    tm_modem_set_clock(tm_modem *m, int64_t unix_seconds);

struct tm_dialect {
    const char          *name;            /* "hl", "spwf" */
    const tm_at_dialect *at;              /* tables + voice */
    /* After the engine is initialised: restore settings, emit boot URCs. */
    void               (*start)(tm_modem *m);
    /* Before exit: close sessions. */
    void               (*stop)(tm_modem *m);
    /* Models the dialect can be (--model), NULL-terminated, default first;
     * NULL = only one model, --model not accepted. */
    const char *const   *models;
    /* A cellular module: it reports an IMEI, ICCID and IMSI (--imei, --iccid,
     * --imsi are refused for the others rather than silently ignored). */
    bool                 cellular;
    /* The simulated network changed (--control, core/sim.h): react as the
     * real module does.  NULL = no events; an event that does not apply
     * returns an error with the reason in why. */
    tm_err             (*sim_event)(tm_modem *m, const tm_sim_event *ev, tm_reason *why);
};

const tm_dialect *tm_dialect_find(const char *name);

#endif
