/* orders/photo.h — a student's photo for an order: the checks (photo/), the duplicate rules
 * that need the database (enrollment photo, another student's photo), durable
 * content-addressed storage, and the state change of API.md, all before anything is
 * acknowledged. Worker thread. */
#ifndef PC_ORDERS_PHOTO_H
#define PC_ORDERS_PHOTO_H

#include "photo/photo.h"
#include "core/ctx.h"
#include "orders/state.h"
#include "store/orders.h"

#include <cjson/cJSON.h>

/* Checks an uploaded photo for order_no and, when every blocking check passes, stores the
 * original and the standard file durably and then moves the order with the photo row
 * (orders/state.h: photo accepted, awaiting_photo → unpaid; photo replaced, rejected →
 * pending_review). res receives the checks (caller frees with pc_photo_result_free); o the
 * order afterwards. Counted against the student's upload limit and decoded within the image
 * gate (orders/limits.h) once the order may take a photo: PC_ELIMIT with *retry_after_s (429)
 * or PC_EBUSY (503) then. 0 with *outcome, or a store/storage error. */
int pc_order_photo_upload(struct pc_ctx *ctx, const struct pc_user_auth *u, const char *order_no,
                          const void *data, size_t len, enum pc_upload_outcome *outcome,
                          struct pc_photo_result *res, struct pc_order *o, int *retry_after_s);

/* The checks of a photo without storing anything (POST /photos/check), within u's limit
 * (orders/limits.h) and the image gate. 0 with res (caller frees with pc_photo_result_free),
 * PC_ELIMIT with *retry_after_s (429), PC_EBUSY (503), or a store error. */
int pc_photo_check(struct pc_ctx *ctx, const struct pc_user_auth *u, const void *data, size_t len,
                   struct pc_photo_result *res, int *retry_after_s);

/* Adds the duplicate rules to a checked photo: ENROLLMENT_PHOTO when the roster entry
 * carries the student's enrollment-photo hash, DUPLICATE_PHOTO when another student's
 * current photo has (nearly) the same hash. */
int pc_photo_duplicate_checks(struct pc_db *db, int64_t task_id, const char *student_no,
                              struct pc_photo_result *res);

/* The bytes of o's current photo, the original upload or the standard file: *data (the
 * caller frees it) of *len; *png tells the type (else JPEG). Returns 0, PC_ENOTFOUND (no photo
 * yet, or its file is gone), or a store/storage error. */
int pc_order_photo_read(struct pc_ctx *ctx, const struct pc_order *o, bool original, char **data,
                        size_t *len, bool *png);

/* The same for staff member by: the read is audited first ("order.photo_read": which order,
 * student and variant, from ip), and nothing is returned when it cannot be. */
int pc_order_photo_read_staff(struct pc_ctx *ctx, const struct pc_staff_auth *by,
                              const struct pc_order *o, bool original, const char *ip,
                              const char *request_id, char **data, size_t *len, bool *png);

/* JSON array of res's checks in API.md's Check shape. */
cJSON *pc_photo_checks_json(const struct pc_photo_result *res);

#endif
