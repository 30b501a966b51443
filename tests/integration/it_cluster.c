/* it_cluster.c — two portraitd instances on one MariaDB, photos in an S3 server (s3rver, V4
 * signatures checked), haproxy in front (scripts/haproxy-conf.sh, as `make cluster`), the
 * WeChat sandbox for login, codes, pay and messages.
 *
 * 1. The whole student flow with consecutive requests on alternating instances: login,
 *    profile, bind, collection code, confirm, photo, read back, pay (the notification comes
 *    through the balancer), review, messages.
 * 2. One instance SIGKILLed in the middle of uploads and payment notifications: every
 *    acknowledged upload is recorded and its files read back from the survivor; every payment
 *    is applied once; the outbox sends each message once (a message whose send was in flight
 *    on the killed instance may go twice — at-least-once is the documented promise, and the
 *    test names the only message that may); one instance owns the access_token; each
 *    one-instance job runs on one instance per interval, and the survivor takes the leases
 *    over once the dead holder's expire. */
#include "harness.h"
#include "cluster.h"
#include "s3server.h"

#include "base/crypto.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>

#define N 5 /* students of the kill phase (6 pairwise distinct test portraits) */
/* The outbox rows the worker delivers to students. */
#define DELIVERED "kind IN ('order.paid', 'student.notice')"

static struct h_db g_db;
static struct h_sandbox g_sb;
static struct h_s3 g_s3;
static struct h_srv g_a, g_b, g_lb;
static struct h_balancer g_bal;
static char g_admin[128], g_pay[400];
static long long g_task;
static unsigned char *g_img[N + 1];
static size_t g_len[N + 1];

/* Student i's name (real names have no digits). */
static const char *const g_names[] = {"陈甲", "李乙", "王丙", "张丁", "刘戊", "杨己", "赵庚"};

static const char *payfile(const char *name, char *buf, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", g_pay, name);
    return h_read_text(path, buf, len);
}

