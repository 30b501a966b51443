/* it_codes.c — the CHSI collection code: a student uploads the QR of a code minted by the
 * sandbox (clean PNG, JPEG photo, screenshot with UI around it, or the scanned text), sees
 * the record, confirms once (also concurrently), and every gate outcome answers as API.md
 * says: QR_NOT_FOUND, COLLECTION_CODE_UNKNOWN, NOT_IN_ROSTER, ALREADY_COLLECTED,
 * DUPLICATE_SUBMISSION. */
#include "harness.h"

#include <openssl/evp.h>
#include <png.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <turbojpeg.h>

static struct h_db g_db;
static struct h_sandbox g_sb;
static struct h_srv g_srv;
static char g_admin[128];
static long long g_task, g_task2;

static void req_json(const char *method, const char *path, const char *tok, const char *body,
                     struct h_resp *r)
{
    h_req_json(&g_srv, method, path, tok, body, r);
}

#define when h_when

static long long create_task(const char *code)
{
    char o[40], c[40], body[768];
    when(-3600, o, sizeof o);
    when(86400, c, sizeof c);
    snprintf(body, sizeof body,
             "{\"name\":\"采集 %s\",\"school\":\"10402\",\"collection_type\":\"centralized\","
             "\"feature_code\":\"%s\",\"opens_at\":\"%s\",\"closes_at\":\"%s\",\"price_fen\":2500,"
             "\"grad_year\":2024}",
             code, code, o, c);
    struct h_resp r;
    req_json("POST", "/api/v1/admin/tasks", g_admin, body, &r);
    assert_int_equal(r.status, 201);
    cJSON *j = h_json(&r);
    long long id = (long long)cJSON_GetObjectItem(j, "id")->valuedouble;
    cJSON_Delete(j);
    h_resp_free(&r);
    return id;
}

static void import(long long task, const char *csv)
{
    char path[96], auth[160];
    snprintf(path, sizeof path, "/api/v1/admin/tasks/%lld/roster", task);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", g_admin);
    const char *hs[] = {"Content-Type: text/csv", auth, NULL};
    struct h_resp r;
    h_http(&g_srv, "POST", path, hs, csv, strlen(csv), &r);
    assert_int_equal(r.status, 200);
    h_resp_free(&r);
}

static int setup(void **state)
{
    (void)state;
    char wx[512];
    h_db_start(&g_db);
    h_sandbox_start(&g_sb, NULL);
    h_srv_start(&g_srv, &g_db, h_sandbox_conf(&g_sb, wx, sizeof wx), 0);
    h_user_add(&g_srv, "boss", "admin", "boss-password-1");
    h_login(&g_srv, "boss", "boss-password-1", g_admin, sizeof g_admin);
    struct h_resp r;
    req_json("POST", "/api/v1/admin/schools", g_admin, "{\"code\":\"10402\",\"name\":\"演示大学\"}",
             &r);
    assert_int_equal(r.status, 201);
    h_resp_free(&r);
    g_task = create_task("evhx53");
    g_task2 = create_task("sibling1");
    import(g_task, "序号,学院,姓名,学号,班级,已采集\n"
                   "1,海外学院(外国语学院),陈萱,20200452209,20英语B班(师),否\n"
                   "2,海外学院(外国语学院),MISSANG MI ABA’A Medy Evrard,2020146F101,20国际班,否\n"
                   "3,文学院,李明,20200101001,20汉语言1班,是\n"
                   "4,文学院,王小红,20200101002,20汉语言1班,否\n"
                   "5,计算机学院,张伟,20200301001,20计科2班,否\n"
                   "6,计算机学院,刘洋,20200301002,20计科2班,否\n");
    import(g_task2, "学院,姓名,学号\n计算机学院,张伟,20200301001\n");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return h_stack_down(&g_srv, &g_sb, &g_db);
}

/* A bound student with a real name. */
static void student(const char *openid, long long task, char *tok, size_t len)
{
    struct h_resp r;
    h_student(&g_srv, &g_sb, openid, "同学", tok, len);
    req_json("POST", "/api/v1/tasks/bind", tok,
             task == g_task ? "{\"collection_type\":\"centralized\",\"feature_code\":\"evhx53\"}"
                            : "{\"collection_type\":\"centralized\",\"feature_code\":\"sibling1\"}",
             &r);
    assert_int_equal(r.status, 200);
    h_resp_free(&r);
}

