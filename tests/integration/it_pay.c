/* it_pay.c — WeChat Pay end to end against the sandbox: prepay and the wx.requestPayment
 * arguments, the signed encrypted notification applied exactly once (also 50 concurrent
 * copies), a hostile-notification suite that changes nothing, a lost notification healed by
 * the sweeper, a notification arriving while the database is down, and a refund that ends
 * in refunded only through WeChat's refund notification. */
#include "harness.h"

#include "payment/wxpay_crypto.h"

#include "base/err.h"
#include "base/timeutil.h"
#include "payment/bill.h"
#include "payment/wxpay.h"
#include "config/config.h"

#include <csv.h>
#include <pthread.h>
#include <stdbool.h>
#include <signal.h>
#include <time.h>

static struct h_db g_db;
static struct h_sandbox g_sb;
static struct h_srv g_srv;
static char g_pay[400];     /* gen-pay-keys.sh output */
static char g_finance[128]; /* finance staff token */
static char g_conf[3000];   /* the server's configuration (the bill test loads it too) */
static long long g_task, g_school;

static const char *payfile(const char *name, char *buf, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", g_pay, name);
    return h_read_text(path, buf, len);
}

static int setup(void **state)
{
    (void)state;
    char cmd[600], wx[600], mchid[32], serial[64], apiv3[64], plat[64];
    char *conf = g_conf;
    snprintf(g_pay, sizeof g_pay, "%s/pay", h_workdir());
    snprintf(cmd, sizeof cmd, "'%s/scripts/gen-pay-keys.sh' '%s' >/dev/null", PC_SOURCE_DIR, g_pay);
    assert_int_equal(system(cmd), 0);
    char args[1000];
    snprintf(args, sizeof args,
             "--pay-dir %s --ca-file %s/tls/dev-ca.pem --notify-schedule 0.3,0.3,0.5,1,1,2 "
             "--refund-delay-ms 200",
             g_pay, h_workdir());
    h_db_start(&g_db);
    h_sandbox_start(&g_sb, args);
    int port = h_free_port();
    snprintf(conf, sizeof g_conf,
             "%s[server]\nlisten = 127.0.0.1:%d\n"
             "[pay]\nmchid = %s\napi_base = %s\nca_file = %s/tls/dev-ca.pem\n"
             "merchant_key_file = %s/merchant.key\nmerchant_serial = %s\napiv3_key = %s\n"
             "platform_certs = %s/platform.pem\n"
             "notify_url = https://127.0.0.1:%d/api/v1/pay/notify\n"
             "refund_notify_url = https://127.0.0.1:%d/api/v1/pay/refund-notify\n"
             "sweep_interval_ms = 300\nsweep_min_age_s = 1\n"
             "[finance]\nreconcile_interval_ms = 200\n",
             h_sandbox_conf(&g_sb, wx, sizeof wx), port, payfile("mchid", mchid, sizeof mchid),
             g_sb.base, h_workdir(), g_pay, payfile("merchant.serial", serial, sizeof serial),
             payfile("apiv3.key", apiv3, sizeof apiv3), g_pay, port, port);
    (void)plat;
    h_srv_start(&g_srv, &g_db, conf, 0);
    assert_int_equal(g_srv.port, port);
    h_user_add(&g_srv, "fin", "finance", "finance-pass-1");
    h_login(&g_srv, "fin", "finance-pass-1", g_finance, sizeof g_finance);
    g_task = h_db_task(&g_db, "10402", "演示大学", "paytask", &g_school);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return h_stack_down(&g_srv, &g_sb, &g_db);
}

/* A student with an unpaid order (made directly in the store: photo upload is tested
 * elsewhere). */
static void unpaid_order(const char *openid, const char *order_no, char *tok, size_t len)
{
    long long uid = h_student(&g_srv, &g_sb, openid, "付款同学", tok, len);
    h_db_int(&g_db,
             "INSERT INTO orders (order_no, task_id, user_id, school_id, grad_year, student_no, "
             "student_name, status, amount_fen, pay_deadline) VALUES ('%s', %lld, %lld, %lld, "
             "2024, '%s', '付款同学', 'unpaid', 2500, UTC_TIMESTAMP() + INTERVAL 30 MINUTE)",
             order_no, g_task, uid, g_school, order_no + 1);
}

static cJSON *pay(const char *tok, const char *order_no, long *status)
{
    char path[96];
    snprintf(path, sizeof path, "/api/v1/orders/%s/pay", order_no);
    struct h_resp r;
    h_req_json(&g_srv, "POST", path, tok, "{}", &r);
    *status = r.status;
    cJSON *j = r.status == 200 ? h_json(&r) : NULL;
    h_resp_free(&r);
    return j;
}

static bool wait_status(const char *order_no, const char *want, int ms)
{
    for (int i = 0; i < ms / 50; i++) {
        if (h_db_int(&g_db, "SELECT COUNT(*) FROM orders WHERE order_no='%s' AND status='%s'",
                     order_no, want))
            return true;
        h_msleep(50);
    }
    return false;
}

static void sandbox_pay(const char *order_no)
{
    char body[128];
    snprintf(body, sizeof body, "{\"out_trade_no\":\"%s\"}", order_no);
    cJSON_Delete(h_sb_json(&g_sb, "POST", "/__sandbox/pay", body));
}

