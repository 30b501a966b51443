/* tests/unit/test_timeutil.c — base/timeutil.h: RFC 3339 and DB DATETIME conversions. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/err.h"
#include "base/timeutil.h"

#include <string.h>

/* 2024-01-18T15:59:59Z, the last second of the notice's window in Shanghai time. */
#define WINDOW_END 1705593599

static void test_time_rfc3339_formats_shanghai_offset(void **state)
{
    char out[32];
    assert_int_equal(pc_time_rfc3339(WINDOW_END, out, sizeof out, PC_TZ_SHANGHAI_MIN), 0);
    assert_string_equal(out, "2024-01-18T23:59:59+08:00");
}

static void test_time_rfc3339_formats_utc_as_z(void **state)
{
    char out[32];
    assert_int_equal(pc_time_rfc3339(WINDOW_END, out, sizeof out, 0), 0);
    assert_string_equal(out, "2024-01-18T15:59:59Z");
    assert_int_equal(pc_time_rfc3339(0, out, sizeof out, 0), 0);
    assert_string_equal(out, "1970-01-01T00:00:00Z");
}

static void test_time_rfc3339_offset_moves_across_midnight(void **state)
{
    char out[32];
    assert_int_equal(pc_time_rfc3339(WINDOW_END + 1, out, sizeof out, PC_TZ_SHANGHAI_MIN), 0);
    assert_string_equal(out, "2024-01-19T00:00:00+08:00");
    assert_int_equal(pc_time_rfc3339(WINDOW_END + 1, out, sizeof out, 0), 0);
    assert_string_equal(out, "2024-01-18T16:00:00Z");
}

static void test_time_rfc3339_formats_negative_and_half_hour_offsets(void **state)
{
    char out[32];
    assert_int_equal(pc_time_rfc3339(WINDOW_END, out, sizeof out, -300), 0);
    assert_string_equal(out, "2024-01-18T10:59:59-05:00");
    assert_int_equal(pc_time_rfc3339(WINDOW_END, out, sizeof out, 330), 0);
    assert_string_equal(out, "2024-01-18T21:29:59+05:30");
}

static void test_time_rfc3339_refuses_too_small_buffer(void **state)
{
    char out[26];
    assert_int_equal(pc_time_rfc3339(WINDOW_END, out, 25, PC_TZ_SHANGHAI_MIN), PC_EINVAL);
    assert_int_equal(pc_time_rfc3339(WINDOW_END, out, 26, PC_TZ_SHANGHAI_MIN), 0);
    assert_string_equal(out, "2024-01-18T23:59:59+08:00");
}

static void test_time_rfc3339_ms_formats_milliseconds(void **state)
{
    char out[32];
    assert_int_equal(pc_time_rfc3339_ms((int64_t)WINDOW_END * 1000 + 123, out, sizeof out, 0), 0);
    assert_string_equal(out, "2024-01-18T15:59:59.123Z");
    assert_int_equal(
        pc_time_rfc3339_ms((int64_t)WINDOW_END * 1000 + 7, out, 30, PC_TZ_SHANGHAI_MIN), 0);
    assert_string_equal(out, "2024-01-18T23:59:59.007+08:00");
    assert_int_equal(
        pc_time_rfc3339_ms((int64_t)WINDOW_END * 1000 + 7, out, 29, PC_TZ_SHANGHAI_MIN), PC_EINVAL);
}

static void test_time_rfc3339_ms_handles_negative_times(void **state)
{
    char out[32];
    assert_int_equal(pc_time_rfc3339_ms(-1, out, sizeof out, 0), 0);
    assert_string_equal(out, "1969-12-31T23:59:59.999Z");
    assert_int_equal(pc_time_rfc3339_ms(-1000, out, sizeof out, 0), 0);
    assert_string_equal(out, "1969-12-31T23:59:59.000Z");
}

static void expect_parse(const char *s, int64_t want)
{
    int64_t t = -12345;
    int rc = pc_time_parse_rfc3339(s, &t);
    if (rc != 0)
        fail_msg("'%s' was refused (%d)", s, rc);
    if (t != want)
        fail_msg("'%s' parsed as %lld, want %lld", s, (long long)t, (long long)want);
}

static void expect_refused(const char *s)
{
    int64_t t = 0;
    int rc = pc_time_parse_rfc3339(s, &t);
    if (rc != PC_EINVAL)
        fail_msg("'%s' was accepted as %lld (rc %d)", s ? s : "(null)", (long long)t, rc);
}

static void test_time_parse_notice_window_boundary(void **state)
{
    expect_parse("2024-01-18T23:59:59+08:00", 1705593599);
    expect_parse("2024-01-19T00:00:00+08:00", 1705593600);
}

static void test_time_parse_z_and_offsets_agree(void **state)
{
    expect_parse("2024-01-18T15:59:59Z", WINDOW_END);
    expect_parse("2024-01-18T10:59:59-05:00", WINDOW_END);
    expect_parse("2024-01-18T21:29:59+05:30", WINDOW_END);
    expect_parse("2024-01-18T15:59:59+00:00", WINDOW_END);
    expect_parse("2024-01-18T15:59:59-00:00", WINDOW_END);
    expect_parse("1970-01-01T00:00:00Z", 0);
    expect_parse("1970-01-01T08:00:00+08:00", 0);
}

