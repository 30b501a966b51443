/* photo/photo.c — the photo pipeline: header checks, scaled decode, segmentation, every rule
 * of docs/photo.md, the normalised 480×640 crop, pHash and the standard file.
 * Pure; any thread (no state outside the call). */
#include "photo/photo.h"

#include "base/alloc.h"
#include "base/err.h"
#include "photo/internal.h"
#include "photo/thresholds.h"

#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum rule {
    R_FORMAT,
    R_CORRUPT,
    R_TOO_LARGE,
    R_COLOR_SPACE,
    R_MIRRORED,
    R_RESOLUTION,
    R_SUBJECT,
    R_FACE,
    R_OTHER_FACES,
    R_CUT_OFF,
    R_BG_COLOR,
    R_BG_UNIFORM,
    R_HEAD_TOP,
    R_HEAD_SIZE,
    R_EYE_LINE,
    R_FACE_WIDTH,
    R_CENTERED,
    R_SHOULDERS,
    R_CLOTHING,
    R_POSE,
    R_ROLL,
    R_EYES_OPEN,
    R_EXPOSURE,
    R_LIGHTING,
    R_SHARPNESS,
    R_GLARE,
    R_OUTPUT_SIZE,
    R_COUNT
};

/* code, blocking (may refuse the photo), message when it passes */
static const struct {
    const char *code;
    bool blocking;
    const char *pass;
} RULES[R_COUNT] = {
    [R_FORMAT] = {"FORMAT_UNSUPPORTED", true, "照片格式正确"},
    [R_CORRUPT] = {"IMAGE_CORRUPT", true, "照片文件完整"},
    [R_TOO_LARGE] = {"IMAGE_TOO_LARGE", true, "照片像素数正常"},
    [R_COLOR_SPACE] = {"COLOR_SPACE", true, "彩色照片"},
    [R_MIRRORED] = {"MIRRORED", true, "照片未镜像"},
    [R_RESOLUTION] = {"RESOLUTION", true, "照片分辨率足够"},
    [R_SUBJECT] = {"SUBJECT_PRESENT", true, "检测到人像"},
    [R_FACE] = {"FACE_PRESENT", true, "检测到人脸"},
    [R_OTHER_FACES] = {"OTHER_FACES", true, "画面中没有其他人"},
    [R_CUT_OFF] = {"SUBJECT_CUT_OFF", true, "人像完整"},
    [R_BG_COLOR] = {"BACKGROUND_COLOR", true, "背景颜色符合要求"},
    [R_BG_UNIFORM] = {"BACKGROUND_UNIFORM", true, "背景均匀"},
    [R_HEAD_TOP] = {"HEAD_TOP", true, "头部位置合适"},
    [R_HEAD_SIZE] = {"HEAD_SIZE", true, "人像大小合适"},
    [R_EYE_LINE] = {"EYE_LINE", true, "双眼高度合适"},
    [R_FACE_WIDTH] = {"FACE_WIDTH", true, "脸部宽度合适"},
    [R_CENTERED] = {"CENTERED", true, "人像居中"},
    [R_SHOULDERS] = {"SHOULDERS_LEVEL", true, "双肩水平"},
    [R_CLOTHING] = {"CLOTHING_CONTRAST", true, "衣服与背景区分明显"},
    [R_POSE] = {"FACE_POSE", true, "正脸面对镜头"},
    [R_ROLL] = {"HEAD_ROLL", true, "头部端正"},
    [R_EYES_OPEN] = {"EYES_OPEN", true, "双眼睁开"},
    [R_EXPOSURE] = {"EXPOSURE", true, "曝光正常"},
    [R_LIGHTING] = {"LIGHTING_UNEVEN", true, "面部光线均匀"},
    [R_SHARPNESS] = {"SHARPNESS", true, "照片清晰"},
    [R_GLARE] = {"GLASSES_GLARE", false, "眼镜无明显反光"},
    [R_OUTPUT_SIZE] = {"OUTPUT_SIZE", false, "标准照文件大小合适"},
};

static const char SKIPPED[] = "未检测（请先解决前面的问题）";

/* ---- results ---- */

static void set(struct pc_photo_result *r, enum rule k, bool ok, bool blocking, const char *msg,
                double value, double limit, bool has_value)
{
    struct pc_photo_check *c = &r->checks[k];
    c->code = RULES[k].code;
    c->ok = ok;
    c->blocking = blocking;
    c->skipped = false;
    c->message = ok ? RULES[k].pass : msg;
    c->value = has_value ? value : 0;
    c->limit = has_value ? limit : 0;
    c->has_value = has_value;
}

static void pass(struct pc_photo_result *r, enum rule k, double value, double limit, bool hv)
{
    set(r, k, true, RULES[k].blocking, NULL, value, limit, hv);
}

static void fail(struct pc_photo_result *r, enum rule k, const char *msg, double value,
                 double limit, bool hv)
{
    set(r, k, false, RULES[k].blocking, msg, value, limit, hv);
}

static void warn(struct pc_photo_result *r, enum rule k, const char *msg, double value,
                 double limit)
{
    set(r, k, false, false, msg, value, limit, true);
}

static void update_ok(struct pc_photo_result *r)
{
    r->ok = true;
    for (size_t i = 0; i < r->nchecks; i++)
        if (!r->checks[i].ok && r->checks[i].blocking)
            r->ok = false;
}

void pc_photo_add_check(struct pc_photo_result *r, const char *code, bool ok, bool blocking,
                        const char *message, double value, double limit, bool has_value)
{
    if (!r || r->nchecks >= PC_PHOTO_MAX_CHECKS)
        return;
    struct pc_photo_check *c = &r->checks[r->nchecks++];
    memset(c, 0, sizeof *c);
    c->code = code;
    c->ok = ok;
    c->blocking = blocking;
    c->message = message;
    c->has_value = has_value;
    c->value = has_value ? value : 0;
    c->limit = has_value ? limit : 0;
    update_ok(r);
}

const struct pc_photo_check *pc_photo_find_check(const struct pc_photo_result *r, const char *code)
{
    for (size_t i = 0; r && code && i < r->nchecks; i++)
        if (r->checks[i].code && strcmp(r->checks[i].code, code) == 0)
            return &r->checks[i];
    return NULL;
}

void pc_photo_result_free(struct pc_photo_result *r)
{
    if (!r)
        return;
    pc_free_null(r->jpeg);
    r->jpeg_len = 0;
}

/* ---- measurements ---- */

static double luma(const unsigned char *p)
{
    return 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
}

/* lround(v) for 0 <= v < 256, without a library call per pixel (v - its whole part is exact) */
static unsigned char round_pos(double v)
{
    int t = (int)v;
    return (unsigned char)(t + (v - t >= 0.5));
}

/* The wall is of a family whose tone is known: the light blue's hue, or a light neutral wall
 * (L* >= 40: a white wall, perhaps under-exposed; a black one tells nothing). Its luminance
 * then tells the exposure, whatever the subject's skin. */
static bool wall_known_tone(const struct pc__seg *seg)
{
    double lab[3], hsv[3];
    pc__rgb_to_lab(seg->bg_rgb, lab);
    pc__rgb_to_hsv(seg->bg_rgb, hsv);
    return (hypot(lab[1], lab[2]) <= PC__T(BG_NEUTRAL_CHROMA_MAX) && lab[0] >= 40) ||
           (hsv[0] >= PC__T(BG_HUE_MIN) && hsv[0] <= PC__T(BG_HUE_MAX) &&
            hsv[1] >= PC__T(BG_SAT_MIN) && lab[0] >= 40);
}

