/* payment/apply.c — a successful payment applied once: checked against its order, recorded,
 * and handed to orders/ for the order's change; SQL in store/payments.c. */
#include "payment/apply.h"

#include "base/err.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "config/config.h"
#include "orders/state.h"
#include "store/payments.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* An integer JSON number, or -1. */
static int64_t integer(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) && v->valuedouble == (double)(int64_t)v->valuedouble
               ? (int64_t)v->valuedouble
               : -1;
}

/* What a transaction says, read once. */
struct tx_fields {
    const char *out_trade_no, *transaction_id, *state, *openid, *appid, *mchid;
    int64_t total, payer_total;
    bool native;      /* trade_type NATIVE: paid by scanning the PC page's QR code */
    char paid_at[32]; /* success_time as a UTC DATETIME (now when absent or unreadable) */
};

static void tx_read(const cJSON *tx, struct tx_fields *f)
{
    const cJSON *amount = cJSON_GetObjectItemCaseSensitive(tx, "amount");
    const cJSON *payer = cJSON_GetObjectItemCaseSensitive(tx, "payer");
    f->out_trade_no = str(tx, "out_trade_no");
    f->transaction_id = str(tx, "transaction_id");
    f->state = str(tx, "trade_state");
    f->openid = str(payer, "openid");
    f->appid = str(tx, "appid");
    f->mchid = str(tx, "mchid");
    f->total = integer(amount, "total");
    f->payer_total = integer(amount, "payer_total");
    const char *trade_type = str(tx, "trade_type");
    f->native = trade_type && !strcmp(trade_type, "NATIVE");
    int64_t t;
    const char *st = str(tx, "success_time");
    if (st && pc_time_parse_rfc3339(st, &t) == 0)
        pc_time_format_db(t, f->paid_at, sizeof f->paid_at);
    else
        pc_time_format_db(pc_time_now_ms() / 1000, f->paid_at, sizeof f->paid_at);
}

/* The money must be ours: our app and merchant, an order number, a transaction. Whether it is
 * the order's own (its amount, its payer: any payer for a Native payment) the order decides
 * under its row lock (pc_order_paid, pc_orders_paid_many: orders/state.h). */
static bool tx_ours(const struct tx_fields *f, const struct pc_config *cfg)
{
    return f->out_trade_no && f->transaction_id && f->appid &&
           strcmp(f->appid, cfg->wx_appid) == 0 && f->mchid &&
           strcmp(f->mchid, cfg->pay_mchid) == 0;
}

/* The payment as the order sees it (orders/state.h); points into f. */
static struct pc_order_payment order_payment(const struct tx_fields *f, const char *source,
                                             const struct pc_config *cfg)
{
    return (struct pc_order_payment){.unsent = !pc_config_can_notify(cfg, "paid"),
                                     .transaction_id = f->transaction_id,
                                     .amount_fen = f->total,
                                     .payer_openid = f->openid,
                                     .native = f->native,
                                     .paid_at = f->paid_at,
                                     .source = source};
}

/* The payment row of f for order o, as the order decided (applied or refund_due). */
static struct pc_store_payment payment_row(const struct tx_fields *f, const struct pc_order *o,
                                           const char *source, bool applied, const char *raw)
{
    return (struct pc_store_payment){.order_id = o->id,
                                     .out_trade_no = f->out_trade_no,
                                     .transaction_id = f->transaction_id,
                                     .amount_fen = f->total,
                                     .payer_total_fen =
                                         f->payer_total >= 0 ? f->payer_total : f->total,
                                     .payer_openid = f->openid,
                                     .trade_state = f->state,
                                     .success_time = f->paid_at,
                                     .source = source,
                                     .disposition = applied ? "applied" : "refund_due",
                                     .raw = raw};
}

struct apply_args {
    const struct pc_config *cfg;
    const char *notify_id, *event_type, *source;
    const cJSON *tx;
    enum pc_apply_result *result;
};

