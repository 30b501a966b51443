/* tests/unit/test_req.c — server/req.c: validation of client-supplied X-Request-Id values. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "server/req_internal.h"

#include <string.h>

static void expect_valid(const char *s)
{
    if (!pc__req_id_valid(s))
        fail_msg("'%s' was refused", s);
}

static void expect_invalid(const char *s)
{
    if (pc__req_id_valid(s))
        fail_msg("'%s' was accepted", s);
}

static void test_req_id_accepts_allowed_alphabet(void **state)
{
    expect_valid("a");
    expect_valid("Z");
    expect_valid("0");
    expect_valid("abcXYZ019");
    expect_valid("req-2024.01.18_23:59:59");
    expect_valid("550e8400-e29b-41d4-a716-446655440000");
    expect_valid("._:-");
    expect_valid("-");
}

static void test_req_id_accepts_exactly_64_chars(void **state)
{
    char s[65];
    memset(s, 'a', 64);
    s[64] = '\0';
    expect_valid(s);
    s[63] = '-';
    expect_valid(s);
}

static void test_req_id_refuses_empty(void **state)
{
    expect_invalid("");
}

static void test_req_id_refuses_65_chars(void **state)
{
    char s[66];
    memset(s, 'a', 65);
    s[65] = '\0';
    expect_invalid(s);
    char big[300];
    memset(big, '7', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    expect_invalid(big);
}

static void test_req_id_refuses_spaces_quotes_and_newlines(void **state)
{
    expect_invalid(" ");
    expect_invalid("abc def");
    expect_invalid("abc ");
    expect_invalid(" abc");
    expect_invalid("a\"b");
    expect_invalid("\"abc\"");
    expect_invalid("a'b");
    expect_invalid("abc\n");
    expect_invalid("abc\r\nX-Injected: 1");
    expect_invalid("a\tb");
}

static void test_req_id_refuses_other_punctuation_and_non_ascii(void **state)
{
    static const char *bad[] = {
        "a/b",   "a\\b", "a;b", "a,b", "a=b", "a+b", "a%20b", "a<b>",
        "a{b}",  "a@b",  "a#b", "a?b", "a&b", "a*b", "\x7f",  "\xe8\xaf\xb7\xe6\xb1\x82",
        "id\x01"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_invalid(bad[i]);
}

static void test_req_id_refuses_bad_char_at_position_64(void **state)
{
    /* 64 valid characters followed by a 65th must be refused whatever the 65th is. */
    char s[66];
    memset(s, 'b', 64);
    s[64] = ' ';
    s[65] = '\0';
    expect_invalid(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_req_id_accepts_allowed_alphabet),
        cmocka_unit_test(test_req_id_accepts_exactly_64_chars),
        cmocka_unit_test(test_req_id_refuses_empty),
        cmocka_unit_test(test_req_id_refuses_65_chars),
        cmocka_unit_test(test_req_id_refuses_spaces_quotes_and_newlines),
        cmocka_unit_test(test_req_id_refuses_other_punctuation_and_non_ascii),
        cmocka_unit_test(test_req_id_refuses_bad_char_at_position_64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
