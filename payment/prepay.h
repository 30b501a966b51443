/* payment/prepay.h — a student pays an order: whether it can be paid now, the prepay call on
 * either channel (JSAPI for the mini-program, Native for the PC page), and WeChat's answer
 * (the prepay id or code_url kept so that repeat calls reuse it). The call itself is made by
 * the HTTP layer from its event loop (pc_req_call): these functions only build and read it.
 * Either way the order is then paid through the same notification and sweeper path
 * (payment/notification.h). Worker thread. */
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

enum pc_pay_channel {
    PC_PAY_JSAPI = 0, /* the mini-program: a prepay_id for wx.requestPayment */
    PC_PAY_NATIVE     /* the PC page: a code_url shown as a QR code; whoever scans it pays */
};
/* The longest answer kept: a prepay_id (JSAPI, under 65) or a code_url (Native). */
#define PC_PREPAY_ANSWER_MAX PC_ORDER_CODE_URL_MAX

/* What a repeat call for o on channel ch reuses: the prepay id (JSAPI) or code_url (Native)
 * that stays live for at least another minute, into out. Returns 0, PC_ENOTFOUND (none) or a
 * store error. */
int pc_payment_prepay_live(struct pc_db *db, const struct pc_order *o, enum pc_pay_channel ch,
                           char out[PC_PREPAY_ANSWER_MAX + 1]);
/* The signed prepay call for o on channel ch (JSAPI with the student's openid as payer; Native
 * without a payer), expiring at its pay deadline (or in 30 minutes when that is gone or within
 * a minute). *call (pc_pay_call_free) on 0; PC_ECRYPTO when it cannot be signed. */
int pc_payment_prepay_call(const struct pc_ctx *ctx, const struct pc_order *o,
                           enum pc_pay_channel ch, struct pc_pay_call *call);

enum pc_prepay_result {
    PC_PREPAY_OK = 0,     /* prepay_id / code_url received and kept */
    PC_PREPAY_PAID,       /* WeChat says it is paid already: the jobs were woken to confirm */
    PC_PREPAY_UNAVAILABLE /* WeChat Pay failed or refused, or answered nothing usable (logged) */
};
/* WeChat's answer resp to the prepay call for o on channel ch: PC_PREPAY_OK with the prepay_id
 * (JSAPI) or the weixin:// code_url (Native) in out, kept for about 110 minutes (a Native code
 * also marks the order as known to WeChat Pay: orders/orders.h), or what else it said. Returns
 * 0 (see *res) or a store error. */
int pc_payment_prepaid(struct pc_ctx *ctx, const struct pc_order *o, enum pc_pay_channel ch,
                       const struct pc_out_resp *resp, enum pc_prepay_result *res,
                       char out[PC_PREPAY_ANSWER_MAX + 1]);

#endif
