/* store/refunds.c — SQL for refunds. */
#include "store/store.h"

#include "base/err.h"

#include <string.h>

#define REFUND_COLS                                                                                \
    "id, order_id, out_refund_no, COALESCE(refund_id, ''), amount_fen, reason, status, "           \
    "created_at FROM refunds "
static const char SQL_OPEN[] =
    "SELECT " REFUND_COLS "WHERE order_id = ? AND status IN ('requested', 'processing') "
    "ORDER BY id DESC LIMIT 1";
static const char SQL_GET[] = "SELECT " REFUND_COLS "WHERE out_refund_no = ?";
static const char SQL_GET_LOCK[] = "SELECT " REFUND_COLS "WHERE out_refund_no = ? FOR UPDATE";
static const char SQL_COUNT[] = "SELECT COUNT(*) FROM refunds WHERE order_id = ?";
static const char SQL_INSERT[] =
    "INSERT INTO refunds (order_id, out_refund_no, amount_fen, reason, requested_by) "
    "VALUES (?, ?, ?, ?, ?)";
static const char SQL_SET[] =
    "UPDATE refunds SET status = ?, refund_id = COALESCE(?, refund_id), "
    "success_time = COALESCE(?, success_time), updated_at = UTC_TIMESTAMP(3) "
    "WHERE out_refund_no = ?";
static const char SQL_TOTAL[] =
    "SELECT COALESCE(SUM(amount_fen), 0) FROM refunds WHERE order_id = ? AND status = 'success'";
static const char SQL_ORDER_STATUS[] =
    "UPDATE orders SET status = ?, version = version + 1, updated_at = UTC_TIMESTAMP(3) "
    "WHERE id = ?";

static int one(struct pc_db *db, const char *sql, struct pc_db_arg arg, struct pc_store_refund *out)
{
    struct pc_db_res *res = NULL;
    int rc = pc_db_query(db, sql, &arg, 1, &res);
    if (rc)
        return rc;
    rc = pc_db_res_rows(res) ? 0 : PC_ENOTFOUND;
    if (rc == 0) {
        memset(out, 0, sizeof *out);
        out->id = pc_db_res_i64(res, 0, 0);
        out->order_id = pc_db_res_i64(res, 0, 1);
        pc_db_res_copy(res, 0, 2, out->out_refund_no, sizeof out->out_refund_no);
        pc_db_res_copy(res, 0, 3, out->refund_id, sizeof out->refund_id);
        out->amount_fen = pc_db_res_i64(res, 0, 4);
        pc_db_res_copy(res, 0, 5, out->reason, sizeof out->reason);
        pc_db_res_copy(res, 0, 6, out->status, sizeof out->status);
        pc_db_res_copy(res, 0, 7, out->created_at, sizeof out->created_at);
    }
    pc_db_res_free(res);
    return rc;
}

int pc_store_refund_open(struct pc_db *db, int64_t order_id, struct pc_store_refund *out)
{
    return one(db, SQL_OPEN, pc_db_i64(order_id), out);
}

int pc_store_refund_get(struct pc_db *db, const char *out_refund_no, bool for_update,
                        struct pc_store_refund *out)
{
    return one(db, for_update ? SQL_GET_LOCK : SQL_GET, pc_db_str(out_refund_no), out);
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
    return single_int(db, SQL_COUNT, order_id, n);
}

int pc_store_refunded_total(struct pc_db *db, int64_t order_id, int64_t *fen)
{
    return single_int(db, SQL_TOTAL, order_id, fen);
}

int pc_store_refund_insert(struct pc_db *db, int64_t order_id, const char *out_refund_no,
                           int64_t amount_fen, const char *reason, int64_t staff_id)
{
    return pc_db_exec(db, SQL_INSERT,
                      PC_DB_ARGS(pc_db_i64(order_id), pc_db_str(out_refund_no),
                                 pc_db_i64(amount_fen), pc_db_str(reason), pc_db_i64(staff_id)),
                      NULL, NULL);
}

int pc_store_refund_set(struct pc_db *db, const char *out_refund_no, const char *status,
                        const char *refund_id, const char *success_time)
{
    return pc_db_exec(db, SQL_SET,
                      PC_DB_ARGS(pc_db_str(status), pc_db_str(refund_id), pc_db_str(success_time),
                                 pc_db_str(out_refund_no)),
                      NULL, NULL);
}

int pc_store_order_set_status(struct pc_db *db, int64_t order_id, const char *status)
{
    return pc_db_exec(db, SQL_ORDER_STATUS, PC_DB_ARGS(pc_db_str(status), pc_db_i64(order_id)),
                      NULL, NULL);
}
