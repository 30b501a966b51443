/* it_tasks.c — collection tasks, rosters, feature-code binding and collection codes, end
 * to end: admin creates a task and imports a roster, a student binds the feature code,
 * uploads the QR of a code minted by the sandbox, sees the record and confirms; every
 * gate outcome and every error path answers as API.md says. */
#include "harness.h"

#include <png.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <turbojpeg.h>

static struct h_db g_db;
static struct h_sandbox g_sb;
static struct h_srv g_srv;
static char g_admin[128];   /* company admin */
static char g_school2[128]; /* admin of school 10002 only */
static char g_college[128]; /* college staff of 文学院 at 10001 */
static long long g_task;    /* the main task (school 10001, code evhx53) */

#define when h_when

static void req_json(struct h_srv *s, const char *method, const char *path, const char *tok,
                     const char *body, struct h_resp *r)
{
    h_req_json(s, method, path, tok, body, r);
}

static long long create_task(const char *code, const char *school, const char *type, long open_in,
                             long close_in, int roster_required)
{
    char o[40], c[40], body[1024];
    when(open_in, o, sizeof o);
    when(close_in, c, sizeof c);
    snprintf(
        body, sizeof body,
        "{\"name\":\"2024届毕业生图像信息采集 %s\",\"school\":\"%s\",\"collection_type\":\"%s\","
        "\"feature_code\":\"%s\",\"opens_at\":\"%s\",\"closes_at\":\"%s\",\"price_fen\":2500,"
        "\"edit_days\":7,\"roster_required\":%s,\"grad_year\":2024}",
        code, school, type, code, o, c, roster_required ? "true" : "false");
    struct h_resp r;
    req_json(&g_srv, "POST", "/api/v1/admin/tasks", g_admin, body, &r);
    if (r.status != 201)
        fail_msg("create task %s: %ld %s", code, r.status, r.body);
    cJSON *j = h_json(&r);
    long long id = (long long)cJSON_GetObjectItem(j, "id")->valuedouble;
    cJSON_Delete(j);
    h_resp_free(&r);
    return id;
}

static void import_csv(long long task, const char *csv, size_t len, struct h_resp *r)
{
    char path[96], auth[160];
    snprintf(path, sizeof path, "/api/v1/admin/tasks/%lld/roster", task);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", g_admin);
    const char *hs[] = {"Content-Type: text/csv", auth, NULL};
    h_http(&g_srv, "POST", path, hs, csv, len, r);
}

/* A logged-in student, with a real name when given; token into tok. */
static void student(const char *openid, const char *real_name, char *tok, size_t len)
{
    h_student(&g_srv, &g_sb, openid, real_name, tok, len);
}

static long bind(const char *tok, const char *type, const char *code, struct h_resp *r)
{
    char body[256];
    snprintf(body, sizeof body, "{\"collection_type\":\"%s\",\"feature_code\":\"%s\"}", type, code);
    req_json(&g_srv, "POST", "/api/v1/tasks/bind", tok, body, r);
    return r->status;
}

static const char ROSTER[] =
    "序号,学院,姓名,学号,班级,身份证号,已采集\r\n"
    "1,海外学院(外国语学院),陈萱,20200452209,20英语B班(师),110101199001011234,否\r\n"
    "2,海外学院(外国语学院),MISSANG MI ABA’A Medy Evrard,2020146F101,20国际班,,否\r\n"
    "3,文学院,李明,20200101001,20汉语言1班,,是\r\n"
    "4,文学院,王小红,20200101002,20汉语言1班,,\r\n"
    "5,计算机学院,张伟,20200301001,20计科2班,,否\r\n";

