/* orders/orders.h — from a CHSI collection code to an order: decoding the code, the roster
 * gate, the candidate the student confirms, and the order created in awaiting_photo
 * (one active order per task and student, enforced by the database). Worker thread. */
#ifndef PC_ORDERS_ORDERS_H
#define PC_ORDERS_ORDERS_H

#include "core/ctx.h"
#include "store/orders.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

struct pc_buf;
struct pc_config;

enum pc_gate {
    PC_GATE_OK = 0,
    PC_GATE_NOT_BOUND,         /* the student has not bound this task (404) */
    PC_GATE_NOT_OPEN,          /* window not open yet (410) */
    PC_GATE_CLOSED,            /* window closed (410) */
    PC_GATE_BAD_IMAGE,         /* not a readable JPEG/PNG (415) */
    PC_GATE_QR_NOT_FOUND,      /* a picture without a readable QR (422) */
    PC_GATE_CODE_UNKNOWN,      /* not a collection code we can decode (404) */
    PC_GATE_NOT_IN_ROSTER,     /* not in this task's roster / another school / name (403) */
    PC_GATE_ALREADY_COLLECTED, /* collected offline, or an order in a sibling task (409) */
    PC_GATE_DUPLICATE,         /* already holds an order in this task (409, order_no) */
    PC_GATE_OTHER_ACCOUNT,     /* the student's order was made by another WeChat account (409,
                                  its number withheld) */
    PC_GATE_CANDIDATE_UNKNOWN, /* confirm: no such candidate for this student/task (404) */
    PC_GATE_CANDIDATE_EXPIRED  /* confirm: decoded too long ago (410) */
};

/* ---- reads: the other modules' way to orders (status changes: orders/state.h) ---- */
/* The order order_no into *o. Returns 0, PC_ENOTFOUND (also for a text that cannot be an order
 * number) or a store error. */
int pc_order_get(struct pc_db *db, const char *order_no, struct pc_order *o);
/* What a message about order order_no needs (store/orders.h), in one read. Returns 0,
 * PC_ENOTFOUND (also for a text that cannot be an order number) or a store error. */
int pc_order_notice(struct pc_db *db, const char *order_no, struct pc_order_notice *out);
/* pc_order_notice for n orders (any n), PC_DB_IN_MAX per statement: found[i] says whether
 * out[i] holds order_nos[i]'s (NULL or too long: not found). Returns 0 or a store error. */
int pc_order_notices(struct pc_db *db, const char *const *order_nos, size_t n,
                     struct pc_order_notice *out, bool *found);
/* The same when it is u's: another student's order does not exist for u (PC_ENOTFOUND). */
int pc_order_get_own(struct pc_db *db, const struct pc_user_auth *u, const char *order_no,
                     struct pc_order *o);
/* The order with its row locked until the caller's transaction ends (inside one). */
int pc_order_lock(struct pc_db *db, const char *order_no, struct pc_order *o);
/* u's orders with ids below before_id (0 = from the newest), newest first, at most limit:
 * *out (the caller frees it) of *n. Returns 0 or a store error. */
int pc_order_list_own(struct pc_db *db, const struct pc_user_auth *u, int64_t before_id, int limit,
                      struct pc_order **out, size_t *n);
/* Orders of scope (and of task_id unless 0) waiting for a reviewer, oldest paid first, after
 * the order after_id: *out (the caller frees it) of *n. Returns 0 or a store error. */
int pc_order_list_pending(struct pc_db *db, const struct pc_scope *scope, int64_t task_id,
                          int64_t after_id, int limit, struct pc_order **out, size_t *n);
/* Unpaid orders the pay sweeper looks at (a prepay older than min_age_s, or past their pay
 * deadline): up to limit numbers into out; *n receives how many. Returns 0 or a store error. */
int pc_order_list_to_sweep(struct pc_db *db, int min_age_s, int limit, char (*out)[33], size_t *n);
/* The check results of o's current photo as API.md's Check array (*checks, the caller's; an
 * empty array when it has no photo). Returns 0 or a store error. */
