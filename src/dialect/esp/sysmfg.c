/* tlsmodem — ESP-AT dialect: AT+SYSMFG certificate namespaces.  (Skeleton: to be filled.) */
#include "dialect/esp/esp.h"

const tm_at_cmd esp_sysmfg_table[] = {
    { NULL, NULL, NULL, NULL, NULL, NULL },
};
