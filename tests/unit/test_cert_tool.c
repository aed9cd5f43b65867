/* tm_tls_verify_offline (src/tls/verify_offline.c), the verification behind
 * `tlsmodem-cert verify` and probe's anchor search: the modem's own TLS client
 * against a scripted server.  PKI from the openssl CLI into a temp dir (RSA
 * root, EC intermediate and leaf, so both scripted suites are used); skips
 * when openssl is missing. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/certfmt.h"
#include "tls/verify.h"
#include "tm_test.h"

static char dir[256];

static const char *pki_script =
    "set -e; cd \"$D\"\n"
    "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out root.key 2>/dev/null\n"
    "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out int.key 2>/dev/null\n"
    "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out leaf.key 2>/dev/null\n"
    "printf 'basicConstraints=critical,CA:TRUE\\nkeyUsage=critical,keyCertSign,cRLSign\\nsubjectKeyIdentifier=hash\\n' > ca.ext\n"
    "printf 'basicConstraints=CA:FALSE\\nsubjectAltName=DNS:www.example.test\\nextendedKeyUsage=serverAuth\\n' > leaf.ext\n"
    "openssl req -x509 -new -key root.key -subj '/CN=Unit Root' -days 3650 -out root.pem "
    "-addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign' 2>/dev/null\n"
    "openssl req -new -key int.key -subj '/CN=Unit Int' | openssl x509 -req -CA root.pem -CAkey root.key "
    "-CAcreateserial -days 3000 -extfile ca.ext -out int.pem 2>/dev/null\n"
    "openssl req -new -key leaf.key -subj '/CN=www.example.test' | openssl x509 -req -CA int.pem -CAkey int.key "
    "-CAcreateserial -days 300 -extfile leaf.ext -out leaf.pem 2>/dev/null\n";

static size_t load(const char *name, uint8_t *out, size_t cap)
{
    char path[400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    static uint8_t in[16384];
    size_t n = fread(in, 1, sizeof in, f);
    fclose(f);
    tm_certfmt_result r;
    tm_reason why;
    if (tm_certfmt_decode(in, n, TM_ITEM_CERT, out, cap, &r, &why) != TM_OK || r.count != 1)
        return 0;
    return r.len[0];
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/tm-unit-cert-%d", (int)getpid());
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "mkdir -p %s && D=%s sh -s", dir, dir);
    FILE *sh = popen(cmd, "w");
    int rc = sh ? (fputs(pki_script, sh), pclose(sh)) : -1;
    if (rc != 0) {
        printf("test_cert_tool: openssl CLI unavailable, skipped\n");
        TM_TEST_MAIN_END();
    }
    static uint8_t root[4096], inter[4096], leaf[4096];
    size_t rl = load("root.pem", root, sizeof root), il = load("int.pem", inter, sizeof inter),
           ll = load("leaf.pem", leaf, sizeof leaf);
    TM_CHECK(rl && il && ll);

    tm_blob anchors[1] = { { root, rl } };
    tm_blob good[2] = { { leaf, ll }, { inter, il } };
    tm_blob swapped[3] = { { leaf, ll }, { root, rl }, { inter, il } };
    tm_blob alone[1] = { { leaf, ll } };
    int64_t now = (int64_t)time(NULL);
    tm_tls_config cfg = { .host = "www.example.test", .verify = true, .anchors = anchors, .n_anchors = 1,
                          .now = now, .clock_set = true, .host_now = now };
    char v[512];
    tm_reason why;

    tm_reason_clear(&why);
    TM_EQ_INT(tm_tls_verify_offline(good, 2, &cfg, v, sizeof v, &why), TM_OK);
    TM_CHECK_MSG(strncmp(v, "verified by root 'CN=Unit Root' (loaded", 39) == 0, "%s", v);

    /* extra root and out of order: OpenSSL builds the path, as on a connection */
    TM_EQ_INT(tm_tls_verify_offline(swapped, 3, &cfg, v, sizeof v, &why), TM_OK);

    TM_EQ_INT(tm_tls_verify_offline(alone, 1, &cfg, v, sizeof v, &why), TM_E_CERT_CHAIN_INCOMPLETE);

    tm_tls_config c2 = cfg;
    c2.host = "other.example.test";
    TM_EQ_INT(tm_tls_verify_offline(good, 2, &c2, v, sizeof v, &why), TM_E_CERT_NAME_MISMATCH);
    TM_CHECK_MSG(strstr(why.detail, "asked for other.example.test") != NULL, "%s", why.detail);

    c2 = cfg;
    c2.now = c2.host_now = now + 400LL * 86400;
    TM_EQ_INT(tm_tls_verify_offline(good, 2, &c2, v, sizeof v, &why), TM_E_CERT_EXPIRED);

    /* the intermediate loaded: a partial-chain anchor, as in the modem */
    tm_blob ia[1] = { { inter, il } };
    c2 = cfg;
    c2.anchors = ia;
    TM_EQ_INT(tm_tls_verify_offline(alone, 1, &c2, v, sizeof v, &why), TM_OK);

    /* the leaf loaded: a pin */
    c2.anchors = alone;
    TM_EQ_INT(tm_tls_verify_offline(alone, 1, &c2, v, sizeof v, &why), TM_OK);
    TM_CHECK_MSG(strstr(v, "pinned leaf") != NULL, "%s", v);

    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cleanup failed\n");
    TM_TEST_MAIN_END();
}
