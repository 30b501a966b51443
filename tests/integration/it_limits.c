/* it_limits.c — the connection-level behaviour of portraitd's HTTP layer against the real
 * server over TLS, with a raw client (rawtls.h): one TLS record per small answer, pipelining,
 * route-first body limits, 100-continue, the header and body timeouts a slow client cannot
 * stretch, the per-address connection cap, 400/413/431 in API.md's error shape, and memory
 * given back after many slow connections. */
#include "harness.h"
#include "rawtls.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static struct h_db g_db;
static struct h_srv g_srv;

#define CAP_PER_IP 6

static int setup(void **state)
{
    (void)state;
    h_db_start(&g_db);
    char conf[512];
    snprintf(conf, sizeof conf,
             "[server]\nheader_timeout_s = 2\nbody_timeout_s = 4\ntimeout_s = 30\n"
             "max_conns_per_ip = %d\ntrusted_proxies = 127.0.0.2\n"
             "[storage]\navatar_max_bytes = 100000\n",
             CAP_PER_IP);
    h_srv_start(&g_srv, &g_db, conf, 0);
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

static void open_ok(struct rt_conn *c, const char *src)
{
    if (rt_open(c, g_srv.port, src, 10000) != 0)
        fail_msg("TLS connection from %s refused", src ? src : "127.0.0.1");
}

/* Asserts an API.md error answer (status, code) with an X-Request-Id. */
static void expect_api_error(const struct rt_resp *r, int status, const char *code)
{
    if (r->status != status)
        fail_msg("expected %d %s, got %d: %.300s", status, code, r->status, r->body);
    char v[128];
    assert_non_null(rt_header(r, "X-Request-Id", v, sizeof v));
    assert_non_null(strstr(rt_header(r, "Content-Type", v, sizeof v), "application/json"));
    cJSON *j = cJSON_ParseWithLength(r->body, r->len);
    if (!j)
        fail_msg("not JSON: %.200s", r->body);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "code");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
    assert_true(cJSON_IsString(c) && cJSON_IsString(m) && m->valuestring[0]);
    assert_string_equal(c->valuestring, code);
    cJSON_Delete(j);
}

