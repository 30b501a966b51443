/* it_scopes.c — the role × route matrix: every staff route of handlers/routes.c, called by
 * every role at school A, at a second school B, company-wide, a reviewer assigned to one task
 * and an account that is a reviewer at B and college staff at A, against resources of school
 * A; each answer must be the one its roles allow (200s, 403 for a role that grants nothing,
 * 404 for a resource out of scope). Then what the allowed lists hold (no other school's rows),
 * the audit rows of staff reads, and reviewers assigned by the CLI and the API. */
#include "harness.h"

#include "handlers/handlers.h"
#include "server/req.h"

#include <stdbool.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

static struct h_db g_db;
static struct h_sandbox g_sb;
static struct h_srv g_srv;
static char g_pay[400];
static long long g_sa, g_sb_id, g_ta, g_tb, g_clerk, g_dead, g_user;
static char g_today[16];

enum { CADMIN, AADMIN, BADMIN, CREV, AREV, ATREV, BREV, CFIN, AFIN, BFIN, ACOL, BCOL, MIXED, NP };
static const char *const g_names[NP] = {"cadmin", "aadmin", "badmin", "crev", "arev",
                                        "atrev",  "brev",   "cfin",   "afin", "bfin",
                                        "acol",   "bcol",   "mixed"};
static char g_tok[NP][64];

