/* photo/standard.c — resampling and the CHSI standard file: baseline 4:2:0 JPEG, quality
 * searched for the 20–40 KB band, JFIF 300 dpi, verified by re-reading. Pure; any thread. */
#include "photo/internal.h"

#include "base/alloc.h"
#include "base/err.h"
#include "photo/photo.h"
#include "photo/thresholds.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* One axis of a separable box filter: output o takes cnt[o] source samples idx[o*kmax+j]
 * (-1 = the fill colour) with weights wt[o*kmax+j]. */
struct axis {
    int kmax;
    int *cnt;
    int *idx;
    float *wt;
    int32_t *wq; /* wt in 2^14 fixed point */
};

static void axis_build(struct axis *a, int nout, double b0, double bl, int nsrc, bool clamp)
{
    double step = bl / nout;
    a->kmax = (int)ceil(step > 1 ? step : 1) + 2;
    a->cnt = pc_xcalloc((size_t)nout, sizeof *a->cnt);
    a->idx = pc_xmalloc((size_t)nout * a->kmax * sizeof *a->idx);
    a->wt = pc_xmalloc((size_t)nout * a->kmax * sizeof *a->wt);
    a->wq = pc_xmalloc((size_t)nout * a->kmax * sizeof *a->wq);
    for (int o = 0; o < nout; o++) {
        double lo = b0 + o * step, hi = lo + step;
        if (step < 1) { /* enlarging: a one-pixel box at the sample centre (bilinear) */
            double c = (lo + hi) / 2;
            lo = c - 0.5;
            hi = c + 0.5;
        }
        int j = 0;
        for (int k = (int)floor(lo); k < hi && j < a->kmax; k++) {
            double ov = fmin(hi, k + 1.0) - fmax(lo, (double)k);
            if (ov <= 0)
                continue;
            int src = k;
            if (src < 0 || src >= nsrc)
                src = clamp ? (src < 0 ? 0 : nsrc - 1) : -1;
            a->idx[o * a->kmax + j] = src;
            a->wt[o * a->kmax + j] = (float)(ov / (hi - lo));
            a->wq[o * a->kmax + j] = (int32_t)lround(ov / (hi - lo) * 16384);
            j++;
        }
        a->cnt[o] = j;
    }
}

static void axis_free(struct axis *a)
{
    free(a->cnt);
    free(a->idx);
    free(a->wt);
    free(a->wq);
}

/* Integer k×k block averages of src from (x0, y0) (partial blocks at the edges average what
 * exists) into out (rw × rh, allocated here), its rows ya_out..yb_out-1 only (the others are
 * left unset) — a cheap first stage for large reductions. Per output row: the k source rows summed
 * column by column, the sums of k neighbouring columns at every position, one of them per
 * block, each scaled to an average; every step a straight pass the compiler vectorises, in 16
 * bits while a block's sum fits (k <= 16). The sums are exact integers: their order does not
 * change the result. */
