/* base/utf8.h — stepping through UTF-8 text by code points. Pure; any thread. */
#ifndef PC_BASE_UTF8_H
#define PC_BASE_UTF8_H

#include <stddef.h>

/* Decodes the code point at s[*i] (s holds n bytes) and advances *i past it. Returns the code
 * point, or -1 for an invalid, overlong, surrogate or truncated sequence (advancing one byte). */
long pc_utf8_next(const char *s, size_t n, size_t *i);

#endif
