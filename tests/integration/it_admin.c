/* it_admin.c — staff accounts: login (right, wrong, rate-limited), tokens (hashed at rest,
 * expiry, logout), the role guard, and the audit rows of every login. */
#include "harness.h"

#include <openssl/evp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct h_db g_db;
static struct h_srv g_srv;

static int setup(void **state)
{
    (void)state;
    h_db_start(&g_db);
    h_srv_start(&g_srv, &g_db,
                "[server]\ntrusted_proxies = 127.0.0.1\n"
                "[auth]\nlogin_user_max_failures = 5\nlogin_addr_max_failures = 8\n",
                0);
    h_user_add(&g_srv, "alice", "admin", "alice-password-1");
    h_user_add(&g_srv, "rita", "reviewer", "rita-password-1");
    h_user_add(&g_srv, "fred", "finance", "fred-password-1");
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

/* Login from a given client address (X-Forwarded-For, trusted in this config). */
static void login_from(const char *ip, const char *user, const char *pw, struct h_resp *r)
{
    char body[256], xff[64];
    snprintf(body, sizeof body, "{\"username\":\"%s\",\"password\":\"%s\"}", user, pw);
    snprintf(xff, sizeof xff, "X-Forwarded-For: %s", ip);
    const char *hs[] = {"Content-Type: application/json", xff, NULL};
    h_http(&g_srv, "POST", "/api/v1/admin/login", hs, body, strlen(body), r);
}

static void sha256_hex(const char *s, char out[65])
{
    unsigned char md[32];
    unsigned int n = 0;
    EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void test_login_with_right_password_issues_hashed_expiring_token(void **state)
{
    (void)state;
    struct h_resp r;
    login_from("198.51.100.1", "alice", "alice-password-1", &r);
    assert_int_equal(r.status, 200);
    cJSON *j = h_json(&r);
    const char *tok = cJSON_GetObjectItem(j, "token")->valuestring;
    const char *exp = cJSON_GetObjectItem(j, "expires_at")->valuestring;
    assert_int_equal(strlen(tok), 43);
    assert_int_equal(strlen(exp), 25);
    assert_string_equal(exp + 19, "+08:00");
    cJSON *roles = cJSON_GetObjectItem(j, "roles");
    assert_int_equal(cJSON_GetArraySize(roles), 1);
    assert_string_equal(cJSON_GetArrayItem(roles, 0)->valuestring, "admin");
    /* Only the SHA-256 of the token is stored. */
    char hex[65];
    sha256_hex(tok, hex);
    assert_int_equal(
        h_db_int(&g_db, "SELECT COUNT(*) FROM staff_sessions WHERE token_hash='%s'", hex), 1);
    assert_int_equal(
        h_db_int(&g_db, "SELECT COUNT(*) FROM staff_sessions WHERE token_hash='%s'", tok), 0);
    /* The token works. */
    struct h_resp me;
    h_get(&g_srv, "/api/v1/admin/me", tok, &me);
    assert_int_equal(me.status, 200);
    cJSON *mj = h_json(&me);
    assert_string_equal(cJSON_GetObjectItem(mj, "username")->valuestring, "alice");
    cJSON_Delete(mj);
    h_resp_free(&me);
    /* The login is audited with address and request id. */
    char rid[80];
    h_header(&r, "X-Request-Id", rid, sizeof rid);
    assert_int_equal(h_db_int(&g_db,
                              "SELECT COUNT(*) FROM audit_log WHERE action='staff.login' AND "
                              "actor_name='alice' AND ip='198.51.100.1' AND request_id='%s' AND "
                              "JSON_VALUE(details,'$.result')='ok'",
                              rid),
                     1);
    cJSON_Delete(j);
    h_resp_free(&r);
}

static void test_wrong_password_and_unknown_user_are_the_same_401(void **state)
{
    (void)state;
    struct h_resp r;
    login_from("198.51.100.2", "fred", "not-his-password", &r);
    h_assert_error(&r, 401, "INVALID_CREDENTIALS");
    char body1[512];
    snprintf(body1, sizeof body1, "%s", r.body);
    h_resp_free(&r);
    login_from("198.51.100.2", "nobody", "whatever-password", &r);
    h_assert_error(&r, 401, "INVALID_CREDENTIALS");
    assert_string_equal(r.body, body1); /* no hint which one was wrong */
    h_resp_free(&r);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM audit_log WHERE action='staff.login' "
                                     "AND JSON_VALUE(details,'$.result')='bad_credentials' AND "
                                     "ip='198.51.100.2'"),
                     2);
}

