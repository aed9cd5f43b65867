/* tlsmodem — ESP-AT dialect: the basic commands (AT, ATE, AT+RST, AT+GMR,
 * AT+CMD?, AT+RESTORE, AT+GSLP, AT+SLEEP, AT+SYSRAM, AT+SYSMSG, AT+SYSLOG,
 * AT+SYSSTORE, AT+UART_CUR/DEF) and the module clock (AT+SYSTIMESTAMP,
 * AT+CIPSNTPCFG, AT+CIPSNTPTIME?).  docs/esp.md §1 lists every answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/trace.h"
#include "dialect/esp/esp.h"
#include "port/port.h"

/* ---- AT+GMR ----------------------------------------------------------------
 * The four lines of a released firmware for the chip (ESP-AT's own format,
 * "AT version:%d.%d.%d.%d(<commit> - <chip> - <build date>)"): host stacks
 * read the version between ':' and '(' (WiFiEspAT wants >= 1.7, not 2.0;
 * lwesp checks the chip name in the parentheses). */
static const char *const GMR_ESP32[] = {
    "AT version:4.1.1.0(ba4dd0e - ESP32 - Jul 31 2025 08:38:07)",
    "SDK version:v5.4.1-643-g8ad0d3d8f2",
    "compile time(7c092f9a):Aug  1 2025 05:35:19",
    "Bin version:v4.1.1.0(WROOM-32)",
};
static const char *const GMR_ESP8266[] = {
    "AT version:2.2.1.0(46d6c26 - ESP8266 - Aug  6 2021 06:50:15)",
    "SDK version:v3.4-22-g967752e2",
    "compile time(6800286):Aug  4 2021 17:20:05",
    "Bin version:2.2.1(WROOM-02)",
};

/* Volatile basics (one modem per process). */
static int     g_sleep;                    /* AT+SLEEP */
static long    g_uart_cur[5];              /* AT+UART_CUR */
static long    g_uart_def[5];              /* AT+UART_DEF (saved) */
static int64_t g_boot_ms;                  /* wall ms at the last boot: "1970 + uptime" */
/* AT+CIPSNTPCFG */
static bool    g_sntp_on;
static int     g_tz_min;                   /* minutes east of UTC */
static int     g_tz_shown;                 /* the <timezone> the query prints */
static char    g_sntp_srv[3][65];
static bool    g_sntp_pending;             /* enabled without an IP: sync at WIFI GOT IP */

static const long UART_DEFAULT[5] = { 115200, 8, 1, 0, 0 };

static tm_err no_args(tm_at *at, const tm_at_args *a)
{
    return tm_at_max_args(at, a, 0);
}

/* ---- ATE ------------------------------------------------------------------ */

static tm_err e_set(tm_at *at, const tm_at_args *a)
{
    long on;
    tm_err e = tm_at_get_int(at, a, 1, "echo", 0, 1, &on);
    if (e)
        return e;
    tm_at_set_echo(at, on != 0);
    return TM_OK;
}

static tm_err e_exec(tm_at *at, const tm_at_args *a)
{
    (void)a;
    return tm_fail(tm_at_reason(at), TM_E_ARG_MISSING, "ATE needs 0 (echo off) or 1 (echo on): ATE0, ATE1");
}

/* ---- AT+RST, AT+RESTORE, AT+GSLP ------------------------------------------- */

static tm_err rst_exec(tm_at *at, const tm_at_args *a)
{
    (void)a;
    tm_trace("esp", "AT+RST: restart (links closed, volatile settings lost, saved settings kept)");
    esp_reboot(at);              /* "ready" and the auto-join are queued behind this OK */
    return TM_OK;
}

/* AT+RESTORE erases the parameters saved in flash (the NVS namespace: every
 * setting of esp/settings) and restarts.  Certificates written with
 * AT+SYSMFG live in the manufacturing partition, which RESTORE does not
 * touch: they stay (docs/esp.md §10). */
