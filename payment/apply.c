/* payment/apply.c — a successful payment applied once: checked against its order, recorded,
 * and handed to orders/ for the order's change; SQL in store/payments.c. */
#include "payment/apply.h"

#include "base/err.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "config/config.h"
#include "orders/state.h"
#include "store/payments.h"

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

/* A transaction that is not this order's (or not ours): logged, nothing written. */
static int mismatch(struct apply_args *a, const char *out_trade_no)
{
    pc_log(PC_LOG_WARN, "payment does not match the order",
           PC_LS("out_trade_no", out_trade_no ? out_trade_no : ""), PC_LS("source", a->source));
    *a->result = PC_APPLY_INCONSISTENT;
    return PC_ECONFLICT; /* roll back the notification id too */
}

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
    /* The money must be ours: our app and merchant, a transaction. Whether it is the order's own
     * (its amount, its payer: any payer for a Native payment) the order decides under its row
     * lock (pc_order_paid, orders/state.h). */
    const char *appid = str(tx, "appid"), *mchid = str(tx, "mchid");
    if (!out_trade_no || !transaction_id || !appid || strcmp(appid, a->cfg->wx_appid) || !mchid ||
        strcmp(mchid, a->cfg->pay_mchid))
        return mismatch(a, out_trade_no);
    int64_t recorded_fen, school_id, task_id;
    char recorded_no[33];
    int rc = pc_store_payment_by_tx(db, transaction_id, &recorded_fen, recorded_no, &school_id,
                                    &task_id);
    if (rc == 0) { /* this transaction was applied before (another path) */
        *a->result = PC_APPLY_DUPLICATE;
        return 0;
    }
    if (rc != PC_ENOTFOUND)
        return rc;
    char paid_at[32] = "";
    int64_t t;
    const char *st = str(tx, "success_time");
    if (st && pc_time_parse_rfc3339(st, &t) == 0)
        pc_time_format_db(t, paid_at, sizeof paid_at);
    else
        pc_time_format_db(pc_time_now_ms() / 1000, paid_at, sizeof paid_at);

    /* Where the money goes (orders/state.h): to the order when it can take it; otherwise it is
     * kept for a refund decision (duplicate payments are not refunded automatically). The
     * payment row records what the order decided, in the same transaction. */
    const char *trade_type = str(tx, "trade_type");
    struct pc_order_payment p = {.transaction_id = transaction_id,
                                 .amount_fen = total,
                                 .payer_openid = openid,
                                 .native = trade_type && !strcmp(trade_type, "NATIVE"),
                                 .paid_at = paid_at,
                                 .source = a->source};
    struct pc_order o;
    enum pc_paid_outcome paid;
    rc = pc_order_paid(db, out_trade_no, &p, &paid, &o);
    if (rc == 0 && (paid == PC_PAID_NOT_FOUND || paid == PC_PAID_NOT_ITS_OWN))
        return mismatch(a, out_trade_no);
    if (rc == 0 && paid == PC_PAID_WRONG_STATE)
        rc = pc_order_refund_due(db, out_trade_no, &p, &o);
    if (rc == PC_EEXIST) /* its records exist: recorded meanwhile by another path; start over */
        return PC_ERETRY;
    if (rc)
        return rc;
    char *raw = cJSON_PrintUnformatted(tx);
    struct pc_store_payment row = {.order_id = o.id,
                                   .out_trade_no = out_trade_no,
                                   .transaction_id = transaction_id,
                                   .amount_fen = total,
                                   .payer_total_fen = payer_total >= 0 ? payer_total : total,
                                   .payer_openid = openid,
                                   .trade_state = state,
                                   .success_time = paid_at,
                                   .source = a->source,
                                   .disposition = paid == PC_PAID_OK ? "applied" : "refund_due",
                                   .raw = raw};
    rc = pc_store_payment_insert(db, &row);
    free(raw);
    if (rc == PC_EEXIST) /* recorded meanwhile by another path: start over, and see it */
        return PC_ERETRY;
    *a->result = paid == PC_PAID_OK ? PC_APPLY_APPLIED : PC_APPLY_REFUND_DUE;
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
