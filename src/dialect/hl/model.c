/* tlsmodem — HL models (see model.h). */
#include <strings.h>
#include <stddef.h>

#include "dialect/hl/model.h"

/* Revision strings in each family's own format (HL85: "<build>.<rev>",
 * HL78: "HL78xx.<major>.<minor>.<patch>.<build>"): host code that splits
 * the revision (Zephyr logs it, TinyGSM prints it) finds the usual shape. */
static const hl_model MODELS[] = {
    { "hl8548", HL_MODEL_HL8548, false, "HL8548", "RHL85xx.5.5.14.0.201808081159.x6250_1", "3G" },
    { "hl7800", HL_MODEL_HL7800, true,  "HL7800", "HL7800.4.6.9.4",                        "LTE-M" },
    { "hl7802", HL_MODEL_HL7802, true,  "HL7802", "HL7802.4.6.9.4",                        "LTE-M" },
};

const char *const hl_model_names[] = { "hl8548", "hl7800", "hl7802", NULL };

const hl_model *hl_model_find(const char *name)
{
    if (!name || !*name)
        return &MODELS[0];
    for (size_t i = 0; i < sizeof MODELS / sizeof MODELS[0]; i++)
        if (strcasecmp(MODELS[i].name, name) == 0)
            return &MODELS[i];
    return NULL;
}
