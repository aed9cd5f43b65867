/* tlsmodem — ESP-AT dialect: the simulated Wi-Fi station.  (Skeleton: to be filled.) */
#include "dialect/esp/esp.h"

const tm_at_cmd esp_wifi_table[] = {
    { NULL, NULL, NULL, NULL, NULL, NULL },
};

void esp_wifi_start(esp_state *s)
{
    (void)s;
}

void esp_wifi_reset(esp_state *s)
{
    (void)s;
}
