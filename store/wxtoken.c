/* store/wxtoken.c — SQL for leases and the shared WeChat access_token. */
#include "store/store.h"

#include "base/err.h"

#include <string.h>

/* holder is assigned first, so the expires_at expression sees the new holder. */
static const char SQL_LEASE[] =
    "INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, UTC_TIMESTAMP(3) + INTERVAL ? "
    "SECOND) ON DUPLICATE KEY UPDATE "
    "holder = IF(expires_at < UTC_TIMESTAMP(3) OR holder = VALUES(holder), VALUES(holder), "
    "holder), "
    "expires_at = IF(holder = VALUES(holder), VALUES(expires_at), expires_at), "
    "updated_at = UTC_TIMESTAMP(3)";
static const char SQL_LEASE_HOLDER[] = "SELECT holder FROM leases WHERE name = ?";
static const char SQL_TOKEN_GET[] =
    "SELECT token_enc, version, TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(3), expires_at), stale "
    "FROM wx_access_tokens WHERE appid = ?";
static const char SQL_TOKEN_PUT[] =
    "INSERT INTO wx_access_tokens (appid, token_enc, version, expires_at, stale, fetched_by) "
    "VALUES (?, ?, 1, UTC_TIMESTAMP(3) + INTERVAL ? SECOND, 0, ?) ON DUPLICATE KEY UPDATE "
    "token_enc = VALUES(token_enc), version = version + 1, expires_at = VALUES(expires_at), "
    "stale = 0, fetched_by = VALUES(fetched_by), updated_at = UTC_TIMESTAMP(3)";
static const char SQL_TOKEN_STALE[] =
    "UPDATE wx_access_tokens SET stale = 1 WHERE appid = ? AND version = ?";

int pc_store_lease_acquire(struct pc_db *db, const char *name, const char *holder, int ttl_s,
                           bool *held)
{
    *held = false;
    int rc =
        pc_db_exec(db, SQL_LEASE, PC_DB_ARGS(pc_db_str(name), pc_db_str(holder), pc_db_i64(ttl_s)),
                   NULL, NULL);
    if (rc)
        return rc;
    struct pc_db_res *res = NULL;
    rc = pc_db_query(db, SQL_LEASE_HOLDER, PC_DB_ARGS(pc_db_str(name)), &res);
    if (rc)
        return rc;
    const char *h = pc_db_res_str(res, 0, 0);
    *held = h && strcmp(h, holder) == 0;
    pc_db_res_free(res);
    return 0;
}

int pc_store_wxtoken_get(struct pc_db *db, const char *appid, struct pc_store_wxtoken *out)
{
    struct pc_db_res *res = NULL;
    int rc = pc_db_query(db, SQL_TOKEN_GET, PC_DB_ARGS(pc_db_str(appid)), &res);
    if (rc)
        return rc;
    if (!pc_db_res_rows(res) || pc_db_res_len(res, 0, 0) > sizeof out->enc) {
        pc_db_res_free(res);
        return PC_ENOTFOUND;
    }
    out->enc_len = pc_db_res_len(res, 0, 0);
    memcpy(out->enc, pc_db_res_str(res, 0, 0), out->enc_len);
    out->version = pc_db_res_i64(res, 0, 1);
    out->expires_in_s = pc_db_res_i64(res, 0, 2);
    out->stale = pc_db_res_i64(res, 0, 3) != 0;
    pc_db_res_free(res);
    return 0;
}

int pc_store_wxtoken_put(struct pc_db *db, const char *appid, const unsigned char *enc,
                         size_t enc_len, int expires_in_s, const char *fetched_by)
{
    return pc_db_exec(db, SQL_TOKEN_PUT,
                      PC_DB_ARGS(pc_db_str(appid), pc_db_blob(enc, enc_len),
                                 pc_db_i64(expires_in_s), pc_db_str(fetched_by)),
                      NULL, NULL);
}

int pc_store_wxtoken_mark_stale(struct pc_db *db, const char *appid, int64_t version)
{
    return pc_db_exec(db, SQL_TOKEN_STALE, PC_DB_ARGS(pc_db_str(appid), pc_db_i64(version)), NULL,
                      NULL);
}
