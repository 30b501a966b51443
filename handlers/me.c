/* handlers/me.c — the student's own account: GET /me, PUT /me/profile, PUT /me/avatar,
 * POST /me/phone, and GET /avatars/{name}. */
#include "handlers/handlers.h"

#include "base/alloc.h"
#include "base/err.h"
#include "photo/probe.h"
#include "handlers/auth.h"
#include "config/config.h"
#include "server/multipart.h"
#include "users/users.h"
#include "wechat/miniapp.h"
#include "wechat/token.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define AVATAR_MAX_SIDE 4096

static void render_me(struct pc_req *r, struct pc_ctx *ctx)
{
    struct pc_user u;
    int rc = pc_user_get(ctx->db, pc_req_user(r)->id, &u);
    if (rc) {
        pc_resp_from_err(r, ctx, rc);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)u.id);
    if (u.nickname[0])
        cJSON_AddStringToObject(o, "nickname", u.nickname);
    else
        cJSON_AddNullToObject(o, "nickname");
    if (u.avatar_name[0]) {
        char url[128];
        snprintf(url, sizeof url, "/api/v1/avatars/%s", u.avatar_name);
        cJSON_AddStringToObject(o, "avatar_url", url);
    } else {
        cJSON_AddNullToObject(o, "avatar_url");
    }
    if (u.phone[0]) {
        char masked[32];
        pc_user_phone_mask(u.phone, masked, sizeof masked);
        cJSON_AddStringToObject(o, "phone_masked", masked);
    } else {
        cJSON_AddNullToObject(o, "phone_masked");
    }
    if (u.real_name[0])
        cJSON_AddStringToObject(o, "real_name", u.real_name);
    else
        cJSON_AddNullToObject(o, "real_name");
    cJSON_AddBoolToObject(o, "profile_complete", u.real_name[0] != '\0');
    cJSON_AddBoolToObject(o, "phone_bound", u.phone[0] != '\0');
    pc_resp_json(r, 200, o);
}

void h_me(struct pc_req *r, struct pc_ctx *ctx)
{
    if (pc_auth_user(r, ctx))
        return;
    render_me(r, ctx);
}

void h_me_profile(struct pc_req *r, struct pc_ctx *ctx)
{
    if (pc_auth_user(r, ctx))
        return;
    cJSON *j = pc_req_json(r);
    if (!j)
        return;
    const cJSON *rn = cJSON_GetObjectItemCaseSensitive(j, "real_name");
    const cJSON *nn = cJSON_GetObjectItemCaseSensitive(j, "nickname");
    char real_name[160], nickname[160];
    if (!cJSON_IsString(rn) || !pc_user_name_valid(rn->valuestring, real_name, sizeof real_name)) {
        pc_resp_invalid(r, "real_name",
                        "请填写真实姓名（最多 32 个字，只能包含文字、空格和 · . ' -）");
        return;
    }
    nickname[0] = '\0';
    if (nn && !cJSON_IsNull(nn) &&
        (!cJSON_IsString(nn) ||
         !pc_user_nickname_valid(nn->valuestring, nickname, sizeof nickname))) {
        pc_resp_invalid(r, "nickname", "昵称最多 32 个字");
        return;
    }
    int rc =
        pc_user_set_profile(ctx->db, pc_req_user(r)->id, real_name, nickname[0] ? nickname : NULL);
    if (rc) {
        pc_resp_from_err(r, ctx, rc);
        return;
    }
    render_me(r, ctx);
}

void h_me_avatar(struct pc_req *r, struct pc_ctx *ctx)
{
    if (pc_auth_user(r, ctx))
        return;
    struct pc_multipart mp;
    const char *data = NULL;
    size_t len = 0;
    if (pc_h_upload(r, ctx->cfg->avatar_max_bytes, "头像图片不能超过 2 MB", &data, &len, &mp))
        goto out;
    struct pc_image_info info;
    if (pc_image_probe(data, len, &info)) {
        pc_resp_error(r, 415, "UNSUPPORTED_MEDIA_TYPE", "头像须为 JPEG 或 PNG 图片", NULL);
        goto out;
    }
    if (info.width > AVATAR_MAX_SIDE || info.height > AVATAR_MAX_SIDE || info.width < 16 ||
        info.height < 16) {
        pc_resp_error(r, 422, "IMAGE_DIMENSIONS", "头像尺寸应在 16×16 到 4096×4096 像素之间", NULL);
        goto out;
    }
    char name[64];
    int rc = pc_user_set_avatar(ctx->db, ctx->cfg, pc_req_user(r)->id, data, len, info.ext, name,
                                sizeof name);
    if (rc == PC_EINVAL) {
        pc_resp_error(r, 415, "UNSUPPORTED_MEDIA_TYPE", "头像图片文件已损坏，请换一张图片", NULL);
        goto out;
    }
    if (rc) {
        pc_resp_from_err(r, ctx, rc);
        goto out;
    }
    char url[128];
    snprintf(url, sizeof url, "/api/v1/avatars/%s", name);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "avatar_url", url);
    pc_resp_json(r, 200, o);
