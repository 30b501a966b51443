/* it_certs.c — WeChat Pay's platform certificates rotate and payments go on: portraitd starts
 * without a configured platform certificate and downloads them (/v3/certificates, decrypted
 * with the APIv3 key, the answer verified); an order is paid, the sandbox rotates its
 * certificate, another order is paid, and no notification or answer fails verification; an
 * unknown serial downloads the list at most once a minute; the public key works beside. */
#include "harness.h"

#include <signal.h>
#include <stdbool.h>

static struct h_db g_db;
static struct h_sandbox g_sb;
static struct h_srv g_srv;
static char g_pay[400];
static long long g_task, g_school;

static int setup(void **state)
{
    (void)state;
    char wx[600], pay[1200], conf[3000], id[96];
    h_db_start(&g_db);
    h_pay_sandbox_start(&g_sb, g_pay, sizeof g_pay, "--notify-schedule 0.3,0.3,0.5,1,1,2");
    int port = h_free_port();
    snprintf(conf, sizeof conf,
             "%s[server]\nlisten = 127.0.0.1:%d\n%spubkey_id = %s\npubkey_file = %s/pubkey.pub\n",
             h_sandbox_conf(&g_sb, wx, sizeof wx), port,
             h_pay_conf_at(&g_sb, g_pay, port, false, pay, sizeof pay),
             h_pay_file(g_pay, "pubkey.id", id, sizeof id), g_pay);
    h_srv_start(&g_srv, &g_db, conf, 0);
    g_task = h_db_task(&g_db, "10402", "演示大学", "certs", &g_school);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return h_stack_down(&g_srv, &g_sb, &g_db);
}

static int sandbox_count(const char *endpoint)
{
    char path[96];
    snprintf(path, sizeof path, "/__sandbox/requests?endpoint=%s", endpoint);
    cJSON *j = h_sb_json(&g_sb, "GET", path, NULL);
    int n = cJSON_GetArraySize(cJSON_GetObjectItem(j, "requests"));
    cJSON_Delete(j);
    return n;
}

/* A student's unpaid order with a prepay id at the sandbox (POST /orders/{no}/pay). */
static void prepaid_order(const char *openid, const char *no)
{
    char tok[64], path[96];
    long long uid = h_student(&g_srv, &g_sb, openid, "付款同学", tok, sizeof tok);
    h_db_int(&g_db,
             "INSERT INTO orders (order_no, task_id, user_id, school_id, grad_year, student_no, "
             "student_name, status, amount_fen, pay_deadline) VALUES ('%s', %lld, %lld, %lld, "
             "2024, '%s', '付款同学', 'unpaid', 2500, UTC_TIMESTAMP() + INTERVAL 30 MINUTE)",
             no, g_task, uid, g_school, no + 1);
    snprintf(path, sizeof path, "/api/v1/orders/%s/pay", no);
    struct h_resp r;
    h_req_json(&g_srv, "POST", path, tok, "{}", &r);
    if (r.status != 200)
        fail_msg("pay %s: %ld %s", no, r.status, r.body);
    h_resp_free(&r);
}

static bool paid(const char *no)
{
    for (int i = 0; i < 200; i++) {
        if (h_db_int(&g_db,
                     "SELECT COUNT(*) FROM orders WHERE order_no='%s' AND "
                     "status='pending_review'",
                     no))
            return true;
        h_msleep(50);
    }
    return false;
}

/* Every delivery attempt the sandbox made was answered 204. */
static void no_failed_delivery(void)
{
    cJSON *j = h_sb_json(&g_sb, "GET", "/__sandbox/notifications", NULL);
    const cJSON *it;
    int n = 0;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(j, "notifications"))
    {
        const cJSON *st = cJSON_GetObjectItem(it, "status");
        if (!cJSON_IsNumber(st) || st->valueint != 204)
            fail_msg("a notification was answered %d", cJSON_IsNumber(st) ? st->valueint : -1);
        n++;
    }
    assert_true(n >= 1);
    cJSON_Delete(j);
}

static void test_certificates_are_downloaded_when_none_is_configured(void **state)
{
    (void)state;
    assert_true(sandbox_count("certificates") >= 1);
    struct h_resp r;
    h_get(&g_srv, "/metrics", NULL, &r);
    assert_non_null(strstr(r.body, "portraitd_pay_cert_refresh_total{result=\"ok\"}"));
    h_resp_free(&r);
}

