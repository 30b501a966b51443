/* orders/state.h — every change of an order's status. Nothing else changes one: the store's
 * status writers (pc_store_order_status_*) are called from orders/ alone (lint.layers).
 *
 *   awaiting_photo ─photo accepted─► unpaid ─paid─► pending_review ─approved─► approved
 *        │                             │              ▲        │
 *        └──────────closed─────────────┘              │        └─rejected─► rejected
 *                     │                          photo replaced ◄───────────────┘
 *                     ▼                               │
 *                   closed ─paid (window open, no other active order)─► pending_review
 *   pending_review / approved / rejected ─refunded (in full)─► refunded
 *   money the order cannot take (paid after close, or twice) ─refund due─► status unchanged
 *
 * Each function is one transaction (pc_db_tx): it locks the order's row, checks the status
 * under that lock, writes the new status with the audit row and the outbox rows of the
 * change. Called inside the caller's transaction it joins it, so the rows of the caller's
 * own that belong to the change (a payment, a refund) commit with it or not at all. A status
 * that does not allow the change is an outcome, not an error: nothing is written.
 * Worker or jobs thread, with that thread's connection. */
#ifndef PC_ORDERS_STATE_H
#define PC_ORDERS_STATE_H

#include "core/ctx.h"
#include "store/db.h"
#include "store/orders.h"
#include "store/photos.h"
#include "store/tasks.h"

#include <stdbool.h>
#include <stdint.h>

/* ---- a photo ---- */
enum pc_upload_outcome {
    PC_UPLOAD_OK = 0,
    PC_UPLOAD_NOT_FOUND,      /* no such order for this student (404) */
    PC_UPLOAD_STATE,          /* not awaiting_photo / rejected (409 ORDER_STATE) */
    PC_UPLOAD_WINDOW_CLOSED,  /* awaiting_photo after the window closed (410) */
    PC_UPLOAD_EDIT_EXPIRED,   /* rejected and the edit period is over (410) */
    PC_UPLOAD_RESUBMIT_LIMIT, /* the task's resubmission cap is used up (409) */
    PC_UPLOAD_CHECKS_FAILED   /* a blocking check failed: nothing stored (422) */
};
/* Whether order o of task t can take a photo now: PC_UPLOAD_OK with *replace false (photo
 * accepted) or true (photo replaced), or why not. Pure. */
enum pc_upload_outcome pc_order_photo_rule(const struct pc_order *o, const struct pc_task *t,
                                           bool *replace);
/* awaiting_photo → unpaid, pay deadline = now + the task's unpaid timeout: photo (its files
 * already durable) becomes the order's photo; audited "order.photo" (actor the student).
 * *outcome: PC_UPLOAD_OK (o is the order afterwards), or NOT_FOUND (not u's), WINDOW_CLOSED,
 * STATE. Returns 0 or a store error. */
int pc_order_photo_accepted(struct pc_db *db, const struct pc_user_auth *u, const char *order_no,
                            const struct pc_store_photo *photo, enum pc_upload_outcome *outcome,
                            struct pc_order *o);
/* rejected → pending_review, one resubmission counted: photo replaces the rejected one; the
 * same audit. *outcome: PC_UPLOAD_OK, NOT_FOUND, EDIT_EXPIRED, RESUBMIT_LIMIT, STATE. Returns 0
 * or a store error. */
int pc_order_photo_replaced(struct pc_db *db, const struct pc_user_auth *u, const char *order_no,
                            const struct pc_store_photo *photo, enum pc_upload_outcome *outcome,
                            struct pc_order *o);

/* ---- money ---- */
/* A successful WeChat Pay transaction for an order (payment/ checked that it is ours: our app,
 * our merchant, a transaction id; the order checks that it is the order's own money). */
struct pc_order_payment {
    const char *transaction_id;
    int64_t amount_fen;
    const char *payer_openid; /* payer.openid of the transaction */
    bool native;              /* trade_type NATIVE: paid by scanning the PC page's QR code */
    const char *paid_at;      /* UTC DATETIME text */
    const char *source;       /* notify | query */
    bool unsent; /* no message about it can reach the student (pc_config_can_notify): its
                  * "order.paid" outbox row is recorded done, by none, at once */
};
enum pc_paid_outcome {
    PC_PAID_OK = 0,      /* the order is pending_review now */
    PC_PAID_NOT_FOUND,   /* no such order */
    PC_PAID_NOT_ITS_OWN, /* not the order's money (pc_order_payment_matches): nothing written */
    PC_PAID_WRONG_STATE, /* it cannot take the money: nothing written (see pc_order_refund_due) */
    PC_PAID_ALONE        /* pc_orders_paid_many: not plainly its own unpaid order's money,
                            nothing written; decide it alone with pc_order_paid */
};
/* Whether p is order o's own money: its amount, and a payer. A JSAPI payment is made in the
 * mini-program by the student, so its payer must be the student's openid. A Native payment is
 * made by whoever scans the QR code of the PC page (a parent, a friend, the student's own
 * WeChat, which has another openid for the merchant), so any payer is accepted; its amount and
 * order number still are checked. Pure. */
