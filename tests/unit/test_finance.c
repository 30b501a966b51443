/* test_finance.c — finance's days are Beijing days (UTC range starts 16:00 the day before),
 * ranges are bounded, yuan are formatted from integer fen, a school's finance sees only its
 * school, and a CSV that does not fit is refused rather than cut. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/err.h"
#include "base/buf.h"
#include "finance/finance.h"
#include "staff/staff.h"

#include <stdio.h>
#include <string.h>

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

static void test_a_csv_row_is_written_whole_or_refused(void **state)
{
    (void)state;
    struct pc_finance_payment p = {.amount_fen = 2500, .refunded_fen = 0};
    snprintf(p.out_trade_no, sizeof p.out_trade_no, "P20240119AAAA0001");
    snprintf(p.student_name, sizeof p.student_name, "张\"三\"");
    snprintf(p.success_time, sizeof p.success_time, "2024-01-19 02:02:11");
    snprintf(p.source, sizeof p.source, "notify");
    struct pc_buf b;
    pc_buf_init(&b, 1 << 16);
    assert_int_equal(pc_finance_csv_header(&b), 0);
    assert_int_equal(pc_finance_csv_row(&b, &p), 0);
    assert_non_null(strstr(b.p, "\"2024-01-19 10:02:11\",\"P20240119AAAA0001\",\"\",\"25.00\","
                                "\"0.00\","));
    assert_non_null(strstr(b.p, "\"张\"\"三\"\"\""));
    assert_int_equal(strcmp(b.p + b.len - 10, "\"notify\"\r\n"), 0);
    size_t whole = b.len;
    pc_buf_free(&b);
    /* Room for the header and half the row: the row is refused, the caller answers no file. */
    pc_buf_init(&b, whole - 40);
    assert_int_equal(pc_finance_csv_header(&b), 0);
    assert_int_equal(pc_finance_csv_row(&b, &p), PC_ETOOBIG);
    pc_buf_free(&b);
    pc_buf_init(&b, 8);
    assert_int_equal(pc_finance_csv_header(&b), PC_ETOOBIG);
    pc_buf_free(&b);
}

static void test_a_school_s_finance_sees_only_its_school(void **state)
{
    (void)state;
    struct pc_staff_auth company = {.id = 1, .nroles = 1, .role = {{.role = PC_ROLE_FINANCE}}},
                         school = {.id = 2,
                                   .nroles = 1,
                                   .role = {{.role = PC_ROLE_FINANCE, .school_id = 7}}};
    struct pc_finance_range q = {0};
    assert_int_equal(pc_finance_scope(&company, &q), 0);
    assert_true(q.scope.all); /* every school */
    q.school_id = 9;
    assert_int_equal(pc_finance_scope(&company, &q), 0);
    q.school_id = 0;
    assert_int_equal(pc_finance_scope(&school, &q), 0);
    assert_false(q.scope.all);
    assert_true(pc_scope_has(&q.scope, 7, 0));
    assert_false(pc_scope_has(&q.scope, 9, 0));
    q.school_id = 9;
    assert_int_equal(pc_finance_scope(&school, &q), PC_ENOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_beijing_day_is_the_utc_range_from_16_00_the_day_before),
        cmocka_unit_test(test_bad_dates_and_ranges_are_refused),
        cmocka_unit_test(test_yuan_are_formatted_from_integers),
        cmocka_unit_test(test_a_csv_row_is_written_whole_or_refused),
        cmocka_unit_test(test_a_school_s_finance_sees_only_its_school),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
