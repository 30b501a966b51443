/* store/staff_admin.c — SQL of staff account management and the school list
 * (staff_admin.h). */
#include "store/staff_admin.h"

#include "base/alloc.h"
#include "base/err.h"
#include "store/db.h"

#include <stdio.h>
#include <stdlib.h>

#define STAFF_COLS "SELECT id, username, display_name, disabled, created_at, updated_at FROM staff "

static const char SQL_ALL[] = STAFF_COLS "ORDER BY id";
static const char SQL_GET[] = STAFF_COLS "WHERE id = ?";
static const char SQL_CREATE[] =
    "INSERT INTO staff (username, password_hash, display_name) VALUES (?, ?, ?)";
static const char SQL_UPDATE[] =
    "UPDATE staff SET display_name = IF(?, ?, display_name), "
    "disabled = IF(? >= 0, ?, disabled), updated_at = UTC_TIMESTAMP(3) WHERE id = ?";
static const char SQL_ROLES_CLEAR[] = "DELETE FROM staff_roles WHERE staff_id = ?";
static const char SQL_ROLE_ADD[] =
    "INSERT INTO staff_roles (staff_id, role, school_id, college, task_id) VALUES (?, ?, ?, ?, ?)";
static const char SQL_REVOKE_ALL[] = "UPDATE staff_sessions SET revoked_at = UTC_TIMESTAMP(3) "
                                     "WHERE staff_id = ? AND revoked_at IS NULL";
static const char SQL_SCHOOLS[] =
    "SELECT id, code, name FROM schools WHERE ? = 0 OR id = ? ORDER BY id";

static void staff_row(const struct pc_db_res *res, size_t i, struct pc_store_staff_row *s)
{
    s->id = pc_db_res_i64(res, i, 0);
    pc_db_res_copy(res, i, 1, s->username, sizeof s->username);
    pc_db_res_copy(res, i, 2, s->display_name, sizeof s->display_name);
    s->disabled = pc_db_res_i64(res, i, 3) != 0;
    pc_db_res_copy(res, i, 4, s->created_at, sizeof s->created_at);
    pc_db_res_copy(res, i, 5, s->updated_at, sizeof s->updated_at);
}

int pc_store_staff_all(struct pc_db *db, struct pc_store_staff_row **out, size_t *n)
{
    struct pc_db_res *res = NULL;
    *out = NULL;
    *n = 0;
    int rc = pc_db_query(db, SQL_ALL, PC_DB_NOARGS, &res);
    if (rc)
        return rc;
    *n = pc_db_res_rows(res);
    *out = pc_xcalloc(*n ? *n : 1, sizeof **out);
    for (size_t i = 0; i < *n; i++)
        staff_row(res, i, &(*out)[i]);
    pc_db_res_free(res);
    return 0;
}

int pc_store_staff_get(struct pc_db *db, int64_t id, struct pc_store_staff_row *out)
{
    struct pc_db_res *res = NULL;
    int rc = pc_db_query(db, SQL_GET, PC_DB_ARGS(pc_db_i64(id)), &res);
    if (rc)
        return rc;
    rc = pc_db_res_rows(res) ? 0 : PC_ENOTFOUND;
    if (rc == 0)
        staff_row(res, 0, out);
    pc_db_res_free(res);
    return rc;
}

int pc_store_staff_create(struct pc_db *db, const char *username, const char *password_hash,
                          const char *display_name, int64_t *id)
{
    uint64_t iid = 0;
    int rc = pc_db_exec(
        db, SQL_CREATE,
        PC_DB_ARGS(pc_db_str(username), pc_db_str(password_hash), pc_db_str(display_name)), NULL,
        &iid);
    if (rc == 0)
        *id = (int64_t)iid;
    return rc;
}

int pc_store_staff_update(struct pc_db *db, int64_t id, const char *display_name, int disabled)
{
    uint64_t n = 0;
    int rc = pc_db_exec(db, SQL_UPDATE,
                        PC_DB_ARGS(pc_db_i64(display_name != NULL), pc_db_str(display_name),
                                   pc_db_i64(disabled), pc_db_i64(disabled > 0), pc_db_i64(id)),
                        &n, NULL);
    return rc ? rc : n ? 0 : PC_ENOTFOUND;
}

int pc_store_staff_roles_clear(struct pc_db *db, int64_t staff_id)
{
    return pc_db_exec(db, SQL_ROLES_CLEAR, PC_DB_ARGS(pc_db_i64(staff_id)), NULL, NULL);
}

int pc_store_staff_role_add(struct pc_db *db, int64_t staff_id, const char *role, int64_t school_id,
                            const char *college, int64_t task_id)
{
    return pc_db_exec(db, SQL_ROLE_ADD,
                      PC_DB_ARGS(pc_db_i64(staff_id), pc_db_str(role),
                                 school_id ? pc_db_i64(school_id) : pc_db_null(),
                                 pc_db_str(college && college[0] ? college : NULL),
                                 task_id ? pc_db_i64(task_id) : pc_db_null()),
                      NULL, NULL);
}

int pc_store_staff_sessions_revoke_all(struct pc_db *db, int64_t staff_id, uint64_t *n)
{
    return pc_db_exec(db, SQL_REVOKE_ALL, PC_DB_ARGS(pc_db_i64(staff_id)), n, NULL);
}

int pc_store_schools(struct pc_db *db, int64_t school_id, struct pc_store_school_row **out,
                     size_t *n)
{
    struct pc_db_res *res = NULL;
    *out = NULL;
    *n = 0;
    int rc =
        pc_db_query(db, SQL_SCHOOLS, PC_DB_ARGS(pc_db_i64(school_id), pc_db_i64(school_id)), &res);
    if (rc)
        return rc;
    *n = pc_db_res_rows(res);
    *out = pc_xcalloc(*n ? *n : 1, sizeof **out);
    for (size_t i = 0; i < *n; i++) {
        (*out)[i].id = pc_db_res_i64(res, i, 0);
        pc_db_res_copy(res, i, 1, (*out)[i].code, sizeof(*out)[i].code);
        pc_db_res_copy(res, i, 2, (*out)[i].name, sizeof(*out)[i].name);
    }
    pc_db_res_free(res);
    return 0;
}
