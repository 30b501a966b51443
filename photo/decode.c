/* photo/decode.c — format recognition, header facts and pixel decoding of uploads: JPEG on
 * TurboJPEG (scaled decoding) or, row group by row group with a reader on a second thread, on
 * libjpeg's own API (the same pixels); PNG on libpng (reduced row by row, base/png.h). Pure;
 * any thread (handles per call). */
#include "photo/internal.h"

#include "base/alloc.h"
#include "base/err.h"
#include "base/png.h"

#include <png.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdio.h> /* jpeglib.h needs FILE and size_t first */
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include <jpeglib.h>

void pc__img_alloc(struct pc__img *im, int w, int h, int nch)
{
    im->p = pc_xmalloc((size_t)w * (size_t)h * (size_t)nch);
    im->w = w;
    im->h = h;
    im->nch = nch;
}

void pc__img_free(struct pc__img *im)
{
    if (!im)
        return;
    pc_free_null(im->p);
    im->w = im->h = im->nch = 0;
}

/* ---- JPEG markers ---- */

static bool is_sof(int m)
{
    return m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc;
}

/* Walks the marker segments up to SOS: the first SOF type and the first Exif APP1. */
static void jpeg_markers(const unsigned char *p, size_t len, struct pc__hdr *h)
{
    size_t i = 2;
    while (i < len) {
        if (p[i] != 0xff)
            return; /* not at a marker: damaged, TurboJPEG will judge */
        while (i < len && p[i] == 0xff)
            i++;
        if (i >= len)
            return;
        int m = p[i++];
        if (m == 0xd8 || m == 0x01 || (m >= 0xd0 && m <= 0xd7))
            continue;
        if (m == 0xd9 || m == 0xda || len - i < 2)
            return;
        size_t seg = ((size_t)p[i] << 8) | p[i + 1];
        if (seg < 2 || seg > len - i)
            return;
        const unsigned char *pl = p + i + 2;
        size_t n = seg - 2;
        if (is_sof(m) && !h->sof)
            h->sof = m;
        if (m == 0xe1 && !h->exif && n >= 6 && memcmp(pl, "Exif\0\0", 6) == 0) {
            h->exif = pl;
            h->exif_len = n;
        }
        i += seg;
    }
}

static void probe_jpeg(const unsigned char *p, size_t len, struct pc__hdr *h)
{
    h->fmt = PC__FMT_JPEG;
    jpeg_markers(p, len, h);
    tjhandle tj = tjInitDecompress();
    if (!tj)
        return;
    int w = 0, hh = 0, ss = -1, cs = -1; /* §5.3 gotcha 1: a short header leaves these alone */
    if (tjDecompressHeader3(tj, p, (unsigned long)len, &w, &hh, &ss, &cs) == 0 && w > 0 && hh > 0) {
        h->header_ok = true;
        h->w = w;
        h->h = hh;
        h->subsamp = ss;
        h->gray = ss == TJSAMP_GRAY || cs == TJCS_GRAY;
        h->cmyk = cs == TJCS_CMYK || cs == TJCS_YCCK;
    }
    tjDestroy(tj);
    if (h->exif)
        h->orientation = pc__exif_orientation(h->exif, h->exif_len);
}

/* ---- PNG ---- */

/* Header only: the IHDR chunk read by hand (libpng's png_read_info would read on to the first
 * IDAT, and a pixel bomb need not have one). libpng judges the rest when decoding. */
