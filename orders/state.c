/* orders/state.c — the order's state machine (orders/state.h): every transition locks the
 * order's row, checks its status, and writes the new status with its audit and outbox rows
 * in one transaction. SQL in store/orders.c. */
#include "orders/state.h"

#include "base/alloc.h"
#include "base/err.h"
#include "orders/orders.h"
#include "staff/staff.h"
#include "store/audit.h"
#include "store/outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An audit row about an order by someone who is not staff (the student, WeChat, the system). */
static int audit(struct pc_db *db, const char *actor_type, int64_t actor_id, const char *action,
                 const struct pc_order *o, const cJSON *details)
{
    struct pc_audit au = {.actor_type = actor_type,
                          .actor_id = actor_id,
                          .school_id = o->school_id,
                          .action = action,
                          .target_type = "order",
                          .target_id = o->order_no,
                          .details = details};
    return pc_store_audit_insert(db, &au);
}

/* ---- a photo ---- */

enum pc_upload_outcome pc_order_photo_rule(const struct pc_order *o, const struct pc_task *t,
                                           bool *replace)
{
    *replace = false;
    if (!strcmp(o->status, "awaiting_photo"))
        return t->closed ? PC_UPLOAD_WINDOW_CLOSED : PC_UPLOAD_OK;
    if (!strcmp(o->status, "rejected")) {
        if (o->edit_expired || !o->editable_until[0])
            return PC_UPLOAD_EDIT_EXPIRED;
        if (o->resubmissions >= t->resubmit_cap)
            return PC_UPLOAD_RESUBMIT_LIMIT;
        *replace = true;
        return PC_UPLOAD_OK;
    }
    return PC_UPLOAD_STATE;
}

struct photo_args {
    const struct pc_user_auth *u;
    const char *order_no;
    const struct pc_store_photo *photo;
    bool replace; /* photo replaced (rejected → pending_review), else accepted */
    enum pc_upload_outcome *outcome;
    struct pc_order *o;
};

static int photo_tx(struct pc_db *db, void *arg)
{
    struct photo_args *a = arg;
    struct pc_task t;
    int rc = pc_store_order_get_locked(db, a->order_no, a->o);
    if (rc == 0 && a->o->user_id != a->u->id)
        rc = PC_ENOTFOUND;
    if (rc == PC_ENOTFOUND) {
        *a->outcome = PC_UPLOAD_NOT_FOUND;
        return 0;
    }
    if (rc == 0)
        rc = pc_store_task_get(db, a->o->task_id, false, &t);
    if (rc)
        return rc;
    bool replace;
    *a->outcome = pc_order_photo_rule(a->o, &t, &replace);
    if (*a->outcome == PC_UPLOAD_OK && replace != a->replace)
        *a->outcome = PC_UPLOAD_STATE; /* it moved since the photo was checked */
    if (*a->outcome != PC_UPLOAD_OK)
        return 0;
    const char *to = replace ? "pending_review" : "unpaid";
    struct pc_store_photo p = *a->photo;
    p.order_id = a->o->id;
    rc = pc_store_photo_insert(db, &p, NULL);
    if (rc == 0)
        rc = pc_store_order_status_photo(db, a->o->id, to, replace ? 1 : 0,
                                         replace ? 0 : t.unpaid_timeout_s);
    if (rc == 0) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "from", a->o->status);
        cJSON_AddStringToObject(d, "to", to);
        cJSON_AddStringToObject(d, "photo", p.normalized_sha256);
        rc = audit(db, "user", a->u->id, "order.photo", a->o, d);
        cJSON_Delete(d);
    }
    if (rc == 0)
        rc = pc_store_order_get(db, a->order_no, a->o);
    return rc;
}

int pc_order_photo_accepted(struct pc_db *db, const struct pc_user_auth *u, const char *order_no,
                            const struct pc_store_photo *photo, enum pc_upload_outcome *outcome,
                            struct pc_order *o)
{
    struct photo_args a = {u, order_no, photo, false, outcome, o};
    return pc_db_tx(db, photo_tx, &a);
}

int pc_order_photo_replaced(struct pc_db *db, const struct pc_user_auth *u, const char *order_no,
                            const struct pc_store_photo *photo, enum pc_upload_outcome *outcome,
                            struct pc_order *o)
{
    struct photo_args a = {u, order_no, photo, true, outcome, o};
    return pc_db_tx(db, photo_tx, &a);
}

/* ---- money ---- */

