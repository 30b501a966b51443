/* bench/cluster_bench.c — the photo upload path and GET /orders through haproxy with one and
 * with two portraitd instances (the stack of tests/integration/it_cluster.c: private MariaDB,
 * the sandbox, s3rver for the photos, haproxy from scripts/haproxy-conf.sh), alternating
 * 1, 2, 1, 2, … for `runs` rounds so that the spread shows:
 *   uploads: U threads PUT /api/v1/orders/{no}/photo (1080×1440 JPEG, 0.3 MB, each a new
 *            original object: a JPEG comment makes the bytes unique) into distinct orders
 *            awaiting a photo, for D seconds → accepted uploads per second, p50/p99;
 *   orders:  U threads GET /api/v1/orders (keep-alive) for D seconds → requests per second,
 *            p50/p99.
 * Bounded (fixed duration), loopback only, no assertions on timing.
 * Usage: cluster_bench [seconds=10] [threads=4] [runs=3] */
#include "../tests/integration/cluster.h"
#include "../tests/integration/harness.h"
#include "../tests/integration/s3server.h"

#include "photo/testgen.h"

#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>
#include <turbojpeg.h>
#include <unistd.h>

#define ORDERS 4000

static struct h_db g_db;
static struct h_sandbox g_sb;
static struct h_s3 g_s3;
static struct h_srv g_a, g_b;
static struct h_balancer g_bal;
static char g_tok[128], g_tok2[128];
static unsigned char *g_jpeg;
static size_t g_jpeg_len;
static atomic_int g_next, g_stop;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t sink(char *p, size_t s, size_t n, void *u)
{
    (void)p, (void)u;
    return s * n;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

struct worker {
    bool upload;
    double lat[20000];
    size_t n, ok, fail;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    CURL *c = curl_easy_init();
    char url[256], auth[200], ct[100];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", w->upload ? g_tok : g_tok2);
    struct curl_slist *hs = curl_slist_append(NULL, auth);
    const char *b = "----BenchBoundary";
    if (w->upload) {
        snprintf(ct, sizeof ct, "Content-Type: multipart/form-data; boundary=%s", b);
        hs = curl_slist_append(hs, ct);
        hs = curl_slist_append(hs, "Expect:");
    }
    char *body = malloc(g_jpeg_len + 512);
    curl_easy_setopt(c, CURLOPT_CAINFO, g_a.ca);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
    while (!g_stop && w->n < sizeof w->lat / sizeof w->lat[0]) {
        size_t n = 0;
        if (w->upload) {
            int k = atomic_fetch_add(&g_next, 1);
            if (k >= ORDERS)
                break;
            snprintf(url, sizeof url, "https://127.0.0.1:%d/api/v1/orders/PB%015d/photo",
                     g_bal.port, k + 1);
            n = (size_t)snprintf(body, 512,
                                 "--%s\r\nContent-Disposition: form-data; name=\"file\"; "
                                 "filename=\"p.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n",
                                 b);
            /* SOI, a comment with the order number (unique bytes), then the rest. */
            memcpy(body + n, g_jpeg, 2);
            n += 2;
            char com[24];
            int cl = snprintf(com, sizeof com, "bench %09d", k);
            body[n++] = (char)0xFF, body[n++] = (char)0xFE, body[n++] = 0;
            body[n++] = (char)(cl + 2);
            memcpy(body + n, com, (size_t)cl);
            n += (size_t)cl;
            memcpy(body + n, g_jpeg + 2, g_jpeg_len - 2);
            n += g_jpeg_len - 2;
            n += (size_t)snprintf(body + n, 64, "\r\n--%s--\r\n", b);
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n);
        } else {
            snprintf(url, sizeof url, "https://127.0.0.1:%d/api/v1/orders", g_bal.port);
        }
        curl_easy_setopt(c, CURLOPT_URL, url);
        double t0 = now_s();
        CURLcode rc = curl_easy_perform(c);
        long st = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
        w->lat[w->n++] = now_s() - t0;
        if (rc == CURLE_OK && st == 200)
            w->ok++;
        else
            w->fail++;
    }
    free(body);
    curl_slist_free_all(hs);
    curl_easy_cleanup(c);
    return NULL;
}

/* CPU seconds (user + system) that pid has used. */
static double cpu_s(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* fields after the command name */
    unsigned long long ut = 0, st = 0;
    for (int field = 3; p && *p && field <= 15; field++) {
        p = strchr(p + 1, ' ');
        if (p && field == 13)
            ut = strtoull(p + 1, NULL, 10);
        if (p && field == 14)
            st = strtoull(p + 1, NULL, 10);
    }
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* One measurement; prints a row. */
static void measure(bool upload, int instances, int run, int seconds, int threads)
{
    struct worker *ws = calloc((size_t)threads, sizeof *ws);
    pthread_t *ts = calloc((size_t)threads, sizeof *ts);
    g_stop = 0;
    double c0 = cpu_s(g_a.pid) + cpu_s(g_b.pid);
    double t0 = now_s();
    for (int i = 0; i < threads; i++) {
        ws[i].upload = upload;
        pthread_create(&ts[i], NULL, work, &ws[i]);
    }
    h_msleep(seconds * 1000L);
    g_stop = 1;
    size_t ok = 0, fail = 0, n = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(ts[i], NULL);
        ok += ws[i].ok, fail += ws[i].fail, n += ws[i].n;
    }
    double secs = now_s() - t0;
    double cpu = cpu_s(g_a.pid) + cpu_s(g_b.pid) - c0;
    double *all = malloc((n ? n : 1) * sizeof *all);
    size_t k = 0;
    for (int i = 0; i < threads; i++)
        for (size_t j = 0; j < ws[i].n; j++)
            all[k++] = ws[i].lat[j];
    qsort(all, n, sizeof *all, cmp);
    printf("%-8s instances=%d run=%d  ok=%zu failed=%zu  %.1f/s  p50=%.1f ms  p99=%.1f ms  "
           "portraitd CPU %.1f s = %.2f ms per request\n",
           upload ? "uploads" : "orders", instances, run, ok, fail, (double)ok / secs,
           n ? all[n / 2] * 1e3 : 0, n ? all[(size_t)((double)n * 0.99)] * 1e3 : 0, cpu,
           ok ? cpu * 1e3 / (double)ok : 0);
    fflush(stdout);
    free(all);
    free(ws);
    free(ts);
}

