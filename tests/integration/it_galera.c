/* it_galera.c — a real two-node MariaDB Galera cluster on loopback (scripts/galera.sh). The
 * same payment notification is applied through both nodes at once: node 1 commits it while
 * our transaction on node 2 holds the same notification id uncommitted, so Galera aborts
 * ours with a real 1213 (certification conflict / brute-force abort) where one server would
 * have answered 1062. portraitd must run the transaction again and meet the unique key:
 * every payment applied once, and the conflict counted (portraitd_db_retries_total).
 * (it_db_retry proves the other exactly-once paths with injected errors.) */
#include "harness.h"
#include "cluster.h"

#include "base/buf.h"
#include "base/err.h"
#include "base/stats.h"
#include "config/config.h"
#include "payment/apply.h"
#include "store/db.h"
#include "store/migrate.h"

#include <sys/stat.h>
#include <unistd.h>

#define ROUNDS 5

static char g_dir[64];
static struct pc_config g_node[2];

static void node_config(struct pc_config *cfg, int port, const char *pw)
{
    char err[200], p[16];
    snprintf(p, sizeof p, "%d", port);
    pc_config_defaults(cfg);
    assert_int_equal(pc_config_set(cfg, "db", "host", "127.0.0.1", err, sizeof err), 0);
    assert_int_equal(pc_config_set(cfg, "db", "port", p, err, sizeof err), 0);
    assert_int_equal(pc_config_set(cfg, "db", "password", pw, err, sizeof err), 0);
    assert_int_equal(pc_config_set(cfg, "wechat", "appid", "wx8f3c2a1b0d4e5f60", err, sizeof err),
                     0);
    assert_int_equal(pc_config_set(cfg, "pay", "mchid", "1900000109", err, sizeof err), 0);
}

static void exec_sql(struct pc_db *db, const char *sql)
{
    if (pc_db_exec_text(db, sql, strlen(sql)))
        fail_msg("%s: error %u", sql, pc_db_errno(db));
}

static long long count(struct pc_db *db, const char *sql)
{
    struct pc_db_res *res = NULL;
    assert_int_equal(pc_db_query(db, sql, PC_DB_NOARGS, &res), 0);
    long long v = pc_db_res_i64(res, 0, 0);
    pc_db_res_free(res);
    return v;
}

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/pcgal-XXXXXX");
    if (!mkdtemp(g_dir))
        fail_msg("mkdtemp");
    chmod(g_dir, 0755); /* the nodes run as the mysql user */
    int base = 20000 + (int)(getpid() % 2000) * 10;
    char cmd[400], pwfile[200], pw[80];
    snprintf(cmd, sizeof cmd, "'%s/scripts/galera.sh' start '%s' %d", PC_SOURCE_DIR, g_dir, base);
    assert_int_equal(system(cmd), 0);
    snprintf(pwfile, sizeof pwfile, "%s/db.password", g_dir);
    h_read_text(pwfile, pw, sizeof pw);
    node_config(&g_node[0], base + 10, pw);
    node_config(&g_node[1], base + 20, pw);
    struct pc_db *db = pc_db_new(&g_node[0]);
    int applied = 0;
    assert_int_equal(pc_migrate_run(db, &applied), 0);
    exec_sql(db, "INSERT INTO schools (code, name) VALUES ('10402', 'school')");
    exec_sql(db, "INSERT INTO tasks (school_id, name, collection_type, feature_code, "
                 "feature_code_norm, opens_at, closes_at, price_fen, grad_year) SELECT id, 'task', "
                 "'centralized', 'galera', 'galera', UTC_TIMESTAMP() - INTERVAL 1 DAY, "
                 "UTC_TIMESTAMP() + INTERVAL 1 DAY, 2500, 2024 FROM schools");
    for (int i = 0; i < ROUNDS; i++) {
        char sql[700];
        snprintf(sql, sizeof sql, "INSERT INTO users (openid) VALUES ('o_P2024GALERA%05d')", i);
        exec_sql(db, sql);
        snprintf(sql, sizeof sql,
                 "INSERT INTO orders (order_no, task_id, user_id, school_id, grad_year, "
                 "student_no, student_name, status, amount_fen, pay_deadline) SELECT "
                 "'P2024GALERA%05d', t.id, u.id, t.school_id, 2024, '20240%05d', 'name', "
                 "'unpaid', 2500, UTC_TIMESTAMP() + INTERVAL 30 MINUTE FROM tasks t, users u "
                 "WHERE u.openid = 'o_P2024GALERA%05d'",
                 i, i, i);
        exec_sql(db, sql);
    }
    pc_db_free(db);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "'%s/scripts/galera.sh' stop '%s'; rm -rf '%s'", PC_SOURCE_DIR, g_dir,
             g_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "it_galera: could not stop %s\n", g_dir);
    pc_config_free(&g_node[0]);
    pc_config_free(&g_node[1]);
    return 0;
}

