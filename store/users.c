/* store/users.c — SQL for students and their sessions (store/users.h). */
#include "store/users.h"

#include "base/err.h"

#include <stdio.h>
#include <string.h>

static const char SQL_UPSERT[] =
    "INSERT INTO users (openid, unionid, session_key_enc, session_key_at) "
    "VALUES (?, ?, ?, UTC_TIMESTAMP(3)) ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id), "
    "unionid = COALESCE(VALUES(unionid), unionid), session_key_enc = VALUES(session_key_enc), "
    "session_key_at = VALUES(session_key_at), updated_at = UTC_TIMESTAMP(3)";
static const char SQL_GET[] = "SELECT id, openid, nickname, real_name, phone, avatar_name "
                              "FROM users WHERE id = ?";
static const char SQL_SET_PROFILE[] = "UPDATE users SET real_name = ?, nickname = ?, "
                                      "updated_at = UTC_TIMESTAMP(3) WHERE id = ?";
static const char SQL_SET_PHONE[] = "UPDATE users SET phone = ?, phone_bound_at = "
                                    "UTC_TIMESTAMP(3), updated_at = UTC_TIMESTAMP(3) WHERE id = ?";
static const char SQL_BY_PHONE[] =
    "SELECT id FROM users WHERE phone = ? ORDER BY phone_bound_at DESC, id DESC LIMIT 1";
static const char SQL_INSERT_PHONE[] =
    "INSERT INTO users (openid, phone, phone_bound_at) VALUES (?, ?, UTC_TIMESTAMP(3))";
static const char SQL_SET_AVATAR[] = "UPDATE users SET avatar_name = ?, avatar_path = ?, "
                                     "updated_at = UTC_TIMESTAMP(3) WHERE id = ?";
static const char SQL_AVATAR_PATH[] = "SELECT avatar_path FROM users WHERE avatar_name = ?";
static const char SQL_SESSION_INSERT[] =
    "INSERT INTO user_sessions (user_id, token_hash, expires_at, created_ip) "
    "VALUES (?, ?, UTC_TIMESTAMP(3) + INTERVAL ? SECOND, ?)";
static const char SQL_SESSION_EXPIRES[] = "SELECT expires_at FROM user_sessions WHERE id = ?";
static const char SQL_SESSION_GET[] =
    "SELECT s.id, s.user_id, u.openid, s.expires_at <= UTC_TIMESTAMP(3), "
    "s.revoked_at IS NOT NULL, s.expires_at FROM user_sessions s JOIN users u ON u.id = s.user_id "
    "WHERE s.token_hash = ?";
static const char SQL_SESSION_REVOKED_SINCE[] =
    "SELECT token_hash FROM user_sessions WHERE revoked_at >= UTC_TIMESTAMP(3) - INTERVAL ? SECOND";
static const char SQL_SESSION_REVOKE[] =
    "UPDATE user_sessions SET revoked_at = UTC_TIMESTAMP(3) WHERE id = ? AND revoked_at IS NULL";

int pc_store_user_upsert(struct pc_db *db, const char *openid, const char *unionid,
                         const unsigned char *session_key_enc, size_t enc_len, int64_t *id,
                         bool *created)
{
    uint64_t affected = 0, iid = 0;
    int rc = pc_db_exec(
        db, SQL_UPSERT,
        PC_DB_ARGS(pc_db_str(openid), pc_db_str(unionid), pc_db_blob(session_key_enc, enc_len)),
        &affected, &iid);
    if (rc)
        return rc;
    *id = (int64_t)iid;
    *created = affected == 1;
    return 0;
}

static void user_row(const struct pc_db_res *res, size_t r, void *out)
{
    struct pc_user *u = out;
    u->id = pc_db_res_i64(res, r, 0);
    pc_db_res_copy(res, r, 1, u->openid, sizeof u->openid);
    pc_db_res_copy(res, r, 2, u->nickname, sizeof u->nickname);
    pc_db_res_copy(res, r, 3, u->real_name, sizeof u->real_name);
    pc_db_res_copy(res, r, 4, u->phone, sizeof u->phone);
    pc_db_res_copy(res, r, 5, u->avatar_name, sizeof u->avatar_name);
}

int pc_store_user_get(struct pc_db *db, int64_t id, struct pc_user *out)
{
    return pc_db_query_one(db, SQL_GET, PC_DB_ARGS(pc_db_i64(id)), user_row, out);
}

int pc_store_user_set_profile(struct pc_db *db, int64_t id, const char *real_name,
                              const char *nickname)
{
    return pc_db_exec(db, SQL_SET_PROFILE,
                      PC_DB_ARGS(pc_db_str(real_name), pc_db_str(nickname), pc_db_i64(id)), NULL,
                      NULL);
}

