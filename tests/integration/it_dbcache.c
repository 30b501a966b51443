/* it_dbcache.c — what each instance keeps in memory never outlives the database: a student
 * logout (or any revocation) on one instance is honoured by every instance within the
 * documented bound (2 × auth.session_poll_ms, users/sessions.h), and a cached order list is
 * never answered once any change to it is committed (orders/listing.h). Two real portraitd
 * instances on one MariaDB, the sandbox for WeChat logins. */
#include "harness.h"

#include <signal.h>

#define POLL_MS 200
/* The bound is 2 × POLL_MS; a loaded test machine may stall a poller thread longer, after
 * which the cache is not trusted at all: either way the token must be refused by then. */
#define BOUND_WAIT_MS (2 * POLL_MS + 1500)

static struct h_db g_db;
static struct h_sandbox g_sb;
static struct h_srv g_a, g_b;

static int setup(void **state)
{
    (void)state;
    char conf[1024], wx[512];
    h_db_start(&g_db);
    h_sandbox_start(&g_sb, NULL);
    snprintf(conf, sizeof conf, "%s\n[auth]\nsession_poll_ms = %d\n",
             h_sandbox_conf(&g_sb, wx, sizeof wx), POLL_MS);
    h_srv_start(&g_a, &g_db, conf, 0);
    h_srv_start(&g_b, &g_db, conf, 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (g_b.pid)
        h_srv_stop(&g_b, SIGTERM);
    return h_stack_down(&g_a, &g_sb, &g_db);
}

static long get_orders(struct h_srv *srv, const char *token)
{
    struct h_resp r;
    h_get(srv, "/api/v1/orders", token, &r);
    long st = r.status;
    h_resp_free(&r);
    return st;
}

static void test_logout_on_one_instance_is_honoured_by_every_instance_within_the_bound(void **state)
{
    (void)state;
    char tok[128];
    struct h_resp r;
    h_student(&g_a, &g_sb, "o_cache_logout", NULL, tok, sizeof tok);
    for (int i = 0; i < 3; i++) { /* both instances know (and keep) the session */
        assert_int_equal(get_orders(&g_a, tok), 200);
        assert_int_equal(get_orders(&g_b, tok), 200);
    }
    h_post_json(&g_a, "/api/v1/auth/logout", tok, "{}", &r);
    assert_true(r.status == 200 || r.status == 204);
    h_resp_free(&r);
    assert_int_equal(get_orders(&g_a, tok), 401); /* this instance: at once */
    h_msleep(BOUND_WAIT_MS);
    assert_int_equal(get_orders(&g_b, tok), 401); /* the other: within the bound */
    assert_int_equal(get_orders(&g_a, tok), 401);
}

static void test_a_revocation_written_elsewhere_reaches_every_cache(void **state)
{
    (void)state;
    char tok[128];
    long long uid = h_student(&g_a, &g_sb, "o_cache_revoked", NULL, tok, sizeof tok);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(get_orders(&g_a, tok), 200);
        assert_int_equal(get_orders(&g_b, tok), 200);
    }
    /* what a third instance's logout writes */
    assert_int_equal(h_db_try(&g_db,
                              "UPDATE user_sessions SET revoked_at = UTC_TIMESTAMP(3) "
                              "WHERE user_id = %lld",
                              uid),
                     0);
    h_msleep(BOUND_WAIT_MS);
    assert_int_equal(get_orders(&g_a, tok), 401);
    assert_int_equal(get_orders(&g_b, tok), 401);
}

/* The statuses of the student's list in order, "status,status,…" (into out). */
static void list_statuses(struct h_srv *srv, const char *token, const char *query, char *out,
                          size_t len, char *updated, size_t ulen)
{
    char path[128];
    struct h_resp r;
    snprintf(path, sizeof path, "/api/v1/orders%s", query);
    h_get(srv, path, token, &r);
    assert_int_equal(r.status, 200);
    cJSON *j = h_json(&r);
    cJSON *items = cJSON_GetObjectItem(j, "items"), *o;
    out[0] = '\0';
    if (updated)
        updated[0] = '\0';
    cJSON_ArrayForEach(o, items)
    {
        size_t n = strlen(out);
        snprintf(out + n, len - n, "%s%s", n ? "," : "",
                 cJSON_GetObjectItem(o, "status")->valuestring);
        if (updated && !updated[0])
            snprintf(updated, ulen, "%s", cJSON_GetObjectItem(o, "updated_at")->valuestring);
    }
    cJSON_Delete(j);
    h_resp_free(&r);
}