static void test_prepay_returns_signed_payment_arguments_and_reuses_the_prepay_id(void **state)
{
    (void)state;
    char tok[64];
    unpaid_order("o_payer1", "P20240119AAAA0001", tok, sizeof tok);
    long st;
    cJSON *a = pay(tok, "P20240119AAAA0001", &st);
    assert_int_equal(st, 200);
    const char *ts = cJSON_GetObjectItem(a, "timeStamp")->valuestring;
    const char *nonce = cJSON_GetObjectItem(a, "nonceStr")->valuestring;
    const char *pkg = cJSON_GetObjectItem(a, "package")->valuestring;
    assert_string_equal(cJSON_GetObjectItem(a, "signType")->valuestring, "RSA");
    assert_int_equal(strncmp(pkg, "prepay_id=", 10), 0);
    /* paySign verifies with the merchant's public key over appId\ntimeStamp\nnonceStr\npackage\n.
     */
    char msg[512], pub_path[512];
    int n = snprintf(msg, sizeof msg, "%s\n%s\n%s\n%s\n", H_APPID, ts, nonce, pkg);
    snprintf(pub_path, sizeof pub_path, "%s/merchant.pub", g_pay);
    struct pc_pay_keys *k = pc_pay_keys_new();
    assert_int_equal(pc_pay_keys_add_file(k, "M", pub_path), 0);
    assert_int_equal(pc_pay_verify_message(k, "M", msg, (size_t)n,
                                           cJSON_GetObjectItem(a, "paySign")->valuestring),
                     0);
    pc_pay_keys_free(k);
    char first[128];
    snprintf(first, sizeof first, "%s", pkg);
    cJSON_Delete(a);
    a = pay(tok, "P20240119AAAA0001", &st); /* the live prepay id is reused */
    assert_string_equal(cJSON_GetObjectItem(a, "package")->valuestring, first);
    cJSON_Delete(a);
    cJSON *req = h_sb_json(&g_sb, "GET", "/__sandbox/requests?endpoint=jsapi", NULL);
    cJSON *list = cJSON_GetObjectItem(req, "requests");
    assert_int_equal(cJSON_GetArraySize(list), 1);
    const char *body = cJSON_GetObjectItem(cJSON_GetArrayItem(list, 0), "body")->valuestring;
    assert_non_null(strstr(body, "\"total\":2500"));
    assert_non_null(strstr(body, "\"openid\":\"o_payer1\""));
    assert_non_null(strstr(body, "/api/v1/pay/notify"));
    cJSON_Delete(req);
    /* Only unpaid orders can pay. */
    h_db_int(&g_db, "UPDATE orders SET status='awaiting_photo' WHERE order_no='P20240119AAAA0001'");
    pay(tok, "P20240119AAAA0001", &st);
    assert_int_equal(st, 409);
    h_db_int(&g_db, "UPDATE orders SET status='unpaid' WHERE order_no='P20240119AAAA0001'");
}

static void test_the_sandbox_payment_notification_moves_the_order_once(void **state)
{
    (void)state;
    sandbox_pay("P20240119AAAA0001");
    assert_true(wait_status("P20240119AAAA0001", "pending_review", 5000));
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM payments p JOIN orders o ON "
                                     "o.id=p.order_id WHERE o.order_no='P20240119AAAA0001' AND "
                                     "p.amount_fen=2500 AND p.source='notify'"),
                     1);
    assert_int_equal(h_db_int(&g_db, "SELECT paid_at IS NOT NULL AND transaction_id LIKE '4200%%' "
                                     "FROM orders WHERE order_no='P20240119AAAA0001'"),
                     1);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM audit_log WHERE action='order.paid' AND "
                                     "target_id='P20240119AAAA0001'"),
                     1);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM outbox WHERE kind='order.paid'"), 1);
    /* No template or SMS for "paid" here: recorded done in the payment's own transaction,
     * never claimed. */
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM outbox WHERE kind='order.paid' AND "
                                     "state='done' AND sent_via='none' AND attempts=0 AND "
                                     "claimed_by IS NULL AND sent_at IS NOT NULL AND last_error "
                                     "LIKE 'nothing to send: no subscription template%%'"),
                     1);
}

/* ---- hostile notifications, made in the test with the sandbox's keys ---- */

static char *notification(const char *out_trade_no, const char *appid, const char *mchid,
                          long amount, const char *openid, const char *id, size_t *len)
{
    char apiv3[64], tx[1024], ct[2048], mch[32];
    payfile("apiv3.key", apiv3, sizeof apiv3);
    snprintf(tx, sizeof tx,
             "{\"appid\":\"%s\",\"mchid\":\"%s\",\"out_trade_no\":\"%s\",\"transaction_id\":"
             "\"4200000001202401190000%06ld\",\"trade_type\":\"JSAPI\",\"trade_state\":\"SUCCESS\","
             "\"trade_state_desc\":\"支付成功\",\"bank_type\":\"OTHERS\",\"success_time\":"
             "\"2024-01-19T10:02:11+08:00\",\"payer\":{\"openid\":\"%s\"},\"amount\":{\"total\":"
             "%ld,\"payer_total\":%ld,\"currency\":\"CNY\",\"payer_currency\":\"CNY\"}}",
             appid, mchid ? mchid : payfile("mchid", mch, sizeof mch), out_trade_no,
             (long)(random() % 1000000), openid, amount, amount);
    assert_int_equal(
        pc_pay_encrypt(apiv3, 32, "0123456789ab", "transaction", tx, strlen(tx), ct, sizeof ct), 0);
    char *body = malloc(4096);
    *len = (size_t)snprintf(body, 4096,
                            "{\"id\":\"%s\",\"create_time\":\"2024-01-19T10:02:12+08:00\","
                            "\"resource_type\":\"encrypt-resource\",\"event_type\":"
                            "\"TRANSACTION.SUCCESS\",\"summary\":\"支付成功\",\"resource\":{"
                            "\"original_type\":\"transaction\",\"algorithm\":\"AEAD_AES_256_GCM\","
                            "\"ciphertext\":\"%s\",\"associated_data\":\"transaction\",\"nonce\":"
                            "\"0123456789ab\"}}",
                            id, ct);
    return body;
}

