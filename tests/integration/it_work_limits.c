/* it_work_limits.c — the work one student may ask for (orders/limits.h): photo checks,
 * collection-code uploads and photo uploads are limited per student (429 with Retry-After; the
 * next student is not affected), and picture decodes wait for the process's image gate, then
 * get 503 OVERLOADED with Retry-After instead of piling up. */
#include "harness.h"

#include "photo/testgen.h"

#include <pthread.h>
#include <signal.h>
#include <turbojpeg.h>

static struct h_db g_db;
static struct h_sandbox g_sb;
static struct h_srv g_srv;
static long long g_task;
static unsigned char *g_jpg;
static size_t g_jpg_len;

static int setup(void **state)
{
    (void)state;
    char wx[600], conf[1400];
    h_db_start(&g_db);
    h_sandbox_start(&g_sb, NULL);
    snprintf(conf, sizeof conf,
             "%s[limits]\nwindow_s = 600\nphoto_checks = 3\ncode_uploads = 2\n"
             "photo_uploads = 2\nimage_workers = 1\nimage_wait_ms = 300\n",
             h_sandbox_conf(&g_sb, wx, sizeof wx));
    h_srv_start(&g_srv, &g_db, conf, 0);
    g_task = h_db_task(&g_db, "10402", "演示大学", "limits", NULL);
    /* A small picture that decodes (and fails the photo rules): cheap to check. */
    struct pc_photo_testgen g;
    pc_photo_testgen_defaults(&g, 240, 320);
    unsigned char *rgb = pc_photo_testgen_render(&g);
    g_jpg = pc_photo_testgen_jpeg(rgb, 240, 320, 85, TJSAMP_420, false, false, &g_jpg_len);
    free(rgb);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(g_jpg);
    return h_stack_down(&g_srv, &g_sb, &g_db);
}

static long check(const char *tok, struct h_resp *r)
{
    h_upload(&g_srv, "POST", "/api/v1/photos/check", tok, g_jpg, g_jpg_len, "image/jpeg", r);
    return r->status;
}

static void assert_limited(struct h_resp *r)
{
    h_assert_error(r, 429, "RATE_LIMITED");
    char ra[16];
    assert_non_null(h_header(r, "Retry-After", ra, sizeof ra));
    long s = strtol(ra, NULL, 10);
    assert_true(s >= 1 && s <= 600);
}

static void test_photo_checks_are_limited_per_student(void **state)
{
    (void)state;
    char a[64], b[64];
    h_student(&g_srv, &g_sb, "o_lim_a", NULL, a, sizeof a);
    h_student(&g_srv, &g_sb, "o_lim_b", NULL, b, sizeof b);
    struct h_resp r;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(check(a, &r), 200);
        h_resp_free(&r);
    }
    check(a, &r);
    assert_limited(&r);
    h_resp_free(&r);
    assert_int_equal(check(b, &r), 200); /* another student is not affected */
    h_resp_free(&r);
}

static void test_collection_code_uploads_are_limited_per_student(void **state)
{
    (void)state;
    char tok[64], path[96];
    h_student(&g_srv, &g_sb, "o_lim_code", "码同学", tok, sizeof tok);
    struct h_resp r;
    h_post_json(&g_srv, "/api/v1/tasks/bind", tok,
                "{\"collection_type\":\"centralized\",\"feature_code\":\"limits\"}", &r);
    assert_int_equal(r.status, 200);
    h_resp_free(&r);
    snprintf(path, sizeof path, "/api/v1/tasks/%lld/collection-code", g_task);
    for (int i = 0; i < 2; i++) {
        h_post_json(&g_srv, path, tok, "{\"code\":\"CC1.not-a-code\"}", &r);
        h_assert_error(&r, 404, "COLLECTION_CODE_UNKNOWN");
        h_resp_free(&r);
    }
    h_upload(&g_srv, "POST", path, tok, g_jpg, g_jpg_len, "image/jpeg", &r); /* a picture too */
    assert_limited(&r);
    h_resp_free(&r);
}

static void test_photo_uploads_are_limited_per_student(void **state)
{
    (void)state;
    char tok[64];
    long long uid = h_student(&g_srv, &g_sb, "o_lim_put", "传照同学", tok, sizeof tok);
    long long school = h_db_int(&g_db, "SELECT school_id FROM tasks WHERE id=%lld", g_task);
    h_db_int(&g_db,
             "INSERT INTO orders (order_no, task_id, user_id, school_id, grad_year, student_no, "
             "student_name, status, amount_fen) VALUES ('P20240121LIMT0001', %lld, %lld, %lld, "
             "2024, '20240121LIMT0001', '传照同学', 'awaiting_photo', 2500)",
             g_task, uid, school);
    struct h_resp r;
    for (int i = 0; i < 2; i++) {
        h_upload(&g_srv, "PUT", "/api/v1/orders/P20240121LIMT0001/photo", tok, g_jpg, g_jpg_len,
                 "image/jpeg", &r);
        h_assert_error(&r, 422, "PHOTO_CHECKS_FAILED");
        h_resp_free(&r);
    }
    h_upload(&g_srv, "PUT", "/api/v1/orders/P20240121LIMT0001/photo", tok, g_jpg, g_jpg_len,
             "image/jpeg", &r);
    assert_limited(&r);
    h_resp_free(&r);
}

static void *hold(void *arg)
{
    (void)arg;
    struct h_resp r;
    h_get(&g_srv, "/__debug/image-hold?ms=6000", NULL, &r);
    assert_int_equal(r.status, 200);
    h_resp_free(&r);
    return NULL;
}

/* The value of an unlabelled series in /metrics, -1 when absent. */
static long long metric(const char *name)
{
    struct h_resp r;
    char line[128];
    h_get(&g_srv, "/metrics", NULL, &r);
    snprintf(line, sizeof line, "\n%s ", name);
    const char *p = strstr(r.body, line);
    long long v = p ? strtoll(p + strlen(line), NULL, 10) : -1;
    h_resp_free(&r);
    return v;
}

static void test_a_full_image_gate_answers_503_with_retry_after_not_a_queue(void **state)
{
    (void)state;
    char tok[64];
    h_student(&g_srv, &g_sb, "o_lim_gate", NULL, tok, sizeof tok);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, hold, NULL), 0);
    for (int i = 0; i < 100 && metric("portraitd_image_work_active") < 1; i++)
        h_msleep(20);
    assert_int_equal(metric("portraitd_image_work_active"), 1);
    struct h_resp r;
    check(tok, &r); /* waits image_wait_ms for the only place, then gives up */
    h_assert_error(&r, 503, "OVERLOADED");
    char ra[16];
    assert_non_null(h_header(&r, "Retry-After", ra, sizeof ra));
    assert_true(strtol(ra, NULL, 10) >= 1);
    h_resp_free(&r);
    assert_true(metric("portraitd_image_work_refused_total") >= 1);
    pthread_join(t, NULL);
    assert_int_equal(check(tok, &r), 200); /* the place is free again */
    h_resp_free(&r);
    assert_int_equal(metric("portraitd_image_work_active"), 0);
}

static void test_server_exits_0(void **state)
{
    (void)state;
    assert_int_equal(h_srv_stop(&g_srv, SIGTERM), 0);
    assert_int_equal(h_sandbox_stop(&g_sb), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_photo_checks_are_limited_per_student),
        cmocka_unit_test(test_collection_code_uploads_are_limited_per_student),
        cmocka_unit_test(test_photo_uploads_are_limited_per_student),
        cmocka_unit_test(test_a_full_image_gate_answers_503_with_retry_after_not_a_queue),
        cmocka_unit_test(test_server_exits_0),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