struct pay_args {
    const char *order_no;
    const struct pc_order_payment *p;
    enum pc_paid_outcome *out;
    struct pc_order *o;
    int64_t order_id;     /* refunded: the order the refunds belong to */
    int64_t refunded_fen; /* refunded: what came back so far */
    bool *moved;
};

/* The audit details and the outbox payload of a payment's effect on the order. */
static cJSON *money_details(const struct pc_order *o, const struct pc_order_payment *p,
                            const char *to)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "transaction_id", p->transaction_id);
    cJSON_AddStringToObject(d, "order_no", o->order_no);
    cJSON_AddNumberToObject(d, "amount_fen", (double)p->amount_fen);
    cJSON_AddStringToObject(d, "from", o->status);
    cJSON_AddStringToObject(d, "to", to);
    cJSON_AddStringToObject(d, "source", p->source);
    return d;
}

/* The note of an "order.paid" row that nothing can send (recorded done), else NULL (pending). */
static const char *unsent_note(const char *what, const struct pc_order_payment *p)
{
    return p->unsent && !strcmp(what, "order.paid")
               ? "nothing to send: no subscription template or SMS for this event"
               : NULL;
}

/* Audited and queued under one name ("order.paid", "payment.refund_due"). */
static int money_records(struct pc_db *db, const char *what, const struct pc_order *o,
                         const struct pc_order_payment *p, const char *to)
{
    cJSON *d = money_details(o, p, to);
    int rc = audit(db, "wechat", 0, what, o, d);
    if (rc == 0)
        rc = pc_store_outbox_insert_many(db, what, &p->transaction_id, (const cJSON *const *)&d,
                                         unsent_note(what, p), 1);
    cJSON_Delete(d);
    return rc;
}

/* Whether a locked order can take its money: waiting for it, or closed while its task's window
 * is open and no other order of the student in the task is active (reopening it must not make
 * a second one). */
static int can_take_money(struct pc_db *db, const struct pc_order *o, bool *can)
{
    *can = !strcmp(o->status, "unpaid");
    if (*can || strcmp(o->status, "closed") != 0)
        return 0;
    struct pc_task t;
    int rc = pc_store_task_get(db, o->task_id, false, &t);
    if (rc || t.closed || t.not_open_yet)
        return rc;
    struct pc_order other;
    rc = pc_store_order_active(db, o->task_id, o->student_no, &other);
    if (rc == PC_ENOTFOUND)
        *can = true;
    return rc == PC_ENOTFOUND ? 0 : rc;
}

bool pc_order_payment_matches(const struct pc_order *o, const struct pc_order_payment *p)
{
    if (p->amount_fen != o->amount_fen || !p->payer_openid || !p->payer_openid[0])
        return false;
    return p->native || !strcmp(p->payer_openid, o->openid);
}

static int paid_tx(struct pc_db *db, void *arg)
{
    struct pay_args *a = arg;
    int rc = pc_store_order_get_locked(db, a->order_no, a->o);
    if (rc == PC_ENOTFOUND) {
        *a->out = PC_PAID_NOT_FOUND;
        return 0;
    }
    if (rc == 0 && !pc_order_payment_matches(a->o, a->p)) {
        *a->out = PC_PAID_NOT_ITS_OWN;
        return 0;
    }
    bool can = false;
    if (rc == 0)
        rc = can_take_money(db, a->o, &can);
    if (rc)
        return rc;
    if (!can) {
        *a->out = PC_PAID_WRONG_STATE;
        return 0;
    }
    rc = pc_store_order_status_paid(db, a->o->id, "pending_review", a->p->transaction_id,
                                    a->p->paid_at);
    if (rc == PC_EEXIST) /* an order became active since the check: run it all again */
        return PC_ERETRY;
    if (rc == 0)
        rc = money_records(db, "order.paid", a->o, a->p, "pending_review");
    if (rc == 0)
        *a->out = PC_PAID_OK;
    return rc;
}

int pc_order_lock_many(struct pc_db *db, const char *const *order_nos, size_t n,
                       struct pc_order *os, bool *found)
{
    return pc_store_order_lock_many(db, order_nos, n, os, found);
}

