/* Unit tests: persistent store (src/store/store.c). */
#include "tm_test.h"
#include "store/store.h"
#include "port/port.h"

#include <dirent.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

/* The store traces; tests link without the port loop. */
__attribute__((weak)) int64_t tm_port_wall_ms(void) { return 0; }

static char g_root[256];

static void rm_rf(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            rm_rf(p);
        else
            unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

typedef struct {
    char   names[32][160];
    size_t sizes[32];
    int    n;
} listing;

static void list_cb(void *arg, const char *name, size_t size)
{
    listing *l = arg;
    if (l->n < 32) {
        snprintf(l->names[l->n], sizeof l->names[l->n], "%s", name);
        l->sizes[l->n] = size;
    }
    l->n++;
}

static void test_basic(tm_store *s)
{
    tm_reason why;
    char buf[256];
    size_t len = 0;

    TM_EQ_INT(tm_store_put(s, "hl/root_ca.0", "abc", 3, &why), TM_OK);
    TM_CHECK(tm_store_exists(s, "hl/root_ca.0"));
    TM_EQ_INT(tm_store_get(s, "hl/root_ca.0", buf, sizeof buf, &len, &why), TM_OK);
    TM_EQ_MEM(buf, len, "abc", 3);

    /* overwrite */
    TM_EQ_INT(tm_store_put(s, "hl/root_ca.0", "hello world", 11, &why), TM_OK);
    TM_EQ_INT(tm_store_get(s, "hl/root_ca.0", buf, sizeof buf, &len, &why), TM_OK);
    TM_EQ_MEM(buf, len, "hello world", 11);

    /* empty item */
    TM_EQ_INT(tm_store_put(s, "hl/empty", "", 0, &why), TM_OK);
    TM_EQ_INT(tm_store_get(s, "hl/empty", buf, sizeof buf, &len, &why), TM_OK);
    TM_EQ_INT(len, 0);

    /* buffer too small */
    TM_EQ_INT(tm_store_get(s, "hl/root_ca.0", buf, 5, &len, &why), TM_E_TOO_LARGE);
    TM_EQ_INT(len, 11);

    /* not found */
    TM_EQ_INT(tm_store_get(s, "hl/nope", buf, sizeof buf, &len, &why), TM_E_NOT_FOUND);
    TM_CHECK(strstr(why.detail, "hl/nope") != NULL);
    TM_CHECK(!tm_store_exists(s, "hl/nope"));
    TM_EQ_INT(tm_store_del(s, "hl/nope", &why), TM_E_NOT_FOUND);
    TM_EQ_INT(tm_store_get(s, "nosucharea/x", buf, sizeof buf, &len, &why), TM_E_NOT_FOUND);

    /* delete */
    TM_EQ_INT(tm_store_del(s, "hl/empty", &why), TM_OK);
    TM_CHECK(!tm_store_exists(s, "hl/empty"));

    /* rename, also across areas */
    TM_EQ_INT(tm_store_rename(s, "hl/root_ca.0", "hl/root_ca.1", &why), TM_OK);
    TM_CHECK(!tm_store_exists(s, "hl/root_ca.0"));
    TM_EQ_INT(tm_store_get(s, "hl/root_ca.1", buf, sizeof buf, &len, &why), TM_OK);
    TM_EQ_MEM(buf, len, "hello world", 11);
    TM_EQ_INT(tm_store_rename(s, "hl/root_ca.1", "spwf/fs/moved", &why), TM_OK);
    TM_CHECK(tm_store_exists(s, "spwf/fs/moved"));
    TM_EQ_INT(tm_store_rename(s, "hl/root_ca.1", "hl/x", &why), TM_E_NOT_FOUND);
    TM_EQ_INT(tm_store_del(s, "spwf/fs/moved", &why), TM_OK);
}

static void test_too_large(tm_store *s)
{
    tm_reason why;
    size_t big = TM_STORE_ITEM_MAX + 1;
    char *data = calloc(1, big);
    TM_EQ_INT(tm_store_put(s, "hl/big", data, big, &why), TM_E_TOO_LARGE);
    TM_CHECK(!tm_store_exists(s, "hl/big"));
    TM_EQ_INT(tm_store_put(s, "hl/big", data, big - 1, &why), TM_OK);
    size_t len = 0;
    TM_EQ_INT(tm_store_get(s, "hl/big", data, big, &len, &why), TM_OK);
    TM_EQ_INT(len, big - 1);
    TM_EQ_INT(tm_store_del(s, "hl/big", &why), TM_OK);
    free(data);
}

static void test_names(tm_store *s)
{
    tm_reason why;
    char buf[64];
    size_t len;
    TM_EQ_INT(tm_store_put(s, "../evil", "x", 1, &why), TM_E_ARG_BAD);
    TM_EQ_INT(tm_store_put(s, "hl/../../evil", "x", 1, &why), TM_E_ARG_BAD);
    TM_EQ_INT(tm_store_put(s, "hl/..", "x", 1, &why), TM_E_ARG_BAD);
    TM_EQ_INT(tm_store_put(s, "/etc/passwd", "x", 1, &why), TM_E_ARG_BAD);
    TM_CHECK(strstr(why.detail, "absolute") != NULL);
    TM_EQ_INT(tm_store_put(s, "", "x", 1, &why), TM_E_ARG_BAD);
    TM_EQ_INT(tm_store_put(s, "hl/", "x", 1, &why), TM_E_ARG_BAD);
    TM_EQ_INT(tm_store_put(s, "h l/x", "x", 1, &why), TM_E_ARG_BAD);
    /* an area starting with '.' would be a hidden directory the listing skips (found by fuzz_store) */
    TM_EQ_INT(tm_store_put(s, ".ca/o", "x", 1, &why), TM_E_ARG_BAD);
    TM_EQ_INT(tm_store_put(s, "hl/a\nb", "x", 1, &why), TM_E_ARG_BAD);
    char longname[TM_STORE_NAME_MAX + 8];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    longname[2] = '/';
    TM_EQ_INT(tm_store_put(s, longname, "x", 1, &why), TM_E_ARG_BAD);
    longname[TM_STORE_NAME_MAX] = '\0';
    TM_EQ_INT(tm_store_put(s, longname, "x", 1, &why), TM_OK);
    TM_EQ_INT(tm_store_del(s, longname, &why), TM_OK);

    /* SPWF file names with '/' and ':' are escaped on disk and come back. */
    const char *spwf = "spwf/fs//68:90:e4.ca";
    TM_EQ_INT(tm_store_put(s, spwf, "CA", 2, &why), TM_OK);
    TM_EQ_INT(tm_store_get(s, spwf, buf, sizeof buf, &len, &why), TM_OK);
    TM_EQ_MEM(buf, len, "CA", 2);
    char path[600];
    snprintf(path, sizeof path, "%s/spwf/fs%%2F%%2F68%%3A90%%3Ae4.ca", g_root);
    struct stat st;
    TM_CHECK_MSG(stat(path, &st) == 0, "%s missing", path);
    /* '%', spaces, high bytes, a dot start, a .tmp.<n> look-alike */
    const char *odd[] = { "spwf/a%41 b", "spwf/\xc3\xa9t\xc3\xa9", "spwf/.hidden", "spwf/x.tmp.123" };
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        TM_EQ_INT(tm_store_put(s, odd[i], "v", 1, &why), TM_OK);
        TM_EQ_INT(tm_store_get(s, odd[i], buf, sizeof buf, &len, &why), TM_OK);
        TM_EQ_MEM(buf, len, "v", 1);
    }
    listing l = {0};
    TM_EQ_INT(tm_store_list(s, "spwf/", list_cb, &l), 5);
    TM_EQ_STR(l.names[0], "spwf/.hidden");
    TM_EQ_STR(l.names[1], "spwf/a%41 b");
    TM_EQ_STR(l.names[2], "spwf/fs//68:90:e4.ca");
    TM_EQ_STR(l.names[3], "spwf/x.tmp.123");
    TM_EQ_STR(l.names[4], "spwf/\xc3\xa9t\xc3\xa9");
    l.n = 0;
    TM_EQ_INT(tm_store_list(s, "spwf/fs/", list_cb, &l), 1);
    TM_EQ_STR(l.names[0], spwf);
    TM_EQ_INT(l.sizes[0], 2);
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++)
        TM_EQ_INT(tm_store_del(s, odd[i], &why), TM_OK);
    TM_EQ_INT(tm_store_del(s, spwf, &why), TM_OK);
}

