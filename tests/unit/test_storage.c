/* tests/unit/test_storage.c — durable writes (storage/storage.h): the file, and every directory
 * a write creates, reach the disk before the write returns. fsync is wrapped (-Wl,--wrap=fsync,
 * tests/CMakeLists.txt) to see which paths were synced. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "config/config.h"
#include "storage/storage.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int __real_fsync(int fd);

static char g_synced[64][PATH_MAX];
static int g_nsynced;

int __wrap_fsync(int fd)
{
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    if (g_nsynced < 64) {
        ssize_t n = readlink(link, g_synced[g_nsynced], PATH_MAX - 1);
        g_synced[g_nsynced++][n > 0 ? n : 0] = '\0';
    }
    return __real_fsync(fd);
}

static int synced(const char *path)
{
    char real[PATH_MAX];
    if (!realpath(path, real))
        return 0;
    for (int i = 0; i < g_nsynced; i++)
        if (!strcmp(g_synced[i], real))
            return 1;
    return 0;
}

/* The file was synced under its temporary name (path.tmp-...), before the rename. */
static int synced_tmp(const char *dir, const char *name)
{
    char real[PATH_MAX], pre[PATH_MAX + 80];
    if (!realpath(dir, real))
        return 0;
    snprintf(pre, sizeof pre, "%s/%s.tmp-", real, name);
    for (int i = 0; i < g_nsynced; i++)
        if (!strncmp(g_synced[i], pre, strlen(pre)))
            return 1;
    return 0;
}

static void test_a_write_syncs_the_file_and_every_directory_it_creates(void **state)
{
    (void)state;
    char tmpl[] = "/tmp/pc-storage-XXXXXX", err[128], dir[PATH_MAX], p[PATH_MAX + 64];
    assert_non_null(mkdtemp(tmpl));
    snprintf(dir, sizeof dir, "%s/data", tmpl);
    struct pc_config cfg;
    pc_config_defaults(&cfg);
    assert_int_equal(pc_config_set(&cfg, "storage", "dir", dir, err, sizeof err), 0);
    g_nsynced = 0;
    assert_int_equal(pc_storage_put(&cfg, "photos/original/ab/abc.jpg", "xyz", 3), 0);
    snprintf(p, sizeof p, "%s/photos/original/ab", dir);
    assert_true(synced_tmp(p, "abc.jpg")); /* the file */
    /* Each new directory in its parent: data in tmpl, photos in data, ... ab in original. */
    assert_true(synced(tmpl));
    assert_true(synced(dir));
    snprintf(p, sizeof p, "%s/photos", dir);
    assert_true(synced(p));
    snprintf(p, sizeof p, "%s/photos/original", dir);
    assert_true(synced(p));
    snprintf(p, sizeof p, "%s/photos/original/ab", dir); /* the rename */
    assert_true(synced(p));
    /* A second file in the same directories creates none: only the file and its directory. */
    g_nsynced = 0;
    assert_int_equal(pc_storage_put(&cfg, "photos/original/ab/abd.jpg", "xyz", 3), 0);
    assert_int_equal(g_nsynced, 2);
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpl);
    assert_int_equal(system(cmd), 0);
    pc_config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_write_syncs_the_file_and_every_directory_it_creates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