static tm_err restore_exec(tm_at *at, const tm_at_args *a)
{
    (void)a;
    esp_state *s = esp_get(at);
    tm_err e = tm_store_del(&s->modem->store, "esp/settings", tm_at_reason(at));
    if (e && e != TM_E_NOT_FOUND)
        return e;
    tm_trace("esp", "AT+RESTORE: saved settings erased (esp/settings); certificates (AT+SYSMFG) kept; restart");
    memcpy(g_uart_def, UART_DEFAULT, sizeof g_uart_def);
    esp_reboot(at);
    return TM_OK;
}

static tm_err gslp_set(tm_at *at, const tm_at_args *a)
{
    long ms;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 1)) || (e = tm_at_get_int(at, a, 1, "time", 0, 2147483647L, &ms)))
        return e;
    tm_at_line(at, "%ld", ms);
    tm_trace("esp", "AT+GSLP=%ld: deep sleep not simulated: the module restarts at once", ms);
    esp_reboot(at);
    return TM_OK;
}

/* ---- AT+SLEEP, AT+SYSRAM ------------------------------------------------------ */

static tm_err sleep_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    tm_at_line(at, "+SLEEP:%d", g_sleep);
    return TM_OK;
}

static tm_err sleep_set(tm_at *at, const tm_at_args *a)
{
    long v;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 1)) || (e = tm_at_get_int(at, a, 1, "sleep mode", 0, 3, &v)))
        return e;
    g_sleep = (int)v;
    tm_trace("esp", "AT+SLEEP=%ld: accepted (no power saving is simulated; the module always answers)", v);
    return TM_OK;
}

static tm_err sysram_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    esp_state *s = esp_get(at);
    /* what a freshly booted firmware reports; nothing here is allocated that way */
    if (s->chip == ESP_CHIP_ESP8266)
        tm_at_line(at, "+SYSRAM:52312,48632");
    else
        tm_at_line(at, "+SYSRAM:164440,158236");
    return TM_OK;
}

/* ---- AT+SYSMSG, AT+SYSLOG, AT+SYSSTORE ------------------------------------------ */

static tm_err sysmsg_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    tm_at_line(at, "+SYSMSG:%d", esp_get(at)->sysmsg);
    return TM_OK;
}

static tm_err sysmsg_set(tm_at *at, const tm_at_args *a)
{
    esp_state *s = esp_get(at);
    long v;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 1)) || (e = tm_at_get_int(at, a, 1, "state", 0, 7, &v)))
        return e;
    char val[8];
    snprintf(val, sizeof val, "%ld", v);
    if ((e = esp_setting_save(s, "sysmsg", val, false, tm_at_reason(at))))
        return e;
    s->sysmsg = (int)v;
    return TM_OK;
}

static tm_err syslog_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    tm_at_line(at, "+SYSLOG:%d", esp_get(at)->syslog);
    return TM_OK;
}

/* 0, 1 as the firmware; 2 = tlsmodem's "ERR REASON:" line as well. */
static tm_err syslog_set(tm_at *at, const tm_at_args *a)
{
    long v;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 1)) || (e = tm_at_get_int(at, a, 1, "status", 0, 2, &v)))
        return e;
    esp_get(at)->syslog = (int)v;
    return TM_OK;
}

static tm_err sysstore_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    tm_at_line(at, "+SYSSTORE:%d", esp_get(at)->sysstore ? 1 : 0);
    return TM_OK;
}

static tm_err sysstore_set(tm_at *at, const tm_at_args *a)
{
    long v;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 1)) || (e = tm_at_get_int(at, a, 1, "store_mode", 0, 1, &v)))
        return e;
    esp_get(at)->sysstore = v != 0;
    return TM_OK;
}

/* ---- AT+UART_CUR, AT+UART_DEF ---------------------------------------------------
 * Accepted and reported; the port's line speed does not change (a pty or TCP
 * host has none; --serial keeps --baud: docs/esp.md §10). */

static tm_err uart_parse(tm_at *at, const tm_at_args *a, long out[5])
{
    esp_state *s = esp_get(at);
    long hi = s->chip == ESP_CHIP_ESP8266 ? 4608000 : 5000000;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 5)) || (e = tm_at_get_int(at, a, 1, "baudrate", 80, hi, &out[0])) ||
        (e = tm_at_get_int(at, a, 2, "databits", 5, 8, &out[1])) ||
        (e = tm_at_get_int(at, a, 3, "stopbits", 1, 3, &out[2])) ||
        (e = tm_at_get_int(at, a, 4, "parity", 0, 2, &out[3])) ||
        (e = tm_at_get_int(at, a, 5, "flow control", 0, 3, &out[4])))
        return e;
    return TM_OK;
}

