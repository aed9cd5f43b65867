/* See store.h.
 *
 * Layout: <root>/<area>/<escaped item>.  The area (first component of the
 * name) is a subdirectory; the item (everything after the first '/') is one
 * file whose name escapes every byte outside [A-Za-z0-9._-] as %XX ('/' in
 * the item included), so "spwf/fs//68:90:e4.ca" is the file
 * "<root>/spwf/fs%2F%2F68%3A90%3Ae4.ca".  Writes go to "<file>.tmp.<pid>",
 * are fsynced, renamed over the item and the directory is fsynced.  Escaping
 * never produces a name ending in ".tmp.<digits>" (the dot is escaped), so
 * leftovers of an interrupted write are recognised and ignored. */
#include "store/store.h"
#include "core/trace.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

static int g_fault;   /* test hook, see tm_store_test_fault() */

void tm_store_test_fault(int fault) { g_fault = fault; }

static bool plain_char(unsigned char c)
{
    return isalnum(c) || c == '.' || c == '_' || c == '-';
}

/* ".tmp.<digits>" at the end of a file name. */
static bool looks_tmp(const char *f)
{
    size_t n = strlen(f), i = n;
    while (i > 0 && isdigit((unsigned char)f[i - 1]))
        i--;
    if (i == n || i < 5)
        return false;
    return memcmp(f + i - 5, ".tmp.", 5) == 0;
}