bool pc_order_payment_matches(const struct pc_order *o, const struct pc_order_payment *p);
/* Money for an order (pc_order_payment_matches, checked on the locked row first: otherwise
 * PC_PAID_NOT_ITS_OWN and nothing written): unpaid → pending_review; or closed →
 * pending_review while the task's window is open and the student holds no other active order
 * in it: transaction_id and paid_at recorded, audited "order.paid" (actor wechat), the
 * student's "order.paid" message queued. o receives the order as it was. Returns 0 or a store
 * error (PC_ERETRY when another order took the place meanwhile: the whole transaction runs
 * again and sees it). */
int pc_order_paid(struct pc_db *db, const char *order_no, const struct pc_order_payment *p,
                  enum pc_paid_outcome *out, struct pc_order *o);
/* Several payments at once (payment/apply.c's batches), inside the caller's transaction.
 * pc_order_lock_many locks up to PC_DB_IN_MAX orders by number in one statement and reads what a
 * payment needs (store/orders.h pc_store_order_lock_many: id, number, task, student, status,
 * amount, openid, school; found[i] false for an unknown number). pc_orders_paid_many then moves
 * every locked order os[i] that is unpaid and whose money ps[i] is (pc_order_payment_matches) to
 * pending_review, with its audit and "order.paid" outbox rows, one statement for each kind of
 * row for all of them (out[i] = PC_PAID_OK); any other is left untouched (PC_PAID_ALONE: the
 * caller applies that payment alone with pc_order_paid, which knows the closed-order, refund
 * and not-its-own cases).
 * Both return 0 or a store error (roll back). */
int pc_order_lock_many(struct pc_db *db, const char *const *order_nos, size_t n,
                       struct pc_order *os, bool *found);
int pc_orders_paid_many(struct pc_db *db, const struct pc_order *os,
                        const struct pc_order_payment *ps, size_t n, enum pc_paid_outcome *out);
/* Money that arrived for an order that cannot take it (paid after close while the window is
 * shut or another order is active, or paid twice): the status stays; audited and queued as
 * "payment.refund_due" for finance to decide. o receives the order. Returns 0, PC_ENOTFOUND
 * or a store error. */
int pc_order_refund_due(struct pc_db *db, const char *order_no, const struct pc_order_payment *p,
                        struct pc_order *o);
/* pending_review / approved / rejected → refunded, when the successful refunds of order
 * order_id (refunded_fen) cover its amount; audited "order.refund" (actor wechat). *moved
 * tells whether it did (false: not fully refunded, not paid, or order_no is not order_id).
 * Returns 0 or a store error. */
int pc_order_refunded(struct pc_db *db, const char *order_no, int64_t order_id,
                      int64_t refunded_fen, bool *moved);

/* ---- closing ---- */
enum pc_close_reason {
    PC_CLOSE_PAY_TIMEOUT, /* unpaid past its deadline (after WeChat confirmed it was not paid) */
    PC_CLOSE_WINDOW       /* the window closed: awaiting_photo, or unpaid without a prepay id */
};
/* → closed with the reason ("pay_timeout" / "window_closed"), audited "order.close" (actor
 * system, details from and reason). *closed tells whether it was (false: the order moved on
 * meanwhile, or does not exist). Returns 0 or a store error. */
int pc_order_close(struct pc_db *db, const char *order_no, enum pc_close_reason why, bool *closed);

/* ---- review ---- */
/* A reviewer's decision (review/ checked the scope and the reason). */
struct pc_order_review {
    const struct pc_staff_auth *by;
    const char *reason_code; /* rejected: the catalogue code */
    const char *reason;      /* rejected: the sentence the student reads */
    const char *note;        /* may be NULL */
    const char *ip, *request_id;
};
enum pc_order_change {
    PC_ORDER_CHANGED = 0,
    PC_ORDER_NOT_FOUND,  /* no such order */
    PC_ORDER_WRONG_STATE /* its status does not allow the change: nothing written */
};
/* pending_review → approved: the decision recorded, the student's notice queued
 * ("student.notice"), audited "review.approve" (actor the reviewer). *out: PC_ORDER_CHANGED
 * (o is the order afterwards), NOT_FOUND, or WRONG_STATE (not pending_review: another reviewer
 * won, or it is not paid yet). Returns 0 or a store error. */
int pc_order_approved(struct pc_db *db, const char *order_no, const struct pc_order_review *rv,
                      enum pc_order_change *out, struct pc_order *o);
/* pending_review → rejected, editable_until = now + the task's edit days (7 when unset): the
 * same records, audited "review.reject". Returns 0 (see *out) or a store error. */
int pc_order_rejected(struct pc_db *db, const char *order_no, const struct pc_order_review *rv,
                      enum pc_order_change *out, struct pc_order *o);

#endif
