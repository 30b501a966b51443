/* handlers/tasks.c — the student side of a task: POST /tasks/bind,
 * POST /tasks/{task_id}/collection-code, POST /tasks/{task_id}/confirm,
 * GET /orders, GET /orders/{order_no}. */
#include "handlers/handlers.h"

#include "base/alloc.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/timeutil.h"
#include "orders/listing.h"
#include "orders/orders.h"
#include "handlers/auth.h"
#include "config/config.h"
#include "server/multipart.h"
#include "tasks/tasks.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int pc_h_id_param(struct pc_req *r, const char *name, int64_t *id)
{
    const char *s = pc_req_param(r, name);
    char *end = NULL;
    errno = 0;
    long long v = s ? strtoll(s, &end, 10) : 0;
    if (!s || errno || *end || v <= 0) {
        pc_resp_error(r, 404, "NOT_FOUND", "请求的资源不存在", NULL);
        return -1;
    }
    *id = v;
    return 0;
}

void h_task_bind(struct pc_req *r, struct pc_ctx *ctx)
{
    if (pc_auth_user(r, ctx))
        return;
    cJSON *j = pc_req_json(r);
    if (!j)
        return;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(j, "collection_type");
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(j, "feature_code");
    if (!cJSON_IsString(type) ||
        (strcmp(type->valuestring, "centralized") && strcmp(type->valuestring, "scattered"))) {
        pc_resp_invalid(r, "collection_type", "请选择采集类型：集中采集或零散采集");
        return;
    }
    if (!cJSON_IsString(code) || !code->valuestring[0] || strlen(code->valuestring) > 64) {
        pc_resp_invalid(r, "feature_code", "请输入特征码");
        return;
    }
    enum pc_bind_result res;
    struct pc_task t;
    int retry_after = 0;
    int rc = pc_task_bind(ctx->db, ctx->cfg, pc_req_user(r), type->valuestring, code->valuestring,
                          pc_req_client_ip(r), &res, &t, &retry_after);
    if (rc) {
        pc_resp_from_err(r, ctx, rc);
        return;
    }
    cJSON *d = NULL;
    char when[32];
    switch (res) {
    case PC_BIND_OK: {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "task", pc_task_json(&t, false));
        pc_resp_json(r, 200, o);
        return;
    }
    case PC_BIND_UNKNOWN_CODE:
        pc_resp_error(r, 404, "FEATURE_CODE_INVALID", "特征码无效，请核对后重新输入", NULL);
        return;
    case PC_BIND_TYPE_MISMATCH:
        pc_resp_error(r, 400, "COLLECTION_TYPE_MISMATCH",
                      "采集类型与特征码不符，请确认是集中采集还是零散采集", NULL);
        return;
    case PC_BIND_NOT_OPEN:
        d = cJSON_CreateObject();
        pc_time_db_to_api(t.opens_at, when, sizeof when);
        cJSON_AddStringToObject(d, "opens_at", when);
        pc_resp_error(r, 410, "WINDOW_NOT_OPEN", "采集尚未开始，请在开放时间内再来", d);
        return;
    case PC_BIND_CLOSED:
        d = cJSON_CreateObject();
        pc_time_db_to_api(t.closes_at, when, sizeof when);
        cJSON_AddStringToObject(d, "closes_at", when);
        pc_resp_error(r, 410, "WINDOW_CLOSED", "本次采集已截止", d);
        return;
    case PC_BIND_RATE_LIMITED:
        pc_h_rate_limited(r, retry_after, "特征码输入错误次数过多，请稍后再试");
        return;
    case PC_BIND_PROFILE_INCOMPLETE:
        pc_resp_error(r, 403, "PROFILE_INCOMPLETE", "请先完善个人信息（填写真实姓名）", NULL);
        return;
    }
}

