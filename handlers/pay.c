/* handlers/pay.c — POST /orders/{order_no}/pay (JSAPI prepay → wx.requestPayment arguments;
 * with {"channel":"native"}, the PC page's Native prepay → {"code_url"} for a QR code) and
 * POST /pay/notify (WeChat Pay's payment notification). */
#include "handlers/handlers.h"

#include "base/err.h"
#include "handlers/auth.h"
#include "payment/notification.h"
#include "payment/prepay.h"
#include "payment/wxpay.h"

#include <string.h>

static void pay_unavailable(struct pc_req *r)
{
    pc_resp_header(r, "Retry-After", "5");
    pc_resp_error(r, 503, "PAYMENT_UNAVAILABLE", "支付服务暂时不可用，请稍后重试", NULL);
}

/* Loads the caller's order and checks it can be paid; answers otherwise. */
static int payable(struct pc_req *r, struct pc_ctx *ctx, struct pc_order *o)
{
    enum pc_payable p;
    int rc = pc_payment_payable(ctx->db, pc_req_user(r), pc_req_param(r, "order_no"), &p, o);
    if (rc) {
        pc_resp_from_err(r, ctx, rc);
        return -1;
    }
    switch (p) {
    case PC_PAYABLE_OK:
        return 0;
    case PC_PAYABLE_NOT_FOUND:
        pc_resp_error(r, 404, "NOT_FOUND", "订单不存在", NULL);
        return -1;
    case PC_PAYABLE_STATE: {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "status", o->status);
        pc_resp_error(r, 409, "ORDER_STATE", "当前订单状态不能支付", d);
        return -1;
    }
    case PC_PAYABLE_OVERDUE:
        pc_resp_error(r, 409, "ORDER_STATE", "订单已超时未支付，请重新提交", NULL);
        return -1;
    }
    return -1;
}

/* The optional body: none, {"channel":"jsapi"} or {"channel":"native"}. Answers 400 and returns
 * -1 otherwise. */
static int pay_channel(struct pc_req *r, enum pc_pay_channel *ch)
{
    size_t len = 0;
    *ch = PC_PAY_JSAPI;
    pc_req_body(r, &len);
    if (len == 0)
        return 0;
    cJSON *j = pc_req_json(r);
    if (!j)
        return -1;
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "channel");
    if (!c || cJSON_IsNull(c) || (cJSON_IsString(c) && !strcmp(c->valuestring, "jsapi")))
        return 0;
    if (cJSON_IsString(c) && !strcmp(c->valuestring, "native")) {
        *ch = PC_PAY_NATIVE;
        return 0;
    }
    pc_resp_invalid(r, "channel", "支付方式应为 jsapi 或 native");
    return -1;
}

/* The answer of a channel: wx.requestPayment's arguments (JSAPI) or {"code_url"} (Native). */
static void reply_payment(struct pc_req *r, const struct pc_ctx *ctx, enum pc_pay_channel ch,
                          const char *value)
{
    if (ch == PC_PAY_NATIVE) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "code_url", value);
        pc_resp_json(r, 200, o);
        return;
    }
    cJSON *o = pc_pay_request_payment(ctx->pay, value);
    if (!o) {
        pc_resp_error(r, 500, "INTERNAL", "服务器内部错误，请稍后重试", NULL);
        return;
    }
    pc_resp_json(r, 200, o);
}

/* After the prepay call on channel ch: the order is checked again, then WeChat's answer. */
static void prepay_done(struct pc_req *r, struct pc_ctx *ctx, enum pc_pay_channel ch)
{
    struct pc_order o;
    if (payable(r, ctx, &o))
        return;
    enum pc_prepay_result res;
    char value[PC_PREPAY_ANSWER_MAX + 1];
    int rc = pc_payment_prepaid(ctx, &o, ch, pc_req_upstream(r), &res, value);
    if (rc)
        pc_resp_from_err(r, ctx, rc);
    else if (res == PC_PREPAY_OK)
        reply_payment(r, ctx, ch, value);
    else if (res == PC_PREPAY_PAID)
        pc_resp_error(r, 409, "ORDER_PAID", "订单已支付，正在确认，请稍候刷新", NULL);
    else
        pay_unavailable(r);
}

static void jsapi_done(struct pc_req *r, struct pc_ctx *ctx)
{
    prepay_done(r, ctx, PC_PAY_JSAPI);
}

