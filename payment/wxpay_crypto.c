/* payment/wxpay_crypto.c — WeChat Pay v3 signatures and AES-GCM on OpenSSL 3. */
#include "payment/wxpay_crypto.h"

#include "base/alloc.h"
#include "base/buf.h"
#include "base/crypto.h"
#include "base/err.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_KEYS 16

struct pc_pay_signer {
    EVP_PKEY *key;
    char mchid[33];
    char serial[PC_PAY_SERIAL_MAX];
};

struct key_entry {
    char serial[PC_PAY_SERIAL_MAX];
    EVP_PKEY *key;
    /* key's RSA verification (PKCS#1 v1.5, SHA-256) set up once: each verification works on
     * a copy (EVP_PKEY_CTX_dup), which costs a fraction of a fresh EVP_DigestVerifyInit (its
     * algorithm fetches); NULL when it could not be made (then the fresh way) */
    EVP_PKEY_CTX *verify;
    int64_t not_after; /* Unix seconds; 0 = no end (a public key) */
};

struct pc_pay_keys {
    pthread_rwlock_t lock;
    struct key_entry e[MAX_KEYS];
    size_t n;
};

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct pc_buf b;
    pc_buf_init(&b, 1 << 20);
    char tmp[4096];
    size_t n;
    int rc = 0;
    while (rc == 0 && (n = fread(tmp, 1, sizeof tmp, f)) > 0)
        rc = pc_buf_add(&b, tmp, n);
    fclose(f);
    if (rc) {
        pc_buf_free(&b);
        return NULL;
    }
    return pc_buf_take(&b, len);
}

struct pc_pay_signer *pc_pay_signer_from_pem(const char *pem, size_t len, const char *mchid,
                                             const char *serial)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (!key)
        return NULL;
    struct pc_pay_signer *s = pc_new(struct pc_pay_signer);
    s->key = key;
    snprintf(s->mchid, sizeof s->mchid, "%s", mchid ? mchid : "");
    snprintf(s->serial, sizeof s->serial, "%s", serial ? serial : "");
    return s;
}

struct pc_pay_signer *pc_pay_signer_load(const char *pem_path, const char *mchid,
                                         const char *serial)
{
    size_t len = 0;
    char *pem = read_all(pem_path, &len);
    if (!pem)
        return NULL;
    struct pc_pay_signer *s = pc_pay_signer_from_pem(pem, len, mchid, serial);
    OPENSSL_cleanse(pem, len);
    free(pem);
    return s;
}

void pc_pay_signer_free(struct pc_pay_signer *s)
{
    if (!s)
        return;
    EVP_PKEY_free(s->key);
    free(s);
}

int pc_pay_sign(const struct pc_pay_signer *s, const void *msg, size_t len, char *out,
                size_t outlen)
{
    unsigned char sig[1024];
    size_t siglen = sizeof sig;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c && EVP_DigestSignInit(c, NULL, EVP_sha256(), NULL, s->key) == 1 &&
             EVP_DigestSign(c, sig, &siglen, msg, len) == 1;
    EVP_MD_CTX_free(c);
    if (!ok)
        return PC_ECRYPTO;
    if (outlen < 4 * ((siglen + 2) / 3) + 1)
        return PC_ETOOBIG;
    pc_b64(sig, siglen, out);
    return 0;
}

char *pc_pay_request_message(const char *method, const char *canonical_url, int64_t timestamp,
                             const char *nonce, const char *body, size_t body_len, size_t *len)
{
    struct pc_buf b;
    pc_buf_init(&b, body_len + 4096);
    pc_buf_addf(&b, "%s\n%s\n%lld\n%s\n", method, canonical_url, (long long)timestamp, nonce);
    if (body_len)
        pc_buf_add(&b, body, body_len);
    pc_buf_add(&b, "\n", 1);
    return pc_buf_take(&b, len);
}

