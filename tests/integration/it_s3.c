/* it_s3.c — the S3 storage backend against a real S3-compatible server on loopback (s3rver,
 * which checks AWS Signature V4): the server refuses a wrong signature (so it is no mock);
 * objects round-trip through storage.h (streamed reads, size, limits, deletes, the key
 * prefix); settings that cannot work are refused before serving; and portraitd with
 * storage.backend = s3 keeps a student's photo files in the bucket, serves them back, and
 * acknowledges no upload the store did not take; objects are listed page by page
 * (ListObjectsV2), and the retention run (`portraitd purge`) deletes the bucket's orphans. */
#include "harness.h"
#include "cluster.h"
#include "s3server.h"

#include "base/crypto.h"
#include "base/err.h"
#include "config/config.h"
#include "storage/storage.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <sys/wait.h>
#include <time.h>
#include <signal.h>

static struct h_s3 g_s3;
static struct h_db g_db;
static struct h_sandbox g_sb;
static struct h_srv g_srv;

static int setup(void **state)
{
    (void)state;
    h_s3_start(&g_s3);
    h_db_start(&g_db);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    h_stack_down(&g_srv, &g_sb, &g_db);
    h_s3_stop(&g_s3);
    return 0;
}

/* A configuration whose storage is the test server (keys from the environment). */
static void s3_config(struct pc_config *cfg, const char *prefix)
{
    char ini[600], err[300], path[400];
    pc_config_defaults(cfg);
    snprintf(path, sizeof path, "%s/s3-test.conf", h_workdir());
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "%s%s%s\n", h_s3_conf(&g_s3, ini, sizeof ini), prefix ? "s3_prefix = " : "",
            prefix ? prefix : "");
    fclose(f);
    if (pc_config_load(cfg, path, err, sizeof err))
        fail_msg("config: %s", err);
}

/* One raw signed request with libcurl (the way storage/s3.c signs), with any secret. */
static long raw_put(const char *key, const char *secret, const char *body, char *reply, size_t rlen)
{
    char url[300], sha[PC_SHA256_HEXLEN], h[120];
    snprintf(url, sizeof url, "%s/%s/%s", g_s3.endpoint, H_S3_BUCKET, key);
    pc_sha256_hex(body, strlen(body), sha);
    snprintf(h, sizeof h, "x-amz-content-sha256: %s", sha);
    struct curl_slist *hl = curl_slist_append(NULL, h);
    hl = curl_slist_append(hl, "Content-Type: text/plain");
    FILE *out = fmemopen(reply, rlen, "w");
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_AWS_SIGV4, "aws:amz:us-east-1:s3");
    curl_easy_setopt(c, CURLOPT_USERNAME, H_S3_KEY);
    curl_easy_setopt(c, CURLOPT_PASSWORD, secret);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    curl_slist_free_all(hl);
    fclose(out);
    return status;
}

static void test_the_s3_server_refuses_a_wrong_signature(void **state)
{
    (void)state;
    char reply[4096] = "";
    assert_int_equal(raw_put("proof/right.txt", H_S3_KEY, "signed right", reply, sizeof reply),
                     200);
    memset(reply, 0, sizeof reply);
    assert_int_equal(
        raw_put("proof/wrong.txt", "not-the-secret", "signed wrong", reply, sizeof reply), 403);
    assert_non_null(strstr(reply, "<Code>SignatureDoesNotMatch</Code>"));
    assert_int_equal(h_s3_objects(&g_s3, "proof"), 1); /* only the rightly signed one */

    /* storage/s3.c with a wrong secret: refused, nothing stored. */
    struct pc_config cfg;
    s3_config(&cfg, NULL);
    free(cfg.s3_secret_key);
    cfg.s3_secret_key = strdup("not-the-secret");
    assert_int_equal(pc_storage_put(&cfg, "proof/via-storage.bin", "x", 1), PC_EIO);
    assert_int_equal(h_s3_objects(&g_s3, "proof"), 1);
    pc_config_free(&cfg);
}

struct chunks {
    EVP_MD_CTX *md;
    size_t calls, bytes;
};

static int hash_sink(void *arg, const void *p, size_t n)
{
    struct chunks *c = arg;
    c->calls++;
    c->bytes += n;
    EVP_DigestUpdate(c->md, p, n);
    return 0;
}

static int stop_sink(void *arg, const void *p, size_t n)
{
    (void)arg, (void)p, (void)n;
    return PC_ECONFLICT;
}

