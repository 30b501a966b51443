/* store/tasks.c — SQL for schools, tasks, bindings, rosters, candidates and orders. */
#include "store/store.h"

#include "base/alloc.h"
#include "base/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char SQL_SCHOOL_FIND[] =
    "SELECT id, code, name FROM schools WHERE code = ? OR name = ? ORDER BY code = ? DESC LIMIT 1";

#define TASK_COLS                                                                                  \
    "t.id, t.school_id, s.code, s.name, t.name, t.collection_type, t.feature_code, t.opens_at, "   \
    "t.closes_at, t.price_fen, t.edit_days, t.resubmit_cap, t.unpaid_timeout_s, t.grad_year, "     \
    "t.roster_required, t.archived_at IS NOT NULL, t.created_at, t.updated_at, "                   \
    "UTC_TIMESTAMP(3) < t.opens_at, UTC_TIMESTAMP(3) > t.closes_at "                               \
    "FROM tasks t JOIN schools s ON s.id = t.school_id "

static const char SQL_TASK_GET[] = "SELECT " TASK_COLS "WHERE t.id = ?";
static const char SQL_TASK_GET_LOCK[] = "SELECT " TASK_COLS "WHERE t.id = ? FOR UPDATE";
static const char SQL_TASK_BY_CODE[] = "SELECT " TASK_COLS "WHERE t.live_code = ?";
static const char SQL_TASK_LIST_ALL[] =
    "SELECT " TASK_COLS "WHERE t.id < ? ORDER BY t.id DESC LIMIT ?";
static const char SQL_TASK_LIST_SCHOOL[] =
    "SELECT " TASK_COLS "WHERE t.school_id = ? AND t.id < ? ORDER BY t.id DESC LIMIT ?";
static const char SQL_TASK_INSERT[] =
    "INSERT INTO tasks (school_id, name, collection_type, feature_code, feature_code_norm, "
    "opens_at, closes_at, price_fen, edit_days, resubmit_cap, roster_required, unpaid_timeout_s, "
    "grad_year) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char SQL_TASK_UPDATE[] =
    "UPDATE tasks SET name = ?, collection_type = ?, feature_code = ?, feature_code_norm = ?, "
    "opens_at = ?, closes_at = ?, price_fen = ?, edit_days = ?, resubmit_cap = ?, "
    "roster_required = ?, unpaid_timeout_s = ?, grad_year = ?, "
    "archived_at = IF(?, COALESCE(archived_at, UTC_TIMESTAMP(3)), NULL), "
    "updated_at = UTC_TIMESTAMP(3) WHERE id = ?";
static const char SQL_BINDING_INSERT[] =
    "INSERT IGNORE INTO task_bindings (user_id, task_id) VALUES (?, ?)";
static const char SQL_BINDING_EXISTS[] =
    "SELECT 1 FROM task_bindings WHERE user_id = ? AND task_id = ?";

int pc_store_school_find(struct pc_db *db, const char *code_or_name, int64_t *id, char code[17],
                         char name[129])
{
    struct pc_db_res *res = NULL;
    int rc = pc_db_query(
        db, SQL_SCHOOL_FIND,
        PC_DB_ARGS(pc_db_str(code_or_name), pc_db_str(code_or_name), pc_db_str(code_or_name)),
        &res);
    if (rc)
        return rc;
    rc = pc_db_res_rows(res) ? 0 : PC_ENOTFOUND;
    if (rc == 0) {
        *id = pc_db_res_i64(res, 0, 0);
        pc_db_res_copy(res, 0, 1, code, 17);
        pc_db_res_copy(res, 0, 2, name, 129);
    }
    pc_db_res_free(res);
    return rc;
}

