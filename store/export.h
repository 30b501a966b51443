/* store/export.h — a task's photo export, read in pages by id: approved orders with their
 * standard photo, and roster students who cannot be exported. Owned by export/. Worker
 * thread. */
#ifndef PC_STORE_EXPORT_H
#define PC_STORE_EXPORT_H

#include "store/db.h"

#include <stddef.h>
#include <stdint.h>

struct pc_export_row {
    int64_t id; /* order id (approved) or roster entry id (missing): the paging cursor */
    char order_no[33];
    char student_no[33];
    char name[129];
    char college[129];
    char class_name[129];
    char approved_at[32];
    char path[256];  /* the standard photo's storage path; "" when none */
    char sha256[65]; /* of that file */
    char state[20];  /* missing rows: the student's progress */
};
/* Approved orders of the task with their current photo, ids above after_id, at most limit:
 * *out (the caller frees it) of *n. Returns 0 or a store error. */
int pc_store_export_approved(struct pc_db *db, int64_t task_id, int64_t after_id, int limit,
                             struct pc_export_row **out, size_t *n);
/* Roster students of the task without an approved order, with their progress, ids above
 * after_id, at most limit: *out (the caller frees it) of *n. Returns 0 or a store error. */
int pc_store_export_missing(struct pc_db *db, int64_t task_id, int64_t after_id, int limit,
                            struct pc_export_row **out, size_t *n);

#endif
