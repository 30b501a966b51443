/* it_parked.c — a request parked with another thread (server/req.h pc_req_park: a kept order
 * list waiting for the lister's read, a payment notification waiting for its group's commit)
 * stays valid until it is completed: when its client goes away meanwhile, and when the server
 * stops before the completion comes. MariaDB is held with SIGSTOP so that requests stay
 * parked as long as the test needs; /metrics shows them in flight while no worker is busy with
 * them. Real portraitd over TLS (raw connections, so a client can leave mid-request); under
 * `make test-asan` a use after free or a leak fails the server's stop. */
#include "harness.h"
#include "rawtls.h"

#include <dirent.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define CLIENTS 12

static struct h_db g_db;
static struct h_sandbox g_sb;
static struct h_srv g_srv;
static char g_tok[128];

static int setup(void **state)
{
    (void)state;
    char conf[4096], wx[600], pay[1500];
    h_db_start(&g_db);
    h_sandbox_start(&g_sb, NULL);
    /* Sessions stay trusted for 2 × 10 s without a poll: a kept list is parked with the lister
     * (not sent to a worker) while MariaDB is stopped. */
    snprintf(conf, sizeof conf,
             "%s%s[auth]\nsession_poll_ms = 10000\n[server]\nshutdown_grace_ms = 300\n"
             "[db]\nrw_timeout_s = 60\n",
             h_sandbox_conf(&g_sb, wx, sizeof wx), h_pay_conf(&g_sb, pay, sizeof pay));
    h_srv_start(&g_srv, &g_db, conf, 0);
    h_student(&g_srv, &g_sb, "o_parked", NULL, g_tok, sizeof g_tok);
    h_db_int(&g_db, "INSERT INTO schools (code, name) VALUES ('10477', 'parked')");
    h_db_int(&g_db, "INSERT INTO tasks (school_id, name, collection_type, feature_code, "
                    "feature_code_norm, opens_at, closes_at, price_fen, grad_year) SELECT id, "
                    "'parked', 'centralized', 'parkedtask', 'parkedtask', UTC_TIMESTAMP() - "
                    "INTERVAL 1 DAY, UTC_TIMESTAMP() + INTERVAL 1 DAY, 2500, 2024 FROM schools");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return h_stack_down(&g_srv, &g_sb, &g_db);
}

/* SIGSTOP / SIGCONT to mariadbd: every statement waits meanwhile. */
/* Whether every thread of process p is stopped (state T or t in /proc/p/task/N/stat). */
static bool all_threads_stopped(long p)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%ld/task", p);
    DIR *d = opendir(dir);
    if (!d)
        return false;
    bool stopped = true;
    struct dirent *e;
    while (stopped && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[128], buf[512];
        snprintf(path, sizeof path, "%s/%s/stat", dir, e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue; /* a thread that just ended */
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        const char *st = strrchr(buf, ')'); /* "pid (comm) S ..." */
        stopped = st && (st[2] == 'T' || st[2] == 't');
    }
    closedir(d);
    return stopped;
}

/* Sends sig to MariaDB. A SIGSTOP returns only once every thread of it has stopped: kill()
 * returns before a busy machine has scheduled the thread that takes the stop to the others,
 * and meanwhile a connection thread can still answer a query. */
static void database_signal(int sig)
{
    char pidfile[400], pid[32];
    snprintf(pidfile, sizeof pidfile, "%s/mysqld.pid", g_db.dir);
    long p = strtol(h_read_text(pidfile, pid, sizeof pid), NULL, 10);
    assert_true(p > 0);
    assert_int_equal(kill((pid_t)p, sig), 0);
    for (int i = 0; sig == SIGSTOP && i < 3000 && !all_threads_stopped(p); i++)
        h_msleep(10);
    if (sig == SIGSTOP)
        assert_true(all_threads_stopped(p));
}

/* A gauge of /metrics (the /metrics request itself is one in flight and one busy worker). */
static long metric(const char *name)
{
    struct h_resp r;
    h_get(&g_srv, "/metrics", NULL, &r);
    assert_int_equal(r.status, 200);
    char key[128];
    snprintf(key, sizeof key, "\n%s ", name);
    const char *at = strstr(r.body, key);
    assert_non_null(at);
    long v = strtol(at + strlen(key), NULL, 10);
    h_resp_free(&r);
    return v;
}

/* Waits (up to 30 s) until the gauge name, less what /metrics itself adds, is want. */
static void wait_gauge(const char *name, long want)
{
    for (int i = 0; i < 300 && metric(name) - 1 != want; i++)
        h_msleep(100);
    assert_int_equal(metric(name) - 1, want);
}

/* Requests in flight besides /metrics itself. */
static void wait_inflight(long want)
{
    wait_gauge("portraitd_inflight_requests", want);
}

