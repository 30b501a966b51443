/* it_retention.c — personal data disappears on schedule (retention/, docs/privacy.md), with
 * the clock moved by `portraitd purge --as-of`: nothing before its period, everything after it,
 * never a photo under review, never a file another row still needs; a dry run counts and
 * deletes nothing; every run leaves one audit row; the job runs under its lease and shows in
 * the metrics. */
#include "harness.h"

#include <signal.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static struct h_db g_db;
static struct h_srv g_srv;
static long long g_task, g_school;

static void write_file(const char *rel, long age_s)
{
    h_storage_file(&g_srv, rel, rel, age_s);
}

static bool exists(const char *rel)
{
    char path[700];
    snprintf(path, sizeof path, "%s/data/%s", g_srv.dir, rel);
    return access(path, F_OK) == 0;
}

/* UTC now + days as "YYYY-MM-DD HH:MM:SS". */
static const char *at(long days, char *out, size_t len)
{
    time_t t = time(NULL) + days * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, len, "%Y-%m-%d %H:%M:%S", &tm);
    return out;
}

/* `portraitd purge ARGS`: its counts (caller deletes). */
static cJSON *purge(const char *args)
{
    char cmd[256], out[2048] = "";
    snprintf(cmd, sizeof cmd, "purge %s", args);
    int rc = h_srv_cli(&g_srv, NULL, out, sizeof out, cmd);
    if (rc)
        h_srv_dump_log(&g_srv);
    assert_int_equal(rc, 0);
    cJSON *j = cJSON_Parse(out);
    assert_non_null(j);
    return j;
}

static long long num(const cJSON *j, const char *k)
{
    const cJSON *v = cJSON_GetObjectItem(j, k);
    assert_true(cJSON_IsNumber(v));
    return (long long)v->valuedouble;
}

static long long user(const char *openid, const char *phone, long bound_days_ago)
{
    h_db_int(&g_db,
             "INSERT INTO users (openid, real_name, phone, phone_bound_at, avatar_path) VALUES "
             "('%s', '同学', '%s', UTC_TIMESTAMP() - INTERVAL %ld DAY, 'avatars/%.2s/%s.jpg')",
             openid, phone, bound_days_ago, openid + 2, openid);
    return h_db_int(&g_db, "SELECT id FROM users WHERE openid='%s'", openid);
}

static long long order(const char *no, long long uid, const char *status)
{
    h_db_int(
        &g_db,
        "INSERT INTO orders (order_no, task_id, user_id, school_id, grad_year, student_no, "
        "student_name, status, amount_fen) VALUES ('%s', %lld, %lld, %lld, 2024, '%s', '同学', "
        "'%s', 2500)",
        no, g_task, uid, g_school, no + 1, status);
    return h_db_int(&g_db, "SELECT id FROM orders WHERE order_no='%s'", no);
}

static void photo(long long order_id, const char *name, int current, const char *original)
{
    char orig[128], std[128];
    snprintf(orig, sizeof orig, "photos/original/%s.jpg", original ? original : name);
    snprintf(std, sizeof std, "photos/standard/%s.jpg", name);
    h_db_int(&g_db,
             "INSERT INTO photos (order_id, user_id, student_no, original_path, normalized_path, "
             "original_sha256, normalized_bytes, phash, width, height, checks, is_current) SELECT "
             "id, user_id, student_no, '%s', '%s', REPEAT('c', 64), 10, 7, 480, 640, '[]', %d "
             "FROM orders WHERE id=%lld",
             orig, std, current, order_id);
    write_file(orig, 3 * 86400);
    write_file(std, 3 * 86400);
}

