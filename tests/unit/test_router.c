/* tests/unit/test_router.c — server/router.h: literal and {name} matching, 404 vs 405. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/err.h"
#include "server/router.h"

#include <string.h>

static void h_dummy(struct pc_req *r, struct pc_ctx *ctx)
{
}

static const struct pc_route g_routes[] = {
    /* 0 */ {"GET", "/healthz", h_dummy, PC_ROUTE_INLINE},
    /* 1 */ {"GET", "/api/v1/orders", h_dummy, 0},
    /* 2 */ {"POST", "/api/v1/orders", h_dummy, 0},
    /* 3 */ {"GET", "/api/v1/orders/{order_no}", h_dummy, 0},
    /* 4 */ {"GET", "/api/v1/admin/tasks", h_dummy, 0},
    /* 5 */ {"POST", "/api/v1/admin/tasks", h_dummy, 0},
    /* 6 */ {"PUT", "/api/v1/admin/tasks/{id}", h_dummy, 0},
    /* 7 */ {"GET", "/api/v1/admin/tasks/{id}", h_dummy, 0},
    /* 8 */ {"GET", "/api/v1/schools/{code}/colleges/{name}", h_dummy, 0},
    /* 9 */ {"GET", "/__debug/sleep", h_dummy, PC_ROUTE_DEBUG},
    /* 10 */ {"POST", "/__debug/reset", h_dummy, PC_ROUTE_DEBUG | PC_ROUTE_INLINE},
    /* 11 */ {"GET", "/six/{a}/{b}/{c}/{d}/{e}/{f}", h_dummy, 0},
    /* 12 */ {"GET", "/seven/{a}/{b}/{c}/{d}/{e}/{f}/{g}", h_dummy, 0},
};
#define NROUTES (sizeof g_routes / sizeof g_routes[0])

static int match(const char *method, const char *path, int debug, struct pc_route_match *m)
{
    return pc_router_match(g_routes, NROUTES, method, path, debug, m);
}

static void expect_not_found(const char *method, const char *path, int debug)
{
    struct pc_route_match m;
    int rc = match(method, path, debug, &m);
    if (rc != PC_ENOTFOUND)
        fail_msg("%s %s: rc %d (index %d), want PC_ENOTFOUND", method, path, rc, m.index);
    assert_int_equal(m.index, -1);
    assert_int_equal(m.ncap, 0);
    pc_route_match_clear(&m);
}

static void test_router_matches_literal_path(void **state)
{
    struct pc_route_match m;
    assert_int_equal(match("GET", "/healthz", 0, &m), 0);
    assert_int_equal(m.index, 0);
    assert_int_equal(m.ncap, 0);
    pc_route_match_clear(&m);
    assert_int_equal(match("POST", "/api/v1/orders", 0, &m), 0);
    assert_int_equal(m.index, 2);
    pc_route_match_clear(&m);
}

static void test_router_literal_is_exact_not_prefix(void **state)
{
    expect_not_found("GET", "/health", 0);
    expect_not_found("GET", "/healthzz", 0);
    expect_not_found("GET", "/HEALTHZ", 0);
    expect_not_found("GET", "/", 0);
    expect_not_found("GET", "", 0);
    expect_not_found("GET", "healthz", 0);
}

static void test_router_captures_named_segment(void **state)
{
    struct pc_route_match m;
    assert_int_equal(match("GET", "/api/v1/orders/PC20240118001", 0, &m), 0);
    assert_int_equal(m.index, 3);
    assert_int_equal(m.ncap, 1);
    assert_string_equal(m.names[0], "order_no");
    assert_string_equal(m.values[0], "PC20240118001");
    pc_route_match_clear(&m);
    assert_int_equal(m.ncap, 0);
    assert_null(m.names[0]);
    assert_null(m.values[0]);
}

static void test_router_captures_two_segments_in_order(void **state)
{
    struct pc_route_match m;
    assert_int_equal(match("GET", "/api/v1/schools/S001/colleges/Arts", 0, &m), 0);
    assert_int_equal(m.index, 8);
    assert_int_equal(m.ncap, 2);
    assert_string_equal(m.names[0], "code");
    assert_string_equal(m.values[0], "S001");
    assert_string_equal(m.names[1], "name");
    assert_string_equal(m.values[1], "Arts");
    pc_route_match_clear(&m);
}