static void box_reduce(const struct pc__img *src, int x0, int y0, int k, int rw, int rh, int ya_out,
                       int yb_out, struct pc__img *out)
{
    int nch = src->nch, xend = src->w - x0; /* source columns from x0 */
    int span = rw * k < xend ? rw * k : xend, n = span * nch;
    int full = span / k;   /* blocks k columns wide; the last may be narrower */
    bool narrow = k <= 16; /* k·k·255 < 65536 */
    pc__img_alloc(out, rw, rh, nch);
    size_t cells = (size_t)n + (size_t)k * nch; /* zeros past the end */
    uint16_t *col16 = narrow ? pc_xcalloc(cells, sizeof *col16) : NULL;
    uint16_t *win16 = narrow ? pc_xmalloc((size_t)n * sizeof *win16) : NULL;
    uint32_t *col = narrow ? NULL : pc_xcalloc(cells, sizeof *col);
    uint32_t *win = pc_xmalloc((size_t)n * sizeof *win);
    for (int oy = ya_out; oy < yb_out; oy++) {
        int ya = y0 + oy * k, yb = ya + k < src->h ? ya + k : src->h;
        const unsigned char *row = src->p + ((size_t)ya * src->w + x0) * nch;
        size_t stride = (size_t)src->w * nch;
        if (narrow) {
            for (int i = 0; i < n; i++)
                col16[i] = row[i];
            for (int y = ya + 1; y < yb; y++)
                for (int i = 0; i < n; i++)
                    col16[i] += row[(size_t)(y - ya) * stride + i];
            for (int i = 0; i < n; i++)
                win16[i] = col16[i];
            for (int m = 1; m < k; m++)
                for (int i = 0; i < n; i++)
                    win16[i] += col16[i + m * nch];
            for (int i = 0; i < n; i++)
                win[i] = win16[i];
        } else {
            for (int i = 0; i < n; i++)
                col[i] = row[i];
            for (int y = ya + 1; y < yb; y++)
                for (int i = 0; i < n; i++)
                    col[i] += row[(size_t)(y - ya) * stride + i];
            for (int i = 0; i < n; i++)
                win[i] = col[i];
            for (int m = 1; m < k; m++)
                for (int i = 0; i < n; i++)
                    win[i] += col[i + m * nch];
        }
        /* win[i]: the block starting at column i / nch; one per block, scaled */
        unsigned char *o = out->p + (size_t)oy * rw * nch;
        float inv = 1.0f / (float)(k * (yb - ya)); /* no integer division */
        for (int ox = 0; ox < rw; ox++) {
            if (ox == full) /* the narrower last block */
                inv = 1.0f / (float)((span - full * k) * (yb - ya));
            const uint32_t *c = win + (size_t)ox * k * nch;
            for (int ch = 0; ch < nch; ch++)
                *o++ = (unsigned char)(int32_t)((float)c[ch] * inv + 0.5f);
        }
    }
    free(win);
    free(col);
    free(win16);
    free(col16);
}

/* One output row of the vertical pass: out[k] = Σ_j w[j]·rows[j][k] (summed in j order from
 * 0, as floats), plus 0.5, clamped to 0..255 and truncated. */
static void vertical_row(const float *const *rows, const float *w, int cnt, int n,
                         unsigned char *out)
{
    int k = 0;
#ifdef __SSE2__
    const __m128 half = _mm_set1_ps(0.5f), lo = _mm_setzero_ps(), hi = _mm_set1_ps(255);
    for (; k + 4 <= n; k += 4) {
        __m128 v = _mm_setzero_ps();
        for (int j = 0; j < cnt; j++)
            v = _mm_add_ps(v, _mm_mul_ps(_mm_set1_ps(w[j]), _mm_loadu_ps(rows[j] + k)));
        v = _mm_min_ps(_mm_max_ps(_mm_add_ps(v, half), lo), hi); /* v > 0 ? v : 0, v < 255 ? .. */
        __m128i i = _mm_cvttps_epi32(v);
        i = _mm_packs_epi32(i, i);
        int32_t four = _mm_cvtsi128_si32(_mm_packus_epi16(i, i));
        memcpy(out + k, &four, 4);
    }
#endif
    for (; k < n; k++) {
        float v = 0;
        for (int j = 0; j < cnt; j++)
            v += w[j] * rows[j][k];
        v += 0.5f;
        v = v > 0 ? v : 0;
        v = v < 255 ? v : 255;
        out[k] = (unsigned char)(int32_t)v;
    }
}

/* The lowest and highest source row (clamped or -1 for the fill) that outputs oa..ob-1 of
 * axis a read; *lo > *hi when none. */
static void axis_rows(const struct axis *a, int oa, int ob, int nsrc, int *lo, int *hi)
{
    *lo = nsrc;
    *hi = -1;
    for (int o = oa; o < ob; o++)
        for (int j = 0; j < a->cnt[o]; j++) {
            int i = a->idx[o * a->kmax + j];
            if (i >= 0 && i < *lo)
                *lo = i;
            if (i > *hi)
                *hi = i;
        }
}

/* pc__resample into dw × dh pixels whose pixel (u, v) is written at dp + (base + u·du + v·dv)
 * pixels: an oriented destination is filled in place (pc__orient_map). Only the rows
 * oa..ob-1 of the dh (each row's value does not depend on which others are made). */