/* The other node's copy of the notification, committed through node 1 just before our
 * COMMIT on node 2. The hook injects nothing: Galera itself answers. */
struct race {
    struct pc_db *node1, *node2_reader;
    const char *no, *tx_id, *notify_id;
    int fired;
};

static unsigned node1_commits_first(struct pc_db *db, const char *sql, void *arg)
{
    (void)db;
    struct race *r = arg;
    if (strcmp(sql, "COMMIT") || r->fired++)
        return 0;
    cJSON *tx = h_transaction_json(r->no, r->tx_id);
    enum pc_apply_result res;
    int rc = pc_payment_apply(r->node1, &g_node[0], r->notify_id, "TRANSACTION.SUCCESS", tx,
                              "notify", &res);
    cJSON_Delete(tx);
    if (rc || res != PC_APPLY_APPLIED)
        fail_msg("node 1 did not apply %s: %d/%d", r->no, rc, (int)res);
    /* Node 2 applies node 1's write set asynchronously (aborting our transaction, which holds
     * the same key): wait until it has, so the retry's outcome does not depend on the
     * machine's load. */
    char q[200];
    snprintf(q, sizeof q, "SELECT COUNT(*) FROM pay_notifications WHERE notify_id = '%s'",
             r->notify_id);
    for (int i = 0; i < 200 && count(r->node2_reader, q) == 0; i++)
        h_msleep(50);
    return 0;
}

static long long transaction_retries(void)
{
    struct pc_buf b;
    pc_buf_init(&b, 1u << 20);
    pc_stats_render(&b);
    const char *k = "portraitd_db_retries_total{where=\"transaction\"} ";
    const char *p = b.p ? strstr(b.p, k) : NULL;
    long long v = p ? strtoll(p + strlen(k), NULL, 10) : 0;
    pc_buf_free(&b);
    return v;
}

static void test_a_notification_applied_through_both_nodes_at_once_is_applied_once(void **state)
{
    (void)state;
    struct pc_db *node1 = pc_db_new(&g_node[0]), *node2 = pc_db_new(&g_node[1]);
    struct pc_db *reader = pc_db_new(&g_node[1]);
    long long before = transaction_retries();
    for (int i = 0; i < ROUNDS; i++) {
        char no[32], tx_id[40], notify_id[40], sql[300];
        snprintf(no, sizeof no, "P2024GALERA%05d", i);
        snprintf(tx_id, sizeof tx_id, "42000000012024011900000%05d", i);
        snprintf(notify_id, sizeof notify_id, "EV-GALERA-REAL-%05d", i);
        struct race r = {node1, reader, no, tx_id, notify_id, 0};
        /* Node 2 has the order (written through node 1 in the set-up). */
        snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM orders WHERE order_no = '%s'", no);
        for (int t = 0; t < 200 && count(node2, sql) == 0; t++)
            h_msleep(50);
        pc_db_set_fault(node2, node1_commits_first, &r);
        cJSON *tx = h_transaction_json(no, tx_id);
        enum pc_apply_result res;
        int rc = pc_payment_apply(node2, &g_node[1], notify_id, "TRANSACTION.SUCCESS", tx, "notify",
                                  &res);
        cJSON_Delete(tx);
        pc_db_set_fault(node2, NULL, NULL);
        assert_int_equal(rc, 0);
        assert_int_equal(res, PC_APPLY_DUPLICATE); /* node 1's commit won; ours met its key */
        snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM payments WHERE out_trade_no = '%s'", no);
        assert_int_equal(count(node2, sql), 1);
        snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM pay_notifications WHERE notify_id = '%s'",
                 notify_id);
        assert_int_equal(count(node2, sql), 1);
        snprintf(sql, sizeof sql,
                 "SELECT COUNT(*) FROM outbox WHERE kind = 'order.paid' AND payload LIKE '%%%s%%'",
                 no);
        assert_int_equal(count(node1, sql), 1);
        snprintf(sql, sizeof sql,
                 "SELECT COUNT(*) FROM orders WHERE order_no = '%s' AND status = 'pending_review'",
                 no);
        assert_int_equal(count(node1, sql), 1);
    }
    /* Each round lost a real certification at least once (1213 from Galera, retried). */
    assert_true(transaction_retries() - before >= ROUNDS);
    pc_db_free(node1);
    pc_db_free(node2);
    pc_db_free(reader);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_notification_applied_through_both_nodes_at_once_is_applied_once),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
