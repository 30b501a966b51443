/* store/db.c — MariaDB Connector/C wrapper: connect, prepared statements, results,
 * transactions, error classification. A handle is used by one thread at a time. */
#include "store/db.h"

#include "base/alloc.h"
#include "base/err.h"
#include "base/log.h"
#include "base/stats.h"
#include "base/timeutil.h"
#include "config/config.h"

#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STMT_CACHE_MAX   256
#define PC_DB_MAX_ARGS   64
#define RECONNECT_GAP_NS 200000000ull  /* after a failed connect, answer down for 200 ms */
#define PING_IDLE_NS     1000000000ull /* ping a connection idle for more than 1 s */

/* Last successful connect by any handle: one worker's success re-opens the back-off gate
 * of the others, so every worker reconnects as soon as the database is back. */
static _Atomic uint64_t g_last_connect_ok_ns;

/* The connections of the process (each worker and the jobs thread hold one), and how the
 * database answered (GET /metrics). */
static struct pc_stat g_open = PC_STAT_INIT("portraitd_db_connections", "gauge", NULL,
                                            "Open database connections of this process.", 0);
static struct pc_stat g_connects =
    PC_STAT_INIT("portraitd_db_connects_total", "counter", NULL, "Database connections made.", 0);
static struct pc_stat g_connect_fail =
    PC_STAT_INIT("portraitd_db_connect_failures_total", "counter", NULL,
                 "Database connection attempts that failed.", 0);
static struct pc_stat g_lost = PC_STAT_INIT("portraitd_db_connections_lost_total", "counter", NULL,
                                            "Database connections dropped after an error.", 0);
static struct pc_stat g_retries[2] = {
    PC_STAT_INIT("portraitd_db_retries_total", "counter", "where=\"statement\"",
                 "Deadlocks (1213, also Galera certification conflicts) retried.", 0),
    PC_STAT_INIT("portraitd_db_retries_total", "counter", "where=\"transaction\"",
                 "Deadlocks (1213, also Galera certification conflicts) retried.", 0)};

struct cached_stmt {
    uint64_t hash;
    const char *sql; /* borrowed: SQL constants live for the process */
    MYSQL_STMT *stmt;
};

struct pc_db {
    const struct pc_config *cfg;
    MYSQL *my;
    struct cached_stmt cache[STMT_CACHE_MAX];
    size_t ncache;
    uint64_t last_fail_ns;
    uint64_t last_use_ns;
    unsigned last_errno;
    bool in_tx;
    pc_db_fault_fn fault; /* tests: injects server errors (pc_db_set_fault) */
    void *fault_arg;
};

struct cell {
    size_t off; /* into data */
    size_t len;
    bool null;
};

struct pc_db_res {
    size_t rows, cols;
    struct cell *cells; /* rows * cols */
    char *data;
};

struct pc_db_arg pc_db_str(const char *s)
{
    if (!s)
        return pc_db_null();
    return (struct pc_db_arg){PC_DB_T_STR, 0, s, strlen(s)};
}

struct pc_db *pc_db_new(const struct pc_config *cfg)
{
    struct pc_db *db = pc_new(struct pc_db);
    db->cfg = cfg;
    return db;
}

static void drop_cache(struct pc_db *db)
{
    for (size_t i = 0; i < db->ncache; i++)
        mysql_stmt_close(db->cache[i].stmt);
    db->ncache = 0;
}

void pc_db_disconnect(struct pc_db *db)
{
    drop_cache(db);
    if (db->my) {
        mysql_close(db->my);
        db->my = NULL;
        pc_stat_add(&g_open, -1);
    }
    db->in_tx = false;
}

void pc_db_thread_start(void)
{
    mysql_thread_init();
}

void pc_db_thread_stop(void)
{
    mysql_thread_end();
}

void pc_db_set_fault(struct pc_db *db, pc_db_fault_fn fn, void *arg)
{
    db->fault = fn;
    db->fault_arg = arg;
}

/* An injected server error for the statement about to run, or 0. A transaction is rolled
 * back first, as the server does with a deadlock victim. */
