/* users/session_cache.c — the set-associative session table (users/session_cache.h). */
#include "users/session_cache.h"

#include "base/alloc.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define WAYS  4
#define LOCKS 64

struct slot {
    struct pc_session_entry e;
    int64_t added_ms; /* monotonic */
    bool used;
};

struct pc_session_cache {
    size_t nsets; /* power of two */
    int64_t max_age_ms;
    struct slot *slots; /* nsets * WAYS */
    pthread_mutex_t locks[LOCKS];
};

struct pc_session_cache *pc_session_cache_new(size_t entries, int64_t max_age_ms)
{
    struct pc_session_cache *c = pc_new(struct pc_session_cache);
    size_t sets = 1;
    while (sets * WAYS < entries)
        sets <<= 1;
    c->nsets = sets;
    c->max_age_ms = max_age_ms;
    c->slots = pc_xcalloc(sets * WAYS, sizeof *c->slots);
    for (size_t i = 0; i < LOCKS; i++)
        pthread_mutex_init(&c->locks[i], NULL);
    return c;
}

void pc_session_cache_free(struct pc_session_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < LOCKS; i++)
        pthread_mutex_destroy(&c->locks[i]);
    free(c->slots);
    free(c);
}

size_t pc_session_cache_capacity(const struct pc_session_cache *c)
{
    return c->nsets * WAYS;
}

/* The set of a key: its first 16 hex digits (a SHA-256: uniformly spread). */
static size_t set_of(const struct pc_session_cache *c, const char *hash)
{
    uint64_t v = 0;
    for (int i = 0; i < 16 && hash[i]; i++) {
        char ch = hash[i];
        unsigned d =
            ch >= '0' && ch <= '9' ? (unsigned)(ch - '0') : (unsigned)((ch | 0x20) - 'a' + 10);
        v = (v << 4) | (d & 0xf);
    }
    return (size_t)(v & (c->nsets - 1));
}

static pthread_mutex_t *lock_of(struct pc_session_cache *c, size_t set)
{
    return &c->locks[set % LOCKS];
}

static bool same_key(const struct slot *s, const char *hash)
{
    return s->used && strcmp(s->e.token_hash, hash) == 0;
}

bool pc_session_cache_get(struct pc_session_cache *c, const char *token_hash, int64_t wall_ms,
                          int64_t mono_ms, struct pc_session_entry *out)
{
    size_t set = set_of(c, token_hash);
    struct slot *ways = &c->slots[set * WAYS];
    bool hit = false;
    pthread_mutex_lock(lock_of(c, set));
    for (int i = 0; i < WAYS; i++) {
        if (!same_key(&ways[i], token_hash))
            continue;
        if (ways[i].e.expires_ms <= wall_ms || mono_ms - ways[i].added_ms >= c->max_age_ms) {
            ways[i].used = false;
        } else {
            *out = ways[i].e;
            hit = true;
        }
        break;
    }
    pthread_mutex_unlock(lock_of(c, set));
    return hit;
}

void pc_session_cache_put(struct pc_session_cache *c, const struct pc_session_entry *e,
                          int64_t mono_ms)
{
    size_t set = set_of(c, e->token_hash);
    struct slot *ways = &c->slots[set * WAYS];
    pthread_mutex_lock(lock_of(c, set));
    struct slot *victim = NULL;
    for (int i = 0; i < WAYS && !victim; i++) /* the same key is replaced in place */
        if (same_key(&ways[i], e->token_hash))
            victim = &ways[i];
    for (int i = 0; i < WAYS && !victim; i++) /* else a free way */
        if (!ways[i].used)
            victim = &ways[i];
    if (!victim) { /* else the oldest */
        victim = &ways[0];
        for (int i = 1; i < WAYS; i++)
            if (ways[i].added_ms < victim->added_ms)
                victim = &ways[i];
    }
    victim->e = *e;
    victim->added_ms = mono_ms;
    victim->used = true;
    pthread_mutex_unlock(lock_of(c, set));
}

bool pc_session_cache_drop(struct pc_session_cache *c, const char *token_hash)
{
    size_t set = set_of(c, token_hash);
    struct slot *ways = &c->slots[set * WAYS];
    bool dropped = false;
    pthread_mutex_lock(lock_of(c, set));
    for (int i = 0; i < WAYS; i++) {
        if (same_key(&ways[i], token_hash)) {
            ways[i].used = false;
            dropped = true;
        }
    }
    pthread_mutex_unlock(lock_of(c, set));
    return dropped;
}

size_t pc_session_cache_drop_session(struct pc_session_cache *c, int64_t session_id)
{
    size_t n = 0;
    for (size_t set = 0; set < c->nsets; set++) {
        pthread_mutex_lock(lock_of(c, set));
        for (int i = 0; i < WAYS; i++) {
            struct slot *s = &c->slots[set * WAYS + (size_t)i];
            if (s->used && s->e.session_id == session_id) {
                s->used = false;
                n++;
            }
        }
        pthread_mutex_unlock(lock_of(c, set));
    }
    return n;
}

void pc_session_cache_clear(struct pc_session_cache *c)
{
    for (size_t set = 0; set < c->nsets; set++) {
        pthread_mutex_lock(lock_of(c, set));
        for (int i = 0; i < WAYS; i++)
            c->slots[set * WAYS + (size_t)i].used = false;
        pthread_mutex_unlock(lock_of(c, set));
    }
}

size_t pc_session_cache_count(struct pc_session_cache *c)
{
    size_t n = 0;
    for (size_t set = 0; set < c->nsets; set++) {
        pthread_mutex_lock(lock_of(c, set));
        for (int i = 0; i < WAYS; i++)
            n += c->slots[set * WAYS + (size_t)i].used;
        pthread_mutex_unlock(lock_of(c, set));
    }
    return n;
}
