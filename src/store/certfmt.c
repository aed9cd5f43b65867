/* See certfmt.h.  Pure C: no TLS backend, no allocation. */
#include "store/certfmt.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

const char *tm_fmt_name(tm_fmt f)
{
    switch (f) {
    case TM_FMT_PEM:    return "PEM";
    case TM_FMT_DER:    return "DER";
    case TM_FMT_BASE64: return "base64";
    default:            return "unknown";
    }
}

/* ---- base64 ---------------------------------------------------------- */

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

static bool is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* Incremental decoder: whitespace is the caller's business. */
typedef struct {
    uint32_t acc;
    int      n;       /* sextets in acc */
    int      pad;     /* '=' seen */
    size_t   out;     /* bytes produced (also counted past cap) */
    bool     bad;
} b64_dec;

/* Returns false on a character that is not base64 or misplaced padding. */
static bool b64_put(b64_dec *d, unsigned char c, uint8_t *out, size_t cap)
{
    if (c == '=') {
        /* "xx==" or "xxx=": padding only after 2 or 3 sextets. */
        if (d->n + d->pad < 2 || d->n + d->pad >= 4) {
            d->bad = true;
            return false;
        }
        d->pad++;
        if (d->n + d->pad == 4) {
            /* flush */
            if (d->n == 2) {
                if (d->out < cap) out[d->out] = (uint8_t)(d->acc >> 4);
                d->out++;
            } else {
                if (d->out < cap) out[d->out] = (uint8_t)(d->acc >> 10);
                d->out++;
                if (d->out < cap) out[d->out] = (uint8_t)(d->acc >> 2);
                d->out++;
            }
            d->n = 4;   /* group complete; anything but more '=' is bad now */
        }
        return true;
    }
    int v = b64val(c);
    if (v < 0 || d->pad) {
        d->bad = true;
        return false;
    }
    if (d->n == 4)
        d->n = 0, d->acc = 0;
    d->acc = (d->acc << 6) | (uint32_t)v;
    if (++d->n == 4) {
        for (int s = 16; s >= 0; s -= 8) {
            if (d->out < cap) out[d->out] = (uint8_t)(d->acc >> s);
            d->out++;
        }
        d->acc = 0;
    }
    return true;
}

/* Ends the input: flushes an unpadded tail of 2 or 3 sextets. */
static bool b64_end(b64_dec *d, uint8_t *out, size_t cap)
{
    if (d->bad)
        return false;
    if (d->pad)
        return d->n == 4;
    if (d->n == 4 || d->n == 0)
        return true;
    if (d->n == 1)
        return false;
    if (d->n == 2) {
        if (d->out < cap) out[d->out] = (uint8_t)(d->acc >> 4);
        d->out++;
    } else {
        if (d->out < cap) out[d->out] = (uint8_t)(d->acc >> 10);
        d->out++;
        if (d->out < cap) out[d->out] = (uint8_t)(d->acc >> 2);
        d->out++;
    }
    return true;
}

long tm_base64_decode(const char *in, size_t len, uint8_t *out, size_t cap)
{
    b64_dec d = {0};
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (is_ws(c))
            continue;
        if (!b64_put(&d, c, out, cap))
            return -1;
    }
    if (!b64_end(&d, out, cap) || d.out > cap)
        return -1;
    return (long)d.out;
}

size_t tm_base64_encode(const uint8_t *in, size_t len, char *out, size_t cap, int line_len)
{
    size_t chars = (len + 2) / 3 * 4;
    size_t lines = line_len > 0 && chars ? (chars + (size_t)line_len - 1) / (size_t)line_len : 0;
    size_t need = chars + lines;
    if (need + 1 > cap)
        return 0;
    size_t o = 0, col = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        size_t rem = len - i;
        if (rem > 1) v |= (uint32_t)in[i + 1] << 8;
        if (rem > 2) v |= in[i + 2];
        char q[4] = { B64[(v >> 18) & 63], B64[(v >> 12) & 63],
                      rem > 1 ? B64[(v >> 6) & 63] : '=', rem > 2 ? B64[v & 63] : '=' };
        for (int k = 0; k < 4; k++) {
            out[o++] = q[k];
            if (line_len > 0 && ++col == (size_t)line_len) {
                out[o++] = '\n';
                col = 0;
            }
        }
    }
    if (line_len > 0 && col)
        out[o++] = '\n';
    out[o] = '\0';
    return o;
}

