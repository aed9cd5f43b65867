/* tlsmodem — ESP-AT dialect: the simulated Wi-Fi station (docs/esp.md §2).
 *
 * There is no radio: links go out through the host machine's network.  So
 * that a host sees the module it expects, the station has a coherent state:
 * the access points of --wifi SSID[:PASSWORD] (default "tlsmodem" /
 * "tlsmodem"), each with a BSSID, channel, signal and its own subnet
 * 192.168.<1+n>.0/24 (gateway .1, the station gets .100 by "DHCP"); a join
 * checks the SSID and password and answers as the firmware does
 * (WIFI CONNECTED, WIFI GOT IP, OK, or +CWJAP:<code> and ERROR); the
 * control channel can take the access point away or make it refuse us
 * (sim.c).  The mode, the joined network, DHCP/static address and MAC are
 * saved when AT+SYSSTORE=1, AT+CWAUTOCONN always; a saved network is joined
 * again at boot when auto-connect is on. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/trace.h"
#include "dialect/esp/esp.h"
#include "port/port.h"

#define SSID_MAX 32
#define PWD_MAX  64
/* How long AT+CWJAP associates (scan, 4-way handshake, DHCP) before its
 * answer: a real join takes seconds; this short time keeps the command
 * pending long enough that a line the host sends meanwhile is answered
 * "busy p...", as the module does, without slowing tests down. */
#define JOIN_MS  250

typedef struct {
    char ssid[SSID_MAX + 1];
    char pwd[PWD_MAX + 1];         /* "" = open */
} esp_ap;

/* CWJAP failure codes (ESP-AT "+CWJAP:<error code>"). */
enum { JAP_TIMEOUT = 1, JAP_WRONG_PWD = 2, JAP_NO_AP = 3, JAP_FAILED = 4 };

/* CWSTATE <state> */
enum { ST_NEVER = 0, ST_NO_IP = 1, ST_GOT_IP = 2, ST_CONNECTING = 3, ST_DISCONNECTED = 4 };

static struct {
    esp_ap aps[TM_WIFI_MAX];
    int    nap;
    int    mode;                   /* AT+CWMODE 0..3 */
    bool   autoconn;               /* AT+CWAUTOCONN */
    int    dhcp;                   /* AT+CWDHCP bits: 1 station, 2 softAP */
    bool   static_ip;              /* AT+CIPSTA set: station DHCP off */
    char   ip[16], gw[16], mask[16];
    char   mac[18];
    char   hostname[SSID_MAX + 1];
    char   country[4];
    int    country_policy, country_start, country_count;
    int    lap_mask;               /* AT+CWLAPOPT print mask */
    int    lap_rssi_min;
    int    lap_auth_mask;
    /* the connection */
    char   cfg_ssid[SSID_MAX + 1], cfg_pwd[PWD_MAX + 1];   /* last AT+CWJAP configuration */
    bool   have_cfg;
    bool   want;                   /* joined by the host and not left (CWQAP / mode off) */
    int    ap;                     /* index of the joined access point, -1 none */
    bool   got_ip;
    int    state;                  /* CWSTATE */
    /* the network (control channel) */
    bool   lost;                   /* coverage lost: no access point in range */
    bool   reject;                 /* the access points refuse association */
    int    csq;                    /* 0..31, 99 unknown, -1 never set */
    /* AT+CWJAP associating (JOIN_MS) */
    unsigned join_timer;
    char   pend_ssid[SSID_MAX + 1], pend_pwd[PWD_MAX + 1], pend_bssid[20];
} W = { .ap = -1, .csq = -1 };

/* ---- the access points -------------------------------------------------------- */

static void load_aps(const tm_modem *m)
{
    W.nap = 0;
    for (int i = 0; i < m->wifi_count && i < TM_WIFI_MAX; i++) {
        const char *colon = strchr(m->wifi[i], ':');
        size_t sl = colon ? (size_t)(colon - m->wifi[i]) : strlen(m->wifi[i]);
        esp_ap *a = &W.aps[W.nap++];
        snprintf(a->ssid, sizeof a->ssid, "%.*s", (int)(sl < SSID_MAX ? sl : SSID_MAX), m->wifi[i]);
        snprintf(a->pwd, sizeof a->pwd, "%s", colon ? colon + 1 : "");
    }
    if (W.nap == 0) {
        snprintf(W.aps[0].ssid, sizeof W.aps[0].ssid, "tlsmodem");
        snprintf(W.aps[0].pwd, sizeof W.aps[0].pwd, "tlsmodem");
        W.nap = 1;
    }
    char list[TM_WIFI_MAX * (SSID_MAX + 16)] = "";
    for (int i = 0; i < W.nap; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s\"%s\" (%s)", i ? ", " : "", W.aps[i].ssid,
                 W.aps[i].pwd[0] ? "WPA2" : "open");
    tm_trace("esp", "simulated access points: %s%s", list, m->wifi_count ? "" : " (default; --wifi SSID:PASSWORD)");
}

