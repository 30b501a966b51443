/* it_photos.c — photos through the server: a good portrait passes every check, becomes the
 * 480×640 CHSI file and moves the order awaiting_photo → unpaid; a bad one gets its exact
 * reasons and nothing is stored; /photos/check stores nothing; the state rules of API.md
 * (rejected within the edit period → pending_review, counted; expired → 410; cap → 410);
 * duplicates (another student's photo, the enrollment photo); who may read a photo; review:
 * the queue, reject → free replacement → approve, input/role/scope checks, two reviewers at
 * once. */
#include "harness.h"

#include "base/crypto.h"
#include "photo/photo.h"
#include "photo/testgen.h"

#include <stdbool.h>
#include <pthread.h>
#include <signal.h>
#include <turbojpeg.h>
#include <zip.h>

static struct h_db g_db;
static struct h_sandbox g_sb;
static struct h_srv g_srv;
static long long g_task, g_school;
static char g_admin[128], g_other_admin[128];
static unsigned char *g_good, *g_bad;
static size_t g_good_len, g_bad_len;

static int setup(void **state)
{
    (void)state;
    char wx[600], conf[1200];
    h_db_start(&g_db);
    h_sandbox_start(&g_sb, NULL);
    snprintf(conf, sizeof conf, "%s[photo]\nmax_upload_bytes = 4000000\n",
             h_sandbox_conf(&g_sb, wx, sizeof wx));
    h_srv_start(&g_srv, &g_db, conf, 0);
    h_db_int(&g_db, "INSERT INTO schools (code, name) VALUES ('10402', '演示大学'), "
                    "('10003', '别的大学')");
    g_school = h_db_int(&g_db, "SELECT id FROM schools WHERE code='10402'");
    h_db_int(&g_db,
             "INSERT INTO tasks (school_id, name, collection_type, feature_code, "
             "feature_code_norm, opens_at, closes_at, price_fen, grad_year, resubmit_cap) "
             "VALUES (%lld, '采集', 'centralized', 'phototask', 'phototask', "
             "UTC_TIMESTAMP() - INTERVAL 1 DAY, UTC_TIMESTAMP() + INTERVAL 1 DAY, 2500, "
             "2024, 1)",
             g_school);
    g_task = h_db_int(&g_db, "SELECT id FROM tasks WHERE feature_code_norm='phototask'");
    h_user_add(&g_srv, "boss", "admin", "boss-password-1");
    h_login(&g_srv, "boss", "boss-password-1", g_admin, sizeof g_admin);
    char out[64];
    assert_int_equal(h_srv_cli(&g_srv, "other-admin-pass\n", out, sizeof out,
                               "user add --username other --role admin --school 10003"),
                     0);
    h_login(&g_srv, "other", "other-admin-pass", g_other_admin, sizeof g_other_admin);
    /* A well-framed 1080×1440 portrait, and the same on a white wall. */
    struct pc_photo_testgen g;
    pc_photo_testgen_defaults(&g, 1080, 1440);
    unsigned char *rgb = pc_photo_testgen_render(&g);
    g_good = pc_photo_testgen_jpeg(rgb, 1080, 1440, 90, TJSAMP_420, false, false, &g_good_len);
    free(rgb);
    g.bg[0] = 200; /* a red wall */
    g.bg[1] = 40;
    g.bg[2] = 40;
    rgb = pc_photo_testgen_render(&g);
    g_bad = pc_photo_testgen_jpeg(rgb, 1080, 1440, 90, TJSAMP_420, false, false, &g_bad_len);
    free(rgb);
    assert_non_null(g_good);
    assert_non_null(g_bad);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    h_stack_down(&g_srv, &g_sb, &g_db);
    free(g_good);
    free(g_bad);
    return 0;
}

/* A student with an order in status (made in the store: the code flow is tested elsewhere). */
static void order(const char *openid, const char *no, const char *status, char *tok, size_t len)
{
    long long uid = h_student(&g_srv, &g_sb, openid, "拍照同学", tok, len);
    h_db_int(&g_db,
             "INSERT INTO orders (order_no, task_id, user_id, school_id, grad_year, student_no, "
             "student_name, status, amount_fen) VALUES ('%s', %lld, %lld, %lld, 2024, '%s', "
             "'拍照同学', '%s', 2500)",
             no, g_task, uid, g_school, no + 1, status);
}

