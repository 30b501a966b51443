/* test_export.c — the export's lists: manifest.csv and errors.csv lines (Beijing approval time,
 * quoted cells), written whole or refused when they do not fit, so that a zip never carries a
 * cut list. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/buf.h"
#include "base/err.h"
#include "export/export.h"

#include <stdio.h>
#include <string.h>

static struct pc_export_row row(void)
{
    struct pc_export_row e = {.id = 1};
    snprintf(e.order_no, sizeof e.order_no, "P20240119AAAA0001");
    snprintf(e.student_no, sizeof e.student_no, "2020001");
    snprintf(e.name, sizeof e.name, "李四");
    snprintf(e.college, sizeof e.college, "计算机学院");
    snprintf(e.class_name, sizeof e.class_name, "计科\"1\"班");
    snprintf(e.approved_at, sizeof e.approved_at, "2024-01-19 02:02:11");
    snprintf(e.sha256, sizeof e.sha256, "ab12");
    return e;
}

static void test_a_manifest_line_carries_the_beijing_approval_time_and_quoted_cells(void **state)
{
    (void)state;
    struct pc_export_row e = row();
    struct pc_buf b;
    pc_buf_init(&b, 4096);
    assert_int_equal(pc_export_manifest_row(&b, &e, "2020001.jpg"), 0);
    assert_string_equal(b.p, "\"计算机学院\",\"计科\"\"1\"\"班\",\"李四\",\"2020001\","
                             "\"P20240119AAAA0001\",\"2024-01-19 10:02:11\",\"2020001.jpg\","
                             "\"ab12\"\r\n");
    pc_buf_reset(&b);
    assert_int_equal(pc_export_error_row(&b, &e, "没有照片"), 0);
    assert_string_equal(b.p, "\"计算机学院\",\"计科\"\"1\"\"班\",\"李四\",\"2020001\","
                             "\"P20240119AAAA0001\",\"没有照片\"\r\n");
    pc_buf_free(&b);
}

static void test_zip_member_names_from_data_never_climb_or_nest(void **state)
{
    (void)state;
    char out[64];
    const char *bad[] = {"..", ".", "../../etc", "a/../b", "C:\\x", "学院\\..\\..", "/abs"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pc_export_name_part(bad[i], out, sizeof out);
        assert_null(strchr(out, '/'));
        assert_null(strchr(out, '\\'));
        assert_null(strstr(out, ".."));
        assert_null(strchr(out, ':'));
        assert_true(out[0] != '\0' && strcmp(out, ".") != 0);
    }
    pc_export_name_part("..", out, sizeof out);
    assert_string_equal(out, "__");
    pc_export_name_part("海外学院(外国语学院)", out, sizeof out);
    assert_string_equal(out, "海外学院(外国语学院)");
    pc_export_name_part("", out, sizeof out);
    assert_string_equal(out, "未分学院");
    pc_export_name_part("文学院", out, 8); /* 9 bytes: cut inside the third character */
    assert_string_equal(out, "文学");
}

static void test_a_line_that_does_not_fit_is_refused(void **state)
{
    (void)state;
    struct pc_export_row e = row();
    struct pc_buf b;
    pc_buf_init(&b, 40);
    assert_int_equal(pc_export_manifest_row(&b, &e, "2020001.jpg"), PC_ETOOBIG);
    assert_true(b.len < 40);
    pc_buf_free(&b);
    pc_buf_init(&b, 40);
    assert_int_equal(pc_export_error_row(&b, &e, "没有照片"), PC_ETOOBIG);
    pc_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_manifest_line_carries_the_beijing_approval_time_and_quoted_cells),
        cmocka_unit_test(test_a_line_that_does_not_fit_is_refused),
        cmocka_unit_test(test_zip_member_names_from_data_never_climb_or_nest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
