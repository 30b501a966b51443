/* photo/segment.c — background/subject separation by colour (photo-and-code.md §2.3) and the
 * silhouette geometry of §2.4 on the analysis image. Pure; any thread. */
#include "photo/internal.h"

#include "base/alloc.h"
#include "photo/thresholds.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void pc__rgb_to_ycc(const double c[3], double o[3])
{
    o[0] = 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];
    o[1] = 128 - 0.168736 * c[0] - 0.331264 * c[1] + 0.5 * c[2];
    o[2] = 128 + 0.5 * c[0] - 0.418688 * c[1] - 0.081312 * c[2];
}

static double srgb_lin(double v)
{
    v /= 255.0;
    return v <= 0.04045 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4);
}

static double lab_f(double t)
{
    return t > 216.0 / 24389 ? cbrt(t) : (24389.0 / 27 * t + 16) / 116;
}

void pc__rgb_to_lab(const double c[3], double o[3])
{
    double r = srgb_lin(c[0]), g = srgb_lin(c[1]), b = srgb_lin(c[2]);
    double x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047;
    double y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b;
    double z = (0.0193339 * r + 0.1191920 * g + 0.9503041 * b) / 1.08883;
    double fx = lab_f(x), fy = lab_f(y), fz = lab_f(z);
    o[0] = 116 * fy - 16;
    o[1] = 500 * (fx - fy);
    o[2] = 200 * (fy - fz);
}

void pc__rgb_to_hsv(const double c[3], double o[3])
{
    double mx = fmax(c[0], fmax(c[1], c[2])), mn = fmin(c[0], fmin(c[1], c[2]));
    double d = mx - mn, hue = 0;
    if (d > 0) {
        if (mx == c[0])
            hue = 60 * fmod((c[1] - c[2]) / d + 6, 6);
        else if (mx == c[1])
            hue = 60 * ((c[2] - c[0]) / d + 2);
        else
            hue = 60 * ((c[0] - c[1]) / d + 4);
    }
    o[0] = hue;
    o[1] = mx > 0 ? d / mx : 0;
    o[2] = mx / 255.0;
}

static void px_ycc(const unsigned char *p, int o[3])
{
    /* integer JPEG YCbCr, ×1 */
    int r = p[0], g = p[1], b = p[2];
    o[0] = (77 * r + 150 * g + 29 * b + 128) >> 8;
    o[1] = (-43 * r - 85 * g + 128 * b + 32768 + 128) >> 8;
    o[2] = (128 * r - 107 * g - 21 * b + 32768 + 128) >> 8;
}

static double dist_ycc(const int a[3], const double ref[3])
{
    return fabs(a[1] - ref[1]) + fabs(a[2] - ref[2]) + PC__T(SEG_Y_WEIGHT) * fabs(a[0] - ref[0]);
}

double pc__bg_dist(const struct pc__seg *seg, const unsigned char *rgb)
{
    int c[3];
    px_ycc(rgb, c);
    return dist_ycc(c, seg->bg_ycc);
}

int pc__hist_median(const unsigned *hist, unsigned n)
{
    unsigned acc = 0;
    for (int v = 0; v < 256; v++) {
        acc += hist[v];
        if (2 * acc >= n)
            return v;
    }
    return 255;
}

void pc__seg_free(struct pc__seg *s)
{
    if (!s)
        return;
    free(s->fg);
    free(s->bgm);
    free(s->left);
    free(s->right);
    memset(s, 0, sizeof *s);
}

/* Keeps the 4-connected components of mask (value 1) that matter: the largest and any other
 * of at least a fifth of its size and 2 % of the frame (a head cut from the body by a collar
 * of the wall's colour). Returns the pixels kept. Labelled on a copy with a border of zeros,
 * so that neighbours need no bounds checks (the components do not depend on the order). */
