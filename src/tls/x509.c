/* See x509.h.  OpenSSL implementation. */
#include "tls/x509_ossl.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <openssl/ec.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tls/hostmatch.h"

const char *tm_x509_time_str(int64_t t, char *buf, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm))
        snprintf(buf, cap, "(time %lld)", (long long)t);
    else
        strftime(buf, cap, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

static void hex_colon(const unsigned char *p, size_t n, char *buf, size_t cap)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && o + 4 <= cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, i ? ":%02X" : "%02X", p[i]);
}

void tm_x509_name(const X509_NAME *n, char *buf, size_t cap)
{
    buf[0] = '\0';
    BIO *b = BIO_new(BIO_s_mem());
    if (!b)
        return;
    X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    char *p;
    long len = BIO_get_mem_data(b, &p);
    if (len < 0)
        len = 0;
    if ((size_t)len >= cap)
        len = (long)cap - 1;
    memcpy(buf, p, (size_t)len);
    buf[len] = '\0';
    BIO_free(b);
}

static int64_t asn1_time(const ASN1_TIME *t)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (!t || !ASN1_TIME_to_tm(t, &tm))
        return 0;
    return (int64_t)timegm(&tm);
}

int tm_x509_spki_hash(X509 *x, uint8_t out[32])
{
    unsigned char *der = NULL;
    int len = i2d_PUBKEY(X509_get0_pubkey(x), &der);
    if (len <= 0)
        return 0;
    unsigned int olen = 0;
    int ok = EVP_Digest(der, (size_t)len, out, &olen, EVP_sha256(), NULL);
    OPENSSL_free(der);
    return ok && olen == 32;
}

size_t tm_x509_sans(X509 *x, tm_san *out, size_t cap, char *strbuf, size_t strcap, size_t *total)
{
    size_t n = 0, used = 0, all = 0;
    GENERAL_NAMES *g = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    for (int i = 0; g && i < sk_GENERAL_NAME_num(g); i++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(g, i);
        if (gn->type == GEN_DNS) {
            all++;
            const ASN1_IA5STRING *s = gn->d.dNSName;
            size_t l = (size_t)ASN1_STRING_length(s);
            if (n >= cap || used + l + 1 > strcap)
                continue;
            memcpy(strbuf + used, ASN1_STRING_get0_data(s), l);
            strbuf[used + l] = '\0';
            /* an embedded NUL makes the name unusable: keep it unmatched */
            if (strlen(strbuf + used) != l)
                strbuf[used] = '\0';
            out[n] = (tm_san){ .type = TM_SAN_DNS, .dns = strbuf + used };
            used += l + 1;
            n++;
        } else if (gn->type == GEN_IPADD) {
            all++;
            const ASN1_OCTET_STRING *s = gn->d.iPAddress;
            int l = ASN1_STRING_length(s);
            if (n >= cap || (l != 4 && l != 16))
                continue;
            out[n] = (tm_san){ .type = TM_SAN_IP, .ip_len = (size_t)l };
            memcpy(out[n].ip, ASN1_STRING_get0_data(s), (size_t)l);
            n++;
        }
    }
    GENERAL_NAMES_free(g);
    if (total)
        *total = all;
    return n;
}

static void fill_sans_text(X509 *x, tm_x509_info *out)
{
    GENERAL_NAMES *g = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    size_t o = 0, cap = sizeof out->sans;
    out->sans[0] = '\0';
    out->n_sans = 0;
    bool cut = false;
    for (int i = 0; g && i < sk_GENERAL_NAME_num(g); i++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(g, i);
        char item[300];
        item[0] = '\0';
        if (gn->type == GEN_DNS)
            snprintf(item, sizeof item, "DNS:%.*s", ASN1_STRING_length(gn->d.dNSName),
                     (const char *)ASN1_STRING_get0_data(gn->d.dNSName));
        else if (gn->type == GEN_IPADD) {
            char ip[64];
            snprintf(item, sizeof item, "IP:%s", tm_host_ip_str(ASN1_STRING_get0_data(gn->d.iPAddress),
                     (size_t)ASN1_STRING_length(gn->d.iPAddress), ip, sizeof ip));
        } else if (gn->type == GEN_EMAIL)
            snprintf(item, sizeof item, "email:%.*s", ASN1_STRING_length(gn->d.rfc822Name),
                     (const char *)ASN1_STRING_get0_data(gn->d.rfc822Name));
        else if (gn->type == GEN_URI)
            snprintf(item, sizeof item, "URI:%.*s", ASN1_STRING_length(gn->d.uniformResourceIdentifier),
                     (const char *)ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier));
        else
            snprintf(item, sizeof item, "othername");
        out->n_sans++;
        if (cut)
            continue;
        size_t need = strlen(item) + (o ? 2 : 0);
        if (o + need + 5 >= cap) {
            snprintf(out->sans + o, cap - o, "%s…", o ? ", " : "");
            cut = true;
            continue;
        }
        o += (size_t)snprintf(out->sans + o, cap - o, "%s%s", o ? ", " : "", item);
    }
    GENERAL_NAMES_free(g);
}