/* BACKGROUND_COLOR: light blue near the spec's RGB(100,197,255), or a neutral light wall
 * (which the standard file replaces with the reference blue). */
static void check_bg_color(struct pc_photo_result *r, const struct pc__seg *seg)
{
    static const double ref[3] = {100, 197, 255};
    double lab[3], rlab[3], hsv[3];
    pc__rgb_to_lab(seg->bg_rgb, lab);
    pc__rgb_to_lab(ref, rlab);
    pc__rgb_to_hsv(seg->bg_rgb, hsv);
    double de =
        sqrt((lab[0] - rlab[0]) * (lab[0] - rlab[0]) + (lab[1] - rlab[1]) * (lab[1] - rlab[1]) +
             (lab[2] - rlab[2]) * (lab[2] - rlab[2]));
    double chroma = hypot(lab[1], lab[2]);
    bool blue = hsv[0] >= PC__T(BG_HUE_MIN) && hsv[0] <= PC__T(BG_HUE_MAX) &&
                hsv[1] >= PC__T(BG_SAT_MIN) && hsv[2] >= PC__T(BG_VAL_MIN) &&
                de <= PC__T(BG_DE_MAX);
    bool neutral = chroma <= PC__T(BG_NEUTRAL_CHROMA_MAX) && lab[0] >= PC__T(BG_NEUTRAL_L_MIN);
    if (neutral && !blue)
        pass(r, R_BG_COLOR, chroma, PC__T(BG_NEUTRAL_CHROMA_MAX), true);
    else if (blue)
        pass(r, R_BG_COLOR, de, PC__T(BG_DE_MAX), true);
    else if ((hsv[2] < PC__T(BG_VAL_MIN) || lab[0] < rlab[0] - 10) && wall_known_tone(seg))
        fail(r, R_BG_COLOR, "背景太暗，请在光线充足处、浅蓝色或白色的纯色墙前拍摄", de,
             PC__T(BG_DE_MAX), true);
    else
        fail(r, R_BG_COLOR,
             "背景颜色不符合要求（应为浅蓝色或白色），请在浅蓝色或白色的纯色墙前拍摄", de,
             PC__T(BG_DE_MAX), true);
}

/* BACKGROUND_UNIFORM: std(Y) of the wall above the shoulders (3 px away from the subject) and
 * the difference of the upper-left and upper-right wall. */
static void check_bg_uniform(struct pc_photo_result *r, const struct pc__img *ana,
                             const struct pc__seg *seg)
{
    int w = seg->w, h = seg->h, rad = 3;
    int ylim = seg->found ? (seg->shoulder_y < h ? seg->shoulder_y : seg->neck_y) : h / 2;
    int ypatch = seg->found ? seg->neck_y : h / 2;
    if (ylim > h)
        ylim = h;
    if (ypatch > h)
        ypatch = h;
    /* near[i]: a subject pixel within rad (square), for the rows read below: each row of tmp
     * ORs the subject's row shifted by -rad..rad, each row of near ORs tmp's rows within rad */
    unsigned char *tmp = pc_xcalloc((size_t)w * h, 1), *near = pc_xcalloc((size_t)w * h, 1);
    int yneed = ylim + rad < h ? ylim + rad : h;
    for (int y = 0; y < yneed; y++) {
        const unsigned char *f = seg->fg + (size_t)y * w;
        unsigned char *t = tmp + (size_t)y * w;
        for (int k = -rad; k <= rad; k++)
            for (int x = k < 0 ? -k : 0; x < (k > 0 ? w - k : w); x++)
                t[x] |= f[x + k];
    }
    for (int y = 0; y < ylim; y++) {
        unsigned char *q = near + (size_t)y * w;
        for (int k = y - rad < 0 ? 0 : y - rad; k <= y + rad && k < h; k++)
            for (int x = 0; x < w; x++)
                q[x] |= tmp[(size_t)k * w + x];
    }
    double s = 0, s2 = 0, sl = 0, sr = 0;
    long n = 0, nl = 0, nr = 0;
    for (int y = 0; y < ylim; y++)
        for (int x = 0; x < w; x++) {
            size_t i = (size_t)y * w + x;
            if (!seg->bgm[i] || near[i])
                continue;
            double v = luma(ana->p + i * 3);
            s += v;
            s2 += v * v;
            n++;
            if (y < ypatch && x < w / 8) {
                sl += v;
                nl++;
            } else if (y < ypatch && x >= w - w / 8) {
                sr += v;
                nr++;
            }
        }
    free(tmp);
    free(near);
    double sd = n > 1 ? sqrt(fmax(0, s2 / n - (s / n) * (s / n))) : 0;
    double lr = nl >= 30 && nr >= 30 ? fabs(sl / nl - sr / nr) : 0;
    if (lr > PC__T(BG_LR_MAX))
        fail(r, R_BG_UNIFORM, "背景明暗不均（有阴影），请调整光线或换一面光照均匀的墙再拍", lr,
             PC__T(BG_LR_MAX), true);
    else if (sd > PC__T(BG_STD_MAX))
        fail(r, R_BG_UNIFORM, "背景不干净（有杂物、花纹或阴影），请在纯色墙前拍摄", sd,
             PC__T(BG_STD_MAX), true);
    else
        pass(r, R_BG_UNIFORM, sd, PC__T(BG_STD_MAX), true);
}

/* SHARPNESS's measure on the grey face patch (the face FACE_PATCH_W px wide) within the box
 * (x0, y0)..(x1, y1): the median width of its strongest edges (eyes, brows, hairline, the
 * face's outline), in patch px: the step across an edge divided by its steepest slope. A step
 * and its slope scale together with contrast, so a darker face or a softer light with the
 * same focus measures the same; a blur of sigma s widens edges by about 2.5 s. */
