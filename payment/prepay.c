/* payment/prepay.c — paying an order: the checks, the JSAPI prepay call, WeChat's answer
 * (payment/prepay.h). */
#include "payment/prepay.h"

#include "base/err.h"
#include "base/log.h"
#include "base/timeutil.h"

#include <stdio.h>
#include <string.h>

#define PREPAY_TTL_S (110 * 60) /* WeChat keeps a prepay id about 2 h; reuse it for 110 min */

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

int pc_payment_prepay_call(const struct pc_ctx *ctx, const struct pc_order *o,
                           struct pc_pay_call *call)
{
    int64_t deadline = 0, now = pc_time_now_ms() / 1000;
    if (!o->pay_deadline[0] || pc_time_parse_db(o->pay_deadline, &deadline) || deadline <= now + 60)
        deadline = now + 1800;
    int rc = pc_pay_call_jsapi(ctx->pay, o->order_no, o->amount_fen, o->openid, deadline, call);
    if (rc)
        pc_pay_call_free(call);
    return rc ? PC_ECRYPTO : 0;
}

int pc_payment_prepaid(struct pc_ctx *ctx, const struct pc_order *o, const struct pc_out_resp *resp,
                       enum pc_prepay_result *res, char prepay_id[65])
{
    *res = PC_PREPAY_UNAVAILABLE;
    prepay_id[0] = '\0';
    if (resp->err || (resp->status >= 200 && resp->status < 300 &&
                      pc_pay_verify_response(ctx->pay, resp) != 0)) {
        pc_log(PC_LOG_WARN, "prepay failed", PC_LS("order_no", o->order_no),
               PC_LI("http_status", resp->status));
        return 0;
    }
    cJSON *j = cJSON_ParseWithLength(resp->body ? resp->body : "", resp->len);
    const cJSON *pid = cJSON_GetObjectItemCaseSensitive(j, "prepay_id");
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(j, "code");
    int rc = 0;
    if (resp->status == 200 && cJSON_IsString(pid) && strlen(pid->valuestring) < 65) {
        rc = pc_order_set_prepay(ctx->db, o, pid->valuestring, PREPAY_TTL_S);
        snprintf(prepay_id, 65, "%s", pid->valuestring);
        *res = PC_PREPAY_OK;
    } else if (cJSON_IsString(code) && !strcmp(code->valuestring, "ORDERPAID")) {
        /* Paid at WeChat: the notification (or the sweeper's query) will move the order. */
        pc_ctx_wake_jobs(ctx);
        *res = PC_PREPAY_PAID;
    } else {
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(j, "message");
        pc_log(PC_LOG_WARN, "prepay refused", PC_LS("order_no", o->order_no),
               PC_LI("http_status", resp->status),
               PC_LS("code", cJSON_IsString(code) ? code->valuestring : ""),
               PC_LS("message", cJSON_IsString(msg) ? msg->valuestring : ""));
    }
    cJSON_Delete(j);
    return rc;
}