/* POSTs body as WeChat would, signed with the platform key (or not, per the knobs). */
static long post_notify(const char *body, size_t len, long ts_shift, const char *serial_override,
                        const char *sig_override)
{
    char key_path[512], serial[64], ts[32], sig[PC_PAY_SIG_B64_MAX], msg[8192];
    snprintf(key_path, sizeof key_path, "%s/platform.key", g_pay);
    payfile("platform.serial", serial, sizeof serial);
    snprintf(ts, sizeof ts, "%ld", (long)time(NULL) + ts_shift);
    int n = snprintf(msg, sizeof msg, "%s\nNONCE1234567890\n%.*s\n", ts, (int)len, body);
    struct pc_pay_signer *s = pc_pay_signer_load(key_path, "", "");
    assert_non_null(s);
    assert_int_equal(pc_pay_sign(s, msg, (size_t)n, sig, sizeof sig), 0);
    pc_pay_signer_free(s);
    char h1[128], h2[64], h3[PC_PAY_SIG_B64_MAX + 40];
    snprintf(h1, sizeof h1, "Wechatpay-Serial: %s", serial_override ? serial_override : serial);
    snprintf(h2, sizeof h2, "Wechatpay-Timestamp: %s", ts);
    snprintf(h3, sizeof h3, "Wechatpay-Signature: %s", sig_override ? sig_override : sig);
    const char *hs[] = {"Content-Type: application/json",
                        h1,
                        h2,
                        "Wechatpay-Nonce: NONCE1234567890",
                        h3,
                        "Wechatpay-Signature-Type: WECHATPAY2-SHA256-RSA2048",
                        NULL};
    struct h_resp r;
    h_http(&g_srv, "POST", "/api/v1/pay/notify", hs, body, len, &r);
    long st = r.status;
    if (st != 204)
        assert_non_null(strstr(r.body, "\"code\":\"FAIL\""));
    h_resp_free(&r);
    return st;
}

static long long state_rows(void)
{
    return h_db_int(&g_db, "SELECT (SELECT COUNT(*) FROM payments) + (SELECT COUNT(*) FROM "
                           "pay_notifications) + (SELECT COUNT(*) FROM audit_log) + (SELECT "
                           "COUNT(*) FROM orders WHERE status <> 'unpaid')");
}

static void test_hostile_notifications_are_refused_and_change_nothing(void **state)
{
    (void)state;
    char tok[64];
    unpaid_order("o_hostile", "P20240119BBBB0001", tok, sizeof tok);
    const char *no = "P20240119BBBB0001";
    size_t len;
    long long before = state_rows();
    char *good = notification(no, H_APPID, NULL, 2500, "o_hostile", "EV-hostile-good", &len);
    /* tampered body (signature made over the original) */
    char *tampered = strdup(good);
    char *p = strstr(tampered, "支付成功");
    p[0] = 'X';
    char key_path[512];
    snprintf(key_path, sizeof key_path, "%s/platform.key", g_pay);
    {
        char serial[64], ts[32], sig[PC_PAY_SIG_B64_MAX], msg[8192];
        payfile("platform.serial", serial, sizeof serial);
        snprintf(ts, sizeof ts, "%ld", (long)time(NULL));
        int n = snprintf(msg, sizeof msg, "%s\nNONCE1234567890\n%s\n", ts, good);
        struct pc_pay_signer *s = pc_pay_signer_load(key_path, "", "");
        pc_pay_sign(s, msg, (size_t)n, sig, sizeof sig);
        pc_pay_signer_free(s);
        assert_int_equal(post_notify(tampered, len, 0, NULL, sig), 401);
    }
    assert_int_equal(post_notify(good, len, 0, "0000000000000000", NULL), 401); /* wrong serial */
    assert_int_equal(post_notify(good, len, -301, NULL, NULL), 401);            /* stale */
    assert_int_equal(post_notify(good, len, +301, NULL, NULL), 401);            /* future */
    assert_int_equal(post_notify(good, len, 0, NULL, "WECHATPAY/SIGNTEST/ZGF0YQ=="), 401);
    char *b;
    b = notification(no, H_APPID, NULL, 2400, "o_hostile", "EV-h-amount", &len);
    assert_int_equal(post_notify(b, len, 0, NULL, NULL), 400); /* wrong amount */
    free(b);
    b = notification(no, "wx0000000000000000", NULL, 2500, "o_hostile", "EV-h-appid", &len);
    assert_int_equal(post_notify(b, len, 0, NULL, NULL), 400); /* wrong appid */
    free(b);
    b = notification(no, H_APPID, "1999999999", 2500, "o_hostile", "EV-h-mchid", &len);
    assert_int_equal(post_notify(b, len, 0, NULL, NULL), 400); /* wrong mchid */
    free(b);
    b = notification("P20240119NOSUCH01", H_APPID, NULL, 2500, "o_hostile", "EV-h-order", &len);
    assert_int_equal(post_notify(b, len, 0, NULL, NULL), 400); /* unknown order */
    free(b);
    b = notification(no, H_APPID, NULL, 2500, "o_somebody_else", "EV-h-openid", &len);
    assert_int_equal(post_notify(b, len, 0, NULL, NULL), 400); /* wrong payer */
    free(b);
    const char *junk = "{\"id\":\"EV-junk\",\"resource\":{\"algorithm\":\"AEAD_AES_256_GCM\","
                       "\"ciphertext\":\"AAAA\",\"nonce\":\"0123456789ab\"}}";
    assert_int_equal(post_notify(junk, strlen(junk), 0, NULL, NULL), 400); /* undecryptable */
    assert_int_equal(state_rows(), before); /* nothing at all was written */
    /* The genuine one applies, and its replay is harmless. */
    len = strlen(good);
    assert_int_equal(post_notify(good, len, 0, NULL, NULL), 204);
    long long after = state_rows();
    assert_true(after > before);
    assert_int_equal(post_notify(good, len, 0, NULL, NULL), 204);
    assert_int_equal(state_rows(), after);
    free(good);
    free(tampered);
}