static int setup(void **state)
{
    (void)state;
    char conf[1024], wx[512];
    h_db_start(&g_db);
    h_sandbox_start(&g_sb, NULL);
    snprintf(conf, sizeof conf,
             "%s[auth]\nbind_user_max_failures = 3\nbind_addr_max_failures = 1000\n",
             h_sandbox_conf(&g_sb, wx, sizeof wx));
    h_srv_start(&g_srv, &g_db, conf, 0);
    h_user_add(&g_srv, "boss", "admin", "boss-password-1");
    h_login(&g_srv, "boss", "boss-password-1", g_admin, sizeof g_admin);
    struct h_resp r;
    req_json(&g_srv, "POST", "/api/v1/admin/schools", g_admin,
             "{\"code\":\"10001\",\"name\":\"测试大学\"}", &r);
    assert_int_equal(r.status, 201);
    h_resp_free(&r);
    req_json(&g_srv, "POST", "/api/v1/admin/schools", g_admin,
             "{\"code\":\"10002\",\"name\":\"另一所大学\"}", &r);
    assert_int_equal(r.status, 201);
    h_resp_free(&r);
    char out[128];
    assert_int_equal(h_srv_cli(&g_srv, "school-two-pass\n", out, sizeof out,
                               "user add --username s2 --role admin --school 10002"),
                     0);
    h_login(&g_srv, "s2", "school-two-pass", g_school2, sizeof g_school2);
    assert_int_equal(h_srv_cli(&g_srv, "college-pass-1\n", out, sizeof out,
                               "user add --username wen --role college --school 10001 "
                               "--college 文学院"),
                     0);
    h_login(&g_srv, "wen", "college-pass-1", g_college, sizeof g_college);
    g_task = create_task("evhx53", "10001", "centralized", -3600, 86400, 1);
    import_csv(g_task, ROSTER, sizeof ROSTER - 1, &r);
    assert_int_equal(r.status, 200);
    h_resp_free(&r);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return h_stack_down(&g_srv, &g_sb, &g_db);
}

/* ---------------- tasks ---------------- */

static void test_feature_codes_are_unique_among_live_tasks_ignoring_case(void **state)
{
    (void)state;
    char o[40], c[40], body[512];
    when(-10, o, sizeof o);
    when(3600, c, sizeof c);
    snprintf(body, sizeof body,
             "{\"name\":\"dup\",\"school\":\"10001\",\"collection_type\":\"centralized\","
             "\"feature_code\":\" EVHX53 \",\"opens_at\":\"%s\",\"closes_at\":\"%s\","
             "\"price_fen\":100}",
             o, c);
    struct h_resp r;
    req_json(&g_srv, "POST", "/api/v1/admin/tasks", g_admin, body, &r);
    h_assert_error(&r, 409, "FEATURE_CODE_TAKEN");
    h_resp_free(&r);
    long long t = create_task("Arch1ved", "10001", "centralized", -10, 3600, 0);
    char path[64];
    snprintf(path, sizeof path, "/api/v1/admin/tasks/%lld", t);
    req_json(&g_srv, "PATCH", path, g_admin, "{\"archived\":true}", &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"archived\":true"));
    h_resp_free(&r);
    create_task("ARCH1VED", "10001", "centralized", -10, 3600, 0); /* free again */
}

static void test_task_input_is_validated_field_by_field(void **state)
{
    (void)state;
    static const struct {
        const char *body, *field;
    } cases[] = {
        {"{\"school\":\"10001\",\"collection_type\":\"centralized\",\"feature_code\":\"abcd\","
         "\"opens_at\":\"2024-01-18T23:59:59+08:00\",\"closes_at\":\"2024-01-31T23:59:59+08:00\","
         "\"price_fen\":2500}",
         "name"},
        {"{\"name\":\"x\",\"school\":\"10001\",\"collection_type\":\"both\",\"feature_code\":"
         "\"abcd\",\"opens_at\":\"2024-01-18T23:59:59+08:00\",\"closes_at\":"
         "\"2024-01-31T23:59:59+08:00\",\"price_fen\":2500}",
         "collection_type"},
        {"{\"name\":\"x\",\"school\":\"10001\",\"collection_type\":\"centralized\",\"feature_"
         "code\":"
         "\"ab\",\"opens_at\":\"2024-01-18T23:59:59+08:00\",\"closes_at\":"
         "\"2024-01-31T23:59:59+08:00\",\"price_fen\":2500}",
         "feature_code"},
        {"{\"name\":\"x\",\"school\":\"10001\",\"collection_type\":\"centralized\",\"feature_"
         "code\":"
         "\"abcde\",\"opens_at\":\"2024-01-18 23:59:59\",\"closes_at\":"
         "\"2024-01-31T23:59:59+08:00\",\"price_fen\":2500}",
         "opens_at"},
        {"{\"name\":\"x\",\"school\":\"10001\",\"collection_type\":\"centralized\",\"feature_"
         "code\":"
         "\"abcde\",\"opens_at\":\"2024-01-31T23:59:59+08:00\",\"closes_at\":"
         "\"2024-01-18T23:59:59+08:00\",\"price_fen\":2500}",
         "closes_at"},
        {"{\"name\":\"x\",\"school\":\"10001\",\"collection_type\":\"centralized\",\"feature_"
         "code\":"
         "\"abcde\",\"opens_at\":\"2024-01-18T23:59:59+08:00\",\"closes_at\":"
         "\"2024-01-31T23:59:59+08:00\",\"price_fen\":25.5}",
         "price_fen"},
        {"{\"name\":\"x\",\"school\":\"99999\",\"collection_type\":\"centralized\",\"feature_"
         "code\":"
         "\"abcde\",\"opens_at\":\"2024-01-18T23:59:59+08:00\",\"closes_at\":"
         "\"2024-01-31T23:59:59+08:00\",\"price_fen\":2500}",
         "school"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct h_resp r;
        req_json(&g_srv, "POST", "/api/v1/admin/tasks", g_admin, cases[i].body, &r);
        h_assert_error(&r, 400, "INVALID_INPUT");
        cJSON *j = h_json(&r);
        assert_string_equal(
            cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "error"), "details"),
                                "field")
                ->valuestring,
            cases[i].field);
        cJSON_Delete(j);
        h_resp_free(&r);
    }
}

