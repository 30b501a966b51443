/* users/users.c — student accounts (rules); SQL is in store/users.c. */
#include "users/users.h"

#include "users/sessions.h"

#include "base/crypto.h"
#include "base/err.h"
#include "base/imgmeta.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "config/config.h"
#include "storage/storage.h"
#include "store/audit.h"
#include "store/ratelimit.h"
#include "store/users.h"
#include "wechat/miniapp.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RL_ADDR   "wxlogin_addr"
#define RL_OPENID "wxlogin_openid"

static int gate(struct pc_db *db, const char *bucket, const char *key, int max, int window_s,
                int *retry_after_s)
{
    int hits = 0, ra = 0;
    int rc = pc_store_rl_hit(db, bucket, key, window_s);
    if (rc == 0)
        rc = pc_store_rl_get(db, bucket, key, window_s, &hits, &ra);
    if (rc)
        return rc;
    if (hits > max) {
        *retry_after_s = ra > 0 ? ra : 1;
        return PC_ELIMIT;
    }
    return 0;
}

int pc_user_login_gate_addr(struct pc_db *db, const struct pc_config *cfg, const char *ip,
                            int *retry_after_s)
{
    return gate(db, RL_ADDR, ip, cfg->wxlogin_addr_max, cfg->wxlogin_window_s, retry_after_s);
}

int pc_user_login(struct pc_db *db, const struct pc_config *cfg, const struct pc_wx_session *s,
                  const char *ip, const char *request_id, struct pc_user_login_out *out)
{
    memset(out, 0, sizeof *out);
    int rc = gate(db, RL_OPENID, s->openid, cfg->wxlogin_openid_max, cfg->wxlogin_window_s,
                  &out->retry_after_s);
    if (rc)
        return rc;
    unsigned char key[PC_DATA_KEY_BYTES], enc[64 + PC_SEAL_OVERHEAD];
    char aad[96];
    size_t n = strlen(s->session_key);
    snprintf(aad, sizeof aad, "users.session_key:%s", s->openid);
    if (n > 64 || pc_data_key_parse(cfg->data_key, key))
        return PC_ECRYPTO;
    rc = pc_seal(key, aad, s->session_key, n, enc);
    OPENSSL_cleanse(key, sizeof key);
    if (rc)
        return rc;
    rc = pc_store_user_upsert(db, s->openid, s->unionid[0] ? s->unionid : NULL, enc,
                              n + PC_SEAL_OVERHEAD, &out->user_id, &out->created);
    if (rc)
        return rc;
    return pc_user_session_issue(db, cfg, out->user_id, ip, request_id, NULL, out);
}

int pc_user_session_issue(struct pc_db *db, const struct pc_config *cfg, int64_t user_id,
                          const char *ip, const char *request_id, const char *via,
                          struct pc_user_login_out *out)
{
    out->user_id = user_id;
    char token_hash[PC_SHA256_HEXLEN], expires_db[32];
    int64_t session_id;
    if (pc_token_new(out->token))
        return PC_ECRYPTO;
    pc_sha256_hex(out->token, strlen(out->token), token_hash);
    int rc = pc_store_user_session_insert(db, out->user_id, token_hash, cfg->user_token_ttl_s, ip,
                                          &session_id, expires_db);
    struct pc_user u;
    if (rc == 0)
        rc = pc_store_user_get(db, out->user_id, &u);
    if (rc) {
        OPENSSL_cleanse(out->token, sizeof out->token);
        return rc;
    }
    pc_time_db_to_api(expires_db, out->expires_at, sizeof out->expires_at);
    out->profile_complete = u.real_name[0] != '\0';
    out->phone_bound = u.phone[0] != '\0';
    char target[24];
    snprintf(target, sizeof target, "%lld", (long long)out->user_id);
    cJSON *d = cJSON_CreateObject();
    cJSON_AddBoolToObject(d, "created", out->created);
    if (via)
        cJSON_AddStringToObject(d, "via", via);
    struct pc_audit au = {.actor_type = "user",
                          .actor_id = out->user_id,
                          .action = "user.login",
                          .target_type = "user",
                          .target_id = target,
                          .ip = ip,
                          .request_id = request_id,
                          .details = d};
    pc_store_audit_insert(db, &au);
    cJSON_Delete(d);
    return 0;
}

