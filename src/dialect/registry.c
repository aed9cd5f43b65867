/* tlsmodem — dialect name -> descriptor. */
#include <string.h>
#include <strings.h>

#include "core/modem.h"

extern const tm_dialect tm_dialect_hl;
extern const tm_dialect tm_dialect_spwf;
extern const tm_dialect tm_dialect_esp;

static const tm_dialect *const all_dialects[] = {
    &tm_dialect_hl,
    &tm_dialect_spwf,
    &tm_dialect_esp,
    NULL,
};

const tm_dialect *tm_dialect_find(const char *name)
{
    for (int i = 0; all_dialects[i]; i++)
        if (strcasecmp(all_dialects[i]->name, name) == 0)
            return all_dialects[i];
    return NULL;
}