static void test_window_is_shown_and_accepted_in_shanghai_time_and_changes_are_audited(void **state)
{
    (void)state;
    long long t = create_task("winedge1", "10001", "centralized", -10, 3600, 0);
    char path[64];
    snprintf(path, sizeof path, "/api/v1/admin/tasks/%lld", t);
    struct h_resp r;
    req_json(&g_srv, "PATCH", path, g_admin,
             "{\"opens_at\":\"2024-01-18T15:59:59Z\",\"closes_at\":\"2024-01-31T23:59:59+08:00\","
             "\"price_fen\":3000}",
             &r);
    assert_int_equal(r.status, 200);
    cJSON *j = h_json(&r);
    assert_string_equal(cJSON_GetObjectItem(j, "opens_at")->valuestring,
                        "2024-01-18T23:59:59+08:00");
    assert_string_equal(cJSON_GetObjectItem(j, "closes_at")->valuestring,
                        "2024-01-31T23:59:59+08:00");
    assert_int_equal(cJSON_GetObjectItem(j, "price_fen")->valueint, 3000);
    cJSON_Delete(j);
    h_resp_free(&r);
    assert_int_equal(h_db_int(&g_db,
                              "SELECT COUNT(*) FROM audit_log WHERE action='task.update' "
                              "AND target_id='%lld' AND JSON_VALUE(details,"
                              "'$.before.price_fen')=2500 AND JSON_VALUE(details,"
                              "'$.after.price_fen')=3000",
                              t),
                     1);
}

static void test_school_admins_see_and_change_only_their_school(void **state)
{
    (void)state;
    char path[64];
    snprintf(path, sizeof path, "/api/v1/admin/tasks/%lld", g_task);
    struct h_resp r;
    h_get(&g_srv, path, g_school2, &r);
    h_assert_error(&r, 404, "NOT_FOUND");
    h_resp_free(&r);
    req_json(&g_srv, "PATCH", path, g_school2, "{\"price_fen\":1}", &r);
    h_assert_error(&r, 404, "NOT_FOUND");
    h_resp_free(&r);
    h_get(&g_srv, "/api/v1/admin/tasks", g_school2, &r);
    assert_int_equal(r.status, 200);
    assert_null(strstr(r.body, "evhx53"));
    h_resp_free(&r);
    char o[40], c[40], body[512];
    when(-10, o, sizeof o);
    when(3600, c, sizeof c);
    snprintf(body, sizeof body,
             "{\"name\":\"x\",\"school\":\"10001\",\"collection_type\":\"centralized\","
             "\"feature_code\":\"other1\",\"opens_at\":\"%s\",\"closes_at\":\"%s\","
             "\"price_fen\":100}",
             o, c);
    req_json(&g_srv, "POST", "/api/v1/admin/tasks", g_school2, body, &r);
    h_assert_error(&r, 403, "FORBIDDEN");
    h_resp_free(&r);
    h_get(&g_srv, "/api/v1/admin/tasks", g_admin, &r); /* the company admin sees it */
    assert_non_null(strstr(r.body, "evhx53"));
    h_resp_free(&r);
}

/* ---------------- binding ---------------- */

