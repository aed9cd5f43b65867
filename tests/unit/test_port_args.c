/* Command line of the Linux binary (DESIGN.md §2) and the module clock. */
#include "tm_test.h"
#include "core/modem.h"
#include "port/port.h"
#include "port/posix/args.h"

#define PARSE(res, ...) do { \
    char *argv_[] = { "tlsmodem", __VA_ARGS__, NULL }; \
    res = tm_args_parse((int)(sizeof argv_ / sizeof argv_[0]) - 1, argv_, &a, err, sizeof err); \
} while (0)

static void test_defaults(void)
{
    tm_args a;
    char err[256];
    char *argv[] = { "tlsmodem", NULL };
    TM_EQ_INT(tm_args_parse(1, argv, &a, err, sizeof err), TM_ARGS_RUN);
    TM_EQ_STR(a.dialect, "hl");
    TM_EQ_INT(a.host, TM_HOST_STDIO);
    TM_EQ_STR(a.ca_bundle, TM_DEFAULT_CA_BUNDLE);
    TM_CHECK(a.store == NULL);
    TM_CHECK(a.trace == NULL);
    TM_EQ_INT(a.resolve_count, 0);
    TM_CHECK(!a.clock_unset);
    TM_EQ_INT(a.baud, 115200);
}

static void test_full(void)
{
    tm_args a;
    char err[256];
    tm_args_result r;
    PARSE(r, "--dialect", "spwf", "--pty", "/tmp/x", "--store=/tmp/s", "--ca-bundle", "none",
          "--resolve", "a.test:443:127.0.0.1", "--resolve", "b.test:443:[::1]",
          "--trace", "-", "--clock", "unset");
    TM_EQ_INT(r, TM_ARGS_RUN);
    TM_EQ_STR(a.dialect, "spwf");
    TM_EQ_INT(a.host, TM_HOST_PTY);
    TM_EQ_STR(a.host_arg, "/tmp/x");
    TM_EQ_STR(a.store, "/tmp/s");
    TM_EQ_STR(a.ca_bundle, "");
    TM_EQ_INT(a.resolve_count, 2);
    TM_EQ_STR(a.resolve[1], "b.test:443:[::1]");
    TM_EQ_STR(a.trace, "-");
    TM_CHECK(a.clock_unset);

    PARSE(r, "--serial", "/dev/ttyUSB0", "--baud", "921600");
    TM_EQ_INT(r, TM_ARGS_RUN);
    TM_EQ_INT(a.host, TM_HOST_SERIAL);
    TM_EQ_INT(a.baud, 921600);

    PARSE(r, "--listen", "127.0.0.1:7000");
    TM_EQ_INT(r, TM_ARGS_RUN);
    TM_EQ_INT(a.host, TM_HOST_LISTEN);

    PARSE(r, "--help");
    TM_EQ_INT(r, TM_ARGS_HELP);
    PARSE(r, "--version");
    TM_EQ_INT(r, TM_ARGS_VERSION);
}