/* ---- DER --------------------------------------------------------------- */

/* One TLV header. Returns 0, or 1 = header cut short, 2 = indefinite or
 * unsupported length form, 3 = length does not fit. */
static int der_tlv(const uint8_t *p, size_t n, size_t *hdr, size_t *clen)
{
    if (n < 2)
        return 1;
    if ((p[0] & 0x1f) == 0x1f)
        return 2;   /* high tag numbers do not occur in what we accept */
    uint8_t l = p[1];
    if (l < 0x80) {
        *hdr = 2;
        *clen = l;
        return 0;
    }
    size_t nb = l & 0x7f;
    if (nb == 0 || nb > 4)
        return 2;
    if (n < 2 + nb)
        return 1;
    size_t v = 0;
    for (size_t i = 0; i < nb; i++)
        v = (v << 8) | p[2 + i];
    *hdr = 2 + nb;
    *clen = v;
    return 0;
}

typedef enum { K_OTHER, K_CERT, K_KEY, K_ENC_KEY } der_kind;

/* Checks that p[0..n) starts with a SEQUENCE whose length fits; *total is
 * its size.  Inner elements must tile the content exactly. */
static bool der_item(const uint8_t *p, size_t n, size_t *total, char *err, size_t ecap, bool *short_by)
{
    size_t hdr, clen;
    *short_by = false;
    if (n == 0 || p[0] != 0x30) {
        snprintf(err, ecap, "does not start with an ASN.1 SEQUENCE (first byte 0x%02x)", n ? p[0] : 0);
        return false;
    }
    int r = der_tlv(p, n, &hdr, &clen);
    if (r == 1) {
        snprintf(err, ecap, "the DER length field is cut off after %zu bytes", n);
        *short_by = true;
        return false;
    }
    if (r) {
        snprintf(err, ecap, "the DER length byte 0x%02x is not a definite length", p[1]);
        return false;
    }
    if (clen > n - hdr) {
        *total = hdr + clen;
        *short_by = true;
        snprintf(err, ecap, "DER says %zu bytes but %zu were sent (the byte count or the transfer cut it)",
                 hdr + clen, n);
        return false;
    }
    *total = hdr + clen;
    /* Inner elements. */
    size_t off = hdr, end = hdr + clen;
    while (off < end) {
        size_t ih, il;
        if (der_tlv(p + off, end - off, &ih, &il) != 0 || il > end - off - ih) {
            snprintf(err, ecap, "the DER SEQUENCE of %zu bytes is inconsistent: the element at byte %zu "
                     "does not fit in it (corrupted data)", *total, off);
            return false;
        }
        off += ih + il;
    }
    return true;
}

