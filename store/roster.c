/* store/roster.c — SQL for roster entries and collection-code candidates (store/roster.h). */
#include "store/roster.h"

#include "base/alloc.h"
#include "base/err.h"

#include <stdlib.h>
#include <string.h>

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

int pc_store_roster_upsert(struct pc_db *db, int64_t task_id, const struct pc_roster_entry *r,
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

static void entry_row(const struct pc_db_res *res, size_t r, void *out)
{
    struct pc_roster_entry *e = out;
    memset(e, 0, sizeof *e);
    e->id = pc_db_res_i64(res, r, 0);
    e->seq = (int)pc_db_res_i64(res, r, 1);
    pc_db_res_copy(res, r, 2, e->college, sizeof e->college);
    pc_db_res_copy(res, r, 3, e->name, sizeof e->name);
    pc_db_res_copy(res, r, 4, e->student_no, sizeof e->student_no);
    pc_db_res_copy(res, r, 5, e->class_name, sizeof e->class_name);
    pc_db_res_copy(res, r, 6, e->id_masked, sizeof e->id_masked);
    e->collected = (int)pc_db_res_i64(res, r, 7);
}

int pc_store_roster_get(struct pc_db *db, int64_t task_id, const char *student_no,
                        struct pc_roster_entry *out)
{
    return pc_db_query_one(db, SQL_ROSTER_GET,
                           PC_DB_ARGS(pc_db_i64(task_id), pc_db_str(student_no)), entry_row, out);
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

static const char SQL_ENROLLMENT[] =
    "SELECT enrollment_phash FROM roster_entries WHERE task_id = ? AND student_no = ?";

int pc_store_roster_enrollment_phash(struct pc_db *db, int64_t task_id, const char *student_no,
                                     uint64_t *phash, bool *has)
{
    struct pc_db_res *res = NULL;
    *has = false;
    int rc = pc_db_query(db, SQL_ENROLLMENT, PC_DB_ARGS(pc_db_i64(task_id), pc_db_str(student_no)),
                         &res);
    if (rc)
        return rc;
    const char *v = pc_db_res_str(res, 0, 0);
    if (v) {
        *phash = strtoull(v, NULL, 10);
        *has = true;
    }
    pc_db_res_free(res);
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

static void candidate_row(const struct pc_db_res *res, size_t r, void *out)
{
    struct pc_store_candidate *c = out;
    memset(c, 0, sizeof *c);
    pc_db_res_copy(res, r, 0, c->public_id, sizeof c->public_id);
    c->user_id = pc_db_res_i64(res, r, 1);
    c->task_id = pc_db_res_i64(res, r, 2);
    pc_db_res_copy(res, r, 3, c->code_sha256, sizeof c->code_sha256);
    pc_db_res_copy(res, r, 4, c->student_no, sizeof c->student_no);
    const char *rec = pc_db_res_str(res, r, 5);
    c->record = pc_xstrdup(rec ? rec : "{}");
    c->expired = pc_db_res_i64(res, r, 6) != 0;
}

int pc_store_candidate_get(struct pc_db *db, const char *public_id, int64_t user_id,
                           int64_t task_id, struct pc_store_candidate *out)
{
    return pc_db_query_one(db, SQL_CAND_GET,
                           PC_DB_ARGS(pc_db_str(public_id), pc_db_i64(user_id), pc_db_i64(task_id)),
                           candidate_row, out);
}
