/* tlsmodem — the SPWF04 configuration-variable table (AT+S.SCFG / GCFG /
 * WCFG / FCFG): every variable of the module's firmware 1.1.x with its
 * factory value and its range, so host start-up sequences that set any of
 * them (mbed SPWFSA04: blink_led, wifi_opr_rate_mask, …) are answered as by
 * the module and read back what they set.
 *
 * Sources: ST UM2114 (SPWF04Sx AT commands) appendix, the GCFG dumps of
 * SPWF04SA modules posted on the ST community, the variable names used by
 * ST X-CUBE-WIFI1 and the mbed SPWFSA04 driver.  docs/spwf.md lists the
 * table.  Only the console variables change tlsmodem's behaviour (echo,
 * error format, +WIND masks); the Wi-Fi/IP variables are stored and read
 * back (the host's network is the link).  console_verbose is tlsmodem's
 * addition (the reason after the error text).
 *
 * Kinds: INT lo..hi (decimal or 0x hex), HEX 32-bit mask, STR up to hi
 * bytes, RO factory value (read-only: SCFG answers an error). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dialect/spwf/spwf.h"

enum { INT, HEX, STR, RO };

/* X(name, factory value, kind, lo, hi) */
#define SPWF_CONFIG(X) \
    X("nv_manuf",                 "STMicroelectronics Inc.", RO, 0, 0) \
    X("nv_model",                 "SPWF04SA",               RO, 0, 0) \
    X("nv_serial",                "17111984",               RO, 0, 0) \
    X("nv_wifi_macaddr",          "00:80:E1:00:00:01",      RO, 0, 0) \
    X("standby_time",             "10",                     INT, 1, 86400) \
    X("standby_enabled",          "0",                      INT, 0, 1) \
    X("sleep_enabled",            "0",                      INT, 0, 1) \
    X("etf_mode",                 "0",                      INT, 0, 1) \
    X("blink_led",                "1",                      INT, 0, 1) \
    X("ext_volume",               "3",                      INT, 0, 3) \
    X("ramdisk_memsize",          "16",                     INT, 0, 64) \
    X("aes128_key",               "00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00", STR, 0, 47) \
    X("user_desc",                "anonymous",              STR, 0, 32) \
    X("python_script",            "",                       STR, 0, 64) \
    X("python_memsize",           "32",                     INT, 0, 128) \
    X("console_enabled",          "1",                      INT, 0, 1) \
    X("console_speed",            "115200",                 INT, 300, 6000000) \
    X("console_hwfc",             "0",                      INT, 0, 1) \
    X("console_echo",             "0",                      INT, 0, 1) \
    X("console_delimiter",        "0",                      INT, 0, 255) \
    X("console_errs",             "2",                      INT, 0, 2) \
    X("console_verbose",          "1",                      INT, 0, 1) \
    X("console_wind_off_low",     "0x00000000",             HEX, 0, 0) \
    X("console_wind_off_medium",  "0x00000000",             HEX, 0, 0) \
    X("console_wind_off_high",    "0x00000000",             HEX, 0, 0) \
    X("wifi_tx_power",            "18",                     INT, 0, 18) \
    X("wifi_rts_threshold",       "3000",                   INT, 0, 3000) \
    X("wifi_ssid",                "",                       STR, 0, 64) \
    X("wifi_ssid_len",            "0",                      INT, 0, 32) \
    X("wifi_channelnum",          "6",                      INT, 1, 14) \
    X("wifi_opr_rate_mask",       "0x003FFFCF",             HEX, 0, 0) \
    X("wifi_bas_rate_mask",       "0x0000000F",             HEX, 0, 0) \
    X("wifi_mode",                "1",                      INT, 0, 3) \
    X("wifi_auth_type",           "0",                      INT, 0, 1) \
    X("wifi_atim_window",         "0",                      INT, 0, 255) \
    X("wifi_beacon_interval",     "100",                    INT, 1, 1000) \
    X("wifi_prio",                "0",                      INT, 0, 7) \
    X("wifi_ht_mode",             "1",                      INT, 0, 1) \
    X("wifi_powersave",           "1",                      INT, 0, 2) \
    X("wifi_operational_mode",    "0x00000011",             HEX, 0, 0) \
    X("wifi_listen_interval",     "0",                      INT, 0, 255) \
    X("wifi_beacon_wakeup",       "1",                      INT, 0, 255) \
    X("wifi_reg_country",         "00",                     STR, 0, 3) \
    X("wifi_dtim_period",         "1",                      INT, 1, 255) \
    X("wifi_priv_mode",           "2",                      INT, 0, 2) \
    X("wifi_wep_keys[0]",         "00",                     STR, 0, 26) \
    X("wifi_wep_keys[1]",         "00",                     STR, 0, 26) \
    X("wifi_wep_keys[2]",         "00",                     STR, 0, 26) \
    X("wifi_wep_keys[3]",         "00",                     STR, 0, 26) \
    X("wifi_wep_key_lens",        "00:00:00:00",            STR, 0, 11) \
    X("wifi_wep_default_key",     "0",                      INT, 0, 3) \
    X("wifi_wpa_psk_raw",         "",                       STR, 0, 64) \
    X("wifi_wpa_psk_text",        "",                       STR, 0, 64) \
    X("wifi_eap_type",            "0",                      INT, 0, 3) \
    X("wifi_eap_anon",            "0",                      INT, 0, 1) \
    X("wifi_eap_skip_datechecks", "0",                      INT, 0, 1) \
    X("ip_use_v6",                "0",                      INT, 0, 1) \
    X("ip_hostname",              "iwm-00-00-01",           STR, 0, 32) \
    X("ip_apdomainname",          "captiveportal.net",      STR, 0, 32) \
    X("ip_apredirect",            "firstset.html",          STR, 0, 32) \
    X("ip_ipaddr",                "192.168.0.50",           STR, 0, 15) \
    X("ip_netmask",               "255.255.255.0",          STR, 0, 15) \
    X("ip_gw",                    "192.168.0.1",            STR, 0, 15) \
    X("ip_dns1",                  "192.168.0.1",            STR, 0, 15) \
    X("ip_dns2",                  "0.0.0.0",                STR, 0, 15) \
    X("ip_http_get_recv_timeout", "0",                      INT, 0, 60000) \
    X("ip_wait_timeout",          "12000",                  INT, 0, 60000) \
    X("ip_dhcp_timeout",          "20",                     INT, 0, 255) \
    X("ip_sockd_timeout",         "250",                    INT, 0, 60000) \
    X("ip_dhcp_lease_time",       "120",                    INT, 1, 65535) \
    X("ip_use_dhcpc",             "1",                      INT, 0, 2) \
    X("ip_use_dhcp",              "1",                      INT, 0, 2) \
    X("ip_use_httpd",             "0",                      INT, 0, 1) \
    X("ip_use_tftpd",             "0",                      INT, 0, 1) \
    X("ip_use_cgis",              "0x0000000F",             HEX, 0, 0) \
    X("ip_use_ssis",              "0x0000000F",             HEX, 0, 0) \
    X("ip_ntp_startup",           "0",                      INT, 0, 1) \
    X("ip_ntp_refresh",           "30",                     INT, 0, 65535) \
    X("ip_ntp_server1",           "pool.ntp.org",           STR, 0, 64) \
    X("ip_mtu",                   "1500",                   INT, 576, 1500)