/* Classifies a consistent SEQUENCE by its first elements. */
static der_kind der_classify(const uint8_t *p, size_t total, const char **label)
{
    size_t hdr, clen, off;
    uint8_t tags[3] = {0, 0, 0};
    int n = 0;
    der_tlv(p, total, &hdr, &clen);
    off = hdr;
    while (off < total && n < 3) {
        size_t ih, il;
        if (der_tlv(p + off, total - off, &ih, &il) != 0)
            break;
        tags[n++] = p[off];
        off += ih + il;
    }
    int count = n;
    while (off < total && count < 100) {   /* count the rest (for the 2-element check) */
        size_t ih, il;
        if (der_tlv(p + off, total - off, &ih, &il) != 0)
            break;
        count++;
        off += ih + il;
    }
    *label = "";
    if (tags[0] == 0x30 && count >= 3 && tags[1] == 0x30 && tags[2] == 0x03) {
        *label = "CERTIFICATE";
        return K_CERT;
    }
    if (tags[0] == 0x30 && count == 2 && tags[1] == 0x04) {
        *label = "ENCRYPTED PRIVATE KEY";
        return K_ENC_KEY;
    }
    if (tags[0] == 0x02 && count >= 3) {
        *label = tags[1] == 0x30 ? "PRIVATE KEY" : tags[1] == 0x04 ? "EC PRIVATE KEY" : "RSA PRIVATE KEY";
        return K_KEY;
    }
    return K_OTHER;
}

/* ---- helpers ------------------------------------------------------------- */

typedef struct {
    tm_item_kind       want;
    tm_err             code;
    uint8_t           *out;
    size_t             cap;
    tm_certfmt_result *res;
    tm_reason         *why;
} ctx;

static const char *want_name(tm_item_kind k) { return k == TM_ITEM_CERT ? "certificate" : "private key"; }

static tm_err add_item(ctx *c, const uint8_t *der, size_t len, const char *label)
{
    tm_certfmt_result *r = c->res;
    if (r->count >= TM_CERTFMT_MAX_ITEMS)
        return tm_fail(c->why, TM_E_TOO_LARGE, "more than %d items in one load", TM_CERTFMT_MAX_ITEMS);
    if (len > c->cap - r->total)
        return tm_fail(c->why, TM_E_TOO_LARGE, "the decoded data does not fit in %zu bytes", c->cap);
    if (der != c->out + r->total)
        memmove(c->out + r->total, der, len);
    r->off[r->count] = r->total;
    r->len[r->count] = len;
    snprintf(r->pem_label[r->count], sizeof r->pem_label[r->count], "%s", label);
    r->count++;
    r->total += len;
    return TM_OK;
}

static bool kind_matches(tm_item_kind want, der_kind k)
{
    return want == TM_ITEM_CERT ? k == K_CERT : k == K_KEY;
}

/* DER items back to back in p[0..n); fmt DER or BASE64. `via` prefixes messages. */
static tm_err decode_der(ctx *c, const uint8_t *p, size_t n, const char *via)
{
    size_t off = 0;
    int item = 0;
    const char *other_label = NULL;
    bool other_enc = false;
    while (off < n) {
        /* Trailing whitespace (a CRLF after the data) is tolerated. */
        size_t k = off;
        while (k < n && (is_ws(p[k]) || p[k] == 0))
            k++;
        if (k == n && item > 0)
            break;
        item++;
        size_t total = 0;
        bool short_by;
        char err[200];
        if (!der_item(p + off, n - off, &total, err, sizeof err, &short_by)) {
            if (item == 1)
                return tm_fail(c->why, c->code, "%s%s", via, err);
            if (p[off] != 0x30)
                return tm_fail(c->why, c->code, "%safter %d DER item%s (%zu bytes) come %zu bytes that are not DER "
                               "(byte 0x%02x)", via, item - 1, item > 2 ? "s" : "", off, n - off, p[off]);
            if (short_by && total)
                return tm_fail(c->why, c->code, "%sDER item %d (at byte %zu) says %zu bytes but only %zu remain "
                               "(the byte count or the transfer cut it)", via, item, off, total, n - off);
            return tm_fail(c->why, c->code, "%sDER item %d (at byte %zu): %s", via, item, off, err);
        }
        const char *label;
        der_kind kind = der_classify(p + off, total, &label);
        if (kind_matches(c->want, kind)) {
            tm_err e = add_item(c, p + off, total, label);
            if (e)
                return e;
        } else if (kind == K_OTHER) {
            return tm_fail(c->why, c->code, "%sDER item %d is an ASN.1 SEQUENCE of %zu bytes but not a %s",
                           via, item, total, want_name(c->want));
        } else {
            if (!other_label)
                other_label = label;
            other_enc |= kind == K_ENC_KEY;
        }
        off += total;
    }
    if (c->res->count == 0) {
        if (other_enc && c->want == TM_ITEM_KEY)
            return tm_fail(c->why, c->code, "%s" "encrypted keys are not supported; decrypt with openssl pkey: openssl pkey -in key.pem -out key-decrypted.pem (it asks for the pass phrase; load key-decrypted.pem)", via);
        if (other_label)
            return tm_fail(c->why, c->code, "%sthis is a%s %s, not a %s", via,
                           other_enc || other_label[0] == 'E' ? "n" : "",
                           other_label, want_name(c->want));
        return tm_fail(c->why, c->code, "%sno DER item found", via);
    }
    return TM_OK;
}

