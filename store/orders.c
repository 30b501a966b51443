/* store/orders.c — SQL for orders and their review decisions (store/orders.h). */
#include "store/orders.h"

#include "store/scope.h"

#include "base/alloc.h"
#include "base/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A field of the order's latest review (NULL when none). */
#define LAST_REVIEW(col)                                                                           \
    "(SELECT rv." col " FROM reviews rv WHERE rv.order_id = orders.id ORDER BY rv.id DESC LIMIT "  \
    "1)"
#define ORDER_COLS                                                                                 \
    "id, order_no, task_id, user_id, school_id, COALESCE(grad_year, 0), student_no, "              \
    "student_name, college, class_name, status, amount_fen, paid_at, editable_until, "             \
    "resubmissions, created_at, updated_at, "                                                      \
    "(SELECT p.created_at FROM photos p WHERE p.current_key = orders.id), pay_deadline, "          \
    "COALESCE(editable_until < UTC_TIMESTAMP(3), 0), prepay_id, "                                  \
    "COALESCE(prepay_expires_at > UTC_TIMESTAMP(3) + INTERVAL 60 SECOND, 0), "                     \
    "COALESCE(pay_deadline < UTC_TIMESTAMP(3), 0), "                                               \
    "(SELECT u.openid FROM users u WHERE u.id = orders.user_id), transaction_id, " LAST_REVIEW(    \
        "d"                                                                                        \
        "e"                                                                                        \
        "c"                                                                                        \
        "i"                                                                                        \
        "s"                                                                                        \
        "i"                                                                                        \
        "o"                                                                                        \
        "n") ", " LAST_REVIEW("reason_code") ", " LAST_REVIEW("reason") ", " LAST_REVIEW("created" \
                                                                                         "_at") " FROM orders "
static const char SQL_ORDER_ACTIVE[] = "SELECT " ORDER_COLS "WHERE active_key = CONCAT(?, '/', ?)";
static const char SQL_ORDER_GET[] = "SELECT " ORDER_COLS "WHERE order_no = ?";
static const char SQL_ORDER_GET_LOCK[] = "SELECT " ORDER_COLS "WHERE order_no = ? FOR UPDATE";
static const char SQL_STATUS_PHOTO[] =
    "UPDATE orders SET status = ?, resubmissions = resubmissions + ?, "
    "pay_deadline = IF(? > 0, UTC_TIMESTAMP(3) + INTERVAL ? SECOND, pay_deadline), "
    "version = version + 1, updated_at = UTC_TIMESTAMP(3) WHERE id = ?";
static const char SQL_ORDER_LIST_USER[] =
    "SELECT " ORDER_COLS "WHERE user_id = ? AND id < ? ORDER BY id DESC LIMIT ?";
/* The columns of struct pc_order_view, in pc_store_order_view_at's order: the current photo and
 * the latest review joined once per row (unique key, and the review's highest id). */
static const char SQL_ORDER_LIST_USER_VIEWS[] =
    "SELECT o.id, o.task_id, o.amount_fen, o.order_no, o.status, o.student_name, o.student_no, "
    "o.college, o.class_name, o.paid_at, p.created_at, o.editable_until, o.created_at, "
    "o.updated_at, rv.decision, rv.reason_code, rv.reason, rv.created_at FROM orders o "
    "LEFT JOIN photos p ON p.current_key = o.id LEFT JOIN reviews rv ON rv.id = "
    "(SELECT MAX(r2.id) FROM reviews r2 WHERE r2.order_id = o.id) "
    "WHERE o.user_id = ? AND o.id < ? ORDER BY o.id DESC LIMIT ?";
/* A student's order-list revision (schema/010_order_list_revs.sql: moved by triggers with every
 * row of orders inserted, updated or deleted for the student, in the same transaction), so an
 * equal fingerprint means an equal list; PC_ORDER_FP_NONE when there is none. */
