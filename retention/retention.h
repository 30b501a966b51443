/* retention/retention.h — personal data that goes on schedule (docs/privacy.md).
 *
 * One run deletes, as of one moment: photo files past their period (originals after the task
 * closed, never-approved photos, approved standard files after the task was archived — never
 * while an order is under review), the rosters of archived tasks, expired decoded collection
 * codes, the phone numbers of students with nothing open, old outbox payloads, old sessions,
 * SMS codes, rate-limit windows and audit rows, export scratch files, interrupted writes and
 * stored files no row refers to. Files go through storage/ (whatever its backend), rows through
 * store/retention.h. A dry run counts the same and deletes nothing. Each run writes one audit
 * row with its counts and feeds the metrics. Jobs thread, or the command line. */
#ifndef PC_RETENTION_H
#define PC_RETENTION_H

#include "core/ctx.h"

#include <stdbool.h>
#include <stdint.h>

/* What one run deleted (or, dry, would delete). */
struct pc_retention_counts {
    uint64_t originals;   /* original photo files */
    uint64_t standards;   /* standard photo files (never approved, or archived + period) */
    uint64_t roster;      /* roster entries of archived tasks */
    uint64_t candidates;  /* decoded collection codes */
    uint64_t phones;      /* phone numbers cleared */
    uint64_t sms_codes;   /* PC login codes */
    uint64_t outbox;      /* delivered or dead messages */
    uint64_t sessions;    /* staff and student sessions */
    uint64_t rate_limits; /* counter windows */
    uint64_t audit;       /* audit rows */
    uint64_t tmp_files;   /* export scratch files and interrupted writes */
    uint64_t orphans;     /* stored files no row refers to */
    uint64_t errors;      /* files that could not be deleted (tried again next run) */
};

struct pc_retention_opts {
    bool dry_run;
    /* The run's "now", UTC DATETIME text ("2030-01-01 00:00:00"); NULL = the database's. */
    const char *as_of;
};

/* One run, under the lease "retention" (held by ctx->instance, renewed every batch): c receives
 * the counts. Returns 0, PC_EBUSY (another instance holds the lease, or it was lost midway:
 * what was done stays done) or a store error. */
int pc_retention_run(struct pc_ctx *ctx, const struct pc_retention_opts *o,
                     struct pc_retention_counts *c);

/* The counts as a JSON object (caller deletes). */
struct cJSON *pc_retention_counts_json(const struct pc_retention_counts *c);

/* The job (app/jobs.h): a run every retention.interval_ms, dry when retention.dry_run. */
int pc_retention_job(struct pc_ctx *ctx, void *arg);

#endif
