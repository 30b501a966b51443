/* users/phone_login.c — SMS login codes and the phone login of the PC page (rules); SQL is
 * in store/sms_codes.c (the codes) and store/users.c (students by phone). See
 * phone_login.h. */
#include "users/phone_login.h"

#include "base/crypto.h"
#include "base/err.h"
#include "base/timeutil.h"
#include "config/config.h"
#include "store/audit.h"
#include "store/outbox.h"
#include "store/ratelimit.h"
#include "store/sms_codes.h"
#include "store/users.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#define RL_PHONE_BURST "sms_phone_burst"
#define RL_PHONE       "sms_phone"
#define RL_ADDR        "sms_addr"

bool pc_phone_valid(const char *phone)
{
    if (!phone || strlen(phone) != 11 || phone[0] != '1' || phone[1] < '3' || phone[1] > '9')
        return false;
    return strspn(phone, "0123456789") == 11;
}

int pc_sms_code_hmac(const struct pc_config *cfg, const char *phone, const char *code, char out[65])
{
    unsigned char key[PC_DATA_KEY_BYTES], mac[32];
    unsigned int maclen = 0;
    char msg[64];
    if (pc_data_key_parse(cfg->data_key, key))
        return PC_ECRYPTO;
    int n = snprintf(msg, sizeof msg, "sms-login:%s:%s", phone, code);
    const unsigned char *ok =
        HMAC(EVP_sha256(), key, sizeof key, (const unsigned char *)msg, (size_t)n, mac, &maclen);
    OPENSSL_cleanse(key, sizeof key);
    OPENSSL_cleanse(msg, sizeof msg);
    if (!ok || maclen != sizeof mac)
        return PC_ECRYPTO;
    pc_hex(mac, sizeof mac, out);
    return 0;
}

/* A uniformly drawn code of PC_SMS_CODE_DIGITS digits (leading zeros kept). */
static int new_code(char out[PC_SMS_CODE_DIGITS + 1])
{
    uint32_t v;
    do {
        if (pc_rand_bytes(&v, sizeof v))
            return PC_ECRYPTO;
    } while (v >= 4294000000u); /* a multiple of 10^6: no modulo bias */
    snprintf(out, PC_SMS_CODE_DIGITS + 1, "%06u", (unsigned)(v % 1000000u));
    return 0;
}

/* Counts one hit against bucket/key and answers PC_ELIMIT past max. */
static int limit(struct pc_db *db, const char *bucket, const char *key, int max, int window_s,
                 int *retry_after_s)
{
    int hits = 0, ra = 0;
    int rc = pc_store_rl_get(db, bucket, key, window_s, &hits, &ra);
    if (rc)
        return rc;
    if (hits >= max) {
        if (ra > *retry_after_s)
            *retry_after_s = ra;
        return PC_ELIMIT;
    }
    return 0;
}

struct send_args {
    const struct pc_config *cfg;
    const char *phone, *ip, *request_id;
    const char *code;
    const char *hmac;
};

static int send_tx(struct pc_db *db, void *arg)
{
    struct send_args *a = arg;
    const struct pc_config *cfg = a->cfg;
    int64_t id = 0;
    int rc = pc_store_sms_code_insert(db, a->phone, a->hmac, cfg->sms_code_ttl_s, a->ip, &id);
    if (rc)
        return rc;
    unsigned char key[PC_DATA_KEY_BYTES], sealed[PC_SMS_CODE_DIGITS + PC_SEAL_OVERHEAD];
    char aad[64], b64[2 * sizeof sealed], dedupe[48];
    snprintf(aad, sizeof aad, "sms_login_codes:%lld", (long long)id);
    if (pc_data_key_parse(cfg->data_key, key))
        return PC_ECRYPTO;
    rc = pc_seal(key, aad, a->code, PC_SMS_CODE_DIGITS, sealed);
    OPENSSL_cleanse(key, sizeof key);
    if (rc)
        return rc;
    pc_b64(sealed, sizeof sealed, b64);
    cJSON *p = cJSON_CreateObject();
    cJSON_AddNumberToObject(p, "code_id", (double)id);
    cJSON_AddStringToObject(p, "phone", a->phone);
    cJSON_AddStringToObject(p, "code_sealed", b64);
    cJSON_AddNumberToObject(p, "expires_at",
                            (double)(pc_time_now_ms() / 1000 + cfg->sms_code_ttl_s));
    snprintf(dedupe, sizeof dedupe, "smscode:%lld", (long long)id);
    rc = pc_store_outbox_insert(db, PC_SMS_LOGIN_KIND, dedupe, p);
    cJSON_Delete(p);
    if (rc)
        return rc;
    char masked[24], target[24];
    pc_user_phone_mask(a->phone, masked, sizeof masked);
    snprintf(target, sizeof target, "%lld", (long long)id);
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "phone_masked", masked);
    struct pc_audit au = {.actor_type = "anonymous",
                          .action = "user.sms_code",
                          .target_type = "sms_code",
                          .target_id = target,
                          .ip = a->ip,
                          .request_id = a->request_id,
                          .details = d};
    rc = pc_store_audit_insert(db, &au);
    cJSON_Delete(d);
    return rc;
}