struct minted {
    char code[4200];
    unsigned char *png;
    size_t png_len;
};

/* The sandbox mints a code (and its QR PNG) for a student. */
static void mint(const char *student_no, const char *name, const char *school_code,
                 struct minted *m)
{
    char body[512];
    snprintf(body, sizeof body,
             "{\"student_no\":\"%s\",\"name\":\"%s\",\"school_code\":\"%s\",\"school\":"
             "\"演示大学\",\"id_no\":\"110101199001011234\",\"major\":\"英语\",\"level\":\"本科\","
             "\"grad_year\":2024}",
             student_no, name, school_code);
    cJSON *j = h_sb_json(&g_sb, "POST", "/__sandbox/collection-code", body);
    snprintf(m->code, sizeof m->code, "%s", cJSON_GetObjectItem(j, "code")->valuestring);
    const char *b64 = cJSON_GetObjectItem(j, "qr_png_base64")->valuestring;
    size_t n = strlen(b64);
    m->png = malloc(n);
    int len = EVP_DecodeBlock(m->png, (const unsigned char *)b64, (int)n);
    assert_true(len > 0);
    while (n && b64[n - 1] == '=') {
        len--;
        n--;
    }
    m->png_len = (size_t)len;
    cJSON_Delete(j);
}

/* Decodes a PNG to grey pixels (libpng's simplified API). */
static unsigned char *png_gray(const unsigned char *png, size_t len, int *w, int *h)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    assert_true(png_image_begin_read_from_memory(&img, png, len));
    img.format = PNG_FORMAT_GRAY;
    unsigned char *px = malloc(PNG_IMAGE_SIZE(img));
    assert_true(png_image_finish_read(&img, NULL, px, 0, NULL));
    *w = (int)img.width;
    *h = (int)img.height;
    return px;
}

/* A phone "screenshot": the QR pasted at (x, y) into a w×h grey canvas with UI-like bars and
 * text-like noise around it. */
static unsigned char *screenshot(const unsigned char *qr, int qw, int qh, int w, int h, int x,
                                 int y)
{
    unsigned char *c = malloc((size_t)w * (size_t)h);
    for (int j = 0; j < h; j++)
        for (int i = 0; i < w; i++) {
            unsigned char v = 235;
            if (j < 120 || j > h - 160)
                v = 60; /* status and tab bars */
            else if ((j / 24) % 3 == 0 && (i * 7 + j * 3) % 11 < 4)
                v = 90; /* "text" */
            c[(size_t)j * (size_t)w + (size_t)i] = v;
        }
    for (int j = 0; j < qh; j++)
        memcpy(c + (size_t)(y + j) * (size_t)w + (size_t)x, qr + (size_t)j * (size_t)qw,
               (size_t)qw);
    return c;
}

static unsigned char *encode_png(const unsigned char *gray, int w, int h, size_t *len)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = (png_uint_32)w;
    img.height = (png_uint_32)h;
    img.format = PNG_FORMAT_GRAY;
    png_alloc_size_t size = 0;
    assert_true(png_image_write_to_memory(&img, NULL, &size, 0, gray, 0, NULL));
    unsigned char *out = malloc(size);
    assert_true(png_image_write_to_memory(&img, out, &size, 0, gray, 0, NULL));
    *len = size;
    return out;
}

static unsigned char *encode_jpeg(const unsigned char *gray, int w, int h, int q,
                                  unsigned long *len)
{
    tjhandle tj = tjInitCompress();
    unsigned char *out = NULL;
    *len = 0;
    assert_int_equal(tjCompress2(tj, gray, w, 0, h, TJPF_GRAY, &out, len, TJSAMP_GRAY, q, 0), 0);
    tjDestroy(tj);
    return out;
}

/* Uploads an image as wx.uploadFile does (multipart field "file"). */
static void upload(const char *tok, long long task, const void *img, size_t len, const char *mime,
                   struct h_resp *r)
{
    char path[96];
    snprintf(path, sizeof path, "/api/v1/tasks/%lld/collection-code", task);
    h_upload(&g_srv, "POST", path, tok, img, len, mime, r);
}

static void send_text(const char *tok, long long task, const char *code, struct h_resp *r)
{
    char path[96], body[4400];
    snprintf(path, sizeof path, "/api/v1/tasks/%lld/collection-code", task);
    snprintf(body, sizeof body, "{\"code\":\"%s\"}", code);
    req_json("POST", path, tok, body, r);
}

