/* tests/integration/it_pages.c — what the browser pages stand on, against the real stack:
 * static files (types, caching, CSP, no escape from www_dir), the staff accounts API (scope,
 * disabling and new passwords revoke sessions, audited without secrets), the PC page's SMS
 * login (single use, expiry, wrong tries, rate limits, codes stored hashed, the account of a
 * bound phone) and WeChat Pay Native (code_url reused, paid through the sandbox). */
#include "harness.h"

#include <stdbool.h>
#include <sys/stat.h>
#include <time.h>

#define SMS_KEY "sms-pages-key-123"

static struct h_db g_db;
static struct h_sandbox g_sb;
static struct h_srv g_srv;
static char g_admin[64];
static long long g_school, g_school2, g_task;

static void msleep(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static const char *payfile(const char *dir, const char *name, char *buf, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return h_read_text(path, buf, len);
}

static int setup(void **state)
{
    (void)state;
    char www[400], p[500], pay[400], cmd[700], args[800], wx[600], conf[3000];
    char mchid[32], serial[64], apiv3[64];
    snprintf(www, sizeof www, "%s/www", h_workdir());
    mkdir(www, 0700);
    snprintf(p, sizeof p, "%s/console", www);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/assets", www);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/console/index.html", www);
    write_file(p, "<!doctype html><title>console</title>");
    snprintf(p, sizeof p, "%s/assets/app-abc123.js", www);
    write_file(p, "console.log('hi')\n");
    snprintf(p, sizeof p, "%s/secret.txt", h_workdir());
    write_file(p, "not for the web\n");
    snprintf(pay, sizeof pay, "%s/pay", h_workdir());
    snprintf(cmd, sizeof cmd, "'%s/scripts/gen-pay-keys.sh' '%s' >/dev/null", PC_SOURCE_DIR, pay);
    assert_int_equal(system(cmd), 0);
    snprintf(
        args, sizeof args,
        "--pay-dir %s --ca-file %s/tls/dev-ca.pem --notify-schedule 0.3,0.3,0.5,1 --sms-key %s",
        pay, h_workdir(), SMS_KEY);
    h_db_start(&g_db);
    h_sandbox_start(&g_sb, args);
    int port = h_free_port();
    snprintf(
        conf, sizeof conf,
        "%s[server]\nlisten = 127.0.0.1:%d\nwww_dir = %s\n"
        "[auth]\nsms_addr_max = 6\n"
        "[pay]\nmchid = %s\napi_base = %s\nca_file = %s/tls/dev-ca.pem\n"
        "merchant_key_file = %s/merchant.key\nmerchant_serial = %s\napiv3_key = %s\n"
        "platform_certs = %s/platform.pem\n"
        "notify_url = https://127.0.0.1:%d/api/v1/pay/notify\n"
        "[notify]\ninterval_ms = 100\n"
        "[sms]\napi_base = %s\napi_key = %s\nca_file = %s/tls/dev-ca.pem\n",
        h_sandbox_conf(&g_sb, wx, sizeof wx), port, www, payfile(pay, "mchid", mchid, sizeof mchid),
        g_sb.base, h_workdir(), pay, payfile(pay, "merchant.serial", serial, sizeof serial),
        payfile(pay, "apiv3.key", apiv3, sizeof apiv3), pay, port, g_sb.base, SMS_KEY, h_workdir());
    h_srv_start(&g_srv, &g_db, conf, 0);
    h_user_add(&g_srv, "boss", "admin", "boss-password-1");
    h_login(&g_srv, "boss", "boss-password-1", g_admin, sizeof g_admin);
    h_db_int(&g_db,
             "INSERT INTO schools (code, name) VALUES ('10402', '甲大学'), ('10403', '乙大学')");
    g_school = h_db_int(&g_db, "SELECT id FROM schools WHERE code='10402'");
    g_school2 = h_db_int(&g_db, "SELECT id FROM schools WHERE code='10403'");
    h_db_int(&g_db,
             "INSERT INTO tasks (school_id, name, collection_type, feature_code, "
             "feature_code_norm, opens_at, closes_at, price_fen, grad_year) VALUES (%lld, "
             "'采集', 'scattered', 'pagetask', 'pagetask', UTC_TIMESTAMP() - INTERVAL 1 DAY, "
             "UTC_TIMESTAMP() + INTERVAL 1 DAY, 2500, 2024)",
             g_school);
    g_task = h_db_int(&g_db, "SELECT id FROM tasks WHERE feature_code_norm='pagetask'");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return h_stack_down(&g_srv, &g_sb, &g_db);
}

