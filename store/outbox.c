/* store/outbox.c — SQL for the outbox and subscription consents (store/outbox.h). */
#include "store/outbox.h"

#include "base/alloc.h"
#include "base/err.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CONSENTS 100 /* per user and template: more "accept" taps than messages we send */

static const char SQL_OUTBOX_INSERT[] =
    "INSERT INTO outbox (kind, dedupe_key, payload) VALUES (?, ?, ?)";
static const char SQL_OUTBOX_INSERT_DONE[] =
    "INSERT INTO outbox (kind, dedupe_key, payload, state, sent_via, sent_at, last_error) "
    "VALUES (?, ?, ?, 'done', 'none', UTC_TIMESTAMP(3), ?)";
static const char SQL_CONSENT_ADD[] =
    "INSERT INTO subscription_consents (user_id, template_id, remaining, accepted_total, "
    "last_result) VALUES (?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE "
    "remaining = LEAST(remaining + VALUES(remaining), ?), "
    "accepted_total = accepted_total + VALUES(accepted_total), "
    "last_result = VALUES(last_result), updated_at = UTC_TIMESTAMP(3)";
static const char SQL_CONSENT_GET[] =
    "SELECT remaining FROM subscription_consents WHERE user_id = ? AND template_id = ?";
static const char SQL_CONSENT_TAKE[] =
    "UPDATE subscription_consents SET remaining = remaining - 1, updated_at = UTC_TIMESTAMP(3) "
    "WHERE user_id = ? AND template_id = ? AND remaining > 0";
static const char SQL_CONSENT_CLEAR[] =
    "UPDATE subscription_consents SET remaining = 0, last_result = 'refused', "
    "updated_at = UTC_TIMESTAMP(3) WHERE user_id = ? AND template_id = ?";

/* Due messages, and claimed ones whose worker's lease ran out: each part read in the order of
 * ix_outbox_due (state, next_try_at, id), so a claim reads about LIMIT index entries however long
 * the backlog (one OR across both states read and sorted every due row: 24 ms a claim at 12,000
 * pending). */
#define OUTBOX_DUE_KINDS "kind IN ('order.paid', 'student.notice', 'sms.login_code') "
#define OUTBOX_DUE_ORDER "ORDER BY next_try_at, id LIMIT ? FOR UPDATE SKIP LOCKED"
static const char SQL_OUTBOX_DUE[] =
    "(SELECT id, next_try_at, kind FROM outbox WHERE state = 'pending' AND "
    "next_try_at <= UTC_TIMESTAMP(3) AND " OUTBOX_DUE_KINDS OUTBOX_DUE_ORDER ") UNION ALL "
    "(SELECT id, next_try_at, kind FROM outbox WHERE state = 'running' AND "
    "locked_until < UTC_TIMESTAMP(3) AND " OUTBOX_DUE_KINDS OUTBOX_DUE_ORDER ") "
    "ORDER BY next_try_at, id LIMIT ?";
static const char SQL_OUTBOX_CLAIM[] =
    "UPDATE outbox SET state = 'running', attempts = attempts + 1, claimed_by = ?, "
    "locked_until = UTC_TIMESTAMP(3) + INTERVAL ? SECOND, updated_at = UTC_TIMESTAMP(3) "
    "WHERE id = ?";
/* A claimed message with nothing to send, finished in the claim (docs/notify.md). */
static const char SQL_OUTBOX_MUTE[] =
    "UPDATE outbox SET state = 'done', attempts = attempts + 1, claimed_by = ?, sent_via = 'none', "
    "sent_at = UTC_TIMESTAMP(3), locked_until = NULL, last_error = ?, updated_at = "
    "UTC_TIMESTAMP(3) "
    "WHERE id = ?";
#define OUTBOX_COLS                                                                                \
    "SELECT id, kind, payload, attempts, state, COALESCE(last_error, ''), next_try_at, "           \
    "created_at, COALESCE(sent_via, ''), sent_at FROM outbox "
static const char SQL_OUTBOX_MINE[] =
    OUTBOX_COLS "WHERE state = 'running' AND claimed_by = ? AND locked_until > UTC_TIMESTAMP(3) "
                "ORDER BY next_try_at, id LIMIT ?";
static const char SQL_OUTBOX_LIST[] =
    OUTBOX_COLS "WHERE (? IS NULL OR state = ?) AND id < ? ORDER BY id DESC LIMIT ?";
static const char SQL_OUTBOX_ONE[] = OUTBOX_COLS "WHERE id = ?";
static const char SQL_OUTBOX_DONE[] =
    "UPDATE outbox SET state = 'done', sent_via = ?, sent_at = UTC_TIMESTAMP(3), "
    "locked_until = NULL, last_error = ?, updated_at = UTC_TIMESTAMP(3) "
    "WHERE id = ? AND claimed_by = ? AND state = 'running'";
