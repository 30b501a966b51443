/* photo/decode.c — format recognition, header facts and pixel decoding of uploads: JPEG on
 * TurboJPEG (scaled decoding), PNG on libpng (reduced row by row, base/png.h). Pure; any
 * thread (handles per call). */
#include "photo/internal.h"

#include "base/alloc.h"
#include "base/err.h"
#include "base/png.h"

#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

void pc__img_alloc(struct pc__img *im, int w, int h, int nch)
{
    im->p = pc_xmalloc((size_t)w * (size_t)h * (size_t)nch);
    im->w = w;
    im->h = h;
    im->nch = nch;
}

void pc__img_free(struct pc__img *im)
{
    if (!im)
        return;
    pc_free_null(im->p);
    im->w = im->h = im->nch = 0;
}

/* ---- JPEG markers ---- */

static bool is_sof(int m)
{
    return m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc;
}

/* Walks the marker segments up to SOS: the first SOF type and the first Exif APP1. */
static void jpeg_markers(const unsigned char *p, size_t len, struct pc__hdr *h)
{
    size_t i = 2;
    while (i < len) {
        if (p[i] != 0xff)
            return; /* not at a marker: damaged, TurboJPEG will judge */
        while (i < len && p[i] == 0xff)
            i++;
        if (i >= len)
            return;
        int m = p[i++];
        if (m == 0xd8 || m == 0x01 || (m >= 0xd0 && m <= 0xd7))
            continue;
        if (m == 0xd9 || m == 0xda || len - i < 2)
            return;
        size_t seg = ((size_t)p[i] << 8) | p[i + 1];
        if (seg < 2 || seg > len - i)
            return;
        const unsigned char *pl = p + i + 2;
        size_t n = seg - 2;
        if (is_sof(m) && !h->sof)
            h->sof = m;
        if (m == 0xe1 && !h->exif && n >= 6 && memcmp(pl, "Exif\0\0", 6) == 0) {
            h->exif = pl;
            h->exif_len = n;
        }
        i += seg;
    }
}

static void probe_jpeg(const unsigned char *p, size_t len, struct pc__hdr *h)
{
    h->fmt = PC__FMT_JPEG;
    jpeg_markers(p, len, h);
    tjhandle tj = tjInitDecompress();
    if (!tj)
        return;
    int w = 0, hh = 0, ss = -1, cs = -1; /* §5.3 gotcha 1: a short header leaves these alone */
    if (tjDecompressHeader3(tj, p, (unsigned long)len, &w, &hh, &ss, &cs) == 0 && w > 0 && hh > 0) {
        h->header_ok = true;
        h->w = w;
        h->h = hh;
        h->subsamp = ss;
        h->gray = ss == TJSAMP_GRAY || cs == TJCS_GRAY;
        h->cmyk = cs == TJCS_CMYK || cs == TJCS_YCCK;
    }
    tjDestroy(tj);
    if (h->exif)
        h->orientation = pc__exif_orientation(h->exif, h->exif_len);
}

/* ---- PNG ---- */

/* Header only: the IHDR chunk read by hand (libpng's png_read_info would read on to the first
 * IDAT, and a pixel bomb need not have one). libpng judges the rest when decoding. */
static void probe_png(const unsigned char *p, size_t len, struct pc__hdr *h)
{
    h->fmt = PC__FMT_PNG;
    h->orientation = 1;
    if (len < 33 || memcmp(p + 8, "\0\0\0\x0dIHDR", 8) != 0)
        return;
    uint32_t w = ((uint32_t)p[16] << 24) | ((uint32_t)p[17] << 16) | ((uint32_t)p[18] << 8) | p[19];
    uint32_t hh =
        ((uint32_t)p[20] << 24) | ((uint32_t)p[21] << 16) | ((uint32_t)p[22] << 8) | p[23];
    int depth = p[24], ct = p[25];
    if (w == 0 || hh == 0 || w > 0x7fffffffu || hh > 0x7fffffffu)
        return;
    if (ct != 0 && ct != 2 && ct != 3 && ct != 4 && ct != 6)
        return;
    if (depth != 1 && depth != 2 && depth != 4 && depth != 8 && depth != 16)
        return;
    h->w = (int)w;
    h->h = (int)hh;
    h->gray = !(ct & PNG_COLOR_MASK_COLOR);
    h->header_ok = true;
}

