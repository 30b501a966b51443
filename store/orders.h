/* store/orders.h — orders, their review decisions and their WeChat Pay Native code URLs
 * (tables orders, reviews, order_native_codes).
 *
 * Owned by orders/: it alone changes an order's status (the pc_store_order_status_* writers;
 * the test lint.layers fails when anything else calls them, see layers.txt), and it is the
 * other modules' way to read orders. Worker or jobs thread. */
#ifndef PC_STORE_ORDERS_H
#define PC_STORE_ORDERS_H

#include "store/db.h"
#include "store/scope.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pc_order {
    int64_t id;
    char order_no[33];
    int64_t task_id;
    int64_t user_id;
    int64_t school_id;
    int grad_year;
    char student_no[33];
    char student_name[129];
    char college[129];
    char class_name[129];
    char status[20];
    int64_t amount_fen;
    char paid_at[32];
    char editable_until[32];
    int resubmissions;
    char created_at[32];
    char updated_at[32];
    char photo_at[32]; /* when the current photo was stored; "" when none */
    char pay_deadline[32];
    bool edit_expired; /* editable_until is set and past (database clock) */
    char prepay_id[65];
    bool prepay_live; /* a prepay id valid for at least another minute */
    bool pay_overdue; /* pay_deadline is set and past */
    char openid[65];  /* the student's WeChat openid (the payer) */
    char transaction_id[33];
    char review_decision[8]; /* latest review: "approve" / "reject"; "" when none */
    char review_code[65];
    char review_reason[256];
    char review_at[32];
};

/* ---- reads ---- */
/* The order order_no into *out. Returns 0, PC_ENOTFOUND or a store error. */
int pc_store_order_get(struct pc_db *db, const char *order_no, struct pc_order *out);
/* The same, locking the row until the transaction ends (inside one). */
int pc_store_order_get_locked(struct pc_db *db, const char *order_no, struct pc_order *out);
/* The active order (not closed/refunded) of a task and student into *out. Returns 0,
 * PC_ENOTFOUND or a store error. */
int pc_store_order_active(struct pc_db *db, int64_t task_id, const char *student_no,
                          struct pc_order *out);
/* An order of the student in another task of the same school and school year that is still
 * active or approved: its number into order_no. Returns 0, PC_ENOTFOUND or a store error. */
int pc_store_order_same_year(struct pc_db *db, int64_t school_id, int grad_year,
                             const char *student_no, int64_t except_task_id, char order_no[33]);
/* A student's orders with ids below before_id (0 = from the newest), newest first, at most
 * limit: *out (the caller frees it) of *n. Returns 0 or a store error. */
int pc_store_order_list_user(struct pc_db *db, int64_t user_id, int64_t before_id, int limit,
                             struct pc_order **out, size_t *n);

/* What the API shows of an order (API.md's Order), borrowed from a query result: strings are
 * NULL for SQL NULL; times are UTC DATETIME text. */
struct pc_order_view {
    int64_t id;
    int64_t task_id;
    int64_t amount_fen;
    const char *order_no, *status;
    const char *student_name, *student_no, *college, *class_name;
    const char *paid_at, *photo_at, *editable_until, *created_at, *updated_at;
    const char *review_decision, *review_code, *review_reason, *review_at; /* the latest review */
};
/* The same list as pc_store_order_list_user with only what the API shows, in one statement
 * without a correlated query per column: *res (pc_db_res_free) holds one row per order, read
 * with pc_store_order_view_at. Returns 0 or a store error. */
int pc_store_order_list_user_views(struct pc_db *db, int64_t user_id, int64_t before_id, int limit,
                                   struct pc_db_res **res);
/* Row r of such a result as a view (pointing into res). */
void pc_store_order_view_at(const struct pc_db_res *res, size_t r, struct pc_order_view *v);

/* A student's orders fingerprint: the revision of their order list (order_list_revs, moved by
 * the database with every row of orders written for the student, schema/009): equal
 * fingerprints mean an equal order list, as long as every change an Order shows writes the
 * order row (photos and reviews come with a status change). PC_ORDER_FP_NONE: no revision. */
#define PC_ORDER_FP_LEN   64
#define PC_ORDER_FP_NONE  "0"
#define PC_ORDER_FP_BATCH PC_DB_IN_MAX /* user ids per pc_store_order_fingerprints */
/* The first page of a student's orders (no cursor) like pc_store_order_list_user_views, and
 * the fingerprint of all of them read in the same statement into fp. Returns 0 or a store
 * error. */
int pc_store_order_list_user_views_fp(struct pc_db *db, int64_t user_id, int limit,
                                      struct pc_db_res **res, char fp[PC_ORDER_FP_LEN]);
/* The fingerprints of up to PC_ORDER_FP_BATCH students' orders, in one statement: fps[i] for
 * user_ids[i]. Returns 0 or a store error. */
int pc_store_order_fingerprints(struct pc_db *db, const int64_t *user_ids, size_t n,
                                char (*fps)[PC_ORDER_FP_LEN]);

/* What a message to the student about an order needs, in one statement (the outbox worker's
 * read, docs/notify.md). */
struct pc_order_notice {
    char order_no[33];
    int64_t user_id;
    int64_t task_id;
    int64_t amount_fen;
    char student_name[129];
    char paid_at[32]; /* UTC DATETIME text; "" when unpaid */
    char openid[65];  /* the student's */
    char phone[24];   /* the student's bound phone; "" when none */
    char task_name[129];
};
/* The notice view of order order_no into *out. Returns 0, PC_ENOTFOUND or a store error. */
int pc_store_order_notice(struct pc_db *db, const char *order_no, struct pc_order_notice *out);
/* The same for up to PC_DB_IN_MAX orders in one statement: out[i] and found[i] for
 * order_nos[i] (unset out[i] when not found). Returns 0, PC_EINVAL (too many) or a store
 * error. */