/* Criticality of the extension `nid`: -1 absent, 0/1. */
static int ext_crit(X509 *x, int nid)
{
    int i = X509_get_ext_by_NID(x, nid, -1);
    return i < 0 ? -1 : X509_EXTENSION_get_critical(X509_get_ext(x, i)) ? 1 : 0;
}

/* The first malformed, repeated or misused extension, as "name: what". */
static void find_bad_ext(X509 *x, char *buf, size_t cap)
{
    const STACK_OF(X509_EXTENSION) *exts = X509_get0_extensions(x);
    int n = sk_X509_EXTENSION_num(exts);
    for (int i = 0; i < n; i++) {
        X509_EXTENSION *e = sk_X509_EXTENSION_value(exts, i);
        ASN1_OBJECT *o = X509_EXTENSION_get_object(e);
        int nid = OBJ_obj2nid(o);
        char nm[80];
        if (nid != NID_undef)
            snprintf(nm, sizeof nm, "%s", OBJ_nid2ln(nid));
        else
            OBJ_obj2txt(nm, sizeof nm, o, 1);
        for (int j = 0; j < i; j++)
            if (OBJ_cmp(o, X509_EXTENSION_get_object(sk_X509_EXTENSION_value(exts, j))) == 0) {
                snprintf(buf, cap, "%.60s appears twice", nm);
                return;
            }
        if (nid == NID_undef || !X509V3_EXT_get(e))
            continue;           /* unknown: OpenSSL refuses it when critical */
        void *d = X509V3_EXT_d2i(e);
        if (!d) {
            ERR_clear_error();
            snprintf(buf, cap, "%.60s does not decode", nm);
            return;
        }
        const char *bad = NULL;
        if (nid == NID_info_access || nid == NID_sinfo_access) {
            AUTHORITY_INFO_ACCESS *aia = d;
            if (X509_EXTENSION_get_critical(e))
                bad = "is critical; it must be non-critical";
            else if (sk_ACCESS_DESCRIPTION_num(aia) == 0)
                bad = "is empty";
            for (int k = 0; !bad && k < sk_ACCESS_DESCRIPTION_num(aia); k++)
                if (sk_ACCESS_DESCRIPTION_value(aia, k)->location->type != GEN_URI &&
                    sk_ACCESS_DESCRIPTION_value(aia, k)->location->type != GEN_DIRNAME)
                    bad = "has an access location that is not a URI";
            AUTHORITY_INFO_ACCESS_free(aia);
        } else if (nid == NID_ext_key_usage) {
            if (sk_ASN1_OBJECT_num(d) == 0)
                bad = "is empty";
            EXTENDED_KEY_USAGE_free(d);
        } else if (nid == NID_key_usage) {
            ASN1_BIT_STRING *ku = d;
            bool any = false;
            for (int k = 0; k < ASN1_STRING_length(ku); k++)
                any = any || ASN1_STRING_get0_data(ku)[k] != 0;
            if (!any)
                bad = "has no bit set";
            ASN1_BIT_STRING_free(ku);
        } else if (nid == NID_certificate_policies) {
            if (sk_POLICYINFO_num(d) == 0)
                bad = "is empty";
            CERTIFICATEPOLICIES_free(d);
        } else if (nid == NID_crl_distribution_points) {
            if (sk_DIST_POINT_num(d) == 0)
                bad = "is empty";
            CRL_DIST_POINTS_free(d);
        } else {
            const X509V3_EXT_METHOD *m = X509V3_EXT_get(e);
            if (m->it)
                ASN1_item_free(d, ASN1_ITEM_ptr(m->it));
            else if (m->ext_free)
                m->ext_free(d);
        }
        if (bad) {
            snprintf(buf, cap, "%.48s %s", nm, bad);
            return;
        }
    }
    if (X509_get_extension_flags(x) & EXFLAG_INVALID)
        snprintf(buf, cap, "an extension is malformed (OpenSSL marks the certificate invalid)");
    ERR_clear_error();
}