static void test_binding_checks_profile_code_type_and_window(void **state)
{
    (void)state;
    char tok[64];
    struct h_resp r;
    student("o_bind_noname", NULL, tok, sizeof tok);
    assert_int_equal(bind(tok, "centralized", "evhx53", &r), 403);
    h_assert_error(&r, 403, "PROFILE_INCOMPLETE");
    h_resp_free(&r);
    student("o_bind", "陈萱", tok, sizeof tok);
    bind(tok, "centralized", "nosuch", &r);
    h_assert_error(&r, 404, "FEATURE_CODE_INVALID");
    h_resp_free(&r);
    bind(tok, "scattered", "evhx53", &r);
    h_assert_error(&r, 400, "COLLECTION_TYPE_MISMATCH");
    h_resp_free(&r);
    assert_int_equal(bind(tok, "centralized", "  EvHx53 ", &r), 200);
    cJSON *j = h_json(&r);
    cJSON *t = cJSON_GetObjectItem(j, "task");
    assert_string_equal(cJSON_GetObjectItem(t, "school")->valuestring, "测试大学");
    assert_int_equal(cJSON_GetObjectItem(t, "price_fen")->valueint, 2500);
    assert_string_equal(cJSON_GetObjectItem(t, "opens_at")->valuestring + 19, "+08:00");
    assert_null(cJSON_GetObjectItem(t, "feature_code")); /* staff-only fields stay hidden */
    cJSON_Delete(j);
    h_resp_free(&r);
}

static void test_binding_refuses_a_second_before_opening_and_after_closing(void **state)
{
    (void)state;
    char tok[64];
    struct h_resp r;
    student("o_window", "李明", tok, sizeof tok);
    create_task("opensoon", "10001", "centralized", 2, 3600, 0);
    create_task("closesoon", "10001", "centralized", -3600, 1, 0);
    create_task("longgone", "10001", "centralized", -7200, -3600, 0);
    bind(tok, "centralized", "opensoon", &r);
    h_assert_error(&r, 410, "WINDOW_NOT_OPEN");
    assert_non_null(strstr(r.body, "opens_at"));
    h_resp_free(&r);
    assert_int_equal(bind(tok, "centralized", "closesoon", &r), 200);
    h_resp_free(&r);
    bind(tok, "centralized", "longgone", &r);
    h_assert_error(&r, 410, "WINDOW_CLOSED");
    h_resp_free(&r);
    h_msleep(3200);
    assert_int_equal(bind(tok, "centralized", "opensoon", &r), 200);
    h_resp_free(&r);
    bind(tok, "centralized", "closesoon", &r);
    h_assert_error(&r, 410, "WINDOW_CLOSED");
    h_resp_free(&r);
}

static void test_feature_code_guessing_is_rate_limited(void **state)
{
    (void)state;
    char tok[64];
    struct h_resp r;
    student("o_guess", "王小红", tok, sizeof tok);
    for (int i = 0; i < 3; i++) {
        char code[16];
        snprintf(code, sizeof code, "guess%d", i);
        bind(tok, "centralized", code, &r);
        h_assert_error(&r, 404, "FEATURE_CODE_INVALID");
        h_resp_free(&r);
    }
    bind(tok, "centralized", "evhx53", &r); /* even the right code waits now */
    h_assert_error(&r, 429, "RATE_LIMITED");
    char ra[16];
    assert_non_null(h_header(&r, "Retry-After", ra, sizeof ra));
    h_resp_free(&r);
}

/* ---------------- roster ---------------- */

static char *read_file(const char *rel, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", PC_SOURCE_DIR, rel);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("missing fixture %s", path);
    char *buf = malloc(4 << 20);
    *len = fread(buf, 1, 4 << 20, f);
    fclose(f);
    return buf;
}

static cJSON *roster_list(long long task, const char *tok, const char *query)
{
    char path[160];
    snprintf(path, sizeof path, "/api/v1/admin/tasks/%lld/roster?limit=500%s", task, query);
    struct h_resp r;
    h_get(&g_srv, path, tok, &r);
    if (r.status != 200)
        fail_msg("roster list: %ld %s", r.status, r.body);
    cJSON *j = h_json(&r);
    h_resp_free(&r);
    return j;
}

