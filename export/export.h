/* export/export.h — a task's approved standard photos as a zip for CHSI and the school:
 * {student_no}.jpg (or {college}/{student_no}.jpg), manifest.csv (college, class, name,
 * student number, order number, approval time, file, SHA-256) and errors.csv (students who
 * cannot be exported, and why). Written with libzip into a temporary file, photos stored
 * (JPEG does not compress) and read one at a time, so memory stays bounded whatever the
 * task's size; the caller streams the file. Worker thread (database, disk). */
#ifndef PC_EXPORT_H
#define PC_EXPORT_H

#include "store/db.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pc_config;

struct pc_export_result {
    int fd;     /* the zip, open read-only, already unlinked: the caller owns it */
    size_t len; /* its size */
    size_t photos, errors;
};

/* 0, or PC_EIO (disk, libzip) / a store error. */
int pc_export_task_zip(struct pc_db *db, const struct pc_config *cfg, int64_t task_id,
                       bool by_college, struct pc_export_result *out);

#endif
