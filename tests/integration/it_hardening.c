/* it_hardening.c — the smaller holes of issue 14, each against the real stack: refund
 * notifications that are not ours, a second refund on top of an abnormal one, a phone code used
 * by someone else, camera metadata in stored originals and public avatars, formulas in CSV
 * exports and climbing zip member names, and an outbox batch that outlives its lease while a
 * second instance waits. */
#include "harness.h"

#include "photo/testgen.h"

#include <signal.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <turbojpeg.h>

#define SMS_KEY "sms-hardening-key"

static struct h_db g_db;
static struct h_sandbox g_sb;
static struct h_srv g_srv, g_srv2;
static char g_pay[400], g_conf[4000];
static long long g_school, g_task;
static char g_admin[64], g_fin[64];

static int setup(void **state)
{
    (void)state;
    char wx[600], pay[1200];
    h_db_start(&g_db);
    h_pay_sandbox_start(&g_sb, g_pay, sizeof g_pay,
                        "--refund-delay-ms 200 --notify-schedule 0.3,0.3 --sms-key " SMS_KEY);
    int port = h_free_port();
    snprintf(g_conf, sizeof g_conf,
             "%s[server]\nlisten = 127.0.0.1:%d\n%s"
             "[sms]\napi_base = %s\napi_key = %s\nca_file = %s/tls/dev-ca.pem\nevents = paid\n"
             "[notify]\ninterval_ms = 100\nbatch = 3\nlease_s = 5\n",
             h_sandbox_conf(&g_sb, wx, sizeof wx), port,
             h_pay_conf_at(&g_sb, g_pay, port, true, pay, sizeof pay), g_sb.base, SMS_KEY,
             h_workdir());
    h_srv_start(&g_srv, &g_db, g_conf, 0);
    g_task = h_db_task(&g_db, "10402", "演示大学", "hard", &g_school);
    h_user_add(&g_srv, "boss", "admin", "boss-password-1");
    h_login(&g_srv, "boss", "boss-password-1", g_admin, sizeof g_admin);
    h_user_add(&g_srv, "fin", "finance", "fin-password-11");
    h_login(&g_srv, "fin", "fin-password-11", g_fin, sizeof g_fin);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (g_srv2.pid > 0)
        h_srv_stop(&g_srv2, SIGKILL);
    return h_stack_down(&g_srv, &g_sb, &g_db);
}

/* An order of a new student in status, paid (transaction_id) unless awaiting_photo. */
static long long order(const char *openid, const char *no, const char *status, char *tok,
                       size_t len)
{
    long long uid = h_student(&g_srv, &g_sb, openid, "王小明", tok, len);
    bool paid = strcmp(status, "awaiting_photo") != 0;
    h_db_int(&g_db,
             "INSERT INTO orders (order_no, task_id, user_id, school_id, grad_year, student_no, "
             "student_name, college, status, amount_fen, paid_at, transaction_id) VALUES ('%s', "
             "%lld, %lld, %lld, 2024, '%s', '王小明', '文学院', '%s', 2500, %s, %s)",
             no, g_task, uid, g_school, no + 1, status, paid ? "UTC_TIMESTAMP(3)" : "NULL",
             paid ? "CONCAT('42', SUBSTRING(order_no, 2))" : "NULL");
    return uid;
}

static char *refund_plain(const char *mchid, const char *otn, const char *status, long refund,
                          long total)
{
    char *p = malloc(1024), m[32];
    snprintf(p, 1024,
             "{\"mchid\":\"%s\",\"out_trade_no\":\"%s\",\"transaction_id\":\"42%s\","
             "\"out_refund_no\":\"R%s-1\",\"refund_id\":\"50000000%s\",\"refund_status\":\"%s\","
             "\"success_time\":\"2024-01-20T10:00:00+08:00\",\"user_received_account\":\"零钱\","
             "\"amount\":{\"total\":%ld,\"refund\":%ld,\"payer_total\":%ld,\"payer_refund\":%ld}}",
             mchid ? mchid : h_pay_file(g_pay, "mchid", m, sizeof m), otn, otn + 1, otn, otn + 9,
             status, total, refund, total, refund);
    return p;
}

static long refund_notify(const char *id, const char *event, char *plain)
{
    char *body = h_pay_envelope(g_pay, id, event, "refund", plain);
    long st = h_pay_notify_post(&g_srv, g_pay, "/api/v1/pay/refund-notify", body);
    free(body);
    free(plain);
    return st;
}