static void task_from_row(const struct pc_db_res *res, size_t r, struct pc_task *t)
{
    memset(t, 0, sizeof *t);
    t->id = pc_db_res_i64(res, r, 0);
    t->school_id = pc_db_res_i64(res, r, 1);
    pc_db_res_copy(res, r, 2, t->school_code, sizeof t->school_code);
    pc_db_res_copy(res, r, 3, t->school_name, sizeof t->school_name);
    pc_db_res_copy(res, r, 4, t->name, sizeof t->name);
    pc_db_res_copy(res, r, 5, t->collection_type, sizeof t->collection_type);
    pc_db_res_copy(res, r, 6, t->feature_code, sizeof t->feature_code);
    pc_db_res_copy(res, r, 7, t->opens_at, sizeof t->opens_at);
    pc_db_res_copy(res, r, 8, t->closes_at, sizeof t->closes_at);
    t->price_fen = pc_db_res_i64(res, r, 9);
    t->edit_days = (int)pc_db_res_i64(res, r, 10);
    t->resubmit_cap = (int)pc_db_res_i64(res, r, 11);
    t->unpaid_timeout_s = (int)pc_db_res_i64(res, r, 12);
    t->grad_year = (int)pc_db_res_i64(res, r, 13);
    t->roster_required = pc_db_res_i64(res, r, 14) != 0;
    t->archived = pc_db_res_i64(res, r, 15) != 0;
    pc_db_res_copy(res, r, 16, t->created_at, sizeof t->created_at);
    pc_db_res_copy(res, r, 17, t->updated_at, sizeof t->updated_at);
    t->not_open_yet = pc_db_res_i64(res, r, 18) != 0;
    t->closed = pc_db_res_i64(res, r, 19) != 0;
}

static int task_one(struct pc_db *db, const char *sql, struct pc_db_arg arg, struct pc_task *out)
{
    struct pc_db_res *res = NULL;
    int rc = pc_db_query(db, sql, &arg, 1, &res);
    if (rc)
        return rc;
    rc = pc_db_res_rows(res) ? 0 : PC_ENOTFOUND;
    if (rc == 0)
        task_from_row(res, 0, out);
    pc_db_res_free(res);
    return rc;
}

int pc_store_task_get(struct pc_db *db, int64_t id, bool for_update, struct pc_task *out)
{
    return task_one(db, for_update ? SQL_TASK_GET_LOCK : SQL_TASK_GET, pc_db_i64(id), out);
}

int pc_store_task_by_code(struct pc_db *db, const char *code_norm, struct pc_task *out)
{
    return task_one(db, SQL_TASK_BY_CODE, pc_db_str(code_norm), out);
}

int pc_store_task_list(struct pc_db *db, int64_t school_id, int64_t before_id, int limit,
                       struct pc_task **out, size_t *n)
{
    struct pc_db_res *res = NULL;
    int64_t before = before_id > 0 ? before_id : INT64_MAX;
    int rc = school_id
                 ? pc_db_query(
                       db, SQL_TASK_LIST_SCHOOL,
                       PC_DB_ARGS(pc_db_i64(school_id), pc_db_i64(before), pc_db_i64(limit)), &res)
                 : pc_db_query(db, SQL_TASK_LIST_ALL,
                               PC_DB_ARGS(pc_db_i64(before), pc_db_i64(limit)), &res);
    if (rc)
        return rc;
    *n = pc_db_res_rows(res);
    *out = pc_xcalloc(*n ? *n : 1, sizeof **out);
    for (size_t i = 0; i < *n; i++)
        task_from_row(res, i, &(*out)[i]);
    pc_db_res_free(res);
    return 0;
}

int pc_store_task_insert(struct pc_db *db, const struct pc_task *t, const char *code_norm,
                         int64_t *id)
{
    uint64_t iid = 0;
    int rc = pc_db_exec(
        db, SQL_TASK_INSERT,
        PC_DB_ARGS(pc_db_i64(t->school_id), pc_db_str(t->name), pc_db_str(t->collection_type),
                   pc_db_str(t->feature_code), pc_db_str(code_norm), pc_db_str(t->opens_at),
                   pc_db_str(t->closes_at), pc_db_i64(t->price_fen), pc_db_i64(t->edit_days),
                   pc_db_i64(t->resubmit_cap), pc_db_i64(t->roster_required),
                   pc_db_i64(t->unpaid_timeout_s), pc_db_i64(t->grad_year)),
        NULL, &iid);
    if (rc == 0)
        *id = (int64_t)iid;
    return rc;
}

