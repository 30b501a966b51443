/* storage/storage.c — path rules, the backend switch (storage.backend) and the storage
 * metrics; the backends are local.c and s3.c. See storage.h. */
#include "storage/storage.h"

#include "base/alloc.h"
#include "base/err.h"
#include "base/stats.h"
#include "base/timeutil.h"
#include "config/config.h"
#include "storage/internal.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum op { OP_PUT, OP_READ, OP_SIZE, OP_DELETE, OP_LIST, NOPS };

#define OPS(name, type, help, scale)                                                               \
    {                                                                                              \
        PC_STAT_INIT(name, type, "op=\"put\"", help, scale),                                       \
            PC_STAT_INIT(name, type, "op=\"read\"", help, scale),                                  \
            PC_STAT_INIT(name, type, "op=\"size\"", help, scale),                                  \
            PC_STAT_INIT(name, type, "op=\"delete\"", help, scale),                                \
            PC_STAT_INIT(name, type, "op=\"list\"", help, scale)                                   \
    }
static struct pc_stat g_ops[NOPS] =
    OPS("portraitd_storage_operations_total", "counter",
        "Storage operations (put, read, size, delete, list), by the configured backend.", 0);
static struct pc_stat g_errors[NOPS] =
    OPS("portraitd_storage_errors_total", "counter",
        "Storage operations that failed (not counting a read or size of a missing object).", 0);
static struct pc_stat g_seconds[NOPS] =
    OPS("portraitd_storage_seconds_total", "counter", "Time spent in storage operations.", 1e-6);
static struct pc_stat g_bytes[2] = {
    PC_STAT_INIT("portraitd_storage_bytes_total", "counter", "op=\"put\"",
                 "Bytes written to and read from storage.", 0),
    PC_STAT_INIT("portraitd_storage_bytes_total", "counter", "op=\"read\"",
                 "Bytes written to and read from storage.", 0)};
static struct pc_stat g_backend[2] = {
    PC_STAT_INIT("portraitd_storage_backend", "gauge", "backend=\"local\"",
                 "1 for the storage backend in use.", 0),
    PC_STAT_INIT("portraitd_storage_backend", "gauge", "backend=\"s3\"",
                 "1 for the storage backend in use.", 0)};

static bool is_s3(const struct pc_config *cfg)
{
    return cfg->storage_backend && !strcmp(cfg->storage_backend, "s3");
}

/* Records one finished operation; returns rc. */
static int done(enum op op, uint64_t t0, int rc)
{
    pc_stat_add(&g_ops[op], 1);
    pc_stat_add(&g_seconds[op], (long long)((pc_time_mono_ns() - t0) / 1000));
    if (rc && rc != PC_ENOTFOUND)
        pc_stat_add(&g_errors[op], 1);
    return rc;
}

static int safe_rel(const char *rel)
{
    if (!rel || !rel[0] || rel[0] == '/' || strstr(rel, "..") || strlen(rel) > 200)
        return 0;
    for (const char *p = rel; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '/' || *p == '.' || *p == '_' || *p == '-'))
            return 0;
    return 1;
}

int pc_storage_check(const struct pc_config *cfg, char *err, size_t errlen)
{
    err[0] = '\0';
    if (is_s3(cfg)) {
        pc_stat_set(&g_backend[1], 1);
        return pc_s3_check(cfg, err, errlen);
    }
    if (!cfg->storage_backend || strcmp(cfg->storage_backend, "local")) {
        snprintf(err, errlen, "storage.backend must be local or s3");
        return PC_EINVAL;
    }
    pc_stat_set(&g_backend[0], 1);
    return 0;
}

int pc_storage_put(const struct pc_config *cfg, const char *rel, const void *data, size_t len)
{
    if (!safe_rel(rel))
        return PC_EINVAL;
    uint64_t t0 = pc_time_mono_ns();
    int rc = is_s3(cfg) ? pc_s3_put(cfg, rel, data, len) : pc_local_put(cfg, rel, data, len);
    if (rc == 0)
        pc_stat_add(&g_bytes[0], (long long)len);
    return done(OP_PUT, t0, rc);
}

