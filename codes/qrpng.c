/* codes/qrpng.c — QR code to PNG (libqrencode + libpng, in memory). Pure; any thread
 * (libqrencode 4 is thread-safe). */
#include "codes/codes.h"

#include "base/alloc.h"
#include "base/buf.h"
#include "base/err.h"

#include <errno.h>
#include <png.h>
#include <qrencode.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#define QUIET_ZONE 4
#define MAX_SCALE  32
#define PNG_MAX    (64u << 20) /* far above the largest possible output (185×32 px square) */

struct png_out {
    struct pc_buf buf;
    unsigned char *row;
};

static void png_write_mem(png_structp png, png_bytep p, png_size_t n)
{
    struct png_out *o = png_get_io_ptr(png);
    if (pc_buf_add(&o->buf, p, n) != 0)
        png_error(png, "too big");
}

static void png_flush_mem(png_structp png)
{
    (void)png;
}

static void png_fail(png_structp png, png_const_charp msg)
{
    (void)msg;
    png_longjmp(png, 1);
}

static void png_warn(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

int pc_qr_png(const unsigned char *data, size_t len, int scale, unsigned char **png_out,
              size_t *pnglen)
{
    if (!data || len == 0 || len > PC_QR_MAX_PAYLOAD || scale < 1 || scale > MAX_SCALE ||
        !png_out || !pnglen)
        return len > PC_QR_MAX_PAYLOAD ? PC_ETOOBIG : PC_EINVAL;
    *png_out = NULL;
    *pnglen = 0;
    errno = 0;
    QRcode *qr = QRcode_encodeData((int)len, data, 0, QR_ECLEVEL_M);
    if (!qr)
        return errno == ERANGE ? PC_ETOOBIG : PC_EINVAL;

    /* Heap state: nothing changed after setjmp lives in this function's automatic variables. */
    struct png_out *o = pc_xcalloc(1, sizeof *o);
    png_structp png = NULL;
    png_infop pi = NULL;
    int rc = PC_EINVAL;
    size_t side = ((size_t)qr->width + 2 * QUIET_ZONE) * (size_t)scale;
    pc_buf_init(&o->buf, PNG_MAX);
    o->row = pc_xmalloc(side);
    png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, png_fail, png_warn);
    if (!png)
        goto out;
    pi = png_create_info_struct(png);
    if (!pi)
        goto out;
    if (setjmp(png_jmpbuf(png)))
        goto out;
    png_set_write_fn(png, o, png_write_mem, png_flush_mem);
    png_set_IHDR(png, pi, (png_uint_32)side, (png_uint_32)side, 8, PNG_COLOR_TYPE_GRAY,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, pi);
    for (size_t y = 0; y < side; y++) {
        long my = (long)(y / (size_t)scale) - QUIET_ZONE;
        for (size_t x = 0; x < side; x++) {
            long mx = (long)(x / (size_t)scale) - QUIET_ZONE;
            int dark = my >= 0 && mx >= 0 && my < qr->width && mx < qr->width &&
                       (qr->data[my * qr->width + mx] & 1);
            o->row[x] = dark ? 0 : 255;
        }
        png_write_row(png, o->row);
    }
    png_write_end(png, NULL);
    *png_out = (unsigned char *)pc_buf_take(&o->buf, pnglen);
    rc = 0;
out:
    png_destroy_write_struct(png ? &png : NULL, pi ? &pi : NULL);
    pc_buf_free(&o->buf);
    free(o->row);
    free(o);
    QRcode_free(qr);
    return rc;
}