static void confirm(const char *tok, long long task, const char *cand, struct h_resp *r)
{
    char path[96], body[128];
    snprintf(path, sizeof path, "/api/v1/tasks/%lld/confirm", task);
    snprintf(body, sizeof body, "{\"candidate_id\":\"%s\"}", cand);
    req_json("POST", path, tok, body, r);
}

static void test_a_clean_qr_png_shows_the_record_and_confirm_creates_one_order(void **state)
{
    (void)state;
    char tok[64];
    struct minted m;
    struct h_resp r;
    student("o_chen", g_task, tok, sizeof tok);
    mint("20200452209", "陈萱", "10402", &m);
    upload(tok, g_task, m.png, m.png_len, "image/png", &r);
    if (r.status != 200)
        fail_msg("%ld %s", r.status, r.body);
    cJSON *j = h_json(&r);
    char cand[40];
    snprintf(cand, sizeof cand, "%s", cJSON_GetObjectItem(j, "candidate_id")->valuestring);
    cJSON *s = cJSON_GetObjectItem(j, "student");
    assert_string_equal(cJSON_GetObjectItem(s, "name")->valuestring, "陈萱");
    assert_string_equal(cJSON_GetObjectItem(s, "student_no")->valuestring, "20200452209");
    assert_string_equal(cJSON_GetObjectItem(s, "college")->valuestring, "海外学院(外国语学院)");
    assert_string_equal(cJSON_GetObjectItem(s, "class")->valuestring, "20英语B班(师)");
    assert_string_equal(cJSON_GetObjectItem(s, "school")->valuestring, "演示大学");
    assert_string_equal(cJSON_GetObjectItem(s, "major")->valuestring, "英语");
    assert_string_equal(cJSON_GetObjectItem(s, "id_no_masked")->valuestring, "1101**********1234");
    assert_null(strstr(r.body, "110101199001011234"));
    cJSON_Delete(j);
    h_resp_free(&r);
    confirm(tok, g_task, cand, &r);
    assert_int_equal(r.status, 200);
    j = h_json(&r);
    cJSON *o = cJSON_GetObjectItem(j, "order");
    char order_no[40];
    snprintf(order_no, sizeof order_no, "%s", cJSON_GetObjectItem(o, "order_no")->valuestring);
    assert_string_equal(cJSON_GetObjectItem(o, "status")->valuestring, "awaiting_photo");
    assert_int_equal(cJSON_GetObjectItem(o, "amount_fen")->valueint, 2500);
    assert_int_equal((long long)cJSON_GetObjectItem(o, "task_id")->valuedouble, g_task);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "student"), "name")->valuestring,
                        "陈萱");
    cJSON_Delete(j);
    h_resp_free(&r);
    confirm(tok, g_task, cand, &r); /* idempotent */
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, order_no));
    h_resp_free(&r);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM orders WHERE student_no='20200452209'"),
                     1);
    /* The exact bytes of the code are kept with the candidate. */
    assert_int_equal(
        h_db_int(&g_db, "SELECT COUNT(*) FROM collection_candidates WHERE code_raw = '%s'", m.code),
        1);
    /* Uploading the code again: the order already exists. */
    send_text(tok, g_task, m.code, &r);
    h_assert_error(&r, 409, "DUPLICATE_SUBMISSION");
    assert_non_null(strstr(r.body, order_no));
    h_resp_free(&r);
    /* The same code from another WeChat account: refused, and the order number withheld. */
    char tok2[64];
    student("o_chen_other", g_task, tok2, sizeof tok2);
    send_text(tok2, g_task, m.code, &r);
    h_assert_error(&r, 409, "SUBMITTED_BY_OTHER_ACCOUNT");
    assert_null(strstr(r.body, order_no));
    h_resp_free(&r);
    /* The order is the student's: listed, readable; not readable by someone else. */
    char path[96];
    snprintf(path, sizeof path, "/api/v1/orders/%s", order_no);
    h_get(&g_srv, path, tok, &r);
    assert_int_equal(r.status, 200);
    h_resp_free(&r);
    h_get(&g_srv, "/api/v1/orders", tok, &r);
    assert_non_null(strstr(r.body, order_no));
    h_resp_free(&r);
    char other[64];
    student("o_nosy", g_task, other, sizeof other);
    h_get(&g_srv, path, other, &r);
    h_assert_error(&r, 404, "NOT_FOUND");
    h_resp_free(&r);
    free(m.png);
}