static void probe_png(const unsigned char *p, size_t len, struct pc__hdr *h)
{
    h->fmt = PC__FMT_PNG;
    h->orientation = 1;
    if (len < 33 || memcmp(p + 8, "\0\0\0\x0dIHDR", 8) != 0)
        return;
    uint32_t w = ((uint32_t)p[16] << 24) | ((uint32_t)p[17] << 16) | ((uint32_t)p[18] << 8) | p[19];
    uint32_t hh =
        ((uint32_t)p[20] << 24) | ((uint32_t)p[21] << 16) | ((uint32_t)p[22] << 8) | p[23];
    int depth = p[24], ct = p[25];
    if (w == 0 || hh == 0 || w > 0x7fffffffu || hh > 0x7fffffffu)
        return;
    if (ct != 0 && ct != 2 && ct != 3 && ct != 4 && ct != 6)
        return;
    if (depth != 1 && depth != 2 && depth != 4 && depth != 8 && depth != 16)
        return;
    h->w = (int)w;
    h->h = (int)hh;
    h->gray = !(ct & PNG_COLOR_MASK_COLOR);
    h->header_ok = true;
}

/* Decodes a PNG to RGB (grey pictures were refused on their header already), reduced while
 * decoding by the largest whole factor (<= 16) that keeps >= min_h rows: a 50 MP PNG is
 * never held at full size. */
static int decode_png(const unsigned char *p, size_t len, const struct pc__hdr *h, int min_h,
                      struct pc__img *out, double *scale)
{
    int w, hh, k = min_h > 0 ? h->h / min_h : 1;
    unsigned char *px;
    k = k < 1 ? 1 : k > 16 ? 16 : k;
    int rc = pc_png_decode_reduced(p, len, 3, k, &px, &w, &hh);
    if (rc != 0)
        return rc;
    if (w != (h->w + k - 1) / k || hh != (h->h + k - 1) / k) {
        free(px);
        return PC_EINVAL;
    }
    out->p = px;
    out->w = w;
    out->h = hh;
    out->nch = 3;
    *scale = (double)hh / h->h;
    return 0;
}

/* ---- JPEG ---- */

/* The smallest TurboJPEG scaling factor whose oriented height is >= min_h (1 when min_h <= 0). */
static tjscalingfactor jpeg_factor(const struct pc__hdr *h, int min_h)
{
    /* 3/8 is left out: its IDCT path is slower than 1/2 (bench/README.md) */
    static const tjscalingfactor cand[] = {{1, 8}, {1, 4}, {1, 2}, {1, 1}};
    bool swap = h->orientation >= 5;
    for (size_t i = 0; min_h > 0 && i < sizeof cand / sizeof cand[0]; i++) {
        int oh = swap ? TJSCALED(h->w, cand[i]) : TJSCALED(h->h, cand[i]);
        if (oh >= min_h)
            return cand[i];
    }
    return (tjscalingfactor){1, 1};
}

static int decode_jpeg(const unsigned char *p, size_t len, const struct pc__hdr *h, int min_h,
                       struct pc__img *out, double *scale)
{
    tjscalingfactor f = jpeg_factor(h, min_h);
    int sw = TJSCALED(h->w, f), sh = TJSCALED(h->h, f);
    int rc = PC_EINVAL;
    tjhandle tj = tjInitDecompress();
    if (!tj)
        return PC_EINVAL;
    pc__img_alloc(out, sw, sh, 3);
    if (tjDecompress2(tj, p, (unsigned long)len, out->p, sw, 0, sh, TJPF_RGB, TJFLAG_LIMITSCANS) !=
        0) {
        pc__img_free(out); /* any error or warning (truncation): refuse */
        goto out;
    }
    *scale = (double)sw / h->w;
    rc = 0;
out:
    tjDestroy(tj);
    return rc;
}

/* ---- JPEG in row bands, read meanwhile on a second thread ---- */

struct pc__rows {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;  /* rows of the picture decoded so far */
    int want;  /* rows the reader waits for (0: it does not wait) */
    int state; /* 0 decoding, 1 finished, -1 failed */
};

int pc__rows_wait(struct pc__rows *r, int need)
{
    pthread_mutex_lock(&r->mu);
    while (r->done < need && r->state == 0) {
        r->want = need;
        pthread_cond_wait(&r->cv, &r->mu);
    }
    r->want = 0;
    int rc = r->state < 0 ? PC_EINVAL : 0;
    pthread_mutex_unlock(&r->mu);
    return rc;
}