static long keep_largest(unsigned char *m, int w, int h, int *stack)
{
    size_t n = (size_t)w * h, pw = (size_t)w + 2, pn = pw * ((size_t)h + 2);
    int *lab = pc_xcalloc(pn, sizeof *lab); /* -1: a mask pixel not yet labelled */
    long *sizes = NULL;
    int cur = 0, cap = 0;
    long bestn = 0, kept = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            lab[(size_t)(y + 1) * pw + x + 1] = -(int)m[(size_t)y * w + x];
    for (size_t s = pw; s < pn - pw; s++) {
        if (lab[s] != -1)
            continue;
        cur++;
        long cnt = 0;
        size_t sp = 0;
        stack[sp++] = (int)s;
        lab[s] = cur;
        while (sp) {
            size_t i = (size_t)stack[--sp];
            cnt++;
            size_t nb[4] = {i - 1, i + 1, i - pw, i + pw};
            for (int k = 0; k < 4; k++)
                if (lab[nb[k]] == -1) {
                    lab[nb[k]] = cur;
                    stack[sp++] = (int)nb[k];
                }
        }
        if (cur >= cap) {
            cap = cap ? 2 * cap : 64;
            sizes = pc_xrealloc(sizes, (size_t)cap * sizeof *sizes);
        }
        sizes[cur] = cnt;
        if (cnt > bestn)
            bestn = cnt;
    }
    double minkeep = fmax(0.2 * (double)bestn, 0.02 * (double)n);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int l = lab[(size_t)(y + 1) * pw + x + 1];
            unsigned char *q = m + (size_t)y * w + x;
            *q = l > 0 && (sizes[l] == bestn || sizes[l] >= minkeep);
            kept += *q;
        }
    free(sizes);
    free(lab);
    return kept;
}

static void geometry(struct pc__seg *s)
{
    int w = s->w, h = s->h;
    int minrun = (int)fmax(PC__T(HEAD_ROW_MIN_PX), PC__T(HEAD_ROW_MIN_FRAC) * w);
    int *wd = pc_xcalloc((size_t)h, sizeof *wd);
    int *cnt = pc_xcalloc((size_t)h, sizeof *cnt);
    for (int y = 0; y < h; y++) {
        const unsigned char *row = s->fg + (size_t)y * w;
        for (int x = 0; x < w; x++)
            cnt[y] += row[x];
        if (s->left[y] >= 0)
            wd[y] = s->right[y] - s->left[y] + 1;
    }
    s->head_top = -1;
    for (int y = 0; y < h; y++) {
        if (cnt[y] >= minrun) {
            s->head_top = y;
            break;
        }
    }
    if (s->area < PC__T(SUBJECT_MIN_AREA) * w * h || s->head_top < 0)
        goto out;
    /* Head width: the widest row within 0.35 h below the top (before the shoulders). */
    int ht = s->head_top, lim = ht + (int)(0.35 * h), hw = 0, hw_row = ht;
    if (lim > h)
        lim = h;
    for (int y = ht; y < lim; y++) {
        if (wd[y] > hw) {
            hw = wd[y];
            hw_row = y;
        }
        if (hw > 0 && wd[y] < PC__T(NECK_NARROW) * hw && y > hw_row)
            break; /* narrowing: the head is over */
    }
    /* Neck: the narrowest row below the widest, before the width exceeds the head's. */
    int neck = -1, sh = h;
    for (int y = hw_row; y < h; y++) {
        if (wd[y] == 0)
            continue;
        if (wd[y] > hw) {
            sh = y;
            break;
        }
        if (neck < 0 || wd[y] < wd[neck])
            neck = y;
    }
    if (neck >= 0) { /* the first row of the neck: within 3 % of the narrowest (noise) */
        int lim2 = wd[neck] + (int)fmax(2, 0.03 * wd[neck]);
        for (int y = hw_row; y < neck; y++)
            if (wd[y] > 0 && wd[y] <= lim2) {
                neck = y;
                break;
            }
    }
    s->head_w = hw;
    s->shoulder_y = sh;
    s->neck_seen = neck >= 0 && wd[neck] < PC__T(NECK_NARROW) * hw;
    s->neck_y = s->neck_seen ? neck : ht + (int)lround(PC__T(HEAD_FROM_W) * hw);
    double acc = 0;
    int nrows = 0, end = s->neck_y < h ? s->neck_y : h;
    for (int y = ht; y < end; y++) {
        if (s->left[y] >= 0) {
            acc += (s->left[y] + s->right[y]) / 2.0;
            nrows++;
        }
    }
    s->head_cx = nrows ? acc / nrows : w / 2.0;
    s->found = hw > 0 && s->neck_y > ht;
out:
    free(wd);
    free(cnt);
}