static void test_objects_round_trip_streamed_sized_limited_and_deleted(void **state)
{
    (void)state;
    struct pc_config cfg;
    s3_config(&cfg, "tenant-a/");
    char err[200];
    assert_int_equal(pc_storage_check(&cfg, err, sizeof err), 0);
    size_t n = 3u << 20; /* 3 MiB of random bytes: many chunks on the way back */
    unsigned char *data = malloc(n);
    for (size_t i = 0; i < n; i += 4096)
        pc_rand_bytes(data + i, 4096);
    char sha[PC_SHA256_HEXLEN], got[PC_SHA256_HEXLEN];
    pc_sha256_hex(data, n, sha);
    assert_int_equal(pc_storage_put(&cfg, "photos/original/ab/big.bin", data, n), 0);
    /* The object is in the bucket, under the prefix. */
    assert_int_equal(h_s3_objects(&g_s3, "tenant-a/photos/original/ab"), 1);
    int64_t size = 0;
    assert_int_equal(pc_storage_size(&cfg, "photos/original/ab/big.bin", &size), 0);
    assert_int_equal(size, (int64_t)n);

    struct chunks c = {EVP_MD_CTX_new(), 0, 0};
    EVP_DigestInit_ex(c.md, EVP_sha256(), NULL);
    assert_int_equal(pc_storage_read(&cfg, "photos/original/ab/big.bin", n, hash_sink, &c), 0);
    unsigned char md[32];
    EVP_DigestFinal_ex(c.md, md, NULL);
    EVP_MD_CTX_free(c.md);
    pc_hex(md, sizeof md, got);
    assert_string_equal(got, sha);
    assert_int_equal(c.bytes, n);
    assert_true(c.calls > 1); /* streamed, not one buffer */

    char *buf = NULL;
    size_t len = 0;
    assert_int_equal(pc_storage_get(&cfg, "photos/original/ab/big.bin", n - 1, &buf, &len),
                     PC_ETOOBIG);
    assert_null(buf);
    assert_int_equal(pc_storage_read(&cfg, "photos/original/ab/big.bin", n, stop_sink, NULL),
                     PC_ECONFLICT);
    assert_int_equal(pc_storage_get(&cfg, "photos/original/ab/none.bin", n, &buf, &len),
                     PC_ENOTFOUND);
    assert_int_equal(pc_storage_size(&cfg, "photos/original/ab/none.bin", &size), PC_ENOTFOUND);
    assert_int_equal(pc_storage_put(&cfg, "../escape", "x", 1), PC_EINVAL);
    assert_int_equal(pc_storage_put(&cfg, "a b", "x", 1), PC_EINVAL);

    /* An empty object and a small one read back whole. */
    assert_int_equal(pc_storage_put(&cfg, "avatars/00/empty.png", "", 0), 0);
    assert_int_equal(pc_storage_get(&cfg, "avatars/00/empty.png", 10, &buf, &len), 0);
    assert_int_equal(len, 0);
    free(buf);

    assert_int_equal(pc_storage_delete(&cfg, "photos/original/ab/big.bin"), 0);
    assert_int_equal(pc_storage_size(&cfg, "photos/original/ab/big.bin", &size), PC_ENOTFOUND);
    assert_int_equal(pc_storage_delete(&cfg, "photos/original/ab/big.bin"), 0); /* gone: fine */
    assert_int_equal(h_s3_objects(&g_s3, "tenant-a/photos"), 0);
    free(data);
    pc_config_free(&cfg);
}

struct listing {
    int n, others;
    bool first_seen, last_seen;
};

static int count_visit(void *arg, const char *rel, int64_t mtime_s)
{
    struct listing *l = arg;
    int64_t now = (int64_t)time(NULL);
    assert_true(mtime_s > now - 3600 && mtime_s < now + 3600); /* the store's LastModified */
    if (strncmp(rel, "avatars/pg/", 11))
        l->others++;
    l->first_seen |= !strcmp(rel, "avatars/pg/0000.png");
    l->last_seen |= !strcmp(rel, "avatars/pg/1000.png");
    l->n++;
    return 0;
}

static void test_objects_are_listed_page_by_page_under_the_prefix(void **state)
{
    (void)state;
    struct pc_config cfg, other;
    s3_config(&cfg, "tenant-l/");
    s3_config(&other, "tenant-m/");
    /* 1,001 objects: more than one page of a listing (1,000 keys at most per page). */
    for (int i = 0; i <= 1000; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "avatars/pg/%04d.png", i);
        assert_int_equal(pc_storage_put(&cfg, rel, "p", 1), 0);
    }
    assert_int_equal(pc_storage_put(&cfg, "photos/original/aa/one.jpg", "j", 1), 0);
    assert_int_equal(pc_storage_put(&other, "avatars/pg/other.png", "o", 1), 0);
    struct listing l = {0};
    assert_int_equal(pc_storage_list(&cfg, "avatars/", count_visit, &l), 0);
    assert_int_equal(l.n, 1001); /* both pages, none of another prefix or folder */
    assert_int_equal(l.others, 0);
    assert_true(l.first_seen && l.last_seen);
    memset(&l, 0, sizeof l);
    assert_int_equal(pc_storage_list(&cfg, "photos/", count_visit, &l), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(pc_storage_list(&cfg, "../", count_visit, &l), PC_EINVAL);
    assert_int_equal(pc_storage_list(&cfg, "avatars", count_visit, &l), PC_EINVAL);
    pc_config_free(&cfg);
    pc_config_free(&other);
}

