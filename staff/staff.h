/* staff/staff.h — staff accounts: Argon2id passwords, roles, login with rate limits,
 * opaque bearer tokens (only their SHA-256 is stored) and the audit rows of each login.
 *
 * Every function takes the calling worker's database handle and runs on that thread. */
#ifndef PC_STAFF_STAFF_H
#define PC_STAFF_STAFF_H

#include "core/ctx.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pc_config;
struct pc_db;

enum pc_role {
    PC_ROLE_ADMIN = 1 << 0,
    PC_ROLE_REVIEWER = 1 << 1,
    PC_ROLE_FINANCE = 1 << 2,
    PC_ROLE_COLLEGE = 1 << 3
};

#define PC_STAFF_USERNAME_MAX 64
#define PC_STAFF_PASSWORD_MIN 10
#define PC_STAFF_PASSWORD_MAX 1024

/* Role bit for "admin", "reviewer", "finance", "college"; 0 if unknown. */
unsigned pc_role_from_name(const char *name);
/* JSON array of the role names in mask. */
cJSON *pc_role_names(unsigned mask);

/* 1 if u is 1..PC_STAFF_USERNAME_MAX of [A-Za-z0-9._@-]. */
int pc_staff_username_valid(const char *u);

/* Argon2id hash in PHC string form ($argon2id$v=19$m=19456,t=2,p=1$salt$hash). */
int pc_staff_hash_password(const char *password, char *out, size_t outlen);
/* 1 if password matches the encoded hash, 0 otherwise. */
int pc_staff_verify_password(const char *encoded, const char *password);

/* Creates an account with one role (CLI). school_code may be NULL (company-wide) and is
 * required for the college role, as is college; task_id (0 = none) assigns a reviewer to one
 * task (its school is the task's). Writes an audit row as "system". 0, PC_EEXIST, PC_ENOTFOUND
 * (school or task), PC_EINVAL (bad name/role/password/scope), or a store error. */
int pc_staff_create(struct pc_db *db, const char *username, const char *password, const char *role,
                    const char *school_code, const char *college, int64_t task_id, int64_t *id);
/* Replaces the password of an account (CLI) and ends every session it had, in one transaction
 * audited as "system"; *sessions_revoked (may be NULL) receives how many. */
int pc_staff_set_password(struct pc_db *db, const char *username, const char *password,
                          uint64_t *sessions_revoked);
/* Grants (or revokes) one role with its scope to an account (CLI: `portraitd user grant` /
 * `user revoke`, e.g. a reviewer assigned to a task). Audited as "system". 0 (granting a role
 * held already changes nothing), PC_ENOTFOUND (account, school, task, or the role to revoke),
 * PC_EINVAL (a scope the role cannot have), PC_ETOOBIG (too many roles), or a store error. */
int pc_staff_role_change(struct pc_db *db, const char *username, bool grant, const char *role,
                         const char *school_code, const char *college, int64_t task_id);

struct pc_login_in {
    const char *username;
    const char *password;
    const char *ip;
    const char *user_agent;
    const char *request_id;
};

struct pc_login_out {
    char token[48];      /* the bearer token, shown once */
    char expires_at[32]; /* RFC 3339, +08:00 */
    unsigned roles;
    int retry_after_s; /* with PC_ELIMIT */
};

/* Checks the rate limits, the password and the account, then issues a token.
 * Every attempt is audited. 0, PC_EAUTH (wrong username/password or disabled),
 * PC_ELIMIT (too many failures: out->retry_after_s), PC_EDBDOWN, PC_EDB. */
int pc_staff_login(struct pc_db *db, const struct pc_config *cfg, const struct pc_login_in *in,
                   struct pc_login_out *out);

enum pc_token_state { PC_TOKEN_OK = 0, PC_TOKEN_UNKNOWN, PC_TOKEN_EXPIRED };
/* Resolves a bearer token into who it belongs to. 0 with *state telling whether it is
 * usable (unknown covers revoked and disabled), or a store error. */
int pc_staff_authenticate(struct pc_db *db, const char *token, struct pc_staff_auth *out,
                          enum pc_token_state *state);
/* Writes an audit row for an action of a staff member on target_type/target_id (an integer
 * id) about school_id (0 = no school: only company staff read it). details is borrowed and may
 * be NULL. Returns the store's result. */
int pc_staff_audit(struct pc_db *db, const struct pc_staff_auth *by, int64_t school_id,
                   const char *action, const char *target_type, int64_t target_id,
                   const cJSON *details, const char *ip, const char *request_id);

/* One record a staff member read: the school it belongs to and how the audit row names it
 * (an order number, a student number). */
struct pc_read_item {
    int64_t school_id;
    const char *ref;
};
#define PC_AUDIT_READ_REFS 500 /* refs named per audit row; more are counted only */
/* Audits a staff read of personal data ("who, what, which, from where"): one row per school
 * among items (so each school's admins see the reads of their students), with details (borrowed,
 * may be NULL) plus "rows" (how many of that school) and "refs" (up to PC_AUDIT_READ_REFS of
 * theirs); with no items nothing personal was read and nothing is written. Returns 0 or a store
 * error — a read that cannot be audited must not be answered. */
int pc_staff_audit_read(struct pc_db *db, const struct pc_staff_auth *by, const char *action,
                        const char *target_type, int64_t target_id, const cJSON *details,
                        const struct pc_read_item *items, size_t n, const char *ip,
                        const char *request_id);

/* The audit log rows by's admin roles reach (company admins: every row; a school's admin: the
 * rows of that school), newest first, with ids below before_id (0 = from the newest), at most
 * limit, as a JSON array in *items (the caller's). The read is itself audited ("audit.read").
 * Returns 0 or a store error. */
int pc_staff_audit_list(struct pc_db *db, const struct pc_staff_auth *by, int64_t before_id,
                        int limit, const char *ip, const char *request_id, cJSON **items);

/* Revokes the session of auth and audits it. */
int pc_staff_logout(struct pc_db *db, const struct pc_staff_auth *auth, const char *ip,
                    const char *request_id);

#endif
