/* photo/faces.c — what the face rules measure: the subject's face and any other face in the
 * picture (face/face.h detectors on a locally normalised grey picture, docs/photo.md "Face
 * analysis"), then the subject's eyes (position, openness, glare), head roll and pose on a
 * patch of the face at a fixed scale. Pure; any thread. */
#include "photo/internal.h"

#include "base/alloc.h"
#include "face/face.h"
#include "photo/thresholds.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DETS 32
#define DEG      (180.0 / M_PI)

/* ---- grey pictures ---- */

static void to_grey(const struct pc__img *rgb, struct pc__img *g)
{
    pc__img_alloc(g, rgb->w, rgb->h, 1);
    size_t n = (size_t)rgb->w * rgb->h;
    for (size_t i = 0; i < n; i++) {
        const unsigned char *p = rgb->p + 3 * i;
        g->p[i] = (unsigned char)((77 * p[0] + 150 * p[1] + 29 * p[2] + 128) >> 8);
    }
}

static int median_box(const struct pc__img *g, int x0, int y0, int x1, int y1)
{
    unsigned hist[256] = {0}, n = 0, acc = 0;
    x0 = x0 < 0 ? 0 : x0;
    y0 = y0 < 0 ? 0 : y0;
    x1 = x1 > g->w ? g->w : x1;
    y1 = y1 > g->h ? g->h : y1;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++, n++)
            hist[g->p[(size_t)y * g->w + x]]++;
    for (int v = 0; v < 256; v++) {
        acc += hist[v];
        if (n && 2 * acc >= n)
            return v;
    }
    return 128;
}

/* The detectors' input: a gamma curve that brings the median of the face zone to
 * FACE_GAMMA_TARGET (brightening only: a dark face's gradients are stretched the way a fair
 * face's already are), then CLAHE (tiles × tiles, clip limit). The same procedure for every
 * picture; in place. */
static void normalise(struct pc__img *g, int median, int tiles, double clip)
{
    double target = PC__T(FACE_GAMMA_TARGET), m = median < 4 ? 4 : median;
    double gm = log(target / 255.0) / log(m / 255.0);
    gm = gm > 1 ? 1 : gm < 0.3 ? 0.3 : gm;
    unsigned char lut[256];
    for (int v = 0; v < 256; v++)
        lut[v] = (unsigned char)lround(255 * pow(v / 255.0, gm));
    size_t n = (size_t)g->w * g->h;
    for (size_t i = 0; i < n; i++)
        g->p[i] = lut[g->p[i]];
    struct pc_face_gray fg = {g->p, g->w, g->h, g->w};
    unsigned char *out = pc_xmalloc(n);
    if (pc_face_clahe(&fg, clip, tiles, out) == 0)
        memcpy(g->p, out, n);
    free(out);
}

/* Rotates grey g by deg degrees (clockwise as displayed) about its centre into a new
 * picture of the same size (bilinear; outside → 128). */
static void rotate(const struct pc__img *g, double deg, struct pc__img *out)
{
    pc__img_alloc(out, g->w, g->h, 1);
    double c = cos(deg / DEG), s = sin(deg / DEG), cx = g->w / 2.0, cy = g->h / 2.0;
    for (int y = 0; y < g->h; y++)
        for (int x = 0; x < g->w; x++) {
            double dx = x + 0.5 - cx, dy = y + 0.5 - cy;
            double sx = cx + dx * c + dy * s - 0.5, sy = cy - dx * s + dy * c - 0.5;
            int ix = (int)floor(sx), iy = (int)floor(sy);
            double fx = sx - ix, fy = sy - iy, v = 128;
            if (ix >= 0 && iy >= 0 && ix + 1 < g->w && iy + 1 < g->h) {
                const unsigned char *p = g->p + (size_t)iy * g->w + ix;
                v = (p[0] * (1 - fx) + p[1] * fx) * (1 - fy) +
                    (p[g->w] * (1 - fx) + p[g->w + 1] * fx) * fy;
            }
            out->p[(size_t)y * g->w + x] = (unsigned char)lround(v);
        }
}

/* ---- detection ---- */

/* Where detection crops come from: the decoded picture (as stored, EXIF orientation o), which
 * is finer than the analysis image; f[xy] = its (oriented) pixels per analysis pixel. */
struct view {
    const struct pc__img *src;
    int o;
    double fx, fy;
};

/* The box (analysis px; may reach outside) of the view as a grey picture of out's size
 * (out allocated by the caller, nch 1). */
static void crop_grey(const struct view *v, double bx, double by, double bw, double bh,
                      struct pc__img *out)
{
    struct pc__img rgb = {0};
    const unsigned char fill[3] = {128, 128, 128};
    pc__img_alloc(&rgb, out->w, out->h, 3);
    pc__resample_oriented(v->src, v->o, bx * v->fx, by * v->fy, bw * v->fx, bh * v->fy, &rgb, fill);
    size_t n = (size_t)out->w * out->h;
    for (size_t i = 0; i < n; i++) {
        const unsigned char *p = rgb.p + 3 * i;
        out->p[i] = (unsigned char)((77 * p[0] + 150 * p[1] + 29 * p[2] + 128) >> 8);
    }
    pc__img_free(&rgb);
}

