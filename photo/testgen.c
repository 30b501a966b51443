/* photo/testgen.c — synthetic portraits for tests, fuzz corpus and benchmark. */
#include "photo/testgen.h"

#include "base/alloc.h"
#include "photo/internal.h"

#include <libexif/exif-data.h>
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

void pc_photo_testgen_defaults(struct pc_photo_testgen *g, int w, int h)
{
    memset(g, 0, sizeof *g);
    g->w = w;
    g->h = h;
    g->seed = 7;
    g->bg[0] = 100;
    g->bg[1] = 197;
    g->bg[2] = 255;
    g->bg_noise = 3;
    g->cx = 0.5;
    g->top = 0.13;
    g->size = 1;
    g->skin[0] = 222;
    g->skin[1] = 176;
    g->skin[2] = 150;
    g->hair[0] = 38;
    g->hair[1] = 30;
    g->hair[2] = 28;
    g->cloth[0] = 44;
    g->cloth[1] = 48;
    g->cloth[2] = 66;
    g->subject_gain = 1;
    g->face_gain = 1;
    g->shadow = 1;
}

static uint32_t hash3(int32_t x, int32_t y, uint32_t s)
{
    uint32_t h = (uint32_t)x * 0x8da6b343u ^ (uint32_t)y * 0xd8163841u ^ s * 0xcb1ab31fu;
    h ^= h >> 13;
    h *= 0x5bd1e995u;
    h ^= h >> 15;
    return h;
}

/* Smooth value noise in [-1, 1] with cells of `cell` units. */
static double vnoise(double x, double y, double cell, uint32_t s)
{
    double fx = x / cell, fy = y / cell;
    int32_t ix = (int32_t)floor(fx), iy = (int32_t)floor(fy);
    double tx = fx - ix, ty = fy - iy;
    tx = tx * tx * (3 - 2 * tx);
    ty = ty * ty * (3 - 2 * ty);
    double a = hash3(ix, iy, s) / 2147483647.5 - 1, b = hash3(ix + 1, iy, s) / 2147483647.5 - 1;
    double c = hash3(ix, iy + 1, s) / 2147483647.5 - 1;
    double d = hash3(ix + 1, iy + 1, s) / 2147483647.5 - 1;
    return (a * (1 - tx) + b * tx) * (1 - ty) + (c * (1 - tx) + d * tx) * ty;
}

static bool in_ell(double x, double y, double cx, double cy, double a, double b)
{
    double dx = (x - cx) / a, dy = (y - cy) / b;
    return dx * dx + dy * dy <= 1;
}

static unsigned char clampc(double v)
{
    return (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : lround(v));
}

/* Three box-blur passes per axis approximate a Gaussian of sigma px. */
static void blur(unsigned char *p, int w, int h, double sigma)
{
    int r = (int)lround((sqrt(4 * sigma * sigma + 1) - 1) / 2);
    if (r < 1)
        return;
    int n = w > h ? w : h;
    unsigned char *line = pc_xmalloc((size_t)n * 3);
    for (int pass = 0; pass < 6; pass++) {
        bool horiz = pass % 2 == 0;
        int len = horiz ? w : h, lines = horiz ? h : w;
        for (int l = 0; l < lines; l++) {
            size_t step = horiz ? 3 : (size_t)w * 3;
            unsigned char *base = p + (horiz ? (size_t)l * w * 3 : (size_t)l * 3);
            for (int i = 0; i < len; i++)
                memcpy(line + (size_t)i * 3, base + i * step, 3);
            for (int c = 0; c < 3; c++) {
                int acc = 0;
                for (int k = -r; k <= r; k++)
                    acc += line[(size_t)(k < 0 ? 0 : k >= len ? len - 1 : k) * 3 + c];
                for (int i = 0; i < len; i++) {
                    base[i * step + c] = (unsigned char)((acc + r) / (2 * r + 1));
                    int out = i - r < 0 ? 0 : i - r, in = i + r + 1 >= len ? len - 1 : i + r + 1;
                    acc += line[(size_t)in * 3 + c] - line[(size_t)out * 3 + c];
                }
            }
        }
    }
    free(line);
}

