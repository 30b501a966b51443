/* payment/wxpay_crypto.h — WeChat Pay API v3 cryptography (wechat-protocols.md §4–§5, §7):
 * request signatures (WECHATPAY2-SHA256-RSA2048), wx.requestPayment's paySign, response and
 * notification verification against a serial → public-key map that holds platform
 * certificates and WeChat Pay public keys (PUB_KEY_ID_…), and AEAD_AES_256_GCM.
 *
 * Pure functions over OpenSSL 3; a loaded signer or key set is immutable and may be shared
 * by every thread. */
#ifndef PC_PAYMENT_WXPAY_CRYPTO_H
#define PC_PAYMENT_WXPAY_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PC_PAY_SIG_B64_MAX 700  /* base64 of an RSA-4096 signature fits */
#define PC_PAY_AUTH_MAX    1024 /* the Authorization header value */
#define PC_PAY_SERIAL_MAX  64

struct pc_pay_signer;
struct pc_pay_keys;

/* Loads the merchant's API private key (PEM, PKCS#8 or PKCS#1). mchid and serial (the
 * merchant API certificate's serial, upper-case hex) go into Authorization headers.
 * NULL on error. */
struct pc_pay_signer *pc_pay_signer_load(const char *pem_path, const char *mchid,
                                         const char *serial);
struct pc_pay_signer *pc_pay_signer_from_pem(const char *pem, size_t len, const char *mchid,
                                             const char *serial);
void pc_pay_signer_free(struct pc_pay_signer *s);

/* RSASSA-PKCS1-v1_5 / SHA-256 of msg, base64 (with padding) into out. 0 or PC_ECRYPTO. */
int pc_pay_sign(const struct pc_pay_signer *s, const void *msg, size_t len, char *out,
                size_t outlen);
/* The five-line string of §4.1: METHOD\nURL\nTIMESTAMP\nNONCE\nBODY\n (caller frees). */
char *pc_pay_request_message(const char *method, const char *canonical_url, int64_t timestamp,
                             const char *nonce, const char *body, size_t body_len, size_t *len);
/* The Authorization header value for one request. nonce: 32 alphanumerics (generated when
 * NULL); timestamp: Unix seconds. 0 or PC_ECRYPTO / PC_ETOOBIG. */
int pc_pay_authorization(const struct pc_pay_signer *s, const char *method,
                         const char *canonical_url, const char *body, size_t body_len,
                         int64_t timestamp, const char *nonce, char *out, size_t outlen);
/* paySign of wx.requestPayment: sign("appId\ntimeStamp\nnonceStr\npackage\n"). */
int pc_pay_pay_sign(const struct pc_pay_signer *s, const char *appid, const char *timestamp,
                    const char *nonce, const char *package, char *out, size_t outlen);
/* 32 random alphanumerics + NUL into out[33]. */
int pc_pay_nonce(char out[33]);

/* A serial → public key map. Thread-safe: platform certificates come and go (downloaded,
 * expired) while other threads verify with it. */
struct pc_pay_keys *pc_pay_keys_new(void);
void pc_pay_keys_free(struct pc_pay_keys *k);
/* Adds a platform certificate (PEM); its serial (upper-case hex) is the key and its notAfter
 * the end of its use (pc_pay_keys_prune). 0 or PC_EINVAL (not a certificate, expired, or the
 * map is full of keys that do not expire). */
int pc_pay_keys_add_cert(struct pc_pay_keys *k, const char *pem, size_t len);
/* The same, only when the certificate's serial is want_serial (a downloaded list names each
 * certificate's serial beside it). 0 or PC_EINVAL. */
int pc_pay_keys_add_cert_as(struct pc_pay_keys *k, const char *pem, size_t len,
                            const char *want_serial);
/* Whether serial has a key. */
bool pc_pay_keys_has(const struct pc_pay_keys *k, const char *serial);
/* Drops the certificates whose notAfter is before now (Unix seconds); returns how many went. */
size_t pc_pay_keys_prune(struct pc_pay_keys *k, int64_t now);
/* Adds every key of from to k (a downloaded list accepted). 0 or PC_EINVAL (k full). */
int pc_pay_keys_merge(struct pc_pay_keys *k, const struct pc_pay_keys *from);
/* The serials, comma-separated, into out (for logs). */
void pc_pay_keys_serials(const struct pc_pay_keys *k, char *out, size_t len);
/* Adds a WeChat Pay public key (SPKI PEM) under its id ("PUB_KEY_ID_…"). 0 or PC_EINVAL. */
int pc_pay_keys_add_pubkey(struct pc_pay_keys *k, const char *id, const char *pem, size_t len);
/* Reads a PEM file and adds it as a certificate or (with id) a public key. */
int pc_pay_keys_add_file(struct pc_pay_keys *k, const char *id, const char *path);
size_t pc_pay_keys_count(const struct pc_pay_keys *k);

/* Verifies a response or notification: signature over "ts\nnonce\nbody\n" with the key of
 * serial. 0, or PC_EAUTH (unknown serial, malformed or probe signature, mismatch). */
int pc_pay_verify(const struct pc_pay_keys *k, const char *serial, const char *timestamp,
                  const char *nonce, const void *body, size_t body_len, const char *signature);
/* Verifies a signature over msg with the key of serial (V2 of the vectors). */
int pc_pay_verify_message(const struct pc_pay_keys *k, const char *serial, const void *msg,
                          size_t len, const char *signature);

/* AEAD_AES_256_GCM (§5.3): key = the APIv3 key's raw bytes (32 → AES-256; 16 → AES-128, only
 * for the published test vectors), nonce = the 12 ASCII bytes as given, aad as given,
 * ciphertext_b64 = base64(ciphertext ‖ tag). out receives the plaintext (NUL-terminated,
 * outcap ≥ decoded length - 15). 0, PC_EINVAL (bad base64, sizes) or PC_EAUTH (tag). */
int pc_pay_decrypt(const void *key, size_t keylen, const char *nonce, const char *aad,
                   const char *ciphertext_b64, char *out, size_t outcap, size_t *outlen);
/* The reverse (the sandbox encrypts notifications): base64(ciphertext ‖ tag) into out. */
int pc_pay_encrypt(const void *key, size_t keylen, const char *nonce, const char *aad,
                   const void *plain, size_t len, char *out, size_t outcap);

#endif
