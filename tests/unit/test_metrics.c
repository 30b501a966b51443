/* tests/unit/test_metrics.c — server/metrics.h: counters and histograms in Prometheus text. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/buf.h"
#include "server/metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Routes are borrowed static strings, as the server's route table provides. */
static const char R_HEALTHZ[] = "/healthz";
static const char R_ORDERS[] = "/api/v1/orders";
static const char R_UNMATCHED[] = "unmatched";

#define MS(x) ((uint64_t)(x)*1000000u)
#define US(x) ((uint64_t)(x)*1000u)

static char *render(struct pc_metrics *m)
{
    struct pc_buf b;
    pc_buf_init(&b, 1 << 22);
    pc_metrics_render(m, &b);
    return pc_buf_take(&b, NULL);
}

static void expect_line(const char *text, const char *line)
{
    char want[512];
    snprintf(want, sizeof want, "\n%s\n", line);
    if (!strstr(text, want))
        fail_msg("missing line: %s\n--- rendered ---\n%s", line, text);
}

static void expect_no(const char *text, const char *needle)
{
    if (strstr(text, needle))
        fail_msg("unexpected '%s' in:\n%s", needle, text);
}

static void test_metrics_empty_render_has_only_help_and_type(void **state)
{
    struct pc_metrics *m = pc_metrics_new();
    char *t = render(m);
    assert_non_null(strstr(t, "# TYPE portraitd_http_requests_total counter\n"));
    assert_non_null(strstr(t, "# TYPE portraitd_http_request_duration_seconds histogram\n"));
    assert_non_null(strstr(t, "# HELP portraitd_http_requests_total "));
    expect_no(t, "portraitd_http_requests_total{");
    expect_no(t, "_bucket{");
    free(t);
    pc_metrics_free(m);
}

static void test_metrics_counts_requests_per_method_route_status(void **state)
{
    struct pc_metrics *m = pc_metrics_new();
    pc_metrics_observe(m, "GET", R_HEALTHZ, 200, US(300));
    pc_metrics_observe(m, "GET", R_HEALTHZ, 200, MS(30));
    pc_metrics_observe(m, "GET", R_HEALTHZ, 503, MS(1));
    pc_metrics_observe(m, "POST", R_ORDERS, 201, MS(5));
    pc_metrics_observe(m, "GET", R_UNMATCHED, 404, US(100));
    char *t = render(m);
    expect_line(
        t, "portraitd_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 2");
    expect_line(
        t, "portraitd_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"503\"} 1");
    expect_line(t, "portraitd_http_requests_total{method=\"POST\",route=\"/api/v1/orders\","
                   "status=\"201\"} 1");
    expect_line(
        t, "portraitd_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 1");
    free(t);
    pc_metrics_free(m);
}

static void test_metrics_method_compared_by_content(void **state)
{
    struct pc_metrics *m = pc_metrics_new();
    char get1[] = "GET", get2[] = "GET";
    pc_metrics_observe(m, get1, R_HEALTHZ, 200, US(300));
    pc_metrics_observe(m, get2, R_HEALTHZ, 200, US(300));
    char *t = render(m);
    expect_line(
        t, "portraitd_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 2");
    free(t);
    pc_metrics_free(m);
}

static void test_metrics_histogram_buckets_are_cumulative(void **state)
{
    struct pc_metrics *m = pc_metrics_new();
    pc_metrics_observe(m, "GET", R_HEALTHZ, 200, US(300)); /* <= 0.0005 */
    pc_metrics_observe(m, "GET", R_HEALTHZ, 200, MS(30));  /* <= 0.05 */
    pc_metrics_observe(m, "GET", R_HEALTHZ, 200, MS(700)); /* <= 1 */
    char *t = render(m);
#define B(le)                                                                                      \
    "portraitd_http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\","            \
    "status=\"200\",le=\"" le "\"} "
    expect_line(t, B("0.0005") "1");
    expect_line(t, B("0.001") "1");
    expect_line(t, B("0.025") "1");
    expect_line(t, B("0.05") "2");
    expect_line(t, B("0.5") "2");
    expect_line(t, B("1") "3");
    expect_line(t, B("10") "3");
    expect_line(t, B("+Inf") "3");
#undef B
    expect_line(t,
                "portraitd_http_request_duration_seconds_count{method=\"GET\",route=\"/healthz\","
                "status=\"200\"} 3");
    expect_line(t, "portraitd_http_request_duration_seconds_sum{method=\"GET\",route=\"/healthz\","
                   "status=\"200\"} 0.730300");
    free(t);
    pc_metrics_free(m);
}

static void test_metrics_slow_request_counts_only_in_inf_bucket(void **state)
{
    struct pc_metrics *m = pc_metrics_new();
    pc_metrics_observe(m, "POST", R_ORDERS, 201, MS(20000));
    char *t = render(m);
#define B(le)                                                                                      \
    "portraitd_http_request_duration_seconds_bucket{method=\"POST\",route=\"/api/v1/orders\","     \
    "status=\"201\",le=\"" le "\"} "
    expect_line(t, B("10") "0");
    expect_line(t, B("0.0005") "0");
    expect_line(t, B("+Inf") "1");
#undef B
    expect_line(t, "portraitd_http_request_duration_seconds_sum{method=\"POST\",route=\"/api/v1/"
                   "orders\",status=\"201\"} 20.000000");
    free(t);
    pc_metrics_free(m);
}