/* Decodes a PNG to RGB (grey pictures were refused on their header already), reduced while
 * decoding by the largest whole factor (<= 16) that keeps >= min_h rows: a 50 MP PNG is
 * never held at full size. */
static int decode_png(const unsigned char *p, size_t len, const struct pc__hdr *h, int min_h,
                      struct pc__img *out, double *scale)
{
    int w, hh, k = min_h > 0 ? h->h / min_h : 1;
    unsigned char *px;
    k = k < 1 ? 1 : k > 16 ? 16 : k;
    int rc = pc_png_decode_reduced(p, len, 3, k, &px, &w, &hh);
    if (rc != 0)
        return rc;
    if (w != (h->w + k - 1) / k || hh != (h->h + k - 1) / k) {
        free(px);
        return PC_EINVAL;
    }
    out->p = px;
    out->w = w;
    out->h = hh;
    out->nch = 3;
    *scale = (double)hh / h->h;
    return 0;
}

/* ---- JPEG ---- */

static int decode_jpeg(const unsigned char *p, size_t len, const struct pc__hdr *h, int min_h,
                       struct pc__img *out, double *scale)
{
    /* 3/8 is left out: its IDCT path is slower than 1/2 (bench/README.md) */
    static const tjscalingfactor cand[] = {{1, 8}, {1, 4}, {1, 2}, {1, 1}};
    bool swap = h->orientation >= 5;
    tjscalingfactor f = {1, 1};
    if (min_h > 0) {
        for (size_t i = 0; i < sizeof cand / sizeof cand[0]; i++) {
            int oh = swap ? TJSCALED(h->w, cand[i]) : TJSCALED(h->h, cand[i]);
            if (oh >= min_h) {
                f = cand[i];
                break;
            }
        }
    }
    int sw = TJSCALED(h->w, f), sh = TJSCALED(h->h, f);
    int rc = PC_EINVAL;
    tjhandle tj = tjInitDecompress();
    if (!tj)
        return PC_EINVAL;
    pc__img_alloc(out, sw, sh, 3);
    if (tjDecompress2(tj, p, (unsigned long)len, out->p, sw, 0, sh, TJPF_RGB, TJFLAG_LIMITSCANS) !=
        0) {
        pc__img_free(out); /* any error or warning (truncation): refuse */
        goto out;
    }
    *scale = (double)sw / h->w;
    rc = 0;
out:
    tjDestroy(tj);
    return rc;
}

/* Start-of-scan markers in the file, up to 2 (inside entropy-coded data 0xFF is stuffed with
 * 0x00, so an FF DA is a marker). More than one: libjpeg keeps every coefficient. */
static int count_scans(const unsigned char *p, size_t len)
{
    int n = 0;
    for (const unsigned char *q = p; n < 2 && (q = memchr(q, 0xff, len - (size_t)(q - p)));) {
        if ((size_t)(q - p) + 1 >= len)
            break;
        n += q[1] == 0xda;
        q++;
    }
    return n;
}

double pc__jpeg_coef_bytes(const struct pc__hdr *h)
{
    /* 16-bit coefficients for every sample: Y plus two chroma planes subsampled */
    static const double chroma[] = {[TJSAMP_444] = 2,  [TJSAMP_422] = 1, [TJSAMP_420] = 0.5,
                                    [TJSAMP_GRAY] = 0, [TJSAMP_440] = 1, [TJSAMP_411] = 0.5};
    double c = h->subsamp >= 0 && h->subsamp <= TJSAMP_411 ? chroma[h->subsamp] : 2;
    return 2.0 * h->w * h->h * (1 + c);
}

void pc__probe(const unsigned char *p, size_t len, struct pc__hdr *h)
{
    memset(h, 0, sizeof *h);
    h->orientation = 1;
    h->subsamp = -1;
    if (len >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff) {
        probe_jpeg(p, len, h);
        h->scans = count_scans(p, len);
    } else if (len >= 8 && png_sig_cmp(p, 0, 8) == 0)
        probe_png(p, len, h);
}

int pc__decode(const unsigned char *p, size_t len, const struct pc__hdr *h, int min_h,
               struct pc__img *out, double *scale)
{
    int rc = PC_EINVAL;
    *scale = 1.0;
    if (h->fmt == PC__FMT_JPEG)
        rc = decode_jpeg(p, len, h, min_h, out, scale);
    else if (h->fmt == PC__FMT_PNG)
        rc = decode_png(p, len, h, min_h, out, scale);
    return rc;
}