static const char SQL_OUTBOX_RETRY[] =
    "UPDATE outbox SET state = IF(attempts >= ?, 'dead', 'pending'), "
    "next_try_at = UTC_TIMESTAMP(3) + INTERVAL ? * 1000 MICROSECOND, locked_until = NULL, "
    "last_error = ?, updated_at = UTC_TIMESTAMP(3) "
    "WHERE id = ? AND claimed_by = ? AND state = 'running'";
/* Extends the live claims of holder; the one about to be delivered must be among them. */
static const char SQL_OUTBOX_RENEW[] =
    "UPDATE outbox SET locked_until = UTC_TIMESTAMP(3) + INTERVAL ? SECOND WHERE claimed_by = ? "
    "AND state = 'running' AND locked_until > UTC_TIMESTAMP(3)";
static const char SQL_OUTBOX_STILL_MINE[] =
    "SELECT 1 FROM outbox WHERE id = ? AND claimed_by = ? AND state = 'running' AND "
    "locked_until > UTC_TIMESTAMP(3)";
static const char SQL_OUTBOX_REQUEUE[] =
    "UPDATE outbox SET state = 'pending', attempts = 0, next_try_at = UTC_TIMESTAMP(3), "
    "updated_at = UTC_TIMESTAMP(3) WHERE id = ? AND state = 'dead'";

int pc_store_consent_add(struct pc_db *db, int64_t user_id, const char *template_id, int accepted,
                         const char *result)
{
    return pc_db_exec(db, SQL_CONSENT_ADD,
                      PC_DB_ARGS(pc_db_i64(user_id), pc_db_str(template_id), pc_db_i64(accepted),
                                 pc_db_i64(accepted), pc_db_str(result), pc_db_i64(MAX_CONSENTS)),
                      NULL, NULL);
}

int pc_store_consent_remaining(struct pc_db *db, int64_t user_id, const char *template_id,
                               int *remaining)
{
    struct pc_db_res *res = NULL;
    *remaining = 0;
    int rc = pc_db_query(db, SQL_CONSENT_GET,
                         PC_DB_ARGS(pc_db_i64(user_id), pc_db_str(template_id)), &res);
    if (rc == 0 && pc_db_res_rows(res))
        *remaining = (int)pc_db_res_i64(res, 0, 0);
    pc_db_res_free(res);
    return rc;
}

int pc_store_consent_take(struct pc_db *db, int64_t user_id, const char *template_id)
{
    return pc_db_exec(db, SQL_CONSENT_TAKE, PC_DB_ARGS(pc_db_i64(user_id), pc_db_str(template_id)),
                      NULL, NULL);
}

int pc_store_consent_clear(struct pc_db *db, int64_t user_id, const char *template_id)
{
    return pc_db_exec(db, SQL_CONSENT_CLEAR, PC_DB_ARGS(pc_db_i64(user_id), pc_db_str(template_id)),
                      NULL, NULL);
}

int pc_store_outbox_insert(struct pc_db *db, const char *kind, const char *dedupe_key,
                           const cJSON *payload)
{
    char *json = cJSON_PrintUnformatted(payload);
    int rc =
        pc_db_exec(db, SQL_OUTBOX_INSERT,
                   PC_DB_ARGS(pc_db_str(kind), pc_db_str(dedupe_key), pc_db_str(json)), NULL, NULL);
    free(json);
    return rc;
}

int pc_store_outbox_insert_many(struct pc_db *db, const char *kind, const char *const *dedupe_keys,
                                const cJSON *const *payloads, const char *done_note, size_t n)
{
    size_t cols = done_note ? 4 : 3;
    struct pc_db_arg *v = pc_xcalloc(n ? n * cols : 1, sizeof *v);
    char **json = pc_xcalloc(n ? n : 1, sizeof *json);
    for (size_t i = 0; i < n; i++) {
        json[i] = cJSON_PrintUnformatted(payloads[i]);
        v[i * cols] = pc_db_str(kind);
        v[i * cols + 1] = pc_db_str(dedupe_keys[i]);
        v[i * cols + 2] = pc_db_str(json[i]);
        if (done_note)
            v[i * cols + 3] = pc_db_str(done_note);
    }
    int rc = pc_db_exec_bulk(db, done_note ? SQL_OUTBOX_INSERT_DONE : SQL_OUTBOX_INSERT, v, cols, n,
                             NULL);
    for (size_t i = 0; i < n; i++)
        free(json[i]);
    free(json);
    free(v);
    return rc;
}

