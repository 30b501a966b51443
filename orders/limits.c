/* orders/limits.c — per-student work limits and the image gate (orders/limits.h). */
#include "orders/limits.h"

#include "base/err.h"
#include "base/gate.h"
#include "base/stats.h"
#include "config/config.h"
#include "store/ratelimit.h"

#include <stdio.h>

static struct pc_stat g_limited[] = {
    PC_STAT_INIT("portraitd_student_limited_total", "counter", "work=\"photo_check\"",
                 "Requests refused 429 by the per-student limits.", 0),
    PC_STAT_INIT("portraitd_student_limited_total", "counter", "work=\"code_upload\"",
                 "Requests refused 429 by the per-student limits.", 0),
    PC_STAT_INIT("portraitd_student_limited_total", "counter", "work=\"photo_upload\"",
                 "Requests refused 429 by the per-student limits.", 0),
};

int pc_student_work(struct pc_db *db, const struct pc_config *cfg, int64_t user_id,
                    enum pc_student_work work, int *retry_after_s)
{
    static const char *const buckets[] = {"photo_check", "code_upload", "photo_upload"};
    int max = work == PC_WORK_PHOTO_CHECK   ? cfg->limit_photo_checks
              : work == PC_WORK_CODE_UPLOAD ? cfg->limit_code_uploads
                                            : cfg->limit_photo_uploads;
    char key[32];
    snprintf(key, sizeof key, "u:%lld", (long long)user_id);
    int hits = 0, ra = 0;
    *retry_after_s = 0;
    int rc = pc_store_rl_get(db, buckets[work], key, cfg->limit_window_s, &hits, &ra);
    if (rc)
        return rc;
    if (hits >= max) {
        *retry_after_s = ra > 0 ? ra : 1;
        pc_stat_add(&g_limited[work], 1);
        return PC_ELIMIT;
    }
    return pc_store_rl_hit(db, buckets[work], key, cfg->limit_window_s);
}

int pc_image_work_begin(const struct pc_config *cfg)
{
    return pc_image_gate_enter(cfg->limit_image_wait_ms);
}
