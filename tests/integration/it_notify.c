/* it_notify.c — notifications that always arrive, through the real server, MariaDB and the
 * sandbox: a rejection reaches the student as a subscription message with the reason and the
 * deadline; no consent or 43101 falls back to SMS at the bound phone; a rejected
 * access_token goes through its owner; failures are retried with backoff, parked as dead
 * after the cap with the error visible, and re-queued by staff; two server instances drain
 * one outbox without sending anything twice; the window close-out closes unpaid orders and
 * keeps paid ones. */
#include "harness.h"

#include <stdbool.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#define SMS_KEY "sms-test-key-123"

static struct h_db g_db;
static struct h_sandbox g_sb;
static struct h_srv g_srv, g_srv2;
static char g_conf[3000];
static long long g_task, g_school;
static char g_admin[128], g_reviewer[128];

static int setup(void **state)
{
    (void)state;
    char wx[600];
    h_db_start(&g_db);
    h_sandbox_start(&g_sb, "--sms-key " SMS_KEY);
    snprintf(g_conf, sizeof g_conf,
             "[sms]\napi_base = %s\napi_key = %s\nca_file = %s/tls/dev-ca.pem\n"
             "[notify]\ninterval_ms = 100\nbackoff_base_ms = 150\nbackoff_max_ms = 600\n"
             "max_attempts = 3\ntemplate_rejected = TPL_REJECT\ntemplate_approved = TPL_OK\n"
             "[tasks]\ncloseout_interval_ms = 200\n%s",
             g_sb.base, SMS_KEY, h_workdir(), h_sandbox_conf(&g_sb, wx, sizeof wx));
    h_srv_start(&g_srv, &g_db, g_conf, 0);
    h_db_int(&g_db, "INSERT INTO schools (code, name) VALUES ('10402', '演示大学')");
    g_school = h_db_int(&g_db, "SELECT id FROM schools WHERE code='10402'");
    h_db_int(&g_db,
             "INSERT INTO tasks (school_id, name, collection_type, feature_code, "
             "feature_code_norm, opens_at, closes_at, price_fen, grad_year) "
             "VALUES (%lld, '2024届毕业生图像采集', 'centralized', 'notify', 'notify', "
             "UTC_TIMESTAMP() - INTERVAL 1 DAY, UTC_TIMESTAMP() + INTERVAL 1 DAY, 2500, 2024)",
             g_school);
    g_task = h_db_int(&g_db, "SELECT id FROM tasks WHERE feature_code_norm='notify'");
    h_user_add(&g_srv, "boss", "admin", "boss-password-1");
    h_login(&g_srv, "boss", "boss-password-1", g_admin, sizeof g_admin);
    h_user_add(&g_srv, "rev", "reviewer", "reviewer-pass-1");
    h_login(&g_srv, "rev", "reviewer-pass-1", g_reviewer, sizeof g_reviewer);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (g_srv2.pid > 0)
        h_srv_stop(&g_srv2, SIGTERM);
    h_stack_down(&g_srv, &g_sb, &g_db);
    return 0;
}

/* A logged-in student (known to the sandbox) with a paid order awaiting review. */
static void paid(const char *openid, const char *no, const char *phone, char *tok, size_t len)
{
    long long uid = h_student(&g_srv, &g_sb, openid, "王小明", tok, len);
    if (phone)
        h_db_int(&g_db, "UPDATE users SET phone='%s' WHERE id=%lld", phone, uid);
    h_db_int(&g_db,
             "INSERT INTO orders (order_no, task_id, user_id, school_id, grad_year, student_no, "
             "student_name, status, amount_fen, paid_at, transaction_id) VALUES ('%s', %lld, "
             "%lld, %lld, 2024, '%s', '王小明', 'pending_review', 2500, UTC_TIMESTAMP(3), "
             "CONCAT('42', '%s'))",
             no, g_task, uid, g_school, no + 1, no + 1);
}

