/* base/stats.c — a lock-free list of the series used so far; see stats.h. */
#include "base/stats.h"

#include "base/buf.h"

#include <stdbool.h>
#include <string.h>

static _Atomic(struct pc_stat *) g_head;

static void link_once(struct pc_stat *s)
{
    if (atomic_flag_test_and_set(&s->linked))
        return;
    struct pc_stat *old = atomic_load(&g_head);
    do
        atomic_store(&s->next, old);
    while (!atomic_compare_exchange_weak(&g_head, &old, s));
}

void pc_stat_add(struct pc_stat *s, long long d)
{
    link_once(s);
    atomic_fetch_add_explicit(&s->value, d, memory_order_relaxed);
}

void pc_stat_set(struct pc_stat *s, long long v)
{
    link_once(s);
    atomic_store_explicit(&s->value, v, memory_order_relaxed);
}

long long pc_stat_get(struct pc_stat *s)
{
    return atomic_load_explicit(&s->value, memory_order_relaxed);
}

static void sample(struct pc_buf *out, struct pc_stat *s)
{
    long long v = atomic_load_explicit(&s->value, memory_order_relaxed);
    const char *l = s->labels && s->labels[0] ? s->labels : NULL;
    if (s->scale != 0 && s->scale != 1)
        pc_buf_addf(out, "%s%s%s%s %.6f\n", s->name, l ? "{" : "", l ? l : "", l ? "}" : "",
                    (double)v * s->scale);
    else
        pc_buf_addf(out, "%s%s%s%s %lld\n", s->name, l ? "{" : "", l ? l : "", l ? "}" : "", v);
}

void pc_stats_render(struct pc_buf *out)
{
    /* The list is newest first: collect it oldest first (bounded: series are static). */
    struct pc_stat *all[512];
    size_t n = 0;
    for (struct pc_stat *s = atomic_load(&g_head); s && n < sizeof all / sizeof all[0];
         s = atomic_load(&s->next))
        all[n++] = s;
    for (size_t i = n; i-- > 0;) {
        bool first = true;
        for (size_t j = n; j-- > i + 1;)
            if (!strcmp(all[j]->name, all[i]->name))
                first = false;
        if (!first)
            continue;
        pc_buf_addf(out, "# HELP %s %s\n# TYPE %s %s\n", all[i]->name, all[i]->help, all[i]->name,
                    all[i]->type);
        for (size_t j = i + 1; j-- > 0;)
            if (!strcmp(all[j]->name, all[i]->name))
                sample(out, all[j]);
    }
}
