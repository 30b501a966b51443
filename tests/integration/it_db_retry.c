/* it_db_retry.c — exactly once when another database node's commit wins. Under Galera a write
 * that conflicts with a commit made on another node fails with 1213 (deadlock) at the
 * statement or at COMMIT, where a single server would have waited and answered 1062. Here a
 * fault hook of store/db.c (pc_db_set_fault) plays the other node on a real MariaDB: at the
 * chosen statement it rolls our transaction back, commits the same change through a second
 * connection, and answers 1213. The paths must run again and then meet the unique key: one
 * notification, one payment, one order change, one audit row, one outbox message, one user.
 * The group commit of notifications (pc_payment_apply_many) runs its whole transaction again
 * too, as a group, and the one the other node took ends as the single path would end it. */
#include "harness.h"
#include "cluster.h"

#include "base/err.h"
#include "config/config.h"
#include "payment/apply.h"
#include "store/db.h"
#include "store/users.h"

#include <mysqld_error.h>

static struct h_db g_db;
static struct pc_config g_cfg;
static long long g_task, g_school;

static int setup(void **state)
{
    (void)state;
    h_db_with_task(&g_db, &g_cfg, "10402", "演示大学", "galera", &g_school, &g_task);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    pc_config_free(&g_cfg);
    h_db_destroy(&g_db);
    return 0;
}

/* An unpaid order of a new student (openid = "o_" + no). */
static void unpaid_order(const char *no)
{
    h_db_int(&g_db, "INSERT INTO users (openid) VALUES ('o_%s')", no);
    long long uid = h_db_int(&g_db, "SELECT id FROM users WHERE openid='o_%s'", no);
    h_db_int(&g_db,
             "INSERT INTO orders (order_no, task_id, user_id, school_id, grad_year, student_no, "
             "student_name, status, amount_fen, pay_deadline) VALUES ('%s', %lld, %lld, %lld, "
             "2024, '%s', '付款同学', 'unpaid', 2500, UTC_TIMESTAMP() + INTERVAL 30 MINUTE)",
             no, g_task, uid, g_school, no + 1);
}

/* The other node: what it commits when our statement `at` comes, and how often. */
struct other_node {
    const char *at;      /* statement prefix, or "COMMIT" */
    int times;           /* conflicts to produce (-1: forever) */
    int fired;           /* conflicts produced */
    const char *counted; /* statement prefix whose runs are counted (NULL: none) */
    int count;
    int (*commit)(struct other_node *o);
    const char *no, *tx_id, *notify_id, *openid;
    struct pc_db *db;
    int64_t user_id;
};

static unsigned conflict(struct pc_db *db, const char *sql, void *arg)
{
    struct other_node *o = arg;
    if (o->counted && !strncmp(sql, o->counted, strlen(o->counted)))
        o->count++;
    if (strncmp(sql, o->at, strlen(o->at)) || o->times == o->fired)
        return 0;
    pc_db_rollback(db); /* ours is the loser: its locks go before the winner writes */
    if (o->fired++ == 0 && o->commit)
        assert_int_equal(o->commit(o), 0);
    return ER_LOCK_DEADLOCK;
}

static int other_applies_the_payment(struct other_node *o)
{
    cJSON *tx = h_transaction_json(o->no, o->tx_id);
    enum pc_apply_result res;
    int rc =
        pc_payment_apply(o->db, &g_cfg, o->notify_id, "TRANSACTION.SUCCESS", tx, "notify", &res);
    cJSON_Delete(tx);
    assert_int_equal(res, PC_APPLY_APPLIED);
    return rc;
}

static void assert_applied_once(const char *no, const char *notify_id)
{
    assert_int_equal(
        h_db_int(&g_db, "SELECT COUNT(*) FROM pay_notifications WHERE notify_id='%s'", notify_id),
        1);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM payments WHERE out_trade_no='%s'", no),
                     1);
    assert_int_equal(h_db_int(&g_db,
                              "SELECT COUNT(*) FROM orders WHERE order_no='%s' AND "
                              "status='pending_review'",
                              no),
                     1);
    assert_int_equal(h_db_int(&g_db,
                              "SELECT COUNT(*) FROM audit_log WHERE action='order.paid' AND "
                              "target_id='%s'",
                              no),
                     1);
    assert_int_equal(h_db_int(&g_db,
                              "SELECT COUNT(*) FROM outbox WHERE kind='order.paid' AND payload "
                              "LIKE '%%%s%%'",
                              no),
                     1);
}

