/* staff/accounts.h — staff account management by admins (GET/POST /admin/staff,
 * PATCH /admin/staff/{id}): roles with their school / college / task scope, disabling, new
 * passwords (which revoke the account's sessions). Every change is one transaction with its
 * audit row; passwords are never logged or audited.
 *
 * Scope: a company admin (no school) manages every account; a school admin manages only the
 * accounts whose every role lies in their school, and grants roles in it only.
 * Worker thread, with the caller's database handle. */
#ifndef PC_STAFF_ACCOUNTS_H
#define PC_STAFF_ACCOUNTS_H

#include "staff/staff.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#define PC_STAFF_MAX_ROLES        8
#define PC_STAFF_DISPLAY_NAME_MAX 32 /* characters */

/* Why an input was refused: the JSON member and a Chinese message for the console. */
struct pc_staff_input_err {
    const char *field;
    const char *message;
};

/* The accounts by visible to by, as a JSON array of account objects
 * {"id","username","display_name","disabled","roles":[{"role","school_id","college",
 * "task_id"}],"created_at","updated_at"} (caller deletes). */
int pc_staff_accounts_list(struct pc_db *db, const struct pc_staff_auth *by, cJSON **items);

/* Creates an account from {"username","password","display_name"?,"roles":[...]}.
 * 0 with *account; PC_EINVAL (*e says why), PC_EEXIST (username taken), or a store error. */
int pc_staff_account_create(struct pc_db *db, const struct pc_staff_auth *by, const cJSON *body,
                            const char *ip, const char *request_id, cJSON **account,
                            struct pc_staff_input_err *e);

/* Changes an account from {"roles"?,"disabled"?,"password"?,"display_name"?}; a new password
 * or disabling revokes every session of the account. An admin may not disable themself or drop
 * their own admin role. 0 with *account; PC_ENOTFOUND (unknown or outside the scope),
 * PC_EINVAL (*e), or a store error. */
int pc_staff_account_patch(struct pc_db *db, const struct pc_staff_auth *by, int64_t id,
                           const cJSON *body, const char *ip, const char *request_id,
                           cJSON **account, struct pc_staff_input_err *e);

/* The accounts assigned to task_id as its reviewers, as a JSON array of {"id","username",
 * "display_name","disabled"} (caller deletes). Returns 0 or a store error. */
int pc_staff_task_reviewers(struct pc_db *db, int64_t task_id, cJSON **items);
/* Assigns (add) or unassigns account staff_id as a reviewer of task_id (of school_id): a
 * reviewer role scoped to that task, audited "staff.update", in one transaction. Adding a
 * role held already, or removing one not held, changes nothing. PC_ENOTFOUND when the account
 * or the task lies outside by's admin scope, PC_ETOOBIG when the account has the most roles
 * already, or a store error. */
int pc_staff_task_reviewer_set(struct pc_db *db, const struct pc_staff_auth *by, int64_t task_id,
                               int64_t school_id, int64_t staff_id, bool add, const char *ip,
                               const char *request_id);

#endif
