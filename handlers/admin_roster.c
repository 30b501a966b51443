/* handlers/admin_roster.c — a task's roster: POST (import CSV), GET (list or CSV export),
 * PATCH /roster/{student_no}, GET /stats. Admins of the school; college staff read their
 * own college. */
#include "handlers/handlers.h"

#include "base/buf.h"
#include "base/err.h"
#include "roster/roster.h"
#include "handlers/auth.h"
#include "server/multipart.h"
#include "staff/scope.h"
#include "staff/staff.h"
#include "tasks/tasks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const g_states[] = {"not_started",      "awaiting_photo", "unpaid",
                                       "pending_review",   "approved",       "rejected",
                                       "collected_offline"};

void h_admin_roster_import(struct pc_req *r, struct pc_ctx *ctx)
{
    struct pc_task t;
    if (pc_auth_staff(r, ctx, PC_ROLE_ADMIN) || pc_h_task_for_staff(r, ctx, PC_ROLE_ADMIN, &t))
        return;
    size_t len;
    const char *data = pc_req_body(r, &len);
    const char *ct = pc_req_header(r, "Content-Type");
    struct pc_multipart mp = {0};
    if (ct && strncasecmp(ct, "multipart/form-data", 19) == 0) { /* a browser form */
        char err[128];
        const struct pc_mp_part *p = NULL;
        if (pc_multipart_parse(ct, data, len, 16, &mp, err, sizeof err) == 0)
            p = pc_multipart_get(&mp, "file");
        if (!p) {
            pc_multipart_free(&mp);
            pc_resp_invalid(r, "file", "请选择名单文件（字段 file）");
            return;
        }
        data = p->data;
        len = p->len;
    }
    if (len >= 4 &&
        (memcmp(data, "PK\x03\x04", 4) == 0 || memcmp(data, "\xd0\xcf\x11\xe0", 4) == 0)) {
        pc_multipart_free(&mp);
        pc_resp_error(r, 415, "ROSTER_NOT_CSV",
                      "请上传 CSV 文件（在 Excel 中“另存为”CSV），不支持 xlsx/xls", NULL);
        return;
    }
    struct pc_roster_import_result res;
    char err[256] = "";
    int rc = pc_roster_import(ctx->db, pc_req_staff(r), t.id, t.school_id, data, len,
                              pc_req_client_ip(r), pc_req_id(r), &res, err, sizeof err);
    pc_multipart_free(&mp);
    if (rc == PC_EINVAL || rc == PC_ETOOBIG) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "reason", err);
        pc_resp_error(r, rc == PC_ETOOBIG ? 413 : 400, "ROSTER_INVALID",
                      err[0] ? err : "名单文件无法识别", d);
        return;
    }
    if (rc) {
        pc_resp_from_err(r, ctx, rc);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "imported", res.imported);
    cJSON_AddNumberToObject(o, "updated", res.updated);
    cJSON_AddItemToObject(o, "rejected", res.rejected);
    cJSON_AddStringToObject(o, "encoding", res.encoding);
    pc_resp_json(r, 200, o);
}

/* Staff who may read the roster of t; college staff are limited to their college. */
static int roster_reader(struct pc_req *r, struct pc_ctx *ctx, struct pc_task *t,
                         const char **college)
{
    const unsigned roles = PC_ROLE_ADMIN | PC_ROLE_COLLEGE;
    if (pc_auth_staff(r, ctx, roles) || pc_h_task_for_staff(r, ctx, roles, t))
        return -1;
    const struct pc_staff_auth *s = pc_req_staff(r);
    const struct pc_staff_role *g = pc_staff_grant(s, roles, t->school_id, t->id);
    *college = pc_req_query(r, "college");
    if (*college && !(*college)[0])
        *college = NULL;
    if (g && g->college[0]) { /* only college roles reach this school: their colleges */
        if (*college && !pc_staff_may_college(s, roles, t->school_id, t->id, *college)) {
            pc_resp_error(r, 403, "FORBIDDEN", "只能查看本学院的名单", NULL);
            return -1;
        }
        if (!*college)
            *college = g->college;
    }
    return 0;
}

