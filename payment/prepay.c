/* payment/prepay.c — paying an order: the checks, the JSAPI or Native prepay call, WeChat's
 * answer (payment/prepay.h). */
#include "payment/prepay.h"

#include "base/err.h"
#include "base/log.h"
#include "base/timeutil.h"

#include <stdio.h>
#include <string.h>

/* WeChat keeps a prepay id or a code_url about 2 h; reuse it for 110 min. */
#define PREPAY_TTL_S (110 * 60)

int pc_payment_payable(struct pc_db *db, const struct pc_user_auth *u, const char *order_no,
                       enum pc_payable *out, struct pc_order *o)
{
    int rc = pc_order_get_own(db, u, order_no, o);
    *out = rc == PC_ENOTFOUND                 ? PC_PAYABLE_NOT_FOUND
           : rc                               ? PC_PAYABLE_OK
           : strcmp(o->status, "unpaid") != 0 ? PC_PAYABLE_STATE
           : o->pay_overdue                   ? PC_PAYABLE_OVERDUE
                                              : PC_PAYABLE_OK;
    return rc == PC_ENOTFOUND ? 0 : rc;
}

int pc_payment_prepay_live(struct pc_db *db, const struct pc_order *o, enum pc_pay_channel ch,
                           char out[PC_PREPAY_ANSWER_MAX + 1])
{
    out[0] = '\0';
    if (ch == PC_PAY_NATIVE)
        return pc_order_native_code(db, o, out);
    if (!o->prepay_live)
        return PC_ENOTFOUND;
    snprintf(out, PC_PREPAY_ANSWER_MAX + 1, "%s", o->prepay_id);
    return 0;
}

int pc_payment_prepay_call(const struct pc_ctx *ctx, const struct pc_order *o,
                           enum pc_pay_channel ch, struct pc_pay_call *call)
{
    int64_t deadline = 0, now = pc_time_now_ms() / 1000;
    if (!o->pay_deadline[0] || pc_time_parse_db(o->pay_deadline, &deadline) || deadline <= now + 60)
        deadline = now + 1800;
    int rc =
        ch == PC_PAY_NATIVE
            ? pc_pay_call_native(ctx->pay, o->order_no, o->amount_fen, deadline, call)
            : pc_pay_call_jsapi(ctx->pay, o->order_no, o->amount_fen, o->openid, deadline, call);
    if (rc)
        pc_pay_call_free(call);
    return rc ? PC_ECRYPTO : 0;
}

/* The answer's usable value: a prepay_id shorter than 65, or a weixin:// code_url that fits. */
static const char *answer_value(const cJSON *j, enum pc_pay_channel ch)
{
    const cJSON *v =
        cJSON_GetObjectItemCaseSensitive(j, ch == PC_PAY_NATIVE ? "code_url" : "prepay_id");
    if (!cJSON_IsString(v))
        return NULL;
    size_t len = strlen(v->valuestring);
    if (ch == PC_PAY_NATIVE)
        return len <= PC_ORDER_CODE_URL_MAX && !strncmp(v->valuestring, "weixin://", 9)
                   ? v->valuestring
                   : NULL;
    return len < 65 ? v->valuestring : NULL;
}

int pc_payment_prepaid(struct pc_ctx *ctx, const struct pc_order *o, enum pc_pay_channel ch,
                       const struct pc_out_resp *resp, enum pc_prepay_result *res,
                       char out[PC_PREPAY_ANSWER_MAX + 1])
{
    *res = PC_PREPAY_UNAVAILABLE;
    out[0] = '\0';
    const char *channel = ch == PC_PAY_NATIVE ? "native" : "jsapi";
    if (resp->err || (resp->status >= 200 && resp->status < 300 &&
                      pc_pay_verify_response(ctx->pay, resp) != 0)) {
        pc_log(PC_LOG_WARN, "prepay failed", PC_LS("order_no", o->order_no),
               PC_LS("channel", channel), PC_LI("http_status", resp->status));
        return 0;
    }
    cJSON *j = cJSON_ParseWithLength(resp->body ? resp->body : "", resp->len);
    const char *val = resp->status == 200 ? answer_value(j, ch) : NULL;
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(j, "code");
    int rc = 0;
    if (val) {
        rc = ch == PC_PAY_NATIVE ? pc_order_set_native_code(ctx->db, o, val, PREPAY_TTL_S)
                                 : pc_order_set_prepay(ctx->db, o, val, PREPAY_TTL_S);
        snprintf(out, PC_PREPAY_ANSWER_MAX + 1, "%s", val);
        *res = PC_PREPAY_OK;
    } else if (cJSON_IsString(code) && !strcmp(code->valuestring, "ORDERPAID")) {
        /* Paid at WeChat: the notification (or the sweeper's query) will move the order. */
        pc_ctx_wake_jobs(ctx);
        *res = PC_PREPAY_PAID;
    } else {
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(j, "message");
        pc_log(PC_LOG_WARN, "prepay refused", PC_LS("order_no", o->order_no),
               PC_LS("channel", channel), PC_LI("http_status", resp->status),
               PC_LS("code", cJSON_IsString(code) ? code->valuestring : ""),
               PC_LS("message", cJSON_IsString(msg) ? msg->valuestring : ""));
    }
    cJSON_Delete(j);
    return rc;
}