/* Both instances, and the uncached path (?limit=49 is never kept), say the same. */
static void assert_list(const char *token, const char *want)
{
    char got[256], upd_a[64], upd_b[64], upd_c[64];
    list_statuses(&g_a, token, "", got, sizeof got, upd_a, sizeof upd_a);
    assert_string_equal(got, want);
    list_statuses(&g_b, token, "", got, sizeof got, upd_b, sizeof upd_b);
    assert_string_equal(got, want);
    list_statuses(&g_a, token, "?limit=49", got, sizeof got, upd_c, sizeof upd_c);
    assert_string_equal(got, want);
    assert_string_equal(upd_a, upd_c);
    assert_string_equal(upd_b, upd_c);
}

/* An unpaid order PCACHE000000000<n> of the student uid, as another instance would commit it. */
static unsigned add_order(long long uid, int n)
{
    return h_db_try(&g_db,
                    "INSERT INTO orders (order_no, task_id, user_id, school_id, grad_year, "
                    "student_no, student_name, status, amount_fen) VALUES ('PCACHE000000000%d', "
                    "9001, %lld, 9001, 2026, '202690000%d', 'Cache Student', 'unpaid', 2500)",
                    n, uid, n);
}

static void test_a_kept_order_list_is_never_answered_after_a_committed_change(void **state)
{
    (void)state;
    char tok[128], other[128];
    long long uid = h_student(&g_a, &g_sb, "o_cache_orders", NULL, tok, sizeof tok);
    h_student(&g_a, &g_sb, "o_cache_orders_2", NULL, other, sizeof other);
    assert_int_equal(h_db_try(&g_db, "INSERT INTO schools (id, code, name) VALUES "
                                     "(9001, 'CACHE1', 'Cache School')"),
                     0);
    assert_int_equal(
        h_db_try(&g_db,
                 "INSERT INTO tasks (id, school_id, name, collection_type, feature_code, "
                 "feature_code_norm, opens_at, closes_at, price_fen, grad_year) VALUES (9001, "
                 "9001, 'cache task', 'centralized', 'cache01', 'cache01', '2025-01-01', "
                 "'2036-01-01', 2500, 2026)"),
        0);
    assert_list(tok, "");
    assert_int_equal(add_order(uid, 1), 0);
    for (int i = 0; i < 3; i++) /* read, then kept and answered from memory */
        assert_list(tok, "unpaid");
    /* a status change as another instance commits it */
    assert_int_equal(h_db_try(&g_db, "UPDATE orders SET status = 'pending_review', version = "
                                     "version + 1, updated_at = UTC_TIMESTAMP(3) WHERE "
                                     "order_no = 'PCACHE0000000001'"),
                     0);
    assert_list(tok, "pending_review");
    /* a change that moves only updated_at (a prepay id) shows in the Order's updated_at */
    char before[64], after[64], got[256];
    list_statuses(&g_a, tok, "", got, sizeof got, before, sizeof before);
    h_msleep(1100); /* updated_at is shown to the second */
    assert_int_equal(h_db_try(&g_db, "UPDATE orders SET prepay_id = 'wx_prepay_cache', "
                                     "updated_at = UTC_TIMESTAMP(3) WHERE order_no = "
                                     "'PCACHE0000000001'"),
                     0);
    list_statuses(&g_a, tok, "", got, sizeof got, after, sizeof after);
    assert_string_not_equal(before, after);
    assert_list(tok, "pending_review");
    /* a new order */
    assert_int_equal(add_order(uid, 2), 0);
    assert_list(tok, "unpaid,pending_review");
    /* another student's list is their own */
    assert_list(other, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            test_logout_on_one_instance_is_honoured_by_every_instance_within_the_bound),
        cmocka_unit_test(test_a_revocation_written_elsewhere_reaches_every_cache),
        cmocka_unit_test(test_a_kept_order_list_is_never_answered_after_a_committed_change),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