static void test_refund_notifications_that_are_not_ours_change_nothing(void **state)
{
    (void)state;
    char tok[64];
    const char *no = "P20240120RFND0001", *other = "P20240120RFND0002";
    order("o_refund_1", no, "pending_review", tok, sizeof tok);
    order("o_refund_2", other, "pending_review", tok, sizeof tok);
    h_db_int(&g_db,
             "INSERT INTO refunds (order_id, out_refund_no, amount_fen, reason, status) SELECT id, "
             "'R%s-1', 1000, '重复缴费', 'processing' FROM orders WHERE order_no='%s'",
             no, no);
    long long rows = h_db_int(&g_db, "SELECT (SELECT COUNT(*) FROM pay_notifications) + (SELECT "
                                     "COUNT(*) FROM audit_log)");
    /* Another merchant's, an event that contradicts its status, an unknown event, another
     * amount, another order's total, another order: 400 each, nothing written. */
    assert_int_equal(refund_notify("EV-r1", "REFUND.SUCCESS",
                                   refund_plain("1999999999", no, "SUCCESS", 1000, 2500)),
                     400);
    assert_int_equal(
        refund_notify("EV-r2", "REFUND.SUCCESS", refund_plain(NULL, no, "CLOSED", 1000, 2500)),
        400);
    assert_int_equal(
        refund_notify("EV-r3", "REFUND.WHATEVER", refund_plain(NULL, no, "SUCCESS", 1000, 2500)),
        400);
    assert_int_equal(
        refund_notify("EV-r4", "REFUND.SUCCESS", refund_plain(NULL, no, "SUCCESS", 2500, 2500)),
        400);
    assert_int_equal(
        refund_notify("EV-r5", "REFUND.SUCCESS", refund_plain(NULL, no, "SUCCESS", 1000, 9999)),
        400);
    char *p = refund_plain(NULL, no, "SUCCESS", 1000, 2500);
    char *at = strstr(p, no); /* out_trade_no of the other order, same refund number */
    memcpy(at, other, strlen(other));
    assert_int_equal(refund_notify("EV-r6", "REFUND.SUCCESS", p), 400);
    assert_int_equal(h_db_int(&g_db, "SELECT (SELECT COUNT(*) FROM pay_notifications) + (SELECT "
                                     "COUNT(*) FROM audit_log)"),
                     rows);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM refunds WHERE status='processing'"), 1);
    /* The genuine one applies. */
    assert_int_equal(
        refund_notify("EV-r7", "REFUND.SUCCESS", refund_plain(NULL, no, "SUCCESS", 1000, 2500)),
        204);
    assert_int_equal(h_db_int(&g_db,
                              "SELECT COUNT(*) FROM refunds WHERE out_refund_no='R%s-1' "
                              "AND status='success'",
                              no),
                     1);
    /* Audited for the order's school: that school's admins read it in their audit log. */
    assert_int_equal(h_db_int(&g_db,
                              "SELECT COUNT(*) FROM audit_log a JOIN orders o ON o.order_no='%s' "
                              "WHERE a.action='refund.update' AND a.target_id='R%s-1' AND "
                              "a.school_id = o.school_id",
                              no, no),
                     1);
}

static void test_an_abnormal_refund_stays_open_so_no_second_refund_goes_on_top(void **state)
{
    (void)state;
    char tok[64], path[96];
    const char *no = "P20240120ABNM0001";
    order("o_abnormal", no, "pending_review", tok, sizeof tok);
    h_db_int(&g_db,
             "INSERT INTO refunds (order_id, out_refund_no, amount_fen, reason, status) SELECT id, "
             "'R%s-1', 2500, '重复缴费', 'processing' FROM orders WHERE order_no='%s'",
             no, no);
    assert_int_equal(
        refund_notify("EV-a1", "REFUND.ABNORMAL", refund_plain(NULL, no, "ABNORMAL", 2500, 2500)),
        204);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM refunds WHERE status='abnormal'"), 1);
    snprintf(path, sizeof path, "/api/v1/admin/orders/%s/refund", no);
    struct h_resp r;
    h_post_json(&g_srv, path, g_fin, "{\"amount_fen\":2500,\"reason\":\"再退一次\"}", &r);
    assert_int_equal(r.status, 202); /* the abnormal one, again */
    assert_non_null(strstr(r.body, "\"status\":\"abnormal\""));
    h_resp_free(&r);
    assert_int_equal(h_db_int(&g_db,
                              "SELECT COUNT(*) FROM refunds r JOIN orders o ON o.id = "
                              "r.order_id WHERE o.order_no='%s'",
                              no),
                     1);
    assert_int_equal(
        h_db_int(&g_db, "SELECT COUNT(*) FROM refunds WHERE out_refund_no='R%s-2'", no), 0);
}