int pc_sms_login_send(struct pc_db *db, const struct pc_config *cfg, const char *phone,
                      const char *ip, const char *request_id, int *retry_after_s)
{
    *retry_after_s = 0;
    int rc = limit(db, RL_PHONE_BURST, phone, 1, cfg->sms_phone_interval_s, retry_after_s);
    if (rc == 0)
        rc = limit(db, RL_PHONE, phone, cfg->sms_phone_max, cfg->sms_window_s, retry_after_s);
    if (rc == 0)
        rc = limit(db, RL_ADDR, ip, cfg->sms_addr_max, cfg->sms_window_s, retry_after_s);
    if (rc == PC_ELIMIT && *retry_after_s < 1)
        *retry_after_s = 1;
    if (rc)
        return rc;
    rc = pc_store_rl_hit(db, RL_PHONE_BURST, phone, cfg->sms_phone_interval_s);
    if (rc == 0)
        rc = pc_store_rl_hit(db, RL_PHONE, phone, cfg->sms_window_s);
    if (rc == 0)
        rc = pc_store_rl_hit(db, RL_ADDR, ip, cfg->sms_window_s);
    if (rc)
        return rc;
    char code[PC_SMS_CODE_DIGITS + 1], hmac[65];
    rc = new_code(code);
    if (rc == 0)
        rc = pc_sms_code_hmac(cfg, phone, code, hmac);
    if (rc == 0) {
        struct send_args a = {cfg, phone, ip, request_id, code, hmac};
        rc = pc_db_tx(db, send_tx, &a);
    }
    OPENSSL_cleanse(code, sizeof code);
    return rc;
}

struct verify_args {
    const char *phone, *hmac;
    enum pc_phone_login_result *result;
};

/* Checks and spends the newest code in one transaction (the row is locked, so two logins
 * with the same code cannot both pass). A wrong try is committed, never rolled back. */
static int verify_tx(struct pc_db *db, void *arg)
{
    struct verify_args *a = arg;
    struct pc_store_sms_code c;
    int rc = pc_store_sms_code_latest_locked(db, a->phone, &c);
    if (rc == PC_ENOTFOUND) {
        *a->result = PC_PHONE_LOGIN_INVALID;
        return 0;
    }
    if (rc)
        return rc;
    if (c.used) {
        *a->result = PC_PHONE_LOGIN_INVALID;
        return 0;
    }
    if (!pc_ct_equal(c.code_hmac, a->hmac, 64)) {
        *a->result = PC_PHONE_LOGIN_INVALID;
        return pc_store_sms_code_fail(db, c.id, c.failures + 1 >= PC_SMS_CODE_MAX_TRY);
    }
    if (c.expired) {
        *a->result = PC_PHONE_LOGIN_EXPIRED;
        return 0;
    }
    *a->result = PC_PHONE_LOGIN_OK;
    return pc_store_sms_code_use(db, c.id);
}

struct account_args {
    const char *phone;
    int64_t user_id;
    bool created;
};

static int account_tx(struct pc_db *db, void *arg)
{
    struct account_args *a = arg;
    int rc = pc_store_user_by_phone(db, a->phone, &a->user_id);
    if (rc != PC_ENOTFOUND)
        return rc;
    /* A placeholder openid no WeChat openid can equal (those are [A-Za-z0-9_-]). */
    unsigned char rnd[12];
    char hex[25], openid[40];
    if (pc_rand_bytes(rnd, sizeof rnd))
        return PC_ECRYPTO;
    pc_hex(rnd, sizeof rnd, hex);
    snprintf(openid, sizeof openid, "phone:%s", hex);
    a->created = true;
    return pc_store_user_insert_phone(db, openid, a->phone, &a->user_id);
}

int pc_phone_login(struct pc_db *db, const struct pc_config *cfg, const char *phone,
                   const char *code, const char *ip, const char *request_id,
                   enum pc_phone_login_result *result, struct pc_user_login_out *out)
{
    memset(out, 0, sizeof *out);
    *result = PC_PHONE_LOGIN_INVALID;
    int rc = pc_user_login_gate_addr(db, cfg, ip, &out->retry_after_s);
    if (rc)
        return rc;
    char hmac[65];
    rc = pc_sms_code_hmac(cfg, phone, code, hmac);
    if (rc)
        return rc;
    struct verify_args v = {phone, hmac, result};
    rc = pc_db_tx(db, verify_tx, &v);
    if (rc || *result != PC_PHONE_LOGIN_OK)
        return rc;
    struct account_args a = {phone, 0, false};
    rc = pc_db_tx(db, account_tx, &a);
    if (rc)
        return rc;
    out->created = a.created;
    return pc_user_session_issue(db, cfg, a.user_id, ip, request_id, "sms", out);
}
