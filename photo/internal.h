/* photo/internal.h — pieces of the photo pipeline shared between the photo/ sources (pc__ prefix).
 * Not for use outside photo/ (tests and the benchmark excepted). Pure; any thread. */
#ifndef PC_PHOTO_INTERNAL_H
#define PC_PHOTO_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An owned, tightly packed picture of nch 8-bit channels (3 = RGB, 1 = grey/mask). */
struct pc__img {
    unsigned char *p;
    int w, h, nch;
};

void pc__img_alloc(struct pc__img *im, int w, int h, int nch);
void pc__img_free(struct pc__img *im);

/* ---- decode.c ---- */

enum pc__fmt { PC__FMT_UNKNOWN = 0, PC__FMT_JPEG, PC__FMT_PNG };

/* What the header says (no pixel decode). */
struct pc__hdr {
    enum pc__fmt fmt;
    bool header_ok;  /* the header parsed (else IMAGE_CORRUPT) */
    int w, h;        /* as stored, before orientation */
    bool gray, cmyk; /* refused colour spaces */
    int sof;         /* JPEG SOF marker (0xC0 baseline, 0xC2 progressive ...), 0 if none */
    int subsamp;     /* JPEG TJSAMP_* (-1 unknown) */
    int scans;       /* JPEG start-of-scan markers, counted up to 2 (2: progressive or
                        multi-scan, every coefficient is kept while decoding) */
    int orientation; /* EXIF 1..8 (1 when absent or PNG) */
    const unsigned char *exif; /* APP1 payload starting "Exif\0\0" (points into data) */
    size_t exif_len;
};

/* Recognises the format by content and reads the header; never allocates pixels. */
void pc__probe(const unsigned char *p, size_t len, struct pc__hdr *h);

/* Decodes to RGB as stored (EXIF orientation NOT applied: pc__resample_oriented does it on
 * the small results). JPEGs are decoded at the smallest TurboJPEG scaling factor (1/8, 1/4,
 * 1/2, 1) whose oriented height is >= min_h, PNGs reduced row by row by the largest whole
 * factor that keeps >= min_h rows (full size when min_h <= 0); *scale receives decoded/full
 * (rows). 0, or PC_EINVAL (corrupt, truncated, unsupported). The caller has checked the pixel
 * cap and, for a multi-scan JPEG, pc__jpeg_coef_bytes. */
int pc__decode(const unsigned char *p, size_t len, const struct pc__hdr *h, int min_h,
               struct pc__img *out, double *scale);

/* Rows of a picture being decoded (pc__decode_rows), for a reader on another thread. */
struct pc__rows;

/* Waits until the first `need` rows of the picture are decoded. 0, or PC_EINVAL when the
 * decode failed (the reader stops: the picture is freed). Reader's thread. */
int pc__rows_wait(struct pc__rows *r, int need);

/* A reader of a picture being decoded: runs once the picture (out) is allocated, reads a row
 * only after pc__rows_wait for it. */
typedef void (*pc__rows_fn)(void *ctx, const struct pc__img *out, struct pc__rows *rows);

/* pc__decode with fn(ctx, out, rows) run on a second thread meanwhile: a JPEG is decoded
 * through libjpeg row group by row group (the pixels of TurboJPEG's tjDecompress2, the same
 * refusals), so the reader works on the rows decoded while the next are decoded. fn has
 * returned when this returns; it runs only if the picture was allocated, and after the
 * decode on the calling thread when no thread can be started or for a PNG. */
int pc__decode_rows(const unsigned char *p, size_t len, const struct pc__hdr *h, int min_h,
                    struct pc__img *out, double *scale, pc__rows_fn fn, void *ctx);

/* Bytes libjpeg holds for the coefficients of a multi-scan (progressive) JPEG of this header:
 * 2 per sample of every component. */
double pc__jpeg_coef_bytes(const struct pc__hdr *h);

/* ---- exif.c ---- */

/* EXIF orientation (1..8) of an APP1 payload starting "Exif\0\0"; 1 when absent/invalid. */
int pc__exif_orientation(const unsigned char *app1, size_t len);
/* Applies orientation o to im in place (swapping w/h for 5..8). */
void pc__orient(struct pc__img *im, int o);
/* Where pixel (u, v) of a picture stored w × h lands once orientation o is applied: at index
 * base + u·du + v·dv (pixels) of the oriented picture. */
