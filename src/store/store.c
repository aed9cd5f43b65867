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
#include <sys/file.h>
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

/* An area is a plain directory name that does not start with '.': listing
 * skips dot entries (".", "..", hidden files), so an area ".ca" could be
 * written but never listed. */
static bool valid_area(const char *a, size_t n)
{
    if (n == 0 || a[0] == '.')
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
            return tm_fail(why, TM_E_ARG_BAD, "store area \"%.*s\" must be [A-Za-z0-9._-] and not start with '.'", (int)al, name);
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
    s->lock_fd = -1;
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
        if (err == ENOSPC || err == EDQUOT)
            return tm_fail(why, TM_E_STORE_FULL, "writing %s failed: %s; the previous content is kept",
                           name, strerror(err));
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

#define CHECK_PREFIX "# tlsmodem settings: "

static uint32_t fnv1a(const char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 16777619u;
    }
    return h;
}

static bool valid_key(const char *key)
{
    if (!key || !*key)
        return false;
    for (const char *c = key; *c; c++)
        if (*c == '=' || *c == '#' || (unsigned char)*c < 0x20 || *c == 0x7f)
            return false;
    return true;
}

static bool valid_val(const char *v)
{
    for (const char *c = v; *c; c++)
        if (((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f)
            return false;
    return true;
}

tm_err tm_store_settings_load(tm_store *s, const char *item, char *buf, size_t cap, tm_setting *v,
                              size_t vcap, size_t *n, tm_reason *why)
{
    size_t len = 0;
    *n = 0;
    if (cap < 2)
        return tm_fail(why, TM_E_INTERNAL, "settings buffer too small");
    tm_err e = tm_store_get(s, item, buf, cap - 1, &len, why);
    if (e == TM_E_TOO_LARGE)
        return tm_fail(why, TM_E_STORE_CORRUPT, "settings %s: %zu bytes, settings hold at most %zu", item, len,
                       cap - 1);
    if (e)
        return e;
    buf[len] = '\0';
    if (memchr(buf, '\0', len))
        return tm_fail(why, TM_E_STORE_CORRUPT, "settings %s: a NUL byte at offset %zu (not a text file)", item,
                       (size_t)((char *)memchr(buf, '\0', len) - buf));
    if (len && buf[len - 1] != '\n')
        return tm_fail(why, TM_E_STORE_CORRUPT, "settings %s: the last line is cut off (no line end)", item);
    /* The check line, when present, is the last line. */
    size_t body = len;
    bool checked = false;
    if (len) {
        size_t ls = len - 1;
        while (ls > 0 && buf[ls - 1] != '\n')
            ls--;
        if (strncmp(buf + ls, CHECK_PREFIX, strlen(CHECK_PREFIX)) == 0) {
            unsigned long cnt = 0;
            unsigned int sum = 0;
            char tail = 0;
            if (sscanf(buf + ls + strlen(CHECK_PREFIX), "%lu entries, fnv1a %8x%c", &cnt, &sum, &tail) != 3 ||
                tail != '\n')
                return tm_fail(why, TM_E_STORE_CORRUPT, "settings %s: the check line is malformed", item);
            uint32_t h = fnv1a(buf, ls);
            if (h != (uint32_t)sum)
                return tm_fail(why, TM_E_STORE_CORRUPT, "settings %s: the content does not match its check "
                               "line (fnv1a %08x, recorded %08x): altered or damaged", item, h, sum);
            body = ls;
            checked = true;
            size_t lines = 0;
            for (size_t k = 0; k < body; k++)
                lines += buf[k] == '\n';
            if (lines != cnt)
                return tm_fail(why, TM_E_STORE_CORRUPT, "settings %s: %zu entries, the check line says %lu",
                               item, lines, cnt);
        }
    }
    size_t line = 0;
    for (char *p = buf; p < buf + body;) {
        char *nl = memchr(p, '\n', (size_t)(buf + body - p));
        *nl = '\0';
        line++;
        if (nl > p && nl[-1] == '\r' && !checked)
            nl[-1] = '\0';                 /* older files edited on Windows */
        char *eq = strchr(p, '=');
        if (!eq)
            return tm_fail(why, TM_E_STORE_CORRUPT, "settings %s line %zu: no '=' (expected key=value)", item,
                           line);
        *eq = '\0';
        if (!valid_key(p) || !valid_val(eq + 1))
            return tm_fail(why, TM_E_STORE_CORRUPT, "settings %s line %zu: a control byte or an empty key",
                           item, line);
        if (*n == vcap)
            return tm_fail(why, TM_E_STORE_CORRUPT, "settings %s: more than %zu entries", item, vcap);
        v[*n].key = p;
        v[*n].val = eq + 1;
        (*n)++;
        p = nl + 1;
    }
    return TM_OK;
}

tm_err tm_store_settings_save(tm_store *s, const char *item, const tm_setting *v, size_t n, tm_reason *why)
{
    static char out[TM_STORE_SETTINGS_MAX + 1];
    size_t o = 0;
    if (n > TM_STORE_SETTINGS_KEYS)
        return tm_fail(why, TM_E_TOO_LARGE, "settings %s: %zu entries, the limit is %d", item, n,
                       TM_STORE_SETTINGS_KEYS);
    for (size_t i = 0; i < n; i++) {
        if (!valid_key(v[i].key))
            return tm_fail(why, TM_E_ARG_BAD, "setting key \"%s\" is empty or contains '=', '#' or a control "
                           "byte", v[i].key ? v[i].key : "");
        if (!valid_val(v[i].val))
            return tm_fail(why, TM_E_ARG_BAD, "setting %s: the value contains a line break or control byte",
                           v[i].key);
        size_t need = strlen(v[i].key) + 1 + strlen(v[i].val) + 1;
        if (o + need + 64 > TM_STORE_SETTINGS_MAX)
            return tm_fail(why, TM_E_TOO_LARGE, "settings %s would exceed %d bytes", item, TM_STORE_SETTINGS_MAX);
        o += (size_t)snprintf(out + o, sizeof out - o, "%s=%s\n", v[i].key, v[i].val);
    }
    uint32_t h = fnv1a(out, o);
    o += (size_t)snprintf(out + o, sizeof out - o, CHECK_PREFIX "%zu entries, fnv1a %08x\n", n, h);
    return tm_store_put(s, item, out, o, why);
}

tm_err tm_store_setting_get(tm_store *s, const char *item, const char *key, char *val, size_t cap)
{
    static char text[TM_STORE_SETTINGS_MAX + 1];   /* no recursion, single-threaded */
    static tm_setting v[TM_STORE_SETTINGS_KEYS];
    size_t n;
    if (cap)
        val[0] = '\0';
    if (!valid_key(key))
        return TM_E_ARG_BAD;
    tm_err e = tm_store_settings_load(s, item, text, sizeof text, v, TM_STORE_SETTINGS_KEYS, &n, NULL);
    if (e)
        return e;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(v[i].key, key) != 0)
            continue;
        size_t vl = strlen(v[i].val);
        if (vl + 1 > cap)
            return TM_E_TOO_LARGE;
        memcpy(val, v[i].val, vl + 1);
        return TM_OK;
    }
    return TM_E_NOT_FOUND;
}

