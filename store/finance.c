/* store/finance.c — SQL for finance views (payments with their order, task and school) and
 * reconciliations (store/finance.h). */
#include "store/finance.h"

#include "base/alloc.h"
#include "base/err.h"
#include "store/scope.h"

#include <stdio.h>
#include <string.h>

static const char SQL_PAYMENTS[] =
    "SELECT p.id, p.out_trade_no, p.transaction_id, p.amount_fen, p.success_time, p.source, "
    "p.disposition, o.status, o.task_id, t.name, s.id, s.code, s.name, COALESCE(o.college, ''), "
    "COALESCE(o.class_name, ''), o.student_no, o.student_name, "
    "(SELECT COALESCE(SUM(r.amount_fen), 0) FROM refunds r WHERE r.order_id = o.id AND "
    "r.status = 'success') "
    "FROM payments p JOIN orders o ON o.id = p.order_id JOIN tasks t ON t.id = o.task_id "
    "JOIN schools s ON s.id = o.school_id "
    "WHERE p.success_time >= ? AND p.success_time < ? AND " PC_SCOPE_SQL(
        "o.school_id", "o.task_id") " AND (? = 0 OR o.school_id = ?) AND (? = 0 OR o.task_id = ?) "
                                    "AND p.id > ? ORDER BY p.id "
                                    "LIMIT ?";

static void payment_row(const struct pc_db_res *res, size_t r, void *out)
{
    struct pc_finance_payment *p = out;
    p->id = pc_db_res_i64(res, r, 0);
    pc_db_res_copy(res, r, 1, p->out_trade_no, sizeof p->out_trade_no);
    pc_db_res_copy(res, r, 2, p->transaction_id, sizeof p->transaction_id);
    p->amount_fen = pc_db_res_i64(res, r, 3);
    pc_db_res_copy(res, r, 4, p->success_time, sizeof p->success_time);
    pc_db_res_copy(res, r, 5, p->source, sizeof p->source);
    pc_db_res_copy(res, r, 6, p->disposition, sizeof p->disposition);
    pc_db_res_copy(res, r, 7, p->order_status, sizeof p->order_status);
    p->task_id = pc_db_res_i64(res, r, 8);
    pc_db_res_copy(res, r, 9, p->task_name, sizeof p->task_name);
    p->school_id = pc_db_res_i64(res, r, 10);
    pc_db_res_copy(res, r, 11, p->school_code, sizeof p->school_code);
    pc_db_res_copy(res, r, 12, p->school_name, sizeof p->school_name);
    pc_db_res_copy(res, r, 13, p->college, sizeof p->college);
    pc_db_res_copy(res, r, 14, p->class_name, sizeof p->class_name);
    pc_db_res_copy(res, r, 15, p->student_no, sizeof p->student_no);
    pc_db_res_copy(res, r, 16, p->student_name, sizeof p->student_name);
    p->refunded_fen = pc_db_res_i64(res, r, 17);
}

int pc_store_finance_payments(struct pc_db *db, const char *from_db, const char *to_db,
                              const struct pc_scope *scope, int64_t school_id, int64_t task_id,
                              int64_t after_id, int limit, struct pc_finance_payment **out,
                              size_t *n)
{
    void *a = NULL;
    struct pc_db_arg args[PC_SCOPE_NARGS + 8], *p = args;
    *p++ = pc_db_str(from_db);
    *p++ = pc_db_str(to_db);
    p = pc_scope_args(scope, p);
    *p++ = pc_db_i64(school_id);
    *p++ = pc_db_i64(school_id);
    *p++ = pc_db_i64(task_id);
    *p++ = pc_db_i64(task_id);
    *p++ = pc_db_i64(after_id);
    *p++ = pc_db_i64(limit);
    int rc = pc_db_query_all(db, SQL_PAYMENTS, args, (size_t)(p - args), sizeof **out, payment_row,
                             &a, n);
    *out = a;
    return rc;
}

static const char SQL_RECON_REQUEST[] =
    "INSERT INTO reconciliations (bill_date, state, requested_by) VALUES (?, 'requested', ?) "
    "ON DUPLICATE KEY UPDATE state = IF(state = 'running', state, 'requested'), "
    "requested_by = VALUES(requested_by), error = NULL, updated_at = UTC_TIMESTAMP(3)";
static const char SQL_RECON_DUE[] =
    "SELECT DATE_FORMAT(bill_date, '%Y-%m-%d') FROM reconciliations WHERE state = 'requested' OR "
    "(state = 'running' AND updated_at < UTC_TIMESTAMP(3) - INTERVAL 10 MINUTE) "
    "ORDER BY bill_date LIMIT 1";
static const char SQL_RECON_SET[] =
    "UPDATE reconciliations SET state = ?, error = ?, report = COALESCE(?, report), "
    "updated_at = UTC_TIMESTAMP(3) WHERE bill_date = ?";
static const char SQL_RECON_GET[] =
    "SELECT state, COALESCE(error, ''), report FROM reconciliations WHERE bill_date = ?";
static const char SQL_RECON_EXISTS[] = "SELECT COUNT(*) FROM reconciliations WHERE bill_date = ?";

int pc_store_recon_request(struct pc_db *db, const char *bill_date, int64_t staff_id)
{
    return pc_db_exec(
        db, SQL_RECON_REQUEST,
        PC_DB_ARGS(pc_db_str(bill_date), staff_id ? pc_db_i64(staff_id) : pc_db_null()), NULL,
        NULL);
}

static void date_row(const struct pc_db_res *res, size_t r, void *out)
{
    pc_db_res_copy(res, r, 0, out, 11);
}

int pc_store_recon_due(struct pc_db *db, char bill_date[11])
{
    return pc_db_query_one(db, SQL_RECON_DUE, PC_DB_NOARGS, date_row, bill_date);
}

int pc_store_recon_exists(struct pc_db *db, const char *bill_date, bool *exists)
{
    struct pc_db_res *res = NULL;
    int rc = pc_db_query(db, SQL_RECON_EXISTS, PC_DB_ARGS(pc_db_str(bill_date)), &res);
    if (rc == 0)
        *exists = pc_db_res_i64(res, 0, 0) > 0;
    pc_db_res_free(res);
    return rc;
}

int pc_store_recon_set(struct pc_db *db, const char *bill_date, const char *state,
                       const char *error, const char *report_json)
{
    return pc_db_exec(db, SQL_RECON_SET,
                      PC_DB_ARGS(pc_db_str(state), pc_db_str(error), pc_db_str(report_json),
                                 pc_db_str(bill_date)),
                      NULL, NULL);
}

struct recon {
    char state[12], error[501];
    char *report;
};

static void recon_row(const struct pc_db_res *res, size_t r, void *out)
{
    struct recon *c = out;
    pc_db_res_copy(res, r, 0, c->state, sizeof c->state);
    pc_db_res_copy(res, r, 1, c->error, sizeof c->error);
    const char *rep = pc_db_res_str(res, r, 2);
    c->report = rep ? pc_xstrdup(rep) : NULL;
}

int pc_store_recon_get(struct pc_db *db, const char *bill_date, char state[12], char error[501],
                       char **report_json)
{
    struct recon r = {.report = NULL};
    int rc = pc_db_query_one(db, SQL_RECON_GET, PC_DB_ARGS(pc_db_str(bill_date)), recon_row, &r);
    if (rc == 0) {
        snprintf(state, 12, "%s", r.state);
        snprintf(error, 501, "%s", r.error);
    }
    *report_json = r.report;
    return rc;
}
