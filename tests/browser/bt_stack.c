/* tests/browser/bt_stack.c — runs one browser test file (tests/browser/NAME.test.mjs) against a
 * real stack started the integration harness's way: a private MariaDB, the WeChat sandbox
 * (WeChat Pay with development keys, the SMS gateway), and portraitd over TLS serving the
 * built pages (server.www_dir = BUILD/www). It writes stack.json for the test (addresses, CA,
 * the admin account, fixture paths), runs `node --test FILE` with Debian's Chromium driven by
 * playwright-core, and fails when the test fails or a server log holds a sanitizer report.
 * Usage: bt_stack FILE.test.mjs */
#include "tests/integration/harness.h"

#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>

#define ADMIN_PASSWORD "admin-browser-pass-1"
#define SMS_KEY        "sms-browser-key-123"

static struct h_db g_db;
static struct h_sandbox g_sb;
static struct h_srv g_srv;
static const char *g_test;

static const char *payfile(const char *dir, const char *name, char *buf, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return h_read_text(path, buf, len);
}

static void write_stack_json(const char *path, const char *pay)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f,
            "{\"base\": \"https://127.0.0.1:%d\", \"sandbox\": \"%s\", \"ca\": \"%s\",\n"
            " \"cert\": \"%s/tls/server.pem\",\n"
            " \"admin\": {\"username\": \"admin\", \"password\": \"%s\"},\n"
            " \"fixtures\": \"%s/tests/fixtures\", \"workdir\": \"%s\", \"pay_dir\": \"%s\",\n"
            " \"screenshots\": \"%s\", \"demo_dir\": \"%s/demo\"}\n",
            g_srv.port, g_sb.base, g_srv.ca, h_workdir(), ADMIN_PASSWORD, PC_SOURCE_DIR,
            h_workdir(), pay, PC_SCREENSHOTS, h_workdir());
    fclose(f);
}

static int run_node(const char *stack_json)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setenv("PORTRAITD_STACK", stack_json, 1);
        setenv("NODE_EXTRA_CA_CERTS", g_srv.ca, 1);
        setenv("NODE_PATH", PC_SOURCE_DIR "/web/node_modules", 1);
        if (chdir(PC_SOURCE_DIR "/web") != 0)
            _exit(126);
        execlp("node", "node", "--test", "--test-concurrency=1", g_test, (char *)NULL);
        _exit(127);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void test_browser_file_passes_against_the_real_stack(void **state)
{
    (void)state;
    char cmd[1200], pay[400], wx[600], mchid[32], serial[64], apiv3[64], conf[3000], sj[400];
    snprintf(pay, sizeof pay, "%s/pay", h_workdir());
    snprintf(cmd, sizeof cmd, "'%s/scripts/gen-pay-keys.sh' '%s' >/dev/null", PC_SOURCE_DIR, pay);
    assert_int_equal(system(cmd), 0);
    char args[1000];
    snprintf(args, sizeof args,
             "--pay-dir %s --ca-file %s/tls/dev-ca.pem --notify-schedule 0.3,0.3,0.5,1,1,2 "
             "--refund-delay-ms 300 --sms-key %s",
             pay, h_workdir(), SMS_KEY);
    h_db_start(&g_db);
    h_sandbox_start(&g_sb, args);
    int port = h_free_port();
    snprintf(conf, sizeof conf,
             "%s[server]\nlisten = 127.0.0.1:%d\nwww_dir = %s\n"
             "[pay]\nmchid = %s\napi_base = %s\nca_file = %s/tls/dev-ca.pem\n"
             "merchant_key_file = %s/merchant.key\nmerchant_serial = %s\napiv3_key = %s\n"
             "platform_certs = %s/platform.pem\n"
             "notify_url = https://127.0.0.1:%d/api/v1/pay/notify\n"
             "refund_notify_url = https://127.0.0.1:%d/api/v1/pay/refund-notify\n"
             "sweep_interval_ms = 500\nsweep_min_age_s = 5\n"
             "[finance]\nreconcile_interval_ms = 200\n"
             "[notify]\ninterval_ms = 200\nbackoff_base_ms = 200\n"
             "[sms]\napi_base = %s\napi_key = %s\nca_file = %s/tls/dev-ca.pem\n",
             h_sandbox_conf(&g_sb, wx, sizeof wx), port, PC_WWW_DIR,
             payfile(pay, "mchid", mchid, sizeof mchid), g_sb.base, h_workdir(), pay,
             payfile(pay, "merchant.serial", serial, sizeof serial),
             payfile(pay, "apiv3.key", apiv3, sizeof apiv3), pay, port, port, g_sb.base, SMS_KEY,
             h_workdir());
    h_srv_start(&g_srv, &g_db, conf, 0);
    assert_int_equal(g_srv.port, port);
    h_user_add(&g_srv, "admin", "admin", ADMIN_PASSWORD);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/demo' '%s' && '%s' '%s/demo' >/dev/null", h_workdir(),
             PC_SCREENSHOTS, PC_DEMO_PORTRAIT, h_workdir());
    assert_int_equal(system(cmd), 0);
    snprintf(sj, sizeof sj, "%s/stack.json", h_workdir());
    write_stack_json(sj, pay);
    int rc = run_node(sj);
    if (rc) {
        fprintf(stderr, "bt_stack: %s exited with %d; server log:\n", g_test, rc);
        h_srv_dump_log(&g_srv);
    }
    assert_int_equal(rc, 0);
    assert_int_equal(h_srv_stop(&g_srv, SIGTERM), 0);
    assert_int_equal(h_sandbox_stop(&g_sb), 0);
}

static int teardown(void **state)
{
    (void)state;
    return h_stack_down(&g_srv, &g_sb, &g_db);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bt_stack FILE.test.mjs\n");
        return 2;
    }
    g_test = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_browser_file_passes_against_the_real_stack),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
