/* storage/storage.h — durable files under storage.dir (avatars, photos).
 *
 * A write is durable before it returns: written to a temporary file, fsynced, renamed
 * into place, and the directory fsynced. Paths are relative to storage.dir and never
 * contain "..". The interface is small so that an object store can replace it. */
#ifndef PC_STORAGE_STORAGE_H
#define PC_STORAGE_STORAGE_H

#include <stddef.h>
#include <stdint.h>

struct pc_config;

/* Stores data at rel (creating directories). 0, PC_EINVAL (bad path) or PC_EIO. Any thread. */
int pc_storage_put(const struct pc_config *cfg, const char *rel, const void *data, size_t len);
/* Reads rel into a new buffer (caller frees) of at most max bytes.
 * 0, PC_ENOTFOUND, PC_ETOOBIG, PC_EINVAL or PC_EIO. */
int pc_storage_get(const struct pc_config *cfg, const char *rel, size_t max, char **data,
                   size_t *len);

/* Removes rel (the retention job's deletions). Removing what is not there succeeds.
 * 0, PC_EINVAL or PC_EIO. */
int pc_storage_delete(const struct pc_config *cfg, const char *rel);

/* One object met by pc_storage_list: its path (as pc_storage_put takes it) and when it was
 * last written (Unix seconds). Returns 0 to go on; anything else stops the walk. */
typedef int (*pc_storage_visit)(void *arg, const char *rel, int64_t mtime_s);
/* Calls visit for every object whose path starts with prefix ("photos/", "avatars/"),
 * interrupted writes (names holding ".tmp-") included, in no set order. The prefix "tmp/"
 * lists the local scratch files of pc_storage_tmpfile, whatever the backend. 0, PC_EINVAL
 * (bad prefix), PC_EIO, or the value a visit stopped with. */
int pc_storage_list(const struct pc_config *cfg, const char *prefix, pc_storage_visit visit,
                    void *arg);

/* The filesystem path of rel (for readers that stream a file themselves, e.g. the zip
 * writer). 0 or PC_EINVAL. */
int pc_storage_path(const struct pc_config *cfg, const char *rel, char *out, size_t len);
/* Creates an empty private temporary file under storage.dir/tmp/ (for large responses that
 * must not sit in memory); path receives its name. An fd, or -1. */
int pc_storage_tmpfile(const struct pc_config *cfg, char *path, size_t len);

#endif