static void test_roster_imports_in_utf8_bom_gb18030_and_updates_on_reimport(void **state)
{
    (void)state;
    static const char *const files[] = {"tests/fixtures/roster/roster-101-utf8.csv",
                                        "tests/fixtures/roster/roster-101-utf8-bom.csv",
                                        "tests/fixtures/roster/roster-101-gb18030.csv"};
    char *lists[3];
    for (int i = 0; i < 3; i++) {
        char code[16];
        snprintf(code, sizeof code, "enc%dcode", i);
        long long t = create_task(code, "10001", "centralized", -10, 3600, 1);
        size_t len;
        char *data = read_file(files[i], &len);
        struct h_resp r;
        import_csv(t, data, len, &r);
        assert_int_equal(r.status, 200);
        cJSON *j = h_json(&r);
        assert_int_equal(cJSON_GetObjectItem(j, "imported")->valueint, 101);
        assert_int_equal(cJSON_GetObjectItem(j, "updated")->valueint, 0);
        assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "rejected")), 0);
        cJSON_Delete(j);
        h_resp_free(&r);
        import_csv(t, data, len, &r); /* again: updates, no duplicates */
        j = h_json(&r);
        assert_int_equal(cJSON_GetObjectItem(j, "imported")->valueint, 0);
        assert_int_equal(cJSON_GetObjectItem(j, "updated")->valueint, 101);
        cJSON_Delete(j);
        h_resp_free(&r);
        free(data);
        assert_int_equal(
            h_db_int(&g_db, "SELECT COUNT(*) FROM roster_entries WHERE task_id=%lld", t), 101);
        cJSON *l = roster_list(t, g_admin, "");
        lists[i] = cJSON_PrintUnformatted(cJSON_GetObjectItem(l, "items"));
        cJSON_Delete(l);
    }
    /* Same students, same bytes, whatever the file's encoding. */
    assert_string_equal(lists[0], lists[1]);
    assert_string_equal(lists[0], lists[2]);
    assert_non_null(strstr(lists[0], "MISSANG MI ABA\xe2\x80\x99"
                                     "A Medy Evrard"));
    assert_non_null(strstr(lists[0], "2020146F101"));
    for (int i = 0; i < 3; i++)
        free(lists[i]);
}

static void test_roster_reports_bad_lines_and_refuses_files_that_are_not_csv(void **state)
{
    (void)state;
    long long t = create_task("badlines", "10001", "centralized", -10, 3600, 1);
    const char csv[] =
        "学号,姓名,学院\n20201,张三,文学院\n,李四,文学院\n20203,,文学院\n20204,赵六,文学院\n";
    struct h_resp r;
    import_csv(t, csv, sizeof csv - 1, &r);
    assert_int_equal(r.status, 200);
    cJSON *j = h_json(&r);
    assert_int_equal(cJSON_GetObjectItem(j, "imported")->valueint, 2);
    cJSON *rej = cJSON_GetObjectItem(j, "rejected");
    assert_int_equal(cJSON_GetArraySize(rej), 2);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(rej, 0), "line")->valueint, 3);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(rej, 1), "line")->valueint, 4);
    assert_true(strlen(cJSON_GetObjectItem(cJSON_GetArrayItem(rej, 0), "reason")->valuestring) > 0);
    cJSON_Delete(j);
    h_resp_free(&r);
    long long before = h_db_int(&g_db, "SELECT COUNT(*) FROM roster_entries");
    const char xlsx[] = "PK\x03\x04\x14\x00\x06\x00 not really a workbook";
    import_csv(t, xlsx, sizeof xlsx - 1, &r);
    h_assert_error(&r, 415, "ROSTER_NOT_CSV");
    h_resp_free(&r);
    const char nohdr[] = "a,b,c\n1,2,3\n";
    import_csv(t, nohdr, sizeof nohdr - 1, &r);
    h_assert_error(&r, 400, "ROSTER_INVALID");
    h_resp_free(&r);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM roster_entries"), before);
}