/* Our notification and the other node's copy of it race; ours fails at COMMIT. */
static void run_race(const char *no, const char *tx_id, const char *notify_id, const char *at)
{
    unpaid_order(no);
    struct pc_db *ours = pc_db_new(&g_cfg), *theirs = pc_db_new(&g_cfg);
    struct other_node o = {.at = at,
                           .times = 1,
                           .commit = other_applies_the_payment,
                           .no = no,
                           .tx_id = tx_id,
                           .notify_id = notify_id,
                           .db = theirs};
    pc_db_set_fault(ours, conflict, &o);
    cJSON *tx = h_transaction_json(no, tx_id);
    enum pc_apply_result res;
    assert_int_equal(
        pc_payment_apply(ours, &g_cfg, notify_id, "TRANSACTION.SUCCESS", tx, "notify", &res), 0);
    cJSON_Delete(tx);
    assert_int_equal(o.fired, 1);              /* the conflict happened */
    assert_int_equal(res, PC_APPLY_DUPLICATE); /* and the retry met the winner's key */
    assert_applied_once(no, notify_id);
    pc_db_free(ours);
    pc_db_free(theirs);
}

static void test_a_notification_whose_commit_loses_to_another_node_is_applied_once(void **state)
{
    (void)state;
    run_race("P20240119GAL00001", "4200000001202401190000000001", "EV-GALERA-0001", "COMMIT");
}

static void test_a_payment_insert_aborted_by_another_nodes_commit_is_applied_once(void **state)
{
    (void)state;
    run_race("P20240119GAL00002", "4200000001202401190000000002", "EV-GALERA-0002",
             "INSERT INTO payments");
}

static void test_the_same_money_under_another_notification_id_is_not_applied_twice(void **state)
{
    (void)state;
    /* The other node applied the transaction from its own notification (another id, as a
     * WeChat redelivery after a timeout can be); ours conflicts at the order row. */
    const char *no = "P20240119GAL00003", *txid = "4200000001202401190000000003";
    unpaid_order(no);
    struct pc_db *ours = pc_db_new(&g_cfg), *theirs = pc_db_new(&g_cfg);
    struct other_node o = {.at = "INSERT INTO payments",
                           .times = 1,
                           .commit = other_applies_the_payment,
                           .no = no,
                           .tx_id = txid,
                           .notify_id = "EV-GALERA-0003-THEIRS",
                           .db = theirs};
    pc_db_set_fault(ours, conflict, &o);
    cJSON *tx = h_transaction_json(no, txid);
    enum pc_apply_result res;
    assert_int_equal(pc_payment_apply(ours, &g_cfg, "EV-GALERA-0003-OURS", "TRANSACTION.SUCCESS",
                                      tx, "notify", &res),
                     0);
    cJSON_Delete(tx);
    assert_int_equal(o.fired, 1);
    assert_int_equal(res, PC_APPLY_DUPLICATE);
    assert_int_equal(
        h_db_int(&g_db, "SELECT COUNT(*) FROM payments WHERE transaction_id='%s'", txid), 1);
    assert_int_equal(h_db_int(&g_db,
                              "SELECT COUNT(*) FROM outbox WHERE kind='order.paid' AND "
                              "payload LIKE '%%%s%%'",
                              no),
                     1);
    pc_db_free(ours);
    pc_db_free(theirs);
}

static int other_creates_the_user(struct other_node *o)
{
    bool created = false;
    int rc = pc_store_user_upsert(o->db, o->openid, NULL, (const unsigned char *)"k", 1,
                                  &o->user_id, &created);
    assert_true(created);
    return rc;
}

static void test_an_upsert_outside_a_transaction_runs_again_and_meets_the_winner(void **state)
{
    (void)state;
    /* Two first logins of one student on two nodes: one user row, the same id for both. */
    struct pc_db *ours = pc_db_new(&g_cfg), *theirs = pc_db_new(&g_cfg);
    struct other_node o = {.at = "INSERT INTO users",
                           .times = 1,
                           .commit = other_creates_the_user,
                           .openid = "o_galera_login",
                           .db = theirs};
    pc_db_set_fault(ours, conflict, &o);
    int64_t id = 0;
    bool created = true;
    assert_int_equal(pc_store_user_upsert(ours, "o_galera_login", NULL, (const unsigned char *)"k2",
                                          2, &id, &created),
                     0);
    assert_int_equal(o.fired, 1);
    assert_false(created);
    assert_int_equal(id, o.user_id);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM users WHERE openid='o_galera_login'"),
                     1);
    pc_db_free(ours);
    pc_db_free(theirs);
}

