/* tests/unit/test_batcher.c — store/batcher.h: with a fill set, work that arrives while one
 * thread serves a batch becomes one batch for the other thread (not one per arrival), taken
 * when a whole batch waits or the first thread is done; without it, an idle thread takes what
 * is queued at once. No database: the threads' connections are never used here (the batch
 * function only records what it got), and their early connect fails at once on a socket path
 * that does not exist. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "config/config.h"
#include "store/batcher.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BATCHES 16

struct rec {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t sizes[MAX_BATCHES];
    size_t nbatches;
    bool hold_first; /* the first batch waits for release */
    bool released;
};

static struct rec g;

static void batch_fn(struct pc_db *db, struct pc_db_batch_item *first, size_t n, void *arg)
{
    (void)db;
    (void)arg;
    pthread_mutex_lock(&g.mu);
    size_t me = g.nbatches;
    if (g.nbatches < MAX_BATCHES)
        g.sizes[g.nbatches++] = n;
    pthread_cond_broadcast(&g.cv);
    while (me == 0 && g.hold_first && !g.released)
        pthread_cond_wait(&g.cv, &g.mu);
    pthread_mutex_unlock(&g.mu);
    for (struct pc_db_batch_item *l = first, *next; l; l = next) {
        next = l->next;
        free(l);
    }
}

static void submit(struct pc_db_batcher *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        assert_true(pc_db_batcher_submit(b, calloc(1, sizeof(struct pc_db_batch_item))));
}

static void wait_batches(size_t n)
{
    pthread_mutex_lock(&g.mu);
    while (g.nbatches < n)
        pthread_cond_wait(&g.cv, &g.mu);
    pthread_mutex_unlock(&g.mu);
}

static void release_first(void)
{
    pthread_mutex_lock(&g.mu);
    g.released = true;
    pthread_cond_broadcast(&g.cv);
    pthread_mutex_unlock(&g.mu);
}

static struct pc_config *cfg_no_db(void)
{
    struct pc_config *c = calloc(1, sizeof *c);
    c->db_socket = "/nonexistent/portraitd-test_batcher.sock";
    c->db_user = "nobody";
    c->db_name = "none";
    c->db_connect_timeout_s = 1;
    c->db_rw_timeout_s = 1;
    return c;
}

static int setup(void **state)
{
    (void)state;
    memset(&g, 0, sizeof g);
    pthread_mutex_init(&g.mu, NULL);
    pthread_cond_init(&g.cv, NULL);
    g.hold_first = true;
    return 0;
}

/* Two threads, batches of up to 8, a fill of 8 with a wait of 60 s when fill (no thread can
 * have gone for the time out in these tests); one thread is left holding a batch of 1. */
static struct pc_db_batcher *start_holding(struct pc_config **cfg, bool fill)
{
    *cfg = cfg_no_db();
    struct pc_db_batcher *b = pc_db_batcher_new(*cfg, 2, 8, 100, batch_fn, NULL);
    if (fill)
        pc_db_batcher_set_fill(b, 8, 60ull * 1000000000ull);
    submit(b, 1);
    wait_batches(1);
    return b;
}

static void finish(struct pc_db_batcher *b, struct pc_config *cfg)
{
    release_first();
    pc_db_batcher_free(b);
    free(cfg);
}

/* While thread A holds a batch, eight more items arrive one by one: thread B waits for the
 * eighth instead of taking the first that came, so they make one batch of 8. */
static void test_fill_makes_one_batch_of_what_arrives_meanwhile(void **state)
{
    (void)state;
    struct pc_config *cfg;
    struct pc_db_batcher *b = start_holding(&cfg, true);
    submit(b, 8);
    wait_batches(2);
    finish(b, cfg);
    assert_int_equal(g.nbatches, 2);
    assert_int_equal(g.sizes[0], 1);
    assert_int_equal(g.sizes[1], 8);
}

/* Fewer than a whole batch wait while A holds its batch: once A is done they are served
 * (by whichever thread) as one batch, without waiting out the fill time. */
static void test_fill_ends_when_the_other_batch_is_done(void **state)
{
    (void)state;
    struct pc_config *cfg;
    struct pc_db_batcher *b = start_holding(&cfg, true);
    submit(b, 3);
    release_first();
    wait_batches(2);
    finish(b, cfg);
    assert_int_equal(g.nbatches, 2);
    assert_int_equal(g.sizes[1], 3);
}

/* Without a fill, the idle thread takes what is queued while the other holds its batch. */
static void test_without_fill_an_idle_thread_takes_what_is_queued(void **state)
{
    (void)state;
    struct pc_config *cfg;
    struct pc_db_batcher *b = start_holding(&cfg, false);
    submit(b, 1);
    wait_batches(2); /* served while the first batch is still held */
    pthread_mutex_lock(&g.mu);
    assert_false(g.released);
    pthread_mutex_unlock(&g.mu);
    finish(b, cfg);
    assert_int_equal(g.sizes[0], 1);
    assert_int_equal(g.sizes[1], 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_fill_makes_one_batch_of_what_arrives_meanwhile, setup),
        cmocka_unit_test_setup(test_fill_ends_when_the_other_batch_is_done, setup),
        cmocka_unit_test_setup(test_without_fill_an_idle_thread_takes_what_is_queued, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
