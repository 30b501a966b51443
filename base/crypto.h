/* base/crypto.h — random tokens and digests on OpenSSL. Any thread. */
#ifndef PC_BASE_CRYPTO_H
#define PC_BASE_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define PC_TOKEN_BYTES   32 /* 256 bits of entropy per bearer token */
#define PC_TOKEN_STRLEN  44 /* base64url of 32 bytes (43) + NUL */
#define PC_SHA256_HEXLEN 65 /* 64 hex digits + NUL */

/* Fills p with n bytes from the CSPRNG. 0 or PC_ECRYPTO. */
int pc_rand_bytes(void *p, size_t n);
/* Writes a fresh opaque token (base64url, no padding) into out[PC_TOKEN_STRLEN]. */
int pc_token_new(char out[PC_TOKEN_STRLEN]);
/* SHA-256 of p[0..n) as lower-case hex into out[PC_SHA256_HEXLEN]. */
void pc_sha256_hex(const void *p, size_t n, char out[PC_SHA256_HEXLEN]);
/* HMAC-SHA-256 of p[0..n) under key[keylen] as lower-case hex into out[PC_SHA256_HEXLEN].
 * 0 or PC_ECRYPTO. */
int pc_hmac_sha256_hex(const void *key, size_t keylen, const void *p, size_t n,
                       char out[PC_SHA256_HEXLEN]);
/* Lower-case hex of n bytes into out (2n+1 bytes). */
void pc_hex(const void *p, size_t n, char *out);
/* base64url without padding of n bytes into out (needs 4*ceil(n/3)+1 bytes). Returns length. */
size_t pc_b64url(const void *p, size_t n, char *out);
/* Decodes base64url (no padding) s[0..n) into out (capacity outcap). 0, or PC_EINVAL on a
 * bad character or overflow. *outlen receives the decoded length. */
int pc_b64url_decode(const char *s, size_t n, void *out, size_t outcap, size_t *outlen);
/* Standard base64 with padding (RFC 4648 §4), for WeChat Pay signatures and ciphertexts.
 * pc_b64 writes 4*ceil(n/3)+1 bytes; returns the length. */
size_t pc_b64(const void *p, size_t n, char *out);
/* Strict decode: the length must be a multiple of 4, only the alphabet, '=' only as final
 * padding. 0, or PC_EINVAL (also for "WECHATPAY/SIGNTEST/..." probes) or PC_ETOOBIG
 * (outcap too small). */
int pc_b64_decode(const char *s, size_t n, void *out, size_t outcap, size_t *outlen);
/* Constant-time comparison of two equal-length byte strings: 1 if equal. */
int pc_ct_equal(const void *a, const void *b, size_t n);

#define PC_DATA_KEY_BYTES 32 /* AES-256 key for data at rest */
#define PC_SEAL_OVERHEAD  29 /* version (1) + nonce (12) + tag (16) */

/* Parses a 64-hex-digit key into key[32]. 0 or PC_EINVAL. */
int pc_data_key_parse(const char *hex, unsigned char key[PC_DATA_KEY_BYTES]);
/* Encrypts n bytes for storage with AES-256-GCM: out = 0x01 || nonce || ciphertext || tag,
 * out needs n + PC_SEAL_OVERHEAD bytes. aad binds the value to its place (table, row).
 * 0 or PC_ECRYPTO. */
int pc_seal(const unsigned char key[PC_DATA_KEY_BYTES], const char *aad, const void *in, size_t n,
            unsigned char *out);
/* Decrypts what pc_seal produced (len bytes) into out (len - PC_SEAL_OVERHEAD bytes).
 * 0, or PC_ECRYPTO when the key, aad or data do not match. */
int pc_unseal(const unsigned char key[PC_DATA_KEY_BYTES], const char *aad, const unsigned char *in,
              size_t len, void *out);

#endif
