/* store/ratelimit.h — fixed-window counters shared by every instance (table rate_limits); the
 * database clock decides the windows. Used by staff/ (logins), users/ (WeChat logins, SMS
 * login codes) and tasks/ (feature-code guesses). Worker thread. */
#ifndef PC_STORE_RATELIMIT_H
#define PC_STORE_RATELIMIT_H

#include "store/db.h"

/* Hits recorded for (bucket, key) in the current window into *hits, and into *retry_after_s
 * the seconds until that window ends (both 0 when no window is open). Returns 0 or a store
 * error. */
int pc_store_rl_get(struct pc_db *db, const char *bucket, const char *key, int window_s, int *hits,
                    int *retry_after_s);
/* Records one hit (opening a new window when the last one ended). Returns 0 or a store error. */
int pc_store_rl_hit(struct pc_db *db, const char *bucket, const char *key, int window_s);
/* Forgets (bucket, key), e.g. after a successful login. Returns 0 or a store error. */
int pc_store_rl_clear(struct pc_db *db, const char *bucket, const char *key);

#endif