static int setup(void **state)
{
    (void)state;
    h_db_start(&g_db);
    /* The job runs once at start, dry, and not again during the test (the CLI moves the
     * clock); the lease it took is given back at its end. */
    h_srv_start(&g_srv, &g_db, "[retention]\ninterval_ms = 86400000\ndry_run = true\n", 0);
    h_db_int(&g_db, "INSERT INTO schools (code, name) VALUES ('10402', '演示大学')");
    g_school = h_db_int(&g_db, "SELECT id FROM schools WHERE code='10402'");
    h_db_int(&g_db,
             "INSERT INTO tasks (school_id, name, collection_type, feature_code, "
             "feature_code_norm, opens_at, closes_at, price_fen, grad_year) VALUES (%lld, '采集', "
             "'centralized', 'keep', 'keep', UTC_TIMESTAMP() - INTERVAL 40 DAY, UTC_TIMESTAMP() "
             "- INTERVAL 1 DAY, 2500, 2024)",
             g_school);
    g_task = h_db_int(&g_db, "SELECT id FROM tasks WHERE feature_code_norm='keep'");
    /* u1: orders all decided; u2: an order under review; u3: no order, phone bound 10 days. */
    long long u1 = user("o_ret_1", "13800000001", 35);
    long long u2 = user("o_ret_2", "13800000002", 35);
    long long u3 = user("o_ret_3", "13800000003", 10);
    (void)u3;
    long long o1 = order("P20240101RETN0001", u1, "approved");
    long long o2 = order("P20240101RETN0002", u2, "pending_review");
    long long o3 = order("P20240101RETN0003", u1, "rejected");
    long long o4 = order("P20240101RETN0004", u1, "approved");
    photo(o1, "p0", 0, NULL); /* replaced */
    photo(o1, "p1", 1, NULL); /* approved, current */
    photo(o2, "p2", 1, NULL); /* under review */
    photo(o3, "p3", 1, "p2"); /* rejected, same original bytes as p2 (content-addressed) */
    photo(o4, "p4", 1, NULL);
    h_db_int(&g_db,
             "INSERT INTO roster_entries (task_id, seq, college, name, student_no) VALUES "
             "(%lld, 1, '文学院', '同学', '20240101RETN0001')",
             g_task);
    h_db_int(&g_db,
             "INSERT INTO collection_candidates (public_id, user_id, task_id, code_sha256, "
             "code_raw, student_no, record, expires_at) VALUES (REPEAT('a', 32), %lld, %lld, "
             "REPEAT('0', 64), 'CC1.old', 'S1', '{}', UTC_TIMESTAMP() - INTERVAL 2 DAY), "
             "(REPEAT('b', 32), %lld, %lld, REPEAT('1', 64), 'CC1.new', 'S2', '{}', "
             "UTC_TIMESTAMP() + INTERVAL 1 HOUR)",
             u1, g_task, u1, g_task);
    h_db_int(&g_db, "INSERT INTO outbox (kind, payload, state, updated_at) VALUES "
                    "('order.paid', '{\"openid\":\"o_ret_1\"}', 'done', UTC_TIMESTAMP() - "
                    "INTERVAL 40 DAY), ('order.paid', '{}', 'pending', UTC_TIMESTAMP() - INTERVAL "
                    "40 DAY), ('order.paid', '{}', 'done', UTC_TIMESTAMP())");
    h_db_int(&g_db,
             "INSERT INTO user_sessions (user_id, token_hash, expires_at) VALUES (%lld, "
             "REPEAT('d', 64), UTC_TIMESTAMP() - INTERVAL 10 DAY), (%lld, REPEAT('e', 64), "
             "UTC_TIMESTAMP() + INTERVAL 7 DAY)",
             u1, u1);
    h_db_int(&g_db, "INSERT INTO sms_login_codes (phone, code_hmac, expires_at) VALUES "
                    "('13800000001', REPEAT('f', 64), UTC_TIMESTAMP() - INTERVAL 10 DAY)");
    h_db_int(&g_db, "INSERT INTO rate_limits (bucket, k, window_start, hits) VALUES "
                    "('login_addr', '203.0.113.9', UTC_TIMESTAMP() - INTERVAL 10 DAY, 3)");
    h_db_int(&g_db, "INSERT INTO audit_log (at, actor_type, action) VALUES (UTC_TIMESTAMP() - "
                    "INTERVAL 1200 DAY, 'system', 'ancient.row')");
    /* Files: old and young scratch, an interrupted write, orphans, a referenced avatar. */
    write_file("tmp/Ab12Cd", 2 * 86400);
    write_file("tmp/Ef34Gh", 60);
    write_file("photos/original/xx/dead.jpg.tmp-a1b2c3", 2 * 86400);
    write_file("photos/standard/yy/orphan.jpg", 2 * 86400);
    write_file("photos/standard/yy/young.jpg", 60);
    write_file("avatars/re/o_ret_1.jpg", 5 * 86400);
    write_file("avatars/zz/replaced-avatar.jpg", 5 * 86400);
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

static long long rows_left(void)
{
    return h_db_int(&g_db, "SELECT (SELECT COUNT(*) FROM collection_candidates) + (SELECT COUNT(*) "
                           "FROM outbox) + (SELECT COUNT(*) FROM user_sessions) + (SELECT "
                           "COUNT(*) FROM sms_login_codes) + (SELECT COUNT(*) FROM rate_limits) + "
                           "(SELECT COUNT(*) FROM users WHERE phone IS NOT NULL) + (SELECT "
                           "COUNT(*) FROM roster_entries)");
}

static void test_the_job_runs_dry_under_its_lease_and_shows_in_the_metrics(void **state)
{
    (void)state;
    for (int i = 0; i < 100 && !h_db_int(&g_db, "SELECT COUNT(*) FROM audit_log WHERE "
                                                "action='retention.dry_run'");
         i++)
        h_msleep(100);
    assert_true(h_db_int(&g_db,
                         "SELECT COUNT(*) FROM audit_log WHERE action='retention.dry_run' "
                         "AND actor_type='system' AND details LIKE '%%\"instance\":\"%%:%%'") >= 1);
    struct h_resp r;
    h_get(&g_srv, "/metrics", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "portraitd_retention_runs_total{mode=\"dry_run\"} 1"));
    assert_non_null(strstr(r.body, "portraitd_retention_dry_run_found{what=\"originals\"}"));
    h_resp_free(&r);
    /* The lease is given back at the end of the run: the command line may run now. */
    long long held = 1;
    for (int i = 0; i < 100 && held; i++, h_msleep(50))
        held = h_db_int(&g_db, "SELECT COUNT(*) FROM leases WHERE name='retention' AND "
                               "expires_at > UTC_TIMESTAMP(3)");
    assert_int_equal(held, 0);
}