int pc_store_task_update(struct pc_db *db, const struct pc_task *t, const char *code_norm)
{
    return pc_db_exec(
        db, SQL_TASK_UPDATE,
        PC_DB_ARGS(pc_db_str(t->name), pc_db_str(t->collection_type), pc_db_str(t->feature_code),
                   pc_db_str(code_norm), pc_db_str(t->opens_at), pc_db_str(t->closes_at),
                   pc_db_i64(t->price_fen), pc_db_i64(t->edit_days), pc_db_i64(t->resubmit_cap),
                   pc_db_i64(t->roster_required), pc_db_i64(t->unpaid_timeout_s),
                   pc_db_i64(t->grad_year), pc_db_i64(t->archived), pc_db_i64(t->id)),
        NULL, NULL);
}

int pc_store_binding_insert(struct pc_db *db, int64_t user_id, int64_t task_id)
{
    return pc_db_exec(db, SQL_BINDING_INSERT, PC_DB_ARGS(pc_db_i64(user_id), pc_db_i64(task_id)),
                      NULL, NULL);
}

int pc_store_binding_exists(struct pc_db *db, int64_t user_id, int64_t task_id, bool *exists)
{
    struct pc_db_res *res = NULL;
    int rc = pc_db_query(db, SQL_BINDING_EXISTS, PC_DB_ARGS(pc_db_i64(user_id), pc_db_i64(task_id)),
                         &res);
    if (rc == 0)
        *exists = pc_db_res_rows(res) > 0;
    pc_db_res_free(res);
    return rc;
}

/* ---- rosters ---- */

static const char SQL_ROSTER_UPSERT[] =
    "INSERT INTO roster_entries (task_id, seq, college, name, student_no, class_name, "
    "id_no_masked, collected_offline, collected_offline_at) VALUES (?, ?, ?, ?, ?, ?, ?, "
    "IF(? = 1, 1, 0), IF(? = 1, UTC_TIMESTAMP(3), NULL)) ON DUPLICATE KEY UPDATE "
    "seq = COALESCE(VALUES(seq), seq), college = VALUES(college), name = VALUES(name), "
    "class_name = VALUES(class_name), id_no_masked = COALESCE(VALUES(id_no_masked), "
    "id_no_masked), "
    "collected_offline_at = IF(? = -1, collected_offline_at, IF(? = 1, "
    "COALESCE(collected_offline_at, UTC_TIMESTAMP(3)), NULL)), "
    "collected_offline = IF(? = -1, collected_offline, ?), "
    "updated_at = UTC_TIMESTAMP(3)";
static const char SQL_ROSTER_GET[] =
    "SELECT id, COALESCE(seq, 0), college, name, student_no, class_name, id_no_masked, "
    "collected_offline FROM roster_entries WHERE task_id = ? AND student_no = ?";

/* Progress state of a roster entry: offline collection wins, then the active order. */
#define ROSTER_STATE                                                                               \
    "IF(r.collected_offline = 1, 'collected_offline', COALESCE(o.status, 'not_started'))"
#define ROSTER_FROM                                                                                \
    "FROM roster_entries r LEFT JOIN orders o ON o.task_id = r.task_id AND "                       \
    "o.student_no = r.student_no AND o.active_key IS NOT NULL "
