/* tests/unit/test_photo_tones.c — fairness: every good generated portrait rendered at
 * PC_PHOTO_TESTGEN_TONES skin tones (very fair to very dark: the darkest face's mean luma is
 * ~40 under correct light) gets the same verdict — it passes, with the same (empty) set of
 * failing checks — and every refused portrait is refused with the same codes at every tone.
 * Also measures, per tone, the face detector's margin and the eye placement against the
 * generator's known eye positions (the tables of docs/photo.md "Fairness"). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "photo/internal.h"
#include "photo/photo.h"
#include "photo/testgen.h"
#include "photo/thresholds.h"
#include "tests/unit/photo_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

enum { T = PC_PHOTO_TESTGEN_TONES };

/* Every tone; under a sanitizer (several times slower) the fairest, two middle and the
 * darkest. */
static bool tone_in_run(int t)
{
    return !SANITIZED || t == 0 || t == 3 || t == 5 || t == T - 1;
}

/* A portrait configuration of the sweep. */
struct config {
    const char *name;
    int w, h;
    void (*set)(struct pc_photo_testgen *g);
    const char *want; /* the failing codes every tone must get ("" = passes) */
};

static void in_spec(struct pc_photo_testgen *g)
{
    g->size = 1.5625; /* face 200 px */
    g->top = 0.11;
}
static void standard(struct pc_photo_testgen *g)
{
    g->size = 1.83;
    g->top = 0.109;
}
static void phone(struct pc_photo_testgen *g)
{
    (void)g;
}
static void white_wall(struct pc_photo_testgen *g)
{
    g->bg[0] = g->bg[1] = 242;
    g->bg[2] = 238;
}
static void long_hair(struct pc_photo_testgen *g)
{
    g->long_hair = true;
    g->cloth[0] = 200;
    g->cloth[1] = 200;
    g->cloth[2] = 205;
    g->seed = 11;
}
static void glasses(struct pc_photo_testgen *g)
{
    g->glasses = true;
    g->size = 1.1;
    g->cx = 0.48;
}
static void narrow_eyes(struct pc_photo_testgen *g)
{
    g->eye_narrow = 0.5;
    g->size = 0.9;
}
static void closed(struct pc_photo_testgen *g)
{
    g->eyes_closed = true;
}
static void rolled(struct pc_photo_testgen *g)
{
    g->roll = 25;
}
static void turned(struct pc_photo_testgen *g)
{
    g->yaw = -35;
}
static void back(struct pc_photo_testgen *g)
{
    g->back = true;
}
static void second(struct pc_photo_testgen *g)
{
    g->second_size = 0.3;
    g->second_cx = 0.92;
    g->second_top = 0.33;
}

static void half_shadow(struct pc_photo_testgen *g)
{
    g->shadow = 0.5;
}
static void mild_shadow(struct pc_photo_testgen *g)
{
    g->shadow = 0.74;
}
static void blurred(struct pc_photo_testgen *g)
{
    g->blur = 2.5;
}

static const struct config CONFIGS[] = {
    {"in-spec 480x640, face 200 px", 480, 640, in_spec, ""},
    {"standard framing 480x640", 480, 640, standard, ""},
    {"phone 1080x1440", 1080, 1440, phone, ""},
    {"white wall 810x1080", 810, 1080, white_wall, ""},
    {"long hair, light top 810x1080", 810, 1080, long_hair, ""},
    {"glasses 810x1080", 810, 1080, glasses, ""},
    {"narrow eyes 810x1080", 810, 1080, narrow_eyes, ""},
    {"mild side light (warning)", 810, 1080, mild_shadow, "LIGHTING_UNEVEN(warn)"},
    {"closed eyes", 810, 1080, closed, "EYES_OPEN"},
    {"half the face in shadow", 810, 1080, half_shadow, "LIGHTING_UNEVEN"},
    {"blurred (sigma 2.5)", 810, 1080, blurred, "SHARPNESS"},
    {"rolled 25 deg", 810, 1080, rolled, "HEAD_ROLL"},
    {"turned 35 deg", 810, 1080, turned, "FACE_POSE"},
    {"back of the head", 810, 1080, back, "FACE_PRESENT"},
    /* the second person touches the picture's side and the subject's outline: cut off, no
     * shoulder on that side */
    {"second face at the edge", 810, 1080, second, "OTHER_FACES,SUBJECT_CUT_OFF,SHOULDERS_LEVEL"},
};
enum { NCONF = sizeof CONFIGS / sizeof CONFIGS[0] };

/* Every configuration at every tone: the verdict and the failing set equal the expected one
 * at every tone; a table of refusals per tone on stderr. */