static double edge_width(const struct pc__img *g, int x0, int y0, int x1, int y1)
{
    x0 = x0 < 3 ? 3 : x0;
    y0 = y0 < 3 ? 3 : y0;
    x1 = x1 > g->w - 3 ? g->w - 3 : x1;
    y1 = y1 > g->h - 3 ? g->h - 3 : y1;
    int w = x1 - x0, h = y1 - y0, gw = g->w;
    if (w < 16 || h < 16)
        return 0;
    /* 3×3 binomial smoothing (sensor noise), then Sobel */
    float *sm = pc_xcalloc((size_t)g->w * g->h, sizeof *sm);
    for (int y = 1; y < g->h - 1; y++)
        for (int x = 1; x < gw - 1; x++) {
            const unsigned char *q = g->p + (size_t)y * gw + x;
            sm[(size_t)y * gw + x] = (4.0f * q[0] + 2.0f * (q[-1] + q[1] + q[-gw] + q[gw]) +
                                      q[-gw - 1] + q[-gw + 1] + q[gw - 1] + q[gw + 1]) /
                                     16.0f;
        }
    float *mag = pc_xcalloc((size_t)w * h, sizeof *mag);
    unsigned hist[512] = {0};
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const float *q = sm + (size_t)(y0 + y) * gw + x0 + x;
            float gx = (q[-gw + 1] + 2 * q[1] + q[gw + 1] - q[-gw - 1] - 2 * q[-1] - q[gw - 1]) / 8;
            float gy =
                (q[gw - 1] + 2 * q[gw] + q[gw + 1] - q[-gw - 1] - 2 * q[-gw] - q[-gw + 1]) / 8;
            float m = sqrtf(gx * gx + gy * gy);
            mag[(size_t)y * w + x] = m;
            hist[m * 4 > 511 ? 511 : (int)(m * 4)]++;
        }
    /* the strongest 4 % of the gradients, at least 2 levels/px (above noise) */
    unsigned want = (unsigned)(0.04 * w * h), acc = 0;
    int hb = 511;
    while (hb > 0 && acc + hist[hb] < want)
        acc += hist[hb--];
    float thr = fmaxf(hb / 4.0f, 2.0f);
    double *wd = pc_xmalloc((size_t)w * h * sizeof *wd);
    size_t nw = 0;
    for (int y = 3; y < h - 3; y++)
        for (int x = 3; x < w - 3; x++) {
            float m = mag[(size_t)y * w + x];
            if (m < thr)
                continue;
            const float *q = sm + (size_t)(y0 + y) * gw + x0 + x;
            float gx = (q[-gw + 1] + 2 * q[1] + q[gw + 1] - q[-gw - 1] - 2 * q[-1] - q[gw - 1]) / 8;
            float gy =
                (q[gw - 1] + 2 * q[gw] + q[gw + 1] - q[-gw - 1] - 2 * q[-gw] - q[-gw + 1]) / 8;
            int dx = fabsf(gx) >= fabsf(gy) ? 1 : 0, dy = 1 - dx;
            /* the steepest point along the gradient's axis only */
            if (mag[(size_t)(y - dy) * w + x - dx] > m || mag[(size_t)(y + dy) * w + x + dx] > m)
                continue;
            float lo = q[0], hi = q[0];
            for (int k = -6; k <= 6; k++) {
                int xx = x0 + x + k * dx, yy = y0 + y + k * dy;
                if (xx < 1 || yy < 1 || xx >= gw - 1 || yy >= g->h - 1)
                    continue;
                float v = sm[(size_t)yy * gw + xx];
                lo = v < lo ? v : lo;
                hi = v > hi ? v : hi;
            }
            wd[nw++] = (hi - lo) / m;
        }
    double med = 0;
    if (nw) { /* median by partial selection */
        for (size_t i = 0; i <= nw / 2; i++) {
            size_t mi = i;
            for (size_t j = i + 1; j < nw; j++)
                mi = wd[j] < wd[mi] ? j : mi;
            double t = wd[i];
            wd[i] = wd[mi];
            wd[mi] = t;
        }
        med = wd[nw / 2];
    }
    free(wd);
    free(mag);
    free(sm);
    return med;
}

/* The subject's face in analysis px (from pc__faces). */
struct facegeo {
    bool found;
    double fw;    /* cheek-to-cheek width */
    double eye_y; /* eye line */
    double cx;    /* face centre: the eyes' midpoint (the box's centre without eyes) */
    bool eyes;    /* eye_y and cx come from the eyes */
};

/* The crop (analysis pixels) and what the rules derived from it. */
struct crop {
    double s;        /* output px per analysis px */
    double x0, y0;   /* box origin (ana px) */
    double cw, ch;   /* box size (ana px) */
    double head_out; /* head top in the output (px) */
};

/* The crop scale and the head top's target from the face: the eye line near the middle of
 * 200–300 (EYE_OUT_TARGET) with the head top in 50–110 and the face in FACE_OUT_MIN..MAX,
 * as close to the ideal (head top at HEAD_TOP_TARGET) as the three bands allow. */
static double face_scale(const struct pc__seg *seg, const struct facegeo *fg, double *t_out)
{
    double d = fmax(1, fg->eye_y - seg->head_top);
    double lo = fmax(PC__T(FACE_OUT_MIN) / fg->fw, (PC__T(EYE_OUT_MIN) - PC__T(HEAD_TOP_MAX)) / d);
    double hi = fmin(PC__T(FACE_OUT_MAX) / fg->fw, (PC__T(EYE_OUT_MAX) - PC__T(HEAD_TOP_MIN)) / d);
    double s = (PC__T(EYE_OUT_TARGET) - PC__T(HEAD_TOP_TARGET)) / d;
    if (lo <= hi)
        s = fmin(fmax(s, lo), hi);
    else /* the bands cannot all be met: keep the face's band */
        s = fmin(fmax(s, PC__T(FACE_OUT_MIN) / fg->fw), PC__T(FACE_OUT_MAX) / fg->fw);
    *t_out = fmin(fmax(PC__T(EYE_OUT_TARGET) - d * s, PC__T(HEAD_TOP_MIN)), PC__T(HEAD_TOP_MAX));
    return s;
}

/* EYE_LINE and FACE_WIDTH refuse beyond the spec's bands by more than what the measure can
 * tell apart (the eyes' position, the face's width from the eyes' distance). */
#define EYE_LO  (PC__T(EYE_OUT_MIN) - PC__T(EYE_TOL))
#define EYE_HI  (PC__T(EYE_OUT_MAX) + PC__T(EYE_TOL))
#define FACE_LO (PC__T(FACE_W_MIN) * (1 - PC__T(FACE_W_TOL)))
#define FACE_HI (PC__T(FACE_W_MAX) * (1 + PC__T(FACE_W_TOL)))

/* A 3:4 picture that already meets the standard (head top 50–110, eye line 200–300, face
 * 180–300, centred) at its own size scaled to 640 rows: it is kept whole. */
static bool already_standard(const struct pc__seg *seg, const struct facegeo *fg, int w, int h)
{
    if (!fg->found || !fg->eyes || fabs((double)w / h - 0.75) > 0.01)
        return false;
    double k = (double)PC_PHOTO_OUT_H / h; /* output px per ana px (ana has 640 rows: 1) */
    double top = seg->head_top * k, eye = fg->eye_y * k, fw = fg->fw * k;
    return top >= PC__T(HEAD_TOP_MIN) && top <= PC__T(HEAD_TOP_MAX) && eye >= EYE_LO &&
           eye <= EYE_HI && fw >= FACE_LO && fw <= FACE_HI &&
           fabs(fg->cx * k - PC_PHOTO_OUT_W / 2.0) <= PC__T(CENTER_MAX);
}

