/* app/jobs.c — the background-jobs thread: a due-time list and a condition variable. */
#include "app/jobs.h"

#include "base/alloc.h"
#include "base/log.h"
#include "base/stats.h"
#include "base/timeutil.h"
#include "store/db.h"

#include <errno.h>
#include <stdio.h>
#include <mysql.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#define MAX_JOBS 16

struct job {
    const char *name;
    pc_job_fn fn;
    void *arg;
    uint64_t due_ns;
};

/* Per job (GET /metrics): runs, time spent, and when it last ran. One scheduler per process,
 * so the series are static. A duty that must run on one instance only runs when it holds its
 * lease (portraitd_lease_runs_total, store/leases.c); a run here is the duty's turn. */
static char g_job_labels[MAX_JOBS][80];
static struct pc_stat g_job_runs[MAX_JOBS], g_job_secs[MAX_JOBS], g_job_last[MAX_JOBS];

static void job_stats_init(int i, const char *name)
{
    snprintf(g_job_labels[i], sizeof g_job_labels[i], "job=\"%s\"", name);
    g_job_runs[i] = (struct pc_stat)PC_STAT_INIT(
        "portraitd_job_runs_total", "counter", g_job_labels[i], "Turns of each background job.", 0);
    g_job_secs[i] =
        (struct pc_stat)PC_STAT_INIT("portraitd_job_seconds_total", "counter", g_job_labels[i],
                                     "Time spent in each background job.", 1e-6);
    g_job_last[i] = (struct pc_stat)PC_STAT_INIT("portraitd_job_last_run_timestamp_seconds",
                                                 "gauge", g_job_labels[i],
                                                 "When each job last finished (Unix time).", 0);
}

struct pc_jobs {
    struct pc_ctx ctx;
    struct job jobs[MAX_JOBS];
    int n;
    pthread_t thread;
    bool started, stopping, woken;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

static void wake_cb(void *arg)
{
    pc_jobs_wake(arg);
}

struct pc_jobs *pc_jobs_new(struct pc_ctx *base)
{
    struct pc_jobs *j = pc_new(struct pc_jobs);
    base->wake_jobs = wake_cb;
    base->wake_arg = j;
    j->ctx = *base;
    j->ctx.db = NULL;
    pthread_mutex_init(&j->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&j->cv, &ca);
    pthread_condattr_destroy(&ca);
    return j;
}

void pc_jobs_add(struct pc_jobs *j, const char *name, pc_job_fn fn, void *arg)
{
    if (j->n == MAX_JOBS)
        abort();                /* a programming error: raise MAX_JOBS */
    if (!g_job_labels[j->n][0]) /* the first scheduler of the process names the series */
        job_stats_init(j->n, name);
    j->jobs[j->n++] = (struct job){name, fn, arg, 0};
}

static void *jobs_main(void *arg)
{
    struct pc_jobs *j = arg;
    mysql_thread_init();
    j->ctx.db = pc_db_new(j->ctx.cfg);
    pthread_mutex_lock(&j->mu);
    while (!j->stopping) {
        uint64_t now = pc_time_mono_ns(), next = now + 60ull * 1000000000ull;
        for (int i = 0; i < j->n && !j->stopping; i++) {
            struct job *jb = &j->jobs[i];
            if (jb->due_ns > now) {
                if (jb->due_ns < next)
                    next = jb->due_ns;
                continue;
            }
            pthread_mutex_unlock(&j->mu);
            uint64_t t0 = pc_time_mono_ns();
            int delay_ms = jb->fn(&j->ctx, jb->arg);
            pthread_mutex_lock(&j->mu);
            now = pc_time_mono_ns();
            int k = (int)(jb - j->jobs);
            pc_stat_add(&g_job_runs[k], 1);
            pc_stat_add(&g_job_secs[k], (long long)((now - t0) / 1000));
            pc_stat_set(&g_job_last[k], (long long)(pc_time_now_ms() / 1000));
            jb->due_ns = now + (uint64_t)(delay_ms > 0 ? delay_ms : 1) * 1000000ull;
            if (jb->due_ns < next)
                next = jb->due_ns;
        }
        if (j->woken) { /* woken while a job ran: run them all again */
            for (int i = 0; i < j->n; i++)
                j->jobs[i].due_ns = 0;
            j->woken = false;
            continue;
        }
        struct timespec ts = {(time_t)(next / 1000000000ull), (long)(next % 1000000000ull)};
        while (!j->stopping && !j->woken &&
               pthread_cond_timedwait(&j->cv, &j->mu, &ts) != ETIMEDOUT)
            ;
        if (j->woken) {
            for (int i = 0; i < j->n; i++)
                j->jobs[i].due_ns = 0;
            j->woken = false;
        }
    }
    pthread_mutex_unlock(&j->mu);
    pc_db_free(j->ctx.db);
    mysql_thread_end();
    return NULL;
}

void pc_jobs_start(struct pc_jobs *j)
{
    if (pthread_create(&j->thread, NULL, jobs_main, j) != 0)
        abort();
    j->started = true;
}

void pc_jobs_wake(struct pc_jobs *j)
{
    pthread_mutex_lock(&j->mu);
    j->woken = true;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
}

void pc_jobs_free(struct pc_jobs *j)
{
    if (!j)
        return;
    pthread_mutex_lock(&j->mu);
    j->stopping = true;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
    if (j->started)
        pthread_join(j->thread, NULL);
    pthread_cond_destroy(&j->cv);
    pthread_mutex_destroy(&j->mu);
    free(j);
}
