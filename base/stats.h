/* base/stats.h — process-wide counters and gauges for the Prometheus exposition (GET /metrics).
 *
 * A module declares each series once as a static struct pc_stat and adds to it or sets it
 * from any thread (one relaxed atomic operation; the series joins the exposition on first
 * use). Series of one name render together under one HELP/TYPE header, in the order they
 * first appeared. Values are integers; a series with scale 1e-6 holds microseconds and renders
 * as seconds. server/metrics.h keeps the request histograms; this file keeps everything else
 * (jobs, outbox, storage backend, database connections). */
#ifndef PC_BASE_STATS_H
#define PC_BASE_STATS_H

#include <stdatomic.h>

struct pc_buf;

struct pc_stat {
    const char *name;   /* portraitd_… */
    const char *type;   /* "counter" or "gauge" */
    const char *labels; /* `op="put"` (no braces), or NULL; borrowed for the process */
    const char *help;
    double scale; /* rendered value = value * scale; 0 means 1 */
    _Atomic long long value;
    _Atomic(struct pc_stat *) next;
    atomic_flag linked;
};

#define PC_STAT_INIT(name, type, labels, help, scale)                                              \
    {                                                                                              \
        (name), (type), (labels), (help), (scale), 0, NULL, ATOMIC_FLAG_INIT                       \
    }

/* Adds d (may be negative). Any thread. */
void pc_stat_add(struct pc_stat *s, long long d);
/* Sets the value. Any thread. */
void pc_stat_set(struct pc_stat *s, long long v);
/* The current value. Any thread. */
long long pc_stat_get(struct pc_stat *s);
/* Appends every series used so far in Prometheus text format to out. Any thread. */
void pc_stats_render(struct pc_buf *out);

#endif
