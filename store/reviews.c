/* store/reviews.c — SQL for review decisions (the outbox is in payments.c). */
#include "store/store.h"

#include "base/err.h"

static const char SQL_REVIEW_INSERT[] =
    "INSERT INTO reviews (order_id, photo_id, reviewer_id, decision, reason_code, reason, note) "
    "VALUES (?, (SELECT p.id FROM photos p WHERE p.current_key = ?), ?, ?, ?, ?, ?)";
static const char SQL_ORDER_REVIEWED[] =
    "UPDATE orders SET status = IF(? = 1, 'approved', 'rejected'), "
    "editable_until = IF(? = 1, NULL, UTC_TIMESTAMP(3) + INTERVAL ? DAY), "
    "version = version + 1, updated_at = UTC_TIMESTAMP(3) "
    "WHERE id = ? AND status = 'pending_review'";

int pc_store_review_insert(struct pc_db *db, int64_t order_id, int64_t reviewer_id,
                           const char *decision, const char *reason_code, const char *reason,
                           const char *note, int64_t *review_id)
{
    uint64_t id = 0;
    int rc = pc_db_exec(db, SQL_REVIEW_INSERT,
                        PC_DB_ARGS(pc_db_i64(order_id), pc_db_i64(order_id), pc_db_i64(reviewer_id),
                                   pc_db_str(decision), pc_db_str(reason_code), pc_db_str(reason),
                                   pc_db_str(note)),
                        NULL, &id);
    if (rc == 0 && review_id)
        *review_id = (int64_t)id;
    return rc;
}

int pc_store_order_reviewed(struct pc_db *db, int64_t order_id, bool approved, int edit_days)
{
    uint64_t n = 0;
    int rc = pc_db_exec(db, SQL_ORDER_REVIEWED,
                        PC_DB_ARGS(pc_db_i64(approved), pc_db_i64(approved), pc_db_i64(edit_days),
                                   pc_db_i64(order_id)),
                        &n, NULL);
    return rc ? rc : n ? 0 : PC_ECONFLICT;
}
