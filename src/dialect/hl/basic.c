/* tlsmodem — HL identification, bearer (KCNX*), attach, address, clock and
 * EOF pattern commands.  There is no radio: the bearer is the host's network,
 * so these commands keep the host firmware's configuration, answer as the
 * module does, and never fail for lack of coverage. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/trace.h"
#include "core/version.h"
#include "dialect/hl/hl.h"
#include "net/net.h"

static tm_err cnx_arg(tm_at *at, const tm_at_args *a, int idx, long *out)
{
    return tm_at_get_int(at, a, idx, "cnx_cnf", 0, HL_CNX_MAX - 1, out);
}

tm_err hl_kcnxcfg_set(tm_at *at, const tm_at_args *a)
{
    hl_state *s = hl_get(at);
    long cnx;
    char type[16], apn[64], login[64], pass[64];
    tm_err e;
    if ((e = tm_at_max_args(at, a, 10)) || (e = cnx_arg(at, a, 1, &cnx)) ||
        (e = tm_at_get_str(at, a, 2, "type", type, sizeof type)) ||
        (e = tm_at_opt_str(at, a, 3, "apn", apn, sizeof apn, "")) ||
        (e = tm_at_opt_str(at, a, 4, "login", login, sizeof login, "")) ||
        (e = tm_at_opt_str(at, a, 5, "password", pass, sizeof pass, "")))
        return e;
    if (strcmp(type, "GPRS") != 0) {
        tm_at_reason(at)->arg_index = 2;
        return tm_fail(tm_at_reason(at), TM_E_ARG_BAD,
                       "argument 2 (type) is \"%s\"; the only bearer type is \"GPRS\"", type);
    }
    hl_cnx *c = &s->cnx[cnx];
    c->defined = true;
    snprintf(c->apn, sizeof c->apn, "%s", apn);
    snprintf(c->login, sizeof c->login, "%s", login);
    snprintf(c->password, sizeof c->password, "%s", pass);
    tm_trace("hl", "bearer %ld: APN \"%s\" (the host's network is used)", cnx, apn);
    return TM_OK;
}

tm_err hl_kcnxcfg_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    hl_state *s = hl_get(at);
    for (int i = 0; i < HL_CNX_MAX; i++) {
        hl_cnx *c = &s->cnx[i];
        if (c->defined)
            tm_at_line(at, "+KCNXCFG: %d,\"GPRS\",\"%s\",\"%s\",\"%s\",\"IPV4\",\"0.0.0.0\",\"0.0.0.0\",\"0.0.0.0\",%d",
                       i, c->apn, c->login, c->password, c->up ? 2 : 0);
    }
    return TM_OK;
}

tm_err hl_kcnxtimer_set(tm_at *at, const tm_at_args *a)
{
    hl_state *s = hl_get(at);
    long cnx, v[4];
    tm_err e;
    if ((e = tm_at_max_args(at, a, 5)) || (e = cnx_arg(at, a, 1, &cnx)) ||
        (e = tm_at_opt_int(at, a, 2, "connect_timeout", 1, 120, 30, &v[0])) ||
        (e = tm_at_opt_int(at, a, 3, "attempts", 1, 4, 2, &v[1])) ||
        (e = tm_at_opt_int(at, a, 4, "retry_delay", 1, 3600, 60, &v[2])) ||
        (e = tm_at_opt_int(at, a, 5, "idle_timeout", 0, 3600, 0, &v[3])))
        return e;
    hl_cnx *c = &s->cnx[cnx];
    memcpy(c->timers, v, sizeof v);
    c->timer_set = true;
    c->idle_set = !tm_at_omitted(a, 5);
    char idle[32];
    snprintf(idle, sizeof idle, !c->idle_set ? "the default" : v[3] ? "%ld s" : "none", v[3]);
    tm_trace("hl", "bearer %ld: connect timeout %ld s (DNS + TCP + TLS), HTTPS idle timeout %s", cnx, v[0], idle);
    return TM_OK;
}

/* What KCNXTIMER means here (docs/hl.md): <tim1> bounds DNS + TCP connect +
 * TLS handshake of every session on the profile, <idle> the longest silence
 * of an HTTPS server while a byte is awaited (0 = never); attempts and delay
 * are kept and shown only (no bearer to retry).  Not set: the CLI defaults. */