/* ---------- static files ---------- */

static void test_pages_are_served_with_types_caching_and_a_strict_csp(void **state)
{
    (void)state;
    struct h_resp r;
    char h[512];
    h_get(&g_srv, "/console/", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(h_header(&r, "Content-Type", h, sizeof h), "text/html; charset=utf-8");
    assert_string_equal(h_header(&r, "Cache-Control", h, sizeof h), "no-cache");
    assert_non_null(
        strstr(h_header(&r, "Content-Security-Policy", h, sizeof h), "script-src 'self'"));
    assert_null(strstr(h, "unsafe-eval"));
    assert_string_equal(h_header(&r, "X-Frame-Options", h, sizeof h), "DENY");
    assert_non_null(strstr(r.body, "<title>console</title>"));
    char etag[128], inm[160];
    snprintf(etag, sizeof etag, "%s", h_header(&r, "ETag", h, sizeof h));
    h_resp_free(&r);
    snprintf(inm, sizeof inm, "If-None-Match: %s", etag);
    const char *hs[] = {inm, NULL};
    h_http(&g_srv, "GET", "/console/", hs, NULL, 0, &r);
    assert_int_equal(r.status, 304);
    h_resp_free(&r);
    /* HEAD: the same headers, no body. */
    h_get(&g_srv, "/console/", NULL, &r);
    size_t page_len = r.len;
    h_resp_free(&r);
    h_http(&g_srv, "HEAD", "/console/", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, 0);
    assert_int_equal(strtoll(h_header(&r, "Content-Length", h, sizeof h), NULL, 10), page_len);
    assert_string_equal(h_header(&r, "ETag", h, sizeof h), etag);
    h_resp_free(&r);

    h_get(&g_srv, "/assets/app-abc123.js", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(h_header(&r, "Content-Type", h, sizeof h),
                        "text/javascript; charset=utf-8");
    assert_string_equal(h_header(&r, "Cache-Control", h, sizeof h),
                        "public, max-age=31536000, immutable");
    h_resp_free(&r);

    h_get(&g_srv, "/console", NULL, &r);
    assert_int_equal(r.status, 301);
    assert_string_equal(h_header(&r, "Location", h, sizeof h), "/console/");
    h_resp_free(&r);
}

static void test_nothing_outside_www_dir_or_hidden_is_served(void **state)
{
    (void)state;
    static const char *const paths[] = {
        "/assets/..%2Fsecret.txt", "/assets/..", "/assets/.hidden", "/assets/%2e%2e",
        "/assets/missing.js",      "/pc/"}; /* no pc/index.html in this www_dir */
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        struct h_resp r;
        h_get(&g_srv, paths[i], NULL, &r);
        if (r.status != 404)
            fail_msg("%s answered %ld", paths[i], r.status);
        h_resp_free(&r);
    }
}

/* ---------- staff accounts ---------- */

static long create_staff(const char *token, const char *json, cJSON **out)
{
    struct h_resp r;
    h_post_json(&g_srv, "/api/v1/admin/staff", token, json, &r);
    long st = r.status;
    if (out)
        *out = st == 201 ? h_json(&r) : NULL;
    h_resp_free(&r);
    return st;
}

static long patch_staff(const char *token, long long id, const char *json)
{
    char path[64];
    snprintf(path, sizeof path, "/api/v1/admin/staff/%lld", id);
    struct h_resp r;
    h_req_json(&g_srv, "PATCH", path, token, json, &r);
    long st = r.status;
    h_resp_free(&r);
    return st;
}

static long me_status(const char *token)
{
    struct h_resp r;
    h_get(&g_srv, "/api/v1/admin/me", token, &r);
    long st = r.status;
    h_resp_free(&r);
    return st;
}

static void test_staff_accounts_are_created_with_scoped_roles_and_checked(void **state)
{
    (void)state;
    char body[512];
    cJSON *a = NULL;
    snprintf(body, sizeof body,
             "{\"username\":\"rev.one\",\"password\":\"reviewer-pass-1\",\"display_name\":\"一号\","
             "\"roles\":[{\"role\":\"reviewer\",\"task_id\":%lld}]}",
             g_task);
    assert_int_equal(create_staff(g_admin, body, &a), 201);
    const cJSON *role = cJSON_GetArrayItem(cJSON_GetObjectItem(a, "roles"), 0);
    assert_int_equal((long long)cJSON_GetObjectItem(role, "school_id")->valuedouble, g_school);
    assert_int_equal((long long)cJSON_GetObjectItem(role, "task_id")->valuedouble, g_task);
    assert_null(cJSON_GetObjectItem(a, "password"));
    cJSON_Delete(a);
    assert_int_equal(create_staff(g_admin, body, NULL), 409); /* username taken */

    static const char *const bad[] = {
        "{\"username\":\"x1\",\"password\":\"short\",\"roles\":[{\"role\":\"finance\"}]}",
        "{\"username\":\"x2\",\"password\":\"long-enough-1\",\"roles\":[{\"role\":\"boss\"}]}",
        "{\"username\":\"x3\",\"password\":\"long-enough-1\",\"roles\":[]}",
        "{\"username\":\"x 4\",\"password\":\"long-enough-1\",\"roles\":[{\"role\":\"finance\"}]}",
        "{\"username\":\"x5\",\"password\":\"long-enough-1\",\"roles\":[{\"role\":\"college\"}]}",
        "{\"username\":\"x6\",\"password\":\"long-enough-1\",\"roles\":[{\"role\":\"finance\","
        "\"task_id\":999}]}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct h_resp r;
        h_post_json(&g_srv, "/api/v1/admin/staff", g_admin, bad[i], &r);
        h_assert_error(&r, 400, "INVALID_INPUT");
        h_resp_free(&r);
    }
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM staff WHERE username LIKE 'x%%'"), 0);

    /* A school admin grants roles in their school only and sees only its accounts. */
    snprintf(body, sizeof body,
             "{\"username\":\"school.admin\",\"password\":\"school-admin-1\","
             "\"roles\":[{\"role\":\"admin\",\"school_id\":%lld}]}",
             g_school);
    assert_int_equal(create_staff(g_admin, body, NULL), 201);
    char sa[64];
    h_login(&g_srv, "school.admin", "school-admin-1", sa, sizeof sa);
    snprintf(body, sizeof body,
             "{\"username\":\"other.fin\",\"password\":\"finance-pass-1\","
             "\"roles\":[{\"role\":\"finance\",\"school_id\":%lld}]}",
             g_school2);
    struct h_resp r;
    h_post_json(&g_srv, "/api/v1/admin/staff", sa, body, &r);
    h_assert_error(&r, 400, "INVALID_INPUT");
    h_resp_free(&r);
    snprintf(body, sizeof body,
             "{\"username\":\"li.college\",\"password\":\"college-pass-1\","
             "\"roles\":[{\"role\":\"college\",\"school_id\":%lld,\"college\":\"文学院\"}]}",
             g_school);
    assert_int_equal(create_staff(sa, body, NULL), 201);
    h_get(&g_srv, "/api/v1/admin/staff", sa, &r);
    assert_int_equal(r.status, 200);
    assert_null(strstr(r.body, "\"boss\"")); /* the company admin is not theirs */
    assert_non_null(strstr(r.body, "li.college"));
    h_resp_free(&r);
    long long boss = h_db_int(&g_db, "SELECT id FROM staff WHERE username='boss'");
    assert_int_equal(patch_staff(sa, boss, "{\"disabled\":true}"), 404);

    /* Only admins manage accounts. */
    char rev[64];
    h_login(&g_srv, "rev.one", "reviewer-pass-1", rev, sizeof rev);
    h_get(&g_srv, "/api/v1/admin/staff", rev, &r);
    h_assert_error(&r, 403, "FORBIDDEN");
    h_resp_free(&r);
}

static void test_disabling_or_a_new_password_revokes_the_sessions_and_is_audited(void **state)
{
    (void)state;
    char body[256], t1[64], t2[64];
    snprintf(body, sizeof body,
             "{\"username\":\"fin.two\",\"password\":\"finance-pass-2\","
             "\"roles\":[{\"role\":\"finance\",\"school_id\":%lld}]}",
             g_school);
    assert_int_equal(create_staff(g_admin, body, NULL), 201);
    long long id = h_db_int(&g_db, "SELECT id FROM staff WHERE username='fin.two'");
    h_login(&g_srv, "fin.two", "finance-pass-2", t1, sizeof t1);
    h_login(&g_srv, "fin.two", "finance-pass-2", t2, sizeof t2);
    assert_int_equal(patch_staff(g_admin, id, "{\"password\":\"finance-pass-3\"}"), 200);
    assert_int_equal(me_status(t1), 401);
    assert_int_equal(me_status(t2), 401);
    h_login(&g_srv, "fin.two", "finance-pass-3", t1, sizeof t1);
    assert_int_equal(me_status(t1), 200);

    assert_int_equal(patch_staff(g_admin, id, "{\"disabled\":true}"), 200);
    assert_int_equal(me_status(t1), 401);
    struct h_resp r;
    h_post_json(&g_srv, "/api/v1/admin/login", NULL,
                "{\"username\":\"fin.two\",\"password\":\"finance-pass-3\"}", &r);
    h_assert_error(&r, 401, "INVALID_CREDENTIALS");
    h_resp_free(&r);
    assert_int_equal(patch_staff(g_admin, id, "{\"disabled\":false}"), 200);
    h_login(&g_srv, "fin.two", "finance-pass-3", t1, sizeof t1);

    /* Roles are replaced as a set. */
    snprintf(body, sizeof body, "{\"roles\":[{\"role\":\"reviewer\",\"school_id\":%lld}]}",
             g_school);
    assert_int_equal(patch_staff(g_admin, id, body), 200);
    assert_int_equal(h_db_int(&g_db,
                              "SELECT COUNT(*) FROM staff_roles WHERE staff_id=%lld AND "
                              "role='reviewer'",
                              id),
                     1);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM staff_roles WHERE staff_id=%lld", id),
                     1);

    /* An admin cannot lock themself out. */
    long long boss = h_db_int(&g_db, "SELECT id FROM staff WHERE username='boss'");
    assert_int_equal(patch_staff(g_admin, boss, "{\"disabled\":true}"), 400);
    assert_int_equal(patch_staff(g_admin, boss, "{\"roles\":[{\"role\":\"finance\"}]}"), 400);

    assert_true(h_db_int(&g_db,
                         "SELECT COUNT(*) FROM audit_log WHERE action='staff.update' AND "
                         "target_id='%lld' AND JSON_VALUE(details,'$.password_changed')=true",
                         id) == 1);
    assert_int_equal(
        h_db_int(&g_db, "SELECT COUNT(*) FROM audit_log WHERE details LIKE '%%finance-pass%%'"), 0);
}

