/* See container.h.  OpenSSL implementation. */
#include "tls/container.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *tm_container_name(tm_container_kind k)
{
    return k == TM_CONT_PKCS12 ? "PKCS#12" : k == TM_CONT_PKCS7 ? "PKCS#7" : "";
}

static PKCS7 *read_p7(const uint8_t *p, size_t len)
{
    if (len > 0x7fffffff)
        return NULL;
    PKCS7 *p7 = NULL;
    if (memmem(p, len, "-----BEGIN PKCS7-----", 21)) {
        BIO *b = BIO_new_mem_buf(p, (int)len);
        p7 = b ? PEM_read_bio_PKCS7(b, NULL, NULL, NULL) : NULL;
        BIO_free(b);
    } else {
        const unsigned char *q = p;
        p7 = d2i_PKCS7(NULL, &q, (long)len);
        if (p7 && q != p + len) {
            PKCS7_free(p7);
            p7 = NULL;
        }
    }
    ERR_clear_error();
    return p7;
}

static PKCS12 *read_p12(const uint8_t *p, size_t len)
{
    const unsigned char *q = p;
    PKCS12 *p12 = len < 0x7fffffff ? d2i_PKCS12(NULL, &q, (long)len) : NULL;
    if (p12 && q != p + len) {
        PKCS12_free(p12);
        p12 = NULL;
    }
    ERR_clear_error();
    return p12;
}

tm_container_kind tm_container_sniff(const uint8_t *p, size_t len)
{
    if (!p || len < 4)
        return TM_CONT_NONE;
    PKCS12 *p12 = p[0] == 0x30 ? read_p12(p, len) : NULL;
    if (p12) {
        PKCS12_free(p12);
        return TM_CONT_PKCS12;
    }
    PKCS7 *p7 = read_p7(p, len);
    if (p7) {
        PKCS7_free(p7);
        return TM_CONT_PKCS7;
    }
    return TM_CONT_NONE;
}

static bool add_cert(tm_container *c, X509 *x)
{
    if (c->n_certs >= TM_CONT_MAX_CERTS)
        return true;
    unsigned char *d = NULL;
    int l = i2d_X509(x, &d);
    if (l <= 0)
        return false;
    uint8_t *m = malloc((size_t)l);
    if (!m) {
        OPENSSL_free(d);
        return false;
    }
    memcpy(m, d, (size_t)l);
    OPENSSL_free(d);
    c->certs[c->n_certs].p = m;
    c->certs[c->n_certs].len = (size_t)l;
    c->n_certs++;
    return true;
}

