/* tests/unit/test_imgmeta.c — originals and avatars lose their metadata, not their pixels
 * (base/imgmeta.h): a real JPEG (TurboJPEG) and PNG (libpng) carrying EXIF with a device name
 * and GPS, XMP, a comment, text chunks and trailing bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/err.h"
#include "base/imgmeta.h"
#include "base/png.h"

#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#define W 32
#define H 24

static unsigned char *pixels(void)
{
    unsigned char *px = malloc(W * H * 3);
    for (int i = 0; i < W * H * 3; i++)
        px[i] = (unsigned char)(i * 7 % 251);
    return px;
}

static const void *find(const void *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (!memcmp((const char *)hay + i, needle, k))
            return (const char *)hay + i;
    return NULL;
}

/* An APP1 EXIF segment (big-endian TIFF): IFD0 = Orientation 6, Make "SecretPhoneMaker" and a
 * GPS pointer whose IFD holds a latitude reference "N" and the text "GPS39.9042N". */
static size_t exif_segment(unsigned char *o)
{
    static const unsigned char tiff[] = {
        'M',  'M',  0,   42,  0,   0,   0,   8,                      /* header, IFD0 at 8 */
        0,    3,                                                     /* three entries */
        0x01, 0x0F, 0,   2,   0,   0,   0,   17,  0,   0,   0,   50, /* Make, ASCII 17 at 50 */
        0x01, 0x12, 0,   3,   0,   0,   0,   1,   0,   6,   0,   0,  /* Orientation 6 */
        0x88, 0x25, 0,   4,   0,   0,   0,   1,   0,   0,   0,   67, /* GPS IFD at 67 */
        0,    0,    0,   0,                                          /* no next IFD */
        'S',  'e',  'c', 'r', 'e', 't', 'P', 'h', 'o', 'n', 'e', 'M', 'a', 'k', 'e', 'r',
        0,    0,    1,                                               /* GPS IFD: one entry */
        0x00, 0x01, 0,   2,   0,   0,   0,   12,  0,   0,   0,   85, /* GPSLatitudeRef-ish text at
                                                                        85 */
        0,    0,    0,   0,   'G', 'P', 'S', '3', '9', '.', '9', '0', '4', '2', 'N', 0};
    size_t n = 6 + sizeof tiff;
    o[0] = 0xFF;
    o[1] = 0xE1;
    o[2] = (unsigned char)((n + 2) >> 8);
    o[3] = (unsigned char)(n + 2);
    memcpy(o + 4, "Exif\0\0", 6);
    memcpy(o + 10, tiff, sizeof tiff);
    return n + 4;
}

/* A JPEG from TurboJPEG with EXIF, XMP and a comment spliced in after SOI and bytes after EOI. */
static unsigned char *dirty_jpeg(size_t *len, unsigned char **clean_src, size_t *clean_len)
{
    tjhandle tj = tjInitCompress();
    unsigned char *px = pixels(), *jpg = NULL;
    unsigned long jl = 0;
    assert_int_equal(tjCompress2(tj, px, W, 0, H, TJPF_RGB, &jpg, &jl, TJSAMP_420, 90, 0), 0);
    tjDestroy(tj);
    free(px);
    unsigned char *o = malloc(jl + 512);
    size_t k = 0;
    memcpy(o, jpg, 2); /* SOI */
    k = 2;
    k += exif_segment(o + k);
    static const char xmp[] = "http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>Shanghai</x:xmpmeta>";
    o[k++] = 0xFF, o[k++] = 0xE1, o[k++] = 0, o[k++] = (unsigned char)(sizeof xmp + 2);
    memcpy(o + k, xmp, sizeof xmp);
    k += sizeof xmp;
    static const char com[] = "taken by student 20200452209";
    o[k++] = 0xFF, o[k++] = 0xFE, o[k++] = 0, o[k++] = (unsigned char)(sizeof com + 2);
    memcpy(o + k, com, sizeof com);
    k += sizeof com;
    memcpy(o + k, jpg + 2, jl - 2);
    k += jl - 2;
    memcpy(o + k, "TRAILER-PRIVATE", 15);
    k += 15;
    *len = k;
    *clean_src = jpg;
    *clean_len = jl;
    return o;
}