static void cli(const char *stdin_text, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cli(const char *stdin_text, const char *fmt, ...)
{
    char args[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    int rc = h_srv_cli(&g_srv, stdin_text, NULL, 0, args);
    if (rc)
        h_srv_dump_log(&g_srv);
    assert_int_equal(rc, 0);
}

/* A paid order waiting for review, with its payment of today. */
static void paid_order(const char *no, long long task, long long school, const char *student_no,
                       const char *tx)
{
    h_db_int(&g_db,
             "INSERT INTO orders (order_no, task_id, user_id, school_id, grad_year, student_no, "
             "student_name, college, status, amount_fen, transaction_id, paid_at) VALUES ('%s', "
             "%lld, %lld, %lld, 2024, '%s', '张三', '文学院', 'pending_review', 2500, '%s', "
             "UTC_TIMESTAMP(3))",
             no, task, g_user, school, student_no, tx);
    h_db_int(&g_db,
             "INSERT INTO payments (order_id, out_trade_no, transaction_id, amount_fen, "
             "payer_openid, trade_state, success_time, source) SELECT id, order_no, "
             "transaction_id, 2500, 'o_scope', 'SUCCESS', UTC_TIMESTAMP(3), 'notify' FROM orders "
             "WHERE order_no = '%s'",
             no);
}

static int setup(void **state)
{
    (void)state;
    char wx[600], pay[1200], conf[3000];
    h_db_start(&g_db);
    h_pay_sandbox_start(&g_sb, g_pay, sizeof g_pay, "--refund-delay-ms 200");
    int port = h_free_port();
    snprintf(conf, sizeof conf,
             "%s[server]\nlisten = 127.0.0.1:%d\n%s[finance]\nreconcile_interval_ms = 200\n",
             h_sandbox_conf(&g_sb, wx, sizeof wx), port,
             h_pay_conf_at(&g_sb, g_pay, port, true, pay, sizeof pay));
    h_srv_start(&g_srv, &g_db, conf, 0);
    h_db_int(&g_db,
             "INSERT INTO schools (code, name) VALUES ('10402', '甲大学'), ('10403', '乙大学')");
    g_sa = h_db_int(&g_db, "SELECT id FROM schools WHERE code='10402'");
    g_sb_id = h_db_int(&g_db, "SELECT id FROM schools WHERE code='10403'");
    h_db_int(&g_db,
             "INSERT INTO tasks (school_id, name, collection_type, feature_code, "
             "feature_code_norm, opens_at, closes_at, price_fen, grad_year) VALUES "
             "(%lld, '甲采集', 'centralized', 'scopea', 'scopea', UTC_TIMESTAMP() - INTERVAL 1 "
             "DAY, UTC_TIMESTAMP() + INTERVAL 1 DAY, 2500, 2024), "
             "(%lld, '乙采集', 'centralized', 'scopeb', 'scopeb', UTC_TIMESTAMP() - INTERVAL 1 "
             "DAY, UTC_TIMESTAMP() + INTERVAL 1 DAY, 2500, 2024)",
             g_sa, g_sb_id);
    g_ta = h_db_int(&g_db, "SELECT id FROM tasks WHERE feature_code_norm='scopea'");
    g_tb = h_db_int(&g_db, "SELECT id FROM tasks WHERE feature_code_norm='scopeb'");
    h_db_int(&g_db, "INSERT INTO users (openid, real_name) VALUES ('o_scope', '张三')");
    g_user = h_db_int(&g_db, "SELECT id FROM users WHERE openid='o_scope'");
    paid_order("PSCOPEA000000001", g_ta, g_sa, "S001", "TXSCOPEA1");
    paid_order("PSCOPEA000000002", g_ta, g_sa, "S009", "TXSCOPEA2");
    paid_order("PSCOPEB000000001", g_tb, g_sb_id, "S101", "TXSCOPEB1");
    h_db_int(&g_db,
             "INSERT INTO photos (order_id, user_id, student_no, original_path, normalized_path, "
             "original_sha256, normalized_bytes, phash, width, height, checks) SELECT id, "
             "user_id, student_no, 'photos/original/aa/scope-a.jpg', "
             "'photos/standard/aa/scope-a.jpg', REPEAT('a', 64), 10, 1, 480, 640, '[]' FROM "
             "orders WHERE order_no = 'PSCOPEA000000001'");
    h_storage_file(&g_srv, "photos/original/aa/scope-a.jpg", "original bytes", 0);
    h_storage_file(&g_srv, "photos/standard/aa/scope-a.jpg", "standard bytes", 0);
    h_db_int(&g_db,
             "INSERT INTO roster_entries (task_id, seq, college, name, student_no) VALUES "
             "(%lld, 1, '文学院', '张三', 'S001'), (%lld, 2, '理学院', '李四', 'S002'), "
             "(%lld, 1, '文学院', '王五', 'S101')",
             g_ta, g_ta, g_tb);
    h_db_int(&g_db, "INSERT INTO outbox (kind, payload, state) VALUES ('order.paid', "
                    "'{\"order_no\":\"PSCOPEA000000001\"}', 'dead')");
    g_dead = h_db_int(&g_db, "SELECT MAX(id) FROM outbox");
    /* The accounts: by the command line, as an operator makes them. */
    const char *pw = "scope-password-1\n";
    cli(pw, "user add --username cadmin --role admin");
    cli(pw, "user add --username aadmin --role admin --school 10402");
    cli(pw, "user add --username badmin --role admin --school 10403");
    cli(pw, "user add --username crev --role reviewer");
    cli(pw, "user add --username arev --role reviewer --school 10402");
    cli(pw, "user add --username atrev --role reviewer --task %lld", g_ta);
    cli(pw, "user add --username brev --role reviewer --school 10403");
    cli(pw, "user add --username cfin --role finance");
    cli(pw, "user add --username afin --role finance --school 10402");
    cli(pw, "user add --username bfin --role finance --school 10403");
    cli(pw, "user add --username acol --role college --school 10402 --college 文学院");
    cli(pw, "user add --username bcol --role college --school 10403 --college 文学院");
    cli(pw, "user add --username mixed --role reviewer --school 10403");
    cli(NULL, "user grant --username mixed --role college --school 10402 --college 文学院");
    cli(pw, "user add --username aclerk --role reviewer --school 10402");
    g_clerk = h_db_int(&g_db, "SELECT id FROM staff WHERE username='aclerk'");
    for (int i = 0; i < NP; i++)
        h_login(&g_srv, g_names[i], "scope-password-1", g_tok[i], sizeof g_tok[i]);
    time_t t = time(NULL) + 8 * 3600;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(g_today, sizeof g_today, "%Y-%m-%d", &tm);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return h_stack_down(&g_srv, &g_sb, &g_db);
}

/* "{TA}" and the like in a path or body, with the setup's ids; {i} is the caller's index. */
static void expand(const char *in, int who, char *out, size_t len)
{
    size_t k = 0;
    while (*in && k + 1 < len) {
        char v[64] = "";
        const char *close = *in == '{' ? strchr(in, '}') : NULL;
        size_t n = close ? (size_t)(close - in + 1) : 0;
        if (n == 4 && !strncmp(in, "{TA}", 4))
            snprintf(v, sizeof v, "%lld", g_ta);
        else if (n == 3 && !strncmp(in, "{A}", 3))
            snprintf(v, sizeof v, "%lld", g_sa);
        else if (n == 3 && !strncmp(in, "{i}", 3))
            snprintf(v, sizeof v, "%d", who);
        else if (n == 7 && !strncmp(in, "{clerk}", 7))
            snprintf(v, sizeof v, "%lld", g_clerk);
        else if (n == 6 && !strncmp(in, "{dead}", 6))
            snprintf(v, sizeof v, "%lld", g_dead);
        else if (n == 7 && !strncmp(in, "{today}", 7))
            snprintf(v, sizeof v, "%s", g_today);
        else
            n = 0;
        if (n) {
            k += (size_t)snprintf(out + k, len - k, "%s", v);
            in += n;
        } else {
            out[k++] = *in++;
        }
    }
    out[k < len ? k : len - 1] = '\0';
}

#define OK2 0 /* allowed: 200, or 409 once an earlier caller changed the state */

struct cell {
    const char *method, *pattern; /* the route, as in handlers/routes.c */
    const char *path, *body;      /* the request made */
    const char *content_type;
    int want[NP];
};

/* Resources are school A's. Columns: cadmin aadmin badmin crev arev atrev brev cfin afin bfin
 * acol bcol mixed. */
static const struct cell g_matrix[] = {
    {"GET",
     "/api/v1/admin/me",
     "/api/v1/admin/me",
     NULL,
     NULL,
     {200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200}},
    {"GET",
     "/api/v1/admin/audit",
     "/api/v1/admin/audit",
     NULL,
     NULL,
     {200, 200, 200, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403}},
    {"POST",
     "/api/v1/admin/orders/{order_no}/refund",
     "/api/v1/admin/orders/PSCOPEA000000001/refund",
     "{\"amount_fen\":0,\"reason\":\"x\"}",
     NULL,
     {400, 400, 404, 403, 403, 403, 403, 400, 400, 404, 403, 403, 403}},
    {"GET",
     "/api/v1/admin/review-queue",
     "/api/v1/admin/review-queue",
     NULL,
     NULL,
     {200, 200, 200, 200, 200, 200, 200, 403, 403, 403, 403, 403, 200}},
    {"GET",
     "/api/v1/admin/review-queue",
     "/api/v1/admin/review-queue?task_id={TA}",
     NULL,
     NULL,
     {200, 200, 404, 200, 200, 200, 404, 403, 403, 403, 403, 403, 404}},
    {"GET",
     "/api/v1/admin/review-reasons",
     "/api/v1/admin/review-reasons",
     NULL,
     NULL,
     {200, 200, 200, 200, 200, 200, 200, 403, 403, 403, 403, 403, 200}},
    {"GET",
     "/api/v1/orders/{order_no}/photo",
     "/api/v1/orders/PSCOPEA000000001/photo?variant=original",
     NULL,
     NULL,
     {200, 200, 404, 200, 200, 200, 404, 403, 403, 403, 403, 403, 404}},
    {"POST",
     "/api/v1/admin/orders/{order_no}/review",
     "/api/v1/admin/orders/PSCOPEA000000002/review",
     "{\"decision\":\"approve\"}",
     NULL,
     {OK2, OK2, 404, OK2, OK2, OK2, 404, 403, 403, 403, 403, 403, 404}},
    {"GET",
     "/api/v1/admin/outbox",
     "/api/v1/admin/outbox",
     NULL,
     NULL,
     {200, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403}},
    {"POST",
     "/api/v1/admin/outbox/{id}/retry",
     "/api/v1/admin/outbox/{dead}/retry",
     "{}",
     NULL,
     {OK2, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403}},
    {"GET",
     "/api/v1/finance/payments",
     "/api/v1/finance/payments",
     NULL,
     NULL,
     {200, 200, 200, 403, 403, 403, 403, 200, 200, 200, 403, 403, 403}},
    {"GET",
     "/api/v1/finance/payments",
     "/api/v1/finance/payments?school_id={A}",
     NULL,
     NULL,
     {200, 200, 404, 403, 403, 403, 403, 200, 200, 404, 403, 403, 403}},
    {"GET",
     "/api/v1/finance/payments",
     "/api/v1/finance/payments?format=csv",
     NULL,
     NULL,
     {200, 200, 200, 403, 403, 403, 403, 200, 200, 200, 403, 403, 403}},
    {"POST",
     "/api/v1/finance/reconciliations",
     "/api/v1/finance/reconciliations",
     "{\"bill_date\":\"{today}\"}",
     NULL,
     {202, 202, 202, 403, 403, 403, 403, 202, 202, 202, 403, 403, 403}},
    {"GET",
     "/api/v1/finance/reconciliations/{bill_date}",
     "/api/v1/finance/reconciliations/{today}",
     NULL,
     NULL,
     {200, 200, 200, 403, 403, 403, 403, 200, 200, 200, 403, 403, 403}},
    {"POST",
     "/api/v1/admin/schools",
     "/api/v1/admin/schools",
     "{\"code\":\"NEW{i}\",\"name\":\"新学校\"}",
     NULL,
     {201, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403}},
    {"GET",
     "/api/v1/admin/tasks",
     "/api/v1/admin/tasks",
     NULL,
     NULL,
     {200, 200, 200, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403}},
    {"POST",
     "/api/v1/admin/tasks",
     "/api/v1/admin/tasks",
     "{\"name\":\"新任务\",\"school\":\"10402\",\"collection_type\":\"centralized\","
     "\"feature_code\":\"newtask{i}\",\"opens_at\":\"2024-01-18T23:59:59+08:00\",\"closes_at\":"
     "\"2024-01-31T23:59:59+08:00\",\"price_fen\":2500}",
     NULL,
     {201, 201, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403}},
    {"GET",
     "/api/v1/admin/tasks/{id}",
     "/api/v1/admin/tasks/{TA}",
     NULL,
     NULL,
     {200, 200, 404, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403}},
    {"PATCH",
     "/api/v1/admin/tasks/{id}",
     "/api/v1/admin/tasks/{TA}",
     "{\"price_fen\":2500}",
     NULL,
     {200, 200, 404, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403}},
    {"POST",
     "/api/v1/admin/tasks/{id}/roster",
     "/api/v1/admin/tasks/{TA}/roster",
     "序号,学院,姓名,学号,班级\r\n3,文学院,赵六,S003,1班\r\n",
     "Content-Type: text/csv",
     {200, 200, 404, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403}},
    {"GET",
     "/api/v1/admin/tasks/{id}/roster",
     "/api/v1/admin/tasks/{TA}/roster",
     NULL,
     NULL,
     {200, 200, 404, 403, 403, 403, 403, 403, 403, 403, 200, 404, 200}},
    {"GET",
     "/api/v1/admin/tasks/{id}/roster",
     "/api/v1/admin/tasks/{TA}/roster?college=%E7%90%86%E5%AD%A6%E9%99%A2",
     NULL,
     NULL,
     {200, 200, 404, 403, 403, 403, 403, 403, 403, 403, 403, 404, 403}},
    {"GET",
     "/api/v1/admin/tasks/{id}/roster",
     "/api/v1/admin/tasks/{TA}/roster?format=csv",
     NULL,
     NULL,
     {200, 200, 404, 403, 403, 403, 403, 403, 403, 403, 200, 404, 200}},
    {"PATCH",
     "/api/v1/admin/tasks/{id}/roster/{student_no}",
     "/api/v1/admin/tasks/{TA}/roster/S001",
     "{\"class\":\"1班\"}",
     NULL,
     {200, 200, 404, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403}},
    {"GET",
     "/api/v1/admin/tasks/{id}/stats",
     "/api/v1/admin/tasks/{TA}/stats",
     NULL,
     NULL,
     {200, 200, 404, 403, 403, 403, 403, 403, 403, 403, 200, 404, 200}},
    {"GET",
     "/api/v1/admin/tasks/{id}/export.zip",
     "/api/v1/admin/tasks/{TA}/export.zip",
     NULL,
     NULL,
     {200, 200, 404, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403}},
    {"GET",
     "/api/v1/admin/schools",
     "/api/v1/admin/schools",
     NULL,
     NULL,
     {200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200}},
    {"GET",
     "/api/v1/staff/tasks",
     "/api/v1/staff/tasks",
     NULL,
     NULL,
     {200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200}},
    {"GET",
     "/api/v1/admin/staff",
     "/api/v1/admin/staff",
     NULL,
     NULL,
     {200, 200, 200, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403}},
    {"POST",
     "/api/v1/admin/staff",
     "/api/v1/admin/staff",
     "{\"username\":\"new{i}\",\"password\":\"new-password-1\",\"roles\":[{\"role\":"
     "\"reviewer\",\"school_id\":{A}}]}",
     NULL,
     {201, 201, 400, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403}},
    {"PATCH",
     "/api/v1/admin/staff/{id}",
     "/api/v1/admin/staff/{clerk}",
     "{\"display_name\":\"书记员\"}",
     NULL,
     {200, 200, 404, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403}},
    {"GET",
     "/api/v1/admin/tasks/{id}/reviewers",
     "/api/v1/admin/tasks/{TA}/reviewers",
     NULL,
     NULL,
     {200, 200, 404, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403}},
    {"POST",
     "/api/v1/admin/tasks/{id}/reviewers",
     "/api/v1/admin/tasks/{TA}/reviewers",
     "{\"staff_id\":{clerk}}",
     NULL,
     {200, 200, 404, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403}},
    {"DELETE",
     "/api/v1/admin/tasks/{id}/reviewers/{staff_id}",
     "/api/v1/admin/tasks/{TA}/reviewers/{clerk}",
     NULL,
     NULL,
     {200, 200, 404, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403}},
    {"GET",
     "/metrics",
     "/metrics",
     NULL,
     NULL,
     {200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200}},
    {"POST",
     "/api/v1/admin/logout",
     "/api/v1/admin/logout",
     "{}",
     NULL,
     {200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200}},
};
#define NCELLS (sizeof g_matrix / sizeof g_matrix[0])

/* The routes a staff member may call: everything under /admin, /finance and /staff (but the
 * login), the photo a reviewer reads, and the metrics. */
static bool staff_route(const struct pc_route *rt)
{
    return (!strncmp(rt->pattern, "/api/v1/admin/", 14) &&
            strcmp(rt->pattern, "/api/v1/admin/login")) ||
           !strncmp(rt->pattern, "/api/v1/finance/", 16) ||
           !strncmp(rt->pattern, "/api/v1/staff/", 14) || !strcmp(rt->pattern, "/metrics") ||
           (!strcmp(rt->pattern, "/api/v1/orders/{order_no}/photo") && !strcmp(rt->method, "GET"));
}

static void test_the_matrix_covers_every_staff_route(void **state)
{
    (void)state;
    size_t staff = 0;
    for (size_t i = 0; i < pc_routes_count; i++) {
        if (!staff_route(&pc_routes[i]))
            continue;
        staff++;
        bool covered = false;
        for (size_t k = 0; k < NCELLS && !covered; k++)
            covered = !strcmp(g_matrix[k].method, pc_routes[i].method) &&
                      !strcmp(g_matrix[k].pattern, pc_routes[i].pattern);
        if (!covered)
            fail_msg("route %s %s is not in the matrix", pc_routes[i].method, pc_routes[i].pattern);
    }
    assert_true(staff >= 30);
}

static void test_every_role_gets_what_its_roles_allow_and_nothing_more(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t k = 0; k < NCELLS; k++) {
        const struct cell *c = &g_matrix[k];
        for (int who = 0; who < NP; who++) {
            char path[300], body[1200], auth[120], tok[64];
            expand(c->path, who, path, sizeof path);
            if (c->body)
                expand(c->body, who, body, sizeof body);
            snprintf(tok, sizeof tok, "%s", g_tok[who]);
            if (!strcmp(c->path, "/api/v1/admin/logout")) /* a token of its own to end */
                h_login(&g_srv, g_names[who], "scope-password-1", tok, sizeof tok);
            snprintf(auth, sizeof auth, "Authorization: Bearer %s", tok);
            const char *hs[] = {
                auth, c->content_type ? c->content_type : "Content-Type: application/json", NULL};
            struct h_resp r;
            h_http(&g_srv, c->method, path, hs, c->body ? body : NULL, c->body ? strlen(body) : 0,
                   &r);
            int want = c->want[who];
            bool ok = want == OK2 ? (r.status == 200 || r.status == 409) : r.status == want;
            if (!ok) {
                fprintf(stderr, "MATRIX %s %s as %s: want %d, got %ld: %.200s\n", c->method, path,
                        g_names[who], want, r.status, r.body ? r.body : "");
                failures++;
            }
            if (r.status == 403 || (r.status == 404 && want == 404))
                assert_non_null(strstr(r.body, "\"error\"")); /* API.md's error shape */
            h_resp_free(&r);
        }
    }
    assert_int_equal(failures, 0);
}

/* GET path as who: the body (the caller frees it), asserting 200. */
static char *read_as(int who, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *read_as(int who, const char *fmt, ...)
{
    char path[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    struct h_resp r;
    h_get(&g_srv, path, g_tok[who], &r);
    if (r.status != 200)
        fail_msg("GET %s as %s: %ld %s", path, g_names[who], r.status, r.body);
    char *b = strdup(r.body);
    h_resp_free(&r);
    return b;
}

static bool holds(int who, const char *needle, const char *path)
{
    char *b = read_as(who, "%s", path);
    bool found = strstr(b, needle) != NULL;
    free(b);
    return found;
}

static void test_lists_hold_only_the_rows_of_the_callers_scope(void **state)
{
    (void)state;
    /* Tokens again: the matrix ended every session with its logout row. */
    for (int i = 0; i < NP; i++)
        h_login(&g_srv, g_names[i], "scope-password-1", g_tok[i], sizeof g_tok[i]);
    /* Payments: school B's finance never sees school A's order, nor A's B's. */
    assert_true(holds(CFIN, "PSCOPEA000000001", "/api/v1/finance/payments"));
    assert_true(holds(CFIN, "PSCOPEB000000001", "/api/v1/finance/payments"));
    assert_true(holds(AFIN, "PSCOPEA000000001", "/api/v1/finance/payments"));
    assert_false(holds(AFIN, "PSCOPEB000000001", "/api/v1/finance/payments"));
    assert_false(holds(BFIN, "PSCOPEA000000001", "/api/v1/finance/payments"));
    assert_false(holds(BFIN, "PSCOPEA000000001", "/api/v1/finance/payments?format=csv"));
    assert_true(holds(BFIN, "PSCOPEB000000001", "/api/v1/finance/payments?format=csv"));
    /* The review queue: the reviewer at B (also college staff at A) sees B's order only. */
    assert_true(holds(AREV, "PSCOPEA000000001", "/api/v1/admin/review-queue"));
    assert_true(holds(ATREV, "PSCOPEA000000001", "/api/v1/admin/review-queue"));
    assert_false(holds(ATREV, "PSCOPEB000000001", "/api/v1/admin/review-queue"));
    assert_false(holds(MIXED, "PSCOPEA000000001", "/api/v1/admin/review-queue"));
    assert_true(holds(MIXED, "PSCOPEB000000001", "/api/v1/admin/review-queue"));
    assert_false(holds(BREV, "PSCOPEA000000001", "/api/v1/admin/review-queue"));
    /* The roster: college staff see their college only. */
    char p[128];
    snprintf(p, sizeof p, "/api/v1/admin/tasks/%lld/roster", g_ta);
    assert_true(holds(MIXED, "S001", p));
    assert_false(holds(MIXED, "S002", p));
    assert_true(holds(AADMIN, "S002", p));
    /* Tasks, schools, the console's task picker. */
    assert_true(holds(AADMIN, "甲采集", "/api/v1/admin/tasks"));
    assert_false(holds(AADMIN, "乙采集", "/api/v1/admin/tasks"));
    assert_false(holds(BADMIN, "甲采集", "/api/v1/admin/tasks"));
    assert_false(holds(BADMIN, "甲大学", "/api/v1/admin/schools"));
    assert_true(holds(MIXED, "甲大学", "/api/v1/admin/schools"));
    assert_true(holds(MIXED, "乙大学", "/api/v1/admin/schools"));
    assert_true(holds(ATREV, "甲采集", "/api/v1/staff/tasks"));
    assert_false(holds(ATREV, "乙采集", "/api/v1/staff/tasks"));
    assert_false(holds(BCOL, "甲采集", "/api/v1/staff/tasks"));
    /* Staff accounts: B's admin does not see A's clerk. */
    assert_true(holds(AADMIN, "aclerk", "/api/v1/admin/staff"));
    assert_false(holds(BADMIN, "aclerk", "/api/v1/admin/staff"));
    /* /admin/me names each role with its own scope. */
    char *me = read_as(MIXED, "/api/v1/admin/me");
    cJSON *j = cJSON_Parse(me);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "grants")), 2);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "school_id"))); /* two schools */
    cJSON_Delete(j);
    free(me);
}

