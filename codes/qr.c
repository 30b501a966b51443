/* codes/qr.c — find and read the first QR code in a JPEG or PNG picture (zbar, TurboJPEG,
 * libpng). Pure; any thread: every call has its own scanner and decoder handles. */
#include "codes/codes.h"

#include "base/alloc.h"
#include "base/err.h"
#include "base/png.h"
#include "photo/probe.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>
#include <zbar.h>

#define MIN_SCAN_SIDE 48 /* below this a reduced pass cannot hold a QR code worth trying */

/* An owned 8-bit grey picture, tightly packed (zbar's Y800 has no stride). */
struct gray {
    unsigned char *p;
    int w, h;
};

static void gray_free(struct gray *g)
{
    pc_free_null(g->p);
    g->w = g->h = 0;
}

/* ---- scanning ---- */

static zbar_image_scanner_t *scanner_new(void)
{
    zbar_image_scanner_t *sc = zbar_image_scanner_create();
    if (!sc)
        return NULL;
    zbar_image_scanner_set_config(sc, 0, ZBAR_CFG_ENABLE, 0);           /* no symbology... */
    zbar_image_scanner_set_config(sc, ZBAR_QRCODE, ZBAR_CFG_ENABLE, 1); /* ...but QR */
    /* Raw bytes: without this zbar guesses a charset and re-encodes (mangles ciphertext). */
    zbar_image_scanner_set_config(sc, ZBAR_QRCODE, ZBAR_CFG_BINARY, 1);
    return sc;
}

/* 0 with the payload copied out, PC_ENOTFOUND, or PC_ETOOBIG (payload longer than outcap). */
static int scan(zbar_image_scanner_t *sc, const struct gray *g, unsigned char *out, size_t outcap,
                size_t *outlen)
{
    int rc = PC_ENOTFOUND;
    zbar_image_t *im = zbar_image_create();
    if (!im)
        return PC_ENOTFOUND;
    zbar_image_set_format(im, zbar_fourcc('Y', '8', '0', '0'));
    zbar_image_set_size(im, (unsigned)g->w, (unsigned)g->h);
    zbar_image_set_data(im, g->p, (unsigned long)g->w * (unsigned long)g->h, NULL);
    if (zbar_scan_image(sc, im) <= 0)
        goto out;
    for (const zbar_symbol_t *s = zbar_image_first_symbol(im); s; s = zbar_symbol_next(s)) {
        if (zbar_symbol_get_type(s) != ZBAR_QRCODE)
            continue;
        size_t n = zbar_symbol_get_data_length(s); /* data may hold NULs: never strlen */
        if (n > outcap) {
            rc = PC_ETOOBIG;
            goto out;
        }
        if (n)
            memcpy(out, zbar_symbol_get_data(s), n);
        *outlen = n;
        rc = 0;
        goto out;
    }
out:
    zbar_image_destroy(im);
    return rc;
}

/* ---- pixel helpers ---- */

/* Box-averages src by an integer factor k ≥ 2 into a new picture (edge boxes are partial). */
static void box_down(const struct gray *src, int k, struct gray *dst)
{
    int ow = (src->w + k - 1) / k, oh = (src->h + k - 1) / k;
    uint32_t *acc = pc_xcalloc((size_t)ow, sizeof *acc);
    dst->p = pc_xmalloc((size_t)ow * (size_t)oh);
    dst->w = ow;
    dst->h = oh;
    for (int oy = 0; oy < oh; oy++) {
        int y0 = oy * k, y1 = y0 + k < src->h ? y0 + k : src->h;
        memset(acc, 0, (size_t)ow * sizeof *acc);
        for (int y = y0; y < y1; y++) {
            const unsigned char *row = src->p + (size_t)y * (size_t)src->w;
            for (int x = 0; x < src->w; x++)
                acc[x / k] += row[x];
        }
        for (int ox = 0; ox < ow; ox++) {
            int x0 = ox * k, x1 = x0 + k < src->w ? x0 + k : src->w;
            uint32_t n = (uint32_t)(x1 - x0) * (uint32_t)(y1 - y0);
            dst->p[(size_t)oy * (size_t)ow + (size_t)ox] = (unsigned char)((acc[ox] + n / 2) / n);
        }
    }
    free(acc);
}

