/* photo/photo.h — does a student's photo pass the CHSI graduation-photo rules, and the exact
 * 480×640 file CHSI accepts (docs/photo.md).
 *
 * Pure C: no database, no I/O, no globals except constant tables. Every function may run on
 * any thread at the same time as any other; a result belongs to the thread that holds it. */
#ifndef PC_PHOTO_PHOTO_H
#define PC_PHOTO_PHOTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PC_PHOTO_MAX_CHECKS 40
#define PC_PHOTO_OUT_W      480
#define PC_PHOTO_OUT_H      640
/* Hamming distance at or below which two photos are "the same picture" (tests/unit/
 * test_photo.c calibrates it: re-encoded and rescaled copies measure 0–4; since the crop is
 * placed from the face, every standard file frames the face alike and the same synthetic
 * face in other hair and clothes measures 10, other subjects 20 and more). */
#define PC_PHASH_SAME_MAX 8

/* One rule's verdict; the API's `Check` object. code and message are static strings. */
struct pc_photo_check {
    const char *code;    /* stable UPPER_SNAKE code, e.g. "HEAD_TOP" */
    bool ok;             /* the rule passed */
    bool blocking;       /* a failure of this rule (at this value) refuses the photo */
    bool skipped;        /* not measured because an earlier blocking rule failed (ok=false) */
    const char *message; /* static Chinese text for the student (the failing direction) */
    double value;        /* measured value (when has_value) */
    double limit;        /* the limit it was compared with (when has_value) */
    bool has_value;
};

struct pc_photo_opts {
    bool standardise; /* produce the CHSI file when every blocking rule passes */
    long max_pixels;  /* decompression-bomb cap on width×height from the header; 0 = 50e6 */
};

struct pc_photo_result {
    struct pc_photo_check checks[PC_PHOTO_MAX_CHECKS];
    size_t nchecks;
    bool ok;             /* every blocking check passed */
    unsigned char *jpeg; /* the standard file when ok && standardise, else NULL */
    size_t jpeg_len;
    uint64_t phash;    /* DCT pHash of the normalised 480×640 subject (0 when undecodable) */
    bool has_phash;    /* phash was computed */
    int width, height; /* input size after EXIF orientation (0 when unknown) */
    int quality;       /* JPEG quality of the standard file (0 when none) */
};

/* Judges one uploaded picture (JPEG or PNG, recognised by content) against every rule and,
 * when opts->standardise and every blocking rule passes, produces the standard file.
 * Returns 0 with out filled (also when the photo fails: decode problems are checks too),
 * PC_EINVAL when data/out is NULL. Only out-of-memory aborts. out is overwritten; release it
 * with pc_photo_result_free. opts may be NULL (defaults: no standard file, 50e6 pixels). */
int pc_photo_process(const void *data, size_t len, const struct pc_photo_opts *opts,
                     struct pc_photo_result *out);

/* Frees the standard file; the result can be processed into again. NULL-safe. */
void pc_photo_result_free(struct pc_photo_result *r);

/* Appends a check (callers' database-backed rules: ENROLLMENT_PHOTO, DUPLICATE_PHOTO) and
 * updates r->ok. code and message must outlive r (static strings). Ignored when the array is
 * full (PC_PHOTO_MAX_CHECKS, which leaves room for 13 caller checks). */
void pc_photo_add_check(struct pc_photo_result *r, const char *code, bool ok, bool blocking,
                        const char *message, double value, double limit, bool has_value);

/* The first check with this code, or NULL. */
const struct pc_photo_check *pc_photo_find_check(const struct pc_photo_result *r, const char *code);

/* Hamming distance of two pHashes (0..64). */
int pc_phash_distance(uint64_t a, uint64_t b);

#endif
