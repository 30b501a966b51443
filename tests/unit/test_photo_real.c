/* tests/unit/test_photo_real.c — the face analysis and the whole pipeline on real photographs
 * that Debian packages ship (read where the packages install them; scripts/deps.sh installs
 * python3-skimage, python-matplotlib-data and opencv-doc). None is on a plain wall, so every
 * one is refused by the background rules; what they prove is that the face rules see real
 * faces: one face each where there is one, other faces counted, open eyes not called
 * closed, a level head not called rolled, a turned head seen by the side-looking filters,
 * a real face rolled 25° measured as such, and a small real face pasted in a corner found. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "photo/internal.h"
#include "photo/photo.h"
#include "photo/thresholds.h"
#include "tests/unit/photo_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPENCV_HTML "/usr/share/doc/opencv-doc/opencv4/html/"

enum frontal { TURNED, FRONTAL, ANY };

/* The photographs, the package that ships each, and what is true of it. */
static const struct real {
    const char *name, *path, *pkg;
    int crop_thirds;   /* 1: keep the left third (three panels of one man) */
    enum frontal pose; /* its head: frontal (level, open eyes), turned, or not judged */
    bool eyes_open;    /* the eyes are open and large enough to judge */
} REAL[] = {
    {"astronaut", "/usr/lib/python3/dist-packages/skimage/data/astronaut.png", "python3-skimage", 0,
     FRONTAL, true},
    {"grace_hopper", "/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg",
     "python-matplotlib-data", 0, FRONTAL, true},
    {"face_swapped", OPENCV_HTML "face_swapped.jpg", "opencv-doc", 0, FRONTAL, true},
    {"example (left panel)", OPENCV_HTML "example.jpg", "opencv-doc", 1, FRONTAL, true},
    {"230501201_1", OPENCV_HTML "230501201_1.jpg", "opencv-doc", 0, ANY, true},
    {"227943776_1", OPENCV_HTML "227943776_1.jpg", "opencv-doc", 0, TURNED, true},
    {"messi5", "/usr/share/doc/opencv-doc/examples/data/messi5.jpg", "opencv-doc", 0, ANY, false},
};
enum { NREAL = sizeof REAL / sizeof REAL[0] };