/* ---- PEM --------------------------------------------------------------- */

static bool label_is_cert(const char *l)
{
    return !strcmp(l, "CERTIFICATE") || !strcmp(l, "TRUSTED CERTIFICATE") || !strcmp(l, "X509 CERTIFICATE");
}

static bool label_is_key(const char *l)
{
    return !strcmp(l, "PRIVATE KEY") || !strcmp(l, "RSA PRIVATE KEY") || !strcmp(l, "EC PRIVATE KEY");
}

static bool starts(const uint8_t *p, size_t n, const char *s)
{
    size_t l = strlen(s);
    return n >= l && memcmp(p, s, l) == 0;
}

/* "-----BEGIN X-----" / "-----END X-----": copies X into label. */
static bool marker(const uint8_t *line, size_t n, const char *kw, char *label, size_t cap)
{
    size_t kl = strlen(kw);
    while (n && (line[n - 1] == ' ' || line[n - 1] == '\t'))
        n--;
    if (!starts(line, n, kw) || n < kl + 5 || memcmp(line + n - 5, "-----", 5) != 0)
        return false;
    size_t ll = n - kl - 5;
    if (ll == 0 || ll >= cap)
        return false;
    memcpy(label, line + kl, ll);
    label[ll] = '\0';
    return true;
}

static void note_label(char *seen, size_t cap, const char *label)
{
    if (strstr(seen, label) && (strlen(seen) == strlen(label) || strstr(seen, label)[strlen(label)] == ',' ))
        return;
    size_t u = strlen(seen);
    snprintf(seen + u, cap - u, "%s%s", u ? ", " : "", label);
}