static void eval_geometry(struct pc_photo_result *r, const struct pc__seg *seg,
                          const struct facegeo *fg, double s_res, struct crop *c)
{
    int w = seg->w, h = seg->h;
    bool cut_top = seg->head_top <= PC__T(CUT_TOP_ROWS);
    bool cut_side = false;
    int yside = seg->shoulder_y < h ? seg->shoulder_y : seg->neck_y;
    for (int y = seg->head_top; y < yside && y < h; y++)
        if (seg->left[y] >= 0 &&
            (seg->left[y] <= PC__T(CUT_SIDE_PX) || seg->right[y] >= w - 1 - PC__T(CUT_SIDE_PX)))
            cut_side = true;
    if (cut_top)
        fail(r, R_CUT_OFF, "头顶被裁切，请后退一点或把手机抬高，让头顶上方留出空间", 0, 0, false);
    else if (cut_side)
        fail(r, R_CUT_OFF, "人像左右被裁切，请站到画面中间，让头部和双肩完整入镜", 0, 0, false);
    else
        pass(r, R_CUT_OFF, 0, 0, false);

    bool whole = already_standard(seg, fg, w, h);
    double s, t_target = PC__T(HEAD_TOP_TARGET), tol = PC__T(HEAD_NECK_TOL), s_lo, s_hi;
    if (whole) {
        s = (double)PC_PHOTO_OUT_H / h;
        s_lo = s_hi = s;
        t_target = seg->head_top * s; /* kept where it is */
    } else if (fg->found) {
        /* from the face: the eye line and the face width (docs/photo.md "Crop") */
        s = face_scale(seg, fg, &t_target);
        s_lo = fmax(PC__T(FACE_OUT_MIN) / fg->fw, s / tol);
        s_hi = fmin(PC__T(FACE_OUT_MAX) / fg->fw, s * tol);
    } else {
        /* no face: the silhouette model, head top to neck = HEAD_NECK_OUT */
        double hn = seg->neck_y - seg->head_top, fw = PC__T(FACE_OF_HEAD) * seg->head_w;
        double s_model = PC__T(HEAD_NECK_OUT) / hn;
        s_lo = fmax(PC__T(FACE_OUT_MIN) / fw, s_model / tol);
        s_hi = fmin(PC__T(FACE_OUT_MAX) / fw, s_model * tol);
        s = fmin(fmax(s_model, PC__T(FACE_OUT_MIN) / fw), PC__T(FACE_OUT_MAX) / fw);
    }
    /* Within the bands, prefer no enlargement (s <= s_res) and a box no taller than the
     * input (s >= 1: the analysis image has 640 rows). */
    if (s > s_res)
        s = fmax(s_res, fmin(s, s_lo));
    if (s < 1)
        s = fmin(1, fmax(s, s_hi));
    c->s = s;
    c->ch = PC_PHOTO_OUT_H / s;
    c->cw = PC_PHOTO_OUT_W / s;

    /* HEAD_SIZE: the share of the input height the crop needs. */
    double frac = c->ch / h, fmin_ = PC__T(HEAD_FRAC_MIN) * PC_PHOTO_OUT_H / PC__T(HEAD_NECK_OUT);
    bool too_big = frac > 1.0 + 1e-9;
    if (too_big)
        fail(r, R_HEAD_SIZE, "头部太大（离镜头太近），请后退一点再拍", frac, 1.0, true);
    else if (frac < fmin_)
        fail(r, R_HEAD_SIZE, "人像太小（离镜头太远），请靠近一点再拍", frac, fmin_, true);
    else
        pass(r, R_HEAD_SIZE, frac, 1.0, true);

    /* HEAD_TOP: a head-top position in [50, 110] output px must exist with the box inside. */
    double room = seg->head_top * s, below = (h - seg->head_top) * s;
    double lo = fmax(PC__T(HEAD_TOP_MIN), PC_PHOTO_OUT_H - below);
    double hi = fmin(PC__T(HEAD_TOP_MAX), room);
    if (cut_top || too_big)
        ; /* skipped: SUBJECT_CUT_OFF / HEAD_SIZE says what to do */
    else if (room < PC__T(HEAD_TOP_MIN))
        fail(r, R_HEAD_TOP, "头部位置偏高，请后退一点或把手机稍微抬高再拍", room,
             PC__T(HEAD_TOP_MIN), true);
    else if (PC_PHOTO_OUT_H - below > PC__T(HEAD_TOP_MAX))
        fail(r, R_HEAD_TOP, "头部位置偏低（肩部入镜不足），请把手机稍微放低再拍",
             PC_PHOTO_OUT_H - below, PC__T(HEAD_TOP_MAX), true);
    else
        pass(r, R_HEAD_TOP, fmin(fmax(t_target, lo), hi), PC__T(HEAD_TOP_MAX), true);
    /* the box for the measurements: in the band when possible, else inside the picture */
    double lo_fit = PC_PHOTO_OUT_H - below, hi_fit = room;
    if (whole)
        c->head_out = room;
    else if (lo <= hi)
        c->head_out = fmin(fmax(t_target, lo), hi);
    else if (lo_fit <= hi_fit)
        c->head_out = fmin(fmax(t_target, lo_fit), hi_fit);
    else
        c->head_out = (lo_fit + hi_fit) / 2;
    c->y0 = seg->head_top - c->head_out / s;

    /* CENTERED: the face's (else the head's) centre in the output after the best box inside
     * the input. */
    double cx = fg->found ? fg->cx : seg->head_cx;
    double x0 = whole ? 0 : cx - PC_PHOTO_OUT_W / 2.0 / s;
    if (c->cw <= w)
        x0 = fmin(fmax(x0, 0), w - c->cw);
    c->x0 = x0;
    double off = (cx - x0) * s - PC_PHOTO_OUT_W / 2.0;
    if (fabs(off) <= PC__T(CENTER_MAX))
        pass(r, R_CENTERED, fabs(off), PC__T(CENTER_MAX), true);
    else
        fail(r, R_CENTERED,
             off < 0 ? "人像偏左，请站到画面正中间再拍" : "人像偏右，请站到画面正中间再拍",
             fabs(off), PC__T(CENTER_MAX), true);

    /* EYE_LINE, FACE_WIDTH: measured from the eyes and the face on the standard file */
    if (fg->found && !too_big && !cut_top) {
        double eye = (fg->eye_y - c->y0) * s, fwo = fg->fw * s;
        if (!fg->eyes)
            ; /* skipped: the eyes were not found (EYES_OPEN, FACE_POSE say why) */
        else if (eye < EYE_LO)
            fail(r, R_EYE_LINE, "双眼位置偏高，请后退一点或把手机稍微抬高再拍", eye, EYE_LO, true);
        else if (eye > EYE_HI)
            fail(r, R_EYE_LINE, "双眼位置偏低，请把手机稍微放低、让头部靠上一些再拍", eye, EYE_HI,
                 true);
        else
            pass(r, R_EYE_LINE, eye, EYE_HI, true);
        if (fwo < FACE_LO)
            fail(r, R_FACE_WIDTH, "脸部太小，请靠近一点再拍", fwo, FACE_LO, true);
        else if (fwo > FACE_HI)
            fail(r, R_FACE_WIDTH, "脸部太大，请后退一点再拍", fwo, FACE_HI, true);
        else
            pass(r, R_FACE_WIDTH, fwo, FACE_HI, true);
    }

    if (too_big)
        return; /* CLOTHING_CONTRAST, SHOULDERS_LEVEL skipped: the box does not fit */
    /* CLOTHING_CONTRAST ("黑边"): the subject fills the bottom band of the box. */
    long cov = 0, tot = 0;
    int yb0 = (int)floor(c->y0 + c->ch * (1 - PC__T(CLOTH_BAND))), yb1 = (int)ceil(c->y0 + c->ch);
    int xb0 = (int)floor(c->x0), xb1 = (int)ceil(c->x0 + c->cw);
    for (int y = yb0; y < yb1; y++)
        for (int x = xb0; x < xb1; x++) {
            tot++;
            if (y >= 0 && y < h && x >= 0 && x < w && seg->fg[(size_t)y * w + x])
                cov++;
        }
    double cover = tot ? (double)cov / tot : 0;
    bool cloth_ok = cover >= PC__T(CLOTH_COVER_MIN);
    if (cloth_ok)
        pass(r, R_CLOTHING, cover, PC__T(CLOTH_COVER_MIN), true);
    else
        fail(r, R_CLOTHING,
             "衣服颜色与背景太接近或肩部未入镜，请换一件与背景反差明显的衣服，并让双肩入镜", cover,
             PC__T(CLOTH_COVER_MIN), true);

    /* SHOULDERS_LEVEL: heights where the silhouette reaches x = 40 and 440 in the output. */
    if (!cloth_ok)
        return; /* skipped */
    int yl = -1, yr = -1;
    double d = 200 / s, bcx = seg->head_cx; /* the body's centre: the neck's (a rolled head's */
    if (seg->neck_seen && seg->neck_y < h && seg->left[seg->neck_y] >= 0) /* centre moves) */
        bcx = (seg->left[seg->neck_y] + seg->right[seg->neck_y] + 1) / 2.0;
    int ybot = (int)fmin(h - 1, c->y0 + c->ch - 1);
    if (ybot >= 0 && seg->left[ybot] >= 0)
        d = fmin(d, 0.9 * fmin(bcx - seg->left[ybot], seg->right[ybot] - bcx));
    if (d >= 0.6 * seg->head_w) {
        int xl = (int)lround(bcx - d), xr = (int)lround(bcx + d);
        for (int y = seg->neck_y; y < h && xl >= 0 && xl < w; y++)
            if (seg->fg[(size_t)y * w + xl]) {
                yl = y;
                break;
            }
        for (int y = seg->neck_y; y < h && xr >= 0 && xr < w; y++)
            if (seg->fg[(size_t)y * w + xr]) {
                yr = y;
                break;
            }
    }
    if (yl < 0 || yr < 0) {
        fail(r, R_SHOULDERS, "未检测到双肩，请让双肩完整入镜", 0, 0, false);
        return;
    }
    double diff = fabs((double)(yl - yr)) * s;
    if (diff <= PC__T(SHOULDER_MAX))
        pass(r, R_SHOULDERS, diff, PC__T(SHOULDER_MAX), true);
    else
        fail(r, R_SHOULDERS, "双肩不平，请坐正、双肩保持水平再拍", diff, PC__T(SHOULDER_MAX), true);
}

