/* storage/local.c — durable local files under storage.dir: tmp + fsync + rename + directory
 * fsync. See storage.h. */
#include "storage/internal.h"

#include "base/crypto.h"
#include "base/err.h"
#include "base/log.h"
#include "config/config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

int pc_local_put(const struct pc_config *cfg, const char *rel, const void *data, size_t len)
{
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

int pc_local_read(const struct pc_config *cfg, const char *rel, size_t max, pc_storage_sink sink,
                  void *arg)
{
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
    size_t total = 0;
    char buf[65536];
    while (rc == 0) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rc = PC_EIO;
        if (n <= 0)
            break;
        total += (size_t)n;
        rc = total > max ? PC_ETOOBIG : sink(arg, buf, (size_t)n);
    }
    close(fd);
    return rc;
}

int pc_local_size(const struct pc_config *cfg, const char *rel, int64_t *size)
{
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", cfg->storage_dir, rel);
    if (stat(path, &st) != 0)
        return errno == ENOENT ? PC_ENOTFOUND : PC_EIO;
    if (!S_ISREG(st.st_mode))
        return PC_ENOTFOUND;
    *size = (int64_t)st.st_size;
    return 0;
}

int pc_local_delete(const struct pc_config *cfg, const char *rel)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", cfg->storage_dir, rel);
    if (unlink(path) != 0)
        return errno == ENOENT ? 0 : PC_EIO;
    return fsync_dir(path);
}

/* Walks storage.dir/rel (rel "" or ending in '/') depth first, at most depth levels below. */
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

int pc_local_list(const struct pc_config *cfg, const char *prefix, pc_storage_visit visit,
                  void *arg)
{
    return walk(cfg, prefix, 8, visit, arg);
}