/* HOG on the box (bx, by, bw, bh) (analysis px) of the view resampled by k, normalised with
 * the face zone's median `median` (or its own centre's when median < 0; `strong`: twice the
 * CLAHE tiles and clip, for a face half in shadow), optionally rotated by rot degrees;
 * detections mapped back to analysis px (the box of a rotated detection is axis-aligned
 * around its mapped centre). Returns how many. */
static int hog_on(const struct view *v, double bx, double by, double bw, double bh, double k,
                  int median, bool strong, double rot, double adjust, double max_box,
                  struct pc_face_det *out, int cap)
{
    int w = (int)lround(bw * k), h = (int)lround(bh * k);
    if (w < 40 || h < 40 || w > 4000 || h > 4000)
        return 0;
    struct pc__img crop = {0}, rc = {0};
    pc__img_alloc(&crop, w, h, 1);
    crop_grey(v, bx, by, bw, bh, &crop);
    if (median < 0)
        median = median_box(&crop, w * 3 / 8, h / 2, w * 5 / 8, h * 5 / 8);
    int tiles = (int)PC__T(FACE_CLAHE_TILES);
    normalise(&crop, median, strong ? 2 * tiles : tiles, (strong ? 2 : 1) * PC__T(FACE_CLAHE_CLIP));
    const struct pc__img *in = &crop;
    if (rot != 0) {
        rotate(&crop, rot, &rc);
        in = &rc;
    }
    struct pc_face_gray fg = {in->p, in->w, in->h, in->w};
    int n = pc_face_hog(&fg, adjust, max_box, out, cap);
    n = n < 0 ? 0 : n;
    double c = cos(rot / DEG), s = sin(rot / DEG), cx = w / 2.0, cy = h / 2.0;
    for (int i = 0; i < n; i++) {
        /* centre in the rotated crop → unrotated crop → analysis px */
        double dx = out[i].x + out[i].w / 2 - cx, dy = out[i].y + out[i].h / 2 - cy;
        double ux = cx + dx * c - dy * s, uy = cy + dx * s + dy * c;
        out[i].w /= k;
        out[i].h /= k;
        out[i].x = bx + ux / k - out[i].w / 2;
        out[i].y = by + uy / k - out[i].h / 2;
    }
    pc__img_free(&crop);
    pc__img_free(&rc);
    return n;
}

static double overlap(double ax, double ay, double aw, double ah, double bx, double by, double bw,
                      double bh)
{
    double ix = fmin(ax + aw, bx + bw) - fmax(ax, bx), iy = fmin(ay + ah, by + bh) - fmax(ay, by);
    if (ix <= 0 || iy <= 0)
        return 0;
    return ix * iy / (aw * ah + bw * bh - ix * iy);
}

/* The subject's face is detection d, found by pass `pass` turned rot degrees. */
static void take(struct pc__faces *f, const struct pc_face_det *d, double rot, int pass)
{
    f->found = true;
    f->x = d->x;
    f->y = d->y;
    f->w = d->w;
    f->h = d->h;
    f->score = d->score;
    f->filter = d->filter;
    memcpy(f->fscore, d->filter_score, sizeof f->fscore);
    f->rot = rot;
    f->pass = pass;
}

/* The subject's face: passes over the head region (or the whole picture without a
 * silhouette) until one finds a face whose centre lies on the head. */
static void find_subject(const struct view *v, const struct pc__img *g, int median,
                         const struct pc__seg *seg, struct pc__faces *f)
{
    struct pc_face_det d[MAX_DETS];
    double adj = PC__T(FACE_HOG_SUBJECT), max_box = 0; /* unbounded without a silhouette */
    double hx0 = 0, hy0 = 0, hx1 = g->w, hy1 = g->h, bx, by, bw, bh, k;
    if (seg->found) {
        double hw = seg->head_w, hn = seg->neck_y - seg->head_top;
        hx0 = seg->head_cx - 0.8 * hw;
        hx1 = seg->head_cx + 0.8 * hw;
        hy0 = seg->head_top;
        hy1 = seg->neck_y + 0.35 * hn;
        bx = seg->head_cx - 1.1 * hw;
        bw = 2.2 * hw;
        by = seg->head_top - 0.3 * hw;
        bh = hn + 0.9 * hw;
        k = PC__T(FACE_DET_PX) / (PC__T(FACE_OF_HEAD) * hw);
        /* the face's size is known from the head: only the pyramid levels near it (the other
         * passes, 1.45× and 0.7×, look for smaller and larger faces) */
        max_box = PC__T(FACE_DET_MAX) * PC__T(FACE_DET_PX);
    } else {
        bx = 0;
        by = 0;
        bw = g->w;
        bh = g->h;
        k = 1;
    }
    static const struct {
        double kf, rot;
        bool strong;
    } passes[] = {{1, 0, false},   {1.45, 0, false}, {0.7, 0, false}, {1, 0, true},
                  {1, -22, false}, {1, 22, false},   {1, -38, false}, {1, 38, false}};
    for (size_t p = 0; p < sizeof passes / sizeof passes[0]; p++) {
        if (!seg->found && p > 0 && passes[p].rot == 0)
            continue;
        int n = hog_on(v, bx, by, bw, bh, k * passes[p].kf, median, passes[p].strong, passes[p].rot,
                       adj, max_box, d, MAX_DETS);
        for (int i = 0; i < n; i++) {
            double cx = d[i].x + d[i].w / 2, cy = d[i].y + d[i].h / 2;
            if (cx < hx0 || cx > hx1 || cy < hy0 || cy > hy1)
                continue;
            if (f->found && d[i].score <= f->score)
                continue;
            take(f, &d[i], passes[p].rot, (int)p + 1);
        }
        if (f->found)
            return;
    }
    if (!seg->found)
        return;
    /* nothing on the silhouette's head (a busy background, a mistaken silhouette): a face
     * anywhere that is large enough to be the subject's (a small face is another person) */
    int n = hog_on(v, 0, 0, g->w, g->h, 1, median, false, 0, adj, 0, d, MAX_DETS);
    for (int i = 0; i < n; i++) {
        if (d[i].w < PC__T(SUBJECT_FACE_MIN) * g->w || (f->found && d[i].w <= f->w))
            continue;
        take(f, &d[i], 0, (int)(sizeof passes / sizeof passes[0]) + 1);
    }
}

