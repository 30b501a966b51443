/* users/sessions.h — the process's cache of valid student sessions, and how a revocation made
 * on any instance reaches it (docs/users.md "Session cache").
 *
 * A bearer token found here is answered without the database. Only sessions the database
 * called valid are kept (never an unknown, expired or revoked token), each at most
 * SESSION_MAX_AGE_MS, never past its expiry. A poller thread with its own connection reads
 * the token hashes revoked within the last minute every auth.session_poll_ms and drops them;
 * entries are used only while the last successful read started less than 2 × session_poll_ms
 * ago, so a revocation committed anywhere is honoured everywhere within 2 × session_poll_ms
 * (while the database cannot be read, every token goes to the database again). A logout on
 * this instance drops its entry at once. Without pc_user_sessions_start (CLI, unit tests) or
 * with auth.session_cache_entries = 0 nothing is cached. Any thread unless said otherwise. */
#ifndef PC_USERS_SESSIONS_H
#define PC_USERS_SESSIONS_H

#include "core/ctx.h"
#include "store/users.h"

#include <stdbool.h>
#include <stdint.h>

struct pc_config;

/* Revocations of this many seconds back are read by every poll; a poller that could not read
 * for longer drops the whole cache before it trusts it again. */
#define PC_SESSION_REVOKE_WINDOW_S 60

/* Creates the cache (auth.session_cache_entries) and starts the poller thread, which connects
 * with cfg (borrowed until pc_user_sessions_stop). Does nothing when the size is 0. Main
 * thread, before any request. */
void pc_user_sessions_start(const struct pc_config *cfg);
/* Stops the poller and frees the cache. Main thread, after the last request. */
void pc_user_sessions_stop(void);

/* The student of token_hash into *out when the cache holds a valid session and is trusted. */
bool pc_user_session_cached(const char *token_hash, struct pc_user_auth *out);
/* Keeps a session the database called valid; read_started_ns (pc_time_mono_ns) is when that
 * read began: a read older than the last revocation poll is not kept (it may predate a
 * revocation that poll has already applied). */
void pc_user_session_remember(const char *token_hash, const struct pc_store_user_session *s,
                              uint64_t read_started_ns);
/* Drops every entry of a session (this instance's logout). */
void pc_user_session_forget(int64_t session_id);

/* Whether the cache is in use and trusted now (tests, metrics). */
bool pc_user_sessions_trusted(void);

#endif
