/* bench/server_bench.c — throughput through the real server (private MariaDB, sandbox,
 * portraitd over TLS on loopback, the same stack as the integration tests):
 *   A. photo checks: POST /api/v1/photos/check with a 1080×1440 portrait from U threads
 *      (keep-alive) for D seconds → uploads per second; meanwhile one thread measures
 *      GET /healthz every 20 ms → its p50/p99, next to the same measure with the server idle.
 *   B. payment notifications: N distinct unpaid orders, each with a signed, encrypted
 *      TRANSACTION.SUCCESS notification made in-process with the sandbox's keys, POSTed by
 *      C threads → notifications per second through verify + decrypt + transaction, p99.
 *   C. order lists: 1,000 students with a session and 10 orders each; L threads GET
 *      /api/v1/orders with a random student's token (keep-alive) for D seconds → lists per
 *      second, p50/p99 (session cache, order-list cache, docs/tasks.md).
 * Bounded (fixed duration / count), loopback only. Not a test: no assertions on timing.
 * Usage: server_bench [seconds=10] [uploaders=4] [notifications=2000] [senders=8] [listers=16] */
#include "../tests/integration/harness.h"

#include "payment/wxpay_crypto.h"
#include "photo/testgen.h"

#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>
#include <turbojpeg.h>
#include <unistd.h>

static struct h_db g_db;
static struct h_sandbox g_sb;
static struct h_srv g_srv;
static char g_tok[64];
static unsigned char *g_jpeg;
static size_t g_jpeg_len;
static atomic_int g_stop;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t sink(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return s * n;
}

static CURL *client(const char *path, struct curl_slist *hs)
{
    char url[256];
    CURL *c = curl_easy_init();
    snprintf(url, sizeof url, "https://127.0.0.1:%d%s", g_srv.port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CAINFO, g_srv.ca);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
    return c;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

struct lat {
    double v[200000];
    size_t n;
};

static void pct(struct lat *l, double *p50, double *p99)
{
    qsort(l->v, l->n, sizeof l->v[0], cmp);
    *p50 = l->n ? l->v[l->n / 2] * 1000 : 0;
    *p99 = l->n ? l->v[l->n * 99 / 100] * 1000 : 0;
}

/* /healthz every 20 ms on its own keep-alive connection until g_stop. */
static void *probe(void *arg)
{
    struct lat *l = arg;
    CURL *c = client("/healthz", NULL);
    while (!atomic_load(&g_stop) && l->n < 200000) {
        double t = now_s();
        if (curl_easy_perform(c) == CURLE_OK)
            l->v[l->n++] = now_s() - t;
        struct timespec ts = {0, 20000000};
        nanosleep(&ts, NULL);
    }
    curl_easy_cleanup(c);
    return NULL;
}

static atomic_long g_done;

static void *uploader(void *arg)
{
    (void)arg;
    char auth[128];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", g_tok);
    struct curl_slist *hs = curl_slist_append(NULL, auth);
    hs = curl_slist_append(hs, "Content-Type: image/jpeg");
    hs = curl_slist_append(hs, "Expect:");
    CURL *c = client("/api/v1/photos/check", hs);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, g_jpeg);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)g_jpeg_len);
    while (!atomic_load(&g_stop)) {
        long st = 0;
        if (curl_easy_perform(c) == CURLE_OK &&
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st) == CURLE_OK && st == 200)
            atomic_fetch_add(&g_done, 1);
    }
    curl_easy_cleanup(c);
    curl_slist_free_all(hs);
    return NULL;
}

static void phase_uploads(int seconds, int uploaders)
{
    struct lat *idle = calloc(1, sizeof *idle), *busy = calloc(1, sizeof *busy);
    pthread_t p, u[64];
    atomic_store(&g_stop, 0);
    pthread_create(&p, NULL, probe, idle);
    sleep(2);
    atomic_store(&g_stop, 1);
    pthread_join(p, NULL);
    atomic_store(&g_stop, 0);
    atomic_store(&g_done, 0);
    double t0 = now_s();
    for (int i = 0; i < uploaders; i++)
        pthread_create(&u[i], NULL, uploader, NULL);
    pthread_create(&p, NULL, probe, busy);
    sleep((unsigned)seconds);
    atomic_store(&g_stop, 1);
    for (int i = 0; i < uploaders; i++)
        pthread_join(u[i], NULL);
    pthread_join(p, NULL);
    double secs = now_s() - t0, i50, i99, b50, b99;
    pct(idle, &i50, &i99);
    pct(busy, &b50, &b99);
    printf("A. photo checks (1080x1440 JPEG, %zu bytes, %d uploaders, %d s): %.1f uploads/s\n",
           g_jpeg_len, uploaders, seconds, (double)atomic_load(&g_done) / secs);
    printf("   /healthz while idle:   p50 %.2f ms  p99 %.2f ms  (%zu probes)\n", i50, i99, idle->n);
    printf("   /healthz during burst: p50 %.2f ms  p99 %.2f ms  (%zu probes)\n", b50, b99, busy->n);
    free(idle);
    free(busy);
}