static void reject(const char *no)
{
    char path[96];
    struct h_resp r;
    snprintf(path, sizeof path, "/api/v1/admin/orders/%s/review", no);
    h_post_json(&g_srv, path, g_reviewer,
                "{\"decision\":\"reject\",\"reason_code\":\"HAIR_COVERS_EARS\"}", &r);
    assert_int_equal(r.status, 200);
    h_resp_free(&r);
}

/* Waits until the order's notification is done or dead; returns its state. */
static const char *settled(const char *no, int ms)
{
    for (int i = 0; i < ms / 50; i++) {
        if (h_db_int(&g_db,
                     "SELECT COUNT(*) FROM outbox WHERE JSON_VALUE(payload, '$.order_no')='%s' "
                     "AND state IN ('done', 'dead')",
                     no) > 0)
            break;
        h_msleep(50);
    }
    return h_db_int(&g_db,
                    "SELECT COUNT(*) FROM outbox WHERE JSON_VALUE(payload, '$.order_no')='%s' "
                    "AND state='done'",
                    no)
               ? "done"
           : h_db_int(&g_db,
                      "SELECT COUNT(*) FROM outbox WHERE JSON_VALUE(payload, '$.order_no')='%s' "
                      "AND state='dead'",
                      no)
               ? "dead"
               : "pending";
}

static long long outbox_int(const char *no, const char *col)
{
    return h_db_int(&g_db, "SELECT %s FROM outbox WHERE JSON_VALUE(payload, '$.order_no')='%s'",
                    col, no);
}

/* The sandbox's messages of kind to `to`, as JSON (caller deletes). */
static cJSON *messages(const char *kind)
{
    char path[64];
    snprintf(path, sizeof path, "/__sandbox/messages?kind=%s", kind);
    return h_sb_json(&g_sb, "GET", path, NULL);
}

static int count_to(const cJSON *m, const char *to, const cJSON **last)
{
    int n = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(m, "messages"))
    {
        if (!strcmp(cJSON_GetObjectItem(it, "to")->valuestring, to)) {
            n++;
            if (last)
                *last = it;
        }
    }
    return n;
}

static void consent(const char *tok, const char *openid, bool at_wechat_too)
{
    struct h_resp r;
    h_post_json(&g_srv, "/api/v1/me/subscriptions", tok,
                "{\"template_ids\":{\"TPL_REJECT\":\"accept\",\"TPL_OK\":\"reject\"}}", &r);
    assert_int_equal(r.status, 200);
    cJSON *j = h_json(&r);
    assert_int_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(j, "remaining"), "TPL_REJECT")->valueint, 1);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "remaining"), "TPL_OK")->valueint,
                     0);
    cJSON_Delete(j);
    h_resp_free(&r);
    if (at_wechat_too) {
        char body[160];
        snprintf(body, sizeof body, "{\"openid\":\"%s\",\"template_id\":\"TPL_REJECT\"}", openid);
        cJSON_Delete(h_sb_json(&g_sb, "POST", "/__sandbox/subscribe-consent", body));
    }
}

static void
test_a_rejection_reaches_the_student_by_subscription_with_reason_and_deadline(void **state)
{
    (void)state;
    char tok[64];
    const char *no = "P20240119NT000001";
    paid("o_nt1", no, "13800138001", tok, sizeof tok);
    consent(tok, "o_nt1", true);
    reject(no);
    assert_string_equal(settled(no, 10000), "done");
    cJSON *m = messages("subscribe");
    const cJSON *last = NULL;
    assert_int_equal(count_to(m, "o_nt1", &last), 1);
    assert_string_equal(cJSON_GetObjectItem(last, "template_id")->valuestring, "TPL_REJECT");
    const cJSON *data = cJSON_GetObjectItem(last, "data");
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(data, "thing2"), "value")->valuestring,
        "头发遮挡耳朵，请露出双耳后重拍");
    const char *deadline =
        cJSON_GetObjectItem(cJSON_GetObjectItem(data, "time3"), "value")->valuestring;
    assert_non_null(strstr(deadline, "年"));
    assert_non_null(strstr(deadline, "日 "));
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(data, "thing1"), "value")->valuestring,
        "2024届毕业生图像采集");
    cJSON_Delete(m);
    /* No SMS when the subscription message arrived; the consent is used up. */
    m = messages("sms");
    assert_int_equal(count_to(m, "13800138001", NULL), 0);
    cJSON_Delete(m);
    assert_int_equal(h_db_int(&g_db, "SELECT remaining FROM subscription_consents WHERE "
                                     "template_id='TPL_REJECT' AND user_id=(SELECT id FROM users "
                                     "WHERE openid='o_nt1')"),
                     0);
    char via[32];
    snprintf(via, sizeof via, "%lld",
             h_db_int(&g_db,
                      "SELECT sent_via='subscribe' FROM outbox WHERE "
                      "JSON_VALUE(payload, '$.order_no')='%s'",
                      no));
    assert_string_equal(via, "1");
}

