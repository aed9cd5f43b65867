/* ESP-AT ssl.c: what AT+CIPSSLC* settings and AT+SYSMFG items make of a
 * TLS configuration (esp_ssl_tls_config), the table of docs/esp.md §4:
 * the secure default, auth modes 0..3, CA chosen by number, HTTP's
 * https_ca, SNI / expected name / ALPN, an unusable stored item. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tm_test.h"
#include "core/modem.h"
#include "dialect/esp/esp.h"
#include "store/store.h"

#include "data/certfmt_vectors.inc"

extern const tm_dialect tm_dialect_esp;

static tm_modem M;
static char g_out[65536];

/* Runs one command line; returns what the modem answered. */
static const char *at(const char *line)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s\r\n", line);
    tm_at_feed(M.at, (const uint8_t *)buf, strlen(buf));
    tm_at_tick(M.at, 0);
    size_t o = 0;
    const uint8_t *p;
    size_t n;
    while ((n = tm_at_out_peek(M.at, &p)) > 0) {
        if (o + n >= sizeof g_out)
            n = sizeof g_out - o - 1;
        memcpy(g_out + o, p, n);
        o += n;
        tm_at_out_consume(M.at, n);
        if (o >= sizeof g_out - 1)
            break;
    }
    g_out[o] = '\0';
    return g_out;
}

static void put(const char *ns, const char *key, const void *data, size_t len)
{
    char name[128];
    snprintf(name, sizeof name, "esp/mfg/%s/%s", ns, key);
    uint8_t *b = malloc(len + 1);
    b[0] = '8';
    memcpy(b + 1, data, len);
    tm_reason r;
    TM_EQ_INT(tm_store_put(&M.store, name, b, len + 1, &r), TM_OK);
    free(b);
}

static void del(const char *ns, const char *key)
{
    char name[128];
    snprintf(name, sizeof name, "esp/mfg/%s/%s", ns, key);
    tm_store_del(&M.store, name, NULL);
}

static esp_state *S(void)
{
    return M.dialect_state;
}