static int find_ap(const char *ssid)
{
    for (int i = 0; i < W.nap; i++)
        if (strcmp(W.aps[i].ssid, ssid) == 0)
            return i;
    return -1;
}

/* Locally administered BSSIDs "02:74:6d:00:00:<n+1>" ("tm"). */
static void ap_bssid(int n, char *buf, size_t cap)
{
    snprintf(buf, cap, "02:74:6d:00:00:%02x", (unsigned)(n + 1) & 0xffu);
}

static int ap_channel(int n) { return 1 + (n * 5) % 13; }          /* 1, 6, 11, 3, ... */
static int ap_ecn(int n) { return W.aps[n].pwd[0] ? 3 : 0; }       /* WPA2_PSK or OPEN */

/* Signal in dBm: the control channel's csq (-113 + 2*csq, as 27.007 maps
 * it), else -45 for the first access point and 6 dB less for each next. */
static int ap_rssi(int n)
{
    int base = W.csq >= 0 && W.csq <= 31 ? -113 + 2 * W.csq : -45;
    return base - 6 * n;
}

static void ap_gateway(int n, char *buf, size_t cap) { snprintf(buf, cap, "192.168.%u.1", (unsigned)(1 + n) & 0xffu); }

/* ---- state changes ---------------------------------------------------------------- */

static bool station_on(void) { return W.mode == 1 || W.mode == 3; }

/* The station's address once joined: DHCP's 192.168.<1+n>.100 or the static one. */
static void take_address(int n)
{
    if (W.static_ip && W.ip[0])
        return;
    snprintf(W.ip, sizeof W.ip, "192.168.%u.100", (unsigned)(1 + n) & 0xffu);
    ap_gateway(n, W.gw, sizeof W.gw);
    snprintf(W.mask, sizeof W.mask, "255.255.255.0");
}

/* Says the messages of a join: as information lines inside AT+CWJAP (before
 * its OK), as messages otherwise (auto-join, coverage back). */
static void say(esp_state *s, bool inside, const char *text)
{
    if (inside)
        tm_at_line(s->modem->at, "%s", text);
    else
        tm_at_urc(s->modem->at, "%s", text);
}

static void joined(esp_state *s, int n, bool inside)
{
    W.ap = n;
    W.want = true;
    take_address(n);
    W.got_ip = true;
    W.state = ST_GOT_IP;
    say(s, inside, "WIFI CONNECTED");
    say(s, inside, "WIFI GOT IP");
    tm_trace("esp", "Wi-Fi: joined \"%s\" (%s), station %s, gateway %s; links use the host's network",
             W.aps[n].ssid, W.aps[n].pwd[0] ? "WPA2" : "open", W.ip, W.gw);
    esp_sntp_got_ip(s);
}

/* The station leaves its access point: WIFI DISCONNECT and every open link
 * closes ([<id>,]CLOSED).  inside: a line of the running command. */
static void left(esp_state *s, bool inside, const char *why_text)
{
    if (W.ap < 0)
        return;
    tm_trace("esp", "Wi-Fi: left \"%s\": %s", W.aps[W.ap].ssid, why_text);
    W.ap = -1;
    W.got_ip = false;
    W.state = ST_DISCONNECTED;
    if (!W.static_ip)
        W.ip[0] = W.gw[0] = W.mask[0] = '\0';
    say(s, inside, "WIFI DISCONNECT");
    tm_reason why;
    tm_fail(&why, TM_E_NET, "%s", why_text);
    esp_sock_all_lost(s, &why);
    esp_http_net_lost(s, &why);
}

/* Why a join fails, as the +CWJAP code; 0 = it succeeds. */
static int join_check(const char *ssid, const char *pwd, const char *bssid, int *n, tm_reason *why)
{
    *n = find_ap(ssid);
    if (W.lost)
        return tm_fail(why, TM_E_NET, "no access point in range (control channel: coverage lost)"), JAP_NO_AP;
    if (*n < 0) {
        char list[256] = "";
        for (int i = 0; i < W.nap; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s\"%s\"", i ? ", " : "", W.aps[i].ssid);
        tm_fail(why, TM_E_NET, "no access point \"%s\" in range; the simulated ones are %s (tlsmodem "
                "--wifi SSID:PASSWORD adds others)", ssid, list);
        return JAP_NO_AP;
    }
    if (bssid && bssid[0]) {
        char b[18];
        ap_bssid(*n, b, sizeof b);
        if (strcasecmp(b, bssid) != 0) {
            tm_fail(why, TM_E_NET, "access point \"%s\" has BSSID %s, not %s", ssid, b, bssid);
            return JAP_NO_AP;
        }
    }
    if (W.reject) {
        tm_fail(why, TM_E_NET, "access point \"%s\" refuses the association (control channel: reject)", ssid);
        return JAP_FAILED;
    }
    if (strcmp(W.aps[*n].pwd, pwd) != 0 && W.aps[*n].pwd[0]) {
        tm_fail(why, TM_E_NET, "wrong password for \"%s\" (%s)", ssid,
                pwd[0] ? "the 4-way handshake failed" : "the network is WPA2 and no password was given");
        return JAP_WRONG_PWD;
    }
    return 0;
}