static void test_the_audit_log_and_reconciliation_stay_within_the_school(void **state)
{
    (void)state;
    /* Rows about school A exist (the matrix read its photos, roster and payments)... */
    assert_true(h_db_int(&g_db, "SELECT COUNT(*) FROM audit_log WHERE school_id = %lld", g_sa) >
                10);
    char *a = read_as(AADMIN, "/api/v1/admin/audit?limit=500");
    char *b = read_as(BADMIN, "/api/v1/admin/audit?limit=500");
    char *c = read_as(CADMIN, "/api/v1/admin/audit?limit=500");
    cJSON *ja = cJSON_Parse(a), *jb = cJSON_Parse(b), *jc = cJSON_Parse(c);
    const cJSON *it;
    int na = 0, nb = 0;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(ja, "items"))
    {
        const cJSON *s = cJSON_GetObjectItem(it, "school_id");
        assert_true(cJSON_IsNumber(s) && (long long)s->valuedouble == g_sa);
        na++;
    }
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(jb, "items"))
    {
        const cJSON *s = cJSON_GetObjectItem(it, "school_id");
        assert_true(cJSON_IsNumber(s) && (long long)s->valuedouble == g_sb_id);
        nb++;
    }
    assert_true(na > 10);
    assert_true(nb >= 1);
    /* ...and the company admin reads them all, company rows included. */
    assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(jc, "items")) > na + nb);
    assert_null(strstr(b, "PSCOPEA000000001"));
    assert_null(strstr(b, "S001"));
    cJSON_Delete(ja);
    cJSON_Delete(jb);
    cJSON_Delete(jc);
    free(a);
    free(b);
    free(c);
    /* A school's finance read the day's reconciliation as their school's view. */
    for (int i = 0; i < 100; i++) { /* the job runs the requested day */
        char *r = read_as(CFIN, "/api/v1/finance/reconciliations/%s", g_today);
        bool done = strstr(r, "\"state\":\"done\"") != NULL;
        free(r);
        if (done)
            break;
        h_msleep(100);
    }
    char *rb = read_as(BFIN, "/api/v1/finance/reconciliations/%s", g_today);
    char *rc = read_as(CFIN, "/api/v1/finance/reconciliations/%s", g_today);
    assert_non_null(strstr(rb, "\"school_view\":true"));
    assert_null(strstr(rb, "\"bill\""));
    assert_null(strstr(rb, "PSCOPEA"));
    assert_non_null(strstr(rc, "PSCOPEA000000001")); /* company finance: here, not in the bill */
    free(rb);
    free(rc);
}

