/* photo/exif.c — EXIF orientation (libexif) and its application to decoded pixels.
 * Pure; any thread. */
#include "photo/internal.h"

#include "base/alloc.h"

#include <libexif/exif-data.h>
#include <stdlib.h>
#include <string.h>

int pc__exif_orientation(const unsigned char *app1, size_t len)
{
    int o = 1;
    if (!app1 || len < 6 || len > 0xffff)
        return 1;
    ExifData *ed = exif_data_new();
    if (!ed)
        return 1;
    /* Maker notes are vendor blobs we never read: keep libexif away from them. */
    exif_data_unset_option(ed, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
    exif_data_load_data(ed, app1, (unsigned int)len);
    ExifEntry *e = exif_content_get_entry(ed->ifd[EXIF_IFD_0], EXIF_TAG_ORIENTATION);
    if (e && e->format == EXIF_FORMAT_SHORT && e->components >= 1 && e->size >= 2 && e->data) {
        int v = exif_get_short(e->data, exif_data_get_byte_order(ed));
        if (v >= 1 && v <= 8)
            o = v;
    }
    exif_data_unref(ed);
    return o;
}

bool pc__orientation_mirrored(int o)
{
    return o == 2 || o == 4 || o == 5 || o == 7;
}

/* Output pixel (x, y) of an oriented picture comes from source pixel
 * (sx0 + x·xdx + y·ydx, sy0 + x·xdy + y·ydy) of the picture as stored (w × h):
 * 1 none, 2 h-flip, 3 rot180, 4 v-flip, 5 transpose, 6 rot90 cw, 7 transverse, 8 rot270 cw. */
static const struct {
    int sx0w, sy0h; /* 1: sx0 = w - 1 (sy0 = h - 1), else 0 */
    int xdx, xdy, ydx, ydy;
} ORIENT[9] = {
    [1] = {0, 0, 1, 0, 0, 1},   [2] = {1, 0, -1, 0, 0, 1}, [3] = {1, 1, -1, 0, 0, -1},
    [4] = {0, 1, 1, 0, 0, -1},  [5] = {0, 0, 0, 1, 1, 0},  [6] = {0, 1, 0, -1, 1, 0},
    [7] = {1, 1, 0, -1, -1, 0}, [8] = {1, 0, 0, 1, -1, 0},
};

void pc__orient_map(int o, int w, int h, long *base, long *du, long *dv)
{
    o = o >= 1 && o <= 8 ? o : 1;
    long ow = o >= 5 ? h : w; /* the oriented picture's width */
    long sx0 = ORIENT[o].sx0w ? w - 1 : 0, sy0 = ORIENT[o].sy0h ? h - 1 : 0;
    /* x = (u - sx0)·xdx + (v - sy0)·xdy, y = (u - sx0)·ydx + (v - sy0)·ydy (the axes are unit
     * vectors at right angles), index = y·ow + x */
    *du = ORIENT[o].ydx * ow + ORIENT[o].xdx;
    *dv = ORIENT[o].ydy * ow + ORIENT[o].xdy;
    *base = -(sx0 * *du + sy0 * *dv);
}

void pc__orient(struct pc__img *im, int o)
{
    if (o <= 1 || o > 8)
        return;
    int w = im->w, h = im->h, n = im->nch;
    long base, du, dv;
    pc__orient_map(o, w, h, &base, &du, &dv);
    unsigned char *dst = pc_xmalloc((size_t)w * (size_t)h * (size_t)n);
    for (int v = 0; v < h; v++) {
        const unsigned char *sp = im->p + (size_t)v * w * n;
        unsigned char *dp = dst + (base + v * dv) * n;
        for (int u = 0; u < w; u++, sp += n, dp += du * n)
            for (int c = 0; c < n; c++)
                dp[c] = sp[c];
    }
    free(im->p);
    im->p = dst;
    im->w = o >= 5 ? h : w;
    im->h = o >= 5 ? w : h;
}
