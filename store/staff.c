/* store/staff.c — SQL for staff accounts, roles and staff sessions (store/staff.h). */
#include "store/staff.h"

#include "base/err.h"

#include <stdio.h>
#include <string.h>

static const char SQL_STAFF_INSERT[] =
    "INSERT INTO staff (username, password_hash, display_name) VALUES (?, ?, ?)";
static const char SQL_ROLE_INSERT[] =
    "INSERT INTO staff_roles (staff_id, role, school_id, college, task_id) VALUES (?, ?, ?, ?, ?)";
static const char SQL_ROLES_CLEAR[] = "DELETE FROM staff_roles WHERE staff_id = ?";
static const char SQL_ROLE_DELETE[] =
    "DELETE FROM staff_roles WHERE staff_id = ? AND role = ? AND COALESCE(school_id, 0) = ? AND "
    "COALESCE(college, '') = ? AND COALESCE(task_id, 0) = ?";
/* Reviewers assigned to one task (GET /admin/tasks/{id}/reviewers). */
static const char SQL_TASK_REVIEWERS[] =
    "SELECT s.id, s.username, COALESCE(s.display_name, ''), s.disabled FROM staff_roles r "
    "JOIN staff s ON s.id = r.staff_id WHERE r.role = 'reviewer' AND r.task_id = ? ORDER BY s.id";
#define STAFF_ROW_COLS                                                                             \
    "SELECT id, username, display_name, disabled, created_at, updated_at FROM staff "
static const char SQL_STAFF_ALL[] = STAFF_ROW_COLS "ORDER BY id";
static const char SQL_STAFF_GET[] = STAFF_ROW_COLS "WHERE id = ?";
static const char SQL_STAFF_UPDATE[] =
    "UPDATE staff SET display_name = IF(?, ?, display_name), "
    "disabled = IF(? >= 0, ?, disabled), updated_at = UTC_TIMESTAMP(3) WHERE id = ?";
static const char SQL_STAFF_BY_NAME[] =
    "SELECT id, username, password_hash, disabled FROM staff WHERE username = ?";
static const char SQL_STAFF_SET_PW[] =
    "UPDATE staff SET password_hash = ?, password_changed_at = UTC_TIMESTAMP(3), "
    "updated_at = UTC_TIMESTAMP(3) WHERE id = ?";
static const char SQL_STAFF_ROLES[] =
    "SELECT role, COALESCE(school_id, 0), college, COALESCE(task_id, 0) FROM staff_roles "
    "WHERE staff_id = ? ORDER BY id";
static const char SQL_SESSION_INSERT[] =
    "INSERT INTO staff_sessions (staff_id, token_hash, expires_at, created_ip, user_agent) "
    "VALUES (?, ?, UTC_TIMESTAMP(3) + INTERVAL ? SECOND, ?, ?)";
static const char SQL_SESSION_EXPIRES[] = "SELECT expires_at FROM staff_sessions WHERE id = ?";
static const char SQL_SESSION_GET[] =
    "SELECT s.id, s.staff_id, u.username, s.expires_at <= UTC_TIMESTAMP(3), "
    "s.revoked_at IS NOT NULL, u.disabled "
    "FROM staff_sessions s JOIN staff u ON u.id = s.staff_id WHERE s.token_hash = ?";
static const char SQL_SESSION_REVOKE[] =
    "UPDATE staff_sessions SET revoked_at = UTC_TIMESTAMP(3) WHERE id = ? AND revoked_at IS NULL";
static const char SQL_SESSIONS_REVOKE_ALL[] =
    "UPDATE staff_sessions SET revoked_at = UTC_TIMESTAMP(3) "
    "WHERE staff_id = ? AND revoked_at IS NULL";

int pc_store_staff_insert(struct pc_db *db, const char *username, const char *password_hash,
                          const char *display_name, int64_t *id)
{
    uint64_t iid = 0;
    int rc = pc_db_exec(
        db, SQL_STAFF_INSERT,
        PC_DB_ARGS(pc_db_str(username), pc_db_str(password_hash), pc_db_str(display_name)), NULL,
        &iid);
    if (rc == 0)
        *id = (int64_t)iid;
    return rc;
}

