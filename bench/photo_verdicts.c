/* bench/photo_verdicts.c — every check of the photo pipeline on a fixed corpus, one line per
 * picture, so that a speed change can be shown to keep every verdict: run it before and after
 * and diff (bench/README.md "Photo pipeline", "Same verdicts").
 *
 * The corpus: the skin-tone sweep's portraits (every configuration of
 * tests/unit/test_photo_tones.c at every tone), the detection grid of that test (three sizes ×
 * three rolls per tone), the benchmark's phone photos (4032×3024 with EXIF 6, 3024×4032 and
 * 1080×1440, q92) at four tones, and the real photographs of tests/unit/test_photo_real.c where
 * their Debian packages put them; then any file named on the command line.
 *
 * Usage: photo_verdicts [-v] [FILE...]
 *   without -v: name, ok, the failing checks (code, "~" for a warning)   — must not change
 *   with -v: every check's state and value, the pHash and the standard file's size — may drift
 * Single-threaded; output on stdout. */
#include "photo/photo.h"
#include "photo/testgen.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

static bool g_verbose;

static void report(const char *name, const unsigned char *data, size_t len)
{
    struct pc_photo_opts o = {.standardise = true};
    struct pc_photo_result r;
    pc_photo_process(data, len, &o, &r);
    printf("%-44s %s", name, r.ok ? "pass" : "REFUSED");
    for (size_t i = 0; i < r.nchecks; i++) {
        const struct pc_photo_check *c = &r.checks[i];
        if (g_verbose)
            printf(" %s=%s%.3f", c->code,
                   c->skipped    ? "skip:"
                   : c->ok       ? ""
                   : c->blocking ? "FAIL:"
                                 : "warn:",
                   c->value);
        else if (!c->ok && !c->skipped)
            printf(" %s%s", c->code, c->blocking ? "" : "~");
    }
    if (g_verbose)
        printf(" phash=%016llx bytes=%zu", (unsigned long long)r.phash, r.jpeg_len);
    printf("\n");
    pc_photo_result_free(&r);
}

static void generated(const char *name, struct pc_photo_testgen *g, int orientation)
{
    unsigned char *rgb = pc_photo_testgen_render(g);
    int w = g->w, h = g->h;
    size_t n, m;
    if (orientation != 1)
        pc_photo_testgen_store_as(&rgb, &w, &h, orientation);
    unsigned char *j = pc_photo_testgen_jpeg(rgb, w, h, 92, TJSAMP_420, false, false, &n);
    free(rgb);
    if (orientation != 1) {
        unsigned char *e = pc_photo_testgen_exif(j, n, orientation, &m);
        free(j);
        j = e;
        n = m;
    }
    report(name, j, n);
    free(j);
}

static void file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        printf("%-44s missing\n", path);
        return;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(n > 0 ? (size_t)n : 1);
    size_t got = fread(b, 1, n > 0 ? (size_t)n : 0, f);
    fclose(f);
    const char *base = strrchr(path, '/');
    report(base ? base + 1 : path, b, got);
    free(b);
}

/* The sweep's configurations (tests/unit/test_photo_tones.c), as field settings. */
struct config {
    const char *name;
    int w, h;
    double size, top, cx, roll, yaw, shadow, blur, eye_narrow, second;
    int wall, long_hair, glasses, closed, back;
};

static const struct config CONFIGS[] = {
    {.name = "in-spec-480", .w = 480, .h = 640, .size = 1.5625, .top = 0.11},
    {.name = "standard-480", .w = 480, .h = 640, .size = 1.83, .top = 0.109},
    {.name = "phone-1080", .w = 1080, .h = 1440},
    {.name = "white-wall", .w = 810, .h = 1080, .wall = 1},
    {.name = "long-hair", .w = 810, .h = 1080, .long_hair = 1},
    {.name = "glasses", .w = 810, .h = 1080, .glasses = 1, .size = 1.1, .cx = 0.48},
    {.name = "narrow-eyes", .w = 810, .h = 1080, .eye_narrow = 0.5, .size = 0.9},
    {.name = "mild-shadow", .w = 810, .h = 1080, .shadow = 0.74},
    {.name = "closed", .w = 810, .h = 1080, .closed = 1},
    {.name = "half-shadow", .w = 810, .h = 1080, .shadow = 0.5},
    {.name = "blurred", .w = 810, .h = 1080, .blur = 2.5},
    {.name = "rolled", .w = 810, .h = 1080, .roll = 25},
    {.name = "turned", .w = 810, .h = 1080, .yaw = -35},
    {.name = "back", .w = 810, .h = 1080, .back = 1},
    {.name = "second", .w = 810, .h = 1080, .second = 1},
};

