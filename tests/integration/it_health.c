/* it_health.c — liveness, readiness, migrations and database outages, against the real
 * portraitd binary and a private MariaDB. Tests run in order and share one stack. */
#include "harness.h"

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
    /* Deliberately not migrated: the first tests check readiness before migration. */
    h_srv_start(&g_srv, &g_db, NULL, 1);
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

static void test_healthz_answers_ok_with_request_id(void **state)
{
    (void)state;
    struct h_resp r;
    h_get(&g_srv, "/healthz", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"status\":\"ok\"}");
    char ct[80], rid[80];
    assert_non_null(h_header(&r, "Content-Type", ct, sizeof ct));
    assert_non_null(strstr(ct, "application/json"));
    assert_non_null(h_header(&r, "X-Request-Id", rid, sizeof rid));
    assert_true(strlen(rid) >= 8);
    h_resp_free(&r);
}

static void test_request_id_is_echoed_only_when_well_formed(void **state)
{
    (void)state;
    struct h_resp r;
    char rid[100];
    const char *good[] = {"X-Request-Id: trace-42.abc", NULL};
    h_http(&g_srv, "GET", "/healthz", good, NULL, 0, &r);
    assert_string_equal(h_header(&r, "X-Request-Id", rid, sizeof rid), "trace-42.abc");
    h_resp_free(&r);
    const char *bad[] = {"X-Request-Id: <script>alert(1)</script>", NULL};
    h_http(&g_srv, "GET", "/healthz", bad, NULL, 0, &r);
    assert_non_null(h_header(&r, "X-Request-Id", rid, sizeof rid));
    assert_null(strchr(rid, '<'));
    h_resp_free(&r);
}

static void test_readyz_is_503_until_migrations_are_applied(void **state)
{
    (void)state;
    struct h_resp r;
    h_get(&g_srv, "/readyz", NULL, &r);
    h_assert_error(&r, 503, "NOT_READY");
    char ra[16];
    assert_non_null(h_header(&r, "Retry-After", ra, sizeof ra));
    h_resp_free(&r);
}

static void test_migrate_applies_schema_then_is_a_noop(void **state)
{
    (void)state;
    char out[256];
    assert_int_equal(h_srv_cli(&g_srv, NULL, out, sizeof out, "migrate"), 0);
    assert_non_null(strstr(out, "applied"));
    long long tables = h_db_int(&g_db, "SELECT COUNT(*) FROM information_schema.tables "
                                       "WHERE table_schema = 'portraitd'");
    long long applied = h_db_int(&g_db, "SELECT COUNT(*) FROM schema_migrations");
    assert_true(applied >= 1);
    assert_true(tables >= 19);
    assert_int_equal(h_srv_cli(&g_srv, NULL, out, sizeof out, "migrate"), 0);
    assert_non_null(strstr(out, "up to date"));
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM schema_migrations"), applied);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM information_schema.tables "
                                     "WHERE table_schema = 'portraitd'"),
                     tables);
}

#define INSERT_ORDER                                                                               \
    "INSERT INTO orders (order_no, task_id, user_id, school_id, student_no, student_name, "        \
    "status, "                                                                                     \
    "amount_fen) SELECT '%s', t.id, u.id, t.school_id, '2020146F101', 'x', '%s', 2500 FROM tasks " \
    "t, users u WHERE t.feature_code_norm = 'abc' AND u.openid = 'o_schema_test'"