static void fill_profile(X509 *x, tm_x509_info *out)
{
    tm_cert_profile *p = &out->prof;
    memset(p, 0, sizeof *p);
    uint32_t fl = X509_get_extension_flags(x);
    p->v1 = X509_get_version(x) == 0;

    const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
    if (sn) {
        int l = ASN1_STRING_length(sn);
        const unsigned char *d = ASN1_STRING_get0_data(sn);
        bool zero = true;
        for (int i = 0; i < l; i++)
            zero = zero && d[i] == 0;
        /* DER content octets: the magnitude plus a 0x00 pad when its top bit is set */
        p->serial_len = l + (l > 0 && (d[0] & 0x80) ? 1 : 0);
        if (zero)
            p->serial_problem = 1;
        else if (ASN1_STRING_type(sn) == V_ASN1_NEG_INTEGER)
            p->serial_problem = 2;
        else if (p->serial_len > 20)
            p->serial_problem = 3;
    }

    p->issuer_empty = X509_NAME_entry_count(X509_get_issuer_name(x)) == 0;
    p->subject_empty = X509_NAME_entry_count(X509_get_subject_name(x)) == 0;

    AUTHORITY_KEYID *ak = X509_get_ext_d2i(x, NID_authority_key_identifier, NULL, NULL);
    const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(x);
    p->aki_missing = !ak || !ak->keyid;
    p->aki_issuer_serial = ak && (ak->issuer || ak->serial);
    p->aki_ne_ski = ak && ak->keyid && ski && ASN1_OCTET_STRING_cmp(ak->keyid, ski) != 0;
    AUTHORITY_KEYID_free(ak);
    p->aki_critical = ext_crit(x, NID_authority_key_identifier) == 1;
    p->ski_critical = ext_crit(x, NID_subject_key_identifier) == 1;
    p->ski_missing = !ski;

    int sanc = ext_crit(x, NID_subject_alt_name);
    p->has_san = sanc >= 0;
    p->san_critical = sanc == 1;
    GENERAL_NAMES *g = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    p->san_empty = p->has_san && g && sk_GENERAL_NAME_num(g) == 0;
    for (int i = 0; g && i < sk_GENERAL_NAME_num(g) && !p->bad_dns[0]; i++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(g, i);
        if (gn->type != GEN_DNS)
            continue;
        int l = ASN1_STRING_length(gn->d.dNSName);
        char nm[300];
        snprintf(nm, sizeof nm, "%.*s", l < 299 ? l : 299, (const char *)ASN1_STRING_get0_data(gn->d.dNSName));
        if ((int)strlen(nm) != l || !tm_policy_dns_name_valid(nm))
            snprintf(p->bad_dns, sizeof p->bad_dns, "%s%s", nm[0] ? nm : "(empty)",
                     (int)strlen(nm) != l && l < 299 ? " (with a NUL byte)" : "");
    }
    GENERAL_NAMES_free(g);

    p->bc_not_critical = ext_crit(x, NID_basic_constraints) == 0;
    p->ku_missing = !(fl & EXFLAG_KUSAGE);
    p->ku_cert_sign = (fl & EXFLAG_KUSAGE) && (X509_get_key_usage(x) & KU_KEY_CERT_SIGN);
    BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(x, NID_basic_constraints, NULL, NULL);
    p->pathlen_set = bc && bc->pathlen;
    BASIC_CONSTRAINTS_free(bc);
    int ncc = ext_crit(x, NID_name_constraints);
    p->nc_present = ncc >= 0;
    p->nc_not_critical = ncc == 0;

    EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
    bool server = false, any = false;
    for (int i = 0; eku && i < sk_ASN1_OBJECT_num(eku); i++) {
        int nid = OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, i));
        server = server || nid == NID_server_auth;
        any = any || nid == NID_anyExtendedKeyUsage;
    }
    p->eku_any_only = any && !server;
    EXTENDED_KEY_USAGE_free(eku);

    const ASN1_BIT_STRING *sig;
    const X509_ALGOR *outer;
    X509_get0_signature(&sig, &outer, x);
    const X509_ALGOR *inner = X509_get0_tbs_sigalg(x);
    p->sig_alg_mismatch = outer && inner && X509_ALGOR_cmp(outer, inner) != 0;

    find_bad_ext(x, p->bad_ext, sizeof p->bad_ext);
    ERR_clear_error();
}

