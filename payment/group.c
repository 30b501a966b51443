/* payment/group.c — the committer threads of payment notifications (payment/group.h), on
 * store/batcher.h. */
#include "payment/group.h"

#include "base/alloc.h"
#include "payment/apply.h"
#include "store/batcher.h"
#include "store/db.h"

#include <pthread.h>
#include <stdlib.h>

#define COMMITTERS 2    /* one applies a group while the other fills the next one */
#define QUEUE_MAX  4096 /* beyond this, notifications are applied on their worker */
/* While one committer applies a group, the other waits up to this for a whole group
 * (PC_DB_IN_MAX) or the first one's end before it takes what is queued (store/batcher.h
 * pc_db_batcher_set_fill): fuller groups share each group's statements and commit */
#define FILL_WAIT_NS 5000000ull

struct item {
    struct pc_db_batch_item link; /* first */
    cJSON *env, *tx;
    pc_pay_group_done_fn done;
    void *arg;
};

static const struct pc_config *g_cfg;
static struct pc_db_batcher *g_committers;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER; /* g_committers against stop */

static const char *envelope_str(const cJSON *env, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(env, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void run_group(struct pc_db *db, struct pc_db_batch_item *first, size_t n, void *arg)
{
    (void)arg;
    struct pc_apply_item items[PC_DB_IN_MAX];
    size_t k = 0;
    for (struct pc_db_batch_item *l = first; l; l = l->next, k++) {
        const struct item *it = (const struct item *)l;
        items[k] = (struct pc_apply_item){.notify_id = envelope_str(it->env, "id"),
                                          .event_type = envelope_str(it->env, "event_type"),
                                          .tx = it->tx};
    }
    pc_payment_apply_many(db, g_cfg, items, n, "notify");
    k = 0;
    for (struct pc_db_batch_item *l = first, *next; l; l = next, k++) {
        next = l->next;
        struct item *it = (struct item *)l;
        it->done(it->arg, items[k].rc, (int)items[k].result);
        cJSON_Delete(it->env);
        cJSON_Delete(it->tx);
        free(it);
    }
}

bool pc_pay_group_queue(cJSON *env, cJSON *tx, pc_pay_group_done_fn done, void *arg)
{
    struct item *it = pc_new(struct item);
    *it = (struct item){{NULL}, env, tx, done, arg};
    pthread_mutex_lock(&g_mu);
    bool queued = g_committers && pc_db_batcher_submit(g_committers, &it->link);
    pthread_mutex_unlock(&g_mu);
    if (!queued)
        free(it); /* env and tx stay the caller's */
    return queued;
}

void pc_pay_group_start(const struct pc_config *cfg)
{
    pthread_mutex_lock(&g_mu);
    if (!g_committers) {
        g_cfg = cfg;
        g_committers = pc_db_batcher_new(cfg, COMMITTERS, PC_DB_IN_MAX, QUEUE_MAX, run_group, NULL);
        pc_db_batcher_set_fill(g_committers, PC_DB_IN_MAX, FILL_WAIT_NS);
    }
    pthread_mutex_unlock(&g_mu);
}

void pc_pay_group_stop(void)
{
    pthread_mutex_lock(&g_mu);
    struct pc_db_batcher *b = g_committers;
    g_committers = NULL; /* from now on notifications are applied on their worker */
    pthread_mutex_unlock(&g_mu);
    pc_db_batcher_free(b); /* the committers apply what is queued, then end */
}
