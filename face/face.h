/* face/face.h — face and eye detectors from Debian packages behind one C header
 * (docs/photo.md "Face analysis").
 *
 * - dlib's HOG frontal face detector (libdlib-dev; its model is compiled into the library, no
 *   data file). It is five linear filters over HOG features: 0 front looking, 1 left looking,
 *   2 right looking, 3 front rotated left, 4 front rotated right. pc_face_hog reports every
 *   filter's score at each detection, which the photo rules use for pose.
 * - OpenCV's Haar and LBP cascades (libopencv-objdetect-dev, data files from opencv-data in
 *   /usr/share/opencv4): frontal faces, profile faces, eyes.
 * - CLAHE (OpenCV imgproc) for local contrast normalisation before detection.
 *
 * Licence-clean by construction: no landmark model (dlib's 68-point model in libdlib-data
 * has training data restricted to non-commercial use) is loaded or needed.
 *
 * Threads: every function may run on any thread at the same time as any other. Detector
 * state (the HOG scanner, the cascades) is per thread, created on first use in that thread
 * (HOG ~0.3 s, each cascade ~10 ms) and released when the thread exits. OpenCV's own worker
 * pool is set to one thread: the server already runs photo checks on its worker threads.
 * Inputs are borrowed for the duration of the call; outputs go to caller-owned arrays. */
#ifndef PC_FACE_FACE_H
#define PC_FACE_FACE_H

#ifdef __cplusplus
extern "C" {
#endif

/* An 8-bit grey picture (borrowed): row y starts at p + y * stride. */
struct pc_face_gray {
    const unsigned char *p;
    int w, h, stride;
};

#define PC_FACE_HOG_FILTERS 5

/* One detection, in the picture's pixels. */
struct pc_face_det {
    double x, y, w, h; /* box */
    double score;      /* HOG: margin over the winning filter's threshold (dlib's detection
                          confidence); cascades: OpenCV's level weight */
    int filter;        /* HOG: the winning filter (0..4, see above); cascades: neighbours */
    double filter_score[PC_FACE_HOG_FILTERS]; /* HOG: each filter's best margin on a box
                          overlapping this one (IoU >= 0.5), or -9 when below `adjust` */
};

/* dlib HOG detection on g at its own scale (faces >= ~80 px; enlarge g for smaller ones).
 * Detections whose margin is >= adjust (0 = dlib's default threshold; negative finds more,
 * weaker ones) are written to out[0..cap), best first, overlapping boxes suppressed as dlib
 * does. max_box > 0 scans only the pyramid levels whose boxes are at most about that wide
 * (dlib's levels step by 6/5 from its 80-px window: faster when the face's size is known);
 * <= 0 scans them all. Returns how many were written, or PC_EINVAL (bad arguments). */
int pc_face_hog(const struct pc_face_gray *g, double adjust, double max_box,
                struct pc_face_det *out, int cap);

enum pc_face_cascade {
    PC_FACE_CASCADE_FRONTAL,     /* haarcascade_frontalface_alt2 */
    PC_FACE_CASCADE_FRONTAL_LBP, /* lbpcascade_frontalface_improved (fast) */
    PC_FACE_CASCADE_PROFILE,     /* haarcascade_profileface (faces looking to one side) */
    PC_FACE_CASCADE_EYE,         /* haarcascade_eye (open eyes) */
    PC_FACE_CASCADE_EYE_GLASSES, /* haarcascade_eye_tree_eyeglasses */
    PC_FACE_CASCADE_COUNT
};

/* Cascade detection on g: objects of min_size..max_size px (max_size 0: no bound), pyramid
 * step `step` (> 1, e.g. 1.1), at least min_neighbours overlapping raw hits. Writes up to
 * cap boxes to out (score = level weight, filter = neighbours), strongest first. Returns how
 * many, PC_ENOTFOUND when the cascade file is missing (opencv-data not installed), or
 * PC_EINVAL. */
int pc_face_cascade(const struct pc_face_gray *g, enum pc_face_cascade which, int min_size,
                    int max_size, double step, int min_neighbours, struct pc_face_det *out,
                    int cap);

/* Contrast-limited adaptive histogram equalisation of g into dst (g->w * g->h bytes, tightly
 * packed): clip limit `clip` (e.g. 2.0), tiles × tiles regions. 0 or PC_EINVAL. */
int pc_face_clahe(const struct pc_face_gray *g, double clip, int tiles, unsigned char *dst);

/* 0 when every cascade file is present (opencv-data installed), else PC_ENOTFOUND. */
int pc_face_check_data(void);

#ifdef __cplusplus
}
#endif

#endif