void tm_x509_facts(const tm_x509_info *in, int depth, tm_cert_facts *out)
{
    *out = (tm_cert_facts){ .depth = depth, .subject = in->subject, .key_type = in->key_type,
        .key_bits = in->key_bits, .sig_alg = in->sig_alg, .sig_hash = in->sig_hash, .is_ca = in->is_ca,
        .has_eku = in->has_eku, .eku_server_auth = in->eku_server_auth, .not_before = in->not_before,
        .not_after = in->not_after, .self_signed = in->self_signed, .prof = in->prof };
}

void tm_x509_fill(X509 *x, tm_x509_info *out)
{
    memset(out, 0, sizeof *out);
    out->path_len = -1;
    tm_x509_name(X509_get_subject_name(x), out->subject, sizeof out->subject);
    tm_x509_name(X509_get_issuer_name(x), out->issuer, sizeof out->issuer);
    X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, out->cn, sizeof out->cn);

    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    if (bn) {
        char *h = BN_bn2hex(bn);
        if (h) {
            snprintf(out->serial, sizeof out->serial, "%s", h);
            OPENSSL_free(h);
        }
        BN_free(bn);
    }
    out->not_before = asn1_time(X509_get0_notBefore(x));
    out->not_after = asn1_time(X509_get0_notAfter(x));

    EVP_PKEY *pk = X509_get0_pubkey(x);
    if (pk) {
        int id = EVP_PKEY_get_base_id(pk);
        const char *kt = id == EVP_PKEY_RSA ? "RSA" : id == EVP_PKEY_RSA_PSS ? "RSA-PSS"
                       : id == EVP_PKEY_EC ? "EC" : id == EVP_PKEY_ED25519 ? "Ed25519"
                       : id == EVP_PKEY_ED448 ? "Ed448" : id == EVP_PKEY_DSA ? "DSA" : NULL;
        snprintf(out->key_type, sizeof out->key_type, "%s", kt ? kt : OBJ_nid2sn(id));
        out->key_bits = EVP_PKEY_get_bits(pk);
        if (id == EVP_PKEY_EC) {
            char g[64];
            size_t gl = 0;
            if (EVP_PKEY_get_group_name(pk, g, sizeof g, &gl)) {
                int nid = OBJ_sn2nid(g);
                const char *nist = nid != NID_undef ? EC_curve_nid2nist(nid) : NULL;
                snprintf(out->curve, sizeof out->curve, "%.23s", nist ? nist : g);
            }
        }
    }
    int sig_nid = X509_get_signature_nid(x);
    snprintf(out->sig_alg, sizeof out->sig_alg, "%s", sig_nid != NID_undef ? OBJ_nid2ln(sig_nid) : "unknown");
    int md = NID_undef, pkn = NID_undef, secbits = 0;
    uint32_t fl = 0;
    if (X509_get_signature_info(x, &md, &pkn, &secbits, &fl) && md != NID_undef)
        snprintf(out->sig_hash, sizeof out->sig_hash, "%s", OBJ_nid2sn(md));
    else if (OBJ_find_sigid_algs(sig_nid, &md, &pkn) && md != NID_undef)
        snprintf(out->sig_hash, sizeof out->sig_hash, "%s", OBJ_nid2sn(md));

    out->is_v1 = X509_get_version(x) == 0;
    BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(x, NID_basic_constraints, NULL, NULL);
    if (bc) {
        out->is_ca = bc->ca != 0;
        if (bc->pathlen)
            out->path_len = (int)ASN1_INTEGER_get(bc->pathlen);
        BASIC_CONSTRAINTS_free(bc);
    }
    out->self_signed = X509_self_signed(x, 1) == 1;
    ERR_clear_error();

    const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(x);
    if (ski)
        hex_colon(ASN1_STRING_get0_data(ski), (size_t)ASN1_STRING_length(ski), out->ski, sizeof out->ski);
    const ASN1_OCTET_STRING *aki = X509_get0_authority_key_id(x);
    if (aki)
        hex_colon(ASN1_STRING_get0_data(aki), (size_t)ASN1_STRING_length(aki), out->aki, sizeof out->aki);
    ASN1_BIT_STRING *bits = X509_get0_pubkey_bitstr(x);
    if (bits) {
        unsigned char h[20];
        unsigned int hl = 0;
        if (EVP_Digest(ASN1_STRING_get0_data(bits), (size_t)ASN1_STRING_length(bits), h, &hl, EVP_sha1(), NULL))
            hex_colon(h, hl, out->ski_computed, sizeof out->ski_computed);
    }

    EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
    if (eku) {
        out->has_eku = true;
        size_t o = 0;
        for (int i = 0; i < sk_ASN1_OBJECT_num(eku); i++) {
            int nid = OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, i));
            if (nid == NID_server_auth || nid == NID_anyExtendedKeyUsage)
                out->eku_server_auth = true;
            char nm[64];
            if (nid != NID_undef)
                snprintf(nm, sizeof nm, "%s", OBJ_nid2sn(nid));
            else
                OBJ_obj2txt(nm, sizeof nm, sk_ASN1_OBJECT_value(eku, i), 1);
            if (o + strlen(nm) + 2 < sizeof out->eku)
                o += (size_t)snprintf(out->eku + o, sizeof out->eku - o, "%s%s", o ? "," : "", nm);
        }
        EXTENDED_KEY_USAGE_free(eku);
    }
    fill_sans_text(x, out);
    fill_profile(x, out);

    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dl = 0;
    if (X509_digest(x, EVP_sha256(), d, &dl))
        hex_colon(d, dl, out->sha256, sizeof out->sha256);
    ERR_clear_error();
}

