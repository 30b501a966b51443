/* storage/internal.h — the two backends behind storage.h. Paths are checked by storage.c;
 * each function returns what its storage.h counterpart documents. */
#ifndef PC_STORAGE_INTERNAL_H
#define PC_STORAGE_INTERNAL_H

#include "storage/storage.h"

int pc_local_put(const struct pc_config *cfg, const char *rel, const void *data, size_t len);
int pc_local_read(const struct pc_config *cfg, const char *rel, size_t max, pc_storage_sink sink,
                  void *arg);
int pc_local_size(const struct pc_config *cfg, const char *rel, int64_t *size);
int pc_local_delete(const struct pc_config *cfg, const char *rel);
int pc_local_list(const struct pc_config *cfg, const char *prefix, pc_storage_visit visit,
                  void *arg);

/* storage/s3.c: the S3 API over libcurl, signed with AWS Signature V4. */
int pc_s3_check(const struct pc_config *cfg, char *err, size_t errlen);
int pc_s3_put(const struct pc_config *cfg, const char *rel, const void *data, size_t len);
int pc_s3_read(const struct pc_config *cfg, const char *rel, size_t max, pc_storage_sink sink,
               void *arg);
int pc_s3_size(const struct pc_config *cfg, const char *rel, int64_t *size);
int pc_s3_delete(const struct pc_config *cfg, const char *rel);
int pc_s3_list(const struct pc_config *cfg, const char *prefix, pc_storage_visit visit, void *arg);

#endif