void pc__orient_map(int o, int w, int h, long *base, long *du, long *dv);
/* True for the mirrored orientations 2, 4, 5, 7. */
bool pc__orientation_mirrored(int o);

/* ---- standard.c ---- */

/* Area-resamples the box (bx, by, bw, bh) of src — in src pixels, it may reach outside src,
 * where fill (nch bytes) is used — to dst (already allocated, dst->nch == src->nch). Box
 * filter of at least one source pixel per output pixel (bilinear-like when enlarging). */
void pc__resample(const struct pc__img *src, double bx, double by, double bw, double bh,
                  struct pc__img *dst, const unsigned char *fill);

/* pc__resample of the box (bx, by, bw, bh) given in the coordinates of src displayed with
 * EXIF orientation o (src itself is as stored): the box is mapped to stored coordinates,
 * resampled there, and only the small result is re-oriented into dst. */
void pc__resample_oriented(const struct pc__img *src, int o, double bx, double by, double bw,
                           double bh, struct pc__img *dst, const unsigned char *fill);

/* pc__resample_oriented, the same pixels, with half of the rows (as stored) made on a second
 * thread meanwhile (on the calling thread alone when no thread can be started): for the large
 * reductions on a request's critical path (bench/README.md "Photo pipeline"). */
void pc__resample_oriented_2t(const struct pc__img *src, int o, double bx, double by, double bw,
                              double bh, struct pc__img *dst, const unsigned char *fill);

/* pc__resample_oriented_2t's two halves one at a time: the rows (as stored) the calling
 * thread makes (half 0) or the second thread (half 1). Together, the same pixels. */
void pc__resample_oriented_half(const struct pc__img *src, int o, double bx, double by, double bw,
                                double bh, struct pc__img *dst, const unsigned char *fill,
                                int half);

/* pc__resample_oriented of a picture being decoded (pc__decode_rows): 16 rows (as stored) of
 * dst at a time, each once the source rows it reads are decoded. 0, or PC_EINVAL when the
 * decode failed (dst is then incomplete). */
int pc__resample_oriented_rows(const struct pc__img *src, int o, double bx, double by, double bw,
                               double bh, struct pc__img *dst, const unsigned char *fill,
                               struct pc__rows *rows);

/* Encodes 480×640 RGB as the standard file: baseline 4:2:0, quality searched in
 * OUT_Q_MIN..OUT_Q_MAX for OUT_SIZE_MIN..OUT_SIZE_MAX, JFIF 300 dpi, then re-read and
 * verified. 0 with *jpeg (malloc'd, caller frees), *len, *quality; PC_EINVAL on an encoder
 * or verification failure. */
int pc__encode_standard(const struct pc__img *rgb, unsigned char **jpeg, size_t *len, int *quality);

/* Verifies a standard file: 480×640, colour 4:2:0, baseline SOF0, JFIF 300 dpi. */
bool pc__verify_standard(const unsigned char *jpeg, size_t len);

/* ---- phash.c ---- */

/* 64-bit DCT pHash of an RGB or grey picture: luminance area-resampled to 32×32, 2-D
 * DCT-II, the 8×8 lowest frequencies compared with their median. */
uint64_t pc__phash(const struct pc__img *im);

/* ---- segment.c ---- */

/* Background/subject separation and silhouette geometry on the analysis image. */
struct pc__seg {
    int w, h;
    unsigned char *fg;  /* w*h: 1 subject (largest component), 0 background */
    unsigned char *bgm; /* w*h: 1 flood-filled background */
    double bg_ycc[3];   /* median of the top band */
    double bg_rgb[3];
    double thr;        /* background tolerance T */
    int *left, *right; /* per row extents of the subject, -1 when empty */
    long area;         /* subject pixels */
    /* geometry (ana px); valid when found */
    bool found;
    int head_top; /* first head row */
    int neck_y;   /* neck (width minimum) or estimate */
    bool neck_seen;
    int shoulder_y; /* first shoulder row (h when none) */
    double head_w;  /* max silhouette width above the neck */
    double head_cx; /* mean centre of the head rows */
};

/* Segments rgb (the analysis image). Always fills seg (found=false when no subject). */
void pc__segment(const struct pc__img *rgb, struct pc__seg *seg);
void pc__seg_free(struct pc__seg *seg);

/* The median level of a 256-bin histogram of n samples (the first level reaching half). */
int pc__hist_median(const unsigned *hist, unsigned n);

