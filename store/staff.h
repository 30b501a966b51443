/* store/staff.h — staff accounts, their roles and their sessions (tables staff, staff_roles,
 * staff_sessions). Owned by staff/. Worker thread (the CLI on the main thread). */
#ifndef PC_STORE_STAFF_H
#define PC_STORE_STAFF_H

#include "store/db.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pc_store_staff {
    int64_t id;
    char username[65];
    char password_hash[256];
    bool disabled;
};

/* Creates an account (display_name may be NULL); *id receives its id. Returns 0, PC_EEXIST
 * (username taken) or a store error. */
int pc_store_staff_insert(struct pc_db *db, const char *username, const char *password_hash,
                          const char *display_name, int64_t *id);
/* Gives staff_id a role (the ENUM text); school_id 0, college NULL or "" and task_id 0 mean
 * "not limited". Returns 0 or a store error. */
int pc_store_staff_role_insert(struct pc_db *db, int64_t staff_id, const char *role,
                               int64_t school_id, const char *college, int64_t task_id);
/* Removes one role of an account, matched on all its scope (0 / NULL = none); *n receives
 * how many rows went. Returns 0 or a store error. */
int pc_store_staff_role_delete(struct pc_db *db, int64_t staff_id, const char *role,
                               int64_t school_id, const char *college, int64_t task_id,
                               uint64_t *n);
/* Removes every role of an account (before a new set is inserted). Returns 0 or a store
 * error. */
int pc_store_staff_roles_clear(struct pc_db *db, int64_t staff_id);

/* An account as the console lists it (never its password hash). */
struct pc_store_staff_row {
    int64_t id;
    char username[65];
    char display_name[129]; /* "" when none */
    bool disabled;
    char created_at[32]; /* UTC DATETIME text */
    char updated_at[32];
};
/* Every account, by id: *out (the caller frees it) of *n. Returns 0 or a store error. */
int pc_store_staff_all(struct pc_db *db, struct pc_store_staff_row **out, size_t *n);
/* The accounts holding a reviewer role assigned to task_id (id, username, display_name,
 * disabled), by id: *out (the caller frees it) of *n. Returns 0 or a store error. */
int pc_store_staff_task_reviewers(struct pc_db *db, int64_t task_id,
                                  struct pc_store_staff_row **out, size_t *n);
/* Account id into *out. Returns 0, PC_ENOTFOUND or a store error. */
int pc_store_staff_get(struct pc_db *db, int64_t id, struct pc_store_staff_row *out);
/* Changes what is given: display_name unless NULL, disabled unless < 0. Returns 0,
 * PC_ENOTFOUND or a store error. */
int pc_store_staff_update(struct pc_db *db, int64_t id, const char *display_name, int disabled);
/* The account named username into *out. Returns 0, PC_ENOTFOUND or a store error. */
int pc_store_staff_by_username(struct pc_db *db, const char *username, struct pc_store_staff *out);
/* Replaces an account's password hash. Returns 0, PC_ENOTFOUND or a store error. */
int pc_store_staff_set_password(struct pc_db *db, int64_t staff_id, const char *password_hash);

struct pc_store_role {
    char role[16];
    int64_t school_id; /* 0 = none */
    char college[129];
    int64_t task_id; /* a reviewer's one task; 0 = every task of the school */
};
/* Up to max roles of a staff member into out (the caller's array); *n receives how many.
 * Returns 0 or a store error. */
int pc_store_staff_roles(struct pc_db *db, int64_t staff_id, struct pc_store_role *out, size_t max,
                         size_t *n);

/* Creates a session that expires ttl_s from now (database clock); *session_id receives its
 * id and expires_at the UTC DATETIME text. Returns 0 or a store error. */
int pc_store_staff_session_insert(struct pc_db *db, int64_t staff_id, const char *token_hash,
                                  int ttl_s, const char *ip, const char *user_agent,
                                  int64_t *session_id, char expires_at[32]);

struct pc_store_session {
    int64_t session_id;
    int64_t staff_id;
    char username[65];
    bool expired;  /* past expires_at */
    bool revoked;  /* logged out */
    bool disabled; /* account disabled */
};
/* The session of a token hash into *out. Returns 0, PC_ENOTFOUND or a store error. */
int pc_store_staff_session_get(struct pc_db *db, const char *token_hash,
                               struct pc_store_session *out);
/* Ends a session (logout). Returns 0 or a store error. */
int pc_store_staff_session_revoke(struct pc_db *db, int64_t session_id);
/* Ends every live session of an account (new password, disabled); *n (may be NULL) receives
 * how many. Returns 0 or a store error. */
int pc_store_staff_sessions_revoke_all(struct pc_db *db, int64_t staff_id, uint64_t *n);

#endif