struct copy {
    const char *body;
    size_t len;
    long status;
};

static void *send_copy(void *p)
{
    struct copy *c = p;
    c->status = post_notify(c->body, c->len, 0, NULL, NULL);
    return NULL;
}

static void test_fifty_concurrent_copies_make_one_transition(void **state)
{
    (void)state;
    char tok[64];
    unpaid_order("o_fifty", "P20240119CCCC0001", tok, sizeof tok);
    size_t len;
    char *body =
        notification("P20240119CCCC0001", H_APPID, NULL, 2500, "o_fifty", "EV-fifty", &len);
    struct copy c[50];
    pthread_t t[50];
    for (int i = 0; i < 50; i++) {
        c[i] = (struct copy){body, len, 0};
        pthread_create(&t[i], NULL, send_copy, &c[i]);
    }
    for (int i = 0; i < 50; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(c[i].status, 204);
    }
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM payments p JOIN orders o ON "
                                     "o.id=p.order_id WHERE o.order_no='P20240119CCCC0001'"),
                     1);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM audit_log WHERE action='order.paid' AND "
                                     "target_id='P20240119CCCC0001'"),
                     1);
    assert_true(wait_status("P20240119CCCC0001", "pending_review", 100));
    free(body);
}

static void test_a_lost_notification_is_healed_by_the_sweeper(void **state)
{
    (void)state;
    char tok[64];
    long st;
    unpaid_order("o_lost", "P20240119DDDD0001", tok, sizeof tok);
    cJSON_Delete(pay(tok, "P20240119DDDD0001", &st));
    assert_int_equal(st, 200);
    cJSON_Delete(h_sb_json(&g_sb, "POST", "/__sandbox/faults",
                           "{\"endpoint\":\"notify\",\"drop\":true,\"count\":1}"));
    sandbox_pay("P20240119DDDD0001");
    /* No notification ever comes; the sweeper queries WeChat and applies the payment. */
    assert_true(wait_status("P20240119DDDD0001", "pending_review", 10000));
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM payments p JOIN orders o ON "
                                     "o.id=p.order_id WHERE o.order_no='P20240119DDDD0001' AND "
                                     "p.source='query'"),
                     1);
}

static void test_overdue_unpaid_orders_are_queried_then_closed(void **state)
{
    (void)state;
    char tok[64];
    long st;
    unpaid_order("o_overdue", "P20240119EEEE0001", tok, sizeof tok);
    cJSON_Delete(pay(tok, "P20240119EEEE0001", &st));
    h_db_int(&g_db, "UPDATE orders SET pay_deadline = UTC_TIMESTAMP() - INTERVAL 1 SECOND "
                    "WHERE order_no='P20240119EEEE0001'");
    assert_true(wait_status("P20240119EEEE0001", "closed", 10000));
    cJSON *req = h_sb_json(&g_sb, "GET", "/__sandbox/requests?endpoint=close", NULL);
    char *s = cJSON_PrintUnformatted(req);
    assert_non_null(strstr(s, "P20240119EEEE0001/close"));
    free(s);
    cJSON_Delete(req);
    /* A payment that arrives after the close (the window is still open) reopens the order. */
    size_t len;
    char *late =
        notification("P20240119EEEE0001", H_APPID, NULL, 2500, "o_overdue", "EV-late", &len);
    assert_int_equal(post_notify(late, len, 0, NULL, NULL), 204);
    assert_true(wait_status("P20240119EEEE0001", "pending_review", 100));
    free(late);
}

static void test_a_notification_during_a_database_outage_gets_500_then_applies(void **state)
{
    (void)state;
    char tok[64];
    long st;
    unpaid_order("o_dbdown", "P20240119FFFF0001", tok, sizeof tok);
    cJSON_Delete(pay(tok, "P20240119FFFF0001", &st));
    assert_int_equal(st, 200);
    h_db_stop(&g_db);
    sandbox_pay("P20240119FFFF0001");
    h_msleep(900); /* a few deliveries fail with 500 */
    h_db_restart(&g_db);
    assert_true(wait_status("P20240119FFFF0001", "pending_review", 15000));
    /* WeChat's retries go on until one is acknowledged (the sweeper's query may have applied
     * the payment first: the retry is then a harmless duplicate, also 204). */
    bool saw500 = false, saw204 = false;
    for (int i = 0; i < 300 && !saw204; i++) {
        cJSON *n = h_sb_json(&g_sb, "GET",
                             "/__sandbox/notifications?out_trade_no=P20240119FFFF0001", NULL);
        char *s = cJSON_PrintUnformatted(n);
        saw500 = strstr(s, "\"status\":500") != NULL;
        saw204 = strstr(s, "\"status\":204") != NULL;
        free(s);
        cJSON_Delete(n);
        if (!saw204)
            h_msleep(50);
    }
    assert_true(saw500);
    assert_true(saw204);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM payments p JOIN orders o ON "
                                     "o.id=p.order_id WHERE o.order_no='P20240119FFFF0001'"),
                     1);
}

