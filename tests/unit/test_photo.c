/* tests/unit/test_photo.c — photo/photo.h on synthetic portraits (photo/testgen.h): well-framed
 * portraits at 480×640, 1080×1440 and 3024×4032 (and 4032×3024 with EXIF orientation 6), all 8
 * orientations, white wall, progressive JPEG, PNG; one failing picture per rule with the EXACT
 * set of failing checks; decode refusals (HEIC, GIF, garbage, truncation, CMYK, grey, pixel
 * bombs); the standard file (480×640, baseline, 4:2:0, 20–40 KB, 300 dpi, blue background,
 * head top 50–110); pHash calibration; the threshold table. (The fuzzer's seed files come from
 * `make corpus`, tools/photo_corpus.c.) */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "photo/internal.h"
#include "photo/photo.h"
#include "photo/testgen.h"
#include "photo/thresholds.h"
#include "tests/unit/photo_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

/* ---- helpers ---- */

static bool near_blue(const unsigned char *p, int tol)
{
    return abs(p[0] - 100) <= tol && abs(p[1] - 197) <= tol && abs(p[2] - 255) <= tol;
}

/* Every property of the standard file; size band only when check_size. */
static void check_standard(const struct pc_photo_result *r, bool check_size)
{
    assert_true(r->ok);
    assert_non_null(r->jpeg);
    assert_true(pc__verify_standard(r->jpeg, r->jpeg_len));
    const unsigned char *p = r->jpeg;
    /* JFIF APP0 with units 1 (dpi), 300 × 300 */
    assert_memory_equal(p, "\xff\xd8\xff\xe0", 4);
    assert_memory_equal(p + 6, "JFIF\0", 5);
    assert_memory_equal(p + 13, "\x01\x01\x2c\x01\x2c", 5);
    /* baseline: the first SOF is C0 */
    size_t i = 2;
    int sof = 0;
    while (i + 4 <= r->jpeg_len && p[i] == 0xff && !sof) {
        int m = p[i + 1];
        if (m == 0xc0 || m == 0xc1 || m == 0xc2 || m == 0xc3 || m == 0xc9 || m == 0xca)
            sof = m;
        i += 2 + (((size_t)p[i + 2] << 8) | p[i + 3]);
    }
    assert_int_equal(sof, 0xc0);
    assert_in_range(r->quality, 60, 95);
    if (check_size)
        assert_in_range(r->jpeg_len, 20480, 40000);
    tjhandle tj = tjInitDecompress();
    int w = 0, h = 0, ss = -1, cs = -1;
    assert_int_equal(tjDecompressHeader3(tj, p, (unsigned long)r->jpeg_len, &w, &h, &ss, &cs), 0);
    assert_int_equal(w, 480);
    assert_int_equal(h, 640);
    assert_int_equal(ss, TJSAMP_420);
    assert_int_equal(cs, TJCS_YCbCr);
    unsigned char *rgb = malloc(480 * 640 * 3);
    assert_int_equal(
        tjDecompress2(tj, p, (unsigned long)r->jpeg_len, rgb, 480, 0, 640, TJPF_RGB, 0), 0);
    tjDestroy(tj);
    assert_true(near_blue(rgb + (10 * 480 + 10) * 3, 4));
    assert_true(near_blue(rgb + (10 * 480 + 469) * 3, 4));
    assert_true(near_blue(rgb + (200 * 480 + 12) * 3, 4));
    int top = -1;
    for (int y = 0; y < 640 && top < 0; y++) {
        int n = 0;
        for (int x = 0; x < 480; x++) {
            const unsigned char *q = rgb + ((size_t)y * 480 + x) * 3;
            n += abs(q[0] - 100) + abs(q[1] - 197) + abs(q[2] - 255) > 60;
        }
        if (n >= 6)
            top = y;
    }
    free(rgb);
    assert_in_range(top, 50, 110);
}

/* A portrait framed like the standard file itself (head top ~70, head to neck ~360 rows). */
static void standard_framed(struct pc_photo_testgen *g, int w, int h)
{
    pc_photo_testgen_defaults(g, w, h);
    g->size = 1.83;
    g->top = 0.109;
}

/* ---- passing portraits ---- */

static void pass_480x640(void **state)
{
    (void)state;
    struct pc_photo_testgen g;
    struct pc_photo_result r;
    size_t n;
    standard_framed(&g, 480, 640);
    unsigned char *j = portrait_jpeg(&g, 92, &n);
    process(j, n, true, &r);
    PASSES(&r);
    check_standard(&r, true);
    assert_int_equal(r.width, 480);
    assert_int_equal(r.height, 640);
    assert_int_equal(r.nchecks, 27);
    for (size_t a = 0; a < r.nchecks; a++) /* every rule reported once, with a message */
        for (size_t b = a + 1; b < r.nchecks; b++)
            assert_string_not_equal(r.checks[a].code, r.checks[b].code);
    for (size_t a = 0; a < r.nchecks; a++)
        assert_non_null(r.checks[a].message);
    pc_photo_result_free(&r);
    free(j);
}

static void pass_1080x1440(void **state)
{
    (void)state;
    struct pc_photo_testgen g;
    struct pc_photo_result r;
    size_t n;
    pc_photo_testgen_defaults(&g, 1080, 1440);
    unsigned char *j = portrait_jpeg(&g, 92, &n);
    process(j, n, true, &r);
    PASSES(&r);
    check_standard(&r, true);
    assert_true(r.has_phash);
    pc_photo_result_free(&r);
    /* without standardise: same verdicts, no file */
    process(j, n, false, &r);
    assert_true(r.ok);
    assert_null(r.jpeg);
    expect_skipped(&r, "OUTPUT_SIZE");
    pc_photo_result_free(&r);
    free(j);
}

