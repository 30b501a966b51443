/* store/payments.c — SQL for notification ids, payments and refunds (store/payments.h). */
#include "store/payments.h"

#include "base/alloc.h"
#include "base/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char SQL_NOTIFY_INSERT[] =
    "INSERT INTO pay_notifications (notify_id, event_type, out_trade_no, result) "
    "VALUES (?, ?, ?, ?)";
static const char SQL_PAYMENT_INSERT[] =
    "INSERT INTO payments (order_id, out_trade_no, transaction_id, amount_fen, payer_total_fen, "
    "payer_openid, trade_state, success_time, source, disposition, raw) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char SQL_NOTIFY_KNOWN[] =
    "SELECT notify_id FROM pay_notifications WHERE notify_id IN (" PC_DB_IN_32 ")";
static const char SQL_PAYMENT_BY_TX[] =
    "SELECT p.amount_fen, o.order_no, o.school_id, o.task_id FROM payments p JOIN orders o ON "
    "o.id = p.order_id WHERE p.transaction_id = ?";

int pc_store_notification_insert(struct pc_db *db, const char *notify_id, const char *event_type,
                                 const char *out_trade_no, const char *result)
{
    return pc_db_exec(db, SQL_NOTIFY_INSERT,
                      PC_DB_ARGS(pc_db_str(notify_id), pc_db_str(event_type),
                                 pc_db_str(out_trade_no), pc_db_str(result)),
                      NULL, NULL);
}

/* Which of keys (up to PC_DB_IN_MAX) the IN-list statement sql returns: known[i]. */
static int known_keys(struct pc_db *db, const char *sql, const char *const *keys, size_t n,
                      bool *known)
{
    struct pc_db_arg args[PC_DB_IN_MAX];
    if (n > PC_DB_IN_MAX)
        return PC_EINVAL;
    for (size_t i = 0; i < PC_DB_IN_MAX; i++)
        args[i] = pc_db_str(i < n ? keys[i] : ""); /* no row has an empty key */
    struct pc_db_res *res = NULL;
    int rc = pc_db_query(db, sql, args, PC_DB_IN_MAX, &res);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        known[i] = false;
        for (size_t r = 0; r < pc_db_res_rows(res) && !known[i]; r++)
            known[i] = strcmp(pc_db_res_str(res, r, 0), keys[i]) == 0;
    }
    pc_db_res_free(res);
    return 0;
}

int pc_store_notifications_known(struct pc_db *db, const char *const *notify_ids, size_t n,
                                 bool *known)
{
    return known_keys(db, SQL_NOTIFY_KNOWN, notify_ids, n, known);
}

int pc_store_notification_insert_many(struct pc_db *db, const char *const *notify_ids,
                                      const char *event_type, const char *const *out_trade_nos,
                                      const char *result, size_t n)
{
    struct pc_db_arg *args = pc_xcalloc(n ? n * 4 : 1, sizeof *args);
    for (size_t i = 0; i < n; i++) {
        args[i * 4] = pc_db_str(notify_ids[i]);
        args[i * 4 + 1] = pc_db_str(event_type);
        args[i * 4 + 2] = pc_db_str(out_trade_nos[i]);
        args[i * 4 + 3] = pc_db_str(result);
    }
    int rc = pc_db_exec_bulk(db, SQL_NOTIFY_INSERT, args, 4, n, NULL);
    free(args);
    return rc;
}

/* The 11 values of a payment row, in SQL_PAYMENT_INSERT's order, into a. */
static void payment_args(const struct pc_store_payment *p, struct pc_db_arg *a)
{
    a[0] = pc_db_i64(p->order_id);
    a[1] = pc_db_str(p->out_trade_no);
    a[2] = pc_db_str(p->transaction_id);
    a[3] = pc_db_i64(p->amount_fen);
    a[4] = pc_db_i64(p->payer_total_fen);
    a[5] = pc_db_str(p->payer_openid);
    a[6] = pc_db_str(p->trade_state);
    a[7] = pc_db_str(p->success_time);
    a[8] = pc_db_str(p->source);
    a[9] = pc_db_str(p->disposition);
    a[10] = pc_db_str(p->raw);
}

int pc_store_payment_insert_many(struct pc_db *db, const struct pc_store_payment *ps, size_t n)
{
    struct pc_db_arg *args = pc_xcalloc(n ? n * 11 : 1, sizeof *args);
    for (size_t i = 0; i < n; i++)
        payment_args(&ps[i], &args[i * 11]);
    int rc = pc_db_exec_bulk(db, SQL_PAYMENT_INSERT, args, 11, n, NULL);
    free(args);
    return rc;
}

int pc_store_payment_insert(struct pc_db *db, const struct pc_store_payment *p)
{
    struct pc_db_arg args[11];
    payment_args(p, args);
    return pc_db_exec(db, SQL_PAYMENT_INSERT, args, 11, NULL, NULL);
}

struct payment_ref {
    int64_t amount_fen, school_id, task_id;
    char order_no[33];
};

static void payment_ref_row(const struct pc_db_res *res, size_t r, void *out)
{
    struct payment_ref *p = out;
    p->amount_fen = pc_db_res_i64(res, r, 0);
    pc_db_res_copy(res, r, 1, p->order_no, sizeof p->order_no);
    p->school_id = pc_db_res_i64(res, r, 2);
    p->task_id = pc_db_res_i64(res, r, 3);
}

