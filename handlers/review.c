/* handlers/review.c — the reviewer's queue and decisions:
 * GET /admin/review-queue, POST /admin/orders/{order_no}/review, GET /admin/review-reasons. */
#include "handlers/handlers.h"

#include "base/err.h"
#include "orders/orders.h"
#include "review/review.h"
#include "handlers/auth.h"
#include "server/server.h"
#include "staff/staff.h"
#include "tasks/tasks.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One queue entry: the order, its photo's check results and where both variants are. */
static cJSON *queue_item(struct pc_ctx *ctx, const struct pc_order *o, int *rc)
{
    cJSON *j = pc_order_json(o);
    cJSON *checks = NULL;
    *rc = pc_order_photo_checks(ctx->db, o, &checks);
    cJSON_AddItemToObject(j, "checks", checks ? checks : cJSON_CreateArray());
    char url[96];
    cJSON *urls = cJSON_AddObjectToObject(j, "photo_urls");
    snprintf(url, sizeof url, "/api/v1/orders/%s/photo?variant=normalized", o->order_no);
    cJSON_AddStringToObject(urls, "normalized", url);
    snprintf(url, sizeof url, "/api/v1/orders/%s/photo?variant=original", o->order_no);
    cJSON_AddStringToObject(urls, "original", url);
    return j;
}

void h_admin_review_queue(struct pc_req *r, struct pc_ctx *ctx)
{
    int limit;
    long long after;
    if (pc_auth_staff(r, ctx, PC_ROLE_REVIEWER) || pc_h_limit(r, &limit) ||
        pc_h_cursor_id(r, &after))
        return;
    const struct pc_staff_auth *by = pc_req_staff(r);
    int64_t task = 0;
    const char *q = pc_req_query(r, "task_id");
    if (q) {
        char *end = NULL;
        errno = 0;
        long long v = strtoll(q, &end, 10);
        if (errno || end == q || *end || v <= 0) {
            pc_resp_invalid(r, "task_id", "task_id 应为正整数");
            return;
        }
        struct pc_task t;
        int rc = pc_task_get_for(ctx->db, by, PC_ROLE_REVIEWER, v, &t);
        if (rc) {
            if (rc == PC_ENOTFOUND)
                pc_resp_error(r, 404, "NOT_FOUND", "任务不存在", NULL);
            else
                pc_resp_from_err(r, ctx, rc);
            return;
        }
        task = v;
    }
    struct pc_order *os = NULL;
    size_t n = 0;
    int rc = pc_review_queue(ctx->db, by, task, after, limit, pc_req_client_ip(r), pc_req_id(r),
                             &os, &n);
    cJSON *o = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(o, "items");
    for (size_t i = 0; rc == 0 && i < n; i++)
        cJSON_AddItemToArray(items, queue_item(ctx, &os[i], &rc));
    if (rc == 0 && n == (size_t)limit) {
        char cur[32];
        pc_h_cursor_make((long long)os[n - 1].id, cur);
        cJSON_AddStringToObject(o, "next_cursor", cur);
    } else {
        cJSON_AddNullToObject(o, "next_cursor");
    }
    free(os);
    if (rc) {
        cJSON_Delete(o);
        pc_resp_from_err(r, ctx, rc);
        return;
    }
    pc_resp_json(r, 200, o);
}

void h_admin_review_reasons(struct pc_req *r, struct pc_ctx *ctx)
{
    if (pc_auth_staff(r, ctx, PC_ROLE_REVIEWER))
        return;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "items", pc_review_reasons_json());
    pc_resp_json(r, 200, o);
}

void h_admin_review(struct pc_req *r, struct pc_ctx *ctx)
{
    if (pc_auth_staff(r, ctx, PC_ROLE_REVIEWER))
        return;
    cJSON *j = pc_req_json(r);
    if (!j)
        return;
    const cJSON *dec = cJSON_GetObjectItemCaseSensitive(j, "decision");
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(j, "reason_code");
    const cJSON *note = cJSON_GetObjectItemCaseSensitive(j, "note");
    struct pc_review_decision d = {0};
    if (!cJSON_IsString(dec) ||
        (strcmp(dec->valuestring, "approve") && strcmp(dec->valuestring, "reject"))) {
        pc_resp_invalid(r, "decision", "decision 应为 approve 或 reject");
        return;
    }
    d.approve = !strcmp(dec->valuestring, "approve");
    if (note && !cJSON_IsNull(note) && (!cJSON_IsString(note) || strlen(note->valuestring) > 500)) {
        pc_resp_invalid(r, "note", "备注应为不超过 500 字节的文字");
        return;
    }
    d.note = cJSON_IsString(note) && note->valuestring[0] ? note->valuestring : NULL;
    if (!d.approve) {
        if (!cJSON_IsString(code) || !pc_review_reason(code->valuestring)) {
            pc_resp_invalid(r, "reason_code", "请从驳回原因目录中选择 reason_code");
            return;
        }
        if (!strcmp(code->valuestring, "OTHER") && !d.note) {
            pc_resp_invalid(r, "note", "选择“其他”时请填写告诉学生的说明");
            return;
        }
        d.reason_code = code->valuestring;
    }
    enum pc_review_outcome oc = PC_REVIEW_OK;
    struct pc_order o;
    const char *no = pc_req_param(r, "order_no");
    int rc = no && strlen(no) <= 32 ? pc_review_decide(ctx->db, pc_req_staff(r), no, &d,
                                                       pc_req_client_ip(r), pc_req_id(r), &oc, &o)
                                    : (oc = PC_REVIEW_NOT_FOUND, 0);
    if (rc) {
        pc_resp_from_err(r, ctx, rc);
        return;
    }
    if (oc == PC_REVIEW_NOT_FOUND) {
        pc_resp_error(r, 404, "NOT_FOUND", "订单不存在", NULL);
        return;
    }
    if (oc == PC_REVIEW_STATE) {
        pc_resp_error(r, 409, "ORDER_STATE", "该订单不在待审核状态（可能已被其他审核员处理）",
                      NULL);
        return;
    }
    pc_ctx_wake_jobs(ctx); /* the outbox worker sends the student's message now */
    cJSON *out = cJSON_CreateObject();
    cJSON_AddItemToObject(out, "order", pc_order_json(&o));
    pc_resp_json(r, 200, out);
}
