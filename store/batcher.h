/* store/batcher.h — threads that serve queued work in batches, each on a database connection
 * of its own: one statement (or one transaction) for many requests instead of one each.
 *
 * The order lister (orders/listing.c) and the payment committers (payment/group.c) are built
 * on it. Items are queued FIFO up to a bound; a free thread takes up to max_batch of them at
 * once and hands them to the batch function with its connection. Any thread unless said
 * otherwise. */
#ifndef PC_STORE_BATCHER_H
#define PC_STORE_BATCHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pc_config;
struct pc_db;
struct pc_db_batcher;

/* A queued item: the first member of the caller's own record. */
struct pc_db_batch_item {
    struct pc_db_batch_item *next;
};

/* Serves n items (a NULL-terminated list from first) on db; owns them from here on. Runs on
 * one of the batcher's threads. */
typedef void (*pc_db_batch_fn)(struct pc_db *db, struct pc_db_batch_item *first, size_t n,
                               void *arg);

/* Starts threads connecting with cfg (borrowed for the batcher's life). Never NULL. Main
 * thread. */
struct pc_db_batcher *pc_db_batcher_new(const struct pc_config *cfg, int threads, size_t max_batch,
                                        size_t queue_max, pc_db_batch_fn fn, void *arg);
/* Queues it; false (it stays the caller's) when queue_max items wait or the batcher stops. */
bool pc_db_batcher_submit(struct pc_db_batcher *b, struct pc_db_batch_item *it);
/* Fuller batches: a thread about to take fewer than max_batch items while another thread
 * serves a batch first waits (up to wait_ns) for max_batch items or for that thread to be
 * done, so that work which arrives while one batch is served makes one batch, not one per idle
 * thread. Each batch's fixed costs (statements, a commit) are then shared by more items; a
 * batcher whose threads are all idle still starts at once. 0 (the default): take what is
 * queued. Any thread. */
void pc_db_batcher_set_fill(struct pc_db_batcher *b, size_t items, uint64_t wait_ns);
/* Lets the threads serve what is queued, joins them and frees. NULL-safe. Main thread. */
void pc_db_batcher_free(struct pc_db_batcher *b);

#endif
