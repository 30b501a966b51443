/* tools/demo_portrait.c — writes synthetic portraits for the development stack (make run):
 * a good 1080×1440 JPEG and a failing one (red wall), from photo/testgen.h.
 * Usage: portraitd-demo-portrait GOOD.jpg BAD.jpg */
#include "photo/testgen.h"

#include <stdio.h>
#include <stdlib.h>
#include <turbojpeg.h>

static int write_portrait(const char *path, bool good)
{
    struct pc_photo_testgen g;
    pc_photo_testgen_defaults(&g, 1080, 1440);
    if (!good) {
        g.bg[0] = 200;
        g.bg[1] = 40;
        g.bg[2] = 40;
    }
    unsigned char *rgb = pc_photo_testgen_render(&g);
    size_t len = 0;
    unsigned char *jpeg =
        pc_photo_testgen_jpeg(rgb, 1080, 1440, 90, TJSAMP_420, false, false, &len);
    free(rgb);
    FILE *f = jpeg ? fopen(path, "wb") : NULL;
    int rc = f && fwrite(jpeg, 1, len, f) == len ? 0 : 1;
    if (f && fclose(f))
        rc = 1;
    free(jpeg);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: portraitd-demo-portrait GOOD.jpg BAD.jpg\n");
        return 2;
    }
    return write_portrait(argv[1], true) || write_portrait(argv[2], false);
}
