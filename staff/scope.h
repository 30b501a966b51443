/* staff/scope.h — which role of a staff member grants an action, and where.
 *
 * Every role carries its own scope (core/ctx.h: school, college, task). An action is allowed
 * when one role with a bit of roles_any (an admin role counts for every action) reaches the
 * resource: a company-wide role every school, a school's role that school, a reviewer
 * assigned to a task that task only, a college role its school (the college is then the
 * caller's to apply). Lists use the union of the granting roles' scopes (store/scope.h).
 * Pure; any thread. */
#ifndef PC_STAFF_SCOPE_H
#define PC_STAFF_SCOPE_H

#include "core/ctx.h"
#include "store/scope.h"

#include <stdbool.h>
#include <stdint.h>

/* The role of by that grants an action of roles_any on a resource of school_id and task_id
 * (0: the resource has no task), preferring an unrestricted role (an admin, then a role
 * without college) over a college role; NULL when none does. */
const struct pc_staff_role *pc_staff_grant(const struct pc_staff_auth *by, unsigned roles_any,
                                           int64_t school_id, int64_t task_id);
/* Whether some role grants it (pc_staff_grant != NULL). */
bool pc_staff_may(const struct pc_staff_auth *by, unsigned roles_any, int64_t school_id,
                  int64_t task_id);
/* Whether a college role of by (or an unrestricted granting role) reaches college at
 * school_id for an action of roles_any. */
bool pc_staff_may_college(const struct pc_staff_auth *by, unsigned roles_any, int64_t school_id,
                          int64_t task_id, const char *college);
/* The union of the scopes of by's roles that grant an action of roles_any. */
void pc_staff_scope(const struct pc_staff_auth *by, unsigned roles_any, struct pc_scope *out);
/* Whether a role granting roles_any is company-wide (no school, no task). */
bool pc_staff_company(const struct pc_staff_auth *by, unsigned roles_any);
/* The one school every role of by lies in, or 0 (company-wide, or several schools): the
 * school an audit row about by's account belongs to. */
int64_t pc_staff_home_school(const struct pc_staff_auth *by);

#endif
