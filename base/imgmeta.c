/* base/imgmeta.c — metadata stripping for JPEG and PNG (base/imgmeta.h). A walk over the
 * marker segments or chunks with every length checked against the input; the pixel data is
 * copied, never decoded. */
#include "base/imgmeta.h"

#include "base/alloc.h"
#include "base/buf.h"
#include "base/err.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static unsigned be16(const unsigned char *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- JPEG ---- */

/* The orientation in an APP1 payload p[0..n) ("Exif\0\0" + TIFF), or 1. */
static int exif_orientation(const unsigned char *p, size_t n)
{
    if (n < 14 || memcmp(p, "Exif\0\0", 6) != 0)
        return 1;
    const unsigned char *t = p + 6;
    size_t tn = n - 6;
    bool le = t[0] == 'I' && t[1] == 'I';
    if (!le && !(t[0] == 'M' && t[1] == 'M'))
        return 1;
#define U16(q) (le ? (unsigned)(q)[0] | (unsigned)(q)[1] << 8 : be16(q))
#define U32(q)                                                                                     \
    (le ? (uint32_t)(q)[0] | (uint32_t)(q)[1] << 8 | (uint32_t)(q)[2] << 16 |                      \
              (uint32_t)(q)[3] << 24                                                               \
        : be32(q))
    if (U16(t + 2) != 42)
        return 1;
    uint32_t ifd = U32(t + 4);
    if (ifd > tn || tn - ifd < 2)
        return 1;
    unsigned count = U16(t + ifd);
    for (unsigned i = 0; i < count; i++) {
        size_t e = (size_t)ifd + 2 + (size_t)i * 12;
        if (e + 12 > tn)
            return 1;
        if (U16(t + e) == 0x0112 && U16(t + e + 2) == 3 && U32(t + e + 4) == 1) {
            unsigned o = U16(t + e + 8);
            return o >= 1 && o <= 8 ? (int)o : 1;
        }
    }
#undef U16
#undef U32
    return 1;
}

/* Calls seg for each marker segment before the first SOS (marker, payload, payload length);
 * returns the offset of the first SOS marker, or 0 when the structure is broken. */
static size_t jpeg_walk_header(const unsigned char *p, size_t len,
                               void (*seg)(void *arg, unsigned marker, const unsigned char *pl,
                                           size_t n, size_t at),
                               void *arg)
{
    if (len < 4 || p[0] != 0xFF || p[1] != 0xD8)
        return 0;
    size_t i = 2;
    while (i + 4 <= len) {
        if (p[i] != 0xFF)
            return 0;
        while (i + 1 < len && p[i + 1] == 0xFF) /* fill bytes */
            i++;
        if (i + 4 > len)
            return 0;
        unsigned m = p[i + 1];
        if (m == 0xDA)
            return i;
        if (m == 0xD8 || m == 0xD9 || (m >= 0xD0 && m <= 0xD7) || m == 0x01 || m == 0x00)
            return 0; /* no standalone marker belongs before the first scan */
        size_t sl = be16(p + i + 2);
        if (sl < 2 || i + 2 + sl > len)
            return 0;
        seg(arg, m, p + i + 4, sl - 2, i);
        i += 2 + sl;
    }
    return 0;
}

struct jpeg_out {
    const unsigned char *in;
    struct pc_buf b;
    int orientation;
    bool exif_written, fail;
};

static void put_min_exif(struct jpeg_out *o)
{
    o->exif_written = true;
    if (o->orientation == 1)
        return;
    /* APP1, length 34: "Exif\0\0", big-endian TIFF, IFD0 = { Orientation SHORT 1 }, no next. */
    unsigned char a[36] = {0xFF, 0xE1, 0x00, 0x22, 'E', 'x', 'i', 'f', 0,    0,    'M', 'M',
                           0x00, 0x2A, 0,    0,    0,   8,   0,   1,   0x01, 0x12, 0,   3,
                           0,    0,    0,    1,    0,   0,   0,   0,   0,    0,    0,   0};
    a[29] = (unsigned char)o->orientation;
    if (pc_buf_add(&o->b, a, sizeof a))
        o->fail = true;
}

static bool keep_segment(unsigned m, const unsigned char *pl, size_t n)
{
    if (m == 0xE0) /* APP0: JFIF / JFXX */
        return true;
    if (m == 0xE2) /* APP2: the ICC profile only (MPF points at images that are dropped) */
        return n >= 12 && memcmp(pl, "ICC_PROFILE\0", 12) == 0;
    if (m == 0xEE) /* APP14 Adobe: how the decoder converts colours */
        return true;
    if ((m >= 0xE1 && m <= 0xEF) || m == 0xFE) /* other APPn (EXIF, XMP, IPTC...), COM */
        return false;
    return true; /* tables, frames, restart interval... */
}

static void jpeg_seg(void *arg, unsigned m, const unsigned char *pl, size_t n, size_t at)
{
    struct jpeg_out *o = arg;
    if (m != 0xE0 && !o->exif_written)
        put_min_exif(o);
    if (keep_segment(m, pl, n) && pc_buf_add(&o->b, o->in + at, n + 4))
        o->fail = true;
}

