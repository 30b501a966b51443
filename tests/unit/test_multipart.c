/* tests/unit/test_multipart.c — server/multipart.h: wx.uploadFile and browser bodies, the
 * RFC 2046 corners (quoted boundary, preamble, padding, epilogue), every refusal, limits and
 * every truncation of valid bodies (each prefix in its own exact-size allocation, so ASan
 * sees any read past len). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/err.h"
#include "server/multipart.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WX_BOUNDARY "----WebKitFormBoundaryr6pTzQ8kH1vX3mNa"
#define WX_CT       "multipart/form-data; boundary=" WX_BOUNDARY

struct body {
    char p[32768];
    size_t n;
};

static void addn(struct body *b, const void *p, size_t n)
{
    assert_true(b->n + n <= sizeof b->p);
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void add(struct body *b, const char *s)
{
    addn(b, s, strlen(s));
}

/* The JPEG-ish content of the wx upload: NULs, CRLFs, "\r\n--" and boundary fragments that
 * are not a delimiter. */
static const unsigned char g_jpeg[] = {
    0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 'J',  'F',  'I',  'F', 0x00, 0x01, 0x01, 0x00,
    0x00, 0x00, '\r', '\n', '-',  '-',  0x00, '\r', '\n', '-', '-',  '-',  '-',  'W',
    'e',  'b',  'K',  'i',  't',  '\r', '\n', '\r', '\n', 'x', '-',  '-',  '-',  '-',
    '-',  '-',  'W',  'e',  'b',  'K',  'i',  't',  'F',  'o', 'r',  'm',  'B',  'o',
    'u',  'n',  'd',  'a',  'r',  'y',  'r',  '6',  'p',  'T', 'z',  'Q',  '8',  'k',
    'H',  '1',  'v',  'X',  '3',  'm',  'N',  'a',  '\n', '-', '-',  0x00, 0xff, 0xd9};

/* The body wx.uploadFile sends for
 * wx.uploadFile({name: 'file', filePath, formData: {task_id: '42'}}). */
static void wx_body(struct body *b)
{
    b->n = 0;
    add(b, "--" WX_BOUNDARY "\r\n"
           "Content-Disposition: form-data; name=\"task_id\"\r\n"
           "\r\n"
           "42\r\n"
           "--" WX_BOUNDARY "\r\n"
           "Content-Disposition: form-data; name=\"file\"; "
           "filename=\"wxfile://tmp_5f0e8c1a2b3c4d5e6f708192a3b4c5d6.jpg\"\r\n"
           "Content-Type: image/jpeg\r\n"
           "\r\n");
    addn(b, g_jpeg, sizeof g_jpeg);
    add(b, "\r\n--" WX_BOUNDARY "--\r\n");
}

static int parse(const char *ct, const struct body *b, size_t max, struct pc_multipart *mp,
                 char *err, size_t errlen)
{
    return pc_multipart_parse(ct, b->p, b->n, max, mp, err, errlen);
}

static void expect_str(const char *p, size_t n, const char *want, const char *what)
{
    if (!want) {
        if (p)
            fail_msg("%s: want absent, got %.*s", what, (int)n, p);
        return;
    }
    if (!p)
        fail_msg("%s: want %s, got absent", what, want);
    if (n != strlen(want) || memcmp(p, want, n) != 0)
        fail_msg("%s: want \"%s\", got \"%.*s\"", what, want, (int)n, p);
}

static void expect_part(const struct pc_mp_part *pt, const char *name, const char *filename,
                        const char *ctype, const void *data, size_t len)
{
    assert_non_null(pt);
    expect_str(pt->name, pt->name_len, name, "name");
    expect_str(pt->filename, pt->filename_len, filename, "filename");
    expect_str(pt->content_type, pt->content_type_len, ctype, "content_type");
    assert_int_equal(pt->len, len);
    assert_non_null(pt->data);
    assert_memory_equal(pt->data, data, len);
}

static void expect_ok(const char *ct, const struct body *b, size_t nparts, struct pc_multipart *mp)
{
    char err[128];
    int rc = parse(ct, b, 16, mp, err, sizeof err);
    if (rc != 0)
        fail_msg("rc %d: %s", rc, err);
    assert_int_equal(mp->nparts, nparts);
}

