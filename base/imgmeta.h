/* base/imgmeta.h — a JPEG or PNG without what the camera wrote about the person who took it.
 *
 * Stored originals and public avatars keep their pixels byte for byte and lose their metadata:
 * EXIF (GPS position, device, serial numbers, times, the embedded thumbnail), XMP, IPTC,
 * comments, text chunks and whatever trails the image. The one EXIF value a viewer needs, the
 * orientation, is written back in a minimal EXIF block of its own, so the photo is still shown
 * upright. Pure; any thread. */
#ifndef PC_BASE_IMGMETA_H
#define PC_BASE_IMGMETA_H

#include <stddef.h>

/* JPEG: copies SOI, APP0 (JFIF), APP2 ICC_PROFILE, APP14 (Adobe colour transform), every
 * table, frame and scan header and the entropy-coded data up to EOI, and drops APP1 (EXIF,
 * XMP), the other APPn, COM and anything after EOI; an orientation other than 1 comes back as
 * a 34-byte EXIF block (IFD0 with the Orientation tag alone). PNG: keeps the critical chunks
 * and the colour ones (tRNS, gAMA, cHRM, sRGB, iCCP, sBIT, bKGD, pHYs) up to IEND, drops the
 * rest (tEXt, zTXt, iTXt, tIME, eXIf, unknown ancillary chunks). *out (pc_xmalloc; the caller
 * frees it) of *outlen on 0; PC_EINVAL for anything that is not a well-formed JPEG or PNG
 * structure (nothing is guessed then). */
int pc_image_strip_metadata(const void *in, size_t len, unsigned char **out, size_t *outlen);

/* The EXIF orientation (1–8) of a JPEG's APP1 block, or 1 when it has none or it cannot be
 * read. */
int pc_jpeg_exif_orientation(const void *in, size_t len);

#endif