static void uart_line(tm_at *at, const char *name, const long v[5])
{
    tm_at_line(at, "+%s:%ld,%ld,%ld,%ld,%ld", name, v[0], v[1], v[2], v[3], v[4]);
}

static tm_err uart_cur_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    uart_line(at, "UART_CUR", g_uart_cur);
    return TM_OK;
}

static tm_err uart_cur_set(tm_at *at, const tm_at_args *a)
{
    long v[5];
    tm_err e = uart_parse(at, a, v);
    if (e)
        return e;
    memcpy(g_uart_cur, v, sizeof v);
    tm_trace("esp", "AT+UART_CUR=%ld,%ld,%ld,%ld,%ld: accepted (the host link's speed is not changed)",
             v[0], v[1], v[2], v[3], v[4]);
    return TM_OK;
}

static tm_err uart_def_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    uart_line(at, "UART_DEF", g_uart_def);
    return TM_OK;
}

static tm_err uart_def_set(tm_at *at, const tm_at_args *a)
{
    long v[5];
    tm_err e = uart_parse(at, a, v);
    if (e)
        return e;
    char val[64];
    snprintf(val, sizeof val, "%ld,%ld,%ld,%ld,%ld", v[0], v[1], v[2], v[3], v[4]);
    if ((e = esp_setting_save(esp_get(at), "uart_def", val, true, tm_at_reason(at))))
        return e;
    memcpy(g_uart_def, v, sizeof v);
    memcpy(g_uart_cur, v, sizeof v);
    return TM_OK;
}

/* ---- AT+CMD? ------------------------------------------------------------------
 * Every row of every table of the dialect, in table order, with the forms
 * it answers (a test form given by a usage text counts). */
static tm_err cmd_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    const tm_at_dialect *d = tm_at_get_dialect(at);
    int i = 0;
    tm_at_spool(at);
    tm_at_line(at, "+CMD:%d,\"AT\",0,0,0,1", i++);
    for (const tm_at_cmd *const *t = d->tables; *t; t++)
        for (const tm_at_cmd *r = *t; r->name; r++)
            tm_at_line(at, "+CMD:%d,\"AT%s\",%d,%d,%d,%d", i++, r->name, r->test || r->usage ? 1 : 0,
                       r->read ? 1 : 0, r->set ? 1 : 0, r->exec ? 1 : 0);
    return tm_at_spool_end(at, TM_OK);
}

/* ---- the module clock ---------------------------------------------------------- */

/* Seconds since 1970 as the module sees them: the module clock (host, or
 * set), or, with --clock unset and nothing set since, 1970 plus the time
 * since boot (a chip without SNTP). */
static int64_t module_now(esp_state *s)
{
    if (s->modem->clock_mode == TM_CLOCK_UNSET)
        return (tm_port_wall_ms() - g_boot_ms) / 1000;
    return tm_modem_now(s->modem);
}

static tm_err systimestamp_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    tm_at_line(at, "+SYSTIMESTAMP:%lld", (long long)module_now(esp_get(at)));
    return TM_OK;
}

static tm_err systimestamp_set(tm_at *at, const tm_at_args *a)
{
    long v;
    tm_err e;
    if ((e = tm_at_max_args(at, a, 1)) || (e = tm_at_get_int(at, a, 1, "Unix_timestamp", 0, 0x7fffffffL, &v)))
        return e;
    tm_modem_set_clock(esp_modem(at), v);
    tm_trace("esp", "AT+SYSTIMESTAMP=%ld: module clock set (certificate dates are checked against it)", v);
    return TM_OK;
}

/* SNTP "synchronises": the module clock follows the host's true time again
 * (a clock set by hand or by the control channel is corrected, as a real
 * SNTP update would), then +TIME_UPDATED. */
