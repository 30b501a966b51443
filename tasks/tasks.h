/* tasks/tasks.h — collection tasks: validation, creation and changes (audited), school
 * scope of staff, the collection window, and binding a student with a feature code.
 * Functions with a db run on a worker thread; the rest are pure. */
#ifndef PC_TASKS_TASKS_H
#define PC_TASKS_TASKS_H

#include "core/ctx.h"
#include "store/tasks.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

struct pc_config;

/* Trims and lower-cases a feature code; 1 when the result is 4..32 of [a-z0-9]. */
bool pc_feature_code_norm(const char *in, char *out, size_t len);

enum pc_window { PC_WINDOW_NOT_OPEN = -1, PC_WINDOW_OPEN = 0, PC_WINDOW_CLOSED = 1 };
/* Where now (epoch seconds) stands against a window: both ends included. */
enum pc_window pc_window_at(int64_t opens_at, int64_t closes_at, int64_t now);

/* A new task with the documented defaults: edit_days 7, resubmit_cap 3, unpaid_timeout_s
 * 1800, roster_required true. */
void pc_task_defaults(struct pc_task *t);
/* Applies the fields of a create (partial=false: name, school, collection_type,
 * feature_code, opens_at, closes_at, price_fen required) or PATCH body (partial=true) to t.
 * Times are RFC 3339 with an offset. The school is resolved by the caller ("school" is
 * returned in school_ref). On error returns PC_EINVAL with the field and a message. */
int pc_task_apply_json(struct pc_task *t, const cJSON *j, bool partial, const char **school_ref,
                       const char **field, const char **message);

/* Task id into *t when a role of by with a bit of roles (an admin role always) reaches it
 * (staff/scope.h). Returns 0, PC_ENOTFOUND (also out of scope) or a store error. */
int pc_task_get_for(struct pc_db *db, const struct pc_staff_auth *by, unsigned roles, int64_t id,
                    struct pc_task *t);
/* The tasks by's admin roles reach (their schools'; company admins: every school's) with ids below
 * before_id (0 = from the newest), newest first, at most limit: *out (the caller frees it) of
 * *n. Returns 0 or a store error. */
int pc_task_list_for(struct pc_db *db, const struct pc_staff_auth *by, int64_t before_id, int limit,
                     struct pc_task **out, size_t *n);
/* The tasks by may pick in the console (GET /staff/tasks): the unarchived tasks any role of by
 * reaches (a school's tasks, or a reviewer's one task); newest first, at most limit: *out (the
 * caller frees it) of *n. Returns 0 or a store error. */
int pc_task_list_pickable(struct pc_db *db, const struct pc_staff_auth *by, int limit,
                          struct pc_task **out, size_t *n);
/* The schools of by's roles (company-wide roles: every school), by id: *out (the caller frees
 * it) of *n. Returns 0 or a store error. */
int pc_school_list_for(struct pc_db *db, const struct pc_staff_auth *by, struct pc_school **out,
                       size_t *n);
/* The school named by code (or, failing that, exact name) into t's school_id, school_code and
 * school_name. Returns 0, PC_ENOTFOUND or a store error. */
int pc_task_set_school(struct pc_db *db, struct pc_task *t, const char *code_or_name);
/* Creates a school (company admins) with its audit row ("school.create", details borrowed);
 * *id receives its id. Returns 0, PC_EEXIST (code taken) or a store error. */
int pc_school_create(struct pc_db *db, const struct pc_staff_auth *by, const char *code,
                     const char *name, const cJSON *details, const char *ip, const char *request_id,
                     int64_t *id);

/* Creates a task (audited). PC_EEXIST when the feature code is taken by a live task. */
int pc_task_create(struct pc_db *db, const struct pc_staff_auth *by, struct pc_task *t,
                   const char *ip, const char *request_id);
/* Changes a task with a PATCH body (audited with before/after). PC_ENOTFOUND (also out of
 * scope), PC_EINVAL (field/message set), PC_EEXIST (code taken). t receives the result. */
int pc_task_patch(struct pc_db *db, const struct pc_staff_auth *by, int64_t id, const cJSON *j,
                  const char *ip, const char *request_id, struct pc_task *t, const char **field,
                  const char **message);

/* JSON of a task; admin adds the staff-only fields. */
cJSON *pc_task_json(const struct pc_task *t, bool admin);

enum pc_bind_result {
    PC_BIND_OK = 0,
    PC_BIND_UNKNOWN_CODE,
    PC_BIND_TYPE_MISMATCH,
    PC_BIND_NOT_OPEN,
    PC_BIND_CLOSED,
    PC_BIND_RATE_LIMITED,
    PC_BIND_PROFILE_INCOMPLETE
};
/* Binds the student to the live task of feature_code: profile complete, guesses within
 * the limits (per user and per address), the code known, the type matching, the window
 * open. 0 with *result (and t on success, *retry_after_s when limited), or a store error. */
int pc_task_bind(struct pc_db *db, const struct pc_config *cfg, const struct pc_user_auth *u,
                 const char *collection_type, const char *feature_code, const char *ip,
                 enum pc_bind_result *result, struct pc_task *t, int *retry_after_s);

#endif