static const char SQL_ROSTER_LIST[] =
    "SELECT r.id, COALESCE(r.seq, 0), r.college, r.name, r.student_no, r.class_name, " ROSTER_STATE
    ", o.order_no, r.collected_offline " ROSTER_FROM
    "WHERE r.task_id = ? AND r.id > ? AND (? IS NULL OR r.college = ?) "
    "AND (? IS NULL OR " ROSTER_STATE " = ?) ORDER BY r.id LIMIT ?";
static const char SQL_ROSTER_STATS[] =
    "SELECT r.college, " ROSTER_STATE " AS st, COUNT(*) " ROSTER_FROM
    "WHERE r.task_id = ? AND (? IS NULL OR r.college = ?) GROUP BY r.college, st "
    "ORDER BY r.college, st";

int pc_store_roster_upsert(struct pc_db *db, int64_t task_id, const struct pc_store_roster *r,
                           int *outcome)
{
    uint64_t affected = 0;
    int c = r->collected;
    int rc =
        pc_db_exec(db, SQL_ROSTER_UPSERT,
                   PC_DB_ARGS(pc_db_i64(task_id), r->seq > 0 ? pc_db_i64(r->seq) : pc_db_null(),
                              pc_db_str(r->college), pc_db_str(r->name), pc_db_str(r->student_no),
                              pc_db_str(r->class_name[0] ? r->class_name : NULL),
                              pc_db_str(r->id_masked[0] ? r->id_masked : NULL), pc_db_i64(c),
                              pc_db_i64(c), pc_db_i64(c), pc_db_i64(c), pc_db_i64(c), pc_db_i64(c)),
                   &affected, NULL);
    if (rc == 0)
        *outcome = affected == 1 ? 1 : affected == 2 ? 2 : 0;
    return rc;
}

int pc_store_roster_get(struct pc_db *db, int64_t task_id, const char *student_no,
                        struct pc_store_roster *out)
{
    struct pc_db_res *res = NULL;
    int rc = pc_db_query(db, SQL_ROSTER_GET, PC_DB_ARGS(pc_db_i64(task_id), pc_db_str(student_no)),
                         &res);
    if (rc)
        return rc;
    rc = pc_db_res_rows(res) ? 0 : PC_ENOTFOUND;
    if (rc == 0) {
        memset(out, 0, sizeof *out);
        out->id = pc_db_res_i64(res, 0, 0);
        out->seq = (int)pc_db_res_i64(res, 0, 1);
        pc_db_res_copy(res, 0, 2, out->college, sizeof out->college);
        pc_db_res_copy(res, 0, 3, out->name, sizeof out->name);
        pc_db_res_copy(res, 0, 4, out->student_no, sizeof out->student_no);
        pc_db_res_copy(res, 0, 5, out->class_name, sizeof out->class_name);
        pc_db_res_copy(res, 0, 6, out->id_masked, sizeof out->id_masked);
        out->collected = (int)pc_db_res_i64(res, 0, 7);
    }
    pc_db_res_free(res);
    return rc;
}

int pc_store_roster_list(struct pc_db *db, int64_t task_id, const char *college, const char *state,
                         int64_t after_id, int limit, cJSON **items, int64_t *last_id)
{
    struct pc_db_res *res = NULL;
    *items = NULL;
    *last_id = 0;
    int rc = pc_db_query(db, SQL_ROSTER_LIST,
                         PC_DB_ARGS(pc_db_i64(task_id), pc_db_i64(after_id), pc_db_str(college),
                                    pc_db_str(college), pc_db_str(state), pc_db_str(state),
                                    pc_db_i64(limit > 0 ? limit : 1000000)),
                         &res);
    if (rc)
        return rc;
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < pc_db_res_rows(res); i++) {
        cJSON *o = cJSON_CreateObject();
        int seq = (int)pc_db_res_i64(res, i, 1);
        if (seq)
            cJSON_AddNumberToObject(o, "seq", seq);
        else
            cJSON_AddNullToObject(o, "seq");
        cJSON_AddStringToObject(o, "college", pc_db_res_str(res, i, 2));
        cJSON_AddStringToObject(o, "name", pc_db_res_str(res, i, 3));
        cJSON_AddStringToObject(o, "student_no", pc_db_res_str(res, i, 4));
        const char *cls = pc_db_res_str(res, i, 5);
        cJSON_AddItemToObject(o, "class", cls ? cJSON_CreateString(cls) : cJSON_CreateNull());
        cJSON_AddStringToObject(o, "state", pc_db_res_str(res, i, 6));
        const char *ono = pc_db_res_str(res, i, 7);
        cJSON_AddItemToObject(o, "order_no", ono ? cJSON_CreateString(ono) : cJSON_CreateNull());
        cJSON_AddBoolToObject(o, "collected_offline", pc_db_res_i64(res, i, 8) != 0);
        cJSON_AddItemToArray(arr, o);
        *last_id = pc_db_res_i64(res, i, 0);
    }
    pc_db_res_free(res);
    *items = arr;
    return 0;
}

