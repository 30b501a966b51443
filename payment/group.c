/* payment/group.c — the committer threads of payment notifications (payment/group.h). */
#include "payment/group.h"

#include "base/alloc.h"
#include "base/log.h"
#include "payment/apply.h"
#include "store/db.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define COMMITTERS 2    /* one commits while the next group is read and written */
#define QUEUE_MAX  4096 /* beyond this, notifications are applied on their worker */

struct item {
    struct item *next;
    cJSON *env, *tx;
    pc_pay_group_done_fn done;
    void *arg;
};

static struct {
    const struct pc_config *cfg;
    pthread_t threads[COMMITTERS];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct item *head, **tail;
    size_t queued;
    bool running, stopping;
} g = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static const char *envelope_str(const cJSON *env, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(env, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void run_group(struct pc_db *db, struct item *group, size_t n)
{
    struct pc_apply_item items[PC_DB_IN_MAX];
    size_t k = 0;
    for (struct item *it = group; it; it = it->next, k++)
        items[k] = (struct pc_apply_item){.notify_id = envelope_str(it->env, "id"),
                                          .event_type = envelope_str(it->env, "event_type"),
                                          .tx = it->tx};
    pc_payment_apply_many(db, g.cfg, items, n, "notify");
    k = 0;
    for (struct item *it = group, *next; it; it = next, k++) {
        next = it->next;
        it->done(it->arg, items[k].rc, (int)items[k].result);
        cJSON_Delete(it->env);
        cJSON_Delete(it->tx);
        free(it);
    }
}

static void *committer_main(void *arg)
{
    (void)arg;
    pc_db_thread_start();
    struct pc_db *db = pc_db_new(g.cfg);
    pthread_mutex_lock(&g.mu);
    for (;;) {
        while (!g.head && !g.stopping)
            pthread_cond_wait(&g.cv, &g.mu);
        if (!g.head)
            break;
        struct item *group = g.head, *last = group;
        size_t n = 1;
        while (last->next && n < PC_DB_IN_MAX) {
            last = last->next;
            n++;
        }
        g.head = last->next;
        if (!g.head)
            g.tail = &g.head;
        last->next = NULL;
        g.queued -= n;
        pthread_mutex_unlock(&g.mu);
        run_group(db, group, n);
        pthread_mutex_lock(&g.mu);
    }
    pthread_mutex_unlock(&g.mu);
    pc_db_free(db);
    pc_db_thread_stop();
    return NULL;
}

bool pc_pay_group_queue(cJSON *env, cJSON *tx, pc_pay_group_done_fn done, void *arg)
{
    pthread_mutex_lock(&g.mu);
    if (!g.running || g.stopping || g.queued >= QUEUE_MAX) {
        pthread_mutex_unlock(&g.mu);
        return false;
    }
    struct item *it = pc_new(struct item);
    *it = (struct item){NULL, env, tx, done, arg};
    *g.tail = it;
    g.tail = &it->next;
    g.queued++;
    pthread_cond_signal(&g.cv);
    pthread_mutex_unlock(&g.mu);
    return true;
}

void pc_pay_group_start(const struct pc_config *cfg)
{
    if (g.running)
        return;
    g.cfg = cfg;
    g.head = NULL;
    g.tail = &g.head;
    g.queued = 0;
    g.stopping = false;
    g.running = true;
    for (int i = 0; i < COMMITTERS; i++)
        if (pthread_create(&g.threads[i], NULL, committer_main, NULL) != 0)
            abort();
}

void pc_pay_group_stop(void)
{
    if (!g.running)
        return;
    pthread_mutex_lock(&g.mu);
    g.stopping = true; /* the committers apply what is queued, then end */
    pthread_cond_broadcast(&g.cv);
    pthread_mutex_unlock(&g.mu);
    for (int i = 0; i < COMMITTERS; i++)
        pthread_join(g.threads[i], NULL);
    pthread_mutex_lock(&g.mu);
    g.running = false;
    pthread_mutex_unlock(&g.mu);
}