int pc_store_staff_role_insert(struct pc_db *db, int64_t staff_id, const char *role,
                               int64_t school_id, const char *college, int64_t task_id)
{
    return pc_db_exec(db, SQL_ROLE_INSERT,
                      PC_DB_ARGS(pc_db_i64(staff_id), pc_db_str(role),
                                 school_id ? pc_db_i64(school_id) : pc_db_null(),
                                 pc_db_str(college && college[0] ? college : NULL),
                                 task_id ? pc_db_i64(task_id) : pc_db_null()),
                      NULL, NULL);
}

int pc_store_staff_role_delete(struct pc_db *db, int64_t staff_id, const char *role,
                               int64_t school_id, const char *college, int64_t task_id, uint64_t *n)
{
    return pc_db_exec(db, SQL_ROLE_DELETE,
                      PC_DB_ARGS(pc_db_i64(staff_id), pc_db_str(role), pc_db_i64(school_id),
                                 pc_db_str(college ? college : ""), pc_db_i64(task_id)),
                      n, NULL);
}

static void reviewer_row(const struct pc_db_res *res, size_t r, void *out)
{
    struct pc_store_staff_row *s = out;
    s->id = pc_db_res_i64(res, r, 0);
    pc_db_res_copy(res, r, 1, s->username, sizeof s->username);
    pc_db_res_copy(res, r, 2, s->display_name, sizeof s->display_name);
    s->disabled = pc_db_res_i64(res, r, 3) != 0;
}

int pc_store_staff_task_reviewers(struct pc_db *db, int64_t task_id,
                                  struct pc_store_staff_row **out, size_t *n)
{
    return pc_db_query_all(db, SQL_TASK_REVIEWERS, PC_DB_ARGS(pc_db_i64(task_id)), sizeof **out,
                           reviewer_row, (void **)out, n);
}

int pc_store_staff_roles_clear(struct pc_db *db, int64_t staff_id)
{
    return pc_db_exec(db, SQL_ROLES_CLEAR, PC_DB_ARGS(pc_db_i64(staff_id)), NULL, NULL);
}

static void staff_list_row(const struct pc_db_res *res, size_t r, void *out)
{
    struct pc_store_staff_row *s = out;
    s->id = pc_db_res_i64(res, r, 0);
    pc_db_res_copy(res, r, 1, s->username, sizeof s->username);
    pc_db_res_copy(res, r, 2, s->display_name, sizeof s->display_name);
    s->disabled = pc_db_res_i64(res, r, 3) != 0;
    pc_db_res_copy(res, r, 4, s->created_at, sizeof s->created_at);
    pc_db_res_copy(res, r, 5, s->updated_at, sizeof s->updated_at);
}

int pc_store_staff_all(struct pc_db *db, struct pc_store_staff_row **out, size_t *n)
{
    return pc_db_query_all(db, SQL_STAFF_ALL, PC_DB_NOARGS, sizeof **out, staff_list_row,
                           (void **)out, n);
}

int pc_store_staff_get(struct pc_db *db, int64_t id, struct pc_store_staff_row *out)
{
    return pc_db_query_one(db, SQL_STAFF_GET, PC_DB_ARGS(pc_db_i64(id)), staff_list_row, out);
}

int pc_store_staff_update(struct pc_db *db, int64_t id, const char *display_name, int disabled)
{
    uint64_t n = 0;
    int rc = pc_db_exec(db, SQL_STAFF_UPDATE,
                        PC_DB_ARGS(pc_db_i64(display_name != NULL), pc_db_str(display_name),
                                   pc_db_i64(disabled), pc_db_i64(disabled > 0), pc_db_i64(id)),
                        &n, NULL);
    return rc ? rc : n ? 0 : PC_ENOTFOUND;
}

static void staff_row(const struct pc_db_res *res, size_t r, void *out)
{
    struct pc_store_staff *s = out;
    s->id = pc_db_res_i64(res, r, 0);
    pc_db_res_copy(res, r, 1, s->username, sizeof s->username);
    pc_db_res_copy(res, r, 2, s->password_hash, sizeof s->password_hash);
    s->disabled = pc_db_res_i64(res, r, 3) != 0;
}