static struct h_pay_note *g_notes;
static atomic_int g_next;
static int g_nnotes;
static struct lat *g_nlat;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_int g_ok;

static void *sender(void *arg)
{
    (void)arg;
    CURL *c = client("/api/v1/pay/notify", NULL);
    for (int i; (i = atomic_fetch_add(&g_next, 1)) < g_nnotes;) {
        struct h_pay_note *n = &g_notes[i];
        struct curl_slist *hs = curl_slist_append(NULL, "Content-Type: application/json");
        for (int k = 0; k < 5; k++)
            hs = curl_slist_append(hs, n->hdr[k]);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, n->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)n->len);
        double t = now_s();
        long st = 0;
        if (curl_easy_perform(c) == CURLE_OK &&
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st) == CURLE_OK && st == 204)
            atomic_fetch_add(&g_ok, 1);
        double d = now_s() - t;
        pthread_mutex_lock(&g_mu);
        g_nlat->v[g_nlat->n++] = d;
        pthread_mutex_unlock(&g_mu);
        curl_slist_free_all(hs);
    }
    curl_easy_cleanup(c);
    return NULL;
}

static void phase_notifications(int count, int senders)
{
    g_notes = calloc((size_t)count, sizeof *g_notes);
    h_pay_orders_and_notes(&g_db, "PB", "o_bench", "benchtask", count, g_notes);
    g_nnotes = count;
    g_nlat = calloc(1, sizeof *g_nlat);
    pthread_t t[64];
    double t0 = now_s();
    for (int i = 0; i < senders; i++)
        pthread_create(&t[i], NULL, sender, NULL);
    for (int i = 0; i < senders; i++)
        pthread_join(t[i], NULL);
    double secs = now_s() - t0, p50, p99;
    pct(g_nlat, &p50, &p99);
    long long applied = h_db_int(&g_db, "SELECT COUNT(*) FROM orders WHERE order_no LIKE 'PB%%' "
                                        "AND status='pending_review'");
    printf("B. payment notifications (%d distinct orders, %d senders): %.0f notifications/s, "
           "reply p50 %.2f ms, p99 %.2f ms; %d answered 204, %lld orders moved\n",
           count, senders, (double)count / secs, p50, p99, atomic_load(&g_ok), applied);
    for (int i = 0; i < count; i++)
        h_pay_note_free(&g_notes[i]);
    free(g_notes);
    free(g_nlat);
}

#define LIST_STUDENTS 1000

static atomic_long g_lists;

static void *lister(void *arg)
{
    struct lat *l = arg;
    CURL *c = client("/api/v1/orders", NULL);
    unsigned seed = (unsigned)(uintptr_t)pthread_self();
    while (!atomic_load(&g_stop)) {
        char auth[96];
        snprintf(auth, sizeof auth, "Authorization: Bearer tok-list-%d",
                 1 + (int)(rand_r(&seed) % LIST_STUDENTS));
        struct curl_slist *hs = curl_slist_append(NULL, auth);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
        double t = now_s();
        long st = 0;
        if (curl_easy_perform(c) == CURLE_OK &&
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st) == CURLE_OK && st == 200) {
            atomic_fetch_add(&g_lists, 1);
            pthread_mutex_lock(&g_mu);
            if (l->n < sizeof l->v / sizeof l->v[0])
                l->v[l->n++] = now_s() - t;
            pthread_mutex_unlock(&g_mu);
        }
        curl_slist_free_all(hs);
    }
    curl_easy_cleanup(c);
    return NULL;
}