static void resample_to(const struct pc__img *src, double bx, double by, double bw, double bh,
                        unsigned char *dp, int dw, int dh, long base, long du, long dv,
                        const unsigned char *fill, int oa, int ob)
{
    int nch = src->nch, rowlen = dw * nch;
    int kb = (int)floor(fmin(bw / dw, bh / dh));
    bool clamp = fill == NULL;
    struct axis ax, ay;
    if (kb >= 2 && bx >= 0 && by >= 0 && bx + bw <= src->w && by + bh <= src->h) {
        /* reduce by whole k×k blocks first (the block rows those output rows read), then the
         * fractional rest (< 2 per axis) */
        int x0 = (int)floor(bx), y0 = (int)floor(by);
        int rw = (int)ceil((bx + bw - x0) / kb), rh = (int)ceil((by + bh - y0) / kb), lo, hi;
        struct pc__img small = {0};
        axis_build(&ay, dh, (by - y0) / kb, bh / kb, rh, clamp);
        axis_rows(&ay, oa, ob, rh, &lo, &hi);
        axis_free(&ay);
        box_reduce(src, x0, y0, kb, rw, rh, lo, hi + 1, &small);
        resample_to(&small, (bx - x0) / kb, (by - y0) / kb, bw / kb, bh / kb, dp, dw, dh, base, du,
                    dv, fill, oa, ob);
        pc__img_free(&small);
        return;
    }
    axis_build(&ax, dw, bx, bw, src->w, clamp);
    axis_build(&ay, dh, by, bh, src->h, clamp);
    int ylo, yhi;
    axis_rows(&ay, oa, ob, src->h, &ylo, &yhi);
    int nrows = yhi >= ylo ? yhi - ylo + 1 : 0;
    float *tmp = pc_xmalloc(((size_t)nrows * dw + 1) * nch * sizeof *tmp);
    unsigned char *line = pc_xmalloc((size_t)16 * rowlen);
    float fillv[4] = {0, 0, 0, 0};
    for (int c = 0; c < nch && fill; c++)
        fillv[c] = fill[c];
    /* the outputs whose taps are consecutive pixels inside the row (all but the edges); 2:
     * and a 4-byte read at the last tap stays inside the row */
    unsigned char *run = pc_xmalloc((size_t)dw);
    for (int o = 0; o < dw; o++) {
        const int *ix = ax.idx + o * ax.kmax;
        int cnt = ax.cnt[o];
        run[o] = cnt > 0 && ix[0] >= 0 && ix[cnt - 1] == ix[0] + cnt - 1;
        run[o] += run[o] && ix[cnt - 1] < src->w - 1;
    }
    for (int r = 0; r < nrows; r++) { /* horizontal pass over the rows the box uses */
        const unsigned char *row = src->p + (size_t)(ylo + r) * src->w * nch;
        float *out = tmp + (size_t)r * rowlen;
        for (int o = 0; o < dw; o++) {
            const int *ix = ax.idx + o * ax.kmax;
            const float *wt = ax.wt + o * ax.kmax;
            const int32_t *wq = ax.wq + o * ax.kmax; /* 2^14 fixed point: no int→float */
            int cnt = ax.cnt[o];
#ifdef __SSE2__
            if (nch == 3 && run[o] == 2) { /* the same sums, R G B (and a spare) in one vector */
                const unsigned char *px = row + (size_t)ix[0] * 3;
                __m128i sum = _mm_setzero_si128(), zero = _mm_setzero_si128();
                for (int j = 0; j < cnt; j++, px += 3) {
                    int32_t four;
                    memcpy(&four, px, 4);
                    __m128i v = _mm_unpacklo_epi8(_mm_cvtsi32_si128(four), zero);
                    v = _mm_unpacklo_epi16(v, zero); /* 32-bit lanes: (sample, 0) */
                    sum = _mm_add_epi32(sum, _mm_madd_epi16(v, _mm_set1_epi32(wq[j])));
                }
                /* 4 floats: the spare lands on the next output's place (written after this
                 * one) or on tmp's slack past the last row */
                _mm_storeu_ps(out + o * 3,
                              _mm_mul_ps(_mm_cvtepi32_ps(sum), _mm_set1_ps(1.0f / 16384)));
                continue;
            }
#endif
            if (nch == 3 && run[o]) { /* the common case: consecutive pixels inside the row */
                const unsigned char *px = row + (size_t)ix[0] * 3;
                int32_t a0 = 0, a1 = 0, a2 = 0;
                for (int j = 0; j < cnt; j++, px += 3) {
                    a0 += wq[j] * px[0];
                    a1 += wq[j] * px[1];
                    a2 += wq[j] * px[2];
                }
                out[o * 3] = a0 * (1.0f / 16384);
                out[o * 3 + 1] = a1 * (1.0f / 16384);
                out[o * 3 + 2] = a2 * (1.0f / 16384);
            } else if (nch == 1 && run[o]) {
                const unsigned char *px = row + ix[0];
                int32_t a0 = 0;
                for (int j = 0; j < cnt; j++)
                    a0 += wq[j] * px[j];
                out[o] = a0 * (1.0f / 16384);
            } else if (nch == 3) {
                float a0 = 0, a1 = 0, a2 = 0;
                for (int j = 0; j < cnt; j++) {
                    const unsigned char *px = ix[j] >= 0 ? row + (size_t)ix[j] * 3 : NULL;
                    a0 += wt[j] * (px ? px[0] : fillv[0]);
                    a1 += wt[j] * (px ? px[1] : fillv[1]);
                    a2 += wt[j] * (px ? px[2] : fillv[2]);
                }
                out[o * 3] = a0;
                out[o * 3 + 1] = a1;
                out[o * 3 + 2] = a2;
            } else {
                for (int c = 0; c < nch; c++) {
                    float a = 0;
                    for (int j = 0; j < cnt; j++)
                        a += wt[j] * (ix[j] >= 0 ? row[(size_t)ix[j] * nch + c] : fillv[c]);
                    out[o * nch + c] = a;
                }
            }
        }
    }
    free(run);
    /* vertical pass, B output rows at a time (an oriented destination gets them as a block:
     * for a quarter turn, B neighbouring pixels of each of its rows) */
    enum { B = 16 };
    const float **rp = pc_xmalloc((size_t)ay.kmax * sizeof *rp);
    float *fillrow = pc_xmalloc((size_t)rowlen * sizeof *fillrow);
    for (int k = 0; k < rowlen; k++)
        fillrow[k] = fillv[k % nch];
    for (int o0 = oa; o0 < ob; o0 += B) {
        int nb = ob - o0 < B ? ob - o0 : B;
        for (int b = 0; b < nb; b++) {
            int o = o0 + b, cnt = ay.cnt[o];
            const float *wt = ay.wt + o * ay.kmax;
            for (int j = 0; j < cnt; j++) {
                int i = ay.idx[o * ay.kmax + j];
                rp[j] = i < 0 ? fillrow : tmp + (size_t)(i - ylo) * rowlen;
            }
            vertical_row(rp, wt, cnt, rowlen,
                         du == 1 ? dp + (base + o * dv) * nch : line + (size_t)b * rowlen);
        }
        if (du == 1)
            continue;
        for (int u = 0; u < dw; u++) { /* the block to its oriented place */
            unsigned char *q = dp + (base + u * du + o0 * dv) * nch;
            const unsigned char *l = line + (size_t)u * nch;
            for (int b = 0; b < nb; b++, q += dv * nch, l += rowlen) {
                q[0] = l[0]; /* RGB or grey (a call to memcpy per pixel costs more) */
                for (int c = 1; c < nch && c < 3; c++)
                    q[c] = l[c];
                for (int c = 3; c < nch; c++)
                    q[c] = l[c];
            }
        }
    }
    free(fillrow);
    free(rp);
    free(line);
    free(tmp);
    axis_free(&ax);
    axis_free(&ay);
}

