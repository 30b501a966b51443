/* store/sms_codes.c — SQL for SMS login codes (store/sms_codes.h). */
#include "store/sms_codes.h"

#include "base/err.h"

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

static void code_row(const struct pc_db_res *res, size_t r, void *out)
{
    struct pc_store_sms_code *c = out;
    c->id = pc_db_res_i64(res, r, 0);
    pc_db_res_copy(res, r, 1, c->code_hmac, sizeof c->code_hmac);
    c->expired = pc_db_res_i64(res, r, 2) != 0;
    c->used = pc_db_res_i64(res, r, 3) != 0;
    c->failures = (int)pc_db_res_i64(res, r, 4);
}

int pc_store_sms_code_latest_locked(struct pc_db *db, const char *phone,
                                    struct pc_store_sms_code *out)
{
    return pc_db_query_one(db, SQL_CODE_LATEST, PC_DB_ARGS(pc_db_str(phone)), code_row, out);
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
