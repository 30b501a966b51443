/* store/photos.c — SQL for stored photos and perceptual-hash lookups (store/photos.h). */
#include "store/photos.h"

#include "base/alloc.h"
#include "base/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char SQL_UNSET_CURRENT[] =
    "UPDATE photos SET is_current = 0 WHERE order_id = ? AND is_current = 1";
static const char SQL_INSERT[] =
    "INSERT INTO photos (order_id, user_id, student_no, original_path, normalized_path, "
    "original_sha256, normalized_sha256, normalized_bytes, quality, phash, width, height, checks, "
    "is_current) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)";
static const char SQL_PATHS[] =
    "SELECT original_path, normalized_path FROM photos WHERE current_key = ?";
static const char SQL_CHECKS[] = "SELECT checks FROM photos WHERE current_key = ?";
/* phash is stored as the signed image of the unsigned 64 bits; XOR and BIT_COUNT work on the
 * bits either way. */
static const char SQL_SIMILAR[] =
    "SELECT student_no FROM photos WHERE is_current = 1 AND student_no <> ? AND "
    "BIT_COUNT(phash ^ CAST(? AS UNSIGNED)) <= ? LIMIT 1";

int pc_store_photo_insert(struct pc_db *db, const struct pc_store_photo *p, int64_t *id)
{
    int rc = pc_db_exec(db, SQL_UNSET_CURRENT, PC_DB_ARGS(pc_db_i64(p->order_id)), NULL, NULL);
    if (rc)
        return rc;
    char ph[24];
    snprintf(ph, sizeof ph, "%llu", (unsigned long long)p->phash);
    uint64_t iid = 0;
    rc = pc_db_exec(
        db, SQL_INSERT,
        PC_DB_ARGS(pc_db_i64(p->order_id), pc_db_i64(p->user_id), pc_db_str(p->student_no),
                   pc_db_str(p->original_path), pc_db_str(p->normalized_path),
                   pc_db_str(p->original_sha256), pc_db_str(p->normalized_sha256),
                   pc_db_i64((int64_t)p->normalized_bytes), pc_db_i64(p->quality), pc_db_str(ph),
                   pc_db_i64(p->width), pc_db_i64(p->height), pc_db_str(p->checks_json)),
        NULL, &iid);
    if (rc == 0 && id)
        *id = (int64_t)iid;
    return rc;
}

struct paths {
    char original[256], normalized[256];
};

static void paths_row(const struct pc_db_res *res, size_t r, void *out)
{
    struct paths *p = out;
    pc_db_res_copy(res, r, 0, p->original, sizeof p->original);
    pc_db_res_copy(res, r, 1, p->normalized, sizeof p->normalized);
}

int pc_store_photo_paths(struct pc_db *db, int64_t order_id, char original[256],
                         char normalized[256])
{
    struct paths p;
    int rc = pc_db_query_one(db, SQL_PATHS, PC_DB_ARGS(pc_db_i64(order_id)), paths_row, &p);
    if (rc == 0) {
        snprintf(original, 256, "%s", p.original);
        snprintf(normalized, 256, "%s", p.normalized);
    }
    return rc;
}

static void student_no_row(const struct pc_db_res *res, size_t r, void *out)
{
    pc_db_res_copy(res, r, 0, out, 33);
}

int pc_store_photo_similar(struct pc_db *db, const char *student_no, uint64_t phash, int max_dist,
                           char other[33])
{
    char ph[24];
    snprintf(ph, sizeof ph, "%llu", (unsigned long long)phash);
    return pc_db_query_one(db, SQL_SIMILAR,
                           PC_DB_ARGS(pc_db_str(student_no), pc_db_str(ph), pc_db_i64(max_dist)),
                           student_no_row, other);
}

int pc_store_photo_checks(struct pc_db *db, int64_t order_id, char **json)
{
    struct pc_db_res *res = NULL;
    *json = NULL;
    int rc = pc_db_query(db, SQL_CHECKS, PC_DB_ARGS(pc_db_i64(order_id)), &res);
    if (rc)
        return rc;
    const char *v = pc_db_res_rows(res) ? pc_db_res_str(res, 0, 0) : NULL;
    rc = v ? 0 : PC_ENOTFOUND;
    if (v)
        *json = pc_xstrdup(v);
    pc_db_res_free(res);
    return rc;
}