static void test_wrong_passwords_from_elsewhere_never_lock_the_owner_out(void **state)
{
    (void)state;
    struct h_resp r;
    char ip[32];
    for (int i = 0; i < 5; i++) { /* five guesses, each from another address */
        snprintf(ip, sizeof ip, "192.0.2.%d", 10 + i);
        login_from(ip, "rita", "wrong-password", &r);
        h_assert_error(&r, 401, "INVALID_CREDENTIALS");
        h_resp_free(&r);
    }
    /* The owner, from her own address, is not locked out by them. */
    login_from("192.0.2.99", "rita", "rita-password-1", &r);
    assert_int_equal(r.status, 200);
    h_resp_free(&r);
    /* Five wrong passwords for the account from one address slow that address down, for that
     * account — even the right password is refused there while the limit holds... */
    for (int i = 0; i < 5; i++) {
        login_from("192.0.2.66", "RITA ", "wrong-password", &r); /* names compared normalised */
        h_assert_error(&r, 401, "INVALID_CREDENTIALS");
        h_resp_free(&r);
    }
    login_from("192.0.2.66", "rita", "rita-password-1", &r);
    h_assert_error(&r, 429, "RATE_LIMITED");
    char ra[16];
    assert_non_null(h_header(&r, "Retry-After", ra, sizeof ra));
    long secs = strtol(ra, NULL, 10);
    assert_true(secs >= 1 && secs <= 900);
    h_resp_free(&r);
    assert_true(h_db_int(&g_db, "SELECT COUNT(*) FROM audit_log WHERE action='staff.login' AND "
                                "JSON_VALUE(details,'$.result')='rate_limited'") >= 1);
    /* ...while the owner elsewhere, and other accounts from there, are unaffected. */
    login_from("192.0.2.99", "rita", "rita-password-1", &r);
    assert_int_equal(r.status, 200);
    h_resp_free(&r);
    login_from("192.0.2.66", "fred", "fred-password-1", &r);
    assert_int_equal(r.status, 200);
    h_resp_free(&r);
}

static void test_a_failed_login_never_stores_what_was_typed_as_a_username(void **state)
{
    (void)state;
    struct h_resp r;
    /* A password pasted into the username field. */
    login_from("198.51.100.77", "Pasted-Secret-Passw0rd", "x-password-long", &r);
    h_assert_error(&r, 401, "INVALID_CREDENTIALS");
    h_resp_free(&r);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM audit_log WHERE "
                                     "LOWER(CONCAT_WS(' ', actor_name, details, target_id)) LIKE "
                                     "'%%pasted-secret%%'"),
                     0);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM rate_limits WHERE LOWER(k) LIKE "
                                     "'%%pasted-secret%%'"),
                     0);
    /* The attempt is audited all the same: anonymous, with a keyed digest of the name. */
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM audit_log WHERE action='staff.login' "
                                     "AND ip='198.51.100.77' AND actor_name IS NULL AND "
                                     "details LIKE '%%\"username_known\":false%%' AND "
                                     "JSON_VALUE(details,'$.username_key') LIKE 'h:%%'"),
                     1);
    /* A known account is named by its own username, whatever case was typed. */
    login_from("198.51.100.78", "FRED", "not-his-password", &r);
    h_assert_error(&r, 401, "INVALID_CREDENTIALS");
    h_resp_free(&r);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM audit_log WHERE action='staff.login' "
                                     "AND ip='198.51.100.78' AND actor_name='fred'"),
                     1);
}

