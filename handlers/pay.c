/* handlers/pay.c — POST /orders/{order_no}/pay (JSAPI prepay → wx.requestPayment
 * arguments) and POST /pay/notify (WeChat Pay's payment notification). */
#include "handlers/handlers.h"

#include "base/err.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "payment/apply.h"
#include "payment/wxpay.h"
#include "server/auth.h"
#include "server/config.h"
#include "server/server.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>

#define PREPAY_TTL_S (110 * 60) /* WeChat keeps a prepay id about 2 h; reuse it for 110 min */

void pc_h_pay_unavailable(struct pc_req *r)
{
    pc_resp_header(r, "Retry-After", "5");
    pc_resp_error(r, 503, "PAYMENT_UNAVAILABLE", "支付服务暂时不可用，请稍后重试", NULL);
}

static void reply_payment(struct pc_req *r, const struct pc_ctx *ctx, const char *prepay_id)
{
    cJSON *o = pc_pay_request_payment(ctx->pay, prepay_id);
    if (!o) {
        pc_resp_error(r, 500, "INTERNAL", "服务器内部错误，请稍后重试", NULL);
        return;
    }
    pc_resp_json(r, 200, o);
}

/* Loads the caller's order and checks it can be paid; answers otherwise. */
int pc_h_order_payable(struct pc_req *r, struct pc_ctx *ctx, struct pc_order *o)
{
    const char *no = pc_req_param(r, "order_no");
    int rc = no && strlen(no) < 33 ? pc_store_order_get(ctx->db, no, o) : PC_ENOTFOUND;
    if (rc == 0 && o->user_id != pc_req_user(r)->id)
        rc = PC_ENOTFOUND;
    if (rc == PC_ENOTFOUND) {
        pc_resp_error(r, 404, "NOT_FOUND", "订单不存在", NULL);
        return -1;
    }
    if (rc) {
        pc_resp_from_err(r, ctx, rc);
        return -1;
    }
    if (strcmp(o->status, "unpaid") != 0) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "status", o->status);
        pc_resp_error(r, 409, "ORDER_STATE", "当前订单状态不能支付", d);
        return -1;
    }
    if (o->pay_overdue) {
        pc_resp_error(r, 409, "ORDER_STATE", "订单已超时未支付，请重新提交", NULL);
        return -1;
    }
    return 0;
}

const char *pc_h_prepay_answer(struct pc_req *r, struct pc_ctx *ctx, const char *key, size_t max,
                               struct pc_order *o, cJSON **j)
{
    const struct pc_out_resp *resp = pc_req_upstream(r);
    *j = NULL;
    if (pc_h_order_payable(r, ctx, o))
        return NULL;
    if (resp->err || (resp->status >= 200 && resp->status < 300 &&
                      pc_pay_verify_response(ctx->pay, resp) != 0)) {
        pc_log(PC_LOG_WARN, "prepay failed", PC_LS("order_no", o->order_no),
               PC_LI("http_status", resp->status));
        pc_h_pay_unavailable(r);
        return NULL;
    }
    *j = cJSON_ParseWithLength(resp->body ? resp->body : "", resp->len);
    const cJSON *val = cJSON_GetObjectItemCaseSensitive(*j, key);
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(*j, "code");
    if (resp->status == 200 && cJSON_IsString(val) && strlen(val->valuestring) < max)
        return val->valuestring;
    if (cJSON_IsString(code) && !strcmp(code->valuestring, "ORDERPAID")) {
        /* Paid at WeChat: the notification (or the sweeper's query) will move the order. */
        pc_server_wake_jobs(ctx->srv);
        pc_resp_error(r, 409, "ORDER_PAID", "订单已支付，正在确认，请稍候刷新", NULL);
        return NULL;
    }
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(*j, "message");
    pc_log(PC_LOG_WARN, "prepay refused", PC_LS("order_no", o->order_no),
           PC_LI("http_status", resp->status),
           PC_LS("code", cJSON_IsString(code) ? code->valuestring : ""),
           PC_LS("message", cJSON_IsString(msg) ? msg->valuestring : ""));
    pc_h_pay_unavailable(r);
    return NULL;
}

static void pay_done(struct pc_req *r, struct pc_ctx *ctx)
{
    struct pc_order o;
    cJSON *j = NULL;
    const char *pid = pc_h_prepay_answer(r, ctx, "prepay_id", 65, &o, &j);
    if (pid) {
        int rc = pc_store_order_set_prepay(ctx->db, o.id, pid, PREPAY_TTL_S);
        if (rc)
            pc_resp_from_err(r, ctx, rc);
        else
            reply_payment(r, ctx, pid);
    }
    cJSON_Delete(j);
}

