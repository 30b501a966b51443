/* store/retention.c — SQL of the retention job (store/retention.h). */
#include "store/retention.h"

#include "base/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "as_of - days": the run's clock, never the server's. */
#define CUTOFF "CAST(? AS DATETIME(3)) - INTERVAL ? DAY"
/* The current photo of an approved order: kept longer (until its task is archived). */
#define APPROVED_CURRENT "(p.is_current = 1 AND o.status = 'approved')"

static const char SQL_NOW[] = "SELECT UTC_TIMESTAMP(3)";

static const char SQL_ORIGINALS_DUE[] =
    "SELECT p.id, p.original_path FROM photos p JOIN orders o ON o.id = p.order_id "
    "JOIN tasks t ON t.id = o.task_id WHERE p.original_purged_at IS NULL AND "
    "o.status <> 'pending_review' AND p.id > ? AND t.closes_at < CAST(? AS DATETIME(3)) - "
    "INTERVAL IF(" APPROVED_CURRENT ", ?, LEAST(?, ?)) DAY ORDER BY p.id LIMIT ?";
static const char SQL_STANDARD_DUE[] =
    "SELECT p.id, p.normalized_path FROM photos p JOIN orders o ON o.id = p.order_id "
    "JOIN tasks t ON t.id = o.task_id WHERE p.standard_purged_at IS NULL AND "
    "o.status <> 'pending_review' AND p.id > ? AND ((NOT " APPROVED_CURRENT
    " AND t.closes_at < " CUTOFF ") OR (" APPROVED_CURRENT " AND t.archived_at IS NOT NULL AND "
    "t.archived_at < " CUTOFF ")) ORDER BY p.id LIMIT ?";
static const char SQL_ORIGINAL_NEEDED[] = "SELECT 1 FROM photos WHERE original_path = ? AND "
                                          "original_purged_at IS NULL AND id <> ? LIMIT 1";
static const char SQL_STANDARD_NEEDED[] = "SELECT 1 FROM photos WHERE normalized_path = ? AND "
                                          "standard_purged_at IS NULL AND id <> ? LIMIT 1";
static const char SQL_ORIGINAL_PURGED[] =
    "UPDATE photos SET original_purged_at = CAST(? AS DATETIME(3)) WHERE id = ?";
static const char SQL_STANDARD_PURGED[] =
    "UPDATE photos SET standard_purged_at = CAST(? AS DATETIME(3)) WHERE id = ?";
static const char SQL_REFERENCED[] =
    "SELECT EXISTS(SELECT 1 FROM photos WHERE original_path = ? AND original_purged_at IS NULL) "
    "OR EXISTS(SELECT 1 FROM photos WHERE normalized_path = ? AND standard_purged_at IS NULL) "
    "OR EXISTS(SELECT 1 FROM users WHERE avatar_path = ?)";

/* Each purge: the rows (WHERE …, with the CUTOFF's two arguments), deleted or counted. */
#define ROSTER_WHERE                                                                               \
    "WHERE task_id IN (SELECT id FROM tasks WHERE archived_at IS NOT NULL AND archived_at "        \
    "< " CUTOFF ")"
#define CANDIDATES_WHERE "WHERE expires_at < " CUTOFF
#define PHONES_WHERE                                                                               \
    "WHERE phone IS NOT NULL AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.user_id = users.id "   \
    "AND o.status = 'pending_review') AND COALESCE((SELECT MAX(t.closes_at) FROM orders o JOIN "   \
    "tasks t ON t.id = o.task_id WHERE o.user_id = users.id), phone_bound_at, created_at) "        \
    "< " CUTOFF
#define SMS_WHERE     "WHERE expires_at < " CUTOFF
#define OUTBOX_WHERE  "WHERE state IN ('done', 'dead') AND updated_at < " CUTOFF
#define SESSION_WHERE "WHERE expires_at < " CUTOFF " OR revoked_at < " CUTOFF
#define RL_WHERE      "WHERE window_start < " CUTOFF
#define AUDIT_WHERE   "WHERE at < " CUTOFF

static const struct {
    const char *del, *count;
    int cutoffs; /* how many times the cutoff's arguments repeat */
} g_purges[] = {
    [PC_PURGE_ROSTER] = {"DELETE FROM roster_entries " ROSTER_WHERE " LIMIT ?",
                         "SELECT COUNT(*) FROM roster_entries " ROSTER_WHERE, 1},
    [PC_PURGE_CANDIDATES] = {"DELETE FROM collection_candidates " CANDIDATES_WHERE " LIMIT ?",
                             "SELECT COUNT(*) FROM collection_candidates " CANDIDATES_WHERE, 1},
    [PC_PURGE_PHONES] = {"UPDATE users SET phone = NULL, phone_bound_at = NULL, "
                         "updated_at = UTC_TIMESTAMP(3) " PHONES_WHERE " LIMIT ?",
                         "SELECT COUNT(*) FROM users " PHONES_WHERE, 1},
    [PC_PURGE_SMS_CODES] = {"DELETE FROM sms_login_codes " SMS_WHERE " LIMIT ?",
                            "SELECT COUNT(*) FROM sms_login_codes " SMS_WHERE, 1},
    [PC_PURGE_OUTBOX] = {"DELETE FROM outbox " OUTBOX_WHERE " LIMIT ?",
                         "SELECT COUNT(*) FROM outbox " OUTBOX_WHERE, 1},
    [PC_PURGE_STAFF_SESSIONS] = {"DELETE FROM staff_sessions " SESSION_WHERE " LIMIT ?",
                                 "SELECT COUNT(*) FROM staff_sessions " SESSION_WHERE, 2},
    [PC_PURGE_USER_SESSIONS] = {"DELETE FROM user_sessions " SESSION_WHERE " LIMIT ?",
                                "SELECT COUNT(*) FROM user_sessions " SESSION_WHERE, 2},
    [PC_PURGE_RATE_LIMITS] = {"DELETE FROM rate_limits " RL_WHERE " LIMIT ?",
                              "SELECT COUNT(*) FROM rate_limits " RL_WHERE, 1},
    [PC_PURGE_AUDIT] = {"DELETE FROM audit_log " AUDIT_WHERE " LIMIT ?",
                        "SELECT COUNT(*) FROM audit_log " AUDIT_WHERE, 1},
};

