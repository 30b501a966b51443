/* payment/notification.c — WeChat Pay's notifications from the raw request to the applied
 * rows (payment/notification.h). */
#include "payment/notification.h"

#include "base/err.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "payment/apply.h"
#include "payment/refund.h"

#include <string.h>

/* Verifies and decrypts: PC_PAY_ACK with *env and *res (the caller deletes both), or why
 * not. */
static enum pc_pay_verdict open_notification(struct pc_ctx *ctx,
                                             const struct pc_pay_notify_headers *h,
                                             const char *body, size_t len, cJSON **env, cJSON **res)
{
    *env = *res = NULL;
    if (!ctx->pay)
        return PC_PAY_UNCONFIGURED;
    int rc = pc_pay_open_notification(ctx->pay, h, body, len, pc_time_now_ms() / 1000, env, res);
    if (rc == PC_EAUTH) {
        pc_log(PC_LOG_WARN, "notification refused: signature or timestamp",
               PC_LS("serial", h->serial ? h->serial : ""));
        return PC_PAY_BAD_SIGNATURE;
    }
    return rc ? PC_PAY_UNREADABLE : PC_PAY_ACK;
}

enum pc_pay_verdict pc_payment_notified(struct pc_ctx *ctx, const struct pc_pay_notify_headers *h,
                                        const char *body, size_t len)
{
    cJSON *env, *tx;
    enum pc_pay_verdict v = open_notification(ctx, h, body, len, &env, &tx);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(env, "id");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(env, "event_type");
    if (v == PC_PAY_ACK &&
        (!cJSON_IsString(id) || strlen(id->valuestring) > 64 || !cJSON_IsString(type)))
        v = PC_PAY_MISMATCH;
    if (v == PC_PAY_ACK && strcmp(type->valuestring, "TRANSACTION.SUCCESS") == 0) {
        enum pc_apply_result res = PC_APPLY_INCONSISTENT;
        int rc = pc_payment_apply(ctx->db, ctx->cfg, id->valuestring, type->valuestring, tx,
                                  "notify", &res);
        v = rc ? PC_PAY_RETRY : res == PC_APPLY_INCONSISTENT ? PC_PAY_MISMATCH : PC_PAY_ACK;
    } /* any other event is acknowledged: nothing to do */
    cJSON_Delete(env);
    cJSON_Delete(tx);
    return v;
}

enum pc_pay_verdict pc_refund_notified(struct pc_ctx *ctx, const struct pc_pay_notify_headers *h,
                                       const char *body, size_t len)
{
    cJSON *env, *res;
    enum pc_pay_verdict v = open_notification(ctx, h, body, len, &env, &res);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(env, "id");
    if (v == PC_PAY_ACK && !cJSON_IsString(id))
        v = PC_PAY_UNREADABLE;
    if (v == PC_PAY_ACK) {
        bool applied = false;
        int rc = pc_refund_apply(ctx->db, id->valuestring, res, &applied);
        v = rc == PC_ECONFLICT ? PC_PAY_MISMATCH : rc ? PC_PAY_RETRY : PC_PAY_ACK;
    }
    cJSON_Delete(env);
    cJSON_Delete(res);
    return v;
}