#define FINGERPRINT_OF(uid)                                                                        \
    "COALESCE((SELECT CAST(r.rev AS CHAR) FROM order_list_revs r WHERE r.user_id = " uid "), "     \
    "'" PC_ORDER_FP_NONE "')"
/* The same list with the student's revision, read in the same statement (one snapshot) as the
 * last column of every row. */
static const char SQL_ORDER_LIST_USER_VIEWS_FP[] =
    "SELECT o.id, o.task_id, o.amount_fen, o.order_no, o.status, o.student_name, o.student_no, "
    "o.college, o.class_name, o.paid_at, p.created_at, o.editable_until, o.created_at, "
    "o.updated_at, rv.decision, rv.reason_code, rv.reason, rv.created_at, " FINGERPRINT_OF(
        "o.user_id") " FROM orders o LEFT JOIN photos p ON p.current_key = o.id "
                     "LEFT JOIN reviews rv ON rv.id = "
                     "(SELECT MAX(r2.id) FROM reviews r2 WHERE r2.order_id = o.id) "
                     "WHERE o.user_id = ? AND o.id < ? ORDER BY o.id DESC LIMIT ?";
#define IN_32                                                                                      \
    "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "   \
    "?, ?"
static const char SQL_ORDER_FINGERPRINTS[] =
    "SELECT user_id, CAST(rev AS CHAR) FROM order_list_revs WHERE user_id IN (" IN_32 ")";
/* What a payment needs of its order, for up to PC_DB_IN_MAX orders, locked. */
static const char SQL_ORDER_LOCK_MANY[] =
    "SELECT id, order_no, task_id, user_id, status, amount_fen, student_no, "
    "(SELECT u.openid FROM users u WHERE u.id = orders.user_id), school_id FROM orders WHERE "
    "order_no IN (" PC_DB_IN_32 ") FOR UPDATE";
static const char SQL_ORDER_NOTICE[] =
    "SELECT o.order_no, o.user_id, o.task_id, o.amount_fen, o.student_name, o.paid_at, u.openid, "
    "u.phone, t.name FROM orders o JOIN users u ON u.id = o.user_id JOIN tasks t ON t.id = "
    "o.task_id WHERE o.order_no = ?";
static const char SQL_ORDER_NOTICES[] =
    "SELECT o.order_no, o.user_id, o.task_id, o.amount_fen, o.student_name, o.paid_at, u.openid, "
    "u.phone, t.name FROM orders o JOIN users u ON u.id = o.user_id JOIN tasks t ON t.id = "
    "o.task_id WHERE o.order_no IN (" PC_DB_IN_32 ")";
static const char SQL_ORDER_REVIEW_QUEUE[] =
    "SELECT " ORDER_COLS "WHERE status = 'pending_review' AND " PC_SCOPE_SQL(
        "school_id", "task_id") " AND (? = 0 OR task_id = ?) AND (? = 0 OR (paid_at, id) > "
                                "(SELECT o2.paid_at, o2.id FROM orders o2 WHERE o2.id = ?)) ORDER "
                                "BY paid_at, id LIMIT ?";
static const char SQL_ORDER_SAME_YEAR[] =
    "SELECT order_no FROM orders WHERE school_id = ? AND grad_year = ? AND student_no = ? AND "
    "task_id <> ? AND status NOT IN ('closed', 'refunded') LIMIT 1";
static const char SQL_ORDER_INSERT[] =
    "INSERT INTO orders (order_no, task_id, user_id, school_id, grad_year, student_no, "
    "student_name, college, class_name, code_sha256, status, amount_fen) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

