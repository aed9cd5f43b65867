/* See link.h.  The profiles' figures and where they come from are in
 * docs/control.md "Link shaping". */
#include "net/link.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const tm_link PROFILES[] = {
    /* 3GPP GPRS, multislot class 10 (4+1 / 3+2), coding scheme CS-2 (13.4 kbit/s a slot) */
    { true, "gprs",   53600,    26800,    300,  10000 },
    /* Cat-M1 (Rel-13, 1.4 MHz, half duplex): the HD-FDD peak rates */
    { true, "lte-m",  300000,   375000,   75,   5000 },
    /* Cat-NB1 (Rel-13): downlink peak, uplink single-tone */
    { true, "nb-iot", 26000,    16900,    800,  10000 },
    /* 802.11n 1x1 HT20 as an ESP32/SPWF04 achieves it over TCP, plus a short path to the server */
    { true, "wifi",   20000000, 20000000, 10,   1000 },
};
#define NPROFILES (sizeof PROFILES / sizeof PROFILES[0])

static tm_link g_link = { false, "off", 0, 0, 0, 0 };

const tm_link *tm_link_get(void) { return &g_link; }
void tm_link_set(const tm_link *l) { g_link = *l; }
const char *tm_link_profiles(void) { return "gprs, lte-m, nb-iot, wifi"; }

/* "64k", "1.5M", "9600", "64kbit", "64kbps" -> bit/s */
static bool parse_rate(const char *v, uint64_t *out)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (end == v || errno || d < 0 || !isfinite(d))
        return false;
    double mul = 1;
    if (*end == 'k' || *end == 'K')
        mul = 1e3, end++;
    else if (*end == 'M')
        mul = 1e6, end++;
    else if (*end == 'G')
        mul = 1e9, end++;
    if (*end && strcmp(end, "bit") && strcmp(end, "bps") && strcmp(end, "bit/s"))
        return false;
    d *= mul;
    if (d > 1e11 || (d > 0 && d < 8))
        return false;                      /* 0 = unlimited; below one byte a second is not a link */
    *out = (uint64_t)(d + 0.5);
    return true;
}

/* "200ms", "1.5s", "200" (ms) */
static bool parse_ms(const char *v, uint32_t *out)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (end == v || errno || d < 0 || !isfinite(d))
        return false;
    if (!strcmp(end, "s"))
        d *= 1000;
    else if (*end && strcmp(end, "ms"))
        return false;
    if (d > 600000)
        return false;
    *out = (uint32_t)(d + 0.5);
    return true;
}

/* "1%", "0.5%", "1" (percent) -> per million */
static bool parse_loss(const char *v, uint32_t *out)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (end == v || errno || d < 0 || d > 100 || !isfinite(d))
        return false;
    if (*end && strcmp(end, "%"))
        return false;
    *out = (uint32_t)(d * 10000 + 0.5);
    return true;
}

tm_err tm_link_parse(const char *spec, tm_link *out, tm_reason *why)
{
    char buf[256];
    if (strlen(spec) >= sizeof buf)
        return tm_fail(why, TM_E_ARG_BAD, "link \"%.40s...\": too long", spec);
    snprintf(buf, sizeof buf, "%s", spec);
    tm_link l = { true, "custom", 0, 0, 0, 0 };
    int items = 0;
    for (char *it = strtok(buf, ", \t"); it; it = strtok(NULL, ", \t")) {
        char *eq = strchr(it, '=');
        if (!eq) {
            if (items == 0 && !strcmp(it, "off") && !strtok(NULL, ", \t")) {
                *out = (tm_link){ false, "off", 0, 0, 0, 0 };
                return TM_OK;
            }
            size_t i;
            for (i = 0; i < NPROFILES; i++)
                if (!strcmp(it, PROFILES[i].name))
                    break;
            if (items || i == NPROFILES)
                return tm_fail(why, TM_E_ARG_BAD, "link \"%s\": %s (profiles: %s, off; or rate=, down=, up=, "
                               "latency=, loss=)", it, items ? "a profile comes first" : "unknown profile",
                               tm_link_profiles());
            l = PROFILES[i];
            items++;
            continue;
        }
        *eq = '\0';
        const char *k = it, *v = eq + 1;
        bool ok;
        if (!strcmp(k, "rate")) {
            ok = parse_rate(v, &l.down_bps);
            l.up_bps = l.down_bps;
        } else if (!strcmp(k, "down"))
            ok = parse_rate(v, &l.down_bps);
        else if (!strcmp(k, "up"))
            ok = parse_rate(v, &l.up_bps);
        else if (!strcmp(k, "latency"))
            ok = parse_ms(v, &l.latency_ms);
        else if (!strcmp(k, "loss"))
            ok = parse_loss(v, &l.loss_ppm);
        else
            return tm_fail(why, TM_E_ARG_BAD, "link \"%s=%s\": unknown item (rate=, down=, up=, latency=, loss=)",
                           k, v);
        if (!ok)
            return tm_fail(why, TM_E_ARG_BAD, "link \"%s=%s\": expected %s", k, v,
                           !strcmp(k, "latency") ? "milliseconds 0..600000 (200ms, 1.5s)"
                           : !strcmp(k, "loss") ? "a percentage 0..100 (1%, 0.5%)"
                           : "bit/s: 0 (unlimited) or 8 and more, k/M/G suffixes (64k, 1.5M)");
        if (items && strcmp(l.name, "custom") && strchr(l.name, '+') == NULL) {
            size_t n = strlen(l.name);
            if (n + 1 < sizeof l.name)
                l.name[n] = '+', l.name[n + 1] = '\0';   /* "nb-iot+": a profile changed */
        }
        items++;
    }
    if (!items)
        return tm_fail(why, TM_E_ARG_BAD, "link: empty (profiles: %s, off; or rate=, down=, up=, latency=, loss=)",
                       tm_link_profiles());
    *out = l;
    return TM_OK;
}

void tm_link_describe(const tm_link *l, char *buf, size_t cap)
{
    if (!l->on) {
        snprintf(buf, cap, "link=off");
        return;
    }
    char loss[16];
    snprintf(loss, sizeof loss, "%.4f", l->loss_ppm / 10000.0);
    /* "1.0000" -> "1", "0.5000" -> "0.5" */
    char *e = loss + strlen(loss) - 1;
    while (*e == '0')
        *e-- = '\0';
    if (*e == '.')
        *e = '\0';
    snprintf(buf, cap, "link=%s down_bps=%llu up_bps=%llu latency_ms=%u loss_pct=%s", l->name,
             (unsigned long long)l->down_bps, (unsigned long long)l->up_bps, l->latency_ms, loss);
}
