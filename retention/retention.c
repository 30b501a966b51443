/* retention/retention.c — the retention run and its job (retention/retention.h). */
#include "retention/retention.h"

#include "base/err.h"
#include "base/log.h"
#include "base/stats.h"
#include "base/timeutil.h"
#include "config/config.h"
#include "storage/storage.h"
#include "store/audit.h"
#include "store/leases.h"
#include "store/retention.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LEASE       "retention"
#define LEASE_TTL_S 300 /* renewed every batch: a batch is far shorter */

/* The counts by name, in the order of the JSON and the metrics. */
/* clang-format off */
#define COUNTS(X)                                                                  \
    X(originals) X(standards) X(roster) X(candidates) X(phones) X(sms_codes)       \
    X(outbox) X(sessions) X(rate_limits) X(audit) X(tmp_files) X(orphans)          \
    X(errors)
/* clang-format on */

#define STAT_DELETED(n)                                                                            \
    static struct pc_stat g_deleted_##n = PC_STAT_INIT(                                            \
        "portraitd_retention_deleted_total", "counter", "what=\"" #n "\"",                         \
        "Personal data the retention job deleted (files, rows; errors: files left for next run).", \
        0);
#define STAT_FOUND(n)                                                                              \
    static struct pc_stat g_found_##n =                                                            \
        PC_STAT_INIT("portraitd_retention_dry_run_found", "gauge", "what=\"" #n "\"",              \
                     "What the last dry run of the retention job would have deleted.", 0);
COUNTS(STAT_DELETED)
COUNTS(STAT_FOUND)
static struct pc_stat g_runs_purge =
    PC_STAT_INIT("portraitd_retention_runs_total", "counter", "mode=\"purge\"",
                 "Retention runs finished, by mode.", 0);
static struct pc_stat g_runs_dry = PC_STAT_INIT("portraitd_retention_runs_total", "counter",
                                                "mode=\"dry_run\"", "Retention runs finished.", 0);
static struct pc_stat g_last_run =
    PC_STAT_INIT("portraitd_retention_last_run_timestamp_seconds", "gauge", NULL,
                 "When the last retention run of this process finished (Unix time).", 0);

struct run {
    struct pc_ctx *ctx;
    const struct pc_config *cfg;
    bool dry;
    char as_of[32];
    int64_t as_of_s;
    struct pc_retention_counts *c;
    size_t since_renew;
};

/* Keeps the lease for the next batch; PC_EBUSY once another instance has it. */
static int renew(struct run *r)
{
    bool held = false;
    int rc = pc_store_lease_acquire(r->ctx->db, LEASE, r->ctx->instance, LEASE_TTL_S, &held);
    r->since_renew = 0;
    return rc ? rc : held ? 0 : PC_EBUSY;
}

/* Files of photo rows past their period: the file goes (unless another row still needs the
 * same content-addressed file), then the row records it. */
static int photo_files(struct run *r, enum pc_photo_file which, uint64_t *count)
{
    const struct pc_config *cfg = r->cfg;
    int64_t after = 0;
    size_t n = 0;
    int rc = 0;
    do {
        struct pc_store_photo_file *fs = NULL;
        rc = pc_store_photo_files_due(r->ctx->db, which, r->as_of, after,
                                      cfg->retention_original_days, cfg->retention_unapproved_days,
                                      cfg->retention_approved_days, cfg->retention_batch, &fs, &n);
        for (size_t i = 0; rc == 0 && i < n; i++) {
            after = fs[i].photo_id;
            if (r->dry) {
                (*count)++;
                continue;
            }
            bool needed = true;
            rc = pc_store_photo_file_needed(r->ctx->db, which, fs[i].path, fs[i].photo_id, &needed);
            if (rc == 0 && !needed && fs[i].path[0] && pc_storage_delete(cfg, fs[i].path)) {
                r->c->errors++;
                continue; /* the row stays due: next run */
            }
            if (rc == 0)
                rc = pc_store_photo_file_purged(r->ctx->db, which, fs[i].photo_id, r->as_of);
            if (rc == 0)
                (*count)++;
        }
        free(fs);
        if (rc == 0 && n == (size_t)cfg->retention_batch)
            rc = renew(r);
    } while (rc == 0 && n == (size_t)cfg->retention_batch);
    return rc;
}