int pc_store_now(struct pc_db *db, char out[32])
{
    struct pc_db_res *res = NULL;
    int rc = pc_db_query(db, SQL_NOW, PC_DB_NOARGS, &res);
    if (rc == 0)
        pc_db_res_copy(res, 0, 0, out, 32);
    pc_db_res_free(res);
    return rc;
}

static void file_row(const struct pc_db_res *res, size_t r, void *out)
{
    struct pc_store_photo_file *f = out;
    f->photo_id = pc_db_res_i64(res, r, 0);
    pc_db_res_copy(res, r, 1, f->path, sizeof f->path);
}

int pc_store_photo_files_due(struct pc_db *db, enum pc_photo_file which, const char *as_of,
                             int64_t after_id, int original_days, int unapproved_days,
                             int approved_days, int limit, struct pc_store_photo_file **out,
                             size_t *n)
{
    void *a = NULL;
    int rc = which == PC_PHOTO_ORIGINAL
                 ? pc_db_query_all(db, SQL_ORIGINALS_DUE,
                                   PC_DB_ARGS(pc_db_i64(after_id), pc_db_str(as_of),
                                              pc_db_i64(original_days), pc_db_i64(original_days),
                                              pc_db_i64(unapproved_days), pc_db_i64(limit)),
                                   sizeof **out, file_row, &a, n)
                 : pc_db_query_all(db, SQL_STANDARD_DUE,
                                   PC_DB_ARGS(pc_db_i64(after_id), pc_db_str(as_of),
                                              pc_db_i64(unapproved_days), pc_db_str(as_of),
                                              pc_db_i64(approved_days), pc_db_i64(limit)),
                                   sizeof **out, file_row, &a, n);
    *out = a;
    return rc;
}

int pc_store_photo_file_needed(struct pc_db *db, enum pc_photo_file which, const char *path,
                               int64_t photo_id, bool *needed)
{
    struct pc_db_res *res = NULL;
    *needed = true; /* when in doubt, keep */
    int rc = pc_db_query(db, which == PC_PHOTO_ORIGINAL ? SQL_ORIGINAL_NEEDED : SQL_STANDARD_NEEDED,
                         PC_DB_ARGS(pc_db_str(path), pc_db_i64(photo_id)), &res);
    if (rc == 0)
        *needed = pc_db_res_rows(res) > 0;
    pc_db_res_free(res);
    return rc;
}

int pc_store_photo_file_purged(struct pc_db *db, enum pc_photo_file which, int64_t photo_id,
                               const char *as_of)
{
    return pc_db_exec(db, which == PC_PHOTO_ORIGINAL ? SQL_ORIGINAL_PURGED : SQL_STANDARD_PURGED,
                      PC_DB_ARGS(pc_db_str(as_of), pc_db_i64(photo_id)), NULL, NULL);
}

int pc_store_file_referenced(struct pc_db *db, const char *rel, bool *referenced)
{
    struct pc_db_res *res = NULL;
    *referenced = true; /* when in doubt, keep */
    int rc = pc_db_query(db, SQL_REFERENCED,
                         PC_DB_ARGS(pc_db_str(rel), pc_db_str(rel), pc_db_str(rel)), &res);
    if (rc == 0)
        *referenced = pc_db_res_rows(res) == 1 && pc_db_res_i64(res, 0, 0) != 0;
    pc_db_res_free(res);
    return rc;
}

int pc_store_purge(struct pc_db *db, enum pc_purge what, const char *as_of, int days, int limit,
                   bool count_only, uint64_t *n)
{
    struct pc_db_arg args[5];
    size_t k = 0;
    *n = 0;
    for (int i = 0; i < g_purges[what].cutoffs; i++) {
        args[k++] = pc_db_str(as_of);
        args[k++] = pc_db_i64(days);
    }
    if (!count_only) {
        args[k++] = pc_db_i64(limit);
        return pc_db_exec(db, g_purges[what].del, args, k, n, NULL);
    }
    struct pc_db_res *res = NULL;
    int rc = pc_db_query(db, g_purges[what].count, args, k, &res);
    if (rc == 0)
        *n = (uint64_t)pc_db_res_i64(res, 0, 0);
    pc_db_res_free(res);
    return rc;
}
