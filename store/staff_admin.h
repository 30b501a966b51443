/* store/staff_admin.h — SQL of staff account management by admins (staff/accounts.c) and
 * the list of schools the console shows.
 *
 * Every function takes the calling worker's database handle; 0 or a store error
 * (PC_ENOTFOUND / PC_EEXIST where said, PC_EDBDOWN, PC_EDB, PC_ERETRY). */
#ifndef PC_STORE_STAFF_ADMIN_H
#define PC_STORE_STAFF_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pc_db;

struct pc_store_staff_row {
    int64_t id;
    char username[65];
    char display_name[129]; /* "" when none */
    bool disabled;
    char created_at[32]; /* UTC DATETIME text */
    char updated_at[32];
};

/* Every account, by id; *out (caller frees with free()) receives *n rows. */
int pc_store_staff_all(struct pc_db *db, struct pc_store_staff_row **out, size_t *n);
/* One account. 0 or PC_ENOTFOUND. */
int pc_store_staff_get(struct pc_db *db, int64_t id, struct pc_store_staff_row *out);
/* A new account (display_name may be NULL). 0, PC_EEXIST (username taken). */
int pc_store_staff_create(struct pc_db *db, const char *username, const char *password_hash,
                          const char *display_name, int64_t *id);
/* Changes what is given: display_name unless NULL, disabled unless < 0. 0 or PC_ENOTFOUND. */
int pc_store_staff_update(struct pc_db *db, int64_t id, const char *display_name, int disabled);
/* Removes every role of an account (before the new set is added). */
int pc_store_staff_roles_clear(struct pc_db *db, int64_t staff_id);
/* Adds a role; school_id, task_id 0 and college NULL mean "not limited". */
int pc_store_staff_role_add(struct pc_db *db, int64_t staff_id, const char *role, int64_t school_id,
                            const char *college, int64_t task_id);
/* Revokes every live session of an account; *n (may be NULL) receives how many. */
int pc_store_staff_sessions_revoke_all(struct pc_db *db, int64_t staff_id, uint64_t *n);

struct pc_store_school_row {
    int64_t id;
    char code[17];
    char name[129];
};
/* Schools by id (only school_id when it is not 0); *out (caller frees) receives *n rows. */
int pc_store_schools(struct pc_db *db, int64_t school_id, struct pc_store_school_row **out,
                     size_t *n);

#endif