static void msg_row(const struct pc_db_res *res, size_t r, void *out)
{
    struct pc_outbox_msg *m = out;
    memset(m, 0, sizeof *m);
    m->id = pc_db_res_i64(res, r, 0);
    pc_db_res_copy(res, r, 1, m->kind, sizeof m->kind);
    const char *p = pc_db_res_str(res, r, 2);
    m->payload = pc_xstrdup(p ? p : "{}");
    m->attempts = (int)pc_db_res_i64(res, r, 3);
    pc_db_res_copy(res, r, 4, m->state, sizeof m->state);
    pc_db_res_copy(res, r, 5, m->last_error, sizeof m->last_error);
    pc_db_res_copy(res, r, 6, m->next_try_at, sizeof m->next_try_at);
    pc_db_res_copy(res, r, 7, m->created_at, sizeof m->created_at);
    pc_db_res_copy(res, r, 8, m->sent_via, sizeof m->sent_via);
    pc_db_res_copy(res, r, 9, m->sent_at, sizeof m->sent_at);
}

static int msgs_query(struct pc_db *db, const char *sql, const struct pc_db_arg *args, size_t nargs,
                      struct pc_outbox_msg **out, size_t *n)
{
    void *a = NULL;
    int rc = pc_db_query_all(db, sql, args, nargs, sizeof **out, msg_row, &a, n);
    *out = a;
    return rc;
}

void pc_store_outbox_msgs_free(struct pc_outbox_msg *m, size_t n)
{
    for (size_t i = 0; m && i < n; i++)
        free(m[i].payload);
    free(m);
}

struct claim_args {
    const char *holder;
    int lease_s, limit;
    const char *mute_kind, *mute_note;
    struct pc_outbox_msg **out;
    size_t *n, *muted;
};

/* Runs sql (holder, then value, then id) for the rows of res whose kind is (or, with
 * !of_kind, is not) kind, in one bulk execution; *count receives how many. */
static int claim_rows(struct pc_db *db, const char *sql, const struct pc_db_res *res,
                      const char *kind, bool of_kind, const char *holder, struct pc_db_arg value,
                      size_t *count)
{
    size_t n = pc_db_res_rows(res), k = 0;
    struct pc_db_arg *v = pc_xcalloc(n ? n * 3 : 1, sizeof *v);
    for (size_t i = 0; i < n; i++) {
        const char *kd = pc_db_res_str(res, i, 2);
        if ((kind && kd && !strcmp(kd, kind)) != of_kind)
            continue;
        v[k * 3] = pc_db_str(holder);
        v[k * 3 + 1] = value;
        v[k * 3 + 2] = pc_db_i64(pc_db_res_i64(res, i, 0));
        k++;
    }
    int rc = k ? pc_db_exec_bulk(db, sql, v, 3, k, NULL) : 0;
    free(v);
    *count = rc ? 0 : k;
    return rc;
}

static int claim_tx(struct pc_db *db, void *arg)
{
    struct claim_args *a = arg;
    struct pc_db_res *res = NULL;
    size_t claimed = 0;
    int rc = pc_db_query(db, SQL_OUTBOX_DUE,
                         PC_DB_ARGS(pc_db_i64(a->limit), pc_db_i64(a->limit), pc_db_i64(a->limit)),
                         &res);
    if (rc == 0) /* every claim in one round trip, every muted message in another */
        rc = claim_rows(db, SQL_OUTBOX_CLAIM, res, a->mute_kind, false, a->holder,
                        pc_db_i64(a->lease_s), &claimed);
    if (rc == 0)
        rc = claim_rows(db, SQL_OUTBOX_MUTE, res, a->mute_kind, true, a->holder,
                        pc_db_str(a->mute_note), a->muted);
    pc_db_res_free(res);
    if (rc == 0 && claimed)
        rc = msgs_query(db, SQL_OUTBOX_MINE, PC_DB_ARGS(pc_db_str(a->holder), pc_db_i64(a->limit)),
                        a->out, a->n);
    return rc;
}

int pc_store_outbox_claim(struct pc_db *db, const char *holder, int lease_s, int limit,
                          const char *mute_kind, const char *mute_note, struct pc_outbox_msg **out,
                          size_t *n, size_t *muted)
{
    struct claim_args a = {holder, lease_s, limit, mute_kind, mute_note, out, n, muted};
    *out = NULL;
    *n = 0;
    *muted = 0;
    int rc = pc_db_tx(db, claim_tx, &a);
    if (rc) {
        pc_store_outbox_msgs_free(*out, *n);
        *out = NULL;
        *n = 0;
        *muted = 0;
    }
    return rc;
}

int pc_store_outbox_done(struct pc_db *db, int64_t id, const char *holder, const char *via,
                         const char *note)
{
    return pc_db_exec(db, SQL_OUTBOX_DONE,
                      PC_DB_ARGS(pc_db_str(via), pc_db_str(note), pc_db_i64(id), pc_db_str(holder)),
                      NULL, NULL);
}

struct done_args {
    const int64_t *ids;
    const char *holder, *via;
    const char *const *notes;
    size_t n;
};