/* A transaction that is not this order's (or not ours): logged, nothing written. */
static int mismatch(struct apply_args *a, const char *out_trade_no)
{
    pc_log(PC_LOG_WARN, "payment does not match the order",
           PC_LS("out_trade_no", out_trade_no ? out_trade_no : ""), PC_LS("source", a->source));
    *a->result = PC_APPLY_INCONSISTENT;
    return PC_ECONFLICT; /* roll back the notification id too */
}

static int apply_tx(struct pc_db *db, void *arg)
{
    struct apply_args *a = arg;
    struct tx_fields f;
    tx_read(a->tx, &f);
    if (a->notify_id) {
        int rc = pc_store_notification_insert(db, a->notify_id, a->event_type, f.out_trade_no,
                                              "received");
        if (rc == PC_EEXIST) {
            *a->result = PC_APPLY_DUPLICATE;
            return 0;
        }
        if (rc)
            return rc;
    }
    if (!f.state || strcmp(f.state, "SUCCESS") != 0) {
        *a->result = PC_APPLY_NOT_SUCCESS;
        return 0;
    }
    if (!tx_ours(&f, a->cfg))
        return mismatch(a, f.out_trade_no);
    int64_t recorded_fen, school_id, task_id;
    char recorded_no[33];
    int rc = pc_store_payment_by_tx(db, f.transaction_id, &recorded_fen, recorded_no, &school_id,
                                    &task_id);
    if (rc == 0) { /* this transaction was applied before (another path) */
        *a->result = PC_APPLY_DUPLICATE;
        return 0;
    }
    if (rc != PC_ENOTFOUND)
        return rc;

    /* Where the money goes (orders/state.h): to the order when it can take it; otherwise it is
     * kept for a refund decision (duplicate payments are not refunded automatically). The
     * payment row records what the order decided, in the same transaction. */
    struct pc_order_payment p = order_payment(&f, a->source, a->cfg);
    struct pc_order o;
    enum pc_paid_outcome paid;
    rc = pc_order_paid(db, f.out_trade_no, &p, &paid, &o);
    if (rc == 0 && (paid == PC_PAID_NOT_FOUND || paid == PC_PAID_NOT_ITS_OWN))
        return mismatch(a, f.out_trade_no);
    if (rc == 0 && paid == PC_PAID_WRONG_STATE)
        rc = pc_order_refund_due(db, f.out_trade_no, &p, &o);
    if (rc == PC_EEXIST) /* its records exist: recorded meanwhile by another path; start over */
        return PC_ERETRY;
    if (rc)
        return rc;
    char *raw = cJSON_PrintUnformatted(a->tx);
    struct pc_store_payment row = payment_row(&f, &o, a->source, paid == PC_PAID_OK, raw);
    rc = pc_store_payment_insert(db, &row);
    free(raw);
    if (rc == PC_EEXIST) /* recorded meanwhile by another path: start over, and see it */
        return PC_ERETRY;
    *a->result = paid == PC_PAID_OK ? PC_APPLY_APPLIED : PC_APPLY_REFUND_DUE;
    return rc;
}

int pc_payment_apply(struct pc_db *db, const struct pc_config *cfg, const char *notify_id,
                     const char *event_type, const cJSON *tx, const char *source,
                     enum pc_apply_result *result)
{
    struct apply_args a = {cfg, notify_id, event_type, source, tx, result};
    *result = PC_APPLY_INCONSISTENT;
    int rc = pc_db_tx(db, apply_tx, &a);
    if (rc == PC_ECONFLICT && *result == PC_APPLY_INCONSISTENT)
        return 0;
    return rc;
}

/* ---- many at once ---- */

enum item_way { WAY_OPEN = 0, WAY_DONE, WAY_ALONE };

struct batch {
    struct pc_apply_item *items;
    size_t n;
    enum item_way *way;
    struct tx_fields *f;
};

/* Reads every item; those that cannot be plain new successful payments go alone. */
static void batch_read(struct batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        struct tx_fields *f = &b->f[i];
        tx_read(b->items[i].tx, f);
        if (!b->items[i].notify_id || !f->out_trade_no || !f->transaction_id || !f->state ||
            strcmp(f->state, "SUCCESS") != 0 || strlen(f->out_trade_no) > 32 ||
            strcmp(b->items[i].event_type, b->items[0].event_type) != 0)
            b->way[i] = WAY_ALONE;
    }
}

