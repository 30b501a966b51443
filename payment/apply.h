/* payment/apply.h — applying a WeChat Pay transaction result to the order store, exactly
 * once: one transaction holds the notification id, the payment row, the order's state
 * change, the audit row and the outbox row. Worker (or jobs) thread. */
#ifndef PC_PAYMENT_APPLY_H
#define PC_PAYMENT_APPLY_H

#include <cjson/cJSON.h>

struct pc_config;
struct pc_db;

enum pc_apply_result {
    PC_APPLY_APPLIED = 0,  /* unpaid (or closed, window open) → pending_review */
    PC_APPLY_DUPLICATE,    /* already applied (same notification or transaction) */
    PC_APPLY_REFUND_DUE,   /* money arrived for an order that cannot take it: recorded */
    PC_APPLY_INCONSISTENT, /* not ours (appid, mchid), or not the order's (no such order, its
                              amount, a JSAPI payer who is not the student; a Native payer may
                              be anyone: orders/state.h): nothing written */
    PC_APPLY_NOT_SUCCESS   /* trade_state is not SUCCESS: nothing to apply */
};

/* Applies the decrypted transaction tx. notify_id (the envelope's id) may be NULL (query).
 * source: "notify" or "query". 0 with *result, or a store error (PC_EDBDOWN: answer 500 so
 * WeChat retries). */
int pc_payment_apply(struct pc_db *db, const struct pc_config *cfg, const char *notify_id,
                     const char *event_type, const cJSON *tx, const char *source,
                     enum pc_apply_result *result);

#endif