static void id_row(const struct pc_db_res *res, size_t r, void *out)
{
    *(int64_t *)out = pc_db_res_i64(res, r, 0);
}

int pc_store_user_by_phone(struct pc_db *db, const char *phone, int64_t *user_id)
{
    return pc_db_query_one(db, SQL_BY_PHONE, PC_DB_ARGS(pc_db_str(phone)), id_row, user_id);
}

int pc_store_user_insert_phone(struct pc_db *db, const char *openid, const char *phone,
                               int64_t *user_id)
{
    uint64_t iid = 0;
    int rc = pc_db_exec(db, SQL_INSERT_PHONE, PC_DB_ARGS(pc_db_str(openid), pc_db_str(phone)), NULL,
                        &iid);
    if (rc == 0)
        *user_id = (int64_t)iid;
    return rc;
}

int pc_store_user_set_phone(struct pc_db *db, int64_t id, const char *phone)
{
    return pc_db_exec(db, SQL_SET_PHONE, PC_DB_ARGS(pc_db_str(phone), pc_db_i64(id)), NULL, NULL);
}

int pc_store_user_set_avatar(struct pc_db *db, int64_t id, const char *avatar_name,
                             const char *path)
{
    return pc_db_exec(db, SQL_SET_AVATAR,
                      PC_DB_ARGS(pc_db_str(avatar_name), pc_db_str(path), pc_db_i64(id)), NULL,
                      NULL);
}

int pc_store_avatar_path(struct pc_db *db, const char *avatar_name, char *path, size_t len)
{
    struct pc_db_res *res = NULL;
    int rc = pc_db_query(db, SQL_AVATAR_PATH, PC_DB_ARGS(pc_db_str(avatar_name)), &res);
    if (rc)
        return rc;
    rc = pc_db_res_str(res, 0, 0) ? 0 : PC_ENOTFOUND; /* no row, or no path recorded */
    if (rc == 0)
        pc_db_res_copy(res, 0, 0, path, len);
    pc_db_res_free(res);
    return rc;
}

int pc_store_user_session_insert(struct pc_db *db, int64_t user_id, const char *token_hash,
                                 int ttl_s, const char *ip, int64_t *session_id,
                                 char expires_at[32])
{
    uint64_t iid = 0;
    int rc = pc_db_exec(
        db, SQL_SESSION_INSERT,
        PC_DB_ARGS(pc_db_i64(user_id), pc_db_str(token_hash), pc_db_i64(ttl_s), pc_db_str(ip)),
        NULL, &iid);
    if (rc)
        return rc;
    *session_id = (int64_t)iid;
    struct pc_db_res *res = NULL;
    rc = pc_db_query(db, SQL_SESSION_EXPIRES, PC_DB_ARGS(pc_db_i64(*session_id)), &res);
    if (rc)
        return rc;
    pc_db_res_copy(res, 0, 0, expires_at, 32);
    pc_db_res_free(res);
    return 0;
}

static void session_row(const struct pc_db_res *res, size_t r, void *out)
{
    struct pc_store_user_session *s = out;
    s->session_id = pc_db_res_i64(res, r, 0);
    s->user_id = pc_db_res_i64(res, r, 1);
    pc_db_res_copy(res, r, 2, s->openid, sizeof s->openid);
    s->expired = pc_db_res_i64(res, r, 3) != 0;
    s->revoked = pc_db_res_i64(res, r, 4) != 0;
    pc_db_res_copy(res, r, 5, s->expires_at, sizeof s->expires_at);
}

int pc_store_user_session_get(struct pc_db *db, const char *token_hash,
                              struct pc_store_user_session *out)
{
    return pc_db_query_one(db, SQL_SESSION_GET, PC_DB_ARGS(pc_db_str(token_hash)), session_row,
                           out);
}

int pc_store_user_session_revoke(struct pc_db *db, int64_t session_id)
{
    return pc_db_exec(db, SQL_SESSION_REVOKE, PC_DB_ARGS(pc_db_i64(session_id)), NULL, NULL);
}

static void token_hash_row(const struct pc_db_res *res, size_t r, void *out)
{
    pc_db_res_copy(res, r, 0, out, PC_STORE_TOKEN_HASH_LEN + 1);
}

int pc_store_user_sessions_revoked_since(struct pc_db *db, int window_s,
                                         char (**hashes)[PC_STORE_TOKEN_HASH_LEN + 1], size_t *n)
{
    return pc_db_query_all(db, SQL_SESSION_REVOKED_SINCE, PC_DB_ARGS(pc_db_i64(window_s)),
                           sizeof **hashes, token_hash_row, (void **)hashes, n);
}
