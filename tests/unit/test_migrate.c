/* tests/unit/test_migrate.c — store/migrate.h: statement splitting and the embedded table. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/err.h"
#include "store/migrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STMTS 64

struct collect {
    size_t n;
    char *stmt[MAX_STMTS];
    size_t fail_at; /* 1-based call that returns fail_rc; 0 = never */
    int fail_rc;
};

static int collect_fn(const char *s, size_t n, void *arg)
{
    struct collect *c = arg;
    assert_true(c->n < MAX_STMTS);
    char *copy = malloc(n + 1);
    assert_non_null(copy);
    memcpy(copy, s, n);
    copy[n] = '\0';
    c->stmt[c->n++] = copy;
    if (c->fail_at && c->n == c->fail_at)
        return c->fail_rc;
    return 0;
}

static void collect_free(struct collect *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->stmt[i]);
    memset(c, 0, sizeof *c);
}

/* Splits sql and checks the statements against want (NULL-terminated). */
static void check_split(const char *sql, const char *const *want)
{
    struct collect c = {0};
    assert_int_equal(pc_migrate_split(sql, strlen(sql), collect_fn, &c), 0);
    size_t nwant = 0;
    while (want[nwant])
        nwant++;
    if (c.n != nwant) {
        for (size_t i = 0; i < c.n; i++)
            print_error("statement %zu: [%s]\n", i, c.stmt[i]);
        fail_msg("got %zu statements, want %zu", c.n, nwant);
    }
    for (size_t i = 0; i < nwant; i++)
        assert_string_equal(c.stmt[i], want[i]);
    collect_free(&c);
}

static void test_split_ends_statements_at_semicolon_at_end_of_line(void **state)
{
    static const char *const want[] = {"CREATE TABLE a (x INT)", "CREATE TABLE b (y INT)", NULL};
    check_split("CREATE TABLE a (x INT);\nCREATE TABLE b (y INT);\n", want);
}

static void test_split_joins_multi_line_statement_with_newlines(void **state)
{
    static const char *const want[] = {"CREATE TABLE a (\n  x INT,\n  y INT\n)", "SELECT 1", NULL};
    check_split("CREATE TABLE a (\n  x INT,\n  y INT\n);\nSELECT 1;\n", want);
}

static void test_split_skips_comment_lines(void **state)
{
    static const char *const want[] = {"SELECT 1", "SELECT\n2", NULL};
    check_split("-- header comment\n"
                "-- with a ; at the end;\n"
                "SELECT 1;\n"
                "   -- indented comment;\n"
                "SELECT\n"
                "\t-- comment inside a statement\n"
                "2;\n"
                "-- trailing comment\n",
                want);
}

static void test_split_skips_blank_lines(void **state)
{
    static const char *const want[] = {"SELECT 1", "SELECT\n2", NULL};
    check_split("\n\n   \nSELECT 1;\n\n\t\nSELECT\n\n2;\n\n", want);
}

static void test_split_handles_crlf_line_endings(void **state)
{
    static const char *const want[] = {"SELECT 1", "CREATE TABLE t (\nid INT\n)", NULL};
    check_split("-- comment\r\nSELECT 1;\r\n\r\nCREATE TABLE t (\r\nid INT\r\n);\r\n", want);
}

static void test_split_ignores_trailing_whitespace_after_semicolon(void **state)
{
    static const char *const want[] = {"SELECT 1", "SELECT 2", NULL};
    check_split("SELECT 1;   \nSELECT 2;\t\r\n", want);
}

static void test_split_semicolon_inside_line_does_not_split(void **state)
{
    static const char *const want[] = {"INSERT INTO t VALUES ('a;b')", "SELECT 1; SELECT 2\nFROM x",
                                       NULL};
    check_split("INSERT INTO t VALUES ('a;b');\nSELECT 1; SELECT 2\nFROM x;\n", want);
}

static void test_split_emits_trailing_statement_without_semicolon(void **state)
{
    static const char *const want[] = {"SELECT 1", "SELECT 2\nFROM dual", NULL};
    check_split("SELECT 1;\nSELECT 2\nFROM dual", want);
    static const char *const want2[] = {"SELECT 3", NULL};
    check_split("SELECT 3\n\n-- end\n", want2);
}

static void test_split_of_empty_or_comment_only_text_calls_nothing(void **state)
{
    static const char *const none[] = {NULL};
    check_split("", none);
    check_split("\n\n", none);
    check_split("-- only a comment\n  -- another\r\n", none);
}

static void test_split_last_line_without_newline(void **state)
{
    static const char *const want[] = {"SELECT 1", "SELECT 2", NULL};
    check_split("SELECT 1;\nSELECT 2;", want);
}

static void test_split_respects_len(void **state)
{
    const char *sql = "SELECT 1;\nSELECT 2;\n";
    struct collect c = {0};
    assert_int_equal(pc_migrate_split(sql, 10, collect_fn, &c), 0);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.stmt[0], "SELECT 1");
    collect_free(&c);
}

