/* payment/notification.c — WeChat Pay's notifications from the raw request to the applied
 * rows (payment/notification.h). */
#include "payment/notification.h"

#include "base/alloc.h"
#include "base/err.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "payment/apply.h"
#include "payment/group.h"
#include "payment/refund.h"

#include <stdbool.h>
#include <stdlib.h>
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

/* The verdict of an applied payment notification. */
static enum pc_pay_verdict applied_verdict(int rc, enum pc_apply_result res)
{
    return rc ? PC_PAY_RETRY : res == PC_APPLY_INCONSISTENT ? PC_PAY_MISMATCH : PC_PAY_ACK;
}

/* Verifies and decrypts a payment notification: PC_PAY_ACK with *env and *tx (the caller
 * deletes both) and *success when it is a TRANSACTION.SUCCESS to apply; or why not. */
static enum pc_pay_verdict open_payment(struct pc_ctx *ctx, const struct pc_pay_notify_headers *h,
                                        const char *body, size_t len, cJSON **env, cJSON **tx,
                                        bool *success)
{
    enum pc_pay_verdict v = open_notification(ctx, h, body, len, env, tx);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(*env, "id");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(*env, "event_type");
    if (v == PC_PAY_ACK &&
        (!cJSON_IsString(id) || strlen(id->valuestring) > 64 || !cJSON_IsString(type)))
        v = PC_PAY_MISMATCH;
    *success = v == PC_PAY_ACK && strcmp(type->valuestring, "TRANSACTION.SUCCESS") == 0;
    return v; /* any other event is acknowledged: nothing to do */
}

/* Applies an opened TRANSACTION.SUCCESS on this thread's connection. */
static enum pc_pay_verdict apply_here(struct pc_ctx *ctx, const cJSON *env, const cJSON *tx)
{
    enum pc_apply_result res = PC_APPLY_INCONSISTENT;
    int rc = pc_payment_apply(
        ctx->db, ctx->cfg, cJSON_GetObjectItemCaseSensitive(env, "id")->valuestring,
        cJSON_GetObjectItemCaseSensitive(env, "event_type")->valuestring, tx, "notify", &res);
    return applied_verdict(rc, res);
}

enum pc_pay_verdict pc_payment_notified(struct pc_ctx *ctx, const struct pc_pay_notify_headers *h,
                                        const char *body, size_t len)
{
    cJSON *env, *tx;
    bool success;
    enum pc_pay_verdict v = open_payment(ctx, h, body, len, &env, &tx, &success);
    if (success)
        v = apply_here(ctx, env, tx);
    cJSON_Delete(env);
    cJSON_Delete(tx);
    return v;
}

/* The refund notification's event and resource agree and are ours: REFUND.SUCCESS /
 * ABNORMAL / CLOSED with the same refund_status, for our merchant. */
static bool refund_event_ours(const struct pc_pay *pay, const cJSON *env, const cJSON *res)
{
    static const char *const events[][2] = {{"REFUND.SUCCESS", "SUCCESS"},
                                            {"REFUND.ABNORMAL", "ABNORMAL"},
                                            {"REFUND.CLOSED", "CLOSED"}};
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(env, "event_type");
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(res, "refund_status");
    const cJSON *mchid = cJSON_GetObjectItemCaseSensitive(res, "mchid");
    if (!cJSON_IsString(type) || !cJSON_IsString(st) || !cJSON_IsString(mchid) ||
        strcmp(mchid->valuestring, pc_pay_mchid(pay)) != 0)
        return false;
    for (size_t i = 0; i < sizeof events / sizeof events[0]; i++)
        if (!strcmp(type->valuestring, events[i][0]))
            return !strcmp(st->valuestring, events[i][1]);
    return false;
}

struct grouped {
    pc_pay_verdict_fn done;
    void *arg;
};

static void grouped_done(void *arg, int rc, int result)
{
    struct grouped *gr = arg;
    gr->done(gr->arg, applied_verdict(rc, (enum pc_apply_result)result));
    free(gr);
}

void pc_payment_notified_async(struct pc_ctx *ctx, const struct pc_pay_notify_headers *h,
                               const char *body, size_t len, pc_pay_verdict_fn done, void *arg)
{
    cJSON *env, *tx;
    bool success;
    enum pc_pay_verdict v = open_payment(ctx, h, body, len, &env, &tx, &success);
    if (success) {
        struct grouped *gr = pc_new(struct grouped);
        *gr = (struct grouped){done, arg};
        if (pc_pay_group_queue(env, tx, grouped_done, gr))
            return; /* answered after its group's commit */
        free(gr);
        v = apply_here(ctx, env, tx);
    }
    cJSON_Delete(env);
    cJSON_Delete(tx);
    done(arg, v);
}

enum pc_pay_verdict pc_refund_notified(struct pc_ctx *ctx, const struct pc_pay_notify_headers *h,
                                       const char *body, size_t len)
{
    cJSON *env, *res;
    enum pc_pay_verdict v = open_notification(ctx, h, body, len, &env, &res);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(env, "id");
    if (v == PC_PAY_ACK && (!cJSON_IsString(id) || strlen(id->valuestring) > 64))
        v = PC_PAY_UNREADABLE;
    if (v == PC_PAY_ACK && !refund_event_ours(ctx->pay, env, res)) {
        pc_log_msg(PC_LOG_WARN,
                   "refund notification refused: not our merchant, or its event and status "
                   "disagree");
        v = PC_PAY_MISMATCH;
    }
    if (v == PC_PAY_ACK) {
        bool applied = false;
        int rc = pc_refund_apply(ctx->db, id->valuestring, res, &applied);
        v = rc == PC_ECONFLICT ? PC_PAY_MISMATCH : rc ? PC_PAY_RETRY : PC_PAY_ACK;
    }
    cJSON_Delete(env);
    cJSON_Delete(res);
    return v;
}