unsigned char *pc_photo_testgen_render(const struct pc_photo_testgen *g)
{
    int w = g->w, h = g->h;
    unsigned char *rgb = pc_xmalloc((size_t)w * h * 3);
    double u = h / 640.0, W = w / u, sc = g->size;
    double cx = g->cx * W, top = g->top * 640;
    double a = 64 * sc, b = 96 * sc, cy = top + 16 * sc + 104 * sc + 8 * sc - 16 * sc;
    /* hair ellipse: centre cy - 8 sc, semi-axes a + 12 sc, b_h with its top at `top` */
    double hcy = cy - 8 * sc, ha = a + 12 * sc, hb = hcy - top;
    double collar = cy + b + 22 * sc, neck_top = cy + 60 * sc;
    uint32_t rng = g->seed * 2654435761u + 1;
    for (int y = 0; y < h; y++) {
        double Y = (y + 0.5) / u;
        for (int x = 0; x < w; x++) {
            double X = (x + 0.5) / u, dx = X - cx, col[3];
            int kind = 0; /* 0 wall, 1 hair, 2 skin, 3 cloth, 4 feature (already coloured) */
            double adx = fabs(dx);
            double arm = fmax(0, adx - 120 * sc);
            double sh = collar + 0.35 * fmax(0, adx - 30 * sc) + 0.004 / sc * arm * arm +
                        g->tilt * 640 * dx / 300;
            bool head_zone = Y < collar + 1 && adx < ha + 30 * sc;
            bool hair_ell = head_zone && in_ell(X, Y, cx, hcy, ha, hb);
            bool face = head_zone && in_ell(X, Y, cx, cy, a, b);
            bool ear = head_zone && (in_ell(X, Y, cx - a - 2 * sc, cy + 5 * sc, 10 * sc, 20 * sc) ||
                                     in_ell(X, Y, cx + a + 2 * sc, cy + 5 * sc, 10 * sc, 20 * sc));
            if (Y >= sh) {
                kind = 3;
            } else if (hair_ell && (Y < cy - 40 * sc || (!face && Y < cy - 12 * sc))) {
                kind = 1;
            } else if (g->long_hair && adx < ha + 6 * sc && adx > a - 4 * sc && Y > hcy &&
                       Y < collar + 40 * sc && !face) {
                kind = 1;
            } else if (face || ear || (adx < 30 * sc && Y >= neck_top)) {
                kind = 2;
            }
            if (kind == 0) {
                double t = dx / W; /* -0.5 .. 0.5 */
                double v = g->bg_noise * vnoise(X, Y, 6, g->seed) - g->bg_grad * t;
                for (int c = 0; c < 3; c++)
                    col[c] = g->bg[c] + v;
            } else if (kind == 1) {
                double v = 26 * vnoise(X * 3, Y, 1.5, g->seed + 1);
                for (int c = 0; c < 3; c++)
                    col[c] = g->hair[c] + v;
            } else if (kind == 3) {
                double v = 12 * vnoise(X, Y, 2, g->seed + 2) + 6 * vnoise(X, Y, 0.8, g->seed + 5);
                for (int c = 0; c < 3; c++)
                    col[c] = g->cloth[c] + v;
                if (adx < 26 * sc && Y < collar + 46 * sc - adx) /* a white shirt collar */
                    for (int c = 0; c < 3; c++)
                        col[c] = 232 + v / 2;
            } else {
                double v = 5 * vnoise(X, Y, 3, g->seed + 3) + 3 * vnoise(X, Y, 0.9, g->seed + 6);
                double shade = Y >= neck_top && !face ? 0.86 : 1.0;
                for (int c = 0; c < 3; c++)
                    col[c] = g->skin[c] * shade + v;
                /* features: eyebrows, eyes, nose shadow, mouth */
                for (int side = -1; side <= 1; side += 2) {
                    double ex = cx + side * 24 * sc, ey = cy - 10 * sc;
                    if (in_ell(X, Y, ex, ey - 14 * sc, 14 * sc, 3 * sc))
                        for (int c = 0; c < 3; c++)
                            col[c] = g->hair[c] + 20;
                    if (in_ell(X, Y, ex, ey, 11 * sc, 5 * sc)) {
                        double d2 = hypot(X - ex, Y - ey);
                        for (int c = 0; c < 3; c++)
                            col[c] = d2 < 2 * sc ? 18 : d2 < 4.5 * sc ? 70 - c * 15 : 236 - c * 3;
                    }
                }
                if (in_ell(X, Y, cx + 3 * sc, cy + 22 * sc, 4 * sc, 14 * sc))
                    for (int c = 0; c < 3; c++)
                        col[c] *= 0.85;
                if (in_ell(X, Y, cx, cy + 48 * sc, 18 * sc, 5 * sc)) {
                    col[0] = 178;
                    col[1] = 92;
                    col[2] = 92;
                }
                double gain = g->face_gain;
                if (g->shadow != 1) {
                    double t = fmin(1, fmax(0, (dx + 10 * sc) / (20 * sc)));
                    gain *= 1 + (g->shadow - 1) * t;
                }
                for (int c = 0; c < 3; c++)
                    col[c] *= gain;
            }
            if (kind != 0)
                for (int c = 0; c < 3; c++)
                    col[c] *= g->subject_gain;
            unsigned char *p = rgb + ((size_t)y * w + x) * 3;
            for (int c = 0; c < 3; c++) {
                rng ^= rng << 13;
                rng ^= rng >> 17;
                rng ^= rng << 5;
                p[c] = clampc(col[c] + (double)(rng % 5) - 2);
            }
        }
    }
    if (g->blur > 0)
        blur(rgb, w, h, g->blur * u);
    return rgb;
}

