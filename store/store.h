/* store/store.h — every domain query of portraitd, grouped by table.
 *
 * The only place with SQL text (besides schema/ and the migration runner). Functions
 * run on a worker thread with that worker's connection; none opens a transaction
 * unless its comment says so. Returns follow base/err.h. */
#ifndef PC_STORE_STORE_H
#define PC_STORE_STORE_H

#include "store/db.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

/* ---- schools ---- */
/* *id of the school with this code. 0 or PC_ENOTFOUND. */
int pc_store_school_id_by_code(struct pc_db *db, const char *code, int64_t *id);

/* ---- staff accounts and sessions ---- */
struct pc_store_staff {
    int64_t id;
    char username[65];
    char password_hash[256];
    bool disabled;
};

int pc_store_staff_insert(struct pc_db *db, const char *username, const char *password_hash,
                          int64_t *id);
/* role is the ENUM text; school_id 0 and college NULL mean "not limited". */
int pc_store_staff_role_insert(struct pc_db *db, int64_t staff_id, const char *role,
                               int64_t school_id, const char *college);
/* 0 or PC_ENOTFOUND. */
int pc_store_staff_by_username(struct pc_db *db, const char *username, struct pc_store_staff *out);
int pc_store_staff_set_password(struct pc_db *db, int64_t staff_id, const char *password_hash);

struct pc_store_role {
    char role[16];
    int64_t school_id; /* 0 = none */
    char college[129];
    int64_t task_id; /* a reviewer's one task; 0 = every task of the school */
};
/* Up to max roles of a staff member into out; *n receives how many. */
int pc_store_staff_roles(struct pc_db *db, int64_t staff_id, struct pc_store_role *out, size_t max,
                         size_t *n);

/* Creates a session that expires ttl_s from now (database clock); expires_at receives
 * the UTC DATETIME text. */
int pc_store_staff_session_insert(struct pc_db *db, int64_t staff_id, const char *token_hash,
                                  int ttl_s, const char *ip, const char *user_agent,
                                  int64_t *session_id, char expires_at[32]);

struct pc_store_session {
    int64_t session_id;
    int64_t staff_id;
    char username[65];
    bool expired;  /* past expires_at */
    bool revoked;  /* logged out */
    bool disabled; /* account disabled */
};
/* Looks a session up by token hash. 0 or PC_ENOTFOUND. */
int pc_store_staff_session_get(struct pc_db *db, const char *token_hash,
                               struct pc_store_session *out);
int pc_store_staff_session_revoke(struct pc_db *db, int64_t session_id);

/* ---- audit log ---- */
struct pc_audit {
    const char *actor_type; /* staff, user, system, wechat, anonymous */
    int64_t actor_id;       /* 0 = none */
    const char *actor_name;
    const char *action; /* dotted verb: "staff.login", "task.update" */
    const char *target_type;
    const char *target_id;
    const char *ip;
    const char *request_id;
    const cJSON *details; /* borrowed; may be NULL */
};
int pc_store_audit_insert(struct pc_db *db, const struct pc_audit *a);
/* Newest first, ids below before_id (0 = from the newest); returns a JSON array. */
int pc_store_audit_list(struct pc_db *db, int64_t before_id, int limit, cJSON **items);

/* ---- rate limits (fixed windows shared by all instances) ---- */
/* Hits recorded for (bucket, key) in the current window; *retry_after_s = seconds until
 * the window ends (0 if no window is open). */
int pc_store_rl_get(struct pc_db *db, const char *bucket, const char *key, int window_s, int *hits,
                    int *retry_after_s);
/* Records one hit (opens a new window when the last one ended). */
int pc_store_rl_hit(struct pc_db *db, const char *bucket, const char *key, int window_s);
int pc_store_rl_clear(struct pc_db *db, const char *bucket, const char *key);

/* ---- students (users) and their sessions ---- */
struct pc_store_user {
    int64_t id;
    char openid[65];
    char nickname[129];
    char real_name[129];
    char phone[24];
    char avatar_name[65];
};

