/* base/utf8.c — UTF-8 stepping. See utf8.h. */
#include "base/utf8.h"

long pc_utf8_next(const char *s, size_t n, size_t *i)
{
    const unsigned char *p = (const unsigned char *)s + *i;
    size_t left = n - *i;
    unsigned char c = p[0];
    long cp, min;
    size_t len;
    if (c < 0x80) {
        *i += 1;
        return c;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2, cp = c & 0x1f, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3, cp = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, cp = c & 0x07, min = 0x10000;
    } else {
        *i += 1;
        return -1;
    }
    if (left < len) {
        *i += 1;
        return -1;
    }
    for (size_t k = 1; k < len; k++) {
        if ((p[k] & 0xc0) != 0x80) {
            *i += 1;
            return -1;
        }
        cp = cp << 6 | (p[k] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        *i += 1;
        return -1;
    }
    *i += len;
    return cp;
}