static void test_a_phone_code_issued_to_someone_else_binds_nothing(void **state)
{
    (void)state;
    char tok_a[64], tok_b[64];
    h_student(&g_srv, &g_sb, "o_phone_a", NULL, tok_a, sizeof tok_a);
    long long b = h_student(&g_srv, &g_sb, "o_phone_b", NULL, tok_b, sizeof tok_b);
    cJSON *pc = h_sb_json(&g_sb, "POST", "/__sandbox/phone-code",
                          "{\"openid\":\"o_phone_a\",\"phone\":\"13800138011\"}");
    char body[160];
    snprintf(body, sizeof body, "{\"code\":\"%s\"}", cJSON_GetObjectItem(pc, "code")->valuestring);
    cJSON_Delete(pc);
    struct h_resp r;
    h_post_json(&g_srv, "/api/v1/me/phone", tok_b, body, &r);
    assert_true(r.status >= 400 && r.status < 500);
    assert_non_null(strstr(r.body, "\"error\""));
    h_resp_free(&r);
    assert_int_equal(h_db_int(&g_db,
                              "SELECT COUNT(*) FROM users WHERE id=%lld AND phone IS NOT "
                              "NULL",
                              b),
                     0);
    /* WeChat was asked with the caller's openid. */
    cJSON *q = h_sb_json(&g_sb, "GET", "/__sandbox/requests?endpoint=getuserphonenumber", NULL);
    char *s = cJSON_PrintUnformatted(q);
    assert_non_null(strstr(s, "o_phone_b"));
    free(s);
    cJSON_Delete(q);
    /* The owner's own code still binds. */
    pc = h_sb_json(&g_sb, "POST", "/__sandbox/phone-code",
                   "{\"openid\":\"o_phone_a\",\"phone\":\"13800138011\"}");
    snprintf(body, sizeof body, "{\"code\":\"%s\"}", cJSON_GetObjectItem(pc, "code")->valuestring);
    cJSON_Delete(pc);
    h_post_json(&g_srv, "/api/v1/me/phone", tok_a, body, &r);
    assert_int_equal(r.status, 200);
    h_resp_free(&r);
}

/* img with an EXIF block (Make "SecretPhoneMaker", GPS text, orientation o) and a comment
 * spliced in after SOI. */
static unsigned char *with_exif(const unsigned char *img, size_t len, int o, size_t *out_len)
{
    static const unsigned char tiff_head[] = {'M', 'M', 0, 42, 0, 0,  0, 8, 0, 2,  0x01, 0x0F,
                                              0,   2,   0, 0,  0, 17, 0, 0, 0, 38, 0x01, 0x12,
                                              0,   3,   0, 0,  0, 1,  0, 1, 0, 0};
    unsigned char tiff[80];
    memcpy(tiff, tiff_head, sizeof tiff_head);
    tiff[31] = (unsigned char)o;
    memcpy(tiff + 34, "\0\0\0\0", 4);
    memcpy(tiff + 38, "SecretPhoneMaker\0GPS31.2304N", 29);
    size_t tn = 38 + 29, seg = 2 + 6 + tn;
    unsigned char *p = malloc(len + seg + 64);
    size_t k = 2;
    memcpy(p, img, 2);
    p[k++] = 0xFF, p[k++] = 0xE1, p[k++] = (unsigned char)(seg >> 8), p[k++] = (unsigned char)seg;
    memcpy(p + k, "Exif\0\0", 6);
    memcpy(p + k + 6, tiff, tn);
    k += 6 + tn;
    static const char com[] = "student 20200452209";
    p[k++] = 0xFF, p[k++] = 0xFE, p[k++] = 0, p[k++] = (unsigned char)(sizeof com + 2);
    memcpy(p + k, com, sizeof com);
    k += sizeof com;
    memcpy(p + k, img + 2, len - 2);
    *out_len = k + len - 2;
    return p;
}