static void test_endless_conflicts_give_up_with_retry_and_write_nothing(void **state)
{
    (void)state;
    const char *no = "P20240119GAL00004";
    unpaid_order(no);
    struct pc_db *ours = pc_db_new(&g_cfg);
    struct other_node o = {.at = "COMMIT", .times = -1};
    pc_db_set_fault(ours, conflict, &o);
    cJSON *tx = h_transaction_json(no, "4200000001202401190000000004");
    enum pc_apply_result res;
    /* PC_ERETRY is answered 503 with Retry-After (WeChat Pay delivers again later). */
    assert_int_equal(
        pc_payment_apply(ours, &g_cfg, "EV-GALERA-0004", "TRANSACTION.SUCCESS", tx, "notify", &res),
        PC_ERETRY);
    cJSON_Delete(tx);
    assert_int_equal(o.fired, 3); /* three attempts */
    assert_int_equal(
        h_db_int(&g_db, "SELECT COUNT(*) FROM pay_notifications WHERE notify_id='EV-GALERA-0004'"),
        0);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM payments WHERE out_trade_no='%s'", no),
                     0);
    assert_int_equal(
        h_db_int(&g_db, "SELECT COUNT(*) FROM orders WHERE order_no='%s' AND status='unpaid'", no),
        1);
    pc_db_free(ours);
}

/* ---- the group commit of notifications ---- */

#define GROUP     4
#define LOCK_MANY "SELECT id, order_no, task_id, user_id, status, amount_fen, student_no"

struct group {
    char no[GROUP][24], tx_id[GROUP][32], notify_id[GROUP][32];
    cJSON *tx[GROUP];
    struct pc_apply_item items[GROUP];
};

/* GROUP unpaid orders and their notifications, "<tag>0".."<tag>3". */
static void group_make(struct group *g, const char *tag)
{
    for (int i = 0; i < GROUP; i++) {
        snprintf(g->no[i], sizeof g->no[i], "P20240119%s%04d", tag, i);
        snprintf(g->tx_id[i], sizeof g->tx_id[i], "42000000012024011%s%06d", tag, i);
        snprintf(g->notify_id[i], sizeof g->notify_id[i], "EV-%s-%d", tag, i);
        unpaid_order(g->no[i]);
        g->tx[i] = h_transaction_json(g->no[i], g->tx_id[i]);
        g->items[i] = (struct pc_apply_item){
            .notify_id = g->notify_id[i], .event_type = "TRANSACTION.SUCCESS", .tx = g->tx[i]};
    }
}

static void group_free(struct group *g)
{
    for (int i = 0; i < GROUP; i++)
        cJSON_Delete(g->tx[i]);
}

static void test_a_group_whose_commit_loses_to_another_node_runs_again_as_a_group(void **state)
{
    (void)state;
    struct group g;
    group_make(&g, "GRA");
    struct pc_db *ours = pc_db_new(&g_cfg), *theirs = pc_db_new(&g_cfg);
    /* the other node took the same notification of the group's second order */
    struct other_node o = {.at = "COMMIT",
                           .times = 1,
                           .counted = LOCK_MANY,
                           .commit = other_applies_the_payment,
                           .no = g.no[1],
                           .tx_id = g.tx_id[1],
                           .notify_id = g.notify_id[1],
                           .db = theirs};
    pc_db_set_fault(ours, conflict, &o);
    pc_payment_apply_many(ours, &g_cfg, g.items, GROUP, "notify");
    assert_int_equal(o.fired, 1);
    assert_int_equal(o.count, 2); /* the group's transaction ran again, as a group */
    for (int i = 0; i < GROUP; i++) {
        assert_int_equal(g.items[i].rc, 0);
        assert_int_equal(g.items[i].result, i == 1 ? PC_APPLY_DUPLICATE : PC_APPLY_APPLIED);
        assert_applied_once(g.no[i], g.notify_id[i]);
    }
    group_free(&g);
    pc_db_free(ours);
    pc_db_free(theirs);
}

