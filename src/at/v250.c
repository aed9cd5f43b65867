/* tlsmodem — V.250 basics: state (E, V, Q, S-registers, CMEE) and the
 * table tm_at_v250_table (E V Q Z S &K &F &D &C +CMEE).  Dialects list it
 * after their own table, so they can override any row. */
#include "at/at_internal.h"

#include <string.h>

#define S12_DEFAULT (TM_AT_ESCAPE_GUARD_MS / 20)   /* 1/50 s units */

void tm_at__v250_defaults(tm_at *at, bool factory)
{
    at->echo = at->d ? at->d->echo_default : true;
    at->verbose = true;
    at->quiet = false;
    at->cmee = 1;           /* team decision: numeric +CME ERROR by default */
    if (factory) {
        at->s3 = 13;
        at->s4 = 10;
        at->s5 = 8;
        at->s12 = S12_DEFAULT;
        at->and_k = 0;
        at->and_d = 2;
        at->and_c = 1;
    }
}

bool tm_at_echo(tm_at *at) { return at->echo; }
bool tm_at_verbose(tm_at *at) { return at->verbose; }
bool tm_at_quiet(tm_at *at) { return at->quiet; }
int  tm_at_cmee(tm_at *at) { return at->cmee; }
void tm_at_set_cmee(tm_at *at, int level) { at->cmee = level; }
void tm_at_set_echo(tm_at *at, bool on) { at->echo = on; }
void tm_at_set_verbose(tm_at *at, bool on) { at->verbose = on; }
void tm_at_set_quiet(tm_at *at, bool on) { at->quiet = on; }
uint32_t tm_at_guard_ms(tm_at *at) { return (uint32_t)at->s12 * 20u; }

void tm_at_set_guard_ms(tm_at *at, uint32_t ms)
{
    uint32_t v = ms / 20u;
    at->s12 = (uint8_t)(v < 1 ? 1 : v > 255 ? 255 : v);
}

/* ATx (= ATx0) or ATx<n> with n in lo..hi. */
static tm_err flag_arg(tm_at *at, const tm_at_args *a, const char *name, long hi, long *v)
{
    *v = 0;
    if (a->count == 0)
        return TM_OK;
    return tm_at_opt_int(at, a, 1, name, 0, hi, 0, v);
}

static tm_err e_set(tm_at *at, const tm_at_args *a)
{
    long v;
    tm_err e = flag_arg(at, a, "echo", 1, &v);
    if (!e)
        at->echo = v;
    return e;
}

static tm_err v_set(tm_at *at, const tm_at_args *a)
{
    long v;
    tm_err e = flag_arg(at, a, "format", 1, &v);
    if (!e)
        at->verbose = v;
    return e;
}

static tm_err q_set(tm_at *at, const tm_at_args *a)
{
    long v;
    tm_err e = flag_arg(at, a, "quiet", 1, &v);
    if (!e)
        at->quiet = v;
    return e;
}

static tm_err z_set(tm_at *at, const tm_at_args *a)
{
    long v;
    tm_err e = flag_arg(at, a, "profile", 0, &v);
    if (!e)
        tm_at__v250_defaults(at, false);
    return e;
}

static tm_err f_set(tm_at *at, const tm_at_args *a)
{
    long v;
    tm_err e = flag_arg(at, a, "profile", 0, &v);
    if (!e)
        tm_at__v250_defaults(at, true);
    return e;
}

static tm_err k_set(tm_at *at, const tm_at_args *a)
{
    long v;
    tm_err e = flag_arg(at, a, "flow_control", 4, &v);
    if (e)
        return e;
    if (v != 0 && v != 3 && v != 4)
        return tm_fail(tm_at_reason(at), TM_E_ARG_RANGE,
                       "argument 1 (flow_control) is %ld; allowed 0 (none), 3 (RTS/CTS), 4 (XON/XOFF)", v);
    at->and_k = (int)v;
    return TM_OK;
}

static tm_err d_set(tm_at *at, const tm_at_args *a)
{
    long v;
    tm_err e = flag_arg(at, a, "dtr_behaviour", 2, &v);
    if (!e)
        at->and_d = (int)v;
    return e;
}

