/* codes/codec.c — the development collection-code codec "CC1." (docs/codes.md):
 * "CC1." + base64url(nonce(12) ‖ AES-256-GCM(JSON) ‖ tag(16)), AAD PC_CC_AAD.
 * Pure; any thread (OpenSSL EVP contexts are per call). */
#include "codes/codes.h"
#include "codes/internal.h"
#include "base/utf8.h"

#include "base/buf.h"
#include "base/crypto.h"
#include "base/err.h"
#include "base/timeutil.h"

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define PREFIX_LEN (sizeof PC_CC_PREFIX - 1)
/* The raw (decoded) body of the longest accepted text, and the longest plaintext in it. */
#define RAW_MAX   ((PC_CC_MAX_TEXT - PREFIX_LEN) * 3 / 4)
#define PLAIN_MAX (RAW_MAX - PC_CC_NONCE - PC_CC_TAG)
#define GRAD_MIN  1900
#define GRAD_MAX  2999

/* ---- fields ---- */

enum kind {
    K_TEXT,  /* UTF-8 without control characters */
    K_UID,   /* [A-Za-z0-9._-] */
    K_ALNUM, /* [A-Za-z0-9] */
    K_TIME   /* RFC 3339 with an offset */
};

struct field {
    const char *name;
    size_t off, cap;
    enum kind kind;
    int may_be_empty;
};

#define OFF(m)  offsetof(struct pc_cc_record, m)
#define SIZE(m) sizeof(((struct pc_cc_record *)0)->m)
/* The string members in DESIGN.md's order (grad_year, a number, is handled apart). */
static const struct field fields[] = {
    {"uid", OFF(uid), SIZE(uid), K_UID, 0},
    {"name_masked", OFF(name_masked), SIZE(name_masked), K_TEXT, 0},
    {"id_masked", OFF(id_masked), SIZE(id_masked), K_TEXT, 1},
    {"school_code", OFF(school_code), SIZE(school_code), K_ALNUM, 0},
    {"school", OFF(school), SIZE(school), K_TEXT, 0},
    {"student_no", OFF(student_no), SIZE(student_no), K_ALNUM, 0},
    {"major", OFF(major), SIZE(major), K_TEXT, 1},
    {"level", OFF(level), SIZE(level), K_TEXT, 1},
    {"issued_at", OFF(issued_at), SIZE(issued_at), K_TIME, 0},
};
#undef OFF
#undef SIZE
#define NFIELDS   (sizeof fields / sizeof fields[0])
#define GRAD_NAME "grad_year"

static int is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* s[0..n) is a valid value of f (s is NUL-terminated at n). */
static int check_value(const struct field *f, const char *s, size_t n)
{
    if (n >= f->cap || (n == 0 && !f->may_be_empty) || memchr(s, '\0', n))
        return 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        switch (f->kind) {
        case K_ALNUM:
            if (!is_alnum(c))
                return 0;
            i++;
            break;
        case K_UID:
            if (!is_alnum(c) && c != '.' && c != '_' && c != '-')
                return 0;
            i++;
            break;
        case K_TEXT:
        case K_TIME: {
            long cp = pc_utf8_next(s, n, &i);
            if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f)) /* -1, C0, DEL, C1 */
                return 0;
            break;
        }
        }
    }
    int64_t t;
    return f->kind != K_TIME || pc_time_parse_rfc3339(s, &t) == 0;
}

static int check_record(const struct pc_cc_record *rec)
{
    for (size_t i = 0; i < NFIELDS; i++) {
        const char *s = (const char *)rec + fields[i].off;
        const char *nul = memchr(s, '\0', fields[i].cap);
        if (!nul || !check_value(&fields[i], s, (size_t)(nul - s)))
            return PC_EINVAL;
    }
    return rec->grad_year >= GRAD_MIN && rec->grad_year <= GRAD_MAX ? 0 : PC_EINVAL;
}

/* ---- JSON ---- */