static tm_err decode_pem(ctx *c, const uint8_t *in, size_t len)
{
    enum { OUTSIDE, INSIDE } st = OUTSIDE;
    int block = 0, line_no = 0, begin_line = 0;
    char label[40] = "", endlabel[40];
    bool use = false, encrypted_hdr = false, body_started = false;
    b64_dec d;
    size_t start = 0;   /* offset in out of this block */
    char skipped[200] = "";
    const char *wrong_kind = NULL;
    char wrong_buf[40];
    bool saw_encrypted = false;
    int first_marker_line = 0;

    size_t pos = 0;
    while (pos < len) {
        /* a line ends at LF, CR LF or a lone CR: a terminal pastes with CR only */
        size_t end = pos;
        while (end < len && in[end] != '\n' && in[end] != '\r')
            end++;
        const uint8_t *line = in + pos;
        size_t n = end - pos;
        pos = end < len ? end + 1 + (in[end] == '\r' && end + 1 < len && in[end + 1] == '\n') : len;
        line_no++;
        if (st == OUTSIDE) {
            if (starts(line, n, "-----BEGIN") && !first_marker_line)
                first_marker_line = line_no;
            if (marker(line, n, "-----BEGIN ", label, sizeof label)) {
                block++;
                begin_line = line_no;
                st = INSIDE;
                encrypted_hdr = body_started = false;
                bool is_cert = label_is_cert(label), is_key = label_is_key(label);
                use = c->want == TM_ITEM_CERT ? is_cert : is_key;
                if (!strcmp(label, "ENCRYPTED PRIVATE KEY"))
                    saw_encrypted = true;
                if (!use) {
                    if ((c->want == TM_ITEM_CERT && (is_key || !strcmp(label, "ENCRYPTED PRIVATE KEY"))) ||
                        (c->want == TM_ITEM_KEY && is_cert)) {
                        if (!wrong_kind) {
                            snprintf(wrong_buf, sizeof wrong_buf, "%s", label);
                            wrong_kind = wrong_buf;
                        }
                    } else if (strcmp(label, "ENCRYPTED PRIVATE KEY") != 0) {
                        note_label(skipped, sizeof skipped, label);
                    }
                }
                memset(&d, 0, sizeof d);
                start = c->res->total;
            } else if (marker(line, n, "-----END ", endlabel, sizeof endlabel)) {
                return tm_fail(c->why, c->code, "END %s at line %d without BEGIN", endlabel, line_no);
            }
            continue;
        }
        /* INSIDE a block */
        if (marker(line, n, "-----END ", endlabel, sizeof endlabel)) {
            st = OUTSIDE;
            if (strcmp(endlabel, label) != 0)
                return tm_fail(c->why, c->code, "PEM block %d: BEGIN %s (line %d) ends with END %s (line %d)",
                               block, label, begin_line, endlabel, line_no);
            if (!use)
                continue;
            if (encrypted_hdr) {
                saw_encrypted = true;
                continue;
            }
            size_t room = c->cap - start;
            if (!b64_end(&d, c->out + start, room))
                return tm_fail(c->why, c->code, "bad base64 in PEM block %d, line %d (the block's base64 "
                               "does not end on a complete group)", block, line_no - 1 > begin_line ? line_no - 1 : line_no);
            if (d.out > room)
                return tm_fail(c->why, TM_E_TOO_LARGE, "the decoded data does not fit in %zu bytes", c->cap);
            if (d.out == 0)
                return tm_fail(c->why, c->code, "PEM block %d (%s) at line %d is empty", block, label, begin_line);
            size_t total = 0;
            bool short_by;
            char err[200];
            const uint8_t *der = c->out + start;
            if (!der_item(der, d.out, &total, err, sizeof err, &short_by))
                return tm_fail(c->why, c->code, "PEM block %d (%s) at line %d: %s", block, label, begin_line, err);
            bool trusted = !strcmp(label, "TRUSTED CERTIFICATE");
            if (total != d.out && !trusted)
                return tm_fail(c->why, c->code, "PEM block %d (%s) at line %d: the DER SEQUENCE is %zu bytes but "
                               "the block holds %zu", block, label, begin_line, total, d.out);
            tm_err e = add_item(c, der, total, trusted || !strcmp(label, "X509 CERTIFICATE") ? "CERTIFICATE" : label);
            if (e)
                return e;
            continue;
        }
        if (!use)
            continue;
        /* RFC 1421 headers (legacy encrypted keys) before the base64. */
        if (!body_started && memchr(line, ':', n)) {
            if (starts(line, n, "Proc-Type:") && memmem(line, n, "ENCRYPTED", 9))
                encrypted_hdr = true;
            continue;
        }
        if (n == 0)
            continue;
        body_started = true;
        if (encrypted_hdr)
            continue;
        for (size_t i = 0; i < n; i++) {
            unsigned char ch = line[i];
            if (ch == ' ' || ch == '\t')
                continue;
            if (!b64_put(&d, ch, c->out + start, c->cap - start)) {
                if (ch >= 0x21 && ch < 0x7f)
                    return tm_fail(c->why, c->code, "bad base64 in PEM block %d, line %d: '%c' at column %zu",
                                   block, line_no, ch, i + 1);
                return tm_fail(c->why, c->code, "bad base64 in PEM block %d, line %d: byte 0x%02x at column %zu",
                               block, line_no, ch, i + 1);
            }
        }
    }
    if (st == INSIDE && use)
        return tm_fail(c->why, c->code, "BEGIN %s without END (block %d starts at line %d; the data stops at "
                       "line %d after %zu bytes: the transfer or the byte count cut it)",
                       label, block, begin_line, line_no, len);
    if (c->res->count > 0)
        return TM_OK;
    if (block == 0)
        return tm_fail(c->why, c->code, "line %d has \"-----BEGIN\" but is not a PEM BEGIN line "
                       "(\"-----BEGIN <LABEL>-----\")", first_marker_line ? first_marker_line : 1);
    if (c->want == TM_ITEM_KEY && saw_encrypted)
        return tm_fail(c->why, c->code, "encrypted keys are not supported; decrypt with openssl pkey: openssl pkey -in key.pem -out key-decrypted.pem (it asks for the pass phrase; load key-decrypted.pem)");
    if (wrong_kind) {
        tm_fail(c->why, c->code, "this is a%s %s, not a %s",
                wrong_kind[0] == 'E' ? "n" : "", wrong_kind, want_name(c->want));
        if (skipped[0])
            tm_reason_append(c->why, "also skipped: %s", skipped);
        return c->code;
    }
    return tm_fail(c->why, c->code, "no %s in the PEM data; skipped blocks: %s",
                   want_name(c->want), skipped[0] ? skipped : "none");
}