/* ---------- SMS login ---------- */

static long sms_code(const char *phone, struct h_resp *out)
{
    char body[64];
    snprintf(body, sizeof body, "{\"phone\":\"%s\"}", phone);
    h_post_json(&g_srv, "/api/v1/auth/sms-code", NULL, body, out);
    return out->status;
}

/* The newest code the sandbox delivered to phone ("" when none within 10 s). */
static void delivered_code(const char *phone, char code[7])
{
    code[0] = '\0';
    for (int i = 0; i < 200 && !code[0]; i++) {
        cJSON *j = h_sb_json(&g_sb, "GET", "/__sandbox/messages?kind=sms", NULL);
        const cJSON *m;
        cJSON_ArrayForEach(m, cJSON_GetObjectItem(j, "messages"))
        {
            const char *to = cJSON_GetObjectItem(m, "to")->valuestring;
            const char *text = cJSON_GetObjectItem(m, "text")->valuestring;
            const char *d = strstr(text, "验证码为 ");
            if (!strcmp(to, phone) && d)
                snprintf(code, 7, "%s", d + strlen("验证码为 "));
        }
        cJSON_Delete(j);
        if (!code[0])
            msleep(50);
    }
}

static long phone_login(const char *phone, const char *code, struct h_resp *out)
{
    char body[96];
    snprintf(body, sizeof body, "{\"phone\":\"%s\",\"code\":\"%s\"}", phone, code);
    h_post_json(&g_srv, "/api/v1/auth/phone-login", NULL, body, out);
    return out->status;
}