void pc__segment(const struct pc__img *im, struct pc__seg *s)
{
    int w = im->w, h = im->h;
    size_t n = (size_t)w * h;
    memset(s, 0, sizeof *s);
    s->w = w;
    s->h = h;
    s->fg = pc_xcalloc(n, 1);
    s->bgm = pc_xcalloc(n, 1);
    s->left = pc_xmalloc((size_t)h * sizeof *s->left);
    s->right = pc_xmalloc((size_t)h * sizeof *s->right);
    int tb = (int)lround(PC__T(SEG_TOP_BAND) * h);
    if (tb < 2)
        tb = 2;
    if (tb > h)
        tb = h;

    /* 1. background colour: median of the top band (per channel), globally and per column
     *    over a window of w/8 (follows a left/right shading of the wall). */
    unsigned hist[3][256];
    memset(hist, 0, sizeof hist);
    for (int y = 0; y < tb; y++)
        for (int x = 0; x < w; x++) {
            int c[3];
            px_ycc(im->p + ((size_t)y * w + x) * 3, c);
            for (int k = 0; k < 3; k++)
                hist[k][c[k]]++;
        }
    for (int k = 0; k < 3; k++)
        s->bg_ycc[k] = pc__hist_median(hist[k], (unsigned)(tb * w));
    {
        unsigned rh[3][256];
        memset(rh, 0, sizeof rh);
        for (int y = 0; y < tb; y++)
            for (int x = 0; x < w; x++) {
                const unsigned char *p = im->p + ((size_t)y * w + x) * 3;
                for (int k = 0; k < 3; k++)
                    rh[k][p[k]]++;
            }
        for (int k = 0; k < 3; k++)
            s->bg_rgb[k] = pc__hist_median(rh[k], (unsigned)(tb * w));
    }
    double(*colref)[3] = pc_xmalloc((size_t)w * sizeof *colref);
    {
        int r = w / 16;
        unsigned ch[3][256];
        memset(ch, 0, sizeof ch);
        unsigned cn = 0;
        int lo = 0, hi = -1; /* window columns [lo, hi] */
        for (int x = 0; x < w; x++) {
            int want_lo = x - r < 0 ? 0 : x - r, want_hi = x + r >= w ? w - 1 : x + r;
            while (hi < want_hi) {
                hi++;
                for (int y = 0; y < tb; y++) {
                    int c[3];
                    px_ycc(im->p + ((size_t)y * w + hi) * 3, c);
                    for (int k = 0; k < 3; k++)
                        ch[k][c[k]]++;
                    cn++;
                }
            }
            while (lo < want_lo) {
                for (int y = 0; y < tb; y++) {
                    int c[3];
                    px_ycc(im->p + ((size_t)y * w + lo) * 3, c);
                    for (int k = 0; k < 3; k++)
                        ch[k][c[k]]--;
                    cn--;
                }
                lo++;
            }
            for (int k = 0; k < 3; k++)
                colref[x][k] = pc__hist_median(ch[k], cn);
        }
    }

    /* 2. tolerance T from the spread of the top band around the background colour. */
    {
        unsigned dh[256];
        memset(dh, 0, sizeof dh);
        for (int y = 0; y < tb; y++)
            for (int x = 0; x < w; x++) {
                int c[3];
                px_ycc(im->p + ((size_t)y * w + x) * 3, c);
                double d = dist_ycc(c, s->bg_ycc);
                dh[d > 255 ? 255 : (int)d]++;
            }
        double m = pc__hist_median(dh, (unsigned)(tb * w));
        s->thr = fmin(PC__T(SEG_T_MAX),
                      fmax(PC__T(SEG_T_MIN), PC__T(SEG_T_K) * m + PC__T(SEG_T_OFFSET)));
    }
    for (int x = 0; x < w; x++) /* a column whose band is not wall (hair) uses the global */
        if (dist_ycc((int[3]){(int)colref[x][0], (int)colref[x][1], (int)colref[x][2]}, s->bg_ycc) >
            s->thr)
            memcpy(colref[x], s->bg_ycc, sizeof colref[x]);

    /* 3-4. candidates, flood fill from the top, left and right borders: on a copy with a
     * border of non-candidates (no bounds checks; the filled set does not depend on the order) */
    size_t pw = (size_t)w + 2, pn = pw * ((size_t)h + 2);
    unsigned char *cand = pc_xcalloc(pn, 1); /* 1 candidate, 2 filled */
    int *cref = pc_xmalloc((size_t)w * 3 * sizeof *cref);
    for (int x = 0; x < w; x++)
        for (int k = 0; k < 3; k++)
            cref[x * 3 + k] = (int)colref[x][k]; /* medians: whole numbers */
    /* dist_ycc(pixel, colref) < thr is A + w·B < thr with whole A = |Cb - Cb0| + |Cr - Cr0|
     * (0..510) and B = |Y - Y0| (0..255): for each B, the A below which it holds, found with
     * that very expression */
    const double wy = PC__T(SEG_Y_WEIGHT);
    int alim[256];
    for (int bb = 0; bb < 256; bb++) {
        int a = 0;
        while (a <= 510 && (double)a + wy * bb < s->thr)
            a++;
        alim[bb] = a;
    }
    for (int y = 0; y < h; y++) {
        const unsigned char *p = im->p + (size_t)y * w * 3;
        unsigned char *c = cand + (size_t)(y + 1) * pw + 1;
        for (int x = 0; x < w; x++, p += 3) {
            int r = p[0], g = p[1], b = p[2], *ref = cref + x * 3;
            int yy = (77 * r + 150 * g + 29 * b + 128) >> 8;
            int cb = (-43 * r - 85 * g + 128 * b + 32768 + 128) >> 8;
            int cr = (128 * r - 107 * g - 21 * b + 32768 + 128) >> 8;
            c[x] = abs(cb - ref[1]) + abs(cr - ref[2]) < alim[abs(yy - ref[0])];
        }
    }
    free(cref);
    int *stack = pc_xmalloc(n * sizeof *stack);
    size_t sp = 0;
#define SEED(i)                                                                                    \
    do {                                                                                           \
        size_t i_ = (i);                                                                           \
        if (cand[i_] == 1) {                                                                       \
            cand[i_] = 2;                                                                          \
            stack[sp++] = (int)i_;                                                                 \
        }                                                                                          \
    } while (0)
    for (int x = 0; x < w; x++)
        SEED(pw + 1 + (size_t)x);
    for (int y = 0; y < h; y++) {
        SEED((size_t)(y + 1) * pw + 1);
        SEED((size_t)(y + 1) * pw + (size_t)w);
    }
    while (sp) {
        size_t i = (size_t)stack[--sp];
        SEED(i - 1);
        SEED(i + 1);
        SEED(i - pw);
        SEED(i + pw);
    }
#undef SEED
    for (int y = 0; y < h; y++) {
        const unsigned char *c = cand + (size_t)(y + 1) * pw + 1;
        unsigned char *bg = s->bgm + (size_t)y * w;
        for (int x = 0; x < w; x++)
            bg[x] = c[x] == 2;
    }

    /* 5. subject = the largest component of what the fill did not reach. */
    for (size_t i = 0; i < n; i++)
        s->fg[i] = !s->bgm[i];
    s->area = keep_largest(s->fg, w, h, stack);
    for (int y = 0; y < h; y++) {
        s->left[y] = s->right[y] = -1;
        const unsigned char *row = s->fg + (size_t)y * w;
        for (int x = 0; x < w; x++)
            if (row[x]) {
                if (s->left[y] < 0)
                    s->left[y] = x;
                s->right[y] = x;
            }
    }
    free(stack);
    free(cand);
    free(colref);
    geometry(s);
}