static void test_a_new_password_from_the_command_line_ends_every_session(void **state)
{
    (void)state;
    h_user_add(&g_srv, "paula", "finance", "paula-password-1");
    char t1[64], t2[64], out[256];
    h_login(&g_srv, "paula", "paula-password-1", t1, sizeof t1);
    h_login(&g_srv, "paula", "paula-password-1", t2, sizeof t2);
    assert_int_equal(
        h_srv_cli(&g_srv, "paula-password-2\n", out, sizeof out, "user passwd --username paula"),
        0);
    assert_non_null(strstr(out, "2 session(s) ended"));
    struct h_resp r;
    h_get(&g_srv, "/api/v1/admin/me", t1, &r);
    h_assert_error(&r, 401, "UNAUTHORIZED");
    h_resp_free(&r);
    h_get(&g_srv, "/api/v1/admin/me", t2, &r);
    h_assert_error(&r, 401, "UNAUTHORIZED");
    h_resp_free(&r);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM audit_log WHERE "
                                     "action='staff.password_set' AND "
                                     "JSON_VALUE(details,'$.sessions_revoked')=2"),
                     1);
    char t3[64];
    h_login(&g_srv, "paula", "paula-password-2", t3, sizeof t3); /* the new one works */
}

static void test_repeated_failures_from_an_address_are_rate_limited(void **state)
{
    (void)state;
    struct h_resp r;
    char user[32];
    for (int i = 0; i < 8; i++) { /* different usernames, one address */
        snprintf(user, sizeof user, "guess%d", i);
        login_from("203.0.113.50", user, "wrong-password", &r);
        h_assert_error(&r, 401, "INVALID_CREDENTIALS");
        h_resp_free(&r);
    }
    login_from("203.0.113.50", "alice", "alice-password-1", &r);
    h_assert_error(&r, 429, "RATE_LIMITED");
    h_resp_free(&r);
    login_from("203.0.113.51", "alice", "alice-password-1", &r);
    assert_int_equal(r.status, 200);
    h_resp_free(&r);
}

static void test_role_guard_allows_admin_and_refuses_other_roles(void **state)
{
    (void)state;
    char admin[128], fin[128];
    h_login(&g_srv, "alice", "alice-password-1", admin, sizeof admin);
    h_login(&g_srv, "fred", "fred-password-1", fin, sizeof fin);
    struct h_resp r;
    h_get(&g_srv, "/api/v1/admin/audit?limit=5", admin, &r);
    assert_int_equal(r.status, 200);
    cJSON *j = h_json(&r);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "items")), 5);
    const cJSON *cur = cJSON_GetObjectItem(j, "next_cursor");
    assert_true(cJSON_IsString(cur));
    char path[128];
    snprintf(path, sizeof path, "/api/v1/admin/audit?limit=5&cursor=%s", cur->valuestring);
    cJSON_Delete(j);
    h_resp_free(&r);
    h_get(&g_srv, path, admin, &r); /* the next page continues below the first */
    assert_int_equal(r.status, 200);
    h_resp_free(&r);
    h_get(&g_srv, "/api/v1/admin/audit?cursor=bogus!", admin, &r);
    h_assert_error(&r, 400, "INVALID_INPUT");
    h_resp_free(&r);

    h_get(&g_srv, "/api/v1/admin/audit", fin, &r);
    h_assert_error(&r, 403, "FORBIDDEN");
    h_resp_free(&r);
    h_get(&g_srv, "/api/v1/admin/me", fin, &r); /* any staff role may read itself */
    assert_int_equal(r.status, 200);
    h_resp_free(&r);
}

