/* handlers/notify.c — POST /me/subscriptions (a student's consents), GET /admin/outbox and
 * POST /admin/outbox/{id}/retry (company admins: messages that could not be delivered). */
#include "handlers/handlers.h"

#include "base/err.h"
#include "notify/notify.h"
#include "handlers/auth.h"
#include "server/server.h"
#include "staff/scope.h"
#include "staff/staff.h"

#include <stdlib.h>
#include <string.h>

void h_me_subscriptions(struct pc_req *r, struct pc_ctx *ctx)
{
    if (pc_auth_user(r, ctx))
        return;
    cJSON *j = pc_req_json(r);
    if (!j)
        return;
    cJSON *out = NULL;
    const char *field = NULL;
    int rc = pc_notify_record_consents(ctx->db, pc_req_user(r)->id, j, &out, &field);
    if (rc == PC_EINVAL) {
        pc_resp_invalid(r, field,
                        "template_ids 应为对象：模板 id → accept/reject/ban/filter（最多 10 个）");
        return;
    }
    if (rc) {
        pc_resp_from_err(r, ctx, rc);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "remaining", out);
    pc_resp_json(r, 200, o);
}

/* Outbox rows are not per school: only company-wide admins see them. */
static int company_admin(struct pc_req *r, struct pc_ctx *ctx)
{
    if (pc_auth_staff(r, ctx, PC_ROLE_ADMIN))
        return -1;
    if (!pc_staff_company(pc_req_staff(r), PC_ROLE_ADMIN)) {
        pc_resp_error(r, 403, "FORBIDDEN", "仅公司管理员可查看消息队列", NULL);
        return -1;
    }
    return 0;
}

void h_admin_outbox(struct pc_req *r, struct pc_ctx *ctx)
{
    int limit;
    long long before;
    if (company_admin(r, ctx) || pc_h_limit(r, &limit) || pc_h_cursor_id(r, &before))
        return;
    const char *state = pc_req_query(r, "state");
    if (state && strcmp(state, "pending") && strcmp(state, "running") && strcmp(state, "done") &&
        strcmp(state, "dead")) {
        pc_resp_invalid(r, "state", "state 应为 pending、running、done 或 dead");
        return;
    }
    struct pc_outbox_msg *ms = NULL;
    size_t n = 0;
    int rc = pc_notify_outbox_list(ctx->db, state, before, limit, &ms, &n);
    if (rc) {
        pc_resp_from_err(r, ctx, rc);
        return;
    }
    cJSON *o = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(o, "items");
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(items, pc_notify_outbox_json(&ms[i]));
    if (n == (size_t)limit) {
        char cur[32];
        pc_h_cursor_make((long long)ms[n - 1].id, cur);
        cJSON_AddStringToObject(o, "next_cursor", cur);
    } else {
        cJSON_AddNullToObject(o, "next_cursor");
    }
    pc_notify_msgs_free(ms, n);
    pc_resp_json(r, 200, o);
}

void h_admin_outbox_retry(struct pc_req *r, struct pc_ctx *ctx)
{
    int64_t id;
    if (company_admin(r, ctx) || pc_h_id_param(r, "id", &id))
        return;
    struct pc_outbox_msg m;
    int rc = pc_notify_requeue(ctx->db, pc_req_staff(r), id, pc_req_client_ip(r), pc_req_id(r), &m);
    if (rc == PC_ENOTFOUND) {
        pc_resp_error(r, 404, "NOT_FOUND", "消息不存在", NULL);
        return;
    }
    if (rc == PC_ECONFLICT) {
        pc_resp_error(r, 409, "OUTBOX_STATE", "只有已搁置（dead）的消息可以重新发送", NULL);
        return;
    }
    if (rc) {
        pc_resp_from_err(r, ctx, rc);
        return;
    }
    pc_ctx_wake_jobs(ctx);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "message", pc_notify_outbox_json(&m));
    free(m.payload);
    pc_resp_json(r, 200, o);
}
