/* tlsmodem — ESP-AT dialect: AT, AT+GMR, AT+RST, AT+RESTORE, AT+SYSMSG, AT+SYSLOG, AT+SYSSTORE, AT+UART_CUR/DEF, AT+CMD?.  (Skeleton: to be filled.) */
#include "dialect/esp/esp.h"

const tm_at_cmd esp_basic_table[] = {
    { NULL, NULL, NULL, NULL, NULL, NULL },
};

void esp_basic_start(esp_state *s)
{
    (void)s;
}
