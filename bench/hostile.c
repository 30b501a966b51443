/* bench/hostile.c — the hostile-input campaign of docs/security.md: each bad input of the table
 * is sent through the API of the real server (its own MariaDB, TLS, the release build), and the
 * answer, the time and the server's peak resident memory while it was handled (VmHWM, reset
 * before each input through /proc/PID/clear_refs) are printed as the table's Markdown rows. A
 * last row checks that the server still answers /healthz. Not a test: it asserts nothing about
 * time or memory; it records them.
 * Usage: hostile [slow-clients=200 (0: none)] [limits.image_workers=2] */
#include "../tests/integration/harness.h"

#include "photo/testgen.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <png.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <turbojpeg.h>
#include <unistd.h>
#include <zlib.h>

static struct h_db g_db;
static struct h_sandbox g_sb;
static struct h_srv g_srv;
static char g_admin[64];
static long long g_task;
static int g_slow = 200;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long status_kb(const char *key)
{
    return h_proc_kb(g_srv.pid, key);
}

/* Resets the server's peak RSS to its current RSS (Linux: "5" > clear_refs). */
static void reset_peak(void)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/clear_refs", (int)g_srv.pid);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs("5", f);
        fclose(f);
    }
}

struct row {
    const char *what, *route;
    long status;
    char code[160];
    double secs;
    long rss_before, peak;
};

static void print_row(const struct row *r)
{
    printf("| %s | `%s` | %ld %s | %.2f s | %ld MB | %ld MB |\n", r->what, r->route, r->status,
           r->code, r->secs, r->rss_before / 1024, r->peak / 1024);
    fflush(stdout);
}

/* The error code of an answer in API.md's shape, or what it is instead. */
static void code_of(const struct h_resp *r, char *out, size_t len)
{
    cJSON *j = r->body ? cJSON_ParseWithLength(r->body, r->len) : NULL;
    const cJSON *c = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "error"), "code");
    const cJSON *ok = cJSON_GetObjectItem(j, "ok"), *ch;
    if (cJSON_IsString(c)) {
        snprintf(out, len, "`%s`", c->valuestring);
    } else if (cJSON_IsBool(ok)) { /* a photo check: ok, and the failed check that measured */
        snprintf(out, len, "`ok:%s`", cJSON_IsTrue(ok) ? "true" : "false");
        cJSON_ArrayForEach(ch, cJSON_GetObjectItem(j, "checks"))
        {
            const cJSON *code = cJSON_GetObjectItem(ch, "code");
            /* skipped checks say ok:false too, but carry no value */
            if (cJSON_IsFalse(cJSON_GetObjectItem(ch, "ok")) && cJSON_IsString(code) &&
                cJSON_GetObjectItem(ch, "value")) {
                size_t n = strlen(out);
                snprintf(out + n, len - n, " (`%s`)", code->valuestring);
                break;
            }
        }
    } else if (r->status < 300)
        snprintf(out, len, "(body)");
    else if (r->body && strstr(r->body, "<html"))
        snprintf(out, len, "(HTML page)");
    else
        snprintf(out, len, "(not JSON)");
    cJSON_Delete(j);
}

/* One request; its row. */
static void run(const char *what, const char *method, const char *path, const char *const *hs,
                const void *body, size_t len)
{
    struct row r = {.what = what, .route = path};
    struct h_resp resp;
    r.rss_before = status_kb("VmRSS:");
    reset_peak();
    double t0 = now_s();
    int rc = h_http_try(&g_srv, method, path, hs, body, len, &resp);
    r.secs = now_s() - t0;
    r.peak = status_kb("VmHWM:");
    if (rc) {
        r.status = 0;
        snprintf(r.code, sizeof r.code, "(connection closed: %s)",
                 curl_easy_strerror((CURLcode)rc));
    } else {
        r.status = resp.status;
        code_of(&resp, r.code, sizeof r.code);
        h_resp_free(&resp);
    }
    print_row(&r);
}

