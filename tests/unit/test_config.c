/* tests/unit/test_config.c — config/config.h: defaults, INI loading, validation, environment
 * overrides, printing with secrets masked, and docs/configuration.md listing every key. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/err.h"
#include "config/config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Clears every PORTRAITD_<SECTION>_<KEY> so the host environment cannot leak in. */
static void clear_env(void)
{
    const char *section, *key;
    for (size_t i = 0; pc_config_key_name(i, &section, &key); i++) {
        char env[128];
        int n = snprintf(env, sizeof env, "PORTRAITD_%s_%s", section, key);
        assert_true(n > 0 && (size_t)n < sizeof env);
        for (char *c = env; *c; c++)
            *c = (char)toupper((unsigned char)*c);
        unsetenv(env);
    }
}

static int setup(void **state)
{
    clear_env();
    return 0;
}

static int teardown(void **state)
{
    clear_env();
    return 0;
}

/* Writes text to a fresh temporary file; the caller unlinks path. */
static void write_tmp(char path[64], const char *text)
{
    snprintf(path, 64, "/tmp/pc_test_config_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t n = strlen(text);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    close(fd);
}

/* Reads a whole stream into a NUL-terminated malloc'd string. */
static char *slurp(FILE *fp)
{
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    long n = ftell(fp);
    assert_true(n >= 0);
    rewind(fp);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)n, fp), (size_t)n);
    s[n] = '\0';
    return s;
}

static void test_config_defaults_match_documentation(void **state)
{
    struct pc_config c;
    pc_config_defaults(&c);
    assert_string_equal(c.listen, "127.0.0.1:8443");
    assert_int_equal(c.threads, 2);
    assert_int_equal(c.workers, 4);
    assert_int_equal(c.queue_max, 1024);
    assert_string_equal(c.tls_cert, "var/tls/server.pem");
    assert_string_equal(c.tls_key, "var/tls/server.key");
    assert_false(c.plain_http);
    assert_int_equal(c.max_body_bytes, 10551296);
    assert_int_equal(c.max_json_bytes, 65536);
    assert_int_equal(c.max_header_bytes, 16384);
    assert_int_equal(c.timeout_s, 30);
    assert_int_equal(c.shutdown_grace_ms, 10000);
    assert_string_equal(c.port_file, "");
    assert_false(c.debug_routes);
    assert_string_equal(c.trusted_proxies, "");
    assert_string_equal(c.metrics_allow, "127.0.0.0/8, ::1/128");
    assert_int_equal(c.header_timeout_s, 10);
    assert_int_equal(c.body_timeout_s, 120);
    assert_int_equal(c.max_conns_per_ip, 256);
    assert_string_equal(c.db_host, "");
    assert_int_equal(c.db_port, 3306);
    assert_string_equal(c.db_socket, "var/run/mysqld.sock");
    assert_string_equal(c.db_user, "portraitd");
    assert_string_equal(c.db_password, "");
    assert_string_equal(c.db_name, "portraitd");
    assert_int_equal(c.db_connect_timeout_s, 3);
    assert_int_equal(c.db_rw_timeout_s, 30);
    assert_int_equal(c.db_retry_after_s, 2);
    assert_int_equal(c.staff_token_ttl_s, 43200);
    assert_int_equal(c.login_user_max_failures, 5);
    assert_int_equal(c.login_addr_max_failures, 20);
    assert_int_equal(c.login_window_s, 900);
    assert_string_equal(c.log_level, "info");
    pc_config_free(&c);
}

static void test_config_load_without_file_keeps_defaults(void **state)
{
    struct pc_config c;
    char err[256] = "";
    pc_config_defaults(&c);
    assert_int_equal(pc_config_load(&c, NULL, err, sizeof err), 0);
    assert_string_equal(c.listen, "127.0.0.1:8443");
    assert_int_equal(c.threads, 2);
    assert_int_equal(c.max_json_bytes, 65536);
    pc_config_free(&c);
}

