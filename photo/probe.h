/* photo/probe.h — what an uploaded image is, from its header only (no pixel decode).
 *
 * Recognises JPEG (TurboJPEG header) and PNG (libpng IHDR) by content, never by name or
 * declared type. Pure; any thread. */
#ifndef PC_PHOTO_PROBE_H
#define PC_PHOTO_PROBE_H

#include <stddef.h>

enum pc_image_format { PC_IMG_UNKNOWN = 0, PC_IMG_JPEG, PC_IMG_PNG };

struct pc_image_info {
    enum pc_image_format format;
    int width, height;
    int components;   /* JPEG: 1 gray, 3 colour, 4 CMYK; PNG: channels */
    const char *ext;  /* "jpg" / "png" */
    const char *mime; /* "image/jpeg" / "image/png" */
};

/* 0 with info filled, or PC_EINVAL (not a JPEG/PNG, or a damaged header). */
int pc_image_probe(const void *data, size_t len, struct pc_image_info *info);

#endif