static void pass_3024x4032(void **state)
{
    (void)state;
    struct pc_photo_testgen g;
    struct pc_photo_result r;
    size_t n;
    pc_photo_testgen_defaults(&g, 3024, 4032);
    unsigned char *j = portrait_jpeg(&g, 90, &n);
    process(j, n, true, &r);
    PASSES(&r);
    check_standard(&r, true);
    assert_int_equal(r.width, 3024);
    assert_int_equal(r.height, 4032);
    pc_photo_result_free(&r);
    free(j);
}

/* A 4032×3024 sensor picture with EXIF orientation 6 (phone held upright). */
static void pass_exif_rotated_4032x3024(void **state)
{
    (void)state;
    struct pc_photo_testgen g;
    struct pc_photo_result r;
    size_t n, m;
    int w = 3024, h = 4032;
    pc_photo_testgen_defaults(&g, w, h);
    unsigned char *rgb = pc_photo_testgen_render(&g);
    pc_photo_testgen_store_as(&rgb, &w, &h, 6);
    assert_int_equal(w, 4032);
    unsigned char *j = pc_photo_testgen_jpeg(rgb, w, h, 90, TJSAMP_420, false, false, &n);
    unsigned char *e = pc_photo_testgen_exif(j, n, 6, &m);
    process(e, m, true, &r);
    PASSES(&r);
    check_standard(&r, true);
    assert_int_equal(r.width, 3024);
    assert_int_equal(r.height, 4032);
    pc_photo_result_free(&r);
    /* the same file without its EXIF is a landscape picture: the subject lies on its side */
    process(j, n, false, &r);
    assert_false(r.ok);
    assert_int_equal(r.width, 4032);
    pc_photo_result_free(&r);
    free(rgb);
    free(j);
    free(e);
}

/* All 8 orientations: the displayed picture is the same; 2, 4, 5, 7 are mirror images. */
static void orientations(void **state)
{
    (void)state;
    for (int o = 1; o <= 8; o++) {
        struct pc_photo_testgen g;
        struct pc_photo_result r;
        size_t n, m;
        int w = 810, h = 1080;
        pc_photo_testgen_defaults(&g, w, h);
        unsigned char *rgb = pc_photo_testgen_render(&g);
        pc_photo_testgen_store_as(&rgb, &w, &h, o);
        unsigned char *j = pc_photo_testgen_jpeg(rgb, w, h, 92, TJSAMP_420, false, false, &n);
        unsigned char *e = pc_photo_testgen_exif(j, n, o, &m);
        process(e, m, false, &r);
        if (o == 2 || o == 4 || o == 5 || o == 7)
            FAILS(&r, "MIRRORED");
        else
            PASSES(&r);
        assert_int_equal(r.width, 810);
        assert_int_equal(r.height, 1080);
        const struct pc_photo_check *c = pc_photo_find_check(&r, "MIRRORED");
        assert_int_equal((int)c->value, o);
        pc_photo_result_free(&r);
        free(rgb);
        free(j);
        free(e);
    }
}

static void pass_white_wall(void **state)
{
    (void)state;
    struct pc_photo_testgen g;
    struct pc_photo_result r;
    size_t n;
    pc_photo_testgen_defaults(&g, 1080, 1440);
    g.bg[0] = g.bg[1] = 242;
    g.bg[2] = 238;
    unsigned char *j = portrait_jpeg(&g, 92, &n);
    process(j, n, true, &r);
    PASSES(&r);
    check_standard(&r, true); /* the white wall became the reference blue */
    pc_photo_result_free(&r);
    free(j);
}

static void pass_progressive(void **state)
{
    (void)state;
    struct pc_photo_testgen g;
    struct pc_photo_result r;
    size_t n;
    pc_photo_testgen_defaults(&g, 1080, 1440);
    unsigned char *rgb = pc_photo_testgen_render(&g);
    unsigned char *j = pc_photo_testgen_jpeg(rgb, g.w, g.h, 90, TJSAMP_420, true, false, &n);
    struct pc__hdr hdr;
    pc__probe(j, n, &hdr);
    assert_int_equal(hdr.sof, 0xc2);
    process(j, n, true, &r);
    PASSES(&r);
    check_standard(&r, true); /* the output is baseline even from a progressive input */
    pc_photo_result_free(&r);
    free(rgb);
    free(j);
}

/* PNG, RGB and RGBA; the API sees bytes only, so "a PNG renamed .jpg" is this same case. */
static void pass_png(void **state)
{
    (void)state;
    struct pc_photo_testgen g;
    struct pc_photo_result r;
    size_t n;
    pc_photo_testgen_defaults(&g, 1080, 1440);
    unsigned char *rgb = pc_photo_testgen_render(&g);
    for (int ch = 3; ch <= 4; ch++) {
        unsigned char *p = pc_photo_testgen_png(rgb, g.w, g.h, ch, &n);
        assert_non_null(p);
        process(p, n, true, &r);
        PASSES(&r);
        check_standard(&r, true);
        pc_photo_result_free(&r);
        free(p);
    }
    free(rgb);
}