static void test_router_percent_decodes_captures(void **state)
{
    struct pc_route_match m;
    assert_int_equal(match("GET", "/api/v1/schools/a%20b%2Bc/colleges/%E6%96%87%e5%ad%a6", 0, &m),
                     0);
    assert_int_equal(m.ncap, 2);
    assert_string_equal(m.values[0], "a b+c");
    assert_string_equal(m.values[1], "\xe6\x96\x87\xe5\xad\xa6");
    pc_route_match_clear(&m);
    assert_int_equal(match("GET", "/api/v1/orders/100%25", 0, &m), 0);
    assert_string_equal(m.values[0], "100%");
    pc_route_match_clear(&m);
}

static void test_router_refuses_encoded_slash_in_capture(void **state)
{
    expect_not_found("GET", "/api/v1/orders/a%2Fb", 0);
    expect_not_found("GET", "/api/v1/orders/a%2fb", 0);
    expect_not_found("GET", "/api/v1/orders/%2F", 0);
}

static void test_router_refuses_encoded_nul_in_capture(void **state)
{
    expect_not_found("GET", "/api/v1/orders/a%00b", 0);
}

static void test_router_refuses_bad_percent_escapes(void **state)
{
    expect_not_found("GET", "/api/v1/orders/%zz", 0);
    expect_not_found("GET", "/api/v1/orders/a%g1", 0);
    expect_not_found("GET", "/api/v1/orders/a%1g", 0);
    expect_not_found("GET", "/api/v1/orders/abc%", 0);
    expect_not_found("GET", "/api/v1/orders/abc%4", 0);
    expect_not_found("GET", "/api/v1/schools/%/colleges/x", 0);
    expect_not_found("GET", "/api/v1/schools/x%4/colleges/x", 0);
}

static void test_router_escape_at_end_of_segment_is_decoded(void **state)
{
    struct pc_route_match m;
    assert_int_equal(match("GET", "/api/v1/schools/x%41/colleges/%42", 0, &m), 0);
    assert_string_equal(m.values[0], "xA");
    assert_string_equal(m.values[1], "B");
    pc_route_match_clear(&m);
}

static void test_router_empty_segment_does_not_match_capture(void **state)
{
    expect_not_found("GET", "/api/v1/orders/", 0);
    expect_not_found("GET", "/api/v1/schools//colleges/x", 0);
    expect_not_found("GET", "/api/v1/schools/x/colleges/", 0);
}

static void test_router_capture_does_not_span_segments(void **state)
{
    expect_not_found("GET", "/api/v1/orders/a/b", 0);
    expect_not_found("GET", "/api/v1/schools/a/b/colleges/x", 0);
}

static void test_router_trailing_slash_is_a_different_path(void **state)
{
    expect_not_found("GET", "/healthz/", 0);
    expect_not_found("GET", "/api/v1/orders/X1/", 0);
    expect_not_found("GET", "//healthz", 0);
}

static void test_router_unknown_path_is_not_found(void **state)
{
    expect_not_found("GET", "/nope", 0);
    expect_not_found("DELETE", "/nope", 0);
    expect_not_found("GET", "/api/v2/orders", 0);
}

static void test_router_wrong_method_is_conflict_with_allow_list(void **state)
{
    struct pc_route_match m;
    assert_int_equal(match("PUT", "/api/v1/admin/tasks", 0, &m), PC_ECONFLICT);
    assert_int_equal(m.index, -1);
    assert_string_equal(m.allow, "GET, HEAD, POST");
    assert_int_equal(m.ncap, 0);
    pc_route_match_clear(&m);
    assert_int_equal(match("DELETE", "/healthz", 0, &m), PC_ECONFLICT);
    assert_string_equal(m.allow, "GET, HEAD");
    pc_route_match_clear(&m);
    assert_int_equal(match("DELETE", "/api/v1/admin/tasks/7", 0, &m), PC_ECONFLICT);
    assert_string_equal(m.allow, "PUT, GET, HEAD");
    assert_int_equal(m.ncap, 0);
    pc_route_match_clear(&m);
}

static void test_router_method_match_after_other_method_keeps_its_captures(void **state)
{
    struct pc_route_match m;
    /* The PUT route for the same pattern comes first in the table. */
    assert_int_equal(match("GET", "/api/v1/admin/tasks/42", 0, &m), 0);
    assert_int_equal(m.index, 7);
    assert_int_equal(m.ncap, 1);
    assert_string_equal(m.names[0], "id");
    assert_string_equal(m.values[0], "42");
    pc_route_match_clear(&m);
    assert_int_equal(match("PUT", "/api/v1/admin/tasks/43", 0, &m), 0);
    assert_int_equal(m.index, 6);
    assert_string_equal(m.values[0], "43");
    pc_route_match_clear(&m);
}

