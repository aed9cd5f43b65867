/* tlsmodem — ESP-AT dialect: links (TCP, UDP, SSL), send and receive.  (Being filled.) */
#include "dialect/esp/esp.h"

static bool g_mux;

bool esp_sock_mux(const esp_state *s)
{
    (void)s;
    return g_mux;
}

void esp_sock_all_lost(esp_state *s, const tm_reason *why)
{
    (void)s;
    (void)why;
}

bool esp_sock_net_lost(esp_state *s, int link, const tm_reason *why)
{
    (void)s;
    (void)link;
    (void)why;
    return false;
}

const tm_at_cmd esp_sock_table[] = {
    { NULL, NULL, NULL, NULL, NULL, NULL },
};

void esp_sock_reset(esp_state *s)
{
    (void)s;
    g_mux = false;
}
