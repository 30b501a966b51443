/* store/payments.h — WeChat Pay's side of an order: notification ids, payments and refunds
 * (tables pay_notifications, payments, refunds). Owned by payment/; finance/ reads payments
 * through store/finance.h. Worker or jobs thread. */
#ifndef PC_STORE_PAYMENTS_H
#define PC_STORE_PAYMENTS_H

#include "store/db.h"

#include <stdbool.h>
#include <stdint.h>

/* ---- notifications ---- */
/* Records a notification id once. Returns 0, PC_EEXIST (recorded before) or a store error. */
int pc_store_notification_insert(struct pc_db *db, const char *notify_id, const char *event_type,
                                 const char *out_trade_no, const char *result);

/* Which of n (at most PC_DB_IN_MAX) notification ids are recorded: known[i], in one
 * statement. Returns 0 or a store error. */
int pc_store_notifications_known(struct pc_db *db, const char *const *notify_ids, size_t n,
                                 bool *known);
/* Records n notification ids of one event type in one round trip (inside a transaction).
 * Returns 0, PC_EEXIST (one was recorded before: roll back) or a store error. */
int pc_store_notification_insert_many(struct pc_db *db, const char *const *notify_ids,
                                      const char *event_type, const char *const *out_trade_nos,
                                      const char *result, size_t n);

/* ---- payments ---- */
struct pc_store_payment {
    int64_t order_id;
    const char *out_trade_no;
    const char *transaction_id;
    int64_t amount_fen;
    int64_t payer_total_fen;
    const char *payer_openid;
    const char *trade_state;
    const char *success_time; /* UTC DATETIME text or NULL */
    const char *source;       /* notify | query | bill */
    const char *disposition;  /* applied | refund_due */
    const char *raw;          /* the decrypted transaction JSON */
};
/* Records a payment. Returns 0, PC_EEXIST (this transaction_id is already recorded) or a store
 * error. */
int pc_store_payment_insert(struct pc_db *db, const struct pc_store_payment *p);
/* Records n payments in one round trip (inside a transaction). Returns 0, PC_EEXIST (one
 * transaction_id is recorded already: roll back) or a store error. */
int pc_store_payment_insert_many(struct pc_db *db, const struct pc_store_payment *ps, size_t n);
/* The recorded payment of a WeChat transaction id: its amount, order number, school and task.
 * Returns 0, PC_ENOTFOUND or a store error. */
int pc_store_payment_by_tx(struct pc_db *db, const char *transaction_id, int64_t *amount_fen,
                           char order_no[33], int64_t *school_id, int64_t *task_id);

/* ---- refunds ---- */
struct pc_refund {
    int64_t id;
    int64_t order_id;
    char out_refund_no[65];
    char refund_id[33];
    int64_t amount_fen;
    char reason[256];
    char status[16]; /* requested | processing | success | closed | abnormal */
    char created_at[32];
    int64_t school_id; /* the order's */
};
/* The order's refund still under way (requested, processing, or abnormal: WeChat could not
 * pay it out yet, and may still — never a second refund on top) into *out. Returns 0,
 * PC_ENOTFOUND or a store error. */
int pc_store_refund_open(struct pc_db *db, int64_t order_id, struct pc_refund *out);
/* The refund out_refund_no into *out; for_update locks it (inside a transaction). Returns 0,
 * PC_ENOTFOUND or a store error. */
int pc_store_refund_get(struct pc_db *db, const char *out_refund_no, bool for_update,
                        struct pc_refund *out);
/* How many refunds the order has had (any status) into *n. Returns 0 or a store error. */
int pc_store_refund_count(struct pc_db *db, int64_t order_id, int64_t *n);
/* Sum of the order's successful refunds into *fen. Returns 0 or a store error. */
int pc_store_refunded_total(struct pc_db *db, int64_t order_id, int64_t *fen);
/* Records a refund request (status requested) by staff_id. Returns 0, PC_EEXIST (the number is
 * taken) or a store error. */
int pc_store_refund_insert(struct pc_db *db, int64_t order_id, const char *out_refund_no,
                           int64_t amount_fen, const char *reason, int64_t staff_id);
/* WeChat's word on a refund: status, and refund_id / success_time when given (NULL keeps
 * them). Returns 0 or a store error. */
int pc_store_refund_set(struct pc_db *db, const char *out_refund_no, const char *status,
                        const char *refund_id, const char *success_time);

#endif
