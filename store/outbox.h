/* store/outbox.h — messages to students that must arrive, and the consents that let them go
 * out as WeChat subscription messages (tables outbox, subscription_consents).
 *
 * A state change queues its message with pc_store_outbox_insert in its own transaction
 * (orders/state.c); notify/ alone delivers, lists and re-queues them and keeps the consents.
 * Worker or jobs thread. */
#ifndef PC_STORE_OUTBOX_H
#define PC_STORE_OUTBOX_H

#include "store/db.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Queues a message of kind ("order.paid", "student.notice", "payment.refund_due") for delivery
 * after commit; dedupe_key may be NULL; payload is copied. Returns 0, PC_EEXIST (dedupe_key
 * queued before) or a store error. */
int pc_store_outbox_insert(struct pc_db *db, const char *kind, const char *dedupe_key,
                           const cJSON *payload);
/* Queues n messages of one kind in one round trip (inside a transaction); with done_note (not
 * NULL) they are recorded done, by none, with that note instead (nothing can send them).
 * Returns 0, PC_EEXIST (a dedupe_key queued before: roll back) or a store error. */
int pc_store_outbox_insert_many(struct pc_db *db, const char *kind, const char *const *dedupe_keys,
                                const cJSON *const *payloads, const char *done_note, size_t n);

struct pc_outbox_msg {
    int64_t id;
    char kind[33];
    char *payload; /* JSON text (owned by the message) */
    int attempts;  /* including the one in progress for a claimed message */
    char state[10];
    char last_error[501];
    char next_try_at[32];
    char created_at[32];
    char sent_via[17];
    char sent_at[32];
};
/* Frees an array of n messages and their payloads. NULL-safe. */
void pc_store_outbox_msgs_free(struct pc_outbox_msg *m, size_t n);
/* Claims up to limit due messages for holder for lease_s seconds (its own transaction, FOR
 * UPDATE SKIP LOCKED: several instances never claim the same one): *out (the caller's, freed
 * with pc_store_outbox_msgs_free) of *n. Those of kind mute_kind (NULL: none), which have
 * nothing to send, are finished in the same transaction instead (done, by none, mute_note as
 * their note) and only counted in *muted. Returns 0 or a store error. */
int pc_store_outbox_claim(struct pc_db *db, const char *holder, int lease_s, int limit,
                          const char *mute_kind, const char *mute_note, struct pc_outbox_msg **out,
                          size_t *n, size_t *muted);
/* Delivered through via ("subscribe", "sms", "none"); note (may be NULL) says why none.
 * Returns 0 or a store error. */
/* Before delivering message id: extends every live claim of holder by lease_s (so a batch
 * never outlives its claims), and *mine tells whether id is still holder's to deliver (its
 * claim may have run out and been taken over). Returns 0 or a store error. */
int pc_store_outbox_renew(struct pc_db *db, int64_t id, const char *holder, int lease_s,
                          bool *mine);
int pc_store_outbox_done(struct pc_db *db, int64_t id, const char *holder, const char *via,
                         const char *note);
/* pc_store_outbox_done for n messages at once (notes[i] may be NULL), one statement in one
 * transaction. Returns 0 or a store error (then none of them is marked). */
int pc_store_outbox_done_many(struct pc_db *db, const int64_t *ids, const char *holder,
                              const char *via, const char *const *notes, size_t n);
/* Failed: due again after delay_ms, or dead once attempts reached max_attempts. Returns 0 or a
 * store error. */
int pc_store_outbox_retry(struct pc_db *db, int64_t id, const char *holder, int max_attempts,
                          int64_t delay_ms, const char *error);
/* Messages newest first with ids below before_id (0 = from the newest), state NULL = any:
 * *out (the caller's, pc_store_outbox_msgs_free) of *n. Returns 0 or a store error. */
int pc_store_outbox_list(struct pc_db *db, const char *state, int64_t before_id, int limit,
                         struct pc_outbox_msg **out, size_t *n);
/* Message id into *out (out->payload is the caller's to free). Returns 0, PC_ENOTFOUND or a
 * store error. */
int pc_store_outbox_get(struct pc_db *db, int64_t id, struct pc_outbox_msg *out);

/* How much of the outbox is still to be sent, across every instance. */
struct pc_outbox_backlog {
    int64_t due;          /* pending and due now */
    int64_t waiting;      /* pending, next try later (backing off) */
    int64_t running;      /* claimed by an instance (expired claims included) */
    int64_t dead;         /* parked after notify.max_attempts, waiting for staff */
    int64_t oldest_due_s; /* seconds the oldest due message has waited; 0 when none */
};
/* Fills *out with one index range read of ix_outbox_due. Returns 0 or a store error. */
int pc_store_outbox_backlog(struct pc_db *db, struct pc_outbox_backlog *out);
/* A dead message becomes pending again with fresh attempts. Returns 0, PC_ECONFLICT (not dead)
 * or a store error. */
int pc_store_outbox_requeue(struct pc_db *db, int64_t id);

/* ---- subscription consents ---- */
/* Records one wx.requestSubscribeMessage result: accepted (0/1) adds one sendable message
 * (capped). Returns 0 or a store error. */
int pc_store_consent_add(struct pc_db *db, int64_t user_id, const char *template_id, int accepted,
                         const char *result);
/* Messages still sendable to the user with template_id into *remaining (0 when none). Returns 0
 * or a store error. */
int pc_store_consent_remaining(struct pc_db *db, int64_t user_id, const char *template_id,
                               int *remaining);
/* One message sent: one consent used. Returns 0 or a store error. */
int pc_store_consent_take(struct pc_db *db, int64_t user_id, const char *template_id);
/* WeChat said 43101: nothing left. Returns 0 or a store error. */
int pc_store_consent_clear(struct pc_db *db, int64_t user_id, const char *template_id);

#endif
