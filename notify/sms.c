/* notify/sms.c — the SMS gateway call (POST {sms.api_base}/sms/v1/send) shared by the
 * outbox's fallback messages and the PC page's login codes, and the delivery of a login
 * code (outbox kind "sms.login_code"). Jobs thread (blocking outbound call). */
#include "notify/notify.h"

#include "base/crypto.h"
#include "base/err.h"
#include "base/timeutil.h"
#include "config/config.h"
#include "net/outbound.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pc_notify_sms_post(const struct pc_config *cfg, const char *phone, const char *text, char *note,
                       size_t notelen)
{
    if (!cfg->sms_api_base || !cfg->sms_api_base[0])
        return PC_ENOTFOUND;
    char url[512], auth[320];
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "phone", phone);
    cJSON_AddStringToObject(b, "text", text);
    char *body = cJSON_PrintUnformatted(b);
    cJSON_Delete(b);
    snprintf(url, sizeof url, "%s/sms/v1/send", cfg->sms_api_base);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s",
             cfg->sms_api_key ? cfg->sms_api_key : "");
    struct pc_out_req req = {
        .method = "POST",
        .url = url,
        .headers = {"Content-Type: application/json", "Accept: application/json", auth, NULL},
        .body = body,
        .body_len = strlen(body),
        .timeout_ms = cfg->sms_timeout_ms,
        .max_response = 65536,
        .ca_file = cfg->sms_ca_file,
        .name = "sms"};
    struct pc_out_resp resp;
    pc_outbound_perform(&req, &resp);
    OPENSSL_cleanse(body, strlen(body)); /* a login code may be in it */
    cJSON_free(body);
    OPENSSL_cleanse(auth, sizeof auth);
    cJSON *r = !resp.err && resp.status == 200 ? cJSON_ParseWithLength(resp.body, resp.len) : NULL;
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(r, "code");
    int rc = cJSON_IsNumber(code) && code->valueint == 0 ? 0 : PC_EIO;
    if (rc)
        snprintf(note, notelen, "sms: %s (HTTP %ld%s%s)", resp.err ? resp.errmsg : "refused",
                 resp.status, resp.body ? ", " : "", resp.body ? resp.body : "");
    cJSON_Delete(r);
    pc_out_resp_clear(&resp);
    return rc;
}

void pc_notify_login_code_text(const struct pc_config *cfg, const char *code, int ttl_s, char *out,
                               size_t outlen)
{
    snprintf(out, outlen,
             "%s您的登录验证码为 %s，%d 分钟内有效，仅可使用一次。如非本人操作，请忽略。",
             cfg->sms_sign ? cfg->sms_sign : "", code, ttl_s / 60);
}

int pc_notify_login_code(const struct pc_config *cfg, const char *payload, char *note,
                         size_t notelen)
{
    cJSON *p = cJSON_Parse(payload ? payload : "");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(p, "code_id");
    const cJSON *phone = cJSON_GetObjectItemCaseSensitive(p, "phone");
    const cJSON *sealed = cJSON_GetObjectItemCaseSensitive(p, "code_sealed");
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(p, "expires_at");
    unsigned char key[PC_DATA_KEY_BYTES], raw[128];
    char code[16] = "", aad[64], text[512];
    size_t rawlen = 0;
    int rc = PC_EINVAL;
    if (!cJSON_IsNumber(id) || !cJSON_IsString(phone) || !cJSON_IsString(sealed) ||
        !cJSON_IsNumber(exp)) {
        snprintf(note, notelen, "login code: malformed payload");
        goto out;
    }
    if (pc_time_now_ms() / 1000 >= (int64_t)exp->valuedouble) {
        snprintf(note, notelen, "login code expired before it could be sent");
        goto out;
    }
    snprintf(aad, sizeof aad, "sms_login_codes:%lld", (long long)id->valuedouble);
    if (pc_data_key_parse(cfg->data_key, key) ||
        pc_b64_decode(sealed->valuestring, strlen(sealed->valuestring), raw, sizeof raw, &rawlen) ||
        rawlen <= PC_SEAL_OVERHEAD || rawlen - PC_SEAL_OVERHEAD >= sizeof code ||
        pc_unseal(key, aad, raw, rawlen, code)) {
        snprintf(note, notelen, "login code: cannot be unsealed");
        goto out;
    }
    code[rawlen - PC_SEAL_OVERHEAD] = '\0';
    pc_notify_login_code_text(cfg, code, cfg->sms_code_ttl_s, text, sizeof text);
    rc = pc_notify_sms_post(cfg, phone->valuestring, text, note, notelen);
    if (rc == PC_ENOTFOUND)
        snprintf(note, notelen, "login code: no SMS gateway configured");
    OPENSSL_cleanse(text, sizeof text);
out:
    OPENSSL_cleanse(key, sizeof key);
    OPENSSL_cleanse(code, sizeof code);
    cJSON_Delete(p);
    return rc;
}
