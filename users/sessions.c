/* users/sessions.c — the session cache of the process and its revocation poller
 * (users/sessions.h). */
#include "users/sessions.h"

#include "base/log.h"
#include "base/timeutil.h"
#include "config/config.h"
#include "store/db.h"
#include "users/session_cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SESSION_MAX_AGE_MS 300000 /* an entry is read from the database again after 5 min */

static struct {
    struct pc_session_cache *cache;
    const struct pc_config *cfg;
    int64_t poll_ms;
    _Atomic int64_t trusted_until_ms; /* monotonic ms; 0: never polled */
    _Atomic uint64_t poll_begun_ns;   /* start of the last poll, read or not (monotonic) */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stopping;
} g = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static int64_t mono_ms(void)
{
    return (int64_t)(pc_time_mono_ns() / 1000000u);
}

/* One read of the recent revocations; returns 0 or a store error. */
static int poll_once(struct pc_db *db, int64_t *last_ok_ms)
{
    atomic_store(&g.poll_begun_ns, pc_time_mono_ns()); /* from now on, older reads are not kept */
    int64_t start = mono_ms();
    char(*hashes)[PC_STORE_TOKEN_HASH_LEN + 1] = NULL;
    size_t n = 0;
    int rc = pc_store_user_sessions_revoked_since(db, PC_SESSION_REVOKE_WINDOW_S, &hashes, &n);
    if (rc)
        return rc;
    /* Revocations older than the window were never read if the last read is that old. */
    if (*last_ok_ms && start - *last_ok_ms > (PC_SESSION_REVOKE_WINDOW_S - 5) * 1000) {
        pc_session_cache_clear(g.cache);
        pc_log_msg(PC_LOG_WARN, "session cache cleared: revocations unread for too long");
    }
    for (size_t i = 0; i < n; i++)
        pc_session_cache_drop(g.cache, hashes[i]);
    free(hashes);
    *last_ok_ms = start;
    atomic_store(&g.trusted_until_ms, start + 2 * g.poll_ms);
    return 0;
}

static void *poller_main(void *arg)
{
    (void)arg;
    pc_db_thread_start();
    struct pc_db *db = pc_db_new(g.cfg);
    int64_t last_ok = 0;
    bool failing = false;
    pthread_mutex_lock(&g.mu);
    while (!g.stopping) {
        pthread_mutex_unlock(&g.mu);
        int rc = poll_once(db, &last_ok);
        if (rc && !failing)
            pc_log(PC_LOG_WARN, "session revocations unreadable: tokens go to the database",
                   PC_LI("rc", rc));
        failing = rc != 0;
        pthread_mutex_lock(&g.mu);
        if (g.stopping)
            break;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += g.poll_ms / 1000;
        until.tv_nsec += (g.poll_ms % 1000) * 1000000;
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&g.cv, &g.mu, &until);
    }
    pthread_mutex_unlock(&g.mu);
    pc_db_free(db);
    pc_db_thread_stop();
    return NULL;
}

void pc_user_sessions_start(const struct pc_config *cfg)
{
    if (g.cache || cfg->session_cache_entries <= 0)
        return;
    g.cfg = cfg;
    g.poll_ms = cfg->session_poll_ms;
    g.stopping = false;
    atomic_store(&g.trusted_until_ms, 0);
    atomic_store(&g.poll_begun_ns, 0);
    g.cache = pc_session_cache_new((size_t)cfg->session_cache_entries, SESSION_MAX_AGE_MS);
    if (pthread_create(&g.thread, NULL, poller_main, NULL) != 0)
        abort();
}

void pc_user_sessions_stop(void)
{
    if (!g.cache)
        return;
    pthread_mutex_lock(&g.mu);
    g.stopping = true;
    pthread_cond_signal(&g.cv);
    pthread_mutex_unlock(&g.mu);
    pthread_join(g.thread, NULL);
    atomic_store(&g.trusted_until_ms, 0);
    pc_session_cache_free(g.cache);
    g.cache = NULL;
}

bool pc_user_sessions_trusted(void)
{
    return g.cache && mono_ms() < atomic_load(&g.trusted_until_ms);
}

bool pc_user_session_cached(const char *token_hash, struct pc_user_auth *out)
{
    if (!pc_user_sessions_trusted())
        return false;
    struct pc_session_entry e;
    if (!pc_session_cache_get(g.cache, token_hash, pc_time_now_ms(), mono_ms(), &e))
        return false;
    memset(out, 0, sizeof *out);
    out->id = e.user_id;
    out->session_id = e.session_id;
    snprintf(out->openid, sizeof out->openid, "%s", e.openid);
    return true;
}

void pc_user_session_remember(const char *token_hash, const struct pc_store_user_session *s,
                              uint64_t read_started_ns)
{
    int64_t expires_s;
    if (!g.cache || s->revoked || s->expired || pc_time_parse_db(s->expires_at, &expires_s))
        return;
    /* A poll that began after this read began may already have dropped a revocation this read
     * did not see: such a read is not kept. Any later revocation is read by a later poll, which
     * begins after this entry is in the table. */
    if (read_started_ns < atomic_load(&g.poll_begun_ns))
        return;
    struct pc_session_entry e = {
        .user_id = s->user_id, .session_id = s->session_id, .expires_ms = expires_s * 1000};
    snprintf(e.token_hash, sizeof e.token_hash, "%s", token_hash);
    snprintf(e.openid, sizeof e.openid, "%s", s->openid);
    pc_session_cache_put(g.cache, &e, mono_ms());
}

void pc_user_session_forget(int64_t session_id)
{
    if (g.cache)
        pc_session_cache_drop_session(g.cache, session_id);
}
