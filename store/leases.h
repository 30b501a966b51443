/* store/leases.h — named leases (table leases): a background duty that must run on one
 * instance at a time (the access_token refresher, the pay sweeper, the window close-out, the
 * reconciliation) holds its lease while it works. Jobs thread. */
#ifndef PC_STORE_LEASES_H
#define PC_STORE_LEASES_H

#include "store/db.h"

#include <stdbool.h>

/* Takes or renews the lease name for holder (the instance name) for ttl_s seconds when it is
 * free, expired or already holder's; *held tells whether holder has it now. Returns 0 or a
 * store error (then *held is false). */
int pc_store_lease_acquire(struct pc_db *db, const char *name, const char *holder, int ttl_s,
                           bool *held);

/* Gives the lease up when holder has it (a duty that ran to its end), so that another instance
 * or the command line need not wait for it to expire. Returns 0 or a store error. */
int pc_store_lease_release(struct pc_db *db, const char *name, const char *holder);

#endif
