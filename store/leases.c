/* store/leases.c — SQL for named leases (store/leases.h). */
#include "store/leases.h"

#include "base/stats.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* Per lease name (GET /metrics): whether this instance holds it, and how many turns of its
 * duty ran here (a turn runs only while the lease is held). At most MAX_LEASES names. */
#define MAX_LEASES 16
static struct lease_stats {
    char name[64];
    char labels[96];
    struct pc_stat held, runs;
} g_leases[MAX_LEASES];
static int g_nleases;
static pthread_mutex_t g_leases_mu = PTHREAD_MUTEX_INITIALIZER;

static void count(const char *name, bool held)
{
    struct lease_stats *l = NULL;
    pthread_mutex_lock(&g_leases_mu);
    for (int i = 0; i < g_nleases && !l; i++)
        if (!strcmp(g_leases[i].name, name))
            l = &g_leases[i];
    if (!l && g_nleases < MAX_LEASES) {
        l = &g_leases[g_nleases++];
        snprintf(l->name, sizeof l->name, "%s", name);
        snprintf(l->labels, sizeof l->labels, "lease=\"%s\"", name);
        l->held = (struct pc_stat)PC_STAT_INIT("portraitd_lease_held", "gauge", l->labels,
                                               "1 while this instance holds the lease.", 0);
        l->runs = (struct pc_stat)PC_STAT_INIT(
            "portraitd_lease_runs_total", "counter", l->labels,
            "Turns of a one-instance duty that ran here (its lease was held).", 0);
    }
    pthread_mutex_unlock(&g_leases_mu);
    if (!l)
        return;
    pc_stat_set(&l->held, held);
    if (held)
        pc_stat_add(&l->runs, 1);
}

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
    count(name, *held);
    return 0;
}

int pc_store_lease_release(struct pc_db *db, const char *name, const char *holder)
{
    return pc_db_exec(db, SQL_LEASE_RELEASE, PC_DB_ARGS(pc_db_str(name), pc_db_str(holder)), NULL,
                      NULL);
}
