/* orders/listing.c — the order-list cache and its lister thread (orders/listing.h). */
#include "orders/listing.h"

#include "base/alloc.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "config/config.h"
#include "orders/orders.h"
#include "store/batcher.h"
#include "store/db.h"
#include "store/orders.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WAYS            4
#define LOCKS           64
#define ITEMS_MAX_BYTES (256u << 10) /* a longer list is answered, never kept */
#define LISTERS         2            /* threads (and connections) reading fingerprints */
#define QUEUE_MAX       8192         /* parked lists; beyond, 503 OVERLOADED (PC_EBUSY) */

struct entry {
    int64_t user_id; /* 0: free */
    int limit;
    char fp[PC_ORDER_FP_LEN];
    char *items; /* the JSON array, pc_xmalloc */
    size_t len, n;
    int64_t last_id;
    uint64_t added_ns;
};

struct waiter {
    struct pc_db_batch_item link; /* first */
    int64_t user_id;
    int limit;
    pc_order_list_done_fn done;
    void *arg;
};

static struct {
    struct entry *slots; /* nsets * WAYS; NULL: off */
    size_t nsets;
    size_t max_bytes;
    _Atomic size_t bytes;
    pthread_mutex_t locks[LOCKS];
    struct pc_db_batcher *listers;
    pthread_mutex_t mu; /* listers against stop */
} g = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* ---- the cache ---- */

static size_t set_of(int64_t user_id)
{
    uint64_t h = (uint64_t)user_id * 0x9e3779b97f4a7c15ull; /* Fibonacci hashing */
    return (size_t)(h >> 20) & (g.nsets - 1);
}

static void entry_clear(struct entry *e)
{
    if (e->items)
        atomic_fetch_sub(&g.bytes, e->len);
    free(e->items);
    memset(e, 0, sizeof *e);
}

/* Copies user_id's entry (items into a pc_xmalloc'd *items) when it is for limit. */
static bool cache_get(int64_t user_id, int limit, char fp[PC_ORDER_FP_LEN], char **items,
                      size_t *len, size_t *n, int64_t *last_id)
{
    size_t set = set_of(user_id);
    bool hit = false;
    pthread_mutex_lock(&g.locks[set % LOCKS]);
    for (int i = 0; i < WAYS; i++) {
        struct entry *e = &g.slots[set * WAYS + (size_t)i];
        if (e->user_id != user_id || e->limit != limit)
            continue;
        memcpy(fp, e->fp, PC_ORDER_FP_LEN);
        if (items)
            *items = pc_xmemdup(e->items, e->len);
        *len = e->len;
        *n = e->n;
        *last_id = e->last_id;
        hit = true;
        break;
    }
    pthread_mutex_unlock(&g.locks[set % LOCKS]);
    return hit;
}

static void cache_put(int64_t user_id, int limit, const char *fp, const char *items, size_t len,
                      size_t n, int64_t last_id)
{
    if (!g.slots || len > ITEMS_MAX_BYTES)
        return;
    size_t set = set_of(user_id);
    struct entry *ways = &g.slots[set * WAYS], *victim = NULL;
    pthread_mutex_lock(&g.locks[set % LOCKS]);
    for (int i = 0; i < WAYS && !victim; i++) /* the same user is replaced in place */
        if (ways[i].user_id == user_id)
            victim = &ways[i];
    for (int i = 0; i < WAYS && !victim; i++) /* else a free way */
        if (!ways[i].user_id)
            victim = &ways[i];
    if (!victim) { /* else the oldest */
        victim = &ways[0];
        for (int i = 1; i < WAYS; i++)
            if (ways[i].added_ns < victim->added_ns)
                victim = &ways[i];
    }
    entry_clear(victim);
    if (atomic_load(&g.bytes) + len <= g.max_bytes) { /* else it stays free */
        victim->user_id = user_id;
        victim->limit = limit;
        snprintf(victim->fp, sizeof victim->fp, "%s", fp);
        victim->items = pc_xmemdup(items, len);
        victim->len = len;
        victim->n = n;
        victim->last_id = last_id;
        victim->added_ns = pc_time_mono_ns();
        atomic_fetch_add(&g.bytes, len);
    }
    pthread_mutex_unlock(&g.locks[set % LOCKS]);
}

bool pc_order_list_is_cached(int64_t user_id, int limit)
{
    if (!g.slots)
        return false;
    char fp[PC_ORDER_FP_LEN];
    size_t len, n;
    int64_t last;
    return cache_get(user_id, limit, fp, NULL, &len, &n, &last);
}