struct counted {
    pc_storage_sink sink;
    void *arg;
    size_t n;
};

static int count_sink(void *arg, const void *p, size_t n)
{
    struct counted *c = arg;
    c->n += n;
    return c->sink(c->arg, p, n);
}

int pc_storage_read(const struct pc_config *cfg, const char *rel, size_t max, pc_storage_sink sink,
                    void *arg)
{
    if (!safe_rel(rel))
        return PC_EINVAL;
    uint64_t t0 = pc_time_mono_ns();
    struct counted c = {sink, arg, 0};
    int rc = is_s3(cfg) ? pc_s3_read(cfg, rel, max, count_sink, &c)
                        : pc_local_read(cfg, rel, max, count_sink, &c);
    pc_stat_add(&g_bytes[1], (long long)c.n);
    return done(OP_READ, t0, rc);
}

struct membuf {
    char *p;
    size_t len, cap;
};

static int mem_sink(void *arg, const void *p, size_t n)
{
    struct membuf *m = arg;
    if (m->len + n + 1 > m->cap) {
        m->cap = (m->len + n + 1) * 2;
        m->p = pc_xrealloc(m->p, m->cap);
    }
    memcpy(m->p + m->len, p, n);
    m->len += n;
    return 0;
}

int pc_storage_get(const struct pc_config *cfg, const char *rel, size_t max, char **data,
                   size_t *len)
{
    *data = NULL;
    *len = 0;
    struct membuf m = {NULL, 0, 0};
    int rc = pc_storage_read(cfg, rel, max, mem_sink, &m);
    if (rc) {
        free(m.p);
        return rc;
    }
    if (!m.p)
        m.p = pc_xmalloc(1);
    m.p[m.len] = '\0';
    *data = m.p;
    *len = m.len;
    return 0;
}

int pc_storage_size(const struct pc_config *cfg, const char *rel, int64_t *size)
{
    *size = 0;
    if (!safe_rel(rel))
        return PC_EINVAL;
    uint64_t t0 = pc_time_mono_ns();
    int rc = is_s3(cfg) ? pc_s3_size(cfg, rel, size) : pc_local_size(cfg, rel, size);
    return done(OP_SIZE, t0, rc);
}

int pc_storage_delete(const struct pc_config *cfg, const char *rel)
{
    if (!safe_rel(rel))
        return PC_EINVAL;
    uint64_t t0 = pc_time_mono_ns();
    int rc = is_s3(cfg) ? pc_s3_delete(cfg, rel) : pc_local_delete(cfg, rel);
    return done(OP_DELETE, t0, rc);
}

struct listed {
    pc_storage_visit visit;
    void *arg;
};

/* Passes on what is a valid path (an object put there by someone else may not be). */
static int valid_visit(void *arg, const char *rel, int64_t mtime_s)
{
    struct listed *l = arg;
    return safe_rel(rel) ? l->visit(l->arg, rel, mtime_s) : 0;
}

int pc_storage_list(const struct pc_config *cfg, const char *prefix, pc_storage_visit visit,
                    void *arg)
{
    size_t n = prefix ? strlen(prefix) : 0;
    if (n < 2 || prefix[n - 1] != '/' || !safe_rel(prefix))
        return PC_EINVAL;
    uint64_t t0 = pc_time_mono_ns();
    struct listed l = {visit, arg};
    int rc = is_s3(cfg) && strcmp(prefix, "tmp/") ? pc_s3_list(cfg, prefix, valid_visit, &l)
                                                  : pc_local_list(cfg, prefix, valid_visit, &l);
    return done(OP_LIST, t0, rc);
}

int pc_storage_tmpfile(const struct pc_config *cfg, char *path, size_t len)
{
    char dir[1024];
    mkdir(cfg->storage_dir, 0750); /* the s3 backend may have no other use for it */
    snprintf(dir, sizeof dir, "%s/tmp", cfg->storage_dir);
    mkdir(dir, 0700);
    int n = snprintf(path, len, "%s/XXXXXX", dir);
    if (n <= 0 || (size_t)n >= len)
        return -1;
    return mkstemp(path);
}