static void order_row(const struct pc_db_res *res, size_t r, void *out)
{
    struct pc_order *o = out;
    memset(o, 0, sizeof *o);
    o->id = pc_db_res_i64(res, r, 0);
    pc_db_res_copy(res, r, 1, o->order_no, sizeof o->order_no);
    o->task_id = pc_db_res_i64(res, r, 2);
    o->user_id = pc_db_res_i64(res, r, 3);
    o->school_id = pc_db_res_i64(res, r, 4);
    o->grad_year = (int)pc_db_res_i64(res, r, 5);
    pc_db_res_copy(res, r, 6, o->student_no, sizeof o->student_no);
    pc_db_res_copy(res, r, 7, o->student_name, sizeof o->student_name);
    pc_db_res_copy(res, r, 8, o->college, sizeof o->college);
    pc_db_res_copy(res, r, 9, o->class_name, sizeof o->class_name);
    pc_db_res_copy(res, r, 10, o->status, sizeof o->status);
    o->amount_fen = pc_db_res_i64(res, r, 11);
    pc_db_res_copy(res, r, 12, o->paid_at, sizeof o->paid_at);
    pc_db_res_copy(res, r, 13, o->editable_until, sizeof o->editable_until);
    o->resubmissions = (int)pc_db_res_i64(res, r, 14);
    pc_db_res_copy(res, r, 15, o->created_at, sizeof o->created_at);
    pc_db_res_copy(res, r, 16, o->updated_at, sizeof o->updated_at);
    pc_db_res_copy(res, r, 17, o->photo_at, sizeof o->photo_at);
    pc_db_res_copy(res, r, 18, o->pay_deadline, sizeof o->pay_deadline);
    o->edit_expired = pc_db_res_i64(res, r, 19) != 0;
    pc_db_res_copy(res, r, 20, o->prepay_id, sizeof o->prepay_id);
    o->prepay_live = pc_db_res_i64(res, r, 21) != 0;
    o->pay_overdue = pc_db_res_i64(res, r, 22) != 0;
    pc_db_res_copy(res, r, 23, o->openid, sizeof o->openid);
    pc_db_res_copy(res, r, 24, o->transaction_id, sizeof o->transaction_id);
    pc_db_res_copy(res, r, 25, o->review_decision, sizeof o->review_decision);
    pc_db_res_copy(res, r, 26, o->review_code, sizeof o->review_code);
    pc_db_res_copy(res, r, 27, o->review_reason, sizeof o->review_reason);
    pc_db_res_copy(res, r, 28, o->review_at, sizeof o->review_at);
}

int pc_store_order_active(struct pc_db *db, int64_t task_id, const char *student_no,
                          struct pc_order *out)
{
    char tid[24];
    snprintf(tid, sizeof tid, "%lld", (long long)task_id);
    return pc_db_query_one(db, SQL_ORDER_ACTIVE, PC_DB_ARGS(pc_db_str(tid), pc_db_str(student_no)),
                           order_row, out);
}

int pc_store_order_get(struct pc_db *db, const char *order_no, struct pc_order *out)
{
    return pc_db_query_one(db, SQL_ORDER_GET, PC_DB_ARGS(pc_db_str(order_no)), order_row, out);
}

static void order_no_row(const struct pc_db_res *res, size_t r, void *out)
{
    pc_db_res_copy(res, r, 0, out, 33);
}

int pc_store_order_same_year(struct pc_db *db, int64_t school_id, int grad_year,
                             const char *student_no, int64_t except_task_id, char order_no[33])
{
    return pc_db_query_one(db, SQL_ORDER_SAME_YEAR,
                           PC_DB_ARGS(pc_db_i64(school_id), pc_db_i64(grad_year),
                                      pc_db_str(student_no), pc_db_i64(except_task_id)),
                           order_no_row, order_no);
}

int pc_store_order_insert(struct pc_db *db, const struct pc_order *o, const char *code_sha256,
                          int64_t *id)
{
    uint64_t iid = 0;
    int rc = pc_db_exec(
        db, SQL_ORDER_INSERT,
        PC_DB_ARGS(pc_db_str(o->order_no), pc_db_i64(o->task_id), pc_db_i64(o->user_id),
                   pc_db_i64(o->school_id), pc_db_i64(o->grad_year), pc_db_str(o->student_no),
                   pc_db_str(o->student_name), pc_db_str(o->college),
                   pc_db_str(o->class_name[0] ? o->class_name : NULL), pc_db_str(code_sha256),
                   pc_db_str(o->status), pc_db_i64(o->amount_fen)),
        NULL, &iid);
    if (rc == 0)
        *id = (int64_t)iid;
    return rc;
}