int pc_user_authenticate(struct pc_db *db, const char *token, struct pc_user_auth *out,
                         enum pc_user_token_state *state)
{
    memset(out, 0, sizeof *out);
    *state = PC_USER_TOKEN_UNKNOWN;
    char token_hash[PC_SHA256_HEXLEN];
    pc_sha256_hex(token, strlen(token), token_hash);
    if (pc_user_session_cached(token_hash, out)) {
        *state = PC_USER_TOKEN_OK;
        return 0;
    }
    struct pc_store_user_session s;
    uint64_t read_started = pc_time_mono_ns();
    int rc = pc_store_user_session_get(db, token_hash, &s);
    if (rc == PC_ENOTFOUND)
        return 0;
    if (rc)
        return rc;
    pc_user_session_remember(token_hash, &s, read_started);
    if (s.revoked)
        return 0;
    if (s.expired) {
        *state = PC_USER_TOKEN_EXPIRED;
        return 0;
    }
    out->id = s.user_id;
    out->session_id = s.session_id;
    snprintf(out->openid, sizeof out->openid, "%s", s.openid);
    *state = PC_USER_TOKEN_OK;
    return 0;
}

bool pc_user_token_cached(const char *token, struct pc_user_auth *out)
{
    char token_hash[PC_SHA256_HEXLEN];
    pc_sha256_hex(token, strlen(token), token_hash);
    return pc_user_session_cached(token_hash, out);
}

int pc_user_logout(struct pc_db *db, const struct pc_user_auth *auth)
{
    int rc = pc_store_user_session_revoke(db, auth->session_id);
    if (rc == 0) /* other instances drop it at their next poll (users/sessions.h) */
        pc_user_session_forget(auth->session_id);
    return rc;
}

/* Decodes one UTF-8 character at s (n bytes left); returns its length, 0 if invalid. */
static size_t utf8_next(const unsigned char *s, size_t n, unsigned *cp)
{
    if (n == 0)
        return 0;
    unsigned c = s[0];
    size_t len = c < 0x80             ? 1
                 : (c & 0xe0) == 0xc0 ? 2
                 : (c & 0xf0) == 0xe0 ? 3
                 : (c & 0xf8) == 0xf0 ? 4
                                      : 0;
    if (len == 0 || len > n)
        return 0;
    unsigned v = len == 1 ? c : len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) : (c & 0x07);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    static const unsigned min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (v < min[len] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0; /* overlong, out of range or surrogate */
    *cp = v;
    return len;
}

/* Trims ASCII spaces and U+3000 at both ends; checks each character with ok(); counts. */
static bool check_text(const char *in, char *out, size_t len, bool (*ok)(unsigned cp),
                       bool allow_empty)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t n = strlen(in), start = 0, end = n, chars = 0;
    while (start < n && s[start] == ' ')
        start++;
    if (n - start >= 3 && s[start] == 0xe3 && s[start + 1] == 0x80 && s[start + 2] == 0x80)
        start += 3;
    while (end > start && s[end - 1] == ' ')
        end--;
    if (end - start >= 3 && s[end - 3] == 0xe3 && s[end - 2] == 0x80 && s[end - 1] == 0x80)
        end -= 3;
    for (size_t i = start; i < end;) {
        unsigned cp;
        size_t l = utf8_next(s + i, end - i, &cp);
        if (!l || !ok(cp))
            return false;
        i += l;
        chars++;
    }
    if ((chars == 0 && !allow_empty) || chars > PC_NAME_MAX_CHARS || end - start >= len)
        return false;
    memcpy(out, in + start, end - start);
    out[end - start] = '\0';
    return true;
}

