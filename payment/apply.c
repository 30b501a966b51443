/* payment/apply.c — a successful payment applied once (rules); SQL in store/payments.c. */
#include "payment/apply.h"

#include "base/err.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "server/config.h"
#include "store/store.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* An integer JSON number, or -1. */
static int64_t integer(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) && v->valuedouble == (double)(int64_t)v->valuedouble
               ? (int64_t)v->valuedouble
               : -1;
}

struct apply_args {
    const struct pc_config *cfg;
    const char *notify_id, *event_type, *source;
    const cJSON *tx;
    enum pc_apply_result *result;
};

static int apply_tx(struct pc_db *db, void *arg)
{
    struct apply_args *a = arg;
    const cJSON *tx = a->tx;
    const char *out_trade_no = str(tx, "out_trade_no"), *transaction_id = str(tx, "transaction_id");
    const char *state = str(tx, "trade_state");
    const cJSON *amount = cJSON_GetObjectItemCaseSensitive(tx, "amount");
    const cJSON *payer = cJSON_GetObjectItemCaseSensitive(tx, "payer");
    const char *openid = str(payer, "openid");
    int64_t total = integer(amount, "total"), payer_total = integer(amount, "payer_total");
    if (a->notify_id) {
        int rc =
            pc_store_notification_insert(db, a->notify_id, a->event_type, out_trade_no, "received");
        if (rc == PC_EEXIST) {
            *a->result = PC_APPLY_DUPLICATE;
            return 0;
        }
        if (rc)
            return rc;
    }
    if (!state || strcmp(state, "SUCCESS") != 0) {
        *a->result = PC_APPLY_NOT_SUCCESS;
        return 0;
    }
    struct pc_order o;
    int rc = out_trade_no && strlen(out_trade_no) < 33
                 ? pc_store_order_get_locked(db, out_trade_no, &o)
                 : PC_ENOTFOUND;
    if (rc && rc != PC_ENOTFOUND)
        return rc;
    const char *appid = str(tx, "appid"), *mchid = str(tx, "mchid");
    /* A Native (QR code) payment is made by whoever scans it: its payer is not the student's
     * mini-program openid, so only JSAPI payments are held to it. */
    const char *trade_type = str(tx, "trade_type");
    bool native = trade_type && !strcmp(trade_type, "NATIVE");
    if (rc == PC_ENOTFOUND || !transaction_id || !appid || strcmp(appid, a->cfg->wx_appid) ||
        !mchid || strcmp(mchid, a->cfg->pay_mchid) || total != o.amount_fen || !openid ||
        (!native && strcmp(openid, o.openid))) {
        pc_log(PC_LOG_WARN, "payment does not match the order", PC_LS("out_trade_no", out_trade_no),
               PC_LS("source", a->source));
        *a->result = PC_APPLY_INCONSISTENT;
        return PC_ECONFLICT; /* roll back the notification id too: nothing is written */
    }
    char paid_at[32] = "";
    int64_t t;
    const char *st = str(tx, "success_time");
    if (st && pc_time_parse_rfc3339(st, &t) == 0)
        pc_time_format_db(t, paid_at, sizeof paid_at);
    else
        pc_time_format_db(pc_time_now_ms() / 1000, paid_at, sizeof paid_at);

    /* Where the money goes: a waiting order; a closed one reopened while its task's window is
     * open; otherwise it is kept for a refund decision (duplicate payments are not refunded
     * automatically). */
    const char *to = NULL;
    if (!strcmp(o.status, "unpaid")) {
        to = "pending_review";
    } else if (!strcmp(o.status, "closed")) {
        struct pc_task task;
        rc = pc_store_task_get(db, o.task_id, false, &task);
        if (rc)
            return rc;
        if (!task.closed && !task.not_open_yet)
            to = "pending_review";
    }
    char *raw = cJSON_PrintUnformatted(tx);
    struct pc_store_payment p = {.order_id = o.id,
                                 .out_trade_no = out_trade_no,
                                 .transaction_id = transaction_id,
                                 .amount_fen = total,
                                 .payer_total_fen = payer_total >= 0 ? payer_total : total,
                                 .payer_openid = openid,
                                 .trade_state = state,
                                 .success_time = paid_at,
                                 .source = a->source,
                                 .disposition = to ? "applied" : "refund_due",
                                 .raw = raw};
    rc = pc_store_payment_insert(db, &p);
    free(raw);
    if (rc == PC_EEXIST) { /* this transaction was applied before (another path) */
        *a->result = PC_APPLY_DUPLICATE;
        return 0;
    }
    if (rc)
        return rc;
    if (to) {
        rc = pc_store_order_set_paid(db, o.id, to, transaction_id, paid_at);
        if (rc == PC_EEXIST) { /* reopening would make a second active order */
            to = NULL;
            rc = 0;
        } else if (rc) {
            return rc;
        }
    }
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "transaction_id", transaction_id);
    cJSON_AddStringToObject(d, "order_no", o.order_no);
    cJSON_AddNumberToObject(d, "amount_fen", (double)total);
    cJSON_AddStringToObject(d, "from", o.status);
    cJSON_AddStringToObject(d, "to", to ? to : o.status);
    cJSON_AddStringToObject(d, "source", a->source);
    struct pc_audit au = {.actor_type = "wechat",
                          .action = to ? "order.paid" : "payment.refund_due",
                          .target_type = "order",
                          .target_id = o.order_no,
                          .details = d};
    rc = pc_store_audit_insert(db, &au);
    if (rc == 0)
        rc =
            pc_store_outbox_insert(db, to ? "order.paid" : "payment.refund_due", transaction_id, d);
    cJSON_Delete(d);
    *a->result = to ? PC_APPLY_APPLIED : PC_APPLY_REFUND_DUE;
    return rc;
}

int pc_payment_apply(struct pc_db *db, const struct pc_config *cfg, const char *notify_id,
                     const char *event_type, const cJSON *tx, const char *source,
                     enum pc_apply_result *result)
{
    struct apply_args a = {cfg, notify_id, event_type, source, tx, result};
    *result = PC_APPLY_INCONSISTENT;
    int rc = pc_db_tx(db, apply_tx, &a);
    if (rc == PC_ECONFLICT && *result == PC_APPLY_INCONSISTENT)
        return 0;
    return rc;
}