static void upload(const char *tok, const char *path, const char *method, const void *img,
                   size_t len, struct h_resp *r)
{
    const char *b = "----WxPhotoBoundary";
    char head[256], tail[64], ct[96], auth[160];
    int hl = snprintf(head, sizeof head,
                      "--%s\r\nContent-Disposition: form-data; name=\"user\"\r\n\r\nx\r\n"
                      "--%s\r\nContent-Disposition: form-data; name=\"file\"; "
                      "filename=\"photo.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n",
                      b, b);
    int tl = snprintf(tail, sizeof tail, "\r\n--%s--\r\n", b);
    size_t n = (size_t)hl + len + (size_t)tl;
    char *body = malloc(n);
    memcpy(body, head, (size_t)hl);
    memcpy(body + hl, img, len);
    memcpy(body + hl + len, tail, (size_t)tl);
    snprintf(ct, sizeof ct, "Content-Type: multipart/form-data; boundary=%s", b);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", tok);
    const char *hs[] = {ct, auth, NULL};
    h_http(&g_srv, method, path, hs, body, n, r);
    free(body);
}

static void put_photo(const char *tok, const char *no, const void *img, size_t len,
                      struct h_resp *r)
{
    char path[96];
    snprintf(path, sizeof path, "/api/v1/orders/%s/photo", no);
    upload(tok, path, "PUT", img, len, r);
}

/* Number of files below the storage directory. */
static int files_in(const char *dir)
{
    char cmd[600], out[32];
    snprintf(cmd, sizeof cmd, "find '%s' -type f 2>/dev/null | wc -l", dir);
    FILE *p = popen(cmd, "r");
    int n = p && fgets(out, sizeof out, p) ? (int)strtol(out, NULL, 10) : -1;
    if (p)
        pclose(p);
    return n;
}

static bool check_ok(const cJSON *checks, const char *code)
{
    const cJSON *c;
    cJSON_ArrayForEach(c,
                       checks) if (!strcmp(cJSON_GetObjectItem(c, "code")->valuestring,
                                           code)) return cJSON_IsTrue(cJSON_GetObjectItem(c, "ok"));
    fail_msg("no check %s", code);
    return false;
}

static void test_a_good_photo_passes_and_becomes_the_standard_file(void **state)
{
    (void)state;
    char tok[64], store[512];
    snprintf(store, sizeof store, "%s/data", g_srv.dir);
    order("o_good", "P20240119PH000001", "awaiting_photo", tok, sizeof tok);
    struct h_resp r;
    put_photo(tok, "P20240119PH000001", g_good, g_good_len, &r);
    if (r.status != 200)
        fail_msg("%ld %.600s", r.status, r.body);
    cJSON *j = h_json(&r);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "ok")));
    cJSON *checks = cJSON_GetObjectItem(j, "checks"), *c;
    assert_true(cJSON_GetArraySize(checks) >= 15);
    cJSON_ArrayForEach(c, checks)
    {
        assert_true(cJSON_IsString(cJSON_GetObjectItem(c, "message")));
        if (cJSON_IsTrue(cJSON_GetObjectItem(c, "blocking")))
            assert_true(cJSON_IsTrue(cJSON_GetObjectItem(c, "ok")));
    }
    cJSON *o = cJSON_GetObjectItem(j, "order");
    assert_string_equal(cJSON_GetObjectItem(o, "status")->valuestring, "unpaid");
    assert_true(cJSON_IsObject(cJSON_GetObjectItem(o, "photo")));
    cJSON_Delete(j);
    h_resp_free(&r);
    assert_int_equal(files_in(store), 2); /* the original and the standard file */
    assert_int_equal(h_db_int(&g_db, "SELECT pay_deadline > UTC_TIMESTAMP() FROM orders WHERE "
                                     "order_no='P20240119PH000001'"),
                     1);
    /* The standard file: 480×640 baseline colour JPEG in the size band. */
    h_get(&g_srv, "/api/v1/orders/P20240119PH000001/photo", tok, &r);
    assert_int_equal(r.status, 200);
    tjhandle tj = tjInitDecompress();
    int w = 0, h = 0, ss = 0, cs = 0;
    assert_int_equal(tjDecompressHeader3(tj, (unsigned char *)r.body, r.len, &w, &h, &ss, &cs), 0);
    tjDestroy(tj);
    assert_int_equal(w, 480);
    assert_int_equal(h, 640);
    assert_int_not_equal(cs, TJCS_GRAY);
    assert_true(r.len >= 15 * 1024 && r.len <= 40 * 1024);
    assert_int_equal((unsigned char)r.body[13], 1); /* JFIF density in dots per inch */
    assert_int_equal(((unsigned char)r.body[14] << 8) | (unsigned char)r.body[15], 300);
    h_resp_free(&r);
    h_get(&g_srv, "/api/v1/orders/P20240119PH000001/photo?variant=original", tok, &r);
    assert_int_equal(r.len, g_good_len);
    assert_memory_equal(r.body, g_good, g_good_len);
    h_resp_free(&r);
}

