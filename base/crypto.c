/* base/crypto.c — CSPRNG tokens and SHA-256 through OpenSSL 3. Any thread. */
#include "base/crypto.h"

#include "base/err.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <stdbool.h>
#include <string.h>

int pc_rand_bytes(void *p, size_t n)
{
    return RAND_bytes(p, (int)n) == 1 ? 0 : PC_ECRYPTO;
}

size_t pc_b64url(const void *p, size_t n, char *out)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const unsigned char *s = p;
    size_t o = 0, i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        out[o++] = al[v >> 18 & 63];
        out[o++] = al[v >> 12 & 63];
        out[o++] = al[v >> 6 & 63];
        out[o++] = al[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)s[i] << 16;
        out[o++] = al[v >> 18 & 63];
        out[o++] = al[v >> 12 & 63];
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
        out[o++] = al[v >> 18 & 63];
        out[o++] = al[v >> 12 & 63];
        out[o++] = al[v >> 6 & 63];
    }
    out[o] = '\0';
    return o;
}

int pc_b64url_decode(const char *s, size_t n, void *out, size_t outcap, size_t *outlen)
{
    unsigned char *o = out;
    size_t len = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int v = c >= 'A' && c <= 'Z'   ? c - 'A'
                : c >= 'a' && c <= 'z' ? c - 'a' + 26
                : c >= '0' && c <= '9' ? c - '0' + 52
                : c == '-'             ? 62
                : c == '_'             ? 63
                                       : -1;
        if (v < 0)
            return PC_EINVAL;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (len == outcap)
                return PC_EINVAL;
            o[len++] = (unsigned char)(acc >> bits);
        }
    }
    if (bits >= 6) /* a lone trailing character cannot end a base64 string */
        return PC_EINVAL;
    *outlen = len;
    return 0;
}

int pc_token_new(char out[PC_TOKEN_STRLEN])
{
    unsigned char raw[PC_TOKEN_BYTES];
    if (pc_rand_bytes(raw, sizeof raw))
        return PC_ECRYPTO;
    pc_b64url(raw, sizeof raw, out);
    OPENSSL_cleanse(raw, sizeof raw);
    return 0;
}

void pc_hex(const void *p, size_t n, char *out)
{
    static const char hx[] = "0123456789abcdef";
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[s[i] >> 4];
        out[2 * i + 1] = hx[s[i] & 15];
    }
    out[2 * n] = '\0';
}

void pc_sha256_hex(const void *p, size_t n, char out[PC_SHA256_HEXLEN])
{
    unsigned char md[32];
    unsigned int len = 0;
    EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
    pc_hex(md, 32, out);
}

int pc_hmac_sha256_hex(const void *key, size_t keylen, const void *p, size_t n,
                       char out[PC_SHA256_HEXLEN])
{
    unsigned char md[32];
    unsigned int len = 0;
    if (!HMAC(EVP_sha256(), key, (int)keylen, p, n, md, &len) || len != sizeof md)
        return PC_ECRYPTO;
    pc_hex(md, sizeof md, out);
    OPENSSL_cleanse(md, sizeof md);
    return 0;
}

int pc_ct_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

int pc_data_key_parse(const char *hex, unsigned char key[PC_DATA_KEY_BYTES])
{
    if (!hex || strlen(hex) != 2 * PC_DATA_KEY_BYTES)
        return PC_EINVAL;
    for (size_t i = 0; i < PC_DATA_KEY_BYTES; i++) {
        int v = 0;
        for (int k = 0; k < 2; k++) {
            char c = hex[2 * i + (size_t)k];
            int d = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
            if (d < 0)
                return PC_EINVAL;
            v = v * 16 + d;
        }
        key[i] = (unsigned char)v;
    }
    return 0;
}

/* One AES-256-GCM pass; enc selects the direction. tag is written (enc) or checked. */
static int gcm(int enc, const unsigned char *key, const unsigned char *nonce, const char *aad,
               const unsigned char *in, size_t n, unsigned char *out, unsigned char *tag)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int len = 0,
        ok = c && EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) == 1 &&
             EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) == 1 &&
             EVP_CipherInit_ex(c, NULL, NULL, key, nonce, enc) == 1 &&
             EVP_CipherUpdate(c, NULL, &len, (const unsigned char *)aad, (int)strlen(aad)) == 1 &&
             (n == 0 || EVP_CipherUpdate(c, out, &len, in, (int)n) == 1);
    if (ok && !enc)
        ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1;
    if (ok)
        ok = EVP_CipherFinal_ex(c, out + (n ? len : 0), &len) == 1;
    if (ok && enc)
        ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
    EVP_CIPHER_CTX_free(c);
    return ok ? 0 : PC_ECRYPTO;
}

int pc_seal(const unsigned char key[PC_DATA_KEY_BYTES], const char *aad, const void *in, size_t n,
            unsigned char *out)
{
    out[0] = 1;
    if (pc_rand_bytes(out + 1, 12))
        return PC_ECRYPTO;
    return gcm(1, key, out + 1, aad, in, n, out + 13, out + 13 + n);
}

int pc_unseal(const unsigned char key[PC_DATA_KEY_BYTES], const char *aad, const unsigned char *in,
              size_t len, void *out)
{
    if (len < PC_SEAL_OVERHEAD || in[0] != 1)
        return PC_ECRYPTO;
    size_t n = len - PC_SEAL_OVERHEAD;
    unsigned char tag[16];
    memcpy(tag, in + 13 + n, 16);
    return gcm(0, key, in + 1, aad, in + 13, n, out, tag);
}

size_t pc_b64(const void *p, size_t n, char *out)
{
    int len = EVP_EncodeBlock((unsigned char *)out, p, (int)n);
    return len < 0 ? 0 : (size_t)len;
}

/* One of the 64 characters of base64 (not padding). */
static bool b64_char(unsigned char c)
{
    return (unsigned)(c - 'A') < 26u || (unsigned)(c - 'a') < 26u || (unsigned)(c - '0') < 10u ||
           c == '+' || c == '/';
}

int pc_b64_decode(const char *s, size_t n, void *out, size_t outcap, size_t *outlen)
{
    if (n == 0 || n % 4 != 0)
        return PC_EINVAL;
    /* '=' only as the last one or two characters; every other character of the alphabet (one
     * pass without per-character padding state: this runs over every signature and payment
     * notification) */
    const unsigned char *u = (const unsigned char *)s;
    size_t pad = u[n - 1] == '=' ? (u[n - 2] == '=' ? 2 : 1) : 0;
    bool ok = true;
    for (size_t i = 0; i < n - pad; i++)
        ok &= b64_char(u[i]);
    if (!ok)
        return PC_EINVAL;
    size_t need = n / 4 * 3;
    if (need - pad > outcap)
        return PC_ETOOBIG;
    unsigned char tmp[3];
    unsigned char *o = out;
    /* Every block but the last (no padding there) in one call; the last through tmp, so that
     * the output buffer needs only the real length. */
    size_t body = n - 4;
    if (body && EVP_DecodeBlock(o, (const unsigned char *)s, (int)body) != (int)(body / 4 * 3))
        return PC_EINVAL;
    if (EVP_DecodeBlock(tmp, (const unsigned char *)s + body, 4) != 3)
        return PC_EINVAL;
    memcpy(o + body / 4 * 3, tmp, 3 - pad);
    *outlen = need - pad;
    return 0;
}
