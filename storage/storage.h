/* storage/storage.h — durable objects (photos, avatars), on the local disk or in an
 * S3-compatible object store, chosen by storage.backend (docs/configuration.md).
 *
 * Durable before acknowledged: a put returns 0 only once the bytes are stored — locally
 * written to a temporary file, fsynced, renamed into place and the directory fsynced; in
 * the object store, acknowledged by it (200 to a PUT that carried the payload's SHA-256 and
 * MD5, which the store checks). Callers record a path in the database only after that.
 * Paths are relative ("photos/standard/ab/<sha>.jpg"), at most 200 characters of
 * [A-Za-z0-9/._-], never "..". Every function may block (disk or network): workers and the
 * jobs thread only, never an event loop. Any such thread. */
#ifndef PC_STORAGE_STORAGE_H
#define PC_STORAGE_STORAGE_H

#include <stddef.h>
#include <stdint.h>

struct pc_config;

/* Checks the backend's settings (not the network): storage.backend is local or s3, and for
 * s3 the endpoint, bucket and keys are usable. 0, or PC_EINVAL with a message in err. Called
 * once by `portraitd serve` before it listens. */
int pc_storage_check(const struct pc_config *cfg, char *err, size_t errlen);

/* Stores data at rel (replacing what is there). 0, PC_EINVAL (bad path) or PC_EIO. */
int pc_storage_put(const struct pc_config *cfg, const char *rel, const void *data, size_t len);

/* Receives a read's bytes in order, as they arrive; returns 0 to go on, anything else stops
 * the read (which then returns that value). */
typedef int (*pc_storage_sink)(void *arg, const void *p, size_t n);
/* Streams rel to sink, never more than max bytes (an object over max fails with PC_ETOOBIG
 * before or while reading; the sink may then have had a part). 0, PC_ENOTFOUND, PC_ETOOBIG,
 * PC_EINVAL, PC_EIO, or the sink's value. */
int pc_storage_read(const struct pc_config *cfg, const char *rel, size_t max, pc_storage_sink sink,
                    void *arg);
/* Reads rel into a new NUL-terminated buffer (caller frees) of at most max bytes.
 * 0, PC_ENOTFOUND, PC_ETOOBIG, PC_EINVAL or PC_EIO. */
int pc_storage_get(const struct pc_config *cfg, const char *rel, size_t max, char **data,
                   size_t *len);
/* The size of rel. 0, PC_ENOTFOUND, PC_EINVAL or PC_EIO. */
int pc_storage_size(const struct pc_config *cfg, const char *rel, int64_t *size);
/* Removes rel (the retention job's deletions). Removing what is not there succeeds.
 * 0, PC_EINVAL or PC_EIO. */
int pc_storage_delete(const struct pc_config *cfg, const char *rel);

/* One object met by pc_storage_list: its path (as pc_storage_put takes it) and when it was
 * last written (Unix seconds). Returns 0 to go on; anything else stops the listing. */
typedef int (*pc_storage_visit)(void *arg, const char *rel, int64_t mtime_s);
/* Calls visit for every object whose path starts with prefix ("photos/", "avatars/"), in no set
 * order: on the local disk every file under storage.dir/prefix, interrupted writes (names holding
 * ".tmp-") included; in the object store every object of the bucket (under storage.s3_prefix)
 * whose key starts with prefix (ListObjectsV2, a page of up to 1,000 at a time; a store has no
 * interrupted writes: a PUT is whole or absent), keys that are not valid paths skipped. The
 * prefix "tmp/" lists the local scratch files of pc_storage_tmpfile, whatever the backend.
 * 0, PC_EINVAL (bad prefix), PC_EIO, or the value a visit stopped with. */
int pc_storage_list(const struct pc_config *cfg, const char *prefix, pc_storage_visit visit,
                    void *arg);

/* Creates an empty private temporary file under storage.dir/tmp/ (scratch for large responses
 * that must not sit in memory, whatever the backend); path receives its name. An fd, or -1. */
int pc_storage_tmpfile(const struct pc_config *cfg, char *path, size_t len);

#endif
