/* store/leases.c — SQL for named leases (store/leases.h). */
#include "store/leases.h"

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
static const char SQL_LEASE_RELEASE[] =
    "UPDATE leases SET expires_at = UTC_TIMESTAMP(3), updated_at = UTC_TIMESTAMP(3) "
    "WHERE name = ? AND holder = ?";

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

int pc_store_lease_release(struct pc_db *db, const char *name, const char *holder)
{
    return pc_db_exec(db, SQL_LEASE_RELEASE, PC_DB_ARGS(pc_db_str(name), pc_db_str(holder)), NULL,
                      NULL);
}