static long get_orders_status(void)
{
    struct h_resp r;
    h_get(&g_srv, "/api/v1/orders", g_tok, &r);
    long st = r.status;
    h_resp_free(&r);
    return st;
}

/* The session and the first page are kept in memory: the next GET /orders is parked. */
static void warm_list(void)
{
    for (int i = 0; i < 3; i++)
        assert_int_equal(get_orders_status(), 200);
}

static void open_and_send(struct rt_conn *c, const char *req)
{
    assert_int_equal(rt_open(c, g_srv.port, NULL, 20000), 0);
    assert_int_equal(rt_send_str(c, req), 0);
}

/* Leaves without a word: a TCP reset for even i, a FIN for odd i. */
static void leave(struct rt_conn *c, int i)
{
    if (i % 2 == 0) {
        struct linger lg = {1, 0};
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    rt_close(c);
}

static void test_clients_gone_while_their_lists_are_parked_leave_the_server_whole(void **state)
{
    (void)state;
    warm_list();
    char req[512];
    snprintf(req, sizeof req,
             "GET /api/v1/orders HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n\r\n",
             g_tok);
    struct rt_conn c[CLIENTS];
    database_signal(SIGSTOP);
    for (int i = 0; i < CLIENTS; i++)
        open_and_send(&c[i], req);
    wait_inflight(CLIENTS);
    /* parked with the lister, which waits for MariaDB: no worker holds them */
    assert_int_equal(metric("portraitd_workers_busy"), 1);
    for (int i = 0; i < CLIENTS; i++)
        leave(&c[i], i);
    database_signal(SIGCONT);
    wait_inflight(0); /* each answer went nowhere and its connection was freed */
    wait_gauge("portraitd_open_connections", 0); /* and every connection is closed */
    assert_int_equal(get_orders_status(), 200);
}

static void test_a_notification_whose_client_left_while_it_was_parked_is_still_applied(void **state)
{
    (void)state;
    struct h_pay_note notes[CLIENTS];
    h_pay_orders_and_notes(&g_db, "PG", "o_parked", "parkedtask", CLIENTS, notes);
    struct rt_conn c[CLIENTS];
    database_signal(SIGSTOP);
    for (int i = 0; i < CLIENTS; i++) {
        char head[4096];
        snprintf(head, sizeof head,
                 "POST /api/v1/pay/notify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                 "application/json\r\nContent-Length: %zu\r\n%s\r\n%s\r\n%s\r\n%s\r\n%s\r\n\r\n",
                 notes[i].len, notes[i].hdr[0], notes[i].hdr[1], notes[i].hdr[2], notes[i].hdr[3],
                 notes[i].hdr[4]);
        open_and_send(&c[i], head);
        assert_int_equal(rt_send(&c[i], notes[i].body, notes[i].len), 0);
    }
    wait_inflight(CLIENTS);
    /* verified on a worker, then parked with the committers, which wait for MariaDB */
    assert_int_equal(metric("portraitd_workers_busy"), 1);
    for (int i = 0; i < CLIENTS; i++)
        leave(&c[i], i);
    database_signal(SIGCONT);
    wait_inflight(0);
    /* applied and committed although nobody was there to hear the 204 */
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM orders WHERE order_no LIKE 'PG%%' AND "
                                     "status = 'pending_review'"),
                     CLIENTS);
    assert_int_equal(
        h_db_int(&g_db, "SELECT COUNT(*) FROM payments WHERE out_trade_no LIKE 'PG%%'"), CLIENTS);
    for (int i = 0; i < CLIENTS; i++)
        h_pay_note_free(&notes[i]);
    assert_int_equal(get_orders_status(), 200);
}

static void test_a_list_parked_when_the_server_stops_is_freed_by_its_completion(void **state)
{
    (void)state;
    warm_list();
    char req[512];
    snprintf(req, sizeof req,
             "GET /api/v1/orders HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n\r\n",
             g_tok);
    struct rt_conn c;
    database_signal(SIGSTOP);
    open_and_send(&c, req);
    wait_inflight(1);
    assert_int_equal(kill(g_srv.pid, SIGTERM), 0);
    /* the drain gives up after shutdown_grace_ms; the loops close the connection without an
     * answer while its request is still parked with the lister */
    assert_true(rt_closed_by_peer(&c, 20000));
    rt_close(&c);
    database_signal(SIGCONT); /* the lister answers now: to a server whose loops are gone */
    assert_int_equal(h_srv_stop(&g_srv, SIGTERM), 0);
    assert_true(h_file_has(g_srv.log, "request completed after the server stopped"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clients_gone_while_their_lists_are_parked_leave_the_server_whole),
        cmocka_unit_test(
            test_a_notification_whose_client_left_while_it_was_parked_is_still_applied),
        cmocka_unit_test(test_a_list_parked_when_the_server_stops_is_freed_by_its_completion),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