/* ---- a PEM cut by a byte count (terminal LF -> CR LF) ---------------------- */

size_t tm_certfmt_crlf_overrun_rest(const uint8_t *in, size_t len, size_t announced)
{
    size_t need = 0;
    if (!announced || len != announced || !tm_certfmt_pem_crlf_need(in, len, &need) ||
        need - len > 4096)
        return 0;
    return need - len;
}

tm_err tm_certfmt_crlf_overrun_reason(tm_reason *why, const uint8_t *in, size_t len, size_t announced,
                                      size_t dropped, bool ended_early, const char *advice)
{
    size_t need = 0;
    tm_certfmt_pem_crlf_need(in, len, &need);
    return tm_fail(why, TM_E_DATA_COUNT,
                   "received CR LF line ends: announced %zu bytes, the PEM needs %zu (the terminal sends "
                   "every LF as CR LF); the remaining %zu bytes of the PEM were read and dropped%s; nothing "
                   "was stored. Announce %zu, or %s",
                   announced, need, dropped, ended_early ? " (then the data ended early)" : "", need, advice);
}

bool tm_certfmt_pem_crlf_need(const uint8_t *in, size_t len, size_t *need)
{
    if (!memmem(in, len, "\r\n", 2))
        return false;
    size_t pos = 0, block_at = 0, begin_len = 0;
    bool inside = false;
    char label[40] = "", endl[40];
    const uint8_t *first = NULL;
    size_t first_n = 0;
    bool first_complete = false;
    while (pos < len) {
        size_t end = pos;
        while (end < len && in[end] != '\n')
            end++;
        size_t n = end - pos, full = (end < len ? end + 1 : len) - pos;
        const uint8_t *line = in + pos;
        if (n && line[n - 1] == '\r')
            n--;
        if (!inside && marker(line, n, "-----BEGIN ", label, sizeof label)) {
            inside = true;
            block_at = pos;
            begin_len = full;
            first = NULL;
        } else if (inside && marker(line, n, "-----END ", endl, sizeof endl)) {
            inside = false;
        } else if (inside && !first && n) {
            first = line;
            first_n = n;
            first_complete = end < len;
        }
        pos = end < len ? end + 1 : len;
    }
    if (!inside || !first || first_n < 8 || memchr(first, ':', first_n))
        return false;
    uint8_t h[6];
    if (tm_base64_decode((const char *)first, 8, h, sizeof h) != 6 || h[0] != 0x30)
        return false;
    size_t der;
    if (h[1] < 0x80)
        der = 2 + (size_t)h[1];
    else if (h[1] == 0x81)
        der = 3 + (size_t)h[2];
    else if (h[1] == 0x82)
        der = 4 + ((size_t)h[2] << 8 | h[3]);
    else if (h[1] == 0x83)
        der = 5 + ((size_t)h[2] << 16 | (size_t)h[3] << 8 | h[4]);
    else
        return false;
    size_t w = first_complete ? first_n : 64;
    size_t b64 = (der + 2) / 3 * 4, lines = (b64 + w - 1) / w;
    size_t total = block_at + begin_len + b64 + 2 * lines + strlen("-----END ") + strlen(label) + 5 + 2;
    if (total <= len)
        return false;
    *need = total;
    return true;
}