#define AS_DEF(n, d, k, lo, hi) { n, d },
const spwf_var_def spwf_config_vars[] = { SPWF_CONFIG(AS_DEF) { NULL, NULL } };

typedef struct { int kind; long lo, hi; } rule;
#define AS_RULE(n, d, k, lo, hi) { k, lo, hi },
static const rule rules[] = { SPWF_CONFIG(AS_RULE) };

/* The table must fit the state's storage (spwf.h). */
typedef char config_fits[sizeof rules / sizeof rules[0] < SPWF_VAR_MAX ? 1 : -1];

int spwf_config_index(const char *name)
{
    for (int i = 0; spwf_config_vars[i].name; i++)
        if (strcasecmp(spwf_config_vars[i].name, name) == 0)
            return i;
    return -1;
}

tm_err spwf_config_check(tm_at *at, int i, const char *val)
{
    tm_reason *why = tm_at_reason(at);
    const rule *r = &rules[i];
    const char *name = spwf_config_vars[i].name;
    why->arg_index = 2;
    if (r->kind == RO)
        return tm_fail(why, TM_E_NOT_SUPPORTED, "%s is a factory value and cannot be changed", name);
    if (r->kind == STR) {
        if ((long)strlen(val) > r->hi)
            return tm_fail(why, TM_E_ARG_RANGE, "argument 2 (value) for %s is %zu bytes; at most %ld",
                           name, strlen(val), r->hi);
        return TM_OK;
    }
    char *end;
    if (!val[0])
        return tm_fail(why, TM_E_ARG_MISSING, "argument 2 (value) for %s is empty; expected a number", name);
    if (r->kind == HEX) {
        unsigned long long v = strtoull(val, &end, 0);
        if (*end || val[0] == '-')
            return tm_fail(why, TM_E_ARG_BAD, "argument 2 (value) \"%s\" for %s is not a number (e.g. "
                           "0x0000FFFF)", val, name);
        if (v > 0xffffffffULL)
            return tm_fail(why, TM_E_ARG_RANGE, "argument 2 (value) %s for %s does not fit 32 bits", val, name);
        return TM_OK;
    }
    long v = strtol(val, &end, 0);
    if (*end)
        return tm_fail(why, TM_E_ARG_BAD, "argument 2 (value) \"%s\" for %s is not a number", val, name);
    if (v < r->lo || v > r->hi)
        return tm_fail(why, TM_E_ARG_RANGE, "argument 2 (value) %ld for %s is out of range %ld..%ld", v,
                       name, r->lo, r->hi);
    return TM_OK;
}