static void test_a_bad_photo_gets_its_reasons_and_nothing_is_stored(void **state)
{
    (void)state;
    char tok[64], store[512];
    snprintf(store, sizeof store, "%s/data", g_srv.dir);
    order("o_bad", "P20240119PH000002", "awaiting_photo", tok, sizeof tok);
    int files = files_in(store);
    long long rows = h_db_int(&g_db, "SELECT COUNT(*) FROM photos");
    struct h_resp r;
    put_photo(tok, "P20240119PH000002", g_bad, g_bad_len, &r);
    h_assert_error(&r, 422, "PHOTO_CHECKS_FAILED");
    cJSON *j = h_json(&r);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j, "ok")));
    assert_false(check_ok(cJSON_GetObjectItem(j, "checks"), "BACKGROUND_COLOR"));
    assert_non_null(strstr(r.body, "\"limit\""));
    cJSON_Delete(j);
    h_resp_free(&r);
    assert_int_equal(files_in(store), files);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM photos"), rows);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM orders WHERE "
                                     "order_no='P20240119PH000002' AND status='awaiting_photo'"),
                     1);
    upload(tok, "/api/v1/orders/P20240119PH000002/photo", "PUT", "GIF89a....", 10, &r);
    assert_int_equal(r.status, 422);
    cJSON *jf = h_json(&r);
    assert_false(check_ok(cJSON_GetObjectItem(jf, "checks"), "FORMAT_UNSUPPORTED"));
    cJSON_Delete(jf);
    h_resp_free(&r);
}

static void test_photos_check_judges_without_storing(void **state)
{
    (void)state;
    char tok[64];
    h_student(&g_srv, &g_sb, "o_live", NULL, tok, sizeof tok);
    long long rows = h_db_int(&g_db, "SELECT COUNT(*) FROM photos");
    struct h_resp r;
    upload(tok, "/api/v1/photos/check", "POST", g_good, g_good_len, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"ok\":true"));
    h_resp_free(&r);
    upload(tok, "/api/v1/photos/check", "POST", g_bad, g_bad_len, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"ok\":false"));
    h_resp_free(&r);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM photos"), rows);
    upload("", "/api/v1/photos/check", "POST", g_good, g_good_len, &r);
    h_assert_error(&r, 401, "UNAUTHORIZED");
    h_resp_free(&r);
}

static void test_state_rules_for_replacing_a_photo(void **state)
{
    (void)state;
    char tok[64];
    struct h_resp r;
    /* unpaid (after the first upload): no second photo */
    order("o_rules", "P20240119PH000003", "unpaid", tok, sizeof tok);
    put_photo(tok, "P20240119PH000003", g_good, g_good_len, &r);
    h_assert_error(&r, 409, "ORDER_STATE");
    h_resp_free(&r);
    /* rejected within the edit period: back to pending_review, counted, no new payment */
    h_db_int(&g_db, "UPDATE orders SET status='rejected', editable_until = UTC_TIMESTAMP() + "
                    "INTERVAL 7 DAY WHERE order_no='P20240119PH000003'");
    h_db_int(&g_db, "DELETE FROM photos"); /* so that the same picture is no duplicate */
    put_photo(tok, "P20240119PH000003", g_good, g_good_len, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"status\":\"pending_review\""));
    h_resp_free(&r);
    assert_int_equal(h_db_int(&g_db, "SELECT resubmissions FROM orders WHERE "
                                     "order_no='P20240119PH000003'"),
                     1);
    /* the task allows one resubmission: a second rejection cannot be fixed online */
    h_db_int(&g_db, "UPDATE orders SET status='rejected' WHERE order_no='P20240119PH000003'");
    put_photo(tok, "P20240119PH000003", g_good, g_good_len, &r);
    h_assert_error(&r, 410, "RESUBMIT_LIMIT");
    h_resp_free(&r);
    /* the edit period is over */
    h_db_int(&g_db, "UPDATE orders SET resubmissions = 0, editable_until = UTC_TIMESTAMP() - "
                    "INTERVAL 1 SECOND WHERE order_no='P20240119PH000003'");
    put_photo(tok, "P20240119PH000003", g_good, g_good_len, &r);
    h_assert_error(&r, 410, "EDIT_PERIOD_EXPIRED");
    h_resp_free(&r);
    /* someone else's order does not exist for this student */
    put_photo(tok, "P20240119PH000001", g_good, g_good_len, &r);
    h_assert_error(&r, 404, "NOT_FOUND");
    h_resp_free(&r);
}

