/* it_paygroup.c — the group commit of payment notifications (pc_payment_apply_many,
 * payment/apply.h) keeps the single path's rules: the order decides under its row lock whether
 * the money is its own (orders/state.h pc_order_payment_matches: its amount; the student as
 * payer of a JSAPI payment, anyone as payer of a Native one, the PC page's QR code). A plain
 * group is one transaction with one commit; a payment that is not its order's is refused as
 * the single path refuses it (nothing written for it) while the rest of its group is applied.
 * Real MariaDB, the domain called directly. */
#include "harness.h"
#include "cluster.h"

#include "base/err.h"
#include "config/config.h"
#include "payment/apply.h"
#include "store/db.h"

#define GROUP 4

static struct h_db g_db;
static struct pc_config g_cfg;
static long long g_task, g_school;

static int setup(void **state)
{
    (void)state;
    h_db_with_task(&g_db, &g_cfg, "10403", "分组大学", "group", &g_school, &g_task);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    pc_config_free(&g_cfg);
    h_db_destroy(&g_db);
    return 0;
}

/* Counts the commits a connection makes (a fault hook that injects nothing). */
static unsigned count_commits(struct pc_db *db, const char *sql, void *arg)
{
    (void)db;
    if (!strcmp(sql, "COMMIT"))
        ++*(int *)arg;
    return 0;
}

struct group {
    char no[GROUP][24], tx_id[GROUP][32], notify_id[GROUP][32];
    cJSON *tx[GROUP];
    struct pc_apply_item items[GROUP];
};

/* GROUP unpaid orders of new students (openid "o_" + order number) and their successful
 * JSAPI notifications, paid by the students themselves. */
static void group_make(struct group *g, const char *tag)
{
    for (int i = 0; i < GROUP; i++) {
        snprintf(g->no[i], sizeof g->no[i], "P20240120%s%04d", tag, i);
        snprintf(g->tx_id[i], sizeof g->tx_id[i], "42000000012024012%s%06d", tag, i);
        snprintf(g->notify_id[i], sizeof g->notify_id[i], "EV-%s-%d", tag, i);
        h_db_int(&g_db, "INSERT INTO users (openid) VALUES ('o_%s')", g->no[i]);
        long long uid = h_db_int(&g_db, "SELECT id FROM users WHERE openid='o_%s'", g->no[i]);
        h_db_int(&g_db,
                 "INSERT INTO orders (order_no, task_id, user_id, school_id, grad_year, "
                 "student_no, student_name, status, amount_fen, pay_deadline) VALUES ('%s', "
                 "%lld, %lld, %lld, 2024, '%s', '付款同学', 'unpaid', 2500, UTC_TIMESTAMP() + "
                 "INTERVAL 30 MINUTE)",
                 g->no[i], g_task, uid, g_school, g->no[i] + 1);
        g->tx[i] = h_transaction_json(g->no[i], g->tx_id[i]);
        g->items[i] = (struct pc_apply_item){
            .notify_id = g->notify_id[i], .event_type = "TRANSACTION.SUCCESS", .tx = g->tx[i]};
    }
}

/* Makes item i's payment another's: trade_type, payer and amount as given. */
static void group_pay_as(struct group *g, int i, const char *trade_type, const char *openid,
                         int total)
{
    cJSON_ReplaceItemInObject(g->tx[i], "trade_type", cJSON_CreateString(trade_type));
    cJSON *payer = cJSON_GetObjectItem(g->tx[i], "payer");
    cJSON_ReplaceItemInObject(payer, "openid", cJSON_CreateString(openid));
    cJSON *amount = cJSON_GetObjectItem(g->tx[i], "amount");
    cJSON_ReplaceItemInObject(amount, "total", cJSON_CreateNumber(total));
    cJSON_ReplaceItemInObject(amount, "payer_total", cJSON_CreateNumber(total));
}

/* Applies the group on a connection of its own; the number of commits it made. */
static int group_apply(struct group *g)
{
    int commits = 0;
    struct pc_db *db = pc_db_new(&g_cfg);
    pc_db_set_fault(db, count_commits, &commits);
    pc_payment_apply_many(db, &g_cfg, g->items, GROUP, "notify");
    pc_db_free(db);
    for (int i = 0; i < GROUP; i++)
        cJSON_Delete(g->tx[i]);
    return commits;
}