static void test_jpeg_photo_and_screenshot_with_ui_decode_too(void **state)
{
    (void)state;
    char tok[64];
    struct minted m;
    struct h_resp r;
    int qw, qh;
    student("o_missang", g_task, tok, sizeof tok);
    mint("2020146F101", "MISSANG MI ABA’A Medy Evrard", "10402", &m);
    unsigned char *qr = png_gray(m.png, m.png_len, &qw, &qh);
    /* A 1080×2340 PNG screenshot with the code off-centre. */
    unsigned char *shot = screenshot(qr, qw, qh, 1080, 2340, 300, 900);
    size_t plen;
    unsigned char *png = encode_png(shot, 1080, 2340, &plen);
    upload(tok, g_task, png, plen, "image/png", &r);
    if (r.status != 200)
        fail_msg("screenshot: %ld %s", r.status, r.body);
    assert_non_null(strstr(r.body, "MISSANG MI ABA\xe2\x80\x99"
                                   "A Medy Evrard"));
    h_resp_free(&r);
    /* The same as a JPEG "photo" at quality 70. */
    unsigned long jlen;
    unsigned char *jpg = encode_jpeg(shot, 1080, 2340, 70, &jlen);
    upload(tok, g_task, jpg, jlen, "image/jpeg", &r);
    if (r.status != 200)
        fail_msg("jpeg: %ld %s", r.status, r.body);
    h_resp_free(&r);
    /* The scanned text works as well (with a trailing newline from the scanner). */
    char text[4300];
    snprintf(text, sizeof text, "%s\\n", m.code);
    send_text(tok, g_task, text, &r);
    assert_int_equal(r.status, 200);
    h_resp_free(&r);
    tjFree(jpg);
    free(png);
    free(shot);
    free(qr);
    free(m.png);
}

static void test_pictures_without_a_code_or_with_a_foreign_qr_are_refused(void **state)
{
    (void)state;
    char tok[64];
    struct h_resp r;
    student("o_noqr", g_task, tok, sizeof tok);
    unsigned char *blank = screenshot(NULL, 0, 0, 640, 960, 0, 0);
    size_t plen;
    unsigned char *png = encode_png(blank, 640, 960, &plen);
    upload(tok, g_task, png, plen, "image/png", &r);
    h_assert_error(&r, 422, "QR_NOT_FOUND");
    h_resp_free(&r);
    upload(tok, g_task, "definitely not an image", 23, "image/png", &r);
    h_assert_error(&r, 415, "UNSUPPORTED_MEDIA_TYPE");
    h_resp_free(&r);
    send_text(tok, g_task, "https://example.com/not-a-collection-code", &r);
    h_assert_error(&r, 404, "COLLECTION_CODE_UNKNOWN");
    h_resp_free(&r);
    struct minted m;
    mint("20200301002", "刘洋", "10402", &m);
    char forged[4300];
    snprintf(forged, sizeof forged, "%s", m.code);
    forged[10] = forged[10] == 'A' ? 'B' : 'A'; /* one changed character: the tag fails */
    send_text(tok, g_task, forged, &r);
    h_assert_error(&r, 404, "COLLECTION_CODE_UNKNOWN");
    h_resp_free(&r);
    free(m.png);
    free(png);
    free(blank);
}