/* Rows past their period, deleted in batches (or counted). */
static int rows(struct run *r, enum pc_purge what, int days, uint64_t *count)
{
    uint64_t n = 0;
    int rc;
    if (r->dry) {
        rc = pc_store_purge(r->ctx->db, what, r->as_of, days, 0, true, &n);
        *count += n;
        return rc;
    }
    do {
        rc = pc_store_purge(r->ctx->db, what, r->as_of, days, r->cfg->retention_batch, false, &n);
        if (rc == 0)
            *count += n;
        if (rc == 0 && n == (uint64_t)r->cfg->retention_batch)
            rc = renew(r);
    } while (rc == 0 && n == (uint64_t)r->cfg->retention_batch);
    return rc;
}

/* One stored file met by the walk: scratch files and interrupted writes go once old enough,
 * and so do objects no row needs. */
struct walk {
    struct run *r;
    bool scratch; /* the walk of tmp/ */
};

static int visit(void *arg, const char *rel, int64_t mtime_s)
{
    struct walk *w = arg;
    struct run *r = w->r;
    if (mtime_s > r->as_of_s - r->cfg->retention_file_age_s)
        return 0; /* young: perhaps an upload whose row is being written */
    bool tmp = w->scratch || strstr(rel, ".tmp-") != NULL;
    if (!tmp) {
        bool referenced = true;
        int rc = pc_store_file_referenced(r->ctx->db, rel, &referenced);
        if (rc || referenced)
            return rc;
    }
    if (!r->dry && pc_storage_delete(r->cfg, rel)) {
        r->c->errors++;
        return 0;
    }
    if (tmp)
        r->c->tmp_files++;
    else
        r->c->orphans++;
    return ++r->since_renew >= (size_t)r->cfg->retention_batch ? renew(r) : 0;
}

static int files(struct run *r)
{
    static const char *const prefixes[] = {"tmp/", "photos/", "avatars/"};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < sizeof prefixes / sizeof prefixes[0]; i++) {
        struct walk w = {r, i == 0};
        rc = pc_storage_list(r->cfg, prefixes[i], visit, &w);
    }
    return rc;
}

cJSON *pc_retention_counts_json(const struct pc_retention_counts *c)
{
    cJSON *o = cJSON_CreateObject();
#define ADD(n) cJSON_AddNumberToObject(o, #n, (double)c->n);
    COUNTS(ADD)
#undef ADD
    return o;
}

static void account(const struct pc_retention_counts *c, bool dry)
{
#define DELETED(n) pc_stat_add(&g_deleted_##n, (long long)c->n);
#define FOUND(n)   pc_stat_set(&g_found_##n, (long long)c->n);
    if (dry) {
        COUNTS(FOUND)
    } else {
        COUNTS(DELETED)
    }
#undef DELETED
#undef FOUND
    pc_stat_add(dry ? &g_runs_dry : &g_runs_purge, 1);
    pc_stat_set(&g_last_run, pc_time_now_ms() / 1000);
}

