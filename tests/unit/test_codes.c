/* tests/unit/test_codes.c — codes/codes.h: the CC1 codec (vector, round trips, every
 * corruption refused), masking and matching, QR encode/decode on synthetic pictures (clean,
 * binary payload, PNG/JPEG screenshots, rotated blurred photo, CMYK, alpha, palette,
 * interlaced, 16-bit, inverted), refusals (no QR, garbage, truncation, pixel cap) and the
 * fixtures in tests/fixtures/codes/.
 *
 * PC_WRITE_FIXTURES=1 ./test_codes regenerates tests/fixtures/codes/ (the generator is this
 * file: the same synthetic pictures, with the fixed-nonce vector code). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/err.h"
#include "codes/codes.h"
#include "codes/internal.h"

#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#define FIXDIR PC_SOURCE_DIR "/tests/fixtures/codes"

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* key = 00 01 02 … 1f, nonce = 00 01 … 0b: the published vector of docs/codes.md */
static unsigned char KEY[32];
static unsigned char NONCE[12];

/* Checked independently with Python's `cryptography` AESGCM (docs/codes.md). */
static const char VECTOR_JSON[] =
    "{\"uid\":\"K7Q2M9X4D1\",\"name_masked\":\"陈*萱\",\"id_masked\":\"1101**********1234\","
    "\"school_code\":\"10001\",\"school\":\"北京大学\",\"student_no\":\"2020146F101\","
    "\"major\":\"计算机科学与技术\",\"level\":\"本科\",\"grad_year\":2025,"
    "\"issued_at\":\"2025-03-01T09:30:00+08:00\"}";
static const char VECTOR_TEXT[] =
    "CC1.AAECAwQFBgcICQoLPCCjcqHH-DnGdsa5_NAgWcfnpRjSFT4RXTiI5G4CZdYjKowVNkk4cOQVXcGq"
    "7kxngzgT5j-ygeAdphspKcnfxNoW7FD5-wxQLmeeTMOtfYtQ5aYOKQA8DJjfpO5JwIm9-tp1xNcioHXx"
    "cByIapCt6F7dzk5HYsA369177_GSG2rePHSZ2rjpaSrTeJMN63j0cMXTBBc9sSftNYcF2OjLBj02ebt-"
    "GVDEQMRMH3ImYgMTKECibTfcnkn9rKIHoNvRKW5sZqE6cVgVevGByCC925gbmQQfOojBQ6S25Sg7_I8m"
    "R4vOkgI5B2B3ij2YIU98mKLtRaQKupUtW1dYu6R4sSTzj1FgLeD9_0h3ojhR9HRqJmM";

static void keys_init(void)
{
    for (int i = 0; i < 32; i++)
        KEY[i] = (unsigned char)i;
    for (int i = 0; i < 12; i++)
        NONCE[i] = (unsigned char)i;
}

static void set(char *dst, size_t cap, const char *s)
{
    snprintf(dst, cap, "%s", s);
}

static struct pc_cc_record rec_chinese(void)
{
    struct pc_cc_record r;
    memset(&r, 0, sizeof r);
    set(r.uid, sizeof r.uid, "K7Q2M9X4D1");
    set(r.name_masked, sizeof r.name_masked, "陈*萱");
    set(r.id_masked, sizeof r.id_masked, "1101**********1234");
    set(r.school_code, sizeof r.school_code, "10001");
    set(r.school, sizeof r.school, "北京大学");
    set(r.student_no, sizeof r.student_no, "2020146F101");
    set(r.major, sizeof r.major, "计算机科学与技术");
    set(r.level, sizeof r.level, "本科");
    r.grad_year = 2025;
    set(r.issued_at, sizeof r.issued_at, "2025-03-01T09:30:00+08:00");
    return r;
}

static struct pc_cc_record rec_latin(void)
{
    struct pc_cc_record r;
    memset(&r, 0, sizeof r);
    set(r.uid, sizeof r.uid, "a1b2-c3d4_e5.f6");
    pc_cc_mask_name("MISSANG MI ABA’A Medy Evrard", r.name_masked, sizeof r.name_masked);
    set(r.id_masked, sizeof r.id_masked, "");
    set(r.school_code, sizeof r.school_code, "10487");
    set(r.school, sizeof r.school, "Huazhong University of Science & Technology \"HUST\" \\ 华中");
    set(r.student_no, sizeof r.student_no, "U202115001");
    set(r.major, sizeof r.major, "");
    set(r.level, sizeof r.level, "Master's");
    r.grad_year = 2026;
    set(r.issued_at, sizeof r.issued_at, "2025-12-31T23:59:59.123Z");
    return r;
}

static void assert_rec_equal(const struct pc_cc_record *a, const struct pc_cc_record *b)
{
    assert_string_equal(a->uid, b->uid);
    assert_string_equal(a->name_masked, b->name_masked);
    assert_string_equal(a->id_masked, b->id_masked);
    assert_string_equal(a->school_code, b->school_code);
    assert_string_equal(a->school, b->school);
    assert_string_equal(a->student_no, b->student_no);
    assert_string_equal(a->major, b->major);
    assert_string_equal(a->level, b->level);
    assert_int_equal(a->grad_year, b->grad_year);
    assert_string_equal(a->issued_at, b->issued_at);
}

static size_t encode(const struct pc_cc_record *r, char *out, size_t cap)
{
    size_t n = 0;
    assert_int_equal(pc_cc_encode(KEY, r, out, cap, &n), 0);
    assert_int_equal(n, strlen(out));
    return n;
}

/* ---- codec ---- */

static void test_cc_vector(void **state)
{
    struct pc_cc_record r = rec_chinese(), back;
    char json[1024], text[PC_CC_MAX_TEXT + 1];
    size_t n = 0;
    assert_int_equal(pc__cc_render_json(&r, json, sizeof json, &n), 0);
    assert_string_equal(json, VECTOR_JSON);
    assert_int_equal(pc__cc_encode_nonce(KEY, NONCE, &r, text, sizeof text, &n), 0);
    assert_string_equal(text, VECTOR_TEXT);
    assert_int_equal(n, strlen(VECTOR_TEXT));
    assert_int_equal(pc_cc_decode(KEY, VECTOR_TEXT, strlen(VECTOR_TEXT), &back), 0);
    assert_rec_equal(&back, &r);
}