/* ---- one failing picture per rule ---- */

static void fail_case(struct pc_photo_testgen *g, struct pc_photo_result *r)
{
    size_t n;
    unsigned char *j = portrait_jpeg(g, 92, &n);
    process(j, n, true, r);
    assert_false(r->ok || r->jpeg);
    free(j);
}

static void fail_background(void **state)
{
    (void)state;
    struct pc_photo_testgen g;
    struct pc_photo_result r;
    pc_photo_testgen_defaults(&g, 1080, 1440);
    g.bg[0] = 200; /* red wall */
    g.bg[1] = 48;
    g.bg[2] = 44;
    fail_case(&g, &r);
    FAILS(&r, "BACKGROUND_COLOR");
    pc_photo_testgen_defaults(&g, 1080, 1440);
    g.bg_grad = 50; /* shadow on the right */
    fail_case(&g, &r);
    FAILS(&r, "BACKGROUND_UNIFORM");
}

static void fail_head_position(void **state)
{
    (void)state;
    struct pc_photo_testgen g;
    struct pc_photo_result r;
    pc_photo_testgen_defaults(&g, 1080, 1440);
    g.top = -0.03; /* cut at the top */
    fail_case(&g, &r);
    FAILS(&r, "SUBJECT_CUT_OFF");
    expect_skipped(&r, "HEAD_TOP");
    pc_photo_testgen_defaults(&g, 1080, 1440);
    g.top = 0.025; /* too high: no room for 50 px above the head */
    fail_case(&g, &r);
    FAILS(&r, "HEAD_TOP");
    assert_string_equal(pc_photo_find_check(&r, "HEAD_TOP")->message,
                        "头部位置偏高，请后退一点或把手机稍微抬高再拍");
    pc_photo_testgen_defaults(&g, 1080, 1440);
    g.top = 0.56; /* too low: the crop would run out of the picture at the bottom */
    fail_case(&g, &r);
    FAILS(&r, "HEAD_TOP", "EYE_LINE"); /* the eyes are as low as the head */
    assert_string_equal(pc_photo_find_check(&r, "HEAD_TOP")->message,
                        "头部位置偏低（肩部入镜不足），请把手机稍微放低再拍");
}

static void fail_head_size(void **state)
{
    (void)state;
    struct pc_photo_testgen g;
    struct pc_photo_result r;
    pc_photo_testgen_defaults(&g, 1080, 1440);
    g.size = 0.45; /* far away: small, and too few pixels for 640 rows */
    fail_case(&g, &r);
    FAILS(&r, "HEAD_SIZE", "RESOLUTION");
    expect_skipped(&r, "SHARPNESS");
    pc_photo_testgen_defaults(&g, 1080, 1440);
    g.size = 2.3; /* too close */
    g.top = 0.05;
    fail_case(&g, &r);
    FAILS(&r, "HEAD_SIZE");
    expect_skipped(&r, "HEAD_TOP");
}

static void fail_framing(void **state)
{
    (void)state;
    struct pc_photo_testgen g;
    struct pc_photo_result r;
    pc_photo_testgen_defaults(&g, 1080, 1440);
    g.cx = 0.22;
    fail_case(&g, &r);
    FAILS(&r, "CENTERED");
    assert_string_equal(pc_photo_find_check(&r, "CENTERED")->message,
                        "人像偏左，请站到画面正中间再拍");
    pc_photo_testgen_defaults(&g, 1080, 1440);
    g.tilt = 0.04;
    fail_case(&g, &r);
    FAILS(&r, "SHOULDERS_LEVEL");
    pc_photo_testgen_defaults(&g, 1080, 1440);
    g.cloth[0] = 96; /* blue clothing on the blue wall */
    g.cloth[1] = 192;
    g.cloth[2] = 250;
    fail_case(&g, &r);
    FAILS(&r, "CLOTHING_CONTRAST");
    expect_skipped(&r, "SHOULDERS_LEVEL");
}

/* Linear-light gain on every pixel: an exposure change of log2(gain) EV. */
static void expose(unsigned char *rgb, size_t n, double gain)
{
    for (size_t i = 0; i < n; i++) {
        double v = rgb[i] / 255.0;
        v = v <= 0.04045 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4);
        v *= gain;
        v = v <= 0.0031308 ? 12.92 * v : 1.055 * pow(v, 1 / 2.4) - 0.055;
        rgb[i] = (unsigned char)lround(fmin(255, fmax(0, 255 * v)));
    }
}

/* Exposure is judged on the wall (the one surface of known tone) and on skin-neutral face
 * measures (clipped highlights, crushed shadows, the left/right ratio): a face's mean
 * luminance is never compared with a limit (docs/photo.md "Fairness"). */