static void test_router_head_takes_the_get_route_of_the_path_only(void **state)
{
    struct pc_route_match m;
    assert_int_equal(match("HEAD", "/api/v1/admin/tasks/42", 0, &m), 0);
    assert_int_equal(m.index, 7); /* the GET route, past the PUT route of the same pattern */
    assert_string_equal(m.values[0], "42");
    pc_route_match_clear(&m);
    /* A path without a GET route: HEAD is not allowed there. */
    assert_int_equal(match("HEAD", "/__debug/reset", 1, &m), PC_ECONFLICT);
    assert_string_equal(m.allow, "POST");
    pc_route_match_clear(&m);
}

static void test_router_hides_debug_routes_unless_enabled(void **state)
{
    expect_not_found("GET", "/__debug/sleep", 0);
    expect_not_found("POST", "/__debug/reset", 0);
    /* Hidden routes must not turn into a 405 either. */
    expect_not_found("POST", "/__debug/sleep", 0);
    struct pc_route_match m;
    assert_int_equal(match("GET", "/__debug/sleep", 1, &m), 0);
    assert_int_equal(m.index, 9);
    pc_route_match_clear(&m);
    assert_int_equal(match("POST", "/__debug/reset", 1, &m), 0);
    assert_int_equal(m.index, 10);
    pc_route_match_clear(&m);
    assert_int_equal(match("POST", "/__debug/sleep", 1, &m), PC_ECONFLICT);
    assert_string_equal(m.allow, "GET, HEAD");
    pc_route_match_clear(&m);
}

static void test_router_debug_flag_does_not_affect_normal_routes(void **state)
{
    struct pc_route_match m;
    assert_int_equal(match("GET", "/healthz", 1, &m), 0);
    assert_int_equal(m.index, 0);
    pc_route_match_clear(&m);
}

static void test_router_accepts_six_captures_refuses_seventh(void **state)
{
    struct pc_route_match m;
    assert_int_equal(match("GET", "/six/1/2/3/4/5/6", 0, &m), 0);
    assert_int_equal(m.index, 11);
    assert_int_equal(m.ncap, PC_ROUTER_MAX_CAPTURES);
    assert_string_equal(m.names[5], "f");
    assert_string_equal(m.values[5], "6");
    pc_route_match_clear(&m);
    expect_not_found("GET", "/seven/1/2/3/4/5/6/7", 0);
}

static void test_router_empty_table_is_not_found(void **state)
{
    struct pc_route_match m;
    assert_int_equal(pc_router_match(g_routes, 0, "GET", "/healthz", 1, &m), PC_ENOTFOUND);
    assert_int_equal(m.index, -1);
    pc_route_match_clear(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_router_matches_literal_path),
        cmocka_unit_test(test_router_literal_is_exact_not_prefix),
        cmocka_unit_test(test_router_captures_named_segment),
        cmocka_unit_test(test_router_captures_two_segments_in_order),
        cmocka_unit_test(test_router_percent_decodes_captures),
        cmocka_unit_test(test_router_refuses_encoded_slash_in_capture),
        cmocka_unit_test(test_router_refuses_encoded_nul_in_capture),
        cmocka_unit_test(test_router_refuses_bad_percent_escapes),
        cmocka_unit_test(test_router_escape_at_end_of_segment_is_decoded),
        cmocka_unit_test(test_router_empty_segment_does_not_match_capture),
        cmocka_unit_test(test_router_capture_does_not_span_segments),
        cmocka_unit_test(test_router_trailing_slash_is_a_different_path),
        cmocka_unit_test(test_router_unknown_path_is_not_found),
        cmocka_unit_test(test_router_wrong_method_is_conflict_with_allow_list),
        cmocka_unit_test(test_router_head_takes_the_get_route_of_the_path_only),
        cmocka_unit_test(test_router_method_match_after_other_method_keeps_its_captures),
        cmocka_unit_test(test_router_hides_debug_routes_unless_enabled),
        cmocka_unit_test(test_router_debug_flag_does_not_affect_normal_routes),
        cmocka_unit_test(test_router_accepts_six_captures_refuses_seventh),
        cmocka_unit_test(test_router_empty_table_is_not_found),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