static void test_cc_round_trips(void **state)
{
    struct pc_cc_record recs[2] = {rec_chinese(), rec_latin()}, back;
    assert_string_equal(recs[1].name_masked, "M**************************d");
    for (int i = 0; i < 2; i++) {
        char a[PC_CC_MAX_TEXT + 1], b[PC_CC_MAX_TEXT + 1];
        size_t na = encode(&recs[i], a, sizeof a), nb = encode(&recs[i], b, sizeof b);
        assert_memory_equal(a, "CC1.", 4);
        assert_true(na == nb && strcmp(a, b) != 0); /* fresh nonce each time */
        assert_null(strchr(a, '='));
        assert_int_equal(pc_cc_decode(KEY, a, na, &back), 0);
        assert_rec_equal(&back, &recs[i]);
        /* scanned text may carry whitespace and a newline */
        char padded[PC_CC_MAX_TEXT + 16];
        snprintf(padded, sizeof padded, " \t%s\r\n", a);
        assert_int_equal(pc_cc_decode(KEY, padded, strlen(padded), &back), 0);
        assert_rec_equal(&back, &recs[i]);
        /* not NUL-terminated: only len bytes are read */
        char *copy = malloc(na);
        memcpy(copy, a, na);
        assert_int_equal(pc_cc_decode(KEY, copy, na, &back), 0);
        free(copy);
    }
}

static void test_cc_full_fields_fit(void **state)
{
    struct pc_cc_record r = rec_chinese(), back;
    /* every field at its cap, the text fields full of characters JSON must escape */
    memset(r.uid, 'u', sizeof r.uid - 1);
    r.uid[sizeof r.uid - 1] = 0;
    memset(r.name_masked, '"', sizeof r.name_masked - 1);
    r.name_masked[sizeof r.name_masked - 1] = 0;
    memset(r.id_masked, '\\', sizeof r.id_masked - 1);
    r.id_masked[sizeof r.id_masked - 1] = 0;
    memset(r.school_code, '9', sizeof r.school_code - 1);
    r.school_code[sizeof r.school_code - 1] = 0;
    memset(r.school, '"', sizeof r.school - 1);
    r.school[sizeof r.school - 1] = 0;
    memset(r.student_no, 'Z', sizeof r.student_no - 1);
    r.student_no[sizeof r.student_no - 1] = 0;
    memset(r.major, '\\', sizeof r.major - 1);
    r.major[sizeof r.major - 1] = 0;
    memset(r.level, '"', sizeof r.level - 1);
    r.level[sizeof r.level - 1] = 0;
    char text[PC_CC_MAX_TEXT + 1];
    size_t n = encode(&r, text, sizeof text);
    assert_true(n <= PC_CC_MAX_TEXT);
    assert_int_equal(pc_cc_decode(KEY, text, n, &back), 0);
    assert_rec_equal(&back, &r);
    /* outcap too small */
    assert_int_equal(pc_cc_encode(KEY, &r, text, n, NULL), PC_ETOOBIG);
    assert_int_equal(pc_cc_encode(KEY, &r, text, n + 1, NULL), 0);
}

static void expect_bad(const char *text, size_t len, const unsigned char *key)
{
    struct pc_cc_record out;
    memset(&out, 0x5a, sizeof out);
    assert_int_equal(pc_cc_decode(key, text, len, &out), PC_EINVAL);
    static const struct pc_cc_record zero;
    assert_memory_equal(&out, &zero, sizeof out);
}

static void test_cc_every_corruption_refused(void **state)
{
    struct pc_cc_record r = rec_chinese();
    char text[PC_CC_MAX_TEXT + 1], bad[PC_CC_MAX_TEXT + 8];
    size_t n = encode(&r, text, sizeof text);
    static const char extra[] = "= .+/\n\x01\x80";
    /* every character of the whole text replaced by every other candidate */
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < sizeof B64 - 1 + sizeof extra - 1; k++) {
            char c = k < sizeof B64 - 1 ? B64[k] : extra[k - (sizeof B64 - 1)];
            if (c == text[i])
                continue;
            memcpy(bad, text, n);
            bad[i] = c;
            if (i == n - 1 && (c == ' ' || c == '\n'))
                continue; /* trailing whitespace is trimmed: covered by the truncation below */
            expect_bad(bad, n, KEY);
        }
        memcpy(bad, text, n);
        bad[i] ^= 1; /* a bit flip */
        expect_bad(bad, n, KEY);
    }
    /* truncated at every length */
    for (size_t i = 0; i < n; i++)
        expect_bad(text, i, KEY);
    /* padding or extra characters appended */
    static const char *tails[] = {"=", "==", "A", "AA", "AAA", "AAAA", ".", "x"};
    for (size_t i = 0; i < sizeof tails / sizeof tails[0]; i++) {
        snprintf(bad, sizeof bad, "%s%s", text, tails[i]);
        expect_bad(bad, strlen(bad), KEY);
    }
    /* wrong key */
    unsigned char key2[32];
    memcpy(key2, KEY, 32);
    key2[31] ^= 0x80;
    expect_bad(text, n, key2);
    /* other prefixes */
    static const char *pre[] = {"CC2.", "cc1.", "CC1", "CC1:", "", "CC1.."};
    for (size_t i = 0; i < sizeof pre / sizeof pre[0]; i++) {
        snprintf(bad, sizeof bad, "%s%s", pre[i], text + 4);
        expect_bad(bad, strlen(bad), KEY);
    }
    /* standard base64 alphabet instead of base64url */
    memcpy(bad, text, n + 1);
    for (size_t i = 4; i < n; i++)
        bad[i] = bad[i] == '-' ? '+' : bad[i] == '_' ? '/' : bad[i];
    if (memcmp(bad, text, n) != 0)
        expect_bad(bad, n, KEY);
    /* too short bodies */
    expect_bad("CC1.", 4, KEY);
    expect_bad("CC1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 42, KEY); /* 28 bytes: no plaintext */
    /* overlong: more than PC_CC_MAX_TEXT characters */
    char *big = malloc(PC_CC_MAX_TEXT + 2);
    memcpy(big, "CC1.", 4);
    memset(big + 4, 'A', PC_CC_MAX_TEXT - 3);
    expect_bad(big, PC_CC_MAX_TEXT + 1, KEY);
    free(big);
    expect_bad(NULL, 0, KEY);
}