/* FACE_POSE, HEAD_ROLL, EYES_OPEN, GLASSES_GLARE from the face analysis (the eye rules
 * skipped when the face is too blurred or too unevenly lit for its eyes to be measured). */
static void eval_face_rules(struct pc_photo_result *r, const struct pc__seg *seg,
                            const struct pc__faces *f, const struct facegeo *fg, bool unreliable)
{
    /* FACE_POSE: the eyes' midpoint off the middle of the cheeks' outline (the wall's edge
     * below the ears), agreeing in direction with dlib's left/right-looking filters */
    double side = fmax(f->fscore[1], f->fscore[2]), front = f->fscore[0];
    int dir = f->fscore[2] > f->fscore[1] ? 1 : -1; /* the nose points to the picture's right */
    double off = 0;
    bool outline = false;
    if (seg->found && fg->eyes) {
        double acc = 0;
        int n = 0;
        for (int y = (int)(fg->eye_y + 0.15 * fg->fw); y < (int)(fg->eye_y + 0.45 * fg->fw); y++) {
            if (y < 0 || y >= seg->h || seg->left[y] < 0)
                continue;
            double wd = seg->right[y] - seg->left[y] + 1;
            if (wd > 1.6 * fg->fw || wd < 0.6 * fg->fw)
                continue; /* hair to the shoulders, a hand, another person */
            acc += (seg->left[y] + seg->right[y] + 1) / 2.0;
            n++;
        }
        if (n >= 3) {
            off = (fg->cx - acc / n) / fg->fw;
            outline = true;
        }
    }
    bool turned;
    double val;
    if (outline) {
        val = fabs(off);
        turned = val > PC__T(POSE_OFF_MAX) && (off > 0) == (dir > 0) &&
                 side > front - PC__T(POSE_HOG_AGREE);
    } else { /* no outline to measure against: dlib's filters alone, and only when clear */
        val = fabs(off);
        turned = side - front > PC__T(POSE_HOG_ALONE);
    }
    if (turned)
        fail(r, R_POSE,
             dir > 0 ? "脸偏向一侧（向右转），请正对镜头再拍"
                     : "脸偏向一侧（向左转），请正对镜头再拍",
             val, PC__T(POSE_OFF_MAX), true);
    else
        pass(r, R_POSE, val, PC__T(POSE_OFF_MAX), outline);
    if (turned || unreliable)
        return; /* HEAD_ROLL, EYES_OPEN, GLASSES_GLARE skipped: the eyes of a turned face */

    /* HEAD_ROLL: the eye line's angle; without sure eyes, a face that only a rotated pass or
     * the rotated filters found */
    if (f->eyes_sure) {
        double a = fabs(f->roll);
        const char *msg = f->roll > 0 ? "头部向右歪斜，请坐正、保持双眼水平再拍"
                                      : "头部向左歪斜，请坐正、保持双眼水平再拍";
        if (a > PC__T(ROLL_MAX))
            fail(r, R_ROLL, msg, a, PC__T(ROLL_MAX), true);
        else if (a > PC__T(ROLL_WARN))
            warn(r, R_ROLL, msg, a, PC__T(ROLL_WARN));
        else
            pass(r, R_ROLL, a, PC__T(ROLL_MAX), true);
    } else if (f->rot != 0 || fmax(f->fscore[3], f->fscore[4]) - front > PC__T(POSE_HOG_ALONE)) {
        fail(r, R_ROLL, "头部歪斜，请坐正、保持双眼水平再拍", fabs(f->rot), PC__T(ROLL_MAX),
             f->rot != 0);
    } else {
        pass(r, R_ROLL, 0, PC__T(ROLL_MAX), false);
    }

    /* EYES_OPEN: the taller of the two eye openings */
    double open = fmax(f->open[0], f->open[1]);
    if (open < PC__T(EYE_OPEN_MIN))
        fail(r, R_EYES_OPEN, "请睁开双眼、目视镜头再拍", open, PC__T(EYE_OPEN_MIN), true);
    else
        pass(r, R_EYES_OPEN, open, PC__T(EYE_OPEN_MIN), true);

    /* GLASSES_GLARE (a warning): white reflections in the eyes' bands */
    if (f->glare > PC__T(GLARE_SHARE))
        warn(r, R_GLARE, "眼镜有反光，建议调整眼镜角度或灯光后重拍", f->glare, PC__T(GLARE_SHARE));
    else
        pass(r, R_GLARE, f->glare, PC__T(GLARE_SHARE), true);
}

/* EXPOSURE, LIGHTING_UNEVEN, SHARPNESS: the wall (the one surface of known tone) for the
 * exposure, and skin-tone-neutral measures on the face patch (RGB; the face box at (fx, fy),
 * fw wide): clipped highlights, crushed shadows, the left/right cheek ratio, sharpness. */