static unsigned char *slurp(const struct real *r, size_t *len)
{
    FILE *f = fopen(r->path, "rb");
    if (!f)
        fail_msg("%s missing: install the Debian package %s (scripts/deps.sh)", r->path, r->pkg);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* The photograph decoded to RGB (as stored; none has an EXIF orientation), maybe cropped. */
static void load_rgb(const struct real *r, struct pc__img *out)
{
    size_t len;
    unsigned char *b = slurp(r, &len);
    struct pc__hdr h;
    double scale;
    pc__probe(b, len, &h);
    assert_int_equal(pc__decode(b, len, &h, 0, out, &scale), 0);
    free(b);
    if (r->crop_thirds) {
        struct pc__img c;
        pc__img_alloc(&c, out->w / 3, out->h, 3);
        for (int y = 0; y < out->h; y++)
            memcpy(c.p + (size_t)y * c.w * 3, out->p + (size_t)y * out->w * 3, (size_t)c.w * 3);
        pc__img_free(out);
        *out = c;
    }
}

/* The face analysis as the pipeline runs it, without a silhouette (no plain wall here). */
static void analyse(const struct pc__img *src, struct pc__faces *f)
{
    struct pc__img ana = {0}, patch = {0};
    int ah = 640, aw = (int)lround((double)src->w * ah / src->h);
    pc__img_alloc(&ana, aw, ah, 3);
    pc__resample(src, 0, 0, src->w, src->h, &ana, NULL);
    struct pc__seg seg = {0};
    pc__faces_find(&ana, &seg, src, 1, f);
    if (f->found) {
        double pw = PC__T(FACE_PATCH_W), k = (double)src->h / ah;
        pc__img_alloc(&patch, (int)lround(1.5 * pw), (int)lround(1.5 * pw), 3);
        const unsigned char grey[3] = {128, 128, 128};
        pc__resample(src, (f->x - 0.25 * f->w) * k, (f->y - 0.25 * f->w) * k, 1.5 * f->w * k,
                     1.5 * f->w * k, &patch, grey);
        pc__faces_eyes(&patch, 0.25 * pw, 0.25 * pw, pw, f);
    }
    pc__img_free(&patch);
    pc__img_free(&ana);
}

static void real_faces(void **state)
{
    (void)state;
    for (size_t i = 0; i < NREAL; i++) {
        const struct real *r = &REAL[i];
        struct pc__img src = {0};
        struct pc__faces f;
        load_rgb(r, &src);
        analyse(&src, &f);
        fprintf(stderr,
                "%-20s face %d (HOG %.2f, filters front %.2f left %.2f right %.2f) others %d "
                "eyes %d sure %d open %.3f/%.3f roll %.1f\n",
                r->name, f.found, f.score, f.fscore[0], f.fscore[1], f.fscore[2], f.others,
                f.eyes_found, f.eyes_sure, f.open[0], f.open[1], f.roll);
        assert_true(f.found);
        assert_int_equal(f.others, 0); /* messi5's crowd: faces far below SECOND_MIN_PX */
        if (r->eyes_open)              /* open eyes are never called closed */
            assert_true(fmax(f.open[0], f.open[1]) >= PC__T(EYE_OPEN_MIN));
        if (r->pose == FRONTAL && f.eyes_sure) /* a level head is not refused as rolled */
            assert_true(fabs(f.roll) <= PC__T(ROLL_MAX));
        if (r->pose == TURNED) /* dlib's side-looking filter beats the front one */
            assert_true(fmax(f.fscore[1], f.fscore[2]) > f.fscore[0]);
        pc__img_free(&src);
    }
}

/* example.jpg whole: three panels of one man, three faces. */
static void real_three_faces(void **state)
{
    (void)state;
    struct real whole = REAL[3];
    struct pc__img src = {0};
    struct pc__faces f;
    whole.crop_thirds = 0;
    load_rgb(&whole, &src);
    analyse(&src, &f);
    assert_true(f.found);
    assert_int_equal(f.others, 2);
    pc__img_free(&src);
}

/* Rotates RGB src by deg (clockwise as displayed) about its centre, white outside. */
static void rotate_rgb(const struct pc__img *src, double deg, struct pc__img *out)
{
    double c = cos(deg * M_PI / 180), s = sin(deg * M_PI / 180);
    double cx = src->w / 2.0, cy = src->h / 2.0;
    pc__img_alloc(out, src->w, src->h, 3);
    for (int y = 0; y < src->h; y++)
        for (int x = 0; x < src->w; x++) {
            double dx = x + 0.5 - cx, dy = y + 0.5 - cy;
            int sx = (int)floor(cx + dx * c + dy * s), sy = (int)floor(cy - dx * s + dy * c);
            unsigned char *o = out->p + ((size_t)y * src->w + x) * 3;
            if (sx < 0 || sy < 0 || sx >= src->w || sy >= src->h)
                memset(o, 255, 3);
            else
                memcpy(o, src->p + ((size_t)sy * src->w + sx) * 3, 3);
        }
}

/* A real frontal face rolled by ±25°: found, and the eye line measures the roll (or, when the
 * eyes are not placed for sure, dlib's rotated filters show it: HEAD_ROLL refuses either way). */
static void real_rolled(void **state)
{
    (void)state;
    static const size_t which[] = {0, 3};
    for (size_t w = 0; w < sizeof which / sizeof which[0]; w++)
        for (int sign = -1; sign <= 1; sign += 2) {
            struct pc__img src = {0}, rot = {0};
            struct pc__faces f;
            load_rgb(&REAL[which[w]], &src);
            rotate_rgb(&src, 25 * sign, &rot);
            analyse(&rot, &f);
            fprintf(stderr,
                    "%s rolled %+d: face %d pass %d rot %.0f filters %.2f/%.2f/%.2f eyes sure %d "
                    "roll %.1f\n",
                    REAL[which[w]].name, 25 * sign, f.found, f.pass, f.rot, f.fscore[0],
                    f.fscore[3], f.fscore[4], f.eyes_sure, f.roll);
            assert_true(f.found);
            if (f.eyes_sure) /* measured from the eyes */
                assert_true(fabs(f.roll - 25 * sign) < 6);
            else /* eyes behind rolled glasses: dlib's rotated filter, as HEAD_ROLL then uses */
                assert_true(fmax(f.fscore[3], f.fscore[4]) - f.fscore[0] > PC__T(POSE_HOG_ALONE));
            pc__img_free(&src);
            pc__img_free(&rot);
        }
}

/* A small real face (face_swapped at a fifth of the picture's width) pasted into the top
 * right corner of the frontal example panel: counted as another face. */
static void real_second_face(void **state)
{
    (void)state;
    struct pc__img a = {0}, b = {0}, small = {0};
    struct pc__faces f;
    load_rgb(&REAL[3], &a);
    load_rgb(&REAL[2], &b);
    int sw = a.w / 5;
    pc__img_alloc(&small, sw, sw, 3);
    pc__resample(&b, 0, 0, b.w, b.h, &small, NULL);
    for (int y = 0; y < sw; y++)
        memcpy(a.p + ((size_t)(y + 4) * a.w + (a.w - sw - 4)) * 3, small.p + (size_t)y * sw * 3,
               (size_t)sw * 3);
    analyse(&a, &f);
    assert_true(f.found);
    assert_int_equal(f.others, 1);
    pc__img_free(&a);
    pc__img_free(&b);
    pc__img_free(&small);
}

/* The detector on real faces made darker: the face's ellipse scaled in linear light (a lower
 * skin reflectance under the same light: 0.12 brings a fair face to a mean luma ~60). */
static void real_darker(void **state)
{
    (void)state;
    static const double gains[] = {1, 0.5, 0.25, 0.12};
    static const size_t which[] = {0, 1, 2, 3, 4};
    int found[4] = {0}, eyes[4] = {0}, n = 0;
    for (size_t w = 0; w < sizeof which / sizeof which[0]; w++) {
        struct pc__img src = {0};
        struct pc__faces f0;
        load_rgb(&REAL[which[w]], &src);
        analyse(&src, &f0);
        assert_true(f0.found);
        n++;
        double k = (double)src.h / 640, cx = (f0.x + f0.w / 2) * k, cy = (f0.y + f0.h / 2) * k;
        double ax = 0.55 * f0.w * k, ay = 0.7 * f0.h * k;
        for (size_t gi = 0; gi < 4; gi++) {
            struct pc__img d = {0};
            struct pc__faces f;
            pc__img_alloc(&d, src.w, src.h, 3);
            memcpy(d.p, src.p, (size_t)src.w * src.h * 3);
            for (int y = 0; y < d.h; y++)
                for (int x = 0; x < d.w; x++) {
                    double u = (x - cx) / ax, v = (y - cy) / ay;
                    if (u * u + v * v > 1)
                        continue;
                    unsigned char *p = d.p + ((size_t)y * d.w + x) * 3;
                    for (int c = 0; c < 3; c++) {
                        double l = p[c] / 255.0;
                        l = l <= 0.04045 ? l / 12.92 : pow((l + 0.055) / 1.055, 2.4);
                        l *= gains[gi];
                        l = l <= 0.0031308 ? 12.92 * l : 1.055 * pow(l, 1 / 2.4) - 0.055;
                        p[c] = (unsigned char)lround(255 * l);
                    }
                }
            analyse(&d, &f);
            found[gi] += f.found;
            eyes[gi] += f.found && f.eyes_found;
            pc__img_free(&d);
        }
        pc__img_free(&src);
    }
    fprintf(stderr, "real faces darkened (gain: found, both eyes placed, of %d):", n);
    for (size_t gi = 0; gi < 4; gi++)
        fprintf(stderr, "  %.2f: %d, %d", gains[gi], found[gi], eyes[gi]);
    fprintf(stderr, "\n");
    for (size_t gi = 0; gi < 4; gi++)
        assert_int_equal(found[gi], n);
}

/* The whole pipeline on each photograph as shipped: refused (busy backgrounds), the subject's
 * face found where it is the subject, other faces counted, no false closed-eye refusal. */
static void real_verdicts(void **state)
{
    (void)state;
    static const struct {
        size_t i;
        const char *must_fail; /* a refusal the photograph must get, and why */
        bool face;             /* FACE_PRESENT passes */
        int others;            /* OTHER_FACES value */
    } want[] = {
        {0, "BACKGROUND_UNIFORM", true, 0}, /* a flag and a shuttle behind her */
        {1, "BACKGROUND_COLOR", true, 0},   /* a flag and the sky */
        {2, "RESOLUTION", true, 0},         /* 320×320: enlarged ×2 */
        {5, "BACKGROUND_COLOR", true, 0},   /* a black room */
        {6, "OTHER_FACES", false, 1},       /* the player's face is too small for a subject */
    };
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
        const struct real *r = &REAL[want[k].i];
        size_t len;
        struct pc_photo_result res;
        unsigned char *b = slurp(r, &len);
        process(b, len, false, &res);
        char codes[512];
        failing_codes(&res, codes, sizeof codes);
        fprintf(stderr, "%-20s refused: %s\n", r->name, codes);
        assert_false(res.ok);
        assert_false(pc_photo_find_check(&res, want[k].must_fail)->ok);
        assert_int_equal(pc_photo_find_check(&res, "FACE_PRESENT")->ok, want[k].face);
        assert_int_equal((int)pc_photo_find_check(&res, "OTHER_FACES")->value, want[k].others);
        const struct pc_photo_check *eo = pc_photo_find_check(&res, "EYES_OPEN");
        assert_true(eo->skipped || eo->ok);
        pc_photo_result_free(&res);
        free(b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(real_faces),  cmocka_unit_test(real_three_faces),
        cmocka_unit_test(real_rolled), cmocka_unit_test(real_second_face),
        cmocka_unit_test(real_darker), cmocka_unit_test(real_verdicts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