static bool escape_item(const char *item, char *out, size_t cap)
{
    size_t o = 0, n = strlen(item);
    /* Position of a ".tmp.<digits>" suffix dot that must be escaped. */
    size_t tmp_dot = (size_t)-1;
    if (looks_tmp(item)) {
        size_t i = n;
        while (i > 0 && isdigit((unsigned char)item[i - 1]))
            i--;
        tmp_dot = i - 5;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)item[i];
        /* A leading '.' is escaped too: "." and ".." never become file names. */
        bool esc = !plain_char(c) || i == tmp_dot || (i == 0 && c == '.');
        if (o + (esc ? 3 : 1) >= cap)
            return false;
        if (esc)
            o += (size_t)snprintf(out + o, cap - o, "%%%02X", c);
        else
            out[o++] = (char)c;
    }
    out[o] = '\0';
    return true;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static bool unescape_item(const char *f, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; f[i]; i++) {
        int c = (unsigned char)f[i];
        if (c == '%') {
            int hi = hexval(f[i + 1]), lo = hi >= 0 ? hexval(f[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return false;
            c = hi * 16 + lo;
            i += 2;
        }
        if (o + 1 >= cap || c == 0)
            return false;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return true;
}

static bool valid_area(const char *a, size_t n)
{
    if (n == 0 || (n == 1 && a[0] == '.') || (n == 2 && a[0] == '.' && a[1] == '.'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!plain_char((unsigned char)a[i]))
            return false;
    return true;
}

/* name -> dir ("<root>/<area>" or root) and full file path. */
static tm_err name_paths(const tm_store *s, const char *name, char *dir, size_t dcap,
                         char *path, size_t pcap, tm_reason *why)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0)
        return tm_fail(why, TM_E_ARG_BAD, "empty store name");
    if (n > TM_STORE_NAME_MAX)
        return tm_fail(why, TM_E_ARG_BAD, "store name is %zu bytes, the limit is %d", n, TM_STORE_NAME_MAX);
    if (name[0] == '/')
        return tm_fail(why, TM_E_ARG_BAD, "store name \"%s\" is absolute; names are \"<area>/<item>\"", name);
    /* No ".." component anywhere. */
    for (const char *c = name; *c;) {
        const char *e = strchr(c, '/');
        size_t cl = e ? (size_t)(e - c) : strlen(c);
        if (cl == 2 && c[0] == '.' && c[1] == '.')
            return tm_fail(why, TM_E_ARG_BAD, "store name \"%s\" contains \"..\"", name);
        if (!e)
            break;
        c = e + 1;
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
            return tm_fail(why, TM_E_ARG_BAD, "store name contains control byte 0x%02x", (unsigned char)name[i]);
    const char *slash = strchr(name, '/');
    const char *item = name;
    char esc[TM_STORE_NAME_MAX * 3 + 1];
    if (slash) {
        size_t al = (size_t)(slash - name);
        if (!valid_area(name, al))
            return tm_fail(why, TM_E_ARG_BAD, "store area \"%.*s\" must be [A-Za-z0-9._-]", (int)al, name);
        item = slash + 1;
        if (!*item)
            return tm_fail(why, TM_E_ARG_BAD, "store name \"%s\" has no item after the area", name);
        if ((size_t)snprintf(dir, dcap, "%s/%.*s", s->root, (int)al, name) >= dcap)
            return tm_fail(why, TM_E_ARG_BAD, "store path too long");
    } else {
        if ((size_t)snprintf(dir, dcap, "%s", s->root) >= dcap)
            return tm_fail(why, TM_E_ARG_BAD, "store path too long");
    }
    if (!escape_item(item, esc, sizeof esc))
        return tm_fail(why, TM_E_ARG_BAD, "store name too long");
    if ((size_t)snprintf(path, pcap, "%s/%s", dir, esc) >= pcap)
        return tm_fail(why, TM_E_ARG_BAD, "store path too long");
    return TM_OK;
}

#define PATH_CAP (sizeof(((tm_store *)0)->root) + TM_STORE_NAME_MAX * 3 + 64)

static tm_err mkdir_p(const char *dir, tm_reason *why)
{
    char tmp[PATH_CAP];
    size_t n = strlen(dir);
    if (n >= sizeof tmp)
        return tm_fail(why, TM_E_STORE_IO, "store path too long");
    memcpy(tmp, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (tmp[i] == '/' || tmp[i] == '\0') {
            char save = tmp[i];
            tmp[i] = '\0';
            if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
                return tm_fail(why, TM_E_STORE_IO, "cannot create directory %s: %s", tmp, strerror(errno));
            tmp[i] = save;
        }
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return tm_fail(why, TM_E_STORE_IO, "%s is not a directory", dir);
    return TM_OK;
}

static void fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* One counter for all stores, so a store opened at the address of another
 * never repeats its generation. */
static unsigned long g_gen;

tm_err tm_store_open(tm_store *s, const char *dir, tm_reason *why)
{
    s->gen = ++g_gen;
    size_t n = dir ? strlen(dir) : 0;
    if (n == 0 || n >= sizeof s->root - 1)
        return tm_fail(why, TM_E_ARG_BAD, "store directory name is empty or too long");
    memcpy(s->root, dir, n + 1);
    while (n > 1 && s->root[n - 1] == '/')
        s->root[--n] = '\0';
    tm_err e = mkdir_p(s->root, why);
    if (e == TM_OK)
        tm_trace("store", "store at %s", s->root);
    return e;
}

static bool write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        p += w;
        len -= (size_t)w;
    }
    return true;
}

tm_err tm_store_put(tm_store *s, const char *name, const void *data, size_t len, tm_reason *why)
{
    s->gen = ++g_gen;      /* even if it fails: a half-done write changed something */
    char dir[PATH_CAP], path[PATH_CAP], tmp[PATH_CAP + 32];
    tm_err e = name_paths(s, name, dir, sizeof dir, path, sizeof path, why);
    if (e)
        return e;
    if (len > TM_STORE_ITEM_MAX)
        return tm_fail(why, TM_E_TOO_LARGE, "%s is %zu bytes, the limit is %d", name, len, TM_STORE_ITEM_MAX);
    if ((e = mkdir_p(dir, why)) != TM_OK)
        return e;
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return tm_fail(why, TM_E_STORE_IO, "cannot create %s: %s", tmp, strerror(errno));
    bool ok;
    int err = 0;
    if (g_fault == 1) {   /* simulated failure in the middle of the write */
        (void)write_all(fd, data, len / 2);
        ok = false;
        err = ENOSPC;
        g_fault = 0;
    } else {
        ok = write_all(fd, data, len);
        err = errno;
        if (ok && fsync(fd) != 0) {
            ok = false;
            err = errno;
        }
    }
    if (close(fd) != 0 && ok) {
        ok = false;
        err = errno;
    }
    if (!ok) {
        unlink(tmp);
        return tm_fail(why, TM_E_STORE_IO, "writing %s failed: %s; the previous content is kept",
                       name, strerror(err));
    }
    if (rename(tmp, path) != 0) {
        err = errno;
        unlink(tmp);
        return tm_fail(why, TM_E_STORE_IO, "renaming %s failed: %s; the previous content is kept",
                       name, strerror(err));
    }
    fsync_dir(dir);
    tm_trace("store", "put %s (%zu bytes)", name, len);
    return TM_OK;
}

tm_err tm_store_get(tm_store *s, const char *name, void *buf, size_t cap, size_t *len, tm_reason *why)
{
    char dir[PATH_CAP], path[PATH_CAP];
    if (len)
        *len = 0;
    tm_err e = name_paths(s, name, dir, sizeof dir, path, sizeof path, why);
    if (e)
        return e;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return tm_fail(why, TM_E_NOT_FOUND, "%s is not stored", name);
        return tm_fail(why, TM_E_STORE_IO, "cannot open %s: %s", name, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return tm_fail(why, TM_E_NOT_FOUND, "%s is not stored", name);
    }
    size_t size = (size_t)st.st_size;
    if (len)
        *len = size;
    if (size > cap) {
        close(fd);
        return tm_fail(why, TM_E_TOO_LARGE, "%s is %zu bytes, the buffer holds %zu", name, size, cap);
    }
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, (char *)buf + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (got != size)
        return tm_fail(why, TM_E_STORE_IO, "reading %s returned %zu of %zu bytes", name, got, size);
    return TM_OK;
}

bool tm_store_exists(tm_store *s, const char *name)
{
    char dir[PATH_CAP], path[PATH_CAP];
    struct stat st;
    return name_paths(s, name, dir, sizeof dir, path, sizeof path, NULL) == TM_OK &&
           stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

tm_err tm_store_del(tm_store *s, const char *name, tm_reason *why)
{
    s->gen = ++g_gen;      /* even if it fails: a half-done write changed something */
    char dir[PATH_CAP], path[PATH_CAP];
    tm_err e = name_paths(s, name, dir, sizeof dir, path, sizeof path, why);
    if (e)
        return e;
    if (unlink(path) != 0) {
        if (errno == ENOENT)
            return tm_fail(why, TM_E_NOT_FOUND, "%s is not stored", name);
        return tm_fail(why, TM_E_STORE_IO, "cannot delete %s: %s", name, strerror(errno));
    }
    fsync_dir(dir);
    tm_trace("store", "deleted %s", name);
    return TM_OK;
}

tm_err tm_store_rename(tm_store *s, const char *from, const char *to, tm_reason *why)
{
    s->gen = ++g_gen;      /* even if it fails: a half-done write changed something */
    char fdir[PATH_CAP], fpath[PATH_CAP], tdir[PATH_CAP], tpath[PATH_CAP];
    tm_err e = name_paths(s, from, fdir, sizeof fdir, fpath, sizeof fpath, why);
    if (e)
        return e;
    if ((e = name_paths(s, to, tdir, sizeof tdir, tpath, sizeof tpath, why)) != TM_OK)
        return e;
    struct stat st;
    if (stat(fpath, &st) != 0 || !S_ISREG(st.st_mode))
        return tm_fail(why, TM_E_NOT_FOUND, "%s is not stored", from);
    if ((e = mkdir_p(tdir, why)) != TM_OK)
        return e;
    if (rename(fpath, tpath) != 0)
        return tm_fail(why, TM_E_STORE_IO, "cannot rename %s to %s: %s", from, to, strerror(errno));
    fsync_dir(tdir);
    if (strcmp(fdir, tdir) != 0)
        fsync_dir(fdir);
    tm_trace("store", "renamed %s -> %s", from, to);
    return TM_OK;
}

/* ---- listing ------------------------------------------------------------ */

typedef struct {
    char     name[TM_STORE_NAME_MAX + 1];
    size_t   size;
    uint64_t stamp;     /* inode, size, mtime, ctime of the file (tm_store_stamp) */
} list_ent;

typedef struct {
    list_ent *v;
    size_t    n, cap;
} list_vec;

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ULL;
    return h;
}

static uint64_t file_stamp(const struct stat *st)
{
    int64_t v[6] = { (int64_t)st->st_ino, (int64_t)st->st_size, (int64_t)st->st_mtim.tv_sec,
                     (int64_t)st->st_mtim.tv_nsec, (int64_t)st->st_ctim.tv_sec, (int64_t)st->st_ctim.tv_nsec };
    return fnv(14695981039346656037ULL, v, sizeof v);
}

static bool vec_push(list_vec *lv, const char *name, const struct stat *st)
{
    if (lv->n == lv->cap) {
        size_t nc = lv->cap ? lv->cap * 2 : 32;
        list_ent *nv = realloc(lv->v, nc * sizeof *nv);
        if (!nv)
            return false;
        lv->v = nv;
        lv->cap = nc;
    }
    int w = snprintf(lv->v[lv->n].name, sizeof lv->v[lv->n].name, "%s", name);
    if (w < 0 || (size_t)w >= sizeof lv->v[lv->n].name)
        return true;            /* not a name we could have stored: skip it */
    lv->v[lv->n].size = (size_t)st->st_size;
    lv->v[lv->n].stamp = file_stamp(st);
    lv->n++;
    return true;
}

static int ent_cmp(const void *a, const void *b)
{
    return strcmp(((const list_ent *)a)->name, ((const list_ent *)b)->name);
}

/* Adds the regular files of dir (area "" = root) that match prefix. */
static bool scan_dir(const char *dir, const char *area, const char *prefix, list_vec *lv, bool recurse)
{
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT;
    struct dirent *de;
    bool ok = true;
    while ((de = readdir(d)) != NULL) {
        const char *f = de->d_name;
        if (f[0] == '.' || looks_tmp(f))
            continue;
        char path[PATH_CAP + 300];
        snprintf(path, sizeof path, "%s/%s", dir, f);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (recurse && valid_area(f, strlen(f))) {
                size_t pl = strlen(prefix), fl = strlen(f);
                /* Skip areas the prefix rules out. */
                if (pl && strncmp(prefix, f, pl < fl ? pl : fl) != 0)
                    continue;
                if (pl > fl && prefix[fl] != '/')
                    continue;
                ok = scan_dir(path, f, prefix, lv, false) && ok;
            }
            continue;
        }
        if (!S_ISREG(st.st_mode))
            continue;
        char item[TM_STORE_NAME_MAX + 1], name[TM_STORE_NAME_MAX * 2 + 2];
        if (!unescape_item(f, item, sizeof item))
            continue;   /* not ours */
        if (area[0])
            snprintf(name, sizeof name, "%s/%s", area, item);
        else
            snprintf(name, sizeof name, "%s", item);
        if (strlen(name) > TM_STORE_NAME_MAX || strncmp(name, prefix, strlen(prefix)) != 0)
            continue;
        if (!vec_push(lv, name, &st)) {
            ok = false;
            break;
        }
    }
    closedir(d);
    return ok;
}