static void expect_einval(const char *ct, const void *p, size_t n, const char *why)
{
    struct pc_multipart mp = {(struct pc_mp_part *)1, 99};
    char err[128] = "x";
    /* An exact-size copy: ASan catches any read past n. */
    char *copy = malloc(n ? n : 1);
    memcpy(copy, p, n);
    int rc = pc_multipart_parse(ct, copy, n, 16, &mp, err, sizeof err);
    free(copy);
    if (rc != PC_EINVAL)
        fail_msg("%s: rc %d, want PC_EINVAL", why, rc);
    assert_null(mp.parts);
    assert_int_equal(mp.nparts, 0);
    assert_true(err[0] != '\0' && strcmp(err, "x") != 0);
}

static void expect_body_einval(const char *body, const char *why)
{
    expect_einval("multipart/form-data; boundary=b", body, strlen(body), why);
}

static void test_multipart_parses_wx_uploadfile_body(void **state)
{
    struct body b;
    struct pc_multipart mp;
    wx_body(&b);
    expect_ok(WX_CT, &b, 2, &mp);
    expect_part(&mp.parts[0], "task_id", NULL, NULL, "42", 2);
    expect_part(&mp.parts[1], "file", "wxfile://tmp_5f0e8c1a2b3c4d5e6f708192a3b4c5d6.jpg",
                "image/jpeg", g_jpeg, sizeof g_jpeg);
    /* zero-copy: everything points into the body */
    const struct pc_mp_part *f = pc_multipart_get(&mp, "file");
    assert_ptr_equal(f, &mp.parts[1]);
    assert_true(f->data > b.p && f->data + f->len < b.p + b.n);
    assert_true(f->name > b.p && f->filename > b.p && f->content_type > b.p);
    assert_ptr_equal(pc_multipart_get(&mp, "task_id"), &mp.parts[0]);
    assert_null(pc_multipart_get(&mp, "fil"));
    assert_null(pc_multipart_get(&mp, "files"));
    pc_multipart_free(&mp);
    assert_null(mp.parts);
    assert_int_equal(mp.nparts, 0);
}

static void test_multipart_parses_browser_form_with_two_fields(void **state)
{
    struct body b = {.n = 0};
    struct pc_multipart mp;
    add(&b, "------WebKitFormBoundary7MA4YWxkTrZu0gW\r\n"
            "Content-Disposition: form-data; name=\"title\"\r\n"
            "\r\n"
            "毕业照 2024\r\n"
            "------WebKitFormBoundary7MA4YWxkTrZu0gW\r\n"
            "Content-Disposition: form-data; name=\"note\"\r\n"
            "\r\n"
            "line one\r\nline two\r\n"
            "------WebKitFormBoundary7MA4YWxkTrZu0gW--\r\n");
    expect_ok("multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW", &b, 2, &mp);
    expect_part(&mp.parts[0], "title", NULL, NULL, "毕业照 2024", strlen("毕业照 2024"));
    expect_part(&mp.parts[1], "note", NULL, NULL, "line one\r\nline two", 18);
    pc_multipart_free(&mp);
}

static void test_multipart_accepts_quoted_boundary_and_case_insensitive_type(void **state)
{
    struct body b = {.n = 0};
    struct pc_multipart mp;
    add(&b, "--simple boundary\r\n"
            "Content-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n"
            "--simple boundary--");
    expect_ok("multipart/form-data; boundary=\"simple boundary\"", &b, 1, &mp);
    expect_part(&mp.parts[0], "a", NULL, NULL, "1", 1);
    pc_multipart_free(&mp);
    expect_ok("Multipart/Form-Data;charset=utf-8;BOUNDARY=\"simple boundary\" ", &b, 1, &mp);
    pc_multipart_free(&mp);
    /* a quoted boundary may use escapes; RFC 2046 bchars include ' ( ) + _ , - . / : = ? */
    b.n = 0;
    add(&b,
        "--'()+_,-./:=?\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--'()+_,-./:=?--");
    expect_ok("multipart/form-data; boundary=\"'()+_,-./\\:=?\"", &b, 1, &mp);
    pc_multipart_free(&mp);
}