/* The smallest integer factor bringing the long side to at most side. */
static int factor_for(int w, int h, int side)
{
    int l = w > h ? w : h;
    return (l + side - 1) / side;
}

static void invert_in_place(struct gray *g)
{
    size_t n = (size_t)g->w * (size_t)g->h;
    for (size_t i = 0; i < n; i++)
        g->p[i] = (unsigned char)(255 - g->p[i]);
}

static void invert(const struct gray *src, struct gray *dst)
{
    size_t n = (size_t)src->w * (size_t)src->h;
    dst->p = pc_xmalloc(n);
    dst->w = src->w;
    dst->h = src->h;
    for (size_t i = 0; i < n; i++)
        dst->p[i] = (unsigned char)(255 - src->p[i]);
}

static unsigned char luma(unsigned r, unsigned g, unsigned b)
{
    return (unsigned char)((77 * r + 150 * g + 29 * b + 128) >> 8);
}

/* ---- JPEG ---- */

/* Decodes to grey at the TurboJPEG scaling factor whose output is w×h (or full size when
 * w == 0). CMYK/YCCK pictures are decoded to CMYK (stored inverted, as libjpeg reports Adobe
 * files: 255 = no ink) and converted. Any decoder error or warning (truncation) → PC_EINVAL. */
static int jpeg_gray(const unsigned char *p, size_t len, int w, int h, struct gray *g)
{
    int rc = PC_EINVAL, fw = 0, fh = 0, ss = -1, cs = -1;
    unsigned char *cmyk = NULL;
    tjhandle tj = tjInitDecompress();
    if (!tj)
        return PC_EINVAL;
    if (tjDecompressHeader3(tj, p, (unsigned long)len, &fw, &fh, &ss, &cs) != 0 || fw <= 0 ||
        fh <= 0)
        goto out;
    if (w == 0) {
        w = fw;
        h = fh;
    }
    size_t n = (size_t)w * (size_t)h;
    g->p = pc_xmalloc(n);
    g->w = w;
    g->h = h;
    if (cs == TJCS_CMYK || cs == TJCS_YCCK) {
        cmyk = pc_xmalloc(n * 4);
        if (tjDecompress2(tj, p, (unsigned long)len, cmyk, w, 0, h, TJPF_CMYK, TJFLAG_LIMITSCANS))
            goto out;
        for (size_t i = 0; i < n; i++) {
            const unsigned char *q = cmyk + 4 * i;
            unsigned k = q[3];
            g->p[i] = luma(q[0] * k / 255, q[1] * k / 255, q[2] * k / 255);
        }
    } else if (tjDecompress2(tj, p, (unsigned long)len, g->p, w, 0, h, TJPF_GRAY,
                             TJFLAG_LIMITSCANS)) {
        goto out;
    }
    rc = 0;
out:
    free(cmyk);
    if (rc)
        gray_free(g);
    tjDestroy(tj);
    return rc;
}

/* The largest TurboJPEG scaling factor ≤ 1 whose output long side is ≤ side (1/8 if none). */
static void jpeg_work_size(int w, int h, int side, int *sw, int *sh)
{
    int n = 0;
    tjscalingfactor *sf = tjGetScalingFactors(&n);
    *sw = TJSCALED(w, ((tjscalingfactor){1, 8}));
    *sh = TJSCALED(h, ((tjscalingfactor){1, 8}));
    long best = 0;
    for (int i = 0; sf && i < n; i++) {
        if (sf[i].num > sf[i].denom)
            continue;
        int a = TJSCALED(w, sf[i]), b = TJSCALED(h, sf[i]);
        if ((a > b ? a : b) <= side && (long)a * b > best) {
            best = (long)a * b;
            *sw = a;
            *sh = b;
        }
    }
}

/* ---- PNG ---- */

/* Decodes any PNG to 8-bit grey, alpha composed on white (base/png), reduced row by row by
 * the whole factor k (1: full size). The caller has checked the pixel cap against the
 * header. */
