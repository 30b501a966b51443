/* handlers/auth_phone.c — the PC page's login: POST /api/v1/auth/sms-code and
 * POST /api/v1/auth/phone-login (rules in users/phone_login.c). */
#include "handlers/handlers.h"

#include "base/err.h"
#include "config/config.h"
#include "users/phone_login.h"

#include <openssl/crypto.h>
#include <string.h>

/* The "phone" member of the body if it is a valid mobile number; else answers 400. */
static const char *body_phone(struct pc_req *r, cJSON *j)
{
    const cJSON *phone = cJSON_GetObjectItemCaseSensitive(j, "phone");
    if (!cJSON_IsString(phone) || !pc_phone_valid(phone->valuestring)) {
        pc_resp_invalid(r, "phone", "请输入正确的11位手机号");
        return NULL;
    }
    return phone->valuestring;
}

void h_auth_sms_code(struct pc_req *r, struct pc_ctx *ctx)
{
    cJSON *j = pc_req_json(r);
    const char *phone = j ? body_phone(r, j) : NULL;
    if (!phone)
        return;
    if (!ctx->cfg->sms_api_base || !ctx->cfg->sms_api_base[0]) {
        pc_resp_header(r, "Retry-After", "60");
        pc_resp_error(r, 503, "SMS_UNAVAILABLE", "短信服务暂不可用，请使用微信小程序", NULL);
        return;
    }
    int retry_after = 0;
    int rc = pc_sms_login_send(ctx->db, ctx->cfg, phone, pc_req_client_ip(r), pc_req_id(r),
                               &retry_after);
    if (rc == PC_ELIMIT) {
        pc_h_rate_limited(r, retry_after, "验证码发送过于频繁，请稍后再试");
        return;
    }
    if (rc) {
        pc_resp_from_err(r, ctx, rc);
        return;
    }
    pc_ctx_wake_jobs(ctx); /* the outbox worker sends it now */
    pc_resp_raw(r, 204, "application/json", "", 0);
}

void h_auth_phone_login(struct pc_req *r, struct pc_ctx *ctx)
{
    cJSON *j = pc_req_json(r);
    const char *phone = j ? body_phone(r, j) : NULL;
    if (!phone)
        return;
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(j, "code");
    if (!cJSON_IsString(code) || strlen(code->valuestring) != PC_SMS_CODE_DIGITS ||
        strspn(code->valuestring, "0123456789") != PC_SMS_CODE_DIGITS) {
        pc_resp_error(r, 400, "SMS_CODE_INVALID", "验证码错误，请核对后重新输入", NULL);
        return;
    }
    enum pc_phone_login_result res;
    struct pc_user_login_out out;
    int rc = pc_phone_login(ctx->db, ctx->cfg, phone, code->valuestring, pc_req_client_ip(r),
                            pc_req_id(r), &res, &out);
    if (rc == PC_ELIMIT) {
        pc_h_rate_limited(r, out.retry_after_s, "登录过于频繁，请稍后再试");
        return;
    }
    if (rc) {
        pc_resp_from_err(r, ctx, rc);
        return;
    }
    if (res == PC_PHONE_LOGIN_EXPIRED) {
        pc_resp_error(r, 410, "SMS_CODE_EXPIRED", "验证码已过期，请重新获取", NULL);
        return;
    }
    if (res != PC_PHONE_LOGIN_OK) {
        pc_resp_error(r, 400, "SMS_CODE_INVALID", "验证码错误或已使用，请重新获取", NULL);
        return;
    }
    pc_h_login_reply(r, &out);
}