static X509 *parse_der(const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    if (x && p != der + len) {
        X509_free(x);
        return NULL;
    }
    return x;
}

tm_err tm_x509_info_der(const uint8_t *der, size_t len, tm_x509_info *out, tm_reason *why)
{
    X509 *x = der && len ? parse_der(der, len) : NULL;
    if (!x) {
        unsigned long e = ERR_peek_last_error();
        char eb[160] = "";
        if (e)
            ERR_error_string_n(e, eb, sizeof eb);
        ERR_clear_error();
        return tm_fail(why, TM_E_CERT_FORMAT, "%zu bytes of DER do not parse as an X.509 certificate%s%s",
                       len, eb[0] ? ": " : "", eb);
    }
    tm_x509_fill(x, out);
    X509_free(x);
    return TM_OK;
}

void tm_sha256(const void *p, size_t len, uint8_t out[32])
{
    unsigned int olen = 0;
    if (!EVP_Digest(len ? p : "", len, out, &olen, EVP_sha256(), NULL) || olen != 32)
        memset(out, 0, 32);
}

tm_err tm_x509_spki_sha256(const uint8_t *der, size_t len, uint8_t out[32], tm_reason *why)
{
    X509 *x = der && len ? parse_der(der, len) : NULL;
    if (!x) {
        ERR_clear_error();
        return tm_fail(why, TM_E_CERT_FORMAT, "%zu bytes of DER do not parse as an X.509 certificate", len);
    }
    int ok = tm_x509_spki_hash(x, out);
    X509_free(x);
    return ok ? TM_OK : tm_fail(why, TM_E_INTERNAL, "could not hash the public key");
}