unsigned char *pc_photo_testgen_jpeg(const unsigned char *rgb, int w, int h, int quality,
                                     int subsamp, bool progressive, bool cmyk, size_t *len)
{
    tjhandle tj = tjInitCompress();
    unsigned char *out = NULL, *res = NULL, *cm = NULL;
    unsigned long sz = 0;
    if (!tj)
        return NULL;
    const unsigned char *px = rgb;
    int pf = TJPF_RGB;
    if (cmyk) {
        cm = pc_xmalloc((size_t)w * h * 4);
        for (size_t i = 0; i < (size_t)w * h; i++) {
            const unsigned char *s = rgb + i * 3;
            unsigned char k = (unsigned char)(255 - (s[0] > s[1] ? (s[0] > s[2] ? s[0] : s[2])
                                                                 : (s[1] > s[2] ? s[1] : s[2])));
            for (int c = 0; c < 3; c++) /* libjpeg's inverted Adobe CMYK: 255 = no ink */
                cm[i * 4 + c] = (unsigned char)(255 - (255 - s[c] - k));
            cm[i * 4 + 3] = (unsigned char)(255 - k);
        }
        px = cm;
        pf = TJPF_CMYK;
    }
    if (tjCompress2(tj, px, w, 0, h, pf, &out, &sz, subsamp, quality,
                    progressive ? TJFLAG_PROGRESSIVE : 0) == 0) {
        res = pc_xmemdup(out, sz);
        *len = sz;
    }
    tjFree(out);
    free(cm);
    tjDestroy(tj);
    return res;
}

struct membuf {
    unsigned char *p;
    size_t len, cap;
};

static void png_write_mem(png_structp png, png_bytep data, png_size_t n)
{
    struct membuf *m = png_get_io_ptr(png);
    if (m->len + n > m->cap) {
        m->cap = (m->len + n) * 2;
        m->p = pc_xrealloc(m->p, m->cap);
    }
    memcpy(m->p + m->len, data, n);
    m->len += n;
}

static void png_flush_mem(png_structp png)
{
    (void)png;
}

unsigned char *pc_photo_testgen_png(const unsigned char *rgb, int w, int h, int channels,
                                    size_t *len)
{
    struct membuf *m = pc_xcalloc(1, sizeof *m);
    unsigned char *row = pc_xmalloc((size_t)w * 4), *res = NULL;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop pi = png ? png_create_info_struct(png) : NULL;
    if (!pi || setjmp(png_jmpbuf(png)))
        goto out;
    png_set_write_fn(png, m, png_write_mem, png_flush_mem);
    int ct = channels == 1   ? PNG_COLOR_TYPE_GRAY
             : channels == 4 ? PNG_COLOR_TYPE_RGBA
                             : PNG_COLOR_TYPE_RGB;
    png_set_IHDR(png, pi, (png_uint_32)w, (png_uint_32)h, 8, ct, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_compression_level(png, 1);
    png_write_info(png, pi);
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            const unsigned char *s = rgb + ((size_t)y * w + x) * 3;
            if (channels == 1) {
                row[x] = (unsigned char)((77 * s[0] + 150 * s[1] + 29 * s[2]) >> 8);
            } else {
                memcpy(row + (size_t)x * channels, s, 3);
                if (channels == 4)
                    row[(size_t)x * 4 + 3] = x < 8 && y < 8 ? 0 : 255;
            }
        }
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    res = m->p;
    *len = m->len;
    m->p = NULL;
out:
    png_destroy_write_struct(png ? &png : NULL, pi ? &pi : NULL);
    free(m->p);
    free(m);
    free(row);
    return res;
}

void pc_photo_testgen_store_as(unsigned char **rgb, int *w, int *h, int o)
{
    int inv = o == 6 ? 8 : o == 8 ? 6 : o;
    struct pc__img im = {*rgb, *w, *h, 3};
    pc__orient(&im, inv);
    *rgb = im.p;
    *w = im.w;
    *h = im.h;
}

unsigned char *pc_photo_testgen_exif(const unsigned char *jpeg, size_t len, int o, size_t *outlen)
{
    ExifData *ed = exif_data_new();
    unsigned char *app = NULL, *res = NULL;
    unsigned int n = 0;
    if (!ed || len < 2)
        goto out;
    exif_data_set_byte_order(ed, EXIF_BYTE_ORDER_INTEL);
    ExifEntry *e = exif_entry_new();
    exif_content_add_entry(ed->ifd[EXIF_IFD_0], e);
    exif_entry_initialize(e, EXIF_TAG_ORIENTATION);
    exif_set_short(e->data, EXIF_BYTE_ORDER_INTEL, (ExifShort)o);
    exif_entry_unref(e);
    exif_data_save_data(ed, &app, &n);
    if (!app || n + 2 > 0xffff)
        goto out;
    *outlen = len + 4 + n;
    res = pc_xmalloc(*outlen);
    res[0] = 0xff;
    res[1] = 0xd8;
    res[2] = 0xff;
    res[3] = 0xe1;
    res[4] = (unsigned char)((n + 2) >> 8);
    res[5] = (unsigned char)((n + 2) & 255);
    memcpy(res + 6, app, n);
    memcpy(res + 6 + n, jpeg + 2, len - 2);
out:
    free(app);
    if (ed)
        exif_data_unref(ed);
    return res;
}