/* Creates the user of openid or updates its session key; *created tells which. */
int pc_store_user_upsert(struct pc_db *db, const char *openid, const char *unionid,
                         const unsigned char *session_key_enc, size_t enc_len, int64_t *id,
                         bool *created);
/* 0 or PC_ENOTFOUND. Empty strings for NULL columns. */
int pc_store_user_get(struct pc_db *db, int64_t id, struct pc_store_user *out);
int pc_store_user_set_profile(struct pc_db *db, int64_t id, const char *real_name,
                              const char *nickname);
int pc_store_user_set_phone(struct pc_db *db, int64_t id, const char *phone);
int pc_store_user_set_avatar(struct pc_db *db, int64_t id, const char *avatar_name,
                             const char *path);
/* Storage path of an avatar by its public name. 0 or PC_ENOTFOUND. */
int pc_store_avatar_path(struct pc_db *db, const char *avatar_name, char *path, size_t len);

int pc_store_user_session_insert(struct pc_db *db, int64_t user_id, const char *token_hash,
                                 int ttl_s, const char *ip, int64_t *session_id,
                                 char expires_at[32]);
struct pc_store_user_session {
    int64_t session_id;
    int64_t user_id;
    char openid[65];
    bool expired;
    bool revoked;
};
int pc_store_user_session_get(struct pc_db *db, const char *token_hash,
                              struct pc_store_user_session *out);
int pc_store_user_session_revoke(struct pc_db *db, int64_t session_id);

/* ---- leases ---- */
/* Takes or renews the lease name for holder for ttl_s seconds when it is free, expired or
 * already held by holder; *held tells whether holder has it now. */
int pc_store_lease_acquire(struct pc_db *db, const char *name, const char *holder, int ttl_s,
                           bool *held);

/* ---- the shared WeChat access_token ---- */
struct pc_store_wxtoken {
    unsigned char enc[1100];
    size_t enc_len;
    int64_t version;
    int64_t expires_in_s; /* seconds left on the database clock (may be negative) */
    bool stale;
};
/* 0 or PC_ENOTFOUND. */
int pc_store_wxtoken_get(struct pc_db *db, const char *appid, struct pc_store_wxtoken *out);
/* Stores a freshly fetched token: version + 1, stale cleared. */
int pc_store_wxtoken_put(struct pc_db *db, const char *appid, const unsigned char *enc,
                         size_t enc_len, int expires_in_s, const char *fetched_by);
/* Marks version as rejected by WeChat (no-op if a newer one is stored). */
int pc_store_wxtoken_mark_stale(struct pc_db *db, const char *appid, int64_t version);

/* ---- schools and collection tasks ---- */
struct pc_task {
    int64_t id;
    int64_t school_id;
    char school_code[17];
    char school_name[129];
    char name[129];
    char collection_type[16]; /* centralized | scattered */
    char feature_code[33];
    char opens_at[32]; /* UTC DATETIME text */
    char closes_at[32];
    int64_t price_fen;
    int edit_days;
    int resubmit_cap;
    int unpaid_timeout_s;
    int grad_year;
    bool roster_required;
    bool archived;
    char created_at[32];
    char updated_at[32];
    /* computed by the database at read time */
    bool not_open_yet; /* now < opens_at */
    bool closed;       /* now > closes_at */
};

/* School by code (or, failing that, exact name): id, code and name. 0 or PC_ENOTFOUND. */
int pc_store_school_find(struct pc_db *db, const char *code_or_name, int64_t *id, char code[17],
                         char name[129]);
int pc_store_task_insert(struct pc_db *db, const struct pc_task *t, const char *code_norm,
                         int64_t *id);