static void test_settings_that_cannot_work_are_refused(void **state)
{
    (void)state;
    struct pc_config cfg;
    char err[300];
    s3_config(&cfg, NULL);
    assert_int_equal(pc_storage_check(&cfg, err, sizeof err), 0);
    char *keep = cfg.s3_endpoint;
    cfg.s3_endpoint = "http://cos.example.com"; /* plain HTTP off loopback */
    assert_int_equal(pc_storage_check(&cfg, err, sizeof err), PC_EINVAL);
    assert_non_null(strstr(err, "s3_endpoint"));
    cfg.s3_endpoint = "https://cos.ap-guangzhou.myqcloud.com/path";
    assert_int_equal(pc_storage_check(&cfg, err, sizeof err), PC_EINVAL);
    cfg.s3_endpoint = "https://cos.ap-guangzhou.myqcloud.com";
    assert_int_equal(pc_storage_check(&cfg, err, sizeof err), 0);
    cfg.s3_endpoint = keep;
    char *secret = cfg.s3_secret_key;
    cfg.s3_secret_key = "";
    assert_int_equal(pc_storage_check(&cfg, err, sizeof err), PC_EINVAL);
    assert_non_null(strstr(err, "PORTRAITD_STORAGE_S3_SECRET_KEY"));
    cfg.s3_secret_key = secret;
    char *backend = cfg.storage_backend;
    cfg.storage_backend = "ftp";
    assert_int_equal(pc_storage_check(&cfg, err, sizeof err), PC_EINVAL);
    cfg.storage_backend = backend;
    pc_config_free(&cfg);

    /* portraitd refuses to serve without the keys, and says which. */
    char conf[800], log[500], line[600];
    snprintf(conf, sizeof conf, "%s/nokeys.conf", h_workdir());
    snprintf(log, sizeof log, "%s/nokeys.log", h_workdir());
    FILE *f = fopen(conf, "w");
    fprintf(f, "%s", h_s3_conf(&g_s3, line, sizeof line));
    fprintf(f, "[crypto]\ndata_key = "
               "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n");
    fclose(f);
    char cmd[1500];
    snprintf(cmd, sizeof cmd,
             "env -u PORTRAITD_STORAGE_S3_ACCESS_KEY -u PORTRAITD_STORAGE_S3_SECRET_KEY "
             "'%s' -c '%s' serve 2>'%s'",
             PC_BINARY, conf, log);
    int st = system(cmd);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    snprintf(cmd, sizeof cmd, "grep -q PORTRAITD_STORAGE_S3_ACCESS_KEY '%s'", log);
    assert_int_equal(system(cmd), 0);
}

static void upload(const char *tok, const char *no, const void *img, size_t len, struct h_resp *r)
{
    if (h_put_photo(&g_srv, tok, no, img, len, r) != 0)
        fail_msg("upload of %s: no answer", no);
}