/* Joins the saved / last network without a command (boot, mode switch,
 * coverage back): messages only, no +CWJAP failure codes. */
static void auto_join(esp_state *s, const char *when)
{
    if (!station_on() || !W.have_cfg || W.ap >= 0)
        return;
    int n;
    tm_reason why;
    if (join_check(W.cfg_ssid, W.cfg_pwd, NULL, &n, &why)) {
        tm_trace("esp", "Wi-Fi: %s: \"%s\" not joined: %s", when, W.cfg_ssid, why.detail);
        W.state = ST_DISCONNECTED;
        return;
    }
    joined(s, n, false);
}

static tm_err save(esp_state *s, tm_at *at, const char *key, const char *val)
{
    return esp_setting_save(s, key, val, false, tm_at_reason(at));
}

/* ---- interface for the other parts ---------------------------------------------- */

bool esp_wifi_has_ip(const esp_state *s)
{
    (void)s;
    return W.ap >= 0 && W.got_ip;
}

void esp_wifi_local_ip(const esp_state *s, char *buf, size_t cap)
{
    (void)s;
    snprintf(buf, cap, "%s", W.ap >= 0 && W.ip[0] ? W.ip : "0.0.0.0");
}

int esp_wifi_status(const esp_state *s)
{
    return esp_wifi_has_ip(s) ? 2 : 5;
}

tm_err esp_wifi_coverage(esp_state *s, bool lost, tm_reason *why)
{
    if (lost) {
        if (W.lost)
            return tm_fail(why, TM_E_STATE, "coverage is lost already");
        W.lost = true;
        left(s, false, "the access point is out of range (control channel: coverage lost)");
        return TM_OK;
    }
    if (!W.lost && !W.reject)
        return tm_fail(why, TM_E_STATE, "coverage is there already (and the access point accepts the station)");
    W.lost = W.reject = false;
    if (W.want)
        auto_join(s, "coverage back");
    return TM_OK;
}

tm_err esp_wifi_reject(esp_state *s, tm_reason *why)
{
    if (W.reject)
        return tm_fail(why, TM_E_STATE, "the access points refuse the station already");
    W.reject = true;
    left(s, false, "the access point deauthenticated the station (control channel: reject)");
    return TM_OK;
}

void esp_wifi_set_csq(esp_state *s, int csq)
{
    (void)s;
    W.csq = csq;
}

/* ---- AT+CWMODE ---------------------------------------------------------------------- */

static tm_err cwmode_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    tm_at_line(at, "+CWMODE:%d", W.mode);
    return TM_OK;
}

static tm_err cwmode_set(tm_at *at, const tm_at_args *a)
{
    esp_state *s = esp_get(at);
    long mode, ac;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 2)) || (e = tm_at_get_int(at, a, 1, "mode", 0, 3, &mode)) ||
        (e = tm_at_opt_int(at, a, 2, "auto_connect", 0, 1, 1, &ac)))
        return e;
    char val[24];
    snprintf(val, sizeof val, "%ld", mode);
    if ((e = save(s, at, "cwmode", val)))
        return e;
    bool was = station_on();
    W.mode = (int)mode;
    if (was && !station_on()) {
        W.want = false;
        left(s, false, "station mode switched off (AT+CWMODE)");
        W.state = ST_NEVER;
    } else if (!was && station_on() && ac) {
        auto_join(s, "station mode switched on (AT+CWMODE)");   /* messages after the OK */
    }
    return TM_OK;
}

/* ---- AT+CWJAP ----------------------------------------------------------------------- */

static tm_err need_station(tm_at *at, const char *cmd)
{
    if (station_on())
        return TM_OK;
    return tm_fail(tm_at_reason(at), TM_E_STATE, "%s needs station mode; the Wi-Fi mode is %d (AT+CWMODE=1 or 3 "
                   "first)", cmd, W.mode);
}

/* The association is over (JOIN_MS after AT+CWJAP): the access point
 * answers as the network is now (coverage, reject), then the result. */
static void join_done(void *arg)
{
    esp_state *s = arg;
    tm_at *at = s->modem->at;
    tm_reason *why = tm_at_reason(at);
    int n;
    W.join_timer = 0;
    int code = join_check(W.pend_ssid, W.pend_pwd, W.pend_bssid, &n, why);
    if (code) {
        W.state = ST_DISCONNECTED;
        W.want = false;
        tm_at_line(at, "+CWJAP:%d", code);
        esp_err_errno(s, 0);                  /* the +CWJAP code says it: no +ERRNO line */
        tm_at_complete(at, why->code);
        return;
    }
    snprintf(W.cfg_ssid, sizeof W.cfg_ssid, "%s", W.pend_ssid);
    snprintf(W.cfg_pwd, sizeof W.cfg_pwd, "%s", W.pend_pwd);
    W.have_cfg = true;
    joined(s, n, true);
    tm_err e;
    if ((e = save(s, at, "jap_ssid", W.pend_ssid)) || (e = save(s, at, "jap_pwd", W.pend_pwd))) {
        tm_at_complete(at, e);
        return;
    }
    tm_at_complete(at, TM_OK);
}

