/* payment/sweeper.h — the unpaid-order sweeper (a background job; one instance at a time
 * through the lease "pay_sweeper"): asks WeChat Pay about orders left unpaid after a prepay
 * and applies SUCCESS results (healing lost notifications); closes orders past their pay
 * deadline — at WeChat first, after a query, so a late payment is never lost. */
#ifndef PC_PAYMENT_SWEEPER_H
#define PC_PAYMENT_SWEEPER_H

#include "core/ctx.h"

/* Jobs-thread duty; returns the delay until the next run in ms. */
int pc_pay_sweeper_job(struct pc_ctx *ctx, void *arg);

/* One sweep of one order (also used by tests through the job): query, apply or close.
 * 0 or a store error. */
int pc_pay_sweep_order(struct pc_ctx *ctx, const char *order_no);

#endif