/* Heads other than the subject's from the wall's outline: a bump of the non-wall region's
 * top edge away from the subject's head (a second person beside or behind, however dark or
 * small their face), as candidate face boxes. Returns how many. */
static int outline_heads(const struct pc__seg *seg, const struct pc__faces *f,
                         struct pc_face_det *out, int cap)
{
    int w = seg->w, h = seg->h, n = 0;
    if (!seg->bgm || w < 16)
        return 0;
    int *top = pc_xmalloc((size_t)w * sizeof *top);
    for (int x = 0; x < w; x++) {
        top[x] = h;
        for (int y = 0; y < h; y++)
            if (!seg->bgm[(size_t)y * w + x]) {
                top[x] = y;
                break;
            }
    }
    int r = 10, minpx = (int)PC__T(SECOND_MIN_PX);
    double skip0 = -1, skip1 = -1; /* the subject's head */
    if (f->found) {
        skip0 = f->x - 0.45 * f->w;
        skip1 = f->x + 1.45 * f->w;
    } else if (seg->found) {
        skip0 = seg->head_cx - 0.75 * seg->head_w;
        skip1 = seg->head_cx + 0.75 * seg->head_w;
    }
    for (int x = 0; x < w && n < cap; x++) {
        if (top[x] >= h - minpx || (x >= skip0 && x <= skip1))
            continue;
        bool peak = true; /* the highest point within ±r (the first of a plateau) */
        for (int k = x - r; k <= x + r && peak; k++)
            if (k >= 0 && k < w && k != x && (top[k] < top[x] || (k < x && top[k] == top[x])))
                peak = false;
        if (!peak)
            continue;
        /* the bump's width 40 % of a typical head's depth below its top */
        int l = x, rr = x, depth = 0;
        for (int pass = 0; pass < 2; pass++) {
            depth = pass ? (int)(0.4 * (rr - l + 1)) : minpx;
            depth = depth < minpx / 2 ? minpx / 2 : depth;
            l = x;
            rr = x;
            while (l > 0 && top[l - 1] <= top[x] + depth)
                l--;
            while (rr < w - 1 && top[rr + 1] <= top[x] + depth)
                rr++;
        }
        double bw = rr - l + 1;
        if (bw < minpx || bw > 0.9 * w)
            continue;
        /* a bump cut by a side of the picture: assume a head as wide again as is seen */
        double fw = 0.8 * bw, cx = (l + rr + 1) / 2.0;
        if (l == 0 || rr == w - 1)
            fw = 0.8 * fmin(2 * bw, 0.5 * w);
        out[n++] =
            (struct pc_face_det){.x = cx - fw / 2, .y = top[x] + 0.35 * fw, .w = fw, .h = fw};
        x = rr; /* one candidate per bump */
    }
    free(top);
    return n;
}

/* Whether the view holds a face at the candidate box c: HOG on a patch twice its size,
 * normalised on its own (a second person's face may be darker or lighter than the
 * subject's), at a scale where the face is FACE_DET_PX wide. The confirmed box in *o. */
static bool confirm_face(const struct view *v, const struct pc_face_det *c, struct pc_face_det *o)
{
    struct pc_face_det d[MAX_DETS];
    double cx = c->x + c->w / 2, cy = c->y + c->h / 2;
    double bw = 2.2 * c->w, bh = 2.2 * c->h, bx = cx - bw / 2, by = cy - bh / 2;
    double k = PC__T(FACE_DET_PX) / c->w;
    int m = hog_on(v, bx, by, bw, bh, k, -1, false, 0, PC__T(SECOND_HOG), 0, d, MAX_DETS);
    for (int j = 0; j < m; j++) {
        double dx = d[j].x + d[j].w / 2 - cx, dy = d[j].y + d[j].h / 2 - cy;
        if (hypot(dx, dy) > 0.5 * c->w)
            continue;
        *o = d[j];
        return true;
    }
    return false;
}

