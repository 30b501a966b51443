/* tests/unit/test_buf.c — base/buf.h: bounded growth, formatting, JSON escaping, take/reset. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/buf.h"
#include "base/err.h"

#include <stdlib.h>
#include <string.h>

static void test_buf_starts_empty_and_take_of_empty_gives_empty_string(void **state)
{
    struct pc_buf b;
    pc_buf_init(&b, 16);
    assert_null(b.p);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.max, 16);
    size_t len = 99;
    char *s = pc_buf_take(&b, &len);
    assert_non_null(s);
    assert_string_equal(s, "");
    assert_int_equal(len, 0);
    free(s);
    pc_buf_free(&b);
}

static void test_buf_add_appends_bytes_and_keeps_nul_terminator(void **state)
{
    struct pc_buf b;
    pc_buf_init(&b, 1024);
    assert_int_equal(pc_buf_add(&b, "abc", 3), 0);
    assert_int_equal(pc_buf_adds(&b, "def"), 0);
    assert_int_equal(pc_buf_add(&b, "ghiXXX", 3), 0);
    assert_int_equal(b.len, 9);
    assert_string_equal(b.p, "abcdefghi");
    assert_int_equal(b.p[b.len], '\0');
    assert_int_equal(pc_buf_add(&b, "", 0), 0);
    assert_int_equal(b.len, 9);
    pc_buf_free(&b);
    assert_null(b.p);
    assert_int_equal(b.len, 0);
}

static void test_buf_add_keeps_embedded_nul_bytes(void **state)
{
    struct pc_buf b;
    pc_buf_init(&b, 64);
    assert_int_equal(pc_buf_add(&b, "a\0b", 3), 0);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.p, "a\0b", 4);
    pc_buf_free(&b);
}

static void test_buf_grows_across_many_reallocations(void **state)
{
    struct pc_buf b;
    pc_buf_init(&b, 100000);
    for (int i = 0; i < 10000; i++)
        assert_int_equal(pc_buf_add(&b, "0123456789", 10), 0);
    assert_int_equal(b.len, 100000);
    assert_true(b.cap >= b.len + 1);
    for (size_t i = 0; i < b.len; i++)
        assert_int_equal(b.p[i], '0' + (int)(i % 10));
    assert_int_equal(b.p[b.len], '\0');
    pc_buf_free(&b);
}

static void test_buf_accepts_exactly_max_bytes(void **state)
{
    struct pc_buf b;
    pc_buf_init(&b, 8);
    assert_int_equal(pc_buf_add(&b, "12345678", 8), 0);
    assert_int_equal(b.len, 8);
    assert_string_equal(b.p, "12345678");
    pc_buf_free(&b);
}

static void test_buf_refuses_growth_past_max(void **state)
{
    struct pc_buf b;
    pc_buf_init(&b, 8);
    assert_int_equal(pc_buf_add(&b, "123456789", 9), PC_ETOOBIG);
    assert_int_equal(b.len, 0);
    assert_int_equal(pc_buf_adds(&b, "12345"), 0);
    assert_int_equal(pc_buf_adds(&b, "6789"), PC_ETOOBIG);
    assert_int_equal(b.len, 5);
    assert_string_equal(b.p, "12345");
    assert_int_equal(pc_buf_adds(&b, "678"), 0);
    assert_string_equal(b.p, "12345678");
    assert_int_equal(pc_buf_add(&b, "x", 1), PC_ETOOBIG);
    assert_string_equal(b.p, "12345678");
    assert_int_equal(b.len, 8);
    pc_buf_free(&b);
}

static void test_buf_refuses_size_overflow_without_change(void **state)
{
    struct pc_buf b;
    pc_buf_init(&b, 32);
    assert_int_equal(pc_buf_adds(&b, "abc"), 0);
    assert_int_equal(pc_buf_add(&b, "x", SIZE_MAX), PC_ETOOBIG);
    assert_int_equal(pc_buf_add(&b, "x", SIZE_MAX - 1), PC_ETOOBIG);
    assert_string_equal(b.p, "abc");
    assert_int_equal(b.len, 3);
    pc_buf_free(&b);
}

static void test_buf_max_zero_accepts_only_empty_adds(void **state)
{
    struct pc_buf b;
    pc_buf_init(&b, 0);
    assert_int_equal(pc_buf_add(&b, "a", 1), PC_ETOOBIG);
    assert_int_equal(pc_buf_add(&b, "", 0), 0);
    assert_int_equal(b.len, 0);
    pc_buf_free(&b);
}

static void test_buf_addf_formats_and_appends(void **state)
{
    struct pc_buf b;
    pc_buf_init(&b, 256);
    assert_int_equal(pc_buf_adds(&b, "x="), 0);
    assert_int_equal(pc_buf_addf(&b, "%d,%s,%05.1f,%llu", -42, "str", 3.5, 18446744073709551615ull),
                     0);
    assert_string_equal(b.p, "x=-42,str,003.5,18446744073709551615");
    assert_int_equal(b.len, strlen(b.p));
    assert_int_equal(pc_buf_addf(&b, "%s", ""), 0);
    assert_int_equal(b.len, strlen("x=-42,str,003.5,18446744073709551615"));
    pc_buf_free(&b);
}

static void test_buf_addf_refuses_growth_past_max_leaving_content(void **state)
{
    struct pc_buf b;
    pc_buf_init(&b, 10);
    assert_int_equal(pc_buf_addf(&b, "%s", "hello"), 0);
    assert_int_equal(pc_buf_addf(&b, "%d", 123456), PC_ETOOBIG);
    assert_int_equal(b.len, 5);
    assert_string_equal(b.p, "hello");
    assert_int_equal(pc_buf_addf(&b, "%05d", 42), 0);
    assert_string_equal(b.p, "hello00042");
    assert_int_equal(pc_buf_addf(&b, "%c", 'x'), PC_ETOOBIG);
    assert_string_equal(b.p, "hello00042");
    pc_buf_free(&b);
}

static void test_buf_addf_large_output_is_complete(void **state)
{
    struct pc_buf b;
    pc_buf_init(&b, 10000);
    assert_int_equal(pc_buf_addf(&b, "%2000s|", "end"), 0);
    assert_int_equal(b.len, 2001);
    assert_int_equal(b.p[0], ' ');
    assert_string_equal(b.p + 1997, "end|");
    pc_buf_free(&b);
}

/* Escapes s (NUL-terminated) into a fresh buffer and compares with want. */
static void check_json(const char *s, size_t n, const char *want)
{
    struct pc_buf b;
    pc_buf_init(&b, 4096);
    assert_int_equal(pc_buf_add_json_str(&b, s, n), 0);
    assert_non_null(b.p);
    assert_string_equal(b.p, want);
    assert_int_equal(b.len, strlen(want));
    pc_buf_free(&b);
}

