/* store/tasks.h — schools, collection tasks and students' bindings to them (tables schools,
 * tasks, task_bindings). Owned by tasks/ (staff/ resolves a school for the CLI; orders/ reads a
 * task's rules and window; the window close-out marks a task closed out). Worker or jobs
 * thread. */
#ifndef PC_STORE_TASKS_H
#define PC_STORE_TASKS_H

#include "store/db.h"
#include "store/scope.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- schools ---- */
struct pc_school {
    int64_t id;
    char code[17];
    char name[129];
};
/* School id into *out. Returns 0, PC_ENOTFOUND or a store error. */
int pc_store_school_get(struct pc_db *db, int64_t id, struct pc_school *out);
/* The schools of scope by id: *out (the caller frees it) of *n. Returns 0 or a store error. */
int pc_store_school_list(struct pc_db *db, const struct pc_scope *scope, struct pc_school **out,
                         size_t *n);
/* *id of the school with this code. Returns 0, PC_ENOTFOUND or a store error. */
int pc_store_school_id_by_code(struct pc_db *db, const char *code, int64_t *id);
/* School by code (or, failing that, exact name): its id, code and name. Returns 0,
 * PC_ENOTFOUND or a store error. */
int pc_store_school_find(struct pc_db *db, const char *code_or_name, int64_t *id, char code[17],
                         char name[129]);
/* Creates a school; *id receives its id. Returns 0, PC_EEXIST (code taken) or a store error. */
int pc_store_school_insert(struct pc_db *db, const char *code, const char *name, int64_t *id);

/* ---- collection tasks ---- */
struct pc_task {
    int64_t id;
    int64_t school_id;
    char school_code[17];
    char school_name[129];
    char name[129];
    char collection_type[16]; /* centralized | scattered */
    char feature_code[33];
    char opens_at[32]; /* UTC DATETIME text */
    char closes_at[32];
    int64_t price_fen;
    int edit_days;
    int resubmit_cap;
    int unpaid_timeout_s;
    int grad_year;
    bool roster_required;
    bool archived;
    char created_at[32];
    char updated_at[32];
    /* computed by the database at read time */
    bool not_open_yet; /* now < opens_at */
    bool closed;       /* now > closes_at */
};

/* Creates t (code_norm: its normalised feature code); *id receives its id. Returns 0,
 * PC_EEXIST (the code is taken by a live task) or a store error. */
int pc_store_task_insert(struct pc_db *db, const struct pc_task *t, const char *code_norm,
                         int64_t *id);
/* Writes every mutable column of t (name, type, code, window, money, rules, archived).
 * Returns 0, PC_EEXIST (code taken) or a store error. */
int pc_store_task_update(struct pc_db *db, const struct pc_task *t, const char *code_norm);
/* Task id into *out; for_update locks the row (inside a transaction). Returns 0, PC_ENOTFOUND
 * or a store error. */
int pc_store_task_get(struct pc_db *db, int64_t id, bool for_update, struct pc_task *out);
/* The live task with this normalised feature code into *out. Returns 0, PC_ENOTFOUND or a
 * store error. */
int pc_store_task_by_code(struct pc_db *db, const char *code_norm, struct pc_task *out);
/* Tasks of scope (its schools' and its own tasks) with ids below before_id (0 = from the
 * newest), newest first, at most limit: *out (the caller frees it) of *n. Returns 0 or a store
 * error. */
int pc_store_task_list(struct pc_db *db, const struct pc_scope *scope, int64_t before_id, int limit,
                       struct pc_task **out, size_t *n);

/* ---- bindings ---- */
/* Binds a student to a task (idempotent). Returns 0 or a store error. */
int pc_store_binding_insert(struct pc_db *db, int64_t user_id, int64_t task_id);
/* *exists tells whether the student bound the task. Returns 0 or a store error. */
int pc_store_binding_exists(struct pc_db *db, int64_t user_id, int64_t task_id, bool *exists);

/* ---- window close-out (orders/closeout.c) ---- */
/* Up to max ids of tasks whose window closed since their last close-out into task_ids (the
 * caller's array); *n receives how many. Returns 0 or a store error. */
int pc_store_closeout_due(struct pc_db *db, int64_t *task_ids, size_t max, size_t *n);
/* Records that a task's close-out ran now. Returns 0 or a store error. */
int pc_store_closeout_mark(struct pc_db *db, int64_t task_id);

#endif
