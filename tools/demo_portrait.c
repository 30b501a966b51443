/* tools/demo_portrait.c — writes synthetic portraits for the development stack (make run),
 * from photo/testgen.h: four good 1080×1440 JPEGs of different-looking people (so that a
 * walkthrough can shoot, and replace, photos of several students without tripping the
 * duplicate check) and a failing one (red wall).
 * Usage: portraitd-demo-portrait DIR  → DIR/portrait-good.jpg, portrait-good-{2,3,4}.jpg,
 *                                      DIR/portrait-bad.jpg */
#include "photo/testgen.h"

#include <stdio.h>
#include <stdlib.h>
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
    /* Other people: longer hair, another build and colouring, framed a little differently. */
    static const struct {
        const char *name;
        double size, cx;
        int long_hair;
        unsigned char skin[3], hair[3], cloth[3];
    } people[] = {
        {"portrait-good-2.jpg", 1.06, 0.49, 1, {214, 170, 140}, {40, 28, 20}, {30, 30, 34}},
        {"portrait-good-3.jpg", 0.95, 0.51, 0, {170, 120, 90}, {15, 12, 10}, {240, 240, 236}},
        {"portrait-good-4.jpg", 1.02, 0.50, 1, {228, 190, 160}, {90, 60, 35}, {120, 20, 30}},
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
    g.bg[0] = 200; /* a red wall */
    g.bg[1] = 40;
    g.bg[2] = 40;
    rc |= write_jpeg(argv[1], "portrait-bad.jpg", &g);
    return rc;
}