static void test_a_refund_ends_in_refunded_only_through_the_refund_notification(void **state)
{
    (void)state;
    const char *no = "P20240119AAAA0001"; /* paid above */
    char path[96];
    snprintf(path, sizeof path, "/api/v1/admin/orders/%s/refund", no);
    struct h_resp r;
    h_req_json(&g_srv, "POST", path, g_finance, "{\"amount_fen\":3000,\"reason\":\"重复缴费\"}",
               &r);
    h_assert_error(&r, 400, "INVALID_INPUT"); /* more than was paid */
    h_resp_free(&r);
    h_req_json(&g_srv, "POST", path, g_finance, "{\"amount_fen\":2500,\"reason\":\"重复缴费\"}",
               &r);
    assert_int_equal(r.status, 202);
    assert_non_null(strstr(r.body, "\"status\":\"processing\""));
    h_resp_free(&r);
    h_req_json(&g_srv, "POST", path, g_finance, "{\"amount_fen\":2500,\"reason\":\"重复缴费\"}",
               &r);
    assert_true(r.status == 202 || r.status == 409); /* the same refund, or already done */
    h_resp_free(&r);
    assert_true(wait_status(no, "refunded", 10000));
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM refunds WHERE status='success'"), 1);
    assert_true(h_db_int(&g_db, "SELECT COUNT(*) FROM audit_log WHERE action='refund.request' AND "
                                "actor_name='fin' AND details NOT LIKE '%%\"existing\"%%'") == 1);
    char tok[64];
    h_student(&g_srv, &g_sb, "o_not_finance", NULL, tok, sizeof tok);
    h_req_json(&g_srv, "POST", path, tok, "{\"amount_fen\":1,\"reason\":\"x\"}", &r);
    h_assert_error(&r, 401, "UNAUTHORIZED"); /* a student token is not a staff token */
    h_resp_free(&r);
}

/* CSV cells collected by libcsv: rows × up to 16 columns of up to 200 bytes. */
struct cells {
    char v[64][16][200];
    int row, col;
};

static void on_cell(void *s, size_t len, void *data)
{
    struct cells *c = data;
    if (c->row < 64 && c->col < 16)
        snprintf(c->v[c->row][c->col], sizeof c->v[0][0], "%.*s", (int)len, (const char *)s);
    c->col++;
}

static void on_row(int ch, void *data)
{
    (void)ch;
    struct cells *c = data;
    c->row++;
    c->col = 0;
}

static void test_finance_lists_the_day_s_payments_as_json_and_as_a_csv_excel_opens(void **state)
{
    (void)state;
    const char *no = "P20240119AAAA0001"; /* paid, then refunded above */
    char day[16], path[160];
    long long d = h_db_int(&g_db,
                           "SELECT DATE_FORMAT(success_time + INTERVAL 8 HOUR, "
                           "'%%Y%%m%%d') FROM payments WHERE out_trade_no='%s'",
                           no);
    snprintf(day, sizeof day, "%04lld-%02lld-%02lld", d / 10000, d / 100 % 100, d % 100);
    snprintf(path, sizeof path, "/api/v1/finance/payments?from=%s&to=%s", day, day);
    struct h_resp r;
    h_get(&g_srv, path, g_finance, &r);
    assert_int_equal(r.status, 200);
    cJSON *j = h_json(&r);
    h_resp_free(&r);
    const cJSON *it, *mine = NULL;
    int n = 0;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(j, "items"))
    {
        n++;
        if (!strcmp(cJSON_GetObjectItem(it, "out_trade_no")->valuestring, no))
            mine = it;
    }
    assert_int_equal(n, h_db_int(&g_db,
                                 "SELECT COUNT(*) FROM payments WHERE DATE_FORMAT(success_time + "
                                 "INTERVAL 8 HOUR, '%%Y%%m%%d') = %lld",
                                 d));
    assert_non_null(mine);
    assert_int_equal(cJSON_GetObjectItem(mine, "amount_fen")->valueint, 2500);
    assert_int_equal(cJSON_GetObjectItem(mine, "refunded_fen")->valueint, 2500);
    assert_string_equal(cJSON_GetObjectItem(mine, "order_status")->valuestring, "refunded");
    cJSON_Delete(j);
    /* The same as CSV: BOM, CRLF, yuan with two decimals; read back with a CSV parser. */
    char auth[160];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", g_finance);
    const char *hs[] = {auth, "Accept: text/csv", NULL};
    h_http(&g_srv, "GET", path, hs, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_memory_equal(r.body, "\xef\xbb\xbf", 3);
    assert_non_null(strstr(r.body, "\r\n"));
    struct cells *c = calloc(1, sizeof *c);
    struct csv_parser p;
    csv_init(&p, CSV_APPEND_NULL);
    assert_int_equal(csv_parse(&p, r.body + 3, r.len - 3, on_cell, on_row, c), r.len - 3);
    csv_fini(&p, on_cell, on_row, c);
    csv_free(&p);
    h_resp_free(&r);
    assert_int_equal(c->row, n + 1);
    assert_string_equal(c->v[0][0], "支付时间");
    assert_string_equal(c->v[0][3], "金额(元)");
    int found = 0;
    for (int i = 1; i < c->row; i++)
        if (!strcmp(c->v[i][1], no)) {
            found = 1;
            assert_string_equal(c->v[i][3], "25.00");
            assert_string_equal(c->v[i][4], "25.00");
            assert_int_equal(strlen(c->v[i][0]), 19); /* "YYYY-MM-DD HH:MM:SS" */
        }
    assert_true(found);
    free(c);
    /* Bad ranges and other roles are refused. */
    h_get(&g_srv, "/api/v1/finance/payments?from=2024-02-30", g_finance, &r);
    h_assert_error(&r, 400, "INVALID_INPUT");
    h_resp_free(&r);
    h_get(&g_srv, "/api/v1/finance/payments?from=2024-01-19&to=2024-01-18", g_finance, &r);
    h_assert_error(&r, 400, "INVALID_INPUT");
    h_resp_free(&r);
    h_get(&g_srv, path, NULL, &r);
    h_assert_error(&r, 401, "UNAUTHORIZED");
    h_resp_free(&r);
}