int pc_orders_paid_many(struct pc_db *db, const struct pc_order *os,
                        const struct pc_order_payment *ps, size_t n, enum pc_paid_outcome *out)
{
    int64_t *ids = pc_xcalloc(n ? n : 1, sizeof *ids);
    const char **txs = pc_xcalloc(n ? n : 1, sizeof *txs),
               **paid = pc_xcalloc(n ? n : 1, sizeof *paid);
    struct pc_audit *au = pc_xcalloc(n ? n : 1, sizeof *au);
    cJSON **d = pc_xcalloc(n ? n : 1, sizeof *d);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        /* Plainly this unpaid order's own money (the same rule as pc_order_paid); anything
         * else is decided alone. */
        out[i] = !strcmp(os[i].status, "unpaid") && pc_order_payment_matches(&os[i], &ps[i])
                     ? PC_PAID_OK
                     : PC_PAID_ALONE;
        if (out[i] != PC_PAID_OK)
            continue;
        ids[k] = os[i].id;
        txs[k] = ps[i].transaction_id;
        paid[k] = ps[i].paid_at;
        d[k] = money_details(&os[i], &ps[i], "pending_review");
        au[k] = (struct pc_audit){.actor_type = "wechat",
                                  .school_id = os[i].school_id,
                                  .action = "order.paid",
                                  .target_type = "order",
                                  .target_id = os[i].order_no,
                                  .details = d[k]};
        k++;
    }
    int rc = pc_store_order_status_paid_many(db, ids, "pending_review", txs, paid, k);
    if (rc == 0)
        rc = pc_store_audit_insert_many(db, au, k);
    if (rc == 0)
        rc = pc_store_outbox_insert_many(db, "order.paid", txs, (const cJSON *const *)d,
                                         k ? unsent_note("order.paid", &ps[0]) : NULL, k);
    for (size_t i = 0; i < k; i++)
        cJSON_Delete(d[i]);
    free(d);
    free(au);
    free(paid);
    free(txs);
    free(ids);
    return rc;
}

int pc_order_paid(struct pc_db *db, const char *order_no, const struct pc_order_payment *p,
                  enum pc_paid_outcome *out, struct pc_order *o)
{
    struct pay_args a = {.order_no = order_no, .p = p, .out = out, .o = o};
    *out = PC_PAID_NOT_FOUND;
    return pc_db_tx(db, paid_tx, &a);
}

static int refund_due_tx(struct pc_db *db, void *arg)
{
    struct pay_args *a = arg;
    int rc = pc_store_order_get_locked(db, a->order_no, a->o);
    if (rc == 0)
        rc = money_records(db, "payment.refund_due", a->o, a->p, a->o->status);
    return rc;
}

int pc_order_refund_due(struct pc_db *db, const char *order_no, const struct pc_order_payment *p,
                        struct pc_order *o)
{
    struct pay_args a = {.order_no = order_no, .p = p, .o = o};
    return pc_db_tx(db, refund_due_tx, &a);
}

static int refunded_tx(struct pc_db *db, void *arg)
{
    struct pay_args *a = arg;
    int rc = pc_store_order_get_locked(db, a->order_no, a->o);
    if (rc == PC_ENOTFOUND)
        return 0;
    if (rc || a->o->id != a->order_id || !pc_order_is_paid(a->o) ||
        a->refunded_fen < a->o->amount_fen)
        return rc;
    rc = pc_store_order_status_refunded(db, a->o->id);
    if (rc == 0) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "from", a->o->status);
        cJSON_AddStringToObject(d, "to", "refunded");
        cJSON_AddNumberToObject(d, "refunded_fen", (double)a->refunded_fen);
        rc = audit(db, "wechat", 0, "order.refund", a->o, d);
        cJSON_Delete(d);
    }
    *a->moved = rc == 0;
    return rc;
}

int pc_order_refunded(struct pc_db *db, const char *order_no, int64_t order_id,
                      int64_t refunded_fen, bool *moved)
{
    struct pc_order o;
    struct pay_args a = {.order_no = order_no,
                         .o = &o,
                         .order_id = order_id,
                         .refunded_fen = refunded_fen,
                         .moved = moved};
    *moved = false;
    return pc_db_tx(db, refunded_tx, &a);
}

/* ---- closing ---- */

struct close_args {
    const char *order_no;
    enum pc_close_reason why;
    bool *closed;
};

static int close_tx(struct pc_db *db, void *arg)
{
    struct close_args *a = arg;
    struct pc_order o;
    int rc = pc_store_order_get_locked(db, a->order_no, &o);
    if (rc)
        return rc == PC_ENOTFOUND ? 0 : rc;
    bool unpaid = !strcmp(o.status, "unpaid");
    bool can = a->why == PC_CLOSE_PAY_TIMEOUT
                   ? unpaid
                   : !strcmp(o.status, "awaiting_photo") || (unpaid && !o.prepay_id[0]);
    if (!can)
        return 0; /* moved meanwhile (a notification arrived, a photo came) */
    const char *reason = a->why == PC_CLOSE_PAY_TIMEOUT ? "pay_timeout" : "window_closed";
    rc = pc_store_order_status_closed(db, o.id, reason);
    if (rc == 0) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "from", o.status);
        cJSON_AddStringToObject(d, "reason", reason);
        rc = audit(db, "system", 0, "order.close", &o, d);
        cJSON_Delete(d);
    }
    *a->closed = rc == 0;
    return rc;
}

