/* photo/probe.c — JPEG and PNG header probes on TurboJPEG and libpng. */
#include "photo/probe.h"

#include "base/err.h"

#include <png.h>
#include <setjmp.h>
#include <string.h>
#include <turbojpeg.h>

static int probe_jpeg(const unsigned char *p, size_t len, struct pc_image_info *info)
{
    tjhandle tj = tjInitDecompress();
    if (!tj)
        return PC_EINVAL;
    int w = 0, h = 0, subsamp = 0, cs = 0;
    int rc = tjDecompressHeader3(tj, p, (unsigned long)len, &w, &h, &subsamp, &cs);
    tjDestroy(tj);
    if (rc != 0 || w <= 0 || h <= 0)
        return PC_EINVAL;
    info->format = PC_IMG_JPEG;
    info->width = w;
    info->height = h;
    info->components = cs == TJCS_GRAY ? 1 : (cs == TJCS_CMYK || cs == TJCS_YCCK) ? 4 : 3;
    info->ext = "jpg";
    info->mime = "image/jpeg";
    return 0;
}

struct png_src {
    const unsigned char *p;
    size_t len, off;
};

static void png_read_mem(png_structp png, png_bytep out, png_size_t n)
{
    struct png_src *s = png_get_io_ptr(png);
    if (n > s->len - s->off)
        png_error(png, "truncated");
    memcpy(out, s->p + s->off, n);
    s->off += n;
}

/* libpng error handler: never returns (libpng requires that), jumps to the setjmp point. */
static void png_quiet(png_structp png, png_const_charp msg)
{
    (void)msg;
    png_longjmp(png, 1);
}

static int probe_png(const unsigned char *p, size_t len, struct pc_image_info *info)
{
    struct png_src src = {p, len, 0};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, png_quiet);
    png_infop pi = png ? png_create_info_struct(png) : NULL;
    volatile int rc = PC_EINVAL;
    if (!pi)
        goto out;
    if (setjmp(png_jmpbuf(png)))
        goto out;
    png_set_read_fn(png, &src, png_read_mem);
    png_read_info(png, pi);
    info->format = PC_IMG_PNG;
    info->width = (int)png_get_image_width(png, pi);
    info->height = (int)png_get_image_height(png, pi);
    info->components = png_get_channels(png, pi);
    info->ext = "png";
    info->mime = "image/png";
    rc = info->width > 0 && info->height > 0 ? 0 : PC_EINVAL;
out:
    png_destroy_read_struct(&png, pi ? &pi : NULL, NULL);
    return rc;
}

int pc_image_probe(const void *data, size_t len, struct pc_image_info *info)
{
    const unsigned char *p = data;
    memset(info, 0, sizeof *info);
    if (len >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff)
        return probe_jpeg(p, len, info);
    if (len >= 8 && png_sig_cmp(p, 0, 8) == 0)
        return probe_png(p, len, info);
    return PC_EINVAL;
}