static int order_list(struct pc_db *db, const char *sql, const struct pc_db_arg *args, size_t nargs,
                      struct pc_order **out, size_t *n)
{
    void *a = NULL;
    int rc = pc_db_query_all(db, sql, args, nargs, sizeof **out, order_row, &a, n);
    *out = a;
    return rc;
}

int pc_store_order_list_user(struct pc_db *db, int64_t user_id, int64_t before_id, int limit,
                             struct pc_order **out, size_t *n)
{
    return order_list(db, SQL_ORDER_LIST_USER,
                      PC_DB_ARGS(pc_db_i64(user_id),
                                 pc_db_i64(before_id > 0 ? before_id : INT64_MAX),
                                 pc_db_i64(limit)),
                      out, n);
}

int pc_store_order_list_user_views(struct pc_db *db, int64_t user_id, int64_t before_id, int limit,
                                   struct pc_db_res **res)
{
    return pc_db_query(db, SQL_ORDER_LIST_USER_VIEWS,
                       PC_DB_ARGS(pc_db_i64(user_id),
                                  pc_db_i64(before_id > 0 ? before_id : INT64_MAX),
                                  pc_db_i64(limit)),
                       res);
}

int pc_store_order_list_user_views_fp(struct pc_db *db, int64_t user_id, int limit,
                                      struct pc_db_res **res, char fp[PC_ORDER_FP_LEN])
{
    int rc =
        pc_db_query(db, SQL_ORDER_LIST_USER_VIEWS_FP,
                    PC_DB_ARGS(pc_db_i64(user_id), pc_db_i64(INT64_MAX), pc_db_i64(limit)), res);
    if (rc == 0)
        snprintf(fp, PC_ORDER_FP_LEN, "%s",
                 pc_db_res_rows(*res) ? pc_db_res_str(*res, 0, 18) : PC_ORDER_FP_NONE);
    return rc;
}

int pc_store_order_fingerprints(struct pc_db *db, const int64_t *user_ids, size_t n,
                                char (*fps)[PC_ORDER_FP_LEN])
{
    struct pc_db_arg args[PC_ORDER_FP_BATCH];
    if (n > PC_ORDER_FP_BATCH)
        return PC_EINVAL;
    for (size_t i = 0; i < PC_ORDER_FP_BATCH; i++)
        args[i] = pc_db_i64(i < n ? user_ids[i] : 0); /* no user has id 0 */
    for (size_t i = 0; i < n; i++)
        snprintf(fps[i], PC_ORDER_FP_LEN, "%s", PC_ORDER_FP_NONE);
    struct pc_db_res *res = NULL;
    int rc = pc_db_query(db, SQL_ORDER_FINGERPRINTS, args, PC_ORDER_FP_BATCH, &res);
    if (rc)
        return rc;
    for (size_t r = 0; r < pc_db_res_rows(res); r++) {
        int64_t uid = pc_db_res_i64(res, r, 0);
        for (size_t i = 0; i < n; i++)
            if (user_ids[i] == uid)
                pc_db_res_copy(res, r, 1, fps[i], PC_ORDER_FP_LEN);
    }
    pc_db_res_free(res);
    return 0;
}

