/* tlsmodem — ESP-AT links, shared by sock.c (life cycle, CIPSTART/CLOSE/
 * MUX/STATUS), sock_send.c (CIPSEND, CIPSENDEX, transparent mode),
 * sock_recv.c (+IPD, passive receive) and sock_misc.c (CIPDOMAIN, CIPDNS,
 * PING, CIPSERVER, CIPSTO, CIPSSLSIZE).  Internal to the ESP dialect. */
#ifndef TM_ESP_SOCK_INTERNAL_H
#define TM_ESP_SOCK_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dialect/esp/esp.h"
#include "net/stream.h"

typedef enum { ESP_K_TCP = 0, ESP_K_UDP, ESP_K_SSL } esp_kind;
typedef enum { ESP_L_FREE = 0, ESP_L_OPENING, ESP_L_OPEN, ESP_L_GONE } esp_lstate;

/* Payload watchdog: a CIPSEND/CIPSENDEX/SYSMFG payload that stops short is
 * abandoned after this long without a byte (the module would wait forever;
 * docs/esp.md §3). */
#define ESP_PAYLOAD_IDLE_MS 10000
/* Passthrough ends with "+++" framed by this much silence (the manual's 20 ms). */
#define ESP_ESCAPE_GUARD_MS 20
/* Largest payload of one AT+CIPSEND / CIPSENDEX (the manual's 8192). */
#define ESP_SEND_MAX        8192

typedef struct esp_link {
    int          id;
    esp_lstate   state;
    esp_kind     kind;
    bool         v6;
    bool         server;          /* accepted by AT+CIPSERVER (raw fd, plain TCP) */
    tm_stream    st;              /* TCP/SSL client */
    int          fd;              /* raw fd: UDP, accepted TCP; -1 otherwise */
    esp_tls_hold hold;
    char         host[TM_HOST_MAX];
    char         rip[64];         /* remote IP as shown */
    int          rport, lport;
    int          udp_mode;        /* CIPSTART UDP <mode> 0..2 */
    bool         udp_changed;     /* mode 1: the peer was changed once */
    struct sockaddr_storage raddr;/* UDP peer */
    socklen_t    raddr_len;
    long         keepalive;
    /* receive */
    uint8_t     *rx;              /* TM_SOCK_RX_BUF */
    size_t       rx_len;
    bool         paused;          /* rx full / host slow: the socket is not read */
    bool         peer_gone;       /* EOF or error seen: CLOSED once the data is out */
    bool         passive;         /* AT+CIPRECVTYPE / CIPRECVMODE = 1 */
    bool         ipd_told;        /* passive: "+IPD,<id>,<len>" said, not yet read */
    uint64_t     rx_total, tx_total;
    /* send */
    uint8_t     *tx;              /* TM_SOCK_TX_BUF */
    size_t       tx_len;
    unsigned     timer;           /* connect timeout (raw UDP DNS) / CIPSTO idle */
    unsigned     dns;
    int64_t      last_io_ms;      /* CIPSTO */
    tm_reason    why_gone;
    bool         abort_close;     /* AT+CIPCLOSEMODE=<id>,1: close with RST (kept per id) */
    char         sip[64];         /* UDP: sender of the data in rx (CIPDINFO) */
    int          sport;
} esp_link;

typedef struct {
    bool      mux;                /* AT+CIPMUX */
    int       cipmode;            /* AT+CIPMODE 0/1 */
    bool      dinfo;              /* AT+CIPDINFO */
    long      sto;                /* AT+CIPSTO seconds */
    esp_link  link[ESP_LINKS];
    tm_at    *at;
    esp_state *s;
    bool      transparent;        /* in AT+CIPSEND passthrough data mode */
    bool      ipv6;               /* AT+CIPV6=1: the v6 link types are allowed */
} esp_sock_g;

extern esp_sock_g g_sk;

/* sock.c */
esp_link *esp_link_get(int id);
void      esp_link_free(esp_link *k);
/* The link the host means: with CIPMUX=1 argument idx is the id (must be
 * open unless allow_free); with CIPMUX=0 link 0 and *next = idx. */
tm_err    esp_link_arg(tm_at *at, const tm_at_args *a, int idx, bool allow_free, esp_link **out, int *next);
/* "<id>," with CIPMUX=1, "" otherwise. */
const char *esp_link_prefix(const esp_link *k, char *buf, size_t cap);
const char *esp_link_type(const esp_link *k);            /* "TCP", "UDPv6", "SSL", … */
/* "<id>,CONNECT" or, with AT+SYSMSG bit 1, "+LINK_CONN:…" (sock.c) */
const char *esp_link_connect_text(const esp_link *k, char *buf, size_t cap);
void      esp_link_gone(esp_link *k, const tm_reason *why);    /* peer closed / error */
long      esp_link_write(esp_link *k, const void *p, size_t n); /* >= 0 accepted, -1 error */
void      esp_link_want_read(esp_link *k, bool on);
void      esp_link_pump_tx(esp_link *k);
void      esp_link_on_raw_io(void *arg, int fd, unsigned revents);
tm_err    esp_sock_need_ip(tm_at *at);

void      esp_sock_note_opened(void);

/* sock_recv.c */
void      esp_recv_readable(esp_link *k);   /* read what the socket has into rx (as room allows) */
void      esp_recv_idle(void *unused);      /* push +IPD / notices / CLOSED as output room allows */
tm_err    esp_recvmode_read(tm_at *at, const tm_at_args *a);
tm_err    esp_recvmode_set(tm_at *at, const tm_at_args *a);
tm_err    esp_recvtype_read(tm_at *at, const tm_at_args *a);
tm_err    esp_recvtype_set(tm_at *at, const tm_at_args *a);
tm_err    esp_recvlen_read(tm_at *at, const tm_at_args *a);
tm_err    esp_recvdata_set(tm_at *at, const tm_at_args *a);
void      esp_recv_reset(void);                   /* a pending AT+CIPRECVDATA is forgotten */

/* sock_send.c */
void      esp_send_link_gone(esp_link *k);         /* a send or passthrough on k ends */
bool      esp_send_transparent(const esp_link *k); /* k's data goes raw to the host now */
void      esp_send_reset(void);
void      esp_send_drained(esp_link *k);           /* k's tx buffer emptied: a waiting send goes on */
tm_err    esp_cipsend_set(tm_at *at, const tm_at_args *a);
tm_err    esp_cipsend_exec(tm_at *at, const tm_at_args *a);
tm_err    esp_cipsendex_set(tm_at *at, const tm_at_args *a);

/* sock_misc.c */
void      esp_server_reset(void);
void      esp_server_lost(void);
bool      esp_sock_server_running(void);
tm_err    esp_cipdomain_set(tm_at *at, const tm_at_args *a);
tm_err    esp_cipdns_read(tm_at *at, const tm_at_args *a);
tm_err    esp_cipdns_set(tm_at *at, const tm_at_args *a);
tm_err    esp_ping_set(tm_at *at, const tm_at_args *a);
tm_err    esp_cipserver_read(tm_at *at, const tm_at_args *a);
tm_err    esp_cipserver_set(tm_at *at, const tm_at_args *a);
tm_err    esp_servermax_read(tm_at *at, const tm_at_args *a);
tm_err    esp_servermax_set(tm_at *at, const tm_at_args *a);
tm_err    esp_cipsto_read(tm_at *at, const tm_at_args *a);
tm_err    esp_cipsto_set(tm_at *at, const tm_at_args *a);
tm_err    esp_cipsslsize_set(tm_at *at, const tm_at_args *a);

#endif