/* Every mutable column from t (name, type, code, window, money, rules, archived). */
int pc_store_task_update(struct pc_db *db, const struct pc_task *t, const char *code_norm);
/* for_update locks the row (inside a transaction). 0 or PC_ENOTFOUND. */
int pc_store_task_get(struct pc_db *db, int64_t id, bool for_update, struct pc_task *out);
/* The live task with this normalised feature code. 0 or PC_ENOTFOUND. */
int pc_store_task_by_code(struct pc_db *db, const char *code_norm, struct pc_task *out);
/* Tasks of a school (0 = all), ids below before_id (0 = from the newest), newest first. */
int pc_store_task_list(struct pc_db *db, int64_t school_id, int64_t before_id, int limit,
                       struct pc_task **out, size_t *n);

int pc_store_binding_insert(struct pc_db *db, int64_t user_id, int64_t task_id);
int pc_store_binding_exists(struct pc_db *db, int64_t user_id, int64_t task_id, bool *exists);

/* ---- rosters ---- */
struct pc_store_roster {
    int64_t id;
    int seq;
    char college[129];
    char name[129];
    char student_no[33];
    char class_name[129];
    char id_masked[41];
    int collected; /* -1 leave as is, 0 no, 1 collected offline */
};
/* Inserts or updates (task_id, student_no); *outcome: 1 inserted, 2 updated, 0 unchanged. */
int pc_store_roster_upsert(struct pc_db *db, int64_t task_id, const struct pc_store_roster *r,
                           int *outcome);
/* 0 or PC_ENOTFOUND. */
int pc_store_roster_get(struct pc_db *db, int64_t task_id, const char *student_no,
                        struct pc_store_roster *out);
/* Roster rows with their progress state, ordered by id after after_id; college / state may
 * be NULL. limit 0 = all. JSON objects: seq, college, name, student_no, class, state,
 * order_no, collected_offline. */
int pc_store_roster_list(struct pc_db *db, int64_t task_id, const char *college, const char *state,
                         int64_t after_id, int limit, cJSON **items, int64_t *last_id);
/* {"total","by_state":{...},"colleges":[{"college","total","by_state"}]} */
int pc_store_roster_stats(struct pc_db *db, int64_t task_id, const char *college, cJSON **out);

/* ---- collection-code candidates ---- */
struct pc_store_candidate {
    char public_id[33];
    int64_t user_id;
    int64_t task_id;
    char code_sha256[65];
    char student_no[33];
    char *record; /* JSON text, owned (free) */
    bool expired;
};
int pc_store_candidate_insert(struct pc_db *db, const char *public_id, int64_t user_id,
                              int64_t task_id, const char *code_sha256, const void *code,
                              size_t code_len, const char *student_no, const char *record_json,
                              int ttl_s);
/* The candidate of this user and task. 0 or PC_ENOTFOUND. */
int pc_store_candidate_get(struct pc_db *db, const char *public_id, int64_t user_id,
                           int64_t task_id, struct pc_store_candidate *out);

/* ---- orders ---- */
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
/* The active order (not closed/refunded) of a task and student. 0 or PC_ENOTFOUND. */
int pc_store_order_active(struct pc_db *db, int64_t task_id, const char *student_no,
                          struct pc_order *out);
/* An order of the student in another task of the same school and school year that is still
 * active or approved. 0 (order_no filled) or PC_ENOTFOUND. */
int pc_store_order_same_year(struct pc_db *db, int64_t school_id, int grad_year,
                             const char *student_no, int64_t except_task_id, char order_no[33]);
/* Inserts o (status, amount, student...); PC_EEXIST when the task/student already has an
 * active order or the order number is taken. */
int pc_store_order_insert(struct pc_db *db, const struct pc_order *o, const char *code_sha256,
                          int64_t *id);
int pc_store_order_get(struct pc_db *db, const char *order_no, struct pc_order *out);
/* A student's orders, newest first, ids below before_id (0 = from the newest). */
int pc_store_order_list_user(struct pc_db *db, int64_t user_id, int64_t before_id, int limit,
                             struct pc_order **out, size_t *n);
/* The order for update (inside a transaction). */
int pc_store_order_get_locked(struct pc_db *db, const char *order_no, struct pc_order *out);
/* Moves an order to status after a photo: adds resub to resubmissions; pay_timeout_s > 0
 * sets pay_deadline to now + pay_timeout_s. */