static unsigned injected(struct pc_db *db, const char *sql)
{
    unsigned e = db->fault ? db->fault(db, sql, db->fault_arg) : 0;
    if (e && db->my && db->in_tx)
        mysql_rollback(db->my);
    return e;
}

void pc_db_free(struct pc_db *db)
{
    if (!db)
        return;
    pc_db_disconnect(db);
    free(db);
}

unsigned pc_db_errno(const struct pc_db *db)
{
    return db->last_errno;
}

static bool is_conn_error(unsigned e)
{
    switch (e) {
    case CR_CONNECTION_ERROR:
    case CR_CONN_HOST_ERROR:
    case CR_SERVER_GONE_ERROR:
    case CR_SERVER_LOST:
    case CR_SERVER_LOST_EXTENDED:
    case CR_COMMANDS_OUT_OF_SYNC:
    case ER_CONNECTION_KILLED:
    case ER_SERVER_SHUTDOWN:
    case 4031: /* ER_CLIENT_INTERACTION_TIMEOUT */
        return true;
    default:
        return false;
    }
}

/* Maps a server/client error number to a pc_err and drops a dead connection. */
static int classify(struct pc_db *db, unsigned e, const char *msg, const char *sql)
{
    db->last_errno = e;
    if (is_conn_error(e)) {
        pc_log(PC_LOG_WARN, "database connection lost", PC_LI("errno", e), PC_LS("error", msg));
        pc_stat_add(&g_lost, 1);
        pc_db_disconnect(db);
        db->last_fail_ns = pc_time_mono_ns();
        return PC_EDBDOWN;
    }
    if (e == ER_DUP_ENTRY || e == ER_DUP_ENTRY_WITH_KEY_NAME)
        return PC_EEXIST;
    if (e == ER_LOCK_DEADLOCK || e == ER_LOCK_WAIT_TIMEOUT)
        return PC_ERETRY;
    pc_log(PC_LOG_ERROR, "database error", PC_LI("errno", e), PC_LS("error", msg),
           PC_LS("sql", sql ? sql : ""));
    return PC_EDB;
}

