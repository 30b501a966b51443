/* base/png.c — in-memory PNG decoding on libpng. See png.h. */
#include "base/png.h"

#include "base/alloc.h"
#include "base/err.h"

#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

/* Everything that changes after setjmp lives here, on the heap, never in an automatic
 * variable of pc_png_decode (whose value would be indeterminate after the longjmp). */
struct png_job {
    const unsigned char *p;
    size_t len, off;
    unsigned char *raw; /* as libpng delivers it: 1 or 3 channels, plus alpha maybe */
    png_bytep *rows;    /* row pointers into raw */
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

int pc_png_decode(const unsigned char *p, size_t len, int channels, unsigned char **px, int *w,
                  int *h)
{
    struct png_job *j;
    png_structp png = NULL;
    png_infop pi = NULL;
    int rc;
    *px = NULL;
    if (!p || (channels != 1 && channels != 3))
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
    png_set_expand(png);
    png_set_strip_16(png);
    if (channels == 1 && colour)
        png_set_rgb_to_gray_fixed(png, 1, -1, -1);
    else if (channels == 3 && !colour)
        png_set_gray_to_rgb(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, pi);
    size_t pw = png_get_image_width(png, pi), ph = png_get_image_height(png, pi);
    size_t ch = png_get_channels(png, pi), rowbytes = png_get_rowbytes(png, pi);
    int alpha = ch == (size_t)channels + 1;
    if (pw == 0 || ph == 0 || (ch != (size_t)channels && !alpha) || rowbytes != pw * ch ||
        png_get_bit_depth(png, pi) != 8)
        png_error(png, "unexpected layout");
    j->raw = pc_xmalloc(rowbytes * ph);
    j->rows = pc_xmalloc(ph * sizeof *j->rows);
    for (size_t y = 0; y < ph; y++)
        j->rows[y] = j->raw + y * rowbytes;
    png_read_image(png, j->rows);
    png_read_end(png, NULL);
    if (alpha) {
        j->out = pc_xmalloc(pw * ph * (size_t)channels);
        for (size_t i = 0; i < pw * ph; i++) {
            const unsigned char *s = j->raw + i * ch;
            unsigned a = s[channels];
            for (int c = 0; c < channels; c++)
                j->out[i * (size_t)channels + (size_t)c] =
                    (unsigned char)((s[c] * a + 255 * (255 - a) + 127) / 255);
        }
    } else {
        j->out = j->raw; /* already packed */
        j->raw = NULL;
    }
    *px = j->out;
    *w = (int)pw;
    *h = (int)ph;
    j->out = NULL;
    j->ok = 1;
out:
    rc = j->ok ? 0 : PC_EINVAL;
    png_destroy_read_struct(png ? &png : NULL, pi ? &pi : NULL, NULL);
    free(j->out);
    free(j->raw);
    free(j->rows);
    free(j);
    return rc;
}