static void notice_row(const struct pc_db_res *res, size_t r, void *out)
{
    struct pc_order_notice *n = out;
    memset(n, 0, sizeof *n);
    pc_db_res_copy(res, r, 0, n->order_no, sizeof n->order_no);
    n->user_id = pc_db_res_i64(res, r, 1);
    n->task_id = pc_db_res_i64(res, r, 2);
    n->amount_fen = pc_db_res_i64(res, r, 3);
    pc_db_res_copy(res, r, 4, n->student_name, sizeof n->student_name);
    pc_db_res_copy(res, r, 5, n->paid_at, sizeof n->paid_at);
    pc_db_res_copy(res, r, 6, n->openid, sizeof n->openid);
    pc_db_res_copy(res, r, 7, n->phone, sizeof n->phone);
    pc_db_res_copy(res, r, 8, n->task_name, sizeof n->task_name);
}

/* Runs sql, whose IN list is PC_DB_IN_32, for up to PC_DB_IN_MAX order numbers into *res;
 * found[0..n) false. PC_EINVAL for more. */
static int query_order_nos(struct pc_db *db, const char *sql, const char *const *order_nos,
                           size_t n, bool *found, struct pc_db_res **res)
{
    struct pc_db_arg args[PC_DB_IN_MAX];
    *res = NULL;
    if (n > PC_DB_IN_MAX)
        return PC_EINVAL;
    for (size_t i = 0; i < PC_DB_IN_MAX; i++)
        args[i] = pc_db_str(i < n ? order_nos[i] : ""); /* no order has an empty number */
    for (size_t i = 0; i < n; i++)
        found[i] = false;
    return pc_db_query(db, sql, args, PC_DB_IN_MAX, res);
}

int pc_store_order_notice(struct pc_db *db, const char *order_no, struct pc_order_notice *out)
{
    return pc_db_query_one(db, SQL_ORDER_NOTICE, PC_DB_ARGS(pc_db_str(order_no)), notice_row, out);
}

int pc_store_order_notices(struct pc_db *db, const char *const *order_nos, size_t n,
                           struct pc_order_notice *out, bool *found)
{
    struct pc_db_res *res = NULL;
    int rc = query_order_nos(db, SQL_ORDER_NOTICES, order_nos, n, found, &res);
    for (size_t r = 0; rc == 0 && r < pc_db_res_rows(res); r++)
        for (size_t i = 0; i < n; i++)
            if (!found[i] && strcmp(pc_db_res_str(res, r, 0), order_nos[i]) == 0) {
                notice_row(res, r, &out[i]);
                found[i] = true;
            }
    pc_db_res_free(res);
    return rc;
}

void pc_store_order_view_at(const struct pc_db_res *res, size_t r, struct pc_order_view *v)
{
    v->id = pc_db_res_i64(res, r, 0);
    v->task_id = pc_db_res_i64(res, r, 1);
    v->amount_fen = pc_db_res_i64(res, r, 2);
    const char **strs[] = {
        &v->order_no,   &v->status,          &v->student_name, &v->student_no,     &v->college,
        &v->class_name, &v->paid_at,         &v->photo_at,     &v->editable_until, &v->created_at,
        &v->updated_at, &v->review_decision, &v->review_code,  &v->review_reason,  &v->review_at};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        *strs[i] = pc_db_res_str(res, r, 3 + i);
}

int pc_store_review_queue(struct pc_db *db, const struct pc_scope *scope, int64_t task_id,
                          int64_t after_id, int limit, struct pc_order **out, size_t *n)
{
    struct pc_db_arg args[PC_SCOPE_NARGS + 5];
    struct pc_db_arg *p = pc_scope_args(scope, args);
    *p++ = pc_db_i64(task_id);
    *p++ = pc_db_i64(task_id);
    *p++ = pc_db_i64(after_id);
    *p++ = pc_db_i64(after_id);
    *p++ = pc_db_i64(limit);
    return order_list(db, SQL_ORDER_REVIEW_QUEUE, args, (size_t)(p - args), out, n);
}

int pc_store_order_get_locked(struct pc_db *db, const char *order_no, struct pc_order *out)
{
    return pc_db_query_one(db, SQL_ORDER_GET_LOCK, PC_DB_ARGS(pc_db_str(order_no)), order_row, out);
}

