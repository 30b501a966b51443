/* payment/refund.h — refunds decided by finance: the refund row (idempotent: one open refund
 * per order), and the refund notification that alone makes it final (an order reaches
 * refunded only when WeChat says the money went back). Worker thread. */
#ifndef PC_PAYMENT_REFUND_H
#define PC_PAYMENT_REFUND_H

#include "core/ctx.h"
#include "net/outbound.h"
#include "orders/orders.h"
#include "store/payments.h"

#include <cjson/cJSON.h>

enum pc_refund_outcome {
    PC_REFUND_OK = 0,    /* a new refund row (call WeChat with it) */
    PC_REFUND_EXISTING,  /* an open refund exists: the same one again (idempotent) */
    PC_REFUND_NOT_FOUND, /* no such order in the caller's scope */
    PC_REFUND_STATE,     /* the order was not paid, or is refunded */
    PC_REFUND_AMOUNT     /* amount ≤ 0 or above what is left */
};

/* Records a refund request of amount_fen for order_no (audited). o and r receive the order
 * and the refund. 0 with *outcome, or a store error. */
int pc_refund_request(struct pc_db *db, const struct pc_staff_auth *by, const char *order_no,
                      int64_t amount_fen, const char *reason, const char *ip,
                      const char *request_id, enum pc_refund_outcome *outcome, struct pc_order *o,
                      struct pc_refund *r);

/* Applies WeChat's answer or notification for a refund (status SUCCESS / PROCESSING /
 * CLOSED / ABNORMAL). notify_id may be NULL. *applied tells whether anything changed. */
int pc_refund_apply(struct pc_db *db, const char *notify_id, const cJSON *refund, bool *applied);

/* WeChat's answer resp to the refund call of out_refund_no (made from the HTTP layer's loop):
 * applied when it is signed and readable (else logged: the refund stays requested and is sent
 * again with the same number); *r receives the refund afterwards. Returns 0 or a store error. */
int pc_refund_answered(struct pc_ctx *ctx, const char *out_refund_no,
                       const struct pc_out_resp *resp, struct pc_refund *r);

cJSON *pc_refund_json(const struct pc_refund *r);

#endif