void pc__resample(const struct pc__img *src, double bx, double by, double bw, double bh,
                  struct pc__img *dst, const unsigned char *fill)
{
    resample_to(src, bx, by, bw, bh, dst->p, dst->w, dst->h, 0, 1, dst->w, fill, 0, dst->h);
}

/* One resample_to call: the stored picture's box, the destination's layout, the rows. */
struct rs_job {
    const struct pc__img *src;
    double sx, sy, sw, sh;
    unsigned char *dp;
    int tw, th;
    long base, du, dv;
    const unsigned char *fill;
    int oa, ob;
};

/* The job of pc__resample_oriented: the box mapped to stored coordinates, resampled there
 * and written straight to its oriented place; every row. */
static struct rs_job oriented_job(const struct pc__img *src, int o, double bx, double by, double bw,
                                  double bh, struct pc__img *dst, const unsigned char *fill)
{
    double w = src->w, h = src->h;
    struct rs_job j = {src, bx, by, bw, bh, dst->p, dst->w, dst->h, 0, 1, dst->w, fill, 0, 0};
    switch (o) {
    case 2:
        j.sx = w - bx - bw;
        break;
    case 3:
        j.sx = w - bx - bw;
        j.sy = h - by - bh;
        break;
    case 4:
        j.sy = h - by - bh;
        break;
    case 5:
        j.sx = by;
        j.sy = bx;
        break;
    case 6:
        j.sx = by;
        j.sy = h - bx - bw;
        break;
    case 7:
        j.sx = w - by - bh;
        j.sy = h - bx - bw;
        break;
    case 8:
        j.sx = w - by - bh;
        j.sy = bx;
        break;
    default:
        j.ob = j.th;
        return j; /* as stored */
    }
    if (o >= 5) { /* a quarter turn */
        j.sw = bh;
        j.sh = bw;
        j.tw = dst->h;
        j.th = dst->w;
    }
    pc__orient_map(o, j.tw, j.th, &j.base, &j.du, &j.dv);
    j.ob = j.th;
    return j;
}