static void test_without_consent_the_rejection_goes_by_sms_to_the_bound_phone(void **state)
{
    (void)state;
    char tok[64];
    const char *no = "P20240119NT000002";
    paid("o_nt2", no, "13800138002", tok, sizeof tok);
    reject(no);
    assert_string_equal(settled(no, 10000), "done");
    cJSON *m = messages("sms");
    const cJSON *last = NULL;
    assert_int_equal(count_to(m, "13800138002", &last), 1);
    const char *text = cJSON_GetObjectItem(last, "text")->valuestring;
    assert_non_null(strstr(text, "【毕业生图像采集】"));
    assert_non_null(strstr(text, "头发遮挡耳朵，请露出双耳后重拍"));
    assert_non_null(strstr(text, "前打开小程序重新上传照片"));
    assert_non_null(strstr(text, no));
    cJSON_Delete(m);
    assert_int_equal(h_db_int(&g_db,
                              "SELECT sent_via='sms' FROM outbox WHERE "
                              "JSON_VALUE(payload, '$.order_no')='%s'",
                              no),
                     1);
    /* The gateway saw our key. */
    struct h_resp r;
    h_sb_call(&g_sb, "GET", "/__sandbox/requests?endpoint=sms", NULL, &r);
    assert_non_null(strstr(r.body, "Bearer " SMS_KEY));
    h_resp_free(&r);
}

static void test_43101_from_wechat_falls_back_to_sms_and_clears_the_consent(void **state)
{
    (void)state;
    char tok[64];
    const char *no = "P20240119NT000003";
    paid("o_nt3", no, "13800138003", tok, sizeof tok);
    consent(tok, "o_nt3", false); /* we think there is one; WeChat says 43101 */
    reject(no);
    assert_string_equal(settled(no, 10000), "done");
    cJSON *m = messages("sms");
    assert_int_equal(count_to(m, "13800138003", NULL), 1);
    cJSON_Delete(m);
    m = messages("subscribe");
    assert_int_equal(count_to(m, "o_nt3", NULL), 0);
    cJSON_Delete(m);
    assert_int_equal(h_db_int(&g_db, "SELECT remaining FROM subscription_consents WHERE "
                                     "user_id=(SELECT id FROM users WHERE openid='o_nt3') AND "
                                     "template_id='TPL_REJECT'"),
                     0);
}

static void test_a_rejected_access_token_is_replaced_by_its_owner_and_the_message_sent(void **state)
{
    (void)state;
    char tok[64];
    const char *no = "P20240119NT000004";
    paid("o_nt4", no, NULL, tok, sizeof tok);
    consent(tok, "o_nt4", true);
    cJSON_Delete(h_sb_json(&g_sb, "POST", "/__sandbox/expire-token", "{}"));
    reject(no);
    assert_string_equal(settled(no, 15000), "done");
    cJSON *m = messages("subscribe");
    assert_int_equal(count_to(m, "o_nt4", NULL), 1);
    cJSON_Delete(m);
    assert_true(outbox_int(no, "attempts") >= 2);
}

static void test_failures_are_retried_with_backoff_and_then_delivered_once(void **state)
{
    (void)state;
    char tok[64];
    const char *no = "P20240119NT000005";
    paid("o_nt5", no, "13800138005", tok, sizeof tok);
    cJSON_Delete(h_sb_json(&g_sb, "POST", "/__sandbox/faults",
                           "{\"endpoint\":\"sms\",\"errcode\":-1,\"count\":2}"));
    reject(no);
    assert_string_equal(settled(no, 15000), "done");
    assert_int_equal(outbox_int(no, "attempts"), 3);
    cJSON *m = messages("sms");
    assert_int_equal(count_to(m, "13800138005", NULL), 1);
    cJSON_Delete(m);
}

