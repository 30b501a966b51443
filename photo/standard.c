/* photo/standard.c — resampling and the CHSI standard file: baseline 4:2:0 JPEG, quality
 * searched for the 20–40 KB band, JFIF 300 dpi, verified by re-reading. Pure; any thread. */
#include "photo/internal.h"

#include "base/alloc.h"
#include "base/err.h"
#include "photo/photo.h"
#include "photo/thresholds.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

/* One axis of a separable box filter: output o takes k source samples idx[o*kmax+j]
 * (-1 = the fill colour) with weights wt[o*kmax+j] (j < kmax; unused weights are 0). */
struct axis {
    int kmax;
    int *idx;
    float *wt;
};

static void axis_build(struct axis *a, int nout, double b0, double bl, int nsrc, bool clamp)
{
    double step = bl / nout;
    a->kmax = (int)ceil(step > 1 ? step : 1) + 2;
    a->idx = pc_xmalloc((size_t)nout * a->kmax * sizeof *a->idx);
    a->wt = pc_xcalloc((size_t)nout * a->kmax, sizeof *a->wt);
    for (int o = 0; o < nout; o++) {
        double lo = b0 + o * step, hi = lo + step;
        if (step < 1) { /* enlarging: a one-pixel box at the sample centre (bilinear) */
            double c = (lo + hi) / 2;
            lo = c - 0.5;
            hi = c + 0.5;
        }
        int k0 = (int)floor(lo), j = 0;
        for (int k = k0; k < hi && j < a->kmax; k++, j++) {
            double ov = fmin(hi, k + 1.0) - fmax(lo, (double)k);
            int src = k;
            if (src < 0 || src >= nsrc)
                src = clamp ? (src < 0 ? 0 : nsrc - 1) : -1;
            a->idx[o * a->kmax + j] = src;
            a->wt[o * a->kmax + j] = (float)(ov > 0 ? ov / (hi - lo) : 0);
        }
        for (; j < a->kmax; j++) {
            a->idx[o * a->kmax + j] = clamp ? 0 : -1;
            a->wt[o * a->kmax + j] = 0;
        }
    }
}

static void axis_free(struct axis *a)
{
    free(a->idx);
    free(a->wt);
}

