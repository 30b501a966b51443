/* fuzz_qr_decode.c — arbitrary bytes into pc_qr_decode_capped (JPEG/PNG probe, TurboJPEG and
 * libpng grey decoding, downscaling, zbar). The pixel cap is lowered to 512×512 so that each
 * run stays fast; the decoding paths are the same as at PC_QR_MAX_PIXELS. Checks: the return
 * code is one of the documented ones, *outlen is 0 on failure and within outcap on success.
 * A second call with a tiny outcap must give PC_ETOOBIG exactly when the payload is longer. */
#include "base/err.h"
#include "codes/codes.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_MAX_PIXELS (512L * 512)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char out[PC_QR_MAX_PAYLOAD], small[8];
    size_t n = 12345, m = 12345;
    if (size > 256 * 1024)
        return 0;
    unsigned char *img = malloc(size ? size : 1); /* exact size: ASan sees any over-read */
    memcpy(img, data, size);
    int rc = pc_qr_decode_capped(img, size, FUZZ_MAX_PIXELS, out, sizeof out, &n);
    if (rc == 0) {
        if (n > sizeof out)
            abort();
        int rc2 = pc_qr_decode_capped(img, size, FUZZ_MAX_PIXELS, small, sizeof small, &m);
        if (n > sizeof small ? rc2 != PC_ETOOBIG || m != 0
                             : rc2 != 0 || m != n || memcmp(small, out, n) != 0)
            abort();
    } else if ((rc != PC_ENOTFOUND && rc != PC_EINVAL && rc != PC_ETOOBIG) || n != 0) {
        abort();
    }
    free(img);
    return 0;
}