static void test_staff_reads_of_personal_data_are_audited_with_who_what_and_where(void **state)
{
    (void)state;
    char p[160];
    snprintf(p, sizeof p, "/api/v1/orders/PSCOPEA000000001/photo?variant=normalized");
    free(read_as(AREV, "%s", p));
    assert_int_equal(h_db_int(&g_db,
                              "SELECT COUNT(*) FROM audit_log WHERE action='order.photo_read' AND "
                              "actor_name='arev' AND school_id=%lld AND ip='127.0.0.1' AND "
                              "JSON_VALUE(details,'$.student_no')='S001' AND "
                              "JSON_VALUE(details,'$.variant')='normalized'",
                              g_sa),
                     1);
    free(read_as(AREV, "/api/v1/admin/review-queue"));
    assert_true(h_db_int(&g_db, "SELECT COUNT(*) FROM audit_log WHERE "
                                "action='review.queue_read' AND actor_name='arev' AND "
                                "details LIKE '%%PSCOPEA000000001%%'") >= 1);
    snprintf(p, sizeof p, "/api/v1/admin/tasks/%lld/roster?format=csv", g_ta);
    free(read_as(ACOL, "%s", p));
    assert_true(h_db_int(&g_db,
                         "SELECT COUNT(*) FROM audit_log WHERE action='roster.read' AND "
                         "actor_name='acol' AND target_id='%lld' AND "
                         "JSON_VALUE(details,'$.format')='csv' AND "
                         "JSON_VALUE(details,'$.college')='文学院'",
                         g_ta) >= 1);
    free(read_as(AFIN, "/api/v1/finance/payments"));
    assert_true(h_db_int(&g_db,
                         "SELECT COUNT(*) FROM audit_log WHERE "
                         "action='finance.payments_read' AND actor_name='afin' AND "
                         "school_id=%lld AND details LIKE '%%PSCOPEA000000001%%'",
                         g_sa) >= 1);
    snprintf(p, sizeof p, "/api/v1/admin/tasks/%lld/export.zip", g_ta);
    free(read_as(AADMIN, "%s", p));
    assert_true(h_db_int(&g_db,
                         "SELECT COUNT(*) FROM audit_log WHERE action='task.export' AND "
                         "actor_name='aadmin' AND school_id=%lld",
                         g_sa) >= 1);
    free(read_as(AADMIN, "/api/v1/admin/audit"));
    assert_true(h_db_int(&g_db, "SELECT COUNT(*) FROM audit_log WHERE action='audit.read' AND "
                                "actor_name='aadmin'") >= 1);
}