int pc__cc_render_json(const struct pc_cc_record *rec, char *buf, size_t cap, size_t *n)
{
    struct pc_buf b;
    int rc = check_record(rec);
    if (rc)
        return rc;
    pc_buf_init(&b, PLAIN_MAX);
    rc = pc_buf_adds(&b, "{");
    for (size_t i = 0; i < NFIELDS && rc == 0; i++) {
        const char *s = (const char *)rec + fields[i].off;
        if (strcmp(fields[i].name, "issued_at") == 0) /* keep DESIGN.md's member order */
            rc = pc_buf_addf(&b, "\"%s\":%d,", GRAD_NAME, rec->grad_year);
        if (rc == 0)
            rc = pc_buf_addf(&b, "\"%s\":\"", fields[i].name);
        if (rc == 0)
            rc = pc_buf_add_json_str(&b, s, strlen(s));
        if (rc == 0)
            rc = pc_buf_adds(&b, i + 1 < NFIELDS ? "\"," : "\"}");
    }
    if (rc == 0 && b.len >= cap)
        rc = PC_ETOOBIG;
    if (rc == 0) {
        memcpy(buf, b.p, b.len + 1);
        *n = b.len;
    }
    pc_buf_free(&b);
    return rc;
}

int pc__cc_parse_json(const char *json, size_t n, struct pc_cc_record *out)
{
    int rc = PC_EINVAL;
    unsigned seen = 0;
    cJSON *root = NULL;
    char text[PLAIN_MAX + 1];
    const char *end = NULL;
    memset(out, 0, sizeof *out);
    if (n == 0 || n > PLAIN_MAX || memchr(json, '\0', n))
        goto out;
    memcpy(text, json, n);
    text[n] = '\0';
    root = cJSON_ParseWithOpts(text, &end, 1); /* 1: nothing but whitespace after the object */
    if (!cJSON_IsObject(root))
        goto out;
    for (const cJSON *it = root->child; it; it = it->next) {
        if (!it->string)
            goto out;
        if (strcmp(it->string, GRAD_NAME) == 0) {
            double v = it->valuedouble;
            if (!cJSON_IsNumber(it) || (seen & (1u << NFIELDS)) ||
                !(v >= GRAD_MIN && v <= GRAD_MAX) || v != (double)(int)v)
                goto out;
            out->grad_year = (int)v;
            seen |= 1u << NFIELDS;
            continue;
        }
        size_t i = 0;
        while (i < NFIELDS && strcmp(it->string, fields[i].name) != 0)
            i++;
        if (i == NFIELDS) /* unknown members are ignored (forward compatibility) */
            continue;
        if (!cJSON_IsString(it) || !it->valuestring || (seen & (1u << i)))
            goto out;
        size_t len = strlen(it->valuestring);
        if (!check_value(&fields[i], it->valuestring, len))
            goto out;
        memcpy((char *)out + fields[i].off, it->valuestring, len + 1);
        seen |= 1u << i;
    }
    rc = seen == (1u << (NFIELDS + 1)) - 1 ? 0 : PC_EINVAL;
out:
    cJSON_Delete(root);
    OPENSSL_cleanse(text, sizeof text);
    if (rc)
        memset(out, 0, sizeof *out);
    return rc;
}

/* ---- AES-256-GCM ---- */

/* One GCM pass; enc selects the direction; the tag is written (enc) or checked. */
static int gcm(int enc, const unsigned char *key, const unsigned char *nonce,
               const unsigned char *in, size_t n, unsigned char *out, unsigned char *tag)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int len = 0, fin = 0;
    int ok = c && n <= PLAIN_MAX &&
             EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) == 1 &&
             EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, PC_CC_NONCE, NULL) == 1 &&
             EVP_CipherInit_ex(c, NULL, NULL, key, nonce, enc) == 1 &&
             EVP_CipherUpdate(c, NULL, &len, (const unsigned char *)PC_CC_AAD,
                              (int)(sizeof PC_CC_AAD - 1)) == 1 &&
             EVP_CipherUpdate(c, out, &len, in, (int)n) == 1;
    if (ok && !enc)
        ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, PC_CC_TAG, tag) == 1;
    if (ok)
        ok = EVP_CipherFinal_ex(c, out + len, &fin) == 1;
    if (ok && enc)
        ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, PC_CC_TAG, tag) == 1;
    EVP_CIPHER_CTX_free(c);
    return ok ? 0 : PC_ECRYPTO;
}