static void *rs_run(void *arg)
{
    const struct rs_job *j = arg;
    resample_to(j->src, j->sx, j->sy, j->sw, j->sh, j->dp, j->tw, j->th, j->base, j->du, j->dv,
                j->fill, j->oa, j->ob);
    return NULL;
}

void pc__resample_oriented(const struct pc__img *src, int o, double bx, double by, double bw,
                           double bh, struct pc__img *dst, const unsigned char *fill)
{
    struct rs_job j = oriented_job(src, o, bx, by, bw, bh, dst, fill);
    rs_run(&j);
}

/* How many rows of src (from the first) resample_to reads for the rows oa..ob-1 of its
 * destination: its own choice of path, and the rows that path reads. */
static int rows_read(const struct pc__img *src, double bx, double by, double bw, double bh, int dw,
                     int dh, bool clamp, int oa, int ob)
{
    int kb = (int)floor(fmin(bw / dw, bh / dh)), lo, hi;
    struct axis ay;
    if (kb >= 2 && bx >= 0 && by >= 0 && bx + bw <= src->w && by + bh <= src->h) {
        int y0 = (int)floor(by), rh = (int)ceil((by + bh - y0) / kb);
        axis_build(&ay, dh, (by - y0) / kb, bh / kb, rh, clamp);
        axis_rows(&ay, oa, ob, rh, &lo, &hi);
        axis_free(&ay);
        int end = y0 + (hi + 1) * kb; /* box_reduce's block rows lo..hi */
        return end < src->h ? end : src->h;
    }
    axis_build(&ay, dh, by, bh, src->h, clamp);
    axis_rows(&ay, oa, ob, src->h, &lo, &hi);
    axis_free(&ay);
    return hi + 1;
}

int pc__resample_oriented_rows(const struct pc__img *src, int o, double bx, double by, double bw,
                               double bh, struct pc__img *dst, const unsigned char *fill,
                               struct pc__rows *rows)
{
    struct rs_job j = oriented_job(src, o, bx, by, bw, bh, dst, fill);
    int th = j.th;
    for (int oa = 0; oa < th; oa += 16) {
        j.oa = oa;
        j.ob = th - oa < 16 ? th : oa + 16;
        int need = rows_read(src, j.sx, j.sy, j.sw, j.sh, j.tw, j.th, fill == NULL, j.oa, j.ob);
        if (pc__rows_wait(rows, need) != 0)
            return PC_EINVAL;
        rs_run(&j);
    }
    return 0;
}

