/* server/metrics.c — fixed-bucket histograms under one mutex. */
#include "server/metrics.h"

#include "base/alloc.h"
#include "base/buf.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static const double g_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                  0.1,    0.25,  0.5,    1.0,   2.5,  5.0,   10.0};
#define NB (sizeof g_bounds / sizeof g_bounds[0])

struct series {
    const char *method;
    const char *route;
    int status;
    uint64_t count;
    double sum;
    uint64_t buckets[NB]; /* non-cumulative; rendered cumulative */
};

struct pc_metrics {
    pthread_mutex_t mu;
    struct series *s;
    size_t n, cap;
};

struct pc_metrics *pc_metrics_new(void)
{
    struct pc_metrics *m = pc_new(struct pc_metrics);
    pthread_mutex_init(&m->mu, NULL);
    return m;
}

void pc_metrics_free(struct pc_metrics *m)
{
    if (!m)
        return;
    pthread_mutex_destroy(&m->mu);
    free(m->s);
    free(m);
}

void pc_metrics_observe(struct pc_metrics *m, const char *method, const char *route, int status,
                        uint64_t duration_ns)
{
    double secs = (double)duration_ns / 1e9;
    pthread_mutex_lock(&m->mu);
    struct series *s = NULL;
    for (size_t i = 0; i < m->n; i++) {
        if (m->s[i].status == status && m->s[i].route == route && !strcmp(m->s[i].method, method)) {
            s = &m->s[i];
            break;
        }
    }
    if (!s) {
        if (m->n == m->cap) {
            m->cap = m->cap ? m->cap * 2 : 32;
            m->s = pc_xrealloc(m->s, m->cap * sizeof *m->s);
        }
        s = &m->s[m->n++];
        memset(s, 0, sizeof *s);
        s->method = method;
        s->route = route;
        s->status = status;
    }
    s->count++;
    s->sum += secs;
    for (size_t b = 0; b < NB; b++) {
        if (secs <= g_bounds[b]) {
            s->buckets[b]++;
            break;
        }
    }
    pthread_mutex_unlock(&m->mu);
}

void pc_metrics_render(struct pc_metrics *m, struct pc_buf *out)
{
    pthread_mutex_lock(&m->mu);
    pc_buf_adds(out, "# HELP portraitd_http_requests_total HTTP requests answered.\n"
                     "# TYPE portraitd_http_requests_total counter\n");
    for (size_t i = 0; i < m->n; i++) {
        struct series *s = &m->s[i];
        pc_buf_addf(out,
                    "portraitd_http_requests_total{method=\"%s\",route=\"%s\",status=\"%d\"} "
                    "%llu\n",
                    s->method, s->route, s->status, (unsigned long long)s->count);
    }
    pc_buf_adds(out, "# HELP portraitd_http_request_duration_seconds Time from request "
                     "dispatch to reply.\n"
                     "# TYPE portraitd_http_request_duration_seconds histogram\n");
    for (size_t i = 0; i < m->n; i++) {
        struct series *s = &m->s[i];
        uint64_t cum = 0;
        for (size_t b = 0; b < NB; b++) {
            cum += s->buckets[b];
            pc_buf_addf(out,
                        "portraitd_http_request_duration_seconds_bucket{method=\"%s\",route=\"%s\","
                        "status=\"%d\",le=\"%g\"} %llu\n",
                        s->method, s->route, s->status, g_bounds[b], (unsigned long long)cum);
        }
        pc_buf_addf(out,
                    "portraitd_http_request_duration_seconds_bucket{method=\"%s\",route=\"%s\","
                    "status=\"%d\",le=\"+Inf\"} %llu\n"
                    "portraitd_http_request_duration_seconds_sum{method=\"%s\",route=\"%s\","
                    "status=\"%d\"} %.6f\n"
                    "portraitd_http_request_duration_seconds_count{method=\"%s\",route=\"%s\","
                    "status=\"%d\"} %llu\n",
                    s->method, s->route, s->status, (unsigned long long)s->count, s->method,
                    s->route, s->status, s->sum, s->method, s->route, s->status,
                    (unsigned long long)s->count);
    }
    pthread_mutex_unlock(&m->mu);
}
