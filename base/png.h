/* base/png.h — decode a PNG held in memory to packed 8-bit grey or RGB (libpng).
 *
 * Shared by the collection-code reader (codes/) and the photo pipeline (photo/). libpng never
 * prints: errors and warnings are swallowed and reported as PC_EINVAL. Pure; any thread (one
 * libpng handle per call). */
#ifndef PC_BASE_PNG_H
#define PC_BASE_PNG_H

#include <stddef.h>

/* Decodes p[0..len) to `channels` bytes per pixel (1 = grey, 3 = RGB), tightly packed:
 * palette and low bit depths expanded, 16 bits stripped, colour reduced to grey or grey
 * widened to RGB as asked, alpha (and tRNS) composed on white. Rows are decoded one at a time
 * straight into the result (interlaced pictures pass by pass): nothing but the result is the
 * picture's size. The caller checks the pixel count against its cap from the header before
 * calling. On success *px (pc_xmalloc; the caller frees it with free()), *w and *h are set and
 * 0 is returned; PC_EINVAL otherwise, with *px left NULL. */
int pc_png_decode(const unsigned char *p, size_t len, int channels, unsigned char **px, int *w,
                  int *h);

/* The same reduced while decoding by whole k × k blocks (1 <= k <= 16; edge blocks average
 * what exists): the result is ceil(width / k) × ceil(height / k). Memory: the result, one
 * row, and 16-bit block sums (one reduced row; every reduced row for an interlaced picture). */
int pc_png_decode_reduced(const unsigned char *p, size_t len, int channels, int k,
                          unsigned char **px, int *w, int *h);

#endif