static void
test_the_same_picture_for_another_student_or_the_enrollment_photo_is_refused(void **state)
{
    (void)state;
    char tok[64];
    struct h_resp r;
    h_db_int(&g_db, "DELETE FROM photos");
    order("o_first", "P20240119PH000004", "awaiting_photo", tok, sizeof tok);
    put_photo(tok, "P20240119PH000004", g_good, g_good_len, &r);
    assert_int_equal(r.status, 200);
    h_resp_free(&r);
    char tok2[64];
    order("o_second", "P20240119PH000005", "awaiting_photo", tok2, sizeof tok2);
    put_photo(tok2, "P20240119PH000005", g_good, g_good_len, &r);
    h_assert_error(&r, 422, "PHOTO_CHECKS_FAILED");
    cJSON *jd = h_json(&r);
    assert_false(check_ok(cJSON_GetObjectItem(jd, "checks"), "DUPLICATE_PHOTO"));
    cJSON_Delete(jd);
    h_resp_free(&r);
    /* The roster carries the second student's enrollment-photo hash = this picture. */
    h_db_int(&g_db, "DELETE FROM photos");
    h_db_int(&g_db,
             "INSERT INTO roster_entries (task_id, college, name, student_no) VALUES "
             "(%lld, '文学院', '拍照同学', '20240119PH000005')",
             g_task);
    /* compute the picture's hash the way the server does */
    struct pc_photo_opts opts = {.standardise = true, .max_pixels = 0};
    struct pc_photo_result res;
    pc_photo_process(g_good, g_good_len, &opts, &res);
    h_db_int(&g_db,
             "UPDATE roster_entries SET enrollment_phash = %llu WHERE "
             "student_no='20240119PH000005'",
             (unsigned long long)res.phash);
    pc_photo_result_free(&res);
    put_photo(tok2, "P20240119PH000005", g_good, g_good_len, &r);
    h_assert_error(&r, 422, "PHOTO_CHECKS_FAILED");
    cJSON *je = h_json(&r);
    assert_false(check_ok(cJSON_GetObjectItem(je, "checks"), "ENROLLMENT_PHOTO"));
    cJSON_Delete(je);
    h_resp_free(&r);
}

static void test_only_the_owner_and_staff_of_the_school_read_a_photo(void **state)
{
    (void)state;
    struct h_resp r;
    char owner[64];
    h_db_int(&g_db, "DELETE FROM photos");
    order("o_access", "P20240119PH000006", "awaiting_photo", owner, sizeof owner);
    put_photo(owner, "P20240119PH000006", g_good, g_good_len, &r);
    assert_int_equal(r.status, 200);
    h_resp_free(&r);
    const char *path = "/api/v1/orders/P20240119PH000006/photo";
    h_get(&g_srv, path, owner, &r);
    assert_int_equal(r.status, 200);
    h_resp_free(&r);
    h_get(&g_srv, path, g_admin, &r);
    assert_int_equal(r.status, 200);
    h_resp_free(&r);
    h_get(&g_srv, path, g_other_admin, &r);
    h_assert_error(&r, 404, "NOT_FOUND");
    h_resp_free(&r);
    char tok[64];
    h_student(&g_srv, &g_sb, "o_snoop", NULL, tok, sizeof tok);
    h_get(&g_srv, path, tok, &r);
    h_assert_error(&r, 404, "NOT_FOUND");
    h_resp_free(&r);
    h_get(&g_srv, path, NULL, &r);
    h_assert_error(&r, 401, "UNAUTHORIZED");
    h_resp_free(&r);
}

/* ---- review ---- */

static char g_reviewer[128];

