/* store/scope.h — the part of the data a staff member's roles reach, as a query filter.
 *
 * staff/scope.h builds a pc_scope from the roles that grant an action; a store query that
 * lists rows of several schools takes one and filters with PC_SCOPE_SQL, whose arguments
 * pc_scope_args writes. Pure; any thread. */
#ifndef PC_STORE_SCOPE_H
#define PC_STORE_SCOPE_H

#include "store/db.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PC_SCOPE_MAX 8

/* Every row when all; else the rows whose school is one of school[] or whose task is one of
 * task[] (none of either: no row at all). */
struct pc_scope {
    bool all;
    size_t nschool, ntask;
    int64_t school[PC_SCOPE_MAX];
    int64_t task[PC_SCOPE_MAX];
};

/* The filter over a school column and a task column ("NULL" when the rows have no task). */
#define PC_SCOPE_SQL(school_col, task_col)                                                         \
    "(? = 1 OR " school_col " IN (?, ?, ?, ?, ?, ?, ?, ?) OR " task_col                            \
    " IN (?, ?, ?, ?, ?, ?, ?, ?))"
#define PC_SCOPE_NARGS 17

/* Writes the PC_SCOPE_NARGS arguments of PC_SCOPE_SQL for s into out (unused places hold -1,
 * which no id equals). Returns out + PC_SCOPE_NARGS. */
struct pc_db_arg *pc_scope_args(const struct pc_scope *s, struct pc_db_arg *out);

/* Adds a school (or a task) to s, once; false when s is full. */
bool pc_scope_add_school(struct pc_scope *s, int64_t school_id);
bool pc_scope_add_task(struct pc_scope *s, int64_t task_id);
/* Whether s reaches a row of school_id (and task_id, 0 = none). */
bool pc_scope_has(const struct pc_scope *s, int64_t school_id, int64_t task_id);

#endif