static void eval_light(struct pc_photo_result *r, const struct pc__seg *seg,
                       const struct pc__img *patch, double fx, double fy, double fw, bool res_ok)
{
    /* the wall's tone is known only when it is of the light blue's family or neutral */
    bool known = wall_known_tone(seg);
    double wall = known ? seg->bg_ycc[0] : 0;
    long n = 0, black = 0, clip = 0;
    unsigned hl[256] = {0}, hr[256] = {0}, nl = 0, nr = 0;
    struct pc__img g = {0};
    pc__img_alloc(&g, patch->w, patch->h, 1);
    for (int y = 0; y < patch->h; y++)
        for (int x = 0; x < patch->w; x++) {
            size_t i = (size_t)y * patch->w + x;
            double v = luma(patch->p + i * 3);
            g.p[i] = round_pos(v);
            double u = (x + 0.5 - fx) / fw - 0.5, t = (y + 0.5 - fy) / fw - 0.5;
            if (u * u / 0.16 + t * t / 0.25 > 1)
                continue; /* the face: an ellipse inside the box */
            n++;
            black += v <= PC__T(EXPO_BLACK_Y);
            clip += v >= PC__T(EXPO_CLIP_Y);
            if (t > -0.25 && t < 0.3 && fabs(u) > 0.05 && fabs(u) < 0.4) { /* face halves */
                if (u < 0) {
                    hl[g.p[i]]++;
                    nl++;
                } else {
                    hr[g.p[i]]++;
                    nr++;
                }
            }
        }
    double fb = n ? (double)black / n : 0, fc = n ? (double)clip / n : 0;
    if (known && wall < PC__T(WALL_Y_MIN))
        fail(r, R_EXPOSURE, "照片太暗（曝光不足），请到光线充足的地方拍摄", wall, PC__T(WALL_Y_MIN),
             true);
    else if (fb > PC__T(EXPO_BLACK_FRAC))
        fail(r, R_EXPOSURE, "面部有大片死黑的暗部，请到光线充足、均匀的地方拍摄", fb,
             PC__T(EXPO_BLACK_FRAC), true);
    else if (fc > PC__T(EXPO_CLIP_FRAC))
        fail(r, R_EXPOSURE, "面部有过曝的亮斑，请避开强光或关闭闪光灯再拍", fc,
             PC__T(EXPO_CLIP_FRAC), true);
    else
        pass(r, R_EXPOSURE, wall, PC__T(WALL_Y_MIN), known);

    double ml = pc__hist_median(hl, nl), mr = pc__hist_median(hr, nr);
    /* medians of sRGB levels: a light ratio gives the same ratio at any skin tone */
    double ratio = (fmax(ml, mr) + 2) / (fmin(ml, mr) + 2);
    const char *side = ml < mr ? "左侧脸偏暗（阴阳脸），请让光线从正面均匀照射再拍"
                               : "右侧脸偏暗（阴阳脸），请让光线从正面均匀照射再拍";
    if (!nl || !nr)
        pass(r, R_LIGHTING, 0, PC__T(LIGHT_WARN), false);
    else if (ratio > PC__T(LIGHT_BLOCK))
        fail(r, R_LIGHTING, side, ratio, PC__T(LIGHT_BLOCK), true);
    else if (ratio > PC__T(LIGHT_WARN))
        warn(r, R_LIGHTING, side, ratio, PC__T(LIGHT_WARN));
    else
        pass(r, R_LIGHTING, ratio, PC__T(LIGHT_WARN), true);

    if (res_ok) { /* skipped when the picture has too few pixels anyway */
        double ew = edge_width(&g, (int)(fx - 0.2 * fw), (int)(fy - 0.2 * fw), (int)(fx + 1.2 * fw),
                               (int)(fy + 1.1 * fw));
        if (ew > PC__T(SHARP_BLOCK))
            fail(r, R_SHARPNESS, "照片模糊，请对焦清楚、拿稳手机再拍", ew, PC__T(SHARP_BLOCK),
                 true);
        else if (ew > PC__T(SHARP_WARN))
            warn(r, R_SHARPNESS, "照片不够清晰，建议对焦清楚、拿稳手机重拍", ew, PC__T(SHARP_WARN));
        else
            pass(r, R_SHARPNESS, ew, PC__T(SHARP_WARN), true);
    }
    pc__img_free(&g);
}

/* Replaces the background of norm by the reference blue: the subject mask at output scale,
 * softened, refined by colour distance near the edge (exactly the reference away from it). */
static void replace_background(struct pc__img *norm, const struct pc__img *alpha,
                               const struct pc__seg *seg)
{
    const int blue[3] = {(int)PC__T(OUT_BG_R), (int)PC__T(OUT_BG_G), (int)PC__T(OUT_BG_B)};
    int w = norm->w, h = norm->h;
    /* 5×5 box blur of the mask (separable sums, edges repeated): a soft band around the edge */
    int *rs = pc_xmalloc((size_t)w * h * sizeof *rs), *cs = pc_xmalloc((size_t)w * sizeof *cs);
    for (int y = 0; y < h; y++) {
        const unsigned char *m = alpha->p + (size_t)y * w;
        int *r = rs + (size_t)y * w;
        for (int x = 0; x < w; x++) {
            if (x >= 2 && x < w - 2) { /* inside: no clamping */
                r[x] = m[x - 2] + m[x - 1] + m[x] + m[x + 1] + m[x + 2];
                continue;
            }
            int acc = 0;
            for (int k = x - 2; k <= x + 2; k++)
                acc += m[k < 0 ? 0 : k >= w ? w - 1 : k];
            r[x] = acc;
        }
    }
    for (int y = 0; y < h; y++) {
        const int *rr[5];
        for (int k = 0; k < 5; k++) {
            int yy = y - 2 + k;
            rr[k] = rs + (size_t)(yy < 0 ? 0 : yy >= h ? h - 1 : yy) * w;
        }
        for (int x = 0; x < w; x++)
            cs[x] = rr[0][x] + rr[1][x] + rr[2][x] + rr[3][x] + rr[4][x];
        for (int x = 0; x < w; x++) {
            int acc = cs[x];
            size_t i = (size_t)y * w + x;
            unsigned char *p = norm->p + i * 3;
            if (acc >= 25 * 255)
                continue; /* subject */
            if (acc == 0) {
                for (int c = 0; c < 3; c++)
                    p[c] = (unsigned char)blue[c];
                continue;
            }
            double av = acc / (25.0 * 255), dcol = pc__bg_dist(seg, p);
            double ac = (dcol - 0.5 * seg->thr) / seg->thr;
            ac = ac < 0 ? 0 : ac > 1 ? 1 : ac;
            av = 0.5 * av + 0.5 * ac;
            for (int c = 0; c < 3; c++)
                p[c] = (unsigned char)(av * p[c] + (1 - av) * blue[c] + 0.5);
        }
    }
    free(cs);
    free(rs);
}

/* ---- the pipeline ---- */

/* The standard file's pixels on the second thread: the lower half (as stored) of the
 * normalised picture (norm, allocated), then the subject's mask at output scale (alpha and
 * its source, mask, allocated here). */
struct out_job {
    const struct pc__img *src;
    int o;
    const struct pc__seg *seg;
    const struct crop *c;
    double fx, fy; /* decoded (oriented) px per analysis px */
    const unsigned char *fill;
    struct pc__img *norm, *mask, *alpha;
};

