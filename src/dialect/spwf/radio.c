/* tlsmodem — SPWF04 radio, status and boot: AT+S.WIFI, AT+S.STS, AT+S.PEERS
 * and the +WIND sequence at power-on and after AT+S.RESET.
 *
 * There is no radio: the link is the host's network, always up.  So that a
 * host sees the module it expects, tlsmodem keeps one radio state: running
 * (default) or stopped by AT+S.WIFI=0.  Running in station or mini-AP mode
 * (wifi_mode 1 or 3) means associated to one peer (peer 0, the access point)
 * with the host's network behind it.
 *
 * Boot sequence, as firmware 1.1.0 prints it (ST community logs):
 *   +WIND:1:Poweron:<build>   +WIND:13:Copyright …:SPWF04SA
 *   +WIND:0:Console active    +WIND:3:Watchdog Running:20
 *   +WIND:32:WiFi Hardware Started
 *   +WIND:24:WiFi Up:0:<ip>   (station / mini-AP mode only)
 * AT+S.WIFI=0: +WIND:38:WiFi Powered Down (again: AT-S.ERROR "the radio is
 * not running"); AT+S.WIFI=1: +WIND:32 and, in station mode, +WIND:24. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/version.h"
#include "core/trace.h"
#include "dialect/spwf/spwf.h"
#include "port/port.h"

#define FW_BUILD    "171117-0328fe3-SPWF04S"
#define FW_VERSION  "1.1.0"
#define LINK_IP     "127.0.0.1"
#define PEER_MAC    "00:80:E1:00:00:FE"

static bool radio_off;              /* AT+S.WIFI=0 (one modem per process) */
static bool bss_lost;               /* control channel "coverage lost": the access point is gone */

static bool linked(spwf_state *s)
{
    int mode = spwf_var_int(s, "wifi_mode");
    return !radio_off && !bss_lost && (mode == 1 || mode == 3);
}

bool spwf_radio_bss_lost(void)
{
    return bss_lost;
}

/* The access point disappears or comes back (control channel; sim.c).  Only
 * the indications: sim.c closes the sockets. */
tm_err spwf_radio_coverage(tm_at *at, bool lost, tm_reason *why)
{
    spwf_state *s = spwf_get(at);
    if (lost == bss_lost)
        return tm_fail(why, TM_E_STATE, "coverage is %s already", lost ? "lost" : "there");
    bool was = linked(s);
    bss_lost = lost;
    tm_trace("spwf", "access point %s", lost ? "lost (out of range)" : "back in range");
    if (lost && was)
        spwf_wind(at, 33, "WiFi BSS Lost");
    else if (!lost && linked(s))
        spwf_wind(at, 24, "WiFi Up:0:" LINK_IP);
    return TM_OK;
}

void spwf_boot_winds(tm_at *at)
{
    spwf_state *s = spwf_get(at);
    radio_off = false;
    spwf_wind(at, 1, "Poweron:" FW_BUILD);
    spwf_wind(at, 13, "Copyright (c) 2012-2017 STMicroelectronics, Inc. All rights Reserved:SPWF04SA");
    spwf_wind(at, 0, "Console active");
    spwf_wind(at, 3, "Watchdog Running:20");
    spwf_wind(at, 32, "WiFi Hardware Started");
    if (s && linked(s))
        spwf_wind(at, 24, "WiFi Up:0:" LINK_IP);
}

tm_err spwf_wifi_set(tm_at *at, const tm_at_args *a)
{
    spwf_state *s = spwf_get(at);
    long on;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 1)) || (e = tm_at_get_int(at, a, 1, "enable", 0, 1, &on)))
        return e;
    if (!on) {
        if (radio_off)
            return tm_fail(tm_at_reason(at), TM_E_STATE, "the radio is not running (AT+S.WIFI=1 starts it)");
        radio_off = true;
        tm_trace("spwf", "WIFI=0: radio stopped");
        spwf_wind(at, 38, "WiFi Powered Down");
        return TM_OK;
    }
    if (!radio_off) {
        tm_trace("spwf", "WIFI=1: the radio is already running");
        return TM_OK;
    }
    radio_off = false;
    tm_trace("spwf", "WIFI=1: radio started");
    spwf_wind(at, 32, "WiFi Hardware Started");
    if (linked(s))
        spwf_wind(at, 24, "WiFi Up:0:" LINK_IP);
    return TM_OK;
}

/* ---- status variables (AT+S.STS) ---------------------------------------------------- */

