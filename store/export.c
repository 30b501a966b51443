/* store/export.c — SQL for a task's photo export: approved orders with their standard photo,
 * and roster students who cannot be exported (store/export.h). Rows are read in pages by id. */
#include "store/export.h"

#include "base/alloc.h"
#include "base/err.h"

#include <string.h>

static const char SQL_APPROVED[] =
    "SELECT o.id, o.order_no, o.student_no, o.student_name, COALESCE(o.college, ''), "
    "COALESCE(o.class_name, ''), "
    "(SELECT rv.created_at FROM reviews rv WHERE rv.order_id = o.id AND rv.decision = "
    "'approve' ORDER BY rv.id DESC LIMIT 1), COALESCE(p.normalized_path, ''), "
    "COALESCE(p.normalized_sha256, ''), 'approved' FROM orders o LEFT JOIN photos p ON "
    "p.current_key = o.id "
    "WHERE o.task_id = ? AND o.status = 'approved' AND o.id > ? ORDER BY o.id LIMIT ?";
/* Roster students without an approved order, with their progress. */
static const char SQL_MISSING[] =
    "SELECT r.id, '', r.student_no, r.name, r.college, COALESCE(r.class_name, ''), NULL, '', '', "
    "IF(r.collected_offline = 1, 'collected_offline', COALESCE((SELECT o.status FROM orders o "
    "WHERE o.task_id = r.task_id AND o.student_no = r.student_no AND o.status <> 'closed' "
    "ORDER BY o.id DESC LIMIT 1), 'not_started')) st FROM roster_entries r "
    "WHERE r.task_id = ? AND r.id > ? HAVING st <> 'approved' ORDER BY r.id LIMIT ?";

static void export_row(const struct pc_db_res *res, size_t r, void *out)
{
    struct pc_export_row *e = out;
    e->id = pc_db_res_i64(res, r, 0);
    pc_db_res_copy(res, r, 1, e->order_no, sizeof e->order_no);
    pc_db_res_copy(res, r, 2, e->student_no, sizeof e->student_no);
    pc_db_res_copy(res, r, 3, e->name, sizeof e->name);
    pc_db_res_copy(res, r, 4, e->college, sizeof e->college);
    pc_db_res_copy(res, r, 5, e->class_name, sizeof e->class_name);
    pc_db_res_copy(res, r, 6, e->approved_at, sizeof e->approved_at);
    pc_db_res_copy(res, r, 7, e->path, sizeof e->path);
    pc_db_res_copy(res, r, 8, e->sha256, sizeof e->sha256);
    pc_db_res_copy(res, r, 9, e->state, sizeof e->state);
}

/* Both queries answer the same columns: id, order_no, student_no, name, college, class,
 * approval time, photo path, its SHA-256, progress state. */
static int page(struct pc_db *db, const char *sql, int64_t task_id, int64_t after_id, int limit,
                struct pc_export_row **out, size_t *n)
{
    void *a = NULL;
    int rc = pc_db_query_all(db, sql,
                             PC_DB_ARGS(pc_db_i64(task_id), pc_db_i64(after_id), pc_db_i64(limit)),
                             sizeof **out, export_row, &a, n);
    *out = a;
    return rc;
}

int pc_store_export_approved(struct pc_db *db, int64_t task_id, int64_t after_id, int limit,
                             struct pc_export_row **out, size_t *n)
{
    return page(db, SQL_APPROVED, task_id, after_id, limit, out, n);
}

int pc_store_export_missing(struct pc_db *db, int64_t task_id, int64_t after_id, int limit,
                            struct pc_export_row **out, size_t *n)
{
    return page(db, SQL_MISSING, task_id, after_id, limit, out, n);
}
