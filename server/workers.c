/* server/workers.c — bounded FIFO job queue served by pthreads. */
#include "server/workers.h"

#include "base/alloc.h"
#include "base/err.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct pc_workers {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct pc_job *head, *tail;
    size_t queued, busy, queue_max;
    bool stopping;
    int n;
    pthread_t *threads;
    void *(*init)(void *);
    void (*fini)(void *);
    void *arg;
};

static void *worker_main(void *p)
{
    struct pc_workers *w = p;
    void *state = w->init ? w->init(w->arg) : NULL;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->head && !w->stopping)
            pthread_cond_wait(&w->cv, &w->mu);
        if (!w->head)
            break; /* stopping and drained */
        struct pc_job *job = w->head;
        w->head = job->next;
        if (!w->head)
            w->tail = NULL;
        w->queued--;
        w->busy++;
        pthread_mutex_unlock(&w->mu);
        job->next = NULL;
        job->run(job, state);
        if (job->done)
            job->done(job);
        pthread_mutex_lock(&w->mu);
        w->busy--;
    }
    pthread_mutex_unlock(&w->mu);
    if (w->fini)
        w->fini(state);
    return NULL;
}

struct pc_workers *pc_workers_new(int n, int queue_max, void *(*thread_init)(void *arg),
                                  void (*thread_fini)(void *state), void *arg)
{
    struct pc_workers *w = pc_new(struct pc_workers);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->queue_max = (size_t)queue_max;
    w->init = thread_init;
    w->fini = thread_fini;
    w->arg = arg;
    w->n = n;
    w->threads = pc_xcalloc((size_t)n, sizeof(pthread_t));
    for (int i = 0; i < n; i++)
        if (pthread_create(&w->threads[i], NULL, worker_main, w) != 0)
            abort();
    return w;
}

int pc_workers_submit(struct pc_workers *w, struct pc_job *job)
{
    pthread_mutex_lock(&w->mu);
    if (w->stopping || w->queued >= w->queue_max) {
        pthread_mutex_unlock(&w->mu);
        return PC_EBUSY;
    }
    job->next = NULL;
    if (w->tail)
        w->tail->next = job;
    else
        w->head = job;
    w->tail = job;
    w->queued++;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    return 0;
}

size_t pc_workers_queued(struct pc_workers *w)
{
    pthread_mutex_lock(&w->mu);
    size_t n = w->queued;
    pthread_mutex_unlock(&w->mu);
    return n;
}

size_t pc_workers_busy(struct pc_workers *w)
{
    pthread_mutex_lock(&w->mu);
    size_t n = w->busy;
    pthread_mutex_unlock(&w->mu);
    return n;
}

void pc_workers_free(struct pc_workers *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    for (int i = 0; i < w->n; i++)
        pthread_join(w->threads[i], NULL);
    free(w->threads);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
