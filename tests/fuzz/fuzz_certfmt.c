/* libFuzzer target: certificate and key import — what a host can send to
 * AT+KCERTSTORE / AT+KPRIVKSTORE / AT+S.TLSCERT and what the store gives back.
 *
 * Input: byte 0 = flags (bit 0: decode as key instead of certificate), the
 * rest = the bytes the host sent (PEM, DER, base64 or anything).
 *
 * Checked beyond "no sanitizer report":
 *  - decoded items lie inside the output and are one SEQUENCE each, so
 *    tm_der_split (how stored chains are read back) finds the same items;
 *  - every decoded item re-encoded as PEM decodes to the same DER;
 *  - base64 that decodes re-encodes and decodes to the same bytes.
 * Decoded certificates also go through the X.509 facts, SPKI hash, the
 * one-line summaries and the chain diagnosis; keys through the key check. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag/chain.h"
#include "diag/summary.h"
#include "store/certfmt.h"
#include "tls/x509.h"

#define OUT_CAP (64 * 1024)

static uint8_t g_out[OUT_CAP];
static uint8_t g_out2[OUT_CAP];
static char    g_pem[OUT_CAP * 2];
static tm_x509_info g_info[TM_CERTFMT_MAX_ITEMS];

static void ignore_line(void *arg, const char *text)
{
    (void)arg;
    (void)text;
}

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_certfmt: %s\n", what);
        abort();
    }
}

static void base64_roundtrip(const uint8_t *in, size_t len)
{
    long n = tm_base64_decode((const char *)in, len, g_out2, sizeof g_out2);
    if (n < 0)
        return;
    size_t e = tm_base64_encode(g_out2, (size_t)n, g_pem, sizeof g_pem, 64);
    check(e > 0 || n == 0, "base64: encode of decoded bytes failed");
    static uint8_t again[OUT_CAP];
    long m = tm_base64_decode(g_pem, e, again, sizeof again);
    check(m == n && memcmp(again, g_out2, (size_t)n) == 0, "base64: decode(encode(x)) != x");
}

/* The item as PEM, decoded again: the same DER. */
static void pem_roundtrip(const uint8_t *der, size_t len, const char *label, tm_item_kind want)
{
    if (!label[0])
        return;
    int h = snprintf(g_pem, sizeof g_pem, "-----BEGIN %s-----\n", label);
    size_t e = tm_base64_encode(der, len, g_pem + h, sizeof g_pem - (size_t)h, 64);
    if (e == 0)
        return;
    size_t t = (size_t)h + e;
    t += (size_t)snprintf(g_pem + t, sizeof g_pem - t, "-----END %s-----\n", label);
    tm_certfmt_result r2;
    tm_reason why;
    tm_reason_clear(&why);
    tm_err err = tm_certfmt_decode((const uint8_t *)g_pem, t, want, g_out2, sizeof g_out2, &r2, &why);
    if (err != TM_OK) {
        fprintf(stderr, "fuzz_certfmt: PEM of a decoded item (%s, %zu bytes) refused: %s\n", label, len,
                why.detail);
        abort();
    }
    check(r2.count == 1 && r2.len[0] == len && memcmp(g_out2 + r2.off[0], der, len) == 0,
          "PEM of a decoded item decodes to other DER");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    tm_item_kind want = (data[0] & 1) ? TM_ITEM_KEY : TM_ITEM_CERT;
    const uint8_t *in = data + 1;
    size_t len = size - 1;

    /* What the store hands back, whatever it holds. */
    tm_blob blobs[8];
    size_t nb = tm_der_split(in, len, blobs, 8);
    for (size_t i = 0; i < nb; i++)
        check(blobs[i].p >= in && blobs[i].p + blobs[i].len <= in + len, "tm_der_split: item outside input");

    base64_roundtrip(in, len);

    tm_certfmt_result res;
    tm_reason why;
    tm_reason_clear(&why);
    tm_err e = tm_certfmt_decode(in, len, want, g_out, sizeof g_out, &res, &why);
    if (e != TM_OK) {
        check(why.code != TM_OK && why.detail[0], "decode failed without a reason");
        return 0;
    }
    check(res.count >= 1 && res.count <= TM_CERTFMT_MAX_ITEMS && res.total <= sizeof g_out,
          "decode: bad count/total");
    for (int i = 0; i < res.count; i++)
        check(res.off[i] + res.len[i] <= res.total, "decode: item outside output");

    /* Items are back to back as the store keeps a chain: the splitter agrees. */
    tm_blob split[TM_CERTFMT_MAX_ITEMS];
    size_t ns = tm_der_split(g_out, res.total, split, TM_CERTFMT_MAX_ITEMS);
    if (ns != (size_t)res.count) {
        fprintf(stderr, "fuzz_certfmt: decode found %d items, tm_der_split %zu\n", res.count, ns);
        abort();
    }
    for (int i = 0; i < res.count; i++)
        check(split[i].p == g_out + res.off[i] && split[i].len == res.len[i], "tm_der_split: other item bounds");

    int64_t now = 1767225600;   /* fixed: 2026-01-01 */
    size_t nc = 0;
    for (int i = 0; i < res.count; i++) {
        const uint8_t *der = g_out + res.off[i];
        size_t dlen = res.len[i];
        pem_roundtrip(der, dlen, res.pem_label[i], want);
        char line[2048];
        if (want == TM_ITEM_KEY) {
            tm_reason_clear(&why);
            tm_x509_check_key(der, dlen, NULL, 0, &why);
            tm_key_summary(der, dlen, line, sizeof line);
            continue;
        }
        tm_reason_clear(&why);
        if (tm_x509_info_der(der, dlen, &g_info[nc], &why) != TM_OK)
            continue;
        uint8_t spki[32];
        tm_x509_spki_sha256(der, dlen, spki, &why);
        tm_x509_summary_line(&g_info[nc], now, TM_SUMMARY_ROLE | TM_SUMMARY_SANS, line, sizeof line);
        tm_x509_key_str(&g_info[nc], line, sizeof line);
        tm_chain_check_name(&g_info[nc], "www.example.test", &why);
        split[nc] = split[i];
        nc++;
    }
    if (nc) {
        tm_chain_check c = { .host = "www.example.test", .now = now };
        tm_chain_problems(split, g_info, nc, &c, ignore_line, NULL, NULL);
    }
    return 0;
}
