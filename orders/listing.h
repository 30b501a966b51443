/* orders/listing.h — a student's order list (GET /orders, first page) answered from memory
 * once the database has said, after the request arrived, that it has not changed
 * (docs/tasks.md "The order-list cache").
 *
 * Each instance keeps the rendered first page of recent students' lists with the fingerprint
 * of all their orders (store/orders.h: count, versions, updated_at), both read in one
 * statement. A request for a list held here is parked with the lister, threads with their own
 * connection that reads the fingerprints of every waiting student in one statement (up to
 * PC_ORDER_FP_BATCH at a time): an equal fingerprint answers from memory, any other is read
 * again. So every answer reflects every change committed before the request arrived, on any
 * instance, at the cost of one statement per batch of requests instead of one per request.
 * Bounded by orders.list_cache_entries and orders.list_cache_mb; 0 entries turns it off.
 * Any thread unless said otherwise. */
#ifndef PC_ORDERS_LISTING_H
#define PC_ORDERS_LISTING_H

#include "core/ctx.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pc_buf;
struct pc_config;
struct pc_db;

/* Sizes the cache and starts the lister threads (connections from cfg, borrowed until
 * pc_order_lists_stop). Does nothing when orders.list_cache_entries is 0. Main thread. */
void pc_order_lists_start(const struct pc_config *cfg);
/* Lets the listers answer what is queued, stops them and frees the cache. Main
 * thread, after the last request. */
void pc_order_lists_stop(void);

/* Whether user_id's first page of limit orders is held here (the loop's cheap check). */
bool pc_order_list_is_cached(int64_t user_id, int limit);

/* How a queued list is answered, on the lister's thread: rc 0 with items (a JSON array of n
 * Orders, borrowed for the call) whose last one has id last_id; or a store error. */
typedef void (*pc_order_list_done_fn)(void *arg, int rc, const char *items, size_t len, size_t n,
                                      int64_t last_id);
/* Queues u's first page of limit orders with the lister; done runs exactly once (also when it
 * cannot take it: PC_EBUSY when too many wait, PC_EDBDOWN when it is not running, at once on
 * the caller's thread). */
void pc_order_list_queue(const struct pc_user_auth *u, int limit, pc_order_list_done_fn done,
                         void *arg);

/* The first page of u's orders read on db (a worker's), written into out as a JSON array like
 * pc_order_list_own_json, and kept here for the next request. Returns 0, PC_ETOOBIG or a store
 * error. */
int pc_order_list_first_page(struct pc_db *db, const struct pc_user_auth *u, int limit,
                             struct pc_buf *out, size_t *n, int64_t *last_id);

#endif