/* ---- the scan for other faces, on a thread of its own ---- */

/* A piece of the caller's work the scan's thread may take once its scan is done: whichever
 * thread claims it first runs it. */
enum help_state { HELP_NONE, HELP_POSTED, HELP_TAKEN, HELP_DONE };

struct pc__face_scan {
    struct pc__img g;                  /* the analysis picture in grey (read by every step) */
    struct pc_face_det cand[MAX_DETS]; /* the frontal cascade's faces */
    int n;                             /* how many, or a negative pc_err */
    pthread_t thread;
    bool running; /* the thread was started and not yet joined */
    /* the job (mu guards the rest) */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    enum help_state state;
    bool closing; /* no more jobs: the thread ends once its scan is done */
    void (*fn)(void *);
    void *arg;
};

/* Faces from SECOND_MIN_PX up on the plain grey picture, those from SECOND_HALF_PX up on the
 * picture halved (a quarter of the windows, bench/README.md "Photo pipeline"), best first (the
 * thread's body); then the job the caller posts meanwhile, if the caller has not taken it
 * back. */
static void *scan_run(void *arg)
{
    struct pc__face_scan *s = arg;
    int minpx = (int)PC__T(SECOND_MIN_PX), halfpx = (int)PC__T(SECOND_HALF_PX);
    struct pc_face_gray fg = {s->g.p, s->g.w, s->g.h, s->g.w};
    s->n = pc_face_cascade(&fg, PC_FACE_CASCADE_FRONTAL, minpx, halfpx - 1, 1.25, 3, s->cand,
                           MAX_DETS);
    struct pc__img half = {0};
    pc__img_alloc(&half, s->g.w / 2 > 0 ? s->g.w / 2 : 1, s->g.h / 2 > 0 ? s->g.h / 2 : 1, 1);
    pc__resample(&s->g, 0, 0, s->g.w, s->g.h, &half, NULL);
    struct pc_face_gray hg = {half.p, half.w, half.h, half.w};
    struct pc_face_det d[MAX_DETS];
    int m =
        pc_face_cascade(&hg, PC_FACE_CASCADE_FRONTAL, (halfpx + 1) / 2, 0, 1.25, 3, d, MAX_DETS);
    double kx = (double)s->g.w / half.w, ky = (double)s->g.h / half.h;
    int n = s->n < 0 ? 0 : s->n;
    for (int i = 0; i < m && n < MAX_DETS; i++) { /* in the list, best first */
        d[i].x *= kx;
        d[i].y *= ky;
        d[i].w *= kx;
        d[i].h *= ky;
        int k = n++;
        for (; k > 0 && s->cand[k - 1].score < d[i].score; k--)
            s->cand[k] = s->cand[k - 1];
        s->cand[k] = d[i];
    }
    if (s->n >= 0 || m >= 0)
        s->n = n;
    pc__img_free(&half);
    if (!s->running)
        return NULL; /* on the caller's thread */
    pthread_mutex_lock(&s->mu);
    while (s->state != HELP_POSTED && !s->closing)
        pthread_cond_wait(&s->cv, &s->mu);
    if (s->state == HELP_POSTED) {
        s->state = HELP_TAKEN;
        pthread_mutex_unlock(&s->mu);
        s->fn(s->arg);
        pthread_mutex_lock(&s->mu);
        s->state = HELP_DONE;
        pthread_cond_broadcast(&s->cv);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Offers fn(arg) to the scan's thread (caller's thread). False when there is no such thread:
 * the caller runs it. */
static bool help_post(struct pc__face_scan *s, void (*fn)(void *), void *arg)
{
    if (!s || !s->running)
        return false;
    pthread_mutex_lock(&s->mu);
    bool ok = s->state == HELP_NONE && !s->closing;
    if (ok) {
        s->fn = fn;
        s->arg = arg;
        s->state = HELP_POSTED;
        pthread_cond_broadcast(&s->cv);
    }
    pthread_mutex_unlock(&s->mu);
    return ok;
}

/* Once help_post's job is needed: runs it here if the scan's thread has not taken it yet,
 * else waits for it to finish. The scan's thread then takes no other job. */
static void help_finish(struct pc__face_scan *s)
{
    pthread_mutex_lock(&s->mu);
    bool here = s->state == HELP_POSTED;
    if (here)
        s->state = HELP_TAKEN;
    while (!here && s->state != HELP_DONE)
        pthread_cond_wait(&s->cv, &s->mu);
    s->closing = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    if (here)
        s->fn(s->arg);
}

static void scan_wait(struct pc__face_scan *s)
{
    if (s->running) {
        pthread_mutex_lock(&s->mu);
        s->closing = true;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->thread, NULL);
    }
    s->running = false;
}

struct pc__face_scan *pc__faces_scan_start(const struct pc__img *ana, bool thread)
{
    struct pc__face_scan *s = pc_xcalloc(1, sizeof *s);
    to_grey(ana, &s->g);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->running = thread;
    if (thread && pthread_create(&s->thread, NULL, scan_run, s) != 0)
        s->running = false;
    if (!s->running) /* not asked for, or no thread to be had: here and now */
        scan_run(s);
    return s;
}

