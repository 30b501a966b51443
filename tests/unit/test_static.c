/* tests/unit/test_static.c — the static-file rules of server/static.c: which relative paths may
 * be served, and the content type of each kind of file the page build writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "server/static.h"

#include <string.h>

static void test_only_plain_relative_paths_are_served(void **state)
{
    (void)state;
    static const char *const ok[] = {"console/index.html", "assets/vendor-CVU5VGKD.css",
                                     "assets/a_b-c.1.js", "pc/index.html"};
    static const char *const bad[] = {
        "",   "/etc/passwd", "../secret",     "assets/../x", "assets/.x", ".env",       "a//b",
        "a/", "a/./b",       "assets/a b.js", "assets/%2e",  "a\\b",      "assets/é.js"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (!pc_static_path_ok(ok[i]))
            fail_msg("refused %s", ok[i]);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (pc_static_path_ok(bad[i]))
            fail_msg("accepted %s", bad[i]);
    char longp[300];
    memset(longp, 'a', sizeof longp - 1);
    longp[sizeof longp - 1] = '\0';
    assert_false(pc_static_path_ok(longp));
    assert_false(pc_static_path_ok(NULL));
}

static void test_content_types_follow_the_extension(void **state)
{
    (void)state;
    assert_string_equal(pc_static_content_type("console/index.html"), "text/html; charset=utf-8");
    assert_string_equal(pc_static_content_type("assets/x-1.js"), "text/javascript; charset=utf-8");
    assert_string_equal(pc_static_content_type("assets/x.CSS"), "text/css; charset=utf-8");
    assert_string_equal(pc_static_content_type("assets/f.svg"), "image/svg+xml");
    assert_string_equal(pc_static_content_type("assets/f.woff2"), "font/woff2");
    assert_string_equal(pc_static_content_type("assets/f"), "application/octet-stream");
    assert_string_equal(pc_static_content_type("assets/f.exe"), "application/octet-stream");
}

static void test_the_csp_allows_no_inline_script_and_no_eval(void **state)
{
    (void)state;
    assert_non_null(strstr(pc_static_csp, "script-src 'self';"));
    assert_null(strstr(pc_static_csp, "unsafe-eval"));
    assert_null(strstr(pc_static_csp, "unsafe-inline"));
    assert_non_null(strstr(pc_static_csp, "frame-ancestors 'none'"));
    assert_non_null(strstr(pc_static_csp, "img-src 'self' blob: data:"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_only_plain_relative_paths_are_served),
        cmocka_unit_test(test_content_types_follow_the_extension),
        cmocka_unit_test(test_the_csp_allows_no_inline_script_and_no_eval),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
