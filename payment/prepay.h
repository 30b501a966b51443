/* payment/prepay.h — a student pays an order: whether it can be paid now, the JSAPI prepay
 * call, and WeChat's answer (the prepay id kept so that repeat calls reuse it). The call itself
 * is made by the HTTP layer from its event loop (pc_req_call): these functions only build and
 * read it. Worker thread. */
#ifndef PC_PAYMENT_PREPAY_H
#define PC_PAYMENT_PREPAY_H

#include "core/ctx.h"
#include "orders/orders.h"
#include "payment/wxpay.h"

enum pc_payable {
    PC_PAYABLE_OK = 0,
    PC_PAYABLE_NOT_FOUND, /* no such order of this student */
    PC_PAYABLE_STATE,     /* not unpaid (o->status says what it is) */
    PC_PAYABLE_OVERDUE    /* unpaid past its deadline: it is being closed */
};
/* Whether u can pay order_no now; o receives the order. Returns 0 (see *out) or a store
 * error. */
int pc_payment_payable(struct pc_db *db, const struct pc_user_auth *u, const char *order_no,
                       enum pc_payable *out, struct pc_order *o);
/* The signed JSAPI prepay call for o, expiring at its pay deadline (or in 30 minutes when that
 * is gone or within a minute). *call (pc_pay_call_free) on 0; PC_ECRYPTO when it cannot be
 * signed. */
int pc_payment_prepay_call(const struct pc_ctx *ctx, const struct pc_order *o,
                           struct pc_pay_call *call);

enum pc_prepay_result {
    PC_PREPAY_OK = 0,     /* prepay_id received and kept */
    PC_PREPAY_PAID,       /* WeChat says it is paid already: the jobs were woken to confirm */
    PC_PREPAY_UNAVAILABLE /* WeChat Pay failed or refused (logged) */
};
/* WeChat's answer resp to the prepay call for o: PC_PREPAY_OK with prepay_id (kept for about
 * 110 minutes), or what else it said. Returns 0 (see *res) or a store error. */
int pc_payment_prepaid(struct pc_ctx *ctx, const struct pc_order *o, const struct pc_out_resp *resp,
                       enum pc_prepay_result *res, char prepay_id[65]);

#endif