void pc__resample(const struct pc__img *src, double bx, double by, double bw, double bh,
                  struct pc__img *dst, const unsigned char *fill)
{
    int nch = src->nch, dw = dst->w, dh = dst->h;
    bool clamp = fill == NULL;
    struct axis ax, ay;
    axis_build(&ax, dw, bx, bw, src->w, clamp);
    axis_build(&ay, dh, by, bh, src->h, clamp);
    int ylo = src->h, yhi = -1;
    for (int i = 0; i < dh * ay.kmax; i++) {
        if (ay.wt[i] > 0 && ay.idx[i] >= 0) {
            if (ay.idx[i] < ylo)
                ylo = ay.idx[i];
            if (ay.idx[i] > yhi)
                yhi = ay.idx[i];
        }
    }
    int nrows = yhi >= ylo ? yhi - ylo + 1 : 0;
    float *tmp = pc_xmalloc(((size_t)nrows * dw + 1) * nch * sizeof *tmp);
    float fillv[4] = {0, 0, 0, 0};
    for (int c = 0; c < nch && fill; c++)
        fillv[c] = fill[c];
    for (int r = 0; r < nrows; r++) {
        const unsigned char *row = src->p + (size_t)(ylo + r) * src->w * nch;
        float *out = tmp + (size_t)r * dw * nch;
        for (int o = 0; o < dw; o++) {
            float acc[4] = {0, 0, 0, 0};
            for (int j = 0; j < ax.kmax; j++) {
                float wgt = ax.wt[o * ax.kmax + j];
                if (wgt == 0)
                    continue;
                int i = ax.idx[o * ax.kmax + j];
                const unsigned char *px = i >= 0 ? row + (size_t)i * nch : NULL;
                for (int c = 0; c < nch; c++)
                    acc[c] += wgt * (px ? px[c] : fillv[c]);
            }
            for (int c = 0; c < nch; c++)
                out[o * nch + c] = acc[c];
        }
    }
    for (int o = 0; o < dh; o++) {
        unsigned char *drow = dst->p + (size_t)o * dw * nch;
        float *acc = pc_xcalloc((size_t)dw * nch, sizeof *acc);
        for (int j = 0; j < ay.kmax; j++) {
            float wgt = ay.wt[o * ay.kmax + j];
            if (wgt == 0)
                continue;
            int i = ay.idx[o * ay.kmax + j];
            if (i < 0) {
                for (int x = 0; x < dw; x++)
                    for (int c = 0; c < nch; c++)
                        acc[x * nch + c] += wgt * fillv[c];
            } else {
                const float *row = tmp + (size_t)(i - ylo) * dw * nch;
                for (int k = 0; k < dw * nch; k++)
                    acc[k] += wgt * row[k];
            }
        }
        for (int k = 0; k < dw * nch; k++) {
            float v = acc[k] + 0.5f;
            drow[k] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
        free(acc);
    }
    free(tmp);
    axis_free(&ax);
    axis_free(&ay);
}

/* ---- the standard file ---- */

static bool jfif_at_start(const unsigned char *p, size_t len)
{
    return len > 20 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff && p[3] == 0xe0 &&
           memcmp(p + 6, "JFIF\0", 5) == 0;
}

/* The first SOF marker type up to SOS (0 if none). */
static int first_sof(const unsigned char *p, size_t len)
{
    size_t i = 2;
    while (i + 4 <= len && p[i] == 0xff) {
        int m = p[i + 1];
        if (m == 0xda || m == 0xd9)
            return 0;
        size_t seg = ((size_t)p[i + 2] << 8) | p[i + 3];
        if (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc)
            return m;
        i += 2 + seg;
    }
    return 0;
}

bool pc__verify_standard(const unsigned char *p, size_t len)
{
    int w = 0, h = 0, ss = -1, cs = -1, dpi = (int)PC__T(OUT_DPI);
    bool ok = false;
    if (!p || !jfif_at_start(p, len))
        return false;
    tjhandle tj = tjInitDecompress();
    if (!tj)
        return false;
    if (tjDecompressHeader3(tj, p, (unsigned long)len, &w, &h, &ss, &cs) == 0 &&
        w == PC_PHOTO_OUT_W && h == PC_PHOTO_OUT_H && ss == TJSAMP_420 && cs == TJCS_YCbCr &&
        first_sof(p, len) == 0xc0 && p[13] == 1 && p[14] == (dpi >> 8) && p[15] == (dpi & 255) &&
        p[16] == (dpi >> 8) && p[17] == (dpi & 255))
        ok = true;
    tjDestroy(tj);
    return ok;
}

/* Size of the q encoding into buf (tjBufSize bytes, reused: TJFLAG_NOREALLOC). 0 on
 * encoder failure. */
static size_t encode_q(tjhandle tj, const struct pc__img *rgb, int q, unsigned char *buf,
                       unsigned long cap)
{
    unsigned long sz = cap;
    if (tjCompress2(tj, rgb->p, rgb->w, 0, rgb->h, TJPF_RGB, &buf, &sz, TJSAMP_420, q,
                    TJFLAG_ACCURATEDCT | TJFLAG_NOREALLOC) != 0)
        return 0;
    return sz;
}

int pc__encode_standard(const struct pc__img *rgb, unsigned char **jpeg, size_t *len,
                        int *quality)
{
    int rc = PC_EINVAL, qmin = (int)PC__T(OUT_Q_MIN), qmax = (int)PC__T(OUT_Q_MAX);
    size_t smax = (size_t)PC__T(OUT_SIZE_MAX), sz;
    unsigned char *buf = NULL;
    *jpeg = NULL;
    *len = 0;
    if (rgb->nch != 3 || rgb->w != PC_PHOTO_OUT_W || rgb->h != PC_PHOTO_OUT_H)
        return PC_EINVAL;
    tjhandle tj = tjInitCompress();
    if (!tj)
        return PC_EINVAL;
    unsigned long cap = tjBufSize(rgb->w, rgb->h, TJSAMP_420);
    buf = tjAlloc((int)cap);
    if (!buf)
        goto out;
    /* The highest quality whose file is <= OUT_SIZE_MAX: q95 first (flat pictures stay below
     * the band at any quality), then bisection; q60 even when it is still too large. */
    int q = qmax, last = qmax;
    if ((sz = encode_q(tj, rgb, qmax, buf, cap)) == 0)
        goto out;
    if (sz > smax) {
        int lo = qmin - 1, hi = qmax; /* size(hi) > smax; lo = the best that fits so far */
        while (hi - lo > 1) {
            int mid = (lo + hi) / 2;
            if ((sz = encode_q(tj, rgb, mid, buf, cap)) == 0)
                goto out;
            last = mid;
            if (sz <= smax)
                lo = mid;
            else
                hi = mid;
        }
        q = lo >= qmin ? lo : qmin;
        if (q != last && (sz = encode_q(tj, rgb, q, buf, cap)) == 0)
            goto out;
    }
    if (!jfif_at_start(buf, sz))
        goto out;
    int dpi = (int)PC__T(OUT_DPI); /* §5.3 gotcha 4: TurboJPEG writes units 0, density 1:1 */
    buf[13] = 1;
    buf[14] = buf[16] = (unsigned char)(dpi >> 8);
    buf[15] = buf[17] = (unsigned char)(dpi & 255);
    if (!pc__verify_standard(buf, sz))
        goto out;
    *jpeg = pc_xmemdup(buf, sz);
    *len = sz;
    *quality = q;
    rc = 0;
out:
    tjFree(buf);
    tjDestroy(tj);
    return rc;
}