static void assert_paid(const struct group *g, int i, const char *payer)
{
    assert_int_equal(g->items[i].rc, 0);
    assert_int_equal(g->items[i].result, PC_APPLY_APPLIED);
    assert_int_equal(
        h_db_int(&g_db,
                 "SELECT COUNT(*) FROM orders WHERE order_no='%s' AND status='pending_review'",
                 g->no[i]),
        1);
    assert_int_equal(h_db_int(&g_db,
                              "SELECT COUNT(*) FROM payments WHERE out_trade_no='%s' AND "
                              "payer_openid='%s' AND disposition='applied'",
                              g->no[i], payer),
                     1);
    /* its audit row names the order's school, so that school's admins read it (issue #14) */
    assert_int_equal(h_db_int(&g_db,
                              "SELECT COUNT(*) FROM audit_log a JOIN orders o ON o.order_no = "
                              "a.target_id WHERE a.action='order.paid' AND a.target_id='%s' AND "
                              "a.school_id = o.school_id",
                              g->no[i]),
                     1);
    assert_int_equal(h_db_int(&g_db,
                              "SELECT COUNT(*) FROM outbox WHERE kind='order.paid' AND payload "
                              "LIKE '%%%s%%'",
                              g->no[i]),
                     1);
    /* No template or SMS for "paid" here: recorded done in the payment's own transaction. */
    assert_int_equal(h_db_int(&g_db,
                              "SELECT COUNT(*) FROM outbox WHERE kind='order.paid' AND payload "
                              "LIKE '%%%s%%' AND state='done' AND sent_via='none' AND "
                              "attempts=0 AND claimed_by IS NULL AND last_error LIKE "
                              "'nothing to send: no subscription template%%'",
                              g->no[i]),
                     1);
}

/* The single path's refusal: nothing at all written for it. */
static void assert_refused(const struct group *g, int i)
{
    assert_int_equal(g->items[i].rc, 0);
    assert_int_equal(g->items[i].result, PC_APPLY_INCONSISTENT);
    assert_int_equal(h_db_int(&g_db,
                              "SELECT COUNT(*) FROM orders WHERE order_no='%s' AND status='unpaid'",
                              g->no[i]),
                     1);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM pay_notifications WHERE notify_id='%s'",
                              g->notify_id[i]),
                     0);
    assert_int_equal(
        h_db_int(&g_db, "SELECT COUNT(*) FROM payments WHERE out_trade_no='%s'", g->no[i]), 0);
}

static void test_a_plain_group_is_applied_with_one_commit(void **state)
{
    (void)state;
    struct group g;
    group_make(&g, "GPA");
    assert_int_equal(group_apply(&g), 1);
    for (int i = 0; i < GROUP; i++) {
        char payer[40];
        snprintf(payer, sizeof payer, "o_%s", g.no[i]);
        assert_paid(&g, i, payer);
    }
}

static void test_a_native_payment_by_someone_else_is_applied_with_its_group(void **state)
{
    (void)state;
    struct group g;
    group_make(&g, "GPB");
    group_pay_as(&g, 1, "NATIVE", "o_a_parent_scanning_the_qr_code", 2500);
    assert_int_equal(group_apply(&g), 1); /* still one transaction for all four */
    for (int i = 0; i < GROUP; i++) {
        char payer[40];
        snprintf(payer, sizeof payer, "o_%s", g.no[i]);
        assert_paid(&g, i, i == 1 ? "o_a_parent_scanning_the_qr_code" : payer);
    }
}

static void test_a_jsapi_payment_by_someone_else_is_refused_and_the_group_applied(void **state)
{
    (void)state;
    struct group g;
    group_make(&g, "GPC");
    group_pay_as(&g, 2, "JSAPI", "o_a_stranger", 2500);
    group_apply(&g);
    for (int i = 0; i < GROUP; i++) {
        char payer[40];
        snprintf(payer, sizeof payer, "o_%s", g.no[i]);
        if (i == 2)
            assert_refused(&g, i);
        else
            assert_paid(&g, i, payer);
    }
}

static void test_a_native_payment_of_another_amount_is_refused_and_the_group_applied(void **state)
{
    (void)state;
    struct group g;
    group_make(&g, "GPD");
    group_pay_as(&g, 0, "NATIVE", "o_a_parent_scanning_the_qr_code", 2400);
    group_apply(&g);
    assert_refused(&g, 0);
    for (int i = 1; i < GROUP; i++) {
        char payer[40];
        snprintf(payer, sizeof payer, "o_%s", g.no[i]);
        assert_paid(&g, i, payer);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_plain_group_is_applied_with_one_commit),
        cmocka_unit_test(test_a_native_payment_by_someone_else_is_applied_with_its_group),
        cmocka_unit_test(test_a_jsapi_payment_by_someone_else_is_refused_and_the_group_applied),
        cmocka_unit_test(test_a_native_payment_of_another_amount_is_refused_and_the_group_applied),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