int pc_store_order_photo_state(struct pc_db *db, int64_t order_id, const char *status, int resub,
                               int pay_timeout_s);

/* Remembers the prepay id of an order for ttl_s seconds. */
int pc_store_order_set_prepay(struct pc_db *db, int64_t order_id, const char *prepay_id, int ttl_s);
/* Moves a locked order to status as paid: transaction_id, paid_at (UTC DATETIME text). */
int pc_store_order_set_paid(struct pc_db *db, int64_t order_id, const char *status,
                            const char *transaction_id, const char *paid_at);

/* Unpaid orders the sweeper must look at: a prepay older than min_age_s, or past their
 * pay deadline. Up to limit order numbers into out (33 bytes each); *n receives how many. */
int pc_store_orders_to_sweep(struct pc_db *db, int min_age_s, int limit, char (*out)[33],
                             size_t *n);
/* Closes a locked order with a reason. */
int pc_store_order_close(struct pc_db *db, int64_t order_id, const char *reason);

/* ---- payments and notifications ---- */
/* Records a notification id once: PC_EEXIST when it was recorded before. */
int pc_store_notification_insert(struct pc_db *db, const char *notify_id, const char *event_type,
                                 const char *out_trade_no, const char *result);
struct pc_store_payment {
    int64_t order_id;
    const char *out_trade_no;
    const char *transaction_id;
    int64_t amount_fen;
    int64_t payer_total_fen;
    const char *payer_openid;
    const char *trade_state;
    const char *success_time; /* UTC DATETIME text or NULL */
    const char *source;       /* notify | query | bill */
    const char *disposition;  /* applied | refund_due | duplicate */
    const char *raw;          /* the decrypted transaction JSON */
};
/* PC_EEXIST when this transaction_id is already recorded. */
int pc_store_payment_insert(struct pc_db *db, const struct pc_store_payment *p);
/* Queues a side effect for delivery after commit; dedupe_key may be NULL. */
int pc_store_outbox_insert(struct pc_db *db, const char *kind, const char *dedupe_key,
                           const cJSON *payload);

/* ---- refunds ---- */
struct pc_store_refund {
    int64_t id;
    int64_t order_id;
    char out_refund_no[65];
    char refund_id[33];
    int64_t amount_fen;
    char reason[256];
    char status[16];
    char created_at[32];
};
/* The order's refund still under way (requested/processing). 0 or PC_ENOTFOUND. */
int pc_store_refund_open(struct pc_db *db, int64_t order_id, struct pc_store_refund *out);
int pc_store_refund_get(struct pc_db *db, const char *out_refund_no, bool for_update,
                        struct pc_store_refund *out);
int pc_store_refund_count(struct pc_db *db, int64_t order_id, int64_t *n);
int pc_store_refund_insert(struct pc_db *db, int64_t order_id, const char *out_refund_no,
                           int64_t amount_fen, const char *reason, int64_t staff_id);
int pc_store_refund_set(struct pc_db *db, const char *out_refund_no, const char *status,
                        const char *refund_id, const char *success_time);
/* Sum of successful refunds of an order. */
int pc_store_refunded_total(struct pc_db *db, int64_t order_id, int64_t *fen);
int pc_store_order_set_status(struct pc_db *db, int64_t order_id, const char *status);

/* ---- photos ---- */
struct pc_store_photo {
    int64_t order_id;
    int64_t user_id;
    const char *student_no;
    const char *original_path;
    const char *normalized_path;
    const char *original_sha256;
    const char *normalized_sha256;
    size_t normalized_bytes;
    int quality;
    uint64_t phash;
    int width, height;
    const char *checks_json;
};
/* Makes p the order's current photo (the previous one stays, no longer current). */
int pc_store_photo_insert(struct pc_db *db, const struct pc_store_photo *p, int64_t *id);
/* Paths of the order's current photo. 0 or PC_ENOTFOUND. */
int pc_store_photo_paths(struct pc_db *db, int64_t order_id, char original[256],
                         char normalized[256]);