static tm_err join(tm_at *at, const char *ssid, const char *pwd, const char *bssid)
{
    esp_state *s = esp_get(at);
    if (W.ap >= 0)
        left(s, true, "AT+CWJAP joins a network again");
    W.state = ST_CONNECTING;
    snprintf(W.pend_ssid, sizeof W.pend_ssid, "%s", ssid);
    snprintf(W.pend_pwd, sizeof W.pend_pwd, "%s", pwd);
    snprintf(W.pend_bssid, sizeof W.pend_bssid, "%s", bssid ? bssid : "");
    W.join_timer = tm_port_timer_add(JOIN_MS, join_done, s);
    if (!W.join_timer)
        return tm_fail(tm_at_reason(at), TM_E_INTERNAL, "no timer left for the association");
    return TM_AT_PENDING;
}

/* AT+CWJAP=[<"ssid">],[<"pwd">][,<"bssid">][,<pci_en>|<authmode>][,<reconn_interval>]
 *          [,<listen_interval>][,<scan_mode>][,<jap_timeout>][,<pmf>] */
static tm_err cwjap_set(tm_at *at, const tm_at_args *a)
{
    char ssid[SSID_MAX + 2], pwd[PWD_MAX + 2], bssid[20];
    long v;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 9)) || (e = need_station(at, "AT+CWJAP")))
        return e;
    if ((e = tm_at_opt_str(at, a, 1, "ssid", ssid, sizeof ssid, "")) ||
        (e = tm_at_opt_str(at, a, 2, "pwd", pwd, sizeof pwd, "")) ||
        (e = tm_at_opt_str(at, a, 3, "bssid", bssid, sizeof bssid, "")) ||
        (e = tm_at_opt_int(at, a, 4, "authmode", 0, 16, 0, &v)) ||
        (e = tm_at_opt_int(at, a, 5, "reconn_interval", 0, 7200, 1, &v)) ||
        (e = tm_at_opt_int(at, a, 6, "listen_interval", 1, 100, 3, &v)) ||
        (e = tm_at_opt_int(at, a, 7, "scan_mode", 0, 1, 0, &v)) ||
        (e = tm_at_opt_int(at, a, 8, "jap_timeout", 3, 600, 15, &v)) ||
        (e = tm_at_opt_int(at, a, 9, "pmf", 0, 3, 1, &v)))
        return e;
    if (strlen(ssid) > SSID_MAX) {
        tm_at_reason(at)->arg_index = 1;
        return tm_fail(tm_at_reason(at), TM_E_ARG_RANGE, "argument 1 (ssid) is %zu bytes long, at most %d allowed",
                       strlen(ssid), SSID_MAX);
    }
    if (strlen(pwd) > PWD_MAX) {
        tm_at_reason(at)->arg_index = 2;
        return tm_fail(tm_at_reason(at), TM_E_ARG_RANGE, "argument 2 (pwd) is %zu bytes long, at most %d allowed",
                       strlen(pwd), PWD_MAX);
    }
    if (!ssid[0] && tm_at_omitted(a, 2)) {       /* both omitted: the last configuration */
        if (!W.have_cfg)
            return tm_fail(tm_at_reason(at), TM_E_STATE, "no network configured yet: AT+CWJAP=\"<ssid>\",\"<pwd>\"");
        snprintf(ssid, sizeof ssid, "%s", W.cfg_ssid);
        snprintf(pwd, sizeof pwd, "%s", W.cfg_pwd);
    } else if (!ssid[0]) {
        tm_at_reason(at)->arg_index = 1;
        return tm_fail(tm_at_reason(at), TM_E_ARG_MISSING, "argument 1 (ssid) is missing");
    }
    return join(at, ssid, pwd, bssid);
}

static tm_err cwjap_exec(tm_at *at, const tm_at_args *a)
{
    (void)a;
    tm_err e = need_station(at, "AT+CWJAP");
    if (e)
        return e;
    if (!W.have_cfg)
        return tm_fail(tm_at_reason(at), TM_E_STATE, "no network configured yet: AT+CWJAP=\"<ssid>\",\"<pwd>\"");
    char ssid[SSID_MAX + 1], pwd[PWD_MAX + 1];
    snprintf(ssid, sizeof ssid, "%s", W.cfg_ssid);
    snprintf(pwd, sizeof pwd, "%s", W.cfg_pwd);
    return join(at, ssid, pwd, NULL);
}

/* +CWJAP:<"ssid">,<"bssid">,<channel>,<rssi>,<pci_en>,<reconn_interval>,<listen_interval>,<scan_mode>,<pmf>;
 * "No AP" when not joined. */
static tm_err cwjap_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    if (W.ap < 0) {
        tm_at_line(at, "No AP");
        return TM_OK;
    }
    char b[18];
    ap_bssid(W.ap, b, sizeof b);
    tm_at_line(at, "+CWJAP:\"%s\",\"%s\",%d,%d,0,1,3,0,1", W.aps[W.ap].ssid, b, ap_channel(W.ap), ap_rssi(W.ap));
    return TM_OK;
}