static void test_config_load_reads_ini_file(void **state)
{
    char path[64];
    write_tmp(path, "; a comment\n"
                    "[server]\n"
                    "listen = 0.0.0.0:9443, [::1]:9443\n"
                    "threads = 8\n"
                    "max_json_bytes = 1048576\n"
                    "plain_http = yes\n"
                    "port_file = /tmp/port\n"
                    "\n"
                    "[db]\n"
                    "host = db.internal\n"
                    "port = 3307\n"
                    "password = from-file\n"
                    "\n"
                    "[auth]\n"
                    "login_window_s = 60\n"
                    "[log]\n"
                    "level = debug\n");
    struct pc_config c;
    char err[256] = "";
    pc_config_defaults(&c);
    int rc = pc_config_load(&c, path, err, sizeof err);
    unlink(path);
    if (rc)
        fail_msg("load failed: %s", err);
    assert_string_equal(c.listen, "0.0.0.0:9443, [::1]:9443");
    assert_int_equal(c.threads, 8);
    assert_int_equal(c.max_json_bytes, 1048576);
    assert_true(c.plain_http);
    assert_string_equal(c.port_file, "/tmp/port");
    assert_string_equal(c.db_host, "db.internal");
    assert_int_equal(c.db_port, 3307);
    assert_string_equal(c.db_password, "from-file");
    assert_int_equal(c.login_window_s, 60);
    assert_string_equal(c.log_level, "debug");
    /* Keys the file does not mention keep their defaults. */
    assert_int_equal(c.workers, 4);
    assert_string_equal(c.db_user, "portraitd");
    assert_int_equal(c.staff_token_ttl_s, 43200);
    pc_config_free(&c);
}

static void test_config_load_missing_file_is_io_error(void **state)
{
    struct pc_config c;
    char err[256] = "";
    pc_config_defaults(&c);
    assert_int_equal(pc_config_load(&c, "/nonexistent/portraitd.ini", err, sizeof err), PC_EIO);
    assert_non_null(strstr(err, "/nonexistent/portraitd.ini"));
    pc_config_free(&c);
}

static void expect_load_refused(const char *text, const char *needle)
{
    char path[64];
    write_tmp(path, text);
    struct pc_config c;
    char err[256] = "";
    pc_config_defaults(&c);
    int rc = pc_config_load(&c, path, err, sizeof err);
    unlink(path);
    pc_config_free(&c);
    if (rc != PC_EINVAL)
        fail_msg("file accepted (rc %d): %s", rc, text);
    if (!strstr(err, needle))
        fail_msg("message '%s' does not name '%s'", err, needle);
}

static void test_config_load_refuses_unknown_key_naming_it(void **state)
{
    expect_load_refused("[server]\nthreads = 2\nthreds = 4\n", "server.threds");
    expect_load_refused("[database]\nhost = x\n", "database.host");
}

static void test_config_refuses_retired_trust_proxy_naming_its_replacement(void **state)
{
    /* trust_proxy = true let any client choose its address: it must not load silently. */
    expect_load_refused("[server]\ntrust_proxy = true\n", "server.trusted_proxies");
    setenv("PORTRAITD_SERVER_TRUST_PROXY", "true", 1);
    struct pc_config c;
    char err[256] = "";
    pc_config_defaults(&c);
    assert_int_equal(pc_config_load(&c, NULL, err, sizeof err), PC_EINVAL);
    assert_non_null(strstr(err, "server.trusted_proxies"));
    unsetenv("PORTRAITD_SERVER_TRUST_PROXY");
    pc_config_free(&c);
}

static void test_config_load_refuses_out_of_range_naming_key(void **state)
{
    expect_load_refused("[server]\nthreads = 0\n", "server.threads");
    expect_load_refused("[server]\nthreads = 65\n", "server.threads");
    expect_load_refused("[server]\nmax_json_bytes = 255\n", "server.max_json_bytes");
    expect_load_refused("[db]\nport = 65536\n", "db.port");
    expect_load_refused("[db]\nport = -1\n", "db.port");
}

static void test_config_load_refuses_non_integer_naming_key(void **state)
{
    expect_load_refused("[server]\nthreads = two\n", "server.threads");
    expect_load_refused("[server]\nthreads = 2x\n", "server.threads");
    expect_load_refused("[server]\nthreads = 2.5\n", "server.threads");
    expect_load_refused("[server]\nthreads =\n", "server.threads");
    expect_load_refused("[server]\nmax_body_bytes = 99999999999999999999999\n",
                        "server.max_body_bytes");
}