void pc__faces_scan_free(struct pc__face_scan *s)
{
    if (!s)
        return;
    scan_wait(s);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    pc__img_free(&s->g);
    free(s);
}

/* Other faces anywhere: proposals from the frontal Haar cascade on the plain grey picture
 * (the scan) and from the wall's outline (heads beside the subject, whatever their skin: the
 * cascade misses dark faces), each confirmed by HOG on its own normalised patch (a texture or
 * a shirt pattern that fooled the cascade rarely passes HOG as well). */
static void find_others(const struct view *v, const struct pc__face_scan *s,
                        const struct pc__seg *seg, struct pc__faces *f)
{
    struct pc_face_det cand[MAX_DETS * 2];
    int nc = s->n > 0 ? s->n : 0;
    memcpy(cand, s->cand, (size_t)nc * sizeof cand[0]);
    nc += outline_heads(seg, f, cand + nc, MAX_DETS);
    for (int i = 0; i < nc && f->others < PC__MAX_OTHERS; i++) {
        const struct pc_face_det *c = &cand[i];
        double cx = c->x + c->w / 2, cy = c->y + c->h / 2;
        if (f->found) { /* the subject's own face, found again */
            double mx = f->x - 0.2 * f->w, my = f->y - 0.2 * f->h;
            if ((cx > mx && cx < mx + 1.4 * f->w && cy > my && cy < my + 1.4 * f->h) ||
                overlap(c->x, c->y, c->w, c->h, f->x, f->y, f->w, f->h) > 0.2)
                continue;
        }
        bool dup = false; /* already confirmed at this place */
        for (int j = 0; j < f->others; j++)
            dup |= overlap(c->x, c->y, c->w, c->h, f->ox[j], f->oy[j], f->ow[j], f->oh[j]) > 0.2;
        struct pc_face_det o;
        if (dup || !confirm_face(v, c, &o))
            continue;
        if (f->found && overlap(o.x, o.y, o.w, o.h, f->x, f->y, f->w, f->h) > 0.2)
            continue;
        int k = f->others++;
        f->ox[k] = o.x;
        f->oy[k] = o.y;
        f->ow[k] = o.w;
        f->oh[k] = o.h;
        f->oscore[k] = o.score;
    }
}

/* The view of src for ana's boxes (ana itself when there is no src). */
static struct view view_of(const struct pc__img *ana, const struct pc__img *src, int orientation)
{
    bool swap = orientation >= 5;
    struct view v = {src ? src : ana, src ? orientation : 1, 1, 1};
    if (src) {
        v.fx = (double)(swap ? src->h : src->w) / ana->w;
        v.fy = (double)(swap ? src->w : src->h) / ana->h;
    }
    return v;
}

void pc__faces_subject(const struct pc__img *ana, const struct pc__seg *seg,
                       const struct pc__img *src, int orientation, const struct pc__face_scan *s,
                       struct pc__faces *f)
{
    const struct pc__img *g = &s->g;
    memset(f, 0, sizeof *f);
    struct view v = view_of(ana, src, orientation);
    int med;
    if (seg->found) { /* the lower face: below the hairline, inside the cheeks */
        double hn = seg->neck_y - seg->head_top, hw = seg->head_w;
        med = median_box(g, (int)(seg->head_cx - 0.25 * hw), (int)(seg->head_top + 0.45 * hn),
                         (int)(seg->head_cx + 0.25 * hw), seg->neck_y);
    } else {
        med = median_box(g, g->w / 3, g->h / 4, 2 * g->w / 3, g->h / 2);
    }
    find_subject(&v, g, med, seg, f);
}

void pc__faces_others(const struct pc__img *ana, const struct pc__seg *seg,
                      const struct pc__img *src, int orientation, struct pc__face_scan *s,
                      struct pc__faces *f)
{
    struct view v = view_of(ana, src, orientation);
    scan_wait(s);
    f->others = 0;
    find_others(&v, s, seg, f);
}

void pc__faces_find(const struct pc__img *ana, const struct pc__seg *seg, const struct pc__img *src,
                    int orientation, struct pc__faces *f)
{
    struct pc__face_scan *s = pc__faces_scan_start(ana, false);
    pc__faces_subject(ana, seg, src, orientation, s, f);
    pc__faces_others(ana, seg, src, orientation, s, f);
    pc__faces_scan_free(s);
}

/* ---- the subject's eyes, on a patch at a fixed scale ---- */
/* Candidate eye from the cascades in one side's band of the normalised patch: the strongest
 * hit whose centre lies between the heights zy0 and zy1 (the eyeglasses cascade only when the
 * plain eye cascade finds none). */