static int done_many_tx(struct pc_db *db, void *arg)
{
    const struct done_args *a = arg;
    struct pc_db_arg *v = pc_xcalloc(a->n * 4, sizeof *v);
    for (size_t i = 0; i < a->n; i++) {
        v[i * 4] = pc_db_str(a->via);
        v[i * 4 + 1] = pc_db_str(a->notes[i]);
        v[i * 4 + 2] = pc_db_i64(a->ids[i]);
        v[i * 4 + 3] = pc_db_str(a->holder);
    }
    int rc = pc_db_exec_bulk(db, SQL_OUTBOX_DONE, v, 4, a->n, NULL);
    free(v);
    return rc;
}

int pc_store_outbox_done_many(struct pc_db *db, const int64_t *ids, const char *holder,
                              const char *via, const char *const *notes, size_t n)
{
    struct done_args a = {ids, holder, via, notes, n};
    return n ? pc_db_tx(db, done_many_tx, &a) : 0;
}

int pc_store_outbox_retry(struct pc_db *db, int64_t id, const char *holder, int max_attempts,
                          int64_t delay_ms, const char *error)
{
    return pc_db_exec(db, SQL_OUTBOX_RETRY,
                      PC_DB_ARGS(pc_db_i64(max_attempts), pc_db_i64(delay_ms), pc_db_str(error),
                                 pc_db_i64(id), pc_db_str(holder)),
                      NULL, NULL);
}

int pc_store_outbox_list(struct pc_db *db, const char *state, int64_t before_id, int limit,
                         struct pc_outbox_msg **out, size_t *n)
{
    return msgs_query(db, SQL_OUTBOX_LIST,
                      PC_DB_ARGS(pc_db_str(state), pc_db_str(state),
                                 pc_db_i64(before_id > 0 ? before_id : INT64_MAX),
                                 pc_db_i64(limit)),
                      out, n);
}

static const char SQL_OUTBOX_BACKLOG[] =
    "SELECT CAST(COALESCE(SUM(state = 'pending' AND next_try_at <= UTC_TIMESTAMP(3)), 0) AS "
    "SIGNED), "
    "CAST(COALESCE(SUM(state = 'pending' AND next_try_at > UTC_TIMESTAMP(3)), 0) AS SIGNED), "
    "CAST(COALESCE(SUM(state = 'running'), 0) AS SIGNED), "
    "CAST(COALESCE(SUM(state = 'dead'), 0) AS SIGNED), "
    "CAST(COALESCE(TIMESTAMPDIFF(SECOND, MIN(IF(state = 'pending' AND next_try_at <= "
    "UTC_TIMESTAMP(3), next_try_at, NULL)), UTC_TIMESTAMP(3)), 0) AS SIGNED) "
    "FROM outbox WHERE state IN ('pending', 'running', 'dead')";

static void backlog_row(const struct pc_db_res *res, size_t r, void *out)
{
    struct pc_outbox_backlog *b = out;
    b->due = pc_db_res_i64(res, r, 0);
    b->waiting = pc_db_res_i64(res, r, 1);
    b->running = pc_db_res_i64(res, r, 2);
    b->dead = pc_db_res_i64(res, r, 3);
    b->oldest_due_s = pc_db_res_i64(res, r, 4);
}

int pc_store_outbox_backlog(struct pc_db *db, struct pc_outbox_backlog *out)
{
    memset(out, 0, sizeof *out);
    return pc_db_query_one(db, SQL_OUTBOX_BACKLOG, NULL, 0, backlog_row, out);
}

int pc_store_outbox_get(struct pc_db *db, int64_t id, struct pc_outbox_msg *out)
{
    return pc_db_query_one(db, SQL_OUTBOX_ONE, PC_DB_ARGS(pc_db_i64(id)), msg_row, out);
}

int pc_store_outbox_requeue(struct pc_db *db, int64_t id)
{
    uint64_t n = 0;
    int rc = pc_db_exec(db, SQL_OUTBOX_REQUEUE, PC_DB_ARGS(pc_db_i64(id)), &n, NULL);
    return rc ? rc : n ? 0 : PC_ECONFLICT;
}

int pc_store_outbox_renew(struct pc_db *db, int64_t id, const char *holder, int lease_s, bool *mine)
{
    *mine = false;
    int rc = pc_db_exec(db, SQL_OUTBOX_RENEW, PC_DB_ARGS(pc_db_i64(lease_s), pc_db_str(holder)),
                        NULL, NULL);
    struct pc_db_res *res = NULL;
    if (rc == 0)
        rc = pc_db_query(db, SQL_OUTBOX_STILL_MINE, PC_DB_ARGS(pc_db_i64(id), pc_db_str(holder)),
                         &res);
    if (rc == 0)
        *mine = pc_db_res_rows(res) == 1;
    pc_db_res_free(res);
    return rc;
}