int pc_store_payment_by_tx(struct pc_db *db, const char *transaction_id, int64_t *amount_fen,
                           char order_no[33], int64_t *school_id, int64_t *task_id)
{
    struct payment_ref p;
    int rc = pc_db_query_one(db, SQL_PAYMENT_BY_TX, PC_DB_ARGS(pc_db_str(transaction_id)),
                             payment_ref_row, &p);
    if (rc == 0) {
        *amount_fen = p.amount_fen;
        snprintf(order_no, 33, "%s", p.order_no);
        *school_id = p.school_id;
        *task_id = p.task_id;
    }
    return rc;
}

/* ---- refunds ---- */

#define REFUND_COLS                                                                                \
    "id, order_id, out_refund_no, COALESCE(refund_id, ''), amount_fen, reason, status, "           \
    "created_at, (SELECT o.school_id FROM orders o WHERE o.id = refunds.order_id) FROM refunds "
static const char SQL_REFUND_OPEN[] =
    "SELECT " REFUND_COLS "WHERE order_id = ? AND status IN ('requested', 'processing', "
    "'abnormal') "
    "ORDER BY id DESC LIMIT 1";
static const char SQL_REFUND_GET[] = "SELECT " REFUND_COLS "WHERE out_refund_no = ?";
static const char SQL_REFUND_GET_LOCK[] =
    "SELECT " REFUND_COLS "WHERE out_refund_no = ? FOR UPDATE";
static const char SQL_REFUND_COUNT[] = "SELECT COUNT(*) FROM refunds WHERE order_id = ?";
static const char SQL_REFUND_INSERT[] =
    "INSERT INTO refunds (order_id, out_refund_no, amount_fen, reason, requested_by) "
    "VALUES (?, ?, ?, ?, ?)";
static const char SQL_REFUND_SET[] =
    "UPDATE refunds SET status = ?, refund_id = COALESCE(?, refund_id), "
    "success_time = COALESCE(?, success_time), updated_at = UTC_TIMESTAMP(3) "
    "WHERE out_refund_no = ?";
static const char SQL_REFUND_TOTAL[] =
    "SELECT COALESCE(SUM(amount_fen), 0) FROM refunds WHERE order_id = ? AND status = 'success'";

static void refund_row(const struct pc_db_res *res, size_t r, void *out)
{
    struct pc_refund *f = out;
    memset(f, 0, sizeof *f);
    f->id = pc_db_res_i64(res, r, 0);
    f->order_id = pc_db_res_i64(res, r, 1);
    pc_db_res_copy(res, r, 2, f->out_refund_no, sizeof f->out_refund_no);
    pc_db_res_copy(res, r, 3, f->refund_id, sizeof f->refund_id);
    f->amount_fen = pc_db_res_i64(res, r, 4);
    pc_db_res_copy(res, r, 5, f->reason, sizeof f->reason);
    pc_db_res_copy(res, r, 6, f->status, sizeof f->status);
    pc_db_res_copy(res, r, 7, f->created_at, sizeof f->created_at);
    f->school_id = pc_db_res_i64(res, r, 8);
}

int pc_store_refund_open(struct pc_db *db, int64_t order_id, struct pc_refund *out)
{
    return pc_db_query_one(db, SQL_REFUND_OPEN, PC_DB_ARGS(pc_db_i64(order_id)), refund_row, out);
}

int pc_store_refund_get(struct pc_db *db, const char *out_refund_no, bool for_update,
                        struct pc_refund *out)
{
    return pc_db_query_one(db, for_update ? SQL_REFUND_GET_LOCK : SQL_REFUND_GET,
                           PC_DB_ARGS(pc_db_str(out_refund_no)), refund_row, out);
}

static int single_int(struct pc_db *db, const char *sql, int64_t id, int64_t *v)
{
    struct pc_db_res *res = NULL;
    int rc = pc_db_query(db, sql, PC_DB_ARGS(pc_db_i64(id)), &res);
    if (rc == 0)
        *v = pc_db_res_i64(res, 0, 0);
    pc_db_res_free(res);
    return rc;
}

int pc_store_refund_count(struct pc_db *db, int64_t order_id, int64_t *n)
{
    return single_int(db, SQL_REFUND_COUNT, order_id, n);
}

int pc_store_refunded_total(struct pc_db *db, int64_t order_id, int64_t *fen)
{
    return single_int(db, SQL_REFUND_TOTAL, order_id, fen);
}

int pc_store_refund_insert(struct pc_db *db, int64_t order_id, const char *out_refund_no,
                           int64_t amount_fen, const char *reason, int64_t staff_id)
{
    return pc_db_exec(db, SQL_REFUND_INSERT,
                      PC_DB_ARGS(pc_db_i64(order_id), pc_db_str(out_refund_no),
                                 pc_db_i64(amount_fen), pc_db_str(reason), pc_db_i64(staff_id)),
                      NULL, NULL);
}

int pc_store_refund_set(struct pc_db *db, const char *out_refund_no, const char *status,
                        const char *refund_id, const char *success_time)
{
    return pc_db_exec(db, SQL_REFUND_SET,
                      PC_DB_ARGS(pc_db_str(status), pc_db_str(refund_id), pc_db_str(success_time),
                                 pc_db_str(out_refund_no)),
                      NULL, NULL);
}
