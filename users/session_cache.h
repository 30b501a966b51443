/* users/session_cache.h — a bounded table of valid student sessions by token hash.
 *
 * The data structure behind users/sessions.h, without clocks or threads of its own so that
 * unit tests can drive it: every call takes the times it needs. Set-associative (4 ways per
 * set, the oldest way is replaced), fixed size from creation, never allocates afterwards;
 * each set is guarded by one of a fixed number of mutexes. Any thread. */
#ifndef PC_USERS_SESSION_CACHE_H
#define PC_USERS_SESSION_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pc_session_cache;

struct pc_session_entry {
    char token_hash[65]; /* lower-case hex SHA-256 of the token: the key */
    int64_t user_id;
    int64_t session_id;
    char openid[65];
    int64_t expires_ms; /* wall clock, ms since the epoch */
};

/* A table of about `entries` sessions (rounded up to a power of two, at least 4); max_age_ms
 * bounds how long an entry is used before the database is asked again. Never NULL. */
struct pc_session_cache *pc_session_cache_new(size_t entries, int64_t max_age_ms);
void pc_session_cache_free(struct pc_session_cache *c);
/* How many sessions it can hold. */
size_t pc_session_cache_capacity(const struct pc_session_cache *c);

/* The entry of token_hash into *out when present, not expired at wall_ms and younger than
 * max_age_ms at mono_ms. An expired or too old entry is dropped. */
bool pc_session_cache_get(struct pc_session_cache *c, const char *token_hash, int64_t wall_ms,
                          int64_t mono_ms, struct pc_session_entry *out);
/* Stores e (copied) as added at mono_ms, replacing the same key or the oldest way of its set. */
void pc_session_cache_put(struct pc_session_cache *c, const struct pc_session_entry *e,
                          int64_t mono_ms);
/* Drops the entry of token_hash; true when there was one. */
bool pc_session_cache_drop(struct pc_session_cache *c, const char *token_hash);
/* Drops every entry of session_id (a scan of the whole table: for logouts). */
size_t pc_session_cache_drop_session(struct pc_session_cache *c, int64_t session_id);
/* Drops everything. */
void pc_session_cache_clear(struct pc_session_cache *c);
/* Entries held now. */
size_t pc_session_cache_count(struct pc_session_cache *c);

#endif
