/* tlsmodem — ESP-AT dialect: AT+SYSMFG certificate namespaces, persisted in
 * the store as esp/mfg/<namespace>/<key>.  (Command: next step.) */
#include <stdio.h>
#include <string.h>

#include "dialect/esp/esp.h"

static void mfg_name(char *out, size_t cap, const char *ns, const char *key)
{
    snprintf(out, cap, "esp/mfg/%s/%s", ns, key ? key : "");
}

tm_err esp_mfg_get(esp_state *s, const char *ns, const char *key, uint8_t *buf, size_t cap, size_t *len,
                   tm_reason *why)
{
    char name[TM_STORE_NAME_MAX + 8];
    mfg_name(name, sizeof name, ns, key);
    return tm_store_get(&s->modem->store, name, buf, cap, len, why);
}

typedef struct {
    void      (*cb)(void *arg, const char *key);
    void       *arg;
    size_t      skip;
} keys_ctx;

static void one_key(void *arg, const char *name, size_t size)
{
    keys_ctx *k = arg;
    (void)size;
    if (strlen(name) > k->skip && !strchr(name + k->skip, '/'))
        k->cb(k->arg, name + k->skip);
}

int esp_mfg_keys(esp_state *s, const char *ns, void (*cb)(void *arg, const char *key), void *arg)
{
    char prefix[TM_STORE_NAME_MAX + 8];
    mfg_name(prefix, sizeof prefix, ns, NULL);
    keys_ctx k = { cb, arg, strlen(prefix) };
    return tm_store_list(&s->modem->store, prefix, one_key, &k);
}

const tm_at_cmd esp_sysmfg_table[] = {
    { NULL, NULL, NULL, NULL, NULL, NULL },
};