static void test_the_roster_gate_refuses_outsiders_offline_and_sibling_task_students(void **state)
{
    (void)state;
    char tok[64];
    struct minted m;
    struct h_resp r;
    student("o_gate", g_task, tok, sizeof tok);
    mint("20209999999", "不在名单", "10402", &m); /* not in the roster */
    send_text(tok, g_task, m.code, &r);
    h_assert_error(&r, 403, "NOT_IN_ROSTER");
    h_resp_free(&r);
    free(m.png);
    mint("20200101002", "李小红", "10402", &m); /* in the roster under another name */
    send_text(tok, g_task, m.code, &r);
    h_assert_error(&r, 403, "NOT_IN_ROSTER");
    h_resp_free(&r);
    free(m.png);
    mint("20200101002", "王小红", "10999", &m); /* a code of another school */
    send_text(tok, g_task, m.code, &r);
    h_assert_error(&r, 403, "NOT_IN_ROSTER");
    h_resp_free(&r);
    free(m.png);
    mint("20200101001", "李明", "10402", &m); /* collected offline */
    send_text(tok, g_task, m.code, &r);
    h_assert_error(&r, 409, "ALREADY_COLLECTED");
    h_resp_free(&r);
    free(m.png);
    /* 张伟 orders in the sibling task; then the main task refuses him. */
    char t2[64];
    student("o_zhang", g_task2, t2, sizeof t2);
    mint("20200301001", "张伟", "10402", &m);
    send_text(t2, g_task2, m.code, &r);
    assert_int_equal(r.status, 200);
    cJSON *j = h_json(&r);
    char cand[40];
    snprintf(cand, sizeof cand, "%s", cJSON_GetObjectItem(j, "candidate_id")->valuestring);
    cJSON_Delete(j);
    h_resp_free(&r);
    confirm(t2, g_task2, cand, &r);
    assert_int_equal(r.status, 200);
    h_resp_free(&r);
    char t1[64];
    student("o_zhang_again", g_task, t1, sizeof t1);
    send_text(t1, g_task, m.code, &r);
    h_assert_error(&r, 409, "ALREADY_COLLECTED");
    h_resp_free(&r);
    free(m.png);
    /* Unbound task and unknown candidate. */
    char path[96];
    snprintf(path, sizeof path, "/api/v1/tasks/%lld/collection-code", g_task2);
    req_json("POST", path, tok, "{\"code\":\"x\"}", &r);
    h_assert_error(&r, 404, "TASK_NOT_BOUND");
    h_resp_free(&r);
    confirm(tok, g_task, "0123456789abcdef0123456789abcdef", &r);
    h_assert_error(&r, 404, "CANDIDATE_NOT_FOUND");
    h_resp_free(&r);
}

struct racer {
    char tok[64];
    char cand[40];
    struct h_resp r;
};

static void *race(void *p)
{
    struct racer *x = p;
    confirm(x->tok, g_task, x->cand, &x->r);
    return NULL;
}

static void test_concurrent_confirms_by_the_same_student_create_one_order(void **state)
{
    (void)state;
    struct racer x[6];
    struct minted m;
    struct h_resp r;
    student("o_racer", g_task, x[0].tok, sizeof x[0].tok);
    mint("20200301002", "刘洋", "10402", &m);
    send_text(x[0].tok, g_task, m.code, &r);
    assert_int_equal(r.status, 200);
    cJSON *j = h_json(&r);
    snprintf(x[0].cand, sizeof x[0].cand, "%s",
             cJSON_GetObjectItem(j, "candidate_id")->valuestring);
    cJSON_Delete(j);
    h_resp_free(&r);
    pthread_t th[6];
    for (int i = 0; i < 6; i++) {
        if (i)
            x[i] = x[0];
        pthread_create(&th[i], NULL, race, &x[i]);
    }
    char first[40] = "";
    for (int i = 0; i < 6; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(x[i].r.status, 200);
        cJSON *jj = h_json(&x[i].r);
        const char *no =
            cJSON_GetObjectItem(cJSON_GetObjectItem(jj, "order"), "order_no")->valuestring;
        if (!first[0])
            snprintf(first, sizeof first, "%s", no);
        assert_string_equal(no, first);
        cJSON_Delete(jj);
        h_resp_free(&x[i].r);
    }
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM orders WHERE student_no='20200301002'"),
                     1);
    free(m.png);
}

static void test_roster_progress_follows_the_orders(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "/api/v1/admin/tasks/%lld/roster?state=awaiting_photo", g_task);
    struct h_resp r;
    h_get(&g_srv, path, g_admin, &r);
    assert_int_equal(r.status, 200);
    cJSON *j = h_json(&r);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "items")), 2); /* 陈萱, 刘洋 */
    assert_non_null(strstr(r.body, "\"order_no\":\"P"));
    cJSON_Delete(j);
    h_resp_free(&r);
    assert_int_equal(h_srv_stop(&g_srv, SIGTERM), 0);
    assert_int_equal(h_sandbox_stop(&g_sb), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_clean_qr_png_shows_the_record_and_confirm_creates_one_order),
        cmocka_unit_test(test_jpeg_photo_and_screenshot_with_ui_decode_too),
        cmocka_unit_test(test_pictures_without_a_code_or_with_a_foreign_qr_are_refused),
        cmocka_unit_test(test_the_roster_gate_refuses_outsiders_offline_and_sibling_task_students),
        cmocka_unit_test(test_concurrent_confirms_by_the_same_student_create_one_order),
        cmocka_unit_test(test_roster_progress_follows_the_orders),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