int pc_pay_nonce(char out[33])
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char r[32];
    if (pc_rand_bytes(r, sizeof r))
        return PC_ECRYPTO;
    for (int i = 0; i < 32; i++)
        out[i] = al[r[i] % 62];
    out[32] = '\0';
    return 0;
}

int pc_pay_authorization(const struct pc_pay_signer *s, const char *method,
                         const char *canonical_url, const char *body, size_t body_len,
                         int64_t timestamp, const char *nonce, char *out, size_t outlen)
{
    char n[33], sig[PC_PAY_SIG_B64_MAX];
    if (!nonce) {
        if (pc_pay_nonce(n))
            return PC_ECRYPTO;
        nonce = n;
    }
    size_t mlen = 0;
    char *msg =
        pc_pay_request_message(method, canonical_url, timestamp, nonce, body, body_len, &mlen);
    int rc = pc_pay_sign(s, msg, mlen, sig, sizeof sig);
    free(msg);
    if (rc)
        return rc;
    int w = snprintf(out, outlen,
                     "WECHATPAY2-SHA256-RSA2048 mchid=\"%s\",nonce_str=\"%s\",timestamp=\"%lld\","
                     "serial_no=\"%s\",signature=\"%s\"",
                     s->mchid, nonce, (long long)timestamp, s->serial, sig);
    return w < 0 || (size_t)w >= outlen ? PC_ETOOBIG : 0;
}

int pc_pay_pay_sign(const struct pc_pay_signer *s, const char *appid, const char *timestamp,
                    const char *nonce, const char *package, char *out, size_t outlen)
{
    char msg[1024];
    int n = snprintf(msg, sizeof msg, "%s\n%s\n%s\n%s\n", appid, timestamp, nonce, package);
    if (n < 0 || (size_t)n >= sizeof msg)
        return PC_ETOOBIG;
    return pc_pay_sign(s, msg, (size_t)n, out, outlen);
}

/* The entry's verification template for its key, or NULL (not RSA, or OpenSSL failed). */
static EVP_PKEY_CTX *verify_template(EVP_PKEY *key)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    if (c && EVP_PKEY_verify_init(c) == 1 &&
        EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) == 1 &&
        EVP_PKEY_CTX_set_signature_md(c, EVP_sha256()) == 1)
        return c;
    EVP_PKEY_CTX_free(c);
    return NULL;
}

/* Puts key (taken) and its template into e. */
static void entry_set(struct key_entry *e, EVP_PKEY *key, int64_t not_after)
{
    e->key = key;
    e->verify = verify_template(key);
    e->not_after = not_after;
}

static void entry_clear(struct key_entry *e)
{
    EVP_PKEY_CTX_free(e->verify);
    EVP_PKEY_free(e->key);
    e->verify = NULL;
    e->key = NULL;
}

struct pc_pay_keys *pc_pay_keys_new(void)
{
    struct pc_pay_keys *k = pc_new(struct pc_pay_keys);
    pthread_rwlock_init(&k->lock, NULL);
    return k;
}

void pc_pay_keys_free(struct pc_pay_keys *k)
{
    if (!k)
        return;
    for (size_t i = 0; i < k->n; i++)
        entry_clear(&k->e[i]);
    pthread_rwlock_destroy(&k->lock);
    free(k);
}

size_t pc_pay_keys_count(const struct pc_pay_keys *k)
{
    struct pc_pay_keys *w = (struct pc_pay_keys *)k;
    pthread_rwlock_rdlock(&w->lock);
    size_t n = k->n;
    pthread_rwlock_unlock(&w->lock);
    return n;
}

/* Takes key (also on failure). A re-added serial replaces the old key; a full map makes room
 * by dropping the certificate that ends first. Caller holds the write lock. */