static void test_a_group_insert_aborted_by_another_nodes_payment_applies_it_once(void **state)
{
    (void)state;
    struct group g;
    group_make(&g, "GRB");
    struct pc_db *ours = pc_db_new(&g_cfg), *theirs = pc_db_new(&g_cfg);
    /* the other node applied the third order's money from a notification of its own; ours
     * conflicts at the group's bulk insert of the payment rows */
    struct other_node o = {.at = "INSERT INTO payments",
                           .times = 1,
                           .counted = LOCK_MANY,
                           .commit = other_applies_the_payment,
                           .no = g.no[2],
                           .tx_id = g.tx_id[2],
                           .notify_id = "EV-GRB-2-THEIRS",
                           .db = theirs};
    pc_db_set_fault(ours, conflict, &o);
    pc_payment_apply_many(ours, &g_cfg, g.items, GROUP, "notify");
    assert_int_equal(o.fired, 1);
    assert_int_equal(o.count, 2);
    for (int i = 0; i < GROUP; i++) {
        assert_int_equal(g.items[i].rc, 0);
        assert_int_equal(g.items[i].result, i == 2 ? PC_APPLY_DUPLICATE : PC_APPLY_APPLIED);
        assert_int_equal(
            h_db_int(&g_db, "SELECT COUNT(*) FROM payments WHERE out_trade_no='%s'", g.no[i]), 1);
        assert_int_equal(h_db_int(&g_db,
                                  "SELECT COUNT(*) FROM outbox WHERE kind='order.paid' AND "
                                  "payload LIKE '%%%s%%'",
                                  g.no[i]),
                         1);
        assert_int_equal(h_db_int(&g_db,
                                  "SELECT COUNT(*) FROM audit_log WHERE action='order.paid' AND "
                                  "target_id='%s'",
                                  g.no[i]),
                         1);
    }
    group_free(&g);
    pc_db_free(ours);
    pc_db_free(theirs);
}

static void test_endless_conflicts_on_a_group_give_up_with_retry_and_write_nothing(void **state)
{
    (void)state;
    struct group g;
    group_make(&g, "GRC");
    struct pc_db *ours = pc_db_new(&g_cfg);
    struct other_node o = {.at = "COMMIT", .times = -1, .counted = LOCK_MANY};
    pc_db_set_fault(ours, conflict, &o);
    pc_payment_apply_many(ours, &g_cfg, g.items, GROUP, "notify");
    assert_int_equal(o.count, 3);             /* three attempts as a group */
    assert_int_equal(o.fired, 3 + 3 * GROUP); /* then three each, alone */
    for (int i = 0; i < GROUP; i++) {
        assert_int_equal(g.items[i].rc, PC_ERETRY); /* answered 503: WeChat Pay sends again */
        assert_int_equal(h_db_int(&g_db,
                                  "SELECT COUNT(*) FROM pay_notifications WHERE notify_id='%s'",
                                  g.notify_id[i]),
                         0);
        assert_int_equal(
            h_db_int(&g_db, "SELECT COUNT(*) FROM orders WHERE order_no='%s' AND status='unpaid'",
                     g.no[i]),
            1);
    }
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM payments WHERE out_trade_no LIKE "
                                     "'P20240119GRC%%'"),
                     0);
    group_free(&g);
    pc_db_free(ours);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_notification_whose_commit_loses_to_another_node_is_applied_once),
        cmocka_unit_test(test_a_payment_insert_aborted_by_another_nodes_commit_is_applied_once),
        cmocka_unit_test(test_the_same_money_under_another_notification_id_is_not_applied_twice),
        cmocka_unit_test(test_an_upsert_outside_a_transaction_runs_again_and_meets_the_winner),
        cmocka_unit_test(test_endless_conflicts_give_up_with_retry_and_write_nothing),
        cmocka_unit_test(test_a_group_whose_commit_loses_to_another_node_runs_again_as_a_group),
        cmocka_unit_test(test_a_group_insert_aborted_by_another_nodes_payment_applies_it_once),
        cmocka_unit_test(test_endless_conflicts_on_a_group_give_up_with_retry_and_write_nothing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