static void sntp_sync(esp_state *s)
{
    g_sntp_pending = false;
    if (s->modem->clock_mode != TM_CLOCK_HOST)
        tm_trace("esp", "SNTP: module clock follows the host clock again (was %s)",
                 s->modem->clock_mode == TM_CLOCK_UNSET ? "unset" : "set");
    s->modem->clock_mode = TM_CLOCK_HOST;
    s->modem->clock_offset_ms = 0;
    tm_at_urc(s->modem->at, "+TIME_UPDATED");
}

void esp_sntp_got_ip(esp_state *s)
{
    if (g_sntp_on && g_sntp_pending)
        sntp_sync(s);
}

static tm_err sntpcfg_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    if (!g_sntp_on) {
        tm_at_line(at, "+CIPSNTPCFG:0,%d", g_tz_shown);
        return TM_OK;
    }
    char buf[256];
    size_t n = (size_t)snprintf(buf, sizeof buf, "+CIPSNTPCFG:1,%d", g_tz_shown);
    for (int i = 0; i < 3 && n < sizeof buf; i++)
        if (g_sntp_srv[i][0])
            n += (size_t)snprintf(buf + n, sizeof buf - n, ",\"%s\"", g_sntp_srv[i]);
    tm_at_line(at, "%s", buf);
    return TM_OK;
}

/* <timezone>: whole hours -12..14, or [+|-][hh]mm (hh -12..14, mm 0..59). */
static tm_err tz_parse(tm_at *at, long v, int *minutes, int *shown)
{
    if (v >= -12 && v <= 14) {
        *minutes = (int)v * 60;
        *shown = (int)v;
        return TM_OK;
    }
    long hh = v / 100, mm = (v < 0 ? -v : v) % 100;
    if (hh < -12 || hh > 14 || mm > 59) {
        tm_at_reason(at)->arg_index = 2;
        return tm_fail(tm_at_reason(at), TM_E_ARG_RANGE, "argument 2 (timezone) is %ld: expected whole hours "
                       "-12 to 14, or [+|-]hhmm with hh -12 to 14 and mm 0 to 59 (e.g. 530, -1245)", v);
    }
    *minutes = (int)(hh * 60 + (v < 0 ? -mm : mm));
    *shown = mm ? (int)v : (int)hh;
    return TM_OK;
}

static tm_err sntpcfg_set(tm_at *at, const tm_at_args *a)
{
    esp_state *s = esp_get(at);
    long en, tz;
    char srv[3][65];
    tm_err e;
    int minutes = g_tz_min, shown = g_tz_shown;
    if ((e = tm_at_max_args(at, a, 5)) || (e = tm_at_get_int(at, a, 1, "enable", 0, 1, &en)) ||
        (e = tm_at_opt_int(at, a, 2, "timezone", -1400, 1400, 0, &tz)))
        return e;
    if (!tm_at_omitted(a, 2) && (e = tz_parse(at, tz, &minutes, &shown)))
        return e;
    static const char *const names[] = { "SNTP server1", "SNTP server2", "SNTP server3" };
    for (int i = 0; i < 3; i++)
        if ((e = tm_at_opt_str(at, a, 3 + i, names[i], srv[i], sizeof srv[i], "")))
            return e;
    g_sntp_on = en != 0;
    g_tz_min = minutes;
    g_tz_shown = shown;
    bool any = srv[0][0] || srv[1][0] || srv[2][0];
    static const char *const dflt[] = { "cn.ntp.org.cn", "ntp.sjtu.edu.cn", "us.pool.ntp.org" };
    for (int i = 0; i < 3; i++)
        snprintf(g_sntp_srv[i], sizeof g_sntp_srv[i], "%.64s", any ? srv[i] : dflt[i]);
    if (!g_sntp_on) {
        g_sntp_pending = false;
        return TM_OK;
    }
    /* No time servers are asked: the host machine's clock is the true time. */
    if (esp_wifi_has_ip(s)) {
        sntp_sync(s);                      /* +TIME_UPDATED queued behind the OK */
    } else {
        g_sntp_pending = true;
        tm_trace("esp", "SNTP enabled without an IP address: the time is updated at WIFI GOT IP");
    }
    return TM_OK;
}

