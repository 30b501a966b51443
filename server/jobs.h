/* server/jobs.h — background duties of the server process (access_token refresh now;
 * outbox delivery, sweepers and reconciliation later).
 *
 * One thread with its own database connection runs every registered job when it is due.
 * Jobs may block (database, pc_outbound_perform) — they only delay each other, never a
 * request. Duties that must run on one instance only take a lease in the database. */
#ifndef PC_SERVER_JOBS_H
#define PC_SERVER_JOBS_H

#include "server/req.h"

struct pc_jobs;

/* A job: returns the delay in ms until it should run again. Runs on the jobs thread. */
typedef int (*pc_job_fn)(struct pc_ctx *ctx, void *arg);

/* Creates the scheduler for cfg/srv (borrowed); not started. Main thread. */
struct pc_jobs *pc_jobs_new(const struct pc_config *cfg, struct pc_server *srv);
/* Registers a job that first runs as soon as the thread starts. Before pc_jobs_start. */
void pc_jobs_add(struct pc_jobs *j, const char *name, pc_job_fn fn, void *arg);
void pc_jobs_start(struct pc_jobs *j);
/* The WeChat Pay client the jobs' context carries (before pc_jobs_start). */
void pc_jobs_set_pay(struct pc_jobs *j, const struct pc_pay *pay);
/* Makes every job due now (e.g. a request saw a rejected access_token). Any thread. */
void pc_jobs_wake(struct pc_jobs *j);
/* Stops the thread after the running job and frees. NULL-safe. Main thread. */
void pc_jobs_free(struct pc_jobs *j);

#endif