static void fail_light(void **state)
{
    (void)state;
    struct pc_photo_testgen g;
    struct pc_photo_result r;
    size_t n;
    /* the whole scene 1.75 EV under: the reference-blue wall measures luma 99 < 108, and
     * BACKGROUND_COLOR says 背景太暗 (it is too far from the reference colour) */
    pc_photo_testgen_defaults(&g, 1080, 1440);
    unsigned char *rgb = pc_photo_testgen_render(&g);
    expose(rgb, (size_t)g.w * g.h * 3, 0.297);
    unsigned char *j = pc_photo_testgen_jpeg(rgb, g.w, g.h, 92, TJSAMP_420, false, false, &n);
    process(j, n, true, &r);
    FAILS(&r, "EXPOSURE", "BACKGROUND_COLOR");
    assert_true(pc_photo_find_check(&r, "EXPOSURE")->value < 108);
    assert_non_null(strstr(pc_photo_find_check(&r, "BACKGROUND_COLOR")->message, "背景太暗"));
    free(j);
    free(rgb);
    pc_photo_testgen_defaults(&g, 1080, 1440);
    g.face_gain = 1.45; /* overexposed face: clipped highlights */
    fail_case(&g, &r);
    FAILS(&r, "EXPOSURE");
    pc_photo_testgen_defaults(&g, 1080, 1440);
    g.shadow = 0.5;
    fail_case(&g, &r);
    FAILS(&r, "LIGHTING_UNEVEN");
    assert_true(pc_photo_find_check(&r, "LIGHTING_UNEVEN")->blocking);
    /* a milder shadow only warns: the photo passes and the file is made */
    pc_photo_testgen_defaults(&g, 1080, 1440);
    g.shadow = 0.74;
    j = portrait_jpeg(&g, 92, &n);
    process(j, n, true, &r);
    FAILS(&r, "LIGHTING_UNEVEN");
    assert_false(pc_photo_find_check(&r, "LIGHTING_UNEVEN")->blocking);
    assert_true(r.ok);
    assert_non_null(r.jpeg);
    pc_photo_result_free(&r);
    free(j);
}

static void fail_blur(void **state)
{
    (void)state;
    struct pc_photo_testgen g;
    struct pc_photo_result r;
    pc_photo_testgen_defaults(&g, 1080, 1440);
    g.blur = 2.5;
    fail_case(&g, &r);
    FAILS(&r, "SHARPNESS");
}

static void fail_mirrored(void **state)
{
    (void)state;
    struct pc_photo_testgen g;
    struct pc_photo_result r;
    size_t n, m;
    pc_photo_testgen_defaults(&g, 1080, 1440);
    unsigned char *j = portrait_jpeg(&g, 92, &n);
    unsigned char *e = pc_photo_testgen_exif(j, n, 2, &m);
    process(e, m, true, &r);
    FAILS(&r, "MIRRORED");
    assert_null(r.jpeg);
    free(j);
    free(e);
}

static void fail_too_small(void **state)
{
    (void)state;
    struct pc_photo_testgen g;
    struct pc_photo_result r;
    standard_framed(&g, 300, 400);
    fail_case(&g, &r);
    FAILS(&r, "RESOLUTION");
    expect_skipped(&r, "SHARPNESS");
    assert_true(pc_photo_find_check(&r, "RESOLUTION")->value < 640);
}

/* ---- decode refusals ---- */

static void refuse(const void *data, size_t len, const char *code)
{
    struct pc_photo_result r;
    process(data, len, true, &r);
    FAILS(&r, code);
    assert_false(r.ok);
    assert_null(r.jpeg);
    expect_skipped(&r, "SUBJECT_PRESENT");
}

static void refuse_formats(void **state)
{
    (void)state;
    static const unsigned char heic[] = "\0\0\0\x18"
                                        "ftypheic\0\0\0\0mif1heic";
    static const unsigned char gif[] = "GIF89a\x10\0\x10\0\x80\0\0";
    static const unsigned char junk[] = "hello, this is not a picture";
    refuse(heic, sizeof heic - 1, "FORMAT_UNSUPPORTED");
    refuse(gif, sizeof gif - 1, "FORMAT_UNSUPPORTED");
    refuse(junk, sizeof junk - 1, "FORMAT_UNSUPPORTED");
    refuse("", 0, "FORMAT_UNSUPPORTED");
    struct pc_photo_result r;
    process(heic, sizeof heic - 1, false, &r);
    for (size_t i = 1; i < r.nchecks; i++) /* everything after the format is skipped */
        assert_true(r.checks[i].skipped);
    assert_int_equal(pc_photo_process(NULL, 0, NULL, &r), -1);
}

static void refuse_damaged(void **state)
{
    (void)state;
    struct pc_photo_testgen g;
    size_t n;
    pc_photo_testgen_defaults(&g, 480, 640);
    unsigned char *j = portrait_jpeg(&g, 92, &n);
    refuse(j, n / 2, "IMAGE_CORRUPT"); /* body cut in half */
    unsigned char head[64] = {0xff, 0xd8, 0xff};
    refuse(head, sizeof head, "IMAGE_CORRUPT"); /* §5.3 gotcha 1 */
    unsigned char *rgb = pc_photo_testgen_render(&g);
    unsigned char *p = pc_photo_testgen_png(rgb, g.w, g.h, 3, &n);
    refuse(p, n - 40, "IMAGE_CORRUPT");
    free(p);
    free(rgb);
    free(j);
}

static void refuse_colour(void **state)
{
    (void)state;
    struct pc_photo_testgen g;
    size_t n;
    pc_photo_testgen_defaults(&g, 480, 640);
    unsigned char *rgb = pc_photo_testgen_render(&g);
    unsigned char *j = pc_photo_testgen_jpeg(rgb, g.w, g.h, 90, TJSAMP_GRAY, false, false, &n);
    refuse(j, n, "COLOR_SPACE");
    free(j);
    j = pc_photo_testgen_jpeg(rgb, g.w, g.h, 90, TJSAMP_444, false, true, &n);
    refuse(j, n, "COLOR_SPACE");
    free(j);
    j = pc_photo_testgen_png(rgb, g.w, g.h, 1, &n);
    refuse(j, n, "COLOR_SPACE");
    free(j);
    free(rgb);
}