/* Per-pixel distance to the background colour (same metric as the segmentation). */
double pc__bg_dist(const struct pc__seg *seg, const unsigned char *rgb);

/* ---- faces.c ---- */

#define PC__MAX_OTHERS 4

/* The faces in a picture and the subject's eyes. Boxes are in analysis px. */
struct pc__faces {
    bool found;        /* the subject's face: a face whose centre lies on the silhouette's head */
    double x, y, w, h; /* its box (dlib's box: brows to chin, cheek to cheek) */
    double score;      /* HOG margin */
    int filter;        /* winning HOG filter (0 front, 1/2 looking left/right, 3/4 rotated) */
    double fscore[5];  /* every HOG filter's margin on this face (-9: below the floor) */
    double rot;        /* rotation of the detection pass that found it (degrees, 0 upright) */
    int pass;          /* which pass found it (1 = the first) */
    int others;        /* other faces confirmed anywhere in the picture */
    double ox[PC__MAX_OTHERS], oy[PC__MAX_OTHERS], ow[PC__MAX_OTHERS], oh[PC__MAX_OTHERS];
    double oscore[PC__MAX_OTHERS];
    /* pc__faces_eyes, in the patch's pixels */
    bool eyes_found;     /* both eyes placed, far enough apart */
    bool eyes_sure;      /* ... and neither placed on a spectacle frame: roll is measured */
    int eyes_by_cascade; /* eyes (0..2) an eye cascade found */
    double ex[2], ey[2]; /* the picture's left and right eye */
    double open[2];      /* eye opening, share of the face width */
    double roll;         /* eye line angle, degrees (+: the picture's right eye lower) */
    double glare;        /* largest share of an eye band that is glare */
};

/* Finds the subject's face (on the silhouette's head when seg->found, else anywhere) and any
 * other face in ana (the analysis image); detection crops are resampled from src (the decoded
 * picture as stored, EXIF orientation `orientation`; NULL: from ana). Always fills f. The
 * three steps below, one after the other on the calling thread. */
void pc__faces_find(const struct pc__img *ana, const struct pc__seg *seg, const struct pc__img *src,
                    int orientation, struct pc__faces *f);

/* The frontal Haar scan of the whole analysis picture for other faces (their proposals), and
 * the picture in grey that every face step reads. */
struct pc__face_scan;

/* Starts the scan of ana (read until the scan is freed): on a thread of its own when
 * `thread` (the caller meanwhile finds the subject's face and eyes; the values are the same
 * as without), else on the calling thread before returning. The caller owns the result:
 * pc__faces_scan_free, which waits for the thread. */
struct pc__face_scan *pc__faces_scan_start(const struct pc__img *ana, bool thread);
void pc__faces_scan_free(struct pc__face_scan *s);

/* The subject's face (pc__faces_find's first half): fills f's subject fields, clears the rest.
 * ana, src and orientation as for pc__faces_find; s from ana. */
void pc__faces_subject(const struct pc__img *ana, const struct pc__seg *seg,
                       const struct pc__img *src, int orientation, const struct pc__face_scan *s,
                       struct pc__faces *f);

/* Other faces (the second half): waits for the scan, confirms its proposals and the wall
 * outline's heads away from the subject's face in f; fills f's other-face fields. */
void pc__faces_others(const struct pc__img *ana, const struct pc__seg *seg,
                      const struct pc__img *src, int orientation, struct pc__face_scan *s,
                      struct pc__faces *f);

/* Eyes, openness, roll and glare on patch: RGB, the face box at (fx, fy) with width fw (patch
 * px). Reads f's detection (a rotated face: the eyes are also looked for on the patch turned
 * upright); fills the eye fields of f (patch px). */
void pc__faces_eyes(const struct pc__img *patch, double fx, double fy, double fw,
                    struct pc__faces *f);

/* pc__faces_eyes, with one side's eye cascades offered to the scan's thread once its scan is
 * done (help: the scan of pc__faces_scan_start(.., true), or NULL); the same values. The scan's
 * thread then takes no other job. */
void pc__faces_eyes_help(const struct pc__img *patch, double fx, double fy, double fw,
                         struct pc__faces *f, struct pc__face_scan *help);

/* Colour conversions (sRGB D65). */
void pc__rgb_to_ycc(const double rgb[3], double ycc[3]);
void pc__rgb_to_lab(const double rgb[3], double lab[3]);
void pc__rgb_to_hsv(const double rgb[3], double hsv[3]);

#endif