void h_order_pay(struct pc_req *r, struct pc_ctx *ctx)
{
    bool native = false;
    if (pc_auth_user(r, ctx) || pc_h_pay_channel(r, &native))
        return;
    if (native) { /* the PC page: a QR code (pay_native.c) */
        h_order_pay_native(r, ctx);
        return;
    }
    struct pc_order o;
    if (pc_h_order_payable(r, ctx, &o))
        return;
    if (!ctx->pay) {
        pc_h_pay_unavailable(r);
        return;
    }
    if (o.prepay_live) { /* repeat calls reuse a live prepay id */
        reply_payment(r, ctx, o.prepay_id);
        return;
    }
    int64_t deadline = 0, now = pc_time_now_ms() / 1000;
    if (!o.pay_deadline[0] || pc_time_parse_db(o.pay_deadline, &deadline) || deadline <= now + 60)
        deadline = now + 1800;
    struct pc_pay_call call;
    if (pc_pay_call_jsapi(ctx->pay, o.order_no, o.amount_fen, o.openid, deadline, &call)) {
        pc_pay_call_free(&call);
        pc_resp_error(r, 500, "INTERNAL", "服务器内部错误，请稍后重试", NULL);
        return;
    }
    pc_req_call(r, &call.req, pay_done);
    pc_pay_call_free(&call);
}

/* WeChat's reply shape for a refused notification. */
void pc_h_notify_fail(struct pc_req *r, int status, const char *message)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "code", "FAIL");
    cJSON_AddStringToObject(o, "message", message);
    pc_resp_json(r, status, o);
}

int pc_h_open_notification(struct pc_req *r, struct pc_ctx *ctx, cJSON **env, cJSON **res)
{
    size_t len;
    const char *body = pc_req_body(r, &len);
    struct pc_pay_notify_headers h = {
        pc_req_header(r, "Wechatpay-Serial"), pc_req_header(r, "Wechatpay-Timestamp"),
        pc_req_header(r, "Wechatpay-Nonce"), pc_req_header(r, "Wechatpay-Signature"),
        pc_req_header(r, "Wechatpay-Signature-Type")};
    int rc = pc_pay_open_notification(ctx->pay, &h, body, len, pc_time_now_ms() / 1000, env, res);
    if (rc == PC_EAUTH)
        pc_log(PC_LOG_WARN, "notification refused: signature or timestamp",
               PC_LS("path", pc_req_path(r)), PC_LS("serial", h.serial ? h.serial : ""));
    return rc;
}

void h_pay_notify(struct pc_req *r, struct pc_ctx *ctx)
{
    if (!ctx->pay) {
        pc_h_notify_fail(r, 500, "payments are not configured");
        return;
    }
    size_t len;
    const char *body = pc_req_body(r, &len);
    struct pc_pay_notify_headers h = {
        pc_req_header(r, "Wechatpay-Serial"), pc_req_header(r, "Wechatpay-Timestamp"),
        pc_req_header(r, "Wechatpay-Nonce"), pc_req_header(r, "Wechatpay-Signature"),
        pc_req_header(r, "Wechatpay-Signature-Type")};
    cJSON *env = NULL, *tx = NULL;
    int rc = pc_pay_open_notification(ctx->pay, &h, body, len, pc_time_now_ms() / 1000, &env, &tx);
    if (rc == PC_EAUTH) {
        pc_log(PC_LOG_WARN, "notification refused: signature or timestamp",
               PC_LS("serial", h.serial ? h.serial : ""));
        pc_h_notify_fail(r, 401, "签名验证失败");
        return;
    }
    if (rc) {
        pc_h_notify_fail(r, 400, "通知内容无法解密");
        return;
    }
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(env, "id");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(env, "event_type");
    enum pc_apply_result res = PC_APPLY_INCONSISTENT;
    if (!cJSON_IsString(id) || strlen(id->valuestring) > 64 || !cJSON_IsString(type))
        rc = PC_EINVAL;
    else if (strcmp(type->valuestring, "TRANSACTION.SUCCESS") != 0)
        res = PC_APPLY_NOT_SUCCESS; /* acknowledged, nothing to do */
    else
        rc = pc_payment_apply(ctx->db, ctx->cfg, id->valuestring, type->valuestring, tx, "notify",
                              &res);
    if (rc == PC_EINVAL || (rc == 0 && res == PC_APPLY_INCONSISTENT))
        pc_h_notify_fail(r, 400, "通知内容与订单不符");
    else if (rc)
        pc_h_notify_fail(r, 500, "暂时无法处理，请重试"); /* WeChat retries */
    else
        pc_resp_raw(r, 204, "application/json", "", 0);
    cJSON_Delete(env);
    cJSON_Delete(tx);
}