static void test_multipart_accepts_boundary_of_70_characters(void **state)
{
    char ct[160], bnd[71];
    struct body b = {.n = 0};
    struct pc_multipart mp;
    memset(bnd, 'z', 70);
    bnd[70] = '\0';
    snprintf(ct, sizeof ct, "multipart/form-data; boundary=%s", bnd);
    add(&b, "--");
    add(&b, bnd);
    add(&b, "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--");
    add(&b, bnd);
    add(&b, "--\r\n");
    expect_ok(ct, &b, 1, &mp);
    pc_multipart_free(&mp);
}

static void test_multipart_skips_preamble_and_epilogue(void **state)
{
    struct body b = {.n = 0};
    struct pc_multipart mp;
    add(&b, "This is the preamble.  It is to be ignored.\r\n"
            "--b\r\n"
            "Content-Disposition: form-data; name=\"a\"\r\n\r\nA\r\n"
            "--b\r\n"
            "Content-Disposition: form-data; name=\"b\"\r\n\r\nB\r\n"
            "--b--\r\n"
            "This is the epilogue. --b\r\n garbage \n\r\x01");
    expect_ok("multipart/form-data; boundary=b", &b, 2, &mp);
    expect_part(&mp.parts[0], "a", NULL, NULL, "A", 1);
    expect_part(&mp.parts[1], "b", NULL, NULL, "B", 1);
    pc_multipart_free(&mp);
    /* a preamble that itself starts with the boundary text as part of a longer line */
    b.n = 0;
    add(&b, "--bb\r\n--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nA\r\n--b--");
    expect_ok("multipart/form-data; boundary=b", &b, 1, &mp);
    expect_part(&mp.parts[0], "a", NULL, NULL, "A", 1);
    pc_multipart_free(&mp);
}

static void test_multipart_header_names_and_form_data_are_case_insensitive(void **state)
{
    struct body b = {.n = 0};
    struct pc_multipart mp;
    add(&b, "--b\r\n"
            "content-TYPE:text/plain; charset=utf-8  \r\n"
            "X-Other: ignored\r\n"
            "Content-Transfer-Encoding: 8bit\r\n"
            "CONTENT-DISPOSITION:   FORM-DATA ; NAME=\"a\" ; FileName=\"x.txt\"  ;\r\n"
            "\r\n"
            "data\r\n"
            "--b--\r\n");
    expect_ok("multipart/form-data; boundary=b", &b, 1, &mp);
    expect_part(&mp.parts[0], "a", "x.txt", "text/plain; charset=utf-8", "data", 4);
    pc_multipart_free(&mp);
}

static void test_multipart_accepts_transport_padding_after_delimiters(void **state)
{
    struct body b = {.n = 0};
    struct pc_multipart mp;
    add(&b, "--b \t \r\n"
            "Content-Disposition: form-data; name=\"a\"\r\n\r\nA\r\n"
            "--b\t\r\n"
            "Content-Disposition: form-data; name=\"c\"\r\n\r\nC\r\n"
            "--b--  \t");
    expect_ok("multipart/form-data; boundary=b", &b, 2, &mp);
    expect_part(&mp.parts[1], "c", NULL, NULL, "C", 1);
    pc_multipart_free(&mp);
}

static void test_multipart_allows_empty_part_data(void **state)
{
    struct body b = {.n = 0};
    struct pc_multipart mp;
    /* a browser's unselected file input, and the RFC 2046 form without the body's CRLF */
    add(&b, "--b\r\n"
            "Content-Disposition: form-data; name=\"file\"; filename=\"\"\r\n"
            "Content-Type: application/octet-stream\r\n"
            "\r\n"
            "\r\n"
            "--b\r\n"
            "Content-Disposition: form-data; name=\"e\"\r\n"
            "\r\n"
            "--b\r\n"
            "Content-Disposition: form-data; name=\"z\"\r\n\r\nZ\r\n"
            "--b--\r\n");
    expect_ok("multipart/form-data; boundary=b", &b, 3, &mp);
    expect_part(&mp.parts[0], "file", "", "application/octet-stream", "", 0);
    expect_part(&mp.parts[1], "e", NULL, NULL, "", 0);
    expect_part(&mp.parts[2], "z", NULL, NULL, "Z", 1);
    pc_multipart_free(&mp);
}

