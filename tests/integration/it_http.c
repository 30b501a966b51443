/* it_http.c — the HTTP surface: error shapes, limits, malformed input that changes
 * nothing, metrics, against the real portraitd over TLS. */
#include "harness.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

static struct h_db g_db;
static struct h_srv g_srv;
static char g_admin[128];

static int setup(void **state)
{
    (void)state;
    h_db_start(&g_db);
    h_srv_start(&g_srv, &g_db,
                "[server]\nmax_body_bytes = 1048576\ntrusted_proxies = 127.0.0.1\n"
                "[auth]\nlogin_addr_max_failures = 1000\n",
                0);
    h_user_add(&g_srv, "root-admin", "admin", "admin-password-1");
    h_login(&g_srv, "root-admin", "admin-password-1", g_admin, sizeof g_admin);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (g_srv.pid > 0)
        h_srv_stop(&g_srv, SIGKILL);
    h_db_destroy(&g_db);
    return 0;
}

static long long writes(void)
{
    return h_db_int(&g_db, "SELECT (SELECT COUNT(*) FROM audit_log) + "
                           "(SELECT COUNT(*) FROM rate_limits) + "
                           "(SELECT COUNT(*) FROM staff_sessions)");
}

static void test_unknown_path_is_404_in_api_shape(void **state)
{
    (void)state;
    struct h_resp r;
    h_get(&g_srv, "/api/v1/no-such-thing", NULL, &r);
    h_assert_error(&r, 404, "NOT_FOUND");
    h_resp_free(&r);
    h_get(&g_srv, "/healthz/", NULL, &r);
    h_assert_error(&r, 404, "NOT_FOUND");
    h_resp_free(&r);
}

static void test_wrong_method_is_405_with_allow_header(void **state)
{
    (void)state;
    struct h_resp r;
    h_http(&g_srv, "DELETE", "/healthz", NULL, NULL, 0, &r);
    h_assert_error(&r, 405, "METHOD_NOT_ALLOWED");
    char allow[64];
    assert_string_equal(h_header(&r, "Allow", allow, sizeof allow), "GET, HEAD");
    h_resp_free(&r);
    h_get(&g_srv, "/api/v1/admin/login", NULL, &r);
    h_assert_error(&r, 405, "METHOD_NOT_ALLOWED");
    h_resp_free(&r);
}

static void test_head_answers_like_get_without_the_body(void **state)
{
    (void)state;
    struct h_resp r;
    char len[32];
    h_http(&g_srv, "HEAD", "/healthz", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, 0);
    assert_string_equal(h_header(&r, "Content-Length", len, sizeof len),
                        "15"); /* {"status":"ok"} */
    h_resp_free(&r);
    /* The connection stays usable: the next request on it is answered in full. */
    h_get(&g_srv, "/healthz", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, 15);
    h_resp_free(&r);
    /* Only GET routes answer HEAD. */
    h_http(&g_srv, "HEAD", "/api/v1/admin/login", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 405);
    assert_int_equal(r.len, 0);
    h_resp_free(&r);
}

static void test_oversize_json_body_is_413_and_writes_nothing(void **state)
{
    (void)state;
    long long before = writes();
    size_t n = 70 * 1024; /* over server.max_json_bytes (64 KiB) */
    char *big = malloc(n + 1);
    memset(big, ' ', n);
    memcpy(big, "{\"username\":\"root-admin\",\"password\":\"admin-password-1\"}", 55);
    big[n] = '\0';
    struct h_resp r;
    const char *hs[] = {"Content-Type: application/json", NULL};
    h_http(&g_srv, "POST", "/api/v1/admin/login", hs, big, n, &r);
    h_assert_error(&r, 413, "PAYLOAD_TOO_LARGE");
    h_resp_free(&r);
    free(big);
    assert_int_equal(writes(), before);
}

static void test_body_over_the_hard_cap_is_413_in_api_shape(void **state)
{
    (void)state;
    long long before = writes();
    size_t n = 2 * 1024 * 1024; /* over server.max_body_bytes (1 MiB here) */
    char *big = calloc(1, n);
    memset(big, 'x', n);
    struct h_resp r;
    const char *hs[] = {"Content-Type: application/json", NULL};
    /* Refused from its Content-Length before the body is read; the rest of what the client
     * sends is read and dropped, so that it reads the answer rather than a reset. */
    h_http(&g_srv, "POST", "/api/v1/admin/login", hs, big, n, &r);
    h_assert_error(&r, 413, "PAYLOAD_TOO_LARGE");
    h_resp_free(&r);
    free(big);
    assert_int_equal(writes(), before);
    h_get(&g_srv, "/healthz", NULL, &r); /* and the server is fine */
    assert_int_equal(r.status, 200);
    h_resp_free(&r);
}

static void test_malformed_json_is_400_and_writes_nothing(void **state)
{
    (void)state;
    static const char *const bodies[] = {
        "{\"username\":\"root-admin\",\"password\":", /* truncated */
        "[\"root-admin\",\"admin-password-1\"]",      /* not an object */
        "{\"username\":\"root-admin\"} trailing",     /* garbage after the value */
        "\xff\xfe{}",                                 /* not UTF-8 JSON */
        "",                                           /* empty */
    };
    long long before = writes();
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        struct h_resp r;
        const char *hs[] = {"Content-Type: application/json", NULL};
        h_http(&g_srv, "POST", "/api/v1/admin/login", hs, bodies[i], strlen(bodies[i]), &r);
        h_assert_error(&r, 400, "MALFORMED_JSON");
        h_resp_free(&r);
    }
    assert_int_equal(writes(), before);
}

