/* handlers/refunds.c — POST /admin/orders/{order_no}/refund (finance) and
 * POST /pay/refund-notify (WeChat Pay's refund notification). */
#include "handlers/handlers.h"

#include "base/alloc.h"
#include "payment/refund.h"
#include "payment/wxpay.h"
#include "handlers/auth.h"
#include "staff/staff.h"

#include <stdlib.h>
#include <string.h>

static void refund_sent(struct pc_req *r, struct pc_ctx *ctx)
{
    struct pc_refund ref;
    int rc = pc_refund_answered(ctx, pc_req_data(r), pc_req_upstream(r), &ref);
    if (rc) {
        pc_resp_from_err(r, ctx, rc);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "refund", pc_refund_json(&ref));
    /* 202: the money is on its way; the refund notification makes the order refunded. */
    pc_resp_json(r, !strcmp(ref.status, "requested") ? 503 : 202, o);
    if (!strcmp(ref.status, "requested"))
        pc_resp_header(r, "Retry-After", "5");
}

void h_admin_refund(struct pc_req *r, struct pc_ctx *ctx)
{
    if (pc_auth_staff(r, ctx, PC_ROLE_FINANCE))
        return;
    cJSON *j = pc_req_json(r);
    if (!j)
        return;
    const cJSON *amount = cJSON_GetObjectItemCaseSensitive(j, "amount_fen");
    const cJSON *reason = cJSON_GetObjectItemCaseSensitive(j, "reason");
    if (!cJSON_IsNumber(amount) || amount->valuedouble != (double)(int64_t)amount->valuedouble) {
        pc_resp_invalid(r, "amount_fen", "退款金额以分为单位，应为整数");
        return;
    }
    if (!cJSON_IsString(reason) || !reason->valuestring[0] || strlen(reason->valuestring) > 240) {
        pc_resp_invalid(r, "reason", "请填写退款原因（80 字以内）");
        return;
    }
    if (!ctx->pay) {
        pc_resp_error(r, 503, "PAYMENT_UNAVAILABLE", "支付服务暂时不可用，请稍后重试", NULL);
        return;
    }
    enum pc_refund_outcome oc;
    struct pc_order o;
    struct pc_refund ref;
    int rc = pc_refund_request(ctx->db, pc_req_staff(r), pc_req_param(r, "order_no"),
                               (int64_t)amount->valuedouble, reason->valuestring,
                               pc_req_client_ip(r), pc_req_id(r), &oc, &o, &ref);
    if (rc) {
        pc_resp_from_err(r, ctx, rc);
        return;
    }
    switch (oc) {
    case PC_REFUND_NOT_FOUND:
        pc_resp_error(r, 404, "NOT_FOUND", "订单不存在", NULL);
        return;
    case PC_REFUND_STATE:
        pc_resp_error(r, 409, "ORDER_STATE", "该订单未支付或已退款", NULL);
        return;
    case PC_REFUND_AMOUNT:
        pc_resp_invalid(r, "amount_fen", "退款金额应大于 0 且不超过可退金额");
        return;
    case PC_REFUND_EXISTING:
        if (strcmp(ref.status, "requested") != 0) {
            cJSON *out = cJSON_CreateObject();
            cJSON_AddItemToObject(out, "refund", pc_refund_json(&ref));
            pc_resp_json(r, 202, out);
            return;
        }
        break; /* not yet accepted by WeChat: send it again, same out_refund_no */
    case PC_REFUND_OK:
        break;
    }
    struct pc_pay_call call;
    if (pc_pay_call_refund(ctx->pay, o.order_no, ref.out_refund_no, ref.amount_fen, o.amount_fen,
                           ref.reason, &call)) {
        pc_pay_call_free(&call);
        pc_resp_error(r, 500, "INTERNAL", "服务器内部错误，请稍后重试", NULL);
        return;
    }
    pc_req_set_data(r, pc_xstrdup(ref.out_refund_no), free);
    pc_req_call(r, &call.req, refund_sent);
    pc_pay_call_free(&call);
}

void h_pay_refund_notify(struct pc_req *r, struct pc_ctx *ctx)
{
    pc_h_pay_notification(r, ctx, pc_refund_notified, "通知内容不符", "通知内容不符");
}
