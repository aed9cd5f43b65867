/* tlsmodem — ESP-AT dialect: the HTTP client commands.  (Skeleton: to be filled.) */
#include "dialect/esp/esp.h"

const tm_at_cmd esp_http_table[] = {
    { NULL, NULL, NULL, NULL, NULL, NULL },
};

void esp_http_reset(esp_state *s)
{
    (void)s;
}