static void test_list(tm_store *s)
{
    tm_reason why;
    const char *names[] = { "hl/root_ca.2", "hl/root_ca.0", "hl/client_cert.0", "spwf/b", "hl/root_ca.1",
                            "hlx/z", "top" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        TM_EQ_INT(tm_store_put(s, names[i], names[i], strlen(names[i]), &why), TM_OK);
    listing l = {0};
    TM_EQ_INT(tm_store_list(s, "hl/", list_cb, &l), 4);
    TM_EQ_STR(l.names[0], "hl/client_cert.0");
    TM_EQ_STR(l.names[1], "hl/root_ca.0");
    TM_EQ_STR(l.names[2], "hl/root_ca.1");
    TM_EQ_STR(l.names[3], "hl/root_ca.2");
    TM_EQ_INT(l.sizes[3], strlen("hl/root_ca.2"));
    l.n = 0;
    TM_EQ_INT(tm_store_list(s, "hl/root_ca.", list_cb, &l), 3);
    l.n = 0;
    TM_EQ_INT(tm_store_list(s, "", list_cb, &l), 7);
    TM_EQ_STR(l.names[0], "hl/client_cert.0");
    TM_EQ_STR(l.names[4], "hlx/z");
    TM_EQ_STR(l.names[5], "spwf/b");
    TM_EQ_STR(l.names[6], "top");
    l.n = 0;
    TM_EQ_INT(tm_store_list(s, "nothing/", list_cb, &l), 0);
    TM_EQ_INT(l.n, 0);

    /* Crash safety: a leftover temp file of an interrupted write is ignored. */
    char path[600];
    snprintf(path, sizeof path, "%s/hl/root_ca.0.tmp.99999", g_root);
    FILE *f = fopen(path, "w");
    fputs("half-written", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/hl/root_ca.7.tmp.4242", g_root);
    f = fopen(path, "w");
    fputs("half-written", f);
    fclose(f);
    l.n = 0;
    TM_EQ_INT(tm_store_list(s, "hl/", list_cb, &l), 4);
    char buf[64];
    size_t len;
    TM_EQ_INT(tm_store_get(s, "hl/root_ca.0", buf, sizeof buf, &len, &why), TM_OK);
    TM_EQ_MEM(buf, len, "hl/root_ca.0", 12);
    TM_EQ_INT(tm_store_get(s, "hl/root_ca.7", buf, sizeof buf, &len, &why), TM_E_NOT_FOUND);
    TM_CHECK(!tm_store_exists(s, "hl/root_ca.7"));

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        TM_EQ_INT(tm_store_del(s, names[i], &why), TM_OK);
}

static void test_failed_write(tm_store *s)
{
    tm_reason why;
    char buf[64];
    size_t len;
    TM_EQ_INT(tm_store_put(s, "hl/keep", "original", 8, &why), TM_OK);
    tm_store_test_fault(1);
    TM_EQ_INT(tm_store_put(s, "hl/keep", "replacement data", 16, &why), TM_E_STORE_FULL);  /* ENOSPC */
    TM_CHECK(strstr(why.detail, "previous content is kept") != NULL);
    TM_EQ_INT(tm_store_get(s, "hl/keep", buf, sizeof buf, &len, &why), TM_OK);
    TM_EQ_MEM(buf, len, "original", 8);
    /* No temp file left behind. */
    char dir[600];
    snprintf(dir, sizeof dir, "%s/hl", g_root);
    DIR *d = opendir(dir);
    int tmps = 0;
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL)
        if (strstr(de->d_name, "keep.tmp."))
            tmps++;
    if (d)
        closedir(d);
    TM_EQ_INT(tmps, 0);
    TM_EQ_INT(tm_store_del(s, "hl/keep", &why), TM_OK);
}

static void test_settings(tm_store *s)
{
    tm_reason why;
    char val[64];
    TM_EQ_INT(tm_store_setting_get(s, "hl/settings", "echo", val, sizeof val), TM_E_NOT_FOUND);
    TM_EQ_INT(tm_store_setting_set(s, "hl/settings", "echo", "1", &why), TM_OK);
    TM_EQ_INT(tm_store_setting_set(s, "hl/settings", "baud", "115200", &why), TM_OK);
    TM_EQ_INT(tm_store_setting_set(s, "hl/settings", "ech", "x", &why), TM_OK);
    TM_EQ_INT(tm_store_setting_get(s, "hl/settings", "echo", val, sizeof val), TM_OK);
    TM_EQ_STR(val, "1");
    TM_EQ_INT(tm_store_setting_get(s, "hl/settings", "ech", val, sizeof val), TM_OK);
    TM_EQ_STR(val, "x");
    TM_EQ_INT(tm_store_setting_set(s, "hl/settings", "echo", "0", &why), TM_OK);
    TM_EQ_INT(tm_store_setting_get(s, "hl/settings", "echo", val, sizeof val), TM_OK);
    TM_EQ_STR(val, "0");
    TM_EQ_INT(tm_store_setting_get(s, "hl/settings", "baud", val, sizeof val), TM_OK);
    TM_EQ_STR(val, "115200");
    TM_EQ_INT(tm_store_setting_get(s, "hl/settings", "baud", val, 4), TM_E_TOO_LARGE);
    TM_EQ_INT(tm_store_setting_set(s, "hl/settings", "url", "http://h/a=b", &why), TM_OK);
    TM_EQ_INT(tm_store_setting_get(s, "hl/settings", "url", val, sizeof val), TM_OK);
    TM_EQ_STR(val, "http://h/a=b");
    TM_EQ_INT(tm_store_setting_set(s, "hl/settings", "empty", "", &why), TM_OK);
    TM_EQ_INT(tm_store_setting_get(s, "hl/settings", "empty", val, sizeof val), TM_OK);
    TM_EQ_STR(val, "");
    char raw[256];
    size_t len;
    TM_EQ_INT(tm_store_get(s, "hl/settings", raw, sizeof raw - 1, &len, &why), TM_OK);
    raw[len] = '\0';
    TM_CHECK(strncmp(raw, "echo=0\nbaud=115200\nech=x\nurl=http://h/a=b\nempty=\n"
                     "# tlsmodem settings: 5 entries, fnv1a ", strlen("echo=0\nbaud=115200\nech=x\n"
                     "url=http://h/a=b\nempty=\n# tlsmodem settings: 5 entries, fnv1a ")) == 0);
    /* remove */
    TM_EQ_INT(tm_store_setting_set(s, "hl/settings", "baud", NULL, &why), TM_OK);
    TM_EQ_INT(tm_store_setting_get(s, "hl/settings", "baud", val, sizeof val), TM_E_NOT_FOUND);
    TM_EQ_INT(tm_store_setting_get(s, "hl/settings", "echo", val, sizeof val), TM_OK);
    /* bad keys / values */
    TM_EQ_INT(tm_store_setting_set(s, "hl/settings", "a=b", "1", &why), TM_E_ARG_BAD);
    TM_EQ_INT(tm_store_setting_set(s, "hl/settings", "", "1", &why), TM_E_ARG_BAD);
    TM_EQ_INT(tm_store_setting_set(s, "hl/settings", "k", "1\n2", &why), TM_E_ARG_BAD);
    TM_EQ_INT(tm_store_del(s, "hl/settings", &why), TM_OK);
}

static void put_raw(tm_store *s, const char *item, const char *text)
{
    tm_reason why;
    TM_EQ_INT(tm_store_put(s, item, text, strlen(text), &why), TM_OK);
}

/* Whole-item saves, the check line, damage found and named, legacy files. */
static void test_settings_whole(tm_store *s)
{
    tm_reason why;
    static char buf[TM_STORE_SETTINGS_MAX + 1];
    tm_setting v[8];
    size_t n;
    tm_setting in[] = { { "a", "1" }, { "b", "two words" }, { "c", "" } };
    TM_EQ_INT(tm_store_settings_save(s, "spwf/settings", in, 3, &why), TM_OK);
    TM_EQ_INT(tm_store_settings_load(s, "spwf/settings", buf, sizeof buf, v, 8, &n, &why), TM_OK);
    TM_EQ_INT(n, 3);
    TM_EQ_STR(v[1].key, "b");
    TM_EQ_STR(v[1].val, "two words");
    TM_EQ_STR(v[2].val, "");
    /* damage: one byte changed, a cut-off file, garbage, NUL, a line without '=' */
    char raw[512];
    size_t len;
    TM_EQ_INT(tm_store_get(s, "spwf/settings", raw, sizeof raw - 1, &len, &why), TM_OK);
    raw[len] = '\0';
    raw[2] = '7';                                   /* a=7 */
    put_raw(s, "spwf/settings", raw);
    TM_EQ_INT(tm_store_settings_load(s, "spwf/settings", buf, sizeof buf, v, 8, &n, &why), TM_E_STORE_CORRUPT);
    TM_CHECK_MSG(strstr(why.detail, "does not match its check line") != NULL, "%s", why.detail);
    TM_EQ_INT(n, 0);
    char val[32];
    TM_EQ_INT(tm_store_setting_get(s, "spwf/settings", "a", val, sizeof val), TM_E_STORE_CORRUPT);
    raw[2] = '1';
    raw[len - 5] = '\0';                            /* cut in the check line */
    put_raw(s, "spwf/settings", raw);
    TM_EQ_INT(tm_store_settings_load(s, "spwf/settings", buf, sizeof buf, v, 8, &n, &why), TM_E_STORE_CORRUPT);
    TM_CHECK_MSG(strstr(why.detail, "cut off") != NULL, "%s", why.detail);
    put_raw(s, "spwf/settings", "a=1\nb=2");        /* legacy, cut */
    TM_EQ_INT(tm_store_settings_load(s, "spwf/settings", buf, sizeof buf, v, 8, &n, &why), TM_E_STORE_CORRUPT);
    put_raw(s, "spwf/settings", "a=1\n\x01\x02garbage\n");
    TM_EQ_INT(tm_store_settings_load(s, "spwf/settings", buf, sizeof buf, v, 8, &n, &why), TM_E_STORE_CORRUPT);
    TM_CHECK_MSG(strstr(why.detail, "line 2") != NULL, "%s", why.detail);
    TM_EQ_INT(tm_store_put(s, "spwf/settings", "a=1\n\0\n", 6, &why), TM_OK);
    TM_EQ_INT(tm_store_settings_load(s, "spwf/settings", buf, sizeof buf, v, 8, &n, &why), TM_E_STORE_CORRUPT);
    TM_CHECK_MSG(strstr(why.detail, "NUL") != NULL, "%s", why.detail);
    put_raw(s, "spwf/settings", "a=1\njunk\n");
    TM_EQ_INT(tm_store_settings_load(s, "spwf/settings", buf, sizeof buf, v, 8, &n, &why), TM_E_STORE_CORRUPT);
    TM_CHECK_MSG(strstr(why.detail, "line 2: no '='") != NULL, "%s", why.detail);
    /* a legacy file (no check line) that parses is accepted */
    put_raw(s, "spwf/settings", "a=1\r\nb=x=y\n");
    TM_EQ_INT(tm_store_settings_load(s, "spwf/settings", buf, sizeof buf, v, 8, &n, &why), TM_OK);
    TM_EQ_INT(n, 2);
    TM_EQ_STR(v[0].val, "1");
    TM_EQ_STR(v[1].val, "x=y");
    /* setting_set over a damaged item replaces it with the one key */
    put_raw(s, "spwf/settings", "a=1\njunk\n");
    TM_EQ_INT(tm_store_setting_set(s, "spwf/settings", "k", "v", &why), TM_OK);
    TM_EQ_INT(tm_store_settings_load(s, "spwf/settings", buf, sizeof buf, v, 8, &n, &why), TM_OK);
    TM_EQ_INT(n, 1);
    TM_EQ_STR(v[0].key, "k");
    TM_EQ_INT(tm_store_del(s, "spwf/settings", &why), TM_OK);
    TM_EQ_INT(tm_store_settings_load(s, "spwf/settings", buf, sizeof buf, v, 8, &n, &why), TM_E_NOT_FOUND);
}

/* One process per store; leftovers of interrupted writes go at claim. */
static void test_claim(tm_store *s)
{
    tm_reason why;
    char path[600];
    snprintf(path, sizeof path, "%s/spwf/settings.tmp.424242", g_root);
    TM_EQ_INT(tm_store_put(s, "spwf/x", "1", 1, &why), TM_OK);
    FILE *f = fopen(path, "w");
    fputs("half", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/top.tmp.1", g_root);
    f = fopen(path, "w");
    fclose(f);
    TM_EQ_INT(tm_store_claim(s, &why), TM_OK);
    snprintf(path, sizeof path, "%s/spwf/settings.tmp.424242", g_root);
    TM_CHECK(access(path, F_OK) != 0);
    snprintf(path, sizeof path, "%s/top.tmp.1", g_root);
    TM_CHECK(access(path, F_OK) != 0);
    TM_CHECK(tm_store_exists(s, "spwf/x"));
    /* a second claimant (another open file description, as another process) is refused */
    tm_store other;
    TM_EQ_INT(tm_store_open(&other, g_root, &why), TM_OK);
    TM_EQ_INT(tm_store_claim(&other, &why), TM_E_BUSY);
    char pid[32];
    snprintf(pid, sizeof pid, "pid %ld", (long)getpid());
    TM_CHECK_MSG(strstr(why.detail, pid) && strstr(why.detail, g_root), "%s", why.detail);
    tm_store_release(s);
    TM_EQ_INT(tm_store_claim(&other, &why), TM_OK);
    tm_store_release(&other);
    TM_EQ_INT(tm_store_del(s, "spwf/x", &why), TM_OK);
}

/* Every write changes the generation, reads do not; two stores opened at the
 * same address never share one (readers cache parsed certificates by it). */
static void test_generation(tm_store *s)
{
    tm_reason why;
    uint8_t buf[64];
    size_t len;
    unsigned long g = s->gen;
    TM_EQ_INT(tm_store_put(s, "hl/root_ca.5", "abc", 3, &why), TM_OK);
    TM_CHECK(s->gen != g);
    g = s->gen;
    TM_EQ_INT(tm_store_get(s, "hl/root_ca.5", buf, sizeof buf, &len, &why), TM_OK);
    TM_CHECK(tm_store_exists(s, "hl/root_ca.5"));
    TM_EQ_INT(tm_store_list(s, "hl/root_ca.", NULL, NULL) >= 1, 1);
    TM_CHECK(s->gen == g);
    TM_EQ_INT(tm_store_rename(s, "hl/root_ca.5", "hl/root_ca.6", &why), TM_OK);
    TM_CHECK(s->gen != g);
    g = s->gen;
    TM_EQ_INT(tm_store_del(s, "hl/root_ca.6", &why), TM_OK);
    TM_CHECK(s->gen != g);
    g = s->gen;
    TM_EQ_INT(tm_store_setting_set(s, "hl/settings", "gen", "1", &why), TM_OK);
    TM_CHECK(s->gen != g);
    g = s->gen;
    tm_store_test_fault(1);                 /* a failed write counts too */
    TM_CHECK(tm_store_put(s, "hl/root_ca.7", "abc", 3, &why) != TM_OK);
    tm_store_test_fault(0);
    TM_CHECK(s->gen != g);
    /* the stamp: unchanged by reads, changed by a write through the API and
     * by a file rewritten behind the store's back (same size, same name) */
    TM_EQ_INT(tm_store_put(s, "hl/root_ca.8", "abcd", 4, &why), TM_OK);
    uint64_t st0 = tm_store_stamp(s, "hl/");
    TM_EQ_INT(tm_store_get(s, "hl/root_ca.8", buf, sizeof buf, &len, &why), TM_OK);
    TM_CHECK(tm_store_stamp(s, "hl/") == st0);
    TM_CHECK(tm_store_stamp(s, "spwf/") != st0);
    char path[sizeof s->root + 32];
    snprintf(path, sizeof path, "%s/hl/root_ca.8", s->root);
    FILE *f = fopen(path, "wb");
    TM_CHECK(f != NULL);
    if (f) {
        fwrite("wxyz", 1, 4, f);
        fclose(f);
    }
    uint64_t st1 = tm_store_stamp(s, "hl/");
    TM_CHECK(st1 != st0);
    TM_EQ_INT(tm_store_del(s, "hl/root_ca.8", &why), TM_OK);
    TM_CHECK(tm_store_stamp(s, "hl/") != st1);
    tm_store other;
    memcpy(&other, s, sizeof other);
    TM_EQ_INT(tm_store_open(&other, s->root, &why), TM_OK);
    TM_CHECK(other.gen != s->gen);
}

int main(void)
{
    snprintf(g_root, sizeof g_root, "/tmp/tm-store-XXXXXX");
    if (!mkdtemp(g_root)) {
        perror("mkdtemp");
        return 1;
    }
    char sub[300];
    snprintf(sub, sizeof sub, "%s/store/", g_root);
    tm_store s;
    tm_reason why;
    TM_EQ_INT(tm_store_open(&s, sub, &why), TM_OK);   /* creates nested dir, trailing '/' ok */
    snprintf(g_root, sizeof g_root, "%.200s", s.root);
    test_basic(&s);
    test_too_large(&s);
    test_names(&s);
    test_settings_whole(&s);
    test_claim(&s);
    test_list(&s);
    test_failed_write(&s);
    test_settings(&s);
    test_generation(&s);
    char top[256];
    snprintf(top, sizeof top, "%s", g_root);
    *strrchr(top, '/') = '\0';
    rm_rf(top);
    TM_TEST_MAIN_END();
}