static void orientation_seg(void *arg, unsigned m, const unsigned char *pl, size_t n, size_t at)
{
    (void)at;
    int *o = arg;
    if (m == 0xE1 && *o == 1)
        *o = exif_orientation(pl, n);
}

int pc_jpeg_exif_orientation(const void *in, size_t len)
{
    int o = 1;
    jpeg_walk_header(in, len, orientation_seg, &o);
    return o;
}

static int strip_jpeg(const unsigned char *p, size_t len, unsigned char **out, size_t *outlen)
{
    struct jpeg_out o = {.in = p, .orientation = pc_jpeg_exif_orientation(p, len)};
    pc_buf_init(&o.b, len + 64);
    pc_buf_add(&o.b, p, 2); /* SOI */
    size_t i = jpeg_walk_header(p, len, jpeg_seg, &o);
    if (!i || o.fail)
        goto bad;
    if (!o.exif_written)
        put_min_exif(&o);
    /* From the first SOS: scans (kept), the segments between them (kept when keep_segment
     * says so), up to EOI; what follows EOI is dropped. */
    while (i + 4 <= len) {
        if (p[i] != 0xFF)
            goto bad;
        while (i + 2 < len && p[i + 1] == 0xFF) /* fill bytes */
            i++;
        unsigned m = p[i + 1];
        if (m == 0xD9)
            break;
        if (m == 0x00 || m == 0x01 || m == 0xD8 || (m >= 0xD0 && m <= 0xD7) || i + 4 > len)
            goto bad; /* no segment: a broken structure is refused, never guessed */
        size_t sl = be16(p + i + 2);
        if (sl < 2 || i + 2 + sl > len)
            goto bad;
        if ((m == 0xDA || keep_segment(m, p + i + 4, sl - 2)) && pc_buf_add(&o.b, p + i, 2 + sl))
            goto bad;
        i += 2 + sl;
        if (m != 0xDA)
            continue;
        size_t s = i; /* entropy-coded data: up to the next marker that is not stuffing/RST */
        while (i + 1 < len && !(p[i] == 0xFF && p[i + 1] != 0x00 && p[i + 1] != 0xFF &&
                                !(p[i + 1] >= 0xD0 && p[i + 1] <= 0xD7)))
            i++;
        if (i + 1 >= len) { /* no EOI (a cut file decoders accept): the scan ends here */
            if (pc_buf_add(&o.b, p + s, len - s))
                goto bad;
            i = len;
            break;
        }
        if (pc_buf_add(&o.b, p + s, i - s))
            goto bad;
    }
    if (i + 2 <= len && (p[i] != 0xFF || p[i + 1] != 0xD9))
        goto bad;
    if (pc_buf_add(&o.b, "\xff\xd9", 2))
        goto bad;
    *out = (unsigned char *)pc_buf_take(&o.b, outlen);
    return 0;
bad:
    pc_buf_free(&o.b);
    return PC_EINVAL;
}

/* ---- PNG ---- */

static bool keep_chunk(const unsigned char *type)
{
    static const char *const keep[] = {"tRNS", "gAMA", "cHRM", "sRGB", "iCCP",
                                       "sBIT", "bKGD", "pHYs", "PLTE"};
    if (!(type[0] & 0x20)) /* critical: IHDR, PLTE, IDAT, IEND and any other */
        return true;
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
        if (!memcmp(type, keep[i], 4))
            return true;
    return false;
}

static int strip_png(const unsigned char *p, size_t len, unsigned char **out, size_t *outlen)
{
    struct pc_buf b;
    pc_buf_init(&b, len);
    pc_buf_add(&b, p, 8);
    size_t i = 8;
    bool first = true;
    while (i + 12 <= len) {
        uint32_t n = be32(p + i);
        const unsigned char *type = p + i + 4;
        if (n > len - i - 12 || (first && memcmp(type, "IHDR", 4)))
            break;
        for (int k = 0; k < 4; k++)
            if (!((type[k] >= 'A' && type[k] <= 'Z') || (type[k] >= 'a' && type[k] <= 'z')))
                goto bad;
        first = false;
        if (keep_chunk(type) && pc_buf_add(&b, p + i, (size_t)n + 12))
            goto bad;
        i += (size_t)n + 12;
        if (!memcmp(type, "IEND", 4)) {
            *out = (unsigned char *)pc_buf_take(&b, outlen);
            return 0;
        }
    }
bad:
    pc_buf_free(&b);
    return PC_EINVAL;
}

int pc_image_strip_metadata(const void *in, size_t len, unsigned char **out, size_t *outlen)
{
    const unsigned char *p = in;
    *out = NULL;
    *outlen = 0;
    if (len >= 8 && !memcmp(p, "\x89PNG\r\n\x1a\n", 8))
        return strip_png(p, len, out, outlen);
    if (len >= 4 && p[0] == 0xFF && p[1] == 0xD8)
        return strip_jpeg(p, len, out, outlen);
    return PC_EINVAL;
}
