/* handlers/auth_wx.c — POST /api/v1/auth/wx-login (code2Session) and /auth/logout. */
#include "handlers/handlers.h"

#include "base/err.h"
#include "handlers/auth.h"
#include "config/config.h"
#include "net/outbound.h"
#include "users/users.h"
#include "wechat/miniapp.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

void pc_h_rate_limited(struct pc_req *r, int retry_after_s, const char *message)
{
    char ra[16];
    snprintf(ra, sizeof ra, "%d", retry_after_s > 0 ? retry_after_s : 1);
    pc_resp_header(r, "Retry-After", ra);
    cJSON *d = cJSON_CreateObject();
    cJSON_AddNumberToObject(d, "retry_after_s", retry_after_s > 0 ? retry_after_s : 1);
    pc_resp_error(r, 429, "RATE_LIMITED", message, d);
}

void pc_h_work_refused(struct pc_req *r, const struct pc_ctx *ctx, int rc, int retry_after_s)
{
    if (rc == PC_ELIMIT) {
        pc_h_rate_limited(r, retry_after_s, "操作过于频繁，请稍后再试");
    } else if (rc == PC_EBUSY) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", ctx->cfg->limit_image_wait_ms / 1000 + 1);
        pc_resp_header(r, "Retry-After", ra);
        pc_resp_error(r, 503, "OVERLOADED", "处理图片的请求较多，请稍后重试", NULL);
    } else {
        pc_resp_from_err(r, ctx, rc);
    }
}

void pc_h_wechat_unavailable(struct pc_req *r)
{
    pc_resp_header(r, "Retry-After", "5");
    pc_resp_error(r, 503, "WECHAT_UNAVAILABLE", "微信服务暂时不可用，请稍后重试", NULL);
}

/* Student-facing meaning of a code2Session / getuserphonenumber failure. */
void pc_h_wechat_error(struct pc_req *r, int rc, int errcode, bool phone)
{
    if (rc == PC_EUPSTREAM && (errcode == 40029 || errcode == 40163)) {
        if (phone)
            pc_resp_error(r, 400, "PHONE_CODE_INVALID", "手机号授权已失效，请重新授权", NULL);
        else
            pc_resp_error(r, 400, "WX_CODE_INVALID", "登录凭证已失效，请重新进入小程序登录", NULL);
    } else if (rc == PC_EUPSTREAM && errcode == 45011) {
        pc_h_rate_limited(r, 60, "微信登录过于频繁，请一分钟后再试");
    } else if (rc == PC_EUPSTREAM && errcode == 40226) {
        pc_resp_error(r, 403, "WX_LOGIN_REFUSED",
                      "微信判定当前账号存在风险，暂时无法登录，请联系微信客服", NULL);
    } else {
        pc_h_wechat_unavailable(r); /* -1, timeouts, transport errors, misconfiguration */
    }
}

static void wx_login_done(struct pc_req *r, struct pc_ctx *ctx)
{
    struct pc_wx_session s;
    int errcode = 0;
    int rc = pc_wx_code2session_parse(pc_req_upstream(r), &s, &errcode);
    if (rc) {
        pc_h_wechat_error(r, rc, errcode, false);
        return;
    }
    struct pc_user_login_out out;
    rc = pc_user_login(ctx->db, ctx->cfg, &s, pc_req_client_ip(r), pc_req_id(r), &out);
    OPENSSL_cleanse(s.session_key, sizeof s.session_key);
    if (rc == PC_ELIMIT) {
        pc_h_rate_limited(r, out.retry_after_s, "登录过于频繁，请稍后再试");
        return;
    }
    if (rc) {
        pc_resp_from_err(r, ctx, rc);
        return;
    }
    pc_h_login_reply(r, &out);
}

void pc_h_login_reply(struct pc_req *r, struct pc_user_login_out *out)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "token", out->token);
    cJSON_AddStringToObject(o, "expires_at", out->expires_at);
    cJSON *u = cJSON_AddObjectToObject(o, "user");
    cJSON_AddNumberToObject(u, "id", (double)out->user_id);
    cJSON_AddBoolToObject(u, "profile_complete", out->profile_complete);
    cJSON_AddBoolToObject(u, "phone_bound", out->phone_bound);
    OPENSSL_cleanse(out->token, sizeof out->token);
    pc_resp_json(r, 200, o);
}

void h_wx_login(struct pc_req *r, struct pc_ctx *ctx)
{
    cJSON *j = pc_req_json(r);
    if (!j)
        return;
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(j, "code");
    if (!cJSON_IsString(code) || !pc_wx_code_valid(code->valuestring)) {
        pc_resp_invalid(r, "code", "缺少有效的登录凭证 code");
        return;
    }
    int retry_after = 0;
    int rc = pc_user_login_gate_addr(ctx->db, ctx->cfg, pc_req_client_ip(r), &retry_after);
    if (rc == PC_ELIMIT) {
        pc_h_rate_limited(r, retry_after, "登录过于频繁，请稍后再试");
        return;
    }
    if (rc) {
        pc_resp_from_err(r, ctx, rc);
        return;
    }
    if (!ctx->cfg->wx_appid[0]) {
        pc_h_wechat_unavailable(r);
        return;
    }
    struct pc_wx_call call;
    pc_wx_code2session_call(ctx->cfg, code->valuestring, &call);
    pc_req_call(r, &call.req, wx_login_done);
    OPENSSL_cleanse(call.url, sizeof call.url); /* it held the AppSecret */
}

void h_user_logout(struct pc_req *r, struct pc_ctx *ctx)
{
    if (pc_auth_user(r, ctx))
        return;
    int rc = pc_user_logout(ctx->db, pc_req_user(r));
    if (rc) {
        pc_resp_from_err(r, ctx, rc);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "ok", 1);
    pc_resp_json(r, 200, o);
}