/* A plaintext that passed the tag but breaks a rule is refused too. */
static void test_cc_json_rules(void **state)
{
    struct pc_cc_record out;
    char j[2048];
    static const struct {
        const char *find, *repl;
    } bad[] = {
        {"\"uid\":\"K7Q2M9X4D1\"", "\"uid\":\"K7Q2 M9\""},
        {"\"uid\":\"K7Q2M9X4D1\"", "\"uid\":\"\""},
        {"\"uid\":\"K7Q2M9X4D1\"", "\"uid\":5"},
        {"\"uid\":\"K7Q2M9X4D1\",", ""},
        {"\"student_no\":\"2020146F101\"", "\"student_no\":\"2020-146\""},
        {"\"student_no\":\"2020146F101\"", "\"student_no\":\"\""},
        {"\"student_no\":\"2020146F101\"", "\"student_no\":\"123456789012345678901234567890123\""},
        {"\"student_no\":\"2020146F101\"", "\"student_no\":\"２０２０\""},
        {"\"school_code\":\"10001\"", "\"school_code\":null"},
        {"\"grad_year\":2025", "\"grad_year\":\"2025\""},
        {"\"grad_year\":2025", "\"grad_year\":2025.5"},
        {"\"grad_year\":2025", "\"grad_year\":1800"},
        {"\"grad_year\":2025", "\"grad_year\":1e400"},
        {"\"grad_year\":2025,", ""},
        {"\"issued_at\":\"2025-03-01T09:30:00+08:00\"", "\"issued_at\":1740792600"},
        {"\"issued_at\":\"2025-03-01T09:30:00+08:00\"", "\"issued_at\":\"2025-03-01 09:30:00\""},
        {"\"name_masked\":\"陈*萱\"", "\"name_masked\":\"陈\\n萱\""},
        {"\"name_masked\":\"陈*萱\"", "\"name_masked\":\"\""},
        {"\"name_masked\":\"陈*萱\"", "\"name_masked\":\"\xff\xfe\""},
        {"\"name_masked\":\"陈*萱\"", "\"name_masked\":\"\xed\xa0\x80\""}, /* surrogate */
        {"\"name_masked\":\"陈*萱\"", "\"name_masked\":\"\xc0\xaa\""},     /* overlong */
        {"\"level\":\"本科\"", "\"level\":\"本科\",\"level\":\"专科\""},   /* duplicate */
        {"\"level\":\"本科\"", "\"level\":[\"本科\"]"},
        {"}", "} "}, /* fine: whitespace (checked separately below) */
        {"}", "}x"}, /* trailing garbage */
        {"{", "["},  /* not an object */
    };
    assert_int_equal(pc__cc_parse_json(VECTOR_JSON, strlen(VECTOR_JSON), &out), 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *at = strstr(VECTOR_JSON, bad[i].find);
        assert_non_null(at);
        snprintf(j, sizeof j, "%.*s%s%s", (int)(at - VECTOR_JSON), VECTOR_JSON, bad[i].repl,
                 at + strlen(bad[i].find));
        int want = strcmp(bad[i].repl, "} ") == 0 ? 0 : PC_EINVAL;
        if (pc__cc_parse_json(j, strlen(j), &out) != want)
            fail_msg("case %zu: %s", i, j);
    }
    /* unknown members are ignored; escapes decode */
    snprintf(j, sizeof j, "{\"future\":{\"x\":[1,2]},%s", VECTOR_JSON + 1);
    assert_int_equal(pc__cc_parse_json(j, strlen(j), &out), 0);
    const char *esc = "{\"uid\":\"u\",\"name_masked\":\"\\u9648*\\u8431\",\"id_masked\":\"\","
                      "\"school_code\":\"1\",\"school\":\"\\\"S\\\\\",\"student_no\":\"1\","
                      "\"major\":\"\",\"level\":\"\",\"grad_year\":2.025e3,"
                      "\"issued_at\":\"2025-03-01T01:30:00Z\"}";
    assert_int_equal(pc__cc_parse_json(esc, strlen(esc), &out), 0);
    assert_string_equal(out.name_masked, "陈*萱");
    assert_string_equal(out.school, "\"S\\");
    assert_int_equal(out.grad_year, 2025);
    assert_int_equal(pc__cc_parse_json("", 0, &out), PC_EINVAL);
    assert_int_equal(pc__cc_parse_json("{}", 2, &out), PC_EINVAL);
    assert_int_equal(pc__cc_parse_json("{\"uid\":\"a\0b\"}", 13, &out), PC_EINVAL);
}

static void test_cc_encode_refuses_bad_records(void **state)
{
    char text[PC_CC_MAX_TEXT + 1];
    struct pc_cc_record r;
    r = rec_chinese();
    set(r.student_no, sizeof r.student_no, "2020 146");
    assert_int_equal(pc_cc_encode(KEY, &r, text, sizeof text, NULL), PC_EINVAL);
    r = rec_chinese();
    r.name_masked[0] = 0;
    assert_int_equal(pc_cc_encode(KEY, &r, text, sizeof text, NULL), PC_EINVAL);
    r = rec_chinese();
    r.grad_year = 3000;
    assert_int_equal(pc_cc_encode(KEY, &r, text, sizeof text, NULL), PC_EINVAL);
    r = rec_chinese();
    set(r.issued_at, sizeof r.issued_at, "yesterday");
    assert_int_equal(pc_cc_encode(KEY, &r, text, sizeof text, NULL), PC_EINVAL);
    r = rec_chinese();
    memset(r.school, 'x', sizeof r.school); /* not NUL-terminated */
    assert_int_equal(pc_cc_encode(KEY, &r, text, sizeof text, NULL), PC_EINVAL);
    r = rec_chinese();
    set(r.major, sizeof r.major, "a\tb");
    assert_int_equal(pc_cc_encode(KEY, &r, text, sizeof text, NULL), PC_EINVAL);
    r = rec_chinese();
    set(r.school, sizeof r.school, "\xc2\x85"); /* C1 control (NEL) */
    assert_int_equal(pc_cc_encode(KEY, &r, text, sizeof text, NULL), PC_EINVAL);
}

/* ---- masking and matching ---- */

static void check_name(const char *name, const char *want)
{
    char out[256];
    memset(out, '#', sizeof out);
    pc_cc_mask_name(name, out, sizeof out);
    assert_string_equal(out, want);
}

static void check_id(const char *id, const char *want)
{
    char out[256];
    pc_cc_mask_id(id, out, sizeof out);
    assert_string_equal(out, want);
}

