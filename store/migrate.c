/* store/migrate.c — migration runner over the embedded schema/ files. */
#include "store/migrate.h"

#include "base/buf.h"
#include "base/crypto.h"
#include "base/err.h"
#include "base/log.h"
#include "store/db.h"

#include <mysqld_error.h>
#include <stdbool.h>
#include <string.h>

static const char SQL_CREATE_TABLE[] = "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                       " version INT NOT NULL PRIMARY KEY,"
                                       " name VARCHAR(255) NOT NULL,"
                                       " checksum CHAR(64) CHARACTER SET ascii NOT NULL,"
                                       " applied_at DATETIME(3) NOT NULL DEFAULT UTC_TIMESTAMP(3)"
                                       ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";
static const char SQL_LOCK[] = "SELECT GET_LOCK('portraitd.migrate', 60)";
static const char SQL_UNLOCK[] = "SELECT RELEASE_LOCK('portraitd.migrate')";
static const char SQL_GET[] = "SELECT checksum FROM schema_migrations WHERE version = ?";
static const char SQL_RECORD[] =
    "INSERT INTO schema_migrations (version, name, checksum) VALUES (?, ?, ?)";
static const char SQL_STATUS[] =
    "SELECT COALESCE(MAX(version), 0), COUNT(*) FROM schema_migrations";

int pc_migrate_latest(void)
{
    int v = 0;
    for (size_t i = 0; i < pc_migrations_count; i++)
        if (pc_migrations[i].version > v)
            v = pc_migrations[i].version;
    return v;
}

int pc_migrate_split(const char *sql, size_t len, int (*fn)(const char *, size_t, void *),
                     void *arg)
{
    struct pc_buf stmt;
    pc_buf_init(&stmt, len + 1);
    size_t pos = 0;
    int rc = 0;
    while (pos < len && rc == 0) {
        const char *nl = memchr(sql + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - sql) : len;
        const char *line = sql + pos;
        size_t n = end - pos;
        pos = nl ? end + 1 : len;
        while (n && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
            n--;
        size_t lead = 0;
        while (lead < n && (line[lead] == ' ' || line[lead] == '\t'))
            lead++;
        if (n - lead >= 2 && line[lead] == '-' && line[lead + 1] == '-')
            continue;
        if (n == lead)
            continue;
        bool last = line[n - 1] == ';';
        if (stmt.len)
            pc_buf_add(&stmt, "\n", 1);
        pc_buf_add(&stmt, line, last ? n - 1 : n);
        if (last) {
            rc = fn(stmt.p, stmt.len, arg);
            pc_buf_reset(&stmt);
        }
    }
    if (rc == 0 && stmt.len)
        rc = fn(stmt.p, stmt.len, arg);
    pc_buf_free(&stmt);
    return rc;
}

static int exec_stmt(const char *s, size_t n, void *arg)
{
    return pc_db_exec_text(arg, s, n);
}

static int apply_one(struct pc_db *db, const struct pc_migration *m, int *applied)
{
    char sum[PC_SHA256_HEXLEN];
    pc_sha256_hex(m->sql, m->len, sum);
    struct pc_db_res *res = NULL;
    int rc = pc_db_query(db, SQL_GET, PC_DB_ARGS(pc_db_i64(m->version)), &res);
    if (rc)
        return rc;
    if (pc_db_res_rows(res) == 1) {
        int same = strcmp(pc_db_res_str(res, 0, 0), sum) == 0;
        pc_db_res_free(res);
        if (!same) {
            pc_log(PC_LOG_ERROR, "applied migration was edited", PC_LS("migration", m->name));
            return PC_ECONFLICT;
        }
        return 0;
    }
    pc_db_res_free(res);
    pc_log(PC_LOG_INFO, "applying migration", PC_LS("migration", m->name));
    rc = pc_migrate_split(m->sql, m->len, exec_stmt, db);
    if (rc) {
        pc_log(PC_LOG_ERROR, "migration failed", PC_LS("migration", m->name),
               PC_LS("error", pc_strerror(rc)));
        return rc;
    }
    rc = pc_db_exec(db, SQL_RECORD,
                    PC_DB_ARGS(pc_db_i64(m->version), pc_db_str(m->name), pc_db_str(sum)), NULL,
                    NULL);
    if (rc == 0)
        (*applied)++;
    return rc;
}

int pc_migrate_run(struct pc_db *db, int *applied)
{
    int n = 0;
    int rc = pc_db_exec_text(db, SQL_CREATE_TABLE, sizeof SQL_CREATE_TABLE - 1);
    if (rc)
        return rc;
    struct pc_db_res *res = NULL;
    rc = pc_db_query(db, SQL_LOCK, PC_DB_NOARGS, &res);
    int locked = rc == 0 && pc_db_res_i64(res, 0, 0) == 1;
    pc_db_res_free(res);
    if (rc)
        return rc;
    if (!locked)
        return PC_EBUSY;
    for (size_t i = 0; i < pc_migrations_count && rc == 0; i++)
        rc = apply_one(db, &pc_migrations[i], &n);
    res = NULL;
    if (pc_db_query(db, SQL_UNLOCK, PC_DB_NOARGS, &res) == 0)
        pc_db_res_free(res);
    if (applied)
        *applied = n;
    return rc;
}

int pc_migrate_status(struct pc_db *db, int *current, int *complete)
{
    struct pc_db_res *res = NULL;
    *current = 0;
    *complete = 0;
    int rc = pc_db_query(db, SQL_STATUS, PC_DB_NOARGS, &res);
    if (rc) {
        /* No table yet: reachable but nothing applied. */
        if (rc == PC_EDB && pc_db_errno(db) == ER_NO_SUCH_TABLE)
            return 0;
        return rc;
    }
    *current = (int)pc_db_res_i64(res, 0, 0);
    int count = (int)pc_db_res_i64(res, 0, 1);
    *complete = count == (int)pc_migrations_count && *current == pc_migrate_latest();
    pc_db_res_free(res);
    return 0;
}
