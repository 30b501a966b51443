/* staff/scope.c — per-role grants (staff/scope.h). */
#include "staff/scope.h"

#include "staff/staff.h"

#include <string.h>

static bool grants(const struct pc_staff_role *r, unsigned roles_any)
{
    return (r->role & (roles_any | PC_ROLE_ADMIN)) != 0;
}

static bool reaches(const struct pc_staff_role *r, int64_t school_id, int64_t task_id)
{
    if (r->school_id && r->school_id != school_id)
        return false;
    return !r->task_id || r->task_id == task_id;
}

/* Lower is better: admin, then other roles without a college, then college roles. */
static int rank(const struct pc_staff_role *r)
{
    return (r->role & PC_ROLE_ADMIN) ? 0 : r->college[0] ? 2 : 1;
}

const struct pc_staff_role *pc_staff_grant(const struct pc_staff_auth *by, unsigned roles_any,
                                           int64_t school_id, int64_t task_id)
{
    const struct pc_staff_role *best = NULL;
    for (size_t i = 0; by && i < by->nroles; i++) {
        const struct pc_staff_role *r = &by->role[i];
        if (grants(r, roles_any) && reaches(r, school_id, task_id) &&
            (!best || rank(r) < rank(best)))
            best = r;
    }
    return best;
}

bool pc_staff_may(const struct pc_staff_auth *by, unsigned roles_any, int64_t school_id,
                  int64_t task_id)
{
    return pc_staff_grant(by, roles_any, school_id, task_id) != NULL;
}

bool pc_staff_may_college(const struct pc_staff_auth *by, unsigned roles_any, int64_t school_id,
                          int64_t task_id, const char *college)
{
    for (size_t i = 0; by && i < by->nroles; i++) {
        const struct pc_staff_role *r = &by->role[i];
        if (grants(r, roles_any) && reaches(r, school_id, task_id) &&
            (!r->college[0] || (college && !strcmp(r->college, college))))
            return true;
    }
    return false;
}

void pc_staff_scope(const struct pc_staff_auth *by, unsigned roles_any, struct pc_scope *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; by && i < by->nroles && !out->all; i++) {
        const struct pc_staff_role *r = &by->role[i];
        if (!grants(r, roles_any))
            continue;
        if (r->task_id) /* past PC_SCOPE_MAX, a role is left out: fewer rows, never more */
            pc_scope_add_task(out, r->task_id);
        else if (r->school_id)
            pc_scope_add_school(out, r->school_id);
        else
            out->all = true;
    }
}

bool pc_staff_company(const struct pc_staff_auth *by, unsigned roles_any)
{
    for (size_t i = 0; by && i < by->nroles; i++)
        if (grants(&by->role[i], roles_any) && !by->role[i].school_id && !by->role[i].task_id)
            return true;
    return false;
}

int64_t pc_staff_home_school(const struct pc_staff_auth *by)
{
    int64_t school = 0;
    for (size_t i = 0; by && i < by->nroles; i++) {
        if (!by->role[i].school_id || (school && by->role[i].school_id != school))
            return 0;
        school = by->role[i].school_id;
    }
    return school;
}
