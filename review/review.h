/* review/review.h — the reviewer's decision on a paid order's photo: the catalogue of rejection
 * reasons (each with the sentence the student reads), the approve/reject transition with its
 * edit period, and the notification it queues in the outbox in the same transaction.
 * SQL lives in store/reviews.c. Functions run on a worker thread (they use the database). */
#ifndef PC_REVIEW_H
#define PC_REVIEW_H

#include "core/ctx.h"
#include "orders/orders.h"

#include <cjson/cJSON.h>
#include <stdbool.h>

struct pc_review_reason {
    const char *code; /* e.g. "HAIR_COVERS_EARS" */
    const char *text; /* what the student should do, in Chinese */
};

/* The catalogue entry for code, or NULL. "OTHER" is in the catalogue; its text is the note. */
const struct pc_review_reason *pc_review_reason(const char *code);
/* The whole catalogue as a JSON array of {"code","text"} (the caller owns it). */
cJSON *pc_review_reasons_json(void);

enum pc_review_outcome {
    PC_REVIEW_OK,
    PC_REVIEW_NOT_FOUND, /* no such order, or outside the reviewer's school or task */
    PC_REVIEW_STATE,     /* not pending_review (another reviewer won, or not paid yet) */
};

struct pc_review_decision {
    bool approve;
    const char *reason_code; /* reject: a catalogue code (checked by the caller) */
    const char *note;        /* optional; required for OTHER */
};

/* Applies d to order_no when it is in by's scope (else PC_REVIEW_NOT_FOUND): the order moves
 * pending_review → approved or rejected (orders/state.h; editable_until = now + the task's
 * edit days), the review is recorded, a notification for the student is queued in the outbox,
 * and the action is audited, in one transaction. *o is the order afterwards. Two reviewers at
 * once: the row lock lets one win, the other sees PC_REVIEW_STATE. Returns 0 (see *outcome)
 * or a store error. */
int pc_review_decide(struct pc_db *db, const struct pc_staff_auth *by, const char *order_no,
                     const struct pc_review_decision *d, const char *ip, const char *request_id,
                     enum pc_review_outcome *outcome, struct pc_order *o);

/* The orders waiting for by: pending_review in the schools and tasks by's reviewer (and admin)
 * roles reach, of task_id unless 0, oldest paid first, after the order after_id: *out (the
 * caller frees it) of *n. The read is audited ("review.queue_read": the order numbers shown,
 * from ip). Returns 0 or a store error (nothing then: a read that cannot be audited is not
 * answered). */
int pc_review_queue(struct pc_db *db, const struct pc_staff_auth *by, int64_t task_id,
                    int64_t after_id, int limit, const char *ip, const char *request_id,
                    struct pc_order **out, size_t *n);

/* Whether staff member s may see and review orders of task_id in school_id. */
bool pc_review_in_scope(const struct pc_staff_auth *s, int64_t school_id, int64_t task_id);

#endif