static void native_done(struct pc_req *r, struct pc_ctx *ctx)
{
    prepay_done(r, ctx, PC_PAY_NATIVE);
}

void h_order_pay(struct pc_req *r, struct pc_ctx *ctx)
{
    enum pc_pay_channel ch;
    if (pc_auth_user(r, ctx) || pay_channel(r, &ch))
        return;
    struct pc_order o;
    if (payable(r, ctx, &o))
        return;
    if (!ctx->pay) {
        pay_unavailable(r);
        return;
    }
    char live[PC_PREPAY_ANSWER_MAX + 1];
    int rc = pc_payment_prepay_live(ctx->db, &o, ch, live);
    if (rc == 0) { /* repeat calls reuse a live prepay id / show the same QR code */
        reply_payment(r, ctx, ch, live);
        return;
    }
    if (rc != PC_ENOTFOUND) {
        pc_resp_from_err(r, ctx, rc);
        return;
    }
    struct pc_pay_call call;
    if (pc_payment_prepay_call(ctx, &o, ch, &call)) {
        pc_resp_error(r, 500, "INTERNAL", "服务器内部错误，请稍后重试", NULL);
        return;
    }
    pc_req_call(r, &call.req, ch == PC_PAY_NATIVE ? native_done : jsapi_done);
    pc_pay_call_free(&call);
}

/* WeChat's reply shape for a refused notification. */
static void notify_fail(struct pc_req *r, int status, const char *message)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "code", "FAIL");
    cJSON_AddStringToObject(o, "message", message);
    pc_resp_json(r, status, o);
}

/* The answer WeChat expects for a verdict (API.md /pay/notify, /pay/refund-notify). */
static void reply_verdict(struct pc_req *r, enum pc_pay_verdict v, const char *unreadable,
                          const char *mismatch)
{
    switch (v) {
    case PC_PAY_ACK:
        pc_resp_raw(r, 204, "application/json", "", 0);
        break;
    case PC_PAY_UNCONFIGURED:
        notify_fail(r, 500, "payments are not configured");
        break;
    case PC_PAY_BAD_SIGNATURE:
        notify_fail(r, 401, "签名验证失败");
        break;
    case PC_PAY_UNREADABLE:
        notify_fail(r, 400, unreadable);
        break;
    case PC_PAY_MISMATCH:
        notify_fail(r, 400, mismatch);
        break;
    case PC_PAY_RETRY:
        notify_fail(r, 500, "暂时无法处理，请重试"); /* WeChat sends it again */
        break;
    }
}

static void headers_of(struct pc_req *r, struct pc_pay_notify_headers *h)
{
    *h = (struct pc_pay_notify_headers){
        pc_req_header(r, "Wechatpay-Serial"), pc_req_header(r, "Wechatpay-Timestamp"),
        pc_req_header(r, "Wechatpay-Nonce"), pc_req_header(r, "Wechatpay-Signature"),
        pc_req_header(r, "Wechatpay-Signature-Type")};
}

void pc_h_pay_notification(struct pc_req *r, struct pc_ctx *ctx,
                           enum pc_pay_verdict (*notified)(struct pc_ctx *ctx,
                                                           const struct pc_pay_notify_headers *h,
                                                           const char *body, size_t len),
                           const char *unreadable, const char *mismatch)
{
    struct pc_pay_notify_headers h;
    headers_of(r, &h);
    size_t len;
    const char *body = pc_req_body(r, &len);
    reply_verdict(r, notified(ctx, &h, body, len), unreadable, mismatch);
}

#define PAY_UNREADABLE "通知内容无法解密"
#define PAY_MISMATCH   "通知内容与订单不符"

/* A payment notification's verdict, on whichever thread it was reached (the committer's after
 * its commit, or this worker's). */
static void pay_notified(void *arg, enum pc_pay_verdict v)
{
    struct pc_req *r = arg;
    reply_verdict(r, v, PAY_UNREADABLE, PAY_MISMATCH);
    pc_req_complete(r);
}

void h_pay_notify(struct pc_req *r, struct pc_ctx *ctx)
{
    struct pc_pay_notify_headers h;
    headers_of(r, &h);
    size_t len;
    const char *body = pc_req_body(r, &len);
    pc_req_park(r); /* answered by pay_notified: here, or after the group's commit */
    pc_payment_notified_async(ctx, &h, body, len, pay_notified, r);
}