static void test_a_small_answer_is_one_tls_record(void **state)
{
    (void)state;
    struct rt_conn c;
    open_ok(&c, NULL);
    for (int i = 0; i < 3; i++) { /* keep-alive: each answer, not only the first */
        int before = c.app_records;
        assert_int_equal(rt_send_str(&c, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"), 0);
        struct rt_resp r;
        assert_int_equal(rt_read_response(&c, &r), 0);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.body, "{\"status\":\"ok\"}");
        assert_int_equal(c.app_records - before, 1);
        rt_resp_free(&r);
    }
    rt_close(&c);
}

static void test_pipelined_requests_are_answered_in_order(void **state)
{
    (void)state;
    struct rt_conn c;
    open_ok(&c, NULL);
    assert_int_equal(rt_send_str(&c, "GET /healthz HTTP/1.1\r\nX-Request-Id: one\r\n\r\n"
                                     "GET /no-such HTTP/1.1\r\nX-Request-Id: two\r\n\r\n"
                                     "POST /healthz HTTP/1.1\r\nX-Request-Id: three\r\n"
                                     "Content-Length: 2\r\n\r\n{}"
                                     "GET /healthz HTTP/1.1\r\nX-Request-Id: four\r\n\r\n"),
                     0);
    static const int want[] = {200, 404, 405, 200};
    static const char *const ids[] = {"one", "two", "three", "four"};
    for (int i = 0; i < 4; i++) {
        struct rt_resp r;
        assert_int_equal(rt_read_response(&c, &r), 0);
        assert_int_equal(r.status, want[i]);
        char id[64];
        assert_string_equal(rt_header(&r, "X-Request-Id", id, sizeof id), ids[i]);
        rt_resp_free(&r);
    }
    rt_close(&c);
}

static void test_dribbled_headers_are_cut_at_the_header_timeout(void **state)
{
    (void)state;
    struct rt_conn c;
    open_ok(&c, NULL);
    assert_int_equal(rt_send_str(&c, "GET /healthz HTTP/1.1\r\n"), 0);
    /* One header line a second: each one used to restart the idle timeout (30 s here). With
     * header_timeout_s = 2 the server must close long before 30 lines have gone out. */
    bool closed = false;
    for (int i = 0; i < 30 && !closed; i++) {
        if (rt_send_str(&c, "X-Slow: a\r\n") != 0)
            closed = true;
        else
            closed = rt_closed_by_peer(&c, 1000);
    }
    assert_true(closed);
    rt_close(&c);
}

static void test_an_idle_connection_gets_a_full_header_timeout_for_its_next_request(void **state)
{
    (void)state;
    struct rt_conn c;
    open_ok(&c, NULL);
    struct rt_resp r;
    assert_int_equal(rt_send_str(&c, "GET /healthz HTTP/1.1\r\n\r\n"), 0);
    assert_int_equal(rt_read_response(&c, &r), 0);
    rt_resp_free(&r);
    /* Idle longer than header_timeout_s (2 s) but within timeout_s (30 s): still open, and
     * the header timeout starts with the next request's first byte. */
    assert_false(rt_closed_by_peer(&c, 3500));
    assert_int_equal(rt_send_str(&c, "GET /healthz HTTP/1.1\r\n\r\n"), 0);
    assert_int_equal(rt_read_response(&c, &r), 0);
    assert_int_equal(r.status, 200);
    rt_resp_free(&r);
    rt_close(&c);
}

static void test_a_body_dribbled_past_the_body_timeout_is_cut(void **state)
{
    (void)state;
    struct rt_conn c;
    open_ok(&c, NULL);
    assert_int_equal(rt_send_str(&c,
                                 "POST /api/v1/admin/login HTTP/1.1\r\n"
                                 "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"),
                     0);
    bool closed = false;
    for (int i = 0; i < 30 && !closed; i++) { /* a byte a second; body_timeout_s is 4 */
        if (rt_send_str(&c, " ") != 0)
            closed = true;
        else
            closed = rt_closed_by_peer(&c, 1000);
    }
    assert_true(closed);
    rt_close(&c);
}

static void test_a_declared_json_body_over_the_limit_is_refused_before_it_is_sent(void **state)
{
    (void)state;
    long long before = h_db_int(&g_db, "SELECT COUNT(*) FROM audit_log");
    struct rt_conn c;
    open_ok(&c, NULL);
    /* Only the head goes out: the answer must come without the body (route first, then
     * read); 70 KiB is over server.max_json_bytes and under server.max_body_bytes. */
    assert_int_equal(rt_send_str(&c, "POST /api/v1/admin/login HTTP/1.1\r\n"
                                     "Content-Type: application/json\r\n"
                                     "Content-Length: 71680\r\n\r\n"),
                     0);
    struct rt_resp r;
    assert_int_equal(rt_read_response(&c, &r), 0);
    expect_api_error(&r, 413, "PAYLOAD_TOO_LARGE");
    assert_non_null(strstr(r.body, "\"limit_bytes\":65536"));
    char v[32];
    assert_string_equal(rt_header(&r, "Connection", v, sizeof v), "close");
    rt_resp_free(&r);
    assert_true(rt_closed_by_peer(&c, 5000));
    rt_close(&c);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM audit_log"), before);
}

static void test_an_upload_over_its_routes_own_cap_is_refused_before_it_is_sent(void **state)
{
    (void)state;
    struct rt_conn c;
    open_ok(&c, NULL);
    /* The avatar route reads storage.avatar_max_bytes (100000 here) + 64 KiB of framing. */
    assert_int_equal(rt_send_str(&c, "PUT /api/v1/me/avatar HTTP/1.1\r\n"
                                     "Content-Type: image/jpeg\r\nContent-Length: 200000\r\n\r\n"),
                     0);
    struct rt_resp r;
    assert_int_equal(rt_read_response(&c, &r), 0);
    expect_api_error(&r, 413, "PAYLOAD_TOO_LARGE");
    assert_non_null(strstr(r.body, "\"limit_bytes\":165536"));
    rt_resp_free(&r);
    rt_close(&c);
}

static void test_expect_100_continue_gets_continue_or_the_refusal(void **state)
{
    (void)state;
    struct rt_conn c;
    open_ok(&c, NULL);
    const char *body = "{\"username\":\"nobody\",\"password\":\"wrong-password\"}";
    char head[256];
    snprintf(head, sizeof head,
             "POST /api/v1/admin/login HTTP/1.1\r\nContent-Type: application/json\r\n"
             "Expect: 100-continue\r\nContent-Length: %zu\r\n\r\n",
             strlen(body));
    assert_int_equal(rt_send_str(&c, head), 0);
    struct rt_resp r;
    assert_int_equal(rt_read_response(&c, &r), 0);
    assert_int_equal(r.status, 100);
    rt_resp_free(&r);
    assert_int_equal(rt_send_str(&c, body), 0);
    assert_int_equal(rt_read_response(&c, &r), 0);
    expect_api_error(&r, 401, "INVALID_CREDENTIALS");
    rt_resp_free(&r);
    /* Too large: the refusal instead of 100, and the body is never sent. */
    assert_int_equal(rt_send_str(&c, "POST /api/v1/admin/login HTTP/1.1\r\n"
                                     "Content-Type: application/json\r\nExpect: 100-continue\r\n"
                                     "Content-Length: 5000000\r\n\r\n"),
                     0);
    assert_int_equal(rt_read_response(&c, &r), 0);
    expect_api_error(&r, 413, "PAYLOAD_TOO_LARGE");
    rt_resp_free(&r);
    rt_close(&c);
}

static void test_a_chunked_body_over_the_limit_is_413_in_api_shape(void **state)
{
    (void)state;
    struct rt_conn c;
    open_ok(&c, NULL);
    assert_int_equal(rt_send_str(&c, "POST /api/v1/admin/login HTTP/1.1\r\n"
                                     "Content-Type: application/json\r\n"
                                     "Transfer-Encoding: chunked\r\n\r\n"),
                     0);
    char chunk[8200];
    memcpy(chunk, "2000\r\n", 6);
    memset(chunk + 6, ' ', 8192);
    memcpy(chunk + 6 + 8192, "\r\n", 2);
    struct rt_resp r;
    int rc = -1;
    for (int i = 0; i < 20 && rc != 0; i++) { /* 160 KiB in chunks; the answer comes at 64 KiB */
        if (rt_send(&c, chunk, 6 + 8192 + 2) != 0)
            break;
    }
    rc = rt_read_response(&c, &r);
    assert_int_equal(rc, 0);
    expect_api_error(&r, 413, "PAYLOAD_TOO_LARGE");
    rt_resp_free(&r);
    rt_close(&c);
}

static void test_headers_over_the_cap_are_431_in_api_shape(void **state)
{
    (void)state;
    struct rt_conn c;
    open_ok(&c, NULL);
    char *req = malloc(40000);
    int n = snprintf(req, 40000, "GET /healthz HTTP/1.1\r\nX-Filler: ");
    memset(req + n, 'a', 30000);
    memcpy(req + n + 30000, "\r\n\r\n", 5);
    rt_send_str(&c, req); /* the server may answer and close before all of it is sent */
    struct rt_resp r;
    assert_int_equal(rt_read_response(&c, &r), 0);
    expect_api_error(&r, 431, "HEADERS_TOO_LARGE");
    rt_resp_free(&r);
    rt_close(&c);
    /* More than 100 header fields, however small. */
    open_ok(&c, NULL);
    n = snprintf(req, 40000, "GET /healthz HTTP/1.1\r\n");
    for (int i = 0; i < 150; i++)
        n += snprintf(req + n, 40000 - (size_t)n, "X-H%d: v\r\n", i);
    snprintf(req + n, 40000 - (size_t)n, "\r\n");
    rt_send_str(&c, req);
    assert_int_equal(rt_read_response(&c, &r), 0);
    expect_api_error(&r, 431, "HEADERS_TOO_LARGE");
    rt_resp_free(&r);
    rt_close(&c);
    free(req);
}

static void test_a_malformed_request_is_400_in_api_shape(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "GET /healthz HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nNo colon here\r\n\r\n",
        "BREW /pot HTTP/1.1\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct rt_conn c;
        open_ok(&c, NULL);
        assert_int_equal(rt_send_str(&c, bad[i]), 0);
        struct rt_resp r;
        assert_int_equal(rt_read_response(&c, &r), 0);
        expect_api_error(&r, 400, "BAD_REQUEST");
        rt_resp_free(&r);
        assert_true(rt_closed_by_peer(&c, 5000));
        rt_close(&c);
    }
}