static void test_errors(void)
{
    tm_args a;
    char err[256];
    tm_args_result r;
    PARSE(r, "--dialect", "xx");
    TM_EQ_INT(r, TM_ARGS_ERROR);
    TM_CHECK(strstr(err, "xx") != NULL);
    PARSE(r, "--bogus");
    TM_EQ_INT(r, TM_ARGS_ERROR);
    TM_CHECK_MSG(strstr(err, "--bogus") != NULL, "%s", err);
    PARSE(r, "--pty");
    TM_EQ_INT(r, TM_ARGS_ERROR);
    TM_CHECK_MSG(strstr(err, "--pty") && strstr(err, "argument"), "%s", err);
    PARSE(r, "--pty", "/tmp/a", "--listen", "1.2.3.4:5");
    TM_EQ_INT(r, TM_ARGS_ERROR);
    PARSE(r, "--serial", "/dev/ttyS0", "--baud", "12345");
    TM_EQ_INT(r, TM_ARGS_ERROR);
    TM_CHECK(strstr(err, "12345") != NULL);
    PARSE(r, "--serial", "/dev/ttyS0", "--baud", "fast");
    TM_EQ_INT(r, TM_ARGS_ERROR);
    PARSE(r, "--baud", "9600");
    TM_EQ_INT(r, TM_ARGS_ERROR);
    PARSE(r, "--listen", "7000");
    TM_EQ_INT(r, TM_ARGS_ERROR);
    PARSE(r, "--listen", "::1:7000");
    TM_EQ_INT(r, TM_ARGS_ERROR);
    PARSE(r, "--clock", "later");
    TM_EQ_INT(r, TM_ARGS_ERROR);
    PARSE(r, "stray");
    TM_EQ_INT(r, TM_ARGS_ERROR);
    TM_CHECK(strstr(err, "stray") != NULL);
    PARSE(r, "--timeout-idle", "-5");
    TM_EQ_INT(r, TM_ARGS_ERROR);
    TM_CHECK_MSG(strstr(err, "--timeout-idle \"-5\"") && strstr(err, "milliseconds"), "%s", err);
    PARSE(r, "--timeout-connect", "1s");
    TM_EQ_INT(r, TM_ARGS_ERROR);
    TM_CHECK_MSG(strstr(err, "--timeout-connect"), "%s", err);
    PARSE(r, "--timeout-response");
    TM_EQ_INT(r, TM_ARGS_ERROR);
}

static void test_timeouts(void)
{
    tm_args a;
    char err[256];
    tm_args_result r;
    PARSE(r, "--stdio");
    TM_EQ_INT(r, TM_ARGS_RUN);
    TM_EQ_INT(a.timeout_connect, -1);
    TM_EQ_INT(a.timeout_idle, -1);
    PARSE(r, "--timeout-connect", "1500", "--timeout-dns=200", "--timeout-response", "0", "--timeout-idle", "750");
    TM_EQ_INT(r, TM_ARGS_RUN);
    TM_EQ_INT(a.timeout_connect, 1500);
    TM_EQ_INT(a.timeout_dns, 200);
    TM_EQ_INT(a.timeout_response, 0);
    TM_EQ_INT(a.timeout_idle, 750);
}

static void test_identity_options(void)
{
    tm_args a;
    char err[256];
    tm_args_result r;
    PARSE(r, "--model", "hl7800", "--imei", "490154203237518", "--iccid", "8944500102198304826",
          "--imsi", "001010000000001");
    TM_EQ_INT(r, TM_ARGS_RUN);
    TM_EQ_STR(a.model, "hl7800");
    TM_EQ_STR(a.imei, "490154203237518");
    TM_EQ_STR(a.iccid, "8944500102198304826");
    TM_EQ_STR(a.imsi, "001010000000001");
    PARSE(r, "--imei", "12345");
    TM_EQ_INT(r, TM_ARGS_ERROR);
    TM_CHECK_MSG(strstr(err, "--imei") && strstr(err, "15 digits"), "%s", err);
    PARSE(r, "--iccid", "89445001021983048x6");
    TM_EQ_INT(r, TM_ARGS_ERROR);
    TM_CHECK_MSG(strstr(err, "19 or 20 digits"), "%s", err);
    PARSE(r, "--imsi", "1234567890123456");
    TM_EQ_INT(r, TM_ARGS_ERROR);
    PARSE(r, "--model", "");
    TM_EQ_INT(r, TM_ARGS_ERROR);
    /* the name itself is checked by main against the dialect's list */
    PARSE(r, "--model", "hl9999");
    TM_EQ_INT(r, TM_ARGS_RUN);
}