/* The check results (JSON text, pc_xstrdup: the caller frees it) of the order's current
 * photo. 0 or PC_ENOTFOUND. */
int pc_store_photo_checks(struct pc_db *db, int64_t order_id, char **json);
/* Another student's current photo within max_dist (Hamming) of phash: 0 (their student_no in
 * other) or PC_ENOTFOUND. */
int pc_store_photo_similar(struct pc_db *db, const char *student_no, uint64_t phash, int max_dist,
                           char other[33]);
/* The enrollment-photo hash a roster entry carries. 0 (*has tells) or a store error. */
int pc_store_roster_enrollment_phash(struct pc_db *db, int64_t task_id, const char *student_no,
                                     uint64_t *phash, bool *has);

/* Creates a school (company admins). PC_EEXIST when the code is taken. */
int pc_store_school_insert(struct pc_db *db, const char *code, const char *name, int64_t *id);

/* ---- reviews and the outbox (store/reviews.c) ---- */

/* pending_review orders, oldest paid first, after the order after_id (0 = from the start);
 * school_id and task_id 0 = any. *out (pc_xcalloc) is the caller's. */
int pc_store_review_queue(struct pc_db *db, int64_t school_id, int64_t task_id, int64_t after_id,
                          int limit, struct pc_order **out, size_t *n);
/* Records a decision on an order's current photo. reason_code/reason/note may be NULL. */
int pc_store_review_insert(struct pc_db *db, int64_t order_id, int64_t reviewer_id,
                           const char *decision, const char *reason_code, const char *reason,
                           const char *note, int64_t *review_id);
/* Moves a pending_review order to approved (editable_until cleared) or rejected
 * (editable_until = now + edit_days). PC_ECONFLICT when it was not pending_review. */
int pc_store_order_reviewed(struct pc_db *db, int64_t order_id, bool approved, int edit_days);

/* ---- notifications (store/notify.c) ---- */

/* Records one wx.requestSubscribeMessage result: accepted adds one sendable message (capped). */
int pc_store_consent_add(struct pc_db *db, int64_t user_id, const char *template_id, int accepted,
                         const char *result);
int pc_store_consent_remaining(struct pc_db *db, int64_t user_id, const char *template_id,
                               int *remaining);
/* One message sent: one consent used. */
int pc_store_consent_take(struct pc_db *db, int64_t user_id, const char *template_id);
/* WeChat said 43101: nothing left. */
int pc_store_consent_clear(struct pc_db *db, int64_t user_id, const char *template_id);

struct pc_outbox_msg {
    int64_t id;
    char kind[33];
    char *payload; /* JSON text (owned) */
    int attempts;  /* including the one in progress for a claimed message */
    char state[10];
    char last_error[501];
    char next_try_at[32];
    char created_at[32];
    char sent_via[17];
    char sent_at[32];
};
void pc_store_outbox_msgs_free(struct pc_outbox_msg *m, size_t n);
/* Claims up to limit due messages for holder for lease_s seconds (its own transaction,
 * FOR UPDATE SKIP LOCKED: several instances never claim the same one). *out is the
 * caller's (pc_store_outbox_msgs_free). */
int pc_store_outbox_claim(struct pc_db *db, const char *holder, int lease_s, int limit,
                          struct pc_outbox_msg **out, size_t *n);
/* Delivered through via ("subscribe", "sms", "none"); note (may be NULL) says why none. */
int pc_store_outbox_done(struct pc_db *db, int64_t id, const char *holder, const char *via,
                         const char *note);
/* Failed: due again after delay_ms, or dead once attempts reached max_attempts. */
int pc_store_outbox_retry(struct pc_db *db, int64_t id, const char *holder, int max_attempts,
                          int64_t delay_ms, const char *error);
/* Newest first below before_id (0 = from the newest); state NULL = any. */
int pc_store_outbox_list(struct pc_db *db, const char *state, int64_t before_id, int limit,
                         struct pc_outbox_msg **out, size_t *n);