static char *repeat(const char *unit, size_t times, const char *head, const char *tail, size_t *len)
{
    size_t u = strlen(unit), h = strlen(head), t = strlen(tail);
    *len = h + u * times + t;
    char *p = malloc(*len + 1);
    memcpy(p, head, h);
    for (size_t i = 0; i < times; i++)
        memcpy(p + h + i * u, unit, u);
    memcpy(p + h + u * times, tail, t);
    p[*len] = '\0';
    return p;
}

static void nested_json(void)
{
    size_t n;
    char *open = repeat("[", 30000, "", "", &n), *p;
    p = repeat("]", 30000, open, "", &n);
    const char *hs[] = {"Content-Type: application/json", NULL};
    run("JSON nested 30,000 deep (60 KB, under the JSON cap)", "POST", "/api/v1/admin/login", hs, p,
        n);
    free(p);
    free(open);
    open = repeat("[", 500000, "", "", &n);
    p = repeat("]", 500000, open, "", &n);
    run("JSON nested 500,000 deep (1 MB)", "POST", "/api/v1/admin/login", hs, p, n);
    free(p);
    free(open);
}

static void many_parts(const char *tok)
{
    const char *b = "----HostileBoundary";
    char part[160], auth[128], ct[96];
    snprintf(part, sizeof part, "--%s\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nxx\r\n",
             b);
    char tail[64];
    snprintf(tail, sizeof tail, "--%s--\r\n", b);
    size_t n;
    char *body = repeat(part, 10000, "", tail, &n);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", tok);
    snprintf(ct, sizeof ct, "Content-Type: multipart/form-data; boundary=%s", b);
    const char *hs[] = {ct, auth, NULL};
    run("multipart with 10,000 parts (0.7 MB)", "POST", "/api/v1/photos/check", hs, body, n);
    free(body);
}

static void many_headers(void)
{
    static char names[1000][32];
    const char *hs[1001];
    for (int i = 0; i < 1000; i++) {
        snprintf(names[i], sizeof names[i], "X-H%d: v", i);
        hs[i] = names[i];
    }
    hs[1000] = NULL;
    run("1,000 headers (about 11 KB)", "GET", "/healthz", hs, NULL, 0);
    static char big[1000][40];
    for (int i = 0; i < 1000; i++) {
        snprintf(big[i], sizeof big[i], "X-Header-Number-%04d: value-value", i);
        hs[i] = big[i];
    }
    run("1,000 headers (about 37 KB, over the header cap)", "GET", "/healthz", hs, NULL, 0);
}

static void big_csv(void)
{
    char path[96], auth[128];
    snprintf(path, sizeof path, "/api/v1/admin/tasks/%lld/roster", g_task);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", g_admin);
    const char *hs[] = {"Content-Type: text/csv", auth, NULL};
    size_t n;
    char *csv = repeat("1,文学院,张三,2020045220,20英语B班\r\n", 1000000,
                       "序号,学院,姓名,学号,班级\r\n", "", &n);
    run("CSV roster of 1,000,000 rows (46 MB)", "POST", path, hs, csv, n);
    free(csv);
    csv = repeat("1,文学院,张三,2020045220,20英语B班\r\n", 200000, "序号,学院,姓名,学号,班级\r\n",
                 "", &n);
    run("CSV roster of 200,000 rows (9.2 MB, under the body cap)", "POST", path, hs, csv, n);
    free(csv);
}

struct mem {
    unsigned char *p;
    size_t n;
};

static void mem_write(png_structp png, png_bytep data, png_size_t len)
{
    struct mem *m = png_get_io_ptr(png);
    m->p = realloc(m->p, m->n + len);
    memcpy(m->p + m->n, data, len);
    m->n += len;
}

static void mem_flush(png_structp png)
{
    (void)png;
}