static void test_a_dry_run_counts_and_deletes_nothing(void **state)
{
    (void)state;
    long long before = rows_left();
    cJSON *c = purge("--dry-run");
    assert_int_equal(num(c, "candidates"), 1);
    assert_int_equal(num(c, "outbox"), 1);
    assert_int_equal(num(c, "sessions"), 1);
    assert_int_equal(num(c, "sms_codes"), 1);
    assert_int_equal(num(c, "rate_limits"), 1);
    assert_int_equal(num(c, "audit"), 1);
    assert_int_equal(num(c, "tmp_files"), 2);
    assert_int_equal(num(c, "orphans"), 2);
    assert_int_equal(num(c, "originals"), 0); /* the task closed yesterday: not yet */
    assert_int_equal(num(c, "phones"), 0);
    cJSON_Delete(c);
    assert_int_equal(rows_left(), before);
    assert_true(exists("tmp/Ab12Cd"));
    assert_true(exists("photos/standard/yy/orphan.jpg"));
}

static void test_a_run_now_deletes_only_what_is_past_its_period(void **state)
{
    (void)state;
    cJSON *c = purge("");
    assert_int_equal(num(c, "candidates"), 1);
    assert_int_equal(num(c, "outbox"), 1);
    assert_int_equal(num(c, "orphans"), 2);
    assert_int_equal(num(c, "errors"), 0);
    cJSON_Delete(c);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM collection_candidates WHERE "
                                     "code_raw='CC1.old'"),
                     0);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM collection_candidates"), 1);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM outbox WHERE payload LIKE '%%o_ret%%'"),
                     0);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM outbox"), 2); /* pending, recent */
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM user_sessions"), 1);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM sms_login_codes"), 0);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM rate_limits"), 0);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM audit_log WHERE action='ancient.row'"),
                     0);
    assert_false(exists("tmp/Ab12Cd"));
    assert_true(exists("tmp/Ef34Gh")); /* young: perhaps an export still being written */
    assert_false(exists("photos/original/xx/dead.jpg.tmp-a1b2c3"));
    assert_false(exists("photos/standard/yy/orphan.jpg"));
    assert_true(exists("photos/standard/yy/young.jpg"));
    assert_true(exists("avatars/re/o_ret_1.jpg")); /* a student's avatar */
    assert_false(exists("avatars/zz/replaced-avatar.jpg"));
    assert_true(exists("photos/original/p1.jpg"));
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM users WHERE phone IS NOT NULL"), 3);
    /* One audit row per run, with its counts. */
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM audit_log WHERE "
                                     "action='retention.purge' AND "
                                     "JSON_VALUE(details,'$.candidates')=1 AND "
                                     "JSON_VALUE(details,'$.orphans')=2"),
                     1);
}

