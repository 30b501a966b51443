/* store/ratelimit.c — SQL for fixed-window counters. The database clock decides windows,
 * so every instance agrees. */
#include "store/ratelimit.h"

#include "base/err.h"

static const char SQL_RL_GET[] =
    "SELECT hits, GREATEST(0, CEIL(TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(3), "
    "window_start + INTERVAL ? SECOND) / 1000000)) FROM rate_limits "
    "WHERE bucket = ? AND k = ? AND window_start > UTC_TIMESTAMP(3) - INTERVAL ? SECOND";
/* count is assigned first and still sees the old window_start. */
static const char SQL_RL_HIT[] =
    "INSERT INTO rate_limits (bucket, k, window_start, hits) VALUES (?, ?, UTC_TIMESTAMP(3), 1) "
    "ON DUPLICATE KEY UPDATE "
    "hits = IF(window_start <= UTC_TIMESTAMP(3) - INTERVAL ? SECOND, 1, hits + 1), "
    "window_start = IF(window_start <= UTC_TIMESTAMP(3) - INTERVAL ? SECOND, UTC_TIMESTAMP(3), "
    "window_start)";
static const char SQL_RL_CLEAR[] = "DELETE FROM rate_limits WHERE bucket = ? AND k = ?";

int pc_store_rl_get(struct pc_db *db, const char *bucket, const char *key, int window_s, int *hits,
                    int *retry_after_s)
{
    struct pc_db_res *res = NULL;
    *hits = 0;
    *retry_after_s = 0;
    int rc = pc_db_query(
        db, SQL_RL_GET,
        PC_DB_ARGS(pc_db_i64(window_s), pc_db_str(bucket), pc_db_str(key), pc_db_i64(window_s)),
        &res);
    if (rc)
        return rc;
    if (pc_db_res_rows(res)) {
        *hits = (int)pc_db_res_i64(res, 0, 0);
        *retry_after_s = (int)pc_db_res_i64(res, 0, 1);
    }
    pc_db_res_free(res);
    return 0;
}

int pc_store_rl_hit(struct pc_db *db, const char *bucket, const char *key, int window_s)
{
    return pc_db_exec(
        db, SQL_RL_HIT,
        PC_DB_ARGS(pc_db_str(bucket), pc_db_str(key), pc_db_i64(window_s), pc_db_i64(window_s)),
        NULL, NULL);
}

int pc_store_rl_clear(struct pc_db *db, const char *bucket, const char *key)
{
    return pc_db_exec(db, SQL_RL_CLEAR, PC_DB_ARGS(pc_db_str(bucket), pc_db_str(key)), NULL, NULL);
}