/* The order of openid, paid (payment itself is tested in it_pay), its photo stored. */
static void paid_order(const char *openid, const char *no, char *tok, size_t len)
{
    struct h_resp r;
    h_db_int(&g_db, "DELETE FROM photos");
    order(openid, no, "awaiting_photo", tok, len);
    put_photo(tok, no, g_good, g_good_len, &r);
    assert_int_equal(r.status, 200);
    h_resp_free(&r);
    h_db_int(&g_db,
             "UPDATE orders SET status='pending_review', paid_at=UTC_TIMESTAMP(3), "
             "transaction_id=CONCAT('42', '%s') WHERE order_no='%s'",
             no + 1, no);
    if (!g_reviewer[0]) {
        h_user_add(&g_srv, "rev", "reviewer", "reviewer-pass-1");
        h_login(&g_srv, "rev", "reviewer-pass-1", g_reviewer, sizeof g_reviewer);
    }
}

static long review(const char *token, const char *no, const char *json, cJSON **order)
{
    char path[96];
    struct h_resp r;
    snprintf(path, sizeof path, "/api/v1/admin/orders/%s/review", no);
    h_post_json(&g_srv, path, token, json, &r);
    long st = r.status;
    if (order) {
        cJSON *j = h_json(&r);
        *order = cJSON_DetachItemFromObject(j, "order");
        cJSON_Delete(j);
    }
    h_resp_free(&r);
    return st;
}

static const cJSON *queued(const cJSON *queue, const char *no)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(queue, "items"))
    {
        if (!strcmp(cJSON_GetObjectItem(it, "order_no")->valuestring, no))
            return it;
    }
    return NULL;
}

static void test_a_rejected_student_replaces_the_photo_free_and_is_then_approved(void **state)
{
    (void)state;
    const char *no = "P20240119PH000010";
    char tok[64];
    struct h_resp r;
    paid_order("o_review", no, tok, sizeof tok);
    /* The queue shows it with its check results and both variants. */
    h_get(&g_srv, "/api/v1/admin/review-queue", g_reviewer, &r);
    assert_int_equal(r.status, 200);
    cJSON *q = h_json(&r);
    h_resp_free(&r);
    const cJSON *it = queued(q, no);
    assert_non_null(it);
    assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(it, "checks")) > 5);
    const cJSON *urls = cJSON_GetObjectItem(it, "photo_urls");
    h_get(&g_srv, cJSON_GetObjectItem(urls, "normalized")->valuestring, g_reviewer, &r);
    assert_int_equal(r.status, 200);
    assert_true(r.len > 1000 && (unsigned char)r.body[0] == 0xff);
    h_resp_free(&r);
    h_get(&g_srv, cJSON_GetObjectItem(urls, "original")->valuestring, g_reviewer, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, g_good_len);
    h_resp_free(&r);
    cJSON_Delete(q);
    /* Reject: the reason the student reads, a week to fix it, a message queued, audited. */
    cJSON *o = NULL;
    assert_int_equal(review(g_reviewer, no,
                            "{\"decision\":\"reject\",\"reason_code\":\"HAIR_COVERS_EARS\"}", &o),
                     200);
    assert_string_equal(cJSON_GetObjectItem(o, "status")->valuestring, "rejected");
    const cJSON *rv = cJSON_GetObjectItem(o, "review");
    assert_string_equal(cJSON_GetObjectItem(rv, "decision")->valuestring, "reject");
    assert_string_equal(cJSON_GetObjectItem(rv, "reason_code")->valuestring, "HAIR_COVERS_EARS");
    assert_string_equal(cJSON_GetObjectItem(rv, "reason")->valuestring,
                        "头发遮挡耳朵，请露出双耳后重拍");
    assert_true(cJSON_IsString(cJSON_GetObjectItem(o, "editable_until")));
    cJSON_Delete(o);
    assert_int_equal(h_db_int(&g_db,
                              "SELECT editable_until BETWEEN UTC_TIMESTAMP(3) + INTERVAL 7 DAY - "
                              "INTERVAL 1 MINUTE AND UTC_TIMESTAMP(3) + INTERVAL 7 DAY FROM orders "
                              "WHERE order_no='%s'",
                              no),
                     1);
    assert_int_equal(h_db_int(&g_db,
                              "SELECT COUNT(*) FROM outbox WHERE kind='student.notice' AND "
                              "JSON_VALUE(payload, '$.order_no')='%s' AND "
                              "JSON_VALUE(payload, '$.event')='rejected' AND "
                              "JSON_VALUE(payload, '$.reason_code')='HAIR_COVERS_EARS' AND "
                              "JSON_VALUE(payload, '$.editable_until') IS NOT NULL",
                              no),
                     1);
    assert_int_equal(h_db_int(&g_db,
                              "SELECT COUNT(*) FROM audit_log WHERE action='review.reject' AND "
                              "target_id=(SELECT id FROM orders WHERE order_no='%s')",
                              no),
                     1);
    /* Decided orders leave the queue; a second decision is refused. */
    h_get(&g_srv, "/api/v1/admin/review-queue", g_reviewer, &r);
    q = h_json(&r);
    h_resp_free(&r);
    assert_null(queued(q, no));
    cJSON_Delete(q);
    assert_int_equal(review(g_reviewer, no, "{\"decision\":\"approve\"}", NULL), 409);
    /* The student sees why, and replaces the photo a second before the deadline: no payment. */
    char path[96];
    snprintf(path, sizeof path, "/api/v1/orders/%s", no);
    h_get(&g_srv, path, tok, &r);
    assert_non_null(strstr(r.body, "HAIR_COVERS_EARS"));
    h_resp_free(&r);
    h_db_int(&g_db,
             "UPDATE orders SET editable_until = UTC_TIMESTAMP(3) + INTERVAL 2 SECOND "
             "WHERE order_no='%s'",
             no);
    h_db_int(&g_db, "DELETE FROM photos");
    put_photo(tok, no, g_good, g_good_len, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"status\":\"pending_review\""));
    h_resp_free(&r);
    assert_int_equal(h_db_int(&g_db,
                              "SELECT COUNT(*) FROM orders WHERE order_no='%s' AND "
                              "transaction_id=CONCAT('42', '%s') AND amount_fen=2500",
                              no, no + 1),
                     1);
    /* Approved is final. */
    assert_int_equal(review(g_reviewer, no, "{\"decision\":\"approve\"}", &o), 200);
    assert_string_equal(cJSON_GetObjectItem(o, "status")->valuestring, "approved");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "editable_until")));
    cJSON_Delete(o);
    put_photo(tok, no, g_good, g_good_len, &r);
    h_assert_error(&r, 409, "ORDER_STATE");
    h_resp_free(&r);
    assert_int_equal(h_db_int(&g_db,
                              "SELECT COUNT(*) FROM outbox WHERE kind='student.notice' AND "
                              "JSON_VALUE(payload, '$.order_no')='%s'",
                              no),
                     2);
}

