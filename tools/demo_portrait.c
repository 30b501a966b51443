/* tools/demo_portrait.c — writes synthetic portraits for the development stack (make run),
 * from photo/testgen.h: four good 1080×1440 JPEGs of different-looking people (so that a
 * walkthrough can shoot, and replace, photos of several students without tripping the
 * duplicate check), the same good portrait at every skin tone of the fairness sweep, a
 * 480×640 one that already meets the standard, and refused ones: a red wall, the back of a
 * head, a rolled head, closed eyes, a turned face, a second person at the edge.
 * Usage: portraitd-demo-portrait DIR  → DIR/portrait-good.jpg, portrait-good-{2,3,4}.jpg,
 *        portrait-tone-{1..8}.jpg, portrait-spec-480x640.jpg, portrait-bad.jpg,
 *        portrait-{noface,rolled,closed,turned,two-faces}.jpg */
#include "photo/testgen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

static int write_jpeg(const char *dir, const char *name, const struct pc_photo_testgen *g)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    unsigned char *rgb = pc_photo_testgen_render(g);
    size_t len = 0;
    unsigned char *jpeg =
        pc_photo_testgen_jpeg(rgb, g->w, g->h, 90, TJSAMP_420, false, false, &len);
    free(rgb);
    FILE *f = jpeg ? fopen(path, "wb") : NULL;
    int rc = f && fwrite(jpeg, 1, len, f) == len ? 0 : 1;
    if (f && fclose(f))
        rc = 1;
    free(jpeg);
    if (rc)
        fprintf(stderr, "portraitd-demo-portrait: cannot write %s\n", path);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: portraitd-demo-portrait DIR\n");
        return 2;
    }
    struct pc_photo_testgen g;
    int rc = 0;
    pc_photo_testgen_defaults(&g, 1080, 1440);
    rc |= write_jpeg(argv[1], "portrait-good.jpg", &g);
    /* Other people: longer hair, another build and colouring, framed a little differently;
     * the four are pairwise 12–22 apart in pHash (the duplicate check refuses ≤ 8). */
    static const struct {
        const char *name;
        double size, cx;
        int long_hair;
        unsigned char skin[3], hair[3], cloth[3];
    } people[] = {
        {"portrait-good-2.jpg", 1.06, 0.49, 1, {214, 170, 140}, {40, 28, 20}, {30, 30, 34}},
        {"portrait-good-3.jpg", 0.95, 0.51, 0, {170, 120, 90}, {15, 12, 10}, {240, 240, 236}},
        {"portrait-good-4.jpg", 1.02, 0.50, 0, {90, 60, 45}, {90, 60, 35}, {30, 90, 50}},
    };
    for (size_t i = 0; i < sizeof people / sizeof people[0]; i++) {
        struct pc_photo_testgen p;
        pc_photo_testgen_defaults(&p, 1080, 1440);
        p.seed = 1000u + (uint32_t)i;
        p.size = people[i].size;
        p.cx = people[i].cx;
        p.long_hair = people[i].long_hair;
        for (int c = 0; c < 3; c++) {
            p.skin[c] = people[i].skin[c];
            p.hair[c] = people[i].hair[c];
            p.cloth[c] = people[i].cloth[c];
        }
        rc |= write_jpeg(argv[1], people[i].name, &p);
    }
    /* Every tone of the fairness sweep, very fair to very dark: each must pass. */
    for (int t = 0; t < PC_PHOTO_TESTGEN_TONES; t++) {
        char name[64];
        struct pc_photo_testgen p;
        pc_photo_testgen_defaults(&p, 1080, 1440);
        p.seed = 2000u + (uint32_t)t;
        p.size = 0.92 + 0.03 * (t % 4);
        p.long_hair = t % 2;
        memcpy(p.skin, pc_photo_testgen_tones[t], 3);
        snprintf(name, sizeof name, "portrait-tone-%d.jpg", t + 1);
        rc |= write_jpeg(argv[1], name, &p);
    }
    /* A 480×640 file that already meets the standard (face 200 px wide, dark skin). */
    struct pc_photo_testgen s;
    pc_photo_testgen_defaults(&s, 480, 640);
    s.size = 1.5625;
    s.top = 0.11;
    s.seed = 3000;
    memcpy(s.skin, pc_photo_testgen_tones[6], 3);
    rc |= write_jpeg(argv[1], "portrait-spec-480x640.jpg", &s);
    /* Refused: each for one reason. */
    struct pc_photo_testgen b;
    pc_photo_testgen_defaults(&b, 1080, 1440);
    b.bg[0] = 200; /* a red wall */
    b.bg[1] = 40;
    b.bg[2] = 40;
    rc |= write_jpeg(argv[1], "portrait-bad.jpg", &b);
    pc_photo_testgen_defaults(&b, 1080, 1440);
    b.back = true;
    rc |= write_jpeg(argv[1], "portrait-noface.jpg", &b);
    pc_photo_testgen_defaults(&b, 1080, 1440);
    b.roll = 25;
    rc |= write_jpeg(argv[1], "portrait-rolled.jpg", &b);
    pc_photo_testgen_defaults(&b, 1080, 1440);
    b.eyes_closed = true;
    rc |= write_jpeg(argv[1], "portrait-closed.jpg", &b);
    pc_photo_testgen_defaults(&b, 1080, 1440);
    b.yaw = 35;
    rc |= write_jpeg(argv[1], "portrait-turned.jpg", &b);
    pc_photo_testgen_defaults(&b, 1080, 1440);
    b.second_size = 0.3;
    b.second_cx = 0.92;
    b.second_top = 0.33;
    rc |= write_jpeg(argv[1], "portrait-two-faces.jpg", &b);
    return rc;
}