static void
test_the_day_s_trade_bill_downloads_in_two_signed_steps_and_matches_the_store(void **state)
{
    (void)state;
    char path[400], err[256], day[40];
    snprintf(path, sizeof path, "%s/client.conf", h_workdir());
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(g_conf, f);
    fclose(f);
    struct pc_config cfg;
    pc_config_defaults(&cfg);
    assert_int_equal(pc_config_load(&cfg, path, err, sizeof err), 0);
    struct pc_pay *pay = pc_pay_load(&cfg, err, sizeof err);
    assert_non_null(pay);
    pc_time_rfc3339(pc_time_now_ms() / 1000, day, sizeof day, PC_TZ_SHANGHAI_MIN);
    day[10] = '\0';
    struct pc_bill b;
    int rc = pc_bill_fetch(pay, day, &b, err, sizeof err);
    if (rc)
        fail_msg("pc_bill_fetch: %d %s", rc, err);
    assert_true(b.n >= 2);
    assert_int_equal(b.sum.count, (int64_t)b.n);
    /* Every payment in the bill is one we recorded, with the same amount; the refund too. */
    int64_t settle = 0;
    int refunds = 0;
    for (size_t i = 0; i < b.n; i++) {
        const struct pc_bill_row *r = &b.rows[i];
        if (!strcmp(r->trade_state, "SUCCESS")) {
            settle += r->settle_fen;
            assert_int_equal(h_db_int(&g_db,
                                      "SELECT COUNT(*) FROM payments WHERE out_trade_no='%s' AND "
                                      "transaction_id='%s' AND amount_fen=%lld",
                                      r->out_trade_no, r->transaction_id, (long long)r->settle_fen),
                             1);
        } else {
            assert_string_equal(r->trade_state, "REFUND");
            refunds++;
            assert_int_equal(h_db_int(&g_db,
                                      "SELECT COUNT(*) FROM refunds WHERE out_refund_no='%s' AND "
                                      "status='success' AND amount_fen=%lld",
                                      r->out_refund_no, (long long)r->refund_fen),
                             1);
        }
    }
    assert_int_equal(refunds, 1);
    assert_int_equal(settle, b.sum.settle_total_fen);
    assert_int_equal(b.sum.refund_total_fen, 2500);
    pc_bill_free(&b);
    /* A day without transactions has no bill. */
    assert_int_equal(pc_bill_fetch(pay, "2020-01-01", &b, err, sizeof err), PC_ENOTFOUND);
    assert_non_null(strstr(err, "NO_STATEMENT_EXIST"));
    pc_pay_free(pay);
    pc_config_free(&cfg);
}

/* Polls GET /finance/reconciliations/{day} until it is done or failed; returns its JSON. */
static cJSON *recon_report(const char *day)
{
    char path[96];
    snprintf(path, sizeof path, "/api/v1/finance/reconciliations/%s", day);
    for (int i = 0; i < 300; i++) {
        struct h_resp r;
        h_get(&g_srv, path, g_finance, &r);
        assert_int_equal(r.status, 200);
        cJSON *j = h_json(&r);
        h_resp_free(&r);
        const char *st = cJSON_GetObjectItem(j, "state")->valuestring;
        if (!strcmp(st, "done") || !strcmp(st, "failed"))
            return j;
        cJSON_Delete(j);
        h_msleep(50);
    }
    fail_msg("reconciliation of %s did not finish", day);
    return NULL;
}