static void test_config_load_refuses_syntax_error(void **state)
{
    expect_load_refused("[server]\nthis line has no equals sign\n", ":2");
}

static void test_config_range_bounds_are_inclusive(void **state)
{
    struct pc_config c;
    char err[256] = "";
    pc_config_defaults(&c);
    assert_int_equal(pc_config_set(&c, "server", "threads", "1", err, sizeof err), 0);
    assert_int_equal(c.threads, 1);
    assert_int_equal(pc_config_set(&c, "server", "threads", "64", err, sizeof err), 0);
    assert_int_equal(c.threads, 64);
    assert_int_equal(pc_config_set(&c, "server", "max_body_bytes", "1073741824", err, sizeof err),
                     0);
    assert_int_equal(c.max_body_bytes, 1073741824);
    assert_int_equal(pc_config_set(&c, "server", "max_body_bytes", "1073741825", err, sizeof err),
                     PC_EINVAL);
    assert_int_equal(c.max_body_bytes, 1073741824); /* unchanged on error */
    pc_config_free(&c);
}

static void test_config_set_refuses_unknown_key(void **state)
{
    struct pc_config c;
    char err[256] = "";
    pc_config_defaults(&c);
    assert_int_equal(pc_config_set(&c, "server", "nope", "1", err, sizeof err), PC_EINVAL);
    assert_non_null(strstr(err, "server.nope"));
    /* A real key under the wrong section is unknown too. */
    assert_int_equal(pc_config_set(&c, "db", "threads", "1", err, sizeof err), PC_EINVAL);
    assert_non_null(strstr(err, "db.threads"));
    pc_config_free(&c);
}

static void test_config_parses_bool_spellings(void **state)
{
    static const char *yes[] = {"true", "yes", "on", "1"};
    static const char *no[] = {"false", "no", "off", "0"};
    struct pc_config c;
    char err[256] = "";
    pc_config_defaults(&c);
    for (size_t i = 0; i < 4; i++) {
        c.debug_routes = false;
        assert_int_equal(pc_config_set(&c, "server", "debug_routes", yes[i], err, sizeof err), 0);
        assert_true(c.debug_routes);
        assert_int_equal(pc_config_set(&c, "server", "debug_routes", no[i], err, sizeof err), 0);
        assert_false(c.debug_routes);
    }
    pc_config_free(&c);
}

static void test_config_refuses_bad_bool_naming_key(void **state)
{
    struct pc_config c;
    char err[256] = "";
    pc_config_defaults(&c);
    c.debug_routes = true;
    assert_int_equal(pc_config_set(&c, "server", "debug_routes", "maybe", err, sizeof err),
                     PC_EINVAL);
    assert_non_null(strstr(err, "server.debug_routes"));
    assert_true(c.debug_routes);
    assert_int_equal(pc_config_set(&c, "server", "debug_routes", "", err, sizeof err), PC_EINVAL);
    assert_int_equal(pc_config_set(&c, "server", "debug_routes", "2", err, sizeof err), PC_EINVAL);
    pc_config_free(&c);
    expect_load_refused("[server]\nplain_http = enabled\n", "server.plain_http");
}

static void test_config_env_password_wins_over_file(void **state)
{
    char path[64];
    write_tmp(path, "[db]\npassword = from-file\nuser = fileuser\n");
    assert_int_equal(setenv("PORTRAITD_DB_PASSWORD", "from-env", 1), 0);
    struct pc_config c;
    char err[256] = "";
    pc_config_defaults(&c);
    int rc = pc_config_load(&c, path, err, sizeof err);
    unlink(path);
    unsetenv("PORTRAITD_DB_PASSWORD");
    if (rc)
        fail_msg("load failed: %s", err);
    assert_string_equal(c.db_password, "from-env");
    assert_string_equal(c.db_user, "fileuser");
    pc_config_free(&c);
}