/* ---- the codec ---- */

int pc__cc_encode_nonce(const unsigned char key[PC_CC_KEY_LEN],
                        const unsigned char nonce[PC_CC_NONCE], const struct pc_cc_record *rec,
                        char *out, size_t outcap, size_t *outlen)
{
    char plain[PLAIN_MAX + 1];
    unsigned char raw[RAW_MAX];
    size_t n = 0;
    if (!key || !nonce || !rec || !out)
        return PC_EINVAL;
    int rc = pc__cc_render_json(rec, plain, sizeof plain, &n);
    if (rc)
        goto out;
    size_t rawlen = PC_CC_NONCE + n + PC_CC_TAG;
    size_t textlen = PREFIX_LEN + (rawlen * 4 + 2) / 3; /* unpadded base64 length */
    if (textlen > PC_CC_MAX_TEXT) {
        rc = PC_EINVAL; /* cannot happen with the field caps; kept as a guard */
        goto out;
    }
    if (textlen >= outcap) {
        rc = PC_ETOOBIG;
        goto out;
    }
    memcpy(raw, nonce, PC_CC_NONCE);
    rc = gcm(1, key, nonce, (const unsigned char *)plain, n, raw + PC_CC_NONCE,
             raw + PC_CC_NONCE + n);
    if (rc)
        goto out;
    memcpy(out, PC_CC_PREFIX, PREFIX_LEN);
    pc_b64url(raw, rawlen, out + PREFIX_LEN);
    if (outlen)
        *outlen = textlen;
out:
    OPENSSL_cleanse(plain, sizeof plain);
    return rc;
}

int pc_cc_encode(const unsigned char key[PC_CC_KEY_LEN], const struct pc_cc_record *rec, char *out,
                 size_t outcap, size_t *outlen)
{
    unsigned char nonce[PC_CC_NONCE];
    if (pc_rand_bytes(nonce, sizeof nonce))
        return PC_ECRYPTO;
    return pc__cc_encode_nonce(key, nonce, rec, out, outcap, outlen);
}

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

int pc_cc_decode(const unsigned char key[PC_CC_KEY_LEN], const char *text, size_t len,
                 struct pc_cc_record *out)
{
    unsigned char raw[RAW_MAX];
    char plain[PLAIN_MAX + 1];
    char canon[PC_CC_MAX_TEXT + 1];
    size_t rawlen = 0;
    int rc = PC_EINVAL;
    if (!out)
        return PC_EINVAL;
    memset(out, 0, sizeof *out);
    if (!key || !text)
        return PC_EINVAL;
    while (len && is_ws(text[0]))
        text++, len--;
    while (len && is_ws(text[len - 1]))
        len--;
    if (len > PC_CC_MAX_TEXT || len < PREFIX_LEN || memcmp(text, PC_CC_PREFIX, PREFIX_LEN) != 0)
        return PC_EINVAL;
    const char *body = text + PREFIX_LEN;
    size_t blen = len - PREFIX_LEN;
    if (pc_b64url_decode(body, blen, raw, sizeof raw, &rawlen) != 0 ||
        rawlen <= PC_CC_NONCE + PC_CC_TAG)
        return PC_EINVAL;
    /* Canonical form only: the last character's unused bits must be zero, so that exactly one
     * text denotes each code (altering any character of a code is always refused). */
    if (pc_b64url(raw, rawlen, canon) != blen || memcmp(canon, body, blen) != 0)
        return PC_EINVAL;
    size_t n = rawlen - PC_CC_NONCE - PC_CC_TAG;
    if (gcm(0, key, raw, raw + PC_CC_NONCE, n, (unsigned char *)plain, raw + PC_CC_NONCE + n))
        goto out;
    plain[n] = '\0';
    rc = pc__cc_parse_json(plain, n, out);
out:
    OPENSSL_cleanse(plain, sizeof plain);
    return rc;
}
