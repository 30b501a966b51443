/* store/photos.h — the photos of orders (table photos): every stored upload, one of them the
 * order's current photo. Owned by orders/ (uploads, duplicate rules, the files a student or a
 * reviewer reads). Worker thread. */
#ifndef PC_STORE_PHOTOS_H
#define PC_STORE_PHOTOS_H

#include "store/db.h"

#include <stddef.h>
#include <stdint.h>

struct pc_store_photo {
    int64_t order_id;
    int64_t user_id;
    const char *student_no;
    const char *original_path;
    const char *normalized_path;
    const char *original_sha256;
    const char *normalized_sha256;
    size_t normalized_bytes;
    int quality;
    uint64_t phash;
    int width, height;
    const char *checks_json;
};
/* Makes p the order's current photo (the previous one stays, no longer current); *id (may be
 * NULL) receives its id. Returns 0 or a store error. */
int pc_store_photo_insert(struct pc_db *db, const struct pc_store_photo *p, int64_t *id);
/* Storage paths of the order's current photo. Returns 0, PC_ENOTFOUND or a store error. */
int pc_store_photo_paths(struct pc_db *db, int64_t order_id, char original[256],
                         char normalized[256]);
/* The check results of the order's current photo as JSON text into *json (pc_xstrdup: the
 * caller frees it). Returns 0, PC_ENOTFOUND or a store error. */
int pc_store_photo_checks(struct pc_db *db, int64_t order_id, char **json);
/* Another student's current photo within max_dist (Hamming) of phash: their student_no into
 * other. Returns 0, PC_ENOTFOUND (none) or a store error. */
int pc_store_photo_similar(struct pc_db *db, const char *student_no, uint64_t phash, int max_dist,
                           char other[33]);

#endif