static void apply(const struct config *c, struct pc_photo_testgen *g)
{
    if (c->size)
        g->size = c->size;
    if (c->top)
        g->top = c->top;
    if (c->cx)
        g->cx = c->cx;
    g->roll = c->roll;
    g->yaw = c->yaw;
    if (c->shadow)
        g->shadow = c->shadow;
    g->blur = c->blur;
    g->eye_narrow = c->eye_narrow;
    g->glasses = c->glasses;
    g->eyes_closed = c->closed;
    g->back = c->back;
    if (c->wall) {
        g->bg[0] = g->bg[1] = 242;
        g->bg[2] = 238;
    }
    if (c->long_hair) {
        g->long_hair = true;
        g->cloth[0] = g->cloth[1] = 200;
        g->cloth[2] = 205;
        g->seed = 11;
    }
    if (c->second) {
        g->second_size = 0.3;
        g->second_cx = 0.92;
        g->second_top = 0.33;
    }
}

int main(int argc, char **argv)
{
    int a = 1;
    if (a < argc && strcmp(argv[a], "-v") == 0) {
        g_verbose = true;
        a++;
    }
    char name[96];
    struct pc_photo_testgen g;
    for (size_t c = 0; c < sizeof CONFIGS / sizeof CONFIGS[0]; c++)
        for (int t = 0; t < PC_PHOTO_TESTGEN_TONES; t++) {
            pc_photo_testgen_defaults(&g, CONFIGS[c].w, CONFIGS[c].h);
            memcpy(g.skin, pc_photo_testgen_tones[t], 3);
            apply(&CONFIGS[c], &g);
            snprintf(name, sizeof name, "sweep %s tone %d", CONFIGS[c].name, t + 1);
            generated(name, &g, 1);
        }
    static const double sizes[] = {0.85, 1.0, 1.2}, rolls[] = {0, 4, -6};
    for (int t = 0; t < PC_PHOTO_TESTGEN_TONES; t++)
        for (int s = 0; s < 3; s++)
            for (int k = 0; k < 3; k++) {
                pc_photo_testgen_defaults(&g, 1080, 1440);
                memcpy(g.skin, pc_photo_testgen_tones[t], 3);
                g.size = sizes[s];
                g.roll = rolls[k];
                g.seed = (uint32_t)(31 * t + 7 * s + k + 1);
                snprintf(name, sizeof name, "grid tone %d size %.2f roll %g", t + 1, sizes[s],
                         rolls[k]);
                generated(name, &g, 1);
            }
    static const int tones[] = {0, 3, 5, 7};
    for (size_t i = 0; i < sizeof tones / sizeof tones[0]; i++) {
        int t = tones[i];
        pc_photo_testgen_defaults(&g, 3024, 4032);
        memcpy(g.skin, pc_photo_testgen_tones[t], 3);
        snprintf(name, sizeof name, "phone 4032x3024 exif6 tone %d", t + 1);
        generated(name, &g, 6);
        snprintf(name, sizeof name, "phone 3024x4032 tone %d", t + 1);
        generated(name, &g, 1);
        pc_photo_testgen_defaults(&g, 1080, 1440);
        memcpy(g.skin, pc_photo_testgen_tones[t], 3);
        g.seed = 77;
        snprintf(name, sizeof name, "phone 1080x1440 tone %d", t + 1);
        generated(name, &g, 1);
    }
    static const char *const real[] = {
        "/usr/lib/python3/dist-packages/skimage/data/astronaut.png",
        "/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg",
        "/usr/share/doc/opencv-doc/opencv4/html/face_swapped.jpg",
        "/usr/share/doc/opencv-doc/opencv4/html/example.jpg",
        "/usr/share/doc/opencv-doc/opencv4/html/230501201_1.jpg",
        "/usr/share/doc/opencv-doc/opencv4/html/227943776_1.jpg",
        "/usr/share/doc/opencv-doc/examples/data/messi5.jpg",
    };
    for (size_t i = 0; i < sizeof real / sizeof real[0]; i++)
        file(real[i]);
    for (; a < argc; a++)
        file(argv[a]);
    return 0;
}