static void test_multipart_keeps_boundary_text_not_preceded_by_crlf_dashes(void **state)
{
    struct body b = {.n = 0};
    struct pc_multipart mp;
    static const char data[] = "x--b\r\n-b\r\n--bX\r\n--b-tail\rb--b--\r\n\n--b\n";
    add(&b, "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n");
    add(&b, data);
    add(&b, "\r\n--b--\r\n");
    /* "\r\n--b-" commits to a close delimiter: "\r\n--b-tail" is malformed */
    expect_einval("multipart/form-data; boundary=b", b.p, b.n, "--b-tail");
    /* without the "-tail" line, "\r\n--bX" stays data (the boundary is part of a longer line) */
    b.n = 0;
    add(&b, "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n");
    add(&b, "x--b\r\n-b\r\n--bX\r\n--bb--\rb--b--\n--b\n");
    add(&b, "\r\n--b--\r\n");
    expect_ok("multipart/form-data; boundary=b", &b, 1, &mp);
    expect_part(&mp.parts[0], "a", NULL, NULL, "x--b\r\n-b\r\n--bX\r\n--bb--\rb--b--\n--b\n",
                strlen("x--b\r\n-b\r\n--bX\r\n--bb--\rb--b--\n--b\n"));
    pc_multipart_free(&mp);
}

static void test_multipart_decodes_quoted_pair_escapes(void **state)
{
    struct body b = {.n = 0};
    struct pc_multipart mp;
    add(&b,
        "--b\r\n"
        "Content-Disposition: form-data; name=\"a\\\"q\\\\\"; filename=\"C:\\\\d\\\"x\\\".jpg\"\r\n"
        "\r\nA\r\n"
        "--b\r\n"
        "Content-Disposition: form-data; name=plain; filename=p.png\r\n\r\nP\r\n"
        "--b--\r\n");
    expect_ok("multipart/form-data; boundary=b", &b, 2, &mp);
    expect_part(&mp.parts[0], "a\"q\\", "C:\\d\"x\".jpg", NULL, "A", 1);
    expect_part(&mp.parts[1], "plain", "p.png", NULL, "P", 1);
    assert_ptr_equal(pc_multipart_get(&mp, "a\"q\\"), &mp.parts[0]);
    /* decoded strings live outside the body, unescaped ones inside */
    assert_true(mp.parts[0].name < b.p || mp.parts[0].name >= b.p + b.n);
    assert_true(mp.parts[1].name > b.p && mp.parts[1].name < b.p + b.n);
    pc_multipart_free(&mp);
}

static void test_multipart_ignores_rfc5987_filename_star(void **state)
{
    struct body b = {.n = 0};
    struct pc_multipart mp;
    add(&b, "--b\r\n"
            "Content-Disposition: form-data; name=\"f\"; filename*=UTF-8''%E7%85%A7.jpg\r\n"
            "\r\nF\r\n"
            "--b\r\n"
            "Content-Disposition: form-data; name=\"g\"; filename*=UTF-8''x.jpg; "
            "filename=\"x.jpg\"\r\n"
            "\r\nG\r\n"
            "--b--\r\n");
    expect_ok("multipart/form-data; boundary=b", &b, 2, &mp);
    expect_part(&mp.parts[0], "f", NULL, NULL, "F", 1);
    expect_part(&mp.parts[1], "g", "x.jpg", NULL, "G", 1);
    pc_multipart_free(&mp);
}

static void test_multipart_accepts_close_delimiter_only(void **state)
{
    struct body b = {.n = 0};
    struct pc_multipart mp;
    add(&b, "--b--\r\n");
    expect_ok("multipart/form-data; boundary=b", &b, 0, &mp);
    assert_null(mp.parts);
    assert_null(pc_multipart_get(&mp, "a"));
    pc_multipart_free(&mp);
    assert_null(pc_multipart_get(NULL, "a"));
    pc_multipart_free(NULL);
}