static int list_sorted(tm_store *s, const char *prefix, list_vec *lv)
{
    if (!prefix)
        prefix = "";
    if (!scan_dir(s->root, "", prefix, lv, true)) {
        free(lv->v);
        lv->v = NULL;
        return -1;
    }
    if (lv->n)
        qsort(lv->v, lv->n, sizeof *lv->v, ent_cmp);
    return (int)lv->n;
}

int tm_store_list(tm_store *s, const char *prefix, tm_store_list_cb cb, void *arg)
{
    list_vec lv = {0};
    int n = list_sorted(s, prefix, &lv);
    for (int i = 0; i < n; i++)
        if (cb)
            cb(arg, lv.v[i].name, lv.v[i].size);
    free(lv.v);
    return n;
}

uint64_t tm_store_stamp(tm_store *s, const char *prefix)
{
    list_vec lv = {0};
    int n = list_sorted(s, prefix, &lv);
    uint64_t h = fnv(14695981039346656037ULL, &n, sizeof n);
    for (int i = 0; i < n; i++) {
        h = fnv(h, lv.v[i].name, strlen(lv.v[i].name) + 1);
        h = fnv(h, &lv.v[i].stamp, sizeof lv.v[i].stamp);
    }
    free(lv.v);
    return h;
}

/* ---- settings ------------------------------------------------------------ */

