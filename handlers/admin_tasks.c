/* handlers/admin_tasks.c — GET/POST /admin/tasks, GET/PATCH /admin/tasks/{id},
 * POST /admin/schools. */
#include "handlers/handlers.h"

#include "base/err.h"
#include "handlers/auth.h"
#include "staff/scope.h"
#include "staff/staff.h"
#include "tasks/tasks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Loads a task a role of the caller among roles reaches; answers 404 otherwise. */
int pc_h_task_for_staff(struct pc_req *r, struct pc_ctx *ctx, unsigned roles, struct pc_task *t)
{
    int64_t id;
    if (pc_h_id_param(r, "id", &id))
        return -1;
    int rc = pc_task_get_for(ctx->db, pc_req_staff(r), roles, id, t);
    if (rc == PC_ENOTFOUND) {
        pc_resp_error(r, 404, "NOT_FOUND", "采集任务不存在", NULL);
        return -1;
    }
    if (rc) {
        pc_resp_from_err(r, ctx, rc);
        return -1;
    }
    return 0;
}

void h_admin_tasks_list(struct pc_req *r, struct pc_ctx *ctx)
{
    int limit;
    long long before;
    if (pc_auth_staff(r, ctx, PC_ROLE_ADMIN) || pc_h_limit(r, &limit) || pc_h_cursor_id(r, &before))
        return;
    struct pc_task *ts = NULL;
    size_t n = 0;
    int rc = pc_task_list_for(ctx->db, pc_req_staff(r), before, limit, &ts, &n);
    if (rc) {
        pc_resp_from_err(r, ctx, rc);
        return;
    }
    cJSON *o = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(o, "items");
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(items, pc_task_json(&ts[i], true));
    if (n == (size_t)limit) {
        char cur[32];
        pc_h_cursor_make((long long)ts[n - 1].id, cur);
        cJSON_AddStringToObject(o, "next_cursor", cur);
    } else {
        cJSON_AddNullToObject(o, "next_cursor");
    }
    free(ts);
    pc_resp_json(r, 200, o);
}

void h_admin_tasks_create(struct pc_req *r, struct pc_ctx *ctx)
{
    if (pc_auth_staff(r, ctx, PC_ROLE_ADMIN))
        return;
    cJSON *j = pc_req_json(r);
    if (!j)
        return;
    struct pc_task t;
    const char *school = NULL, *field = NULL, *message = NULL;
    pc_task_defaults(&t);
    if (pc_task_apply_json(&t, j, false, &school, &field, &message)) {
        pc_resp_invalid(r, field, message);
        return;
    }
    int rc = pc_task_set_school(ctx->db, &t, school);
    if (rc == PC_ENOTFOUND) {
        pc_resp_invalid(r, "school", "学校不存在，请先创建学校");
        return;
    }
    if (rc == 0 && !pc_staff_may(pc_req_staff(r), PC_ROLE_ADMIN, t.school_id, 0)) {
        pc_resp_error(r, 403, "FORBIDDEN", "只能为本校创建采集任务", NULL);
        return;
    }
    if (rc == 0)
        rc = pc_task_create(ctx->db, pc_req_staff(r), &t, pc_req_client_ip(r), pc_req_id(r));
    if (rc == PC_EEXIST) {
        pc_resp_error(r, 409, "FEATURE_CODE_TAKEN", "该特征码已被其他进行中的任务使用", NULL);
        return;
    }
    if (rc) {
        pc_resp_from_err(r, ctx, rc);
        return;
    }
    pc_resp_json(r, 201, pc_task_json(&t, true));
}

void h_admin_task_get(struct pc_req *r, struct pc_ctx *ctx)
{
    struct pc_task t;
    if (pc_auth_staff(r, ctx, PC_ROLE_ADMIN) || pc_h_task_for_staff(r, ctx, PC_ROLE_ADMIN, &t))
        return;
    pc_resp_json(r, 200, pc_task_json(&t, true));
}

void h_admin_task_patch(struct pc_req *r, struct pc_ctx *ctx)
{
    int64_t id;
    if (pc_auth_staff(r, ctx, PC_ROLE_ADMIN) || pc_h_id_param(r, "id", &id))
        return;
    cJSON *j = pc_req_json(r);
    if (!j)
        return;
    struct pc_task t;
    const char *field = NULL, *message = NULL;
    int rc = pc_task_patch(ctx->db, pc_req_staff(r), id, j, pc_req_client_ip(r), pc_req_id(r), &t,
                           &field, &message);
    if (rc == PC_EINVAL && field) {
        pc_resp_invalid(r, field, message);
        return;
    }
    if (rc == PC_ENOTFOUND) {
        pc_resp_error(r, 404, "NOT_FOUND", "采集任务不存在", NULL);
        return;
    }
    if (rc == PC_EEXIST) {
        pc_resp_error(r, 409, "FEATURE_CODE_TAKEN", "该特征码已被其他进行中的任务使用", NULL);
        return;
    }
    if (rc) {
        pc_resp_from_err(r, ctx, rc);
        return;
    }
    pc_resp_json(r, 200, pc_task_json(&t, true));
}

void h_admin_school_create(struct pc_req *r, struct pc_ctx *ctx)
{
    if (pc_auth_staff(r, ctx, PC_ROLE_ADMIN))
        return;
    if (!pc_staff_company(pc_req_staff(r), PC_ROLE_ADMIN)) {
        pc_resp_error(r, 403, "FORBIDDEN", "只有公司管理员可以创建学校", NULL);
        return;
    }
    cJSON *j = pc_req_json(r);
    if (!j)
        return;
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(j, "code");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(j, "name");
    bool ok = cJSON_IsString(code) && code->valuestring[0] && strlen(code->valuestring) <= 16;
    for (const char *p = ok ? code->valuestring : ""; ok && *p; p++)
        ok = (*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z');
    if (!ok) {
        pc_resp_invalid(r, "code", "学校代码为 1–16 位字母或数字（如 10402）");
        return;
    }
    if (!cJSON_IsString(name) || !name->valuestring[0] || strlen(name->valuestring) > 128) {
        pc_resp_invalid(r, "name", "请填写学校名称");
        return;
    }
    int64_t id = 0;
    int rc = pc_school_create(ctx->db, pc_req_staff(r), code->valuestring, name->valuestring, j,
                              pc_req_client_ip(r), pc_req_id(r), &id);
    if (rc == PC_EEXIST) {
        pc_resp_error(r, 409, "SCHOOL_EXISTS", "该学校代码已存在", NULL);
        return;
    }
    if (rc) {
        pc_resp_from_err(r, ctx, rc);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)id);
    cJSON_AddStringToObject(o, "code", code->valuestring);
    cJSON_AddStringToObject(o, "name", name->valuestring);
    pc_resp_json(r, 201, o);
}