/* Answers a gate refusal; returns 0 when the gate passed. */
static int gate_error(struct pc_req *r, enum pc_gate g, const char *order_no)
{
    cJSON *d = NULL;
    if (order_no && order_no[0]) {
        d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "order_no", order_no);
    }
    switch (g) {
    case PC_GATE_OK:
        cJSON_Delete(d);
        return 0;
    case PC_GATE_NOT_BOUND:
        pc_resp_error(r, 404, "TASK_NOT_BOUND", "请先输入特征码绑定采集任务", d);
        break;
    case PC_GATE_NOT_OPEN:
        pc_resp_error(r, 410, "WINDOW_NOT_OPEN", "采集尚未开始，请在开放时间内再来", d);
        break;
    case PC_GATE_CLOSED:
        pc_resp_error(r, 410, "WINDOW_CLOSED", "本次采集已截止", d);
        break;
    case PC_GATE_BAD_IMAGE:
        pc_resp_error(r, 415, "UNSUPPORTED_MEDIA_TYPE", "请上传 JPEG 或 PNG 格式的采集码图片", d);
        break;
    case PC_GATE_QR_NOT_FOUND:
        pc_resp_error(r, 422, "QR_NOT_FOUND", "未识别到二维码，请上传在学信网长按保存的采集码原图",
                      d);
        break;
    case PC_GATE_CODE_UNKNOWN:
        pc_resp_error(r, 404, "COLLECTION_CODE_UNKNOWN",
                      "无法识别该采集码，请确认是学信网的图像采集码", d);
        break;
    case PC_GATE_NOT_IN_ROSTER:
        pc_resp_error(r, 403, "NOT_IN_ROSTER", "你不在本次采集名单中，请联系学院老师确认", d);
        break;
    case PC_GATE_ALREADY_COLLECTED:
        pc_resp_error(r, 409, "ALREADY_COLLECTED",
                      "你已完成图像采集（线下或其他批次），无需重复采集", d);
        break;
    case PC_GATE_DUPLICATE:
        pc_resp_error(r, 409, "DUPLICATE_SUBMISSION", "你已提交过本次采集，请在“我的订单”中查看",
                      d);
        break;
    case PC_GATE_OTHER_ACCOUNT:
        pc_resp_error(r, 409, "SUBMITTED_BY_OTHER_ACCOUNT",
                      "该学生的采集已由另一个微信账号提交，请用原账号查看，或联系学院老师", d);
        break;
    case PC_GATE_CANDIDATE_UNKNOWN:
        pc_resp_error(r, 404, "CANDIDATE_NOT_FOUND", "请先上传采集码", d);
        break;
    case PC_GATE_CANDIDATE_EXPIRED:
        pc_resp_error(r, 410, "CANDIDATE_EXPIRED", "确认已超时，请重新上传采集码", d);
        break;
    }
    return -1;
}

void h_task_code(struct pc_req *r, struct pc_ctx *ctx)
{
    int64_t task_id;
    if (pc_auth_user(r, ctx) || pc_h_id_param(r, "task_id", &task_id))
        return;
    const char *ct = pc_req_header(r, "Content-Type");
    size_t blen;
    const char *body = pc_req_body(r, &blen);
    const void *img = NULL;
    size_t img_len = 0;
    const char *text = NULL;
    size_t text_len = 0;
    struct pc_multipart mp = {0};
    if (ct && strncasecmp(ct, "multipart/form-data", 19) == 0) {
        char err[128];
        if (pc_multipart_parse(ct, body, blen, 16, &mp, err, sizeof err)) {
            cJSON *d = cJSON_CreateObject();
            cJSON_AddStringToObject(d, "reason", err);
            pc_resp_error(r, 400, "MALFORMED_MULTIPART", "上传内容格式错误", d);
            return;
        }
        const struct pc_mp_part *p = pc_multipart_get(&mp, "file");
        if (!p || !p->len) {
            pc_multipart_free(&mp);
            pc_resp_invalid(r, "file", "请选择采集码图片（字段 file）");
            return;
        }
        img = p->data;
        img_len = p->len;
    } else if (ct && (strncasecmp(ct, "image/", 6) == 0)) {
        img = body;
        img_len = blen;
    } else {
        if (blen > (size_t)ctx->cfg->max_json_bytes) {
            pc_resp_error(r, 413, "PAYLOAD_TOO_LARGE", "请求内容过大", NULL);
            return;
        }
        cJSON *j = pc_req_json(r);
        if (!j)
            return;
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(j, "code");
        if (!cJSON_IsString(code) || !code->valuestring[0]) {
            pc_resp_invalid(r, "code", "请提供采集码（扫码得到的文本）或上传采集码图片");
            return;
        }
        text = code->valuestring;
        text_len = strlen(text);
    }
    struct pc_code_result res;
    int rc = pc_code_submit(ctx->db, ctx->cfg, pc_req_user(r), task_id, img, img_len, text,
                            text_len, &res);
    pc_multipart_free(&mp);
    if (rc) {
        pc_h_work_refused(r, ctx, rc, res.retry_after_s);
        return;
    }
    if (gate_error(r, res.gate, res.order_no))
        return;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "candidate_id", res.candidate_id);
    cJSON_AddItemToObject(o, "student", res.student);
    pc_resp_json(r, 200, o);
}