void pc__resample_oriented_half(const struct pc__img *src, int o, double bx, double by, double bw,
                                double bh, struct pc__img *dst, const unsigned char *fill, int half)
{
    struct rs_job j = oriented_job(src, o, bx, by, bw, bh, dst, fill);
    if (half == 0)
        j.ob = j.th / 2;
    else
        j.oa = j.th / 2;
    rs_run(&j);
}

void pc__resample_oriented_2t(const struct pc__img *src, int o, double bx, double by, double bw,
                              double bh, struct pc__img *dst, const unsigned char *fill)
{
    struct rs_job top = oriented_job(src, o, bx, by, bw, bh, dst, fill), bottom = top;
    pthread_t t;
    top.ob = bottom.oa = top.th / 2;
    if (pthread_create(&t, NULL, rs_run, &bottom) != 0) {
        top.ob = top.th; /* no thread to be had: every row here */
        rs_run(&top);
        return;
    }
    rs_run(&top);
    pthread_join(t, NULL);
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

/* The quality search's encodings, each quality at most once, on either of two threads. */
#define ENC_MAX 16
struct enc_cache {
    const struct pc__img *rgb;
    unsigned long cap; /* tjBufSize: every buffer holds any encoding (TJFLAG_NOREALLOC) */
    int n;
    int q[ENC_MAX];
    size_t sz[ENC_MAX]; /* 0: the encoder failed */
    unsigned char *buf[ENC_MAX];
};

/* One encoding, made on the thread that runs it (its own TurboJPEG handle). */
struct enc_job {
    const struct enc_cache *c;
    int q;
    unsigned char *buf;
    size_t sz;
};

static void *enc_run(void *arg)
{
    struct enc_job *j = arg;
    const struct pc__img *rgb = j->c->rgb;
    unsigned long sz = j->c->cap;
    tjhandle tj = tjInitCompress();
    j->sz = 0;
    if (tj && tjCompress2(tj, rgb->p, rgb->w, 0, rgb->h, TJPF_RGB, &j->buf, &sz, TJSAMP_420, j->q,
                          TJFLAG_ACCURATEDCT | TJFLAG_NOREALLOC) == 0)
        j->sz = sz;
    if (tj)
        tjDestroy(tj);
    return NULL;
}

static int enc_find(const struct enc_cache *c, int q)
{
    for (int i = 0; i < c->n; i++)
        if (c->q[i] == q)
            return i;
    return -1;
}

static void enc_add(struct enc_cache *c, const struct enc_job *j)
{
    c->q[c->n] = j->q;
    c->sz[c->n] = j->sz;
    c->buf[c->n++] = j->buf;
}

/* The search's state between two encodings (pc__encode_standard). */
struct qsearch {
    int lo, hi,
        last;    /* size(hi) > OUT_SIZE_MAX; lo the best that fits so far (< OUT_Q_MIN: none) */
    size_t sz;   /* size of the last encoding */
    bool bisect; /* q95 was too large */
};

/* The quality the search encodes next, or 0 when it is done (its answer then encoded last). */
static int search_next(const struct qsearch *s)
{
    int qmin = (int)PC__T(OUT_Q_MIN), smax = (int)PC__T(OUT_SIZE_MAX);
    int slack = (int)PC__T(OUT_SIZE_SLACK);
    if (!s->bisect)
        return 0;
    /* stop once within OUT_SIZE_SLACK of the cap: close enough to the best quality */
    if (s->hi - s->lo > 1 && !(s->lo >= qmin && s->lo == s->last && s->sz + slack >= (size_t)smax))
        return (s->lo + s->hi) / 2;
    int q = s->lo >= qmin ? s->lo : qmin;
    return q != s->last ? q : 0;
}

/* The state once the encoding of q, of size sz, is known. */
static void search_step(struct qsearch *s, int q, size_t sz)
{
    size_t smax = (size_t)PC__T(OUT_SIZE_MAX);
    if (q == (int)PC__T(OUT_Q_MAX) && !s->bisect) {
        s->bisect = sz > smax;
    } else if (s->bisect && q == (s->lo + s->hi) / 2 && s->hi - s->lo > 1) {
        if (sz <= smax)
            s->lo = q;
        else
            s->hi = q;
    }
    s->last = q;
    s->sz = sz;
}

/* A guess of the size of the encoding of q (q < 100): log size linear in log(100 - q) (libjpeg
 * scales its tables by 200 - 2q from q50 up; sizes follow ~(100 - q)^-0.65), through the two
 * nearest qualities encoded (twice OUT_SIZE_MAX without two). It only picks which encoding the
 * second thread makes ahead. */
static size_t guess_size(const struct enc_cache *c, int q)
{
    int a = -1, b = -1;
    for (int i = 0; i < c->n; i++) {
        if (!c->sz[i])
            continue;
        if (a < 0 || abs(c->q[i] - q) < abs(c->q[a] - q)) {
            b = a;
            a = i;
        } else if (b < 0 || abs(c->q[i] - q) < abs(c->q[b] - q)) {
            b = i;
        }
    }
    double smax = PC__T(OUT_SIZE_MAX);
    if (a < 0 || b < 0 || c->q[a] == c->q[b])
        return (size_t)(2 * smax);
    double la = log((double)c->sz[a]), lb = log((double)c->sz[b]);
    double xa = log(100.0 - c->q[a]), xb = log(100.0 - c->q[b]), x = log(100.0 - q);
    double l = la + (lb - la) * (x - xa) / (xb - xa);
    return (size_t)fmin(exp(l), 2 * smax);
}

/* The size of the encoding of q: from the cache, else made here, with the encoding the
 * search will want after it (its likelier outcome) made meanwhile on a second thread. */
static size_t enc_probe(struct enc_cache *c, const struct qsearch *s, int q)
{
    int i = enc_find(c, q);
    if (i >= 0)
        return c->sz[i];
    struct qsearch t = *s;
    struct enc_job here = {c, q, tjAlloc((int)c->cap), 0}, ahead = {c, 0, NULL, 0};
    if (!s->bisect && q == (int)PC__T(OUT_Q_MAX)) {
        t.bisect = true; /* q95 first: bisection, unless the picture is flat */
        ahead.q = search_next(&t);
    } else {
        search_step(&t, q, guess_size(c, q));
        ahead.q = search_next(&t);
    }
    pthread_t th;
    bool two = ahead.q > 0 && ahead.q != q && enc_find(c, ahead.q) < 0 && c->n + 2 <= ENC_MAX;
    if (two) {
        ahead.buf = tjAlloc((int)c->cap);
        two = ahead.buf && pthread_create(&th, NULL, enc_run, &ahead) == 0;
        if (!two)
            tjFree(ahead.buf);
    }
    if (here.buf)
        enc_run(&here);
    if (two) {
        pthread_join(th, NULL);
        enc_add(c, &ahead);
    }
    if (c->n < ENC_MAX)
        enc_add(c, &here);
    else
        tjFree(here.buf);
    return here.sz;
}

int pc__encode_standard(const struct pc__img *rgb, unsigned char **jpeg, size_t *len, int *quality)
{
    int rc = PC_EINVAL, qmin = (int)PC__T(OUT_Q_MIN), qmax = (int)PC__T(OUT_Q_MAX);
    struct enc_cache c = {.rgb = rgb};
    struct qsearch s = {.lo = qmin - 1, .hi = qmax, .last = qmax};
    unsigned char *buf = NULL;
    size_t sz = 0;
    *jpeg = NULL;
    *len = 0;
    if (rgb->nch != 3 || rgb->w != PC_PHOTO_OUT_W || rgb->h != PC_PHOTO_OUT_H)
        return PC_EINVAL;
    c.cap = tjBufSize(rgb->w, rgb->h, TJSAMP_420);
    /* The highest quality whose file is <= OUT_SIZE_MAX: q95 first (flat pictures stay below
     * the band at any quality), then bisection; q60 even when it is still too large. Two
     * encodings at a time (bench/README.md "Photo pipeline"): the one the search needs and the
     * one it will likely need next; the same encodings and answer as one at a time. */
    int q = qmax;
    for (;;) {
        if ((sz = enc_probe(&c, &s, q)) == 0)
            goto out;
        search_step(&s, q, sz);
        int next = search_next(&s);
        if (!next)
            break;
        q = next;
    }
    buf = c.buf[enc_find(&c, q)];
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
    for (int i = 0; i < c.n; i++)
        tjFree(c.buf[i]);
    return rc;
}
