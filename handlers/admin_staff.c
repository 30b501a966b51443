/* handlers/admin_staff.c — GET/POST /admin/staff, PATCH /admin/staff/{id} (staff accounts,
 * rules in staff/accounts.c), GET /admin/schools (the schools an admin sees), and a task's
 * reviewers: GET/POST /admin/tasks/{id}/reviewers, DELETE /admin/tasks/{id}/reviewers/{staff_id}.
 */
#include "handlers/handlers.h"

#include "base/err.h"
#include "handlers/auth.h"
#include "staff/accounts.h"
#include "tasks/tasks.h"

#include <stdbool.h>
#include <stdlib.h>

static void answer(struct pc_req *r, struct pc_ctx *ctx, int rc, int status, cJSON *account,
                   const struct pc_staff_input_err *e)
{
    if (rc == 0)
        pc_resp_json(r, status, account);
    else if (rc == PC_EINVAL)
        pc_resp_invalid(r, e->field, e->message);
    else if (rc == PC_EEXIST)
        pc_resp_error(r, 409, "USERNAME_TAKEN", "该用户名已被使用", NULL);
    else if (rc == PC_ENOTFOUND)
        pc_resp_error(r, 404, "NOT_FOUND", "账号不存在", NULL);
    else
        pc_resp_from_err(r, ctx, rc);
}

void h_admin_staff_list(struct pc_req *r, struct pc_ctx *ctx)
{
    if (pc_auth_staff(r, ctx, PC_ROLE_ADMIN))
        return;
    cJSON *items = NULL;
    int rc = pc_staff_accounts_list(ctx->db, pc_req_staff(r), &items);
    if (rc) {
        pc_resp_from_err(r, ctx, rc);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "items", items);
    cJSON_AddNullToObject(o, "next_cursor");
    pc_resp_json(r, 200, o);
}

void h_admin_staff_create(struct pc_req *r, struct pc_ctx *ctx)
{
    if (pc_auth_staff(r, ctx, PC_ROLE_ADMIN))
        return;
    cJSON *j = pc_req_json(r);
    if (!j)
        return;
    cJSON *account = NULL;
    struct pc_staff_input_err e = {0};
    int rc = pc_staff_account_create(ctx->db, pc_req_staff(r), j, pc_req_client_ip(r), pc_req_id(r),
                                     &account, &e);
    answer(r, ctx, rc, 201, account, &e);
}

void h_admin_staff_patch(struct pc_req *r, struct pc_ctx *ctx)
{
    int64_t id;
    if (pc_auth_staff(r, ctx, PC_ROLE_ADMIN) || pc_h_id_param(r, "id", &id))
        return;
    cJSON *j = pc_req_json(r);
    if (!j)
        return;
    cJSON *account = NULL;
    struct pc_staff_input_err e = {0};
    int rc = pc_staff_account_patch(ctx->db, pc_req_staff(r), id, j, pc_req_client_ip(r),
                                    pc_req_id(r), &account, &e);
    answer(r, ctx, rc, 200, account, &e);
}

void h_admin_schools_list(struct pc_req *r, struct pc_ctx *ctx)
{
    if (pc_auth_staff(r, ctx, 0))
        return;
    struct pc_school *s = NULL;
    size_t n = 0;
    int rc = pc_school_list_for(ctx->db, pc_req_staff(r), &s, &n);
    if (rc) {
        pc_resp_from_err(r, ctx, rc);
        return;
    }
    cJSON *o = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(o, "items");
    for (size_t i = 0; i < n; i++) {
        cJSON *it = cJSON_CreateObject();
        cJSON_AddNumberToObject(it, "id", (double)s[i].id);
        cJSON_AddStringToObject(it, "code", s[i].code);
        cJSON_AddStringToObject(it, "name", s[i].name);
        cJSON_AddItemToArray(items, it);
    }
    free(s);
    pc_resp_json(r, 200, o);
}

/* {"task_id","reviewers":[...]} of the task t. */
static void reviewers_reply(struct pc_req *r, struct pc_ctx *ctx, int status,
                            const struct pc_task *t)
{
    cJSON *items = NULL;
    int rc = pc_staff_task_reviewers(ctx->db, t->id, &items);
    if (rc) {
        pc_resp_from_err(r, ctx, rc);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "task_id", (double)t->id);
    cJSON_AddItemToObject(o, "reviewers", items);
    pc_resp_json(r, status, o);
}

void h_admin_task_reviewers(struct pc_req *r, struct pc_ctx *ctx)
{
    struct pc_task t;
    if (pc_auth_staff(r, ctx, PC_ROLE_ADMIN) || pc_h_task_for_staff(r, ctx, PC_ROLE_ADMIN, &t))
        return;
    reviewers_reply(r, ctx, 200, &t);
}

/* Assigns (add) or unassigns a reviewer: the account is {staff_id} of the path or the body. */
static void reviewer_set(struct pc_req *r, struct pc_ctx *ctx, bool add)
{
    struct pc_task t;
    int64_t staff_id = 0;
    if (pc_auth_staff(r, ctx, PC_ROLE_ADMIN) || pc_h_task_for_staff(r, ctx, PC_ROLE_ADMIN, &t))
        return;
    if (add) {
        cJSON *j = pc_req_json(r);
        if (!j)
            return;
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "staff_id");
        if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 9e15 ||
            (double)(int64_t)v->valuedouble != v->valuedouble) {
            pc_resp_invalid(r, "staff_id", "staff_id 应为账号编号");
            return;
        }
        staff_id = (int64_t)v->valuedouble;
    } else if (pc_h_id_param(r, "staff_id", &staff_id)) {
        return;
    }
    int rc = pc_staff_task_reviewer_set(ctx->db, pc_req_staff(r), t.id, t.school_id, staff_id, add,
                                        pc_req_client_ip(r), pc_req_id(r));
    if (rc == PC_ENOTFOUND)
        pc_resp_error(r, 404, "NOT_FOUND", "账号不存在", NULL);
    else if (rc == PC_ETOOBIG)
        pc_resp_error(r, 409, "TOO_MANY_ROLES", "该账号的角色已达上限", NULL);
    else if (rc)
        pc_resp_from_err(r, ctx, rc);
    else
        reviewers_reply(r, ctx, 200, &t);
}

void h_admin_task_reviewer_add(struct pc_req *r, struct pc_ctx *ctx)
{
    reviewer_set(r, ctx, true);
}

void h_admin_task_reviewer_remove(struct pc_req *r, struct pc_ctx *ctx)
{
    reviewer_set(r, ctx, false);
}