/* ---- AT+CWQAP, AT+CWSTATE?, AT+CWAUTOCONN ------------------------------------------ */

static tm_err cwqap_exec(tm_at *at, const tm_at_args *a)
{
    (void)a;
    W.want = false;
    left(esp_get(at), false, "AT+CWQAP");            /* WIFI DISCONNECT after the OK */
    return TM_OK;
}

static tm_err cwstate_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    const char *ssid = W.ap >= 0 ? W.aps[W.ap].ssid : W.have_cfg ? W.cfg_ssid : "";
    tm_at_line(at, "+CWSTATE:%d,\"%s\"", W.state, ssid);
    return TM_OK;
}

static tm_err autoconn_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    tm_at_line(at, "+CWAUTOCONN:%d", W.autoconn ? 1 : 0);
    return TM_OK;
}

static tm_err autoconn_set(tm_at *at, const tm_at_args *a)
{
    long v;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 1)) || (e = tm_at_get_int(at, a, 1, "enable", 0, 1, &v)) ||
        (e = esp_setting_save(esp_get(at), "autoconn", v ? "1" : "0", true, tm_at_reason(at))))
        return e;
    W.autoconn = v != 0;
    return TM_OK;
}

/* ---- AT+CWLAP, AT+CWLAPOPT ------------------------------------------------------------ */

static void lap_line(tm_at *at, int n)
{
    char b[18], buf[256];
    ap_bssid(n, b, sizeof b);
    size_t o = 0;
    /* ecn, ssid, rssi, mac, channel, freq_offset, freqcal_val, pairwise, group, bgn, wps */
    char f[11][48];
    snprintf(f[0], sizeof f[0], "%d", ap_ecn(n));
    snprintf(f[1], sizeof f[1], "\"%s\"", W.aps[n].ssid);
    snprintf(f[2], sizeof f[2], "%d", ap_rssi(n));
    snprintf(f[3], sizeof f[3], "\"%s\"", b);
    snprintf(f[4], sizeof f[4], "%d", ap_channel(n));
    snprintf(f[5], sizeof f[5], "0");
    snprintf(f[6], sizeof f[6], "0");
    snprintf(f[7], sizeof f[7], "%d", ap_ecn(n) ? 4 : 0);     /* CCMP, or none when open */
    snprintf(f[8], sizeof f[8], "%d", ap_ecn(n) ? 4 : 0);
    snprintf(f[9], sizeof f[9], "7");                        /* 802.11 b/g/n */
    snprintf(f[10], sizeof f[10], "0");
    o += (size_t)snprintf(buf + o, sizeof buf - o, "+CWLAP:(");
    bool first = true;
    for (int i = 0; i < 11; i++) {
        if (!(W.lap_mask & (1 << i)))
            continue;
        o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s", first ? "" : ",", f[i]);
        first = false;
    }
    snprintf(buf + o, sizeof buf - o, ")");
    tm_at_line(at, "%s", buf);
}

static tm_err lap(tm_at *at, const char *ssid, const char *mac, long channel)
{
    tm_err e = need_station(at, "AT+CWLAP");
    if (e)
        return e;
    if (W.lost)
        return TM_OK;           /* nothing in range: an empty list */
    for (int n = 0; n < W.nap; n++) {
        char b[18];
        ap_bssid(n, b, sizeof b);
        if ((ssid[0] && strcmp(ssid, W.aps[n].ssid)) || (mac[0] && strcasecmp(mac, b)) ||
            (channel > 0 && channel != ap_channel(n)) || ap_rssi(n) < W.lap_rssi_min ||
            !(W.lap_auth_mask & (1 << ap_ecn(n))))
            continue;
        lap_line(at, n);
    }
    return TM_OK;
}

static tm_err cwlap_exec(tm_at *at, const tm_at_args *a)
{
    (void)a;
    return lap(at, "", "", 0);
}

/* AT+CWLAP=[<"ssid">][,<"mac">][,<channel>][,<scan_type>][,<scan_time_min>][,<scan_time_max>][,<bitmap>] */
static tm_err cwlap_set(tm_at *at, const tm_at_args *a)
{
    char ssid[SSID_MAX + 1], mac[20];
    long ch, v;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 7)) || (e = tm_at_opt_str(at, a, 1, "ssid", ssid, sizeof ssid, "")) ||
        (e = tm_at_opt_str(at, a, 2, "mac", mac, sizeof mac, "")) ||
        (e = tm_at_opt_int(at, a, 3, "channel", 0, 14, 0, &ch)) ||
        (e = tm_at_opt_int(at, a, 4, "scan_type", 0, 1, 0, &v)) ||
        (e = tm_at_opt_int(at, a, 5, "scan_time_min", 0, 1500, 0, &v)) ||
        (e = tm_at_opt_int(at, a, 6, "scan_time_max", 0, 1500, 0, &v)) ||
        (e = tm_at_opt_int(at, a, 7, "2ghz_channel_bitmap", 0, 0x7fff, 0, &v)))
        return e;
    return lap(at, ssid, mac, ch);
}