static void test_mask(void **state)
{
    check_name("陈小萱", "陈*萱");
    check_name("欧阳小萱", "欧**萱");
    check_name("陈萱", "陈*");
    check_name("陈", "*");
    check_name("", "");
    check_name("   ", "");
    check_name(NULL, "");
    check_name(" 陈小萱\u3000", "陈*萱");
    check_name("MISSANG MI ABA’A Medy Evrard", "M**************************d");
    check_name("Li Na", "L***a");
    check_name("买买提·艾力", "买****力");
    check_name("\xff\xfe\xfd", "\xff*\xfd"); /* invalid bytes count as one each */
    check_id("110101199001011234", "1101**********1234");
    check_id("11010119900101123X", "1101**********123X");
    check_id(" E12345678 ", "E123*5678");
    check_id("12345678", "********");
    check_id("", "");
    /* a small buffer truncates without splitting a code point */
    char small[5];
    pc_cc_mask_name("陈小萱", small, sizeof small); /* "陈*" is 4 bytes + NUL */
    assert_string_equal(small, "陈*");
    pc_cc_mask_name("陈小萱", small, 4);
    assert_string_equal(small, "陈");
    pc_cc_mask_name("陈小萱", small, 1);
    assert_string_equal(small, "");
    pc_cc_mask_name("陈小萱", NULL, 0);
    /* masking a name always matches it */
    static const char *names[] = {
        "陈小萱", "欧阳小萱", "陈萱", "陈", "MISSANG MI ABA’A Medy Evrard", "Li Na", "买买提·艾力"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char m[256];
        pc_cc_mask_name(names[i], m, sizeof m);
        assert_int_equal(pc_cc_name_matches(m, names[i]), 1);
    }
}

static void test_name_matches(void **state)
{
    assert_int_equal(pc_cc_name_matches("陈*萱", "陈小萱"), 1);
    assert_int_equal(pc_cc_name_matches("陈*萱", "陈萱萱"), 1); /* the mask cannot tell */
    assert_int_equal(pc_cc_name_matches("陈*萱", "陈大小萱"), 1);
    assert_int_equal(pc_cc_name_matches("陈**萱", "陈小萱"), 1); /* star count not compared */
    assert_int_equal(pc_cc_name_matches("陈*萱", "陈萱"), 0);    /* stars hide ≥ 1 */
    assert_int_equal(pc_cc_name_matches("陈*萱", "王小萱"), 0);
    assert_int_equal(pc_cc_name_matches("陈*萱", "陈小雪"), 0);
    assert_int_equal(pc_cc_name_matches("陈*萱", "陈"), 0);
    assert_int_equal(pc_cc_name_matches("陈*", "陈萱"), 1);
    assert_int_equal(pc_cc_name_matches("陈*", "陈"), 0);
    assert_int_equal(pc_cc_name_matches("陈*", "王萱"), 0);
    assert_int_equal(pc_cc_name_matches("*", "陈"), 1);
    assert_int_equal(pc_cc_name_matches("*", "Anyone At All"), 1);
    assert_int_equal(pc_cc_name_matches("*", ""), 0);
    assert_int_equal(pc_cc_name_matches("*", "   "), 0);
    assert_int_equal(pc_cc_name_matches("", ""), 0);
    assert_int_equal(pc_cc_name_matches("陈*萱", " 陈小萱 "), 1);
    assert_int_equal(pc_cc_name_matches("\u3000陈*萱\n", "陈小萱\u3000"), 1);
    assert_int_equal(pc_cc_name_matches("陈小萱", "陈小萱"), 1); /* no star: exact */
    assert_int_equal(pc_cc_name_matches("陈小萱", "陈小"), 0);
    assert_int_equal(
        pc_cc_name_matches("M**************************d", "MISSANG MI ABA’A Medy Evrard"), 1);
    assert_int_equal(pc_cc_name_matches("M*d", "Medy Evrard"), 1);
    assert_int_equal(pc_cc_name_matches("M*d", "medy evrard"), 0); /* case-sensitive */
    assert_int_equal(pc_cc_name_matches("Me*rd", "Merd"), 0);
    assert_int_equal(pc_cc_name_matches("Me*rd", "Mexrd"), 1);
    assert_int_equal(pc_cc_name_matches("陈*小*萱", "陈大小大萱"), 1); /* first/last star */
    /* a code point is never split: 萱 (E8 90 B1) vs 萲 (E8 90 B2) share a lead */
    assert_int_equal(pc_cc_name_matches("陈*萱", "陈小萲"), 0);
    assert_int_equal(pc_cc_name_matches("陈*\xff", "陈小\xff"), 0); /* invalid UTF-8 */
    assert_int_equal(pc_cc_name_matches(NULL, "陈"), 0);
    assert_int_equal(pc_cc_name_matches("陈*", NULL), 0);
}

/* ---- pictures ---- */

struct img {
    unsigned char *p;
    int w, h, ch;
};

static struct img img_new(int w, int h, int ch, unsigned char fill)
{
    struct img m = {malloc((size_t)w * h * ch), w, h, ch};
    memset(m.p, fill, (size_t)w * h * ch);
    return m;
}

static uint32_t rng_state = 12345;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static void fill_rect(struct img *m, int x0, int y0, int w, int h, const unsigned char *rgb)
{
    for (int y = y0 < 0 ? 0 : y0; y < y0 + h && y < m->h; y++)
        for (int x = x0 < 0 ? 0 : x0; x < x0 + w && x < m->w; x++)
            for (int c = 0; c < m->ch; c++)
                m->p[((size_t)y * m->w + x) * m->ch + c] =
                    m->ch == 1 ? (unsigned char)((rgb[0] * 77 + rgb[1] * 150 + rgb[2] * 29) >> 8)
                               : rgb[c];
}

/* libpng in memory, for both directions */
struct mem {
    unsigned char *p;
    size_t len, cap, off;
};

static void mem_write(png_structp png, png_bytep p, png_size_t n)
{
    struct mem *m = png_get_io_ptr(png);
    if (m->len + n > m->cap) {
        m->cap = (m->len + n) * 2;
        m->p = realloc(m->p, m->cap);
    }
    memcpy(m->p + m->len, p, n);
    m->len += n;
}

static void mem_flush(png_structp png)
{
    (void)png;
}

static void mem_read(png_structp png, png_bytep out, png_size_t n)
{
    struct mem *m = png_get_io_ptr(png);
    if (n > m->len - m->off)
        png_error(png, "eof");
    memcpy(out, m->p + m->off, n);
    m->off += n;
}

enum png_kind { PNG_AS_IS, PNG_RGBA_CLEAR, PNG_PALETTE, PNG_GRAY16 };

/* Writes m as a PNG. PNG_RGBA_CLEAR: grey → RGBA with white made fully transparent (to test
 * composition on white); PNG_PALETTE: grey thresholded to a 2-colour palette (dark blue /
 * white); PNG_GRAY16: 16-bit grey. */
