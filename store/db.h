/* store/db.h — one MariaDB connection with a prepared-statement cache.
 *
 * Every statement that carries a value goes through mysql_stmt_* (prepared); SQL
 * text is always a constant of the store layer, never built from input. A pc_db
 * belongs to one thread (a worker) at a time. Connection loss is reported as
 * PC_EDBDOWN; the next call reconnects (with a short back-off) and re-prepares. */
#ifndef PC_STORE_DB_H
#define PC_STORE_DB_H

#include <stddef.h>
#include <stdint.h>

struct pc_config;
struct pc_db;
struct pc_db_res;

enum pc_db_type { PC_DB_T_NULL = 0, PC_DB_T_I64, PC_DB_T_STR, PC_DB_T_BLOB };

struct pc_db_arg {
    enum pc_db_type type;
    int64_t i;
    const void *p;
    size_t len;
};

static inline struct pc_db_arg pc_db_i64(int64_t v)
{
    return (struct pc_db_arg){PC_DB_T_I64, v, NULL, 0};
}
/* A NUL-terminated string; NULL becomes SQL NULL. */
struct pc_db_arg pc_db_str(const char *s);
static inline struct pc_db_arg pc_db_strn(const char *s, size_t n)
{
    return (struct pc_db_arg){PC_DB_T_STR, 0, s, n};
}
static inline struct pc_db_arg pc_db_blob(const void *p, size_t n)
{
    return (struct pc_db_arg){PC_DB_T_BLOB, 0, p, n};
}
static inline struct pc_db_arg pc_db_null(void)
{
    return (struct pc_db_arg){PC_DB_T_NULL, 0, NULL, 0};
}

/* "IN (" PC_DB_IN_32 ")": the placeholders of a fixed-size IN list, so that a statement for up
 * to PC_DB_IN_MAX keys keeps one text (and one prepared statement); unused places take a key
 * no row has. */
#define PC_DB_IN_MAX 32
#define PC_DB_IN_32                                                                                \
    "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "   \
    "?, ?"

/* Argument list helpers: pc_db_exec(db, SQL, PC_DB_ARGS(pc_db_i64(1), pc_db_str(s)), ...) */
#define PC_DB_ARGS(...)                                                                            \
    (const struct pc_db_arg[]){__VA_ARGS__},                                                       \
        (sizeof((const struct pc_db_arg[]){__VA_ARGS__}) / sizeof(struct pc_db_arg))
#define PC_DB_NOARGS NULL, 0

/* Creates a handle from cfg (borrowed for the handle's life); does not connect. */
struct pc_db *pc_db_new(const struct pc_config *cfg);
/* Closes the connection and frees the statements. NULL-safe. */
void pc_db_free(struct pc_db *db);
/* Connects if not connected (pings a connection idle for over a second).
 * 0 or PC_EDBDOWN. */
int pc_db_ensure(struct pc_db *db);
/* Drops the connection (tests, reconnect). */
void pc_db_disconnect(struct pc_db *db);
/* Per-thread set-up and tear-down of the connector, for a thread of one's own that connects
 * (mysql_thread_init / mysql_thread_end). On that thread. */
void pc_db_thread_start(void);
void pc_db_thread_stop(void);

/* Runs a statement that returns no rows. affected/insert_id may be NULL. Outside a transaction
 * a deadlock (1213) is retried here, twice. 0, PC_EEXIST (duplicate key), PC_ERETRY
 * (deadlock/lock wait), PC_EDBDOWN or PC_EDB. */
int pc_db_exec(struct pc_db *db, const char *sql, const struct pc_db_arg *args, size_t nargs,
               uint64_t *affected, uint64_t *insert_id);
/* Runs a statement that returns no rows once per row of args (rows × cols values, row after
 * row; each column one type, or NULL) in one round trip: MariaDB's bulk execution. affected
 * (may be NULL) receives the total. Call it inside a transaction: a failure (same errors as
 * pc_db_exec) may leave the rows before the failing one applied until the rollback. */
