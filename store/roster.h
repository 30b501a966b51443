/* store/roster.h — a task's roster and the collection-code candidates read against it (tables
 * roster_entries, collection_candidates). Owned by roster/ (import, amendments, lists) and
 * orders/ (the roster gate, the candidate a student confirms, the enrollment-photo hash).
 * Worker thread. */
#ifndef PC_STORE_ROSTER_H
#define PC_STORE_ROSTER_H

#include "store/db.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- roster entries ---- */
struct pc_roster_entry {
    int64_t id;
    int seq;
    char college[129];
    char name[129];
    char student_no[33];
    char class_name[129];
    char id_masked[41];
    int collected; /* -1 leave as is, 0 no, 1 collected offline */
};
/* Inserts or updates (task_id, r->student_no); *outcome: 1 inserted, 2 updated, 0 unchanged.
 * Returns 0 or a store error. */
int pc_store_roster_upsert(struct pc_db *db, int64_t task_id, const struct pc_roster_entry *r,
                           int *outcome);
/* The entry of a student into *out. Returns 0, PC_ENOTFOUND or a store error. */
int pc_store_roster_get(struct pc_db *db, int64_t task_id, const char *student_no,
                        struct pc_roster_entry *out);
/* Entries with their progress state, ordered by id after after_id; college / state may be NULL
 * (any); limit 0 = all. *items (the caller's) is a JSON array of objects seq, college, name,
 * student_no, class, state, order_no, collected_offline; *last_id the last entry's id (0 when
 * none). Returns 0 or a store error. */
int pc_store_roster_list(struct pc_db *db, int64_t task_id, const char *college, const char *state,
                         int64_t after_id, int limit, cJSON **items, int64_t *last_id);
/* Progress counts into *out (the caller's): {"total","by_state":{...},"colleges":[{"college",
 * "total","by_state"}]}. Returns 0 or a store error. */
int pc_store_roster_stats(struct pc_db *db, int64_t task_id, const char *college, cJSON **out);
/* The enrollment-photo hash a roster entry carries into *phash; *has tells whether there is
 * one. Returns 0 or a store error. */
int pc_store_roster_enrollment_phash(struct pc_db *db, int64_t task_id, const char *student_no,
                                     uint64_t *phash, bool *has);

/* ---- collection-code candidates ---- */
struct pc_store_candidate {
    char public_id[33];
    int64_t user_id;
    int64_t task_id;
    char code_sha256[65];
    char student_no[33];
    char *record; /* JSON text, owned by the record (free) */
    bool expired;
};
/* Stores a decoded code for the student to confirm within ttl_s seconds. Returns 0 or a store
 * error. */
int pc_store_candidate_insert(struct pc_db *db, const char *public_id, int64_t user_id,
                              int64_t task_id, const char *code_sha256, const void *code,
                              size_t code_len, const char *student_no, const char *record_json,
                              int ttl_s);
/* The candidate public_id of this user and task into *out (out->record is the caller's to
 * free). Returns 0, PC_ENOTFOUND or a store error. */
int pc_store_candidate_get(struct pc_db *db, const char *public_id, int64_t user_id,
                           int64_t task_id, struct pc_store_candidate *out);

#endif
