/* test_finance.c — finance's days are Beijing days (UTC range starts 16:00 the day before),
 * ranges are bounded, and yuan are formatted from integer fen. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/err.h"
#include "finance/finance.h"

static void test_a_beijing_day_is_the_utc_range_from_16_00_the_day_before(void **state)
{
    (void)state;
    char a[32], b[32];
    assert_int_equal(pc_finance_days("2024-01-19", NULL, a, b), 0);
    assert_string_equal(a, "2024-01-18 16:00:00");
    assert_string_equal(b, "2024-01-19 16:00:00");
    assert_int_equal(pc_finance_days("2024-02-28", "2024-03-01", a, b), 0); /* leap year */
    assert_string_equal(a, "2024-02-27 16:00:00");
    assert_string_equal(b, "2024-03-01 16:00:00");
}

static void test_bad_dates_and_ranges_are_refused(void **state)
{
    (void)state;
    char a[32], b[32];
    const char *bad[] = {"2024-02-30", "2024-1-19", "20240119", "2024-01-19T00:00:00", "", "x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(pc_finance_days(bad[i], NULL, a, b), PC_EINVAL);
    assert_int_equal(pc_finance_days(NULL, NULL, a, b), PC_EINVAL);
    assert_int_equal(pc_finance_days("2024-01-19", "2024-01-18", a, b), PC_EINVAL);
    assert_int_equal(pc_finance_days("2023-01-01", "2024-01-19", a, b), PC_EINVAL);
    assert_int_equal(pc_finance_days("2024-01-01", "2024-12-31", a, b), 0); /* 366 days */
}

static void test_yuan_are_formatted_from_integers(void **state)
{
    (void)state;
    char y[32];
    pc_finance_yuan(2500, y, sizeof y);
    assert_string_equal(y, "25.00");
    pc_finance_yuan(1, y, sizeof y);
    assert_string_equal(y, "0.01");
    pc_finance_yuan(-1, y, sizeof y);
    assert_string_equal(y, "-0.01");
    pc_finance_yuan(0, y, sizeof y);
    assert_string_equal(y, "0.00");
    pc_finance_yuan(INT64_MAX, y, sizeof y);
    assert_string_equal(y, "92233720368547758.07");
    pc_finance_yuan(INT64_MIN, y, sizeof y);
    assert_string_equal(y, "-92233720368547758.08");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_beijing_day_is_the_utc_range_from_16_00_the_day_before),
        cmocka_unit_test(test_bad_dates_and_ranges_are_refused),
        cmocka_unit_test(test_yuan_are_formatted_from_integers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