int pc_order_close(struct pc_db *db, const char *order_no, enum pc_close_reason why, bool *closed)
{
    struct close_args a = {order_no, why, closed};
    *closed = false;
    return pc_db_tx(db, close_tx, &a);
}

/* ---- review ---- */

struct review_args {
    const char *order_no;
    const struct pc_order_review *rv;
    bool approve;
    enum pc_order_change *out;
    struct pc_order *o;
};

/* The student's message, queued with the decision: delivered later by the outbox worker. */
static cJSON *notice_payload(const struct pc_order *o, int64_t review_id)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "event", o->review_decision[0] == 'a' ? "approved" : "rejected");
    cJSON_AddStringToObject(p, "order_no", o->order_no);
    cJSON_AddNumberToObject(p, "user_id", (double)o->user_id);
    cJSON_AddStringToObject(p, "openid", o->openid);
    cJSON_AddNumberToObject(p, "review_id", (double)review_id);
    cJSON_AddStringToObject(p, "student_name", o->student_name);
    if (o->review_code[0]) {
        cJSON_AddStringToObject(p, "reason_code", o->review_code);
        cJSON_AddStringToObject(p, "reason", o->review_reason);
    }
    cJSON *order = pc_order_json(o);
    cJSON *eu = cJSON_DetachItemFromObjectCaseSensitive(order, "editable_until");
    cJSON_AddItemToObject(p, "editable_until", eu);
    if (o->editable_until[0])
        cJSON_AddStringToObject(p, "editable_until_db", o->editable_until);
    cJSON_Delete(order);
    return p;
}

static int review_tx(struct pc_db *db, void *arg)
{
    struct review_args *a = arg;
    const struct pc_order_review *rv = a->rv;
    struct pc_task t;
    int rc = pc_store_order_get_locked(db, a->order_no, a->o);
    if (rc == PC_ENOTFOUND) {
        *a->out = PC_ORDER_NOT_FOUND;
        return 0;
    }
    if (rc)
        return rc;
    if (strcmp(a->o->status, "pending_review") != 0) {
        *a->out = PC_ORDER_WRONG_STATE;
        return 0;
    }
    rc = pc_store_task_get(db, a->o->task_id, false, &t);
    if (rc)
        return rc;
    int64_t review_id = 0;
    const char *decision = a->approve ? "approve" : "reject";
    rc =
        pc_store_order_status_reviewed(db, a->o->id, a->approve, t.edit_days > 0 ? t.edit_days : 7);
    if (rc == 0)
        rc = pc_store_review_insert(db, a->o->id, rv->by->id, decision,
                                    a->approve ? NULL : rv->reason_code,
                                    a->approve ? NULL : rv->reason, rv->note, &review_id);
    if (rc == 0)
        rc = pc_store_order_get(db, a->order_no, a->o);
    if (rc)
        return rc;
    char key[64];
    snprintf(key, sizeof key, "review:%lld", (long long)review_id);
    cJSON *payload = notice_payload(a->o, review_id);
    rc = pc_store_outbox_insert(db, "student.notice", key, payload);
    cJSON_Delete(payload);
    if (rc == 0) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "order_no", a->o->order_no);
        cJSON_AddStringToObject(d, "decision", decision);
        if (!a->approve && rv->reason_code)
            cJSON_AddStringToObject(d, "reason_code", rv->reason_code);
        rc = pc_staff_audit(db, rv->by, a->o->school_id,
                            a->approve ? "review.approve" : "review.reject", "order", a->o->id, d,
                            rv->ip, rv->request_id);
        cJSON_Delete(d);
    }
    *a->out = PC_ORDER_CHANGED;
    return rc;
}

int pc_order_approved(struct pc_db *db, const char *order_no, const struct pc_order_review *rv,
                      enum pc_order_change *out, struct pc_order *o)
{
    struct review_args a = {order_no, rv, true, out, o};
    return pc_db_tx(db, review_tx, &a);
}

int pc_order_rejected(struct pc_db *db, const char *order_no, const struct pc_order_review *rv,
                      enum pc_order_change *out, struct pc_order *o)
{
    struct review_args a = {order_no, rv, false, out, o};
    return pc_db_tx(db, review_tx, &a);
}