/* Notification ids recorded before are answered now: their rows are committed, so what they
 * recorded is durable. One statement for the whole group, outside any transaction. */
static int batch_seen(struct pc_db *db, struct batch *b)
{
    const char *ids[PC_DB_IN_MAX] = {0};
    bool known[PC_DB_IN_MAX] = {0};
    size_t k = 0;
    for (size_t i = 0; i < b->n; i++)
        if (b->items[i].notify_id)
            ids[k++] = b->items[i].notify_id;
    int rc = pc_store_notifications_known(db, ids, k, known);
    for (size_t i = 0, j = 0; i < b->n && rc == 0; i++) {
        if (!b->items[i].notify_id)
            continue;
        if (known[j++]) {
            b->items[i].result = PC_APPLY_DUPLICATE;
            b->way[i] = WAY_DONE;
        }
    }
    return rc;
}

/* One item per order, notification id and payment in a group: later ones go alone. */
static void batch_dedupe(struct batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        const struct tx_fields *f = &b->f[i];
        for (size_t j = 0; j < i && b->way[i] == WAY_OPEN; j++)
            if (b->way[j] == WAY_OPEN && (!strcmp(f->out_trade_no, b->f[j].out_trade_no) ||
                                          !strcmp(f->transaction_id, b->f[j].transaction_id) ||
                                          !strcmp(b->items[i].notify_id, b->items[j].notify_id)))
                b->way[i] = WAY_ALONE;
    }
}

/* The open items as an array of keys (for an IN list): the key of item i via key(b, i). */
static size_t open_keys(const struct batch *b, const char *(*key)(const struct batch *, size_t),
                        const char **out, size_t *idx)
{
    size_t k = 0;
    for (size_t i = 0; i < b->n; i++)
        if (b->way[i] == WAY_OPEN) {
            idx[k] = i;
            out[k++] = key(b, i);
        }
    return k;
}

static const char *key_order(const struct batch *b, size_t i)
{
    return b->f[i].out_trade_no;
}

/* The batch's transaction after BEGIN: 0 with the applied items marked done, or an error. */
static int batch_tx(struct pc_db *db, const struct pc_config *cfg, struct batch *b,
                    const char *source)
{
    const char *keys[PC_DB_IN_MAX] = {0};
    size_t idx[PC_DB_IN_MAX] = {0};
    bool found[PC_DB_IN_MAX] = {0};
    struct pc_order os[PC_DB_IN_MAX];
    int rc = 0;
    size_t k;
    /* 1. the orders, locked, and the checks against them */
    k = open_keys(b, key_order, keys, idx);
    if (rc == 0)
        rc = pc_order_lock_many(db, keys, k, os, found);
    struct pc_order *order_of[PC_DB_IN_MAX] = {0};
    for (size_t j = 0; j < k && rc == 0; j++) {
        order_of[idx[j]] = &os[j];
        if (!found[j] || !tx_ours(&b->f[idx[j]], cfg))
            b->way[idx[j]] = WAY_ALONE; /* it answers INCONSISTENT alone, rolling back itself */
    }
    /* 2. the orders' side (orders/state.h), then the notification ids and the payment rows.
     * No read of the transaction ids recorded before: another path (query, bill) records a
     * payment together with its order's change, so that order is no longer unpaid and
     * pc_orders_paid_many sends it alone; one recorded for another order fails the unique keys
     * (payments, orders.transaction_id), and the whole group goes one by one. */
    struct pc_order ord[PC_DB_IN_MAX];
    struct pc_order_payment pay[PC_DB_IN_MAX];
    enum pc_paid_outcome out[PC_DB_IN_MAX] = {0};
    k = rc ? 0 : open_keys(b, key_order, keys, idx);
    for (size_t j = 0; j < k; j++) {
        const struct tx_fields *f = &b->f[idx[j]];
        ord[j] = *order_of[idx[j]];
        pay[j] = order_payment(f, source, cfg);
    }
    if (rc == 0)
        rc = pc_orders_paid_many(db, ord, pay, k, out);
    const char *ids[PC_DB_IN_MAX] = {0}, *nos[PC_DB_IN_MAX] = {0};
    struct pc_store_payment rows[PC_DB_IN_MAX];
    char *raw[PC_DB_IN_MAX] = {0};
    size_t m = 0;
    for (size_t j = 0; j < k && rc == 0; j++) {
        size_t i = idx[j];
        if (out[j] != PC_PAID_OK) {
            b->way[i] = WAY_ALONE;
            continue;
        }
        ids[m] = b->items[i].notify_id;
        nos[m] = b->f[i].out_trade_no;
        raw[m] = cJSON_PrintUnformatted(b->items[i].tx);
        rows[m] = payment_row(&b->f[i], &ord[j], source, true, raw[m]);
        idx[m++] = i;
    }
    if (rc == 0)
        rc = pc_store_notification_insert_many(db, ids, b->items[0].event_type, nos, "received", m);
    if (rc == 0)
        rc = pc_store_payment_insert_many(db, rows, m);
    for (size_t j = 0; j < m; j++)
        free(raw[j]);
    for (size_t j = 0; j < m && rc == 0; j++) {
        b->items[idx[j]].result = PC_APPLY_APPLIED;
        b->way[idx[j]] = WAY_DONE;
    }
    return rc;
}

