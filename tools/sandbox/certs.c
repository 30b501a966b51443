/* tools/sandbox/certs.c — WeChat Pay's platform certificates (wechat-protocols.md §7.1): the
 * list at GET /v3/certificates (each certificate AEAD_AES_256_GCM-encrypted with the APIv3 key,
 * associated data "certificate", the answer signed like any other), and POST
 * /__sandbox/rotate-platform-cert, which makes a new RSA-2048 certificate current: it signs
 * replies and notifications from then on (in --pay-mode cert), and the list keeps the old ones
 * beside it until they expire. Loop thread only. */
#include "tools/sandbox/pay.h"

#include "base/alloc.h"
#include "base/crypto.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "payment/wxpay_crypto.h"
#include "tools/sandbox/state.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parses a PEM certificate into c: its serial (upper-case hex) and validity. 0 or -1. */
static int cert_info(const char *pem, size_t len, struct sb_cert *c)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (!x)
        return -1;
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get_serialNumber(x), NULL);
    char *hex = bn ? BN_bn2hex(bn) : NULL;
    int d1 = 0, s1 = 0, d2 = 0, s2 = 0;
    int ok = hex && strlen(hex) < sizeof c->serial &&
             ASN1_TIME_diff(&d1, &s1, NULL, X509_get0_notBefore(x)) &&
             ASN1_TIME_diff(&d2, &s2, NULL, X509_get0_notAfter(x));
    if (ok) {
        int64_t now = pc_time_now_ms() / 1000;
        snprintf(c->serial, sizeof c->serial, "%s", hex);
        c->effective_s = now + (int64_t)d1 * 86400 + s1;
        c->expire_s = now + (int64_t)d2 * 86400 + s2;
        c->pem = pc_xmalloc(len + 1);
        memcpy(c->pem, pem, len);
        c->pem[len] = '\0';
    }
    OPENSSL_free(hex);
    BN_free(bn);
    X509_free(x);
    return ok ? 0 : -1;
}

int sb_certs_init(struct sb_pay *p, const char *dir, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/platform.pem", dir);
    FILE *f = fopen(path, "rb");
    char buf[16384];
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f)
        fclose(f);
    if (!n || cert_info(buf, n, &p->certs[0])) {
        snprintf(err, errlen, "cannot read the certificate %s", path);
        return -1;
    }
    p->ncerts = 1;
    return 0;
}

void sb_certs_free(struct sb_pay *p)
{
    for (size_t i = 0; i < p->ncerts; i++)
        free(p->certs[i].pem);
    p->ncerts = 0;
}

/* A new self-signed RSA-2048 certificate with a random 40-hex-digit serial: its PEM into
 * *cert_pem and its key's into *key_pem (both pc_xmalloc'd). 0 or -1. */
static int make_cert(const char *mchid, char **cert_pem, size_t *cert_len, char **key_pem,
                     size_t *key_len)
{
    EVP_PKEY *key = EVP_RSA_gen(2048);
    X509 *x = X509_new();
    BIGNUM *bn = BN_new();
    ASN1_INTEGER *serial = NULL;
    BIO *cb = BIO_new(BIO_s_mem()), *kb = BIO_new(BIO_s_mem());
    X509_NAME *name = x ? X509_get_subject_name(x) : NULL;
    int ok =
        key && x && bn && cb && kb && name &&
        BN_rand(bn, 159, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) == 1 &&
        (serial = BN_to_ASN1_INTEGER(bn, NULL)) != NULL && X509_set_version(x, 2) == 1 &&
        X509_set_serialNumber(x, serial) == 1 && X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
        X509_gmtime_adj(X509_getm_notAfter(x), 5L * 365 * 86400) && X509_set_pubkey(x, key) == 1 &&
        X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                   (const unsigned char *)"portraitd development", -1, -1,
                                   0) == 1 &&
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)mchid, -1, -1,
                                   0) == 1 &&
        X509_set_issuer_name(x, name) == 1 && X509_sign(x, key, EVP_sha256()) > 0 &&
        PEM_write_bio_X509(cb, x) == 1 &&
        PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL) == 1;
    if (ok) {
        char *p;
        long n = BIO_get_mem_data(cb, &p);
        *cert_pem = pc_xmalloc((size_t)n + 1);
        memcpy(*cert_pem, p, (size_t)n);
        *cert_len = (size_t)n;
        n = BIO_get_mem_data(kb, &p);
        *key_pem = pc_xmalloc((size_t)n + 1);
        memcpy(*key_pem, p, (size_t)n);
        *key_len = (size_t)n;
    }
    BIO_free(cb);
    BIO_free(kb);
    ASN1_INTEGER_free(serial);
    BN_free(bn);
    X509_free(x);
    EVP_PKEY_free(key);
    return ok ? 0 : -1;
}