static void test_config_env_overrides_integers_and_bools(void **state)
{
    char path[64];
    write_tmp(path, "[server]\nthreads = 3\n");
    assert_int_equal(setenv("PORTRAITD_SERVER_THREADS", "12", 1), 0);
    assert_int_equal(setenv("PORTRAITD_SERVER_DEBUG_ROUTES", "on", 1), 0);
    assert_int_equal(setenv("PORTRAITD_AUTH_LOGIN_WINDOW_S", "120", 1), 0);
    struct pc_config c;
    char err[256] = "";
    pc_config_defaults(&c);
    int rc = pc_config_load(&c, path, err, sizeof err);
    unlink(path);
    if (rc)
        fail_msg("load failed: %s", err);
    assert_int_equal(c.threads, 12);
    assert_true(c.debug_routes);
    assert_int_equal(c.login_window_s, 120);
    pc_config_free(&c);
}

static void test_config_env_applies_without_file(void **state)
{
    assert_int_equal(setenv("PORTRAITD_LOG_LEVEL", "warn", 1), 0);
    struct pc_config c;
    char err[256] = "";
    pc_config_defaults(&c);
    assert_int_equal(pc_config_load(&c, NULL, err, sizeof err), 0);
    assert_string_equal(c.log_level, "warn");
    pc_config_free(&c);
}

static void test_config_env_bad_value_refused_naming_key(void **state)
{
    assert_int_equal(setenv("PORTRAITD_SERVER_WORKERS", "lots", 1), 0);
    struct pc_config c;
    char err[256] = "";
    pc_config_defaults(&c);
    assert_int_equal(pc_config_load(&c, NULL, err, sizeof err), PC_EINVAL);
    assert_non_null(strstr(err, "server.workers"));
    pc_config_free(&c);
}

static void test_config_print_masks_password(void **state)
{
    struct pc_config c;
    char err[256] = "";
    pc_config_defaults(&c);
    assert_int_equal(pc_config_set(&c, "db", "password", "hunter2-secret", err, sizeof err), 0);
    assert_int_equal(pc_config_set(&c, "server", "threads", "7", err, sizeof err), 0);
    FILE *fp = tmpfile();
    assert_non_null(fp);
    pc_config_print(&c, fp);
    char *out = slurp(fp);
    fclose(fp);
    assert_null(strstr(out, "hunter2"));
    assert_non_null(strstr(out, "\npassword = ********\n"));
    assert_non_null(strstr(out, "[server]\n"));
    assert_non_null(strstr(out, "\n[db]\n"));
    assert_non_null(strstr(out, "\n[auth]\n"));
    assert_non_null(strstr(out, "\n[log]\n"));
    assert_non_null(strstr(out, "\nthreads = 7\n"));
    assert_non_null(strstr(out, "\nlisten = 127.0.0.1:8443\n"));
    assert_non_null(strstr(out, "\nmax_json_bytes = 65536\n"));
    assert_non_null(strstr(out, "\nplain_http = false\n"));
    free(out);
    pc_config_free(&c);
}

static void test_config_print_shows_empty_password_as_empty(void **state)
{
    struct pc_config c;
    pc_config_defaults(&c);
    FILE *fp = tmpfile();
    assert_non_null(fp);
    pc_config_print(&c, fp);
    char *out = slurp(fp);
    fclose(fp);
    assert_non_null(strstr(out, "\npassword = \n"));
    assert_null(strstr(out, "********"));
    free(out);
    pc_config_free(&c);
}