static unsigned char *decode_jpeg(const unsigned char *p, size_t n)
{
    tjhandle tj = tjInitDecompress();
    unsigned char *px = malloc(W * H * 3);
    assert_int_equal(tjDecompress2(tj, p, n, px, W, 0, H, TJPF_RGB, 0), 0);
    tjDestroy(tj);
    return px;
}

static void test_a_jpeg_loses_exif_xmp_comments_and_trailers_but_not_pixels(void **state)
{
    (void)state;
    size_t len = 0, clen = 0, n = 0;
    unsigned char *src = NULL, *out = NULL;
    unsigned char *in = dirty_jpeg(&len, &src, &clen);
    assert_non_null(find(in, len, "SecretPhoneMaker"));
    assert_int_equal(pc_jpeg_exif_orientation(in, len), 6);
    assert_int_equal(pc_image_strip_metadata(in, len, &out, &n), 0);
    assert_null(find(out, n, "SecretPhoneMaker"));
    assert_null(find(out, n, "GPS39"));
    assert_null(find(out, n, "Shanghai"));
    assert_null(find(out, n, "20200452209"));
    assert_null(find(out, n, "TRAILER"));
    assert_int_equal(out[n - 2], 0xFF);
    assert_int_equal(out[n - 1], 0xD9);
    /* Still upright: the orientation alone comes back. */
    assert_int_equal(pc_jpeg_exif_orientation(out, n), 6);
    /* The same pixels. */
    unsigned char *a = decode_jpeg(src, clen), *b = decode_jpeg(out, n);
    assert_memory_equal(a, b, W * H * 3);
    /* Exactly TurboJPEG's own file plus the 36-byte orientation block. */
    assert_int_equal(n, clen + 36);
    free(a);
    free(b);
    free(out);
    /* Stripping twice changes nothing more. */
    unsigned char *again = NULL;
    size_t n2 = 0;
    assert_int_equal(pc_image_strip_metadata(in, len, &out, &n), 0);
    assert_int_equal(pc_image_strip_metadata(out, n, &again, &n2), 0);
    assert_int_equal(n2, n);
    assert_memory_equal(again, out, n);
    free(again);
    free(out);
    free(in);
    tjFree(src);
}

static void test_an_upright_jpeg_gets_no_exif_at_all(void **state)
{
    (void)state;
    tjhandle tj = tjInitCompress();
    unsigned char *px = pixels(), *jpg = NULL, *out = NULL;
    unsigned long jl = 0;
    size_t n = 0;
    assert_int_equal(tjCompress2(tj, px, W, 0, H, TJPF_RGB, &jpg, &jl, TJSAMP_444, 80, 0), 0);
    assert_int_equal(pc_image_strip_metadata(jpg, jl, &out, &n), 0);
    assert_int_equal(n, jl); /* TurboJPEG writes JFIF and tables only: nothing to drop */
    assert_memory_equal(out, jpg, n);
    assert_null(find(out, n, "Exif"));
    free(out);
    /* Cut before EOI: still walked, and closed. */
    assert_int_equal(pc_image_strip_metadata(jpg, jl - 2, &out, &n), 0);
    assert_int_equal(n, jl);
    free(out);
    tjFree(jpg);
    tjDestroy(tj);
    free(px);
}