/* AT+CWLAPOPT=<reserved (was sort_enable)>,<print mask>[,<rssi filter>][,<authmode mask>] */
static tm_err cwlapopt_set(tm_at *at, const tm_at_args *a)
{
    long sort, mask, rssi, auth;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 4)) || (e = tm_at_get_int(at, a, 1, "reserved", 0, 1, &sort)) ||
        (e = tm_at_get_int(at, a, 2, "print mask", 0, 0x7ff, &mask)) ||
        (e = tm_at_opt_int(at, a, 3, "rssi filter", -100, 40, -100, &rssi)) ||
        (e = tm_at_opt_int(at, a, 4, "authmode mask", 0, 0xffff, 0xffff, &auth)))
        return e;
    W.lap_mask = (int)mask;
    W.lap_rssi_min = (int)rssi;
    W.lap_auth_mask = (int)auth;
    return TM_OK;            /* the list is in signal order already: sorting changes nothing */
}

/* ---- AT+CWDHCP, AT+CIPSTA, AT+CIFSR, AT+CIPSTAMAC --------------------------------------- */

static tm_err cwdhcp_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    tm_at_line(at, "+CWDHCP:%d", W.dhcp);
    return TM_OK;
}

static tm_err cwdhcp_set(tm_at *at, const tm_at_args *a)
{
    esp_state *s = esp_get(at);
    long op, mode;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 2)) || (e = tm_at_get_int(at, a, 1, "operate", 0, 1, &op)) ||
        (e = tm_at_get_int(at, a, 2, "mode", 0, 3, &mode)))
        return e;
    int dhcp = op ? (W.dhcp | (int)mode) : (W.dhcp & ~(int)mode);
    char val[24];
    snprintf(val, sizeof val, "%d", dhcp);
    if ((e = save(s, at, "dhcp", val)))
        return e;
    if ((dhcp & 1) && W.static_ip) {          /* station DHCP on: the static address goes */
        W.static_ip = false;
        if ((e = save(s, at, "sta_ip", NULL)))
            return e;
        if (W.ap >= 0)
            take_address(W.ap);
        else
            W.ip[0] = W.gw[0] = W.mask[0] = '\0';
    }
    W.dhcp = dhcp;
    return TM_OK;
}

static void cipsta_lines(tm_at *at)
{
    bool have = W.ip[0] && (W.ap >= 0 || W.static_ip);
    tm_at_line(at, "+CIPSTA:ip:\"%s\"", have ? W.ip : "0.0.0.0");
    tm_at_line(at, "+CIPSTA:gateway:\"%s\"", have ? W.gw : "0.0.0.0");
    tm_at_line(at, "+CIPSTA:netmask:\"%s\"", have ? W.mask : "0.0.0.0");
}

static tm_err cipsta_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    cipsta_lines(at);
    return TM_OK;
}

static tm_err get_ipv4(tm_at *at, const tm_at_args *a, int idx, const char *name, char *out, size_t cap)
{
    tm_err e = tm_at_get_str(at, a, idx, name, out, cap);
    if (e)
        return e;
    struct in_addr in;
    if (inet_pton(AF_INET, out, &in) != 1) {
        tm_at_reason(at)->arg_index = idx;
        return tm_fail(tm_at_reason(at), TM_E_ARG_BAD, "argument %d (%s) is \"%s\": expected an IPv4 address "
                       "such as 192.168.1.100", idx, name, out);
    }
    return TM_OK;
}

/* AT+CIPSTA=<"ip">[,<"gateway">,<"netmask">]: a static address; station DHCP off. */
static tm_err cipsta_set(tm_at *at, const tm_at_args *a)
{
    esp_state *s = esp_get(at);
    char ip[64], gw[64], mask[64];
    tm_err e;
    if ((e = tm_at_max_args(at, a, 3)) || (e = get_ipv4(at, a, 1, "ip", ip, sizeof ip)))
        return e;
    if (a->count >= 2) {
        if ((e = get_ipv4(at, a, 2, "gateway", gw, sizeof gw)) || (e = get_ipv4(at, a, 3, "netmask", mask, sizeof mask)))
            return e;
    } else {
        /* the gateway .1 of the address's /24 */
        snprintf(gw, sizeof gw, "%.*s1", (int)(strrchr(ip, '.') - ip + 1) & 15, ip);
        snprintf(mask, sizeof mask, "255.255.255.0");
    }
    char val[64];
    snprintf(val, sizeof val, "%.15s,%.15s,%.15s", ip, gw, mask);
    char dh[8];
    snprintf(dh, sizeof dh, "%d", W.dhcp & 2);
    if ((e = save(s, at, "sta_ip", val)) || (e = save(s, at, "dhcp", dh)))
        return e;
    W.static_ip = true;
    W.dhcp &= ~1;
    snprintf(W.ip, sizeof W.ip, "%.15s", ip);
    snprintf(W.gw, sizeof W.gw, "%.15s", gw);
    snprintf(W.mask, sizeof W.mask, "%.15s", mask);
    tm_trace("esp", "Wi-Fi: static station address %s gateway %s netmask %s (links still use the host's network)",
             ip, gw, mask);
    return TM_OK;
}