static tm_err open_p12(PKCS12 *p12, const char *password, tm_container *out, tm_reason *why)
{
    const char *tries[3] = { password, NULL, NULL };
    int nt = 1;
    if (!password) {
        tries[0] = "";
        tries[1] = NULL;
        nt = 2;
    }
    EVP_PKEY *pk = NULL;
    X509 *cert = NULL;
    STACK_OF(X509) *ca = NULL;
    bool ok = false, mac_ok = false;
    for (int i = 0; i < nt && !ok; i++) {
        mac_ok = !PKCS12_mac_present(p12) || PKCS12_verify_mac(p12, tries[i], tries[i] ? -1 : 0);
        if (mac_ok)
            ok = PKCS12_parse(p12, tries[i], &pk, &cert, &ca) == 1;
    }
    unsigned long e = ERR_peek_last_error();
    char eb[200] = "";
    if (e)
        ERR_error_string_n(e, eb, sizeof eb);
    ERR_clear_error();
    if (!ok) {
        if (!mac_ok)
            return tm_fail(why, TM_E_CERT_FORMAT, "a PKCS#12 file protected by a password: %s (give it with "
                           "--password)", password ? "the password given does not open it" : "no password was given");
        return tm_fail(why, TM_E_CERT_FORMAT, "a PKCS#12 file that OpenSSL cannot open (%s); an old file "
                       "encrypted with RC2/3DES may need: openssl pkcs12 -legacy -in FILE -nodes -out FILE.pem",
                       eb[0] ? eb : "unknown error");
    }
    bool mem = true;
    if (cert)
        mem = add_cert(out, cert);
    for (int i = 0; mem && ca && i < sk_X509_num(ca); i++)
        mem = add_cert(out, sk_X509_value(ca, i));
    if (mem && pk) {
        PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(pk);
        unsigned char *d = NULL;
        int l = p8 ? i2d_PKCS8_PRIV_KEY_INFO(p8, &d) : 0;
        PKCS8_PRIV_KEY_INFO_free(p8);
        if (l > 0 && (out->key.p = malloc((size_t)l)) != NULL) {
            memcpy((void *)out->key.p, d, (size_t)l);
            out->key.len = (size_t)l;
        } else {
            mem = l <= 0 ? mem : false;
        }
        OPENSSL_free(d);
        int id = EVP_PKEY_get_base_id(pk);
        char g[32] = "";
        size_t gl = 0;
        if (id == EVP_PKEY_EC && EVP_PKEY_get_group_name(pk, g, sizeof g, &gl))
            snprintf(out->key_desc, sizeof out->key_desc, "EC %s", g);
        else
            snprintf(out->key_desc, sizeof out->key_desc, "%s-%d", OBJ_nid2sn(id), EVP_PKEY_get_bits(pk));
    }
    EVP_PKEY_free(pk);
    X509_free(cert);
    sk_X509_pop_free(ca, X509_free);
    ERR_clear_error();
    if (!mem)
        return tm_fail(why, TM_E_NO_MEMORY, "PKCS#12 contents");
    if (out->n_certs == 0 && !out->key.p)
        return tm_fail(why, TM_E_CERT_FORMAT, "the PKCS#12 file holds no certificate and no key");
    return TM_OK;
}

tm_err tm_container_open(const uint8_t *p, size_t len, const char *password, tm_container *out, tm_reason *why)
{
    memset(out, 0, sizeof *out);
    PKCS12 *p12 = p && len && p[0] == 0x30 ? read_p12(p, len) : NULL;
    if (p12) {
        out->kind = TM_CONT_PKCS12;
        tm_err e = open_p12(p12, password, out, why);
        PKCS12_free(p12);
        if (e)
            tm_container_free(out);
        else
            out->kind = TM_CONT_PKCS12;
        return e;
    }
    PKCS7 *p7 = p && len ? read_p7(p, len) : NULL;
    if (!p7)
        return tm_fail(why, TM_E_CERT_FORMAT, "neither PKCS#12 nor PKCS#7");
    out->kind = TM_CONT_PKCS7;
    STACK_OF(X509) *certs = NULL;
    int t = OBJ_obj2nid(p7->type);
    if (t == NID_pkcs7_signed && p7->d.sign)
        certs = p7->d.sign->cert;
    else if (t == NID_pkcs7_signedAndEnveloped && p7->d.signed_and_enveloped)
        certs = p7->d.signed_and_enveloped->cert;
    bool mem = true;
    for (int i = 0; mem && certs && i < sk_X509_num(certs); i++)
        mem = add_cert(out, sk_X509_value(certs, i));
    PKCS7_free(p7);
    ERR_clear_error();
    if (!mem) {
        tm_container_free(out);
        return tm_fail(why, TM_E_NO_MEMORY, "PKCS#7 contents");
    }
    if (out->n_certs == 0) {
        tm_container_free(out);
        return tm_fail(why, TM_E_CERT_FORMAT, "the PKCS#7 data (%s) holds no certificate", OBJ_nid2ln(t));
    }
    return TM_OK;
}

void tm_container_free(tm_container *c)
{
    for (size_t i = 0; i < c->n_certs; i++)
        free((void *)c->certs[i].p);
    free((void *)c->key.p);
    memset(c, 0, sizeof *c);
}
