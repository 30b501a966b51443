/* bench/outbox_bench.c — outbox delivery throughput through the real stack (private MariaDB,
 * the sandbox's SMS gateway over TLS, portraitd's outbox worker):
 *   N rejection notices are queued at once (one INSERT … SELECT, as a burst of reviews
 *   would), then the time until every row is `done` is measured, first with one server
 *   instance, then (a fresh batch) with two instances draining the same outbox.
 * Reports messages per second and how the claims split between the instances.
 * Bounded (fixed count), loopback only. Not a test: no assertions on timing.
 * Usage: outbox_bench [messages=2000] */
#include "../tests/integration/harness.h"

#include <signal.h>
#include <time.h>

static struct h_db g_db;
static struct h_sandbox g_sb;
static struct h_srv g_a, g_b;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Queues n notices for batch tag and returns the seconds until all are delivered. */
static double drain(const char *tag, int n)
{
    h_db_int(&g_db,
             "INSERT INTO users (openid, phone) SELECT CONCAT('o_%s_', seq), "
             "CONCAT('139', LPAD(seq, 8, '0')) FROM seq_1_to_%d",
             tag, n);
    h_db_int(&g_db,
             "INSERT INTO orders (order_no, task_id, user_id, school_id, grad_year, student_no, "
             "student_name, status, amount_fen, paid_at) SELECT CONCAT('P%s', LPAD(u.id, 10, "
             "'0')), t.id, u.id, t.school_id, 2024, CONCAT('S', u.id), '同学', 'rejected', "
             "2500, UTC_TIMESTAMP(3) FROM users u JOIN tasks t WHERE u.openid LIKE 'o_%s_%%'",
             tag, tag);
    double t0 = now_s();
    h_db_int(&g_db,
             "INSERT INTO outbox (kind, dedupe_key, payload) SELECT 'student.notice', "
             "CONCAT('b:', order_no), JSON_OBJECT('event', 'rejected', 'order_no', "
             "CONVERT(order_no USING utf8mb4), 'reason', '背景不符合要求', 'editable_until_db', "
             "DATE_FORMAT(UTC_TIMESTAMP(3) + INTERVAL 7 DAY, '%%Y-%%m-%%d %%H:%%i:%%s.000')) "
             "FROM orders WHERE order_no LIKE 'P%s%%'",
             tag);
    char like[32];
    snprintf(like, sizeof like, "b:P%s%%", tag);
    while (h_db_int(&g_db,
                    "SELECT COUNT(*) FROM outbox WHERE dedupe_key LIKE '%s' AND "
                    "state='done'",
                    like) < n) {
        struct timespec ts = {0, 20000000};
        nanosleep(&ts, NULL);
        if (now_s() - t0 > 600)
            fail_msg("not drained in 600 s");
    }
    double s = now_s() - t0;
    printf("   %d messages by SMS in %.2f s: %.0f messages/s; claimed by %lld instance(s), "
           "largest share %lld\n",
           n, s, n / s,
           h_db_int(&g_db,
                    "SELECT COUNT(DISTINCT claimed_by) FROM outbox WHERE dedupe_key LIKE "
                    "'%s'",
                    like),
           h_db_int(&g_db,
                    "SELECT MAX(c) FROM (SELECT COUNT(*) c FROM outbox WHERE dedupe_key "
                    "LIKE '%s' GROUP BY claimed_by) x",
                    like));
    return s;
}

static int g_n = 2000;

static void bench(void **state)
{
    (void)state;
    char wx[600], conf[3000];
    h_db_start(&g_db);
    h_sandbox_start(&g_sb, "--sms-key benchkey --log-level warn");
    snprintf(conf, sizeof conf,
             "[server]\nthreads = 2\nworkers = 4\n[log]\nlevel = warn\n"
             "[sms]\napi_base = %s\napi_key = benchkey\nca_file = %s/tls/dev-ca.pem\n"
             "[notify]\ninterval_ms = 50\nbatch = 50\ntemplate_rejected = TPL_R\n%s",
             g_sb.base, h_workdir(), h_sandbox_conf(&g_sb, wx, sizeof wx));
    h_srv_start(&g_a, &g_db, conf, 0);
    h_db_int(&g_db, "INSERT INTO schools (code, name) VALUES ('10402', 'bench')");
    h_db_int(&g_db, "INSERT INTO tasks (school_id, name, collection_type, feature_code, "
                    "feature_code_norm, opens_at, closes_at, price_fen, grad_year) SELECT id, "
                    "'毕业生图像采集', 'centralized', 'benchtask', 'benchtask', UTC_TIMESTAMP() - "
                    "INTERVAL 1 DAY, UTC_TIMESTAMP() + INTERVAL 1 DAY, 2500, 2024 FROM schools");
    printf("C. outbox delivery (rejections by SMS through the sandbox gateway, TLS)\n");
    printf("   one instance:\n");
    drain("one", g_n);
    h_srv_start(&g_b, &g_db, conf, 1);
    printf("   two instances:\n");
    drain("two", g_n);
    h_srv_stop(&g_b, SIGTERM);
    h_srv_stop(&g_a, SIGTERM);
    h_sandbox_stop(&g_sb);
    h_db_destroy(&g_db);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        g_n = (int)strtol(argv[1], NULL, 10);
    const struct CMUnitTest t[] = {cmocka_unit_test(bench)};
    return cmocka_run_group_tests(t, NULL, NULL);
}