static bool cascade_eye(const struct pc__img *p, int x0, int y0, int x1, int y1, double fw,
                        double zy0, double zy1, double *ex, double *ey, double *size)
{
    struct pc_face_det d[MAX_DETS];
    static const enum pc_face_cascade which[] = {PC_FACE_CASCADE_EYE, PC_FACE_CASCADE_EYE_GLASSES};
    struct pc_face_gray fg = {p->p + (size_t)y0 * p->w + x0, x1 - x0, y1 - y0, p->w};
    double best = -1e9;
    bool found = false;
    for (size_t c = 0; c < sizeof which / sizeof which[0] && !found; c++) {
        int n =
            pc_face_cascade(&fg, which[c], (int)(0.12 * fw), (int)(0.4 * fw), 1.1, 2, d, MAX_DETS);
        for (int i = 0; i < n; i++) {
            double cy = y0 + d[i].y + d[i].h / 2;
            if (d[i].score <= best || cy < zy0 || cy > zy1)
                continue; /* a brow, hair, a nostril */
            best = d[i].score;
            *ex = x0 + d[i].x + d[i].w / 2;
            *ey = y0 + d[i].y + d[i].h / 2;
            *size = d[i].w;
            found = true;
        }
    }
    return found;
}

/* The pupil near (*ex, *ey): the darkest mean of a window about the pupil's size (lashes and
 * brows are thin lines: a window centred on them is mostly lid or skin) within ±reach across
 * and ±vreach up and down (a light iris under a dark brow: the brow must stay out of reach). */
static void iris_centre(const struct pc__img *g, double *ex, double *ey, double fw, double reach,
                        double vreach)
{
    int r = (int)lround(0.02 * fw), cx = (int)lround(*ex), cy = (int)lround(*ey);
    int rr = (int)lround(reach), vr = (int)lround(vreach);
    double best = 1e18, bx = *ex, by = *ey;
    r = r < 1 ? 1 : r;
    for (int y = cy - vr; y <= cy + vr; y++)
        for (int x = cx - rr; x <= cx + rr; x++) {
            if (x - r < 0 || y - r < 0 || x + r >= g->w || y + r >= g->h)
                continue;
            long acc = 0;
            for (int v = y - r; v <= y + r; v++) {
                const unsigned char *q = g->p + (size_t)v * g->w + x - r;
                for (int u = 0; u <= 2 * r; u++)
                    acc += q[u];
            }
            if (acc < best) {
                best = (double)acc;
                bx = x + 0.5;
                by = y + 0.5;
            }
        }
    *ex = bx;
    *ey = by;
}

/* One connected part of an eye band's deviation mask. */
struct comp {
    double cx, cy;      /* centroid (patch px) */
    int x0, y0, x1, y1; /* bounding box (patch px) */
    double run;         /* tallest column run in its middle half (px) */
    double fill;        /* pixels / bounding box (a spectacle frame's ring: low) */
};

#define MAX_COMPS 32

/* The deviation mask of a band (pixels whose luminance differs from the cheek's by more than
 * a factor, darker or brighter: an open eye shows iris, pupil and white, a closed one only
 * its lash line) split into 8-connected parts; specks and parts wider than 60 % of the face
 * (hair) are left out. Returns how many. */
static int band_comps(const struct pc__img *g, int x0, int y0, int x1, int y1, double fw,
                      double cheek, struct comp *out)
{
    int w = x1 - x0, h = y1 - y0, nout = 0;
    if (w < 4 || h < 4)
        return 0;
    unsigned char *m = pc_xcalloc((size_t)w * h, 1);
    int *lab = pc_xcalloc((size_t)w * h, sizeof *lab);
    int *stack = pc_xmalloc((size_t)w * h * sizeof *stack);
    double t = PC__T(EYE_DEV);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double v = g->p[(size_t)(y0 + y) * g->w + x0 + x];
            m[(size_t)y * w + x] = fabs(log((v + 8) / (cheek + 8))) > t;
        }
    int cur = 0;
    for (int s = 0; s < w * h; s++) {
        if (!m[s] || lab[s])
            continue;
        cur++;
        int sp = 0, bx0 = w, bx1 = -1, by0 = h, by1 = -1;
        long cnt = 0;
        double sx = 0, sy = 0;
        stack[sp++] = s;
        lab[s] = cur;
        while (sp) {
            int i = stack[--sp], x = i % w, y = i / w;
            cnt++;
            sx += x;
            sy += y;
            bx0 = x < bx0 ? x : bx0;
            bx1 = x > bx1 ? x : bx1;
            by0 = y < by0 ? y : by0;
            by1 = y > by1 ? y : by1;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    int nx = x + dx, ny = y + dy;
                    if (nx < 0 || ny < 0 || nx >= w || ny >= h)
                        continue;
                    int j = ny * w + nx;
                    if (m[j] && !lab[j]) {
                        lab[j] = cur;
                        stack[sp++] = j;
                    }
                }
        }
        double cw = bx1 - bx0 + 1;
        if (cw < 0.06 * fw || cw > 0.6 * fw || cnt < 0.0004 * fw * fw || nout >= MAX_COMPS)
            continue;
        int run_max = 0;
        for (int x = bx0 + (int)(cw / 4); x <= bx1 - (int)(cw / 4); x++) {
            int run = 0;
            for (int y = by0; y <= by1; y++) {
                run = lab[y * w + x] == cur ? run + 1 : 0;
                run_max = run > run_max ? run : run_max;
            }
        }
        out[nout++] = (struct comp){
            x0 + sx / cnt + 0.5, y0 + sy / cnt + 0.5, x0 + bx0, y0 + by0,
            x0 + bx1 + 1,        y0 + by1 + 1,        run_max,  cnt / (cw * (by1 - by0 + 1))};
    }
    free(m);
    free(lab);
    free(stack);
    return nout;
}

