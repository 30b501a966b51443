/* orders/photo.h — a student's photo for an order: the checks (photo/), the duplicate rules
 * that need the database (enrollment photo, another student's photo), durable
 * content-addressed storage, and the state change of API.md, all before anything is
 * acknowledged. Worker thread. */
#ifndef PC_ORDERS_PHOTO_H
#define PC_ORDERS_PHOTO_H

#include "photo/photo.h"
#include "core/ctx.h"
#include "store/orders.h"

#include <cjson/cJSON.h>

enum pc_upload_outcome {
    PC_UPLOAD_OK = 0,
    PC_UPLOAD_NOT_FOUND,      /* no such order for this student (404) */
    PC_UPLOAD_STATE,          /* not awaiting_photo / rejected (409 ORDER_STATE) */
    PC_UPLOAD_WINDOW_CLOSED,  /* awaiting_photo after the window closed (410) */
    PC_UPLOAD_EDIT_EXPIRED,   /* rejected and the edit period is over (410) */
    PC_UPLOAD_RESUBMIT_LIMIT, /* the task's resubmission cap is used up (409) */
    PC_UPLOAD_CHECKS_FAILED   /* a blocking check failed: nothing stored (422) */
};

/* Checks an uploaded photo for order_no and, when every blocking check passes, stores the
 * original and the standard file durably and moves the order (awaiting_photo → unpaid;
 * rejected → pending_review, counting a resubmission) in one transaction with the photo row
 * and the audit row. res receives the checks (caller frees with pc_photo_result_free);
 * o the order afterwards. 0 with *outcome, or a store/storage error. */
int pc_order_photo_upload(struct pc_ctx *ctx, const struct pc_user_auth *u, const char *order_no,
                          const void *data, size_t len, enum pc_upload_outcome *outcome,
                          struct pc_photo_result *res, struct pc_order *o);

/* Adds the duplicate rules to a checked photo: ENROLLMENT_PHOTO when the roster entry
 * carries the student's enrollment-photo hash, DUPLICATE_PHOTO when another student's
 * current photo has (nearly) the same hash. */
int pc_photo_duplicate_checks(struct pc_db *db, int64_t task_id, const char *student_no,
                              struct pc_photo_result *res);

/* JSON array of res's checks in API.md's Check shape. */
cJSON *pc_photo_checks_json(const struct pc_photo_result *res);

#endif