static void test_buf_json_plain_text_unchanged(void **state)
{
    check_json("hello world / ok", 16, "hello world / ok");
}

static void test_buf_json_escapes_quote_and_backslash(void **state)
{
    check_json("say \"hi\" \\o/", 12, "say \\\"hi\\\" \\\\o/");
}

static void test_buf_json_escapes_newline_cr_tab(void **state)
{
    check_json("a\nb\rc\td", 7, "a\\nb\\rc\\td");
}

static void test_buf_json_escapes_control_chars_as_u00xx(void **state)
{
    check_json("\x01", 1, "\\u0001");
    check_json("x\x1fy", 3, "x\\u001fy");
    check_json("\x08\x0c", 2, "\\u0008\\u000c");
    check_json("\x7f", 1, "\\u007f");
    check_json("\x1b[0m", 4, "\\u001b[0m");
}

static void test_buf_json_escapes_embedded_nul(void **state)
{
    check_json("a\0b", 3, "a\\u0000b");
}

static void test_buf_json_passes_utf8_through(void **state)
{
    /* "毕业照 ✓ é" in UTF-8 plus a 4-byte emoji. */
    const char *s = "\xe6\xaf\x95\xe4\xb8\x9a\xe7\x85\xa7 \xe2\x9c\x93 \xc3\xa9 \xf0\x9f\x8e\x93";
    check_json(s, strlen(s), s);
}

static void test_buf_json_respects_n_not_nul(void **state)
{
    check_json("abc\"def", 4, "abc\\\"");
}

static void test_buf_json_empty_input_adds_nothing(void **state)
{
    struct pc_buf b;
    pc_buf_init(&b, 16);
    assert_int_equal(pc_buf_adds(&b, "x"), 0);
    assert_int_equal(pc_buf_add_json_str(&b, "", 0), 0);
    assert_string_equal(b.p, "x");
    pc_buf_free(&b);
}