static void test_an_sms_code_logs_in_once_and_is_stored_only_hashed(void **state)
{
    (void)state;
    struct h_resp r;
    char code[7];
    assert_int_equal(sms_code("13800138000", &r), 204);
    h_resp_free(&r);
    delivered_code("13800138000", code);
    assert_int_equal(strlen(code), 6);
    assert_int_equal(
        h_db_int(&g_db, "SELECT COUNT(*) FROM sms_login_codes WHERE code_hmac LIKE '%%%s%%'", code),
        0);
    assert_int_equal(
        h_db_int(&g_db, "SELECT COUNT(*) FROM outbox WHERE payload LIKE '%%%s%%'", code), 0);
    assert_int_equal(phone_login("13800138000", code, &r), 200);
    cJSON *j = h_json(&r);
    h_resp_free(&r);
    const char *tok = cJSON_GetObjectItem(j, "token")->valuestring;
    h_get(&g_srv, "/api/v1/me", tok, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"phone_masked\":\"138****8000\""));
    h_resp_free(&r);
    cJSON_Delete(j);
    phone_login("13800138000", code, &r); /* single use */
    h_assert_error(&r, 400, "SMS_CODE_INVALID");
    h_resp_free(&r);
}

static void test_wrong_expired_and_burnt_codes_are_refused(void **state)
{
    (void)state;
    struct h_resp r;
    char code[7];
    assert_int_equal(sms_code("13900000001", &r), 204);
    h_resp_free(&r);
    delivered_code("13900000001", code);
    h_db_int(&g_db, "UPDATE sms_login_codes SET expires_at = UTC_TIMESTAMP() - INTERVAL 1 SECOND "
                    "WHERE phone='13900000001'");
    phone_login("13900000001", code, &r);
    h_assert_error(&r, 410, "SMS_CODE_EXPIRED");
    h_resp_free(&r);

    assert_int_equal(sms_code("13900000002", &r), 204);
    h_resp_free(&r);
    delivered_code("13900000002", code);
    char wrong[7];
    snprintf(wrong, sizeof wrong, "%06ld", (strtol(code, NULL, 10) + 1) % 1000000);
    for (int i = 0; i < 5; i++) {
        phone_login("13900000002", wrong, &r);
        h_assert_error(&r, 400, "SMS_CODE_INVALID");
        h_resp_free(&r);
    }
    phone_login("13900000002", code, &r); /* burnt after five wrong tries */
    h_assert_error(&r, 400, "SMS_CODE_INVALID");
    h_resp_free(&r);
    phone_login("13900000003", "12345", &r);
    h_assert_error(&r, 400, "SMS_CODE_INVALID");
    h_resp_free(&r);
    h_post_json(&g_srv, "/api/v1/auth/sms-code", NULL, "{\"phone\":\"12345\"}", &r);
    h_assert_error(&r, 400, "INVALID_INPUT");
    h_resp_free(&r);
}

