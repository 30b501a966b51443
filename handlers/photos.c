/* handlers/photos.c — POST /photos/check, PUT /orders/{order_no}/photo,
 * GET /orders/{order_no}/photo. */
#include "handlers/handlers.h"
#include "review/review.h"

#include "base/err.h"
#include "orders/orders.h"
#include "orders/photo.h"
#include "handlers/auth.h"
#include "config/config.h"
#include "server/multipart.h"
#include "staff/staff.h"
#include "tasks/tasks.h"
#include "users/users.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOO_BIG "照片文件不能超过 10 MB"

void h_photo_check(struct pc_req *r, struct pc_ctx *ctx)
{
    if (pc_auth_user(r, ctx))
        return;
    struct pc_multipart mp;
    const char *data = NULL;
    size_t len = 0;
    if (pc_h_upload(r, ctx->cfg->photo_max_bytes, TOO_BIG, &data, &len, &mp) == 0) {
        struct pc_photo_result res;
        int retry = 0;
        int rc = pc_photo_check(ctx, pc_req_user(r), data, len, &res, &retry);
        if (rc) {
            pc_h_work_refused(r, ctx, rc, retry);
            pc_multipart_free(&mp);
            return;
        }
        cJSON *o = cJSON_CreateObject();
        cJSON_AddBoolToObject(o, "ok", res.ok);
        cJSON_AddItemToObject(o, "checks", pc_photo_checks_json(&res));
        pc_photo_result_free(&res);
        pc_resp_json(r, 200, o);
    }
    pc_multipart_free(&mp);
}

/* 422 with the checks both in the error's details and at the top level. */
static void checks_failed(struct pc_req *r, const struct pc_photo_result *res)
{
    const char *first = "照片不符合要求，请按提示重新拍摄";
    for (size_t i = 0; i < res->nchecks; i++) {
        if (!res->checks[i].ok && res->checks[i].blocking) {
            first = res->checks[i].message;
            break;
        }
    }
    cJSON *root = cJSON_CreateObject();
    cJSON *e = cJSON_AddObjectToObject(root, "error");
    cJSON_AddStringToObject(e, "code", "PHOTO_CHECKS_FAILED");
    cJSON_AddStringToObject(e, "message", first);
    cJSON *d = cJSON_AddObjectToObject(e, "details");
    cJSON_AddItemToObject(d, "checks", pc_photo_checks_json(res));
    cJSON_AddBoolToObject(root, "ok", 0);
    cJSON_AddItemToObject(root, "checks", pc_photo_checks_json(res));
    pc_resp_json(r, 422, root);
}

void h_order_photo_put(struct pc_req *r, struct pc_ctx *ctx)
{
    if (pc_auth_user(r, ctx))
        return;
    const char *no = pc_req_param(r, "order_no");
    struct pc_multipart mp;
    const char *data = NULL;
    size_t len = 0;
    if (!no || strlen(no) > 32) {
        pc_resp_error(r, 404, "NOT_FOUND", "订单不存在", NULL);
        return;
    }
    if (pc_h_upload(r, ctx->cfg->photo_max_bytes, TOO_BIG, &data, &len, &mp))
        goto out;
    enum pc_upload_outcome oc;
    struct pc_photo_result res;
    struct pc_order o;
    int retry = 0;
    int rc = pc_order_photo_upload(ctx, pc_req_user(r), no, data, len, &oc, &res, &o, &retry);
    if (rc) {
        pc_h_work_refused(r, ctx, rc, retry);
    } else {
        switch (oc) {
        case PC_UPLOAD_OK: {
            cJSON *out = cJSON_CreateObject();
            cJSON_AddBoolToObject(out, "ok", 1);
            cJSON_AddItemToObject(out, "checks", pc_photo_checks_json(&res));
            cJSON_AddItemToObject(out, "order", pc_order_json(&o));
            pc_resp_json(r, 200, out);
            break;
        }
        case PC_UPLOAD_NOT_FOUND:
            pc_resp_error(r, 404, "NOT_FOUND", "订单不存在", NULL);
            break;
        case PC_UPLOAD_STATE:
            pc_resp_error(r, 409, "ORDER_STATE", "当前订单状态不能上传照片", NULL);
            break;
        case PC_UPLOAD_WINDOW_CLOSED:
            pc_resp_error(r, 410, "WINDOW_CLOSED", "本次采集已截止", NULL);
            break;
        case PC_UPLOAD_EDIT_EXPIRED:
            pc_resp_error(r, 410, "EDIT_PERIOD_EXPIRED", "修改期已过，不能再更换照片", NULL);
            break;
        case PC_UPLOAD_RESUBMIT_LIMIT:
            pc_resp_error(r, 410, "RESUBMIT_LIMIT", "重新提交次数已用完，请联系学校老师", NULL);
            break;
        case PC_UPLOAD_CHECKS_FAILED:
            checks_failed(r, &res);
            break;
        }
    }
    pc_photo_result_free(&res);
out:
    pc_multipart_free(&mp);
}

