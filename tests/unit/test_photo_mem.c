/* tests/unit/test_photo_mem.c — the per-request memory bound of pc_photo_process (docs/photo.md
 * "Limits"): a 50 MP PNG (decoded row by row into the reduced picture), a 24 MP interlaced PNG,
 * a 50 MP baseline JPEG and a 12 MP progressive JPEG are processed with the standard file in
 * less than MEM_BOUND_MB of peak resident memory beyond the uploaded bytes; a 50 MP
 * progressive JPEG is refused (IMAGE_TOO_LARGE) before any pixel exists.
 *
 * Each measurement runs in a forked child with glibc's mmap threshold fixed (every large
 * buffer is its own mapping, returned when freed): the child warms the detectors up on a small
 * portrait, resets its peak (/proc/self/clear_refs 5), processes the upload and reports VmHWM
 * minus VmRSS before. Skipped under sanitizers (their shadow memory is resident too). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "photo/photo.h"
#include "photo/testgen.h"
#include "tests/unit/photo_check.h"

#include <malloc.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <turbojpeg.h>
#include <unistd.h>

#define MEM_BOUND_MB 64

/* A good portrait, rendered at 1080×1440 and enlarged (bilinear) on demand, row by row. */
struct big {
    unsigned char *src;
    int sw, sh, w, h;
};

static void big_init(struct big *b, int w, int h)
{
    struct pc_photo_testgen g;
    pc_photo_testgen_defaults(&g, 1080, 1440);
    b->src = pc_photo_testgen_render(&g);
    b->sw = 1080;
    b->sh = 1440;
    b->w = w;
    b->h = h;
}

static void big_row(const struct big *b, int y, unsigned char *row)
{
    double fy = (y + 0.5) * b->sh / b->h - 0.5;
    int y0 = (int)floor(fy);
    double ty = fy - y0;
    int ya = y0 < 0 ? 0 : y0, yb = y0 + 1 >= b->sh ? b->sh - 1 : y0 + 1;
    for (int x = 0; x < b->w; x++) {
        double fx = (x + 0.5) * b->sw / b->w - 0.5;
        int x0 = (int)floor(fx);
        double tx = fx - x0;
        int xa = x0 < 0 ? 0 : x0, xb = x0 + 1 >= b->sw ? b->sw - 1 : x0 + 1;
        for (int c = 0; c < 3; c++) {
            const unsigned char *s = b->src;
            double v = (s[((size_t)ya * b->sw + xa) * 3 + c] * (1 - tx) +
                        s[((size_t)ya * b->sw + xb) * 3 + c] * tx) *
                           (1 - ty) +
                       (s[((size_t)yb * b->sw + xa) * 3 + c] * (1 - tx) +
                        s[((size_t)yb * b->sw + xb) * 3 + c] * tx) *
                           ty;
            row[(size_t)x * 3 + c] = (unsigned char)lround(v);
        }
    }
}

struct membuf {
    unsigned char *p;
    size_t len, cap;
};

static void mem_write(png_structp png, png_bytep data, png_size_t n)
{
    struct membuf *m = png_get_io_ptr(png);
    if (m->len + n > m->cap) {
        m->cap = (m->len + n) * 2;
        m->p = realloc(m->p, m->cap);
        assert_non_null(m->p);
    }
    memcpy(m->p + m->len, data, n);
    m->len += n;
}

static void mem_flush(png_structp png)
{
    (void)png;
}

/* A w×h RGB PNG of the portrait, written row by row (Adam7 when interlaced). */
static unsigned char *big_png(int w, int h, bool interlaced, size_t *len)
{
    struct big b;
    struct membuf m = {0};
    big_init(&b, w, h);
    unsigned char *row = malloc((size_t)w * 3);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop pi = png_create_info_struct(png);
    assert_non_null(pi);
    if (setjmp(png_jmpbuf(png)))
        fail_msg("libpng failed writing the test picture");
    png_set_write_fn(png, &m, mem_write, mem_flush);
    png_set_IHDR(png, pi, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_RGB,
                 interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_compression_level(png, 1);
    png_write_info(png, pi);
    int passes = png_set_interlace_handling(png);
    for (int p = 0; p < passes; p++)
        for (int y = 0; y < h; y++) {
            big_row(&b, y, row);
            png_write_row(png, row);
        }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &pi);
    free(row);
    free(b.src);
    *len = m.len;
    return m.p;
}

/* A w×h JPEG of the portrait (q92, 4:2:0), progressive or baseline. */
static unsigned char *big_jpeg(int w, int h, bool progressive, size_t *len)
{
    struct big b;
    big_init(&b, w, h);
    unsigned char *rgb = malloc((size_t)w * h * 3);
    for (int y = 0; y < h; y++)
        big_row(&b, y, rgb + (size_t)y * w * 3);
    unsigned char *j = pc_photo_testgen_jpeg(rgb, w, h, 92, TJSAMP_420, progressive, false, len);
    free(rgb);
    free(b.src);
    assert_non_null(j);
    return j;
}