static int add_key_locked(struct pc_pay_keys *k, const char *serial, EVP_PKEY *key,
                          int64_t not_after)
{
    if (!serial[0] || strlen(serial) >= PC_PAY_SERIAL_MAX) {
        EVP_PKEY_free(key);
        return PC_EINVAL;
    }
    for (size_t i = 0; i < k->n; i++) {
        if (!strcmp(k->e[i].serial, serial)) {
            entry_clear(&k->e[i]);
            entry_set(&k->e[i], key, not_after);
            return 0;
        }
    }
    if (k->n == MAX_KEYS) {
        size_t victim = MAX_KEYS;
        for (size_t i = 0; i < k->n; i++)
            if (k->e[i].not_after &&
                (victim == MAX_KEYS || k->e[i].not_after < k->e[victim].not_after))
                victim = i;
        if (victim == MAX_KEYS || (not_after && not_after < k->e[victim].not_after)) {
            EVP_PKEY_free(key);
            return PC_EINVAL;
        }
        entry_clear(&k->e[victim]);
        k->e[victim] = k->e[--k->n];
    }
    snprintf(k->e[k->n].serial, PC_PAY_SERIAL_MAX, "%s", serial);
    entry_set(&k->e[k->n++], key, not_after);
    return 0;
}

static int add_key(struct pc_pay_keys *k, const char *serial, EVP_PKEY *key, int64_t not_after)
{
    pthread_rwlock_wrlock(&k->lock);
    int rc = add_key_locked(k, serial, key, not_after);
    pthread_rwlock_unlock(&k->lock);
    return rc;
}

int pc_pay_keys_add_cert_as(struct pc_pay_keys *k, const char *pem, size_t len,
                            const char *want_serial)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (!x)
        return PC_EINVAL;
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get_serialNumber(x), NULL);
    char *hex = bn ? BN_bn2hex(bn) : NULL; /* upper case, as WeChat writes serials */
    EVP_PKEY *key = X509_get_pubkey(x);
    int days = 0, secs = 0;
    int rc = PC_EINVAL;
    /* The end of its use: notAfter, measured from now (no time zone arithmetic here). */
    if (hex && key && ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x)) &&
        (days > 0 || (days == 0 && secs > 0)) &&
        (!want_serial || strcasecmp(hex, want_serial) == 0)) {
        int64_t not_after = (int64_t)time(NULL) + (int64_t)days * 86400 + secs;
        rc = add_key(k, hex, key, not_after); /* takes the key, also on failure */
        key = NULL;
    }
    EVP_PKEY_free(key);
    OPENSSL_free(hex);
    BN_free(bn);
    X509_free(x);
    return rc;
}

int pc_pay_keys_add_cert(struct pc_pay_keys *k, const char *pem, size_t len)
{
    return pc_pay_keys_add_cert_as(k, pem, len, NULL);
}

bool pc_pay_keys_has(const struct pc_pay_keys *k, const char *serial)
{
    struct pc_pay_keys *w = (struct pc_pay_keys *)k;
    bool found = false;
    pthread_rwlock_rdlock(&w->lock);
    for (size_t i = 0; serial && i < k->n && !found; i++)
        found = !strcmp(k->e[i].serial, serial);
    pthread_rwlock_unlock(&w->lock);
    return found;
}

size_t pc_pay_keys_prune(struct pc_pay_keys *k, int64_t now)
{
    size_t gone = 0;
    pthread_rwlock_wrlock(&k->lock);
    for (size_t i = 0; i < k->n;) {
        if (k->e[i].not_after && k->e[i].not_after <= now) {
            entry_clear(&k->e[i]);
            k->e[i] = k->e[--k->n];
            gone++;
        } else {
            i++;
        }
    }
    pthread_rwlock_unlock(&k->lock);
    return gone;
}