static void test_review_input_roles_and_scope_are_enforced(void **state)
{
    (void)state;
    const char *no = "P20240119PH000011";
    char tok[64], fin[128], far[128];
    struct h_resp r;
    paid_order("o_review2", no, tok, sizeof tok);
    const char *bad[] = {"{\"decision\":\"maybe\"}",
                         "{\"decision\":\"reject\"}",
                         "{\"decision\":\"reject\",\"reason_code\":\"UGLY\"}",
                         "{\"decision\":\"reject\",\"reason_code\":\"OTHER\"}",
                         "{\"decision\":\"approve\",\"note\":42}",
                         "not json"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(review(g_reviewer, no, bad[i], NULL), 400);
    /* Students, finance, another school's staff, a reviewer of another task: no. */
    assert_int_equal(review(tok, no, "{\"decision\":\"approve\"}", NULL), 401);
    h_user_add(&g_srv, "fin", "finance", "finance-pass-1");
    h_login(&g_srv, "fin", "finance-pass-1", fin, sizeof fin);
    assert_int_equal(review(fin, no, "{\"decision\":\"approve\"}", NULL), 403);
    assert_int_equal(review(g_other_admin, no, "{\"decision\":\"approve\"}", NULL), 404);
    h_user_add(&g_srv, "far", "reviewer", "reviewer-pass-2");
    h_db_int(&g_db,
             "UPDATE staff_roles SET task_id = %lld WHERE staff_id = "
             "(SELECT id FROM staff WHERE username='far')",
             g_task + 1000);
    h_login(&g_srv, "far", "reviewer-pass-2", far, sizeof far);
    assert_int_equal(review(far, no, "{\"decision\":\"approve\"}", NULL), 404);
    h_get(&g_srv, "/api/v1/admin/review-queue", far, &r);
    assert_int_equal(r.status, 200);
    assert_null(strstr(r.body, no));
    h_resp_free(&r);
    char path[96];
    snprintf(path, sizeof path, "/api/v1/admin/review-queue?task_id=%lld", g_task);
    h_get(&g_srv, path, far, &r);
    h_assert_error(&r, 404, "NOT_FOUND");
    h_resp_free(&r);
    /* Nothing of that changed the order. */
    assert_int_equal(h_db_int(&g_db,
                              "SELECT COUNT(*) FROM orders WHERE order_no='%s' AND "
                              "status='pending_review' AND editable_until IS NULL",
                              no),
                     1);
    assert_int_equal(h_db_int(&g_db,
                              "SELECT COUNT(*) FROM reviews r JOIN orders o ON "
                              "o.id=r.order_id WHERE o.order_no='%s'",
                              no),
                     0);
    /* OTHER with a note: the note is what the student reads. */
    cJSON *o = NULL;
    assert_int_equal(review(g_reviewer, no,
                            "{\"decision\":\"reject\",\"reason_code\":\"OTHER\","
                            "\"note\":\"请摘下帽子后重拍\"}",
                            &o),
                     200);
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(o, "review"), "reason")->valuestring,
        "请摘下帽子后重拍");
    cJSON_Delete(o);
    h_get(&g_srv, "/api/v1/admin/review-reasons", g_reviewer, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "FRINGE_COVERS_BROWS"));
    h_resp_free(&r);
}

