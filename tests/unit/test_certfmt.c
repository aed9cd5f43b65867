/* Unit tests: certificate/key format detection (src/store/certfmt.c) with
 * real vectors made by the openssl CLI (tests/unit/data/certfmt_vectors.inc). */
#include "tm_test.h"
#include "store/certfmt.h"

#include <stdint.h>

#include "data/certfmt_vectors.inc"

static uint8_t g_out[64 * 1024];
static tm_certfmt_result g_res;
static tm_reason g_why;

static tm_err dec(const void *in, size_t len, tm_item_kind want)
{
    tm_reason_clear(&g_why);
    return tm_certfmt_decode(in, len, want, g_out, sizeof g_out, &g_res, &g_why);
}

static tm_err dec_s(const char *s, tm_item_kind want) { return dec(s, strlen(s), want); }

#define HAS(sub) TM_CHECK_MSG(strstr(g_why.detail, (sub)) != NULL, "detail \"%s\" lacks \"%s\"", g_why.detail, (sub))

static void expect_cert1(tm_fmt fmt)
{
    TM_EQ_INT(g_res.fmt, fmt);
    TM_EQ_INT(g_res.count, 1);
    TM_EQ_MEM(g_out + g_res.off[0], g_res.len[0], V_CERT1_DER, sizeof V_CERT1_DER);
    TM_EQ_STR(g_res.pem_label[0], "CERTIFICATE");
    TM_EQ_INT(g_res.total, sizeof V_CERT1_DER);
}

/* LF -> CRLF */
static char *crlf(const char *s)
{
    static char buf[16384];
    size_t o = 0;
    for (; *s && o < sizeof buf - 3; s++) {
        if (*s == '\n')
            buf[o++] = '\r';
        buf[o++] = *s;
    }
    buf[o] = '\0';
    return buf;
}

/* LF -> CR (what a terminal sends when a PEM is pasted) */
static char *cr_only(const char *s)
{
    static char buf[16384];
    size_t o = 0;
    for (; *s && o < sizeof buf - 2; s++)
        buf[o++] = *s == '\n' ? '\r' : *s;
    buf[o] = '\0';
    return buf;
}