int main(void)
{
    char dir[] = "/tmp/tm-esp-ssl-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    tm_reason r;
    TM_EQ_INT(tm_store_open(&M.store, dir, &r), TM_OK);
    snprintf(M.model, sizeof M.model, "esp32");
    snprintf(M.ca_bundle, sizeof M.ca_bundle, "/etc/bundle.pem");
    M.dialect = &tm_dialect_esp;
    M.at = malloc(tm_at_sizeof());
    tm_at_init(M.at, tm_dialect_esp.at, &M);
    tm_dialect_esp.start(&M);
    at("ATE0");

    esp_tls_hold h;
    tm_tls_config c;
    memset(&h, 0, sizeof h);

    /* never configured, nothing loaded: the bundle, the host's name, SNI from the host */
    TM_EQ_INT(esp_ssl_tls_config(S(), 0, "www.example.test", &h, &c, &r), TM_OK);
    TM_CHECK(c.verify && !h.unverified);
    TM_EQ_INT(c.n_anchors, 0);
    TM_EQ_STR(c.bundle_path, "/etc/bundle.pem");
    TM_CHECK(c.expected_name == NULL && c.sni == NULL && c.alpn == NULL && c.client_chain == NULL);
    TM_EQ_STR(c.host, "www.example.test");
    esp_tls_hold_free(&h);
    TM_CHECK(strstr(at("AT+CIPSSLCCONF?"), "+CIPSSLCCONF:0,2,0,0") != NULL);   /* shown as verifying */

    /* CAs loaded: only those (PEM and DER), no bundle */
    put("client_ca", "client_ca.0", V_CERT1_PEM, strlen(V_CERT1_PEM));
    put("client_ca", "client_ca.1", V_CERT2_DER, sizeof V_CERT2_DER);
    TM_EQ_INT(esp_ssl_tls_config(S(), 0, "www.example.test", &h, &c, &r), TM_OK);
    TM_EQ_INT(c.n_anchors, 2);
    TM_CHECK(c.bundle_path == NULL && c.verify);
    TM_EQ_MEM(c.anchors[1].p, c.anchors[1].len, V_CERT2_DER, sizeof V_CERT2_DER);
    esp_tls_hold_free(&h);

    /* auth mode 2 with ca_number 1: that CA only; a number not loaded: every CA */
    TM_CHECK(strstr(at("AT+CIPSSLCCONF=2,0,1"), "OK") != NULL);
    TM_EQ_INT(esp_ssl_tls_config(S(), 0, "h.test", &h, &c, &r), TM_OK);
    TM_EQ_INT(c.n_anchors, 1);
    TM_EQ_MEM(c.anchors[0].p, c.anchors[0].len, V_CERT2_DER, sizeof V_CERT2_DER);
    esp_tls_hold_free(&h);
    at("AT+CIPSSLCCONF=2,0,7");
    TM_EQ_INT(esp_ssl_tls_config(S(), 0, "h.test", &h, &c, &r), TM_OK);
    TM_EQ_INT(c.n_anchors, 2);
    esp_tls_hold_free(&h);

    /* auth mode 0: set by the host, unverified, nothing loaded is used */
    at("AT+CIPSSLCCONF=0");
    TM_EQ_INT(esp_ssl_tls_config(S(), 0, "h.test", &h, &c, &r), TM_OK);
    TM_CHECK(!c.verify && h.unverified);
    TM_EQ_INT(c.n_anchors, 0);
    esp_tls_hold_free(&h);

    /* modes 1 and 3 need the client certificate and its key */
    at("AT+CIPSSLCCONF=3,0,0");
    TM_EQ_INT(esp_ssl_tls_config(S(), 0, "h.test", &h, &c, &r), TM_E_NOT_FOUND);
    TM_CHECK(strstr(r.detail, "client_cert.0") != NULL);
    TM_CHECK(h.buf == NULL);                       /* freed on failure */
    put("client_cert", "client_cert.0", V_CERT1_PEM, strlen(V_CERT1_PEM));
    TM_EQ_INT(esp_ssl_tls_config(S(), 0, "h.test", &h, &c, &r), TM_E_NOT_FOUND);
    TM_CHECK(strstr(r.detail, "client_key.0") != NULL);
    put("client_key", "client_key.0", V_EC_KEY_PEM, strlen(V_EC_KEY_PEM));    /* cert1's own key */
    TM_EQ_INT(esp_ssl_tls_config(S(), 0, "h.test", &h, &c, &r), TM_OK);
    TM_EQ_INT(c.n_client_chain, 1);
    TM_CHECK(c.client_key.p != NULL && c.client_key.len > 0 && c.verify);
    TM_EQ_INT(c.n_anchors, 1);                                      /* mode 3, ca 0: client_ca.0 */
    esp_tls_hold_free(&h);
    put("client_cert", "client_cert.0", V_CERT2_PEM, strlen(V_CERT2_PEM));
    TM_CHECK(esp_ssl_tls_config(S(), 0, "h.test", &h, &c, &r) != TM_OK);   /* not that certificate's key */
    TM_CHECK(strstr(r.detail, "cannot be used with") != NULL);

    /* link 1 keeps its own settings: SNI, expected name, ALPN in wire format */
    TM_CHECK(strstr(at("AT+CIPMUX=1"), "OK") != NULL);
    at("AT+CIPSSLCSNI=1,\"sni.example.test\"");
    at("AT+CIPSSLCCN=1,\"cn.example.test\"");
    at("AT+CIPSSLCALPN=1,2,\"h2\",\"http/1.1\"");
    TM_EQ_INT(esp_ssl_tls_config(S(), 1, "10.0.0.1", &h, &c, &r), TM_OK);
    TM_EQ_STR(c.sni, "sni.example.test");
    TM_EQ_STR(c.expected_name, "cn.example.test");
    TM_EQ_MEM(c.alpn, c.alpn_len, "\x02h2\x08http/1.1", 12);
    TM_EQ_INT(c.n_anchors, 2);
    esp_tls_hold_free(&h);
    /* id 5 = every link */
    at("AT+CIPSSLCSNI=5,\"all.example.test\"");
    TM_EQ_INT(esp_ssl_tls_config(S(), 4, "x.test", &h, &c, &r), TM_OK);
    TM_EQ_STR(c.sni, "all.example.test");
    esp_tls_hold_free(&h);
    TM_CHECK(strstr(at("AT+CIPSSLCPSK=1,\"id\",\"hint\""), "ERROR") != NULL);

    /* HTTP: https_ca first, else client_ca */
    TM_EQ_INT(esp_ssl_tls_config(S(), ESP_LINK_HTTP, "x.test", &h, &c, &r), TM_OK);
    TM_EQ_INT(c.n_anchors, 2);
    esp_tls_hold_free(&h);
    put("https_ca", "https_ca.0", V_CERT2_PEM, strlen(V_CERT2_PEM));
    TM_EQ_INT(esp_ssl_tls_config(S(), ESP_LINK_HTTP, "x.test", &h, &c, &r), TM_OK);
    TM_EQ_INT(c.n_anchors, 1);
    TM_CHECK(c.verify && c.sni == NULL);
    esp_tls_hold_free(&h);

    /* a stored CA item that cannot be used refuses, never less trust */
    put("client_ca", "client_ca.2", "hello, not a certificate", 24);
    TM_EQ_INT(esp_ssl_tls_config(S(), 2, "x.test", &h, &c, &r), TM_E_CERT_FORMAT);
    TM_CHECK(strstr(r.detail, "client_ca/client_ca.2") != NULL);
    TM_CHECK(c.n_anchors == 0 && c.bundle_path == NULL && h.buf == NULL);
    del("client_ca", "client_ca.2");

    /* a restart keeps auth modes 1-3 (saved, as the firmware saves them) and
     * forgets the rest (SNI, CN, ALPN) ... */
    tm_dialect_esp.stop(&M);
    tm_dialect_esp.start(&M);
    TM_CHECK(strstr(at("AT+CIPSSLCCONF?"), "+CIPSSLCCONF:0,3,0,0") != NULL);
    /* ... but never mode 0: after a restart the link verifies again */
    at("AT+CIPSSLCCONF=0");
    tm_dialect_esp.stop(&M);
    tm_dialect_esp.start(&M);
    TM_CHECK(strstr(at("AT+CIPSSLCCONF?"), "+CIPSSLCCONF:0,2,0,0") != NULL);
    TM_EQ_INT(esp_ssl_tls_config(S(), 0, "h.test", &h, &c, &r), TM_OK);
    TM_CHECK(c.verify && c.sni == NULL && c.client_chain == NULL);
    esp_tls_hold_free(&h);

    tm_dialect_esp.stop(&M);
    tm_at_cleanup(M.at);
    free(M.at);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    TM_TEST_MAIN_END();
}