static void test_time_parse_accepts_lowercase_t_and_z(void **state)
{
    expect_parse("2024-01-18t15:59:59z", WINDOW_END);
    expect_parse("2024-01-18t23:59:59+08:00", WINDOW_END);
}

static void test_time_parse_ignores_fraction(void **state)
{
    expect_parse("2024-01-18T23:59:59.999+08:00", WINDOW_END);
    expect_parse("2024-01-18T15:59:59.0Z", WINDOW_END);
    expect_parse("2024-01-18T15:59:59.123456789Z", WINDOW_END);
}

static void test_time_parse_accepts_valid_leap_days(void **state)
{
    expect_parse("2024-02-29T00:00:00Z", 1709164800);
    expect_parse("2000-02-29T12:00:00Z", 951825600);
}

static void test_time_parse_accepts_leap_second_as_59(void **state)
{
    expect_parse("2016-12-31T23:59:60Z", 1483228799);
}

static void test_time_parse_refuses_missing_offset(void **state)
{
    expect_refused("2024-01-18T23:59:59");
    expect_refused("2024-01-18T23:59:59.5");
}

static void test_time_parse_refuses_impossible_dates(void **state)
{
    expect_refused("2023-02-29T00:00:00Z");
    expect_refused("1900-02-29T00:00:00Z");
    expect_refused("2024-04-31T00:00:00Z");
    expect_refused("2024-13-01T00:00:00Z");
    expect_refused("2024-00-10T00:00:00Z");
    expect_refused("2024-01-00T00:00:00Z");
    expect_refused("2024-01-32T00:00:00Z");
}

static void test_time_parse_refuses_impossible_times(void **state)
{
    expect_refused("2024-01-18T24:00:00+08:00");
    expect_refused("2024-01-18T23:60:00Z");
    expect_refused("2024-01-18T23:59:61Z");
}

static void test_time_parse_refuses_garbage(void **state)
{
    expect_refused(NULL);
    expect_refused("");
    expect_refused("garbage");
    expect_refused("2024-01-18");
    expect_refused("2024-1-18T23:59:59Z");
    expect_refused("2024-01-18T23:59Z");
    expect_refused("2024/01/18T23:59:59Z");
    expect_refused("2024-01-18X23:59:59Z");
    expect_refused("2024-01-18T23:59:59.Z");
    expect_refused("2024-01-18T23:59:59+0800");
    expect_refused("2024-01-18T23:59:59+8:00");
    expect_refused("2024-01-18T23:59:59+24:00");
    expect_refused("2024-01-18T23:59:59+08:60");
    expect_refused("1705593599");
}

static void test_time_parse_refuses_trailing_text(void **state)
{
    expect_refused("2024-01-18T23:59:59+08:00 ");
    expect_refused("2024-01-18T23:59:59+08:00x");
    expect_refused("2024-01-18T23:59:59ZZ");
    expect_refused("2024-01-18T23:59:59Z\n");
    expect_refused(" 2024-01-18T23:59:59Z");
}

static void test_time_rfc3339_round_trips_through_parse(void **state)
{
    static const int offsets[] = {0, PC_TZ_SHANGHAI_MIN, -300, 330, -720, 840};
    for (int64_t t = 0; t < 4102444800; t += 86399 * 37 + 11) {
        for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
            char out[32];
            assert_int_equal(pc_time_rfc3339(t, out, sizeof out, offsets[i]), 0);
            expect_parse(out, t);
        }
    }
}

static void test_time_parse_db_reads_utc_datetime(void **state)
{
    int64_t t = 0;
    assert_int_equal(pc_time_parse_db("2024-01-18 15:59:59", &t), 0);
    assert_int_equal(t, WINDOW_END);
    assert_int_equal(pc_time_parse_db("2024-01-18 15:59:59.000", &t), 0);
    assert_int_equal(t, WINDOW_END);
    assert_int_equal(pc_time_parse_db("2024-01-18 15:59:59.999", &t), 0);
    assert_int_equal(t, WINDOW_END);
    assert_int_equal(pc_time_parse_db("1970-01-01 00:00:00", &t), 0);
    assert_int_equal(t, 0);
}

static void test_time_parse_db_refuses_other_shapes(void **state)
{
    int64_t t = 0;
    assert_int_equal(pc_time_parse_db(NULL, &t), PC_EINVAL);
    assert_int_equal(pc_time_parse_db("", &t), PC_EINVAL);
    assert_int_equal(pc_time_parse_db("2024-01-18T15:59:59", &t), PC_EINVAL);
    assert_int_equal(pc_time_parse_db("2024-01-18 15:59:59Z", &t), PC_EINVAL);
    assert_int_equal(pc_time_parse_db("2024-01-18 15:59:59+08:00", &t), PC_EINVAL);
    assert_int_equal(pc_time_parse_db("2023-02-29 00:00:00", &t), PC_EINVAL);
    assert_int_equal(pc_time_parse_db("2024-01-18 24:00:00", &t), PC_EINVAL);
    assert_int_equal(pc_time_parse_db("2024-01-18", &t), PC_EINVAL);
}

