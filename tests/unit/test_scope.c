/* tests/unit/test_scope.c — per-role grants (staff/scope.h) and the scope filter's arguments
 * (store/scope.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "staff/scope.h"
#include "staff/staff.h"

#include <stdio.h>
#include <string.h>

/* The case of issue 14: a reviewer at school B (2) who is also college staff at school A (1). */
static struct pc_staff_auth reviewer_b_college_a(void)
{
    struct pc_staff_auth a = {.id = 5, .roles = PC_ROLE_REVIEWER | PC_ROLE_COLLEGE, .nroles = 2};
    a.role[0] = (struct pc_staff_role){.role = PC_ROLE_REVIEWER, .school_id = 2};
    a.role[1] = (struct pc_staff_role){.role = PC_ROLE_COLLEGE, .school_id = 1};
    snprintf(a.role[1].college, sizeof a.role[1].college, "文学院");
    return a;
}

static void test_each_role_grants_only_within_its_own_scope(void **state)
{
    (void)state;
    struct pc_staff_auth a = reviewer_b_college_a();
    /* Reviewing: school B only, never school A (where the account is college staff). */
    assert_true(pc_staff_may(&a, PC_ROLE_REVIEWER, 2, 30));
    assert_false(pc_staff_may(&a, PC_ROLE_REVIEWER, 1, 10));
    /* The roster: school A through the college role (with its college), never school B. */
    const struct pc_staff_role *g = pc_staff_grant(&a, PC_ROLE_COLLEGE, 1, 10);
    assert_non_null(g);
    assert_string_equal(g->college, "文学院");
    assert_null(pc_staff_grant(&a, PC_ROLE_COLLEGE, 2, 30));
    assert_true(pc_staff_may_college(&a, PC_ROLE_COLLEGE, 1, 10, "文学院"));
    assert_false(pc_staff_may_college(&a, PC_ROLE_COLLEGE, 1, 10, "理学院"));
    /* Nothing of an admin's or finance's. */
    assert_false(pc_staff_may(&a, PC_ROLE_FINANCE, 2, 0));
    assert_false(pc_staff_may(&a, PC_ROLE_ADMIN, 2, 0));
    assert_int_equal(pc_staff_home_school(&a), 0); /* two schools */
}

static void test_an_admin_role_grants_everything_in_its_school_only(void **state)
{
    (void)state;
    struct pc_staff_auth a = {.id = 1, .roles = PC_ROLE_ADMIN, .nroles = 1};
    a.role[0] = (struct pc_staff_role){.role = PC_ROLE_ADMIN, .school_id = 3};
    assert_true(pc_staff_may(&a, PC_ROLE_REVIEWER, 3, 99));
    assert_true(pc_staff_may(&a, PC_ROLE_FINANCE, 3, 0));
    assert_false(pc_staff_may(&a, PC_ROLE_FINANCE, 4, 0));
    assert_false(pc_staff_company(&a, PC_ROLE_ADMIN));
    assert_int_equal(pc_staff_home_school(&a), 3);
    struct pc_staff_auth c = {.id = 2, .roles = PC_ROLE_ADMIN, .nroles = 1};
    c.role[0] = (struct pc_staff_role){.role = PC_ROLE_ADMIN};
    assert_true(pc_staff_may(&c, PC_ROLE_FINANCE, 4, 0));
    assert_true(pc_staff_company(&c, PC_ROLE_ADMIN));
    assert_int_equal(pc_staff_home_school(&c), 0);
}

static void test_a_reviewer_assigned_to_tasks_reaches_those_tasks_only(void **state)
{
    (void)state;
    struct pc_staff_auth a = {.id = 7, .roles = PC_ROLE_REVIEWER, .nroles = 2};
    a.role[0] = (struct pc_staff_role){.role = PC_ROLE_REVIEWER, .school_id = 3, .task_id = 11};
    a.role[1] = (struct pc_staff_role){.role = PC_ROLE_REVIEWER, .school_id = 4, .task_id = 21};
    assert_true(pc_staff_may(&a, PC_ROLE_REVIEWER, 3, 11));
    assert_true(pc_staff_may(&a, PC_ROLE_REVIEWER, 4, 21));
    assert_false(pc_staff_may(&a, PC_ROLE_REVIEWER, 3, 12));
    assert_false(pc_staff_may(&a, PC_ROLE_REVIEWER, 4, 11)); /* task 11 is not school 4's */
    struct pc_scope s;
    pc_staff_scope(&a, PC_ROLE_REVIEWER, &s);
    assert_false(s.all);
    assert_int_equal(s.nschool, 0);
    assert_int_equal(s.ntask, 2);
    assert_true(pc_scope_has(&s, 3, 11));
    assert_false(pc_scope_has(&s, 3, 12));
}

static void test_a_list_scope_is_the_union_of_the_granting_roles(void **state)
{
    (void)state;
    struct pc_staff_auth a = {.id = 8, .roles = PC_ROLE_ADMIN | PC_ROLE_REVIEWER, .nroles = 3};
    a.role[0] = (struct pc_staff_role){.role = PC_ROLE_ADMIN, .school_id = 3};
    a.role[1] = (struct pc_staff_role){.role = PC_ROLE_REVIEWER, .school_id = 4, .task_id = 21};
    a.role[2] = (struct pc_staff_role){.role = PC_ROLE_FINANCE, .school_id = 5};
    struct pc_scope s;
    pc_staff_scope(&a, PC_ROLE_REVIEWER, &s); /* admin at 3 reviews all of 3, and task 21 */
    assert_true(pc_scope_has(&s, 3, 0));
    assert_true(pc_scope_has(&s, 4, 21));
    assert_false(pc_scope_has(&s, 4, 22));
    assert_false(pc_scope_has(&s, 5, 0)); /* finance grants no review */
    pc_staff_scope(&a, PC_ROLE_ADMIN, &s);
    assert_int_equal(s.nschool, 1);
    assert_int_equal(s.ntask, 0);
    struct pc_db_arg args[PC_SCOPE_NARGS];
    assert_ptr_equal(pc_scope_args(&s, args), args + PC_SCOPE_NARGS);
    assert_int_equal(args[0].i, 0);  /* not all */
    assert_int_equal(args[1].i, 3);  /* the school */
    assert_int_equal(args[2].i, -1); /* unused places match nothing */
    assert_int_equal(args[9].i, -1);
}

static void test_staff_without_roles_reach_nothing(void **state)
{
    (void)state;
    struct pc_staff_auth a = {.id = 9};
    struct pc_scope s;
    pc_staff_scope(&a, ~0u, &s);
    assert_false(s.all);
    assert_false(pc_scope_has(&s, 1, 1));
    assert_false(pc_staff_may(&a, PC_ROLE_ADMIN, 1, 0));
    assert_false(pc_staff_company(&a, PC_ROLE_ADMIN));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_role_grants_only_within_its_own_scope),
        cmocka_unit_test(test_an_admin_role_grants_everything_in_its_school_only),
        cmocka_unit_test(test_a_reviewer_assigned_to_tasks_reaches_those_tasks_only),
        cmocka_unit_test(test_a_list_scope_is_the_union_of_the_granting_roles),
        cmocka_unit_test(test_staff_without_roles_reach_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