int pc_pay_keys_merge(struct pc_pay_keys *k, const struct pc_pay_keys *from)
{
    struct pc_pay_keys *f = (struct pc_pay_keys *)from;
    int rc = 0;
    pthread_rwlock_rdlock(&f->lock);
    pthread_rwlock_wrlock(&k->lock);
    for (size_t i = 0; i < f->n && rc == 0; i++) {
        EVP_PKEY_up_ref(f->e[i].key);
        rc = add_key_locked(k, f->e[i].serial, f->e[i].key, f->e[i].not_after);
    }
    pthread_rwlock_unlock(&k->lock);
    pthread_rwlock_unlock(&f->lock);
    return rc;
}

void pc_pay_keys_serials(const struct pc_pay_keys *k, char *out, size_t len)
{
    struct pc_pay_keys *w = (struct pc_pay_keys *)k;
    size_t off = 0;
    out[0] = '\0';
    pthread_rwlock_rdlock(&w->lock);
    for (size_t i = 0; i < k->n && off + 1 < len; i++) {
        int n = snprintf(out + off, len - off, "%s%s", i ? "," : "", k->e[i].serial);
        off += n > 0 ? (size_t)n : 0;
    }
    pthread_rwlock_unlock(&w->lock);
}

int pc_pay_keys_add_pubkey(struct pc_pay_keys *k, const char *id, const char *pem, size_t len)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *key = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    return key ? add_key(k, id, key, 0) : PC_EINVAL;
}

int pc_pay_keys_add_file(struct pc_pay_keys *k, const char *id, const char *path)
{
    size_t len = 0;
    char *pem = read_all(path, &len);
    if (!pem)
        return PC_EIO;
    int rc =
        id && id[0] ? pc_pay_keys_add_pubkey(k, id, pem, len) : pc_pay_keys_add_cert(k, pem, len);
    free(pem);
    return rc;
}

int pc_pay_verify_message(const struct pc_pay_keys *k, const char *serial, const void *msg,
                          size_t len, const char *signature)
{
    struct pc_pay_keys *w = (struct pc_pay_keys *)k;
    unsigned char sig[1024];
    size_t siglen = 0;
    /* A "WECHATPAY/SIGNTEST/..." probe is not base64: it fails here, gracefully. */
    if (!signature || pc_b64_decode(signature, strlen(signature), sig, sizeof sig, &siglen))
        return PC_EAUTH;
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *v = NULL; /* a copy of the entry's template (it holds its own key reference) */
    pthread_rwlock_rdlock(&w->lock);
    for (size_t i = 0; serial && i < k->n && !key && !v; i++) {
        if (strcmp(k->e[i].serial, serial) != 0)
            continue;
        if (k->e[i].verify)
            v = EVP_PKEY_CTX_dup(k->e[i].verify);
        if (!v && EVP_PKEY_up_ref(k->e[i].key) == 1)
            key = k->e[i].key;
    }
    pthread_rwlock_unlock(&w->lock);
    if (!key && !v)
        return PC_EAUTH;
    int ok;
    if (v) { /* the same verification as below: SHA-256 of msg, then PKCS#1 v1.5 */
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int mdlen = 0;
        ok = EVP_Digest(msg, len, md, &mdlen, EVP_sha256(), NULL) == 1 &&
             EVP_PKEY_verify(v, sig, siglen, md, mdlen) == 1;
        EVP_PKEY_CTX_free(v);
    } else {
        EVP_MD_CTX *c = EVP_MD_CTX_new();
        ok = c && EVP_DigestVerifyInit(c, NULL, EVP_sha256(), NULL, key) == 1 &&
             EVP_DigestVerify(c, sig, siglen, msg, len) == 1;
        EVP_MD_CTX_free(c);
        EVP_PKEY_free(key);
    }
    return ok ? 0 : PC_EAUTH;
}