static void test_roster_list_filters_exports_csv_and_counts(void **state)
{
    (void)state;
    cJSON *l = roster_list(g_task, g_admin, "&college=%E6%96%87%E5%AD%A6%E9%99%A2");
    cJSON *items = cJSON_GetObjectItem(l, "items");
    assert_int_equal(cJSON_GetArraySize(items), 2); /* 文学院 */
    cJSON_Delete(l);
    l = roster_list(g_task, g_admin, "&state=collected_offline");
    items = cJSON_GetObjectItem(l, "items");
    assert_int_equal(cJSON_GetArraySize(items), 1);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(items, 0), "name")->valuestring,
                        "李明");
    cJSON_Delete(l);
    char path[96], auth[160];
    snprintf(path, sizeof path, "/api/v1/admin/tasks/%lld/roster", g_task);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", g_admin);
    const char *hs[] = {"Accept: text/csv", auth, NULL};
    struct h_resp r;
    h_http(&g_srv, "GET", path, hs, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_memory_equal(r.body, "\xef\xbb\xbf序号,学院,姓名,学号,班级,状态", 3 + 34);
    assert_non_null(strstr(r.body, "\"MISSANG MI ABA\xe2\x80\x99"
                                   "A Medy Evrard\""));
    h_resp_free(&r);
    snprintf(path, sizeof path, "/api/v1/admin/tasks/%lld/stats", g_task);
    h_get(&g_srv, path, g_admin, &r);
    assert_int_equal(r.status, 200);
    cJSON *j = h_json(&r);
    assert_int_equal(cJSON_GetObjectItem(j, "total")->valueint, 5);
    assert_int_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(j, "by_state"), "collected_offline")->valueint, 1);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "colleges")), 3);
    cJSON_Delete(j);
    h_resp_free(&r);
}

static void test_roster_patch_adds_a_forgotten_student_and_marks_offline(void **state)
{
    (void)state;
    char path[128];
    struct h_resp r;
    snprintf(path, sizeof path, "/api/v1/admin/tasks/%lld/roster/2020999X01", g_task);
    req_json(&g_srv, "PATCH", path, g_admin, "{\"class\":\"x\"}", &r);
    h_assert_error(&r, 400, "INVALID_INPUT"); /* a new student needs name and college */
    h_resp_free(&r);
    req_json(&g_srv, "PATCH", path, g_admin,
             "{\"name\":\"补录同学\",\"college\":\"音乐学院\",\"class\":\"20音乐1班\"}", &r);
    assert_int_equal(r.status, 201);
    h_resp_free(&r);
    req_json(&g_srv, "PATCH", path, g_admin, "{\"collected_offline\":true}", &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"collected_offline\":true"));
    h_resp_free(&r);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM audit_log WHERE action='roster.amend'"),
                     2);
}

static void test_college_staff_read_only_their_college(void **state)
{
    (void)state;
    cJSON *l = roster_list(g_task, g_college, "");
    cJSON *items = cJSON_GetObjectItem(l, "items"), *it;
    assert_int_equal(cJSON_GetArraySize(items), 2);
    cJSON_ArrayForEach(it, items)
        assert_string_equal(cJSON_GetObjectItem(it, "college")->valuestring, "文学院");
    cJSON_Delete(l);
    char path[160];
    struct h_resp r;
    snprintf(path, sizeof path, "/api/v1/admin/tasks/%lld/roster?college=%%E9%%9F%%B3", g_task);
    h_get(&g_srv, path, g_college, &r);
    h_assert_error(&r, 403, "FORBIDDEN");
    h_resp_free(&r);
    snprintf(path, sizeof path, "/api/v1/admin/tasks/%lld/roster", g_task);
    char auth[160];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", g_college);
    const char *hs[] = {"Content-Type: text/csv", auth, NULL};
    h_http(&g_srv, "POST", path, hs, ROSTER, sizeof ROSTER - 1, &r);
    h_assert_error(&r, 403, "FORBIDDEN");
    h_resp_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_feature_codes_are_unique_among_live_tasks_ignoring_case),
        cmocka_unit_test(test_task_input_is_validated_field_by_field),
        cmocka_unit_test(
            test_window_is_shown_and_accepted_in_shanghai_time_and_changes_are_audited),
        cmocka_unit_test(test_school_admins_see_and_change_only_their_school),
        cmocka_unit_test(test_binding_checks_profile_code_type_and_window),
        cmocka_unit_test(test_binding_refuses_a_second_before_opening_and_after_closing),
        cmocka_unit_test(test_feature_code_guessing_is_rate_limited),
        cmocka_unit_test(test_roster_imports_in_utf8_bom_gb18030_and_updates_on_reimport),
        cmocka_unit_test(test_roster_reports_bad_lines_and_refuses_files_that_are_not_csv),
        cmocka_unit_test(test_roster_list_filters_exports_csv_and_counts),
        cmocka_unit_test(test_roster_patch_adds_a_forgotten_student_and_marks_offline),
        cmocka_unit_test(test_college_staff_read_only_their_college),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