EVP_PKEY *tm_x509_load_key(const uint8_t *key, size_t len)
{
    if (!key || !len || len > 0x7fffffff)
        return NULL;
    EVP_PKEY *pk = NULL;
    BIO *b = BIO_new_mem_buf(key, (int)len);
    if (b) {
        pk = PEM_read_bio_PrivateKey(b, NULL, NULL, (void *)"");
        BIO_free(b);
    }
    if (!pk) {
        const unsigned char *p = key;
        pk = d2i_AutoPrivateKey(NULL, &p, (long)len);
    }
    if (!pk) {
        const unsigned char *p = key;
        PKCS8_PRIV_KEY_INFO *p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)len);
        if (p8) {
            pk = EVP_PKCS82PKEY(p8);
            PKCS8_PRIV_KEY_INFO_free(p8);
        }
    }
    ERR_clear_error();
    return pk;
}

tm_err tm_x509_check_key(const uint8_t *key, size_t key_len,
                         const uint8_t *cert_der, size_t cert_len, tm_reason *why)
{
    EVP_PKEY *pk = tm_x509_load_key(key, key_len);
    if (!pk)
        return tm_fail(why, TM_E_KEY_FORMAT,
                       "%zu bytes are not an unencrypted private key (PEM or DER, RSA or EC)", key_len);
    tm_err rc = TM_OK;
    if (cert_der) {
        X509 *x = parse_der(cert_der, cert_len);
        if (!x)
            rc = tm_fail(why, TM_E_CERT_FORMAT, "the certificate (%zu bytes of DER) does not parse", cert_len);
        else {
            if (X509_check_private_key(x, pk) != 1) {
                char subject[256];
                tm_x509_name(X509_get_subject_name(x), subject, sizeof subject);
                EVP_PKEY *cpk = X509_get0_pubkey(x);
                rc = tm_fail(why, TM_E_KEY_MISMATCH,
                             "the %s-%d private key does not match the %s-%d public key of '%s'",
                             OBJ_nid2sn(EVP_PKEY_get_base_id(pk)), EVP_PKEY_get_bits(pk),
                             cpk ? OBJ_nid2sn(EVP_PKEY_get_base_id(cpk)) : "?",
                             cpk ? EVP_PKEY_get_bits(cpk) : 0, subject);
            }
            X509_free(x);
        }
    }
    EVP_PKEY_free(pk);
    ERR_clear_error();
    return rc;
}

size_t tm_der_split(const uint8_t *p, size_t len, tm_blob *out, size_t max)
{
    size_t n = 0, off = 0;
    while (off + 2 <= len && n < max) {
        size_t hdr = 2, body;
        uint8_t l = p[off + 1];
        if (l < 0x80) {
            body = l;
        } else {
            int nb = l & 0x7f;
            if (nb < 1 || nb > 4 || off + 2 + (size_t)nb > len)
                break;
            body = 0;
            for (int i = 0; i < nb; i++)
                body = (body << 8) | p[off + 2 + i];
            hdr += (size_t)nb;
        }
        if (off + hdr + body > len)
            break;
        out[n].p = p + off;
        out[n].len = hdr + body;
        n++;
        off += hdr + body;
    }
    return n;
}

size_t tm_x509_check_der_certs(const uint8_t *p, size_t len, char *what, size_t cap)
{
    if (len == 0) {
        snprintf(what, cap, "it is empty");
        return 0;
    }
    if (p[0] != 0x30) {     /* every certificate is a DER SEQUENCE */
        snprintf(what, cap, "it is not DER (it starts with byte 0x%02x%s)", p[0],
                 len > 5 && !memcmp(p, "-----", 5) ? ", PEM text: a stored item is always DER" : "");
        return 0;
    }
    tm_blob items[64];
    size_t n = tm_der_split(p, len, items, 64), used = 0;
    for (size_t i = 0; i < n; i++)
        used += items[i].len;
    if (n == 0 || used != len) {
        snprintf(what, cap, "%zu of its %zu bytes are not complete DER items (corrupted or truncated)",
                 len - used, len);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        tm_x509_info x;
        tm_reason r;
        tm_reason_clear(&r);
        if (tm_x509_info_der(items[i].p, items[i].len, &x, &r) != TM_OK) {
            snprintf(what, cap, "item %zu of %zu is not a certificate (%.200s)", i + 1, n, r.detail);
            return 0;
        }
    }
    return n;
}
