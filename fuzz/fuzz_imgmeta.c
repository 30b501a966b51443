/* fuzz_imgmeta.c — metadata stripping of uploaded originals and avatars (base/imgmeta.h): never
 * reads outside the input, and a stripped file strips to itself. */
#include "base/imgmeta.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char *out = NULL, *again = NULL;
    size_t n = 0, m = 0;
    if (size > (1u << 20))
        return 0;
    pc_jpeg_exif_orientation(data, size);
    if (pc_image_strip_metadata(data, size, &out, &n) == 0) {
        if (pc_image_strip_metadata(out, n, &again, &m) != 0 || m != n || memcmp(again, out, n))
            abort();
        free(again);
    }
    free(out);
    return 0;
}