/* The value of series in this instance's GET /metrics, or -1. */
static long long gauge(const char *series)
{
    struct h_resp r;
    if (h_http_try(&g_srv, "GET", "/metrics", NULL, NULL, 0, &r) || r.status != 200) {
        h_resp_free(&r);
        return -1;
    }
    const char *p = strstr(r.body, series);
    long long v = p ? strtoll(p + strlen(series), NULL, 10) : -1;
    h_resp_free(&r);
    return v;
}

/* Waits up to 5 s (the worker samples the backlog once a second) for the gauge to equal want. */
static long long gauge_reaches(const char *series, long long want)
{
    long long v = gauge(series);
    for (int t = 0; t < 50 && v != want; t++) {
        h_msleep(100);
        v = gauge(series);
    }
    return v;
}

static void test_a_message_is_dead_after_the_cap_visible_to_staff_and_can_be_requeued(void **state)
{
    (void)state;
    char tok[64];
    const char *no = "P20240119NT000006";
    paid("o_nt6", no, "13800138006", tok, sizeof tok);
    cJSON_Delete(h_sb_json(&g_sb, "POST", "/__sandbox/faults",
                           "{\"endpoint\":\"sms\",\"errcode\":-1,\"count\":3}"));
    reject(no);
    assert_string_equal(settled(no, 15000), "dead");
    assert_int_equal(outbox_int(no, "attempts"), 3);
    /* The backlog gauges count it across instances, from the table. */
    const char *dead_series = "portraitd_outbox_backlog{state=\"dead\"} ";
    long long dead_rows = h_db_int(&g_db, "SELECT COUNT(*) FROM outbox WHERE state='dead'");
    assert_true(dead_rows >= 1);
    assert_int_equal(gauge_reaches(dead_series, dead_rows), dead_rows);
    struct h_resp r;
    h_get(&g_srv, "/api/v1/admin/outbox?state=dead", g_admin, &r);
    assert_int_equal(r.status, 200);
    cJSON *j = h_json(&r);
    h_resp_free(&r);
    const cJSON *it, *dead = NULL;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(j, "items"))
    {
        if (cJSON_IsString(cJSON_GetObjectItem(it, "order_no")) &&
            !strcmp(cJSON_GetObjectItem(it, "order_no")->valuestring, no))
            dead = it;
    }
    assert_non_null(dead);
    assert_non_null(strstr(cJSON_GetObjectItem(dead, "last_error")->valuestring, "sms"));
    long long id = (long long)cJSON_GetObjectItem(dead, "id")->valuedouble;
    cJSON_Delete(j);
    /* Reviewers do not see it; the admin re-queues it, and it is delivered. */
    h_get(&g_srv, "/api/v1/admin/outbox", g_reviewer, &r);
    assert_int_equal(r.status, 403);
    h_resp_free(&r);
    char path[64];
    snprintf(path, sizeof path, "/api/v1/admin/outbox/%lld/retry", id);
    h_post_json(&g_srv, path, g_admin, "{}", &r);
    assert_int_equal(r.status, 200);
    h_resp_free(&r);
    h_post_json(&g_srv, path, g_admin, "{}", &r);
    h_assert_error(&r, 409, "OUTBOX_STATE");
    h_resp_free(&r);
    assert_string_equal(settled(no, 10000), "done");
    assert_int_equal(gauge_reaches(dead_series, dead_rows - 1), dead_rows - 1);
    assert_int_equal(gauge_reaches("portraitd_outbox_backlog{state=\"due\"} ", 0), 0);
    cJSON *m = messages("sms");
    assert_int_equal(count_to(m, "13800138006", NULL), 1);
    cJSON_Delete(m);
    assert_int_equal(h_db_int(&g_db,
                              "SELECT COUNT(*) FROM audit_log WHERE action='outbox.retry' "
                              "AND target_id='%lld'",
                              id),
                     1);
}