int pc_store_outbox_get(struct pc_db *db, int64_t id, struct pc_outbox_msg *out);
/* A dead message becomes pending again with fresh attempts; PC_ECONFLICT if not dead. */
int pc_store_outbox_requeue(struct pc_db *db, int64_t id);

/* Tasks whose window closed and whose close-out has not run since. */
int pc_store_closeout_due(struct pc_db *db, int64_t *task_ids, size_t max, size_t *n);
/* Orders of the task to close now: awaiting_photo, or unpaid without a prepay id. */
int pc_store_closeout_orders(struct pc_db *db, int64_t task_id, char (*out)[33], size_t max,
                             size_t *n);
/* Unpaid orders with a prepay id get pay_deadline = now: the pay sweeper queries WeChat and
 * then closes them (never blind). */
int pc_store_closeout_prepaid(struct pc_db *db, int64_t task_id, uint64_t *changed);
int pc_store_closeout_mark(struct pc_db *db, int64_t task_id);

/* ---- finance (store/finance.c) ---- */

struct pc_finance_payment {
    int64_t id;
    char out_trade_no[33];
    char transaction_id[33];
    int64_t amount_fen;
    char success_time[32];
    char source[8];
    char disposition[12];
    char order_status[20];
    int64_t task_id;
    char task_name[129];
    int64_t school_id;
    char school_code[17];
    char school_name[129];
    char college[129];
    char class_name[129];
    char student_no[33];
    char student_name[129];
    int64_t refunded_fen; /* successful refunds of the order */
};
/* Payments whose success_time is in [from_db, to_db) (UTC DATETIME text), school_id and
 * task_id 0 = any, ids above after_id, oldest first. *out (pc_xcalloc) is the caller's. */
int pc_store_finance_payments(struct pc_db *db, const char *from_db, const char *to_db,
                              int64_t school_id, int64_t task_id, int64_t after_id, int limit,
                              struct pc_finance_payment **out, size_t *n);

/* Reconciliations (one per Beijing bill day). request: new or back to 'requested'. */
int pc_store_recon_request(struct pc_db *db, const char *bill_date, int64_t staff_id);
/* The oldest day waiting (or stuck running for 10 minutes). 0 or PC_ENOTFOUND. */
int pc_store_recon_due(struct pc_db *db, char bill_date[11]);
int pc_store_recon_exists(struct pc_db *db, const char *bill_date, bool *exists);
/* report_json NULL keeps the previous report. */
int pc_store_recon_set(struct pc_db *db, const char *bill_date, const char *state,
                       const char *error, const char *report_json);
/* *report_json (pc_xstrdup, NULL when none) is the caller's. 0 or PC_ENOTFOUND. */
int pc_store_recon_get(struct pc_db *db, const char *bill_date, char state[12], char error[501],
                       char **report_json);
/* The recorded payment of a WeChat transaction id. 0 or PC_ENOTFOUND. */
int pc_store_payment_by_tx(struct pc_db *db, const char *transaction_id, int64_t *amount_fen,
                           char order_no[33], int64_t *school_id, int64_t *task_id);

/* ---- photo export (store/export.c) ---- */
struct pc_export_row {
    int64_t id; /* order id (approved) or roster entry id (missing): the paging cursor */
    char order_no[33];
    char student_no[33];
    char name[129];
    char college[129];
    char class_name[129];
    char approved_at[32];
    char path[256];  /* the standard photo's storage path; "" when none */
    char sha256[65]; /* of that file */
    char state[20];  /* missing rows: the student's progress */
};
/* Approved orders of the task with their current photo, by id above after_id. */
int pc_store_export_approved(struct pc_db *db, int64_t task_id, int64_t after_id, int limit,
                             struct pc_export_row **out, size_t *n);
/* Roster students of the task without an approved order, with their progress. */
int pc_store_export_missing(struct pc_db *db, int64_t task_id, int64_t after_id, int limit,
                            struct pc_export_row **out, size_t *n);

#endif
