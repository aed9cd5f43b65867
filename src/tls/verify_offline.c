/* See verify.h.  Offline verification through the modem's own TLS client,
 * and a recording-only TLS client for tlsmodem-cert probe. */
#include "tls/verify.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ------------------------------------------------------- offline verify */

typedef struct {
    uint8_t *p;
    size_t   len, cap;
} buf;

static bool buf_put(buf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 4096;
        while (nc < b->len + n)
            nc *= 2;
        uint8_t *q = realloc(b->p, nc);
        if (!q)
            return false;
        b->p = q;
        b->cap = nc;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    return true;
}

static bool buf_u8(buf *b, unsigned v) { uint8_t c = (uint8_t)v; return buf_put(b, &c, 1); }
static bool buf_u16(buf *b, unsigned v) { uint8_t c[2] = { (uint8_t)(v >> 8), (uint8_t)v }; return buf_put(b, c, 2); }
static bool buf_u24(buf *b, size_t v)
{
    uint8_t c[3] = { (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
    return buf_put(b, c, 3);
}

/* Finds the cipher suites of the ClientHello in the bytes the client wrote
 * (one or more handshake records).  Returns the suite to answer with. */
static unsigned pick_suite(const uint8_t *rec, size_t len, bool ec_leaf)
{
    /* reassemble the handshake bytes */
    uint8_t hs[8192];
    size_t hl = 0, off = 0;
    while (off + 5 <= len) {
        size_t rl = (size_t)rec[off + 3] << 8 | rec[off + 4];
        if (rec[off] != 0x16 || off + 5 + rl > len)
            break;
        size_t take = rl < sizeof hs - hl ? rl : sizeof hs - hl;
        memcpy(hs + hl, rec + off + 5, take);
        hl += take;
        off += 5 + rl;
    }
    unsigned first = 0;
    if (hl < 4 + 2 + 32 + 1 || hs[0] != 1)
        return ec_leaf ? 0xC02B : 0xC02F;
    size_t p = 4 + 2 + 32;
    p += 1 + hs[p];                                   /* session id */
    if (p + 2 > hl)
        return ec_leaf ? 0xC02B : 0xC02F;
    size_t cl = (size_t)hs[p] << 8 | hs[p + 1];
    p += 2;
    unsigned want = ec_leaf ? 0xC02B : 0xC02F;
    for (size_t i = 0; i + 1 < cl && p + i + 1 < hl; i += 2) {
        unsigned s = (unsigned)hs[p + i] << 8 | hs[p + i + 1];
        if (s == want)
            return s;
        if (!first && (s >> 8) != 0x13 && s != 0x00FF && s != 0x5600)
            first = s;
    }
    return first ? first : want;
}

/* True when a TLS 1.2 server with this leaf answers with an ECDHE_ECDSA suite
 * (ECDSA and EdDSA keys); RSA and RSA-PSS take ECDHE_RSA.  A DSA leaf gets
 * ECDHE_RSA and the policy refuses it before the suite matters. */
static bool leaf_is_ec(const tm_blob *leaf)
{
    const unsigned char *p = leaf->p;
    X509 *x = d2i_X509(NULL, &p, (long)leaf->len);
    bool ec = false;
    if (x) {
        EVP_PKEY *k = X509_get0_pubkey(x);
        int id = k ? EVP_PKEY_get_base_id(k) : 0;
        ec = id == EVP_PKEY_EC || id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448;
        X509_free(x);
    }
    ERR_clear_error();
    return ec;
}

tm_err tm_tls_verify_offline(const tm_blob *chain, size_t n, const tm_tls_config *cfg,
                             char *verdict, size_t vcap, tm_reason *why)
{
    if (verdict && vcap)
        verdict[0] = '\0';
    if (n == 0)
        return tm_fail(why, TM_E_CERT_FORMAT, "no certificate to verify");
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
        return tm_fail(why, TM_E_INTERNAL, "socketpair: %s", strerror(errno));
    tm_tls_config c = *cfg;
    c.verify = true;
    c.min_version = 0x0303;   /* the scripted server speaks TLS 1.2: the chain checks are the same */
    c.max_version = 0;
    tm_err rc = TM_OK;
    buf out = { 0 };
    uint8_t *ch = NULL;
    tm_tls *t = tm_tls_new(&c, sv[0], why);
    if (!t) {
        close(sv[0]);
        close(sv[1]);
        return why ? why->code : TM_E_TLS_INIT;
    }
    tm_tls_status st = tm_tls_handshake(t, why);
    if (st == TM_TLS_FAILED) {
        rc = why ? why->code : TM_E_TLS_HANDSHAKE;
        goto done;
    }
    /* the ClientHello */
    size_t chl = 0, chcap = 16384;
    ch = malloc(chcap);
    if (!ch) {
        rc = tm_fail(why, TM_E_NO_MEMORY, "ClientHello buffer");
        goto done;
    }
    for (;;) {
        ssize_t r = read(sv[1], ch + chl, chcap - chl);
        if (r <= 0)
            break;
        chl += (size_t)r;
        if (chl == chcap)
            break;
    }
    unsigned suite = pick_suite(ch, chl, leaf_is_ec(&chain[0]));

    /* ServerHello + Certificate */
    buf hs = { 0 };
    static const uint8_t srv_random[32] = "tlsmodem-cert offline verify...";
    bool ok = buf_u8(&hs, 2) && buf_u24(&hs, 2 + 32 + 1 + 2 + 1 + 2 + 5) && buf_u16(&hs, 0x0303) &&
              buf_put(&hs, srv_random, 32) && buf_u8(&hs, 0) && buf_u16(&hs, suite) && buf_u8(&hs, 0) &&
              buf_u16(&hs, 5) && buf_u16(&hs, 0xff01) && buf_u16(&hs, 1) && buf_u8(&hs, 0);
    size_t list = 0;
    for (size_t i = 0; i < n; i++)
        list += 3 + chain[i].len;
    ok = ok && buf_u8(&hs, 11) && buf_u24(&hs, 3 + list) && buf_u24(&hs, list);
    for (size_t i = 0; ok && i < n; i++)
        ok = buf_u24(&hs, chain[i].len) && buf_put(&hs, chain[i].p, chain[i].len);
    for (size_t o = 0; ok && o < hs.len;) {
        size_t l = hs.len - o > 16384 ? 16384 : hs.len - o;
        ok = buf_u8(&out, 0x16) && buf_u16(&out, 0x0303) && buf_u16(&out, (unsigned)l) && buf_put(&out, hs.p + o, l);
        o += l;
    }
    free(hs.p);
    if (!ok) {
        rc = tm_fail(why, TM_E_NO_MEMORY, "server messages");
        goto done;
    }
    size_t sent = 0;
    for (int rounds = 0; rounds < 100000; rounds++) {
        while (sent < out.len) {
            ssize_t w = write(sv[1], out.p + sent, out.len - sent);
            if (w <= 0)
                break;
            sent += (size_t)w;
        }
        st = tm_tls_handshake(t, why);
        if (st == TM_TLS_FAILED || st == TM_TLS_OK)
            break;
        if (sent == out.len && st == TM_TLS_WANT_READ) {
            /* everything was delivered; one more step consumes what is buffered */
            st = tm_tls_handshake(t, why);
            break;
        }
    }
    const char *v = tm_tls_verdict(t);
    if (verdict && vcap)
        snprintf(verdict, vcap, "%s", v);
    if (strncmp(v, "verified", 8) == 0 && st == TM_TLS_FAILED && why && why->code != TM_OK) {
        /* the chain passed, but the handshake refused the certificate right
         * after (e.g. a key type no offered suite can use): the modem would
         * not connect, so neither does verify */
        rc = why->code;
        if (verdict && vcap)
            snprintf(verdict, vcap, "REFUSED after verification: %s", tm_err_name(rc));
    } else if (strncmp(v, "verified", 8) == 0) {
        rc = TM_OK;
        if (why)
            tm_reason_clear(why);
    } else if (st == TM_TLS_FAILED && why && why->code != TM_OK) {
        rc = why->code;
    } else {
        rc = tm_fail(why, TM_E_INTERNAL, "offline verification stopped before the certificate was checked");
    }
done:
    tm_tls_free(t);
    free(out.p);
    free(ch);
    close(sv[0]);
    close(sv[1]);
    return rc;
}

/* ------------------------------------------------------- peek */

struct tm_tls_peek {
    SSL_CTX  *ctx;
    SSL      *ssl;
    bool      done;
    int       n;
    uint8_t  *der[TM_PEEK_MAX_CERTS];
    size_t    len[TM_PEEK_MAX_CERTS];
    char      version[16];
    char      suite[64];
    char      group[32];
    int       alert;
};

static void peek_msg_cb(int write_p, int version, int content_type, const void *b, size_t len, SSL *ssl, void *arg)
{
    tm_tls_peek *p = arg;
    const unsigned char *q = b;
    if (content_type == SSL3_RT_ALERT && !write_p && len >= 2)
        p->alert = q[1];
}

tm_tls_peek *tm_tls_peek_new(int fd, const char *sni, bool min_tls10, tm_reason *why)
{
    tm_tls_peek *p = calloc(1, sizeof *p);
    if (!p) {
        tm_fail(why, TM_E_NO_MEMORY, "peek");
        return NULL;
    }
    p->alert = -1;
    p->ctx = SSL_CTX_new(TLS_client_method());
    if (!p->ctx)
        goto fail;
    if (min_tls10) {
        SSL_CTX_set_security_level(p->ctx, 0);
        SSL_CTX_set_min_proto_version(p->ctx, TLS1_VERSION);
        SSL_CTX_set_cipher_list(p->ctx, "ALL:@SECLEVEL=0");
    } else {
        SSL_CTX_set_min_proto_version(p->ctx, TLS1_2_VERSION);
    }
    SSL_CTX_set_verify(p->ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_options(p->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_LEGACY_SERVER_CONNECT);
    p->ssl = SSL_new(p->ctx);
    if (!p->ssl || !SSL_set_fd(p->ssl, fd))
        goto fail;
    SSL_set_msg_callback(p->ssl, peek_msg_cb);
    SSL_set_msg_callback_arg(p->ssl, p);
    if (sni && sni[0] && !SSL_set_tlsext_host_name(p->ssl, sni))
        goto fail;
    SSL_set_connect_state(p->ssl);
    return p;
fail:
    tm_fail(why, TM_E_TLS_INIT, "TLS setup for the probe failed");
    ERR_clear_error();
    tm_tls_peek_free(p);
    return NULL;
}

tm_tls_status tm_tls_peek_step(tm_tls_peek *p, tm_reason *why)
{
    if (p->done)
        return TM_TLS_OK;
    ERR_clear_error();
    errno = 0;
    int r = SSL_do_handshake(p->ssl);
    if (r == 1) {
        p->done = true;
        snprintf(p->version, sizeof p->version, "%s", SSL_get_version(p->ssl));
        snprintf(p->suite, sizeof p->suite, "%s", SSL_CIPHER_get_name(SSL_get_current_cipher(p->ssl)));
        int gid = SSL_get_negotiated_group(p->ssl);
        const char *gn = gid > 0 ? SSL_group_to_name(p->ssl, gid) : NULL;
        snprintf(p->group, sizeof p->group, "%s", gn ? gn : "");
        STACK_OF(X509) *sk = SSL_get_peer_cert_chain(p->ssl);
        for (int i = 0; sk && i < sk_X509_num(sk) && p->n < TM_PEEK_MAX_CERTS; i++) {
            unsigned char *d = NULL;
            int l = i2d_X509(sk_X509_value(sk, i), &d);
            if (l <= 0)
                continue;
            p->der[p->n] = malloc((size_t)l);
            if (!p->der[p->n]) {
                OPENSSL_free(d);
                break;
            }
            memcpy(p->der[p->n], d, (size_t)l);
            p->len[p->n++] = (size_t)l;
            OPENSSL_free(d);
        }
        return TM_TLS_OK;
    }
    int e = SSL_get_error(p->ssl, r);
    if (e == SSL_ERROR_WANT_READ)
        return TM_TLS_WANT_READ;
    if (e == SSL_ERROR_WANT_WRITE)
        return TM_TLS_WANT_WRITE;
    unsigned long le = ERR_peek_error();
    char eb[200] = "";
    if (le)
        ERR_error_string_n(le, eb, sizeof eb);
    if (p->alert > 0)
        tm_fail(why, TM_E_TLS_ALERT, "the server sent alert %d (%s)", p->alert,
                SSL_alert_desc_string_long(p->alert << 0));
    else if (e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN)
        tm_fail(why, TM_E_TLS_HANDSHAKE, "the server closed the connection during the handshake");
    else
        tm_fail(why, TM_E_TLS_HANDSHAKE, "%s", eb[0] ? eb : "handshake failed");
    ERR_clear_error();
    return TM_TLS_FAILED;
}

const char *tm_tls_peek_version(tm_tls_peek *p) { return p->version; }
const char *tm_tls_peek_suite(tm_tls_peek *p) { return p->suite; }
const char *tm_tls_peek_group(tm_tls_peek *p) { return p->group; }

size_t tm_tls_peek_chain(tm_tls_peek *p, tm_blob *out, size_t cap)
{
    size_t k = 0;
    for (int i = 0; i < p->n && k < cap; i++, k++) {
        out[k].p = p->der[i];
        out[k].len = p->len[i];
    }
    return k;
}

void tm_tls_peek_free(tm_tls_peek *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->n; i++)
        free(p->der[i]);
    SSL_free(p->ssl);
    SSL_CTX_free(p->ctx);
    free(p);
}