#define SETTINGS_MAX (16 * 1024)

/* Finds "key=" at a line start; returns pointer to the line or NULL. */
static const char *find_key(const char *text, size_t len, const char *key, size_t *line_len)
{
    size_t kl = strlen(key);
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        if ((size_t)(le - p) > kl && memcmp(p, key, kl) == 0 && p[kl] == '=') {
            *line_len = (size_t)(le - p) + (nl ? 1 : 0);
            return p;
        }
        p = nl ? nl + 1 : end;
    }
    return NULL;
}

static bool valid_key(const char *key)
{
    if (!key || !*key)
        return false;
    for (const char *c = key; *c; c++)
        if (*c == '=' || (unsigned char)*c < 0x20 || *c == 0x7f)
            return false;
    return true;
}

tm_err tm_store_setting_get(tm_store *s, const char *item, const char *key, char *val, size_t cap)
{
    static char text[SETTINGS_MAX + 1];   /* no recursion, single-threaded */
    size_t len = 0;
    if (cap)
        val[0] = '\0';
    if (!valid_key(key))
        return TM_E_ARG_BAD;
    tm_err e = tm_store_get(s, item, text, SETTINGS_MAX, &len, NULL);
    if (e)
        return e;
    text[len] = '\0';
    size_t ll;
    const char *line = find_key(text, len, key, &ll);
    if (!line)
        return TM_E_NOT_FOUND;
    const char *v = line + strlen(key) + 1;
    size_t vl = ll - strlen(key) - 1;
    if (vl && v[vl - 1] == '\n')
        vl--;
    if (vl && v[vl - 1] == '\r')
        vl--;
    if (vl + 1 > cap)
        return TM_E_TOO_LARGE;
    memcpy(val, v, vl);
    val[vl] = '\0';
    return TM_OK;
}