/* Reads the first page of user_id with its fingerprint, renders it into out and keeps it. */
static int read_page(struct pc_db *db, int64_t user_id, int limit, struct pc_buf *out, size_t *n,
                     int64_t *last_id)
{
    struct pc_db_res *res = NULL;
    char fp[PC_ORDER_FP_LEN];
    size_t start = out->len;
    int rc = pc_store_order_list_user_views_fp(db, user_id, limit, &res, fp);
    if (rc == 0)
        rc = pc_order_views_json(res, out, n, last_id);
    pc_db_res_free(res);
    if (rc == 0)
        cache_put(user_id, limit, fp, out->p + start, out->len - start, *n, *last_id);
    return rc;
}

int pc_order_list_first_page(struct pc_db *db, const struct pc_user_auth *u, int limit,
                             struct pc_buf *out, size_t *n, int64_t *last_id)
{
    if (!g.slots)
        return pc_order_list_own_json(db, u, 0, limit, out, n, last_id);
    return read_page(db, u->id, limit, out, n, last_id);
}

/* ---- the lister ---- */

/* Answers one waiter whose fingerprint is now fp: from memory when it matches, else read. */
static void answer(struct pc_db *db, struct waiter *w, const char *fp)
{
    char cached_fp[PC_ORDER_FP_LEN];
    char *items = NULL;
    size_t len = 0, n = 0;
    int64_t last = 0;
    if (fp && cache_get(w->user_id, w->limit, cached_fp, &items, &len, &n, &last) &&
        strcmp(cached_fp, fp) == 0) {
        w->done(w->arg, 0, items, len, n, last);
        free(items);
        return;
    }
    free(items);
    struct pc_buf b;
    pc_buf_init(&b, ITEMS_MAX_BYTES * 32);
    int rc = fp ? read_page(db, w->user_id, w->limit, &b, &n, &last) : PC_EDBDOWN;
    w->done(w->arg, rc, rc ? "" : b.p, rc ? 0 : b.len, rc ? 0 : n, rc ? 0 : last);
    pc_buf_free(&b);
}

static void run_batch(struct pc_db *db, struct pc_db_batch_item *first, size_t count, void *arg)
{
    (void)arg;
    int64_t ids[PC_ORDER_FP_BATCH] = {0};
    char fps[PC_ORDER_FP_BATCH][PC_ORDER_FP_LEN];
    size_t k = 0;
    for (struct pc_db_batch_item *l = first; l; l = l->next)
        ids[k++] = ((struct waiter *)l)->user_id;
    int rc = pc_store_order_fingerprints(db, ids, count, fps);
    k = 0;
    for (struct pc_db_batch_item *l = first, *next; l; l = next, k++) {
        next = l->next;
        struct waiter *w = (struct waiter *)l;
        if (rc) /* the fingerprints could not be read: nothing is answered from memory */
            w->done(w->arg, rc, "", 0, 0, 0);
        else
            answer(db, w, fps[k]);
        free(w);
    }
}

void pc_order_list_queue(const struct pc_user_auth *u, int limit, pc_order_list_done_fn done,
                         void *arg)
{
    struct waiter *w = pc_new(struct waiter);
    w->user_id = u->id;
    w->limit = limit;
    w->done = done;
    w->arg = arg;
    pthread_mutex_lock(&g.mu);
    bool running = g.listers != NULL;
    bool queued = running && pc_db_batcher_submit(g.listers, &w->link);
    pthread_mutex_unlock(&g.mu);
    if (!queued) {
        free(w);
        done(arg, running ? PC_EBUSY : PC_EDBDOWN, "", 0, 0, 0);
    }
}

void pc_order_lists_start(const struct pc_config *cfg)
{
    if (g.slots || cfg->list_cache_entries <= 0)
        return;
    size_t sets = 1;
    while (sets * WAYS < (size_t)cfg->list_cache_entries)
        sets <<= 1;
    g.nsets = sets;
    g.slots = pc_xcalloc(sets * WAYS, sizeof *g.slots);
    g.max_bytes = (size_t)cfg->list_cache_mb << 20;
    atomic_store(&g.bytes, 0);
    for (size_t i = 0; i < LOCKS; i++)
        pthread_mutex_init(&g.locks[i], NULL);
    pthread_mutex_lock(&g.mu);
    g.listers = pc_db_batcher_new(cfg, LISTERS, PC_ORDER_FP_BATCH, QUEUE_MAX, run_batch, NULL);
    pthread_mutex_unlock(&g.mu);
}

void pc_order_lists_stop(void)
{
    if (!g.slots)
        return;
    pthread_mutex_lock(&g.mu);
    struct pc_db_batcher *b = g.listers;
    g.listers = NULL;
    pthread_mutex_unlock(&g.mu);
    pc_db_batcher_free(b); /* the listers answer what is queued, then end */
    for (size_t i = 0; i < g.nsets * WAYS; i++)
        entry_clear(&g.slots[i]);
    for (size_t i = 0; i < LOCKS; i++)
        pthread_mutex_destroy(&g.locks[i]);
    free(g.slots);
    g.slots = NULL;
}
