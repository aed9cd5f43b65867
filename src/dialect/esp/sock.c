/* tlsmodem — ESP-AT dialect: links (TCP, UDP, SSL), send and receive.  (Skeleton: to be filled.) */
#include "dialect/esp/esp.h"

const tm_at_cmd esp_sock_table[] = {
    { NULL, NULL, NULL, NULL, NULL, NULL },
};

void esp_sock_reset(esp_state *s)
{
    (void)s;
}
