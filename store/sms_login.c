/* store/sms_login.c — SQL for SMS login codes and students found by phone (sms_login.h). */
#include "store/sms_login.h"

#include "base/err.h"
#include "store/db.h"

#include <stdio.h>

static const char SQL_CODE_INSERT[] =
    "INSERT INTO sms_login_codes (phone, code_hmac, expires_at, created_ip) "
    "VALUES (?, ?, UTC_TIMESTAMP(3) + INTERVAL ? SECOND, ?)";
static const char SQL_CODE_LATEST[] =
    "SELECT id, code_hmac, expires_at <= UTC_TIMESTAMP(3), used_at IS NOT NULL, failures "
    "FROM sms_login_codes WHERE phone = ? ORDER BY id DESC LIMIT 1 FOR UPDATE";
static const char SQL_CODE_FAIL[] = "UPDATE sms_login_codes SET failures = failures + 1, "
                                    "used_at = IF(?, UTC_TIMESTAMP(3), used_at) WHERE id = ?";
static const char SQL_CODE_USE[] =
    "UPDATE sms_login_codes SET used_at = UTC_TIMESTAMP(3) WHERE id = ? AND used_at IS NULL";
static const char SQL_USER_BY_PHONE[] =
    "SELECT id FROM users WHERE phone = ? ORDER BY phone_bound_at DESC, id DESC LIMIT 1";
static const char SQL_USER_INSERT_PHONE[] =
    "INSERT INTO users (openid, phone, phone_bound_at) VALUES (?, ?, UTC_TIMESTAMP(3))";

int pc_store_sms_code_insert(struct pc_db *db, const char *phone, const char *code_hmac, int ttl_s,
                             const char *ip, int64_t *id)
{
    uint64_t iid = 0;
    int rc = pc_db_exec(
        db, SQL_CODE_INSERT,
        PC_DB_ARGS(pc_db_str(phone), pc_db_str(code_hmac), pc_db_i64(ttl_s), pc_db_str(ip)), NULL,
        &iid);
    if (rc == 0)
        *id = (int64_t)iid;
    return rc;
}

int pc_store_sms_code_latest_locked(struct pc_db *db, const char *phone,
                                    struct pc_store_sms_code *out)
{
    struct pc_db_res *res = NULL;
    int rc = pc_db_query(db, SQL_CODE_LATEST, PC_DB_ARGS(pc_db_str(phone)), &res);
    if (rc)
        return rc;
    rc = pc_db_res_rows(res) ? 0 : PC_ENOTFOUND;
    if (rc == 0) {
        out->id = pc_db_res_i64(res, 0, 0);
        pc_db_res_copy(res, 0, 1, out->code_hmac, sizeof out->code_hmac);
        out->expired = pc_db_res_i64(res, 0, 2) != 0;
        out->used = pc_db_res_i64(res, 0, 3) != 0;
        out->failures = (int)pc_db_res_i64(res, 0, 4);
    }
    pc_db_res_free(res);
    return rc;
}

int pc_store_sms_code_fail(struct pc_db *db, int64_t id, bool burn)
{
    return pc_db_exec(db, SQL_CODE_FAIL, PC_DB_ARGS(pc_db_i64(burn ? 1 : 0), pc_db_i64(id)), NULL,
                      NULL);
}

int pc_store_sms_code_use(struct pc_db *db, int64_t id)
{
    uint64_t n = 0;
    int rc = pc_db_exec(db, SQL_CODE_USE, PC_DB_ARGS(pc_db_i64(id)), &n, NULL);
    return rc ? rc : n ? 0 : PC_ECONFLICT;
}

int pc_store_user_by_phone(struct pc_db *db, const char *phone, int64_t *user_id)
{
    struct pc_db_res *res = NULL;
    int rc = pc_db_query(db, SQL_USER_BY_PHONE, PC_DB_ARGS(pc_db_str(phone)), &res);
    if (rc)
        return rc;
    rc = pc_db_res_rows(res) ? 0 : PC_ENOTFOUND;
    if (rc == 0)
        *user_id = pc_db_res_i64(res, 0, 0);
    pc_db_res_free(res);
    return rc;
}

int pc_store_user_insert_phone(struct pc_db *db, const char *openid, const char *phone,
                               int64_t *user_id)
{
    uint64_t iid = 0;
    int rc = pc_db_exec(db, SQL_USER_INSERT_PHONE, PC_DB_ARGS(pc_db_str(openid), pc_db_str(phone)),
                        NULL, &iid);
    if (rc == 0)
        *user_id = (int64_t)iid;
    return rc;
}