int pc_order_photo_checks(struct pc_db *db, const struct pc_order *o, cJSON **checks);
/* Remembers o's WeChat Pay prepay id for ttl_s seconds (repeat pay calls reuse it). Returns 0
 * or a store error. */
int pc_order_set_prepay(struct pc_db *db, const struct pc_order *o, const char *prepay_id,
                        int ttl_s);
/* o's WeChat Pay Native code_url (the PC page's QR code) into code_url when it stays live for
 * at least another minute (repeat pay calls show the same code). Returns 0, PC_ENOTFOUND or a
 * store error. */
int pc_order_native_code(struct pc_db *db, const struct pc_order *o,
                         char code_url[PC_ORDER_CODE_URL_MAX + 1]);
/* Remembers code_url as o's Native code for ttl_s seconds and marks o as known to WeChat Pay
 * (so that the sweeper and the close-out ask WeChat before closing it, as after a JSAPI
 * prepay), in one transaction. Returns 0 or a store error. */
int pc_order_set_native_code(struct pc_db *db, const struct pc_order *o, const char *code_url,
                             int ttl_s);

/* Whether o's money has arrived and stays (pending_review, approved, rejected). Pure. */
bool pc_order_is_paid(const struct pc_order *o);

/* "P" + yyyymmdd (Asia/Shanghai) + 8 upper-case hex digits: 17 characters. */
void pc_order_no_new(char out[33]);
/* API.md's Order object as a cJSON tree (the caller's): what pc_order_json_write writes. */
cJSON *pc_order_json(const struct pc_order *o);
/* API.md's Order object of v written into b: 0, or PC_ETOOBIG when b's limit cut it. The one
 * renderer of an order (pc_order_json parses its output). Pure. */
int pc_order_json_write(struct pc_buf *b, const struct pc_order_view *v);
/* v views o (borrowing o's strings). */
void pc_order_view_of(const struct pc_order *o, struct pc_order_view *v);
/* u's orders like pc_order_list_own, written straight into out as a JSON array of Orders;
 * *n orders, *last_id the id of the last one (for the next cursor). Returns 0, PC_ETOOBIG
 * (out's limit) or a store error. */
int pc_order_list_own_json(struct pc_db *db, const struct pc_user_auth *u, int64_t before_id,
                           int limit, struct pc_buf *out, size_t *n, int64_t *last_id);
/* The same from a result of pc_store_order_list_user_views (or its loop-side twin). */
int pc_order_views_json(const struct pc_db_res *res, struct pc_buf *out, size_t *n,
                        int64_t *last_id);

struct pc_code_result {
    enum pc_gate gate;
    char order_no[33];     /* with PC_GATE_DUPLICATE / ALREADY_COLLECTED when known */
    char candidate_id[33]; /* with PC_GATE_OK */
    cJSON *student;        /* with PC_GATE_OK: the record shown for confirmation (caller deletes) */
    int retry_after_s;     /* with PC_ELIMIT */
};

/* Decodes a code (image bytes, or scanned text when img is NULL) for task_id and applies
 * the gate; counted against the student's code-upload limit, the picture decoded within the
 * image gate (orders/limits.h). 0 with out->gate set, PC_ELIMIT (out->retry_after_s: 429),
 * PC_EBUSY (503), or a store error. */
int pc_code_submit(struct pc_db *db, const struct pc_config *cfg, const struct pc_user_auth *u,
                   int64_t task_id, const void *img, size_t img_len, const char *text,
                   size_t text_len, struct pc_code_result *out);

/* Creates (or returns, when this student already created it) the order of a candidate.
 * 0 with *gate set and *o filled on PC_GATE_OK, or a store error. dup receives the other
 * order's number with PC_GATE_DUPLICATE. */
int pc_order_confirm(struct pc_db *db, const struct pc_config *cfg, const struct pc_user_auth *u,
                     int64_t task_id, const char *candidate_id, enum pc_gate *gate,
                     struct pc_order *o, char dup[33]);

#endif
