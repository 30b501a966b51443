/* test_tasks.c — pure rules of tasks and orders: the collection window at the notice's
 * exact edges, feature-code normalisation, order numbers, task JSON validation. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/timeutil.h"
#include "orders/orders.h"
#include "tasks/tasks.h"

#include <string.h>

/* The notice: 18 Jan 2024 23:59:59 to 31 Jan 2024 23:59:59, Asia/Shanghai. */
static int64_t at(const char *rfc3339)
{
    int64_t t = 0;
    assert_int_equal(pc_time_parse_rfc3339(rfc3339, &t), 0);
    return t;
}

static void test_window_opens_exactly_at_opens_at_and_not_a_second_before(void **state)
{
    (void)state;
    int64_t o = at("2024-01-18T23:59:59+08:00"), c = at("2024-01-31T23:59:59+08:00");
    assert_int_equal(pc_window_at(o, c, at("2024-01-18T23:59:58+08:00")), PC_WINDOW_NOT_OPEN);
    assert_int_equal(pc_window_at(o, c, at("2024-01-18T23:59:59+08:00")), PC_WINDOW_OPEN);
    assert_int_equal(pc_window_at(o, c, at("2024-01-19T00:00:00+08:00")), PC_WINDOW_OPEN);
    /* The same instant written in UTC. */
    assert_int_equal(pc_window_at(o, c, at("2024-01-18T15:59:58Z")), PC_WINDOW_NOT_OPEN);
}

static void test_window_closes_a_second_after_closes_at(void **state)
{
    (void)state;
    int64_t o = at("2024-01-18T23:59:59+08:00"), c = at("2024-01-31T23:59:59+08:00");
    assert_int_equal(pc_window_at(o, c, at("2024-01-31T23:59:59+08:00")), PC_WINDOW_OPEN);
    assert_int_equal(pc_window_at(o, c, at("2024-02-01T00:00:00+08:00")), PC_WINDOW_CLOSED);
    assert_int_equal(pc_window_at(o, c, at("2024-01-31T16:00:00Z")), PC_WINDOW_CLOSED);
}

static void test_feature_codes_are_trimmed_and_lower_cased(void **state)
{
    (void)state;
    char out[40];
    assert_true(pc_feature_code_norm("  EvHx53\t", out, sizeof out));
    assert_string_equal(out, "evhx53");
    assert_false(pc_feature_code_norm("abc", out, sizeof out));      /* too short */
    assert_false(pc_feature_code_norm("ev hx53", out, sizeof out));  /* inner space */
    assert_false(pc_feature_code_norm("evhx53！", out, sizeof out)); /* full-width mark */
    assert_false(pc_feature_code_norm("", out, sizeof out));
    assert_false(pc_feature_code_norm(NULL, out, sizeof out));
    assert_false(pc_feature_code_norm("abcdefghijklmnopqrstuvwxyz0123456", out, sizeof out));
}

static void test_order_numbers_have_the_p_date_hex_shape_and_differ(void **state)
{
    (void)state;
    char a[33], b[33];
    pc_order_no_new(a);
    pc_order_no_new(b);
    assert_int_equal(strlen(a), 17);
    assert_int_equal(a[0], 'P');
    for (int i = 1; i < 9; i++)
        assert_true(a[i] >= '0' && a[i] <= '9');
    for (int i = 9; i < 17; i++)
        assert_true((a[i] >= '0' && a[i] <= '9') || (a[i] >= 'A' && a[i] <= 'F'));
    assert_string_not_equal(a, b);
}

static void test_task_json_requires_fields_and_rejects_inverted_windows(void **state)
{
    (void)state;
    struct pc_task t;
    const char *school, *field, *msg;
    pc_task_defaults(&t);
    cJSON *j = cJSON_Parse("{\"name\":\"n\",\"school\":\"10402\",\"collection_type\":"
                           "\"centralized\",\"feature_code\":\"evhx53\",\"opens_at\":"
                           "\"2024-01-18T23:59:59+08:00\",\"closes_at\":"
                           "\"2024-01-31T23:59:59+08:00\",\"price_fen\":2500}");
    assert_int_equal(pc_task_apply_json(&t, j, false, &school, &field, &msg), 0);
    assert_string_equal(school, "10402");
    assert_string_equal(t.opens_at, "2024-01-18 15:59:59");
    assert_int_equal(t.edit_days, 7);
    assert_int_equal(t.grad_year, 2024);
    assert_true(t.roster_required);
    cJSON_Delete(j);
    j = cJSON_Parse("{\"closes_at\":\"2024-01-10T00:00:00+08:00\"}");
    assert_int_equal(pc_task_apply_json(&t, j, true, &school, &field, &msg), -1);
    assert_string_equal(field, "closes_at");
    cJSON_Delete(j);
    j = cJSON_Parse("{\"edit_days\":61}");
    assert_int_equal(pc_task_apply_json(&t, j, true, &school, &field, &msg), -1);
    assert_string_equal(field, "edit_days");
    cJSON_Delete(j);
    j = cJSON_Parse("{\"school\":\"x\"}"); /* a task never moves to another school */
    assert_int_equal(pc_task_apply_json(&t, j, true, &school, &field, &msg), -1);
    assert_string_equal(field, "school");
    cJSON_Delete(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window_opens_exactly_at_opens_at_and_not_a_second_before),
        cmocka_unit_test(test_window_closes_a_second_after_closes_at),
        cmocka_unit_test(test_feature_codes_are_trimmed_and_lower_cased),
        cmocka_unit_test(test_order_numbers_have_the_p_date_hex_shape_and_differ),
        cmocka_unit_test(test_task_json_requires_fields_and_rejects_inverted_windows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
