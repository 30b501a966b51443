/* bench/export_bench.c — the photo export through the real server: N approved orders, each
 * with its own ~100 KB standard photo on disk, exported as GET /admin/tasks/{id}/export.zip
 * over TLS. Reports the time, the zip's size, and the server's peak resident memory
 * (VmHWM) before and after — the zip is written to a temporary file and streamed, so the
 * peak must not grow with N. The zip is then opened with libzip and every photo's SHA-256
 * checked against manifest.csv. Not a test: no assertions on timing.
 * Usage: export_bench [photos=1000] */
#include "../tests/integration/harness.h"

#include "base/crypto.h"
#include "photo/testgen.h"

#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <turbojpeg.h>
#include <zip.h>

static struct h_db g_db;
static struct h_srv g_srv;
static int g_n = 1000;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long hwm_kb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long v = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6))
            v = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return v;
}

/* Samples the server's resident anonymous (heap) and file-backed memory every 5 ms. */
static volatile int g_sampling;
static long g_anon_max, g_file_max;

static long status_kb(pid_t pid, const char *key)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long v = -1;
    size_t k = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, k))
            v = strtol(line + k, NULL, 10);
    if (f)
        fclose(f);
    return v;
}

static void *sampler(void *arg)
{
    (void)arg;
    while (g_sampling) {
        long a = status_kb(g_srv.pid, "RssAnon:"), f = status_kb(g_srv.pid, "RssFile:");
        if (a > g_anon_max)
            g_anon_max = a;
        if (f > g_file_max)
            g_file_max = f;
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static void bench(void **state)
{
    (void)state;
    char admin[128];
    h_db_start(&g_db);
    h_srv_start(&g_srv, &g_db, "[log]\nlevel = warn\n", 0);
    h_user_add(&g_srv, "boss", "admin", "boss-password-1");
    h_login(&g_srv, "boss", "boss-password-1", admin, sizeof admin);
    h_db_int(&g_db, "INSERT INTO schools (code, name) VALUES ('10402', 'bench')");
    h_db_int(&g_db, "INSERT INTO tasks (school_id, name, collection_type, feature_code, "
                    "feature_code_norm, opens_at, closes_at, price_fen, grad_year) SELECT id, "
                    "'export', 'centralized', 'export', 'export', UTC_TIMESTAMP() - INTERVAL 1 "
                    "DAY, UTC_TIMESTAMP() + INTERVAL 1 DAY, 2500, 2024 FROM schools");
    long long task = h_db_int(&g_db, "SELECT id FROM tasks");
    /* N distinct 480×640 JPEGs (different seeds) written where the storage expects them. */
    char dir[600];
    snprintf(dir, sizeof dir, "%s/data", g_srv.dir);
    mkdir(dir, 0700);
    snprintf(dir, sizeof dir, "%s/data/bench", g_srv.dir);
    mkdir(dir, 0700);
    struct pc_photo_testgen g;
    pc_photo_testgen_defaults(&g, 480, 640);
    double t0 = now_s();
    h_db_int(&g_db,
             "INSERT INTO users (openid) SELECT CONCAT('o_exp', LPAD(seq, 5, '0')) FROM "
             "seq_0_to_%d",
             g_n - 1);
    h_db_int(&g_db,
             "INSERT INTO orders (order_no, task_id, user_id, school_id, grad_year, student_no, "
             "student_name, college, status, amount_fen) SELECT CONCAT('PEXP', LPAD(seq, 5, "
             "'0')), t.id, u.id, t.school_id, 2024, CONCAT('2024', LPAD(seq, 5, '0')), '同学', "
             "CONCAT('学院', seq %% 7), 'approved', 2500 FROM seq_0_to_%d JOIN tasks t JOIN "
             "users u ON u.openid = CONCAT('o_exp', LPAD(seq, 5, '0'))",
             g_n - 1);
    for (int i = 0; i < g_n; i++) {
        g.seed = (uint32_t)i + 1;
        unsigned char *rgb = pc_photo_testgen_render(&g);
        size_t len = 0;
        unsigned char *jpg =
            pc_photo_testgen_jpeg(rgb, 480, 640, 95, TJSAMP_444, false, false, &len);
        free(rgb);
        char path[700], sha[PC_SHA256_HEXLEN];
        snprintf(path, sizeof path, "%s/%05d.jpg", dir, i);
        FILE *f = fopen(path, "wb");
        assert_int_equal(fwrite(jpg, 1, len, f), len);
        fclose(f);
        pc_sha256_hex(jpg, len, sha);
        free(jpg);
        h_db_int(&g_db,
                 "INSERT INTO photos (order_id, user_id, original_path, normalized_path, "
                 "original_sha256, normalized_sha256, normalized_bytes, phash, width, height, "
                 "checks) SELECT id, user_id, 'bench/%05d.jpg', 'bench/%05d.jpg', '%s', '%s', "
                 "%zu, %d, 480, 640, '[]' FROM orders WHERE order_no='PEXP%05d'",
                 i, i, sha, sha, len, i, i);
    }
    printf("D. photo export (%d approved photos, 480×640 JPEG q95)\n", g_n);
    printf("   setup %.1f s\n", now_s() - t0);
    long before = hwm_kb(g_srv.pid);
    long anon0 = status_kb(g_srv.pid, "RssAnon:"), file0 = status_kb(g_srv.pid, "RssFile:");
    pthread_t th;
    g_sampling = 1;
    pthread_create(&th, NULL, sampler, NULL);
    char path[128];
    snprintf(path, sizeof path, "/api/v1/admin/tasks/%lld/export.zip?group=college", task);
    struct h_resp r;
    t0 = now_s();
    h_get(&g_srv, path, admin, &r);
    double s = now_s() - t0;
    g_sampling = 0;
    pthread_join(th, NULL);
    assert_int_equal(r.status, 200);
    long after = hwm_kb(g_srv.pid);
    printf("   export.zip %.1f MB in %.2f s (%.0f photos/s, %.1f MB/s)\n", r.len / 1e6, s, g_n / s,
           r.len / 1e6 / s);
    printf("   server peak RSS (VmHWM) before %ld KiB, after %ld KiB\n", before, after);
    printf("   during the export: anonymous (heap) RSS %ld → max %ld KiB; file-backed RSS "
           "(mapped files) %ld → max %ld KiB\n",
           anon0, g_anon_max, file0, g_file_max);
    /* Verify with a zip reader: every photo's SHA-256 is in the manifest. */
    char file[700];
    snprintf(file, sizeof file, "%s/export.zip", h_workdir());
    FILE *f = fopen(file, "wb");
    assert_int_equal(fwrite(r.body, 1, r.len, f), r.len);
    fclose(f);
    h_resp_free(&r);
    int zerr = 0;
    zip_t *z = zip_open(file, ZIP_RDONLY | ZIP_CHECKCONS, &zerr);
    assert_non_null(z);
    zip_stat_t st;
    assert_int_equal(zip_stat(z, "manifest.csv", 0, &st), 0);
    char *manifest = malloc(st.size + 1);
    zip_file_t *mf = zip_fopen(z, "manifest.csv", 0);
    assert_int_equal(zip_fread(mf, manifest, st.size), (zip_int64_t)st.size);
    zip_fclose(mf);
    manifest[st.size] = '\0';
    int ok = 0;
    for (zip_int64_t i = 0; i < zip_get_num_entries(z, 0); i++) {
        const char *name = zip_get_name(z, (zip_uint64_t)i, 0);
        if (!strstr(name, ".jpg"))
            continue;
        zip_stat_index(z, (zip_uint64_t)i, 0, &st);
        char *buf = malloc(st.size);
        zip_file_t *zf = zip_fopen_index(z, (zip_uint64_t)i, 0);
        assert_int_equal(zip_fread(zf, buf, st.size), (zip_int64_t)st.size);
        zip_fclose(zf);
        char sha[PC_SHA256_HEXLEN];
        pc_sha256_hex(buf, st.size, sha);
        free(buf);
        ok += strstr(manifest, sha) != NULL;
    }
    free(manifest);
    zip_close(z);
    printf("   verified: %d of %d photos match their manifest SHA-256\n", ok, g_n);
    /* What this proves (also run by make test as integration.export_1000_photos): every
     * photo is in the zip with its manifest checksum, and the heap stays bounded. */
    assert_int_equal(ok, g_n);
    assert_true(g_anon_max - anon0 < 64 * 1024); /* KiB: far below the zip's size */
    h_srv_stop(&g_srv, SIGTERM);
    h_db_destroy(&g_db);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        g_n = (int)strtol(argv[1], NULL, 10);
    const struct CMUnitTest t[] = {cmocka_unit_test(bench)};
    return cmocka_run_group_tests(t, NULL, NULL);
}