static int setup(void **state)
{
    (void)state;
    char cmd[700], args[800], wx[600], s3[600], conf[4000], mchid[32], serial[64], apiv3[64];
    snprintf(g_pay, sizeof g_pay, "%s/pay", h_workdir());
    snprintf(cmd, sizeof cmd, "'%s/scripts/gen-pay-keys.sh' '%s' >/dev/null", PC_SOURCE_DIR, g_pay);
    assert_int_equal(system(cmd), 0);
    h_db_start(&g_db);
    snprintf(args, sizeof args,
             "--pay-dir %s --ca-file %s/tls/dev-ca.pem --notify-schedule "
             "0.2,0.3,0.5,1,1,2,2,3,3,5",
             g_pay, h_workdir());
    h_sandbox_start(&g_sb, args);
    h_s3_start(&g_s3);
    h_distinct_portraits(N + 1, g_img, g_len);
    /* The balancer's port is fixed first: WeChat Pay notifies it, not an instance. */
    int lb_port = h_free_port();
    snprintf(conf, sizeof conf,
             "%s%s[server]\ntrusted_proxies = 127.0.0.1\n"
             "[pay]\nmchid = %s\napi_base = %s\nca_file = %s/tls/dev-ca.pem\n"
             "merchant_key_file = %s/merchant.key\nmerchant_serial = %s\napiv3_key = %s\n"
             "platform_certs = %s/platform.pem\n"
             "notify_url = https://127.0.0.1:%d/api/v1/pay/notify\n"
             "refund_notify_url = https://127.0.0.1:%d/api/v1/pay/refund-notify\n"
             "sweep_interval_ms = 300\nsweep_min_age_s = 600\n"
             "[notify]\ninterval_ms = 150\nlease_s = 5\nbackoff_base_ms = 200\n"
             "template_paid = TPL_PAID\ntemplate_approved = TPL_OK\n",
             h_s3_conf(&g_s3, s3, sizeof s3), h_sandbox_conf(&g_sb, wx, sizeof wx),
             payfile("mchid", mchid, sizeof mchid), g_sb.base, h_workdir(), g_pay,
             payfile("merchant.serial", serial, sizeof serial),
             payfile("apiv3.key", apiv3, sizeof apiv3), g_pay, lb_port, lb_port);
    h_srv_start(&g_a, &g_db, conf, 0);
    h_srv_start(&g_b, &g_db, conf, 1);
    struct h_srv *both[] = {&g_a, &g_b};
    h_balancer_start(&g_bal, both, 2, lb_port);
    h_balancer_srv(&g_bal, &g_lb);
    h_user_add(&g_a, "boss", "admin", "boss-password-1");
    h_user_add(&g_b, "rev", "reviewer", "reviewer-pass-1");
    h_login(&g_b, "boss", "boss-password-1", g_admin, sizeof g_admin);
    struct h_resp r;
    h_req_json(&g_a, "POST", "/api/v1/admin/schools", g_admin,
               "{\"code\":\"10402\",\"name\":\"演示大学\"}", &r);
    assert_int_equal(r.status, 201);
    h_resp_free(&r);
    char o[40], c[40], body[600];
    h_when(-3600, o, sizeof o);
    h_when(86400, c, sizeof c);
    snprintf(
        body, sizeof body,
        "{\"name\":\"2024届图像采集\",\"school\":\"10402\",\"collection_type\":\"centralized\","
        "\"feature_code\":\"cluster1\",\"opens_at\":\"%s\",\"closes_at\":\"%s\","
        "\"price_fen\":2500,\"grad_year\":2024}",
        o, c);
    h_req_json(&g_b, "POST", "/api/v1/admin/tasks", g_admin, body, &r);
    assert_int_equal(r.status, 201);
    cJSON *j = h_json(&r);
    g_task = (long long)cJSON_GetObjectItem(j, "id")->valuedouble;
    cJSON_Delete(j);
    h_resp_free(&r);
    char csv[2000] = "学院,姓名,学号,班级\n";
    for (int i = 0; i <= N; i++) {
        size_t l = strlen(csv);
        snprintf(csv + l, sizeof csv - l, "文学院,%s,2020100%03d,20汉语言1班\n", g_names[i], i);
    }
    char path[96], auth[160];
    snprintf(path, sizeof path, "/api/v1/admin/tasks/%lld/roster", g_task);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", g_admin);
    const char *hs[] = {"Content-Type: text/csv", auth, NULL};
    h_http(&g_a, "POST", path, hs, csv, strlen(csv), &r);
    assert_int_equal(r.status, 200);
    h_resp_free(&r);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    h_balancer_stop(&g_bal);
    if (g_a.pid > 0)
        h_srv_stop(&g_a, SIGKILL);
    h_stack_down(&g_b, &g_sb, &g_db);
    h_s3_stop(&g_s3);
    for (int i = 0; i <= N; i++)
        free(g_img[i]);
    return 0;
}

/* Instance i % 2: consecutive steps alternate. */
static struct h_srv *on(int i)
{
    return i % 2 ? &g_b : &g_a;
}

static void ok_json(struct h_srv *s, const char *method, const char *path, const char *tok,
                    const char *body, long want, char *field, const char *key, size_t len)
{
    struct h_resp r;
    h_req_json(s, method, path, tok, body, &r);
    if (r.status != want)
        fail_msg("%s %s on :%d: %ld %.300s", method, path, s->port, r.status, r.body);
    if (field) {
        cJSON *j = h_json(&r), *v = j;
        char k[64];
        snprintf(k, sizeof k, "%s", key);
        for (char *save = NULL, *t = strtok_r(k, ".", &save); t; t = strtok_r(NULL, ".", &save))
            v = cJSON_GetObjectItem(v, t);
        assert_true(cJSON_IsString(v));
        snprintf(field, len, "%s", v->valuestring);
        cJSON_Delete(j);
    }
    h_resp_free(&r);
}

/* A student from login to an order awaiting a photo; every step on the other instance than
 * the one before. order_no receives the order. */