void h_admin_roster_list(struct pc_req *r, struct pc_ctx *ctx)
{
    struct pc_task t;
    const char *college;
    if (roster_reader(r, ctx, &t, &college))
        return;
    const char *state = pc_req_query(r, "state");
    if (state && !state[0])
        state = NULL;
    bool known = !state;
    for (size_t i = 0; !known && i < sizeof g_states / sizeof g_states[0]; i++)
        known = strcmp(state, g_states[i]) == 0;
    if (!known) {
        pc_resp_invalid(r, "state", "state 不正确");
        return;
    }
    const char *accept = pc_req_header(r, "Accept");
    bool csv = (accept && strstr(accept, "text/csv")) ||
               (pc_req_query(r, "format") && !strcmp(pc_req_query(r, "format"), "csv"));
    int limit = 0;
    long long after = 0;
    if (!csv && (pc_h_limit(r, &limit) || pc_h_cursor_id(r, &after)))
        return;
    struct pc_roster_reader rd = {pc_req_staff(r),     t.id,        t.school_id, college, state,
                                  pc_req_client_ip(r), pc_req_id(r)};
    if (csv) { /* UTF-8 with a BOM so that Excel opens it right */
        char name[96];
        snprintf(name, sizeof name, "roster-task-%lld.csv", (long long)t.id);
        struct pc_buf b;
        pc_buf_init(&b, PC_H_CSV_MAX);
        pc_h_csv_reply(r, ctx, pc_roster_csv(ctx->db, &rd, &b), &b, name);
        pc_buf_free(&b);
        return;
    }
    cJSON *items = NULL;
    int64_t last = 0;
    int rc = pc_roster_list(ctx->db, &rd, after, limit, &items, &last);
    if (rc) {
        pc_resp_from_err(r, ctx, rc);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    if (cJSON_GetArraySize(items) == limit) {
        char cur[32];
        pc_h_cursor_make((long long)last, cur);
        cJSON_AddStringToObject(o, "next_cursor", cur);
    } else {
        cJSON_AddNullToObject(o, "next_cursor");
    }
    cJSON_AddItemToObject(o, "items", items);
    pc_resp_json(r, 200, o);
}

void h_admin_roster_patch(struct pc_req *r, struct pc_ctx *ctx)
{
    struct pc_task t;
    if (pc_auth_staff(r, ctx, PC_ROLE_ADMIN) || pc_h_task_for_staff(r, ctx, PC_ROLE_ADMIN, &t))
        return;
    cJSON *j = pc_req_json(r);
    if (!j)
        return;
    struct pc_roster_entry e;
    bool created = false;
    const char *field = NULL, *message = NULL;
    int rc =
        pc_roster_patch(ctx->db, pc_req_staff(r), t.id, t.school_id, pc_req_param(r, "student_no"),
                        j, pc_req_client_ip(r), pc_req_id(r), &e, &created, &field, &message);
    if (rc == PC_EINVAL) {
        pc_resp_invalid(r, field ? field : "body", message);
        return;
    }
    if (rc) {
        pc_resp_from_err(r, ctx, rc);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    if (e.seq)
        cJSON_AddNumberToObject(o, "seq", e.seq);
    else
        cJSON_AddNullToObject(o, "seq");
    cJSON_AddStringToObject(o, "college", e.college);
    cJSON_AddStringToObject(o, "name", e.name);
    cJSON_AddStringToObject(o, "student_no", e.student_no);
    cJSON_AddItemToObject(o, "class",
                          e.class_name[0] ? cJSON_CreateString(e.class_name) : cJSON_CreateNull());
    cJSON_AddBoolToObject(o, "collected_offline", e.collected == 1);
    cJSON_AddBoolToObject(o, "created", created);
    pc_resp_json(r, created ? 201 : 200, o);
}

void h_admin_roster_stats(struct pc_req *r, struct pc_ctx *ctx)
{
    struct pc_task t;
    const char *college;
    if (roster_reader(r, ctx, &t, &college))
        return;
    cJSON *o = NULL;
    int rc = pc_roster_stats(ctx->db, t.id, college, &o);
    if (rc) {
        pc_resp_from_err(r, ctx, rc);
        return;
    }
    pc_resp_json(r, 200, o);
}
