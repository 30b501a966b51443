/* store/payments.c — SQL for prepay ids, payments, notification ids and the outbox. */
#include "store/store.h"

#include "base/err.h"

#include <stdlib.h>

static const char SQL_SET_PREPAY[] =
    "UPDATE orders SET prepay_id = ?, prepay_expires_at = UTC_TIMESTAMP(3) + INTERVAL ? SECOND, "
    "updated_at = UTC_TIMESTAMP(3) WHERE id = ?";
static const char SQL_SET_PAID[] =
    "UPDATE orders SET status = ?, transaction_id = ?, paid_at = ?, version = version + 1, "
    "updated_at = UTC_TIMESTAMP(3) WHERE id = ?";
static const char SQL_NOTIFY_INSERT[] =
    "INSERT INTO pay_notifications (notify_id, event_type, out_trade_no, result) "
    "VALUES (?, ?, ?, ?)";
static const char SQL_PAYMENT_INSERT[] =
    "INSERT INTO payments (order_id, out_trade_no, transaction_id, amount_fen, payer_total_fen, "
    "payer_openid, trade_state, success_time, source, disposition, raw) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char SQL_TO_SWEEP[] =
    "SELECT order_no FROM orders WHERE status = 'unpaid' AND ("
    "(prepay_id IS NOT NULL AND updated_at < UTC_TIMESTAMP(3) - INTERVAL ? SECOND) OR "
    "pay_deadline < UTC_TIMESTAMP(3)) ORDER BY updated_at LIMIT ?";
static const char SQL_CLOSE[] =
    "UPDATE orders SET status = 'closed', closed_reason = ?, version = version + 1, "
    "updated_at = UTC_TIMESTAMP(3) WHERE id = ?";
static const char SQL_OUTBOX_INSERT[] =
    "INSERT INTO outbox (kind, dedupe_key, payload) VALUES (?, ?, ?)";

int pc_store_order_set_prepay(struct pc_db *db, int64_t order_id, const char *prepay_id, int ttl_s)
{
    return pc_db_exec(db, SQL_SET_PREPAY,
                      PC_DB_ARGS(pc_db_str(prepay_id), pc_db_i64(ttl_s), pc_db_i64(order_id)), NULL,
                      NULL);
}

int pc_store_order_set_paid(struct pc_db *db, int64_t order_id, const char *status,
                            const char *transaction_id, const char *paid_at)
{
    return pc_db_exec(db, SQL_SET_PAID,
                      PC_DB_ARGS(pc_db_str(status), pc_db_str(transaction_id), pc_db_str(paid_at),
                                 pc_db_i64(order_id)),
                      NULL, NULL);
}

int pc_store_notification_insert(struct pc_db *db, const char *notify_id, const char *event_type,
                                 const char *out_trade_no, const char *result)
{
    return pc_db_exec(db, SQL_NOTIFY_INSERT,
                      PC_DB_ARGS(pc_db_str(notify_id), pc_db_str(event_type),
                                 pc_db_str(out_trade_no), pc_db_str(result)),
                      NULL, NULL);
}

int pc_store_payment_insert(struct pc_db *db, const struct pc_store_payment *p)
{
    return pc_db_exec(db, SQL_PAYMENT_INSERT,
                      PC_DB_ARGS(pc_db_i64(p->order_id), pc_db_str(p->out_trade_no),
                                 pc_db_str(p->transaction_id), pc_db_i64(p->amount_fen),
                                 pc_db_i64(p->payer_total_fen), pc_db_str(p->payer_openid),
                                 pc_db_str(p->trade_state), pc_db_str(p->success_time),
                                 pc_db_str(p->source), pc_db_str(p->disposition),
                                 pc_db_str(p->raw)),
                      NULL, NULL);
}

int pc_store_outbox_insert(struct pc_db *db, const char *kind, const char *dedupe_key,
                           const cJSON *payload)
{
    char *json = cJSON_PrintUnformatted(payload);
    int rc =
        pc_db_exec(db, SQL_OUTBOX_INSERT,
                   PC_DB_ARGS(pc_db_str(kind), pc_db_str(dedupe_key), pc_db_str(json)), NULL, NULL);
    free(json);
    return rc;
}

int pc_store_orders_to_sweep(struct pc_db *db, int min_age_s, int limit, char (*out)[33], size_t *n)
{
    struct pc_db_res *res = NULL;
    *n = 0;
    int rc =
        pc_db_query(db, SQL_TO_SWEEP, PC_DB_ARGS(pc_db_i64(min_age_s), pc_db_i64(limit)), &res);
    if (rc)
        return rc;
    for (size_t i = 0; i < pc_db_res_rows(res) && *n < (size_t)limit; i++)
        pc_db_res_copy(res, i, 0, out[(*n)++], 33);
    pc_db_res_free(res);
    return 0;
}

int pc_store_order_close(struct pc_db *db, int64_t order_id, const char *reason)
{
    return pc_db_exec(db, SQL_CLOSE, PC_DB_ARGS(pc_db_str(reason), pc_db_i64(order_id)), NULL,
                      NULL);
}
