/* tests/unit/test_staff_password.c — staff/staff.h: Argon2id password hashes and roles. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "staff/staff.h"

#include <stdlib.h>
#include <string.h>

#define PHC_PREFIX "$argon2id$v=19$m=19456,t=2,p=1$"

static void test_staff_hash_is_argon2id_phc_string(void **state)
{
    char h[256];
    assert_int_equal(pc_staff_hash_password("correct horse battery", h, sizeof h), 0);
    assert_memory_equal(h, PHC_PREFIX, strlen(PHC_PREFIX));
    /* salt$hash follow: two base64 fields (no padding) separated by one '$'. */
    const char *rest = h + strlen(PHC_PREFIX);
    const char *dollar = strchr(rest, '$');
    assert_non_null(dollar);
    assert_null(strchr(dollar + 1, '$'));
    assert_int_equal(dollar - rest, 22);      /* 16-byte salt */
    assert_int_equal(strlen(dollar + 1), 43); /* 32-byte hash */
    const char *b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    assert_int_equal(strspn(rest, b64), 22);
    assert_int_equal(strspn(dollar + 1, b64), 43);
}

static void test_staff_verify_accepts_right_password(void **state)
{
    char h[256];
    assert_int_equal(pc_staff_hash_password("correct horse battery", h, sizeof h), 0);
    assert_int_equal(pc_staff_verify_password(h, "correct horse battery"), 1);
}

static void test_staff_verify_refuses_wrong_password(void **state)
{
    char h[256];
    assert_int_equal(pc_staff_hash_password("correct horse battery", h, sizeof h), 0);
    assert_int_equal(pc_staff_verify_password(h, "correct horse batterY"), 0);
    assert_int_equal(pc_staff_verify_password(h, "correct horse battery "), 0);
    assert_int_equal(pc_staff_verify_password(h, "correct horse batter"), 0);
    assert_int_equal(pc_staff_verify_password(h, ""), 0);
}

static void test_staff_hashes_of_same_password_differ(void **state)
{
    char a[256], b[256];
    assert_int_equal(pc_staff_hash_password("same password", a, sizeof a), 0);
    assert_int_equal(pc_staff_hash_password("same password", b, sizeof b), 0);
    assert_string_not_equal(a, b);
    assert_int_equal(pc_staff_verify_password(a, "same password"), 1);
    assert_int_equal(pc_staff_verify_password(b, "same password"), 1);
}

static void test_staff_verify_handles_utf8_password(void **state)
{
    char h[256];
    const char *pw = "\xe5\xaf\x86\xe7\xa0\x81-\xe6\xaf\x95\xe4\xb8\x9a\xe7\x85\xa7";
    assert_int_equal(pc_staff_hash_password(pw, h, sizeof h), 0);
    assert_int_equal(pc_staff_verify_password(h, pw), 1);
    assert_int_equal(pc_staff_verify_password(h, "\xe5\xaf\x86\xe7\xa0\x81"), 0);
}

static void test_staff_verify_refuses_malformed_hash(void **state)
{
    assert_int_equal(pc_staff_verify_password("", "password"), 0);
    assert_int_equal(pc_staff_verify_password("not a hash", "password"), 0);
    assert_int_equal(pc_staff_verify_password(PHC_PREFIX "$", "password"), 0);
    char h[256];
    assert_int_equal(pc_staff_hash_password("password12", h, sizeof h), 0);
    /* Changing one character of the stored hash makes it fail. */
    size_t n = strlen(h);
    h[n - 2] = h[n - 2] == 'A' ? 'B' : 'A';
    assert_int_equal(pc_staff_verify_password(h, "password12"), 0);
}

static void test_staff_hash_refuses_too_small_output(void **state)
{
    char h[32];
    assert_int_not_equal(pc_staff_hash_password("correct horse battery", h, sizeof h), 0);
}

static void test_role_from_name_maps_known_roles(void **state)
{
    assert_int_equal(pc_role_from_name("admin"), PC_ROLE_ADMIN);
    assert_int_equal(pc_role_from_name("reviewer"), PC_ROLE_REVIEWER);
    assert_int_equal(pc_role_from_name("finance"), PC_ROLE_FINANCE);
    assert_int_equal(pc_role_from_name("college"), PC_ROLE_COLLEGE);
}

static void test_role_from_name_refuses_unknown(void **state)
{
    assert_int_equal(pc_role_from_name("Admin"), 0);
    assert_int_equal(pc_role_from_name("admin "), 0);
    assert_int_equal(pc_role_from_name("root"), 0);
    assert_int_equal(pc_role_from_name(""), 0);
    assert_int_equal(pc_role_from_name(NULL), 0);
}

static char *names_json(unsigned mask)
{
    cJSON *a = pc_role_names(mask);
    assert_non_null(a);
    assert_true(cJSON_IsArray(a));
    char *s = cJSON_PrintUnformatted(a);
    cJSON_Delete(a);
    return s;
}

static void test_role_names_lists_roles_in_mask(void **state)
{
    char *s = names_json(0);
    assert_string_equal(s, "[]");
    cJSON_free(s);
    s = names_json(PC_ROLE_FINANCE);
    assert_string_equal(s, "[\"finance\"]");
    cJSON_free(s);
    s = names_json(PC_ROLE_ADMIN | PC_ROLE_COLLEGE);
    assert_string_equal(s, "[\"admin\",\"college\"]");
    cJSON_free(s);
    s = names_json(PC_ROLE_ADMIN | PC_ROLE_REVIEWER | PC_ROLE_FINANCE | PC_ROLE_COLLEGE | 0x100);
    assert_string_equal(s, "[\"admin\",\"reviewer\",\"finance\",\"college\"]");
    cJSON_free(s);
}

static void test_role_names_round_trip_through_from_name(void **state)
{
    unsigned all = PC_ROLE_ADMIN | PC_ROLE_REVIEWER | PC_ROLE_FINANCE | PC_ROLE_COLLEGE;
    cJSON *a = pc_role_names(all);
    unsigned back = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, a)
    {
        assert_true(cJSON_IsString(it));
        unsigned bit = pc_role_from_name(it->valuestring);
        assert_int_not_equal(bit, 0);
        assert_int_equal(back & bit, 0); /* each role once */
        back |= bit;
    }
    cJSON_Delete(a);
    assert_int_equal(back, all);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_staff_hash_is_argon2id_phc_string),
        cmocka_unit_test(test_staff_verify_accepts_right_password),
        cmocka_unit_test(test_staff_verify_refuses_wrong_password),
        cmocka_unit_test(test_staff_hashes_of_same_password_differ),
        cmocka_unit_test(test_staff_verify_handles_utf8_password),
        cmocka_unit_test(test_staff_verify_refuses_malformed_hash),
        cmocka_unit_test(test_staff_hash_refuses_too_small_output),
        cmocka_unit_test(test_role_from_name_maps_known_roles),
        cmocka_unit_test(test_role_from_name_refuses_unknown),
        cmocka_unit_test(test_role_names_lists_roles_in_mask),
        cmocka_unit_test(test_role_names_round_trip_through_from_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
