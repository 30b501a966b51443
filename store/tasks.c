/* store/tasks.c — SQL for schools, collection tasks and bindings (store/tasks.h). */
#include "store/tasks.h"

#include "base/alloc.h"
#include "base/err.h"
#include "store/scope.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char SQL_SCHOOL_BY_CODE[] = "SELECT id FROM schools WHERE code = ?";
static const char SQL_SCHOOL_INSERT[] = "INSERT INTO schools (code, name) VALUES (?, ?)";
static const char SQL_SCHOOL_GET[] = "SELECT id, code, name FROM schools WHERE id = ?";
static const char SQL_SCHOOL_LIST[] =
    "SELECT id, code, name FROM schools WHERE " PC_SCOPE_SQL("id", "NULL") " ORDER BY id";
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
static const char SQL_TASK_LIST[] =
    "SELECT " TASK_COLS
    "WHERE " PC_SCOPE_SQL("t.school_id", "t.id") " AND t.id < ? ORDER BY t.id DESC LIMIT ?";
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

static void school_row(const struct pc_db_res *res, size_t r, void *out)
{
    struct pc_school *s = out;
    s->id = pc_db_res_i64(res, r, 0);
    pc_db_res_copy(res, r, 1, s->code, sizeof s->code);
    pc_db_res_copy(res, r, 2, s->name, sizeof s->name);
}

int pc_store_school_id_by_code(struct pc_db *db, const char *code, int64_t *id)
{
    struct pc_school s;
    int rc = pc_db_query_one(db, SQL_SCHOOL_BY_CODE, PC_DB_ARGS(pc_db_str(code)), school_row, &s);
    if (rc == 0)
        *id = s.id;
    return rc;
}

int pc_store_school_find(struct pc_db *db, const char *code_or_name, int64_t *id, char code[17],
                         char name[129])
{
    struct pc_school s;
    int rc = pc_db_query_one(
        db, SQL_SCHOOL_FIND,
        PC_DB_ARGS(pc_db_str(code_or_name), pc_db_str(code_or_name), pc_db_str(code_or_name)),
        school_row, &s);
    if (rc == 0) {
        *id = s.id;
        snprintf(code, 17, "%s", s.code);
        snprintf(name, 129, "%s", s.name);
    }
    return rc;
}

int pc_store_school_get(struct pc_db *db, int64_t id, struct pc_school *out)
{
    return pc_db_query_one(db, SQL_SCHOOL_GET, PC_DB_ARGS(pc_db_i64(id)), school_row, out);
}

int pc_store_school_list(struct pc_db *db, const struct pc_scope *scope, struct pc_school **out,
                         size_t *n)
{
    struct pc_db_arg args[PC_SCOPE_NARGS];
    pc_scope_args(scope, args);
    return pc_db_query_all(db, SQL_SCHOOL_LIST, args, PC_SCOPE_NARGS, sizeof **out, school_row,
                           (void **)out, n);
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

static void task_row(const struct pc_db_res *res, size_t r, void *out)
{
    struct pc_task *t = out;
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

int pc_store_task_get(struct pc_db *db, int64_t id, bool for_update, struct pc_task *out)
{
    return pc_db_query_one(db, for_update ? SQL_TASK_GET_LOCK : SQL_TASK_GET,
                           PC_DB_ARGS(pc_db_i64(id)), task_row, out);
}

int pc_store_task_by_code(struct pc_db *db, const char *code_norm, struct pc_task *out)
{
    return pc_db_query_one(db, SQL_TASK_BY_CODE, PC_DB_ARGS(pc_db_str(code_norm)), task_row, out);
}

int pc_store_task_list(struct pc_db *db, const struct pc_scope *scope, int64_t before_id, int limit,
                       struct pc_task **out, size_t *n)
{
    struct pc_db_arg args[PC_SCOPE_NARGS + 2];
    struct pc_db_arg *p = pc_scope_args(scope, args);
    *p++ = pc_db_i64(before_id > 0 ? before_id : INT64_MAX);
    *p++ = pc_db_i64(limit);
    void *a = NULL;
    int rc =
        pc_db_query_all(db, SQL_TASK_LIST, args, (size_t)(p - args), sizeof **out, task_row, &a, n);
    *out = a;
    return rc;
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

/* ---- window close-out ---- */

static const char SQL_CLOSEOUT_DUE[] =
    "SELECT id FROM tasks WHERE closes_at <= UTC_TIMESTAMP(3) AND archived_at IS NULL AND "
    "(closed_out_at IS NULL OR closed_out_at < closes_at) ORDER BY closes_at LIMIT ?";
static const char SQL_CLOSEOUT_MARK[] =
    "UPDATE tasks SET closed_out_at = UTC_TIMESTAMP(3) WHERE id = ?";

int pc_store_closeout_due(struct pc_db *db, int64_t *task_ids, size_t max, size_t *n)
{
    struct pc_db_res *res = NULL;
    *n = 0;
    int rc = pc_db_query(db, SQL_CLOSEOUT_DUE, PC_DB_ARGS(pc_db_i64((int64_t)max)), &res);
    if (rc)
        return rc;
    for (size_t i = 0; i < pc_db_res_rows(res) && *n < max; i++)
        task_ids[(*n)++] = pc_db_res_i64(res, i, 0);
    pc_db_res_free(res);
    return 0;
}

int pc_store_closeout_mark(struct pc_db *db, int64_t task_id)
{
    return pc_db_exec(db, SQL_CLOSEOUT_MARK, PC_DB_ARGS(pc_db_i64(task_id)), NULL, NULL);
}