int pc_db_exec_bulk(struct pc_db *db, const char *sql, const struct pc_db_arg *args, size_t cols,
                    size_t rows, uint64_t *affected);
/* Runs a SELECT; *res receives every row (caller frees with pc_db_res_free). */
int pc_db_query(struct pc_db *db, const char *sql, const struct pc_db_arg *args, size_t nargs,
                struct pc_db_res **res);
/* Runs text without parameters (DDL of migrations, transaction control). */
int pc_db_exec_text(struct pc_db *db, const char *sql, size_t len);

int pc_db_begin(struct pc_db *db);
int pc_db_commit(struct pc_db *db);
/* Rolls back; never fails visibly (a dead connection has rolled back already). */
void pc_db_rollback(struct pc_db *db);

/* Runs fn inside a transaction: commits when fn returns 0, rolls back otherwise, and runs
 * it again (up to 3 times, after a short pause) when it or the commit fails with PC_ERETRY —
 * a deadlock, a lock timeout, or under Galera another node's conflicting commit (1213 at
 * COMMIT); the next run then sees the winner's rows. fn must only touch the database.
 * Called inside a transaction, fn joins it: it runs once, and its return decides nothing
 * until the outer transaction ends (so a change made of several steps stays one). */
typedef int (*pc_db_tx_fn)(struct pc_db *db, void *arg);
int pc_db_tx(struct pc_db *db, pc_db_tx_fn fn, void *arg);

/* Tests only (tests/integration/it_db_retry.c): fn runs before each statement and COMMIT of db
 * (sql is the statement, or "COMMIT") and returns a server error number to answer instead of
 * running it (0 = run it), e.g. 1213, which Galera returns when another node's commit won.
 * An open transaction is rolled back first, as the server does. fn may use other handles.
 * NULL removes it. */
typedef unsigned (*pc_db_fault_fn)(struct pc_db *db, const char *sql, void *arg);
void pc_db_set_fault(struct pc_db *db, pc_db_fault_fn fn, void *arg);

/* Server error number of the last failure (0 if none), for callers that map specific codes. */
unsigned pc_db_errno(const struct pc_db *db);

size_t pc_db_res_rows(const struct pc_db_res *res);
size_t pc_db_res_cols(const struct pc_db_res *res);
/* Value as text (NUL-terminated), or NULL for SQL NULL / out of range. Owned by res. */
const char *pc_db_res_str(const struct pc_db_res *res, size_t row, size_t col);
size_t pc_db_res_len(const struct pc_db_res *res, size_t row, size_t col);
/* Value as an integer; 0 for NULL or non-numeric text. */
int64_t pc_db_res_i64(const struct pc_db_res *res, size_t row, size_t col);
/* Copies a value as text into dst (len bytes, truncating); "" for NULL. */
void pc_db_res_copy(const struct pc_db_res *res, size_t row, size_t col, char *dst, size_t len);
void pc_db_res_free(struct pc_db_res *res);

/* Fills the record out points to from row `row` of res (the store's row readers). */
typedef void (*pc_db_row_fn)(const struct pc_db_res *res, size_t row, void *out);
/* Runs a SELECT and hands its first row to fill: "one row or PC_ENOTFOUND". Returns 0 (out
 * filled), PC_ENOTFOUND (no row; out untouched) or the query's error. */
int pc_db_query_one(struct pc_db *db, const char *sql, const struct pc_db_arg *args, size_t nargs,
                    pc_db_row_fn fill, void *out);
/* Runs a SELECT and fills an array of every row, each of elem bytes: *out (pc_xcalloc, never
 * NULL on 0; the caller frees it) of *n records. Returns 0 or the query's error (then *out is
 * NULL and *n 0). */
int pc_db_query_all(struct pc_db *db, const char *sql, const struct pc_db_arg *args, size_t nargs,
                    size_t elem, pc_db_row_fn fill, void **out, size_t *n);

#endif