int pc_store_roster_stats(struct pc_db *db, int64_t task_id, const char *college, cJSON **out)
{
    struct pc_db_res *res = NULL;
    *out = NULL;
    int rc =
        pc_db_query(db, SQL_ROSTER_STATS,
                    PC_DB_ARGS(pc_db_i64(task_id), pc_db_str(college), pc_db_str(college)), &res);
    if (rc)
        return rc;
    static const char *const states[] = {"not_started",      "awaiting_photo", "unpaid",
                                         "pending_review",   "approved",       "rejected",
                                         "collected_offline"};
    cJSON *root = cJSON_CreateObject(), *by = cJSON_CreateObject(), *cols = cJSON_CreateArray();
    for (size_t k = 0; k < sizeof states / sizeof states[0]; k++)
        cJSON_AddNumberToObject(by, states[k], 0);
    int64_t total = 0;
    cJSON *cur = NULL, *curby = NULL;
    const char *curname = NULL;
    for (size_t i = 0; i < pc_db_res_rows(res); i++) {
        const char *c = pc_db_res_str(res, i, 0), *st = pc_db_res_str(res, i, 1);
        int64_t n = pc_db_res_i64(res, i, 2);
        if (!curname || strcmp(curname, c) != 0) {
            cur = cJSON_CreateObject();
            cJSON_AddStringToObject(cur, "college", c);
            cJSON_AddNumberToObject(cur, "total", 0);
            curby = cJSON_AddObjectToObject(cur, "by_state");
            for (size_t k = 0; k < sizeof states / sizeof states[0]; k++)
                cJSON_AddNumberToObject(curby, states[k], 0);
            cJSON_AddItemToArray(cols, cur);
            curname = c;
        }
        cJSON *t = cJSON_GetObjectItem(cur, "total");
        cJSON_SetNumberValue(t, t->valuedouble + (double)n);
        cJSON *s1 = cJSON_GetObjectItem(curby, st);
        if (s1)
            cJSON_SetNumberValue(s1, s1->valuedouble + (double)n);
        else
            cJSON_AddNumberToObject(curby, st, (double)n);
        cJSON *s2 = cJSON_GetObjectItem(by, st);
        if (s2)
            cJSON_SetNumberValue(s2, s2->valuedouble + (double)n);
        else
            cJSON_AddNumberToObject(by, st, (double)n);
        total += n;
    }
    pc_db_res_free(res);
    cJSON_AddNumberToObject(root, "total", (double)total);
    cJSON_AddItemToObject(root, "by_state", by);
    cJSON_AddItemToObject(root, "colleges", cols);
    *out = root;
    return 0;
}

/* ---- candidates ---- */

static const char SQL_CAND_INSERT[] =
    "INSERT INTO collection_candidates (public_id, user_id, task_id, code_sha256, code_raw, "
    "student_no, record, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(3) + INTERVAL ? "
    "SECOND)";
