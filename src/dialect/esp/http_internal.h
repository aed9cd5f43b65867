/* tlsmodem — ESP-AT HTTP commands: what http.c (commands, arguments, the
 * global URL and headers) hands to http_run.c (one request at a time, the
 * answer framing, the body after '>').  Private to the two files. */
#ifndef TM_ESP_HTTP_INTERNAL_H
#define TM_ESP_HTTP_INTERNAL_H

#include "dialect/esp/esp.h"
#include "http/http.h"

typedef enum {
    EH_CLIENT,      /* AT+HTTPCLIENT   answers +HTTPCLIENT:<n>,<data> ... OK */
    EH_GETSIZE,     /* AT+HTTPGETSIZE  answers +HTTPGETSIZE:<size> OK */
    EH_CGET,        /* AT+HTTPCGET     answers +HTTPCGET:<n>,<data> ... OK */
    EH_CPOST,       /* AT+HTTPCPOST    OK > <length bytes> +HTTPCPOST:<n>,<data> ... SEND OK */
    EH_CPUT,        /* AT+HTTPCPUT     the same with +HTTPCPUT */
} eh_kind;

/* Frames of the response body: the module's sizes (512 for HTTPCLIENT and
 * HTTPCPOST/PUT as its manual shows, <rx size> = 2048 by default for HTTPCGET). */
#define EH_CHUNK_CLIENT   512
#define EH_CHUNK_CGET     2048
#define EH_CHUNK_MAX      10240

typedef struct {
    eh_kind      kind;
    const char  *method;                  /* "HEAD", "GET", "POST", "PUT", "DELETE" */
    tm_http_url  url;
    char         headers[TM_HTTP_HEADER_MAX];   /* "Name: value\r\n"..., merged (http.c) */
    size_t       headers_len;
    uint8_t      body[TM_AT_LINE_MAX];    /* AT+HTTPCLIENT <data> (POST) */
    size_t       body_len;
    bool         has_body;                /* POST/PUT: Content-Length sent even when 0 */
    uint64_t     host_len;                /* HTTPCPOST/PUT: bytes the host sends after '>' */
    size_t       chunk;                   /* body frame size */
    uint32_t     timeout_ms;              /* <timeout> of HTTPCGET/GETSIZE; 0 = shared defaults */
} eh_request;

/* The one request slot (static: the module runs one HTTP command at a time). */
eh_request *eh_slot(void);
/* Runs *eh_slot(): returns TM_AT_PENDING (the answer and the result follow)
 * or an error with the reason filled (nothing printed). */
tm_err      eh_run(tm_at *at, esp_state *s);
void        eh_stop(void);                /* AT+RST / exit: drop a running request */

/* "OK" then the '>' prompt, as the module says it before counted input. */
void        eh_prompt(tm_at *at);

#endif