/* Share of a band that is glare: near-white, colourless pixels. */
static double glare_share(const struct pc__img *rgb, int x0, int y0, int x1, int y1)
{
    long n = 0, gl = 0;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) {
            const unsigned char *p = rgb->p + ((size_t)y * rgb->w + x) * 3;
            int mx = p[0] > p[1] ? (p[0] > p[2] ? p[0] : p[2]) : (p[1] > p[2] ? p[1] : p[2]);
            int mn = p[0] < p[1] ? (p[0] < p[2] ? p[0] : p[2]) : (p[1] < p[2] ? p[1] : p[2]);
            n++;
            gl += mn >= PC__T(GLARE_Y) && mx - mn <= 24;
        }
    return n ? (double)gl / n : 0;
}

/* One side's eye from its band's parts: anchored at the cascade's eye when there is one, else
 * at the lowest part inside the face (a brow lies above the eye); the parts at the anchor's
 * height, spectacle frames (rings: a low fill) left out, are the eye, and their tallest run
 * its opening. Returns false when there is nothing to anchor; *sure when the place is an
 * eye's (a cascade's, or a part that is no frame). */
static bool place_eye(const struct pc__img *g, const struct comp *c, int n, double fx, double fw,
                      bool casc, double other_y, bool other, double *ex, double *ey, double *open,
                      bool *sure)
{
    const double ring = 0.3;
    double ax = *ex, ay = *ey;
    int anchor = -1;
    if (!casc) {
        for (int i = 0; i < n; i++) {
            if (c[i].cx < fx + 0.08 * fw || c[i].cx > fx + 0.92 * fw)
                continue; /* the face's edge, an ear */
            if (other && fabs(c[i].cy - other_y) > 0.22 * fw)
                continue;
            if (c[i].fill < ring && anchor >= 0)
                continue;
            if (anchor < 0 || c[i].cy > c[anchor].cy || c[anchor].fill < ring)
                anchor = i;
        }
        if (anchor < 0)
            return false;
        ax = c[anchor].cx;
        ay = c[anchor].cy;
    }
    *sure = casc || c[anchor].fill >= ring;
    double run = 0, frame_run = 0;
    for (int i = 0; i < n; i++) {
        if (fabs(c[i].cy - ay) > 0.08 * fw || fabs(c[i].cx - ax) > 0.2 * fw)
            continue;
        if (c[i].fill < ring)
            frame_run = fmax(frame_run, c[i].run);
        else
            run = fmax(run, c[i].run);
    }
    *open = (run > 0 ? run : frame_run) / fw;
    *ex = ax;
    *ey = ay;
    if (*open >= PC__T(EYE_OPEN_MIN)) /* an open eye: its pupil, near where it was placed */
        iris_centre(g, ex, ey, fw, 0.06 * fw, (casc ? 0.03 : 0.06) * fw);
    return true;
}

/* Both eyes by the cascades on the normalised patch g rotated by rot degrees about
 * (cx, cy), mapped back to the patch. */
static bool cascade_pair(const struct pc__img *g, double rot, double cx, double cy, const int *x0,
                         const int *x1, int y0, int y1, double fy, double fw, double *ex,
                         double *ey, double *size)
{
    struct pc__img r = {0};
    const struct pc__img *in = g;
    if (rot != 0) {
        rotate(g, rot, &r);
        in = &r;
    }
    bool ok = true;
    for (int s = 0; s < 2 && ok; s++)
        ok = cascade_eye(in, x0[s], y0, x1[s], y1, fw, fy + 0.14 * fw, fy + 0.48 * fw, &ex[s],
                         &ey[s], &size[s]);
    double c = cos(rot / DEG), sn = sin(rot / DEG);
    for (int s = 0; s < 2 && ok && rot != 0; s++) { /* rotated picture → patch */
        double dx = ex[s] - cx, dy = ey[s] - cy;
        ex[s] = cx + dx * c + dy * sn;
        ey[s] = cy - dx * sn + dy * c;
    }
    pc__img_free(&r);
    return ok;
}

/* The cascades on one side's eye band (pc__faces_eyes' first step; either thread). */
struct eye_job {
    const struct pc__img *g;
    int x0, x1, y0, y1;
    double fw, fy;
    bool found;
    double ex, ey, size;
};

static void eye_run(void *arg)
{
    struct eye_job *j = arg;
    j->found = cascade_eye(j->g, j->x0, j->y0, j->x1, j->y1, j->fw, j->fy + 0.14 * j->fw,
                           j->fy + 0.48 * j->fw, &j->ex, &j->ey, &j->size);
}

void pc__faces_eyes(const struct pc__img *patch, double fx, double fy, double fw,
                    struct pc__faces *f)
{
    pc__faces_eyes_help(patch, fx, fy, fw, f, NULL);
}