static uint32_t crc32_png(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
    }
    return c ^ 0xffffffffu;
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* Headers claiming 100000×100000 (PNG) and 60000×60000 (JPEG): refused before any pixel
 * buffer exists (ASan would report a 30 GB allocation, pc_xmalloc would abort). */
static void refuse_bombs(void **state)
{
    (void)state;
    unsigned char png[8 + 25 + 12] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    put32(png + 8, 13);
    memcpy(png + 12, "IHDR", 4);
    put32(png + 16, 100000);
    put32(png + 20, 100000);
    png[24] = 8; /* depth */
    png[25] = 2; /* RGB */
    put32(png + 29, crc32_png(png + 12, 17));
    put32(png + 33, 0);
    memcpy(png + 37, "IEND", 4);
    put32(png + 41, crc32_png(png + 37, 4));
    refuse(png, sizeof png, "IMAGE_TOO_LARGE");

    struct pc_photo_testgen g;
    size_t n;
    pc_photo_testgen_defaults(&g, 64, 64);
    unsigned char *j = portrait_jpeg(&g, 80, &n);
    for (size_t i = 2; i + 9 < n; i++) /* patch SOF0's height and width */
        if (j[i] == 0xff && j[i + 1] == 0xc0) {
            j[i + 5] = j[i + 7] = 0xea;
            j[i + 6] = j[i + 8] = 0x60;
            break;
        }
    refuse(j, n, "IMAGE_TOO_LARGE");
    struct pc_photo_result r;
    process(j, n, false, &r);
    assert_true(pc_photo_find_check(&r, "IMAGE_TOO_LARGE")->value > 3.5e9);
    /* a lower cap from the caller */
    struct pc_photo_opts o = {.max_pixels = 1000};
    pc_photo_testgen_defaults(&g, 64, 64);
    free(j);
    j = portrait_jpeg(&g, 80, &n);
    assert_int_equal(pc_photo_process(j, n, &o, &r), 0);
    FAILS(&r, "IMAGE_TOO_LARGE");
    free(j);
}

/* ---- pHash ---- */

static uint64_t hash_of(const unsigned char *data, size_t len)
{
    struct pc_photo_result r;
    process(data, len, false, &r);
    assert_true(r.has_phash);
    return r.phash;
}

static void phash_calibration(void **state)
{
    (void)state;
    struct pc_photo_testgen g;
    size_t n;
    pc_photo_testgen_defaults(&g, 1080, 1440);
    unsigned char *rgb = pc_photo_testgen_render(&g);
    unsigned char *a = pc_photo_testgen_jpeg(rgb, 1080, 1440, 92, TJSAMP_420, false, false, &n);
    uint64_t ha = hash_of(a, n);
    /* re-encoded at q70 */
    unsigned char *b = pc_photo_testgen_jpeg(rgb, 1080, 1440, 70, TJSAMP_420, false, false, &n);
    int d_reenc = pc_phash_distance(ha, hash_of(b, n));
    free(b);
    /* rescaled to 900×1200 */
    struct pc__img src = {rgb, 1080, 1440, 3}, dst;
    pc__img_alloc(&dst, 900, 1200, 3);
    pc__resample(&src, 0, 0, 1080, 1440, &dst, NULL);
    b = pc_photo_testgen_jpeg(dst.p, 900, 1200, 85, TJSAMP_420, false, false, &n);
    int d_scaled = pc_phash_distance(ha, hash_of(b, n));
    free(b);
    pc__img_free(&dst);
    /* the same person shot again: other noise, slightly other framing */
    pc_photo_testgen_defaults(&g, 1080, 1440);
    g.seed = 99;
    g.cx = 0.47;
    g.top = 0.15;
    b = portrait_jpeg(&g, 90, &n);
    int d_reshot = pc_phash_distance(ha, hash_of(b, n));
    free(b);
    /* other subjects: long hair and light clothes; a larger head with dark skin */
    pc_photo_testgen_defaults(&g, 1080, 1440);
    g.long_hair = true;
    g.cloth[0] = 200;
    g.cloth[1] = 60;
    g.cloth[2] = 60;
    b = portrait_jpeg(&g, 90, &n);
    int d_other1 = pc_phash_distance(ha, hash_of(b, n));
    free(b);
    pc_photo_testgen_defaults(&g, 1080, 1440);
    g.size = 1.2;
    g.skin[0] = 150;
    g.skin[1] = 105;
    g.skin[2] = 80;
    g.hair[0] = g.hair[1] = g.hair[2] = 120;
    g.cloth[0] = g.cloth[1] = g.cloth[2] = 230;
    b = portrait_jpeg(&g, 90, &n);
    int d_other2 = pc_phash_distance(ha, hash_of(b, n));
    free(b);
    fprintf(stderr,
            "phash distances: re-encoded %d, rescaled %d, re-shot %d, other subjects %d %d\n",
            d_reenc, d_scaled, d_reshot, d_other1, d_other2);
    assert_in_range(d_reenc, 0, PC_PHASH_SAME_MAX);
    assert_in_range(d_scaled, 0, PC_PHASH_SAME_MAX);
    assert_true(d_other1 > PC_PHASH_SAME_MAX);
    assert_true(d_other2 > PC_PHASH_SAME_MAX);
    assert_int_equal(pc_phash_distance(0, ~0ull), 64);
    assert_int_equal(pc_phash_distance(5, 4), 1);
    free(a);
    free(rgb);
}