static void test_base64(void)
{
    char enc[64];
    uint8_t dec_[64];
    const char *vec[][2] = { {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
                             {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"} };
    for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
        size_t n = tm_base64_encode((const uint8_t *)vec[i][0], strlen(vec[i][0]), enc, sizeof enc, 0);
        TM_EQ_INT(n, strlen(vec[i][1]));
        TM_EQ_STR(enc, vec[i][1]);
        long m = tm_base64_decode(vec[i][1], strlen(vec[i][1]), dec_, sizeof dec_);
        TM_EQ_MEM(dec_, (size_t)m, vec[i][0], strlen(vec[i][0]));
    }
    /* line breaks */
    size_t n = tm_base64_encode((const uint8_t *)"foobarfoobar", 12, enc, sizeof enc, 8);
    TM_EQ_STR(enc, "Zm9vYmFy\nZm9vYmFy\n");
    TM_EQ_INT(n, 18);
    TM_EQ_INT(tm_base64_encode((const uint8_t *)"foobar", 6, enc, 8, 0), 0);   /* no room for NUL */
    TM_EQ_INT(tm_base64_decode(" Zm9v\r\nYmE=\n", 12, dec_, sizeof dec_), 5);
    TM_EQ_INT(tm_base64_decode("Zm9vYmE", 7, dec_, sizeof dec_), 5);            /* unpadded */
    TM_EQ_INT(tm_base64_decode("Zm9v!mE=", 8, dec_, sizeof dec_), -1);
    TM_EQ_INT(tm_base64_decode("Zg==Zg==", 8, dec_, sizeof dec_), -1);
    TM_EQ_INT(tm_base64_decode("Z", 1, dec_, sizeof dec_), -1);
    TM_EQ_INT(tm_base64_decode("Z===", 4, dec_, sizeof dec_), -1);
    TM_EQ_INT(tm_base64_decode("Zm9vYmFy", 8, dec_, 5), -1);                   /* cap */
}

static void test_pem(void)
{
    TM_EQ_INT(dec_s(V_CERT1_PEM, TM_ITEM_CERT), TM_OK);
    expect_cert1(TM_FMT_PEM);
    TM_EQ_INT(dec_s(crlf(V_CERT1_PEM), TM_ITEM_CERT), TM_OK);
    expect_cert1(TM_FMT_PEM);

    /* CR-only line ends (a terminal's paste), also for a two-block bundle and a key; CR CR LF too */
    TM_EQ_INT(dec_s(cr_only(V_CERT1_PEM), TM_ITEM_CERT), TM_OK);
    expect_cert1(TM_FMT_PEM);
    {
        char b2[8192];
        snprintf(b2, sizeof b2, "%s%s", V_CERT1_PEM, V_CERT2_PEM);
        TM_EQ_INT(dec_s(cr_only(b2), TM_ITEM_CERT), TM_OK);
        TM_EQ_INT(g_res.count, 2);
        TM_EQ_MEM(g_out + g_res.off[1], g_res.len[1], V_CERT2_DER, sizeof V_CERT2_DER);
        TM_EQ_INT(dec_s(cr_only(V_EC_KEY_PEM), TM_ITEM_KEY), TM_OK);
        TM_EQ_INT(g_res.count, 1);
        char crcrlf[8192];
        size_t o = 0;
        for (const char *q = V_CERT1_PEM; *q && o < sizeof crcrlf - 4; q++) {
            if (*q == '\n') { crcrlf[o++] = '\r'; crcrlf[o++] = '\r'; }
            crcrlf[o++] = *q;
        }
        crcrlf[o] = '\0';
        TM_EQ_INT(dec_s(crcrlf, TM_ITEM_CERT), TM_OK);
        expect_cert1(TM_FMT_PEM);
    }

    /* a count announced for the LF file, the terminal sent CR LF: the size the PEM needs */
    {
        size_t n = strlen(V_CERT1_PEM), need = 0;
        const char *c = crlf(V_CERT1_PEM);
        TM_CHECK(tm_certfmt_pem_crlf_need((const uint8_t *)c, n, &need));
        TM_EQ_INT(need, strlen(c));
        char b2[8192];
        snprintf(b2, sizeof b2, "%s%s", V_CERT1_PEM, V_CERT2_PEM);
        n = strlen(b2);
        c = crlf(b2);
        TM_CHECK(tm_certfmt_pem_crlf_need((const uint8_t *)c, n, &need));
        TM_EQ_INT(need, strlen(c));
        TM_CHECK(!tm_certfmt_pem_crlf_need((const uint8_t *)V_CERT1_PEM, strlen(V_CERT1_PEM) - 40, &need));   /* LF only */
        c = crlf(V_CERT1_PEM);
        TM_CHECK(!tm_certfmt_pem_crlf_need((const uint8_t *)c, strlen(c), &need));         /* complete */
    }

    /* two-certificate bundle, CRLF, trailing whitespace */
    char bundle[8192];
    snprintf(bundle, sizeof bundle, "%s%s\r\n\r\n  ", V_CERT1_PEM, V_CERT2_PEM);
    TM_EQ_INT(dec_s(crlf(bundle), TM_ITEM_CERT), TM_OK);
    TM_EQ_INT(g_res.count, 2);
    TM_EQ_MEM(g_out + g_res.off[0], g_res.len[0], V_CERT1_DER, sizeof V_CERT1_DER);
    TM_EQ_MEM(g_out + g_res.off[1], g_res.len[1], V_CERT2_DER, sizeof V_CERT2_DER);
    TM_EQ_INT(g_res.total, sizeof V_CERT1_DER + sizeof V_CERT2_DER);

    /* text before and between blocks as openssl prints it */
    TM_EQ_INT(dec_s(V_SUBJECT_PEM, TM_ITEM_CERT), TM_OK);
    expect_cert1(TM_FMT_PEM);
    snprintf(bundle, sizeof bundle, "Bag Attributes\n    friendlyName: x\nsubject=CN = a\n%s"
             "issuer=CN = b\n\n%s", V_CERT2_PEM, V_CERT1_PEM);
    TM_EQ_INT(dec_s(bundle, TM_ITEM_CERT), TM_OK);
    TM_EQ_INT(g_res.count, 2);
    TM_EQ_MEM(g_out + g_res.off[1], g_res.len[1], V_CERT1_DER, sizeof V_CERT1_DER);

    /* pkcs12 -nodes output: cert + key with Bag Attributes */
    TM_EQ_INT(dec_s(V_BAG_PEM, TM_ITEM_CERT), TM_OK);
    expect_cert1(TM_FMT_PEM);
    TM_EQ_INT(dec_s(V_BAG_PEM, TM_ITEM_KEY), TM_OK);
    TM_EQ_INT(g_res.count, 1);
    TM_EQ_STR(g_res.pem_label[0], "PRIVATE KEY");
    TM_EQ_MEM(g_out, g_res.len[0], V_P8_KEY_DER, sizeof V_P8_KEY_DER);

    /* TRUSTED CERTIFICATE is a certificate (trust settings dropped) */
    TM_EQ_INT(dec_s(V_TRUSTED_PEM, TM_ITEM_CERT), TM_OK);
    expect_cert1(TM_FMT_PEM);

    /* keys */
    TM_EQ_INT(dec_s(V_P8_KEY_PEM, TM_ITEM_KEY), TM_OK);
    TM_EQ_INT(g_res.count, 1);
    TM_EQ_STR(g_res.pem_label[0], "PRIVATE KEY");
    TM_EQ_MEM(g_out, g_res.len[0], V_P8_KEY_DER, sizeof V_P8_KEY_DER);
    TM_EQ_INT(dec_s(crlf(V_EC_KEY_PEM), TM_ITEM_KEY), TM_OK);
    TM_EQ_STR(g_res.pem_label[0], "EC PRIVATE KEY");
    TM_EQ_INT(g_res.fmt, TM_FMT_PEM);

    /* encrypted keys are refused */
    TM_EQ_INT(dec_s(V_ENC_KEY_PEM, TM_ITEM_KEY), TM_E_KEY_FORMAT);
    HAS("encrypted keys are not supported; decrypt with openssl pkey: openssl pkey -in key.pem -out key-decrypted.pem");
    const char *legacy = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
                         "DEK-Info: AES-128-CBC,0123456789ABCDEF0123456789ABCDEF\n\nAAAA\n"
                         "-----END RSA PRIVATE KEY-----\n";
    TM_EQ_INT(dec_s(legacy, TM_ITEM_KEY), TM_E_KEY_FORMAT);
    HAS("encrypted keys are not supported");

    /* kinds mixed up */
    TM_EQ_INT(dec_s(V_P8_KEY_PEM, TM_ITEM_CERT), TM_E_CERT_FORMAT);
    HAS("this is a PRIVATE KEY, not a certificate");
    TM_EQ_INT(dec_s(V_EC_KEY_PEM, TM_ITEM_CERT), TM_E_CERT_FORMAT);
    HAS("this is an EC PRIVATE KEY, not a certificate");
    TM_EQ_INT(dec_s(V_CERT1_PEM, TM_ITEM_KEY), TM_E_KEY_FORMAT);
    HAS("this is a CERTIFICATE, not a private key");

    /* only skipped kinds */
    const char *crl = "-----BEGIN X509 CRL-----\nMAA=\n-----END X509 CRL-----\n";
    TM_EQ_INT(dec_s(crl, TM_ITEM_CERT), TM_E_CERT_FORMAT);
    HAS("X509 CRL");
    /* a CRL next to a certificate is skipped silently */
    snprintf(bundle, sizeof bundle, "%s%s", crl, V_CERT1_PEM);
    TM_EQ_INT(dec_s(bundle, TM_ITEM_CERT), TM_OK);
    expect_cert1(TM_FMT_PEM);

    /* truncated PEM */
    char cut[4096];
    size_t half = strlen(V_CERT1_PEM) / 2;
    memcpy(cut, V_CERT1_PEM, half);
    cut[half] = '\0';
    TM_EQ_INT(dec_s(cut, TM_ITEM_CERT), TM_E_CERT_FORMAT);
    HAS("BEGIN CERTIFICATE without END");

    /* bad base64 on line 7 of the input */
    char bad[4096];
    snprintf(bad, sizeof bad, "%s", V_CERT1_PEM);
    char *l = bad;
    for (int i = 0; i < 6; i++)
        l = strchr(l, '\n') + 1;
    l[3] = '#';
    TM_EQ_INT(dec_s(bad, TM_ITEM_CERT), TM_E_CERT_FORMAT);
    HAS("bad base64 in PEM block 1, line 7");
    /* ... also in the second block of a bundle */
    snprintf(bundle, sizeof bundle, "%s%s", V_CERT2_PEM, bad);
    TM_EQ_INT(dec_s(bundle, TM_ITEM_CERT), TM_E_CERT_FORMAT);
    HAS("bad base64 in PEM block 2, line 18");

    /* a base64 line dropped: DER inside no longer consistent */
    snprintf(bad, sizeof bad, "%s", V_CERT1_PEM);
    l = strchr(bad, '\n') + 1;
    l = strchr(l, '\n') + 1;
    char *next = strchr(l, '\n') + 1;
    memmove(l, next, strlen(next) + 1);
    TM_EQ_INT(dec_s(bad, TM_ITEM_CERT), TM_E_CERT_FORMAT);
    HAS("PEM block 1 (CERTIFICATE)");
    HAS("DER says");

    /* mismatched END */
    const char *mism = "-----BEGIN CERTIFICATE-----\nMAA=\n-----END PRIVATE KEY-----\n";
    TM_EQ_INT(dec_s(mism, TM_ITEM_CERT), TM_E_CERT_FORMAT);
    HAS("ends with END PRIVATE KEY");
    /* malformed marker */
    TM_EQ_INT(dec_s("-----BEGIN CERTIFICATE\nMAA=\n", TM_ITEM_CERT), TM_E_CERT_FORMAT);
    HAS("not a PEM BEGIN line");
}

static void test_der(void)
{
    TM_EQ_INT(dec(V_CERT1_DER, sizeof V_CERT1_DER, TM_ITEM_CERT), TM_OK);
    expect_cert1(TM_FMT_DER);
    /* trailing CRLF tolerated */
    uint8_t buf[4096];
    memcpy(buf, V_CERT1_DER, sizeof V_CERT1_DER);
    memcpy(buf + sizeof V_CERT1_DER, "\r\n", 2);
    TM_EQ_INT(dec(buf, sizeof V_CERT1_DER + 2, TM_ITEM_CERT), TM_OK);
    expect_cert1(TM_FMT_DER);

    /* concatenation */
    memcpy(buf, V_CERT1_DER, sizeof V_CERT1_DER);
    memcpy(buf + sizeof V_CERT1_DER, V_CERT2_DER, sizeof V_CERT2_DER);
    size_t both = sizeof V_CERT1_DER + sizeof V_CERT2_DER;
    TM_EQ_INT(dec(buf, both, TM_ITEM_CERT), TM_OK);
    TM_EQ_INT(g_res.count, 2);
    TM_EQ_INT(g_res.fmt, TM_FMT_DER);
    TM_EQ_MEM(g_out + g_res.off[1], g_res.len[1], V_CERT2_DER, sizeof V_CERT2_DER);

    /* truncated DER */
    TM_EQ_INT(dec(V_CERT1_DER, sizeof V_CERT1_DER - 27, TM_ITEM_CERT), TM_E_CERT_FORMAT);
    char want[160];
    snprintf(want, sizeof want, "DER says %zu bytes but %zu were sent (the byte count or the transfer cut it)",
             sizeof V_CERT1_DER, sizeof V_CERT1_DER - 27);
    HAS(want);
    /* second item cut */
    TM_EQ_INT(dec(buf, both - 100, TM_ITEM_CERT), TM_E_CERT_FORMAT);
    HAS("DER item 2");
    HAS("only");
    /* extra junk after the DER */
    memcpy(buf + sizeof V_CERT1_DER, "junk!", 5);
    TM_EQ_INT(dec(buf, sizeof V_CERT1_DER + 5, TM_ITEM_CERT), TM_E_CERT_FORMAT);
    HAS("not DER");
    /* inner length corrupted */
    memcpy(buf, V_CERT1_DER, sizeof V_CERT1_DER);
    buf[6] = 0xff;
    TM_EQ_INT(dec(buf, sizeof V_CERT1_DER, TM_ITEM_CERT), TM_E_CERT_FORMAT);
    HAS("inconsistent");
    /* indefinite length */
    TM_EQ_INT(dec("\x30\x80\x00\x00", 4, TM_ITEM_CERT), TM_E_CERT_FORMAT);
    HAS("not a definite length");

    /* DER key */
    TM_EQ_INT(dec(V_P8_KEY_DER, sizeof V_P8_KEY_DER, TM_ITEM_KEY), TM_OK);
    TM_EQ_INT(g_res.count, 1);
    TM_EQ_STR(g_res.pem_label[0], "PRIVATE KEY");
    TM_EQ_INT(dec(V_EC_KEY_DER, sizeof V_EC_KEY_DER, TM_ITEM_KEY), TM_OK);
    TM_EQ_STR(g_res.pem_label[0], "EC PRIVATE KEY");
    TM_EQ_INT(dec_s(V_EC_KEY_PEM, TM_ITEM_KEY), TM_OK);
    TM_EQ_MEM(g_out, g_res.len[0], V_EC_KEY_DER, sizeof V_EC_KEY_DER);
    TM_EQ_INT(dec(V_P8_KEY_DER, sizeof V_P8_KEY_DER, TM_ITEM_CERT), TM_E_CERT_FORMAT);
    HAS("this is a PRIVATE KEY, not a certificate");
    TM_EQ_INT(dec(V_CERT1_DER, sizeof V_CERT1_DER, TM_ITEM_KEY), TM_E_KEY_FORMAT);
    HAS("this is a CERTIFICATE, not a private key");

    /* output buffer too small */
    tm_reason why;
    tm_certfmt_result res;
    uint8_t small[100];
    TM_EQ_INT(tm_certfmt_decode(V_CERT1_DER, sizeof V_CERT1_DER, TM_ITEM_CERT, small, sizeof small, &res, &why),
              TM_E_TOO_LARGE);
    TM_EQ_INT(tm_certfmt_decode((const uint8_t *)V_CERT1_PEM, strlen(V_CERT1_PEM), TM_ITEM_CERT, small,
                                sizeof small, &res, &why), TM_E_TOO_LARGE);
}

static void test_bare_base64(void)
{
    char b64[4096];
    tm_base64_encode(V_CERT1_DER, sizeof V_CERT1_DER, b64, sizeof b64, 0);
    TM_EQ_INT(dec_s(b64, TM_ITEM_CERT), TM_OK);
    expect_cert1(TM_FMT_BASE64);
    tm_base64_encode(V_CERT1_DER, sizeof V_CERT1_DER, b64, sizeof b64, 64);
    TM_EQ_INT(dec_s(crlf(b64), TM_ITEM_CERT), TM_OK);
    expect_cert1(TM_FMT_BASE64);
    tm_base64_encode(V_CERT1_DER, sizeof V_CERT1_DER, b64, sizeof b64, 76);
    TM_EQ_INT(dec_s(b64, TM_ITEM_CERT), TM_OK);
    expect_cert1(TM_FMT_BASE64);
    /* base64 of a key */
    tm_base64_encode(V_P8_KEY_DER, sizeof V_P8_KEY_DER, b64, sizeof b64, 64);
    TM_EQ_INT(dec_s(b64, TM_ITEM_KEY), TM_OK);
    TM_EQ_INT(g_res.fmt, TM_FMT_BASE64);
    TM_EQ_MEM(g_out, g_res.len[0], V_P8_KEY_DER, sizeof V_P8_KEY_DER);
    /* base64 of truncated DER */
    tm_base64_encode(V_CERT1_DER, sizeof V_CERT1_DER - 30, b64, sizeof b64, 64);
    TM_EQ_INT(dec_s(b64, TM_ITEM_CERT), TM_E_CERT_FORMAT);
    HAS("DER says");
}

static void test_garbage(void)
{
    TM_EQ_INT(dec("", 0, TM_ITEM_CERT), TM_E_CERT_FORMAT);
    HAS("no data");
    TM_EQ_INT(dec(NULL, 0, TM_ITEM_KEY), TM_E_KEY_FORMAT);
    TM_EQ_INT(dec_s(" \r\n\r\n", TM_ITEM_CERT), TM_E_CERT_FORMAT);
    HAS("only whitespace");
    TM_EQ_INT(dec_s("Hello world\r\n", TM_ITEM_CERT), TM_E_CERT_FORMAT);
    HAS("starts with 'Hello world'");
    TM_EQ_INT(dec_s("GET / HTTP/1.1\r\nHost: x\r\n\r\n", TM_ITEM_KEY), TM_E_KEY_FORMAT);
    HAS("starts with 'GET / HTTP/1.1'");
    /* random binary (deterministic LCG) */
    uint8_t rnd[1000];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof rnd; i++) {
        x = x * 1103515245u + 12345u;
        rnd[i] = (uint8_t)(x >> 16);
    }
    rnd[0] = 0x7f;
    TM_EQ_INT(dec(rnd, sizeof rnd, TM_ITEM_CERT), TM_E_CERT_FORMAT);
    HAS("binary data that is not DER: first byte 0x7f");
    /* random binary starting like a SEQUENCE */
    rnd[0] = 0x30;
    rnd[1] = 0x82;
    TM_EQ_INT(dec(rnd, sizeof rnd, TM_ITEM_CERT), TM_E_CERT_FORMAT);
    TM_CHECK(g_why.detail[0] != '\0');
    /* every prefix of every vector: never crashes, never succeeds falsely on a cut DER */
    for (size_t n = 1; n < sizeof V_CERT1_DER; n++) {
        tm_err e = dec(V_CERT1_DER, n, TM_ITEM_CERT);
        TM_CHECK_MSG(e == TM_E_CERT_FORMAT, "prefix %zu -> %d", n, e);
    }
    size_t pl = strlen(V_BAG_PEM);
    int ok = 0;
    for (size_t n = 0; n < pl; n++) {
        tm_err e = dec(V_BAG_PEM, n, TM_ITEM_KEY);
        ok += e == TM_OK;
        TM_CHECK(e == TM_OK || e == TM_E_KEY_FORMAT);
    }
    TM_CHECK(ok > 0);
}

int main(void)
{
    test_base64();
    test_pem();
    test_der();
    test_bare_base64();
    test_garbage();
    TM_TEST_MAIN_END();
}