static void to_order(int i, char *tok, size_t tlen, char *order_no, size_t olen)
{
    char openid[32], body[4400], path[96], cand[64], code[4200], name[32], sno[16];
    snprintf(openid, sizeof openid, "o_cluster_%d", i);
    snprintf(name, sizeof name, "%s", g_names[i]);
    snprintf(sno, sizeof sno, "2020100%03d", i);
    snprintf(body, sizeof body, "{\"openid\":\"%s\"}", openid);
    cJSON *lc = h_sb_json(&g_sb, "POST", "/__sandbox/login-code", body);
    snprintf(body, sizeof body, "{\"code\":\"%s\"}", cJSON_GetObjectItem(lc, "code")->valuestring);
    cJSON_Delete(lc);
    ok_json(on(0), "POST", "/api/v1/auth/wx-login", NULL, body, 200, tok, "token", tlen);
    snprintf(body, sizeof body, "{\"real_name\":\"%s\"}", name);
    ok_json(on(1), "PUT", "/api/v1/me/profile", tok, body, 200, NULL, NULL, 0);
    ok_json(on(2), "POST", "/api/v1/tasks/bind", tok,
            "{\"collection_type\":\"centralized\",\"feature_code\":\"cluster1\"}", 200, NULL, NULL,
            0);
    /* Messages: the student accepts both templates (mini-program and WeChat's side). */
    ok_json(on(3), "POST", "/api/v1/me/subscriptions", tok,
            "{\"template_ids\":{\"TPL_PAID\":\"accept\",\"TPL_OK\":\"accept\"}}", 200, NULL, NULL,
            0);
    snprintf(body, sizeof body, "{\"openid\":\"%s\",\"template_id\":\"TPL_PAID\",\"count\":3}",
             openid);
    cJSON_Delete(h_sb_json(&g_sb, "POST", "/__sandbox/subscribe-consent", body));
    snprintf(body, sizeof body, "{\"openid\":\"%s\",\"template_id\":\"TPL_OK\",\"count\":3}",
             openid);
    cJSON_Delete(h_sb_json(&g_sb, "POST", "/__sandbox/subscribe-consent", body));
    snprintf(
        body, sizeof body,
        "{\"student_no\":\"%s\",\"name\":\"%s\",\"school_code\":\"10402\",\"school\":"
        "\"演示大学\",\"id_no\":\"110101200201011234\",\"major\":\"汉语言\",\"grad_year\":2024}",
        sno, name);
    cJSON *m = h_sb_json(&g_sb, "POST", "/__sandbox/collection-code", body);
    snprintf(code, sizeof code, "%s", cJSON_GetObjectItem(m, "code")->valuestring);
    cJSON_Delete(m);
    snprintf(path, sizeof path, "/api/v1/tasks/%lld/collection-code", g_task);
    snprintf(body, sizeof body, "{\"code\":\"%s\"}", code);
    ok_json(on(4), "POST", path, tok, body, 200, cand, "candidate_id", sizeof cand);
    snprintf(path, sizeof path, "/api/v1/tasks/%lld/confirm", g_task);
    snprintf(body, sizeof body, "{\"candidate_id\":\"%s\"}", cand);
    ok_json(on(5), "POST", path, tok, body, 200, order_no, "order.order_no", olen);
}

static long put_photo(struct h_srv *s, const char *tok, const char *no, const void *img, size_t len,
                      int *curl_rc)
{
    struct h_resp r;
    *curl_rc = h_put_photo(s, tok, no, img, len, &r);
    long st = *curl_rc ? 0 : r.status;
    h_resp_free(&r);
    return st;
}

static bool wait_db(long ms, const char *sql)
{
    for (long t = 0; t < ms; t += 100) {
        if (h_db_int(&g_db, "%s", sql))
            return true;
        h_msleep(100);
    }
    return false;
}