static void status_value(tm_at *at, const char *name, char *out, size_t cap)
{
    tm_modem *m = spwf_modem(at);
    spwf_state *s = spwf_get(at);
    bool up = linked(s);
    out[0] = '\0';
    if (!strcasecmp(name, "fw_version"))
        snprintf(out, cap, FW_VERSION "-" FW_BUILD);
    else if (!strcasecmp(name, "version"))
        snprintf(out, cap, "tlsmodem-spwf04-" TM_VERSION);   /* tlsmodem's own; fw_version is the module's */
    else if (!strcasecmp(name, "boot_version"))
        snprintf(out, cap, "1.0.0");
    else if (!strcasecmp(name, "build_time"))
        snprintf(out, cap, "Nov 17 2017 12:00:00");
    else if (!strcasecmp(name, "wifi_state"))
        snprintf(out, cap, "%d", radio_off ? 0 : up ? 10 : 2);   /* 10 ready to transmit, 2 idle */
    else if (!strcasecmp(name, "wifi_bssid"))
        snprintf(out, cap, "%s", up ? PEER_MAC : "00:00:00:00:00:00");
    else if (!strcasecmp(name, "wifi_aid"))
        snprintf(out, cap, "%d", up ? 1 : 0);
    else if (!strcasecmp(name, "wifi_channelnum"))
        snprintf(out, cap, "%s", spwf_var(s, "wifi_channelnum"));
    else if (!strcasecmp(name, "wifi_sup_rate_mask") || !strcasecmp(name, "wifi_bas_rate_mask"))
        snprintf(out, cap, "%s", spwf_var(s, !strcasecmp(name, "wifi_bas_rate_mask") ? "wifi_bas_rate_mask"
                                                                                    : "wifi_opr_rate_mask"));
    else if (!strcasecmp(name, "wifi_max_tx_power"))
        snprintf(out, cap, "%s", spwf_var(s, "wifi_tx_power"));
    else if (!strcasecmp(name, "wifi_reg_country"))
        snprintf(out, cap, "%s", spwf_var(s, "wifi_reg_country"));
    else if (!strcasecmp(name, "wifi_dtim_period"))
        snprintf(out, cap, "%s", spwf_var(s, "wifi_dtim_period"));
    else if (!strcasecmp(name, "wifi_sleeping"))
        snprintf(out, cap, "0");
    else if (!strcasecmp(name, "wifi_num_assoc"))
        snprintf(out, cap, "%d", up ? 1 : 0);
    else if (!strcasecmp(name, "ip_ipaddr") || !strcasecmp(name, "ip_gw"))
        snprintf(out, cap, "%s", up ? LINK_IP : "0.0.0.0");
    else if (!strcasecmp(name, "ip_netmask"))
        snprintf(out, cap, "%s", up ? "255.0.0.0" : "0.0.0.0");
    else if (!strcasecmp(name, "ip_dns1"))
        snprintf(out, cap, "%s", up ? LINK_IP : "0.0.0.0");
    else if (!strcasecmp(name, "ip_dns2"))
        snprintf(out, cap, "0.0.0.0");
    else if (!strcasecmp(name, "ip_sock_open") || !strcasecmp(name, "sockets")) {
        int n = 0;
        for (int i = 0; i < TM_SESSIONS_MAX; i++)
            n += s->sock[i] != NULL;
        snprintf(out, cap, "%d", n);
    } else if (!strcasecmp(name, "free_heap") || !strcasecmp(name, "min_heap"))
        snprintf(out, cap, "%d", !strcasecmp(name, "free_heap") ? 90000 : 80000);
    else if (!strcasecmp(name, "current_time") || !strcasecmp(name, "time")) {
        if (m->clock_mode == TM_CLOCK_UNSET)
            snprintf(out, cap, "not set");
        else
            snprintf(out, cap, "%lld", (long long)tm_modem_now(m));
    } else if (!strcasecmp(name, "clock_source"))
        snprintf(out, cap, "%s", m->clock_mode == TM_CLOCK_SET ? "AT+S.TIME" :
                 m->clock_mode == TM_CLOCK_UNSET ? "unset" : "host");
    else if (!strcasecmp(name, "system_uptime"))
        snprintf(out, cap, "%lld", (long long)(tm_port_mono_ms() / 1000));
    else if (!strcasecmp(name, "system_sleeptime"))
        snprintf(out, cap, "0");
    else if (!strcasecmp(name, "settings"))
        snprintf(out, cap, "%s", spwf_settings_note());
}

/* The module's status variables first, then tlsmodem's (version, time,
 * clock_source, sockets, settings: what became of the saved settings). */
static const char *const status_names[] = {
    "fw_version", "boot_version", "build_time", "wifi_state", "wifi_bssid", "wifi_aid", "wifi_channelnum",
    "wifi_sup_rate_mask", "wifi_bas_rate_mask", "wifi_max_tx_power", "wifi_reg_country",
    "wifi_dtim_period", "wifi_sleeping", "wifi_num_assoc", "ip_ipaddr", "ip_netmask", "ip_gw",
    "ip_dns1", "ip_dns2", "ip_sock_open", "free_heap", "min_heap", "current_time", "system_uptime",
    "system_sleeptime", "version", "time", "clock_source", "sockets", "settings", NULL,
};

