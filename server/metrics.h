/* server/metrics.h — request counters and latency histograms in Prometheus text format.
 *
 * Series are keyed by (method, route pattern, status); unmatched paths count under the
 * route "unmatched" so that scanning for URLs cannot grow the series set. Thread-safe. */
#ifndef PC_SERVER_METRICS_H
#define PC_SERVER_METRICS_H

#include <stdint.h>

struct pc_buf;
struct pc_metrics;

struct pc_metrics *pc_metrics_new(void);
void pc_metrics_free(struct pc_metrics *m);
/* Records one finished request. method and route are borrowed static strings. */
void pc_metrics_observe(struct pc_metrics *m, const char *method, const char *route, int status,
                        uint64_t duration_ns);
/* Appends the exposition of every series to out. */
void pc_metrics_render(struct pc_metrics *m, struct pc_buf *out);

#endif