int pc_store_order_status_photo(struct pc_db *db, int64_t order_id, const char *status, int resub,
                                int pay_timeout_s)
{
    return pc_db_exec(db, SQL_STATUS_PHOTO,
                      PC_DB_ARGS(pc_db_str(status), pc_db_i64(resub), pc_db_i64(pay_timeout_s),
                                 pc_db_i64(pay_timeout_s), pc_db_i64(order_id)),
                      NULL, NULL);
}

/* ---- the pay sweeper and the window close-out ---- */

static const char SQL_TO_SWEEP[] =
    "SELECT order_no FROM orders WHERE status = 'unpaid' AND ("
    "(prepay_id IS NOT NULL AND updated_at < UTC_TIMESTAMP(3) - INTERVAL ? SECOND) OR "
    "pay_deadline < UTC_TIMESTAMP(3)) ORDER BY updated_at LIMIT ?";
static const char SQL_CLOSEOUT_ORDERS[] =
    "SELECT order_no FROM orders WHERE task_id = ? AND (status = 'awaiting_photo' OR "
    "(status = 'unpaid' AND prepay_id IS NULL)) ORDER BY id LIMIT ?";
static const char SQL_CLOSEOUT_PREPAID[] =
    "UPDATE orders SET pay_deadline = UTC_TIMESTAMP(3), updated_at = UTC_TIMESTAMP(3) "
    "WHERE task_id = ? AND status = 'unpaid' AND prepay_id IS NOT NULL AND "
    "(pay_deadline IS NULL OR pay_deadline > UTC_TIMESTAMP(3))";

/* Up to max order numbers (the first column) into out. */
static int numbers(struct pc_db *db, const char *sql, const struct pc_db_arg *args, size_t nargs,
                   char (*out)[33], size_t max, size_t *n)
{
    struct pc_db_res *res = NULL;
    *n = 0;
    int rc = pc_db_query(db, sql, args, nargs, &res);
    if (rc)
        return rc;
    for (size_t i = 0; i < pc_db_res_rows(res) && *n < max; i++)
        pc_db_res_copy(res, i, 0, out[(*n)++], 33);
    pc_db_res_free(res);
    return 0;
}

int pc_store_orders_to_sweep(struct pc_db *db, int min_age_s, int limit, char (*out)[33], size_t *n)
{
    return numbers(db, SQL_TO_SWEEP, PC_DB_ARGS(pc_db_i64(min_age_s), pc_db_i64(limit)), out,
                   (size_t)limit, n);
}

int pc_store_closeout_orders(struct pc_db *db, int64_t task_id, char (*out)[33], size_t max,
                             size_t *n)
{
    return numbers(db, SQL_CLOSEOUT_ORDERS, PC_DB_ARGS(pc_db_i64(task_id), pc_db_i64((int64_t)max)),
                   out, max, n);
}

int pc_store_closeout_prepaid(struct pc_db *db, int64_t task_id, uint64_t *changed)
{
    return pc_db_exec(db, SQL_CLOSEOUT_PREPAID, PC_DB_ARGS(pc_db_i64(task_id)), changed, NULL);
}

/* ---- prepay ids and review rows ---- */

static const char SQL_SET_PREPAY[] =
    "UPDATE orders SET prepay_id = ?, prepay_expires_at = UTC_TIMESTAMP(3) + INTERVAL ? SECOND, "
    "updated_at = UTC_TIMESTAMP(3) WHERE id = ?";
static const char SQL_NATIVE_CODE[] =
    "SELECT code_url FROM order_native_codes WHERE order_id = ? AND "
    "expires_at > UTC_TIMESTAMP(3) + INTERVAL 60 SECOND";