/* A grey PNG of w×h, all zero: a few kilobytes that decode to w×h bytes and more. */
static unsigned char *flat_png(int w, int h, size_t *len)
{
    struct mem m = {0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    png_set_write_fn(png, &m, mem_write, mem_flush);
    png_set_compression_level(png, 9);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    unsigned char *row = calloc((size_t)w, 3);
    for (int y = 0; y < h; y++)
        png_write_row(png, row);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    free(row);
    *len = m.n;
    return m.p;
}

/* A JPEG header claiming 65000×65000 on a tiny real image. */
static unsigned char *lying_jpeg(size_t *len)
{
    struct pc_photo_testgen g;
    pc_photo_testgen_defaults(&g, 64, 64);
    unsigned char *rgb = pc_photo_testgen_render(&g);
    unsigned char *j = pc_photo_testgen_jpeg(rgb, 64, 64, 80, TJSAMP_420, false, false, len);
    free(rgb);
    for (size_t i = 0; i + 9 < *len; i++)
        if (j[i] == 0xFF && j[i + 1] == 0xC0) { /* SOF0: height, width */
            j[i + 5] = 0xFD, j[i + 6] = 0xE8, j[i + 7] = 0xFD, j[i + 8] = 0xE8;
            break;
        }
    return j;
}

struct upload_job {
    char tok[64];
    const unsigned char *img;
    size_t len;
    long status;
};

static void *upload_thread(void *arg)
{
    struct upload_job *u = arg;
    struct h_resp r;
    h_upload(&g_srv, "POST", "/api/v1/photos/check", u->tok, u->img, u->len, "image/png", &r);
    u->status = r.status;
    h_resp_free(&r);
    return NULL;
}

/* One POST /photos/check of img as a row. */
static void check_row(const char *what, const char *tok, const unsigned char *img, size_t len,
                      const char *type)
{
    struct row r = {.what = what, .route = "/api/v1/photos/check"};
    struct h_resp resp;
    r.rss_before = status_kb("VmRSS:");
    reset_peak();
    double t0 = now_s();
    h_upload(&g_srv, "POST", "/api/v1/photos/check", tok, img, len, type, &resp);
    r.secs = now_s() - t0;
    r.peak = status_kb("VmHWM:");
    r.status = resp.status;
    code_of(&resp, r.code, sizeof r.code);
    h_resp_free(&resp);
    print_row(&r);
}

static void pixel_bombs(const char *tok)
{
    size_t len;
    unsigned char *bomb = flat_png(30000, 30000, &len);
    check_row("PNG 30000×30000 (900 megapixels in 0.9 MB)", tok, bomb, len, "image/png");
    free(bomb);
    unsigned char *lie = lying_jpeg(&len);
    check_row("JPEG whose header claims 65000×65000", tok, lie, len, "image/jpeg");
    free(lie);
    struct row r;
    double t0;
    /* Four students check a 49-megapixel PNG at once: the image gate lets two decode. */
    unsigned char *big = flat_png(7000, 7000, &len);
    struct upload_job jobs[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        char openid[32];
        snprintf(openid, sizeof openid, "o_bomb_%d", i);
        h_student(&g_srv, &g_sb, openid, NULL, jobs[i].tok, sizeof jobs[i].tok);
        jobs[i].img = big;
        jobs[i].len = len;
    }
    r = (struct row){.what = "4 students at once, a 7000×7000 PNG each (49 MP, under the cap)",
                     .route = "/api/v1/photos/check"};
    r.rss_before = status_kb("VmRSS:");
    reset_peak();
    t0 = now_s();
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, upload_thread, &jobs[i]);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    r.secs = now_s() - t0;
    r.peak = status_kb("VmHWM:");
    r.status = jobs[0].status;
    snprintf(r.code, sizeof r.code, "(statuses %ld %ld %ld %ld)", jobs[0].status, jobs[1].status,
             jobs[2].status, jobs[3].status);
    print_row(&r);
    free(big);
}