static bool name_char(unsigned cp)
{
    if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || cp == ' ' || cp == '.' ||
        cp == '\'' || cp == '-')
        return true;
    if (cp == 0xb7 || cp == 0x2019 || cp == 0x30fb || cp == 0x2027) /* · ’ ・ ‧ */
        return true;
    if (cp < 0xc0 || (cp >= 0x2000 && cp <= 0x2bff) || (cp >= 0x3000 && cp <= 0x303f) ||
        (cp >= 0xff00 && cp <= 0xff65) || (cp >= 0xfe30 && cp <= 0xfe4f) ||
        (cp >= 0xe000 && cp <= 0xf8ff))
        return false; /* ASCII digits and symbols, punctuation blocks, private use */
    return true;      /* letters of other scripts: Latin-1 letters, CJK, … */
}

static bool nickname_char(unsigned cp)
{
    return cp >= 0x20 && cp != 0x7f && !(cp >= 0x80 && cp < 0xa0) && cp != 0x2028 && cp != 0x2029;
}

bool pc_user_name_valid(const char *in, char *out, size_t len)
{
    return in && check_text(in, out, len, name_char, false);
}

bool pc_user_nickname_valid(const char *in, char *out, size_t len)
{
    return in && check_text(in, out, len, nickname_char, true);
}

void pc_user_phone_mask(const char *phone, char *out, size_t len)
{
    size_t n = strlen(phone);
    if (n >= 8)
        snprintf(out, len, "%.3s****%s", phone, phone + n - 4);
    else
        snprintf(out, len, "****");
}

int pc_user_set_avatar(struct pc_db *db, const struct pc_config *cfg, int64_t user_id,
                       const void *data, size_t len, const char *ext, char *out, size_t outlen)
{
    unsigned char rnd[16], *clean = NULL;
    char hex[33], rel[128];
    size_t clean_len = 0;
    if (pc_rand_bytes(rnd, sizeof rnd))
        return PC_ECRYPTO;
    /* Public: never with the camera's metadata (base/imgmeta.h). */
    if (pc_image_strip_metadata(data, len, &clean, &clean_len))
        return PC_EINVAL;
    pc_hex(rnd, sizeof rnd, hex);
    snprintf(out, outlen, "%s.%s", hex, ext);
    snprintf(rel, sizeof rel, "avatars/%.2s/%s", hex, out);
    int rc = pc_storage_put(cfg, rel, clean, clean_len);
    free(clean);
    if (rc == 0)
        rc = pc_store_user_set_avatar(db, user_id, out, rel);
    return rc;
}

int pc_user_get(struct pc_db *db, int64_t id, struct pc_user *out)
{
    return pc_store_user_get(db, id, out);
}

int pc_user_set_profile(struct pc_db *db, int64_t id, const char *real_name, const char *nickname)
{
    return pc_store_user_set_profile(db, id, real_name, nickname);
}

int pc_user_set_phone(struct pc_db *db, int64_t id, const char *phone)
{
    return pc_store_user_set_phone(db, id, phone);
}

int pc_user_avatar_read(struct pc_db *db, const struct pc_config *cfg, const char *name,
                        char **data, size_t *len, bool *png)
{
    size_t n = name ? strlen(name) : 0;
    bool ok = n == 36 && (!strcmp(name + 32, ".jpg") || !strcmp(name + 32, ".png"));
    for (size_t i = 0; ok && i < 32; i++)
        ok = (name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f');
    char path[256];
    *data = NULL;
    int rc = ok ? pc_store_avatar_path(db, name, path, sizeof path) : PC_ENOTFOUND;
    if (rc)
        return rc;
    *png = !strcmp(name + 32, ".png");
    return pc_storage_get(cfg, path, (size_t)cfg->avatar_max_bytes, data, len);
}
