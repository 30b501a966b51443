/* store/wxtoken.c — SQL for the shared WeChat access_token (store/wxtoken.h). */
#include "store/wxtoken.h"

#include "base/err.h"

#include <string.h>

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

static void token_row(const struct pc_db_res *res, size_t r, void *out)
{
    struct pc_store_wxtoken *t = out;
    t->enc_len = pc_db_res_len(res, r, 0);
    if (t->enc_len > sizeof t->enc) {
        t->enc_len = 0; /* not ours: reported as absent */
        return;
    }
    memcpy(t->enc, pc_db_res_str(res, r, 0), t->enc_len);
    t->version = pc_db_res_i64(res, r, 1);
    t->expires_in_s = pc_db_res_i64(res, r, 2);
    t->stale = pc_db_res_i64(res, r, 3) != 0;
}

int pc_store_wxtoken_get(struct pc_db *db, const char *appid, struct pc_store_wxtoken *out)
{
    memset(out, 0, sizeof *out);
    int rc = pc_db_query_one(db, SQL_TOKEN_GET, PC_DB_ARGS(pc_db_str(appid)), token_row, out);
    return rc == 0 && out->enc_len == 0 ? PC_ENOTFOUND : rc;
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
