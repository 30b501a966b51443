/* store/audit.h — the audit log (table audit_log): who did what to which record.
 *
 * Written by every module in the transaction of the change it records (staff actions through
 * staff/'s pc_staff_audit); read by staff/ for GET /admin/audit. Worker or jobs thread, with
 * that thread's connection. */
#ifndef PC_STORE_AUDIT_H
#define PC_STORE_AUDIT_H

#include "store/db.h"
#include "store/scope.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

struct pc_audit {
    const char *actor_type; /* staff, user, system, wechat, anonymous */
    int64_t actor_id;       /* 0 = none */
    const char *actor_name;
    int64_t school_id;  /* the school the row is about; 0 = none (company level) */
    const char *action; /* dotted verb: "staff.login", "task.update" */
    const char *target_type;
    const char *target_id;
    const char *ip;
    const char *request_id;
    const cJSON *details; /* borrowed; may be NULL */
};

/* Appends one row (a's strings are copied). Returns 0 or a store error. */
int pc_store_audit_insert(struct pc_db *db, const struct pc_audit *a);
/* Appends the n rows of a[] in one round trip (inside a transaction). Returns 0 or a store
 * error. */
int pc_store_audit_insert_many(struct pc_db *db, const struct pc_audit *a, size_t n);
/* Rows of scope's schools (rows of no school only when scope->all) newest first with ids below
 * before_id (0 = from the newest), at most limit, as a JSON array of audit entries in *items
 * (the caller's). Returns 0 or a store error. */
int pc_store_audit_list(struct pc_db *db, const struct pc_scope *scope, int64_t before_id,
                        int limit, cJSON **items);

#endif
