/* tlsmodem — the persistent store: certificates, keys, files and settings,
 * one file per item under the --store directory, written atomically (temp
 * file + fsync + rename), so a crash or bad input never loses what was
 * stored.  Names are "<area>/<item>" (e.g. "hl/root_ca.0", "spwf/fs/x.ca",
 * "hl/settings"); characters outside [A-Za-z0-9._-] in <item> are escaped. */
#ifndef TM_STORE_H
#define TM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "core/err.h"

typedef struct {
    char          root[1024];
    int           lock_fd;   /* tm_store_claim: -1 until claimed */
    unsigned long gen;       /* changes with every write through this API (put, del,
                                rename, setting_set) and is unique per open store:
                                readers that keep what they parsed from the store
                                compare it instead of re-reading the files */
} tm_store;

tm_err tm_store_open(tm_store *s, const char *dir, tm_reason *why);   /* creates dir */
/* Claims the store for this process (the program calls it once at start):
 * an exclusive flock() on <root>/.lock, which holds the owner's PID and is
 * released when the process ends however it ends (kill -9 too); then the
 * leftovers "<file>.tmp.<pid>" of writes a crash interrupted are removed
 * (nobody else writes while we hold the lock).  TM_E_BUSY when another
 * process holds the store, the reason naming the store and that PID. */
tm_err tm_store_claim(tm_store *s, tm_reason *why);
/* Releases the claim (tests; the program just exits). */
void   tm_store_release(tm_store *s);
tm_err tm_store_put(tm_store *s, const char *name, const void *data, size_t len, tm_reason *why);
/* Reads into buf (cap bytes); *len = size. TM_E_NOT_FOUND when absent,
 * TM_E_TOO_LARGE when cap is too small. */
tm_err tm_store_get(tm_store *s, const char *name, void *buf, size_t cap, size_t *len, tm_reason *why);
bool   tm_store_exists(tm_store *s, const char *name);
tm_err tm_store_del(tm_store *s, const char *name, tm_reason *why);
tm_err tm_store_rename(tm_store *s, const char *from, const char *to, tm_reason *why);
/* Calls cb for each item whose name starts with prefix, in name order
 * (strcmp of the unescaped names).  Returns the number of items, -1 on an I/O
 * error.  Leftover "<file>.tmp.<pid>" files of an interrupted write are never
 * listed nor read. */
typedef void (*tm_store_list_cb)(void *arg, const char *name, size_t size);
int    tm_store_list(tm_store *s, const char *prefix, tm_store_list_cb cb, void *arg);
/* A hash of the names, inodes, sizes, modification and change times of the
 * items under prefix (one directory listing, no file read): with gen, tells
 * a reader that cached parsed items whether a file changed, also one
 * replaced or damaged behind tlsmodem's back. */
uint64_t tm_store_stamp(tm_store *s, const char *prefix);

/* Settings: small "key=value" lines in one item, written whole and
 * atomically (one temp file + fsync + rename: after a crash the item is all
 * old or all new, never a mix), ending with a check line
 * "# tlsmodem settings: <n> entries, fnv1a <8 hex digits>" over the lines
 * before it, so damage (a cut-off or altered file) is detected.  Items
 * written before the check line existed (no check line) are accepted when
 * every line parses.  Keys must not contain '=' or control bytes, values no
 * control bytes (TAB allowed).  Settings items hold <= TM_STORE_SETTINGS_MAX
 * bytes and TM_STORE_SETTINGS_KEYS entries. */
#define TM_STORE_SETTINGS_MAX  (16 * 1024)
#define TM_STORE_SETTINGS_KEYS 128
typedef struct {
    const char *key;
    const char *val;
} tm_setting;
/* Replaces the whole item with these n entries (in this order). */
tm_err tm_store_settings_save(tm_store *s, const char *item, const tm_setting *v, size_t n, tm_reason *why);
/* Reads and checks the whole item into buf (>= TM_STORE_SETTINGS_MAX + 1
 * bytes); v[0..*n) then point into buf.  TM_E_NOT_FOUND when absent,
 * TM_E_STORE_CORRUPT with the reason (what is wrong, on which line) when it
 * is damaged: nothing of it is returned then. */
tm_err tm_store_settings_load(tm_store *s, const char *item, char *buf, size_t cap, tm_setting *v,
                              size_t vcap, size_t *n, tm_reason *why);
/* One key.  get: TM_E_NOT_FOUND when the item or key is absent,
 * TM_E_TOO_LARGE when cap is too small, TM_E_STORE_CORRUPT when the item is
 * damaged.  set: val NULL removes the key; the item is rewritten whole (a
 * damaged item is replaced by this one key: the host saved). */
tm_err tm_store_setting_get(tm_store *s, const char *item, const char *key, char *val, size_t cap);
tm_err tm_store_setting_set(tm_store *s, const char *item, const char *key, const char *val, tm_reason *why);

/* Name rules (TM_E_ARG_BAD otherwise): at most TM_STORE_NAME_MAX bytes, not
 * absolute, no ".." component, no control bytes; the area (text before the
 * first '/') is a subdirectory made of [A-Za-z0-9._-]; the item (everything
 * after the first '/', which may itself hold '/', e.g. "spwf/fs//68:90:e4.ca")
 * is one file with every other byte escaped as %XX.  A name without '/' is an
 * item at the top of the store. */

/* Test hook: fault 1 makes the next put fail halfway through writing the
 * temporary file (as a full disk would). 0 = off. */
void   tm_store_test_fault(int fault);

#endif