static void ap_mac(char *buf, size_t cap)
{
    /* the softAP's MAC is the station's + 1, as on the chip */
    unsigned b[6] = { 0 };
    sscanf(W.mac, "%2x:%2x:%2x:%2x:%2x:%2x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]);
    snprintf(buf, cap, "%02x:%02x:%02x:%02x:%02x:%02x", b[0] & 0xffu, b[1] & 0xffu, b[2] & 0xffu, b[3] & 0xffu,
             b[4] & 0xffu, (b[5] + 1) & 0xffu);
}

static tm_err cifsr_exec(tm_at *at, const tm_at_args *a)
{
    (void)a;
    if (W.mode == 2 || W.mode == 3) {
        char m[18];
        ap_mac(m, sizeof m);
        tm_at_line(at, "+CIFSR:APIP,\"192.168.4.1\"");
        tm_at_line(at, "+CIFSR:APMAC,\"%s\"", m);
    }
    if (station_on()) {
        char ip[16];
        esp_wifi_local_ip(esp_get(at), ip, sizeof ip);
        tm_at_line(at, "+CIFSR:STAIP,\"%s\"", W.static_ip && W.ip[0] ? W.ip : ip);
        tm_at_line(at, "+CIFSR:STAMAC,\"%s\"", W.mac);
    }
    return TM_OK;
}

static tm_err stamac_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    tm_at_line(at, "+CIPSTAMAC:\"%s\"", W.mac);
    return TM_OK;
}

static tm_err stamac_set(tm_at *at, const tm_at_args *a)
{
    char mac[32];
    unsigned b[6];
    int used = 0;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 1)) || (e = tm_at_get_str(at, a, 1, "mac", mac, sizeof mac)))
        return e;
    if (sscanf(mac, "%2x:%2x:%2x:%2x:%2x:%2x%n", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &used) != 6 ||
        (size_t)used != strlen(mac) || strlen(mac) != 17) {
        tm_at_reason(at)->arg_index = 1;
        return tm_fail(tm_at_reason(at), TM_E_ARG_BAD, "argument 1 (mac) is \"%s\": expected xx:xx:xx:xx:xx:xx", mac);
    }
    bool zero = !(b[0] | b[1] | b[2] | b[3] | b[4] | b[5]);
    bool ones = (b[0] & b[1] & b[2] & b[3] & b[4] & b[5]) == 0xff;
    if ((b[0] & 1) || zero || ones) {
        tm_at_reason(at)->arg_index = 1;
        return tm_fail(tm_at_reason(at), TM_E_ARG_BAD, "argument 1 (mac) is %s: a station MAC must not be "
                       "multicast (bit 0 of the first byte set), all zero or all ff", mac);
    }
    char norm[24];
    snprintf(norm, sizeof norm, "%02x:%02x:%02x:%02x:%02x:%02x", b[0] & 0xffu, b[1] & 0xffu, b[2] & 0xffu,
             b[3] & 0xffu, b[4] & 0xffu, b[5] & 0xffu);
    if ((e = save(esp_get(at), at, "sta_mac", norm)))
        return e;
    snprintf(W.mac, sizeof W.mac, "%.17s", norm);
    return TM_OK;
}

/* ---- AT+CWHOSTNAME, AT+CWCOUNTRY (not saved, as the firmware) ---------------------------- */

static tm_err hostname_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    tm_at_line(at, "+CWHOSTNAME:%s", W.hostname);
    return TM_OK;
}

static tm_err hostname_set(tm_at *at, const tm_at_args *a)
{
    char name[SSID_MAX + 1];
    tm_err e;
    if ((e = tm_at_max_args(at, a, 1)) || (e = need_station(at, "AT+CWHOSTNAME")) ||
        (e = tm_at_get_str(at, a, 1, "hostname", name, sizeof name)))
        return e;
    snprintf(W.hostname, sizeof W.hostname, "%s", name);
    return TM_OK;
}

static tm_err country_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    tm_at_line(at, "+CWCOUNTRY:%d,\"%s\",%d,%d", W.country_policy, W.country, W.country_start, W.country_count);
    return TM_OK;
}

static tm_err country_set(tm_at *at, const tm_at_args *a)
{
    long pol, start, count;
    char cc[8];
    tm_err e;
    if ((e = tm_at_max_args(at, a, 4)) || (e = tm_at_get_int(at, a, 1, "country_policy", 0, 1, &pol)) ||
        (e = tm_at_get_str(at, a, 2, "country_code", cc, 4)) ||
        (e = tm_at_get_int(at, a, 3, "start_channel", 1, 14, &start)) ||
        (e = tm_at_get_int(at, a, 4, "total_channel_count", 1, 14, &count)))
        return e;
    if (start + count - 1 > 14) {
        tm_at_reason(at)->arg_index = 4;
        return tm_fail(tm_at_reason(at), TM_E_ARG_RANGE, "channels %ld to %ld: the last channel is 14", start,
                       start + count - 1);
    }
    W.country_policy = (int)pol;
    snprintf(W.country, sizeof W.country, "%.3s", cc);
    W.country_start = (int)start;
    W.country_count = (int)count;
    return TM_OK;
}