static int png_gray(const unsigned char *p, size_t len, int k, struct gray *g)
{
    return pc_png_decode_reduced(p, len, 1, k, &g->p, &g->w, &g->h);
}

/* ---- strategy ---- */

int pc_qr_decode_capped(const void *img, size_t len, long max_pixels, unsigned char *out,
                        size_t outcap, size_t *outlen)
{
    struct pc_image_info info;
    struct gray work = {0}, full = {0}, tmp = {0};
    zbar_image_scanner_t *sc = NULL;
    int rc;
    if (!img || !out || !outlen || max_pixels <= 0 || max_pixels > PC_QR_MAX_PIXELS)
        return PC_EINVAL;
    *outlen = 0;
    if (pc_image_probe(img, len, &info) != 0)
        return PC_EINVAL;
    if ((int64_t)info.width * info.height > (int64_t)max_pixels)
        return PC_ETOOBIG;
    sc = scanner_new();
    if (!sc)
        return PC_EINVAL;

    /* Pass 1: the working size. */
    if (info.format == PC_IMG_JPEG) {
        int sw = 0, sh = 0;
        jpeg_work_size(info.width, info.height, PC_QR_WORK_SIDE, &sw, &sh);
        rc = jpeg_gray(img, len, sw, sh, &work);
        if (rc == 0 && (work.w > PC_QR_WORK_SIDE || work.h > PC_QR_WORK_SIDE)) {
            box_down(&work, factor_for(work.w, work.h, PC_QR_WORK_SIDE), &tmp);
            gray_free(&work);
            work = tmp;
            tmp = (struct gray){0};
        }
    } else { /* reduced while decoding: a large PNG is never held whole for pass 1 */
        int k = factor_for(info.width, info.height, PC_QR_WORK_SIDE);
        rc = png_gray(img, len, k > 16 ? 16 : k, &work);
        if (rc == 0 && (work.w > PC_QR_WORK_SIDE || work.h > PC_QR_WORK_SIDE)) {
            box_down(&work, factor_for(work.w, work.h, PC_QR_WORK_SIDE), &tmp);
            gray_free(&work);
            work = tmp;
            tmp = (struct gray){0};
        }
    }
    if (rc)
        goto out;
    if ((rc = scan(sc, &work, out, outcap, outlen)) != PC_ENOTFOUND)
        goto out;

    /* Pass 2: full resolution, when the working pass was reduced (full stays empty if not):
     * the one full-size decode of this call. */
    if (work.w != info.width || work.h != info.height) {
        rc = info.format == PC_IMG_JPEG ? jpeg_gray(img, len, 0, 0, &full)
                                        : png_gray(img, len, 1, &full);
        if (rc != 0)
            goto out;
    }
    if (full.p && (rc = scan(sc, &full, out, outcap, outlen)) != PC_ENOTFOUND)
        goto out;

    /* Passes 3 and 4: half and quarter of the working size (blurry photos, big modules). */
    for (int k = 2; k <= 4; k *= 2) {
        if (work.w / k < MIN_SCAN_SIDE || work.h / k < MIN_SCAN_SIDE)
            break;
        box_down(&work, k, &tmp);
        rc = scan(sc, &tmp, out, outcap, outlen);
        gray_free(&tmp);
        if (rc != PC_ENOTFOUND)
            goto out;
    }

    /* Passes 5 and 6: light-on-dark codes (dark mode), working size then full. */
    invert(&work, &tmp);
    rc = scan(sc, &tmp, out, outcap, outlen);
    gray_free(&tmp);
    if (rc != PC_ENOTFOUND || !full.p)
        goto out;
    invert_in_place(&full); /* no second full-size buffer */
    rc = scan(sc, &full, out, outcap, outlen);
out:
    gray_free(&work);
    gray_free(&full);
    gray_free(&tmp);
    zbar_image_scanner_destroy(sc);
    if (rc)
        *outlen = 0;
    return rc;
}

int pc_qr_decode(const void *img, size_t len, unsigned char *out, size_t outcap, size_t *outlen)
{
    return pc_qr_decode_capped(img, len, PC_QR_MAX_PIXELS, out, outcap, outlen);
}
