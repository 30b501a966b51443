/* codes/codes.h — collection codes: QR decoding and encoding, the development codec "CC1.",
 * and the name/ID masking rules (docs/codes.md).
 *
 * The real CHSI collection code is an encrypted QR whose format only authorised collectors
 * know, so the server keeps the exact bytes pc_qr_decode returns and hands them to a codec
 * behind pc_cc_decode. The codec here is the development one of DESIGN.md, also implemented
 * by the sandbox's code issuer.
 *
 * Every function is pure (no global state, no I/O, no logging) and may run on any thread;
 * each call creates and destroys its own zbar scanner, TurboJPEG and libpng handles. Inputs
 * are borrowed for the duration of the call; outputs go to caller-owned buffers, except
 * pc_qr_png, whose *png the caller frees with free(). */
#ifndef PC_CODES_CODES_H
#define PC_CODES_CODES_H

#include <stddef.h>

/* ---- QR ---- */

/* Largest picture pc_qr_decode accepts, in pixels (width × height from the header, checked
 * before any pixel buffer is allocated). 40 MP covers every phone camera and screenshot. */
#define PC_QR_MAX_PIXELS (40L * 1000 * 1000)
/* Long side of the first, fast pass (TurboJPEG scaled decode / PNG reduced while decoding). */
#define PC_QR_WORK_SIDE 1600
/* Largest payload a QR code can hold (version 40, level L, byte mode). */
#define PC_QR_MAX_PAYLOAD 2953

/* Decodes the first QR code in a JPEG or PNG picture or screenshot into out[0..outcap),
 * exact bytes (binary-safe: may hold NULs; no NUL is appended), length in *outlen.
 * The picture is decoded to 8-bit grey without applying EXIF orientation (zbar finds rotated
 * codes); CMYK/YCCK JPEGs are converted (Adobe inverted convention); PNG alpha is composed on
 * white. Passes, stopping at the first hit: working size (long side ≤ PC_QR_WORK_SIDE), full
 * resolution, working/2, working/4, inverted working, inverted full.
 * Returns 0; PC_ENOTFOUND (a valid picture without a readable QR code); PC_EINVAL (not a
 * JPEG/PNG, damaged or truncated, including JPEG decoder warnings); PC_ETOOBIG (more than
 * PC_QR_MAX_PIXELS pixels, or a payload longer than outcap). */
int pc_qr_decode(const void *img, size_t len, unsigned char *out, size_t outcap, size_t *outlen);
/* The same with a caller-chosen pixel cap (≤ PC_QR_MAX_PIXELS; the fuzzer uses a small one). */
int pc_qr_decode_capped(const void *img, size_t len, long max_pixels, unsigned char *out,
                        size_t outcap, size_t *outlen);

/* Encodes data[0..len) (1..PC_QR_MAX_PAYLOAD bytes at level M: 2331) as a QR code in 8-bit
 * byte mode, error correction level M, with a 4-module quiet zone and `scale` (1..32) pixels per
 * module, rendered as an 8-bit greyscale PNG (black on white) written to memory.
 * On success *png (allocated with malloc; the caller frees it with free()) and *pnglen are set.
 * 0; PC_EINVAL (bad arguments); PC_ETOOBIG (data does not fit a version-40 QR code). */
int pc_qr_png(const unsigned char *data, size_t len, int scale, unsigned char **png,
              size_t *pnglen);

/* ---- the development codec "CC1." ---- */

#define PC_CC_PREFIX   "CC1."
#define PC_CC_AAD      "portraitd-collection-code-v1"
#define PC_CC_KEY_LEN  32   /* AES-256 key from configuration (pc_data_key_parse of 64 hex) */
#define PC_CC_NONCE    12   /* GCM nonce, random per code */
#define PC_CC_TAG      16   /* GCM tag */
#define PC_CC_MAX_TEXT 4096 /* longest code text accepted (after trimming whitespace) */

/* A decoded code. Every string is NUL-terminated, valid UTF-8 without control characters.
 * uid: [A-Za-z0-9._-]{1,64}; school_code, student_no: [A-Za-z0-9]{1,16} / {1,32};
 * name_masked, school: non-empty; id_masked, major, level: may be empty;
 * grad_year: integer in [1900, 2999]; issued_at: an RFC 3339 timestamp with an offset
 * ("2025-03-01T09:30:00+08:00"), kept as text exactly as issued. */
struct pc_cc_record {
    char uid[65];
    char name_masked[129];
    char id_masked[41];
    char school_code[17];
    char school[129];
    char student_no[33];
    char major[129];
    char level[33];
    int grad_year;
    char issued_at[40];
};

/* Encrypts rec as "CC1." + base64url(nonce ‖ ciphertext ‖ tag) (no padding) into
 * out[0..outcap), NUL-terminated; *outlen (may be NULL) receives the length without the NUL.
 * A fresh random nonce per call. 0; PC_EINVAL (rec breaks a field rule above);
 * PC_ETOOBIG (outcap too small: PC_CC_MAX_TEXT + 1 always suffices); PC_ECRYPTO. */
int pc_cc_encode(const unsigned char key[PC_CC_KEY_LEN], const struct pc_cc_record *rec, char *out,
                 size_t outcap, size_t *outlen);
/* Decrypts and validates text[0..len) (not necessarily NUL-terminated; leading/trailing ASCII
 * whitespace tolerated) into *out. 0, or PC_EINVAL for anything that is not a valid code of
 * this key: longer than PC_CC_MAX_TEXT, wrong prefix, bad or non-canonical base64url (padding,
 * stray bits), too short, tag mismatch (wrong key or altered), plaintext not a JSON object,
 * a required field missing, duplicated, of the wrong type or breaking its rule. Unknown JSON
 * members are ignored. *out is zeroed on failure. */
int pc_cc_decode(const unsigned char key[PC_CC_KEY_LEN], const char *text, size_t len,
                 struct pc_cc_record *out);

/* ---- masking (the issuer's rules) and matching ---- */

/* Masks a name: leading/trailing whitespace dropped, then the first and last code points are
 * kept and every code point between them becomes '*' ("陈小萱" → "陈*萱", "欧阳小萱" →
 * "欧**萱"); a two-code-point name keeps the first ("陈萱" → "陈*"), a one-code-point name
 * becomes "*", an empty name "". Invalid UTF-8 bytes count as one code point each. Writes at
 * most len bytes including the NUL, never splitting a code point; len ≥ strlen(name) + 1
 * always suffices. */
void pc_cc_mask_name(const char *name, char *out, size_t len);
/* Masks an ID number: leading/trailing whitespace dropped; with 9 or more code points the
 * first 4 and last 4 are kept and the middle becomes one '*' each
 * ("110101199001011234" → "1101**********1234"); with 8 or fewer every code point becomes '*'
 * (keeping 4 + 4 would show it all). Same output rules as pc_cc_mask_name. */
void pc_cc_mask_id(const char *id_no, char *out, size_t len);
/* 1 when roster_name agrees with the unmasked parts of name_masked, else 0. Both are trimmed
 * of leading/trailing whitespace (ASCII and U+3000). Without '*', the two must be equal.
 * Otherwise roster_name must start with the part before the first '*', end with the part after
 * the last '*' (code-point exact, case-sensitive), and have at least one code point between
 * them for the stars to hide ("陈*萱" matches "陈小萱" and "陈萱萱", not "陈萱"; "*" matches
 * any non-empty name). The number of stars is not compared. NULL or invalid UTF-8 → 0. */
int pc_cc_name_matches(const char *name_masked, const char *roster_name);

#endif