static tm_err sntptime_read(tm_at *at, const tm_at_args *a)
{
    (void)a;
    time_t t = (time_t)(module_now(esp_get(at)) + (int64_t)g_tz_min * 60);
    struct tm tmv;
    char buf[64];
    gmtime_r(&t, &tmv);
    strftime(buf, sizeof buf, "%a %b %e %H:%M:%S %Y", &tmv);    /* asctime's layout */
    tm_at_line(at, "+CIPSNTPTIME:%s", buf);
    return TM_OK;
}

/* ---- AT+GMR ------------------------------------------------------------------ */

static tm_err gmr_exec(tm_at *at, const tm_at_args *a)
{
    tm_err e = no_args(at, a);
    if (e)
        return e;
    const char *const *v = esp_get(at)->chip == ESP_CHIP_ESP8266 ? GMR_ESP8266 : GMR_ESP32;
    for (int i = 0; i < 4; i++)
        tm_at_line(at, "%s", v[i]);
    return TM_OK;
}

const tm_at_cmd esp_basic_table[] = {
    /* name            test  read               set               exec          usage */
    { "E",             NULL, NULL,              e_set,            e_exec,       NULL },
    { "+RST",          NULL, NULL,              NULL,             rst_exec,     NULL },
    { "+GMR",          NULL, NULL,              NULL,             gmr_exec,     NULL },
    { "+CMD",          NULL, cmd_read,          NULL,             NULL,         NULL },
    { "+GSLP",         NULL, NULL,              gslp_set,         NULL,         NULL },
    { "+RESTORE",      NULL, NULL,              NULL,             restore_exec, NULL },
    { "+UART_CUR",     NULL, uart_cur_read,     uart_cur_set,     NULL,         NULL },
    { "+UART_DEF",     NULL, uart_def_read,     uart_def_set,     NULL,         NULL },
    { "+SLEEP",        NULL, sleep_read,        sleep_set,        NULL,         NULL },
    { "+SYSRAM",       NULL, sysram_read,       NULL,             NULL,         NULL },
    { "+SYSMSG",       NULL, sysmsg_read,       sysmsg_set,       NULL,         NULL },
    { "+SYSTIMESTAMP", NULL, systimestamp_read, systimestamp_set, NULL,         NULL },
    { "+SYSLOG",       NULL, syslog_read,       syslog_set,       NULL,         NULL },
    { "+SYSSTORE",     NULL, sysstore_read,     sysstore_set,     NULL,         NULL },
    { "+CIPSNTPCFG",   NULL, sntpcfg_read,      sntpcfg_set,      NULL,         NULL },
    { "+CIPSNTPTIME",  NULL, sntptime_read,     NULL,             NULL,         NULL },
    { NULL, NULL, NULL, NULL, NULL, NULL },
};

static void parse_uart(const char *text, long out[5])
{
    long v[5];
    if (sscanf(text, "%ld,%ld,%ld,%ld,%ld", &v[0], &v[1], &v[2], &v[3], &v[4]) == 5)
        memcpy(out, v, sizeof v);
}

/* At boot (esp.c, also after AT+RST): the volatile basics to their defaults,
 * the saved ones (AT+SYSMSG, AT+UART_DEF) read back. */
void esp_basic_start(esp_state *s)
{
    char val[64];
    g_boot_ms = tm_port_wall_ms();
    g_sleep = 1;                                     /* modem sleep, the firmware's power-on mode */
    memcpy(g_uart_def, UART_DEFAULT, sizeof g_uart_def);
    if (esp_setting_get(s, "uart_def", val, sizeof val))
        parse_uart(val, g_uart_def);
    memcpy(g_uart_cur, g_uart_def, sizeof g_uart_cur);
    s->sysmsg = 0;
    if (esp_setting_get(s, "sysmsg", val, sizeof val))
        s->sysmsg = atoi(val) & 7;
    g_sntp_on = false;
    g_sntp_pending = false;
    g_tz_min = g_tz_shown = 0;
    memset(g_sntp_srv, 0, sizeof g_sntp_srv);
}
