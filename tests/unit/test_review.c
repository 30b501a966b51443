/* test_review.c — the rejection-reason catalogue covers the notice's rules, each with a
 * Chinese sentence for the student; API.md's example reason is reproduced exactly; the
 * reviewer's task scope. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "review/review.h"
#include "staff/staff.h"

#include <string.h>

static void test_the_catalogue_covers_every_rule_of_the_notice(void **state)
{
    (void)state;
    const char *codes[] = {
        "BACKGROUND",       "GLASSES_GLARE", "TINTED_LENSES", "FRINGE_COVERS_BROWS",
        "HAIR_COVERS_EARS", "JEWELLERY",     "MAKEUP",        "CLOTHING",
        "POSTURE",          "EXPRESSION",    "BLURRY",        "ENROLLMENT_PHOTO_REUSED",
        "NOT_THE_STUDENT",  "OTHER"};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        const struct pc_review_reason *r = pc_review_reason(codes[i]);
        assert_non_null(r);
        assert_true(strlen(r->text) >= 9);              /* at least three Chinese characters */
        assert_true((unsigned char)r->text[0] >= 0xe4); /* starts with a CJK character */
    }
    assert_null(pc_review_reason("UGLY"));
    assert_null(pc_review_reason(NULL));
    assert_null(pc_review_reason("hair_covers_ears")); /* codes are exact */
    cJSON *all = pc_review_reasons_json();
    assert_int_equal(cJSON_GetArraySize(all), sizeof codes / sizeof codes[0]);
    cJSON_Delete(all);
}

static void test_the_api_example_reason_is_the_catalogue_text(void **state)
{
    (void)state;
    assert_string_equal(pc_review_reason("HAIR_COVERS_EARS")->text,
                        "头发遮挡耳朵，请露出双耳后重拍");
}

static void test_a_reviewer_assigned_to_a_task_sees_only_that_task(void **state)
{
    (void)state;
    struct pc_staff_auth company = {.id = 1, .nroles = 1, .role = {{.role = PC_ROLE_REVIEWER}}},
                         school = {.id = 2,
                                   .nroles = 1,
                                   .role = {{.role = PC_ROLE_REVIEWER, .school_id = 7}}},
                         one = {
                             .id = 3,
                             .nroles = 1,
                             .role = {{.role = PC_ROLE_REVIEWER, .school_id = 7, .task_id = 11}}};
    assert_true(pc_review_in_scope(&company, 7, 11));
    assert_true(pc_review_in_scope(&school, 7, 12));
    assert_false(pc_review_in_scope(&school, 8, 11));
    assert_true(pc_review_in_scope(&one, 7, 11));
    assert_false(pc_review_in_scope(&one, 7, 12));
    assert_false(pc_review_in_scope(&one, 8, 11));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_catalogue_covers_every_rule_of_the_notice),
        cmocka_unit_test(test_the_api_example_reason_is_the_catalogue_text),
        cmocka_unit_test(test_a_reviewer_assigned_to_a_task_sees_only_that_task),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
