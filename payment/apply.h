/* payment/apply.h — applying a WeChat Pay transaction result to the order store, exactly
 * once: one transaction holds the notification id, the payment row, the order's state
 * change, the audit row and the outbox row. Worker (or jobs) thread. */
#ifndef PC_PAYMENT_APPLY_H
#define PC_PAYMENT_APPLY_H

#include <cjson/cJSON.h>
#include <stddef.h>

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

/* One transaction of a batch (payment/group.c): what it is given and what it gives. */
struct pc_apply_item {
    const char *notify_id;       /* the envelope's id */
    const char *event_type;      /* TRANSACTION.SUCCESS */
    const cJSON *tx;             /* the decrypted transaction */
    int rc;                      /* out: 0 or a store error, as pc_payment_apply returns */
    enum pc_apply_result result; /* out, with rc 0 */
};
/* Applies n transactions with each item ending exactly as pc_payment_apply would leave it.
 * The plain ones (new notification ids, new successful payments of unpaid orders that match
 * them under orders/state.h's rule) are applied together in one transaction whose statements
 * each serve all of them (an IN list or a bulk execution), and all of them are committed — and
 * durable — when it returns. That transaction runs again, whole, after a deadlock or lock
 * timeout (under Galera a certification conflict: 1213 at any statement or at COMMIT), up to
 * three times like pc_db_tx. The others, and all of them when that transaction fails for good,
 * are applied one by one with pc_payment_apply afterwards. Worker or committer thread. */
void pc_payment_apply_many(struct pc_db *db, const struct pc_config *cfg,
                           struct pc_apply_item *items, size_t n, const char *source);

#endif