static void tone_sweep(void **state)
{
    (void)state;
    int refused[T] = {0}, good_total = 0, good_refused[T] = {0};
    bool bad = false;
    for (size_t c = 0; c < NCONF; c++) {
        const struct config *cf = &CONFIGS[c];
        bool good = !cf->want[0] || strstr(cf->want, "(warn)");
        good_total += good;
        fprintf(stderr, "%-32s", cf->name);
        for (int t = 0; t < T; t++) {
            struct pc_photo_testgen g;
            struct pc_photo_result r;
            size_t n;
            char got[256];
            if (!tone_in_run(t)) {
                fprintf(stderr, "  -  ");
                continue;
            }
            pc_photo_testgen_defaults(&g, cf->w, cf->h);
            memcpy(g.skin, pc_photo_testgen_tones[t], 3);
            cf->set(&g);
            unsigned char *j = portrait_jpeg(&g, 92, &n);
            process(j, n, true, &r);
            failing_codes(&r, got, sizeof got);
            refused[t] += !r.ok;
            good_refused[t] += good && !r.ok;
            fprintf(stderr, " %s", r.ok ? "pass" : "REF ");
            if (strcmp(got, cf->want) != 0 || r.ok != good || (good && !r.jpeg)) {
                fprintf(stderr, "\n  tone %d: failing \"%s\", want \"%s\"\n", t, got, cf->want);
                dump(&r);
                bad = true;
            }
            pc_photo_result_free(&r);
            free(j);
        }
        fprintf(stderr, "\n");
    }
    fprintf(stderr, "good portraits refused per tone (of %d):", good_total);
    for (int t = 0; t < T; t++)
        fprintf(stderr, " %d", good_refused[t]);
    fprintf(stderr, "\nall portraits refused per tone (of %d):", (int)NCONF);
    for (int t = 0; t < T; t++)
        fprintf(stderr, " %d", refused[t]);
    fprintf(stderr, "\n");
    assert_false(bad);
    for (int t = 1; t < T; t++)
        if (tone_in_run(t))
            assert_int_equal(refused[t], refused[0]);
}

/* The face detector and the eye placement per tone, on the pipeline's own steps: the HOG
 * margin of the subject's face, whether both eyes were placed, and the eye error in pixels of
 * the standard file (the face scaled to 240 px) against the generator's eyes. */
static void tone_detection(void **state)
{
    (void)state;
    static const double sizes[] = {0.85, 1.0, 1.2};
    static const double rolls[] = {0, 4, -6};
    int within = 0, total = 0;
    fprintf(stderr, "tone  found  eyes  HOG margin (min)  eye error out px (max)\n");
    for (int t = 0; t < T; t++) {
        int found = 0, eyes = 0, n = 0;
        if (!tone_in_run(t))
            continue;
        double min_score = 1e9, max_err = 0;
        for (size_t a = 0; a < 3; a++)
            for (size_t b = 0; b < 3; b++) {
                struct pc_photo_testgen g;
                pc_photo_testgen_defaults(&g, 1080, 1440);
                memcpy(g.skin, pc_photo_testgen_tones[t], 3);
                g.size = sizes[a];
                g.roll = rolls[b];
                g.seed = (uint32_t)(31 * t + 7 * a + b + 1);
                unsigned char *rgb = pc_photo_testgen_render(&g);
                struct pc__img src = {rgb, g.w, g.h, 3}, ana, patch = {0};
                pc__img_alloc(&ana, 480, 640, 3);
                pc__resample(&src, 0, 0, g.w, g.h, &ana, NULL);
                struct pc__seg seg;
                struct pc__faces f;
                pc__segment(&ana, &seg);
                pc__faces_find(&ana, &seg, &src, 1, &f);
                n++;
                if (f.found) {
                    found++;
                    min_score = fmin(min_score, f.score);
                    double pw = PC__T(FACE_PATCH_W), k = (double)g.h / 640; /* src/ana */
                    double bx = f.x - 0.25 * f.w, by = f.y - 0.25 * f.w, pk = pw / (f.w * k);
                    pc__img_alloc(&patch, (int)lround(1.5 * pw), (int)lround(1.5 * pw), 3);
                    const unsigned char grey[3] = {128, 128, 128};
                    pc__resample(&src, bx * k, by * k, 1.5 * f.w * k, 1.5 * f.w * k, &patch, grey);
                    pc__faces_eyes(&patch, 0.25 * pw, 0.25 * pw, pw, &f);
                    if (f.eyes_found) {
                        eyes++;
                        double truth[4], err = 0;
                        pc_photo_testgen_eyes(&g, truth);
                        for (int e = 0; e < 2; e++) {
                            double ex = bx * k + f.ex[e] / pk, ey = by * k + f.ey[e] / pk;
                            err = fmax(err, hypot(ex - truth[2 * e], ey - truth[2 * e + 1]));
                        }
                        /* src px → standard-file px: the face becomes ~240 px wide */
                        err *= 240 / pc_photo_testgen_face_width(&g);
                        max_err = fmax(max_err, err);
                        within += err <= 10;
                    }
                    total++;
                    pc__img_free(&patch);
                }
                pc__seg_free(&seg);
                pc__img_free(&ana);
                free(rgb);
            }
        fprintf(stderr, "%4d  %2d/%d  %2d/%d  %16.2f  %22.1f\n", t, found, n, eyes, n, min_score,
                max_err);
        assert_int_equal(found, n);
        assert_int_equal(eyes, n);
    }
    fprintf(stderr, "eyes within 10 px of the truth on the standard file: %d of %d\n", within,
            total);
    assert_int_equal(within, total);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tone_sweep),
        cmocka_unit_test(tone_detection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
