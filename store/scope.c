/* store/scope.c — the scope filter's arguments (store/scope.h). */
#include "store/scope.h"

struct pc_db_arg *pc_scope_args(const struct pc_scope *s, struct pc_db_arg *out)
{
    *out++ = pc_db_i64(s->all ? 1 : 0);
    for (size_t i = 0; i < PC_SCOPE_MAX; i++)
        *out++ = pc_db_i64(i < s->nschool ? s->school[i] : -1);
    for (size_t i = 0; i < PC_SCOPE_MAX; i++)
        *out++ = pc_db_i64(i < s->ntask ? s->task[i] : -1);
    return out;
}

static bool add(int64_t *set, size_t *n, int64_t v)
{
    for (size_t i = 0; i < *n; i++)
        if (set[i] == v)
            return true;
    if (*n == PC_SCOPE_MAX)
        return false;
    set[(*n)++] = v;
    return true;
}

bool pc_scope_add_school(struct pc_scope *s, int64_t school_id)
{
    return add(s->school, &s->nschool, school_id);
}

bool pc_scope_add_task(struct pc_scope *s, int64_t task_id)
{
    return add(s->task, &s->ntask, task_id);
}

bool pc_scope_has(const struct pc_scope *s, int64_t school_id, int64_t task_id)
{
    if (s->all)
        return true;
    for (size_t i = 0; i < s->nschool; i++)
        if (s->school[i] == school_id)
            return true;
    for (size_t i = 0; task_id && i < s->ntask; i++)
        if (s->task[i] == task_id)
            return true;
    return false;
}
