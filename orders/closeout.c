/* orders/closeout.c — the window close-out (orders/closeout.h): when a task's collection
 * window has closed, orders that never got paid are closed; paid orders stay reviewable. */
#include "orders/closeout.h"

#include "orders/state.h"

#include "base/err.h"
#include "base/log.h"
#include "config/config.h"
#include "store/audit.h"
#include "store/leases.h"
#include "store/orders.h"
#include "store/tasks.h"

#include <stdio.h>
#include <string.h>

#define LEASE       "window_closeout"
#define LEASE_TTL_S 120
#define BATCH       200

struct task_args {
    int64_t task_id;
    size_t closed;
    uint64_t handed_to_sweeper;
};

static int mark_tx(struct pc_db *db, void *arg)
{
    struct task_args *a = arg;
    int rc = pc_store_closeout_prepaid(db, a->task_id, &a->handed_to_sweeper);
    if (rc == 0)
        rc = pc_store_closeout_mark(db, a->task_id);
    struct pc_task t;
    if (rc == 0)
        rc = pc_store_task_get(db, a->task_id, false, &t);
    if (rc == 0) {
        char id[24];
        snprintf(id, sizeof id, "%lld", (long long)a->task_id);
        cJSON *d = cJSON_CreateObject();
        cJSON_AddNumberToObject(d, "orders_closed", (double)a->closed);
        cJSON_AddNumberToObject(d, "unpaid_with_prepay_to_sweeper", (double)a->handed_to_sweeper);
        struct pc_audit au = {.actor_type = "system",
                              .school_id = t.school_id,
                              .action = "task.closeout",
                              .target_type = "task",
                              .target_id = id,
                              .details = d};
        rc = pc_store_audit_insert(db, &au);
        cJSON_Delete(d);
    }
    return rc;
}

int pc_order_closeout_task(struct pc_db *db, int64_t task_id, size_t *closed)
{
    struct task_args a = {task_id, 0, 0};
    char nos[BATCH][33];
    size_t n;
    int rc;
    do { /* batches, so that no transaction holds many rows */
        rc = pc_store_closeout_orders(db, task_id, nos, BATCH, &n);
        for (size_t i = 0; rc == 0 && i < n; i++) {
            bool done = false;
            rc = pc_order_close(db, nos[i], PC_CLOSE_WINDOW, &done);
            a.closed += done;
        }
    } while (rc == 0 && n == BATCH);
    if (rc == 0)
        rc = pc_db_tx(db, mark_tx, &a);
    if (closed)
        *closed = a.closed;
    return rc;
}

int pc_order_closeout_job(struct pc_ctx *ctx, void *arg)
{
    (void)arg;
    bool held = false;
    if (pc_store_lease_acquire(ctx->db, LEASE, ctx->instance, LEASE_TTL_S, &held) || !held)
        return ctx->cfg->closeout_interval_ms;
    int64_t ids[16];
    size_t n = 0;
    if (pc_store_closeout_due(ctx->db, ids, 16, &n) == 0)
        for (size_t i = 0; i < n; i++) {
            if (i && (pc_store_lease_acquire(ctx->db, LEASE, ctx->instance, LEASE_TTL_S, &held) ||
                      !held))
                break; /* renewed per task; lost, the rest is left to the new holder */
            size_t closed = 0;
            int rc = pc_order_closeout_task(ctx->db, ids[i], &closed);
            pc_log(rc ? PC_LOG_WARN : PC_LOG_INFO, "collection window closed out",
                   PC_LI("task_id", ids[i]), PC_LI("orders_closed", (long long)closed),
                   PC_LS("error", rc ? pc_strerror(rc) : ""));
        }
    return ctx->cfg->closeout_interval_ms;
}
