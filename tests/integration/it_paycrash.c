/* it_paycrash.c — nothing acknowledged is lost: payment notifications under load while
 * portraitd is killed with SIGKILL, then while MariaDB is killed with SIGKILL; after each
 * restart every notification the client saw answered 204 has its order paid, its payment row
 * and its notification id, and the store holds whole transactions only. Then WeChat's retries
 * of everything unanswered apply each payment exactly once. Real portraitd (group commit of
 * notifications, payment/group.h), real MariaDB (innodb_flush_log_at_trx_commit = 1). */
#include "harness.h"

#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <unistd.h>

#define N       300 /* distinct unpaid orders, one notification each */
#define SENDERS 8

static struct h_db g_db;
static struct h_sandbox g_sb;
static struct h_srv g_srv;
static char g_conf[4096];
static struct h_pay_note g_notes[N];
static atomic_int g_acked[N]; /* 1 once the client received 204 for note i */
static int g_todo[N], g_ntodo;
static atomic_int g_next, g_acks, g_stop;

static int setup(void **state)
{
    (void)state;
    char wx[600], pay[1500];
    h_db_start(&g_db);
    h_sandbox_start(&g_sb, NULL);
    snprintf(
        g_conf, sizeof g_conf,
        "%s%s[server]\nthreads = 2\nworkers = 4\n[db]\nrw_timeout_s = 5\n[log]\nlevel = warn\n",
        h_sandbox_conf(&g_sb, wx, sizeof wx), h_pay_conf(&g_sb, pay, sizeof pay));
    h_srv_start(&g_srv, &g_db, g_conf, 0);
    char tok[128];
    h_student(&g_srv, &g_sb, "o_crash", NULL, tok, sizeof tok);
    h_db_int(&g_db, "INSERT INTO schools (code, name) VALUES ('10499', 'crash')");
    h_db_int(&g_db, "INSERT INTO tasks (school_id, name, collection_type, feature_code, "
                    "feature_code_norm, opens_at, closes_at, price_fen, grad_year) SELECT id, "
                    "'crash', 'centralized', 'crashtask', 'crashtask', UTC_TIMESTAMP() - "
                    "INTERVAL 1 DAY, UTC_TIMESTAMP() + INTERVAL 1 DAY, 2500, 2024 FROM schools");
    h_pay_orders_and_notes(&g_db, "PK", "o_crash", "crashtask", N, g_notes);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < N; i++)
        h_pay_note_free(&g_notes[i]);
    return h_stack_down(&g_srv, &g_sb, &g_db);
}

static size_t sink(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return s * n;
}

/* Sends the notes of g_todo (each once) over one keep-alive connection until g_stop. */
static void *sender(void *arg)
{
    (void)arg;
    char url[128];
    snprintf(url, sizeof url, "https://127.0.0.1:%d/api/v1/pay/notify", g_srv.port);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CAINFO, g_srv.ca);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    for (int k; !atomic_load(&g_stop) && (k = atomic_fetch_add(&g_next, 1)) < g_ntodo;) {
        struct h_pay_note *n = &g_notes[g_todo[k]];
        struct curl_slist *hs = curl_slist_append(NULL, "Content-Type: application/json");
        for (int h = 0; h < 5; h++)
            hs = curl_slist_append(hs, n->hdr[h]);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, n->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)n->len);
        long st = 0;
        if (curl_easy_perform(c) == CURLE_OK &&
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st) == CURLE_OK && st == 204) {
            atomic_store(&g_acked[g_todo[k]], 1); /* acknowledged: must survive anything now */
            atomic_fetch_add(&g_acks, 1);
        }
        curl_slist_free_all(hs);
    }
    curl_easy_cleanup(c);
    return NULL;
}

/* Starts senders over every note not acknowledged yet; returns how many there are. */
static int senders_start(pthread_t *t)
{
    g_ntodo = 0;
    for (int i = 0; i < N; i++)
        if (!atomic_load(&g_acked[i]))
            g_todo[g_ntodo++] = i;
    atomic_store(&g_next, 0);
    atomic_store(&g_stop, 0);
    for (int i = 0; i < SENDERS; i++)
        pthread_create(&t[i], NULL, sender, NULL);
    return g_ntodo;
}

static void senders_join(pthread_t *t)
{
    for (int i = 0; i < SENDERS; i++)
        pthread_join(t[i], NULL);
}

/* Waits (bounded) until the client has seen at least want 204s. */
static void wait_acks(int want)
{
    for (int i = 0; i < 6000 && atomic_load(&g_acks) < want; i++)
        h_msleep(10);
    assert_true(atomic_load(&g_acks) >= want);
}

/* Every acknowledged notification is in the store, whole; and the store holds whole
 * transactions only (each paid order has one payment, one notification id, one audit row and
 * one outbox row). Returns how many orders are paid. */
