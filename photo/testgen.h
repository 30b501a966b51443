/* photo/testgen.h — synthetic portraits and encoders for the photo tests, the fuzz corpus and
 * the benchmark (pc_photo_testgen_ prefix; never used by the server). The portrait is drawn
 * in a 640-row coordinate system scaled to the requested size, so every size shows the same
 * picture. Pure; any thread. */
#ifndef PC_PHOTO_TESTGEN_H
#define PC_PHOTO_TESTGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pc_photo_testgen {
    int w, h;            /* pixels as displayed (after orientation) */
    uint32_t seed;       /* texture and noise */
    unsigned char bg[3]; /* wall colour */
    double bg_grad;      /* wall luminance change left→right (levels; + = right darker) */
    double bg_noise;     /* wall texture amplitude (levels) */
    double cx;           /* head centre, fraction of the width */
    double top;          /* hair top, fraction of the height */
    double size;         /* head size factor (1 = the default framing) */
    double tilt;         /* right shoulder lower than the left by tilt × h at x = ±150 u */
    unsigned char skin[3], hair[3], cloth[3];
    double subject_gain; /* brightness factor of the whole subject (backlit < 1) */
    double face_gain;    /* brightness factor of the skin only (overexposed > 1) */
    double shadow;       /* factor on the right half of the face (1 = none) */
    double blur;         /* Gaussian-like blur sigma in 640-row units (0 = none) */
    bool long_hair;      /* hair falling to the shoulders */
    /* the face (issue #11): a shaded ellipsoid lit from the front and above, with eyes (whites,
     * iris, pupil, catchlight, lids, lashes), brows, nose shading and nostrils, lips */
    double roll;       /* head roll in degrees, clockwise as displayed (+: the picture's right
                          eye is lower) */
    double yaw;        /* head turn in degrees (+: the nose points to the picture's right;
                          90 = profile) */
    bool eyes_closed;  /* lids down */
    double eye_narrow; /* 0 normal; 0.5: the opening half as tall (a smile, narrow eyes) */
    bool back;         /* the back of the head: hair where the face would be */
    bool glasses;      /* dark frames */
    double glare;      /* 0 none; 1 a white reflection over most of each lens */
    /* a second person behind the first (second_size 0 = none): head size factor, centre and
     * hair top as fractions of the picture, and their skin */
    double second_size, second_cx, second_top;
    unsigned char second_skin[3];
};

/* Skin colours for the fairness sweep, very fair to very dark (sRGB of the lit skin; the
 * shaded face measures lower): Fitzpatrick-like I..VI and two darker still. The darkest
 * face's mean luma is about 40 under the generator's correct light. */
#define PC_PHOTO_TESTGEN_TONES 8
extern const unsigned char pc_photo_testgen_tones[PC_PHOTO_TESTGEN_TONES][3];

/* A well-framed portrait on the reference light blue, w×h. */
void pc_photo_testgen_defaults(struct pc_photo_testgen *g, int w, int h);
/* Renders g into a new RGB buffer (w*h*3, caller frees). */
unsigned char *pc_photo_testgen_render(const struct pc_photo_testgen *g);
/* Where g's eyes are drawn, in pixels of the rendered picture: the iris centres of the
 * picture's left eye (eyes[0], eyes[1]) and right eye (eyes[2], eyes[3]), after roll and yaw
 * (a hidden eye is still reported). */
void pc_photo_testgen_eyes(const struct pc_photo_testgen *g, double eyes[4]);
/* The cheek-to-cheek face width of g in pixels of the rendered picture (frontal). */
double pc_photo_testgen_face_width(const struct pc_photo_testgen *g);
/* Encodes RGB as JPEG (TurboJPEG): subsamp TJSAMP_*, progressive, cmyk (YCCK via TJPF_CMYK).
 * Returns a malloc'd buffer (caller frees) or NULL. */
unsigned char *pc_photo_testgen_jpeg(const unsigned char *rgb, int w, int h, int quality,
                                     int subsamp, bool progressive, bool cmyk, size_t *len);
/* Encodes RGB as PNG: channels 1 (grey), 3 (RGB) or 4 (RGBA, alpha 255 except a transparent
 * 8×8 top-left corner). Returns a malloc'd buffer or NULL. */
unsigned char *pc_photo_testgen_png(const unsigned char *rgb, int w, int h, int channels,
                                    size_t *len);
/* Rearranges displayed RGB pixels into the stored pixels of a camera that writes EXIF
 * orientation o (so that applying o gives the original back). In place; swaps the width and height
 * for o >= 5. */
void pc_photo_testgen_store_as(unsigned char **rgb, int *w, int *h, int o);
/* A copy of jpeg with an EXIF APP1 (orientation o, built with libexif) after SOI. */
unsigned char *pc_photo_testgen_exif(const unsigned char *jpeg, size_t len, int o, size_t *outlen);

#endif