/* POST /__sandbox/rotate-platform-cert → {"serial"}: a new certificate becomes current. */
static void sb_ctl_rotate(struct sb_call *c)
{
    struct sb_pay *p = sb_state_pay(c->st);
    if (!p || !p->ready) {
        sb_reply_ctl_error(c, 409, "the sandbox was started without --pay-dir");
        return;
    }
    if (p->ncerts == SB_PAY_MAX_CERTS) { /* the oldest goes first */
        free(p->certs[0].pem);
        memmove(p->certs, p->certs + 1, (SB_PAY_MAX_CERTS - 1) * sizeof p->certs[0]);
        p->ncerts--;
    }
    char *cert = NULL, *key = NULL;
    size_t cl = 0, kl = 0;
    struct sb_cert *nc = &p->certs[p->ncerts];
    struct pc_pay_signer *s = NULL;
    if (make_cert(p->mchid, &cert, &cl, &key, &kl) || cert_info(cert, cl, nc) ||
        !(s = pc_pay_signer_from_pem(key, kl, p->mchid, nc->serial))) {
        free(cert);
        if (key)
            OPENSSL_cleanse(key, kl);
        free(key);
        sb_reply_ctl_error(c, 500, "cannot make a certificate");
        return;
    }
    OPENSSL_cleanse(key, kl);
    free(key);
    free(cert);
    p->ncerts++;
    pc_pay_signer_free(p->platform);
    p->platform = s;
    snprintf(p->platform_serial, sizeof p->platform_serial, "%s", nc->serial);
    pc_log(PC_LOG_INFO, "platform certificate rotated", PC_LS("serial", nc->serial));
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "serial", nc->serial);
    sb_reply_json(c, 200, j);
}

/* GET /v3/certificates: every certificate not expired, encrypted with the APIv3 key. */
static void sb_pay_certificates(struct sb_call *c)
{
    struct sb_pay *p = sb_state_pay(c->st);
    int64_t now = pc_time_now_ms() / 1000;
    cJSON *j = cJSON_CreateObject();
    cJSON *data = cJSON_AddArrayToObject(j, "data");
    for (size_t i = 0; i < p->ncerts; i++) {
        const struct sb_cert *ct = &p->certs[i];
        if (ct->expire_s <= now)
            continue;
        char nonce[13], t[40];
        unsigned char r[12];
        static const char al[] = "abcdefghijklmnopqrstuvwxyz0123456789";
        pc_rand_bytes(r, sizeof r);
        for (int k = 0; k < 12; k++)
            nonce[k] = al[r[k] % 36];
        nonce[12] = '\0';
        size_t len = strlen(ct->pem), cap = 4 * ((len + 16 + 2) / 3) + 1;
        char *enc = pc_xmalloc(cap);
        if (pc_pay_encrypt(p->apiv3, 32, nonce, "certificate", ct->pem, len, enc, cap)) {
            free(enc);
            continue;
        }
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "serial_no", ct->serial);
        pc_time_rfc3339(ct->effective_s, t, sizeof t, PC_TZ_SHANGHAI_MIN);
        cJSON_AddStringToObject(o, "effective_time", t);
        pc_time_rfc3339(ct->expire_s, t, sizeof t, PC_TZ_SHANGHAI_MIN);
        cJSON_AddStringToObject(o, "expire_time", t);
        cJSON *e = cJSON_AddObjectToObject(o, "encrypt_certificate");
        cJSON_AddStringToObject(e, "algorithm", "AEAD_AES_256_GCM");
        cJSON_AddStringToObject(e, "nonce", nonce);
        cJSON_AddStringToObject(e, "associated_data", "certificate");
        cJSON_AddStringToObject(e, "ciphertext", enc);
        free(enc);
        cJSON_AddItemToArray(data, o);
    }
    c->content_type = SB_PAY_CONTENT;
    sb_reply_json(c, 200, j);
}

static const struct sb_route sb_certs_routes[] = {
    {"GET", "/v3/certificates", "certificates", sb_pay_certificates},
    {"POST", "/__sandbox/rotate-platform-cert", NULL, sb_ctl_rotate},
};
const struct sb_route_table sb_certs_table = {sb_certs_routes,
                                              sizeof sb_certs_routes / sizeof sb_certs_routes[0]};
