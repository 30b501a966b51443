/* storage/storage.c — durable local files: tmp + fsync + rename + directory fsync. */
#include "storage/storage.h"

#include "base/alloc.h"
#include "base/crypto.h"
#include "base/err.h"
#include "base/log.h"
#include "config/config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

static int fsync_dir(const char *path);

/* mkdir -p of every parent of path. A directory it creates is made durable in its own parent
 * (the parent is fsynced), so a crash cannot lose a new shard directory with the files that
 * were acknowledged in it. */
static int make_parents(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = mkdir(path, 0750);
        if (rc == 0 && fsync_dir(path)) { /* path's own parent */
            *p = '/';
            return PC_EIO;
        }
        *p = '/';
        if (rc && errno != EEXIST)
            return PC_EIO;
    }
    return 0;
}

/* fsyncs the directory that holds path. */
static int fsync_dir(const char *path)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        return 0;
    *slash = '\0';
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return PC_EIO;
    int rc = fsync(fd) ? PC_EIO : 0;
    close(fd);
    return rc;
}

int pc_storage_put(const struct pc_config *cfg, const char *rel, const void *data, size_t len)
{
    if (!safe_rel(rel))
        return PC_EINVAL;
    char path[4096], tmp[4200];
    unsigned char rnd[6];
    char hex[13];
    snprintf(path, sizeof path, "%s/%s", cfg->storage_dir, rel);
    pc_rand_bytes(rnd, sizeof rnd);
    pc_hex(rnd, sizeof rnd, hex);
    snprintf(tmp, sizeof tmp, "%s.tmp-%s", path, hex);
    if (make_parents(path))
        goto fail_noclean;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd < 0)
        goto fail_noclean;
    const char *p = data;
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, p + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            close(fd);
            goto fail;
        }
        off += (size_t)n;
    }
    if (fsync(fd) || close(fd) || rename(tmp, path) || fsync_dir(path))
        goto fail;
    return 0;
fail:
    unlink(tmp);
fail_noclean:
    pc_log(PC_LOG_ERROR, "storage write failed", PC_LS("path", rel),
           PC_LS("error", strerror(errno)));
    return PC_EIO;
}

int pc_storage_get(const struct pc_config *cfg, const char *rel, size_t max, char **data,
                   size_t *len)
{
    *data = NULL;
    *len = 0;
    if (!safe_rel(rel))
        return PC_EINVAL;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", cfg->storage_dir, rel);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? PC_ENOTFOUND : PC_EIO;
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode))
        rc = PC_EIO;
    else if ((size_t)st.st_size > max)
        rc = PC_ETOOBIG;
    char *buf = rc ? NULL : pc_xmalloc((size_t)st.st_size + 1);
    size_t off = 0;
    while (rc == 0 && off < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + off, (size_t)st.st_size - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            rc = PC_EIO;
        else
            off += (size_t)n;
    }
    close(fd);
    if (rc) {
        free(buf);
        return rc;
    }
    buf[off] = '\0';
    *data = buf;
    *len = off;
    return 0;
}

int pc_storage_path(const struct pc_config *cfg, const char *rel, char *out, size_t len)
{
    if (!safe_rel(rel))
        return PC_EINVAL;
    int n = snprintf(out, len, "%s/%s", cfg->storage_dir, rel);
    return n > 0 && (size_t)n < len ? 0 : PC_EINVAL;
}

int pc_storage_tmpfile(const struct pc_config *cfg, char *path, size_t len)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/tmp", cfg->storage_dir);
    mkdir(dir, 0700);
    int n = snprintf(path, len, "%s/XXXXXX", dir);
    if (n <= 0 || (size_t)n >= len)
        return -1;
    return mkstemp(path);
}

int pc_storage_delete(const struct pc_config *cfg, const char *rel)
{
    if (!safe_rel(rel))
        return PC_EINVAL;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", cfg->storage_dir, rel);
    if (unlink(path) && errno != ENOENT) {
        pc_log(PC_LOG_ERROR, "storage delete failed", PC_LS("path", rel),
               PC_LS("error", strerror(errno)));
        return PC_EIO;
    }
    return 0;
}

/* Walks dir (the full path of rel, rel "" at the top) depth first, at most depth levels. */
static int walk(const struct pc_config *cfg, const char *rel, int depth, pc_storage_visit visit,
                void *arg)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s", cfg->storage_dir, rel);
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : PC_EIO;
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue; /* ".", "..": no object name starts with a dot */
        char child[4096];
        int n = snprintf(child, sizeof child, "%s%s", rel, e->d_name);
        if (n < 0 || (size_t)n >= sizeof child - 1)
            continue;
        struct stat st;
        char full[8200];
        snprintf(full, sizeof full, "%s/%s", cfg->storage_dir, child);
        if (lstat(full, &st))
            continue; /* gone meanwhile */
        if (S_ISDIR(st.st_mode) && depth > 0) {
            child[n] = '/';
            child[n + 1] = '\0';
            rc = walk(cfg, child, depth - 1, visit, arg);
        } else if (S_ISREG(st.st_mode)) {
            rc = visit(arg, child, (int64_t)st.st_mtime);
        }
    }
    closedir(d);
    return rc;
}

int pc_storage_list(const struct pc_config *cfg, const char *prefix, pc_storage_visit visit,
                    void *arg)
{
    size_t n = prefix ? strlen(prefix) : 0;
    if (n < 2 || prefix[n - 1] != '/' || !safe_rel(prefix))
        return PC_EINVAL;
    return walk(cfg, prefix, 8, visit, arg);
}