static unsigned char *png_encode(const struct img *m, enum png_kind kind, int interlace,
                                 size_t *len)
{
    struct mem out = {0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop pi = png_create_info_struct(png);
    assert_int_equal(setjmp(png_jmpbuf(png)), 0);
    png_set_write_fn(png, &out, mem_write, mem_flush);
    int ct = m->ch == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY, depth = 8, ch = m->ch;
    if (kind == PNG_RGBA_CLEAR)
        ct = PNG_COLOR_TYPE_RGBA, ch = 4;
    if (kind == PNG_PALETTE)
        ct = PNG_COLOR_TYPE_PALETTE, ch = 1;
    if (kind == PNG_GRAY16)
        depth = 16, ch = 2;
    png_set_IHDR(png, pi, (png_uint_32)m->w, (png_uint_32)m->h, depth, ct,
                 interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (kind == PNG_PALETTE) {
        png_color pal[2] = {{20, 40, 120}, {255, 255, 255}};
        png_set_PLTE(png, pi, pal, 2);
    }
    png_write_info(png, pi);
    int passes = png_set_interlace_handling(png);
    unsigned char *rows = malloc((size_t)m->w * m->h * ch);
    for (size_t i = 0; i < (size_t)m->w * m->h; i++) {
        unsigned char g = m->p[i * m->ch];
        unsigned char *o = rows + i * ch;
        if (kind == PNG_RGBA_CLEAR) {
            o[0] = o[1] = o[2] = g;
            o[3] = g > 128 ? 0 : 255;
        } else if (kind == PNG_PALETTE) {
            o[0] = g > 128;
        } else if (kind == PNG_GRAY16) {
            o[0] = o[1] = g;
        } else {
            memcpy(o, m->p + i * m->ch, (size_t)m->ch);
        }
    }
    for (int pass = 0; pass < passes; pass++)
        for (int y = 0; y < m->h; y++)
            png_write_row(png, rows + (size_t)y * m->w * ch);
    png_write_end(png, pi);
    png_destroy_write_struct(&png, &pi);
    free(rows);
    *len = out.len;
    return out.p;
}

/* Reads an 8-bit grey, non-interlaced PNG (what pc_qr_png writes) and checks that format. */
static struct img png_decode_gray(const unsigned char *p, size_t len)
{
    struct mem in = {(unsigned char *)p, len, len, 0};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop pi = png_create_info_struct(png);
    assert_int_equal(setjmp(png_jmpbuf(png)), 0);
    png_set_read_fn(png, &in, mem_read);
    png_read_info(png, pi);
    assert_int_equal(png_get_color_type(png, pi), PNG_COLOR_TYPE_GRAY);
    assert_int_equal(png_get_bit_depth(png, pi), 8);
    assert_int_equal(png_get_interlace_type(png, pi), PNG_INTERLACE_NONE);
    struct img m =
        img_new((int)png_get_image_width(png, pi), (int)png_get_image_height(png, pi), 1, 0);
    for (int y = 0; y < m.h; y++)
        png_read_row(png, m.p + (size_t)y * m.w, NULL);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &pi, NULL);
    return m;
}

static unsigned char *jpeg_encode(const struct img *m, int quality, int cmyk, size_t *len)
{
    tjhandle tj = tjInitCompress();
    unsigned char *out = NULL, *src = m->p;
    unsigned long n = 0;
    int pf = m->ch == 3 ? TJPF_RGB : TJPF_GRAY, ss = m->ch == 3 ? TJSAMP_420 : TJSAMP_GRAY;
    if (cmyk) { /* grey → inverted CMYK (255 = no ink), as Adobe files store it */
        src = malloc((size_t)m->w * m->h * 4);
        for (size_t i = 0; i < (size_t)m->w * m->h; i++) {
            src[4 * i] = src[4 * i + 1] = src[4 * i + 2] = 255;
            src[4 * i + 3] = m->p[i * m->ch];
        }
        pf = TJPF_CMYK;
        ss = TJSAMP_420;
    }
    assert_int_equal(tjCompress2(tj, src, m->w, 0, m->h, pf, &out, &n, ss, quality, 0), 0);
    tjDestroy(tj);
    if (cmyk)
        free(src);
    unsigned char *copy = malloc(n);
    memcpy(copy, out, n);
    tjFree(out);
    *len = n;
    return copy;
}

static struct img qr_image(const unsigned char *data, size_t n, int scale)
{
    unsigned char *png = NULL;
    size_t len = 0;
    assert_int_equal(pc_qr_png(data, n, scale, &png, &len), 0);
    struct img m = png_decode_gray(png, len);
    free(png);
    return m;
}

/* A 1080×2340 phone screenshot: status bar, title bar, "text" lines, a coloured banner and
 * buttons, a photo-like noisy block, and the QR at (qx, qy). */
static struct img screenshot(int ch, const struct img *qr, int qx, int qy)
{
    static const unsigned char bg[3] = {245, 246, 248}, bar[3] = {30, 30, 30},
                               white[3] = {255, 255, 255}, green[3] = {7, 193, 96},
                               text[3] = {60, 60, 70}, blue[3] = {40, 110, 220};
    struct img m = img_new(1080, 2340, ch, 0);
    rng_state = 777;
    fill_rect(&m, 0, 0, 1080, 2340, bg);
    fill_rect(&m, 0, 0, 1080, 90, bar);
    for (int i = 0; i < 5; i++)
        fill_rect(&m, 800 + i * 50, 30, 30, 30, white);
    fill_rect(&m, 0, 90, 1080, 140, green);
    fill_rect(&m, 40, 140, 400, 40, white);
    for (int line = 0; line < 60; line++) {
        int y = 260 + line * 34;
        for (int x = 40; x < 1040;) {
            int w = 12 + (int)(rnd() % 60);
            if (qr && y + 24 > qy - 20 && y < qy + qr->h + 20)
                break;
            fill_rect(&m, x, y, w, 22, text);
            x += w + 8 + (int)(rnd() % 20);
        }
    }
    fill_rect(&m, 60, 2100, 960, 140, blue);
    fill_rect(&m, 100, 2140, 300, 60, white);
    for (int y = 1900; y < 2060; y++) /* noisy "photo" */
        for (int x = 700; x < 1040; x++) {
            unsigned char v[3] = {(unsigned char)(x * y / 64 + rnd() % 24), (unsigned char)(x ^ y),
                                  (unsigned char)y};
            fill_rect(&m, x, y, 1, 1, v);
        }
    if (qr)
        for (int y = 0; y < qr->h; y++)
            for (int x = 0; x < qr->w; x++) {
                unsigned char g = qr->p[(size_t)y * qr->w + x];
                unsigned char v[3] = {g, g, g};
                fill_rect(&m, qx + x, qy + y, 1, 1, v);
            }
    return m;
}

/* Rotates 90° clockwise. */
static struct img rot90(const struct img *m)
{
    struct img r = img_new(m->h, m->w, m->ch, 0);
    for (int y = 0; y < m->h; y++)
        for (int x = 0; x < m->w; x++)
            memcpy(r.p + ((size_t)x * r.w + (r.w - 1 - y)) * r.ch,
                   m->p + ((size_t)y * m->w + x) * m->ch, (size_t)m->ch);
    return r;
}

/* 3×3 box blur. */
static void blur(struct img *m)
{
    unsigned char *src = malloc((size_t)m->w * m->h * m->ch);
    memcpy(src, m->p, (size_t)m->w * m->h * m->ch);
    for (int y = 1; y < m->h - 1; y++)
        for (int x = 1; x < m->w - 1; x++)
            for (int c = 0; c < m->ch; c++) {
                unsigned s = 0;
                for (int dy = -1; dy <= 1; dy++)
                    for (int dx = -1; dx <= 1; dx++)
                        s += src[((size_t)(y + dy) * m->w + (x + dx)) * m->ch + c];
                m->p[((size_t)y * m->w + x) * m->ch + c] = (unsigned char)(s / 9);
            }
    free(src);
}

/* Places m off-centre on a larger mid-grey "desk" (a photo of a phone). */
static struct img on_desk(const struct img *m, int W, int H, int ox, int oy)
{
    static const unsigned char desk[3] = {120, 100, 80};
    struct img d = img_new(W, H, m->ch, 0);
    fill_rect(&d, 0, 0, W, H, desk);
    for (int y = 0; y < m->h && oy + y < H; y++)
        memcpy(d.p + ((size_t)(oy + y) * W + ox) * d.ch, m->p + (size_t)y * m->w * m->ch,
               (size_t)m->w * m->ch);
    return d;
}

static void expect_qr(const unsigned char *img, size_t len, const void *want, size_t wantlen)
{
    unsigned char out[PC_QR_MAX_PAYLOAD];
    size_t n = 0;
    assert_int_equal(pc_qr_decode(img, len, out, sizeof out, &n), 0);
    assert_int_equal(n, wantlen);
    assert_memory_equal(out, want, wantlen);
}

static void expect_qr_rc(const unsigned char *img, size_t len, int want)
{
    unsigned char out[PC_QR_MAX_PAYLOAD];
    size_t n = 99;
    assert_int_equal(pc_qr_decode(img, len, out, sizeof out, &n), want);
    assert_int_equal(n, 0);
}

static void test_qr_png_round_trip(void **state)
{
    unsigned char *png = NULL;
    size_t len = 0;
    assert_int_equal(
        pc_qr_png((const unsigned char *)VECTOR_TEXT, strlen(VECTOR_TEXT), 4, &png, &len), 0);
    struct img m = png_decode_gray(png, len);
    assert_int_equal(m.w, m.h);
    assert_int_equal(m.w % 4, 0);
    assert_int_equal(m.p[0], 255);                   /* quiet zone */
    assert_int_equal(m.p[(size_t)16 * m.w + 16], 0); /* finder pattern corner */
    expect_qr(png, len, VECTOR_TEXT, strlen(VECTOR_TEXT));
    struct pc_cc_record rec, want = rec_chinese();
    unsigned char out[PC_QR_MAX_PAYLOAD];
    size_t n = 0;
    assert_int_equal(pc_qr_decode(png, len, out, sizeof out, &n), 0);
    assert_int_equal(pc_cc_decode(KEY, (const char *)out, n, &rec), 0);
    assert_rec_equal(&rec, &want);
    /* payload longer than the caller's buffer */
    assert_int_equal(pc_qr_decode(png, len, out, 10, &n), PC_ETOOBIG);
    free(m.p);
    free(png);
}

static void test_qr_binary_payload(void **state)
{
    unsigned char data[64];
    for (int i = 0; i < 64; i++)
        data[i] = (unsigned char)(i * 37 + 0x80);
    data[5] = data[20] = data[63] = 0;
    data[6] = 0xff;
    data[7] = 0x80; /* would become C2 80 under zbar's charset guessing */
    unsigned char *png = NULL;
    size_t len = 0;
    assert_int_equal(pc_qr_png(data, sizeof data, 3, &png, &len), 0);
    expect_qr(png, len, data, sizeof data);
    free(png);
    /* GB18030 text, which zbar would otherwise take for Big5 */
    static const char gb[] = "\xd1\xa7\xd0\xc5\xcd\xf8\xcd\xbc\xcf\xf1\xb2\xc9\xbc\xaf\xc2\xeb";
    assert_int_equal(pc_qr_png((const unsigned char *)gb, 16, 4, &png, &len), 0);
    expect_qr(png, len, gb, 16);
    free(png);
}

static void test_qr_png_limits(void **state)
{
    unsigned char *png = NULL, big[2400];
    size_t len = 0;
    memset(big, 'x', sizeof big);
    assert_int_equal(pc_qr_png(big, 0, 4, &png, &len), PC_EINVAL);
    assert_int_equal(pc_qr_png(big, 10, 0, &png, &len), PC_EINVAL);
    assert_int_equal(pc_qr_png(big, 10, 33, &png, &len), PC_EINVAL);
    assert_int_equal(pc_qr_png(NULL, 10, 4, &png, &len), PC_EINVAL);
    assert_int_equal(pc_qr_png(big, 2332, 4, &png, &len), PC_ETOOBIG); /* v40-M holds 2331 */
    assert_null(png);
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (unsigned char)rnd();
    assert_int_equal(pc_qr_png(big, 2331, 3, &png, &len), 0); /* version 40: 555×555 px */
    expect_qr(png, len, big, 2331);
    free(png);
}

static void run_screenshot(int ch, enum png_kind kind, int interlace)
{
    struct img qr = qr_image((const unsigned char *)VECTOR_TEXT, strlen(VECTOR_TEXT), 8);
    struct img s = screenshot(ch, &qr, 140, 700);
    size_t len = 0;
    unsigned char *png = png_encode(&s, kind, interlace, &len);
    expect_qr(png, len, VECTOR_TEXT, strlen(VECTOR_TEXT));
    free(png);
    free(s.p);
    free(qr.p);
}

static void test_qr_screenshot_png(void **state)
{
    run_screenshot(1, PNG_AS_IS, 0);
    run_screenshot(3, PNG_AS_IS, 0);
    run_screenshot(3, PNG_AS_IS, 1);
    run_screenshot(1, PNG_GRAY16, 0);
}

static void test_qr_png_alpha_palette(void **state)
{
    /* transparent background, opaque black modules: composed on white */
    struct img qr = qr_image((const unsigned char *)VECTOR_TEXT, strlen(VECTOR_TEXT), 4);
    size_t len = 0;
    unsigned char *png = png_encode(&qr, PNG_RGBA_CLEAR, 0, &len);
    expect_qr(png, len, VECTOR_TEXT, strlen(VECTOR_TEXT));
    free(png);
    png = png_encode(&qr, PNG_RGBA_CLEAR, 1, &len);
    expect_qr(png, len, VECTOR_TEXT, strlen(VECTOR_TEXT));
    free(png);
    png = png_encode(&qr, PNG_PALETTE, 0, &len);
    expect_qr(png, len, VECTOR_TEXT, strlen(VECTOR_TEXT));
    free(png);
    /* light on dark ("dark mode"): found by the inverted pass */
    for (size_t i = 0; i < (size_t)qr.w * qr.h; i++)
        qr.p[i] = (unsigned char)(255 - qr.p[i]);
    png = png_encode(&qr, PNG_AS_IS, 0, &len);
    expect_qr(png, len, VECTOR_TEXT, strlen(VECTOR_TEXT));
    free(png);
    free(qr.p);
}

static struct img photo_of_screen(void)
{
    struct img qr = qr_image((const unsigned char *)VECTOR_TEXT, strlen(VECTOR_TEXT), 8);
    struct img s = screenshot(3, &qr, 300, 900);
    struct img r = rot90(&s);
    blur(&r);
    struct img d = on_desk(&r, 3000, 1500, 410, 260);
    free(qr.p);
    free(s.p);
    free(r.p);
    return d;
}

static void test_qr_screenshot_jpeg(void **state)
{
    struct img qr = qr_image((const unsigned char *)VECTOR_TEXT, strlen(VECTOR_TEXT), 8);
    struct img s = screenshot(3, &qr, 140, 700);
    size_t len = 0;
    unsigned char *jpg = jpeg_encode(&s, 75, 0, &len);
    expect_qr(jpg, len, VECTOR_TEXT, strlen(VECTOR_TEXT));
    free(jpg);
    /* CMYK (YCCK) JPEG: converted, not refused */
    jpg = jpeg_encode(&s, 90, 1, &len);
    expect_qr(jpg, len, VECTOR_TEXT, strlen(VECTOR_TEXT));
    free(jpg);
    free(s.p);
    free(qr.p);
    /* a photo of the phone: rotated 90°, blurred, off-centre on a desk, q75 */
    struct img d = photo_of_screen();
    jpg = jpeg_encode(&d, 75, 0, &len);
    expect_qr(jpg, len, VECTOR_TEXT, strlen(VECTOR_TEXT));
    free(jpg);
    free(d.p);
}

static void test_qr_not_found(void **state)
{
    struct img s = screenshot(3, NULL, 0, 0);
    size_t len = 0;
    unsigned char *p = png_encode(&s, PNG_AS_IS, 0, &len);
    expect_qr_rc(p, len, PC_ENOTFOUND);
    free(p);
    p = jpeg_encode(&s, 75, 0, &len);
    expect_qr_rc(p, len, PC_ENOTFOUND);
    free(p);
    free(s.p);
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
    }
    return c ^ 0xffffffffu;
}