static long status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t kl = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, kl))
            v = strtol(line + kl, NULL, 10);
    if (f)
        fclose(f);
    return v;
}

/* Runs pc_photo_process(standardise) on data in a child; returns the peak growth in KB and the
 * verdict through *ok and *too_large. */
static long measure(const unsigned char *data, size_t len, bool *ok, bool *too_large)
{
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fd[0]);
        mallopt(M_MMAP_THRESHOLD, 128 * 1024); /* large buffers unmapped when freed */
        struct pc_photo_testgen g;
        struct pc_photo_result r;
        size_t n;
        pc_photo_testgen_defaults(&g, 480, 640); /* load the detectors first */
        unsigned char *w = portrait_jpeg(&g, 90, &n);
        struct pc_photo_opts o = {.standardise = true};
        pc_photo_process(w, n, &o, &r);
        pc_photo_result_free(&r);
        free(w);
        FILE *cr = fopen("/proc/self/clear_refs", "w");
        if (cr) {
            fputs("5", cr);
            fclose(cr);
        }
        long before = status_kb("VmRSS:");
        pc_photo_process(data, len, &o, &r);
        long peak = status_kb("VmHWM:");
        const struct pc_photo_check *tl = pc_photo_find_check(&r, "IMAGE_TOO_LARGE");
        long msg[3] = {peak - before, r.ok && r.jpeg, tl && !tl->ok && !tl->skipped};
        if (write(fd[1], msg, sizeof msg) != (ssize_t)sizeof msg)
            _exit(2);
        _exit(0);
    }
    close(fd[1]);
    long msg[3] = {0};
    assert_int_equal(read(fd[0], msg, sizeof msg), (ssize_t)sizeof msg);
    close(fd[0]);
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    *ok = msg[1];
    *too_large = msg[2];
    return msg[0];
}

static void bounded(const char *name, unsigned char *data, size_t len, bool want_ok)
{
    bool ok, big;
    long kb = measure(data, len, &ok, &big);
    fprintf(stderr, "%-36s %9zu B upload: peak +%.1f MB, %s\n", name, len, kb / 1024.0,
            ok    ? "standard file made"
            : big ? "refused IMAGE_TOO_LARGE"
                  : "refused");
    assert_int_equal(ok, want_ok);
    assert_true(kb >= 0);
    assert_true(kb < MEM_BOUND_MB * 1024);
    free(data);
}

static void png_50mp(void **state)
{
    (void)state;
    if (SANITIZED)
        skip();
    size_t n;
    unsigned char *p = big_png(6120, 8160, false, &n);
    bounded("PNG 6120x8160 (50 MP)", p, n, true);
}

static void png_24mp_interlaced(void **state)
{
    (void)state;
    if (SANITIZED)
        skip();
    size_t n;
    unsigned char *p = big_png(4242, 5656, true, &n);
    bounded("PNG 4242x5656 (24 MP) interlaced", p, n, true);
}

static void jpeg_50mp(void **state)
{
    (void)state;
    if (SANITIZED)
        skip();
    size_t n;
    unsigned char *j = big_jpeg(6120, 8160, false, &n);
    bounded("JPEG 6120x8160 (50 MP) baseline", j, n, true);
}

static void jpeg_12mp_progressive(void **state)
{
    (void)state;
    if (SANITIZED)
        skip();
    size_t n;
    unsigned char *j = big_jpeg(3024, 4032, true, &n);
    bounded("JPEG 3024x4032 (12 MP) progressive", j, n, true);
}

static void jpeg_50mp_progressive_refused(void **state)
{
    (void)state;
    if (SANITIZED)
        skip();
    size_t n;
    unsigned char *j = big_jpeg(6120, 8160, true, &n);
    bool ok, big;
    long kb = measure(j, n, &ok, &big);
    fprintf(stderr, "%-36s %9zu B upload: peak +%.1f MB, %s\n", "JPEG 6120x8160 progressive", n,
            kb / 1024.0, big ? "refused IMAGE_TOO_LARGE" : "?");
    assert_false(ok);
    assert_true(big);
    assert_true(kb < 8 * 1024); /* refused on the header: no pixel, no coefficient */
    free(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(png_50mp),
        cmocka_unit_test(png_24mp_interlaced),
        cmocka_unit_test(jpeg_50mp),
        cmocka_unit_test(jpeg_12mp_progressive),
        cmocka_unit_test(jpeg_50mp_progressive_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
