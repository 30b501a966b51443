/* handlers/pay_native.c — POST /orders/{order_no}/pay with {"channel":"native"}: WeChat Pay
 * Native for the PC page (POST /v3/pay/transactions/native → {"code_url"}, shown as a QR
 * code). The order then follows the same notification / sweeper path as a JSAPI payment. */
#include "handlers/handlers.h"

#include "base/err.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "payment/wxpay.h"
#include "store/native_pay.h"
#include "store/store.h"

#include <string.h>

#define NATIVE_TTL_S (110 * 60) /* WeChat keeps a code_url about 2 h; reuse it for 110 min */

int pc_h_pay_channel(struct pc_req *r, bool *native)
{
    size_t len = 0;
    *native = false;
    pc_req_body(r, &len);
    if (len == 0)
        return 0;
    cJSON *j = pc_req_json(r);
    if (!j)
        return -1;
    const cJSON *ch = cJSON_GetObjectItemCaseSensitive(j, "channel");
    if (!ch || cJSON_IsNull(ch) || (cJSON_IsString(ch) && !strcmp(ch->valuestring, "jsapi")))
        return 0;
    if (cJSON_IsString(ch) && !strcmp(ch->valuestring, "native")) {
        *native = true;
        return 0;
    }
    pc_resp_invalid(r, "channel", "支付方式应为 jsapi 或 native");
    return -1;
}

static void reply_code_url(struct pc_req *r, const char *code_url)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "code_url", code_url);
    pc_resp_json(r, 200, o);
}

static void native_done(struct pc_req *r, struct pc_ctx *ctx)
{
    struct pc_order o;
    cJSON *j = NULL;
    const char *url = pc_h_prepay_answer(r, ctx, "code_url", PC_NATIVE_CODE_URL_MAX + 1, &o, &j);
    if (url && strncmp(url, "weixin://", 9) != 0) {
        pc_log(PC_LOG_WARN, "native prepay: not a weixin:// code_url",
               PC_LS("order_no", o.order_no));
        pc_h_pay_unavailable(r);
    } else if (url) {
        int rc = pc_store_native_code_set(ctx->db, o.id, url, NATIVE_TTL_S);
        if (rc)
            pc_resp_from_err(r, ctx, rc);
        else
            reply_code_url(r, url);
    }
    cJSON_Delete(j);
}

void h_order_pay_native(struct pc_req *r, struct pc_ctx *ctx)
{
    struct pc_order o;
    if (pc_h_order_payable(r, ctx, &o))
        return;
    if (!ctx->pay) {
        pc_h_pay_unavailable(r);
        return;
    }
    char live[PC_NATIVE_CODE_URL_MAX + 1];
    int rc = pc_store_native_code_live(ctx->db, o.id, live);
    if (rc == 0) { /* repeat calls show the same QR code */
        reply_code_url(r, live);
        return;
    }
    if (rc != PC_ENOTFOUND) {
        pc_resp_from_err(r, ctx, rc);
        return;
    }
    int64_t deadline = 0, now = pc_time_now_ms() / 1000;
    if (!o.pay_deadline[0] || pc_time_parse_db(o.pay_deadline, &deadline) || deadline <= now + 60)
        deadline = now + 1800;
    struct pc_pay_call call;
    if (pc_pay_call_native(ctx->pay, o.order_no, o.amount_fen, deadline, &call)) {
        pc_pay_call_free(&call);
        pc_resp_error(r, 500, "INTERNAL", "服务器内部错误，请稍后重试", NULL);
        return;
    }
    pc_req_call(r, &call.req, native_done);
    pc_pay_call_free(&call);
}