static void test_a_reconciliation_explains_every_difference_between_bill_and_store(void **state)
{
    (void)state;
    const char *no = "P20240119AAAA0001"; /* paid at the sandbox, then refunded */
    char day[40], body[64];
    pc_time_rfc3339(pc_time_now_ms() / 1000, day, sizeof day, PC_TZ_SHANGHAI_MIN);
    day[10] = '\0';
    /* Our record of one payment disagrees with WeChat's by one fen. */
    h_db_int(&g_db, "UPDATE payments SET amount_fen = amount_fen - 100 WHERE out_trade_no='%s'",
             no);
    /* Another order paid at the sandbox whose notification we "lost": no payment, no event,
     * the order back to unpaid (fresh, so that the sweeper leaves it alone for a second). */
    const char *lost = "P20240119DDDD0001";
    h_db_int(&g_db,
             "DELETE FROM outbox WHERE dedupe_key=(SELECT transaction_id FROM payments "
             "WHERE out_trade_no='%s')",
             lost);
    h_db_int(&g_db, "DELETE FROM payments WHERE out_trade_no='%s'", lost);
    h_db_int(&g_db,
             "UPDATE orders SET status='unpaid', transaction_id=NULL, paid_at=NULL, "
             "updated_at=UTC_TIMESTAMP(3), pay_deadline=UTC_TIMESTAMP(3) + INTERVAL 1 HOUR "
             "WHERE order_no='%s'",
             lost);
    snprintf(body, sizeof body, "{\"bill_date\":\"%s\"}", day);
    struct h_resp r;
    h_post_json(&g_srv, "/api/v1/finance/reconciliations", g_finance, body, &r);
    assert_int_equal(r.status, 202);
    h_resp_free(&r);
    cJSON *j = recon_report(day);
    assert_string_equal(cJSON_GetObjectItem(j, "state")->valuestring, "done");
    const cJSON *rep = cJSON_GetObjectItem(j, "report");
    const cJSON *mism = cJSON_GetObjectItem(rep, "amount_mismatches");
    assert_int_equal(cJSON_GetArraySize(mism), 1);
    const cJSON *m0 = cJSON_GetArrayItem(mism, 0);
    assert_string_equal(cJSON_GetObjectItem(m0, "out_trade_no")->valuestring, no);
    assert_int_equal(cJSON_GetObjectItem(m0, "bill_fen")->valueint, 2500);
    assert_int_equal(cJSON_GetObjectItem(m0, "store_fen")->valueint, 2400);
    assert_int_equal(cJSON_GetObjectItem(rep, "refunds_matched")->valueint, 1);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(rep, "refunds_not_here")), 0);
    /* The lost one: found in the bill, queried, applied — and reported. */
    const cJSON *lh = cJSON_GetObjectItem(rep, "in_bill_not_here");
    assert_int_equal(cJSON_GetArraySize(lh), 1);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(lh, 0), "out_trade_no")->valuestring,
                        lost);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(lh, 0), "healed")));
    assert_true(wait_status(lost, "pending_review", 2000));
    assert_int_equal(h_db_int(&g_db,
                              "SELECT COUNT(*) FROM payments WHERE out_trade_no='%s' AND "
                              "source='query'",
                              lost),
                     1);
    /* Payments recorded here today that WeChat's bill does not carry (the crafted
     * notifications of the hostile-input tests): reported one by one. */
    long long today = h_db_int(&g_db,
                               "SELECT COUNT(*) FROM payments WHERE DATE(success_time + INTERVAL "
                               "8 HOUR) = '%s'",
                               day);
    int bill_rows = cJSON_GetObjectItem(cJSON_GetObjectItem(rep, "bill"), "rows")->valueint;
    int matched = cJSON_GetObjectItem(rep, "matched")->valueint;
    assert_int_equal(matched + 1, bill_rows - 1); /* all SUCCESS rows but the mismatch */
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(rep, "here_not_in_bill")),
                     today - (bill_rows - 1));
    long long counted = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItem(rep, "totals"))
    {
        counted += (long long)cJSON_GetObjectItem(t, "payments")->valuedouble;
    }
    assert_int_equal(counted, today);
    cJSON_Delete(j);
    /* Re-running the day replaces its report. */
    h_db_int(&g_db, "UPDATE payments SET amount_fen = amount_fen + 100 WHERE out_trade_no='%s'",
             no);
    h_post_json(&g_srv, "/api/v1/finance/reconciliations", g_finance, body, &r);
    assert_int_equal(r.status, 202);
    h_resp_free(&r);
    h_msleep(100);
    j = recon_report(day);
    rep = cJSON_GetObjectItem(j, "report");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(rep, "amount_mismatches")), 0);
    assert_int_equal(cJSON_GetObjectItem(rep, "matched")->valueint, bill_rows - 1);
    cJSON_Delete(j);
    assert_int_equal(
        h_db_int(&g_db, "SELECT COUNT(*) FROM reconciliations WHERE bill_date='%s'", day), 1);
    /* Bad days, unknown days, other roles. */
    const char *bad[] = {"{\"bill_date\":\"2024-13-01\"}", "{\"bill_date\":\"2099-01-01\"}",
                         "{\"bill_date\":\"2019-01-01\"}", "{}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        h_post_json(&g_srv, "/api/v1/finance/reconciliations", g_finance, bad[i], &r);
        h_assert_error(&r, 400, "INVALID_INPUT");
        h_resp_free(&r);
    }
    h_get(&g_srv, "/api/v1/finance/reconciliations/2020-01-01", g_finance, &r);
    h_assert_error(&r, 404, "NOT_FOUND");
    h_resp_free(&r);
    h_post_json(&g_srv, "/api/v1/finance/reconciliations", NULL, body, &r);
    h_assert_error(&r, 401, "UNAUTHORIZED");
    h_resp_free(&r);
}

/* WeChat Pay public-key mode: a sandbox that signs with PUB_KEY_ID_… and a server that knows
 * only that public key (no platform certificate). */