int pc_store_order_notices(struct pc_db *db, const char *const *order_nos, size_t n,
                           struct pc_order_notice *out, bool *found);

/* pending_review orders of scope (and of task_id unless 0), oldest paid first, after the order
 * after_id (0 = from the start): *out (the caller frees it) of *n. Returns 0 or a store
 * error. */
int pc_store_review_queue(struct pc_db *db, const struct pc_scope *scope, int64_t task_id,
                          int64_t after_id, int limit, struct pc_order **out, size_t *n);
/* Unpaid orders the pay sweeper must look at (a prepay older than min_age_s, or past their pay
 * deadline): up to limit numbers into out (the caller's); *n receives how many. Returns 0 or a
 * store error. */
int pc_store_orders_to_sweep(struct pc_db *db, int min_age_s, int limit, char (*out)[33],
                             size_t *n);
/* Orders of a task the window close-out closes now (awaiting_photo, or unpaid without a prepay
 * id): up to max numbers into out (the caller's); *n receives how many. Returns 0 or a store
 * error. */
int pc_store_closeout_orders(struct pc_db *db, int64_t task_id, char (*out)[33], size_t max,
                             size_t *n);

/* ---- writes that keep the status ---- */
/* Inserts o (status, amount, student...) with the code it came from; *id receives its id.
 * Returns 0, PC_EEXIST (the task/student already has an active order, or the number is
 * taken) or a store error. */
int pc_store_order_insert(struct pc_db *db, const struct pc_order *o, const char *code_sha256,
                          int64_t *id);
/* Remembers the order's WeChat Pay prepay id for ttl_s seconds. Returns 0 or a store error. */
int pc_store_order_set_prepay(struct pc_db *db, int64_t order_id, const char *prepay_id, int ttl_s);
/* The longest Native code_url kept (order_native_codes.code_url). */
#define PC_ORDER_CODE_URL_MAX 255
/* The order's Native code_url (the PC page's QR code) into code_url when it stays live for at
 * least another minute. Returns 0, PC_ENOTFOUND (none, or about to expire) or a store error. */
int pc_store_order_native_code(struct pc_db *db, int64_t order_id,
                               char code_url[PC_ORDER_CODE_URL_MAX + 1]);
/* Keeps code_url as the order's Native code for ttl_s seconds (replacing an older one).
 * Returns 0 or a store error. */
int pc_store_order_native_code_set(struct pc_db *db, int64_t order_id, const char *code_url,
                                   int ttl_s);
/* Marks the order as known to WeChat Pay through Native (prepay_id "native" unless a JSAPI
 * prepay id is there; no prepay expiry, so it is never handed to wx.requestPayment): the
 * sweeper and the close-out then ask WeChat before closing it. Returns 0 or a store error. */
int pc_store_order_mark_native(struct pc_db *db, int64_t order_id);
/* Unpaid orders of a task with a prepay id get pay_deadline = now (the pay sweeper then asks
 * WeChat and closes them: never blind); *changed receives how many. Returns 0 or a store
 * error. */
int pc_store_closeout_prepaid(struct pc_db *db, int64_t task_id, uint64_t *changed);
/* Records a decision on the order's current photo (reason_code/reason/note may be NULL);
 * *review_id receives its id. Returns 0 or a store error. */
int pc_store_review_insert(struct pc_db *db, int64_t order_id, int64_t reviewer_id,
                           const char *decision, const char *reason_code, const char *reason,
                           const char *note, int64_t *review_id);

/* ---- status changes: orders/ alone (orders/state.c), on a row it locked ---- */
/* After a photo: status (unpaid / pending_review), resub added to resubmissions, and with
 * pay_timeout_s > 0 pay_deadline = now + pay_timeout_s. Returns 0 or a store error. */
int pc_store_order_status_photo(struct pc_db *db, int64_t order_id, const char *status, int resub,
                                int pay_timeout_s);
/* Locks up to PC_DB_IN_MAX orders by number in one statement (inside a transaction) and reads
 * what a payment needs: id, order_no, task_id, user_id, status, amount_fen, student_no,
 * school_id and the student's openid into out[i] (the other fields zero) with found[i]. Returns 0
 * or a store error. */
int pc_store_order_lock_many(struct pc_db *db, const char *const *order_nos, size_t n,
                             struct pc_order *out, bool *found);
/* pc_store_order_status_paid for n locked orders in one round trip. Returns 0, PC_EEXIST,
 * PC_ECONFLICT (an order was not updated) or a store error: roll back on any. */
int pc_store_order_status_paid_many(struct pc_db *db, const int64_t *order_ids, const char *status,
                                    const char *const *transaction_ids, const char *const *paid_ats,
                                    size_t n);
/* Paid: status, transaction_id, paid_at (UTC DATETIME text). Returns 0, PC_EEXIST (reopening
 * would make a second active order of the task and student) or a store error. */
int pc_store_order_status_paid(struct pc_db *db, int64_t order_id, const char *status,
                               const char *transaction_id, const char *paid_at);
/* Closed with a reason (pay_timeout, window_closed). Returns 0 or a store error. */
int pc_store_order_status_closed(struct pc_db *db, int64_t order_id, const char *reason);
/* pending_review → approved (editable_until cleared) or rejected (editable_until = now +
 * edit_days). Returns 0, PC_ECONFLICT (it was not pending_review) or a store error. */
int pc_store_order_status_reviewed(struct pc_db *db, int64_t order_id, bool approved,
                                   int edit_days);
/* Refunded (the money went back in full). Returns 0 or a store error. */
int pc_store_order_status_refunded(struct pc_db *db, int64_t order_id);

#endif
