/* libFuzzer target: what the modem reads back from its store -- settings
 * files (hl/settings, spwf/settings), stored certificates and keys, SPWF
 * files -- and the store's name escaping.
 *
 * Input: byte 0 = selector, the rest = payload.
 *  selector < N_ITEMS: the payload becomes the content of ITEMS[selector]
 *    (as a crash, a full disk or another program could leave it); then the
 *    item's dialect starts and runs commands that read it.
 *  otherwise: the payload up to the first NUL is an item name, the rest its
 *    content: put, get (must return the content), exists, list, rename,
 *    delete; names the store refuses must be refused with a reason. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "store/store.h"

static const struct {
    const char *name;
    const char *dialect;
} ITEMS[] = {
    { "hl/settings", "hl" },
    { "hl/root_ca.0", "hl" },
    { "hl/local_cert.0", "hl" },
    { "hl/privkey.0", "hl" },
    { "spwf/settings", "spwf" },
    { "spwf/tls/ca.0", "spwf" },
    { "spwf/tls/cert", "spwf" },
    { "spwf/tls/key", "spwf" },
    { "spwf/fs/update.ca", "spwf" },
    { "spwf/fs/index.html", "spwf" },
};
#define N_ITEMS (sizeof ITEMS / sizeof ITEMS[0])

/* Commands that read the items; each connection attempt fails offline, after
 * loading its credentials. */
static const char HL_SCRIPT[] =
    "AT+KPATTERN?\r\n"
    "AT+KCERTSTORE?\r\n"
    "AT+TMCERTLIST\r\n"
    "AT+KHTTPSCFG=1,\"www.example.test\",443,2,,,2\r\n"
    "AT+KHTTPSGET=1,\"/\"\r\n"
    "AT+KTCPCFG=1,3,\"www.example.test\",443,,,,2\r\n"
    "AT+KTCPCNX=1\r\n"
    "AT+KHTTPSCFG=2,\"www.example.test\",443,2,,,0\r\n"
    "AT+KHTTPSGET=2,\"/\"\r\n";

static const char SPWF_SCRIPT[] =
    "AT+S.GCFG\r"
    "AT+S.STS\r"
    "AT+S.FSL\r"
    "AT+S.FSP=update.ca\r"
    "AT+S.FSP=index.html,1,10\r"
    "AT+S.TMCERTLIST\r"
    "AT+S.SOCKON=www.example.test,443,NULL,s\r"
    "AT+S.SOCKON=www.example.test,443,NULL,update.ca\r"
    "AT+S.HTTPGET=www.example.test,/,443,2\r"
    "AT+S.RESET\r"
    "AT+S.GCFG\r";

static void fail(const char *what, const char *name)
{
    fprintf(stderr, "fuzz_store: %s (name \"%s\")\n", what, name);
    abort();
}

static uint8_t g_buf[TM_STORE_ITEM_MAX];

static void count_cb(void *arg, const char *name, size_t size)
{
    (void)name;
    (void)size;
    (*(int *)arg)++;
}

static void names(const uint8_t *p, size_t len)
{
    static tm_modem m;
    fz_modem_store_open(&m);
    char name[TM_STORE_NAME_MAX + 64];
    size_t nl = 0;
    while (nl < len && nl < sizeof name - 1 && p[nl])
        nl++;
    memcpy(name, p, nl);
    name[nl] = '\0';
    const uint8_t *content = p + nl + (nl < len);
    size_t clen = len - nl - (nl < len);

    tm_reason why;
    tm_reason_clear(&why);
    tm_err e = tm_store_put(&m.store, name, content, clen, &why);
    if (e != TM_OK) {
        if (!why.detail[0])
            fail("put refused without a reason", name);
        m.store.root[0] = '\0';
        return;
    }
    size_t got = 0;
    tm_reason_clear(&why);
    if (tm_store_get(&m.store, name, g_buf, sizeof g_buf, &got, &why) != TM_OK)
        fail("get of a stored item failed", name);
    if (got != clen || memcmp(g_buf, content, clen) != 0)
        fail("get returned other bytes than put", name);
    if (!tm_store_exists(&m.store, name))
        fail("a stored item does not exist", name);
    int n = 0;
    const char *slash = strchr(name, '/');
    char area[TM_STORE_NAME_MAX + 64];
    snprintf(area, sizeof area, "%.*s", slash ? (int)(slash - name + 1) : 0, name);
    if (tm_store_list(&m.store, area, count_cb, &n) < 0 || n < 1)
        fail("a stored item is not listed", name);
    char to[sizeof name + 8];
    snprintf(to, sizeof to, "%s.x", name);
    tm_reason_clear(&why);
    if (tm_store_rename(&m.store, name, to, &why) == TM_OK) {
        if (tm_store_exists(&m.store, name) || !tm_store_exists(&m.store, to))
            fail("rename left the old name or lost the new one", name);
        snprintf(name, sizeof name, "%s", to);
    }
    tm_reason_clear(&why);
    if (tm_store_del(&m.store, name, &why) != TM_OK || tm_store_exists(&m.store, name))
        fail("delete failed", name);
    /* Settings keys and values from the same bytes. */
    char v[512], val[512];
    snprintf(v, sizeof v, "%.*s", (int)(clen < sizeof v ? clen : sizeof v - 1), (const char *)content);
    tm_reason_clear(&why);
    if (tm_store_setting_set(&m.store, "hl/settings", name, v, &why) == TM_OK) {
        if (tm_store_setting_get(&m.store, "hl/settings", name, val, sizeof val) != TM_OK)
            fail("a setting just written cannot be read", name);
        if (strcmp(val, v) != 0)
            fail("setting read back differs", name);
    } else if (!why.detail[0]) {
        fail("setting refused without a reason", name);
    }
    m.store.root[0] = '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size - 1 > TM_STORE_ITEM_MAX)
        return 0;
    unsigned sel = data[0];
    if (sel >= N_ITEMS) {
        names(data + 1, size - 1);
        return 0;
    }
    static tm_modem m;
    fz_modem_server(NULL, 0);
    fz_modem_store_open(&m);
    tm_reason why;
    tm_reason_clear(&why);
    if (tm_store_put(&m.store, ITEMS[sel].name, data + 1, size - 1, &why) != TM_OK)
        fail("could not place the item", ITEMS[sel].name);
    int64_t now = 1000000;
    fz_modem_start(&m, ITEMS[sel].dialect, now);
    const char *script = !strcmp(ITEMS[sel].dialect, "hl") ? HL_SCRIPT : SPWF_SCRIPT;
    fz_rng r;
    fz_rng_seed(&r, data, size < 16 ? size : 16);
    fz_modem_feed(&m, &r, (const uint8_t *)script, strlen(script), 0, &now);
    now += 3000;
    fz_modem_pump(&m, now);
    fz_modem_stop(&m);
    return 0;
}