static void test_two_instances_drain_one_outbox_and_send_each_message_once(void **state)
{
    (void)state;
    /* The second instance claims 40 at a time: more than one statement reads (32). */
    static char conf2[sizeof g_conf + 16];
    const char *at = strstr(g_conf, "[notify]\n") + strlen("[notify]\n");
    snprintf(conf2, sizeof conf2, "%.*sbatch = 40\n%s", (int)(at - g_conf), g_conf, at);
    h_srv_start(&g_srv2, &g_db, conf2, 1);
    cJSON_Delete(h_sb_json(&g_sb, "POST", "/__sandbox/reset", NULL));
    enum { N = 60 };
    for (int i = 0; i < N; i++) {
        h_db_int(&g_db, "INSERT INTO users (openid, phone) VALUES ('o_bulk%02d', '139%08d')", i, i);
        h_db_int(&g_db,
                 "INSERT INTO orders (order_no, task_id, user_id, school_id, grad_year, "
                 "student_no, student_name, status, amount_fen, paid_at) VALUES "
                 "('P2024BULK%04d', %lld, (SELECT id FROM users WHERE openid='o_bulk%02d'), "
                 "%lld, 2024, 'BULK%04d', '批量同学', 'rejected', 2500, UTC_TIMESTAMP(3))",
                 i, g_task, i, g_school, i);
    }
    /* All at once, as a burst of rejections would queue them. */
    h_db_int(&g_db,
             "INSERT INTO outbox (kind, dedupe_key, payload) SELECT 'student.notice', "
             "CONCAT('bulk:', order_no), JSON_OBJECT('event', 'rejected', 'order_no', "
             "CONVERT(order_no USING utf8mb4), "
             "'reason', '背景不符合要求', 'editable_until_db', "
             "DATE_FORMAT(UTC_TIMESTAMP(3) + INTERVAL 7 DAY, '%%Y-%%m-%%d %%H:%%i:%%s.000')) "
             "FROM orders WHERE order_no LIKE 'P2024BULK%%'");
    for (int i = 0; i < 400; i++) {
        if (h_db_int(&g_db, "SELECT COUNT(*) FROM outbox WHERE dedupe_key LIKE 'bulk:%%' AND "
                            "state='done'") == N)
            break;
        h_msleep(50);
    }
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM outbox WHERE dedupe_key LIKE "
                                     "'bulk:%%' AND state='done' AND sent_via='sms'"),
                     N);
    cJSON *m = messages("sms");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(m, "messages")), N);
    for (int i = 0; i < N; i++) {
        char phone[16];
        snprintf(phone, sizeof phone, "139%08d", i);
        assert_int_equal(count_to(m, phone, NULL), 1);
    }
    cJSON_Delete(m);
    printf("# claimed by %lld instance(s)\n",
           h_db_int(&g_db, "SELECT COUNT(DISTINCT claimed_by) FROM outbox WHERE dedupe_key "
                           "LIKE 'bulk:%%'"));
    assert_int_equal(h_srv_stop(&g_srv2, SIGTERM), 0);
    g_srv2.pid = 0;
}

/* A message claimed by a worker that died (its lease over) is claimed again and sent; one whose
 * lease still runs is left to its worker; one with nothing to send (no consent, no phone) is
 * done, by none, saying why. */
