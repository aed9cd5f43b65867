/* tlsmodem — ESP-AT dialect: vendor extensions (AT+TMPROBE, AT+TMCERTLIST).  (Skeleton: to be filled.) */
#include "dialect/esp/esp.h"

const tm_at_cmd esp_diag_table[] = {
    { NULL, NULL, NULL, NULL, NULL, NULL },
};