static void test_multipart_get_returns_first_part_of_a_name(void **state)
{
    struct body b = {.n = 0};
    struct pc_multipart mp;
    add(&b, "--b\r\nContent-Disposition: form-data; name=\"tag\"\r\n\r\none\r\n"
            "--b\r\nContent-Disposition: form-data; name=\"Tag\"\r\n\r\nTwo\r\n"
            "--b\r\nContent-Disposition: form-data; name=\"tag\"\r\n\r\nthree\r\n"
            "--b--");
    expect_ok("multipart/form-data; boundary=b", &b, 3, &mp);
    assert_ptr_equal(pc_multipart_get(&mp, "tag"), &mp.parts[0]);
    assert_ptr_equal(pc_multipart_get(&mp, "Tag"), &mp.parts[1]);
    assert_null(pc_multipart_get(&mp, "TAG"));
    assert_null(pc_multipart_get(&mp, NULL));
    pc_multipart_free(&mp);
}

static void test_multipart_rejects_bad_content_type(void **state)
{
    static const char body[] = "--b\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--b--";
    static const char *const bad[] = {
        "",
        "text/plain; boundary=b",
        "multipart/mixed; boundary=b",
        "multipart/form-data",
        "multipart/form-data;",
        "multipart/form-data; charset=utf-8",
        "multipart/form-datax; boundary=b",
        "multipart/form-data boundary=b",
        "multipart/form-data; boundary=",
        "multipart/form-data; boundary=\"\"",
        "multipart/form-data; boundary=b; boundary=b",
        "multipart/form-data; boundary=\"b",
        "multipart/form-data; boundary=\"b\\",
        "multipart/form-data; boundary=\"b \"",
        "multipart/form-data; boundary=b<c",
        "multipart/form-data; boundary=\"b\"c",
        "multipart/form-data; boundary=\"b\r\n\"",
        "multipart/form-data; =b",
        "multipart/form-data; boundary b",
        "multipart/form-data; "
        "boundary=zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_einval(bad[i], body, strlen(body), bad[i]);
    expect_einval(NULL, body, strlen(body), "NULL content type");
}

static void test_multipart_rejects_malformed_bodies(void **state)
{
#define CD "Content-Disposition: form-data; name=\"a\"\r\n"
    static const struct {
        const char *body, *why;
    } bad[] = {
        {"", "empty body"},
        {"hello, no delimiter at all", "no opening delimiter"},
        {"--c\r\n" CD "\r\nv\r\n--c--", "another boundary"},
        {"--b\r\n" CD "\r\nv", "no close delimiter (truncated)"},
        {"--b\r\n" CD "\r\nv\r\n--b\r\n" CD "\r\nw", "truncated second part"},
        {"--b\r\n" CD "\r\nv\r\n--b", "cut after the boundary"},
        {"--b\r\n" CD "\r\nv\r\n--b-", "cut inside the close delimiter"},
        {"--b\r\n" CD "\r\nv\r\n--b-x", "one dash after the boundary"},
        {"--b\r\n" CD "\r\nv\r\n--b--x", "garbage after the close delimiter"},
        {"--b\r\n" CD "\r\nv\r\n--b--\r", "CR without LF after the close delimiter"},
        {"--b x\r\n" CD "\r\nv\r\n--b--", "garbage in the transport padding"},
        {"--b\r\r\n" CD "\r\nv\r\n--b--", "CR in the delimiter line"},
        {"--b\r\nContent-Type: text/plain\r\n\r\nv\r\n--b--", "no Content-Disposition"},
        {"--b\r\n\r\nv\r\n--b--", "no headers at all"},
        {"--b\r\nContent-Disposition: form-data\r\n\r\nv\r\n--b--", "no name"},
        {"--b\r\nContent-Disposition: form-data; filename=\"x\"\r\n\r\nv\r\n--b--",
         "only filename"},
        {"--b\r\nContent-Disposition: form-data; name=\"\"\r\n\r\nv\r\n--b--", "empty name"},
        {"--b\r\nContent-Disposition: form-data; name=\r\n\r\nv\r\n--b--", "empty bare name"},
        {"--b\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nv\r\n--b--", "attachment"},
        {"--b\r\nContent-Disposition: form-datax; name=\"a\"\r\n\r\nv\r\n--b--", "form-datax"},
        {"--b\r\nContent-Disposition: form-data; name=\"a\r\n\r\nv\r\n--b--", "unterminated quote"},
        {"--b\r\nContent-Disposition: form-data; name=\"a\\\"\r\n\r\nv\r\n--b--", "escaped close"},
        {"--b\r\nContent-Disposition: form-data; name=\"a\"x\r\n\r\nv\r\n--b--",
         "text after quote"},
        {"--b\r\nContent-Disposition: form-data; name=a\\b\r\n\r\nv\r\n--b--", "bare backslash"},
        {"--b\r\nContent-Disposition: form-data; name=a\"b\r\n\r\nv\r\n--b--", "bare quote"},
        {"--b\r\nContent-Disposition: form-data; name=\"a\"; name=\"b\"\r\n\r\nv\r\n--b--",
         "two names"},
        {"--b\r\nContent-Disposition: form-data; name=a; filename=x; filename=y\r\n\r\nv\r\n--b--",
         "two filenames"},
        {"--b\r\n" CD CD "\r\nv\r\n--b--", "two Content-Disposition headers"},
        {"--b\r\n" CD "Content-Type: a\r\nContent-Type: b\r\n\r\nv\r\n--b--", "two Content-Types"},
        {"--b\r\n" CD "--b--", "headers without the blank line"},
        {"--b\r\n" CD, "headers cut before the blank line"},
        {"--b\r\n" CD "\r", "headers cut inside the blank line"},
        {"--b\r\nContent-Disposition form-data; name=a\r\n\r\nv\r\n--b--", "no colon"},
        {"--b\r\nContent-Disposition : form-data; name=a\r\n\r\nv\r\n--b--", "space before colon"},
        {"--b\r\n" CD "X-A: 1\r\n continued\r\n\r\nv\r\n--b--", "obsolete line folding"},
        {"--b\r\n" CD "X-A: 1\n\r\n\r\nv\r\n--b--", "bare LF in headers"},
        {"--b\r\n" CD "X-A: 1\r2\r\n\r\nv\r\n--b--", "bare CR in headers"},
        {"--b\r\n" CD "X-A: \x01\r\n\r\nv\r\n--b--", "control character in a header"},
        {"--b\nContent-Disposition: form-data; name=\"a\"\n\nv\n--b--\n", "LF-only line ends"},
        {"--b\r\n" CD "\r\nv\n--b--\n", "LF-only close delimiter"},
        {"--b\r\n--b--\r\n", "delimiter immediately followed by the close delimiter"},
    };
#undef CD
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_body_einval(bad[i].body, bad[i].why);
    /* a NUL inside a name (invisible to strlen) */
    static const char nul[] =
        "--b\r\nContent-Disposition: form-data; name=\"a\0b\"\r\n\r\nv\r\n--b--";
    expect_einval("multipart/form-data; boundary=b", nul, sizeof nul - 1, "NUL in a name");
}

/* A part whose header block (lines with their CRLFs) is exactly hdr bytes long. */
static void body_with_header_bytes(struct body *b, size_t hdr)
{
    static const char cd[] = "Content-Disposition: form-data; name=\"a\"\r\n";
    b->n = 0;
    add(b, "--b\r\n");
    add(b, cd);
    size_t pad = hdr - (sizeof cd - 1) - strlen("X-Pad: \r\n");
    add(b, "X-Pad: ");
    for (size_t i = 0; i < pad; i++)
        add(b, "p");
    add(b, "\r\n\r\nv\r\n--b--\r\n");
}

static void test_multipart_limits_part_headers_to_8_kib(void **state)
{
    struct body b;
    struct pc_multipart mp;
    body_with_header_bytes(&b, PC_MP_HEADERS_MAX);
    expect_ok("multipart/form-data; boundary=b", &b, 1, &mp);
    expect_part(&mp.parts[0], "a", NULL, NULL, "v", 1);
    pc_multipart_free(&mp);
    body_with_header_bytes(&b, PC_MP_HEADERS_MAX + 1);
    expect_einval("multipart/form-data; boundary=b", b.p, b.n, "8193 bytes of headers");
    /* a header block that never ends, longer than the limit */
    b.n = 0;
    add(&b, "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n");
    while (b.n < 3 * PC_MP_HEADERS_MAX)
        add(&b, "X-Pad: pppppppppppppppppppppppppppppppppppppppp\r\n");
    add(&b, "\r\nv\r\n--b--\r\n");
    expect_einval("multipart/form-data; boundary=b", b.p, b.n, "24 KiB of headers");
}

static void test_multipart_limits_name_and_filename_lengths(void **state)
{
    char name[PC_MP_NAME_MAX + 2], fn[PC_MP_FILENAME_MAX + 2], hdr[600];
    struct body b;
    struct pc_multipart mp;
    memset(name, 'n', sizeof name);
    memset(fn, 'f', sizeof fn);
    for (int over = 0; over <= 1; over++) {
        for (int which = 0; which <= 1; which++) {
            int nl = PC_MP_NAME_MAX + (which == 0 ? over : 0);
            int fl = PC_MP_FILENAME_MAX + (which == 1 ? over : 0);
            snprintf(hdr, sizeof hdr,
                     "Content-Disposition: form-data; name=\"%.*s\"; filename=\"%.*s\"\r\n", nl,
                     name, fl, fn);
            b.n = 0;
            add(&b, "--b\r\n");
            add(&b, hdr);
            add(&b, "\r\nv\r\n--b--");
            if (over) {
                expect_einval("multipart/form-data; boundary=b", b.p, b.n, "name too long");
                continue;
            }
            expect_ok("multipart/form-data; boundary=b", &b, 1, &mp);
            assert_int_equal(mp.parts[0].name_len, PC_MP_NAME_MAX);
            assert_int_equal(mp.parts[0].filename_len, PC_MP_FILENAME_MAX);
            pc_multipart_free(&mp);
        }
    }
    /* the limit is on the unescaped length: 128 escaped characters are 256 raw bytes */
    b.n = 0;
    add(&b, "--b\r\nContent-Disposition: form-data; name=\"");
    for (int i = 0; i < PC_MP_NAME_MAX; i++)
        add(&b, "\\n");
    add(&b, "\"\r\n\r\nv\r\n--b--");
    expect_ok("multipart/form-data; boundary=b", &b, 1, &mp);
    name[PC_MP_NAME_MAX] = '\0';
    expect_str(mp.parts[0].name, mp.parts[0].name_len, name, "name");
    pc_multipart_free(&mp);
}

static void test_multipart_too_many_parts_is_etoobig(void **state)
{
    struct body b = {.n = 0};
    struct pc_multipart mp = {(struct pc_mp_part *)1, 99};
    char err[128];
    for (int i = 0; i < 3; i++)
        add(&b, "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n");
    add(&b, "--b--\r\n");
    assert_int_equal(parse("multipart/form-data; boundary=b", &b, 2, &mp, err, sizeof err),
                     PC_ETOOBIG);
    assert_null(mp.parts);
    assert_int_equal(mp.nparts, 0);
    assert_non_null(strstr(err, "parts"));
    assert_int_equal(parse("multipart/form-data; boundary=b", &b, 0, &mp, err, sizeof err),
                     PC_ETOOBIG);
    assert_int_equal(parse("multipart/form-data; boundary=b", &b, 3, &mp, err, sizeof err), 0);
    assert_int_equal(mp.nparts, 3);
    pc_multipart_free(&mp);
    /* growth past the first allocation */
    b.n = 0;
    for (int i = 0; i < 40; i++)
        add(&b, "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n");
    add(&b, "--b--\r\n");
    assert_int_equal(parse("multipart/form-data; boundary=b", &b, 40, &mp, NULL, 0), 0);
    assert_int_equal(mp.nparts, 40);
    expect_part(&mp.parts[39], "a", NULL, NULL, "v", 1);
    pc_multipart_free(&mp);
    assert_int_equal(parse("multipart/form-data; boundary=b", &b, 39, &mp, NULL, 0), PC_ETOOBIG);
    /* an empty multipart fits max_parts 0 */
    b.n = 0;
    add(&b, "--b--");
    assert_int_equal(parse("multipart/form-data; boundary=b", &b, 0, &mp, NULL, 0), 0);
}

/* Every prefix of a valid body must be refused, without reading past it, except the full
 * body and the one that stops right after the close delimiter's "--" (RFC 2046: the CRLF
 * and epilogue after it are optional). */
static void check_all_prefixes(const char *ct, const struct body *b, size_t nparts)
{
    struct pc_multipart full, mp;
    char err[128];
    assert_int_equal(pc_multipart_parse(ct, b->p, b->n, 16, &full, err, sizeof err), 0);
    assert_int_equal(full.nparts, nparts);
    assert_true(b->n >= 2 && memcmp(b->p + b->n - 2, "\r\n", 2) == 0);
    for (size_t n = 0; n <= b->n; n++) {
        char *copy = malloc(n ? n : 1);
        memcpy(copy, b->p, n);
        int rc = pc_multipart_parse(ct, copy, n, 16, &mp, err, sizeof err);
        if (n == b->n || n == b->n - 2) {
            if (rc != 0)
                fail_msg("prefix %zu of %zu: rc %d (%s)", n, b->n, rc, err);
            assert_int_equal(mp.nparts, nparts);
            for (size_t i = 0; i < nparts; i++) {
                assert_int_equal(mp.parts[i].len, full.parts[i].len);
                assert_int_equal((size_t)(mp.parts[i].data - copy),
                                 (size_t)(full.parts[i].data - b->p));
            }
            pc_multipart_free(&mp);
        } else if (rc != PC_EINVAL) {
            fail_msg("prefix %zu of %zu: rc %d, want PC_EINVAL", n, b->n, rc);
        } else {
            assert_null(mp.parts);
        }
        free(copy);
    }
    pc_multipart_free(&full);
}

static void test_multipart_refuses_every_truncation_of_valid_bodies(void **state)
{
    struct body b;
    wx_body(&b);
    check_all_prefixes(WX_CT, &b, 2);
    b.n = 0;
    add(&b, "--b \r\n"
            "content-disposition: form-data; name=\"a\\\"b\"; filename=\"\"\r\n"
            "Content-Type: text/plain\r\n"
            "\r\n"
            "--b\r\n"
            "Content-Disposition: form-data; name=c\r\n\r\n\r\n"
            "--b--\r\n");
    check_all_prefixes("multipart/form-data; boundary=\"b\"", &b, 2);
}

static void test_multipart_works_without_err_buffer(void **state)
{
    struct pc_multipart mp;
    char err[4] = "abc";
    assert_int_equal(pc_multipart_parse("text/plain", "x", 1, 4, &mp, NULL, 0), PC_EINVAL);
    assert_int_equal(pc_multipart_parse("text/plain", "x", 1, 4, &mp, err, 0), PC_EINVAL);
    assert_string_equal(err, "abc");
    /* a short err buffer is truncated, NUL-terminated */
    assert_int_equal(pc_multipart_parse("text/plain", "x", 1, 4, &mp, err, sizeof err), PC_EINVAL);
    assert_int_equal(strlen(err), 3);
    assert_int_equal(
        pc_multipart_parse("multipart/form-data; boundary=b", NULL, 0, 4, &mp, err, sizeof err),
        PC_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_multipart_parses_wx_uploadfile_body),
        cmocka_unit_test(test_multipart_parses_browser_form_with_two_fields),
        cmocka_unit_test(test_multipart_accepts_quoted_boundary_and_case_insensitive_type),
        cmocka_unit_test(test_multipart_accepts_boundary_of_70_characters),
        cmocka_unit_test(test_multipart_skips_preamble_and_epilogue),
        cmocka_unit_test(test_multipart_header_names_and_form_data_are_case_insensitive),
        cmocka_unit_test(test_multipart_accepts_transport_padding_after_delimiters),
        cmocka_unit_test(test_multipart_allows_empty_part_data),
        cmocka_unit_test(test_multipart_keeps_boundary_text_not_preceded_by_crlf_dashes),
        cmocka_unit_test(test_multipart_decodes_quoted_pair_escapes),
        cmocka_unit_test(test_multipart_ignores_rfc5987_filename_star),
        cmocka_unit_test(test_multipart_accepts_close_delimiter_only),
        cmocka_unit_test(test_multipart_get_returns_first_part_of_a_name),
        cmocka_unit_test(test_multipart_rejects_bad_content_type),
        cmocka_unit_test(test_multipart_rejects_malformed_bodies),
        cmocka_unit_test(test_multipart_limits_part_headers_to_8_kib),
        cmocka_unit_test(test_multipart_limits_name_and_filename_lengths),
        cmocka_unit_test(test_multipart_too_many_parts_is_etoobig),
        cmocka_unit_test(test_multipart_refuses_every_truncation_of_valid_bodies),
        cmocka_unit_test(test_multipart_works_without_err_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