struct racer {
    const char *no, *json;
    long status;
};

static void *race(void *p)
{
    struct racer *c = p;
    c->status = review(g_reviewer, c->no, c->json, NULL);
    return NULL;
}

static void test_two_reviewers_at_once_one_wins_the_other_gets_409(void **state)
{
    (void)state;
    char tok[64];
    const char *no = "P20240119PH000012";
    paid_order("o_review3", no, tok, sizeof tok);
    struct racer c[2] = {{no, "{\"decision\":\"approve\"}", 0},
                         {no, "{\"decision\":\"reject\",\"reason_code\":\"BLURRY\"}", 0}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, race, &c[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    assert_true((c[0].status == 200 && c[1].status == 409) ||
                (c[0].status == 409 && c[1].status == 200));
    assert_int_equal(h_db_int(&g_db,
                              "SELECT COUNT(*) FROM reviews r JOIN orders o ON "
                              "o.id=r.order_id WHERE o.order_no='%s'",
                              no),
                     1);
    assert_int_equal(h_db_int(&g_db,
                              "SELECT COUNT(*) FROM outbox WHERE "
                              "JSON_VALUE(payload, '$.order_no')='%s'",
                              no),
                     1);
}

/* The zip member name's bytes (caller frees), or NULL. */
static char *zip_member(zip_t *z, const char *name, size_t *len)
{
    zip_stat_t st;
    if (zip_stat(z, name, 0, &st) != 0)
        return NULL;
    zip_file_t *f = zip_fopen(z, name, 0);
    assert_non_null(f);
    char *buf = malloc(st.size + 1);
    assert_int_equal(zip_fread(f, buf, st.size), (zip_int64_t)st.size);
    zip_fclose(f);
    buf[st.size] = '\0';
    *len = st.size;
    return buf;
}

static void test_the_export_zip_holds_approved_photos_a_manifest_and_the_missing(void **state)
{
    (void)state;
    const char *no = "P20240119PH000020";
    char path[128], file[400], tok[64];
    paid_order("o_export", no, tok, sizeof tok);
    assert_int_equal(review(g_reviewer, no, "{\"decision\":\"approve\"}", NULL), 200);
    snprintf(path, sizeof path, "/api/v1/admin/tasks/%lld/export.zip", g_task);
    struct h_resp r;
    h_get(&g_srv, path, g_admin, &r);
    assert_int_equal(r.status, 200);
    char ct[64];
    assert_string_equal(h_header(&r, "Content-Type", ct, sizeof ct), "application/zip");
    snprintf(file, sizeof file, "%s/export.zip", h_workdir());
    FILE *f = fopen(file, "wb");
    assert_int_equal(fwrite(r.body, 1, r.len, f), r.len);
    fclose(f);
    h_resp_free(&r);
    int zerr = 0;
    zip_t *z = zip_open(file, ZIP_RDONLY | ZIP_CHECKCONS, &zerr);
    assert_non_null(z);
    size_t len, mlen, elen;
    char *jpg = zip_member(z, "20240119PH000020.jpg", &len); /* the order's student number */
    assert_non_null(jpg);
    assert_true((unsigned char)jpg[0] == 0xff && (unsigned char)jpg[1] == 0xd8);
    char sha[PC_SHA256_HEXLEN];
    pc_sha256_hex(jpg, len, sha);
    free(jpg);
    char *manifest = zip_member(z, "manifest.csv", &mlen);
    char *errors = zip_member(z, "errors.csv", &elen);
    assert_non_null(manifest);
    assert_non_null(errors);
    assert_memory_equal(manifest, "\xef\xbb\xbf", 3);
    assert_non_null(strstr(manifest, sha)); /* the manifest's checksum is the file's */
    assert_non_null(strstr(manifest, no));
    assert_int_equal(
        h_db_int(&g_db, "SELECT COUNT(*) FROM photos WHERE normalized_sha256='%s'", sha), 1);
    /* Only approved orders with their photo are in it; an approved order whose photo is gone
     * (P20240119PH000010: the tests deleted the photo rows) and the roster student without
     * an approved order are in errors.csv with the reason. */
    assert_int_equal(zip_get_num_entries(z, 0),
                     2 + h_db_int(&g_db,
                                  "SELECT COUNT(*) FROM orders o JOIN photos p ON "
                                  "p.current_key = o.id WHERE o.task_id=%lld AND "
                                  "o.status='approved'",
                                  g_task));
    assert_non_null(strstr(errors, "20240119PH000005"));
    assert_non_null(strstr(errors, "P20240119PH000010"));
    assert_non_null(strstr(errors, "没有照片"));
    free(manifest);
    free(errors);
    zip_close(z);
    /* Grouped by college; and who may not export. */
    snprintf(path, sizeof path, "/api/v1/admin/tasks/%lld/export.zip?group=college", g_task);
    h_get(&g_srv, path, g_admin, &r);
    assert_int_equal(r.status, 200);
    f = fopen(file, "wb");
    assert_int_equal(fwrite(r.body, 1, r.len, f), r.len);
    fclose(f);
    h_resp_free(&r);
    z = zip_open(file, ZIP_RDONLY | ZIP_CHECKCONS, &zerr);
    assert_non_null(z);
    zip_stat_t st;
    assert_int_equal(zip_stat(z, "未分学院/20240119PH000020.jpg", 0, &st), 0);
    zip_close(z);
    h_get(&g_srv, path, g_reviewer, &r);
    assert_int_equal(r.status, 403);
    h_resp_free(&r);
    h_get(&g_srv, path, g_other_admin, &r);
    h_assert_error(&r, 404, "NOT_FOUND");
    h_resp_free(&r);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM audit_log WHERE action='task.export'"),
                     2);
}

static void test_an_upload_over_the_photo_cap_is_413(void **state)
{
    (void)state;
    char tok[64];
    h_student(&g_srv, &g_sb, "o_big", NULL, tok, sizeof tok);
    size_t n = 4100000;
    unsigned char *big = calloc(1, n);
    memcpy(big, g_good, g_good_len);
    struct h_resp r;
    upload(tok, "/api/v1/photos/check", "POST", big, n, &r);
    h_assert_error(&r, 413, "PAYLOAD_TOO_LARGE");
    h_resp_free(&r);
    free(big);
    assert_int_equal(h_srv_stop(&g_srv, SIGTERM), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_good_photo_passes_and_becomes_the_standard_file),
        cmocka_unit_test(test_a_bad_photo_gets_its_reasons_and_nothing_is_stored),
        cmocka_unit_test(test_photos_check_judges_without_storing),
        cmocka_unit_test(test_state_rules_for_replacing_a_photo),
        cmocka_unit_test(
            test_the_same_picture_for_another_student_or_the_enrollment_photo_is_refused),
        cmocka_unit_test(test_only_the_owner_and_staff_of_the_school_read_a_photo),
        cmocka_unit_test(test_a_rejected_student_replaces_the_photo_free_and_is_then_approved),
        cmocka_unit_test(test_review_input_roles_and_scope_are_enforced),
        cmocka_unit_test(test_two_reviewers_at_once_one_wins_the_other_gets_409),
        cmocka_unit_test(test_the_export_zip_holds_approved_photos_a_manifest_and_the_missing),
        cmocka_unit_test(test_an_upload_over_the_photo_cap_is_413),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