static void test_time_format_db_writes_utc_datetime(void **state)
{
    char out[20];
    assert_int_equal(pc_time_format_db(WINDOW_END, out, sizeof out), 0);
    assert_string_equal(out, "2024-01-18 15:59:59");
    assert_int_equal(pc_time_format_db(0, out, sizeof out), 0);
    assert_string_equal(out, "1970-01-01 00:00:00");
    assert_int_equal(pc_time_format_db(WINDOW_END, out, 19), PC_EINVAL);
}

static void test_time_format_db_round_trips_through_parse_db(void **state)
{
    for (int64_t t = 0; t < 4102444800; t += 86399 * 41 + 7) {
        char out[20];
        int64_t back = -1;
        assert_int_equal(pc_time_format_db(t, out, sizeof out), 0);
        assert_int_equal(pc_time_parse_db(out, &back), 0);
        assert_int_equal(back, t);
    }
}

static void test_time_db_to_api_converts_to_shanghai(void **state)
{
    char out[26];
    assert_int_equal(pc_time_db_to_api("2024-01-18 15:59:59.000", out, sizeof out), 0);
    assert_string_equal(out, "2024-01-18T23:59:59+08:00");
    assert_int_equal(pc_time_db_to_api("2024-01-18 16:00:00", out, sizeof out), 0);
    assert_string_equal(out, "2024-01-19T00:00:00+08:00");
}

static void test_time_db_to_api_null_gives_empty_string(void **state)
{
    char out[26];
    memset(out, 'x', sizeof out);
    assert_int_equal(pc_time_db_to_api(NULL, out, sizeof out), 0);
    assert_string_equal(out, "");
}

static void test_time_db_to_api_refuses_bad_text_and_small_buffer(void **state)
{
    char out[32];
    assert_int_equal(pc_time_db_to_api("yesterday", out, sizeof out), PC_EINVAL);
    assert_int_equal(pc_time_db_to_api("2024-01-18T15:59:59Z", out, sizeof out), PC_EINVAL);
    assert_int_equal(pc_time_db_to_api("2024-01-18 15:59:59", out, 25), PC_EINVAL);
}

static void test_time_clocks_are_sane(void **state)
{
    int64_t now = pc_time_now_ms();
    assert_true(now > (int64_t)1700000000 * 1000); /* after 2023-11 */
    assert_true(now < (int64_t)4102444800 * 1000); /* before 2100 */
    uint64_t a = pc_time_mono_ns();
    uint64_t b = pc_time_mono_ns();
    assert_true(b >= a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_rfc3339_formats_shanghai_offset),
        cmocka_unit_test(test_time_rfc3339_formats_utc_as_z),
        cmocka_unit_test(test_time_rfc3339_offset_moves_across_midnight),
        cmocka_unit_test(test_time_rfc3339_formats_negative_and_half_hour_offsets),
        cmocka_unit_test(test_time_rfc3339_refuses_too_small_buffer),
        cmocka_unit_test(test_time_rfc3339_ms_formats_milliseconds),
        cmocka_unit_test(test_time_rfc3339_ms_handles_negative_times),
        cmocka_unit_test(test_time_parse_notice_window_boundary),
        cmocka_unit_test(test_time_parse_z_and_offsets_agree),
        cmocka_unit_test(test_time_parse_accepts_lowercase_t_and_z),
        cmocka_unit_test(test_time_parse_ignores_fraction),
        cmocka_unit_test(test_time_parse_accepts_valid_leap_days),
        cmocka_unit_test(test_time_parse_accepts_leap_second_as_59),
        cmocka_unit_test(test_time_parse_refuses_missing_offset),
        cmocka_unit_test(test_time_parse_refuses_impossible_dates),
        cmocka_unit_test(test_time_parse_refuses_impossible_times),
        cmocka_unit_test(test_time_parse_refuses_garbage),
        cmocka_unit_test(test_time_parse_refuses_trailing_text),
        cmocka_unit_test(test_time_rfc3339_round_trips_through_parse),
        cmocka_unit_test(test_time_parse_db_reads_utc_datetime),
        cmocka_unit_test(test_time_parse_db_refuses_other_shapes),
        cmocka_unit_test(test_time_format_db_writes_utc_datetime),
        cmocka_unit_test(test_time_format_db_round_trips_through_parse_db),
        cmocka_unit_test(test_time_db_to_api_converts_to_shanghai),
        cmocka_unit_test(test_time_db_to_api_null_gives_empty_string),
        cmocka_unit_test(test_time_db_to_api_refuses_bad_text_and_small_buffer),
        cmocka_unit_test(test_time_clocks_are_sane),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