static const char SQL_CAND_GET[] =
    "SELECT public_id, user_id, task_id, code_sha256, student_no, record, "
    "expires_at < UTC_TIMESTAMP(3) FROM collection_candidates "
    "WHERE public_id = ? AND user_id = ? AND task_id = ?";

int pc_store_candidate_insert(struct pc_db *db, const char *public_id, int64_t user_id,
                              int64_t task_id, const char *code_sha256, const void *code,
                              size_t code_len, const char *student_no, const char *record_json,
                              int ttl_s)
{
    return pc_db_exec(db, SQL_CAND_INSERT,
                      PC_DB_ARGS(pc_db_str(public_id), pc_db_i64(user_id), pc_db_i64(task_id),
                                 pc_db_str(code_sha256), pc_db_blob(code, code_len),
                                 pc_db_str(student_no), pc_db_str(record_json), pc_db_i64(ttl_s)),
                      NULL, NULL);
}

int pc_store_candidate_get(struct pc_db *db, const char *public_id, int64_t user_id,
                           int64_t task_id, struct pc_store_candidate *out)
{
    struct pc_db_res *res = NULL;
    int rc =
        pc_db_query(db, SQL_CAND_GET,
                    PC_DB_ARGS(pc_db_str(public_id), pc_db_i64(user_id), pc_db_i64(task_id)), &res);
    if (rc)
        return rc;
    rc = pc_db_res_rows(res) ? 0 : PC_ENOTFOUND;
    if (rc == 0) {
        memset(out, 0, sizeof *out);
        pc_db_res_copy(res, 0, 0, out->public_id, sizeof out->public_id);
        out->user_id = pc_db_res_i64(res, 0, 1);
        out->task_id = pc_db_res_i64(res, 0, 2);
        pc_db_res_copy(res, 0, 3, out->code_sha256, sizeof out->code_sha256);
        pc_db_res_copy(res, 0, 4, out->student_no, sizeof out->student_no);
        out->record = pc_xstrdup(pc_db_res_str(res, 0, 5) ? pc_db_res_str(res, 0, 5) : "{}");
        out->expired = pc_db_res_i64(res, 0, 6) != 0;
    }
    pc_db_res_free(res);
    return rc;
}

/* ---- orders ---- */

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
static const char SQL_ORDER_PHOTO_STATE[] =
    "UPDATE orders SET status = ?, resubmissions = resubmissions + ?, "
    "pay_deadline = IF(? > 0, UTC_TIMESTAMP(3) + INTERVAL ? SECOND, pay_deadline), "
    "version = version + 1, updated_at = UTC_TIMESTAMP(3) WHERE id = ?";
static const char SQL_ORDER_LIST_USER[] =
    "SELECT " ORDER_COLS "WHERE user_id = ? AND id < ? ORDER BY id DESC LIMIT ?";
static const char SQL_ORDER_REVIEW_QUEUE[] =
    "SELECT " ORDER_COLS "WHERE status = 'pending_review' AND (? = 0 OR school_id = ?) AND "
    "(? = 0 OR task_id = ?) AND (? = 0 OR (paid_at, id) > "
    "(SELECT o2.paid_at, o2.id FROM orders o2 WHERE o2.id = ?)) ORDER BY paid_at, id LIMIT ?";
static const char SQL_SCHOOL_INSERT[] = "INSERT INTO schools (code, name) VALUES (?, ?)";
static const char SQL_ORDER_SAME_YEAR[] =
    "SELECT order_no FROM orders WHERE school_id = ? AND grad_year = ? AND student_no = ? AND "
    "task_id <> ? AND status NOT IN ('closed', 'refunded') LIMIT 1";
static const char SQL_ORDER_INSERT[] =
    "INSERT INTO orders (order_no, task_id, user_id, school_id, grad_year, student_no, "
    "student_name, college, class_name, code_sha256, status, amount_fen) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

