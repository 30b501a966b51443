/* store/audit.c — SQL for the audit log (store/audit.h). */
#include "store/audit.h"

#include "base/alloc.h"
#include "base/err.h"
#include "base/timeutil.h"
#include "store/scope.h"

#include <stdlib.h>

static const char SQL_AUDIT_INSERT[] =
    "INSERT INTO audit_log (actor_type, actor_id, actor_name, school_id, action, target_type, "
    "target_id, ip, request_id, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char SQL_AUDIT_LIST[] =
    "SELECT id, at, actor_type, actor_id, actor_name, action, target_type, target_id, ip, "
    "request_id, details, school_id FROM audit_log WHERE " PC_SCOPE_SQL(
        "school_id", "NULL") " AND id < ? ORDER BY id DESC LIMIT ?";

#define AUDIT_NARGS 10

/* The AUDIT_NARGS values of an audit row into v; *details receives the details text to free. */
static void audit_args(const struct pc_audit *a, struct pc_db_arg *v, char **details)
{
    *details = a->details ? cJSON_PrintUnformatted(a->details) : NULL;
    v[0] = pc_db_str(a->actor_type);
    v[1] = a->actor_id ? pc_db_i64(a->actor_id) : pc_db_null();
    v[2] = pc_db_str(a->actor_name);
    v[3] = a->school_id > 0 ? pc_db_i64(a->school_id) : pc_db_null();
    v[4] = pc_db_str(a->action);
    v[5] = pc_db_str(a->target_type);
    v[6] = pc_db_str(a->target_id);
    v[7] = pc_db_str(a->ip && a->ip[0] ? a->ip : NULL);
    v[8] = pc_db_str(a->request_id);
    v[9] = pc_db_str(*details);
}

int pc_store_audit_insert(struct pc_db *db, const struct pc_audit *a)
{
    struct pc_db_arg v[AUDIT_NARGS];
    char *details;
    audit_args(a, v, &details);
    int rc = pc_db_exec(db, SQL_AUDIT_INSERT, v, AUDIT_NARGS, NULL, NULL);
    free(details);
    return rc;
}

int pc_store_audit_insert_many(struct pc_db *db, const struct pc_audit *a, size_t n)
{
    struct pc_db_arg *v = pc_xcalloc(n ? n * AUDIT_NARGS : 1, sizeof *v);
    char **details = pc_xcalloc(n ? n : 1, sizeof *details);
    for (size_t i = 0; i < n; i++)
        audit_args(&a[i], &v[i * AUDIT_NARGS], &details[i]);
    int rc = pc_db_exec_bulk(db, SQL_AUDIT_INSERT, v, AUDIT_NARGS, n, NULL);
    for (size_t i = 0; i < n; i++)
        free(details[i]);
    free(details);
    free(v);
    return rc;
}

int pc_store_audit_list(struct pc_db *db, const struct pc_scope *scope, int64_t before_id,
                        int limit, cJSON **items)
{
    struct pc_db_res *res = NULL;
    struct pc_db_arg args[PC_SCOPE_NARGS + 2];
    struct pc_db_arg *p = pc_scope_args(scope, args);
    *p++ = pc_db_i64(before_id > 0 ? before_id : INT64_MAX);
    *p++ = pc_db_i64(limit);
    *items = NULL;
    int rc = pc_db_query(db, SQL_AUDIT_LIST, args, (size_t)(p - args), &res);
    if (rc)
        return rc;
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < pc_db_res_rows(res); i++) {
        cJSON *o = cJSON_CreateObject();
        char at[32];
        pc_time_db_to_api(pc_db_res_str(res, i, 1), at, sizeof at);
        cJSON_AddNumberToObject(o, "id", (double)pc_db_res_i64(res, i, 0));
        cJSON_AddStringToObject(o, "at", at);
        cJSON_AddStringToObject(o, "actor_type", pc_db_res_str(res, i, 2));
        if (pc_db_res_str(res, i, 3))
            cJSON_AddNumberToObject(o, "actor_id", (double)pc_db_res_i64(res, i, 3));
        static const char *const keys[] = {"actor_name", "action", "target_type",
                                           "target_id",  "ip",     "request_id"};
        for (size_t k = 0; k < 6; k++) {
            const char *v = pc_db_res_str(res, i, 4 + k);
            cJSON_AddItemToObject(o, keys[k], v ? cJSON_CreateString(v) : cJSON_CreateNull());
        }
        const char *d = pc_db_res_str(res, i, 10);
        cJSON *dj = d ? cJSON_Parse(d) : NULL;
        cJSON_AddItemToObject(o, "details", dj ? dj : cJSON_CreateNull());
        cJSON_AddItemToObject(o, "school_id",
                              pc_db_res_str(res, i, 11)
                                  ? cJSON_CreateNumber((double)pc_db_res_i64(res, i, 11))
                                  : cJSON_CreateNull());
        cJSON_AddItemToArray(arr, o);
    }
    pc_db_res_free(res);
    *items = arr;
    return 0;
}