static void test_config_print_output_loads_back_to_same_values(void **state)
{
    struct pc_config a, b;
    char err[256] = "";
    pc_config_defaults(&a);
    assert_int_equal(pc_config_set(&a, "server", "listen", "0.0.0.0:1", err, sizeof err), 0);
    assert_int_equal(pc_config_set(&a, "server", "debug_routes", "true", err, sizeof err), 0);
    assert_int_equal(
        pc_config_set(&a, "server", "trusted_proxies", "10.0.0.0/8, ::1", err, sizeof err), 0);
    assert_int_equal(pc_config_set(&a, "server", "max_body_bytes", "2048", err, sizeof err), 0);
    assert_int_equal(pc_config_set(&a, "db", "host", "h", err, sizeof err), 0);
    char path[64];
    write_tmp(path, "");
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    pc_config_print(&a, fp);
    fclose(fp);
    pc_config_defaults(&b);
    int rc = pc_config_load(&b, path, err, sizeof err);
    unlink(path);
    if (rc)
        fail_msg("printed config does not load back: %s", err);
    assert_string_equal(b.listen, "0.0.0.0:1");
    assert_true(b.debug_routes);
    assert_string_equal(b.trusted_proxies, "10.0.0.0/8, ::1");
    assert_int_equal(b.max_body_bytes, 2048);
    assert_string_equal(b.db_host, "h");
    assert_string_equal(b.port_file, "");
    assert_int_equal(b.threads, a.threads);
    pc_config_free(&a);
    pc_config_free(&b);
}

static int is_ident(const char *s)
{
    if (!s || !*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return 0;
    return 1;
}

static void test_config_key_names_are_unique_lowercase_and_documented(void **state)
{
    const char *section = NULL, *key = NULL;
    size_t n = 0;
    int saw_password = 0, saw_listen = 0, saw_level = 0;
    const char *doc;
    while ((doc = pc_config_key_name(n, &section, &key))) {
        /* Lower-case identifiers, so PORTRAITD_<SECTION>_<KEY> maps back unambiguously. */
        if (!is_ident(section) || !is_ident(key))
            fail_msg("key %zu is '%s.%s'", n, section ? section : "?", key ? key : "?");
        assert_true(strlen(doc) > 5);
        for (size_t j = 0; j < n; j++) {
            const char *s2, *k2;
            assert_non_null(pc_config_key_name(j, &s2, &k2));
            if (!strcmp(s2, section) && !strcmp(k2, key))
                fail_msg("duplicate key %s.%s", section, key);
        }
        saw_password |= !strcmp(section, "db") && !strcmp(key, "password");
        saw_listen |= !strcmp(section, "server") && !strcmp(key, "listen");
        saw_level |= !strcmp(section, "log") && !strcmp(key, "level");
        n++;
    }
    assert_true(n >= 29);
    assert_true(saw_password && saw_listen && saw_level);
    assert_null(pc_config_key_name(n, &section, &key));
    assert_null(pc_config_key_name((size_t)-1, &section, &key));
}

static void test_config_every_key_is_documented(void **state)
{
    const char *path = PC_SOURCE_DIR "/docs/configuration.md";
    FILE *fp = fopen(path, "rb");
    if (!fp)
        fail_msg("cannot open %s", path);
    char *doc = slurp(fp);
    fclose(fp);
    const char *section, *key;
    int missing = 0;
    for (size_t i = 0; pc_config_key_name(i, &section, &key); i++) {
        char want[128];
        snprintf(want, sizeof want, "`%s.%s`", section, key);
        if (!strstr(doc, want)) {
            print_error("%s is not documented in docs/configuration.md\n", want);
            missing++;
        }
    }
    free(doc);
    assert_int_equal(missing, 0);
}

static void test_config_free_is_null_safe_and_clears(void **state)
{
    struct pc_config c;
    pc_config_defaults(&c);
    pc_config_free(&c);
    assert_null(c.listen);
    assert_null(c.db_password);
    pc_config_free(&c);
    pc_config_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_config_defaults_match_documentation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_load_without_file_keeps_defaults, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_config_load_reads_ini_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_load_missing_file_is_io_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_load_refuses_unknown_key_naming_it, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_config_refuses_retired_trust_proxy_naming_its_replacement, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_load_refuses_out_of_range_naming_key, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_config_load_refuses_non_integer_naming_key, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_config_load_refuses_syntax_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_range_bounds_are_inclusive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_set_refuses_unknown_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_parses_bool_spellings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_refuses_bad_bool_naming_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_env_password_wins_over_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_env_overrides_integers_and_bools, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_config_env_applies_without_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_env_bad_value_refused_naming_key, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_config_print_masks_password, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_print_shows_empty_password_as_empty, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_config_print_output_loads_back_to_same_values, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_config_key_names_are_unique_lowercase_and_documented,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_every_key_is_documented, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_free_is_null_safe_and_clears, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
