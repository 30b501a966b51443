/* fuzz_b64url.c — base64url decode (pagination cursors, tokens); decode∘encode = identity. */
#include "base/crypto.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char out[256];
    size_t n = 0;
    if (size > 300)
        return 0;
    if (pc_b64url_decode((const char *)data, size, out, sizeof out, &n) == 0) {
        char enc[400];
        size_t m = pc_b64url(out, n, enc);
        unsigned char back[256];
        size_t k = 0;
        if (pc_b64url_decode(enc, m, back, sizeof back, &k) != 0 || k != n || memcmp(back, out, n))
            abort();
    }
    return 0;
}