tm_err tm_store_setting_set(tm_store *s, const char *item, const char *key, const char *val, tm_reason *why)
{
    s->gen = ++g_gen;      /* even if it fails: a half-done write changed something */
    static char text[SETTINGS_MAX + 1], out[SETTINGS_MAX + 1];
    size_t len = 0;
    if (!valid_key(key))
        return tm_fail(why, TM_E_ARG_BAD, "setting key \"%s\" is empty or contains '=' or a control byte",
                       key ? key : "");
    if (val)
        for (const char *c = val; *c; c++)
            if (*c == '\n' || *c == '\r')
                return tm_fail(why, TM_E_ARG_BAD, "setting %s: the value contains a line break", key);
    tm_err e = tm_store_get(s, item, text, SETTINGS_MAX, &len, why);
    if (e == TM_E_NOT_FOUND)
        len = 0;
    else if (e)
        return e;
    if (why)
        tm_reason_clear(why);
    size_t ol = 0, ll;
    const char *line = find_key(text, len, key, &ll);
    size_t before = line ? (size_t)(line - text) : len;
    memcpy(out, text, before);
    ol = before;
    if (ol && out[ol - 1] != '\n')
        out[ol++] = '\n';
    if (val) {
        size_t need = strlen(key) + 1 + strlen(val) + 1;
        if (ol + need + (len - before) > SETTINGS_MAX)
            return tm_fail(why, TM_E_TOO_LARGE, "settings %s would exceed %d bytes", item, SETTINGS_MAX);
        ol += (size_t)snprintf(out + ol, SETTINGS_MAX + 1 - ol, "%s=%s\n", key, val);
    }
    if (line) {
        size_t rest = len - before - ll;
        memcpy(out + ol, line + ll, rest);
        ol += rest;
    }
    return tm_store_put(s, item, out, ol, why);
}