/* The owner (student token) or staff with a role on the task's school. */
static int may_see_order(struct pc_req *r, struct pc_ctx *ctx, const char *no, struct pc_order *o)
{
    int rc = pc_order_get(ctx->db, no, o);
    if (rc && rc != PC_ENOTFOUND) {
        pc_resp_from_err(r, ctx, rc);
        return -1;
    }
    char token[129];
    size_t n = 0;
    const char *tok = pc_auth_bearer(r, &n);
    enum pc_user_token_state st = PC_USER_TOKEN_UNKNOWN;
    struct pc_user_auth u;
    if (tok) {
        memcpy(token, tok, n);
        token[n] = '\0';
        if (pc_user_authenticate(ctx->db, token, &u, &st)) {
            pc_resp_from_err(r, ctx, PC_EDBDOWN);
            return -1;
        }
    }
    if (st == PC_USER_TOKEN_OK) {
        if (rc == PC_ENOTFOUND || o->user_id != u.id)
            goto not_found;
        return 0;
    }
    if (st == PC_USER_TOKEN_EXPIRED) {
        pc_resp_error(r, 401, "TOKEN_EXPIRED", "登录已过期，请重新登录", NULL);
        return -1;
    }
    if (pc_auth_staff(r, ctx, PC_ROLE_ADMIN | PC_ROLE_REVIEWER))
        return -1;
    if (rc == PC_ENOTFOUND || !pc_review_in_scope(pc_req_staff(r), o->school_id, o->task_id))
        goto not_found;
    return 0;
not_found:
    pc_resp_error(r, 404, "NOT_FOUND", "订单不存在", NULL);
    return -1;
}

void h_order_photo_get(struct pc_req *r, struct pc_ctx *ctx)
{
    struct pc_order o;
    if (may_see_order(r, ctx, pc_req_param(r, "order_no"), &o))
        return;
    const char *variant = pc_req_query(r, "variant");
    bool original = variant && !strcmp(variant, "original");
    if (variant && !original && strcmp(variant, "normalized")) {
        pc_resp_invalid(r, "variant", "variant 应为 normalized 或 original");
        return;
    }
    char *data = NULL;
    size_t len = 0;
    bool png = false;
    const struct pc_staff_auth *staff = pc_req_staff(r);
    int rc = staff ? pc_order_photo_read_staff(ctx, staff, &o, original, pc_req_client_ip(r),
                                               pc_req_id(r), &data, &len, &png)
                   : pc_order_photo_read(ctx, &o, original, &data, &len, &png);
    if (rc == PC_ENOTFOUND) {
        pc_resp_error(r, 404, "NOT_FOUND", "该订单还没有照片", NULL);
        return;
    }
    if (rc) {
        pc_resp_from_err(r, ctx, rc);
        return;
    }
    pc_resp_raw(r, 200, png ? "image/png" : "image/jpeg", data, len);
    free(data);
}
