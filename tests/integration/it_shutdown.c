/* it_shutdown.c — graceful shutdown: SIGTERM/SIGINT stop accepting, let the request in
 * flight finish with its normal answer, and exit 0. */
#include "harness.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>

static struct h_db g_db;

static int setup(void **state)
{
    (void)state;
    h_db_start(&g_db);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    h_db_destroy(&g_db);
    return 0;
}

struct inflight {
    struct h_srv *srv;
    const char *path;
    struct h_resp resp;
    int curl_rc;
};

static void *do_request(void *p)
{
    struct inflight *f = p;
    f->curl_rc = h_http_try(f->srv, "GET", f->path, NULL, NULL, 0, &f->resp);
    return NULL;
}

static void shutdown_with_request_in_flight(int sig)
{
    struct h_srv srv;
    h_srv_start(&srv, &g_db, NULL, 0);
    struct inflight f = {&srv, "/__debug/sleep?ms=1500", {0}, -1};
    pthread_t t;
    pthread_create(&t, NULL, do_request, &f);
    h_msleep(400); /* the request is on a worker now */
    kill(srv.pid, sig);
    h_msleep(200);
    /* New connections are refused while the old request finishes. */
    struct h_resp r;
    int rc = h_http_try(&srv, "GET", "/healthz", NULL, NULL, 0, &r);
    assert_int_not_equal(rc, 0);
    h_resp_free(&r);
    pthread_join(t, NULL);
    assert_int_equal(f.curl_rc, 0);
    assert_int_equal(f.resp.status, 200);
    assert_non_null(strstr(f.resp.body, "\"slept_ms\":1500"));
    h_resp_free(&f.resp);
    assert_int_equal(h_srv_stop(&srv, 0), 0); /* signal 0: just wait for the exit */
}

static void test_sigterm_finishes_the_request_in_flight_and_exits_0(void **state)
{
    (void)state;
    shutdown_with_request_in_flight(SIGTERM);
}

static void test_sigint_finishes_the_request_in_flight_and_exits_0(void **state)
{
    (void)state;
    shutdown_with_request_in_flight(SIGINT);
}

static void test_idle_server_exits_0_on_sigterm(void **state)
{
    (void)state;
    struct h_srv srv;
    h_srv_start(&srv, &g_db, NULL, 0);
    struct h_resp r;
    h_get(&srv, "/healthz", NULL, &r); /* leaves an idle keep-alive connection behind */
    h_resp_free(&r);
    assert_int_equal(h_srv_stop(&srv, SIGTERM), 0);
    FILE *f = fopen(srv.log, "r");
    char line[4096];
    int stopped = 0;
    while (f && fgets(line, sizeof line, f))
        stopped |= strstr(line, "\"msg\":\"stopped\"") != NULL;
    if (f)
        fclose(f);
    assert_true(stopped);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigterm_finishes_the_request_in_flight_and_exits_0),
        cmocka_unit_test(test_sigint_finishes_the_request_in_flight_and_exits_0),
        cmocka_unit_test(test_idle_server_exits_0_on_sigterm),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
