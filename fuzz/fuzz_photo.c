/* fuzz_photo.c — arbitrary bytes into pc_photo_process (format probe, JPEG marker walk, EXIF
 * via libexif, TurboJPEG scaled decoding, libpng, orientation, segmentation, every rule,
 * pHash). The pixel cap is lowered to 4 MP so that each run stays fast; no standard file.
 * Checks: the call returns 0, every check has a code and a message, ok agrees with the
 * checks, and a refused header never leaves a file behind. */
#include "photo/photo.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pc_photo_opts o = {.standardise = false, .max_pixels = 4000000};
    struct pc_photo_result r;
    if (size > 512 * 1024)
        return 0;
    unsigned char *img = malloc(size ? size : 1); /* exact size: ASan sees any over-read */
    memcpy(img, data, size);
    if (pc_photo_process(img, size, &o, &r) != 0)
        abort();
    bool ok = true;
    for (size_t i = 0; i < r.nchecks; i++) {
        if (!r.checks[i].code || !r.checks[i].message)
            abort();
        if (!r.checks[i].ok && r.checks[i].blocking)
            ok = false;
    }
    if (ok != r.ok || r.jpeg || r.nchecks > PC_PHOTO_MAX_CHECKS)
        abort();
    pc_photo_result_free(&r);
    free(img);
    return 0;
}