/* ---- the result API and the table ---- */

static void add_check_and_table(void **state)
{
    (void)state;
    struct pc_photo_testgen g;
    struct pc_photo_result r;
    size_t n;
    pc_photo_testgen_defaults(&g, 1080, 1440);
    unsigned char *j = portrait_jpeg(&g, 92, &n);
    process(j, n, false, &r);
    assert_true(r.ok);
    pc_photo_add_check(&r, "DUPLICATE_PHOTO", true, true, "ok", 30, 10, true);
    assert_true(r.ok);
    pc_photo_add_check(&r, "ENROLLMENT_PHOTO", false, false, "与入学照片相同", 3, 10, true);
    assert_true(r.ok); /* a warning */
    pc_photo_add_check(&r, "DUPLICATE_PHOTO", false, true, "同一张照片已用于其他同学", 2, 10, true);
    assert_false(r.ok);
    assert_int_equal(r.nchecks, 30);
    for (int i = 0; i < 20; i++)
        pc_photo_add_check(&r, "X", true, false, "x", 0, 0, false);
    assert_int_equal(r.nchecks, PC_PHOTO_MAX_CHECKS);
    assert_null(pc_photo_find_check(&r, "NOPE"));
    pc_photo_result_free(&r);
    pc_photo_result_free(NULL);
    free(j);
    for (int i = 0; i < PC__T_COUNT; i++) {
        assert_non_null(pc__thresholds[i].name);
        assert_true(strlen(pc__thresholds[i].source) > 3);
    }
    assert_true(PC__T(HEAD_TOP_MIN) == 50 && PC__T(HEAD_TOP_MAX) == 110);
}

/* The two-thread resample (and its two halves made one at a time) writes exactly the
 * one-thread one's bytes: every orientation, RGB and grey, reductions with and without whole blocks
 * first, enlargements, boxes reaching outside the picture with a fill colour, odd and tiny heights.
 */
static void resample_two_threads_same(void **state)
{
    (void)state;
    static const struct {
        int sw, sh, dw, dh;
        double bx, by, bw, bh;
        bool fill;
    } cases[] = {
        {2016, 1512, 480, 640, 0, 0, 1512, 2016, false}, /* the analysis picture (1/2 decode) */
        {2016, 1512, 480, 640, 180.5, 300.25, 860.3, 1147.1, true}, /* a standard-file crop */
        {301, 203, 97, 131, -20.5, -10, 250, 330, true},            /* reaching outside */
        {120, 90, 333, 257, 3, 2, 100, 80, false},                  /* enlarging */
        {640, 480, 5, 1, 0, 0, 480, 640, false},                    /* one row */
        {97, 61, 17, 23, 1.5, 0.5, 60, 95, true},
    };
    const unsigned char fill[3] = {10, 200, 30};
    unsigned seed = 12345;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int nch = 1; nch <= 3; nch += 2)
            for (int o = 1; o <= 8; o++) {
                struct pc__img src, a, b;
                pc__img_alloc(&src, cases[i].sw, cases[i].sh, nch);
                for (size_t k = 0; k < (size_t)src.w * src.h * nch; k++) {
                    seed = seed * 1103515245u + 12345u;
                    src.p[k] = (unsigned char)((k / 7 % 200) + (seed >> 27));
                }
                pc__img_alloc(&a, cases[i].dw, cases[i].dh, nch);
                pc__img_alloc(&b, cases[i].dw, cases[i].dh, nch);
                memset(a.p, 1, (size_t)a.w * a.h * nch);
                memset(b.p, 2, (size_t)b.w * b.h * nch);
                const unsigned char *f = cases[i].fill ? fill : NULL;
                pc__resample_oriented(&src, o, cases[i].bx, cases[i].by, cases[i].bw, cases[i].bh,
                                      &a, f);
                pc__resample_oriented_2t(&src, o, cases[i].bx, cases[i].by, cases[i].bw,
                                         cases[i].bh, &b, f);
                assert_memory_equal(a.p, b.p, (size_t)a.w * a.h * nch);
                memset(b.p, 3, (size_t)b.w * b.h * nch); /* its two halves one at a time */
                for (int half = 1; half >= 0; half--)
                    pc__resample_oriented_half(&src, o, cases[i].bx, cases[i].by, cases[i].bw,
                                               cases[i].bh, &b, f, half);
                assert_memory_equal(a.p, b.p, (size_t)a.w * a.h * nch);
                pc__img_free(&src);
                pc__img_free(&a);
                pc__img_free(&b);
            }
}

/* ---- the banded decode and the quality search on two threads ---- */

/* A reader of a picture being decoded: the box (displayed coordinates, a share of the picture)
 * resampled from the rows as they arrive. */
struct rows_reader {
    int o;
    double bx, by, bw, bh; /* shares of the displayed picture */
    struct pc__img out;
    int rc;
    bool ran;
};

static void rows_read(void *ctx, const struct pc__img *src, struct pc__rows *rows)
{
    struct rows_reader *rd = ctx;
    int ow = rd->o >= 5 ? src->h : src->w, oh = rd->o >= 5 ? src->w : src->h;
    rd->ran = true;
    pc__img_alloc(&rd->out, 97, 131, 3);
    rd->rc = pc__resample_oriented_rows(src, rd->o, rd->bx * ow, rd->by * oh, rd->bw * ow,
                                        rd->bh * oh, &rd->out, NULL, rows);
}