static void test_an_expired_claim_is_taken_again_and_one_with_nothing_to_send_is_done(void **state)
{
    (void)state;
    char tok[64];
    const char *lost = "P20240119NT000031", *held = "P20240119NT000032",
               *mute = "P20240119NT000033";
    paid("o_nt31", lost, "13800138031", tok, sizeof tok);
    paid("o_nt32", held, "13800138032", tok, sizeof tok);
    paid("o_nt33", mute, NULL, tok, sizeof tok);
    const char *rows[] = {lost, held};
    const char *until[] = {"UTC_TIMESTAMP(3) - INTERVAL 1 SECOND",
                           "UTC_TIMESTAMP(3) + INTERVAL 1 HOUR"};
    for (int i = 0; i < 2; i++)
        h_db_int(&g_db,
                 "INSERT INTO outbox (kind, dedupe_key, payload, state, attempts, claimed_by, "
                 "next_try_at, locked_until) VALUES ('student.notice', 'lease:%s', "
                 "JSON_OBJECT('event', 'rejected', 'order_no', '%s', 'reason', '背景不符合要求', "
                 "'editable_until_db', DATE_FORMAT(UTC_TIMESTAMP(3) + INTERVAL 7 DAY, "
                 "'%%Y-%%m-%%d %%H:%%i:%%s.000')), 'running', 1, 'gone:1:dead', "
                 "UTC_TIMESTAMP(3) - INTERVAL 1 MINUTE, %s)",
                 rows[i], rows[i], until[i]);
    reject(mute);
    assert_string_equal(settled(lost, 10000), "done");
    assert_string_equal(settled(mute, 10000), "done");
    cJSON *m = messages("sms");
    assert_int_equal(count_to(m, "13800138031", NULL), 1);
    assert_int_equal(count_to(m, "13800138032", NULL), 0);
    cJSON_Delete(m);
    assert_int_equal(
        outbox_int(lost, "sent_via='sms' AND attempts=2 AND claimed_by<>'gone:1:dead'"), 1);
    assert_int_equal(outbox_int(held, "state='running' AND claimed_by='gone:1:dead'"), 1);
    assert_int_equal(outbox_int(mute, "sent_via='none' AND last_error LIKE '%%no phone bound%%'"),
                     1);
}

/* Here no template and no SMS are configured for "paid": such a message is finished in its
 * claim, by none, saying why, and nothing reaches WeChat or the SMS gateway. */
static void test_a_paid_message_with_no_channel_is_finished_in_its_claim(void **state)
{
    (void)state;
    char tok[64];
    const char *no = "P20240119NT000041";
    paid("o_nt41", no, "13800138041", tok, sizeof tok);
    cJSON_Delete(h_sb_json(&g_sb, "POST", "/__sandbox/reset", NULL));
    h_db_int(&g_db,
             "INSERT INTO outbox (kind, dedupe_key, payload) VALUES ('order.paid', 'paid:%s', "
             "JSON_OBJECT('order_no', '%s'))",
             no, no);
    assert_string_equal(settled(no, 10000), "done");
    assert_int_equal(outbox_int(no,
                                "sent_via='none' AND attempts=1 AND claimed_by IS NOT NULL "
                                "AND sent_at IS NOT NULL AND locked_until IS NULL AND "
                                "last_error LIKE 'nothing to send: no subscription template%%'"),
                     1);
    cJSON *m = messages("sms");
    assert_int_equal(count_to(m, "13800138041", NULL), 0);
    cJSON_Delete(m);
    m = messages("subscribe");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(m, "messages")), 0);
    cJSON_Delete(m);
}