static void test_buf_json_appends_to_existing_content(void **state)
{
    struct pc_buf b;
    pc_buf_init(&b, 64);
    assert_int_equal(pc_buf_adds(&b, "{\"k\":\""), 0);
    assert_int_equal(pc_buf_add_json_str(&b, "v\"1", 3), 0);
    assert_int_equal(pc_buf_adds(&b, "\"}"), 0);
    assert_string_equal(b.p, "{\"k\":\"v\\\"1\"}");
    pc_buf_free(&b);
}

static void test_buf_json_refuses_when_escaped_form_exceeds_max(void **state)
{
    struct pc_buf b;
    pc_buf_init(&b, 5);
    /* 4 raw bytes fit but "\\u0001" needs 6. */
    int rc = pc_buf_add_json_str(&b, "\x01", 1);
    assert_int_equal(rc, PC_ETOOBIG);
    assert_true(b.len <= 5);
    pc_buf_free(&b);
}

static void test_buf_csv_cell_quotes_doubles_quotes_and_ends_lines(void **state)
{
    (void)state;
    struct pc_buf b;
    pc_buf_init(&b, 64);
    assert_int_equal(pc_buf_add_csv_cell(&b, "a\"b", 0), 0);
    assert_int_equal(pc_buf_add_csv_cell(&b, NULL, 0), 0);
    assert_int_equal(pc_buf_add_csv_cell(&b, "x,y", 1), 0);
    assert_string_equal(b.p, "\"a\"\"b\",\"\",\"x,y\"\r\n");
    pc_buf_free(&b);
}

/* A cell that does not fit whole is refused and leaves the buffer as it was: a CSV is never
 * cut in the middle of a cell (the exports then refuse the whole file). */
static void test_buf_csv_cells_excel_would_run_as_formulas_are_kept_as_text(void **state)
{
    (void)state;
    struct pc_buf b;
    pc_buf_init(&b, 1024);
    const char *cells[] = {"=HYPERLINK(\"http://x\",\"y\")",
                           "+1+1",
                           "-2+3",
                           "@SUM(A1)",
                           "\tcmd",
                           "\rx",
                           "-0.01",
                           "+12",
                           "2500",
                           "张三",
                           "a=b"};
    for (size_t i = 0; i < sizeof cells / sizeof cells[0]; i++)
        assert_int_equal(pc_buf_add_csv_cell(&b, cells[i], i + 1 == sizeof cells / sizeof cells[0]),
                         0);
    pc_buf_add(&b, "", 1);
    assert_string_equal(b.p, "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",\"'+1+1\",\"'-2+3\","
                             "\"'@SUM(A1)\",\"'\tcmd\",\"'\rx\",\"-0.01\",\"+12\",\"2500\","
                             "\"张三\",\"a=b\"\r\n");
    assert_true(pc_csv_cell_is_formula("-"));
    assert_false(pc_csv_cell_is_formula("-5"));
    assert_false(pc_csv_cell_is_formula(""));
    /* The apostrophe counts against the limit: the cell fits whole or not at all. */
    pc_buf_free(&b);
    pc_buf_init(&b, 6);
    assert_int_equal(pc_buf_add_csv_cell(&b, "=1", 1), PC_ETOOBIG); /* needs 7 */
    assert_int_equal(b.len, 0);
    pc_buf_free(&b);
}

static void test_buf_csv_cell_reports_truncation_and_appends_nothing(void **state)
{
    (void)state;
    struct pc_buf b;
    pc_buf_init(&b, 12);
    assert_int_equal(pc_buf_add_csv_cell(&b, "abc", 0), 0);           /* "abc", = 6 bytes */
    assert_int_equal(pc_buf_add_csv_cell(&b, "de\"", 1), PC_ETOOBIG); /* needs 8 */
    assert_int_equal(b.len, 6);
    assert_string_equal(b.p, "\"abc\",");
    assert_int_equal(pc_buf_add_csv_cell(&b, "de", 1), 0); /* exactly 6 more: fits */
    assert_int_equal(b.len, 12);
    assert_int_equal(pc_buf_add_csv_cell(&b, "", 1), PC_ETOOBIG);
    assert_int_equal(b.len, 12);
    pc_buf_free(&b);
}