/* The banded decode (libjpeg row groups, a reader on a second thread) gives TurboJPEG's
 * pixels at every scale, subsampling, orientation and for progressive files; the reader's
 * picture, made from rows as they arrive, is pc__resample_oriented's of the whole decode; a
 * truncated or damaged file is refused by both. */
static void decode_rows_same(void **state)
{
    (void)state;
    static const struct {
        int w, h, o, subsamp, min_h;
        bool progressive;
    } cases[] = {
        {1512, 2016, 6, TJSAMP_420, 640, false}, /* the benchmark's shape, decoded at 1/2 */
        {1080, 1440, 1, TJSAMP_420, 640, false},
        {1080, 1440, 1, TJSAMP_420, 0, false}, /* full size */
        {801, 603, 3, TJSAMP_444, 640, false}, /* odd sizes, 4:4:4 */
        {603, 801, 8, TJSAMP_422, 100, true},  /* progressive, 1/4 */
        {640, 480, 5, TJSAMP_420, 90, false},  /* 1/8 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct pc_photo_testgen g;
        int w = cases[i].w, h = cases[i].h;
        size_t n, len;
        pc_photo_testgen_defaults(&g, w, h);
        unsigned char *rgb = pc_photo_testgen_render(&g);
        pc_photo_testgen_store_as(&rgb, &w, &h, cases[i].o);
        unsigned char *j =
            pc_photo_testgen_jpeg(rgb, w, h, 90, cases[i].subsamp, cases[i].progressive, false, &n);
        unsigned char *e = pc_photo_testgen_exif(j, n, cases[i].o, &len);
        assert_non_null(e);
        struct pc__hdr hdr;
        pc__probe(e, len, &hdr);
        assert_int_equal(hdr.orientation, cases[i].o);
        struct pc__img a = {0}, b = {0}, want = {0};
        double sa = 0, sb = 0;
        struct rows_reader rd = {.o = cases[i].o, .bx = 0.1, .by = 0.05, .bw = 0.8, .bh = 0.9};
        assert_int_equal(pc__decode(e, len, &hdr, cases[i].min_h, &a, &sa), 0);
        assert_int_equal(pc__decode_rows(e, len, &hdr, cases[i].min_h, &b, &sb, rows_read, &rd), 0);
        assert_true(rd.ran);
        assert_int_equal(rd.rc, 0);
        assert_true(sa == sb);
        assert_int_equal(a.w, b.w);
        assert_int_equal(a.h, b.h);
        assert_memory_equal(a.p, b.p, (size_t)a.w * a.h * 3);
        int ow = cases[i].o >= 5 ? a.h : a.w, oh = cases[i].o >= 5 ? a.w : a.h;
        pc__img_alloc(&want, 97, 131, 3);
        pc__resample_oriented(&a, cases[i].o, rd.bx * ow, rd.by * oh, rd.bw * ow, rd.bh * oh, &want,
                              NULL);
        assert_memory_equal(want.p, rd.out.p, (size_t)want.w * want.h * 3);
        pc__img_free(&a);
        pc__img_free(&b);
        pc__img_free(&want);
        pc__img_free(&rd.out);
        /* truncated at 60 %: TurboJPEG's warning refuses it, so does the banded decode */
        size_t cut = len * 3 / 5;
        struct rows_reader rt = {.o = cases[i].o, .bx = 0, .by = 0, .bw = 1, .bh = 1};
        assert_int_not_equal(pc__decode(e, cut, &hdr, cases[i].min_h, &a, &sa), 0);
        assert_int_not_equal(pc__decode_rows(e, cut, &hdr, cases[i].min_h, &b, &sb, rows_read, &rt),
                             0);
        assert_null(b.p); /* libjpeg warned (the missing rows are grey): refused, freed */
        pc__img_free(&rt.out);
        /* cut in the tables (100 bytes): refused before the picture exists, no reader */
        struct rows_reader rh = {.o = cases[i].o, .bx = 0, .by = 0, .bw = 1, .bh = 1};
        assert_int_not_equal(pc__decode_rows(e, 100, &hdr, cases[i].min_h, &b, &sb, rows_read, &rh),
                             0);
        assert_false(rh.ran);
        assert_null(b.p);
        /* entropy-coded data damaged in the middle: the same answer from both */
        unsigned char *bad = malloc(len);
        memcpy(bad, e, len);
        for (size_t k = len / 2; k < len / 2 + 64; k++)
            bad[k] = (unsigned char)(k * 37);
        struct rows_reader rb = {.o = cases[i].o, .bx = 0, .by = 0, .bw = 1, .bh = 1};
        int ra = pc__decode(bad, len, &hdr, cases[i].min_h, &a, &sa);
        int rb_rc = pc__decode_rows(bad, len, &hdr, cases[i].min_h, &b, &sb, rows_read, &rb);
        assert_int_equal(ra != 0, rb_rc != 0);
        if (ra == 0)
            assert_memory_equal(a.p, b.p, (size_t)a.w * a.h * 3);
        pc__img_free(&a);
        pc__img_free(&b);
        pc__img_free(&rb.out);
        free(bad);
        free(e);
        free(j);
        free(rgb);
    }
}

