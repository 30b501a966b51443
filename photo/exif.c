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

/* Output pixel (x, y) of an oriented picture comes from source (sx, sy):
 * 1 none, 2 h-flip, 3 rot180, 4 v-flip, 5 transpose, 6 rot90 cw, 7 transverse, 8 rot270 cw. */
void pc__orient(struct pc__img *im, int o)
{
    if (o <= 1 || o > 8)
        return;
    int w = im->w, h = im->h, n = im->nch;
    bool swap = o >= 5;
    int ow = swap ? h : w, oh = swap ? w : h;
    /* source of output (0,0) and source steps for x+1 and y+1, in pixels */
    long sx0, sy0, xdx, xdy, ydx, ydy;
    switch (o) {
    case 2:
        sx0 = w - 1;
        sy0 = 0;
        xdx = -1;
        xdy = 0;
        ydx = 0;
        ydy = 1;
        break;
    case 3:
        sx0 = w - 1;
        sy0 = h - 1;
        xdx = -1;
        xdy = 0;
        ydx = 0;
        ydy = -1;
        break;
    case 4:
        sx0 = 0;
        sy0 = h - 1;
        xdx = 1;
        xdy = 0;
        ydx = 0;
        ydy = -1;
        break;
    case 5:
        sx0 = 0;
        sy0 = 0;
        xdx = 0;
        xdy = 1;
        ydx = 1;
        ydy = 0;
        break;
    case 6:
        sx0 = 0;
        sy0 = h - 1;
        xdx = 0;
        xdy = -1;
        ydx = 1;
        ydy = 0;
        break;
    case 7:
        sx0 = w - 1;
        sy0 = h - 1;
        xdx = 0;
        xdy = -1;
        ydx = -1;
        ydy = 0;
        break;
    default:
        sx0 = w - 1;
        sy0 = 0;
        xdx = 0;
        xdy = 1;
        ydx = -1;
        ydy = 0;
        break; /* 8 */
    }
    long xstep = (xdy * w + xdx) * n, ystep = (ydy * w + ydx) * n;
    unsigned char *dst = pc_xmalloc((size_t)ow * (size_t)oh * (size_t)n);
    for (int y = 0; y < oh; y++) {
        const unsigned char *sp = im->p + (sy0 * w + sx0) * n + (long)y * ystep;
        unsigned char *dp = dst + (size_t)y * ow * n;
        if (n == 3) {
            for (int x = 0; x < ow; x++, sp += xstep, dp += 3) {
                dp[0] = sp[0];
                dp[1] = sp[1];
                dp[2] = sp[2];
            }
        } else {
            for (int x = 0; x < ow; x++, sp += xstep, dp += n)
                for (int c = 0; c < n; c++)
                    dp[c] = sp[c];
        }
    }
    free(im->p);
    im->p = dst;
    im->w = ow;
    im->h = oh;
}