static void
test_portraitd_keeps_photos_in_the_object_store_and_acknowledges_only_stored_ones(void **state)
{
    (void)state;
    char wx[600], s3conf[600], conf[1400], tok[64], tok2[64];
    h_sandbox_start(&g_sb, NULL);
    snprintf(conf, sizeof conf, "%s%s", h_sandbox_conf(&g_sb, wx, sizeof wx),
             h_s3_conf(&g_s3, s3conf, sizeof s3conf));
    h_srv_start(&g_srv, &g_db, conf, 0);
    long long school;
    long long task = h_db_task(&g_db, "10402", "演示大学", "s3task", &school);
    long long uid = h_student(&g_srv, &g_sb, "o_s3_student", "对象同学", tok, sizeof tok);
    long long uid2 = h_student(&g_srv, &g_sb, "o_s3_student2", "对象同学", tok2, sizeof tok2);
    h_db_int(&g_db,
             "INSERT INTO orders (order_no, task_id, user_id, school_id, grad_year, student_no, "
             "student_name, status, amount_fen) VALUES ('P20240119S3000001', %lld, %lld, %lld, "
             "2024, '2020000001', '对象同学', 'awaiting_photo', 2500), ('P20240119S3000002', "
             "%lld, %lld, %lld, 2024, '2020000002', '对象同学', 'awaiting_photo', 2500)",
             task, uid, school, task, uid2, school);
    unsigned char *imgs[2];
    size_t lens[2];
    h_distinct_portraits(2, imgs, lens);
    unsigned char *img = imgs[0], *img2 = imgs[1];
    size_t len = lens[0], len2 = lens[1];
    struct h_resp r;
    upload(tok, "P20240119S3000001", img, len, &r);
    if (r.status != 200)
        fail_msg("upload: %ld %.400s", r.status, r.body);
    h_resp_free(&r);
    /* Both files are objects of the bucket; nothing under storage.dir but scratch. */
    assert_int_equal(h_s3_objects(&g_s3, "photos/original"), 1);
    assert_int_equal(h_s3_objects(&g_s3, "photos/standard"), 1);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "test ! -e '%s/data/photos'", g_srv.dir);
    assert_int_equal(system(cmd), 0);
    h_get(&g_srv, "/api/v1/orders/P20240119S3000001/photo?variant=original", tok, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, len);
    assert_memory_equal(r.body, img, len);
    h_resp_free(&r);
    h_get(&g_srv, "/api/v1/orders/P20240119S3000001/photo", tok, &r);
    assert_int_equal(r.status, 200);
    char sha[PC_SHA256_HEXLEN];
    pc_sha256_hex(r.body, r.len, sha);
    assert_int_equal(h_db_int(&g_db,
                              "SELECT COUNT(*) FROM photos WHERE normalized_sha256='%s' AND "
                              "normalized_path LIKE 'photos/standard/%%'",
                              sha),
                     1);
    h_resp_free(&r);

    /* An object no row refers to (a put whose transaction never committed) is the retention
     * run's once a day old: counted by a dry run, deleted by a run, and only it. */
    struct pc_config cfg;
    s3_config(&cfg, NULL);
    assert_int_equal(pc_storage_put(&cfg, "photos/standard/zz/orphan.jpg", "orphan", 6), 0);
    char out[2048], purge[200], as_of[32];
    time_t later = time(NULL) + 2 * 86400;
    struct tm tm;
    gmtime_r(&later, &tm);
    strftime(as_of, sizeof as_of, "%Y-%m-%d %H:%M:%S", &tm);
    for (int dry = 1; dry >= 0; dry--) {
        snprintf(purge, sizeof purge, "purge %s--as-of '%s'", dry ? "--dry-run " : "", as_of);
        assert_int_equal(h_srv_cli(&g_srv, NULL, out, sizeof out, purge), 0);
        cJSON *c = cJSON_Parse(out);
        assert_non_null(c);
        assert_int_equal(cJSON_GetObjectItem(c, "orphans")->valueint, 1);
        assert_int_equal(cJSON_GetObjectItem(c, "errors")->valueint, 0);
        cJSON_Delete(c);
        int64_t size = 0;
        assert_int_equal(pc_storage_size(&cfg, "photos/standard/zz/orphan.jpg", &size),
                         dry ? 0 : PC_ENOTFOUND);
    }
    assert_int_equal(h_s3_objects(&g_s3, "photos/original"), 1); /* the student's stay */
    assert_int_equal(h_s3_objects(&g_s3, "photos/standard"), 1);
    pc_config_free(&cfg);

    /* The store goes away: the upload fails, nothing is recorded, the order stays. */
    h_s3_stop(&g_s3);
    upload(tok2, "P20240119S3000002", img2, len2, &r);
    assert_true(r.status >= 500);
    h_resp_free(&r);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM orders WHERE "
                                     "order_no='P20240119S3000002' AND status='awaiting_photo'"),
                     1);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM photos WHERE user_id=%lld", uid2), 0);
    /* The failure is counted where Prometheus looks. */
    h_get(&g_srv, "/metrics", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "portraitd_storage_backend{backend=\"s3\"} 1"));
    assert_non_null(strstr(r.body, "portraitd_storage_errors_total{op=\"put\"}"));
    assert_null(strstr(r.body, "portraitd_storage_errors_total{op=\"put\"} 0\n"));
    h_resp_free(&r);
    free(img);
    free(img2);
    assert_int_equal(h_srv_stop(&g_srv, SIGTERM), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_s3_server_refuses_a_wrong_signature),
        cmocka_unit_test(test_objects_round_trip_streamed_sized_limited_and_deleted),
        cmocka_unit_test(test_objects_are_listed_page_by_page_under_the_prefix),
        cmocka_unit_test(test_settings_that_cannot_work_are_refused),
        cmocka_unit_test(
            test_portraitd_keeps_photos_in_the_object_store_and_acknowledges_only_stored_ones),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