/* The quality search as it was, one encoding at a time (the reference for the two-thread one):
 * q95, then bisection, stopping within OUT_SIZE_SLACK under the cap. */
static unsigned char *search_one_at_a_time(const struct pc__img *im, size_t *len, int *quality)
{
    int qmin = (int)PC__T(OUT_Q_MIN), qmax = (int)PC__T(OUT_Q_MAX);
    size_t smax = (size_t)PC__T(OUT_SIZE_MAX), slack = (size_t)PC__T(OUT_SIZE_SLACK);
    tjhandle tj = tjInitCompress();
    unsigned long cap = tjBufSize(im->w, im->h, TJSAMP_420), sz = cap;
    unsigned char *buf = tjAlloc((int)cap);
#define ENC(q)                                                                                     \
    (sz = cap, tjCompress2(tj, im->p, im->w, 0, im->h, TJPF_RGB, &buf, &sz, TJSAMP_420, (q),       \
                           TJFLAG_ACCURATEDCT | TJFLAG_NOREALLOC) == 0                             \
                   ? (size_t)sz                                                                    \
                   : 0)
    int q = qmax, last = qmax;
    size_t s = ENC(qmax);
    if (s > smax) {
        int lo = qmin - 1, hi = qmax;
        while (hi - lo > 1 && !(lo >= qmin && lo == last && s + slack >= smax)) {
            int mid = (lo + hi) / 2;
            s = ENC(mid);
            last = mid;
            if (s <= smax)
                lo = mid;
            else
                hi = mid;
        }
        q = lo >= qmin ? lo : qmin;
        if (q != last)
            s = ENC(q);
    }
#undef ENC
    int dpi = (int)PC__T(OUT_DPI);
    buf[13] = 1;
    buf[14] = buf[16] = (unsigned char)(dpi >> 8);
    buf[15] = buf[17] = (unsigned char)(dpi & 255);
    unsigned char *out = malloc(s);
    memcpy(out, buf, s);
    tjFree(buf);
    tjDestroy(tj);
    *len = s;
    *quality = q;
    return out;
}

/* The quality search two encodings at a time finds the same quality and writes the same bytes
 * as the search one encoding at a time: flat pictures (q95 fits at once), portraits of every
 * tone, pictures noisier and noisier (bisection ending anywhere in 60..95, q60 too large). */
static void encode_standard_same(void **state)
{
    (void)state;
    struct pc__img im;
    unsigned seed = 777;
    pc__img_alloc(&im, PC_PHOTO_OUT_W, PC_PHOTO_OUT_H, 3);
    int seen_q95 = 0, seen_q60 = 0, seen_mid = 0;
    for (int c = 0; c < 24; c++) {
        if (c < 8) { /* a portrait of tone c */
            struct pc_photo_testgen g;
            pc_photo_testgen_defaults(&g, PC_PHOTO_OUT_W, PC_PHOTO_OUT_H);
            memcpy(g.skin, pc_photo_testgen_tones[c], 3);
            unsigned char *rgb = pc_photo_testgen_render(&g);
            memcpy(im.p, rgb, (size_t)im.w * im.h * 3);
            free(rgb);
        } else { /* a gradient with noise of amplitude growing with c */
            int amp = (c - 8) * (c - 8);
            for (size_t k = 0; k < (size_t)im.w * im.h * 3; k++) {
                seed = seed * 1103515245u + 12345u;
                int v =
                    (int)(k / 3 % 480) / 2 + (int)((seed >> 16) % (unsigned)(amp + 1)) - amp / 2;
                im.p[k] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
        }
        size_t n1 = 0, n2 = 0;
        int q1 = 0, q2 = 0;
        unsigned char *ref = search_one_at_a_time(&im, &n1, &q1), *got = NULL;
        assert_int_equal(pc__encode_standard(&im, &got, &n2, &q2), 0);
        assert_int_equal(q1, q2);
        assert_int_equal(n1, n2);
        assert_memory_equal(ref, got, n1);
        seen_q95 += q2 == 95;
        seen_q60 += q2 == 60;
        seen_mid += q2 > 60 && q2 < 95;
        free(ref);
        free(got);
    }
    assert_true(seen_q95 > 0 && seen_q60 > 0 && seen_mid > 0); /* every way the search ends */
    pc__img_free(&im);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pass_480x640),
        cmocka_unit_test(pass_1080x1440),
        cmocka_unit_test(pass_3024x4032),
        cmocka_unit_test(pass_exif_rotated_4032x3024),
        cmocka_unit_test(orientations),
        cmocka_unit_test(pass_white_wall),
        cmocka_unit_test(pass_progressive),
        cmocka_unit_test(pass_png),
        cmocka_unit_test(fail_background),
        cmocka_unit_test(fail_head_position),
        cmocka_unit_test(fail_head_size),
        cmocka_unit_test(fail_framing),
        cmocka_unit_test(fail_light),
        cmocka_unit_test(fail_blur),
        cmocka_unit_test(fail_mirrored),
        cmocka_unit_test(fail_too_small),
        cmocka_unit_test(refuse_formats),
        cmocka_unit_test(refuse_damaged),
        cmocka_unit_test(refuse_colour),
        cmocka_unit_test(refuse_bombs),
        cmocka_unit_test(phash_calibration),
        cmocka_unit_test(add_check_and_table),
        cmocka_unit_test(resample_two_threads_same),
        cmocka_unit_test(decode_rows_same),
        cmocka_unit_test(encode_standard_same),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