static void test_the_window_close_out_closes_unpaid_orders_and_keeps_paid_ones(void **state)
{
    (void)state;
    h_db_int(&g_db,
             "INSERT INTO tasks (school_id, name, collection_type, feature_code, "
             "feature_code_norm, opens_at, closes_at, price_fen, grad_year) "
             "VALUES (%lld, '补拍', 'scattered', 'closing', 'closing', "
             "UTC_TIMESTAMP() - INTERVAL 2 DAY, UTC_TIMESTAMP() + INTERVAL 1 HOUR, 2500, 2024)",
             g_school);
    long long t = h_db_int(&g_db, "SELECT id FROM tasks WHERE feature_code_norm='closing'");
    const char *st[] = {"awaiting_photo", "unpaid", "pending_review", "approved", "rejected"};
    for (int i = 0; i < 5; i++) {
        h_db_int(&g_db, "INSERT INTO users (openid) VALUES ('o_close%d')", i);
        h_db_int(&g_db,
                 "INSERT INTO orders (order_no, task_id, user_id, school_id, grad_year, "
                 "student_no, student_name, status, amount_fen) VALUES ('P2024CLOSE%d', %lld, "
                 "(SELECT id FROM users WHERE openid='o_close%d'), %lld, 2024, 'CL%d', '同学', "
                 "'%s', 2500)",
                 i, t, i, g_school, i, st[i]);
    }
    h_msleep(600); /* open window: nothing happens */
    assert_int_equal(h_db_int(&g_db,
                              "SELECT COUNT(*) FROM orders WHERE task_id=%lld AND "
                              "status='closed'",
                              t),
                     0);
    h_db_int(&g_db,
             "UPDATE tasks SET closes_at = UTC_TIMESTAMP(3) - INTERVAL 1 SECOND WHERE "
             "id=%lld",
             t);
    for (int i = 0; i < 100; i++) {
        if (h_db_int(&g_db, "SELECT closed_out_at IS NOT NULL FROM tasks WHERE id=%lld", t))
            break;
        h_msleep(50);
    }
    assert_int_equal(h_db_int(&g_db,
                              "SELECT COUNT(*) FROM orders WHERE task_id=%lld AND status='closed' "
                              "AND closed_reason='window_closed'",
                              t),
                     2);
    assert_int_equal(h_db_int(&g_db,
                              "SELECT COUNT(*) FROM orders WHERE task_id=%lld AND "
                              "status IN ('pending_review','approved','rejected')",
                              t),
                     3);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM audit_log WHERE action='order.close' "
                                     "AND target_id LIKE 'P2024CLOSE%%'"),
                     2);
    assert_int_equal(h_db_int(&g_db,
                              "SELECT COUNT(*) FROM audit_log a JOIN tasks t ON t.id = %lld WHERE "
                              "a.action='task.closeout' AND a.target_id='%lld' AND a.school_id = "
                              "t.school_id",
                              t, t),
                     1);
}

static void test_bad_consent_bodies_are_refused_and_change_nothing(void **state)
{
    (void)state;
    char tok[64];
    h_student(&g_srv, &g_sb, "o_nt9", NULL, tok, sizeof tok);
    const char *bad[] = {"{}",
                         "{\"template_ids\":[]}",
                         "{\"template_ids\":{}}",
                         "{\"template_ids\":{\"TPL\":\"yes\"}}",
                         "{\"template_ids\":{\"bad id\":\"accept\"}}",
                         "[1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct h_resp r;
        h_post_json(&g_srv, "/api/v1/me/subscriptions", tok, bad[i], &r);
        assert_int_equal(r.status, 400);
        h_resp_free(&r);
    }
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM subscription_consents WHERE "
                                     "user_id=(SELECT id FROM users WHERE openid='o_nt9')"),
                     0);
    struct h_resp r;
    h_post_json(&g_srv, "/api/v1/me/subscriptions", NULL,
                "{\"template_ids\":{\"TPL_REJECT\":\"accept\"}}", &r);
    assert_int_equal(r.status, 401);
    h_resp_free(&r);
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
        cmocka_unit_test(
            test_a_rejection_reaches_the_student_by_subscription_with_reason_and_deadline),
        cmocka_unit_test(test_without_consent_the_rejection_goes_by_sms_to_the_bound_phone),
        cmocka_unit_test(test_43101_from_wechat_falls_back_to_sms_and_clears_the_consent),
        cmocka_unit_test(
            test_a_rejected_access_token_is_replaced_by_its_owner_and_the_message_sent),
        cmocka_unit_test(test_failures_are_retried_with_backoff_and_then_delivered_once),
        cmocka_unit_test(test_a_message_is_dead_after_the_cap_visible_to_staff_and_can_be_requeued),
        cmocka_unit_test(test_two_instances_drain_one_outbox_and_send_each_message_once),
        cmocka_unit_test(test_an_expired_claim_is_taken_again_and_one_with_nothing_to_send_is_done),
        cmocka_unit_test(test_a_paid_message_with_no_channel_is_finished_in_its_claim),
        cmocka_unit_test(test_the_window_close_out_closes_unpaid_orders_and_keeps_paid_ones),
        cmocka_unit_test(test_bad_consent_bodies_are_refused_and_change_nothing),
        cmocka_unit_test(test_server_and_sandbox_exit_0),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