static void test_missing_or_forged_token_is_401(void **state)
{
    (void)state;
    struct h_resp r;
    h_get(&g_srv, "/api/v1/admin/me", NULL, &r);
    h_assert_error(&r, 401, "UNAUTHORIZED");
    char www[64];
    assert_non_null(h_header(&r, "WWW-Authenticate", www, sizeof www));
    h_resp_free(&r);
    h_get(&g_srv, "/api/v1/admin/me", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &r);
    h_assert_error(&r, 401, "UNAUTHORIZED");
    h_resp_free(&r);
}

static void test_logout_revokes_the_token(void **state)
{
    (void)state;
    char tok[128];
    h_login(&g_srv, "alice", "alice-password-1", tok, sizeof tok);
    struct h_resp r;
    h_post_json(&g_srv, "/api/v1/admin/logout", tok, "{}", &r);
    assert_int_equal(r.status, 200);
    h_resp_free(&r);
    h_get(&g_srv, "/api/v1/admin/me", tok, &r);
    h_assert_error(&r, 401, "UNAUTHORIZED");
    h_resp_free(&r);
    assert_true(h_db_int(&g_db, "SELECT COUNT(*) FROM audit_log WHERE action='staff.logout'") >= 1);
}

static void test_expired_token_is_401_token_expired(void **state)
{
    (void)state;
    /* A second instance on the same database with one-second tokens. */
    struct h_srv short_ttl;
    h_srv_start(&short_ttl, &g_db, "[auth]\nstaff_token_ttl_s = 1\n", 0);
    char tok[128];
    h_login(&short_ttl, "fred", "fred-password-1", tok, sizeof tok);
    struct timespec ts = {2, 200000000};
    nanosleep(&ts, NULL);
    struct h_resp r;
    h_get(&short_ttl, "/api/v1/admin/me", tok, &r);
    h_assert_error(&r, 401, "TOKEN_EXPIRED");
    h_resp_free(&r);
    h_get(&g_srv, "/api/v1/admin/me", tok, &r); /* expired for every instance */
    h_assert_error(&r, 401, "TOKEN_EXPIRED");
    h_resp_free(&r);
    assert_int_equal(h_srv_stop(&short_ttl, SIGTERM), 0);
}

static void test_no_password_or_token_reaches_the_log(void **state)
{
    (void)state;
    char tok[128];
    h_login(&g_srv, "alice", "alice-password-1", tok, sizeof tok);
    struct h_resp r;
    h_get(&g_srv, "/api/v1/admin/me", tok, &r);
    h_resp_free(&r);
    FILE *f = fopen(g_srv.log, "r");
    assert_non_null(f);
    char line[8192];
    long lines = 0;
    while (fgets(line, sizeof line, f)) {
        lines++;
        assert_null(strstr(line, "alice-password-1"));
        assert_null(strstr(line, "fred-password-1"));
        assert_null(strstr(line, tok));
        assert_null(strstr(line, g_db.password));
    }
    fclose(f);
    assert_true(lines > 10); /* the log does hold the request lines */
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
        cmocka_unit_test(test_login_with_right_password_issues_hashed_expiring_token),
        cmocka_unit_test(test_wrong_password_and_unknown_user_are_the_same_401),
        cmocka_unit_test(test_wrong_passwords_from_elsewhere_never_lock_the_owner_out),
        cmocka_unit_test(test_a_failed_login_never_stores_what_was_typed_as_a_username),
        cmocka_unit_test(test_a_new_password_from_the_command_line_ends_every_session),
        cmocka_unit_test(test_repeated_failures_from_an_address_are_rate_limited),
        cmocka_unit_test(test_role_guard_allows_admin_and_refuses_other_roles),
        cmocka_unit_test(test_missing_or_forged_token_is_401),
        cmocka_unit_test(test_logout_revokes_the_token),
        cmocka_unit_test(test_expired_token_is_401_token_expired),
        cmocka_unit_test(test_no_password_or_token_reaches_the_log),
        cmocka_unit_test(test_server_exits_0_on_sigterm),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