void hl_cnx_timeouts(hl_state *s, int cnx, uint32_t *connect_ms, uint32_t *idle_ms)
{
    const tm_net_timeouts *d = tm_net_timeouts_get();
    hl_cnx *c = cnx >= 0 && cnx < HL_CNX_MAX ? &s->cnx[cnx] : NULL;
    *connect_ms = c && c->timer_set ? (uint32_t)c->timers[0] * 1000 : d->connect_ms;
    *idle_ms = c && c->idle_set ? (c->timers[3] ? (uint32_t)c->timers[3] * 1000 : TM_TIMEOUT_NONE) : d->idle_ms;
}

tm_err hl_kcnxtimer_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    hl_state *s = hl_get(at);
    for (int i = 0; i < HL_CNX_MAX; i++) {
        hl_cnx *c = &s->cnx[i];
        uint32_t cm, im;
        hl_cnx_timeouts(s, i, &cm, &im);
        tm_at_line(at, "+KCNXTIMER: %d,%lu,%ld,%ld,%lu", i,
                   cm == TM_TIMEOUT_NONE ? 0UL : (unsigned long)(cm + 999) / 1000,
                   c->timer_set ? c->timers[1] : 2, c->timer_set ? c->timers[2] : 60,
                   im == TM_TIMEOUT_NONE ? 0UL : (unsigned long)(im + 999) / 1000);
    }
    return TM_OK;
}

tm_err hl_kcnxprofile_set(tm_at *at, const tm_at_args *a)
{
    long cnx;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 1)) || (e = cnx_arg(at, a, 1, &cnx)))
        return e;
    hl_get(at)->cnx_profile = (int)cnx;
    return TM_OK;
}

tm_err hl_kcnxprofile_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    tm_at_line(at, "+KCNXPROFILE: %d", hl_get(at)->cnx_profile);
    return TM_OK;
}

tm_err hl_kcnxup_set(tm_at *at, const tm_at_args *a)
{
    long cnx;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 1)) || (e = cnx_arg(at, a, 1, &cnx)) || (e = hl_net_attach(at)))
        return e;
    hl_get(at)->cnx[cnx].up = true;
    tm_at_urc(at, "+KCNX_IND: %ld,1", cnx);
    return TM_OK;
}

tm_err hl_kcnxdown_set(tm_at *at, const tm_at_args *a)
{
    long cnx, mode;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 2)) || (e = cnx_arg(at, a, 1, &cnx)) ||
        (e = tm_at_opt_int(at, a, 2, "mode", 0, 1, 0, &mode)))
        return e;
    hl_state *s = hl_get(at);
    if (s->cnx[cnx].up) {
        s->cnx[cnx].up = false;
        tm_at_urc(at, "+KCNX_IND: %ld,3", cnx);
    }
    return TM_OK;
}

/* The host's first non-loopback IPv4 address (the module's "PDP address"). */
void hl_local_ipv4(char *buf, size_t cap)
{
    snprintf(buf, cap, "127.0.0.1");
    struct ifaddrs *ifs = NULL;
    if (getifaddrs(&ifs) != 0)
        return;
    for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
            continue;
        struct sockaddr_in *sin = (struct sockaddr_in *)i->ifa_addr;
        if ((ntohl(sin->sin_addr.s_addr) >> 24) == 127)
            continue;
        inet_ntop(AF_INET, &sin->sin_addr, buf, (socklen_t)cap);
        break;
    }
    freeifaddrs(ifs);
}

static tm_err kcgpaddr_print(tm_at *at, int cnx)
{
    char ip[64];
    hl_local_ipv4(ip, sizeof ip);
    tm_at_line(at, "+KCGPADDR: %d,\"%s\"", cnx, ip);
    return TM_OK;
}

tm_err hl_kcgpaddr_exec(tm_at *at, const tm_at_args *a)
{
    (void)a;
    return kcgpaddr_print(at, hl_get(at)->cnx_profile);
}

tm_err hl_kcgpaddr_set(tm_at *at, const tm_at_args *a)
{
    long cnx;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 1)) || (e = cnx_arg(at, a, 1, &cnx)))
        return e;
    return kcgpaddr_print(at, (int)cnx);
}