static void test_split_stops_at_first_callback_error(void **state)
{
    const char *sql = "SELECT 1;\nSELECT 2;\nSELECT 3;\nSELECT 4\n";
    struct collect c = {0};
    c.fail_at = 2;
    c.fail_rc = PC_EDB;
    assert_int_equal(pc_migrate_split(sql, strlen(sql), collect_fn, &c), PC_EDB);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.stmt[1], "SELECT 2");
    collect_free(&c);
}

static void test_split_returns_error_from_trailing_statement(void **state)
{
    const char *sql = "SELECT 1;\nSELECT 2";
    struct collect c = {0};
    c.fail_at = 2;
    c.fail_rc = PC_EDBDOWN;
    assert_int_equal(pc_migrate_split(sql, strlen(sql), collect_fn, &c), PC_EDBDOWN);
    assert_int_equal(c.n, 2);
    collect_free(&c);
}

static void test_migrations_table_is_sorted_from_1_without_gaps(void **state)
{
    assert_true(pc_migrations_count >= 1);
    for (size_t i = 0; i < pc_migrations_count; i++) {
        if (pc_migrations[i].version != (int)i + 1)
            fail_msg("migration %zu (%s) has version %d, want %zu", i, pc_migrations[i].name,
                     pc_migrations[i].version, i + 1);
    }
    assert_int_equal(pc_migrate_latest(), (int)pc_migrations_count);
}

static void test_migrations_names_carry_their_version(void **state)
{
    for (size_t i = 0; i < pc_migrations_count; i++) {
        const struct pc_migration *m = &pc_migrations[i];
        assert_non_null(m->name);
        char *end = NULL;
        long v = strtol(m->name, &end, 10);
        assert_int_equal(v, m->version);
        assert_int_equal(*end, '_');
        size_t nl = strlen(m->name);
        assert_true(nl > 4);
        assert_string_equal(m->name + nl - 4, ".sql");
    }
}

static void test_migrations_text_is_complete_and_terminated(void **state)
{
    for (size_t i = 0; i < pc_migrations_count; i++) {
        const struct pc_migration *m = &pc_migrations[i];
        assert_non_null(m->sql);
        assert_true(m->len > 0);
        assert_int_equal(strlen(m->sql), m->len);
    }
}

static void test_migration_1_creates_orders_table(void **state)
{
    assert_int_equal(pc_migrations[0].version, 1);
    assert_non_null(strstr(pc_migrations[0].sql, "CREATE TABLE orders"));
}

static void test_migrations_split_into_non_empty_statements(void **state)
{
    for (size_t i = 0; i < pc_migrations_count; i++) {
        const struct pc_migration *m = &pc_migrations[i];
        struct collect c = {0};
        assert_int_equal(pc_migrate_split(m->sql, m->len, collect_fn, &c), 0);
        assert_true(c.n >= 1);
        for (size_t j = 0; j < c.n; j++) {
            if (strlen(c.stmt[j]) == 0)
                fail_msg("%s: statement %zu is empty", m->name, j);
            /* A statement never keeps its terminating ';'. */
            assert_int_not_equal(c.stmt[j][strlen(c.stmt[j]) - 1], ';');
        }
        if (i == 0) {
            int found = 0;
            for (size_t j = 0; j < c.n; j++)
                found |= strncmp(c.stmt[j], "CREATE TABLE orders", 19) == 0;
            assert_true(found);
        }
        collect_free(&c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_ends_statements_at_semicolon_at_end_of_line),
        cmocka_unit_test(test_split_joins_multi_line_statement_with_newlines),
        cmocka_unit_test(test_split_skips_comment_lines),
        cmocka_unit_test(test_split_skips_blank_lines),
        cmocka_unit_test(test_split_handles_crlf_line_endings),
        cmocka_unit_test(test_split_ignores_trailing_whitespace_after_semicolon),
        cmocka_unit_test(test_split_semicolon_inside_line_does_not_split),
        cmocka_unit_test(test_split_emits_trailing_statement_without_semicolon),
        cmocka_unit_test(test_split_of_empty_or_comment_only_text_calls_nothing),
        cmocka_unit_test(test_split_last_line_without_newline),
        cmocka_unit_test(test_split_respects_len),
        cmocka_unit_test(test_split_stops_at_first_callback_error),
        cmocka_unit_test(test_split_returns_error_from_trailing_statement),
        cmocka_unit_test(test_migrations_table_is_sorted_from_1_without_gaps),
        cmocka_unit_test(test_migrations_names_carry_their_version),
        cmocka_unit_test(test_migrations_text_is_complete_and_terminated),
        cmocka_unit_test(test_migration_1_creates_orders_table),
        cmocka_unit_test(test_migrations_split_into_non_empty_statements),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