void h_task_confirm(struct pc_req *r, struct pc_ctx *ctx)
{
    int64_t task_id;
    if (pc_auth_user(r, ctx) || pc_h_id_param(r, "task_id", &task_id))
        return;
    cJSON *j = pc_req_json(r);
    if (!j)
        return;
    const cJSON *cid = cJSON_GetObjectItemCaseSensitive(j, "candidate_id");
    if (!cJSON_IsString(cid) || strlen(cid->valuestring) != 32) {
        pc_resp_invalid(r, "candidate_id", "缺少 candidate_id");
        return;
    }
    enum pc_gate g;
    struct pc_order o;
    char dup[33];
    int rc =
        pc_order_confirm(ctx->db, ctx->cfg, pc_req_user(r), task_id, cid->valuestring, &g, &o, dup);
    if (rc) {
        pc_resp_from_err(r, ctx, rc);
        return;
    }
    if (gate_error(r, g, dup))
        return;
    cJSON *out = cJSON_CreateObject();
    cJSON_AddItemToObject(out, "order", pc_order_json(&o));
    pc_resp_json(r, 200, out);
}

/* A first page parked with the lister (orders/listing.h), answered on its thread. */
struct list_wait {
    struct pc_req *r;
    const struct pc_ctx *ctx; /* the loop's: lives as long as the server */
    int limit;
};

static void list_answer(struct pc_req *r, const struct pc_ctx *ctx, int rc, const char *items,
                        size_t len, size_t n, int limit, int64_t last_id)
{
    struct pc_buf *b = pc_resp_buf(r, PC_H_LIST_MAX_BYTES);
    if (rc == 0)
        rc = pc_buf_adds(b, "{\"items\":");
    if (rc == 0)
        rc = pc_buf_add(b, items, len);
    pc_h_list_end(r, ctx, rc, b, n, limit, last_id);
}

static void list_done(void *arg, int rc, const char *items, size_t len, size_t n, int64_t last_id)
{
    struct list_wait *w = arg;
    list_answer(w->r, w->ctx, rc, items, len, n, w->limit, last_id);
    pc_req_complete(w->r);
    free(w);
}

/* GET /orders. On the loop (PC_ROUTE_LOOP): a known token whose first page is kept in memory
 * waits for the lister's fingerprint read; anything else goes on on a worker. */
void h_orders_list(struct pc_req *r, struct pc_ctx *ctx)
{
    int limit;
    long long before;
    if (!ctx->db) {
        int known = pc_auth_user_cached(r);
        if (known < 0 || (known && (pc_h_limit(r, &limit) || pc_h_cursor_id(r, &before))))
            return;
        if (!known || before || !pc_order_list_is_cached(pc_req_user(r)->id, limit)) {
            pc_req_to_worker(r, h_orders_list);
            return;
        }
        struct list_wait *w = pc_new(struct list_wait);
        *w = (struct list_wait){r, ctx, limit};
        pc_req_park(r);
        pc_order_list_queue(pc_req_user(r), limit, list_done, w);
        return;
    }
    if (pc_auth_user(r, ctx) || pc_h_limit(r, &limit) || pc_h_cursor_id(r, &before))
        return;
    struct pc_buf *b = pc_resp_buf(r, PC_H_LIST_MAX_BYTES);
    size_t n = 0;
    int64_t last = 0;
    int rc = pc_buf_adds(b, "{\"items\":");
    if (rc == 0 && before == 0)
        rc = pc_order_list_first_page(ctx->db, pc_req_user(r), limit, b, &n, &last);
    else if (rc == 0)
        rc = pc_order_list_own_json(ctx->db, pc_req_user(r), before, limit, b, &n, &last);
    pc_h_list_end(r, ctx, rc, b, n, limit, last);
}

void h_order_get(struct pc_req *r, struct pc_ctx *ctx)
{
    if (pc_auth_user(r, ctx))
        return;
    const char *no = pc_req_param(r, "order_no");
    struct pc_order o;
    int rc = pc_order_get_own(ctx->db, pc_req_user(r), no, &o); /* or it does not exist */
    if (rc == PC_ENOTFOUND) {
        pc_resp_error(r, 404, "NOT_FOUND", "订单不存在", NULL);
        return;
    }
    if (rc) {
        pc_resp_from_err(r, ctx, rc);
        return;
    }
    pc_resp_json(r, 200, pc_order_json(&o));
}