static void order_from_row(const struct pc_db_res *res, size_t r, struct pc_order *o)
{
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

static int order_one(struct pc_db *db, const char *sql, const struct pc_db_arg *args, size_t n,
                     struct pc_order *out)
{
    struct pc_db_res *res = NULL;
    int rc = pc_db_query(db, sql, args, n, &res);
    if (rc)
        return rc;
    rc = pc_db_res_rows(res) ? 0 : PC_ENOTFOUND;
    if (rc == 0)
        order_from_row(res, 0, out);
    pc_db_res_free(res);
    return rc;
}

int pc_store_order_active(struct pc_db *db, int64_t task_id, const char *student_no,
                          struct pc_order *out)
{
    char tid[24];
    snprintf(tid, sizeof tid, "%lld", (long long)task_id);
    return order_one(db, SQL_ORDER_ACTIVE, PC_DB_ARGS(pc_db_str(tid), pc_db_str(student_no)), out);
}

int pc_store_order_get(struct pc_db *db, const char *order_no, struct pc_order *out)
{
    return order_one(db, SQL_ORDER_GET, PC_DB_ARGS(pc_db_str(order_no)), out);
}

int pc_store_order_same_year(struct pc_db *db, int64_t school_id, int grad_year,
                             const char *student_no, int64_t except_task_id, char order_no[33])
{
    struct pc_db_res *res = NULL;
    int rc = pc_db_query(db, SQL_ORDER_SAME_YEAR,
                         PC_DB_ARGS(pc_db_i64(school_id), pc_db_i64(grad_year),
                                    pc_db_str(student_no), pc_db_i64(except_task_id)),
                         &res);
    if (rc)
        return rc;
    rc = pc_db_res_rows(res) ? 0 : PC_ENOTFOUND;
    if (rc == 0)
        pc_db_res_copy(res, 0, 0, order_no, 33);
    pc_db_res_free(res);
    return rc;
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
    struct pc_db_res *res = NULL;
    int rc = pc_db_query(db, sql, args, nargs, &res);
    if (rc)
        return rc;
    *n = pc_db_res_rows(res);
    *out = pc_xcalloc(*n ? *n : 1, sizeof **out);
    for (size_t i = 0; i < *n; i++)
        order_from_row(res, i, &(*out)[i]);
    pc_db_res_free(res);
    return 0;
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

int pc_store_review_queue(struct pc_db *db, int64_t school_id, int64_t task_id, int64_t after_id,
                          int limit, struct pc_order **out, size_t *n)
{
    return order_list(db, SQL_ORDER_REVIEW_QUEUE,
                      PC_DB_ARGS(pc_db_i64(school_id), pc_db_i64(school_id), pc_db_i64(task_id),
                                 pc_db_i64(task_id), pc_db_i64(after_id), pc_db_i64(after_id),
                                 pc_db_i64(limit)),
                      out, n);
}

int pc_store_school_insert(struct pc_db *db, const char *code, const char *name, int64_t *id)
{
    uint64_t iid = 0;
    int rc =
        pc_db_exec(db, SQL_SCHOOL_INSERT, PC_DB_ARGS(pc_db_str(code), pc_db_str(name)), NULL, &iid);
    if (rc == 0)
        *id = (int64_t)iid;
    return rc;
}

int pc_store_order_get_locked(struct pc_db *db, const char *order_no, struct pc_order *out)
{
    return order_one(db, SQL_ORDER_GET_LOCK, PC_DB_ARGS(pc_db_str(order_no)), out);
}

int pc_store_order_photo_state(struct pc_db *db, int64_t order_id, const char *status, int resub,
                               int pay_timeout_s)
{
    return pc_db_exec(db, SQL_ORDER_PHOTO_STATE,
                      PC_DB_ARGS(pc_db_str(status), pc_db_i64(resub), pc_db_i64(pay_timeout_s),
                                 pc_db_i64(pay_timeout_s), pc_db_i64(order_id)),
                      NULL, NULL);
}