tm_err tm_store_setting_set(tm_store *s, const char *item, const char *key, const char *val, tm_reason *why)
{
    s->gen = ++g_gen;      /* even if it fails: a half-done write changed something */
    static char text[TM_STORE_SETTINGS_MAX + 1];
    static tm_setting v[TM_STORE_SETTINGS_KEYS + 1];
    size_t n = 0;
    if (!valid_key(key))
        return tm_fail(why, TM_E_ARG_BAD, "setting key \"%s\" is empty or contains '=', '#' or a control byte",
                       key ? key : "");
    if (val && !valid_val(val))
        return tm_fail(why, TM_E_ARG_BAD, "setting %s: the value contains a line break or control byte", key);
    tm_reason r;
    tm_reason_clear(&r);
    tm_err e = tm_store_settings_load(s, item, text, sizeof text, v, TM_STORE_SETTINGS_KEYS, &n, &r);
    if (e == TM_E_STORE_CORRUPT) {
        tm_trace("warn", "%s; replaced by what the host saved now", r.detail);
        n = 0;
    } else if (e && e != TM_E_NOT_FOUND) {
        if (why)
            *why = r;
        return e;
    }
    size_t k = 0;
    bool done = false;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(v[i].key, key) == 0) {
            if (val && !done)
                v[k++] = (tm_setting){ v[i].key, val };
            done = true;
            continue;
        }
        v[k++] = v[i];
    }
    if (val && !done)
        v[k++] = (tm_setting){ key, val };
    return tm_store_settings_save(s, item, v, k, why);
}

/* ---- claim ----------------------------------------------------------------- */

static void remove_leftovers(const char *dir, bool recurse, int *removed)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *f = de->d_name;
        if (!strcmp(f, ".") || !strcmp(f, ".."))
            continue;
        char path[PATH_CAP + 300];
        snprintf(path, sizeof path, "%s/%s", dir, f);
        struct stat st;
        if (lstat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (recurse && valid_area(f, strlen(f)))
                remove_leftovers(path, false, removed);
            continue;
        }
        if (S_ISREG(st.st_mode) && looks_tmp(f) && unlink(path) == 0) {
            tm_trace("store", "removed %s: left by a write that was interrupted (crash or kill)", path);
            (*removed)++;
        }
    }
    closedir(d);
}

tm_err tm_store_claim(tm_store *s, tm_reason *why)
{
    char path[PATH_CAP];
    snprintf(path, sizeof path, "%s/.lock", s->root);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return tm_fail(why, TM_E_STORE_IO, "cannot open %s: %s", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        char pid[32] = "";
        ssize_t r = pread(fd, pid, sizeof pid - 1, 0);
        pid[r > 0 ? r : 0] = '\0';
        pid[strcspn(pid, "\r\n")] = '\0';
        close(fd);
        if (err == EWOULDBLOCK)
            return tm_fail(why, TM_E_BUSY, "%s is in use by another tlsmodem (pid %s); two modems on one store "
                           "would overwrite each other's settings and certificates: give each its own --store",
                           s->root, pid[0] ? pid : "unknown");
        return tm_fail(why, TM_E_STORE_IO, "cannot lock %s: %s", path, strerror(err));
    }
    char pid[32];
    int pl = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)pl, 0) != pl)
        tm_trace("warn", "could not record our pid in %s: %s", path, strerror(errno));
    s->lock_fd = fd;
    int removed = 0;
    remove_leftovers(s->root, true, &removed);
    if (removed)
        tm_trace("store", "%d leftover temporary file(s) of interrupted writes removed", removed);
    return TM_OK;
}

void tm_store_release(tm_store *s)
{
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    s->lock_fd = -1;
}
