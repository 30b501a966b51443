/* store/retention.h — what the retention job (retention/) finds and deletes, across the tables
 * that hold personal data (photos, roster_entries, collection_candidates, users' phones,
 * sms_login_codes, outbox, staff and student sessions, rate_limits, audit_log). Every
 * statement takes the run's "now" (as_of, UTC DATETIME text) and a period in days, so a run
 * can be made as of another time (the CLI's --as-of; the tests move the clock with it); the
 * deleting ones take a limit, and the job loops in batches under its lease. Jobs thread (or
 * the CLI). */
#ifndef PC_STORE_RETENTION_H
#define PC_STORE_RETENTION_H

#include "store/db.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The database's UTC now as DATETIME text into out[32]. Returns 0 or a store error. */
int pc_store_now(struct pc_db *db, char out[32]);

/* Which files of a photo row a batch is about. */
enum pc_photo_file { PC_PHOTO_ORIGINAL, PC_PHOTO_STANDARD };

struct pc_store_photo_file {
    int64_t photo_id;
    char path[256];
};
/* Photo files due for deletion as of as_of, rows after after_id by id, at most limit: originals
 * once the order's task closed original_days ago (unapproved_days for a photo that is not an
 * approved order's current one), standard files of photos that are not an approved order's current
 * one once the task closed unapproved_days ago, and approved standard files once the task was
 * archived approved_days ago — never while the order is pending_review. *out (the caller frees it)
 * of *n. Returns 0 or a store error. */
int pc_store_photo_files_due(struct pc_db *db, enum pc_photo_file which, const char *as_of,
                             int64_t after_id, int original_days, int unapproved_days,
                             int approved_days, int limit, struct pc_store_photo_file **out,
                             size_t *n);
/* Whether a photo row other than photo_id still needs the file at path (content-addressed
 * files are shared) into *needed. Returns 0 or a store error. */
int pc_store_photo_file_needed(struct pc_db *db, enum pc_photo_file which, const char *path,
                               int64_t photo_id, bool *needed);
/* Records that the row's file is gone (as_of). Returns 0 or a store error. */
int pc_store_photo_file_purged(struct pc_db *db, enum pc_photo_file which, int64_t photo_id,
                               const char *as_of);
/* Whether any row (a photo's unpurged file, a student's avatar) refers to the stored object
 * rel into *referenced. Returns 0 or a store error. */
int pc_store_file_referenced(struct pc_db *db, const char *rel, bool *referenced);

/* The rows each kind of purge deletes (or, for phones, clears), as of as_of after days, at
 * most limit. With count_only the rows are counted (all of them, limit ignored) and left.
 * *n receives how many. Returns 0 or a store error. */
enum pc_purge {
    PC_PURGE_ROSTER,         /* roster entries of tasks archived `days` ago */
    PC_PURGE_CANDIDATES,     /* decoded collection codes expired `days` ago (raw code, record) */
    PC_PURGE_PHONES,         /* phones of students with no order under review, whose last task
                              * closed (or who bound the phone, when they have no order) `days` ago */
    PC_PURGE_SMS_CODES,      /* PC login codes expired `days` ago (phone numbers) */
    PC_PURGE_OUTBOX,         /* delivered or dead messages last changed `days` ago (payloads) */
    PC_PURGE_STAFF_SESSIONS, /* expired or revoked `days` ago */
    PC_PURGE_USER_SESSIONS,
    PC_PURGE_RATE_LIMITS, /* counter windows (client addresses) opened `days` ago */
    PC_PURGE_AUDIT        /* audit rows `days` old */
};
int pc_store_purge(struct pc_db *db, enum pc_purge what, const char *as_of, int days, int limit,
                   bool count_only, uint64_t *n);

#endif