static void test_public_key_mode_verifies_responses_and_notifications(void **state)
{
    (void)state;
    struct h_sandbox sb;
    struct h_srv srv;
    char args[800], wx[600], conf[3000], mchid[32], serial[64], apiv3[64], pkid[96];
    snprintf(args, sizeof args,
             "--pay-dir %s --pay-mode pubkey --ca-file %s/tls/dev-ca.pem "
             "--notify-schedule 0.3,0.3,0.5,1",
             g_pay, h_workdir());
    h_sandbox_start(&sb, args);
    int port = h_free_port();
    snprintf(conf, sizeof conf,
             "%s[server]\nlisten = 127.0.0.1:%d\n"
             "[pay]\nmchid = %s\napi_base = %s\nca_file = %s/tls/dev-ca.pem\n"
             "merchant_key_file = %s/merchant.key\nmerchant_serial = %s\napiv3_key = %s\n"
             "pubkey_id = %s\npubkey_file = %s/pubkey.pub\n"
             "notify_url = https://127.0.0.1:%d/api/v1/pay/notify\n",
             h_sandbox_conf(&sb, wx, sizeof wx), port, payfile("mchid", mchid, sizeof mchid),
             sb.base, h_workdir(), g_pay, payfile("merchant.serial", serial, sizeof serial),
             payfile("apiv3.key", apiv3, sizeof apiv3), payfile("pubkey.id", pkid, sizeof pkid),
             g_pay, port);
    h_srv_start(&srv, &g_db, conf, 1);
    char tok[64];
    long long uid = h_student(&srv, &sb, "o_pubkey", "公钥同学", tok, sizeof tok);
    h_db_int(&g_db,
             "INSERT INTO orders (order_no, task_id, user_id, school_id, grad_year, student_no, "
             "student_name, status, amount_fen, pay_deadline) VALUES ('P20240119GGGG0001', %lld, "
             "%lld, %lld, 2024, '20240119GGGG0001', '公钥同学', 'unpaid', 2500, UTC_TIMESTAMP() "
             "+ INTERVAL 30 MINUTE)",
             g_task, uid, g_school);
    struct h_resp r;
    h_req_json(&srv, "POST", "/api/v1/orders/P20240119GGGG0001/pay", tok, "{}", &r);
    assert_int_equal(r.status, 200); /* the jsapi reply was signed with the public-key id */
    h_resp_free(&r);
    cJSON_Delete(
        h_sb_json(&sb, "POST", "/__sandbox/pay", "{\"out_trade_no\":\"P20240119GGGG0001\"}"));
    assert_true(wait_status("P20240119GGGG0001", "pending_review", 5000));
    assert_int_equal(h_srv_stop(&srv, SIGTERM), 0);
    assert_int_equal(h_sandbox_stop(&sb), 0);
}

/* Money for a closed order whose student has made a new order in the same task meanwhile:
 * reopening it would make two active orders, so the money is kept for a refund decision —
 * and every record says so: the order stays closed, the payment row, the audit row and the
 * outbox row all read refund_due (the payment row once read "applied"). */
static void test_a_payment_that_cannot_reopen_its_order_is_recorded_as_refund_due(void **state)
{
    (void)state;
    char tok[64];
    long long uid = h_student(&g_srv, &g_sb, "o_reorder", "重下单同学", tok, sizeof tok);
    h_db_int(&g_db,
             "INSERT INTO orders (order_no, task_id, user_id, school_id, grad_year, student_no, "
             "student_name, status, closed_reason, amount_fen) VALUES ('P20240119HHHH0001', "
             "%lld, %lld, %lld, 2024, '20240119HHHH', '重下单同学', 'closed', 'pay_timeout', "
             "2500), ('P20240119HHHH0002', %lld, %lld, %lld, 2024, '20240119HHHH', "
             "'重下单同学', 'unpaid', NULL, 2500)",
             g_task, uid, g_school, g_task, uid, g_school);
    size_t len;
    char *late =
        notification("P20240119HHHH0001", H_APPID, NULL, 2500, "o_reorder", "EV-reorder", &len);
    assert_int_equal(post_notify(late, len, 0, NULL, NULL), 204);
    free(late);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM orders WHERE order_no IN "
                                     "('P20240119HHHH0001', 'P20240119HHHH0002') AND status IN "
                                     "('closed', 'unpaid')"),
                     2);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM payments WHERE "
                                     "out_trade_no='P20240119HHHH0001' AND "
                                     "disposition='refund_due'"),
                     1);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM payments WHERE "
                                     "out_trade_no='P20240119HHHH0001' AND disposition='applied'"),
                     0);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM audit_log WHERE "
                                     "action='payment.refund_due' AND "
                                     "target_id='P20240119HHHH0001'"),
                     1);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM audit_log WHERE action='order.paid' AND "
                                     "target_id='P20240119HHHH0001'"),
                     0);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM outbox WHERE kind='payment.refund_due' "
                                     "AND payload LIKE '%%P20240119HHHH0001%%'"),
                     1);
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
        cmocka_unit_test(test_prepay_returns_signed_payment_arguments_and_reuses_the_prepay_id),
        cmocka_unit_test(test_the_sandbox_payment_notification_moves_the_order_once),
        cmocka_unit_test(test_hostile_notifications_are_refused_and_change_nothing),
        cmocka_unit_test(test_fifty_concurrent_copies_make_one_transition),
        cmocka_unit_test(test_a_lost_notification_is_healed_by_the_sweeper),
        cmocka_unit_test(test_overdue_unpaid_orders_are_queried_then_closed),
        cmocka_unit_test(test_a_notification_during_a_database_outage_gets_500_then_applies),
        cmocka_unit_test(test_a_refund_ends_in_refunded_only_through_the_refund_notification),
        cmocka_unit_test(test_finance_lists_the_day_s_payments_as_json_and_as_a_csv_excel_opens),
        cmocka_unit_test(
            test_the_day_s_trade_bill_downloads_in_two_signed_steps_and_matches_the_store),
        cmocka_unit_test(test_a_reconciliation_explains_every_difference_between_bill_and_store),
        cmocka_unit_test(test_public_key_mode_verifies_responses_and_notifications),
        cmocka_unit_test(test_a_payment_that_cannot_reopen_its_order_is_recorded_as_refund_due),
        cmocka_unit_test(test_server_and_sandbox_exit_0),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
