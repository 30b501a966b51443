/* it_proxy.c — the client address behind a reverse proxy on loopback: X-Forwarded-For counts
 * only from a peer in server.trusted_proxies (here 127.0.0.1, where the test client plays the
 * proxy), walked from the right; any other peer (127.0.0.3) is its own client whatever it
 * sends; /metrics is open to server.metrics_allow and to staff tokens only. */
#include "harness.h"
#include "rawtls.h"

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
                "[server]\ntrusted_proxies = 127.0.0.1\nmetrics_allow = 127.0.0.1/32, "
                "198.51.100.0/24\n[auth]\nlogin_addr_max_failures = 3\n"
                "login_user_max_failures = 1000\n",
                0);
    h_user_add(&g_srv, "proxy-admin", "admin", "admin-password-1");
    h_login(&g_srv, "proxy-admin", "admin-password-1", g_admin, sizeof g_admin);
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

static const char *g_login = "{\"username\":\"proxy-admin\",\"password\":\"admin-password-1\"}";

/* A successful staff login through the proxy on 127.0.0.1 with this X-Forwarded-For. */
static void login_via_proxy(const char *xff)
{
    char h[256];
    snprintf(h, sizeof h, "X-Forwarded-For: %s", xff);
    const char *hs[] = {"Content-Type: application/json", h, NULL};
    struct h_resp r;
    h_http(&g_srv, "POST", "/api/v1/admin/login", hs, g_login, strlen(g_login), &r);
    assert_int_equal(r.status, 200);
    h_resp_free(&r);
}

/* One request from the loopback address src over a raw TLS connection; the status. */
static int request_from(const char *src, const char *method, const char *path,
                        const char *extra_headers, const char *body)
{
    struct rt_conn c;
    if (rt_open(&c, g_srv.port, src, 10000) != 0)
        fail_msg("cannot connect from %s", src);
    char req[2048];
    snprintf(req, sizeof req,
             "%s %s HTTP/1.1\r\nHost: localhost\r\n%sContent-Type: application/json\r\n"
             "Content-Length: %zu\r\n\r\n%s",
             method, path, extra_headers ? extra_headers : "", body ? strlen(body) : 0,
             body ? body : "");
    assert_int_equal(rt_send_str(&c, req), 0);
    struct rt_resp r;
    assert_int_equal(rt_read_response(&c, &r), 0);
    int status = r.status;
    rt_resp_free(&r);
    rt_close(&c);
    return status;
}

static long long sessions_from(const char *ip)
{
    return h_db_int(&g_db, "SELECT COUNT(*) FROM staff_sessions WHERE created_ip = '%s'", ip);
}

static void test_the_client_behind_a_trusted_proxy_is_the_forwarded_address(void **state)
{
    (void)state;
    login_via_proxy("198.51.100.7");
    assert_int_equal(sessions_from("198.51.100.7"), 1);
}

static void test_addresses_the_client_wrote_itself_are_not_believed(void **state)
{
    (void)state;
    /* The client sent "X-Forwarded-For: 6.6.6.6"; the proxy appended what it saw. */
    login_via_proxy("6.6.6.6, 203.0.113.44");
    assert_int_equal(sessions_from("203.0.113.44"), 1);
    assert_int_equal(sessions_from("6.6.6.6"), 0);
}

static void test_forwarded_for_from_a_peer_that_is_no_proxy_is_ignored(void **state)
{
    (void)state;
    int st = request_from("127.0.0.3", "POST", "/api/v1/admin/login",
                          "X-Forwarded-For: 198.51.100.99\r\n", g_login);
    assert_int_equal(st, 200);
    assert_int_equal(sessions_from("127.0.0.3"), 1);
    assert_int_equal(sessions_from("198.51.100.99"), 0);
}

static void test_failed_logins_of_one_client_do_not_lock_out_another(void **state)
{
    (void)state;
    const char *bad = "{\"username\":\"proxy-admin\",\"password\":\"wrong-password\"}";
    const char *a[] = {"Content-Type: application/json", "X-Forwarded-For: 198.51.100.31", NULL};
    const char *b[] = {"Content-Type: application/json", "X-Forwarded-For: 198.51.100.32", NULL};
    struct h_resp r;
    for (int i = 0; i < 3; i++) {
        h_http(&g_srv, "POST", "/api/v1/admin/login", a, bad, strlen(bad), &r);
        h_assert_error(&r, 401, "INVALID_CREDENTIALS");
        h_resp_free(&r);
    }
    h_http(&g_srv, "POST", "/api/v1/admin/login", a, bad, strlen(bad), &r);
    assert_int_equal(r.status, 429);
    h_resp_free(&r);
    /* Another student's address behind the same proxy is its own bucket. */
    h_http(&g_srv, "POST", "/api/v1/admin/login", b, g_login, strlen(g_login), &r);
    assert_int_equal(r.status, 200);
    h_resp_free(&r);
}

static void test_metrics_are_open_to_the_allow_list_only(void **state)
{
    (void)state;
    struct h_resp r;
    /* 127.0.0.1 itself (no forwarding) and a forwarded client in 198.51.100.0/24. */
    h_get(&g_srv, "/metrics", NULL, &r);
    assert_int_equal(r.status, 200);
    h_resp_free(&r);
    const char *allowed[] = {"X-Forwarded-For: 198.51.100.200", NULL};
    h_http(&g_srv, "GET", "/metrics", allowed, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    h_resp_free(&r);
    /* A client on the internet behind the proxy needs a staff token. */
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
    /* A loopback peer that is neither allowed nor a proxy cannot claim an allowed address. */
    assert_int_equal(request_from("127.0.0.3", "GET", "/metrics", NULL, NULL), 401);
    assert_int_equal(
        request_from("127.0.0.3", "GET", "/metrics", "X-Forwarded-For: 127.0.0.1\r\n", NULL), 401);
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
        cmocka_unit_test(test_the_client_behind_a_trusted_proxy_is_the_forwarded_address),
        cmocka_unit_test(test_addresses_the_client_wrote_itself_are_not_believed),
        cmocka_unit_test(test_forwarded_for_from_a_peer_that_is_no_proxy_is_ignored),
        cmocka_unit_test(test_failed_logins_of_one_client_do_not_lock_out_another),
        cmocka_unit_test(test_metrics_are_open_to_the_allow_list_only),
        cmocka_unit_test(test_server_exits_0_on_sigterm),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
