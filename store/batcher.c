/* store/batcher.c — batch-serving threads with their own connections (store/batcher.h). */
#include "store/batcher.h"

#include "base/alloc.h"
#include "store/db.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

struct pc_db_batcher {
    const struct pc_config *cfg;
    pc_db_batch_fn fn;
    void *arg;
    size_t max_batch, queue_max, queued;
    int nthreads;
    int busy;              /* threads serving a batch now */
    uint64_t fill_wait_ns; /* pc_db_batcher_set_fill; 0: off */
    size_t fill_items;
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* work queued (idle threads wait here) */
    pthread_cond_t fill_cv; /* a full batch queued, or a batch served (a filling thread waits) */
    struct pc_db_batch_item *head, **tail;
    bool stopping;
};

/* Connects db now rather than at its first batch, which may come while MariaDB cannot answer
 * a new connection (it then waits db.connect_timeout_s and fails the batch); a failure here
 * only leaves the connect to the first batch, as before. */
static void connect_early(struct pc_db *db)
{
    struct pc_db_res *res = NULL;
    if (pc_db_query(db, "SELECT 1", NULL, 0, &res) == 0)
        pc_db_res_free(res);
}

/* While another thread serves a batch: waits until a whole batch is queued, that thread is
 * done, the batcher stops, or fill_wait_ns has passed. With b->mu held. */
static void wait_for_fill(struct pc_db_batcher *b)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    uint64_t ns = (uint64_t)until.tv_nsec + b->fill_wait_ns;
    until.tv_sec += (time_t)(ns / 1000000000u);
    until.tv_nsec = (long)(ns % 1000000000u);
    while (b->busy > 0 && b->queued < b->fill_items && !b->stopping)
        if (pthread_cond_timedwait(&b->fill_cv, &b->mu, &until) != 0)
            break; /* timed out: the other batch is slow (a lock wait?); go with what is here */
}

static void *batcher_main(void *arg)
{
    struct pc_db_batcher *b = arg;
    pc_db_thread_start();
    struct pc_db *db = pc_db_new(b->cfg);
    connect_early(db);
    pthread_mutex_lock(&b->mu);
    for (;;) {
        while (!b->head && !b->stopping)
            pthread_cond_wait(&b->cv, &b->mu);
        if (!b->head)
            break; /* stopping, and nothing left */
        if (b->busy > 0 && b->fill_wait_ns && !b->stopping && b->queued < b->fill_items) {
            wait_for_fill(b);
            if (!b->head)
                continue; /* another thread took them */
        }
        struct pc_db_batch_item *first = b->head, *last = first;
        size_t n = 1;
        while (last->next && n < b->max_batch) {
            last = last->next;
            n++;
        }
        b->head = last->next;
        if (!b->head)
            b->tail = &b->head;
        last->next = NULL;
        b->queued -= n;
        b->busy++;
        pthread_mutex_unlock(&b->mu);
        b->fn(db, first, n, b->arg);
        pthread_mutex_lock(&b->mu);
        b->busy--;
        pthread_cond_signal(&b->fill_cv); /* a thread filling its batch goes now */
    }
    pthread_mutex_unlock(&b->mu);
    pc_db_free(db);
    pc_db_thread_stop();
    return NULL;
}

struct pc_db_batcher *pc_db_batcher_new(const struct pc_config *cfg, int threads, size_t max_batch,
                                        size_t queue_max, pc_db_batch_fn fn, void *arg)
{
    struct pc_db_batcher *b = pc_new(struct pc_db_batcher);
    b->cfg = cfg;
    b->fn = fn;
    b->arg = arg;
    b->max_batch = max_batch ? max_batch : 1;
    b->queue_max = queue_max;
    b->tail = &b->head;
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&b->fill_cv, &ca);
    pthread_condattr_destroy(&ca);
    b->nthreads = threads > 0 ? threads : 1;
    b->threads = pc_xcalloc((size_t)b->nthreads, sizeof *b->threads);
    for (int i = 0; i < b->nthreads; i++)
        if (pthread_create(&b->threads[i], NULL, batcher_main, b) != 0)
            abort();
    return b;
}

bool pc_db_batcher_submit(struct pc_db_batcher *b, struct pc_db_batch_item *it)
{
    pthread_mutex_lock(&b->mu);
    if (b->stopping || b->queued >= b->queue_max) {
        pthread_mutex_unlock(&b->mu);
        return false;
    }
    it->next = NULL;
    *b->tail = it;
    b->tail = &it->next;
    b->queued++;
    pthread_cond_signal(&b->cv);
    if (b->queued == b->fill_items)
        pthread_cond_signal(&b->fill_cv);
    pthread_mutex_unlock(&b->mu);
    return true;
}

void pc_db_batcher_set_fill(struct pc_db_batcher *b, size_t items, uint64_t wait_ns)
{
    pthread_mutex_lock(&b->mu);
    b->fill_wait_ns = wait_ns;
    b->fill_items = items < b->max_batch ? items : b->max_batch;
    pthread_mutex_unlock(&b->mu);
}

void pc_db_batcher_free(struct pc_db_batcher *b)
{
    if (!b)
        return;
    pthread_mutex_lock(&b->mu);
    b->stopping = true;
    pthread_cond_broadcast(&b->cv);
    pthread_cond_broadcast(&b->fill_cv);
    pthread_mutex_unlock(&b->mu);
    for (int i = 0; i < b->nthreads; i++)
        pthread_join(b->threads[i], NULL);
    free(b->threads);
    pthread_cond_destroy(&b->cv);
    pthread_cond_destroy(&b->fill_cv);
    pthread_mutex_destroy(&b->mu);
    free(b);
}