static void test_payments_go_on_across_a_platform_certificate_rotation(void **state)
{
    (void)state;
    char serial1[64];
    h_pay_file(g_pay, "platform.serial", serial1, sizeof serial1);
    prepaid_order("o_cert_1", "P20240122CERT0001");
    cJSON_Delete(
        h_sb_json(&g_sb, "POST", "/__sandbox/pay", "{\"out_trade_no\":\"P20240122CERT0001\"}"));
    assert_true(paid("P20240122CERT0001"));
    int downloads = sandbox_count("certificates");
    /* WeChat Pay rotates: a new certificate signs everything from now on. */
    cJSON *rot = h_sb_json(&g_sb, "POST", "/__sandbox/rotate-platform-cert", "{}");
    const char *serial2 = cJSON_GetObjectItem(rot, "serial")->valuestring;
    assert_string_not_equal(serial2, serial1);
    prepaid_order("o_cert_2", "P20240122CERT0002"); /* the prepay answer: signed by the new one */
    cJSON_Delete(
        h_sb_json(&g_sb, "POST", "/__sandbox/pay", "{\"out_trade_no\":\"P20240122CERT0002\"}"));
    assert_true(paid("P20240122CERT0002"));
    no_failed_delivery();
    assert_int_equal(sandbox_count("certificates"), downloads + 1); /* learnt once */
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM payments WHERE out_trade_no LIKE "
                                     "'P20240122CERT%%'"),
                     2);
    /* The old certificate still verifies (WeChat may use either during the changeover). */
    char *body = h_pay_envelope(g_pay, "EV-cert-old", "TRANSACTION.SUCCESS", "transaction",
                                "{\"not\":\"applied\"}");
    /* Signed by the first certificate: verified (not 401), whatever the body then means. */
    long st = h_pay_notify_post(&g_srv, g_pay, "/api/v1/pay/notify", body);
    assert_true(st != 401 && st < 500);
    free(body);
    cJSON_Delete(rot);
}

static void test_an_unknown_serial_downloads_the_list_at_most_once_a_minute(void **state)
{
    (void)state;
    int before = sandbox_count("certificates");
    char *body =
        h_pay_envelope(g_pay, "EV-cert-unknown", "TRANSACTION.SUCCESS", "transaction", "{}");
    for (int i = 0; i < 4; i++) /* signed by a key WeChat Pay never listed */
        assert_int_equal(h_pay_notify_post_as(&g_srv, g_pay, "/api/v1/pay/notify", body,
                                              "merchant.key", "5A5A5A5A5A5A5A5A5A5A"),
                         401);
    free(body);
    assert_true(sandbox_count("certificates") <= before + 1);
    struct h_resp r;
    h_get(&g_srv, "/metrics", NULL, &r);
    const char *p = strstr(r.body, "\nportraitd_pay_unknown_serial_total ");
    assert_non_null(p);
    assert_true(strtol(p + 36, NULL, 10) >= 4);
    h_resp_free(&r);
}

static void test_the_public_key_verifies_beside_the_certificates(void **state)
{
    (void)state;
    char tok[64], plain[1024], id[96], mchid[32];
    long long uid = h_student(&g_srv, &g_sb, "o_cert_pk", "付款同学", tok, sizeof tok);
    h_db_int(&g_db,
             "INSERT INTO orders (order_no, task_id, user_id, school_id, grad_year, student_no, "
             "student_name, status, amount_fen, pay_deadline) VALUES ('P20240122CERT0003', %lld, "
             "%lld, %lld, 2024, '20240122CERT0003', '付款同学', 'unpaid', 2500, "
             "UTC_TIMESTAMP() + INTERVAL 30 MINUTE)",
             g_task, uid, g_school);
    snprintf(plain, sizeof plain,
             "{\"appid\":\"%s\",\"mchid\":\"%s\",\"out_trade_no\":\"P20240122CERT0003\","
             "\"transaction_id\":\"4200000001202401220000000003\",\"trade_type\":\"JSAPI\","
             "\"trade_state\":\"SUCCESS\",\"trade_state_desc\":\"支付成功\",\"bank_type\":"
             "\"OTHERS\",\"success_time\":\"2024-01-22T10:02:11+08:00\",\"payer\":{\"openid\":"
             "\"o_cert_pk\"},\"amount\":{\"total\":2500,\"payer_total\":2500,\"currency\":\"CNY\","
             "\"payer_currency\":\"CNY\"}}",
             H_APPID, h_pay_file(g_pay, "mchid", mchid, sizeof mchid));
    char *body =
        h_pay_envelope(g_pay, "EV-cert-pubkey", "TRANSACTION.SUCCESS", "transaction", plain);
    assert_int_equal(h_pay_notify_post_as(&g_srv, g_pay, "/api/v1/pay/notify", body, "pubkey.key",
                                          h_pay_file(g_pay, "pubkey.id", id, sizeof id)),
                     204);
    free(body);
    assert_true(paid("P20240122CERT0003"));
}

static void test_server_and_sandbox_exit_0(void **state)
{
    (void)state;
    assert_int_equal(h_srv_stop(&g_srv, SIGTERM), 0);
    assert_int_equal(h_sandbox_stop(&g_sb), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_certificates_are_downloaded_when_none_is_configured),
        cmocka_unit_test(test_payments_go_on_across_a_platform_certificate_rotation),
        cmocka_unit_test(test_an_unknown_serial_downloads_the_list_at_most_once_a_minute),
        cmocka_unit_test(test_the_public_key_verifies_beside_the_certificates),
        cmocka_unit_test(test_server_and_sandbox_exit_0),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