int pc_store_staff_by_username(struct pc_db *db, const char *username, struct pc_store_staff *out)
{
    return pc_db_query_one(db, SQL_STAFF_BY_NAME, PC_DB_ARGS(pc_db_str(username)), staff_row, out);
}

int pc_store_staff_set_password(struct pc_db *db, int64_t staff_id, const char *password_hash)
{
    uint64_t n = 0;
    int rc = pc_db_exec(db, SQL_STAFF_SET_PW,
                        PC_DB_ARGS(pc_db_str(password_hash), pc_db_i64(staff_id)), &n, NULL);
    return rc ? rc : n ? 0 : PC_ENOTFOUND;
}

int pc_store_staff_roles(struct pc_db *db, int64_t staff_id, struct pc_store_role *out, size_t max,
                         size_t *n)
{
    struct pc_db_res *res = NULL;
    *n = 0;
    int rc = pc_db_query(db, SQL_STAFF_ROLES, PC_DB_ARGS(pc_db_i64(staff_id)), &res);
    if (rc)
        return rc;
    for (size_t i = 0; i < pc_db_res_rows(res) && *n < max; i++) {
        struct pc_store_role *r = &out[(*n)++];
        snprintf(r->role, sizeof r->role, "%s", pc_db_res_str(res, i, 0));
        r->school_id = pc_db_res_i64(res, i, 1);
        const char *c = pc_db_res_str(res, i, 2);
        snprintf(r->college, sizeof r->college, "%s", c ? c : "");
        r->task_id = pc_db_res_i64(res, i, 3);
    }
    pc_db_res_free(res);
    return 0;
}

int pc_store_staff_session_insert(struct pc_db *db, int64_t staff_id, const char *token_hash,
                                  int ttl_s, const char *ip, const char *user_agent,
                                  int64_t *session_id, char expires_at[32])
{
    uint64_t iid = 0;
    char ua[256];
    snprintf(ua, sizeof ua, "%s", user_agent ? user_agent : "");
    int rc = pc_db_exec(db, SQL_SESSION_INSERT,
                        PC_DB_ARGS(pc_db_i64(staff_id), pc_db_str(token_hash), pc_db_i64(ttl_s),
                                   pc_db_str(ip), pc_db_str(user_agent ? ua : NULL)),
                        NULL, &iid);
    if (rc)
        return rc;
    *session_id = (int64_t)iid;
    struct pc_db_res *res = NULL;
    rc = pc_db_query(db, SQL_SESSION_EXPIRES, PC_DB_ARGS(pc_db_i64(*session_id)), &res);
    if (rc)
        return rc;
    const char *e = pc_db_res_str(res, 0, 0);
    snprintf(expires_at, 32, "%s", e ? e : "");
    pc_db_res_free(res);
    return 0;
}

static void session_row(const struct pc_db_res *res, size_t r, void *out)
{
    struct pc_store_session *s = out;
    s->session_id = pc_db_res_i64(res, r, 0);
    s->staff_id = pc_db_res_i64(res, r, 1);
    pc_db_res_copy(res, r, 2, s->username, sizeof s->username);
    s->expired = pc_db_res_i64(res, r, 3) != 0;
    s->revoked = pc_db_res_i64(res, r, 4) != 0;
    s->disabled = pc_db_res_i64(res, r, 5) != 0;
}

int pc_store_staff_session_get(struct pc_db *db, const char *token_hash,
                               struct pc_store_session *out)
{
    return pc_db_query_one(db, SQL_SESSION_GET, PC_DB_ARGS(pc_db_str(token_hash)), session_row,
                           out);
}

int pc_store_staff_session_revoke(struct pc_db *db, int64_t session_id)
{
    return pc_db_exec(db, SQL_SESSION_REVOKE, PC_DB_ARGS(pc_db_i64(session_id)), NULL, NULL);
}

int pc_store_staff_sessions_revoke_all(struct pc_db *db, int64_t staff_id, uint64_t *n)
{
    return pc_db_exec(db, SQL_SESSIONS_REVOKE_ALL, PC_DB_ARGS(pc_db_i64(staff_id)), n, NULL);
}