static void test_qr_refusals(void **state)
{
    /* garbage, empty, text */
    unsigned char junk[4096];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (unsigned char)rnd();
    expect_qr_rc(junk, sizeof junk, PC_EINVAL);
    expect_qr_rc(junk, 0, PC_EINVAL);
    expect_qr_rc((const unsigned char *)VECTOR_TEXT, strlen(VECTOR_TEXT), PC_EINVAL);
    /* truncated PNG and JPEG */
    struct img qr = qr_image((const unsigned char *)VECTOR_TEXT, strlen(VECTOR_TEXT), 4);
    size_t len = 0;
    unsigned char *p = png_encode(&qr, PNG_AS_IS, 0, &len);
    expect_qr_rc(p, len / 2, PC_EINVAL);
    expect_qr_rc(p, 40, PC_EINVAL);
    free(p);
    p = jpeg_encode(&qr, 90, 0, &len);
    expect_qr_rc(p, len * 2 / 3, PC_EINVAL);
    expect_qr_rc(p, 3, PC_EINVAL);
    free(p);
    free(qr.p);
    /* a PNG header claiming 100000×100000, with a tiny IDAT: refused from the header */
    unsigned char big[8 + 25 + 12 + 4];
    memcpy(big, "\x89PNG\r\n\x1a\n", 8);
    put32(big + 8, 13);
    memcpy(big + 12, "IHDR", 4);
    put32(big + 16, 100000);
    put32(big + 20, 100000);
    memcpy(big + 24, "\x08\x00\x00\x00\x00", 5); /* 8-bit grey */
    put32(big + 29, crc32_of(big + 12, 17));
    put32(big + 33, 4);
    memcpy(big + 37, "IDAT\x78\x9c\x03\x00", 8);
    put32(big + 45, crc32_of(big + 37, 8));
    expect_qr_rc(big, sizeof big, PC_ETOOBIG);
    /* just over and under a caller's cap */
    struct img s = img_new(200, 100, 1, 255);
    p = png_encode(&s, PNG_AS_IS, 0, &len);
    unsigned char out[16];
    size_t n = 0;
    assert_int_equal(pc_qr_decode_capped(p, len, 19999, out, sizeof out, &n), PC_ETOOBIG);
    assert_int_equal(pc_qr_decode_capped(p, len, 20000, out, sizeof out, &n), PC_ENOTFOUND);
    free(p);
    free(s.p);
    /* a real JPEG whose SOF is patched to 65500×65500 (libjpeg's maximum): refused from the
     * header, before any decoding */
    s = img_new(16, 16, 1, 128);
    p = jpeg_encode(&s, 90, 0, &len);
    size_t at = 2;
    while (at + 9 < len && !(p[at] == 0xff && p[at + 1] == 0xc0))
        at++;
    assert_true(at + 9 < len);
    p[at + 5] = p[at + 7] = 0xff; /* height, width: FF DC */
    p[at + 6] = p[at + 8] = 0xdc;
    expect_qr_rc(p, len, PC_ETOOBIG);
    free(p);
    free(s.p);
}