/* Slow clients: n TLS connections that send one header line every 5 s. */
static void slow_clients(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    SSL **ssl = calloc((size_t)g_slow, sizeof *ssl);
    int *fd = calloc((size_t)g_slow, sizeof *fd);
    struct row r = {.what = "slow clients: one header line every 5 s, for 40 s", .route = "/"};
    char what[96];
    snprintf(what, sizeof what, "%d slow clients: a header line every 5 s for 40 s", g_slow);
    r.what = what;
    r.rss_before = status_kb("VmRSS:");
    reset_peak();
    double t0 = now_s();
    int opened = 0;
    for (int i = 0; i < g_slow; i++) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)g_srv.port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        fd[i] = socket(AF_INET, SOCK_STREAM, 0);
        if (fd[i] < 0 || connect(fd[i], (struct sockaddr *)&a, sizeof a)) {
            fd[i] = -1;
            continue;
        }
        ssl[i] = SSL_new(ctx);
        SSL_set_fd(ssl[i], fd[i]);
        if (SSL_connect(ssl[i]) != 1) {
            SSL_free(ssl[i]);
            ssl[i] = NULL;
            close(fd[i]);
            fd[i] = -1;
            continue;
        }
        SSL_write(ssl[i], "GET /healthz HTTP/1.1\r\nHost: x\r\n", 32);
        opened++;
    }
    int alive = opened;
    for (int round = 0; round < 8; round++) {
        h_msleep(5000);
        alive = 0;
        for (int i = 0; i < g_slow; i++) {
            if (!ssl[i])
                continue;
            char line[32];
            int n = snprintf(line, sizeof line, "X-Slow-%d: y\r\n", round);
            if (SSL_write(ssl[i], line, n) == n)
                alive++;
            else {
                SSL_free(ssl[i]);
                ssl[i] = NULL;
                close(fd[i]);
            }
        }
    }
    /* Is the server still answering everyone else? */
    struct h_resp resp;
    double th0 = now_s();
    int rc = h_http_try(&g_srv, "GET", "/healthz", NULL, NULL, 0, &resp);
    double th = now_s() - th0;
    r.secs = now_s() - t0;
    r.peak = status_kb("VmHWM:");
    r.status = rc ? 0 : resp.status;
    snprintf(r.code, sizeof r.code, "(%d opened, %d still open after 40 s; /healthz %.2f s)",
             opened, alive, th);
    if (!rc)
        h_resp_free(&resp);
    print_row(&r);
    for (int i = 0; i < g_slow; i++)
        if (ssl[i]) {
            SSL_free(ssl[i]);
            close(fd[i]);
        }
    free(ssl);
    free(fd);
    SSL_CTX_free(ctx);
    h_msleep(2000);
    printf("| after the slow clients left | | | | %ld MB now | |\n", status_kb("VmRSS:") / 1024);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        g_slow = (int)strtol(argv[1], NULL, 10);
    int workers = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 2;
    signal(SIGPIPE, SIG_IGN);
    char wx[600], tok[64], conf[1000];
    h_db_start(&g_db);
    h_sandbox_start(&g_sb, NULL);
    snprintf(conf, sizeof conf, "%s[limits]\nimage_workers = %d\n",
             h_sandbox_conf(&g_sb, wx, sizeof wx), workers);
    h_srv_start(&g_srv, &g_db, conf, 0);
    h_user_add(&g_srv, "boss", "admin", "boss-password-1");
    h_login(&g_srv, "boss", "boss-password-1", g_admin, sizeof g_admin);
    h_db_int(&g_db, "INSERT INTO schools (code, name) VALUES ('10402', '演示大学')");
    h_db_int(&g_db, "INSERT INTO tasks (school_id, name, collection_type, feature_code, "
                    "feature_code_norm, opens_at, closes_at, price_fen, grad_year) SELECT id, "
                    "'hostile', 'centralized', 'hostile', 'hostile', UTC_TIMESTAMP() - INTERVAL 1 "
                    "DAY, UTC_TIMESTAMP() + INTERVAL 1 DAY, 2500, 2024 FROM schools");
    g_task = h_db_int(&g_db, "SELECT id FROM tasks");
    h_student(&g_srv, &g_sb, "o_hostile", NULL, tok, sizeof tok);
    printf(
        "| input | route | answer | time | RSS before | peak RSS |\n|---|---|---|---|---|---|\n");
    printf("| (idle server) | | | | %ld MB | |\n", status_kb("VmRSS:") / 1024);
    nested_json();
    many_parts(tok);
    many_headers();
    big_csv();
    pixel_bombs(tok);
    if (g_slow > 0)
        slow_clients();
    struct h_resp r;
    run("afterwards: /healthz", "GET", "/healthz", NULL, NULL, 0);
    (void)r;
    int st = h_srv_stop(&g_srv, SIGTERM);
    printf("\nserver exit status %d (0 = clean, 99 = a sanitizer report in its log)\n", st);
    h_sandbox_stop(&g_sb);
    h_db_destroy(&g_db);
    return st;
}
