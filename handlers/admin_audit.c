/* handlers/admin_audit.c — GET /api/v1/admin/audit: the audit log, newest first (admin). */
#include "handlers/handlers.h"

#include "handlers/auth.h"
#include "staff/staff.h"

void h_admin_audit(struct pc_req *r, struct pc_ctx *ctx)
{
    int limit;
    long long before;
    if (pc_auth_staff(r, ctx, PC_ROLE_ADMIN) || pc_h_limit(r, &limit) || pc_h_cursor_id(r, &before))
        return;
    cJSON *items = NULL;
    int rc = pc_staff_audit_list(ctx->db, pc_req_staff(r), before, limit, pc_req_client_ip(r),
                                 pc_req_id(r), &items);
    if (rc) {
        pc_resp_from_err(r, ctx, rc);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    int n = cJSON_GetArraySize(items);
    if (n == limit) {
        char cur[32];
        cJSON *last = cJSON_GetArrayItem(items, n - 1);
        pc_h_cursor_make((long long)cJSON_GetObjectItem(last, "id")->valuedouble, cur);
        cJSON_AddStringToObject(o, "next_cursor", cur);
    } else {
        cJSON_AddNullToObject(o, "next_cursor");
    }
    cJSON_AddItemToObject(o, "items", items);
    pc_resp_json(r, 200, o);
}