out:
    pc_multipart_free(&mp);
}

void h_avatar_get(struct pc_req *r, struct pc_ctx *ctx)
{
    char *data = NULL;
    size_t len = 0;
    bool png = false;
    int rc = pc_user_avatar_read(ctx->db, ctx->cfg, pc_req_param(r, "name"), &data, &len, &png);
    if (rc == PC_ENOTFOUND) {
        pc_resp_error(r, 404, "NOT_FOUND", "头像不存在", NULL);
        return;
    }
    if (rc) {
        pc_resp_from_err(r, ctx, rc);
        return;
    }
    pc_resp_raw(r, 200, png ? "image/png" : "image/jpeg", data, len);
    free(data);
}

/* ---- phone binding: getuserphonenumber with the shared access_token ---- */

struct phone_state {
    char code[129];
    char openid[65]; /* the caller's: WeChat checks the code was issued to this user */
    char token[PC_WX_TOKEN_MAX];
    int64_t version;
    bool retried;
};

static void phone_state_free(void *p)
{
    OPENSSL_cleanse(p, sizeof(struct phone_state));
    free(p);
}

static void phone_done(struct pc_req *r, struct pc_ctx *ctx);

static void call_phone(struct pc_req *r, const struct pc_config *cfg, struct phone_state *st)
{
    struct pc_wx_call call;
    pc_wx_phone_call(cfg, st->token, st->code, st->openid, &call);
    pc_req_call(r, &call.req, phone_done);
    OPENSSL_cleanse(call.url, sizeof call.url); /* it held the access_token */
}

static void phone_done(struct pc_req *r, struct pc_ctx *ctx)
{
    struct phone_state *st = pc_req_data(r);
    char phone[32];
    int errcode = 0;
    int rc = pc_wx_phone_parse(pc_req_upstream(r), phone, sizeof phone, &errcode);
    if (rc == PC_EUPSTREAM && pc_wx_token_rejected(errcode) && !st->retried) {
        /* Refresh once (through the token's owner), retry once. */
        st->retried = true;
        rc = pc_wxtoken_replace(ctx, &st->version, st->token, sizeof st->token);
        if (rc) {
            pc_h_wechat_unavailable(r);
            return;
        }
        call_phone(r, ctx->cfg, st);
        return;
    }
    if (rc) {
        pc_h_wechat_error(r, rc, errcode, true);
        return;
    }
    rc = pc_user_set_phone(ctx->db, pc_req_user(r)->id, phone);
    if (rc) {
        pc_resp_from_err(r, ctx, rc);
        return;
    }
    char masked[32];
    pc_user_phone_mask(phone, masked, sizeof masked);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "phone_masked", masked);
    pc_resp_json(r, 200, o);
}

void h_me_phone(struct pc_req *r, struct pc_ctx *ctx)
{
    if (pc_auth_user(r, ctx))
        return;
    cJSON *j = pc_req_json(r);
    if (!j)
        return;
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(j, "code");
    if (!cJSON_IsString(code) || !pc_wx_code_valid(code->valuestring)) {
        pc_resp_invalid(r, "code", "缺少有效的手机号授权 code");
        return;
    }
    struct phone_state *st = pc_new(struct phone_state);
    pc_req_set_data(r, st, phone_state_free);
    snprintf(st->code, sizeof st->code, "%s", code->valuestring);
    snprintf(st->openid, sizeof st->openid, "%s", pc_req_user(r)->openid);
    int rc = pc_wxtoken_current(ctx, st->token, sizeof st->token, &st->version);
    if (rc == PC_EDBDOWN) {
        pc_resp_from_err(r, ctx, rc);
        return;
    }
    if (rc) {
        pc_h_wechat_unavailable(r);
        return;
    }
    call_phone(r, ctx->cfg, st);
}