static const char SQL_NATIVE_CODE_SET[] =
    "INSERT INTO order_native_codes (order_id, code_url, expires_at) "
    "VALUES (?, ?, UTC_TIMESTAMP(3) + INTERVAL ? SECOND) ON DUPLICATE KEY UPDATE "
    "code_url = VALUES(code_url), expires_at = VALUES(expires_at), "
    "created_at = UTC_TIMESTAMP(3)";
static const char SQL_MARK_NATIVE[] =
    "UPDATE orders SET prepay_id = COALESCE(prepay_id, 'native'), "
    "updated_at = UTC_TIMESTAMP(3) WHERE id = ?";
static const char SQL_REVIEW_INSERT[] =
    "INSERT INTO reviews (order_id, photo_id, reviewer_id, decision, reason_code, reason, note) "
    "VALUES (?, (SELECT p.id FROM photos p WHERE p.current_key = ?), ?, ?, ?, ?, ?)";

int pc_store_order_set_prepay(struct pc_db *db, int64_t order_id, const char *prepay_id, int ttl_s)
{
    return pc_db_exec(db, SQL_SET_PREPAY,
                      PC_DB_ARGS(pc_db_str(prepay_id), pc_db_i64(ttl_s), pc_db_i64(order_id)), NULL,
                      NULL);
}

static void code_url_row(const struct pc_db_res *res, size_t r, void *out)
{
    pc_db_res_copy(res, r, 0, out, PC_ORDER_CODE_URL_MAX + 1);
}

int pc_store_order_native_code(struct pc_db *db, int64_t order_id,
                               char code_url[PC_ORDER_CODE_URL_MAX + 1])
{
    return pc_db_query_one(db, SQL_NATIVE_CODE, PC_DB_ARGS(pc_db_i64(order_id)), code_url_row,
                           code_url);
}

int pc_store_order_native_code_set(struct pc_db *db, int64_t order_id, const char *code_url,
                                   int ttl_s)
{
    return pc_db_exec(db, SQL_NATIVE_CODE_SET,
                      PC_DB_ARGS(pc_db_i64(order_id), pc_db_str(code_url), pc_db_i64(ttl_s)), NULL,
                      NULL);
}

int pc_store_order_mark_native(struct pc_db *db, int64_t order_id)
{
    return pc_db_exec(db, SQL_MARK_NATIVE, PC_DB_ARGS(pc_db_i64(order_id)), NULL, NULL);
}

int pc_store_review_insert(struct pc_db *db, int64_t order_id, int64_t reviewer_id,
                           const char *decision, const char *reason_code, const char *reason,
                           const char *note, int64_t *review_id)
{
    uint64_t id = 0;
    int rc = pc_db_exec(db, SQL_REVIEW_INSERT,
                        PC_DB_ARGS(pc_db_i64(order_id), pc_db_i64(order_id), pc_db_i64(reviewer_id),
                                   pc_db_str(decision), pc_db_str(reason_code), pc_db_str(reason),
                                   pc_db_str(note)),
                        NULL, &id);
    if (rc == 0 && review_id)
        *review_id = (int64_t)id;
    return rc;
}

/* ---- status changes (orders/state.c alone) ---- */

static const char SQL_STATUS_PAID[] =
    "UPDATE orders SET status = ?, transaction_id = ?, paid_at = ?, version = version + 1, "
    "updated_at = UTC_TIMESTAMP(3) WHERE id = ?";
static const char SQL_STATUS_CLOSED[] =
    "UPDATE orders SET status = 'closed', closed_reason = ?, version = version + 1, "
    "updated_at = UTC_TIMESTAMP(3) WHERE id = ?";
static const char SQL_STATUS_REVIEWED[] =
    "UPDATE orders SET status = IF(? = 1, 'approved', 'rejected'), "
    "editable_until = IF(? = 1, NULL, UTC_TIMESTAMP(3) + INTERVAL ? DAY), "
    "version = version + 1, updated_at = UTC_TIMESTAMP(3) "
    "WHERE id = ? AND status = 'pending_review'";