int pc_pay_verify(const struct pc_pay_keys *k, const char *serial, const char *timestamp,
                  const char *nonce, const void *body, size_t body_len, const char *signature)
{
    if (!timestamp || !nonce)
        return PC_EAUTH;
    struct pc_buf b;
    pc_buf_init(&b, body_len + 512);
    int rc = pc_buf_addf(&b, "%s\n%s\n", timestamp, nonce);
    if (rc == 0 && body_len)
        rc = pc_buf_add(&b, body, body_len);
    if (rc == 0)
        rc = pc_buf_add(&b, "\n", 1);
    if (rc == 0)
        rc = pc_pay_verify_message(k, serial, b.p, b.len, signature);
    else
        rc = PC_EAUTH;
    pc_buf_free(&b);
    return rc;
}

static const EVP_CIPHER *gcm_for(size_t keylen)
{
    return keylen == 32 ? EVP_aes_256_gcm() : keylen == 16 ? EVP_aes_128_gcm() : NULL;
}

int pc_pay_decrypt(const void *key, size_t keylen, const char *nonce, const char *aad,
                   const char *ciphertext_b64, char *out, size_t outcap, size_t *outlen)
{
    const EVP_CIPHER *cipher = gcm_for(keylen);
    size_t blen = ciphertext_b64 ? strlen(ciphertext_b64) : 0;
    if (!cipher || !nonce || strlen(nonce) != 12 || !aad)
        return PC_EINVAL;
    unsigned char *raw = pc_xmalloc(blen / 4 * 3 + 3);
    size_t rlen = 0;
    int rc = PC_EINVAL;
    if (pc_b64_decode(ciphertext_b64, blen, raw, blen / 4 * 3 + 3, &rlen) || rlen < 16 ||
        rlen - 16 + 1 > outcap)
        goto out;
    size_t n = rlen - 16;
    int len = 0, fin = 0;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int ok = c && EVP_DecryptInit_ex(c, cipher, NULL, NULL, NULL) == 1 &&
             EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) == 1 &&
             EVP_DecryptInit_ex(c, NULL, NULL, key, (const unsigned char *)nonce) == 1 &&
             EVP_DecryptUpdate(c, NULL, &len, (const unsigned char *)aad, (int)strlen(aad)) == 1 &&
             EVP_DecryptUpdate(c, (unsigned char *)out, &len, raw, (int)n) == 1 &&
             EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, raw + n) == 1 &&
             EVP_DecryptFinal_ex(c, (unsigned char *)out + len, &fin) == 1;
    EVP_CIPHER_CTX_free(c);
    if (!ok) {
        OPENSSL_cleanse(out, n);
        rc = PC_EAUTH;
        goto out;
    }
    out[n] = '\0';
    *outlen = n;
    rc = 0;
out:
    free(raw);
    return rc;
}

int pc_pay_encrypt(const void *key, size_t keylen, const char *nonce, const char *aad,
                   const void *plain, size_t len, char *out, size_t outcap)
{
    const EVP_CIPHER *cipher = gcm_for(keylen);
    if (!cipher || !nonce || strlen(nonce) != 12 || !aad || outcap < 4 * ((len + 16 + 2) / 3) + 1)
        return PC_EINVAL;
    unsigned char *raw = pc_xmalloc(len + 16);
    int l = 0, fin = 0;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int ok = c && EVP_EncryptInit_ex(c, cipher, NULL, NULL, NULL) == 1 &&
             EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) == 1 &&
             EVP_EncryptInit_ex(c, NULL, NULL, key, (const unsigned char *)nonce) == 1 &&
             EVP_EncryptUpdate(c, NULL, &l, (const unsigned char *)aad, (int)strlen(aad)) == 1 &&
             (len == 0 || EVP_EncryptUpdate(c, raw, &l, plain, (int)len) == 1) &&
             EVP_EncryptFinal_ex(c, raw + l, &fin) == 1 &&
             EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, raw + len) == 1;
    EVP_CIPHER_CTX_free(c);
    if (ok)
        pc_b64(raw, len + 16, out);
    free(raw);
    return ok ? 0 : PC_ECRYPTO;
}
