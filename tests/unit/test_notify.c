/* test_notify.c — what a notification says: subscription values fitted to WeChat's per-type
 * rules (wechat-protocols.md §3) by code points, the subscribeMessage.send body built from
 * the configured template and field map, the SMS text, and the retry delays. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/err.h"
#include "notify/notify.h"
#include "config/config.h"

#include <stdlib.h>
#include <string.h>

static const char *fit(const char *key, const char *v)
{
    static char out[256];
    return pc_notify_fit_value(key, v, out, sizeof out) == 0 ? out : NULL;
}

static void test_thing_values_are_cut_to_20_code_points_with_an_ellipsis(void **state)
{
    (void)state;
    const char *twenty = "一二三四五六七八九十一二三四五六七八九十";
    assert_string_equal(fit("thing1", twenty), twenty);
    assert_string_equal(fit("thing2", "一二三四五六七八九十一二三四五六七八九十多余的字"),
                        "一二三四五六七八九十一二三四五六七八九…");
    assert_string_equal(fit("thing3", "Hello\tworld\n"), "Helloworld"); /* controls dropped */
    assert_null(fit("thing1", ""));
    assert_null(fit("thing1", "\xe4\xb8")); /* truncated UTF-8 */
}

static void test_phrase_takes_only_five_pure_chinese_characters(void **state)
{
    (void)state;
    assert_string_equal(fit("phrase2", "审核未通过"), "审核未通过");
    assert_null(fit("phrase2", "审核未通过了")); /* six: cutting would add "…" */
    assert_null(fit("phrase2", "通过!"));
    assert_null(fit("phrase2", "ok"));
}

static void test_names_letters_strings_numbers_and_amounts(void **state)
{
    (void)state;
    assert_string_equal(fit("name3", "王小明"), "王小明");
    assert_string_equal(fit("name3", "欧阳一二三四五六七八九"), "欧阳一二三四五六七…");
    assert_string_equal(fit("name3", "Alexander Hamilton"), "Alexander Hamilton");
    assert_string_equal(fit("character_string4", "P20240119PH000001"), "P20240119PH000001");
    assert_null(fit("character_string4", "订单"));
    assert_string_equal(fit("number5", "12.5"), "12.5");
    assert_null(fit("number5", "12a"));
    assert_string_equal(fit("amount2", "\xc2\xa5"
                                       "25.00"),
                        "\xc2\xa5"
                        "25.00");
    assert_string_equal(fit("amount2", "$3元"), "$3元");
    assert_null(fit("amount2", "25.00")); /* no currency symbol */
    assert_null(fit("amount2", "\xc2\xa5"
                               "12345678901")); /* 11 digits */
    assert_string_equal(fit("phone_number6", "+86 138-0013-8000"), "+86 138-0013-8000");
    assert_null(fit("letter7", "abc1"));
}

static void test_unknown_or_malformed_keys_are_refused(void **state)
{
    (void)state;
    assert_null(fit("thing", "x"));   /* no field number */
    assert_null(fit("1", "x"));       /* no type */
    assert_null(fit("colour1", "x")); /* unknown type */
    assert_null(fit("enum1", "A"));   /* the template's values are unknown here */
}

static const struct pc_notify_values g_v = {.student = "王小明",
                                            .task = "2024届毕业生图像采集",
                                            .order_no = "P20240119PH000001",
                                            .amount_fen = 2500,
                                            .paid_at = "2024-01-19 02:03:04.000",
                                            .reason = "头发遮挡耳朵，请露出双耳后重拍",
                                            .deadline = "2024-01-25 16:00:00.000"};

static const char *value(const cJSON *msg, const char *key)
{
    const cJSON *d = cJSON_GetObjectItem(cJSON_GetObjectItem(msg, "data"), key);
    return d ? cJSON_GetObjectItem(d, "value")->valuestring : NULL;
}

static void test_the_rejection_message_carries_reason_and_deadline_in_beijing_time(void **state)
{
    (void)state;
    struct pc_config cfg;
    pc_config_defaults(&cfg);
    free(cfg.notify_tpl_rejected);
    cfg.notify_tpl_rejected = strdup("TPL_REJECT");
    cJSON *m = NULL;
    char err[128];
    assert_int_equal(
        pc_notify_subscribe_msg(&cfg, PC_NOTIFY_REJECTED, "o_abc", &g_v, &m, err, sizeof err), 0);
    assert_string_equal(cJSON_GetObjectItem(m, "touser")->valuestring, "o_abc");
    assert_string_equal(cJSON_GetObjectItem(m, "template_id")->valuestring, "TPL_REJECT");
    assert_string_equal(cJSON_GetObjectItem(m, "page")->valuestring,
                        "pages/order/detail?order_no=P20240119PH000001");
    assert_string_equal(value(m, "thing1"), "2024届毕业生图像采集");
    assert_string_equal(value(m, "thing2"), "头发遮挡耳朵，请露出双耳后重拍");
    /* 16:00 UTC on the 25th is midnight on the 26th in Beijing */
    assert_string_equal(value(m, "time3"), "2024年1月26日 00:00");
    cJSON_Delete(m);
    pc_config_free(&cfg);
}

