/* payment/notification.h — one call per WeChat Pay notification (wechat-protocols.md §8):
 * verify the signature and freshness, decrypt the resource, check it, apply it (the payment
 * to its order, the refund to its refund and order), exactly once. The handler only turns the
 * verdict into WeChat's reply. Worker thread (it writes the database). */
#ifndef PC_PAYMENT_NOTIFICATION_H
#define PC_PAYMENT_NOTIFICATION_H

#include "core/ctx.h"
#include "payment/wxpay.h"

#include <stddef.h>

enum pc_pay_verdict {
    PC_PAY_ACK = 0,       /* applied, seen before, or nothing to apply: 204 */
    PC_PAY_UNCONFIGURED,  /* payments are not configured here: 500 (WeChat retries) */
    PC_PAY_BAD_SIGNATURE, /* signature or timestamp refused: 401, nothing written */
    PC_PAY_UNREADABLE,    /* not decryptable, or no usable id: 400, nothing written */
    PC_PAY_MISMATCH,      /* does not match our order / refund: 400, nothing written */
    PC_PAY_RETRY          /* the store failed: 500, WeChat sends it again */
};

/* The payment notification h + body (POST /pay/notify): TRANSACTION.SUCCESS is applied to its
 * order (payment/apply.h), other events are acknowledged. The order takes only its own money
 * (pc_order_paid, orders/state.h): its amount, paid by the student's own openid for a JSAPI
 * payment, by anyone for a Native one (trade_type NATIVE: the PC page's QR code is paid by
 * whoever scans it); anything else is PC_PAY_MISMATCH. */
enum pc_pay_verdict pc_payment_notified(struct pc_ctx *ctx, const struct pc_pay_notify_headers *h,
                                        const char *body, size_t len);
/* The same, answered through done(arg, verdict) exactly once: a TRANSACTION.SUCCESS goes to the
 * group committer (payment/group.h) and done runs on its thread after the commit that holds
 * it; anything else (and everything when the committers are not running) is decided here and
 * done runs on the caller's thread before this returns. */
typedef void (*pc_pay_verdict_fn)(void *arg, enum pc_pay_verdict v);
void pc_payment_notified_async(struct pc_ctx *ctx, const struct pc_pay_notify_headers *h,
                               const char *body, size_t len, pc_pay_verdict_fn done, void *arg);
/* The refund notification (POST /pay/refund-notify): applied to its refund, and the order
 * becomes refunded when its refunds cover it (payment/refund.h). */
enum pc_pay_verdict pc_refund_notified(struct pc_ctx *ctx, const struct pc_pay_notify_headers *h,
                                       const char *body, size_t len);

#endif