static bool has(const char *p, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (!memcmp(p + i, needle, k))
            return true;
    return false;
}

static void test_originals_and_avatars_are_kept_without_camera_metadata(void **state)
{
    (void)state;
    char tok[64], path[96];
    order("o_exif", "P20240120EXIF0001", "awaiting_photo", tok, sizeof tok);
    struct pc_photo_testgen g;
    pc_photo_testgen_defaults(&g, 1080, 1440);
    unsigned char *rgb = pc_photo_testgen_render(&g);
    size_t plain_len = 0, len = 0;
    unsigned char *plain =
        pc_photo_testgen_jpeg(rgb, 1080, 1440, 90, TJSAMP_420, false, false, &plain_len);
    free(rgb);
    unsigned char *img = with_exif(plain, plain_len, 1, &len);
    struct h_resp r;
    h_upload(&g_srv, "PUT", "/api/v1/orders/P20240120EXIF0001/photo", tok, img, len, "image/jpeg",
             &r);
    if (r.status != 200)
        fail_msg("upload: %ld %s", r.status, r.body);
    h_resp_free(&r);
    /* On disk and as served: the pixels, no device, no position, no comment. */
    h_get(&g_srv, "/api/v1/orders/P20240120EXIF0001/photo?variant=original", tok, &r);
    assert_int_equal(r.status, 200);
    assert_false(has(r.body, r.len, "SecretPhoneMaker"));
    assert_false(has(r.body, r.len, "GPS31"));
    assert_false(has(r.body, r.len, "20200452209"));
    assert_int_equal(r.len, plain_len); /* TurboJPEG's own file: nothing else was added */
    assert_memory_equal(r.body, plain, plain_len);
    h_resp_free(&r);
    /* An avatar, public: the same, and its orientation (6) survives in a minimal block. */
    free(img);
    unsigned char *small = pc_photo_testgen_jpeg(plain, 64, 64, 80, TJSAMP_420, false, false, &len);
    img = with_exif(small, len, 6, &len);
    h_upload(&g_srv, "PUT", "/api/v1/me/avatar", tok, img, len, "image/jpeg", &r);
    assert_int_equal(r.status, 200);
    cJSON *j = h_json(&r);
    snprintf(path, sizeof path, "%s", cJSON_GetObjectItem(j, "avatar_url")->valuestring);
    cJSON_Delete(j);
    h_resp_free(&r);
    h_get(&g_srv, path, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_false(has(r.body, r.len, "SecretPhoneMaker"));
    assert_false(has(r.body, r.len, "GPS31"));
    assert_false(has(r.body, r.len, "20200452209"));
    assert_true(has(r.body, r.len, "Exif")); /* the orientation block */
    h_resp_free(&r);
    free(img);
    free(small);
    free(plain);
}

static void test_exports_keep_formulas_as_text_and_zip_names_never_climb(void **state)
{
    (void)state;
    char tok[64], path[128];
    /* An approved student of a college named "..", in a class named like a formula. */
    order("o_export", "P20240120ZIPS0001", "approved", tok, sizeof tok);
    h_db_int(&g_db, "UPDATE orders SET college='..', class_name='=1+2' WHERE "
                    "order_no='P20240120ZIPS0001'");
    h_db_int(&g_db,
             "INSERT INTO roster_entries (task_id, seq, college, name, student_no, class_name) "
             "VALUES (%lld, 1, '..', '王小明', '20240120ZIPS0001', '=1+2'), (%lld, 2, '文学院', "
             "'@SUM(A1)', 'S777', '-2+3')",
             g_task, g_task);
    h_db_int(&g_db,
             "INSERT INTO photos (order_id, user_id, student_no, original_path, normalized_path, "
             "original_sha256, normalized_bytes, phash, width, height, checks) SELECT id, "
             "user_id, student_no, 'photos/original/zz/zip.jpg', 'photos/standard/zz/zip.jpg', "
             "REPEAT('b', 64), 10, 99, 480, 640, '[]' FROM orders WHERE "
             "order_no='P20240120ZIPS0001'");
    h_storage_file(&g_srv, "photos/standard/zz/zip.jpg", "jpeg bytes", 0);
    struct h_resp r;
    snprintf(path, sizeof path, "/api/v1/admin/tasks/%lld/export.zip?group=college", g_task);
    h_get(&g_srv, path, g_admin, &r);
    assert_int_equal(r.status, 200);
    assert_true(has(r.body, r.len, "__/20240120ZIPS0001.jpg"));
    assert_false(has(r.body, r.len, "../"));
    assert_false(has(r.body, r.len, "..\\"));
    h_resp_free(&r);
    snprintf(path, sizeof path, "/api/v1/admin/tasks/%lld/roster?format=csv", g_task);
    h_get(&g_srv, path, g_admin, &r);
    assert_int_equal(r.status, 200);
    assert_true(has(r.body, r.len, "\"'=1+2\""));
    assert_true(has(r.body, r.len, "\"'@SUM(A1)\""));
    assert_false(has(r.body, r.len, "\"=1+2\""));
    h_resp_free(&r);
}

/* order.paid messages for three students with phones: each leaves as one SMS. */
static void test_an_outbox_batch_longer_than_its_lease_is_delivered_once(void **state)
{
    (void)state;
    char tok[64], no[32];
    cJSON_Delete(h_sb_json(&g_sb, "POST", "/__sandbox/reset", "{}"));
    /* Each SMS takes 3 s: a batch of three takes 9 s, the lease is 5 s. */
    cJSON_Delete(h_sb_json(&g_sb, "POST", "/__sandbox/faults",
                           "{\"endpoint\":\"sms\",\"delay_ms\":3000,\"count\":3}"));
    for (int i = 0; i < 3; i++) {
        char openid[32];
        snprintf(openid, sizeof openid, "o_lease_%d", i);
        snprintf(no, sizeof no, "P20240120LEAS000%d", i);
        long long uid = order(openid, no, "pending_review", tok, sizeof tok);
        h_db_int(&g_db, "UPDATE users SET phone='1390000000%d' WHERE id=%lld", i, uid);
    }
    h_db_int(&g_db, "INSERT INTO outbox (kind, dedupe_key, payload) SELECT 'order.paid', "
                    "CONCAT('paid:', order_no), JSON_OBJECT('order_no', order_no) FROM orders "
                    "WHERE order_no LIKE 'P20240120LEAS%%'");
    for (int i = 0; i < 100 && h_db_int(&g_db, "SELECT COUNT(*) FROM outbox WHERE state='running' "
                                               "AND payload LIKE '%%LEAS%%'") < 3;
         i++)
        h_msleep(50);
    /* A second instance starts while the first is still in its batch. */
    char conf[4100];
    snprintf(conf, sizeof conf, "%s", g_conf);
    char *listen = strstr(conf, "listen = 127.0.0.1:");
    memcpy(listen, "listen = 127.0.0.1:0    ", 24); /* any port */
    h_srv_start(&g_srv2, &g_db, conf, 1);
    for (int i = 0; i < 300 && h_db_int(&g_db, "SELECT COUNT(*) FROM outbox WHERE state='done' "
                                               "AND payload LIKE '%%LEAS%%'") < 3;
         i++)
        h_msleep(100);
    h_msleep(1500); /* what a duplicate would need to arrive */
    cJSON *m = h_sb_json(&g_sb, "GET", "/__sandbox/messages?kind=sms", NULL);
    int sent = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(m, "messages"))
    {
        const cJSON *to = cJSON_GetObjectItem(it, "to");
        sent += cJSON_IsString(to) && !strncmp(to->valuestring, "139000000", 9);
    }
    cJSON_Delete(m);
    assert_int_equal(sent, 3); /* each once: none taken over while its batch still ran */
    assert_int_equal(h_srv_stop(&g_srv2, SIGTERM), 0);
}

static void test_servers_and_sandbox_exit_0(void **state)
{
    (void)state;
    assert_int_equal(h_srv_stop(&g_srv, SIGTERM), 0);
    assert_int_equal(h_sandbox_stop(&g_sb), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refund_notifications_that_are_not_ours_change_nothing),
        cmocka_unit_test(test_an_abnormal_refund_stays_open_so_no_second_refund_goes_on_top),
        cmocka_unit_test(test_a_phone_code_issued_to_someone_else_binds_nothing),
        cmocka_unit_test(test_originals_and_avatars_are_kept_without_camera_metadata),
        cmocka_unit_test(test_exports_keep_formulas_as_text_and_zip_names_never_climb),
        cmocka_unit_test(test_an_outbox_batch_longer_than_its_lease_is_delivered_once),
        cmocka_unit_test(test_servers_and_sandbox_exit_0),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