static void test_connections_per_address_are_capped_but_trusted_proxies_are_not(void **state)
{
    (void)state;
    struct rt_conn held[CAP_PER_IP];
    for (int i = 0; i < CAP_PER_IP; i++)
        open_ok(&held[i], NULL);
    /* One more from 127.0.0.1: closed at accept, so the handshake fails. */
    struct rt_conn extra;
    assert_int_not_equal(rt_open(&extra, g_srv.port, NULL, 5000), 0);
    /* Another client address is not affected, nor is the trusted proxy 127.0.0.2. */
    struct rt_conn other, proxy[CAP_PER_IP + 4];
    open_ok(&other, "127.0.0.3");
    for (int i = 0; i < CAP_PER_IP + 4; i++)
        open_ok(&proxy[i], "127.0.0.2");
    for (int i = 0; i < CAP_PER_IP + 4; i++)
        rt_close(&proxy[i]);
    rt_close(&other);
    /* A place is given back when a connection closes. */
    rt_close(&held[0]);
    bool reopened = false;
    for (int i = 0; i < 50 && !reopened; i++) {
        reopened = rt_open(&held[0], g_srv.port, NULL, 5000) == 0;
        if (!reopened)
            h_msleep(100);
    }
    assert_true(reopened);
    for (int i = 0; i < CAP_PER_IP; i++)
        rt_close(&held[i]);
    /* The refusals are counted. */
    struct h_resp m;
    bool counted = false;
    for (int i = 0; i < 50 && !counted; i++) { /* until the held connections are released */
        if (h_http_try(&g_srv, "GET", "/metrics", NULL, NULL, 0, &m) == 0)
            counted = m.status == 200 && strstr(m.body, "portraitd_connections_refused_total ") &&
                      !strstr(m.body, "portraitd_connections_refused_total 0\n");
        h_resp_free(&m);
        if (!counted)
            h_msleep(100);
    }
    assert_true(counted);
}