/* The batch's transaction as pc_db_tx runs it: every attempt starts from the items' ways
 * before the first (a deadlock or lock timeout — under Galera a certification conflict, 1213 at
 * any statement or at COMMIT — rolls it all back and it runs again, up to three times). */
struct batch_run {
    const struct pc_config *cfg;
    struct batch *b;
    const char *source;
    const enum item_way *before;
};

static int batch_attempt(struct pc_db *db, void *arg)
{
    struct batch_run *x = arg;
    memcpy(x->b->way, x->before, x->b->n * sizeof *x->before);
    return batch_tx(db, x->cfg, x->b, x->source);
}

void pc_payment_apply_many(struct pc_db *db, const struct pc_config *cfg,
                           struct pc_apply_item *items, size_t n, const char *source)
{
    enum item_way way[PC_DB_IN_MAX] = {WAY_OPEN};
    struct tx_fields f[PC_DB_IN_MAX];
    struct batch b = {items, n, way, f};
    for (size_t i = 0; i < n; i++) {
        items[i].rc = 0;
        items[i].result = PC_APPLY_INCONSISTENT;
    }
    if (n > PC_DB_IN_MAX) { /* more than one statement's keys: in slices */
        for (size_t i = 0; i < n; i += PC_DB_IN_MAX)
            pc_payment_apply_many(db, cfg, items + i, n - i < PC_DB_IN_MAX ? n - i : PC_DB_IN_MAX,
                                  source);
        return;
    }
    for (size_t i = 0; i < n; i++)
        way[i] = WAY_OPEN;
    batch_read(&b);
    if (n > 1 && batch_seen(db, &b) != 0) /* not readable: everyone alone (who will tell) */
        for (size_t i = 0; i < n; i++)
            way[i] = way[i] == WAY_DONE ? WAY_DONE : WAY_ALONE;
    batch_dedupe(&b);
    size_t open = 0;
    for (size_t i = 0; i < n; i++)
        open += way[i] == WAY_OPEN;
    if (open > 1) {
        enum item_way before[PC_DB_IN_MAX];
        memcpy(before, way, sizeof before);
        struct batch_run run = {cfg, &b, source, before};
        int rc = pc_db_tx(db, batch_attempt, &run);
        if (rc) { /* nothing of it stands: everyone it had taken goes alone */
            pc_log(PC_LOG_INFO, "payment batch rolled back: applying one by one", PC_LI("rc", rc),
                   PC_LI("items", n));
            for (size_t i = 0; i < n; i++)
                if (before[i] == WAY_OPEN)
                    way[i] = WAY_ALONE;
        }
    }
    for (size_t i = 0; i < n; i++)
        if (way[i] != WAY_DONE)
            items[i].rc = pc_payment_apply(db, cfg, items[i].notify_id, items[i].event_type,
                                           items[i].tx, source, &items[i].result);
}