tm_err spwf_sts_exec(tm_at *at, const tm_at_args *a)
{
    (void)a;
    char v[TM_DETAIL_MAX + 256];
    for (int i = 0; status_names[i]; i++) {
        status_value(at, status_names[i], v, sizeof v);
        tm_at_line(at, "AT-S.Var:%s=%s", status_names[i], v);
    }
    return TM_OK;
}

tm_err spwf_sts_set(tm_at *at, const tm_at_args *a)
{
    char name[64], v[TM_DETAIL_MAX + 256];
    tm_err e;
    if ((e = tm_at_max_args(at, a, 1)) || (e = tm_at_get_str(at, a, 1, "variable", name, sizeof name)))
        return e;
    for (int i = 0; status_names[i]; i++) {
        if (strcasecmp(status_names[i], name) == 0) {
            status_value(at, status_names[i], v, sizeof v);
            tm_at_line(at, "AT-S.Var:%s=%s", status_names[i], v);
            return TM_OK;
        }
    }
    tm_at_reason(at)->arg_index = 1;
    return tm_fail(tm_at_reason(at), TM_E_ARG_BAD, "no status variable \"%s\" (AT+S.STS lists them)", name);
}

/* ---- peers (AT+S.PEERS[=<peer>[,<variable>]]) ------------------------------------------------ */

static const char *const peer_names[] = {
    "link_id", "state", "addr", "last_rx", "last_tx", "rx_drops", "tx_errs", "rx_rssi", "rx_rate",
    "tx_rate", "rates", NULL,
};

static void peer_value(const char *name, char *out, size_t cap)
{
    if (!strcasecmp(name, "link_id")) snprintf(out, cap, "0");
    else if (!strcasecmp(name, "state")) snprintf(out, cap, "connected");
    else if (!strcasecmp(name, "addr")) snprintf(out, cap, PEER_MAC);
    else if (!strcasecmp(name, "rx_rssi")) snprintf(out, cap, "-48");
    else if (!strcasecmp(name, "rx_rate") || !strcasecmp(name, "tx_rate")) snprintf(out, cap, "72");
    else if (!strcasecmp(name, "rates")) snprintf(out, cap, "0x003FFFCF");
    else snprintf(out, cap, "0");
}

static tm_err need_peer(tm_at *at)
{
    if (linked(spwf_get(at)))
        return TM_OK;
    return tm_fail(tm_at_reason(at), TM_E_STATE, "no peer: the radio is %s (AT+S.WIFI=1, wifi_mode 1)",
                   radio_off ? "not running" : "idle");
}

tm_err spwf_peers_exec(tm_at *at, const tm_at_args *a)
{
    (void)a;
    char v[64];
    if (!linked(spwf_get(at)))
        return TM_OK;                           /* no peers: nothing listed */
    for (int i = 0; peer_names[i]; i++) {
        peer_value(peer_names[i], v, sizeof v);
        tm_at_line(at, "AT-S.Var:0.%s=%s", peer_names[i], v);
    }
    return TM_OK;
}

tm_err spwf_peers_set(tm_at *at, const tm_at_args *a)
{
    long peer;
    char name[32], v[64];
    tm_err e;
    if ((e = tm_at_max_args(at, a, 2)) || (e = tm_at_get_int(at, a, 1, "peer_number", 0, 7, &peer)))
        return e;
    if (peer != 0 || (e = need_peer(at))) {
        if (e)
            return e;
        tm_at_reason(at)->arg_index = 1;
        return tm_fail(tm_at_reason(at), TM_E_ARG_BAD, "no peer %ld (only peer 0, the access point)", peer);
    }
    if (tm_at_omitted(a, 2)) {
        for (int i = 0; peer_names[i]; i++) {
            peer_value(peer_names[i], v, sizeof v);
            tm_at_line(at, "AT-S.Var:0.%s=%s", peer_names[i], v);
        }
        return TM_OK;
    }
    if ((e = tm_at_get_str(at, a, 2, "peer_var", name, sizeof name)))
        return e;
    for (int i = 0; peer_names[i]; i++)
        if (!strcasecmp(peer_names[i], name)) {
            peer_value(peer_names[i], v, sizeof v);
            tm_at_line(at, "AT-S.Var:0.%s=%s", peer_names[i], v);
            return TM_OK;
        }
    tm_at_reason(at)->arg_index = 2;
    return tm_fail(tm_at_reason(at), TM_E_ARG_BAD, "no peer variable \"%s\" (AT+S.PEERS=0 lists them)", name);
}