static void test_hostport(void)
{
    char h[64], p[16];
    TM_CHECK(tm_args_split_hostport("127.0.0.1:7000", h, sizeof h, p, sizeof p));
    TM_EQ_STR(h, "127.0.0.1");
    TM_EQ_STR(p, "7000");
    TM_CHECK(tm_args_split_hostport("[::1]:0", h, sizeof h, p, sizeof p));
    TM_EQ_STR(h, "::1");
    TM_EQ_STR(p, "0");
    TM_CHECK(tm_args_split_hostport(":7000", h, sizeof h, p, sizeof p));
    TM_EQ_STR(h, "");
    TM_CHECK(tm_args_split_hostport("*:7000", h, sizeof h, p, sizeof p));
    TM_EQ_STR(h, "");
    TM_CHECK(!tm_args_split_hostport("host:", h, sizeof h, p, sizeof p));
    TM_CHECK(!tm_args_split_hostport("host:99999", h, sizeof h, p, sizeof p));
    TM_CHECK(!tm_args_split_hostport("[::1]7000", h, sizeof h, p, sizeof p));
}

static void test_modem_clock(void)
{
    tm_modem m;
    memset(&m, 0, sizeof m);
    m.clock_mode = TM_CLOCK_HOST;
    int64_t host = tm_port_wall_ms() / 1000;
    TM_CHECK(tm_modem_now(&m) - host <= 1 && tm_modem_now(&m) >= host);
    m.clock_mode = TM_CLOCK_UNSET;
    TM_CHECK(tm_modem_now(&m) >= host && tm_modem_now(&m) - host <= 1);
    tm_modem_set_clock(&m, 946684800);         /* 2000-01-01 */
    TM_EQ_INT(m.clock_mode, TM_CLOCK_SET);
    int64_t now = tm_modem_now(&m);
    TM_CHECK_MSG(now >= 946684800 && now <= 946684801, "%lld", (long long)now);
    tm_modem_set_clock(&m, 4102444800LL);      /* 2100-01-01 */
    now = tm_modem_now(&m);
    TM_CHECK(now >= 4102444800LL && now <= 4102444801LL);
}

/* --wifi SSID[:PASSWORD] (ESP dialect's simulated access points). */
static void test_wifi(void)
{
    tm_args a;
    char err[256];
    tm_args_result r;
    PARSE(r, "--dialect", "esp", "--wifi", "home:secret-pass", "--wifi", "cafe", "--wifi=a:b:c:d:e:f:g:h");
    TM_EQ_INT(r, TM_ARGS_RUN);
    TM_EQ_INT(a.wifi_count, 3);
    TM_EQ_STR(a.wifi[0], "home:secret-pass");
    TM_EQ_STR(a.wifi[1], "cafe");                     /* open network */
    TM_EQ_STR(a.wifi[2], "a:b:c:d:e:f:g:h");          /* SSID "a", password "b:c:d:e:f:g:h" */
    PARSE(r, "--wifi", "cafe:");                      /* empty password: open */
    TM_EQ_INT(r, TM_ARGS_RUN);
    PARSE(r, "--wifi", ":secret-pass");
    TM_EQ_INT(r, TM_ARGS_ERROR);
    TM_CHECK_MSG(strstr(err, "SSID of 1 to 32 bytes"), "%s", err);
    PARSE(r, "--wifi", "ssid-of-33-bytes-xxxxxxxxxxxxxxxx:secret-pass");
    TM_EQ_INT(r, TM_ARGS_ERROR);
    PARSE(r, "--wifi", "home:short");
    TM_EQ_INT(r, TM_ARGS_ERROR);
    TM_CHECK_MSG(strstr(err, "8 to 63 characters"), "%s", err);
    PARSE(r, "--wifi", "home\tx:secret-pass");
    TM_EQ_INT(r, TM_ARGS_ERROR);
    TM_CHECK_MSG(strstr(err, "control characters"), "%s", err);
    PARSE(r, "--wifi", "a", "--wifi", "b", "--wifi", "c", "--wifi", "d", "--wifi", "e", "--wifi", "f",
          "--wifi", "g", "--wifi", "h", "--wifi", "i");
    TM_EQ_INT(r, TM_ARGS_ERROR);
    TM_CHECK_MSG(strstr(err, "at most 8"), "%s", err);
}

int main(void)
{
    test_defaults();
    test_full();
    test_errors();
    test_timeouts();
    test_hostport();
    test_identity_options();
    test_modem_clock();
    test_wifi();
    TM_TEST_MAIN_END();
}