static void test_schema_enforces_one_active_order_per_task_and_student(void **state)
{
    (void)state;
    assert_int_equal(h_db_try(&g_db, "INSERT INTO schools (code, name) VALUES ('99999', 'U')"), 0);
    assert_int_equal(
        h_db_try(&g_db,
                 "INSERT INTO tasks (school_id, name, collection_type, feature_code, "
                 "feature_code_norm, opens_at, closes_at, price_fen, grad_year) SELECT id, 't', "
                 "'centralized', 'ABC', 'abc', UTC_TIMESTAMP(), UTC_TIMESTAMP() + "
                 "INTERVAL 1 DAY, 2500, 2024 FROM schools WHERE code = '99999'"),
        0);
    assert_int_equal(h_db_try(&g_db, "INSERT INTO users (openid) VALUES ('o_schema_test')"), 0);
    assert_int_equal(h_db_try(&g_db, INSERT_ORDER, "P1", "closed"), 0);
    assert_int_equal(h_db_try(&g_db, INSERT_ORDER, "P2", "unpaid"), 0);
    /* A second active order for the same task and student is a duplicate key (1062). */
    assert_int_equal(h_db_try(&g_db, INSERT_ORDER, "P3", "awaiting_photo"), 1062);
    /* ...and so is a reused order number (out_trade_no). */
    assert_int_equal(h_db_try(&g_db, INSERT_ORDER, "P1", "closed"), 1062);
    /* A live task's feature code cannot be reused by another live task... */
    const char *task2 =
        "INSERT INTO tasks (school_id, name, collection_type, feature_code, "
        "feature_code_norm, opens_at, closes_at, price_fen, grad_year) SELECT id, 't2', "
        "'centralized', 'abc', 'abc', UTC_TIMESTAMP(), UTC_TIMESTAMP() + "
        "INTERVAL 1 DAY, 2500, 2024 FROM schools WHERE code = '99999'";
    assert_int_equal(h_db_try(&g_db, "%s", task2), 1062);
    /* ...but can once the first is archived. */
    assert_int_equal(h_db_try(&g_db, "UPDATE tasks SET archived_at = UTC_TIMESTAMP() "
                                     "WHERE feature_code_norm = 'abc'"),
                     0);
    assert_int_equal(h_db_try(&g_db, "%s", task2), 0);
    /* A notification id is recorded once. */
    const char *notif = "INSERT INTO pay_notifications (notify_id, event_type, result) "
                        "VALUES ('EV-1', 'TRANSACTION.SUCCESS', 'applied')";
    assert_int_equal(h_db_try(&g_db, "%s", notif), 0);
    assert_int_equal(h_db_try(&g_db, "%s", notif), 1062);
}

static void test_readyz_is_200_once_migrated(void **state)
{
    (void)state;
    struct h_resp r;
    h_get(&g_srv, "/readyz", NULL, &r);
    assert_int_equal(r.status, 200);
    cJSON *j = h_json(&r);
    assert_string_equal(cJSON_GetObjectItem(j, "status")->valuestring, "ready");
    assert_true(cJSON_GetObjectItem(j, "schema_version")->valueint >= 1);
    cJSON_Delete(j);
    h_resp_free(&r);
}

static void test_database_outage_gives_503_then_recovers(void **state)
{
    (void)state;
    h_user_add(&g_srv, "ops", "admin", "ops-password-123");
    h_db_stop(&g_db);

    struct h_resp r;
    h_get(&g_srv, "/healthz", NULL, &r);
    assert_int_equal(r.status, 200); /* the process is still alive */
    h_resp_free(&r);
    h_get(&g_srv, "/readyz", NULL, &r);
    h_assert_error(&r, 503, "NOT_READY");
    h_resp_free(&r);
    h_post_json(&g_srv, "/api/v1/admin/login", NULL,
                "{\"username\":\"ops\",\"password\":\"ops-password-123\"}", &r);
    h_assert_error(&r, 503, "SERVICE_UNAVAILABLE");
    char ra[16];
    assert_non_null(h_header(&r, "Retry-After", ra, sizeof ra));
    assert_true(strtol(ra, NULL, 10) >= 1);
    h_resp_free(&r);

    char out[256];
    assert_int_not_equal(h_srv_cli(&g_srv, NULL, out, sizeof out, "migrate"), 0);

    h_db_restart(&g_db);
    long status = 0;
    for (int i = 0; i < 100 && status != 200; i++) {
        h_get(&g_srv, "/readyz", NULL, &r);
        status = r.status;
        h_resp_free(&r);
        if (status != 200) {
            struct timespec ts = {0, 100000000};
            nanosleep(&ts, NULL);
        }
    }
    assert_int_equal(status, 200);
    /* Every worker reconnects: several logins in a row all succeed. */
    for (int i = 0; i < 6; i++) {
        h_post_json(&g_srv, "/api/v1/admin/login", NULL,
                    "{\"username\":\"ops\",\"password\":\"ops-password-123\"}", &r);
        assert_int_equal(r.status, 200);
        h_resp_free(&r);
    }
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
        cmocka_unit_test(test_healthz_answers_ok_with_request_id),
        cmocka_unit_test(test_request_id_is_echoed_only_when_well_formed),
        cmocka_unit_test(test_readyz_is_503_until_migrations_are_applied),
        cmocka_unit_test(test_migrate_applies_schema_then_is_a_noop),
        cmocka_unit_test(test_schema_enforces_one_active_order_per_task_and_student),
        cmocka_unit_test(test_readyz_is_200_once_migrated),
        cmocka_unit_test(test_database_outage_gives_503_then_recovers),
        cmocka_unit_test(test_server_exits_0_on_sigterm),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