static void *out_lower(void *arg)
{
    struct out_job *j = arg;
    const struct crop *c = j->c;
    int aw = j->seg->w, ah = j->seg->h;
    pc__resample_oriented_half(j->src, j->o, c->x0 * j->fx, c->y0 * j->fy, c->cw * j->fx,
                               c->ch * j->fy, j->norm, j->fill, 1);
    j->mask->p = pc_xmalloc((size_t)aw * ah);
    j->mask->w = aw;
    j->mask->h = ah;
    j->mask->nch = 1;
    for (size_t i = 0; i < (size_t)aw * ah; i++)
        j->mask->p[i] = j->seg->fg[i] ? 255 : 0;
    pc__img_alloc(j->alpha, PC_PHOTO_OUT_W, PC_PHOTO_OUT_H, 1);
    const unsigned char zero = 0;
    pc__resample(j->mask, c->x0, c->y0, c->cw, c->ch, j->alpha, &zero);
    return NULL;
}

/* The analysis picture: the decoded picture oriented and reduced to ANA_H rows. */
struct ana_job {
    struct pc__img *ana;
    int o; /* EXIF orientation */
};

/* pc__rows_fn: makes the analysis picture from the rows as they are decoded. */
static void make_ana(void *ctx, const struct pc__img *src, struct pc__rows *rows)
{
    struct ana_job *j = ctx;
    bool swap = j->o >= 5;
    int ow = swap ? src->h : src->w, oh = swap ? src->w : src->h;
    int ah = (int)PC__T(ANA_H), aw = (int)lround((double)ow * ah / oh);
    pc__img_alloc(j->ana, aw < 1 ? 1 : aw, ah, 3);
    pc__resample_oriented_rows(src, j->o, 0, 0, ow, oh, j->ana, NULL, rows);
}

int pc_photo_process(const void *data, size_t len, const struct pc_photo_opts *opts,
                     struct pc_photo_result *r)
{
    struct pc__hdr hdr;
    struct pc__img src = {0}, ana = {0}, norm = {0}, alpha = {0}, mask = {0}, patch = {0};
    struct pc__seg seg = {0};
    struct pc__face_scan *scan = NULL;
    struct crop c = {0};
    double scale = 1;
    long max_px = opts && opts->max_pixels > 0 ? opts->max_pixels : (long)PC__T(MAX_PIXELS);
    if (!r)
        return PC_EINVAL;
    memset(r, 0, sizeof *r);
    r->nchecks = R_COUNT;
    for (int k = 0; k < R_COUNT; k++) {
        r->checks[k].code = RULES[k].code;
        r->checks[k].blocking = RULES[k].blocking;
        r->checks[k].skipped = true;
        r->checks[k].message = SKIPPED;
    }
    if (!data) {
        update_ok(r);
        return PC_EINVAL;
    }

    /* 1. header: format, damage, pixel cap, colour space, orientation */
    pc__probe(data, len, &hdr);
    if (hdr.fmt == PC__FMT_UNKNOWN) {
        fail(r, R_FORMAT, "照片格式不支持，请上传 JPG 或 PNG 格式的照片（不支持 HEIC、GIF 等）", 0,
             0, false);
        goto out;
    }
    pass(r, R_FORMAT, 0, 0, false);
    if (!hdr.header_ok) {
        fail(r, R_CORRUPT, "照片文件已损坏或不完整，请重新拍摄后上传", 0, 0, false);
        goto out;
    }
    double px = (double)hdr.w * hdr.h;
    if (hdr.gray)
        fail(r, R_COLOR_SPACE, "不能上传黑白照片，请上传彩色照片", 0, 0, false);
    else if (hdr.cmyk)
        fail(r, R_COLOR_SPACE, "照片颜色模式为 CMYK，请上传手机直接拍摄的彩色照片", 0, 0, false);
    else
        pass(r, R_COLOR_SPACE, 0, 0, false);
    if (px > (double)max_px) {
        fail(r, R_TOO_LARGE, "照片像素过大，请上传手机直接拍摄的照片", px, (double)max_px, true);
        goto out;
    }
    if (hdr.fmt == PC__FMT_JPEG && hdr.scans > 1 &&
        pc__jpeg_coef_bytes(&hdr) > PC__T(PROG_COEF_MAX)) {
        /* progressive: libjpeg keeps every coefficient whatever the output size */
        double cap = px * PC__T(PROG_COEF_MAX) / pc__jpeg_coef_bytes(&hdr);
        fail(r, R_TOO_LARGE, "渐进式 JPEG 照片像素过大，请上传手机相机直接拍摄的原图", px,
             floor(cap), true);
        goto out;
    }
    pass(r, R_TOO_LARGE, px, (double)max_px, true);
    bool swap = hdr.orientation >= 5;
    r->width = swap ? hdr.h : hdr.w;
    r->height = swap ? hdr.w : hdr.h;
    if (pc__orientation_mirrored(hdr.orientation))
        fail(r, R_MIRRORED, "照片是镜像的（前置摄像头自拍），请用后置摄像头或关闭镜像后重拍",
             hdr.orientation, 1, true);
    else
        pass(r, R_MIRRORED, hdr.orientation, 1, true);
    if (!r->checks[R_COLOR_SPACE].ok)
        goto out;
    int fw = r->width, fh = r->height;
    if (fw < PC__T(MIN_SIDE) || fh < PC__T(MIN_SIDE) || (double)fw / fh > PC__T(MAX_ASPECT) ||
        (double)fh / fw > PC__T(MAX_ASPECT)) {
        fail(r, R_RESOLUTION, "照片尺寸不符合要求，请上传手机直接拍摄的竖版照片",
             fmin(fh, fw * 4.0 / 3), PC_PHOTO_OUT_H, true);
        goto out;
    }

    /* 2. pixels: scaled decode; 3. the analysis image (640 rows, oriented) made from the
     * decoded rows on a second thread while the next rows are decoded */
    struct ana_job aj = {&ana, hdr.orientation};
    if (pc__decode_rows(data, len, &hdr, (int)PC__T(WORK_MIN_H), &src, &scale, make_ana, &aj) !=
        0) {
        fail(r, R_CORRUPT, "照片文件已损坏或不完整，请重新拍摄后上传", 0, 0, false);
        goto out;
    }
    pass(r, R_CORRUPT, 0, 0, false);
    int ow = swap ? src.h : src.w, oh = swap ? src.w : src.h; /* decoded, oriented */
    int ah = ana.h, aw = ana.w;
    /* the scan for other faces needs only the analysis picture: on its own thread from now,
     * while this one segments and finds the subject's face and eyes (bench/README.md "Photo
     * pipeline"); its proposals are confirmed once the subject's face is known */
    scan = pc__faces_scan_start(&ana, true);
    pc__segment(&ana, &seg);
    check_bg_color(r, &seg);
    check_bg_uniform(r, &ana, &seg);
    if (!seg.found) {
        fail(r, R_SUBJECT, "未检测到人像，请正对镜头、在纯色墙前拍摄上半身照片", 0, 0, false);
        double avail = fmin(fh, fw * 4.0 / 3);
        if (avail >= PC_PHOTO_OUT_H)
            pass(r, R_RESOLUTION, avail, PC_PHOTO_OUT_H, true);
        else
            fail(r, R_RESOLUTION, "照片分辨率太低，请用手机后置摄像头拍摄原图（不要截图或压缩）",
                 avail, PC_PHOTO_OUT_H, true);
        r->phash = pc__phash(&ana);
        r->has_phash = true;
        goto out;
    }
    pass(r, R_SUBJECT, (double)seg.area / ((double)aw * ah), PC__T(SUBJECT_MIN_AREA), true);
    double fy = (double)oh / ah, fx = (double)ow / aw;