static long long metric(struct h_srv *s, const char *series)
{
    struct h_resp r;
    if (h_http_try(s, "GET", "/metrics", NULL, NULL, 0, &r) || r.status != 200) {
        h_resp_free(&r);
        return -1;
    }
    const char *p = strstr(r.body, series);
    long long v = p ? strtoll(p + strlen(series), NULL, 10) : 0;
    h_resp_free(&r);
    return v;
}

static void sandbox_pay(const char *no)
{
    char body[96];
    snprintf(body, sizeof body, "{\"out_trade_no\":\"%s\"}", no);
    cJSON_Delete(h_sb_json(&g_sb, "POST", "/__sandbox/pay", body));
}

static void test_the_whole_student_flow_alternates_instances(void **state)
{
    (void)state;
    char tok[128], no[40], path[128], rev[128];
    to_order(0, tok, sizeof tok, no, sizeof no);
    int rc = 0;
    snprintf(path, sizeof path, "/api/v1/orders/%s", no);
    assert_int_equal(put_photo(on(6), tok, no, g_img[N], g_len[N], &rc), 200);
    /* The file went to the object store from A, and B reads it back. */
    struct h_resp r;
    snprintf(path, sizeof path, "/api/v1/orders/%s/photo?variant=original", no);
    h_get(on(7), path, tok, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, g_len[N]);
    assert_memory_equal(r.body, g_img[N], g_len[N]);
    h_resp_free(&r);
    assert_int_equal(h_s3_objects(&g_s3, "photos/original"), 1);
    snprintf(path, sizeof path, "/api/v1/orders/%s/pay", no);
    ok_json(on(8), "POST", path, tok, "{}", 200, NULL, NULL, 0);
    sandbox_pay(no); /* WeChat Pay notifies the balancer */
    char q[200];
    snprintf(q, sizeof q,
             "SELECT COUNT(*) FROM orders WHERE order_no='%s' AND status='pending_review'", no);
    assert_true(wait_db(20000, q));
    snprintf(path, sizeof path, "/api/v1/orders/%s", no);
    h_get(on(9), path, tok, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"pending_review\""));
    h_resp_free(&r);
    h_login(on(10), "rev", "reviewer-pass-1", rev, sizeof rev);
    snprintf(path, sizeof path, "/api/v1/admin/orders/%s/review", no);
    ok_json(on(11), "POST", path, rev, "{\"decision\":\"approve\"}", 200, NULL, NULL, 0);
    h_get(on(12), "/api/v1/orders", tok, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"approved\""));
    h_resp_free(&r);
    /* Both messages reach the student once (paid, approved), sent by whichever instance's
     * outbox worker claimed them. */
    assert_true(wait_db(20000, "SELECT COUNT(*) = 2 FROM outbox WHERE " DELIVERED " AND "
                               "state = 'done' AND sent_via = 'subscribe'"));
    cJSON *ms = h_sb_json(&g_sb, "GET", "/__sandbox/messages?kind=subscribe", NULL);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(ms, "messages")), 2);
    cJSON_Delete(ms);
    /* Through the balancer: the same API. */
    h_get(&g_lb, "/api/v1/orders", tok, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, no));
    h_resp_free(&r);
}

struct student {
    char tok[128], no[40];
    atomic_int acked;  /* 200 to the upload */
    atomic_int landed; /* upload answered 409 after a lost reply: it went in earlier */
    atomic_int paid;   /* the sandbox took the money */
};
static struct student g_st[N];
static atomic_int g_acked_total, g_paid_total, g_done;

/* Uploads every student's photo through the balancer, retrying what was not answered 200 (a
 * client whose request died with the instance does that). */
static void *uploader(void *arg)
{
    (void)arg;
    for (int i = 0; i < N; i++) {
        for (int attempt = 0; attempt < 60; attempt++) {
            int rc = 0;
            long st = put_photo(&g_lb, g_st[i].tok, g_st[i].no, g_img[i], g_len[i], &rc);
            if (st == 200) {
                g_st[i].acked = 1;
                g_acked_total++;
                break;
            }
            if (st == 409) { /* the state moved: a lost 200 */
                g_st[i].landed = 1;
                break;
            }
            h_msleep(250);
        }
    }
    g_done++;
    return NULL;
}