tm_err hl_kcgpaddr_test(tm_at *at, const tm_at_args *a)
{
    (void)a;
    tm_at_line(at, "+KCGPADDR: (0-%d)", HL_CNX_MAX - 1);
    return TM_OK;
}

/* days since 1970-01-01 of a civil date (proleptic Gregorian) */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* "yy/MM/dd,hh:mm:ss±zz", zz in quarter hours (3GPP TS 27.007). */
tm_err hl_cclk_set(tm_at *at, const tm_at_args *a)
{
    char v[40];
    tm_err e;
    if ((e = tm_at_max_args(at, a, 1)) || (e = tm_at_get_str(at, a, 1, "time", v, sizeof v)))
        return e;
    int yy, mo, dd, hh, mi, ss, zz = 0, n = 0;
    char sign = '+';
    int got = sscanf(v, "%2d/%2d/%2d,%2d:%2d:%2d%n", &yy, &mo, &dd, &hh, &mi, &ss, &n);
    if (got == 6 && v[n] != '\0') {
        const char *z = v + n + 1;
        if ((v[n] == '+' || v[n] == '-') && isdigit((unsigned char)z[0]) &&
            (z[1] == '\0' || (isdigit((unsigned char)z[1]) && z[2] == '\0'))) {
            sign = v[n];
            zz = atoi(z);
        } else {
            got = 0;
        }
    }
    static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (got != 6 || mo < 1 || mo > 12 || dd < 1 || dd > mdays[mo - 1] ||
        (mo == 2 && dd == 29 && yy % 4 != 0) || yy < 0 || hh < 0 || mi < 0 || ss < 0 || hh > 23 || mi > 59 || ss > 59 || zz > 96) {
        tm_at_reason(at)->arg_index = 1;
        return tm_fail(tm_at_reason(at), TM_E_ARG_BAD,
                       "argument 1 (time) \"%s\" is not \"yy/MM/dd,hh:mm:ss±zz\" "
                       "(zz = time zone in quarter hours, e.g. \"26/11/23,10:00:00+04\" for UTC+1)", v);
    }
    int tzq = sign == '-' ? -zz : zz;
    int64_t local = days_from_civil(2000 + yy, mo, dd) * 86400 + hh * 3600 + mi * 60 + ss;
    int64_t utc = local - (int64_t)tzq * 15 * 60;
    tm_modem_set_clock(hl_modem(at), utc);
    hl_get(at)->clock_tz_quarters = tzq;
    char when[40];
    time_t t = (time_t)utc;
    struct tm g;
    gmtime_r(&t, &g);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &g);
    tm_trace("clock", "module clock set to %s by AT+CCLK (used for certificate validity)", when);
    return TM_OK;
}

tm_err hl_cclk_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    int tzq = hl_get(at)->clock_tz_quarters;
    time_t t = (time_t)(tm_modem_now(hl_modem(at)) + (int64_t)tzq * 15 * 60);
    struct tm g;
    gmtime_r(&t, &g);
    tm_at_line(at, "+CCLK: \"%02d/%02d/%02d,%02d:%02d:%02d%c%02d\"", g.tm_year % 100, g.tm_mon + 1,
               g.tm_mday, g.tm_hour, g.tm_min, g.tm_sec, tzq < 0 ? '-' : '+', tzq < 0 ? -tzq : tzq);
    return TM_OK;
}

tm_err hl_kpattern_set(tm_at *at, const tm_at_args *a)
{
    char v[TM_AT_PATTERN_MAX + 1];
    tm_err e;
    if ((e = tm_at_max_args(at, a, 1)) || (e = tm_at_get_str(at, a, 1, "eof_pattern", v, sizeof v)))
        return e;
    if ((e = tm_at_set_pattern(at, v)))
        return e;
    tm_modem *m = hl_modem(at);
    e = tm_store_setting_set(&m->store, "hl/settings", "kpattern", v, tm_at_reason(at));
    if (!e)
        hl_settings_damage_clear();     /* the host saved: a damaged file is replaced */
    return e;
}

tm_err hl_kpattern_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    tm_at_line(at, "+KPATTERN: \"%s\"", tm_at_pattern(at));
    if (hl_settings_damage()[0])
        hl_warn(at, "%s", hl_settings_damage());
    return TM_OK;
}
