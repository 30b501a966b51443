/* export/export.h — a task's approved standard photos as a zip for CHSI and the school:
 * {student_no}.jpg (or {college}/{student_no}.jpg), manifest.csv (college, class, name,
 * student number, order number, approval time, file, SHA-256) and errors.csv (students who
 * cannot be exported, and why). Written with libzip into a temporary file, photos stored
 * (JPEG does not compress) and read one at a time, so memory stays bounded whatever the
 * task's size; the caller streams the file. Worker thread (database, disk). */
#ifndef PC_EXPORT_H
#define PC_EXPORT_H

#include "base/buf.h"
#include "store/db.h"
#include "store/export.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pc_config;

struct pc_export_result {
    int fd;     /* the zip, open read-only, already unlinked: the caller owns it */
    size_t len; /* its size */
    size_t photos, errors;
};

/* 0, or PC_ETOOBIG (manifest.csv or errors.csv would pass 64 MB: no zip rather than a cut
 * list), PC_EIO (disk, libzip) or a store error. */
int pc_export_task_zip(struct pc_db *db, const struct pc_config *cfg, int64_t task_id,
                       bool by_college, struct pc_export_result *out);

/* A zip member name part made from data (a college, a student number) into out: separators,
 * dots (so never "." or ".."), drive colons and control characters become "_", a cut never
 * splits a UTF-8 character, and nothing left becomes "未分学院". Pure. */
void pc_export_name_part(const char *in, char *out, size_t len);

/* One line of manifest.csv for an approved order e stored as file in the zip (college, class,
 * name, student number, order number, approval time in Beijing time, file, SHA-256), and one
 * line of errors.csv (college, class, name, student number, order number, why). 0, or
 * PC_ETOOBIG when the line does not fit in b (a cell is never cut). Pure. */
int pc_export_manifest_row(struct pc_buf *b, const struct pc_export_row *e, const char *file);
int pc_export_error_row(struct pc_buf *b, const struct pc_export_row *e, const char *why);

#endif