    /* 4. faces: the subject's and any other; the subject's eyes on a patch at a fixed scale
     * (one side's eye cascades on the scan's thread once its scan is done). */
    struct pc__faces faces;
    struct facegeo fg = {0};
    double pk = 0, pbx = 0, pby = 0; /* patch px per ana px, patch origin (ana px) */
    pc__faces_subject(&ana, &seg, &src, hdr.orientation, scan, &faces);
    if (faces.found) {
        pass(r, R_FACE, 1, 1, true);
        double pw = PC__T(FACE_PATCH_W), bw = faces.w;
        pk = pw / bw;
        pbx = faces.x - 0.25 * bw;
        pby = faces.y - 0.25 * bw;
        pc__img_alloc(&patch, (int)lround(1.5 * pw), (int)lround(1.5 * pw), 3);
        const unsigned char grey[3] = {128, 128, 128};
        pc__resample_oriented(&src, hdr.orientation, pbx * fx, pby * fy, 1.5 * bw * fx,
                              1.5 * bw * fy, &patch, grey);
        pc__faces_eyes_help(&patch, 0.25 * pw, 0.25 * pw, pw, &faces, scan);
        fg.found = true;
        fg.fw = faces.w * PC__T(FACE_W_OF_BOX);
        fg.eyes = faces.eyes_found;
        if (fg.eyes) {
            fg.eye_y = pby + (faces.ey[0] + faces.ey[1]) / 2 / pk;
            fg.cx = pbx + (faces.ex[0] + faces.ex[1]) / 2 / pk;
            if (faces.eyes_sure) /* finer than dlib's box, whose sizes come in 5/6 steps */
                fg.fw = hypot(faces.ex[1] - faces.ex[0], faces.ey[1] - faces.ey[0]) / pk *
                        PC__T(FACE_W_OF_IPD);
        } else {
            fg.eye_y = faces.y + PC__T(EYE_OF_BOX) * faces.h;
            fg.cx = faces.x + faces.w / 2;
        }
    } else {
        fail(r, R_FACE, "未检测到人脸，请正对镜头", 0, 1, true);
    }
    eval_geometry(r, &seg, &fg, fy / scale, &c);

    /* 5. RESOLUTION: the input rows behind the 640 output rows, at full resolution; refused
     * only when the standard file would be enlarged visibly (ENLARGE_MAX) */
    double ch_full = c.ch * fy / scale, res_min = PC_PHOTO_OUT_H / PC__T(ENLARGE_MAX);
    bool res_ok = ch_full >= res_min - 0.5;
    if (res_ok)
        pass(r, R_RESOLUTION, ch_full, res_min, true);
    else
        fail(r, R_RESOLUTION, "照片分辨率太低，请用手机后置摄像头拍摄原图（不要截图或压缩）",
             ch_full, res_min, true);
    /* other faces: the scan's thread has ended once this returns, before the standard file's
     * second thread starts (never more than two threads at once) */
    pc__faces_others(&ana, &seg, &src, hdr.orientation, scan, &faces);
    if (faces.others > 0)
        fail(r, R_OTHER_FACES, "画面中有其他人的脸，请单独拍摄（画面中只能有本人）", faces.others,
             0, true);
    else
        pass(r, R_OTHER_FACES, 0, 0, true);
    if (res_ok && c.ch * fy < PC_PHOTO_OUT_H && scale < 1) {
        /* the scaled decode is too coarse for this crop: decode again, larger */
        struct pc__img big = {0};
        double sc2 = 1;
        int need = (int)ceil((double)PC_PHOTO_OUT_H * ah / c.ch) + 1;
        if (pc__decode(data, len, &hdr, need, &big, &sc2) == 0) {
            pc__img_free(&src);
            src = big;
            scale = sc2;
            ow = swap ? src.h : src.w;
            oh = swap ? src.w : src.h;
            fy = (double)oh / ah;
            fx = (double)ow / aw;
        }
    }

    /* 6. the normalised 480×640 picture and the subject alpha at output scale: the lower half
     * of the one and the other on a second thread while this one judges the light and the
     * face and makes the upper half */
    const unsigned char fill[3] = {(unsigned char)seg.bg_rgb[0], (unsigned char)seg.bg_rgb[1],
                                   (unsigned char)seg.bg_rgb[2]};
    pc__img_alloc(&norm, PC_PHOTO_OUT_W, PC_PHOTO_OUT_H, 3);
    struct out_job oj = {&src, hdr.orientation, &seg, &c, fx, fy, fill, &norm, &mask, &alpha};
    pthread_t lower;
    bool two = pthread_create(&lower, NULL, out_lower, &oj) == 0;
    if (faces.found) {
        eval_light(r, &seg, &patch, 0.25 * PC__T(FACE_PATCH_W), 0.25 * PC__T(FACE_PATCH_W),
                   PC__T(FACE_PATCH_W), res_ok);
        /* the eyes of a blurred face or of one half in shadow are not judged (SHARPNESS,
         * LIGHTING_UNEVEN say what to do) */
        const struct pc_photo_check *sh = &r->checks[R_SHARPNESS], *li = &r->checks[R_LIGHTING];
        bool unreliable =
            (!sh->skipped && !sh->ok && sh->blocking) || (!li->skipped && !li->ok && li->blocking);
        eval_face_rules(r, &seg, &faces, &fg, unreliable);
    }
    pc__resample_oriented_half(&src, hdr.orientation, c.x0 * fx, c.y0 * fy, c.cw * fx, c.ch * fy,
                               &norm, fill, 0);
    if (two)
        pthread_join(lower, NULL);
    else /* no thread to be had: here */
        out_lower(&oj);

    /* 7. background replacement, pHash, the standard file */
    replace_background(&norm, &alpha, &seg);
    r->phash = pc__phash(&norm);
    r->has_phash = true;
    update_ok(r);
    if (opts && opts->standardise && r->ok) {
        size_t n = 0;
        int q = 0;
        if (pc__encode_standard(&norm, &r->jpeg, &n, &q) != 0) {
            assert(!"standard file failed verification");
            fail(r, R_OUTPUT_SIZE, "标准照生成失败，请重试", 0, 0, false);
            r->checks[R_OUTPUT_SIZE].blocking = true;
        } else {
            r->jpeg_len = n;
            r->quality = q;
            if (n > PC__T(OUT_SIZE_MAX))
                warn(r, R_OUTPUT_SIZE, "标准照文件大于 40KB（已用最低质量 60 压缩）", (double)n,
                     PC__T(OUT_SIZE_MAX));
            else if (n < PC__T(OUT_SIZE_MIN))
                warn(r, R_OUTPUT_SIZE, "标准照文件小于 20KB（画面较简单，已用最高质量）", (double)n,
                     PC__T(OUT_SIZE_MIN));
            else
                pass(r, R_OUTPUT_SIZE, (double)n, PC__T(OUT_SIZE_MAX), true);
        }
    }
out:
    update_ok(r);
    pc__img_free(&src);
    pc__img_free(&ana);
    pc__img_free(&norm);
    pc__img_free(&alpha);
    pc__img_free(&mask);
    pc__img_free(&patch);
    pc__seg_free(&seg);
    pc__faces_scan_free(scan);
    return 0;
}