/* Checks every histogram in text: buckets never decrease, the last bucket is le="+Inf" and
 * equals _count, and a _sum exists. Returns the number of series checked. */
static size_t check_histograms(const char *text)
{
    static const char bucket[] = "portraitd_http_request_duration_seconds_bucket{";
    size_t series = 0;
    const char *p = text;
    char cur[256] = "";
    unsigned long long prev = 0;
    while ((p = strstr(p, bucket))) {
        const char *labels = p + sizeof bucket - 1;
        const char *le = strstr(labels, ",le=\"");
        const char *close = strstr(labels, "} ");
        assert_non_null(le);
        assert_non_null(close);
        char key[256];
        snprintf(key, sizeof key, "%.*s", (int)(le - labels), labels);
        char *end = NULL;
        unsigned long long v = strtoull(close + 2, &end, 10);
        assert_int_equal(*end, '\n');
        if (strcmp(key, cur)) {
            snprintf(cur, sizeof cur, "%s", key);
            prev = 0;
        }
        if (v < prev)
            fail_msg("bucket count decreases for {%s}", key);
        prev = v;
        if (strncmp(le, ",le=\"+Inf\"}", 11) == 0) {
            char want[512];
            snprintf(want, sizeof want,
                     "\nportraitd_http_request_duration_seconds_count{%s} %llu\n", key, v);
            if (!strstr(text, want))
                fail_msg("+Inf bucket (%llu) differs from _count for {%s}", v, key);
            snprintf(want, sizeof want, "\nportraitd_http_request_duration_seconds_sum{%s} ", key);
            if (!strstr(text, want))
                fail_msg("no _sum for {%s}", key);
            snprintf(want, sizeof want, "portraitd_http_requests_total{%s} %llu\n", key, v);
            if (!strstr(text, want))
                fail_msg("counter differs from histogram count for {%s}", key);
            series++;
        }
        p = end;
    }
    return series;
}

static void test_metrics_inf_bucket_equals_count_and_sum_present(void **state)
{
    struct pc_metrics *m = pc_metrics_new();
    static const uint64_t d[] = {US(100), US(600),  MS(2),     MS(9),   MS(40), MS(200),
                                 MS(900), MS(3000), MS(12000), US(450), MS(26)};
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) {
        pc_metrics_observe(m, "GET", R_HEALTHZ, 200, d[i]);
        pc_metrics_observe(m, "POST", R_ORDERS, i % 2 ? 201 : 400, d[i]);
    }
    char *t = render(m);
    assert_int_equal(check_histograms(t), 3);
    free(t);
    pc_metrics_free(m);
}

struct hammer {
    struct pc_metrics *m;
    int n;
};

static void *hammer_thread(void *arg)
{
    struct hammer *h = arg;
    for (int i = 0; i < h->n; i++)
        pc_metrics_observe(h->m, "GET", R_HEALTHZ, 200 + (i % 2), US(100 + i % 5000));
    return NULL;
}

static void test_metrics_concurrent_observations_are_all_counted(void **state)
{
    struct pc_metrics *m = pc_metrics_new();
    pthread_t th[4];
    struct hammer h = {m, 2000};
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, hammer_thread, &h), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    char *t = render(m);
    expect_line(
        t, "portraitd_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 4000");
    expect_line(
        t, "portraitd_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"201\"} 4000");
    assert_int_equal(check_histograms(t), 2);
    free(t);
    pc_metrics_free(m);
}

static void test_metrics_many_series_survive_table_growth(void **state)
{
    struct pc_metrics *m = pc_metrics_new();
    for (int round = 0; round < 2; round++)
        for (int status = 100; status < 200; status++)
            pc_metrics_observe(m, "GET", R_HEALTHZ, status, US(100));
    char *t = render(m);
    expect_line(
        t, "portraitd_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"100\"} 2");
    expect_line(
        t, "portraitd_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"199\"} 2");
    assert_int_equal(check_histograms(t), 100);
    free(t);
    pc_metrics_free(m);
}

static void test_metrics_free_accepts_null(void **state)
{
    pc_metrics_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics_empty_render_has_only_help_and_type),
        cmocka_unit_test(test_metrics_counts_requests_per_method_route_status),
        cmocka_unit_test(test_metrics_method_compared_by_content),
        cmocka_unit_test(test_metrics_histogram_buckets_are_cumulative),
        cmocka_unit_test(test_metrics_slow_request_counts_only_in_inf_bucket),
        cmocka_unit_test(test_metrics_inf_bucket_equals_count_and_sum_present),
        cmocka_unit_test(test_metrics_concurrent_observations_are_all_counted),
        cmocka_unit_test(test_metrics_many_series_survive_table_growth),
        cmocka_unit_test(test_metrics_free_accepts_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
