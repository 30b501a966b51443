/* orders/photo.c — photo upload for an order (rules); SQL in store/photos.c, files in
 * storage/, pixels in photo/. */
#include "orders/photo.h"

#include "photo/probe.h"

#include "base/crypto.h"
#include "base/err.h"
#include "base/gate.h"
#include "base/imgmeta.h"
#include "base/log.h"
#include "config/config.h"
#include "orders/limits.h"
#include "orders/orders.h"
#include "orders/state.h"
#include "staff/staff.h"
#include "storage/storage.h"
#include "store/photos.h"
#include "store/roster.h"
#include "store/tasks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

cJSON *pc_photo_checks_json(const struct pc_photo_result *res)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < res->nchecks; i++) {
        const struct pc_photo_check *c = &res->checks[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "code", c->code);
        cJSON_AddBoolToObject(o, "ok", c->ok);
        cJSON_AddBoolToObject(o, "blocking", c->blocking);
        cJSON_AddStringToObject(o, "message", c->message);
        if (c->has_value) {
            cJSON_AddNumberToObject(o, "value", c->value);
            cJSON_AddNumberToObject(o, "limit", c->limit);
        }
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

int pc_photo_duplicate_checks(struct pc_db *db, int64_t task_id, const char *student_no,
                              struct pc_photo_result *res)
{
    uint64_t enroll = 0;
    bool has = false;
    int rc = pc_store_roster_enrollment_phash(db, task_id, student_no, &enroll, &has);
    if (rc)
        return rc;
    if (has) {
        int d = pc_phash_distance(enroll, res->phash);
        pc_photo_add_check(res, "ENROLLMENT_PHOTO", d > PC_PHASH_SAME_MAX, true,
                           d > PC_PHASH_SAME_MAX ? "未使用入学照片"
                                                 : "不能使用入学时的照片，请重新拍摄近期照片",
                           d, PC_PHASH_SAME_MAX + 1, true);
    } else {
        pc_photo_add_check(res, "ENROLLMENT_PHOTO", true, true, "未使用入学照片", 0, 0, false);
    }
    char other[33];
    rc = pc_store_photo_similar(db, student_no, res->phash, PC_PHASH_SAME_MAX, other);
    if (rc && rc != PC_ENOTFOUND)
        return rc;
    pc_photo_add_check(res, "DUPLICATE_PHOTO", rc == PC_ENOTFOUND, true,
                       rc == PC_ENOTFOUND ? "照片未被他人使用"
                                          : "这张照片已被其他同学提交，请本人重新拍摄",
                       0, 0, false);
    return 0;
}

/* Stores bytes under a content-addressed name: photos/<kind>/<aa>/<sha256>.<ext>. A file that
 * is already there is written again (the same bytes, atomically): its fresh time keeps the
 * retention job's sweep of files no row refers to (retention.file_age_s) off it until the row
 * that now needs it is written. */
static int put_addressed(const struct pc_config *cfg, const char *kind, const void *data,
                         size_t len, const char *ext, char sha[PC_SHA256_HEXLEN], char *rel,
                         size_t rlen)
{
    pc_sha256_hex(data, len, sha);
    snprintf(rel, rlen, "photos/%s/%.2s/%s.%s", kind, sha, sha, ext);
    return pc_storage_put(cfg, rel, data, len);
}

int pc_photo_check(struct pc_ctx *ctx, const struct pc_user_auth *u, const void *data, size_t len,
                   struct pc_photo_result *res, int *retry_after_s)
{
    memset(res, 0, sizeof *res);
    int rc = pc_student_work(ctx->db, ctx->cfg, u->id, PC_WORK_PHOTO_CHECK, retry_after_s);
    if (rc == 0)
        rc = pc_image_work_begin(ctx->cfg);
    if (rc)
        return rc;
    struct pc_photo_opts opts = {.standardise = false,
                                 .max_pixels = (long)ctx->cfg->photo_max_pixels};
    pc_photo_process(data, len, &opts, res);
    pc_image_gate_leave();
    return 0;
}

int pc_order_photo_upload(struct pc_ctx *ctx, const struct pc_user_auth *u, const char *order_no,
                          const void *data, size_t len, enum pc_upload_outcome *outcome,
                          struct pc_photo_result *res, struct pc_order *o, int *retry_after_s)
{
    memset(res, 0, sizeof *res);
    struct pc_task t;
    bool replace;
    /* Cheap refusals first: no pixel work for an order that cannot take a photo. */
    int rc = pc_order_get_own(ctx->db, u, order_no, o);
    if (rc == PC_ENOTFOUND) {
        *outcome = PC_UPLOAD_NOT_FOUND;
        return 0;
    }
    if (rc == 0)
        rc = pc_store_task_get(ctx->db, o->task_id, false, &t);
    if (rc)
        return rc;
    *outcome = pc_order_photo_rule(o, &t, &replace);
    if (*outcome != PC_UPLOAD_OK)
        return 0;
    rc = pc_student_work(ctx->db, ctx->cfg, u->id, PC_WORK_PHOTO_UPLOAD, retry_after_s);
    if (rc == 0)
        rc = pc_image_work_begin(ctx->cfg);
    if (rc)
        return rc; /* PC_ELIMIT: 429; PC_EBUSY: 503 */
    struct pc_photo_opts opts = {.standardise = true,
                                 .max_pixels = (long)ctx->cfg->photo_max_pixels};
    pc_photo_process(data, len, &opts, res);
    pc_image_gate_leave();
    if (res->ok) {
        rc = pc_photo_duplicate_checks(ctx->db, o->task_id, o->student_no, res);
        if (rc)
            return rc;
    }
    if (!res->ok || !res->jpeg) {
        *outcome = PC_UPLOAD_CHECKS_FAILED;
        return 0;
    }
    /* Durable before acknowledged: both files are on disk (fsynced, renamed, directory
     * fsynced) before the transaction that refers to them commits. */
    char osha[PC_SHA256_HEXLEN], nsha[PC_SHA256_HEXLEN], orel[160], nrel[160];
    struct pc_image_info info;
    const char *ext = pc_image_probe(data, len, &info) == 0 ? info.ext : "bin";
    /* The original is kept without its metadata (GPS, device, times: base/imgmeta.h); a file
     * whose structure cannot be walked keeps only its standard picture. */
    unsigned char *clean = NULL;
    size_t clean_len = 0;
    if (pc_image_strip_metadata(data, len, &clean, &clean_len)) {
        pc_log(PC_LOG_WARN,
               "photo metadata could not be stripped; the standard file stands in "
               "for the original",
               PC_LS("order_no", order_no));
        rc = put_addressed(ctx->cfg, "original", res->jpeg, res->jpeg_len, "jpg", osha, orel,
                           sizeof orel);
    } else {
        rc = put_addressed(ctx->cfg, "original", clean, clean_len, ext, osha, orel, sizeof orel);
    }
    free(clean);
    if (rc == 0)
        rc = put_addressed(ctx->cfg, "standard", res->jpeg, res->jpeg_len, "jpg", nsha, nrel,
                           sizeof nrel);
    if (rc)
        return rc;
    cJSON *checks = pc_photo_checks_json(res);
    char *checks_json = cJSON_PrintUnformatted(checks);
    cJSON_Delete(checks);
    struct pc_store_photo p = {.user_id = u->id,
                               .student_no = o->student_no,
                               .original_path = orel,
                               .normalized_path = nrel,
                               .original_sha256 = osha,
                               .normalized_sha256 = nsha,
                               .normalized_bytes = res->jpeg_len,
                               .quality = res->quality,
                               .phash = res->phash,
                               .width = res->width,
                               .height = res->height,
                               .checks_json = checks_json};
    char no[33];
    snprintf(no, sizeof no, "%s", order_no);
    /* The state is checked again under the row lock: it may have moved meanwhile. */
    rc = replace ? pc_order_photo_replaced(ctx->db, u, no, &p, outcome, o)
                 : pc_order_photo_accepted(ctx->db, u, no, &p, outcome, o);
    free(checks_json);
    return rc;
}

int pc_order_photo_read_staff(struct pc_ctx *ctx, const struct pc_staff_auth *by,
                              const struct pc_order *o, bool original, const char *ip,
                              const char *request_id, char **data, size_t *len, bool *png)
{
    *data = NULL;
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "order_no", o->order_no);
    cJSON_AddStringToObject(d, "student_no", o->student_no);
    cJSON_AddStringToObject(d, "variant", original ? "original" : "normalized");
    int rc = pc_staff_audit(ctx->db, by, o->school_id, "order.photo_read", "order", o->id, d, ip,
                            request_id);
    cJSON_Delete(d);
    return rc ? rc : pc_order_photo_read(ctx, o, original, data, len, png);
}

int pc_order_photo_read(struct pc_ctx *ctx, const struct pc_order *o, bool original, char **data,
                        size_t *len, bool *png)
{
    char orig[256], norm[256];
    *data = NULL;
    int rc = pc_store_photo_paths(ctx->db, o->id, orig, norm);
    if (rc)
        return rc;
    const char *path = original ? orig : norm;
    size_t pl = strlen(path);
    *png = pl > 4 && !strcmp(path + pl - 4, ".png");
    return pc_storage_get(ctx->cfg, path, (size_t)ctx->cfg->photo_max_bytes + 1, data, len);
}