/* Pays each order whose photo is in (prepay through the balancer, then the user pays). */
static void *payer(void *arg)
{
    (void)arg;
    for (int i = 0; i < N; i++) {
        while (!g_st[i].acked && !g_st[i].landed && g_done == 0)
            h_msleep(50);
        if (!g_st[i].acked && !g_st[i].landed)
            continue;
        char path[96];
        snprintf(path, sizeof path, "/api/v1/orders/%s/pay", g_st[i].no);
        for (int attempt = 0; attempt < 60; attempt++) {
            struct h_resp r;
            char auth[160];
            snprintf(auth, sizeof auth, "Authorization: Bearer %s", g_st[i].tok);
            const char *hs[] = {"Content-Type: application/json", auth, NULL};
            int rc = h_http_try(&g_lb, "POST", path, hs, "{}", 2, &r);
            long st = rc ? 0 : r.status;
            h_resp_free(&r);
            if (st == 200) {
                char body[96];
                snprintf(body, sizeof body, "{\"out_trade_no\":\"%s\"}", g_st[i].no);
                struct h_resp p;
                h_sb_call(&g_sb, "POST", "/__sandbox/pay", body, &p);
                h_resp_free(&p);
                g_st[i].paid = 1;
                g_paid_total++;
                break;
            }
            h_msleep(250);
        }
    }
    return NULL;
}