static tm_err c_set(tm_at *at, const tm_at_args *a)
{
    long v;
    tm_err e = flag_arg(at, a, "dcd_behaviour", 1, &v);
    if (!e)
        at->and_c = (int)v;
    return e;
}

/* S-registers: args {reg[, value]}. */
static uint8_t *s_reg(tm_at *at, long r)
{
    switch (r) {
    case 3:  return &at->s3;
    case 4:  return &at->s4;
    case 5:  return &at->s5;
    case 12: return &at->s12;
    }
    return NULL;
}

static tm_err s_lookup(tm_at *at, const tm_at_args *a, long *r, uint8_t **reg)
{
    tm_err e = tm_at_get_int(at, a, 1, "register", 0, 255, r);
    if (e)
        return e;
    *reg = s_reg(at, *r);
    if (!*reg)
        return tm_fail(tm_at_reason(at), TM_E_NOT_SUPPORTED,
                       "S%ld is not supported (S3, S4, S5 and S12 are)", *r);
    return TM_OK;
}

static tm_err s_read(tm_at *at, const tm_at_args *a)
{
    long r;
    uint8_t *reg;
    tm_err e = s_lookup(at, a, &r, &reg);
    if (e)
        return e;
    tm_at_line(at, "%03u", *reg);
    return TM_OK;
}

static tm_err s_test(tm_at *at, const tm_at_args *a)
{
    long r;
    uint8_t *reg;
    tm_err e = s_lookup(at, a, &r, &reg);
    if (e)
        return e;
    if (r == 12)
        tm_at_line(at, "S12: (0-255)");
    else
        tm_at_line(at, "S%ld: (%u)", r, *reg);
    return TM_OK;
}

static tm_err s_set(tm_at *at, const tm_at_args *a)
{
    long r, v;
    uint8_t *reg;
    tm_err e = s_lookup(at, a, &r, &reg);
    if (e)
        return e;
    if ((e = tm_at_opt_int(at, a, 2, "value", 0, 255, 0, &v)))
        return e;
    if (r != 12 && v != *reg)
        return tm_fail(tm_at_reason(at), TM_E_NOT_SUPPORTED,
                       "S%ld is fixed at %u in tlsmodem (asked for %ld)", r, *reg, v);
    *reg = (uint8_t)v;
    return TM_OK;
}

static tm_err cmee_set(tm_at *at, const tm_at_args *a)
{
    long v;
    tm_err e = tm_at_max_args(at, a, 1);
    if (!e)
        e = tm_at_opt_int(at, a, 1, "n", 0, 2, 0, &v);
    if (!e)
        at->cmee = (int)v;
    return e;
}

static tm_err cmee_read(tm_at *at, const tm_at_args *a)
{
    tm_at_line(at, "+CMEE: %d", at->cmee);
    return TM_OK;
}

static tm_err cmee_test(tm_at *at, const tm_at_args *a)
{
    tm_at_line(at, "+CMEE: (0-2)");
    return TM_OK;
}

const tm_at_cmd tm_at_v250_table[] = {
    { "E",     NULL,      NULL,      e_set,    e_set, "E: (0,1)" },
    { "V",     NULL,      NULL,      v_set,    v_set, "V: (0,1)" },
    { "Q",     NULL,      NULL,      q_set,    q_set, "Q: (0,1)" },
    { "Z",     NULL,      NULL,      z_set,    z_set, NULL },
    { "S",     s_test,    s_read,    s_set,    s_read, NULL },
    { "&K",    NULL,      NULL,      k_set,    k_set, "&K: (0,3,4)" },
    { "&F",    NULL,      NULL,      f_set,    f_set, NULL },
    { "&D",    NULL,      NULL,      d_set,    d_set, "&D: (0-2)" },
    { "&C",    NULL,      NULL,      c_set,    c_set, "&C: (0,1)" },
    { "+CMEE", cmee_test, cmee_read, cmee_set, NULL,  NULL },
    { NULL,    NULL,      NULL,      NULL,     NULL,  NULL },
};