static int connect_now(struct pc_db *db)
{
    const struct pc_config *c = db->cfg;
    MYSQL *my = mysql_init(NULL);
    if (!my)
        return PC_EDBDOWN;
    unsigned int ct = (unsigned)c->db_connect_timeout_s, rw = (unsigned)c->db_rw_timeout_s;
    my_bool off = 0;
    mysql_options(my, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
    mysql_options(my, MYSQL_OPT_READ_TIMEOUT, &rw);
    mysql_options(my, MYSQL_OPT_WRITE_TIMEOUT, &rw);
    mysql_options(my, MYSQL_OPT_RECONNECT, &off);
    mysql_options(my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    mysql_options(my, MYSQL_INIT_COMMAND,
                  "SET time_zone='+00:00', innodb_lock_wait_timeout=5, "
                  "sql_mode='STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,"
                  "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'");
    bool tcp = c->db_host && c->db_host[0];
    if (!tcp) {
        unsigned proto = MYSQL_PROTOCOL_SOCKET;
        mysql_options(my, MYSQL_OPT_PROTOCOL, &proto);
    }
    if (!mysql_real_connect(my, tcp ? c->db_host : "localhost", c->db_user,
                            c->db_password && c->db_password[0] ? c->db_password : NULL, c->db_name,
                            tcp ? (unsigned)c->db_port : 0, tcp ? NULL : c->db_socket, 0)) {
        unsigned e = mysql_errno(my);
        pc_log(PC_LOG_WARN, "database connect failed", PC_LI("errno", e),
               PC_LS("error", mysql_error(my)));
        db->last_errno = e;
        mysql_close(my);
        db->last_fail_ns = pc_time_mono_ns();
        pc_stat_add(&g_connect_fail, 1);
        return PC_EDBDOWN;
    }
    db->my = my;
    pc_stat_add(&g_open, 1);
    pc_stat_add(&g_connects, 1);
    db->last_use_ns = pc_time_mono_ns();
    g_last_connect_ok_ns = db->last_use_ns;
    pc_log(PC_LOG_DEBUG, "database connected", PC_LS("server", mysql_get_server_info(my)));
    return 0;
}

int pc_db_ensure(struct pc_db *db)
{
    uint64_t now = pc_time_mono_ns();
    if (db->my) {
        if (!db->in_tx && now - db->last_use_ns > PING_IDLE_NS) {
            if (mysql_ping(db->my)) {
                pc_db_disconnect(db);
            } else {
                db->last_use_ns = now;
                return 0;
            }
        } else {
            return 0;
        }
    }
    if (db->last_fail_ns && now - db->last_fail_ns < RECONNECT_GAP_NS &&
        g_last_connect_ok_ns < db->last_fail_ns)
        return PC_EDBDOWN;
    return connect_now(db);
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* Returns the cached prepared statement for sql, preparing it on first use. */
static int get_stmt(struct pc_db *db, const char *sql, MYSQL_STMT **out)
{
    int rc = pc_db_ensure(db);
    if (rc)
        return rc;
    uint64_t h = fnv1a(sql);
    for (size_t i = 0; i < db->ncache; i++) {
        if (db->cache[i].hash == h && strcmp(db->cache[i].sql, sql) == 0) {
            *out = db->cache[i].stmt;
            return 0;
        }
    }
    MYSQL_STMT *st = mysql_stmt_init(db->my);
    if (!st)
        return classify(db, mysql_errno(db->my), mysql_error(db->my), sql);
    if (mysql_stmt_prepare(st, sql, strlen(sql))) {
        unsigned e = mysql_stmt_errno(st);
        char msg[512];
        snprintf(msg, sizeof msg, "%s", mysql_stmt_error(st));
        mysql_stmt_close(st);
        return classify(db, e, msg, sql);
    }
    my_bool upd = 1;
    mysql_stmt_attr_set(st, STMT_ATTR_UPDATE_MAX_LENGTH, &upd);
    if (db->ncache == STMT_CACHE_MAX) { /* evict the oldest */
        mysql_stmt_close(db->cache[0].stmt);
        memmove(db->cache, db->cache + 1, (STMT_CACHE_MAX - 1) * sizeof db->cache[0]);
        db->ncache--;
    }
    db->cache[db->ncache++] = (struct cached_stmt){h, sql, st};
    *out = st;
    return 0;
}

static int execute_once(struct pc_db *db, const char *sql, const struct pc_db_arg *args,
                        size_t nargs, MYSQL_STMT **out)
{
    MYSQL_STMT *st = NULL;
    int rc = get_stmt(db, sql, &st);
    if (rc)
        return rc;
    if (mysql_stmt_param_count(st) != nargs) {
        pc_log(PC_LOG_ERROR, "statement parameter count mismatch", PC_LS("sql", sql),
               PC_LI("expected", mysql_stmt_param_count(st)), PC_LI("given", nargs));
        return PC_EINVAL;
    }
    if (nargs > PC_DB_MAX_ARGS)
        return PC_EINVAL;
    MYSQL_BIND binds[PC_DB_MAX_ARGS];
    my_bool nulls[PC_DB_MAX_ARGS];
    unsigned long lens[PC_DB_MAX_ARGS];
    long long ints[PC_DB_MAX_ARGS];
    memset(binds, 0, sizeof binds);
    for (size_t i = 0; i < nargs; i++) {
        nulls[i] = 0;
        switch (args[i].type) {
        case PC_DB_T_NULL:
            binds[i].buffer_type = MYSQL_TYPE_NULL;
            nulls[i] = 1;
            break;
        case PC_DB_T_I64:
            ints[i] = args[i].i;
            binds[i].buffer_type = MYSQL_TYPE_LONGLONG;
            binds[i].buffer = &ints[i];
            break;
        case PC_DB_T_STR:
        case PC_DB_T_BLOB:
            binds[i].buffer_type =
                args[i].type == PC_DB_T_STR ? MYSQL_TYPE_STRING : MYSQL_TYPE_BLOB;
            binds[i].buffer = (void *)(args[i].p ? args[i].p : "");
            lens[i] = (unsigned long)args[i].len;
            binds[i].buffer_length = lens[i];
            binds[i].length = &lens[i];
            break;
        }
        binds[i].is_null = &nulls[i];
    }
    unsigned inj = injected(db, sql);
    if (inj)
        return classify(db, inj, "injected by a test", sql);
    if ((nargs && mysql_stmt_bind_param(st, binds)) || mysql_stmt_execute(st))
        return classify(db, mysql_stmt_errno(st), mysql_stmt_error(st), sql);
    db->last_use_ns = pc_time_mono_ns();
    db->last_errno = 0;
    *out = st;
    return 0;
}

/* Sleeps a few milliseconds, more with each attempt, so that two writers that collided do
 * not collide again at once. */
static void backoff(int attempt)
{
    struct timespec ts = {0, (long)(2 + attempt * 8 + (int)(pc_time_mono_ns() % 7)) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A statement outside a transaction that lost a deadlock (1213: under Galera also a write
 * that conflicted with another node's commit) changed nothing: it runs again, up to three
 * times, and then meets what the winner wrote (a unique key answers 1062 → PC_EEXIST, an
 * upsert updates). Inside a transaction the whole transaction is what runs again (pc_db_tx). */
static int bind_and_execute(struct pc_db *db, const char *sql, const struct pc_db_arg *args,
                            size_t nargs, MYSQL_STMT **out)
{
    for (int attempt = 0;; attempt++) {
        int rc = execute_once(db, sql, args, nargs, out);
        if (rc != PC_ERETRY || db->in_tx || db->last_errno != ER_LOCK_DEADLOCK || attempt == 2)
            return rc;
        pc_stat_add(&g_retries[0], 1);
        backoff(attempt);
    }
}

int pc_db_exec(struct pc_db *db, const char *sql, const struct pc_db_arg *args, size_t nargs,
               uint64_t *affected, uint64_t *insert_id)
{
    MYSQL_STMT *st = NULL;
    int rc = bind_and_execute(db, sql, args, nargs, &st);
    if (rc)
        return rc;
    if (affected)
        *affected = (uint64_t)mysql_stmt_affected_rows(st);
    if (insert_id)
        *insert_id = (uint64_t)mysql_stmt_insert_id(st);
    if (mysql_stmt_field_count(st))
        mysql_stmt_free_result(st);
    return 0;
}

/* ---- bulk execution (MariaDB's array binding: one round trip for many rows) ---- */

/* The column arrays of one bulk parameter. */
struct bulk_col {
    long long *ints;
    const char **ptrs;
    unsigned long *lens;
    char *ind;
};

int pc_db_exec_bulk(struct pc_db *db, const char *sql, const struct pc_db_arg *args, size_t cols,
                    size_t rows, uint64_t *affected)
{
    if (rows == 0) {
        if (affected)
            *affected = 0;
        return 0;
    }
    if (rows == 1)
        return pc_db_exec(db, sql, args, cols, affected, NULL);
    MYSQL_STMT *st = NULL;
    int rc = get_stmt(db, sql, &st);
    if (rc)
        return rc;
    if (mysql_stmt_param_count(st) != cols || cols > PC_DB_MAX_ARGS) {
        pc_log(PC_LOG_ERROR, "bulk statement parameter count mismatch", PC_LS("sql", sql),
               PC_LI("expected", mysql_stmt_param_count(st)), PC_LI("given", cols));
        return PC_EINVAL;
    }
    MYSQL_BIND binds[PC_DB_MAX_ARGS];
    struct bulk_col cs[PC_DB_MAX_ARGS];
    memset(binds, 0, sizeof binds);
    memset(cs, 0, sizeof cs);
    for (size_t c = 0; c < cols; c++) {
        enum pc_db_type t = PC_DB_T_NULL; /* the column's type: that of its first value */
        for (size_t r = 0; r < rows && t == PC_DB_T_NULL; r++)
            t = args[r * cols + c].type;
        cs[c].ind = pc_xcalloc(rows, 1);
        binds[c].u.indicator = cs[c].ind;
        if (t == PC_DB_T_I64) {
            cs[c].ints = pc_xcalloc(rows, sizeof *cs[c].ints);
            binds[c].buffer_type = MYSQL_TYPE_LONGLONG;
            binds[c].buffer = cs[c].ints;
        } else {
            cs[c].ptrs = pc_xcalloc(rows, sizeof *cs[c].ptrs);
            cs[c].lens = pc_xcalloc(rows, sizeof *cs[c].lens);
            binds[c].buffer_type = t == PC_DB_T_BLOB ? MYSQL_TYPE_BLOB : MYSQL_TYPE_STRING;
            binds[c].buffer = (void *)cs[c].ptrs;
            binds[c].length = cs[c].lens;
        }
        for (size_t r = 0; r < rows; r++) {
            const struct pc_db_arg *a = &args[r * cols + c];
            if (a->type == PC_DB_T_NULL) {
                cs[c].ind[r] = STMT_INDICATOR_NULL;
            } else if (a->type != t) {
                rc = PC_EINVAL; /* a column must hold one type (or NULL) */
            } else if (t == PC_DB_T_I64) {
                cs[c].ints[r] = a->i;
            } else {
                cs[c].ptrs[r] = a->p ? a->p : "";
                cs[c].lens[r] = (unsigned long)a->len;
            }
        }
    }
    unsigned int n = (unsigned int)rows, none = 0;
    unsigned inj = rc == 0 ? injected(db, sql) : 0;
    if (inj)
        rc = classify(db, inj, "injected by a test", sql);
    if (rc == 0) {
        mysql_stmt_attr_set(st, STMT_ATTR_ARRAY_SIZE, &n);
        if (mysql_stmt_bind_param(st, binds) || mysql_stmt_execute(st))
            rc = classify(db, mysql_stmt_errno(st), mysql_stmt_error(st), sql);
        if (db->my) /* the cached statement runs single rows again (unless closed with a lost
                       connection) */
            mysql_stmt_attr_set(st, STMT_ATTR_ARRAY_SIZE, &none);
    }
    if (rc == 0) {
        if (affected)
            *affected = (uint64_t)mysql_stmt_affected_rows(st);
        db->last_use_ns = pc_time_mono_ns();
        db->last_errno = 0;
    }
    for (size_t c = 0; c < cols; c++) {
        free(cs[c].ints);
        free(cs[c].ptrs);
        free(cs[c].lens);
        free(cs[c].ind);
    }
    return rc;
}

static bool is_fixed_type(enum enum_field_types t)
{
    switch (t) {
    case MYSQL_TYPE_TINY:
    case MYSQL_TYPE_SHORT:
    case MYSQL_TYPE_LONG:
    case MYSQL_TYPE_LONGLONG:
    case MYSQL_TYPE_INT24:
    case MYSQL_TYPE_FLOAT:
    case MYSQL_TYPE_DOUBLE:
    case MYSQL_TYPE_YEAR:
    case MYSQL_TYPE_DATE:
    case MYSQL_TYPE_TIME:
    case MYSQL_TYPE_DATETIME:
    case MYSQL_TYPE_TIMESTAMP:
    case MYSQL_TYPE_NEWDATE:
        return true;
    default:
        return false;
    }
}

/* Binds every column as text and copies all rows of a stored result into res. */
static int fetch_all(struct pc_db *db, MYSQL_STMT *st, MYSQL_RES *meta, struct pc_db_res *res,
                     const char *sql)
{
    size_t cols = res->cols, rows = res->rows, rowcap = 0;
    MYSQL_FIELD *fields = mysql_fetch_fields(meta);
    MYSQL_BIND *binds = pc_xcalloc(cols, sizeof *binds);
    unsigned long *lens = pc_xcalloc(cols, sizeof *lens);
    my_bool *nulls = pc_xcalloc(cols, sizeof *nulls);
    my_bool *errs = pc_xcalloc(cols, sizeof *errs);
    size_t *caps = pc_xcalloc(cols, sizeof *caps);
    char *rowbuf = NULL;
    int rc = 0;
    for (size_t c = 0; c < cols; c++) {
        caps[c] = is_fixed_type(fields[c].type) ? 64 : (size_t)fields[c].max_length + 1;
        rowcap += caps[c];
    }
    rowbuf = pc_xmalloc(rowcap);
    for (size_t c = 0, off = 0; c < cols; off += caps[c], c++) {
        binds[c].buffer_type = MYSQL_TYPE_STRING;
        binds[c].buffer = rowbuf + off;
        binds[c].buffer_length = (unsigned long)caps[c];
        binds[c].length = &lens[c];
        binds[c].is_null = &nulls[c];
        binds[c].error = &errs[c];
    }
    if (mysql_stmt_bind_result(st, binds)) {
        rc = classify(db, mysql_stmt_errno(st), mysql_stmt_error(st), sql);
        goto out;
    }
    /* Each row's values are copied into one growing data area. */
    size_t dcap = rowcap * (rows ? rows : 1) + 1, dlen = 0;
    res->data = pc_xmalloc(dcap);
    for (size_t r = 0; r < rows; r++) {
        int f = mysql_stmt_fetch(st);
        if (f == 1) {
            rc = classify(db, mysql_stmt_errno(st), mysql_stmt_error(st), sql);
            goto out;
        }
        if (f == MYSQL_NO_DATA) {
            res->rows = r;
            break;
        }
        for (size_t c = 0; c < cols; c++) {
            struct cell *cell = &res->cells[r * cols + c];
            if (nulls[c]) {
                cell->null = true;
                continue;
            }
            size_t len = lens[c];
            if (dlen + len + 1 > dcap) {
                while (dlen + len + 1 > dcap)
                    dcap *= 2;
                res->data = pc_xrealloc(res->data, dcap);
            }
            if (len >= caps[c]) { /* truncated: fetch the whole value */
                MYSQL_BIND b;
                unsigned long l2 = 0;
                memset(&b, 0, sizeof b);
                b.buffer_type = MYSQL_TYPE_STRING;
                b.buffer = res->data + dlen;
                b.buffer_length = (unsigned long)len + 1;
                b.length = &l2;
                mysql_stmt_fetch_column(st, &b, (unsigned)c, 0);
            } else {
                memcpy(res->data + dlen, binds[c].buffer, len);
            }
            res->data[dlen + len] = '\0';
            cell->off = dlen;
            cell->len = len;
            dlen += len + 1;
        }
    }
out:
    free(rowbuf);
    free(caps);
    free(errs);
    free(nulls);
    free(lens);
    free(binds);
    return rc;
}

int pc_db_query(struct pc_db *db, const char *sql, const struct pc_db_arg *args, size_t nargs,
                struct pc_db_res **out)
{
    MYSQL_STMT *st = NULL;
    MYSQL_RES *meta = NULL;
    struct pc_db_res *res = NULL;
    *out = NULL;
    int rc = bind_and_execute(db, sql, args, nargs, &st);
    if (rc)
        return rc;
    if (mysql_stmt_store_result(st)) {
        rc = classify(db, mysql_stmt_errno(st), mysql_stmt_error(st), sql);
        if (!db->my)
            st = NULL; /* closed with the lost connection */
        goto out;
    }
    meta = mysql_stmt_result_metadata(st);
    res = pc_new(struct pc_db_res);
    res->cols = meta ? mysql_num_fields(meta) : 0;
    res->rows = (size_t)mysql_stmt_num_rows(st);
    res->cells = pc_xcalloc(res->rows * res->cols + 1, sizeof(struct cell));
    if (res->cols) {
        rc = fetch_all(db, st, meta, res, sql);
        if (rc && !db->my)
            st = NULL;
    }
    if (rc == 0) {
        *out = res;
        res = NULL;
    }
out:
    if (meta)
        mysql_free_result(meta);
    if (st)
        mysql_stmt_free_result(st);
    pc_db_res_free(res);
    return rc;
}

int pc_db_exec_text(struct pc_db *db, const char *sql, size_t len)
{
    int rc = pc_db_ensure(db);
    if (rc)
        return rc;
    if (mysql_real_query(db->my, sql, (unsigned long)len))
        return classify(db, mysql_errno(db->my), mysql_error(db->my), sql);
    MYSQL_RES *r = mysql_store_result(db->my);
    if (r)
        mysql_free_result(r);
    db->last_use_ns = pc_time_mono_ns();
    db->last_errno = 0;
    return 0;
}

int pc_db_begin(struct pc_db *db)
{
    static const char q[] = "START TRANSACTION";
    int rc = pc_db_exec_text(db, q, sizeof q - 1);
    if (rc == 0)
        db->in_tx = true;
    return rc;
}

int pc_db_commit(struct pc_db *db)
{
    if (!db->my)
        return PC_EDBDOWN;
    unsigned inj = injected(db, "COMMIT");
    db->in_tx = false;
    if (inj)
        return classify(db, inj, "injected by a test", "COMMIT");
    if (mysql_commit(db->my))
        return classify(db, mysql_errno(db->my), mysql_error(db->my), "COMMIT");
    return 0;
}

void pc_db_rollback(struct pc_db *db)
{
    db->in_tx = false;
    if (db->my && mysql_rollback(db->my))
        classify(db, mysql_errno(db->my), mysql_error(db->my), "ROLLBACK");
}

int pc_db_tx(struct pc_db *db, pc_db_tx_fn fn, void *arg)
{
    if (db->in_tx) /* a step of the caller's transaction: it commits, rolls back, retries */
        return fn(db, arg);
    int rc = PC_ERETRY;
    for (int attempt = 0; attempt < 3 && rc == PC_ERETRY; attempt++) {
        if (attempt) { /* a deadlock or lock timeout (under Galera: a certification conflict) */
            pc_stat_add(&g_retries[1], 1);
            backoff(attempt);
        }
        rc = pc_db_begin(db);
        if (rc)
            return rc;
        rc = fn(db, arg);
        if (rc == 0)
            rc = pc_db_commit(db);
        else
            pc_db_rollback(db);
    }
    return rc;
}

size_t pc_db_res_rows(const struct pc_db_res *res)
{
    return res ? res->rows : 0;
}

size_t pc_db_res_cols(const struct pc_db_res *res)
{
    return res ? res->cols : 0;
}

static const struct cell *cell_at(const struct pc_db_res *res, size_t r, size_t c)
{
    if (!res || r >= res->rows || c >= res->cols)
        return NULL;
    const struct cell *cell = &res->cells[r * res->cols + c];
    return cell->null ? NULL : cell;
}

const char *pc_db_res_str(const struct pc_db_res *res, size_t r, size_t c)
{
    const struct cell *cell = cell_at(res, r, c);
    return cell ? res->data + cell->off : NULL;
}

size_t pc_db_res_len(const struct pc_db_res *res, size_t r, size_t c)
{
    const struct cell *cell = cell_at(res, r, c);
    return cell ? cell->len : 0;
}

int64_t pc_db_res_i64(const struct pc_db_res *res, size_t r, size_t c)
{
    const char *s = pc_db_res_str(res, r, c);
    return s ? strtoll(s, NULL, 10) : 0;
}

void pc_db_res_copy(const struct pc_db_res *res, size_t row, size_t col, char *dst, size_t len)
{
    const char *v = pc_db_res_str(res, row, col);
    snprintf(dst, len, "%s", v ? v : "");
}

void pc_db_res_free(struct pc_db_res *res)
{
    if (!res)
        return;
    free(res->cells);
    free(res->data);
    free(res);
}

int pc_db_query_one(struct pc_db *db, const char *sql, const struct pc_db_arg *args, size_t nargs,
                    pc_db_row_fn fill, void *out)
{
    struct pc_db_res *res = NULL;
    int rc = pc_db_query(db, sql, args, nargs, &res);
    if (rc)
        return rc;
    rc = pc_db_res_rows(res) ? 0 : PC_ENOTFOUND;
    if (rc == 0)
        fill(res, 0, out);
    pc_db_res_free(res);
    return rc;
}

int pc_db_query_all(struct pc_db *db, const char *sql, const struct pc_db_arg *args, size_t nargs,
                    size_t elem, pc_db_row_fn fill, void **out, size_t *n)
{
    struct pc_db_res *res = NULL;
    *out = NULL;
    *n = 0;
    int rc = pc_db_query(db, sql, args, nargs, &res);
    if (rc)
        return rc;
    size_t rows = pc_db_res_rows(res);
    char *a = pc_xcalloc(rows ? rows : 1, elem);
    for (size_t i = 0; i < rows; i++)
        fill(res, i, a + i * elem);
    pc_db_res_free(res);
    *out = a;
    *n = rows;
    return 0;
}
