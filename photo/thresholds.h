/* photo/thresholds.h — every number the photo rules compare with, in one table, each with
 * its source: the CHSI spec text ("spec"), OFIQ (ISO/IEC 29794-5 reference code), a
 * [proposal] of /work/shared/photo-and-code.md (§ given), or "calib" (calibrated on the
 * synthetic portraits of tests/unit/test_photo.c — real uploads must re-calibrate these).
 * Pixel figures marked "out px" are on the 480×640 output; "ana px" on the analysis image
 * (the input resampled to 640 rows). Constant tables only; any thread. */
#ifndef PC_PHOTO_THRESHOLDS_H
#define PC_PHOTO_THRESHOLDS_H

/* X(name, value, source) */
#define PC__THRESHOLDS(X)                                                                          \
    X(MAX_PIXELS, 50e6, "[proposal] §2.1: ~50 MP decompression-bomb cap (header, pre-alloc)")      \
    X(PROG_COEF_MAX, 40e6, "decision: a multi-scan JPEG's coefficients <= 40 MB (4:2:0: 13 MP)")   \
    X(MIN_SIDE, 32, "calib: below 32 px no portrait can be analysed")                              \
    X(MAX_ASPECT, 4.0, "calib: long/short side above 4 is no photo of a person")                   \
    X(WORK_MIN_H, 1200, "calib: scaled decode keeps >= 1200 rows: a 55 % crop still has 640")      \
    X(ANA_H, 640, "spec: analysis image has the output's 640 rows (§2.4 normalised geometry)")     \
    X(SEG_TOP_BAND, 0.05, "§2.3: top 5 % of rows give the background colour (median)")             \
    X(SEG_Y_WEIGHT, 0.5, "§2.3: d = |Cb-Cb0| + |Cr-Cr0| + 0.5|Y-Y0|")                              \
    X(SEG_T_K, 3.0, "[proposal] §2.3: adaptive T = 3 sigma(top band) + offset")                    \
    X(SEG_T_OFFSET, 12.0, "calib: offset of the adaptive T (YCbCr L1 units)")                      \
    X(SEG_T_MIN, 16.0, "calib: lowest background tolerance (YCbCr L1 units)")                      \
    X(SEG_T_MAX, 40.0, "calib: highest background tolerance (YCbCr L1 units)")                     \
    X(SUBJECT_MIN_AREA, 0.06, "calib: the subject covers >= 6 % of the frame")                     \
    X(HEAD_ROW_MIN_FRAC, 0.015, "§2.4: head_top = first row with a run >= 1.5 % of W (>= 6 px)")   \
    X(HEAD_ROW_MIN_PX, 6, "§2.4: minimum run of the head-top row (ana px)")                        \
    X(CUT_TOP_ROWS, 2, "calib: subject in the top 2 ana rows = head cut off")                      \
    X(CUT_SIDE_PX, 1, "calib: subject within 1 ana px of a side above the shoulders = cut off")    \
    X(BG_HUE_MIN, 185, "[proposal] §1.4: light-blue hue range, degrees")                           \
    X(BG_HUE_MAX, 215, "[proposal] §1.4")                                                          \
    X(BG_SAT_MIN, 0.25, "[proposal] §1.4: HSV saturation")                                         \
    X(BG_VAL_MIN, 0.55, "[proposal] §1.4: HSV value")                                              \
    X(BG_DE_MAX, 25, "[proposal] §1.4: CIE76 dE to RGB(100,197,255)")                              \
    X(BG_NEUTRAL_CHROMA_MAX, 12, "decision: white/light-grey wall (schools' advice §1.3), C*ab")   \
    X(BG_NEUTRAL_L_MIN, 70, "decision: white/light-grey wall, L* (we replace the background)")     \
    X(BG_STD_MAX, 10, "[proposal] §2.2: std(Y) of the backdrop 6-8 clean; +2 for phone noise")     \
    X(BG_LR_MAX, 12, "[proposal] §2.2: |mean Y upper-left - upper-right| < ~12")                   \
    X(HEAD_TOP_MIN, 50, "spec: head top 50-110 out px below the top edge")                         \
    X(HEAD_TOP_MAX, 110, "spec")                                                                   \
    X(HEAD_TOP_TARGET, 70, "HivisionIDPhotos 10-12 % top margin (§2.4), inside the spec band")     \
    X(HEAD_NECK_OUT, 360, "calib: head top to neck = 360 out px puts eyes ~250, face ~250 px")     \
    X(HEAD_NECK_TOL, 1.12, "calib: the crop scale may move 12 % off the model to avoid enlarging") \
    X(FACE_OUT_MIN, 200, "spec 180-300 face width; crop scale clamped to 200-290 out px")          \
    X(FACE_OUT_MAX, 290, "spec 180-300 face width (margin 10 px)")                                 \
    X(FACE_W_MIN, 180, "spec: face width (cheek to cheek) 180-300 px on the standard file")        \
    X(FACE_W_MAX, 300, "spec")                                                                     \
    X(EYE_OUT_MIN, 200, "spec: eye line 200-300 px below the top edge")                            \
    X(EYE_OUT_MAX, 300, "spec")                                                                    \
    X(EYE_TOL, 5, "calib: EYE_LINE refuses beyond 200-300 by more than 5 px (eye placement)")      \
    X(FACE_W_TOL, 0.05, "calib: FACE_WIDTH refuses beyond 180-300 by more than 5 % (measure)")     \
    X(EYE_OUT_TARGET, 250, "decision: the crop puts the eye line in the middle of 200-300")        \
    X(ENLARGE_MAX, 1.25, "decision: enlarging the standard file by <= 1.25 is not visible")        \
    X(FACE_W_OF_BOX, 1.0, "calib: cheek-to-cheek width = dlib's box width (synthetic 0.88-1.02)")  \
    X(FACE_W_OF_IPD, 2.25,                                                                         \
      "calib: face width = 2.25 x eye distance (synthetic 2.29, adults ~2.2)")                     \
    X(EYE_OF_BOX, 0.30, "calib: eye line at 30 % of dlib's box height (when no eye is found)")     \
    X(POSE_OFF_MAX, 0.12, "calib: eyes' midpoint off the cheeks' middle <= 12 % of the face")      \
    X(POSE_HOG_AGREE, 0.5, "calib: a side-looking HOG filter within 0.5 of the front one agrees")  \
    X(POSE_HOG_ALONE, 1.5, "calib: without an outline, a side filter 1.5 above the front one")     \
    X(ROLL_WARN, 4, "calib: eye line tilted more than 4 degrees warns")                            \
    X(ROLL_MAX, 8, "[proposal] §2.4 / LUNA roll 8 degrees: beyond it the head is tilted")          \
    X(GLARE_SHARE, 0.03, "calib: glare: > 3 % of an eye band white and colourless (warning)")      \
    X(FACE_OF_HEAD, 0.88, "calib: cheek-to-cheek width ~ 0.88 x silhouette head width")            \
    X(NECK_NARROW, 0.85, "calib: a neck is a width minimum < 0.85 x head width")                   \
    X(HEAD_FROM_W, 1.45, "calib: head top to neck ~ 1.45 x head width when no neck is seen")       \
    X(HEAD_FRAC_MIN, 0.20, "calib: head top to neck >= 20 % of the input height (not too far)")    \
    X(HEAD_FRAC_MAX, 0.5625, "spec-derived: 360/640, the crop must fit in the input height")       \
    X(CENTER_MAX, 24, "[proposal] §2.4: |head centre - 240| <= 24 out px (5 % of W)")              \
    X(SHOULDER_MAX, 15, "[proposal] §2.4: shoulder heights at x=40/440 differ <= 15 out px")       \
    X(CLOTH_BAND, 0.10, "§2.3 step 6: bottom 10 % of the crop is where shoulders must be")         \
    X(CLOTH_COVER_MIN, 0.60, "calib: subject covers >= 60 % of the crop width there (black edge)") \
    X(WALL_Y_MIN, 108, "decision: exposure from the wall: reference blue (Y 175) 1.5 EV under")    \
    X(EXPO_BLACK_Y, 8, "calib: crushed shadows: luma <= 8 (black clipping, not dark skin)")        \
    X(EXPO_BLACK_FRAC, 0.15, "calib: <= 15 % of the face crushed to black")                        \
    X(EXPO_CLIP_Y, 247, "OFIQ OverExposurePrevention: L in [247,255]")                             \
    X(EXPO_CLIP_FRAC, 0.05, "calib (OFIQ scores 1 % as 50/100): <= 5 % clipped face pixels")       \
    X(LIGHT_WARN, 1.25, "[proposal] §2.5: left/right face luminance ratio within 0.8-1.25")        \
    X(LIGHT_BLOCK, 1.50, "decision: ratio above 1.5 (strong 阴阳脸) blocks, 1.25-1.5 warns")       \
    X(SHARP_WARN, 5.0,                                                                             \
      "calib: median edge width (px, face 160 px wide) above 5 warns (blur ~1.2)")                 \
    X(SHARP_BLOCK, 6.5, "calib: above 6.5 px the face is visibly blurred (blur ~1.8): blocks")     \
    X(FACE_DET_PX, 100, "calib: the HOG pass sees the expected face ~100 px wide (window 80)")     \
    X(FACE_DET_MAX, 1.3,                                                                           \
      "calib: a subject pass scans boxes up to 1.3 x FACE_DET_PX (seen: <=1.05)")                  \
    X(FACE_HOG_SUBJECT, -0.3, "calib: HOG margin accepted for a face on the silhouette's head")    \
    X(FACE_GAMMA_TARGET, 118, "calib: detector input: gamma brings the lower face's median here")  \
    X(FACE_CLAHE_CLIP, 2.0, "calib: detector input: CLAHE clip limit")                             \
    X(FACE_CLAHE_TILES, 4, "calib: detector input: CLAHE tiles per side of a detection crop")      \
    X(SUBJECT_FACE_MIN, 0.12,                                                                      \
      "calib: a face off the silhouette's head is the subject's if >= 12 % W")                     \
    X(SECOND_MIN_PX, 24, "calib: smallest other face searched, ana px (Haar window 20)")           \
    X(SECOND_HALF_PX, 48,                                                                          \
      "speed: other faces from 48 ana px are looked for on the picture halved")                    \
    X(SECOND_HOG, 0.0, "calib: HOG margin confirming another face on its own patch")               \
    X(FACE_PATCH_W, 160, "calib: face analysis patch: the face box is 160 px wide")                \
    X(EYE_DEV, 0.3, "calib: eye mask: |ln((Y+8)/(cheek+8))| > 0.3 (iris, pupil, white, lashes)")   \
    X(EYE_OPEN_MIN, 0.035, "calib: an open eye's opening >= 3.5 % of the face width")              \
    X(GLARE_Y, 245, "calib: glare pixels: every channel >= 245 and colourless")                    \
    X(OUT_Q_MIN, 60, "spec: quality factor >= 60")                                                 \
    X(OUT_Q_MAX, 95, "§5.3 gotcha 5: search q in 60..95")                                          \
    X(OUT_SIZE_MIN, 20480, "spec: 'generally 20-40 KB' (20 KiB)")                                  \
    X(OUT_SIZE_MAX, 40000, "spec 20-40 KB; 40000 B satisfies both KB and KiB readings")            \
    X(OUT_SIZE_SLACK, 6000, "calib: quality search stops within 6000 B under the cap (speed)")     \
    X(OUT_DPI, 300, "spec: 300 dpi in JFIF")                                                       \
    X(OUT_BG_R, 100, "spec: background RGB(100,197,255)")                                          \
    X(OUT_BG_G, 197, "spec")                                                                       \
    X(OUT_BG_B, 255, "spec")

enum pc__thr_id {
#define PC__THR_ENUM(name, value, source) PC__T_##name,
    PC__THRESHOLDS(PC__THR_ENUM)
#undef PC__THR_ENUM
        PC__T_COUNT
};

struct pc__thr {
    const char *name;
    double value;
    const char *source;
};

/* The table, indexed by enum pc__thr_id (constant). */
extern const struct pc__thr pc__thresholds[PC__T_COUNT];

#define PC__T(name) (pc__thresholds[PC__T_##name].value)

#endif
