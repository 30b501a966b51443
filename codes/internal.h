/* codes/internal.h — cross-file internals of codes/ (pc__ prefix): the
 * codec's deterministic halves used by the tests (a published vector) and the fuzzer.
 * Pure; any thread. Not for use outside codes/, tests and fuzz/. */
#ifndef PC_CODES_INTERNAL_H
#define PC_CODES_INTERNAL_H

#include "codes/codes.h"

#include <stddef.h>

/* pc_cc_encode with a caller-chosen nonce (tests only: a nonce must never repeat per key). */
int pc__cc_encode_nonce(const unsigned char key[PC_CC_KEY_LEN],
                        const unsigned char nonce[PC_CC_NONCE], const struct pc_cc_record *rec,
                        char *out, size_t outcap, size_t *outlen);
/* The plaintext half of pc_cc_decode: parses and validates json[0..n) into *out (zeroed on
 * failure). 0 or PC_EINVAL. */
int pc__cc_parse_json(const char *json, size_t n, struct pc_cc_record *out);
/* The plaintext half of pc_cc_encode: validates rec and renders its JSON into buf (capacity
 * cap, NUL-terminated), length in *n. 0, PC_EINVAL or PC_ETOOBIG. */
int pc__cc_render_json(const struct pc_cc_record *rec, char *buf, size_t cap, size_t *n);

#endif
