/* tools/photo_corpus.c — writes the small seed files of fuzz/corpus/photo from photo/testgen.h:
 * a 96×128 baseline JPEG, the same with EXIF orientation 6, progressive 4:4:4, CMYK, and an RGBA
 * PNG. A tool, not a test (`make corpus`).
 * Usage: portraitd-photo-corpus DIR */
#include "photo/testgen.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <turbojpeg.h>

static int write_file(const char *dir, const char *name, const void *p, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = p ? fopen(path, "wb") : NULL;
    int rc = f && fwrite(p, 1, n, f) == n ? 0 : 1;
    if (f && fclose(f))
        rc = 1;
    if (rc)
        fprintf(stderr, "portraitd-photo-corpus: cannot write %s\n", path);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: portraitd-photo-corpus DIR\n");
        return 2;
    }
    const char *dir = argv[1];
    struct pc_photo_testgen g;
    size_t n = 0, m = 0;
    int rc = 0;
    pc_photo_testgen_defaults(&g, 96, 128);
    unsigned char *rgb = pc_photo_testgen_render(&g);
    unsigned char *j = pc_photo_testgen_jpeg(rgb, 96, 128, 75, TJSAMP_420, false, false, &n);
    rc |= write_file(dir, "small.jpg", j, n);
    unsigned char *e = pc_photo_testgen_exif(j, n, 6, &m);
    rc |= write_file(dir, "small_exif6.jpg", e, m);
    free(e);
    free(j);
    j = pc_photo_testgen_jpeg(rgb, 96, 128, 60, TJSAMP_444, true, false, &n);
    rc |= write_file(dir, "small_progressive.jpg", j, n);
    free(j);
    j = pc_photo_testgen_jpeg(rgb, 96, 128, 60, TJSAMP_420, false, true, &n);
    rc |= write_file(dir, "small_cmyk.jpg", j, n);
    free(j);
    j = pc_photo_testgen_png(rgb, 96, 128, 4, &n);
    rc |= write_file(dir, "small_rgba.png", j, n);
    free(j);
    free(rgb);
    return rc ? 1 : 0;
}