static void test_codes_are_rate_limited_per_phone_and_per_address(void **state)
{
    (void)state;
    struct h_resp r;
    char ra[16];
    h_db_int(&g_db, "DELETE FROM rate_limits WHERE bucket='sms_addr'");
    assert_int_equal(sms_code("13700000001", &r), 204);
    h_resp_free(&r);
    sms_code("13700000001", &r); /* again within the minute */
    h_assert_error(&r, 429, "RATE_LIMITED");
    assert_non_null(h_header(&r, "Retry-After", ra, sizeof ra));
    h_resp_free(&r);
    long long before = h_db_int(&g_db, "SELECT COUNT(*) FROM sms_login_codes");
    /* sms_addr_max = 6 in this server: five more numbers from this address, then 429. */
    int ok = 0, limited = 0;
    for (int i = 0; i < 7; i++) {
        char phone[16];
        snprintf(phone, sizeof phone, "1360000000%d", i);
        long st = sms_code(phone, &r);
        ok += st == 204;
        limited += st == 429;
        h_resp_free(&r);
    }
    assert_int_equal(ok, 5);
    assert_int_equal(limited, 2);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM sms_login_codes"), before + 5);
}

static void test_a_phone_bound_in_the_mini_program_reaches_the_same_account(void **state)
{
    (void)state;
    char tok[64], body[128];
    long long uid = h_student(&g_srv, &g_sb, "o_bound_phone", "王同学", tok, sizeof tok);
    cJSON *pc = h_sb_json(&g_sb, "POST", "/__sandbox/phone-code",
                          "{\"openid\":\"o_bound_phone\",\"phone\":\"13511112222\"}");
    snprintf(body, sizeof body, "{\"code\":\"%s\"}", cJSON_GetObjectItem(pc, "code")->valuestring);
    cJSON_Delete(pc);
    struct h_resp r;
    h_post_json(&g_srv, "/api/v1/me/phone", tok, body, &r);
    assert_int_equal(r.status, 200);
    h_resp_free(&r);
    h_db_int(&g_db, "DELETE FROM rate_limits WHERE bucket='sms_addr'");
    assert_int_equal(sms_code("13511112222", &r), 204);
    h_resp_free(&r);
    char code[7];
    delivered_code("13511112222", code);
    assert_int_equal(phone_login("13511112222", code, &r), 200);
    cJSON *j = h_json(&r);
    assert_int_equal(
        (long long)cJSON_GetObjectItem(cJSON_GetObjectItem(j, "user"), "id")->valuedouble, uid);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "user"), "phone_bound")));
    cJSON_Delete(j);
    h_resp_free(&r);
}