static const char SQL_STATUS_REFUNDED[] =
    "UPDATE orders SET status = 'refunded', version = version + 1, updated_at = UTC_TIMESTAMP(3) "
    "WHERE id = ?";

int pc_store_order_lock_many(struct pc_db *db, const char *const *order_nos, size_t n,
                             struct pc_order *out, bool *found)
{
    struct pc_db_res *res = NULL;
    int rc = query_order_nos(db, SQL_ORDER_LOCK_MANY, order_nos, n, found, &res);
    if (rc)
        return rc;
    for (size_t r = 0; r < pc_db_res_rows(res); r++) {
        for (size_t i = 0; i < n; i++) {
            if (found[i] || strcmp(pc_db_res_str(res, r, 1), order_nos[i]) != 0)
                continue;
            struct pc_order *o = &out[i];
            memset(o, 0, sizeof *o);
            o->id = pc_db_res_i64(res, r, 0);
            pc_db_res_copy(res, r, 1, o->order_no, sizeof o->order_no);
            o->task_id = pc_db_res_i64(res, r, 2);
            o->user_id = pc_db_res_i64(res, r, 3);
            pc_db_res_copy(res, r, 4, o->status, sizeof o->status);
            o->amount_fen = pc_db_res_i64(res, r, 5);
            pc_db_res_copy(res, r, 6, o->student_no, sizeof o->student_no);
            pc_db_res_copy(res, r, 7, o->openid, sizeof o->openid);
            o->school_id = pc_db_res_i64(res, r, 8);
            found[i] = true;
        }
    }
    pc_db_res_free(res);
    return 0;
}

int pc_store_order_status_paid_many(struct pc_db *db, const int64_t *order_ids, const char *status,
                                    const char *const *transaction_ids, const char *const *paid_ats,
                                    size_t n)
{
    struct pc_db_arg *args = pc_xcalloc(n ? n * 4 : 1, sizeof *args);
    for (size_t i = 0; i < n; i++) {
        args[i * 4] = pc_db_str(status);
        args[i * 4 + 1] = pc_db_str(transaction_ids[i]);
        args[i * 4 + 2] = pc_db_str(paid_ats[i]);
        args[i * 4 + 3] = pc_db_i64(order_ids[i]);
    }
    uint64_t affected = 0;
    int rc = pc_db_exec_bulk(db, SQL_STATUS_PAID, args, 4, n, &affected);
    free(args);
    if (rc == 0 && affected != n)
        rc = PC_ECONFLICT; /* a locked order that is not there: roll back */
    return rc;
}

int pc_store_order_status_paid(struct pc_db *db, int64_t order_id, const char *status,
                               const char *transaction_id, const char *paid_at)
{
    return pc_db_exec(db, SQL_STATUS_PAID,
                      PC_DB_ARGS(pc_db_str(status), pc_db_str(transaction_id), pc_db_str(paid_at),
                                 pc_db_i64(order_id)),
                      NULL, NULL);
}

int pc_store_order_status_closed(struct pc_db *db, int64_t order_id, const char *reason)
{
    return pc_db_exec(db, SQL_STATUS_CLOSED, PC_DB_ARGS(pc_db_str(reason), pc_db_i64(order_id)),
                      NULL, NULL);
}

int pc_store_order_status_reviewed(struct pc_db *db, int64_t order_id, bool approved, int edit_days)
{
    uint64_t n = 0;
    int rc = pc_db_exec(db, SQL_STATUS_REVIEWED,
                        PC_DB_ARGS(pc_db_i64(approved), pc_db_i64(approved), pc_db_i64(edit_days),
                                   pc_db_i64(order_id)),
                        &n, NULL);
    return rc ? rc : n ? 0 : PC_ECONFLICT;
}

int pc_store_order_status_refunded(struct pc_db *db, int64_t order_id)
{
    return pc_db_exec(db, SQL_STATUS_REFUNDED, PC_DB_ARGS(pc_db_i64(order_id)), NULL, NULL);
}