void pc__faces_eyes_help(const struct pc__img *patch, double fx, double fy, double fw,
                         struct pc__faces *f, struct pc__face_scan *help)
{
    struct pc__img g = {0}, raw = {0};
    to_grey(patch, &raw);
    to_grey(patch, &g);
    /* the lower face's median (cheeks, nose, mouth) for the detectors' normalisation */
    int med = median_box(&g, (int)(fx + 0.25 * fw), (int)(fy + 0.55 * fw), (int)(fx + 0.75 * fw),
                         (int)(fy + 0.8 * fw));
    normalise(&g, med, 4, PC__T(FACE_CLAHE_CLIP));
    double ex[2] = {0, 0}, ey[2] = {0, 0};
    bool casc[2], placed[2] = {false, false}, sure[2] = {false, false};
    int x0[2], x1[2], y0 = (int)(fy + 0.08 * fw), y1 = (int)(fy + 0.5 * fw);
    y0 = y0 < 0 ? 0 : y0;
    y1 = y1 > g.h ? g.h : y1;
    /* the two sides' cascades: the right one offered to the scan's thread, done with its
     * scan by now or soon (bench/README.md "Photo pipeline"), the left one here */
    struct eye_job side[2];
    for (int s = 0; s < 2; s++) {
        x0[s] = (int)(fx + (s ? 0.48 : 0.02) * fw);
        x1[s] = (int)(fx + (s ? 0.98 : 0.52) * fw);
        x0[s] = x0[s] < 0 ? 0 : x0[s];
        x1[s] = x1[s] > g.w ? g.w : x1[s];
        side[s] = (struct eye_job){&g, x0[s], x1[s], y0, y1, fw, fy, false, 0, 0, 0};
    }
    bool posted = help_post(help, eye_run, &side[1]);
    eye_run(&side[0]);
    if (posted)
        help_finish(help);
    else
        eye_run(&side[1]);
    for (int s = 0; s < 2; s++) {
        casc[s] = side[s].found;
        if (casc[s]) { /* cascade_eye leaves them alone when it finds nothing */
            ex[s] = side[s].ex;
            ey[s] = side[s].ey;
        }
    }
    if (!casc[0] || !casc[1]) { /* a rolled head: the cascades on the patch turned upright */
        /* the likelier way first: the detection pass's own turn, else against dlib's filter
         * for a head rotated clockwise (4) or anticlockwise (3) */
        double first = f->rot != 0 ? f->rot : f->fscore[4] > f->fscore[3] ? -20 : 20;
        double rots[2] = {first, -first};
        double cx = fx + fw / 2, cy = fy + fw / 2, rx[2], ry[2], rs[2];
        for (size_t k = 0; k < 2; k++) {
            if (!cascade_pair(&g, rots[k], cx, cy, x0, x1, y0, y1, fy, fw, rx, ry, rs))
                continue;
            /* a plausible pair: apart like eyes, rolled the way the patch was turned */
            double dist = hypot(rx[1] - rx[0], ry[1] - ry[0]);
            double roll = atan2(ry[1] - ry[0], rx[1] - rx[0]) * DEG;
            if (dist > 0.3 * fw && dist < 0.65 * fw && roll * -rots[k] > 0 && fabs(roll) < 40) {
                for (int s = 0; s < 2; s++) {
                    ex[s] = rx[s];
                    ey[s] = ry[s];
                    casc[s] = true;
                }
                break;
            }
        }
    }
    /* cascade eyes first: a side without one is placed near the other's height */
    for (int pass = 0; pass < 2; pass++)
        for (int s = 0; s < 2; s++) {
            if (casc[s] != (pass == 0))
                continue;
            struct comp c[MAX_COMPS];
            int cheek = median_box(&raw, (int)(fx + (s ? 0.58 : 0.18) * fw), (int)(fy + 0.56 * fw),
                                   (int)(fx + (s ? 0.82 : 0.42) * fw), (int)(fy + 0.68 * fw));
            int n = band_comps(&raw, x0[s], y0, x1[s], y1, fw, cheek, c);
            f->open[s] = 0;
            placed[s] = place_eye(&g, c, n, fx, fw, casc[s], ey[!s], placed[!s], &ex[s], &ey[s],
                                  &f->open[s], &sure[s]);
        }
    for (int s = 0; s < 2; s++) {
        f->ex[s] = ex[s];
        f->ey[s] = ey[s];
    }
    f->eyes_by_cascade = casc[0] + casc[1];
    f->eyes_found = placed[0] && placed[1] && ex[1] - ex[0] > 0.25 * fw;
    f->eyes_sure = f->eyes_found && sure[0] && sure[1];
    f->roll = f->eyes_found ? atan2(ey[1] - ey[0], ex[1] - ex[0]) * DEG : 0;
    /* a large roll one way while dlib's rotated filters clearly say the other: the eyes are
     * misplaced (a frame, a brow), not trusted */
    double cw = f->fscore[4] - f->fscore[3];
    if (f->eyes_sure && fabs(f->roll) > PC__T(ROLL_MAX) && f->roll * cw < 0 && fabs(cw) > 0.5)
        f->eyes_sure = false;
    f->glare = 0;
    for (int s = 0; s < 2; s++)
        f->glare = fmax(f->glare, glare_share(patch, x0[s], y0, x1[s], y1));
    pc__img_free(&g);
    pc__img_free(&raw);
}
