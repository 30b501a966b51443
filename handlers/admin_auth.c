/* handlers/admin_auth.c — POST /api/v1/admin/login, POST /admin/logout, GET /admin/me. */
#include "handlers/handlers.h"

#include "base/err.h"
#include "handlers/auth.h"
#include "staff/scope.h"
#include "staff/staff.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

void h_admin_login(struct pc_req *r, struct pc_ctx *ctx)
{
    cJSON *j = pc_req_json(r);
    if (!j)
        return;
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(j, "username");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "password");
    if (!cJSON_IsString(u) || !u->valuestring[0] ||
        strlen(u->valuestring) > PC_STAFF_USERNAME_MAX) {
        pc_resp_invalid(r, "username", "请输入用户名");
        return;
    }
    if (!cJSON_IsString(p) || !p->valuestring[0] ||
        strlen(p->valuestring) > PC_STAFF_PASSWORD_MAX) {
        pc_resp_invalid(r, "password", "请输入密码");
        return;
    }
    struct pc_login_in in = {u->valuestring, p->valuestring, pc_req_client_ip(r),
                             pc_req_header(r, "User-Agent"), pc_req_id(r)};
    struct pc_login_out out;
    int rc = pc_staff_login(ctx->db, ctx->cfg, &in, &out);
    OPENSSL_cleanse(p->valuestring, strlen(p->valuestring));
    if (rc == PC_EAUTH) {
        pc_resp_error(r, 401, "INVALID_CREDENTIALS", "用户名或密码错误", NULL);
        return;
    }
    if (rc == PC_ELIMIT) {
        pc_h_rate_limited(r, out.retry_after_s, "登录失败次数过多，请稍后再试");
        return;
    }
    if (rc) {
        pc_resp_from_err(r, ctx, rc);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "token", out.token);
    cJSON_AddStringToObject(o, "expires_at", out.expires_at);
    cJSON_AddItemToObject(o, "roles", pc_role_names(out.roles));
    OPENSSL_cleanse(out.token, sizeof out.token);
    pc_resp_json(r, 200, o);
}

void h_admin_logout(struct pc_req *r, struct pc_ctx *ctx)
{
    if (pc_auth_staff(r, ctx, 0))
        return;
    int rc = pc_staff_logout(ctx->db, pc_req_staff(r), pc_req_client_ip(r), pc_req_id(r));
    if (rc) {
        pc_resp_from_err(r, ctx, rc);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "ok", 1);
    pc_resp_json(r, 200, o);
}

void h_admin_me(struct pc_req *r, struct pc_ctx *ctx)
{
    if (pc_auth_staff(r, ctx, 0))
        return;
    const struct pc_staff_auth *s = pc_req_staff(r);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)s->id);
    cJSON_AddStringToObject(o, "username", s->username);
    cJSON_AddItemToObject(o, "roles", pc_role_names(s->roles));
    /* school_id and college: the one school of every role (null when company-wide or several)
     * and a college role's college, for the console's labels; "grants" says what each role
     * reaches. */
    int64_t school = pc_staff_home_school(s);
    if (school)
        cJSON_AddNumberToObject(o, "school_id", (double)school);
    else
        cJSON_AddNullToObject(o, "school_id");
    cJSON *grants = cJSON_AddArrayToObject(o, "grants");
    for (size_t i = 0; i < s->nroles; i++) {
        const struct pc_staff_role *g = &s->role[i];
        cJSON *gj = cJSON_CreateObject();
        cJSON *name = pc_role_names(g->role);
        cJSON_AddItemToObject(gj, "role", cJSON_Duplicate(cJSON_GetArrayItem(name, 0), 1));
        cJSON_Delete(name);
        cJSON_AddItemToObject(gj, "school_id",
                              g->school_id ? cJSON_CreateNumber((double)g->school_id)
                                           : cJSON_CreateNull());
        cJSON_AddItemToObject(gj, "college",
                              g->college[0] ? cJSON_CreateString(g->college) : cJSON_CreateNull());
        cJSON_AddItemToObject(gj, "task_id",
                              g->task_id ? cJSON_CreateNumber((double)g->task_id)
                                         : cJSON_CreateNull());
        cJSON_AddItemToArray(grants, gj);
        if (g->college[0] && !cJSON_GetObjectItem(o, "college"))
            cJSON_AddStringToObject(o, "college", g->college);
    }
    pc_resp_json(r, 200, o);
}