static long long check_store(void)
{
    int acked = 0;
    for (int i = 0; i < N; i++) {
        if (!atomic_load(&g_acked[i]))
            continue;
        acked++;
        long long whole = h_db_int(
            &g_db,
            "SELECT COUNT(*) FROM orders o JOIN payments p ON p.order_id = o.id AND "
            "p.transaction_id = o.transaction_id JOIN pay_notifications n ON n.notify_id = "
            "'EV-PK-%d' WHERE o.order_no = 'PK%015d' AND o.status = 'pending_review'",
            i, i + 1);
        if (whole != 1)
            fail_msg("notification %d was answered 204 but is not in the store", i);
    }
    long long paid = h_db_int(&g_db, "SELECT COUNT(*) FROM orders WHERE order_no LIKE 'PK%%' "
                                     "AND status = 'pending_review'");
    assert_true(paid >= acked);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM payments"), paid);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM pay_notifications"), paid);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM audit_log WHERE action = 'order.paid'"),
                     paid);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM outbox WHERE kind = 'order.paid'"),
                     paid);
    return paid;
}

static void test_commits_are_flushed_before_anything_is_acknowledged(void **state)
{
    (void)state;
    assert_int_equal(h_db_int(&g_db, "SELECT @@innodb_flush_log_at_trx_commit"), 1);
}

static void test_killing_the_server_under_load_loses_no_acknowledged_payment(void **state)
{
    (void)state;
    pthread_t t[SENDERS];
    senders_start(t);
    wait_acks(N / 5);
    int rc = h_srv_stop(&g_srv, SIGKILL); /* mid-group: some answered, some committing */
    atomic_store(&g_stop, 1);
    senders_join(t);
    assert_int_equal(rc, 128 + SIGKILL);
    long long paid = check_store();
    print_message("server killed after %d acknowledgements; %lld orders paid in the store\n",
                  atomic_load(&g_acks), paid);
    h_srv_start(&g_srv, &g_db, g_conf, 1);
    assert_int_equal(check_store(), paid); /* a restart changes nothing */
}

/* SIGKILL to mariadbd; returns once it is dead (a zombie nobody reaps counts as dead: it holds
 * no file any more), with its pid file gone so that the harness starts it again. */
static void kill_database(void)
{
    char pidfile[400], pid[32], status[64], line[128];
    snprintf(pidfile, sizeof pidfile, "%s/mysqld.pid", g_db.dir);
    long p = strtol(h_read_text(pidfile, pid, sizeof pid), NULL, 10);
    assert_true(p > 1);
    assert_int_equal(kill((pid_t)p, SIGKILL), 0);
    snprintf(status, sizeof status, "/proc/%ld/status", p);
    for (int i = 0; i < 1000; i++) {
        FILE *f = fopen(status, "r");
        bool dead = !f;
        while (f && fgets(line, sizeof line, f))
            if (strncmp(line, "State:", 6) == 0)
                dead = strchr(line, 'Z') != NULL;
        if (f)
            fclose(f);
        if (dead)
            break;
        h_msleep(10);
    }
    unlink(pidfile);
}

static void test_killing_the_database_under_load_loses_no_acknowledged_payment(void **state)
{
    (void)state;
    pthread_t t[SENDERS];
    int before = atomic_load(&g_acks);
    senders_start(t);
    wait_acks(before + N / 5);
    kill_database();
    h_msleep(500); /* requests meet the dead database: 500, WeChat will retry them */
    atomic_store(&g_stop, 1);
    senders_join(t);
    h_db_restart(&g_db); /* InnoDB crash recovery */
    long long paid = check_store();
    print_message("database killed after %d acknowledgements; %lld orders paid after recovery\n",
                  atomic_load(&g_acks), paid);
}

static void test_retries_of_the_unanswered_apply_every_payment_exactly_once(void **state)
{
    (void)state;
    pthread_t t[SENDERS];
    for (int round = 0; round < 20 && atomic_load(&g_acks) < N; round++) {
        if (round)
            h_msleep(500); /* the server reconnects to the restarted database */
        senders_start(t);
        senders_join(t);
    }
    assert_int_equal(atomic_load(&g_acks), N);
    assert_int_equal(check_store(), N);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(DISTINCT order_id) FROM payments"), N);
    assert_int_equal(h_srv_stop(&g_srv, SIGTERM), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commits_are_flushed_before_anything_is_acknowledged),
        cmocka_unit_test(test_killing_the_server_under_load_loses_no_acknowledged_payment),
        cmocka_unit_test(test_killing_the_database_under_load_loses_no_acknowledged_payment),
        cmocka_unit_test(test_retries_of_the_unanswered_apply_every_payment_exactly_once),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