static void test_wrong_field_types_are_400_invalid_input(void **state)
{
    (void)state;
    long long before = writes();
    struct h_resp r;
    h_post_json(&g_srv, "/api/v1/admin/login", NULL, "{\"username\":42,\"password\":\"x\"}", &r);
    h_assert_error(&r, 400, "INVALID_INPUT");
    cJSON *j = h_json(&r);
    cJSON *d = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "error"), "details");
    assert_string_equal(cJSON_GetObjectItem(d, "field")->valuestring, "username");
    cJSON_Delete(j);
    h_resp_free(&r);
    h_post_json(&g_srv, "/api/v1/admin/login", NULL, "{\"username\":\"a\"}", &r);
    h_assert_error(&r, 400, "INVALID_INPUT");
    h_resp_free(&r);
    assert_int_equal(writes(), before);
}

static void test_non_json_content_type_is_415(void **state)
{
    (void)state;
    struct h_resp r;
    const char *hs[] = {"Content-Type: multipart/form-data; boundary=x", NULL};
    const char *b = "--x\r\n\r\n--x--\r\n";
    h_http(&g_srv, "POST", "/api/v1/admin/login", hs, b, strlen(b), &r);
    h_assert_error(&r, 415, "UNSUPPORTED_MEDIA_TYPE");
    h_resp_free(&r);
}

static void test_oversize_headers_are_431_in_api_shape(void **state)
{
    (void)state;
    char *h = malloc(40000);
    int n = snprintf(h, 40000, "X-Filler: ");
    memset(h + n, 'a', 30000);
    h[n + 30000] = '\0';
    const char *hs[] = {h, NULL};
    struct h_resp r;
    h_http(&g_srv, "GET", "/healthz", hs, NULL, 0, &r);
    h_assert_error(&r, 431, "HEADERS_TOO_LARGE");
    h_resp_free(&r);
    free(h);
}

static void test_metrics_count_requests_by_route_and_status(void **state)
{
    (void)state;
    struct h_resp r;
    for (int i = 0; i < 3; i++) {
        h_get(&g_srv, "/healthz", NULL, &r);
        h_resp_free(&r);
    }
    h_get(&g_srv, "/metrics", NULL, &r);
    assert_int_equal(r.status, 200);
    char ct[80];
    assert_non_null(strstr(h_header(&r, "Content-Type", ct, sizeof ct), "text/plain"));
    const char *line = strstr(
        r.body, "portraitd_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} ");
    assert_non_null(line);
    assert_true(strtol(strchr(line, '}') + 2, NULL, 10) >= 3);
    assert_non_null(strstr(r.body, "route=\"unmatched\",status=\"404\""));
    assert_non_null(strstr(r.body, "portraitd_http_request_duration_seconds_bucket{method=\"GET\","
                                   "route=\"/healthz\",status=\"200\",le=\"+Inf\"}"));
    assert_non_null(strstr(r.body, "# TYPE portraitd_http_request_duration_seconds histogram"));
    h_resp_free(&r);
}

static void test_metrics_need_staff_token_from_a_remote_address(void **state)
{
    (void)state;
    struct h_resp r;
    const char *remote[] = {"X-Forwarded-For: 203.0.113.9", NULL};
    h_http(&g_srv, "GET", "/metrics", remote, NULL, 0, &r);
    h_assert_error(&r, 401, "UNAUTHORIZED");
    h_resp_free(&r);
    char auth[200];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", g_admin);
    const char *staff[] = {"X-Forwarded-For: 203.0.113.9", auth, NULL};
    h_http(&g_srv, "GET", "/metrics", staff, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    h_resp_free(&r);
}

/* Last: SIGTERM ends the server with status 0 and no sanitizer report in its log. */
static void test_server_exits_0_on_sigterm(void **state)
{
    (void)state;
    assert_int_equal(h_srv_stop(&g_srv, SIGTERM), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_path_is_404_in_api_shape),
        cmocka_unit_test(test_wrong_method_is_405_with_allow_header),
        cmocka_unit_test(test_head_answers_like_get_without_the_body),
        cmocka_unit_test(test_oversize_json_body_is_413_and_writes_nothing),
        cmocka_unit_test(test_body_over_the_hard_cap_is_413_in_api_shape),
        cmocka_unit_test(test_malformed_json_is_400_and_writes_nothing),
        cmocka_unit_test(test_wrong_field_types_are_400_invalid_input),
        cmocka_unit_test(test_non_json_content_type_is_415),
        cmocka_unit_test(test_oversize_headers_are_431_in_api_shape),
        cmocka_unit_test(test_metrics_count_requests_by_route_and_status),
        cmocka_unit_test(test_metrics_need_staff_token_from_a_remote_address),
        cmocka_unit_test(test_server_exits_0_on_sigterm),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