static void test_reviewers_are_assigned_to_a_task_by_the_cli_and_the_api(void **state)
{
    (void)state;
    char p[128], body[64];
    snprintf(p, sizeof p, "/api/v1/admin/tasks/%lld/reviewers", g_ta);
    /* The API: A's admin assigns the clerk to task A; the clerk's grants show it. */
    snprintf(body, sizeof body, "{\"staff_id\":%lld}", g_clerk);
    struct h_resp r;
    h_post_json(&g_srv, p, g_tok[AADMIN], body, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"username\":\"aclerk\""));
    h_resp_free(&r);
    assert_int_equal(h_db_int(&g_db,
                              "SELECT COUNT(*) FROM staff_roles WHERE staff_id=%lld AND "
                              "role='reviewer' AND task_id=%lld",
                              g_clerk, g_ta),
                     1);
    assert_true(h_db_int(&g_db, "SELECT COUNT(*) FROM audit_log WHERE action='staff.update' AND "
                                "actor_name='aadmin' AND details LIKE "
                                "'%%reviewer_task_added%%'") >= 1);
    /* B's admin may not touch school A's task. */
    h_post_json(&g_srv, p, g_tok[BADMIN], body, &r);
    h_assert_error(&r, 404, "NOT_FOUND");
    h_resp_free(&r);
    /* The CLI: a company reviewer is assigned to task B, then unassigned. */
    cli(NULL, "user grant --username crev --role reviewer --task %lld", g_tb);
    assert_int_equal(h_db_int(&g_db,
                              "SELECT COUNT(*) FROM staff_roles r JOIN staff s ON s.id = "
                              "r.staff_id WHERE s.username='crev' AND r.task_id=%lld AND "
                              "r.school_id=%lld",
                              g_tb, g_sb_id),
                     1);
    snprintf(p, sizeof p, "/api/v1/admin/tasks/%lld/reviewers", g_tb);
    assert_true(holds(BADMIN, "\"username\":\"crev\"", p));
    cli(NULL, "user revoke --username crev --role reviewer --task %lld", g_tb);
    assert_false(holds(BADMIN, "\"username\":\"crev\"", p));
    /* A college role with a task, or a task of another school, is refused by the CLI. */
    char out[256];
    assert_int_equal(h_srv_cli(&g_srv, NULL, out, sizeof out,
                               "user grant --username acol --role "
                               "college --task 1"),
                     1);
}

static void test_server_and_sandbox_exit_0(void **state)
{
    (void)state;
    assert_int_equal(h_srv_stop(&g_srv, SIGTERM), 0);
    assert_int_equal(h_sandbox_stop(&g_sb), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_matrix_covers_every_staff_route),
        cmocka_unit_test(test_every_role_gets_what_its_roles_allow_and_nothing_more),
        cmocka_unit_test(test_lists_hold_only_the_rows_of_the_callers_scope),
        cmocka_unit_test(test_the_audit_log_and_reconciliation_stay_within_the_school),
        cmocka_unit_test(test_staff_reads_of_personal_data_are_audited_with_who_what_and_where),
        cmocka_unit_test(test_reviewers_are_assigned_to_a_task_by_the_cli_and_the_api),
        cmocka_unit_test(test_server_and_sandbox_exit_0),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