/* Rows done so far, or the end (state 1 or -1); wakes the reader when it has what it waits
 * for. Decoding thread. */
static void rows_set(struct pc__rows *r, int done, int state)
{
    pthread_mutex_lock(&r->mu);
    r->done = done;
    r->state = state;
    if (state != 0 || (r->want > 0 && done >= r->want))
        pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

/* libjpeg's error handling as TurboJPEG's tjDecompress2 has it: an error ends the decode, a
 * warning (a truncated or damaged file) is remembered and fails it at the end, nothing is
 * printed, and a multi-scan file of more than 500 scans is an error (TJFLAG_LIMITSCANS). */
struct jerr {
    struct jpeg_error_mgr pub;
    jmp_buf jb;
    bool warned;
};

static void jerr_exit(j_common_ptr c)
{
    longjmp(((struct jerr *)c->err)->jb, 1);
}

static void jerr_emit(j_common_ptr c, int level)
{
    if (level < 0)
        ((struct jerr *)c->err)->warned = true;
}

static void jerr_output(j_common_ptr c)
{
    (void)c;
}

static void limit_scans(j_common_ptr c)
{
    if (((j_decompress_ptr)c)->input_scan_number > 500)
        longjmp(((struct jerr *)c->err)->jb, 1);
}

/* One banded decode: libjpeg's state, the picture and its reader. */
struct band_dec {
    struct jpeg_decompress_struct d;
    struct jerr err;
    struct jpeg_progress_mgr prog;
    struct pc__rows rows;
    struct pc__img *out;
    pc__rows_fn fn;
    void *ctx;
    pthread_t thread;
    bool started; /* the reader runs on its own thread */
};

static void *band_reader(void *arg)
{
    struct band_dec *b = arg;
    b->fn(b->ctx, b->out, &b->rows);
    return NULL;
}

/* The decode of tjDecompress2(TJPF_RGB, TJFLAG_LIMITSCANS) at f, row group by row group, the
 * reader started once the picture is allocated. 0 or PC_EINVAL. */
static int band_run(struct band_dec *b, const unsigned char *p, size_t len, tjscalingfactor f,
                    int sw, int sh)
{
    if (setjmp(b->err.jb))
        return PC_EINVAL;
    jpeg_mem_src(&b->d, p, (unsigned long)len);
    jpeg_read_header(&b->d, TRUE);
    b->d.out_color_space = JCS_EXT_RGB;
    b->d.scale_num = (unsigned)f.num;
    b->d.scale_denom = (unsigned)f.denom;
    jpeg_start_decompress(&b->d);
    if ((int)b->d.output_width != sw || (int)b->d.output_height != sh ||
        b->d.output_components != 3)
        return PC_EINVAL;
    pc__img_alloc(b->out, sw, sh, 3);
    b->started = pthread_create(&b->thread, NULL, band_reader, b) == 0;
    size_t stride = (size_t)sw * 3;
    while (b->d.output_scanline < b->d.output_height) {
        JSAMPROW row[16];
        int y = (int)b->d.output_scanline, n = sh - y < 16 ? sh - y : 16;
        for (int k = 0; k < n; k++)
            row[k] = b->out->p + (size_t)(y + k) * stride;
        jpeg_read_scanlines(&b->d, row, (JDIMENSION)n);
        rows_set(&b->rows, (int)b->d.output_scanline, 0);
    }
    jpeg_finish_decompress(&b->d);
    return b->err.warned ? PC_EINVAL : 0;
}

int pc__decode_rows(const unsigned char *p, size_t len, const struct pc__hdr *h, int min_h,
                    struct pc__img *out, double *scale, pc__rows_fn fn, void *ctx)
{
    if (h->fmt != PC__FMT_JPEG) { /* PNG: reduced while decoding already; then the reader */
        int rc = pc__decode(p, len, h, min_h, out, scale);
        if (rc == 0) {
            struct pc__rows all = {.done = out->h, .state = 1};
            pthread_mutex_init(&all.mu, NULL);
            pthread_cond_init(&all.cv, NULL);
            fn(ctx, out, &all);
            pthread_cond_destroy(&all.cv);
            pthread_mutex_destroy(&all.mu);
        }
        return rc;
    }
    tjscalingfactor f = jpeg_factor(h, min_h);
    int sw = TJSCALED(h->w, f), sh = TJSCALED(h->h, f);
    struct band_dec *b = pc_xcalloc(1, sizeof *b);
    b->out = out;
    b->fn = fn;
    b->ctx = ctx;
    pthread_mutex_init(&b->rows.mu, NULL);
    pthread_cond_init(&b->rows.cv, NULL);
    b->d.err = jpeg_std_error(&b->err.pub);
    b->err.pub.error_exit = jerr_exit;
    b->err.pub.emit_message = jerr_emit;
    b->err.pub.output_message = jerr_output;
    b->prog.progress_monitor = limit_scans;
    jpeg_create_decompress(&b->d);
    b->d.progress = &b->prog;
    int rc = band_run(b, p, len, f, sw, sh);
    rows_set(&b->rows, b->rows.done, rc == 0 ? 1 : -1);
    if (b->started)
        pthread_join(b->thread, NULL);
    else if (rc == 0) /* no thread to be had: the reader after the decode */
        fn(ctx, out, &b->rows);
    jpeg_destroy_decompress(&b->d);
    pthread_cond_destroy(&b->rows.cv);
    pthread_mutex_destroy(&b->rows.mu);
    free(b);
    if (rc != 0)
        pc__img_free(out);
    else
        *scale = (double)sw / h->w;
    return rc;
}

/* Start-of-scan markers in the file, up to 2 (inside entropy-coded data 0xFF is stuffed with
 * 0x00, so an FF DA is a marker). More than one: libjpeg keeps every coefficient. */
static int count_scans(const unsigned char *p, size_t len)
{
    int n = 0;
    for (const unsigned char *q = p; n < 2 && (q = memchr(q, 0xff, len - (size_t)(q - p)));) {
        if ((size_t)(q - p) + 1 >= len)
            break;
        n += q[1] == 0xda;
        q++;
    }
    return n;
}

double pc__jpeg_coef_bytes(const struct pc__hdr *h)
{
    /* 16-bit coefficients for every sample: Y plus two chroma planes subsampled */
    static const double chroma[] = {[TJSAMP_444] = 2,  [TJSAMP_422] = 1, [TJSAMP_420] = 0.5,
                                    [TJSAMP_GRAY] = 0, [TJSAMP_440] = 1, [TJSAMP_411] = 0.5};
    double c = h->subsamp >= 0 && h->subsamp <= TJSAMP_411 ? chroma[h->subsamp] : 2;
    return 2.0 * h->w * h->h * (1 + c);
}

void pc__probe(const unsigned char *p, size_t len, struct pc__hdr *h)
{
    memset(h, 0, sizeof *h);
    h->orientation = 1;
    h->subsamp = -1;
    if (len >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff) {
        probe_jpeg(p, len, h);
        h->scans = count_scans(p, len);
    } else if (len >= 8 && png_sig_cmp(p, 0, 8) == 0)
        probe_png(p, len, h);
}

int pc__decode(const unsigned char *p, size_t len, const struct pc__hdr *h, int min_h,
               struct pc__img *out, double *scale)
{
    int rc = PC_EINVAL;
    *scale = 1.0;
    if (h->fmt == PC__FMT_JPEG)
        rc = decode_jpeg(p, len, h, min_h, out, scale);
    else if (h->fmt == PC__FMT_PNG)
        rc = decode_png(p, len, h, min_h, out, scale);
    return rc;
}