const tm_at_cmd esp_wifi_table[] = {
    /* name          test  read           set            exec         usage */
    { "+CWMODE",     NULL, cwmode_read,   cwmode_set,    NULL,        NULL },
    { "+CWSTATE",    NULL, cwstate_read,  NULL,          NULL,        NULL },
    { "+CWJAP",      NULL, cwjap_read,    cwjap_set,     cwjap_exec,  NULL },
    { "+CWLAPOPT",   NULL, NULL,          cwlapopt_set,  NULL,        NULL },
    { "+CWLAP",      NULL, NULL,          cwlap_set,     cwlap_exec,  NULL },
    { "+CWQAP",      NULL, NULL,          NULL,          cwqap_exec,  NULL },
    { "+CWDHCP",     NULL, cwdhcp_read,   cwdhcp_set,    NULL,        NULL },
    { "+CWAUTOCONN", NULL, autoconn_read, autoconn_set,  NULL,        NULL },
    { "+CIPSTAMAC",  NULL, stamac_read,   stamac_set,    NULL,        NULL },
    { "+CIPSTA",     NULL, cipsta_read,   cipsta_set,    NULL,        NULL },
    { "+CIFSR",      NULL, NULL,          NULL,          cifsr_exec,  NULL },
    { "+CWHOSTNAME", NULL, hostname_read, hostname_set,  NULL,        NULL },
    { "+CWCOUNTRY",  NULL, country_read,  country_set,   NULL,        NULL },
    { NULL, NULL, NULL, NULL, NULL, NULL },
};

/* ---- life cycle ----------------------------------------------------------------------- */

/* Power-on / AT+RST (esp.c): the saved settings read back, the network
 * conditions (coverage, reject, signal: the network's, not the module's)
 * kept, then the auto-join of the saved network. */
void esp_wifi_start(esp_state *s)
{
    char val[80];
    load_aps(s->modem);
    W.ap = -1;
    W.got_ip = false;
    W.want = false;
    W.state = ST_NEVER;
    W.mode = 1;
    if (esp_setting_get(s, "cwmode", val, sizeof val) && val[0] >= '0' && val[0] <= '3' && !val[1])
        W.mode = val[0] - '0';
    W.autoconn = !(esp_setting_get(s, "autoconn", val, sizeof val) && strcmp(val, "0") == 0);
    W.dhcp = 3;
    if (esp_setting_get(s, "dhcp", val, sizeof val))
        W.dhcp = atoi(val) & 3;
    W.static_ip = false;
    W.ip[0] = W.gw[0] = W.mask[0] = '\0';
    if (esp_setting_get(s, "sta_ip", val, sizeof val)) {
        char ip[16], gw[16], mask[16];
        if (sscanf(val, "%15[0-9.],%15[0-9.],%15[0-9.]", ip, gw, mask) == 3) {
            W.static_ip = true;
            memcpy(W.ip, ip, sizeof ip);
            memcpy(W.gw, gw, sizeof gw);
            memcpy(W.mask, mask, sizeof mask);
        }
    }
    snprintf(W.mac, sizeof W.mac, "%s", s->chip == ESP_CHIP_ESP8266 ? "5c:cf:7f:74:6d:01" : "24:0a:c4:74:6d:01");
    if (esp_setting_get(s, "sta_mac", val, sizeof val) && strlen(val) == 17)
        snprintf(W.mac, sizeof W.mac, "%.17s", val);
    snprintf(W.hostname, sizeof W.hostname, "espressif");
    snprintf(W.country, sizeof W.country, "CN");
    W.country_policy = 0;
    W.country_start = 1;
    W.country_count = 13;
    W.lap_mask = 0x7ff;
    W.lap_rssi_min = -100;
    W.lap_auth_mask = 0xffff;
    W.have_cfg = esp_setting_get(s, "jap_ssid", W.cfg_ssid, sizeof W.cfg_ssid) && W.cfg_ssid[0];
    if (!W.have_cfg || !esp_setting_get(s, "jap_pwd", W.cfg_pwd, sizeof W.cfg_pwd))
        W.cfg_pwd[0] = '\0';
    if (W.have_cfg && W.autoconn) {
        W.want = true;
        auto_join(s, "power-on auto-connect (AT+CWAUTOCONN=1, saved network)");
    }
}

/* Volatile state gone (esp.c before a restart): no messages, the links
 * close silently with the rest. */
void esp_wifi_reset(esp_state *s)
{
    (void)s;
    if (W.join_timer) {           /* a restart in the middle of AT+CWJAP (never while it runs today) */
        tm_port_timer_cancel(W.join_timer);
        W.join_timer = 0;
    }
    W.ap = -1;
    W.got_ip = false;
}