int pc_retention_run(struct pc_ctx *ctx, const struct pc_retention_opts *o,
                     struct pc_retention_counts *c)
{
    const struct pc_config *cfg = ctx->cfg;
    struct run r = {.ctx = ctx, .cfg = cfg, .dry = o->dry_run, .c = c};
    memset(c, 0, sizeof *c);
    int rc = renew(&r);
    if (rc == 0 && o->as_of)
        snprintf(r.as_of, sizeof r.as_of, "%s", o->as_of);
    else if (rc == 0)
        rc = pc_store_now(ctx->db, r.as_of);
    if (rc == 0 && pc_time_parse_db(r.as_of, &r.as_of_s))
        rc = PC_EINVAL;
    /* Files first (they need their rows to be found), then rows. */
    if (rc == 0)
        rc = photo_files(&r, PC_PHOTO_ORIGINAL, &c->originals);
    if (rc == 0)
        rc = photo_files(&r, PC_PHOTO_STANDARD, &c->standards);
    if (rc == 0)
        rc = rows(&r, PC_PURGE_ROSTER, cfg->retention_approved_days, &c->roster);
    if (rc == 0)
        rc = rows(&r, PC_PURGE_CANDIDATES, cfg->retention_candidate_days, &c->candidates);
    if (rc == 0)
        rc = rows(&r, PC_PURGE_PHONES, cfg->retention_phone_days, &c->phones);
    if (rc == 0)
        rc = rows(&r, PC_PURGE_SMS_CODES, cfg->retention_session_days, &c->sms_codes);
    if (rc == 0)
        rc = rows(&r, PC_PURGE_OUTBOX, cfg->retention_outbox_days, &c->outbox);
    if (rc == 0)
        rc = rows(&r, PC_PURGE_STAFF_SESSIONS, cfg->retention_session_days, &c->sessions);
    if (rc == 0)
        rc = rows(&r, PC_PURGE_USER_SESSIONS, cfg->retention_session_days, &c->sessions);
    if (rc == 0)
        rc = rows(&r, PC_PURGE_RATE_LIMITS, cfg->retention_session_days, &c->rate_limits);
    if (rc == 0)
        rc = rows(&r, PC_PURGE_AUDIT, cfg->retention_audit_days, &c->audit);
    if (rc == 0)
        rc = files(&r);
    if (rc == PC_EBUSY && !r.as_of[0])
        return rc; /* another instance runs it: nothing done, nothing to record */
    /* One audit row per run, whatever happened: what went, as of when, and how it ended. */
    cJSON *d = pc_retention_counts_json(c);
    cJSON_AddStringToObject(d, "as_of", r.as_of);
    cJSON_AddBoolToObject(d, "dry_run", r.dry);
    cJSON_AddStringToObject(d, "instance", ctx->instance ? ctx->instance : "");
    if (rc)
        cJSON_AddStringToObject(d, "stopped", pc_strerror(rc));
    struct pc_audit au = {.actor_type = "system",
                          .action = r.dry ? "retention.dry_run" : "retention.purge",
                          .target_type = "retention",
                          .details = d};
    int arc = pc_store_audit_insert(ctx->db, &au);
    cJSON_Delete(d);
    if (rc != PC_EBUSY)
        pc_store_lease_release(ctx->db, LEASE, ctx->instance);
    account(c, r.dry);
    return rc ? rc : arc;
}

int pc_retention_job(struct pc_ctx *ctx, void *arg)
{
    (void)arg;
    struct pc_retention_counts c;
    struct pc_retention_opts o = {.dry_run = ctx->cfg->retention_dry_run};
    uint64_t t0 = pc_time_mono_ns();
    int rc = pc_retention_run(ctx, &o, &c);
    if (rc == PC_EBUSY && c.originals + c.standards + c.roster + c.phones + c.audit == 0)
        return ctx->cfg->retention_interval_ms; /* another instance's turn */
    pc_log(rc ? PC_LOG_WARN : PC_LOG_INFO, o.dry_run ? "retention dry run" : "retention run",
           PC_LI("originals", (long long)c.originals), PC_LI("standards", (long long)c.standards),
           PC_LI("roster", (long long)c.roster), PC_LI("candidates", (long long)c.candidates),
           PC_LI("phones", (long long)c.phones), PC_LI("outbox", (long long)c.outbox),
           PC_LI("sessions", (long long)c.sessions), PC_LI("audit", (long long)c.audit),
           PC_LI("tmp_files", (long long)c.tmp_files), PC_LI("orphans", (long long)c.orphans),
           PC_LI("errors", (long long)c.errors),
           PC_LI("ms", (long long)((pc_time_mono_ns() - t0) / 1000000)),
           PC_LS("error", rc ? pc_strerror(rc) : ""));
    return ctx->cfg->retention_interval_ms;
}