/* ---------- WeChat Pay Native ---------- */

static void test_native_pay_returns_a_reused_code_url_and_the_sandbox_pays_it(void **state)
{
    (void)state;
    char tok[64];
    long long uid = h_student(&g_srv, &g_sb, "o_native", "扫码同学", tok, sizeof tok);
    h_db_int(&g_db,
             "INSERT INTO orders (order_no, task_id, user_id, school_id, grad_year, student_no, "
             "student_name, status, amount_fen, pay_deadline) VALUES ('P20240119NATIVE01', %lld, "
             "%lld, %lld, 2024, '20240119NATIVE01', '扫码同学', 'unpaid', 2500, "
             "UTC_TIMESTAMP() + INTERVAL 30 MINUTE)",
             g_task, uid, g_school);
    struct h_resp r;
    h_req_json(&g_srv, "POST", "/api/v1/orders/P20240119NATIVE01/pay", tok,
               "{\"channel\":\"bitcoin\"}", &r);
    h_assert_error(&r, 400, "INVALID_INPUT");
    h_resp_free(&r);
    char url[2][256];
    for (int i = 0; i < 2; i++) {
        h_req_json(&g_srv, "POST", "/api/v1/orders/P20240119NATIVE01/pay", tok,
                   "{\"channel\":\"native\"}", &r);
        assert_int_equal(r.status, 200);
        cJSON *j = h_json(&r);
        snprintf(url[i], sizeof url[i], "%s", cJSON_GetObjectItem(j, "code_url")->valuestring);
        cJSON_Delete(j);
        h_resp_free(&r);
    }
    assert_non_null(strstr(url[0], "weixin://wxpay/bizpayurl?pr="));
    assert_string_equal(url[0], url[1]);
    cJSON *req = h_sb_json(&g_sb, "GET", "/__sandbox/requests?endpoint=native", NULL);
    const cJSON *list = cJSON_GetObjectItem(req, "requests");
    assert_int_equal(cJSON_GetArraySize(list), 1); /* the second call reused it */
    const char *body = cJSON_GetObjectItem(cJSON_GetArrayItem(list, 0), "body")->valuestring;
    assert_null(strstr(body, "payer"));
    assert_non_null(strstr(body, "\"out_trade_no\":\"P20240119NATIVE01\""));
    cJSON_Delete(req);

    cJSON_Delete(
        h_sb_json(&g_sb, "POST", "/__sandbox/pay", "{\"out_trade_no\":\"P20240119NATIVE01\"}"));
    bool paid = false;
    for (int i = 0; i < 200 && !paid; i++) {
        paid = h_db_int(&g_db, "SELECT COUNT(*) FROM orders WHERE order_no='P20240119NATIVE01' "
                               "AND status='pending_review'") == 1;
        if (!paid)
            msleep(50);
    }
    assert_true(paid);
    /* Paid by whoever scanned: not the student's mini-program openid, and accepted. */
    assert_int_equal(
        h_db_int(&g_db, "SELECT COUNT(*) FROM payments WHERE out_trade_no='P20240119NATIVE01' "
                        "AND payer_openid <> 'o_native'"),
        1);
    h_req_json(&g_srv, "POST", "/api/v1/orders/P20240119NATIVE01/pay", tok,
               "{\"channel\":\"native\"}", &r);
    h_assert_error(&r, 409, "ORDER_STATE");
    h_resp_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pages_are_served_with_types_caching_and_a_strict_csp),
        cmocka_unit_test(test_nothing_outside_www_dir_or_hidden_is_served),
        cmocka_unit_test(test_staff_accounts_are_created_with_scoped_roles_and_checked),
        cmocka_unit_test(test_disabling_or_a_new_password_revokes_the_sessions_and_is_audited),
        cmocka_unit_test(test_an_sms_code_logs_in_once_and_is_stored_only_hashed),
        cmocka_unit_test(test_wrong_expired_and_burnt_codes_are_refused),
        cmocka_unit_test(test_codes_are_rate_limited_per_phone_and_per_address),
        cmocka_unit_test(test_a_phone_bound_in_the_mini_program_reaches_the_same_account),
        cmocka_unit_test(test_native_pay_returns_a_reused_code_url_and_the_sandbox_pays_it),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