static void test_broken_structures_are_refused_not_guessed(void **state)
{
    (void)state;
    unsigned char *out = NULL;
    size_t n = 0;
    const unsigned char bad1[] = {0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF, 'x'}; /* length overruns */
    const unsigned char bad2[] = {0xFF, 0xD8, 0x12, 0x34, 0, 0};            /* not a marker */
    const unsigned char bad3[] = {'G', 'I', 'F', '8', '9', 'a'};
    const unsigned char bad4[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
                                  0,    0,   0,   13,  'I',  'H',  'D',  'R'}; /* cut */
    assert_int_equal(pc_image_strip_metadata(bad1, sizeof bad1, &out, &n), PC_EINVAL);
    assert_int_equal(pc_image_strip_metadata(bad2, sizeof bad2, &out, &n), PC_EINVAL);
    assert_int_equal(pc_image_strip_metadata(bad3, sizeof bad3, &out, &n), PC_EINVAL);
    assert_int_equal(pc_image_strip_metadata(bad4, sizeof bad4, &out, &n), PC_EINVAL);
    /* Found by fuzz_imgmeta: after a segment between two scans, "FF 00" is no marker. */
    const unsigned char bad5[] = {0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x08, 0x00, 0x30, 0x62,
                                  0x00, 0x22, 0x32, 0x3C, 0x2E, 0xFF, 0xE1, 0x00, 0x04,
                                  0x00, 0x00, 0xFF, 0x00, 0x01, 0x00, 0xFF, 0xD9};
    assert_int_equal(pc_image_strip_metadata(bad5, sizeof bad5, &out, &n), PC_EINVAL);
    assert_null(out);
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

static void test_a_png_loses_text_time_and_exif_chunks_but_not_pixels(void **state)
{
    (void)state;
    struct mem m = {0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    png_set_write_fn(png, &m, mem_write, mem_flush);
    png_set_IHDR(png, info, W, H, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_text t[2];
    memset(t, 0, sizeof t);
    t[0].compression = PNG_TEXT_COMPRESSION_NONE;
    t[0].key = (char *)"Author";
    t[0].text = (char *)"student-20200452209";
    t[1].compression = PNG_TEXT_COMPRESSION_zTXt;
    t[1].key = (char *)"Location";
    t[1].text = (char *)"GPS 31.2304N 121.4737E";
    png_set_text(png, info, t, 2);
    png_time tm = {2024, 1, 19, 10, 2, 11};
    png_set_tIME(png, info, &tm);
    png_set_gAMA(png, info, 0.45455);
    png_write_info(png, info);
    unsigned char *px = pixels();
    for (int y = 0; y < H; y++)
        png_write_row(png, px + y * W * 3);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    m.p = realloc(m.p, m.n + 8);
    memcpy(m.p + m.n, "TRAILING", 8);
    m.n += 8;
    assert_non_null(find(m.p, m.n, "student-20200452209"));
    unsigned char *out = NULL;
    size_t n = 0;
    assert_int_equal(pc_image_strip_metadata(m.p, m.n, &out, &n), 0);
    assert_null(find(out, n, "student-20200452209"));
    assert_null(find(out, n, "zTXt"));
    assert_null(find(out, n, "tIME"));
    assert_null(find(out, n, "TRAILING"));
    assert_non_null(find(out, n, "gAMA")); /* colour kept */
    unsigned char *a = NULL, *b = NULL;
    int aw, ah, bw, bh;
    assert_int_equal(pc_png_decode(m.p, m.n, 3, &a, &aw, &ah), 0);
    assert_int_equal(pc_png_decode(out, n, 3, &b, &bw, &bh), 0);
    assert_int_equal(aw, bw);
    assert_int_equal(ah, bh);
    assert_memory_equal(a, b, (size_t)aw * (size_t)ah * 3);
    free(a);
    free(b);
    free(out);
    free(px);
    free(m.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_jpeg_loses_exif_xmp_comments_and_trailers_but_not_pixels),
        cmocka_unit_test(test_an_upright_jpeg_gets_no_exif_at_all),
        cmocka_unit_test(test_broken_structures_are_refused_not_guessed),
        cmocka_unit_test(test_a_png_loses_text_time_and_exif_chunks_but_not_pixels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
