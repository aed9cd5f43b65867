/* tlsmodem — ESP-AT dialect: per-link TLS settings (AT+CIPSSLC*).  (Skeleton: to be filled.) */
#include "dialect/esp/esp.h"

const tm_at_cmd esp_ssl_table[] = {
    { NULL, NULL, NULL, NULL, NULL, NULL },
};

void esp_ssl_reset(esp_state *s)
{
    (void)s;
}