static void test_a_killed_instance_loses_nothing_acknowledged(void **state)
{
    (void)state;
    for (int i = 0; i < N; i++)
        to_order(i + 1, g_st[i].tok, sizeof g_st[i].tok, g_st[i].no, sizeof g_st[i].no);
    /* One instance owns the access_token and each one-instance job: over 3 s, the sweeper
     * (every 300 ms) ran on one instance only, about once per interval. */
    const char *sweeps = "portraitd_lease_runs_total{lease=\"pay_sweeper\"} ";
    long long a0 = metric(&g_a, sweeps), b0 = metric(&g_b, sweeps);
    h_msleep(3000);
    long long da = metric(&g_a, sweeps) - a0, db = metric(&g_b, sweeps) - b0;
    assert_true((da == 0) != (db == 0));
    assert_true(da + db >= 3 && da + db <= 3000 / 300 + 2);
    const char *tok_held = "portraitd_lease_held{lease=\"wx_access_token\"} ";
    assert_int_equal(metric(&g_a, tok_held) + metric(&g_b, tok_held), 1);

    pthread_t up, pay;
    pthread_create(&up, NULL, uploader, NULL);
    pthread_create(&pay, NULL, payer, NULL);
    /* In the middle: some uploads answered, a payment under way. */
    for (int t = 0; t < 1200 && (g_acked_total < 2 || g_paid_total < 1); t++)
        h_msleep(50);
    pid_t apid = g_a.pid;
    assert_int_equal(h_srv_stop(&g_a, SIGKILL), 128 + SIGKILL);
    /* What the dead instance had claimed in the outbox and not finished: the only messages
     * that may have reached WeChat and still be sent again. */
    long long in_flight = h_db_int(&g_db,
                                   "SELECT COUNT(*) FROM outbox WHERE state='running' AND "
                                   "claimed_by LIKE '%%:%d:%%'",
                                   (int)apid);
    pthread_join(up, NULL);
    pthread_join(pay, NULL);

    /* Every acknowledged upload is recorded, and its files come back from the survivor. */
    int acked = 0;
    for (int i = 0; i < N; i++) {
        if (!g_st[i].acked && !g_st[i].landed)
            fail_msg("student %d's upload never went through", i + 1);
        acked += g_st[i].acked;
        assert_int_equal(h_db_int(&g_db,
                                  "SELECT COUNT(*) FROM photos p JOIN orders o ON o.id=p.order_id "
                                  "WHERE o.order_no='%s'",
                                  g_st[i].no),
                         1);
        char path[128];
        snprintf(path, sizeof path, "/api/v1/orders/%s/photo?variant=original", g_st[i].no);
        struct h_resp r;
        h_get(&g_b, path, g_st[i].tok, &r);
        assert_int_equal(r.status, 200);
        assert_int_equal(r.len, g_len[i]);
        assert_memory_equal(r.body, g_img[i], g_len[i]);
        h_resp_free(&r);
        snprintf(path, sizeof path, "/api/v1/orders/%s/photo", g_st[i].no);
        h_get(&g_b, path, g_st[i].tok, &r);
        assert_int_equal(r.status, 200);
        h_resp_free(&r);
    }
    assert_true(acked >= 2);
    /* Every payment is applied once, by whichever instance got its notification. */
    for (int i = 0; i < N; i++) {
        if (!g_st[i].paid)
            fail_msg("student %d never paid", i + 1);
        char q[300];
        snprintf(q, sizeof q,
                 "SELECT COUNT(*) FROM orders WHERE order_no='%s' AND status='pending_review'",
                 g_st[i].no);
        if (!wait_db(30000, q))
            fail_msg("the payment of %s was not applied", g_st[i].no);
        assert_int_equal(
            h_db_int(&g_db, "SELECT COUNT(*) FROM payments WHERE out_trade_no='%s'", g_st[i].no),
            1);
        assert_int_equal(h_db_int(&g_db,
                                  "SELECT COUNT(*) FROM outbox WHERE kind='order.paid' AND "
                                  "payload LIKE '%%%s%%'",
                                  g_st[i].no),
                         1);
    }
    /* The survivor takes the leases once the dead holder's expire (made to expire now rather
     * than waiting their 30-120 s). */
    h_db_int(&g_db, "UPDATE leases SET expires_at = UTC_TIMESTAMP(3) WHERE holder LIKE '%%:%d:%%'",
             (int)apid);
    const char *sweep_held = "portraitd_lease_held{lease=\"pay_sweeper\"} ";
    for (int t = 0; t < 200 && (metric(&g_b, sweep_held) != 1 || metric(&g_b, tok_held) != 1); t++)
        h_msleep(100);
    assert_int_equal(metric(&g_b, sweep_held), 1);
    assert_int_equal(metric(&g_b, tok_held), 1);
    /* The outbox: every message sent; each once, but for what was in flight at the kill. */
    assert_true(wait_db(30000, "SELECT COUNT(*) = 0 FROM outbox WHERE " DELIVERED " AND "
                               "(state <> 'done' OR sent_via <> 'subscribe')"));
    long long outbox = h_db_int(&g_db, "SELECT COUNT(*) FROM outbox WHERE " DELIVERED);
    cJSON *ms = h_sb_json(&g_sb, "GET", "/__sandbox/messages?kind=subscribe", NULL);
    long long sent = cJSON_GetArraySize(cJSON_GetObjectItem(ms, "messages"));
    cJSON_Delete(ms);
    if (sent != outbox)
        fprintf(stderr,
                "it_cluster: %lld messages for %lld outbox rows; %lld were in flight on "
                "the killed instance\n",
                sent, outbox, in_flight);
    assert_true(sent >= outbox && sent <= outbox + (in_flight > 0 ? 1 : 0));
    /* One instance fetched the access_token, once; everyone used it. */
    cJSON *tr = h_sb_json(&g_sb, "GET", "/__sandbox/requests?endpoint=stable_token", NULL);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(tr, "requests")), 1);
    cJSON_Delete(tr);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(DISTINCT fetched_by) FROM wx_access_tokens"), 1);
    /* The balancer took the dead instance out: everything answers. */
    struct h_resp r;
    h_get(&g_lb, "/api/v1/orders", g_st[0].tok, &r);
    assert_int_equal(r.status, 200);
    h_resp_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_whole_student_flow_alternates_instances),
        cmocka_unit_test(test_a_killed_instance_loses_nothing_acknowledged),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