static void test_a_month_after_the_close_photos_and_phones_go_but_never_under_review(void **state)
{
    (void)state;
    char args[96], when[32];
    snprintf(args, sizeof args, "--as-of '%s'", at(31, when, sizeof when));
    cJSON *c = purge(args);
    assert_int_equal(num(c, "originals"), 4); /* p0, p1, p3, p4: not p2 (under review) */
    assert_int_equal(num(c, "standards"), 2); /* p0 replaced, p3 rejected */
    assert_int_equal(num(c, "phones"), 2);    /* u1 and u3; u2 has an order under review */
    assert_int_equal(num(c, "roster"), 0);    /* not archived */
    cJSON_Delete(c);
    assert_false(exists("photos/original/p0.jpg"));
    assert_false(exists("photos/original/p1.jpg"));
    assert_false(exists("photos/original/p4.jpg"));
    assert_true(exists("photos/original/p2.jpg")); /* p2's, still needed by p2 under review */
    assert_false(exists("photos/standard/p0.jpg"));
    assert_false(exists("photos/standard/p3.jpg"));
    assert_true(exists("photos/standard/p1.jpg")); /* approved: kept until archived */
    assert_true(exists("photos/standard/p4.jpg"));
    assert_true(exists("photos/standard/p2.jpg"));
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM photos WHERE original_purged_at IS NOT "
                                     "NULL"),
                     4);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM users WHERE phone IS NOT NULL"), 1);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM users WHERE openid='o_ret_2' AND "
                                     "phone='13800000002'"),
                     1);
    /* The order's photo is gone for the reviewer and the student alike: 404, not a crash. */
    /* Running again as of the same time finds nothing more. */
    c = purge(args);
    assert_int_equal(num(c, "originals") + num(c, "standards") + num(c, "phones"), 0);
    cJSON_Delete(c);
}

static void test_approved_photos_and_the_roster_stay_until_the_archive_plus_its_period(void **state)
{
    (void)state;
    char args[96], when[32];
    h_db_int(&g_db,
             "UPDATE tasks SET archived_at = UTC_TIMESTAMP(3) + INTERVAL 31 DAY WHERE "
             "id=%lld",
             g_task);
    snprintf(args, sizeof args, "--as-of '%s'", at(31 + 364, when, sizeof when));
    cJSON *c = purge(args);
    assert_int_equal(num(c, "standards") + num(c, "roster"), 0); /* a day before */
    cJSON_Delete(c);
    snprintf(args, sizeof args, "--as-of '%s'", at(31 + 366, when, sizeof when));
    c = purge(args);
    assert_int_equal(num(c, "standards"), 2); /* p1, p4 */
    assert_int_equal(num(c, "roster"), 1);
    cJSON_Delete(c);
    assert_false(exists("photos/standard/p1.jpg"));
    assert_false(exists("photos/standard/p4.jpg"));
    assert_true(exists("photos/standard/p2.jpg")); /* still under review: never */
    assert_true(exists("photos/original/p2.jpg"));
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM roster_entries"), 0);
}

static void test_the_server_exits_0(void **state)
{
    (void)state;
    assert_int_equal(h_srv_stop(&g_srv, SIGTERM), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_job_runs_dry_under_its_lease_and_shows_in_the_metrics),
        cmocka_unit_test(test_a_dry_run_counts_and_deletes_nothing),
        cmocka_unit_test(test_a_run_now_deletes_only_what_is_past_its_period),
        cmocka_unit_test(test_a_month_after_the_close_photos_and_phones_go_but_never_under_review),
        cmocka_unit_test(
            test_approved_photos_and_the_roster_stay_until_the_archive_plus_its_period),
        cmocka_unit_test(test_the_server_exits_0),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