/* ---- fixtures ---- */

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    unsigned char *p = malloc(cap);
    size_t got;
    while ((got = fread(p + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap)
            p = realloc(p, cap *= 2);
    }
    fclose(f);
    *len = n;
    return p;
}

static void spit_to(const char *dir, const char *name, const void *p, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static void spit(const char *name, const void *p, size_t n)
{
    spit_to(FIXDIR, name, p, n);
}

/* Small seeds for fuzz/corpus/qr_decode (under its 512×512 cap) and fuzz/corpus/cc_codec. */
static void write_seeds(void)
{
    static const char qd[] = PC_SOURCE_DIR "/fuzz/corpus/qr_decode",
                      cc[] = PC_SOURCE_DIR "/fuzz/corpus/cc_codec";
    struct img qr = qr_image((const unsigned char *)VECTOR_TEXT, strlen(VECTOR_TEXT), 2);
    size_t len = 0;
    unsigned char *p = NULL;
    assert_int_equal(pc_qr_png((const unsigned char *)"CC1.x", 5, 2, &p, &len), 0);
    spit_to(qd, "qr_small.png", p, len);
    free(p);
    p = jpeg_encode(&qr, 75, 0, &len);
    spit_to(qd, "qr_gray_q75.jpg", p, len);
    free(p);
    p = jpeg_encode(&qr, 75, 1, &len);
    spit_to(qd, "qr_cmyk.jpg", p, len);
    free(p);
    p = png_encode(&qr, PNG_RGBA_CLEAR, 1, &len);
    spit_to(qd, "qr_rgba_interlaced.png", p, len);
    free(p);
    p = png_encode(&qr, PNG_PALETTE, 0, &len);
    spit_to(qd, "qr_palette.png", p, len);
    free(p);
    p = png_encode(&qr, PNG_GRAY16, 0, &len);
    spit_to(qd, "qr_gray16.png", p, len);
    free(p);
    free(qr.p);
    struct img blank = img_new(64, 48, 3, 200);
    p = jpeg_encode(&blank, 75, 0, &len);
    spit_to(qd, "no_qr_rgb.jpg", p, len);
    free(p);
    free(blank.p);

    spit_to(cc, "vector", VECTOR_TEXT, strlen(VECTOR_TEXT));
    char buf[PC_CC_MAX_TEXT + 8];
    snprintf(buf, sizeof buf, "  %s\r\n", VECTOR_TEXT);
    spit_to(cc, "vector_ws", buf, strlen(buf));
    spit_to(cc, "json", VECTOR_JSON, strlen(VECTOR_JSON));
    static const char fields[] = "K7Q2M9X4D1\n陈*萱\n1101**********1234\n10001\n北京大学\n"
                                 "2020146F101\n计算机科学与技术\n本科\n2025\n"
                                 "2025-03-01T09:30:00+08:00";
    spit_to(cc, "fields", fields, strlen(fields));
    struct pc_cc_record r = rec_latin();
    assert_int_equal(pc__cc_encode_nonce(KEY, NONCE, &r, buf, sizeof buf, &len), 0);
    spit_to(cc, "latin", buf, len);
}

/* Nearest-neighbour half size. */
static struct img half(const struct img *m)
{
    struct img h = img_new(m->w / 2, m->h / 2, m->ch, 0);
    for (int y = 0; y < h.h; y++)
        for (int x = 0; x < h.w; x++)
            memcpy(h.p + ((size_t)y * h.w + x) * h.ch,
                   m->p + ((size_t)(2 * y) * m->w + 2 * x) * m->ch, (size_t)m->ch);
    return h;
}

static void write_fixtures(void)
{
    unsigned char *png = NULL;
    size_t len = 0;
    assert_int_equal(
        pc_qr_png((const unsigned char *)VECTOR_TEXT, strlen(VECTOR_TEXT), 4, &png, &len), 0);
    spit("qr_clean.png", png, len);
    free(png);
    /* half size (540×1170) keeps the files small; modules stay 4 px */
    struct img qr = qr_image((const unsigned char *)VECTOR_TEXT, strlen(VECTOR_TEXT), 8);
    struct img s = screenshot(3, &qr, 140, 700);
    struct img h = half(&s);
    unsigned char *jpg = jpeg_encode(&h, 75, 0, &len);
    spit("screenshot.jpg", jpg, len);
    free(jpg);
    free(h.p);
    free(s.p);
    free(qr.p);
    s = screenshot(1, NULL, 0, 0);
    h = half(&s);
    png = png_encode(&h, PNG_AS_IS, 0, &len);
    spit("no_qr.png", png, len);
    free(png);
    free(h.p);
    free(s.p);
    spit("code.txt", VECTOR_TEXT, strlen(VECTOR_TEXT));
    write_seeds();
}

static void test_fixtures(void **state)
{
    if (getenv("PC_WRITE_FIXTURES"))
        write_fixtures();
    static const char *with_code[] = {FIXDIR "/qr_clean.png", FIXDIR "/screenshot.jpg"};
    size_t len = 0;
    unsigned char *code = slurp(FIXDIR "/code.txt", &len);
    assert_non_null(code);
    assert_int_equal(len, strlen(VECTOR_TEXT));
    assert_memory_equal(code, VECTOR_TEXT, len);
    free(code);
    for (size_t i = 0; i < 2; i++) {
        unsigned char *p = slurp(with_code[i], &len);
        assert_non_null(p);
        expect_qr(p, len, VECTOR_TEXT, strlen(VECTOR_TEXT));
        free(p);
    }
    unsigned char *p = slurp(FIXDIR "/no_qr.png", &len);
    assert_non_null(p);
    expect_qr_rc(p, len, PC_ENOTFOUND);
    free(p);
}

int main(void)
{
    keys_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cc_vector),
        cmocka_unit_test(test_cc_round_trips),
        cmocka_unit_test(test_cc_full_fields_fit),
        cmocka_unit_test(test_cc_every_corruption_refused),
        cmocka_unit_test(test_cc_json_rules),
        cmocka_unit_test(test_cc_encode_refuses_bad_records),
        cmocka_unit_test(test_mask),
        cmocka_unit_test(test_name_matches),
        cmocka_unit_test(test_qr_png_round_trip),
        cmocka_unit_test(test_qr_binary_payload),
        cmocka_unit_test(test_qr_png_limits),
        cmocka_unit_test(test_qr_screenshot_png),
        cmocka_unit_test(test_qr_png_alpha_palette),
        cmocka_unit_test(test_qr_screenshot_jpeg),
        cmocka_unit_test(test_qr_not_found),
        cmocka_unit_test(test_qr_refusals),
        cmocka_unit_test(test_fixtures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
