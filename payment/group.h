/* payment/group.h — successful-payment notifications committed in groups (docs/payment.md
 * "Group commit").
 *
 * A notification verified and decrypted on a worker is queued here; committer threads, each
 * with its own connection, take everything queued (up to PC_DB_IN_MAX) and apply it with
 * pc_payment_apply_many: one transaction, one statement per kind of row for all of them, one
 * durable commit (innodb_flush_log_at_trx_commit=1); the others alone afterwards. Each
 * notification's answer is given only after the commit that holds it has returned, so nothing
 * acknowledged can be lost. The worker that verified it is free meanwhile. Any thread unless
 * said otherwise. */
#ifndef PC_PAYMENT_GROUP_H
#define PC_PAYMENT_GROUP_H

#include <cjson/cJSON.h>
#include <stdbool.h>

struct pc_config;

/* How a queued notification ended: rc 0 with result (payment/apply.h), or a store error. */
typedef void (*pc_pay_group_done_fn)(void *arg, int rc, int result);

/* Starts the committer threads (connections from cfg, borrowed until pc_pay_group_stop). Main
 * thread. */
void pc_pay_group_start(const struct pc_config *cfg);
/* Lets the committers apply what is queued, then stops them. Main thread, after the server has
 * stopped taking requests. */
void pc_pay_group_stop(void);

/* Queues the TRANSACTION.SUCCESS notification env (its envelope, with the id) and tx (its
 * decrypted transaction); takes both (freed after done). done runs once on a committer thread
 * after the notification's transaction has ended. Returns false, taking nothing, when the
 * committers are not running or too much is queued: then apply it on the caller's thread. */
bool pc_pay_group_queue(cJSON *env, cJSON *tx, pc_pay_group_done_fn done, void *arg);

#endif