static void test_buf_take_hands_over_content_and_empties(void **state)
{
    struct pc_buf b;
    pc_buf_init(&b, 64);
    assert_int_equal(pc_buf_adds(&b, "payload"), 0);
    size_t len = 0;
    char *s = pc_buf_take(&b, &len);
    assert_string_equal(s, "payload");
    assert_int_equal(len, 7);
    assert_null(b.p);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    /* The buffer is reusable with the same maximum. */
    assert_int_equal(b.max, 64);
    assert_int_equal(pc_buf_adds(&b, "again"), 0);
    assert_string_equal(b.p, "again");
    char *t = pc_buf_take(&b, NULL);
    assert_string_equal(t, "again");
    assert_ptr_not_equal(s, t);
    free(s);
    free(t);
    pc_buf_free(&b);
}

static void test_buf_reset_empties_but_keeps_allocation(void **state)
{
    struct pc_buf b;
    pc_buf_init(&b, 64);
    assert_int_equal(pc_buf_adds(&b, "some text"), 0);
    char *p = b.p;
    size_t cap = b.cap;
    pc_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_ptr_equal(b.p, p);
    assert_int_equal(b.cap, cap);
    assert_string_equal(b.p, "");
    assert_int_equal(pc_buf_adds(&b, "new"), 0);
    assert_string_equal(b.p, "new");
    pc_buf_free(&b);
}

static void test_buf_reset_allows_refilling_to_max(void **state)
{
    struct pc_buf b;
    pc_buf_init(&b, 4);
    assert_int_equal(pc_buf_adds(&b, "abcd"), 0);
    assert_int_equal(pc_buf_adds(&b, "e"), PC_ETOOBIG);
    pc_buf_reset(&b);
    assert_int_equal(pc_buf_adds(&b, "wxyz"), 0);
    assert_string_equal(b.p, "wxyz");
    pc_buf_free(&b);
}

static void test_buf_reset_and_free_of_unused_buffer_are_safe(void **state)
{
    struct pc_buf b;
    pc_buf_init(&b, 4);
    pc_buf_reset(&b);
    assert_null(b.p);
    pc_buf_free(&b);
    pc_buf_free(&b);
    pc_buf_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_starts_empty_and_take_of_empty_gives_empty_string),
        cmocka_unit_test(test_buf_add_appends_bytes_and_keeps_nul_terminator),
        cmocka_unit_test(test_buf_add_keeps_embedded_nul_bytes),
        cmocka_unit_test(test_buf_grows_across_many_reallocations),
        cmocka_unit_test(test_buf_accepts_exactly_max_bytes),
        cmocka_unit_test(test_buf_refuses_growth_past_max),
        cmocka_unit_test(test_buf_refuses_size_overflow_without_change),
        cmocka_unit_test(test_buf_max_zero_accepts_only_empty_adds),
        cmocka_unit_test(test_buf_addf_formats_and_appends),
        cmocka_unit_test(test_buf_addf_refuses_growth_past_max_leaving_content),
        cmocka_unit_test(test_buf_addf_large_output_is_complete),
        cmocka_unit_test(test_buf_json_plain_text_unchanged),
        cmocka_unit_test(test_buf_json_escapes_quote_and_backslash),
        cmocka_unit_test(test_buf_json_escapes_newline_cr_tab),
        cmocka_unit_test(test_buf_json_escapes_control_chars_as_u00xx),
        cmocka_unit_test(test_buf_json_escapes_embedded_nul),
        cmocka_unit_test(test_buf_json_passes_utf8_through),
        cmocka_unit_test(test_buf_json_respects_n_not_nul),
        cmocka_unit_test(test_buf_json_empty_input_adds_nothing),
        cmocka_unit_test(test_buf_json_appends_to_existing_content),
        cmocka_unit_test(test_buf_json_refuses_when_escaped_form_exceeds_max),
        cmocka_unit_test(test_buf_csv_cell_quotes_doubles_quotes_and_ends_lines),
        cmocka_unit_test(test_buf_csv_cells_excel_would_run_as_formulas_are_kept_as_text),
        cmocka_unit_test(test_buf_csv_cell_reports_truncation_and_appends_nothing),
        cmocka_unit_test(test_buf_take_hands_over_content_and_empties),
        cmocka_unit_test(test_buf_reset_empties_but_keeps_allocation),
        cmocka_unit_test(test_buf_reset_allows_refilling_to_max),
        cmocka_unit_test(test_buf_reset_and_free_of_unused_buffer_are_safe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
