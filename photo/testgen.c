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

const unsigned char pc_photo_testgen_tones[PC_PHOTO_TESTGEN_TONES][3] = {
    {247, 224, 208}, /* I: very fair */
    {236, 198, 172}, /* II */
    {214, 168, 134}, /* III */
    {184, 132, 96},  /* IV */
    {142, 96, 66},   /* V */
    {100, 66, 46},   /* VI */
    {76, 50, 36},    /* darker */
    {58, 40, 30},    /* darkest: lit skin luma 44, shaded face ~38 */
};

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
    g->second_skin[0] = 200;
    g->second_skin[1] = 150;
    g->second_skin[2] = 120;
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

static double lin(double v) /* sRGB level → linear light */
{
    v /= 255;
    return v <= 0.04045 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4);
}

static double enc(double l) /* linear light → sRGB level */
{
    l = l < 0 ? 0 : l;
    return 255 * (l <= 0.0031308 ? 12.92 * l : 1.055 * pow(l, 1 / 2.4) - 0.055);
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

/* ---- one person: geometry in 640-row units ---- */

enum kind { K_NONE, K_HAIR, K_SKIN, K_CLOTH };

struct person {
    const struct pc_photo_testgen *g;
    bool main;                         /* the subject (else the second person) */
    double cx, top, sc;                /* head centre x, hair top, size factor */
    double a, b, c, cy;                /* face ellipsoid semi-axes and centre */
    double hcx, hcy, ha, hb;           /* hair ellipse */
    double collar, neck_top, px, py;   /* roll pivot (px, py) */
    double rc, rs, yc, ys;             /* cos/sin of roll and yaw */
    double skin[3], hair[3], cloth[3]; /* linear albedo */
    uint32_t seed;
};

static void person_init(struct person *p, const struct pc_photo_testgen *g, bool main_, double W)
{
    memset(p, 0, sizeof *p);
    p->g = g;
    p->main = main_;
    double sc = main_ ? g->size : g->second_size;
    p->sc = sc;
    p->cx = (main_ ? g->cx : g->second_cx) * W;
    p->top = (main_ ? g->top : g->second_top) * 640;
    p->a = 64 * sc;
    p->b = 96 * sc;
    p->c = 58 * sc;
    p->cy = p->top + 112 * sc;
    double roll = main_ ? g->roll : 0, yaw = main_ ? g->yaw : 0;
    p->rc = cos(roll * M_PI / 180);
    p->rs = sin(roll * M_PI / 180);
    p->yc = cos(yaw * M_PI / 180);
    p->ys = sin(yaw * M_PI / 180);
    p->hcx = p->cx - 14 * sc * p->ys;
    p->hcy = p->cy - 8 * sc;
    p->ha = p->a + 12 * sc;
    p->hb = p->hcy - p->top;
    p->collar = p->cy + p->b + 22 * sc;
    p->neck_top = p->cy + 60 * sc;
    p->px = p->cx;
    p->py = p->cy + 70 * sc;
    const unsigned char *sk = main_ ? g->skin : g->second_skin;
    static const unsigned char cloth2[3] = {150, 120, 80};
    for (int k = 0; k < 3; k++) {
        p->skin[k] = lin(sk[k]);
        p->hair[k] = lin(g->hair[k]);
        p->cloth[k] = lin(main_ ? g->cloth[k] : cloth2[k]);
    }
    p->seed = main_ ? g->seed : g->seed + 101;
}

/* Where the front surface of the (yawed) face ellipsoid is at view (x, y) relative to the
 * face centre: head-frame xh, zh. false outside the face's outline. */
static bool face_hit(const struct person *p, double x, double y, double *xh, double *zh)
{
    double a2 = p->a * p->a, b2 = p->b * p->b, c2 = p->c * p->c, co = p->yc, si = p->ys;
    double A = si * si / a2 + co * co / c2;
    double B = 2 * x * (-co * si / a2 + si * co / c2);
    double C = x * x * (co * co / a2 + si * si / c2) + y * y / b2 - 1;
    double disc = B * B - 4 * A * C;
    if (disc < 0)
        return false;
    double z = (-B + sqrt(disc)) / (2 * A);
    *xh = x * co - z * si;
    *zh = x * si + z * co;
    return true;
}

/* An almond eye centred at (0, 0), half-width ew: upper and lower lid heights at dx. */
static double lid_up(double dx, double ew, double sc, double narrow)
{
    double t = 1 - (dx / ew) * (dx / ew);
    return -6.2 * sc * (1 - narrow) * (t > 0 ? t : 0);
}

static double lid_lo(double dx, double ew, double sc, double narrow)
{
    double t = 1 - (dx / ew) * (dx / ew);
    return 4.4 * sc * (1 - narrow) * (t > 0 ? t : 0);
}

/* Albedo (linear) and a shading factor of the face at head-frame (xh, y) (y relative to the
 * face centre); *lit = false for what glows by itself (catchlights). */
static void face_features(const struct person *p, double xh, double y, double alb[3], double *shade,
                          bool *lit)
{
    const struct pc_photo_testgen *g = p->g;
    double sc = p->sc, ey = -10 * sc, ew = 13 * sc;
    bool closed = p->main && g->eyes_closed;
    *lit = true;
    /* eye sockets: a soft darkening around each eye */
    for (int side = -1; side <= 1; side += 2) {
        double ex = side * 28 * sc, dx = xh - ex, dy = y - ey;
        double r = (dx / (ew * 1.7)) * (dx / (ew * 1.7)) + (dy / (11 * sc)) * (dy / (11 * sc));
        if (r < 1)
            *shade *= 0.86 + 0.14 * r;
        /* eyebrow: an arch above the eye, thinner at the outer end */
        double bx = dx / (17 * sc), by = ey - 17 * sc - 4 * sc * (1 - bx * bx) + 2 * sc * bx * side;
        double th = 3.4 * sc * (1 - 0.45 * fmax(0, bx * side));
        if (fabs(bx) < 1 && fabs(y - by) < th / 2) {
            double t = 0.78 + 0.12 * vnoise(xh * 4, y * 4, 1.2, p->seed + 9);
            for (int k = 0; k < 3; k++)
                alb[k] = alb[k] * (1 - t) + p->hair[k] * t;
        }
        if (fabs(dx) > ew * 1.05 || fabs(dy) > 9 * sc)
            continue;
        double nar = p->main ? g->eye_narrow : 0;
        double up = lid_up(dx, ew, sc, nar), lo = lid_lo(dx, ew, sc, nar);
        /* crease above the upper lid */
        if (fabs(dy - (up - 3.6 * sc)) < 0.7 * sc && fabs(dx) < ew * 0.85)
            *shade *= 0.8;
        if (closed) {
            double lash = 1.6 * sc * (1 - (dx / ew) * (dx / ew));
            if (fabs(dx) < ew && fabs(dy - lash) < 0.9 * sc)
                for (int k = 0; k < 3; k++)
                    alb[k] = 0.012;
            continue;
        }
        if (fabs(dx) < ew * 1.02 && fabs(dy - up) < 1.1 * sc) { /* upper lashes */
            for (int k = 0; k < 3; k++)
                alb[k] = 0.01;
            continue;
        }
        if (fabs(dx) < ew && fabs(dy - lo) < 0.5 * sc) {
            *shade *= 0.8;
            continue;
        }
        if (fabs(dx) >= ew || dy <= up || dy >= lo)
            continue;
        /* inside the eye: white, iris, pupil, catchlight */
        double ix = dx, iy = dy - 0.3 * sc, d = hypot(ix, iy);
        static const double sclera[3] = {0.70, 0.68, 0.64}, iris[3] = {0.06, 0.035, 0.02};
        const double *col = sclera;
        double f = 1 - 0.25 * fabs(dx) / ew;
        if (d < 6 * sc) {
            col = iris;
            f = d > 5.2 * sc ? 0.6 : 1; /* limbal ring */
            if (d < 2.5 * sc)
                f = 0.15; /* pupil */
        }
        for (int k = 0; k < 3; k++)
            alb[k] = col[k] * f;
        if (hypot(ix + 1.8 * sc, iy + 1.8 * sc) < 1.0 * sc) { /* catchlight */
            for (int k = 0; k < 3; k++)
                alb[k] = 0.9;
            *lit = false;
        }
    }
    /* nose: sides, tip highlight, the shadow beneath, nostrils */
    double ny = y - ey;
    if (ny > 6 * sc && ny < 38 * sc && fabs(xh) > 3.5 * sc && fabs(xh) < 9 * sc)
        *shade *= 0.9 + 0.1 * (fabs(xh) - 3.5 * sc) / (5.5 * sc);
    if (in_ell(xh, y, 0, 22 * sc, 5 * sc, 4 * sc))
        *shade *= 1.05;
    if (in_ell(xh, y, 0, 31 * sc, 11 * sc, 3.6 * sc))
        *shade *= 0.78;
    if (in_ell(fabs(xh), y, 5.5 * sc, 31 * sc, 2.8 * sc, 1.6 * sc))
        *shade *= 0.45;
    /* lips and the mouth line; a soft shadow under the lower lip */
    double mx = xh / (19 * sc), my = y - 50 * sc;
    if (fabs(mx) < 1) {
        double upl = -4.8 * sc * (1 - mx * mx), lol = 5.6 * sc * (1 - mx * mx);
        if (my > upl && my < lol) {
            alb[0] *= 0.82;
            alb[1] *= 0.58;
            alb[2] *= 0.6;
            if (fabs(my) < 0.7 * sc)
                *shade *= 0.45;
        } else if (my >= lol && my < lol + 3 * sc) {
            *shade *= 0.88;
        }
    }
}

/* Glasses at head-frame (xh, y): 0 nothing, 1 frame, 2 glare. */
static int glasses_at(const struct person *p, double xh, double y)
{
    const struct pc_photo_testgen *g = p->g;
    if (!p->main || !g->glasses)
        return 0;
    double sc = p->sc, ey = -10 * sc;
    for (int side = -1; side <= 1; side += 2) {
        double dx = (xh - side * 28 * sc) / (17 * sc), dy = (y - ey + 1 * sc) / (12 * sc);
        double r = pow(pow(fabs(dx), 4) + pow(fabs(dy), 4), 0.25);
        if (r >= 0.87 && r <= 1.0)
            return 1;
        if (r < 0.87 && g->glare > 0) {
            double gx = (xh - side * 28 * sc + 3 * sc) / (12 * sc * sqrt(g->glare));
            double gy = (y - ey + 2 * sc) / (7 * sc * sqrt(g->glare));
            double rx = gx * 0.94 + gy * 0.34, ry = -gx * 0.34 + gy * 0.94;
            if (rx * rx + ry * ry < 1)
                return 2;
        }
    }
    if (fabs(xh) < 11 * sc && fabs(y - (ey - 3 * sc)) < 1.3 * sc)
        return 1; /* bridge */
    if (fabs(xh) > 45 * sc && fabs(y - (ey - 3 * sc)) < 1.3 * sc)
        return 1; /* temples */
    return 0;
}

/* The person's colour (sRGB levels) at (X, Y) (units); kind K_NONE where the person is not. */
static enum kind person_at(const struct person *p, double X, double Y, double col[3])
{
    const struct pc_photo_testgen *g = p->g;
    double sc = p->sc, dx = X - p->cx, adx = fabs(dx);
    double arm = fmax(0, adx - 120 * sc);
    double tilt = p->main ? g->tilt : 0;
    double sh =
        p->collar + 0.35 * fmax(0, adx - 30 * sc) + 0.004 / sc * arm * arm + tilt * 640 * dx / 300;
    if (Y >= sh) {
        double v = 12 * vnoise(X, Y, 2, p->seed + 2) + 6 * vnoise(X, Y, 0.8, p->seed + 5);
        for (int k = 0; k < 3; k++)
            col[k] = enc(p->cloth[k]) + v;
        if (adx < 26 * sc && Y < p->collar + 46 * sc - adx) /* a white shirt collar */
            for (int k = 0; k < 3; k++)
                col[k] = 232 + v / 2;
        return K_CLOTH;
    }
    /* the head, rolled about a pivot under the chin */
    double rx = X - p->px, ry = Y - p->py;
    double Xr = p->px + rx * p->rc + ry * p->rs, Yr = p->py - rx * p->rs + ry * p->rc;
    double x = Xr - p->cx, y = Yr - p->cy;
    bool head_zone = Yr < p->collar + 1 && fabs(x) < p->ha + 30 * sc;
    double xh = 0, zh = 0;
    bool face = head_zone && face_hit(p, x, y, &xh, &zh);
    bool hair_ell = head_zone && in_ell(Xr, Yr, p->hcx, p->hcy, p->ha, p->hb);
    bool ear = false;
    for (int side = -1; side <= 1; side += 2) {
        double exh = side * (p->a + 2 * sc);
        double ezv = -exh * p->ys; /* the ear's depth in view: hidden when behind */
        double exv = exh * p->yc;
        if (ezv > -8 * sc && head_zone && in_ell(x, y, exv, 5 * sc, 10 * sc, 20 * sc))
            ear = true;
    }
    bool back = p->main && g->back;
    bool neck = adx < 30 * sc && Y >= p->neck_top;
    enum kind kind = K_NONE;
    if (back && (hair_ell || face) && !(ear && !face))
        kind = K_HAIR;
    else if (hair_ell && (y < -40 * sc || (!face && y < -12 * sc)))
        kind = K_HAIR;
    else if (p->main && g->long_hair && fabs(x) < p->ha + 6 * sc && fabs(x) > p->a - 4 * sc &&
             Yr > p->hcy && Yr < p->collar + 40 * sc && !face)
        kind = K_HAIR;
    else if (face || ear || neck)
        kind = K_SKIN;
    if (kind == K_NONE)
        return K_NONE;
    if (kind == K_HAIR) {
        double v = 26 * vnoise(Xr * 3, Yr, 1.5, p->seed + 1);
        for (int k = 0; k < 3; k++)
            col[k] = enc(p->hair[k]) + v;
        return K_HAIR;
    }
    double alb[3],
        shade = 1,
        tex = 1 + 0.035 * vnoise(X, Y, 3, p->seed + 3) + 0.02 * vnoise(X, Y, 0.9, p->seed + 6);
    bool lit = true;
    for (int k = 0; k < 3; k++)
        alb[k] = p->skin[k] * tex;
    double bright;
    if (face) {
        face_features(p, xh, y, alb, &shade, &lit);
        int gl = glasses_at(p, xh, y);
        /* Lambert on the ellipsoid, light from the front and a little above */
        double nx = xh / (p->a * p->a), ny = y / (p->b * p->b), nz = zh / (p->c * p->c);
        double nn = sqrt(nx * nx + ny * ny + nz * nz);
        nx /= nn;
        ny /= nn;
        nz /= nn;
        double vx = nx * p->yc + nz * p->ys, vz = -nx * p->ys + nz * p->yc;
        double ndl = (vx * 0.0 + ny * -0.28 + vz * 0.96);
        bright = 0.3 + 0.72 * fmax(0, ndl);
        if (gl == 1) {
            for (int k = 0; k < 3; k++)
                alb[k] = 0.02;
        } else if (gl == 2) {
            for (int k = 0; k < 3; k++)
                alb[k] = 0.97;
            lit = false;
        }
    } else if (ear) {
        bright = 0.72;
    } else { /* neck: darker under the chin */
        double t = (Y - p->neck_top) / (30 * sc);
        bright = 0.62 + 0.2 * fmin(1, fmax(0, t));
    }
    for (int k = 0; k < 3; k++)
        col[k] = enc(lit ? alb[k] * bright * shade : alb[k]);
    if (p->main) {
        double gain = g->face_gain;
        if (g->shadow != 1) {
            double t = fmin(1, fmax(0, (dx + 10 * sc) / (20 * sc)));
            gain *= 1 + (g->shadow - 1) * t;
        }
        for (int k = 0; k < 3; k++)
            col[k] *= gain;
    }
    return K_SKIN;
}

unsigned char *pc_photo_testgen_render(const struct pc_photo_testgen *g)
{
    int w = g->w, h = g->h;
    unsigned char *rgb = pc_xmalloc((size_t)w * h * 3);
    double u = h / 640.0, W = w / u;
    struct person me, other;
    person_init(&me, g, true, W);
    if (g->second_size > 0)
        person_init(&other, g, false, W);
    uint32_t rng = g->seed * 2654435761u + 1;
    for (int y = 0; y < h; y++) {
        double Y = (y + 0.5) / u;
        for (int x = 0; x < w; x++) {
            double X = (x + 0.5) / u, col[3];
            enum kind kind = person_at(&me, X, Y, col);
            if (kind == K_NONE && g->second_size > 0)
                kind = person_at(&other, X, Y, col);
            if (kind == K_NONE) {
                double t = (X - me.cx) / W; /* -0.5 .. 0.5 */
                double v = g->bg_noise * vnoise(X, Y, 6, g->seed) - g->bg_grad * t;
                for (int c = 0; c < 3; c++)
                    col[c] = g->bg[c] + v;
            } else {
                for (int c = 0; c < 3; c++)
                    col[c] *= g->subject_gain;
            }
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

void pc_photo_testgen_eyes(const struct pc_photo_testgen *g, double eyes[4])
{
    double u = g->h / 640.0;
    struct person p;
    person_init(&p, g, true, g->w / u);
    for (int side = -1, i = 0; side <= 1; side += 2, i += 2) {
        double xh = side * 28 * p.sc, y = -10 * p.sc + 0.3 * p.sc;
        double t = 1 - (xh / p.a) * (xh / p.a) - (y / p.b) * (y / p.b);
        double zh = p.c * sqrt(t > 0 ? t : 0);
        double xv = xh * p.yc + zh * p.ys; /* view x relative to the face centre */
        double X = p.cx + xv, Y = p.cy + y;
        double rx = X - p.px, ry = Y - p.py; /* roll: head frame → display */
        eyes[i] = (p.px + rx * p.rc - ry * p.rs) * u;
        eyes[i + 1] = (p.py + rx * p.rs + ry * p.rc) * u;
    }
}

double pc_photo_testgen_face_width(const struct pc_photo_testgen *g)
{
    return 2 * 64 * g->size * g->h / 640.0;
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
