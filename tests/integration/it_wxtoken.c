/* it_wxtoken.c — the shared access_token: two portraitd instances on one database and
 * one sandbox; exactly one lease holder fetches (stable_token, normal mode), both use it,
 * a rejected token is refreshed once and the call retried once, and the holder refreshes
 * ahead of expiry. The sandbox counts the fetches. */
#include "harness.h"

#include <signal.h>
#include <time.h>

static struct h_db g_db;
static struct h_sandbox g_sb;
static struct h_srv g_a, g_b;

static int setup(void **state)
{
    (void)state;
    char wx[512];
    h_db_start(&g_db);
    h_sandbox_start(&g_sb, NULL);
    h_sandbox_conf(&g_sb, wx, sizeof wx);
    h_srv_start(&g_a, &g_db, wx, 0);
    h_srv_start(&g_b, &g_db, wx, 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (g_a.pid > 0)
        h_srv_stop(&g_a, SIGKILL);
    if (g_b.pid > 0)
        h_srv_stop(&g_b, SIGKILL);
    if (g_sb.pid > 0)
        h_sandbox_stop(&g_sb);
    h_db_destroy(&g_db);
    return 0;
}

static int count_requests(struct h_sandbox *sb, const char *endpoint, const char *needle)
{
    char path[128];
    snprintf(path, sizeof path, "/__sandbox/requests?endpoint=%s", endpoint);
    cJSON *j = h_sb_json(sb, "GET", path, NULL);
    cJSON *list = cJSON_GetObjectItem(j, "requests");
    int n = 0;
    for (int i = 0; i < cJSON_GetArraySize(list); i++) {
        const cJSON *b = cJSON_GetObjectItem(cJSON_GetArrayItem(list, i), "body");
        if (!needle || (cJSON_IsString(b) && strstr(b->valuestring, needle)))
            n++;
    }
    cJSON_Delete(j);
    return n;
}

/* Logs a fresh student in on srv and binds a phone number; returns the HTTP status. */
static long bind_phone(struct h_srv *srv, const char *openid)
{
    char body[256], tok[64];
    struct h_resp r;
    h_student(srv, &g_sb, openid, NULL, tok, sizeof tok);
    snprintf(body, sizeof body, "{\"openid\":\"%s\",\"phone\":\"13900001111\"}", openid);
    cJSON *pc = h_sb_json(&g_sb, "POST", "/__sandbox/phone-code", body);
    snprintf(body, sizeof body, "{\"code\":\"%s\"}", cJSON_GetObjectItem(pc, "code")->valuestring);
    cJSON_Delete(pc);
    h_post_json(srv, "/api/v1/me/phone", tok, body, &r);
    long status = r.status;
    if (status != 200 && status != 503)
        fail_msg("bind phone: %ld %s", r.status, r.body);
    h_resp_free(&r);
    return status;
}

static void test_one_instance_fetches_the_token_and_both_use_it(void **state)
{
    (void)state;
    assert_int_equal(bind_phone(&g_a, "o_tok_a"), 200);
    assert_int_equal(bind_phone(&g_b, "o_tok_b"), 200);
    h_msleep(2500); /* several refresher ticks on both instances */
    assert_int_equal(bind_phone(&g_b, "o_tok_b2"), 200);
    assert_int_equal(count_requests(&g_sb, "stable_token", NULL), 1);
    assert_int_equal(count_requests(&g_sb, "stable_token", "\"force_refresh\":true"), 0);
    assert_int_equal(count_requests(&g_sb, "token", NULL), 0);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM leases WHERE name='wx_access_token'"),
                     1);
    assert_int_equal(h_db_int(&g_db, "SELECT version FROM wx_access_tokens"), 1);
    /* The token is sealed at rest: the stored bytes are not the token text. */
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM wx_access_tokens "
                                     "WHERE token_enc LIKE 'Ab%%' OR ASCII(token_enc) <> 1"),
                     0);
}

static void test_a_rejected_token_is_refreshed_once_and_the_call_retried_once(void **state)
{
    (void)state;
    int fetches = count_requests(&g_sb, "stable_token", NULL);
    int calls = count_requests(&g_sb, "getuserphonenumber", NULL);
    cJSON_Delete(h_sb_json(&g_sb, "POST", "/__sandbox/faults",
                           "{\"endpoint\":\"getuserphonenumber\",\"errcode\":40001,\"count\":1}"));
    assert_int_equal(bind_phone(&g_b, "o_tok_retry"), 200);
    assert_int_equal(count_requests(&g_sb, "stable_token", NULL), fetches + 1);
    assert_int_equal(count_requests(&g_sb, "getuserphonenumber", NULL), calls + 2);
    assert_int_equal(count_requests(&g_sb, "stable_token", "\"force_refresh\":true"), 0);
}

static void test_a_token_rejected_twice_gives_503_after_one_refresh(void **state)
{
    (void)state;
    int fetches = count_requests(&g_sb, "stable_token", NULL);
    int calls = count_requests(&g_sb, "getuserphonenumber", NULL);
    cJSON_Delete(h_sb_json(&g_sb, "POST", "/__sandbox/faults",
                           "{\"endpoint\":\"getuserphonenumber\",\"errcode\":42001,\"count\":2}"));
    assert_int_equal(bind_phone(&g_a, "o_tok_twice"), 503);
    assert_int_equal(count_requests(&g_sb, "stable_token", NULL), fetches + 1);
    assert_int_equal(count_requests(&g_sb, "getuserphonenumber", NULL), calls + 2);
}

static void test_the_holder_refreshes_ahead_of_expiry(void **state)
{
    (void)state;
    /* A sandbox whose tokens live 302 s: inside the 300 s refresh margin after ~2 s. */
    struct h_sandbox sb;
    struct h_srv s;
    char wx[512];
    h_sandbox_start(&sb, "--token-ttl-s 303");
    h_sandbox_conf(&sb, wx, sizeof wx);
    /* Stop the two instances first: a duty still running while one drains could otherwise take
     * the lease again and store a long-lived token after the rows are cleared. */
    h_srv_stop(&g_a, SIGTERM);
    h_srv_stop(&g_b, SIGTERM);
    h_db_int(&g_db, "DELETE FROM wx_access_tokens");
    h_db_int(&g_db, "DELETE FROM leases");
    h_srv_start(&s, &g_db, wx, 1);
    int n = 0;
    for (int i = 0; i < 300 && n < 2; i++) { /* up to 30 s: sanitizer builds are slow */
        h_msleep(100);
        n = count_requests(&sb, "stable_token", NULL);
    }
    assert_true(n >= 2);
    /* The second answer is stored a moment after the sandbox saw the request. */
    long long v = 0;
    for (int i = 0; i < 100 && v < 2; i++) {
        v = h_db_int(&g_db, "SELECT version FROM wx_access_tokens");
        if (v < 2)
            h_msleep(100);
    }
    assert_true(v >= 2);
    assert_int_equal(h_srv_stop(&s, SIGTERM), 0);
    assert_int_equal(h_sandbox_stop(&sb), 0);
}

static void test_sandbox_exits_0(void **state)
{
    (void)state;
    assert_int_equal(h_sandbox_stop(&g_sb), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_instance_fetches_the_token_and_both_use_it),
        cmocka_unit_test(test_a_rejected_token_is_refreshed_once_and_the_call_retried_once),
        cmocka_unit_test(test_a_token_rejected_twice_gives_503_after_one_refresh),
        cmocka_unit_test(test_the_holder_refreshes_ahead_of_expiry),
        cmocka_unit_test(test_sandbox_exits_0),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