static long rss_kb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

#define SLOW_CONNS 800

static void test_memory_is_given_back_after_many_slow_connections_close(void **state)
{
    (void)state;
#if defined(__SANITIZE_ADDRESS__)
    skip(); /* ASan's allocator keeps freed memory in quarantine: RSS says nothing there */
#endif
    /* A server of its own: slow connections that stay (no header timeout within the test). */
    struct h_srv srv;
    h_srv_start(&srv, &g_db,
                "[server]\nheader_timeout_s = 120\nmax_conns_per_ip = 0\n[log]\nlevel = warn\n", 1);
    for (int i = 0; i < 20; i++) { /* warm up the allocator's arenas */
        struct h_resp r;
        h_get(&srv, "/healthz", NULL, &r);
        h_resp_free(&r);
    }
    long base = rss_kb(srv.pid);
    struct rt_conn *c = calloc(SLOW_CONNS, sizeof *c);
    int open = 0;
    for (int i = 0; i < SLOW_CONNS; i++) {
        if (rt_open(&c[i], srv.port, NULL, 30000) != 0)
            break;
        rt_send_str(&c[i], "GET /healthz HTTP/1.1\r\nX-Slow: 1\r\n"); /* never finished */
        open++;
    }
    assert_int_equal(open, SLOW_CONNS);
    long peak = rss_kb(srv.pid);
    for (int i = 0; i < open; i++)
        rt_close(&c[i]);
    free(c);
    /* The server notices the closes, frees the connections, and its next timer tick trims
     * the heap; poll for it (no timing is asserted, only that it happens). */
    long after = peak;
    long allowed = base + (peak - base) / 3 + 2048;
    for (int i = 0; i < 100 && after > allowed; i++) {
        h_msleep(200);
        after = rss_kb(srv.pid);
    }
    print_message("RSS: %ld kB before, %ld kB with %d slow connections, %ld kB after\n", base, peak,
                  open, after);
    if (after > allowed)
        fail_msg("RSS stayed at %ld kB (base %ld, peak %ld)", after, base, peak);
    struct h_resp r;
    h_get(&srv, "/healthz", NULL, &r);
    assert_int_equal(r.status, 200);
    h_resp_free(&r);
    assert_int_equal(h_srv_stop(&srv, SIGTERM), 0);
}

