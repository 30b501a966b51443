/* store/native_pay.c — SQL of WeChat Pay Native code URLs (native_pay.h). */
#include "store/native_pay.h"

#include "base/err.h"
#include "store/db.h"

static const char SQL_LIVE[] = "SELECT code_url FROM order_native_codes WHERE order_id = ? AND "
                               "expires_at > UTC_TIMESTAMP(3) + INTERVAL 60 SECOND";
static const char SQL_SET[] =
    "INSERT INTO order_native_codes (order_id, code_url, expires_at) "
    "VALUES (?, ?, UTC_TIMESTAMP(3) + INTERVAL ? SECOND) ON DUPLICATE KEY UPDATE "
    "code_url = VALUES(code_url), expires_at = VALUES(expires_at), "
    "created_at = UTC_TIMESTAMP(3)";
static const char SQL_MARK[] = "UPDATE orders SET prepay_id = COALESCE(prepay_id, 'native'), "
                               "updated_at = UTC_TIMESTAMP(3) WHERE id = ?";

int pc_store_native_code_live(struct pc_db *db, int64_t order_id,
                              char code_url[PC_NATIVE_CODE_URL_MAX + 1])
{
    struct pc_db_res *res = NULL;
    int rc = pc_db_query(db, SQL_LIVE, PC_DB_ARGS(pc_db_i64(order_id)), &res);
    if (rc)
        return rc;
    rc = pc_db_res_rows(res) ? 0 : PC_ENOTFOUND;
    if (rc == 0)
        pc_db_res_copy(res, 0, 0, code_url, PC_NATIVE_CODE_URL_MAX + 1);
    pc_db_res_free(res);
    return rc;
}

struct set_args {
    int64_t order_id;
    const char *code_url;
    int ttl_s;
};

static int set_tx(struct pc_db *db, void *arg)
{
    struct set_args *a = arg;
    int rc =
        pc_db_exec(db, SQL_SET,
                   PC_DB_ARGS(pc_db_i64(a->order_id), pc_db_str(a->code_url), pc_db_i64(a->ttl_s)),
                   NULL, NULL);
    if (rc == 0)
        rc = pc_db_exec(db, SQL_MARK, PC_DB_ARGS(pc_db_i64(a->order_id)), NULL, NULL);
    return rc;
}

int pc_store_native_code_set(struct pc_db *db, int64_t order_id, const char *code_url, int ttl_s)
{
    struct set_args a = {order_id, code_url, ttl_s};
    return pc_db_tx(db, set_tx, &a);
}