/* ---- entry --------------------------------------------------------------- */

static tm_err garbage(ctx *c, const uint8_t *in, size_t len)
{
    size_t probe = len < 64 ? len : 64;
    bool printable = true;
    for (size_t i = 0; i < probe; i++) {
        uint8_t b = in[i];
        if (!((b >= 0x20 && b < 0x7f) || b == '\t' || b == '\r' || b == '\n' || b >= 0x80)) {
            printable = false;
            break;
        }
    }
    /* High bytes alone do not make text: require mostly ASCII. */
    if (printable && in[0] >= 0x80)
        printable = false;
    if (!printable)
        return tm_fail(c->why, c->code, "binary data that is not DER: first byte 0x%02x (%zu bytes)", in[0], len);
    char q[48];
    size_t n = 0;
    while (n < len && n < 40 && in[n] != '\r' && in[n] != '\n' && in[n] >= 0x20) {
        q[n] = (char)in[n];
        n++;
    }
    q[n] = '\0';
    bool more = n < len;
    return tm_fail(c->why, c->code, "starts with '%s'%s (%zu bytes)",
                   q, more ? "…" : "", len);
}

tm_err tm_certfmt_decode(const uint8_t *in, size_t len, tm_item_kind want,
                         uint8_t *out, size_t cap, tm_certfmt_result *res, tm_reason *why)
{
    memset(res, 0, sizeof *res);
    ctx c = { want, want == TM_ITEM_CERT ? TM_E_CERT_FORMAT : TM_E_KEY_FORMAT, out, cap, res, why };
    if (!in)
        len = 0;
    size_t tl = len;
    while (tl && (is_ws(in[tl - 1])))
        tl--;
    if (tl == 0)
        return tm_fail(why, c.code, len ? "only whitespace (%zu bytes)" : "no data (%zu bytes)", len);
    if (memmem(in, len, "-----BEGIN", 10)) {
        res->fmt = TM_FMT_PEM;
        return decode_pem(&c, in, len);
    }
    if (in[0] == 0x30) {
        res->fmt = TM_FMT_DER;
        return decode_der(&c, in, len, "");
    }
    /* Bare base64? */
    bool b64 = true;
    for (size_t i = 0; i < tl; i++)
        if (!is_ws(in[i]) && b64val(in[i]) < 0 && in[i] != '=') {
            b64 = false;
            break;
        }
    if (b64) {
        b64_dec d = {0};
        for (size_t i = 0; i < tl; i++)
            if (!is_ws(in[i]))
                b64_put(&d, in[i], out, cap);
        bool ok = b64_end(&d, out, cap);
        if (ok && d.out > cap)
            return tm_fail(why, TM_E_TOO_LARGE, "the decoded data does not fit in %zu bytes", cap);
        if (ok && d.out > 0 && out[0] == 0x30) {
            res->fmt = TM_FMT_BASE64;
            return decode_der(&c, out, d.out, "base64 decoded: ");
        }
    }
    return garbage(&c, in, tl);
}
