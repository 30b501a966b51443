/* base/png.c — in-memory PNG decoding on libpng, row by row into the (optionally reduced)
 * result: the full picture is never held besides it. See png.h. */
#include "base/png.h"

#include "base/alloc.h"
#include "base/err.h"

#include <png.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Everything that changes after setjmp lives here, on the heap, never in an automatic
 * variable of decode() (whose value would be indeterminate after the longjmp). */
struct png_job {
    const unsigned char *p;
    size_t len, off;
    unsigned char *row; /* one row as libpng delivers it (a pass's row when interlaced) */
    uint16_t *acc;      /* k > 1: block sums (one reduced row, or all of them when interlaced) */
    unsigned char *out; /* the packed result */
    int ok;             /* set once *px holds the result */
};

static void read_mem(png_structp png, png_bytep out, png_size_t n)
{
    struct png_job *j = png_get_io_ptr(png);
    if (n > j->len - j->off)
        png_error(png, "truncated");
    memcpy(out, j->p + j->off, n);
    j->off += n;
}

static void on_error(png_structp png, png_const_charp msg)
{
    (void)msg;
    png_longjmp(png, 1); /* never let libpng print to stderr */
}

static void on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

/* Pixel x of a delivered row, alpha composed on white, into v[0..channels). */
static void pixel(const unsigned char *row, size_t x, int ch, int channels, unsigned char *v)
{
    const unsigned char *s = row + x * (size_t)ch;
    if (ch == channels) {
        memcpy(v, s, (size_t)channels);
        return;
    }
    unsigned a = s[channels];
    for (int c = 0; c < channels; c++)
        v[c] = (unsigned char)((s[c] * a + 255 * (255 - a) + 127) / 255);
}

static int decode(const unsigned char *p, size_t len, int channels, int k, unsigned char **px,
                  int *w, int *h)
{
    struct png_job *j;
    png_structp png = NULL;
    png_infop pi = NULL;
    int rc;
    *px = NULL;
    if (!p || (channels != 1 && channels != 3) || k < 1 || k > 16)
        return PC_EINVAL;
    j = pc_xcalloc(1, sizeof *j);
    j->p = p;
    j->len = len;
    png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, on_error, on_warning);
    if (!png)
        goto out;
    pi = png_create_info_struct(png);
    if (!pi)
        goto out;
    if (setjmp(png_jmpbuf(png)))
        goto out;
    png_set_read_fn(png, j, read_mem);
    png_read_info(png, pi);
    int colour = png_get_color_type(png, pi) & PNG_COLOR_MASK_COLOR;
    bool interlaced = png_get_interlace_type(png, pi) != PNG_INTERLACE_NONE;
    png_set_expand(png);
    png_set_strip_16(png);
    if (channels == 1 && colour)
        png_set_rgb_to_gray_fixed(png, 1, -1, -1);
    else if (channels == 3 && !colour)
        png_set_gray_to_rgb(png);
    /* no png_set_interlace_handling: an interlaced picture arrives as its seven passes'
     * sub-pictures, each pixel once, placed with the PNG_*_FROM_PASS_* macros */
    png_read_update_info(png, pi);
    size_t pw = png_get_image_width(png, pi), ph = png_get_image_height(png, pi);
    int ch = png_get_channels(png, pi);
    size_t rowbytes = png_get_rowbytes(png, pi);
    if (pw == 0 || ph == 0 || (ch != channels && ch != channels + 1) || rowbytes != pw * ch ||
        png_get_bit_depth(png, pi) != 8)
        png_error(png, "unexpected layout");
    size_t rw = (pw + k - 1) / k, rh = (ph + k - 1) / k, rowlen = rw * (size_t)channels;
    j->row = pc_xmalloc(rowbytes);
    j->out = pc_xmalloc(rw * rh * (size_t)channels);
    if (k > 1) /* sums of at most 16 × 16 × 255 fit 16 bits */
        j->acc = pc_xcalloc(interlaced ? rw * rh * (size_t)channels : rowlen, sizeof *j->acc);
    unsigned char v[3];
    if (!interlaced) {
        for (size_t y = 0; y < ph; y++) {
            png_read_row(png, j->row, NULL);
            if (k == 1) {
                for (size_t x = 0; x < pw; x++)
                    pixel(j->row, x, ch, channels, j->out + (y * pw + x) * (size_t)channels);
                continue;
            }
            for (size_t x = 0; x < pw; x++) {
                pixel(j->row, x, ch, channels, v);
                for (int c = 0; c < channels; c++)
                    j->acc[(x / k) * (size_t)channels + (size_t)c] += v[c];
            }
            if ((y + 1) % (size_t)k && y + 1 < ph)
                continue;
            size_t oy = y / k, bh = y + 1 - oy * k; /* the block's rows (the last may be short) */
            for (size_t ox = 0; ox < rw; ox++) {
                size_t bw = ox * k + k <= pw ? (size_t)k : pw - ox * k, n = bw * bh;
                for (int c = 0; c < channels; c++) {
                    size_t i = ox * (size_t)channels + (size_t)c;
                    j->out[oy * rowlen + i] = (unsigned char)((j->acc[i] + n / 2) / n);
                }
            }
            memset(j->acc, 0, rowlen * sizeof *j->acc);
        }
    } else {
        for (int pass = 0; pass < 7; pass++) {
            size_t cols = PNG_PASS_COLS(pw, pass), rows = PNG_PASS_ROWS(ph, pass);
            if (!cols || !rows)
                continue;
            for (size_t r = 0; r < rows; r++) {
                png_read_row(png, j->row, NULL);
                size_t y = PNG_ROW_FROM_PASS_ROW(r, pass);
                for (size_t c0 = 0; c0 < cols; c0++) {
                    size_t x = PNG_COL_FROM_PASS_COL(c0, pass);
                    if (k == 1) {
                        pixel(j->row, c0, ch, channels, j->out + (y * pw + x) * (size_t)channels);
                        continue;
                    }
                    pixel(j->row, c0, ch, channels, v);
                    uint16_t *a = j->acc + ((y / k) * rw + x / k) * (size_t)channels;
                    for (int c = 0; c < channels; c++)
                        a[c] += v[c];
                }
            }
        }
        for (size_t oy = 0; oy < rh && k > 1; oy++) {
            size_t bh = oy * k + k <= ph ? (size_t)k : ph - oy * k;
            for (size_t ox = 0; ox < rw; ox++) {
                size_t bw = ox * k + k <= pw ? (size_t)k : pw - ox * k, n = bw * bh;
                for (int c = 0; c < channels; c++) {
                    size_t i = (oy * rw + ox) * (size_t)channels + (size_t)c;
                    j->out[i] = (unsigned char)((j->acc[i] + n / 2) / n);
                }
            }
        }
    }
    png_read_end(png, NULL);
    *px = j->out;
    *w = (int)rw;
    *h = (int)rh;
    j->out = NULL;
    j->ok = 1;
out:
    rc = j->ok ? 0 : PC_EINVAL;
    png_destroy_read_struct(png ? &png : NULL, pi ? &pi : NULL, NULL);
    free(j->out);
    free(j->row);
    free(j->acc);
    free(j);
    return rc;
}

int pc_png_decode(const unsigned char *p, size_t len, int channels, unsigned char **px, int *w,
                  int *h)
{
    return decode(p, len, channels, 1, px, w, h);
}

int pc_png_decode_reduced(const unsigned char *p, size_t len, int channels, int k,
                          unsigned char **px, int *w, int *h)
{
    return decode(p, len, channels, k, px, w, h);
}
