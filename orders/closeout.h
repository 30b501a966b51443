/* orders/closeout.h — the window close-out: when a task's collection window has closed, its
 * orders that never got paid are closed (orders/state.h pc_order_close); paid orders stay
 * reviewable. A background duty (app/main.c registers it). */
#ifndef PC_ORDERS_CLOSEOUT_H
#define PC_ORDERS_CLOSEOUT_H

#include "core/ctx.h"
#include "store/db.h"

#include <stddef.h>
#include <stdint.h>

/* Closes out one task: its orders still awaiting a photo or unpaid without a prepay id are
 * closed (reason window_closed, audited); unpaid orders with a prepay id get pay_deadline =
 * now, so the pay sweeper asks WeChat Pay before closing them; paid orders are untouched.
 * Marks the task closed out (audited "task.closeout"). *closed (may be NULL) receives how many
 * it closed. Returns 0 or a store error. Worker or jobs thread. */
int pc_order_closeout_task(struct pc_db *db, int64_t task_id, size_t *closed);
/* Jobs thread, lease "window_closeout": closes out every task whose window closed since its
 * last close-out (a reopened window is closed out again when it closes). Returns the delay
 * until the next run in ms. */
int pc_order_closeout_job(struct pc_ctx *ctx, void *arg);

#endif
