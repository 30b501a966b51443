/* fuzz_cc_codec.c — the CC1 collection-code codec with a fixed key.
 *
 * Every input goes three ways:
 *   1. pc_cc_decode on the bytes as code text (a copy of exactly size bytes);
 *   2. pc__cc_parse_json on the bytes as a plaintext (the part behind the GCM tag, which
 *      random text never reaches);
 *   3. the bytes as a record: ten '\n'-separated fields in struct order, grad_year as the
 *      ninth (decimal). When pc_cc_encode accepts it, decode(encode(r)) must give r back.
 * Whatever decodes must re-encode and decode to the same record; a failure must leave the
 * output zeroed. */
#include "base/err.h"
#include "codes/codes.h"
#include "codes/internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const unsigned char KEY[PC_CC_KEY_LEN] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                                                 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
                                                 22, 23, 24, 25, 26, 27, 28, 29, 30, 31};

static void same(const struct pc_cc_record *a, const struct pc_cc_record *b)
{
    if (strcmp(a->uid, b->uid) || strcmp(a->name_masked, b->name_masked) ||
        strcmp(a->id_masked, b->id_masked) || strcmp(a->school_code, b->school_code) ||
        strcmp(a->school, b->school) || strcmp(a->student_no, b->student_no) ||
        strcmp(a->major, b->major) || strcmp(a->level, b->level) || a->grad_year != b->grad_year ||
        strcmp(a->issued_at, b->issued_at))
        abort();
}

static void zeroed(const struct pc_cc_record *r)
{
    static const struct pc_cc_record zero;
    if (memcmp(r, &zero, sizeof *r) != 0)
        abort();
}

/* encode → decode must give r back; JSON rendering → parsing too. */
static void round_trip(const struct pc_cc_record *r)
{
    char text[PC_CC_MAX_TEXT + 1], json[PC_CC_MAX_TEXT];
    struct pc_cc_record back;
    size_t n = 0;
    if (pc_cc_encode(KEY, r, text, sizeof text, &n) != 0 || n != strlen(text) || n > PC_CC_MAX_TEXT)
        abort();
    if (pc_cc_decode(KEY, text, n, &back) != 0)
        abort();
    same(r, &back);
    if (pc__cc_render_json(r, json, sizeof json, &n) != 0 || pc__cc_parse_json(json, n, &back) != 0)
        abort();
    same(r, &back);
}

static void as_record(const char *s, size_t size)
{
    struct pc_cc_record r;
    char *dst[] = {r.uid,        r.name_masked, r.id_masked, r.school_code, r.school,
                   r.student_no, r.major,       r.level,     NULL,          r.issued_at};
    size_t cap[] = {sizeof r.uid,         sizeof r.name_masked, sizeof r.id_masked,
                    sizeof r.school_code, sizeof r.school,      sizeof r.student_no,
                    sizeof r.major,       sizeof r.level,       0,
                    sizeof r.issued_at};
    memset(&r, 0, sizeof r);
    size_t at = 0;
    for (int f = 0; f < 10; f++) {
        const char *nl = memchr(s + at, '\n', size - at);
        size_t end = nl ? (size_t)(nl - s) : size, len = end - at;
        if (f == 8) {
            long v = 0;
            for (size_t i = at; i < end && i < at + 6; i++)
                v = v * 10 + (s[i] >= '0' && s[i] <= '9' ? s[i] - '0' : 0);
            r.grad_year = (int)v;
        } else {
            if (len >= cap[f])
                len = cap[f] - 1; /* keep the tail of the input for the next fields anyway */
            memcpy(dst[f], s + at, len);
        }
        at = nl ? end + 1 : size;
    }
    char text[PC_CC_MAX_TEXT + 1];
    int rc = pc_cc_encode(KEY, &r, text, sizeof text, NULL);
    if (rc == 0)
        round_trip(&r);
    else if (rc != PC_EINVAL)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pc_cc_record r;
    if (size > 2 * PC_CC_MAX_TEXT)
        return 0;
    char *s = malloc(size ? size : 1); /* exact size: ASan sees any over-read */
    memcpy(s, data, size);
    int rc = pc_cc_decode(KEY, s, size, &r);
    if (rc == 0)
        round_trip(&r);
    else if (rc != PC_EINVAL)
        abort();
    else
        zeroed(&r);
    rc = pc__cc_parse_json(s, size, &r);
    if (rc == 0)
        round_trip(&r);
    else if (rc != PC_EINVAL)
        abort();
    else
        zeroed(&r);
    as_record(s, size);
    free(s);
    return 0;
}