int main(int argc, char **argv)
{
    int seconds = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 10;
    int threads = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 4;
    int runs = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 3;
    char wx[600], s3[600], conf[2000];
    h_db_start(&g_db);
    h_sandbox_start(&g_sb, NULL);
    h_s3_start(&g_s3);
    snprintf(conf, sizeof conf, "%s%s[server]\ntrusted_proxies = 127.0.0.1\n[log]\nlevel = warn\n",
             h_s3_conf(&g_s3, s3, sizeof s3), h_sandbox_conf(&g_sb, wx, sizeof wx));
    h_srv_start(&g_a, &g_db, conf, 0);
    h_srv_start(&g_b, &g_db, conf, 1);
    /* One student with an order awaiting a photo in each of ORDERS tasks (the same student
     * number: their photos are not one another's duplicates), one with a single order. */
    long long uid = h_student(&g_a, &g_sb, "o_bench_up", "压测同学", g_tok, sizeof g_tok);
    long long uid2 = h_student(&g_a, &g_sb, "o_bench_get", "压测同学", g_tok2, sizeof g_tok2);
    h_db_int(&g_db, "INSERT INTO schools (code, name) VALUES ('10402', '演示大学')");
    long long school = h_db_int(&g_db, "SELECT id FROM schools WHERE code='10402'");
    h_db_int(&g_db,
             "INSERT INTO tasks (school_id, name, collection_type, feature_code, "
             "feature_code_norm, opens_at, closes_at, price_fen, grad_year) SELECT %lld, '采集', "
             "'centralized', CONCAT('bench', seq), CONCAT('bench', seq), UTC_TIMESTAMP() - "
             "INTERVAL 1 DAY, UTC_TIMESTAMP() + INTERVAL 1 DAY, 2500, 2024 FROM seq_1_to_%d",
             school, ORDERS + 1);
    h_db_int(&g_db,
             "INSERT INTO orders (order_no, task_id, user_id, school_id, grad_year, student_no, "
             "student_name, status, amount_fen) SELECT CONCAT('PB', LPAD(t.id - (SELECT MIN(id) "
             "FROM tasks) + 1, 15, '0')), t.id, %lld, %lld, 2024, '2020000001', '压测同学', "
             "'awaiting_photo', 2500 FROM tasks t",
             uid, school);
    h_db_int(&g_db,
             "UPDATE orders SET user_id = %lld, student_no = '2020000002' WHERE order_no = "
             "CONCAT('PB', LPAD(%d, 15, '0'))",
             uid2, ORDERS + 1);
    struct pc_photo_testgen g;
    pc_photo_testgen_defaults(&g, 1080, 1440);
    unsigned char *rgb = pc_photo_testgen_render(&g);
    g_jpeg = pc_photo_testgen_jpeg(rgb, 1080, 1440, 92, TJSAMP_420, false, false, &g_jpeg_len);
    free(rgb);
    printf("cluster_bench: %d s per measure, %d client threads, %d runs; JPEG %zu bytes\n", seconds,
           threads, runs, g_jpeg_len);
    struct h_srv *one[] = {&g_a}, *two[] = {&g_a, &g_b};
    for (int run = 1; run <= runs; run++) {
        for (int inst = 1; inst <= 2; inst++) {
            h_balancer_start(&g_bal, inst == 1 ? one : two, (size_t)inst, 0);
            measure(true, inst, run, seconds, threads);
            measure(false, inst, run, seconds, threads);
            h_balancer_stop(&g_bal);
        }
    }
    printf("objects stored: %d originals\n", h_s3_objects(&g_s3, "photos/original"));
    /* Table sizes for the capacity model (docs/deploy.md): rows and bytes per table. */
    char cmd[1200];
    snprintf(cmd, sizeof cmd,
             "'%s/scripts/mariadb.sh' sql '%s' portraitd -N -e \"SELECT table_name, "
             "table_rows, data_length + index_length FROM information_schema.tables WHERE "
             "table_schema = 'portraitd' AND table_rows > 0 ORDER BY 3 DESC\" | sed 's/^/table /'",
             PC_SOURCE_DIR, g_db.dir);
    h_db_int(&g_db, "ANALYZE TABLE orders, photos, users, tasks, audit_log, outbox, user_sessions");
    if (system(cmd) != 0)
        fprintf(stderr, "cluster_bench: no table sizes\n");
    free(g_jpeg);
    h_srv_stop(&g_a, SIGTERM);
    h_stack_down(&g_b, &g_sb, &g_db);
    h_s3_stop(&g_s3);
    return 0;
}
