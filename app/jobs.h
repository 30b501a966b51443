/* app/jobs.h — the background duties of the process: the access_token refresher, the
 * unpaid-order sweeper, the outbox worker, the window close-out and the reconciliation.
 *
 * One thread with its own database connection runs every registered job when it is due.
 * Jobs may block (database, pc_outbound_perform) — they only delay each other, never a
 * request. Duties that must run on one instance only take a lease in the database. The
 * scheduler knows no duty: the program registers them (app/main.c), and the domain reaches
 * it only through its context's wake-up (pc_ctx_wake_jobs, core/ctx.h). */
#ifndef PC_APP_JOBS_H
#define PC_APP_JOBS_H

#include "core/ctx.h"

struct pc_jobs;

/* A job: returns the delay in ms until it should run again. Runs on the jobs thread with the
 * jobs' context (its own database connection). */
typedef int (*pc_job_fn)(struct pc_ctx *ctx, void *arg);

/* Creates the scheduler (not started). Its context is a copy of *base (borrowed parts must
 * outlive it) with its own database connection; base->wake_jobs/wake_arg are set to wake
 * this scheduler, so that every context copied from base afterwards can. Main thread. */
struct pc_jobs *pc_jobs_new(struct pc_ctx *base);
/* Registers a job that first runs as soon as the thread starts. Before pc_jobs_start. */
void pc_jobs_add(struct pc_jobs *j, const char *name, pc_job_fn fn, void *arg);
void pc_jobs_start(struct pc_jobs *j);
/* Makes every job due now (e.g. a request saw a rejected access_token). Any thread. */
void pc_jobs_wake(struct pc_jobs *j);
/* Stops the thread after the running job and frees. NULL-safe. Main thread. */
void pc_jobs_free(struct pc_jobs *j);

#endif