/* Plain HTTP (for a reverse proxy on loopback) goes through the same layer without TLS. The
 * harness speaks HTTPS only, so this server is started here. */
static void test_plain_http_on_loopback_answers_the_same_way(void **state)
{
    (void)state;
    char dir[400], conf[460], port_file[460], log[460];
    snprintf(dir, sizeof dir, "%s/plain", h_workdir());
    mkdir(dir, 0700);
    snprintf(conf, sizeof conf, "%s/portraitd.conf", dir);
    snprintf(port_file, sizeof port_file, "%s/port", dir);
    snprintf(log, sizeof log, "%s/portraitd.log", dir);
    FILE *f = fopen(conf, "w");
    assert_non_null(f);
    fprintf(f,
            "[server]\nlisten = 127.0.0.1:0\nport_file = %s\nplain_http = true\n"
            "[db]\nsocket = %s\n[log]\nlevel = warn\n[storage]\ndir = %s\n"
            "[crypto]\ndata_key = "
            "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n",
            port_file, g_db.sock, dir);
    fclose(f);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (!freopen(log, "a", stderr))
            _exit(127);
        setenv("PORTRAITD_DB_PASSWORD", g_db.password, 1);
        execl(PC_BINARY, "portraitd", "-c", conf, "serve", (char *)NULL);
        _exit(127);
    }
    char text[32] = "";
    for (int i = 0; i < 300 && !text[0]; i++) { /* written by rename once listening */
        if (access(port_file, R_OK) == 0)
            h_read_text(port_file, text, sizeof text);
        else
            h_msleep(100);
    }
    int port = (int)strtol(text, NULL, 10);
    assert_true(port > 0);
    struct rt_conn c;
    assert_int_equal(rt_open_tcp(&c, port), 0);
    assert_int_equal(rt_send_str(&c, "GET /healthz HTTP/1.1\r\n\r\nGET /nowhere HTTP/1.1\r\n\r\n"
                                     "POST /api/v1/admin/login HTTP/1.1\r\n"
                                     "Content-Length: 999999\r\n\r\n"),
                     0);
    struct rt_resp r;
    assert_int_equal(rt_read_response(&c, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"status\":\"ok\"}");
    rt_resp_free(&r);
    assert_int_equal(rt_read_response(&c, &r), 0);
    expect_api_error(&r, 404, "NOT_FOUND");
    rt_resp_free(&r);
    assert_int_equal(rt_read_response(&c, &r), 0);
    expect_api_error(&r, 413, "PAYLOAD_TOO_LARGE");
    rt_resp_free(&r);
    rt_close(&c);
    kill(pid, SIGTERM);
    int st = 0;
    waitpid(pid, &st, 0);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
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
        cmocka_unit_test(test_a_small_answer_is_one_tls_record),
        cmocka_unit_test(test_pipelined_requests_are_answered_in_order),
        cmocka_unit_test(test_dribbled_headers_are_cut_at_the_header_timeout),
        cmocka_unit_test(test_an_idle_connection_gets_a_full_header_timeout_for_its_next_request),
        cmocka_unit_test(test_a_body_dribbled_past_the_body_timeout_is_cut),
        cmocka_unit_test(test_a_declared_json_body_over_the_limit_is_refused_before_it_is_sent),
        cmocka_unit_test(test_an_upload_over_its_routes_own_cap_is_refused_before_it_is_sent),
        cmocka_unit_test(test_expect_100_continue_gets_continue_or_the_refusal),
        cmocka_unit_test(test_a_chunked_body_over_the_limit_is_413_in_api_shape),
        cmocka_unit_test(test_headers_over_the_cap_are_431_in_api_shape),
        cmocka_unit_test(test_a_malformed_request_is_400_in_api_shape),
        cmocka_unit_test(test_connections_per_address_are_capped_but_trusted_proxies_are_not),
        cmocka_unit_test(test_memory_is_given_back_after_many_slow_connections_close),
        cmocka_unit_test(test_plain_http_on_loopback_answers_the_same_way),
        cmocka_unit_test(test_server_exits_0_on_sigterm),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
