/* orders/limits.h — the work one student may ask for: photo checks, collection-code uploads and
 * photo uploads are counted per student in fixed windows shared by every instance
 * (limits.window_s; store/ratelimit.h), and the picture decode itself waits for the process's
 * image gate (base/gate.h). Worker thread. */
#ifndef PC_ORDERS_LIMITS_H
#define PC_ORDERS_LIMITS_H

#include <stdint.h>

struct pc_config;
struct pc_db;

enum pc_student_work { PC_WORK_PHOTO_CHECK, PC_WORK_CODE_UPLOAD, PC_WORK_PHOTO_UPLOAD };

/* Counts one request of user_id for work, or refuses it: PC_ELIMIT with *retry_after_s (the
 * rest of the window) once the student has had limits.photo_checks / code_uploads /
 * photo_uploads of them within limits.window_s. 0, PC_ELIMIT or a store error. */
int pc_student_work(struct pc_db *db, const struct pc_config *cfg, int64_t user_id,
                    enum pc_student_work work, int *retry_after_s);

/* Waits (at most limits.image_wait_ms) for a place to decode a picture: 0, or PC_EBUSY. Give
 * the place back with pc_image_gate_leave (base/gate.h). */
int pc_image_work_begin(const struct pc_config *cfg);

#endif