static void test_missing_templates_and_bad_field_maps_are_reported(void **state)
{
    (void)state;
    struct pc_config cfg;
    pc_config_defaults(&cfg);
    cJSON *m = NULL;
    char err[128];
    assert_int_equal(
        pc_notify_subscribe_msg(&cfg, PC_NOTIFY_PAID, "o_abc", &g_v, &m, err, sizeof err),
        PC_ENOTFOUND);
    free(cfg.notify_tpl_paid);
    cfg.notify_tpl_paid = strdup("TPL_PAID");
    assert_int_equal(
        pc_notify_subscribe_msg(&cfg, PC_NOTIFY_PAID, "o_abc", &g_v, &m, err, sizeof err), 0);
    assert_string_equal(value(m, "amount2"), "\xc2\xa5"
                                             "25.00");
    assert_string_equal(value(m, "time3"), "2024年1月19日 10:03");
    assert_string_equal(value(m, "character_string4"), "P20240119PH000001");
    cJSON_Delete(m);
    free(cfg.notify_fields_paid);
    cfg.notify_fields_paid = strdup("thing1=task,amount2");
    assert_int_equal(
        pc_notify_subscribe_msg(&cfg, PC_NOTIFY_PAID, "o_abc", &g_v, &m, err, sizeof err),
        PC_EINVAL);
    assert_null(m);
    assert_non_null(strstr(err, "field map"));
    free(cfg.notify_fields_paid);
    cfg.notify_fields_paid = strdup("phrase1=task"); /* a task name is no phrase */
    assert_int_equal(
        pc_notify_subscribe_msg(&cfg, PC_NOTIFY_PAID, "o_abc", &g_v, &m, err, sizeof err),
        PC_EINVAL);
    assert_non_null(strstr(err, "phrase1"));
    pc_config_free(&cfg);
}

static void test_the_rejection_sms_says_why_until_when_and_that_nothing_is_paid_again(void **state)
{
    (void)state;
    struct pc_config cfg;
    pc_config_defaults(&cfg);
    char text[1024];
    pc_notify_sms_text(&cfg, PC_NOTIFY_REJECTED, &g_v, text, sizeof text);
    assert_non_null(strstr(text, "【毕业生图像采集】王小明同学"));
    assert_non_null(strstr(text, "头发遮挡耳朵，请露出双耳后重拍"));
    assert_non_null(strstr(text, "2024年1月26日 00:00前"));
    assert_non_null(strstr(text, "无需再次付款"));
    assert_non_null(strstr(text, "P20240119PH000001"));
    pc_config_free(&cfg);
}

static void test_backoff_doubles_per_attempt_is_capped_and_jittered(void **state)
{
    (void)state;
    struct pc_config cfg;
    pc_config_defaults(&cfg);
    cfg.notify_backoff_base_ms = 1000;
    cfg.notify_backoff_max_ms = 60000;
    uint32_t mid = 0x80000000u;
    assert_int_equal(pc_notify_backoff_ms(&cfg, 1, mid), 1000);
    assert_int_equal(pc_notify_backoff_ms(&cfg, 2, mid), 2000);
    assert_int_equal(pc_notify_backoff_ms(&cfg, 4, mid), 8000);
    assert_int_equal(pc_notify_backoff_ms(&cfg, 30, mid), 60000);
    assert_int_equal(pc_notify_backoff_ms(&cfg, 1, 0), 750);
    assert_in_range(pc_notify_backoff_ms(&cfg, 1, 0xffffffffu), 1249, 1250);
    assert_in_range(pc_notify_backoff_ms(&cfg, 30, 0xffffffffu), 74999, 75000);
    pc_config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thing_values_are_cut_to_20_code_points_with_an_ellipsis),
        cmocka_unit_test(test_phrase_takes_only_five_pure_chinese_characters),
        cmocka_unit_test(test_names_letters_strings_numbers_and_amounts),
        cmocka_unit_test(test_unknown_or_malformed_keys_are_refused),
        cmocka_unit_test(test_the_rejection_message_carries_reason_and_deadline_in_beijing_time),
        cmocka_unit_test(test_missing_templates_and_bad_field_maps_are_reported),
        cmocka_unit_test(test_the_rejection_sms_says_why_until_when_and_that_nothing_is_paid_again),
        cmocka_unit_test(test_backoff_doubles_per_attempt_is_capped_and_jittered),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