static void phase_lists(int seconds, int listers)
{
    long long task = h_db_int(&g_db, "SELECT id FROM tasks WHERE feature_code_norm='benchtask'");
    long long school = h_db_int(&g_db, "SELECT school_id FROM tasks WHERE id=%lld", task);
    h_db_int(&g_db, "INSERT INTO users (openid) SELECT CONCAT('o_list', seq) FROM seq_1_to_%d",
             LIST_STUDENTS);
    h_db_int(&g_db, "INSERT INTO user_sessions (user_id, token_hash, expires_at) SELECT u.id, "
                    "SHA2(CONCAT('tok-list-', SUBSTRING(u.openid, 7)), 256), UTC_TIMESTAMP() + "
                    "INTERVAL 1 DAY FROM users u WHERE u.openid LIKE 'o\\_list%%'");
    h_db_int(&g_db,
             "INSERT INTO orders (order_no, task_id, user_id, school_id, grad_year, student_no, "
             "student_name, college, class_name, status, amount_fen) SELECT CONCAT('PL', "
             "LPAD(u.id * 10 + s.seq, 15, '0')), %lld, u.id, %lld, 2024, CONCAT('L', u.id, '-', "
             "s.seq), '学生', '信息学院', '1班', IF(s.seq %% 5 = 0, 'unpaid', 'approved'), 2500 "
             "FROM users u JOIN seq_1_to_10 s WHERE u.openid LIKE 'o\\_list%%'",
             task, school);
    struct lat *l = calloc(1, sizeof *l);
    pthread_t t[64];
    atomic_store(&g_stop, 0);
    atomic_store(&g_lists, 0);
    for (int i = 0; i < listers && i < 64; i++) /* warm-up: sessions and pages get kept */
        pthread_create(&t[i], NULL, lister, l);
    sleep(2);
    atomic_store(&g_stop, 1);
    for (int i = 0; i < listers && i < 64; i++)
        pthread_join(t[i], NULL);
    l->n = 0;
    atomic_store(&g_stop, 0);
    atomic_store(&g_lists, 0);
    double t0 = now_s();
    for (int i = 0; i < listers && i < 64; i++)
        pthread_create(&t[i], NULL, lister, l);
    sleep((unsigned)seconds);
    atomic_store(&g_stop, 1);
    for (int i = 0; i < listers && i < 64; i++)
        pthread_join(t[i], NULL);
    double secs = now_s() - t0, p50, p99;
    pct(l, &p50, &p99);
    printf("C. order lists (%d students x 10 orders, %d clients, %d s): %.0f lists/s, "
           "p50 %.2f ms, p99 %.2f ms\n",
           LIST_STUDENTS, listers, seconds, (double)atomic_load(&g_lists) / secs, p50, p99);
    free(l);
}

static void run(int seconds, int uploaders, int notes, int senders, int listers)
{
    char wx[600], pay[1500], conf[3000];
    h_db_start(&g_db);
    h_sandbox_start(&g_sb, NULL);
    snprintf(conf, sizeof conf, "%s[server]\nthreads = 2\nworkers = 4\n[log]\nlevel = warn\n%s",
             h_sandbox_conf(&g_sb, wx, sizeof wx), h_pay_conf(&g_sb, pay, sizeof pay));
    h_srv_start(&g_srv, &g_db, conf, 0);
    h_student(&g_srv, &g_sb, "o_bench", NULL, g_tok, sizeof g_tok);
    h_db_int(&g_db, "INSERT INTO schools (code, name) VALUES ('10402', 'bench')");
    h_db_int(&g_db, "INSERT INTO tasks (school_id, name, collection_type, feature_code, "
                    "feature_code_norm, opens_at, closes_at, price_fen, grad_year) SELECT id, "
                    "'bench', 'centralized', 'benchtask', 'benchtask', UTC_TIMESTAMP() - "
                    "INTERVAL 1 DAY, UTC_TIMESTAMP() + INTERVAL 1 DAY, 2500, 2024 FROM schools");
    struct pc_photo_testgen g;
    pc_photo_testgen_defaults(&g, 1080, 1440);
    unsigned char *rgb = pc_photo_testgen_render(&g);
    g_jpeg = pc_photo_testgen_jpeg(rgb, 1080, 1440, 92, TJSAMP_420, false, false, &g_jpeg_len);
    free(rgb);
    phase_uploads(seconds, uploaders);
    phase_notifications(notes, senders);
    phase_lists(seconds, listers);
    free(g_jpeg);
    h_srv_stop(&g_srv, SIGTERM);
    h_sandbox_stop(&g_sb);
    h_db_destroy(&g_db);
}

static int g_argv[5] = {10, 4, 2000, 8, 16};

static void bench(void **state)
{
    (void)state;
    run(g_argv[0], g_argv[1], g_argv[2], g_argv[3], g_argv[4]);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc && i <= 5; i++)
        g_argv[i - 1] = (int)strtol(argv[i], NULL, 10);
    const struct CMUnitTest t[] = {cmocka_unit_test(bench)};
    return cmocka_run_group_tests(t, NULL, NULL);
}
