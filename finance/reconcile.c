/* finance/reconcile.c — a day's WeChat Pay trade bill against the order store, and the job
 * that runs requested (and yesterday's) reconciliations. Jobs thread (blocking calls). */
#include "finance/finance.h"

#include "base/alloc.h"
#include "base/err.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "payment/bill.h"
#include "payment/sweeper.h"
#include "config/config.h"
#include "store/leases.h"
#include "store/payments.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LEASE       "reconciliation"
#define LEASE_TTL_S 120 /* a dead holder blocks others this long; renewed every run */
#define PAGE        1000

/* Totals of one school and task: what we recorded and what WeChat settled. */
struct total {
    int64_t school_id, task_id;
    char school_code[17], task_name[129];
    int64_t payments, matched, amount_fen, refunded_fen, bill_settle_fen, bill_fee_e5;
};

struct totals {
    struct total *t;
    size_t n, cap;
};

static struct total *total_of(struct totals *ts, int64_t school_id, int64_t task_id)
{
    for (size_t i = 0; i < ts->n; i++)
        if (ts->t[i].school_id == school_id && ts->t[i].task_id == task_id)
            return &ts->t[i];
    if (ts->n == ts->cap) {
        ts->cap = ts->cap ? 2 * ts->cap : 8;
        ts->t = pc_xrealloc(ts->t, ts->cap * sizeof *ts->t);
    }
    struct total *t = &ts->t[ts->n++];
    memset(t, 0, sizeof *t);
    t->school_id = school_id;
    t->task_id = task_id;
    return t;
}

/* One difference; school_id 0 = not known here (only company finance sees it). */
static cJSON *item(int64_t school_id, const char *out_trade_no, const char *tx, int64_t a,
                   const char *ka, int64_t b, const char *kb)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "school_id",
                          school_id ? cJSON_CreateNumber((double)school_id) : cJSON_CreateNull());
    cJSON_AddStringToObject(o, "out_trade_no", out_trade_no);
    cJSON_AddStringToObject(o, "transaction_id", tx);
    cJSON_AddNumberToObject(o, ka, (double)a);
    if (kb)
        cJSON_AddNumberToObject(o, kb, (double)b);
    return o;
}

int pc_finance_reconcile(struct pc_ctx *ctx, const char *bill_date, cJSON **report, char *err,
                         size_t errlen)
{
    struct pc_bill bill;
    *report = NULL;
    int rc = pc_bill_fetch(ctx->pay, bill_date, &bill, err, errlen);
    if (rc == PC_ENOTFOUND) { /* no transactions at WeChat that day: an empty bill */
        memset(&bill, 0, sizeof bill);
        rc = 0;
    }
    if (rc)
        return rc;
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "bill_date", bill_date);
    cJSON *bj = cJSON_AddObjectToObject(r, "bill");
    cJSON_AddNumberToObject(bj, "rows", (double)bill.n);
    cJSON_AddNumberToObject(bj, "settle_fen", (double)bill.sum.settle_total_fen);
    cJSON_AddNumberToObject(bj, "refund_fen", (double)bill.sum.refund_total_fen);
    cJSON_AddNumberToObject(bj, "fee_e5", (double)bill.sum.fee_total_e5);
    cJSON *mism = cJSON_AddArrayToObject(r, "amount_mismatches");
    cJSON *missing_here = cJSON_AddArrayToObject(r, "in_bill_not_here");
    cJSON *missing_bill = cJSON_AddArrayToObject(r, "here_not_in_bill");
    cJSON *refunds_missing = cJSON_AddArrayToObject(r, "refunds_not_here");
    int matched = 0, refunds_matched = 0;
    struct totals ts = {0};
    for (size_t i = 0; rc == 0 && i < bill.n; i++) {
        const struct pc_bill_row *b = &bill.rows[i];
        if (!strcmp(b->trade_state, "REFUND")) {
            struct pc_refund ref;
            int q = strlen(b->out_refund_no) < 65
                        ? pc_store_refund_get(ctx->db, b->out_refund_no, false, &ref)
                        : PC_ENOTFOUND;
            if (q == 0 && !strcmp(ref.status, "success") && ref.amount_fen == b->refund_fen)
                refunds_matched++;
            else if (q == 0 || q == PC_ENOTFOUND) {
                cJSON *o = item(0, b->out_trade_no, b->transaction_id, b->refund_fen, "bill_fen",
                                q == 0 ? ref.amount_fen : 0, q == 0 ? "store_fen" : NULL);
                cJSON_AddStringToObject(o, "out_refund_no", b->out_refund_no);
                cJSON_AddStringToObject(o, "store_status", q == 0 ? ref.status : "unknown");
                cJSON_AddItemToArray(refunds_missing, o);
            } else
                rc = q;
            continue;
        }
        int64_t amount = 0, school = 0, task = 0;
        char no[33];
        int q = pc_store_payment_by_tx(ctx->db, b->transaction_id, &amount, no, &school, &task);
        if (q == PC_ENOTFOUND && strlen(b->out_trade_no) < 33) {
            /* Paid at WeChat, not here: a lost notification. Heal it through a query, under a
             * lease renewed per query (a bill of many lost notifications outlasts one). */
            bool held = false;
            if (pc_store_lease_acquire(ctx->db, LEASE, ctx->instance, LEASE_TTL_S, &held) ||
                !held) {
                rc = PC_EBUSY;
                break;
            }
            pc_pay_sweep_order(ctx, b->out_trade_no);
            q = pc_store_payment_by_tx(ctx->db, b->transaction_id, &amount, no, &school, &task);
            cJSON *o = item(q == 0 ? school : 0, b->out_trade_no, b->transaction_id, b->settle_fen,
                            "bill_fen", 0, NULL);
            cJSON_AddBoolToObject(o, "healed", q == 0);
            cJSON_AddItemToArray(missing_here, o);
        }
        if (q == 0) {
            struct total *t = total_of(&ts, school, task);
            t->bill_settle_fen += b->settle_fen;
            t->bill_fee_e5 += b->fee_e5;
            if (amount == b->settle_fen) {
                matched++;
                t->matched++;
            } else {
                cJSON_AddItemToArray(mism, item(school, b->out_trade_no, b->transaction_id,
                                                b->settle_fen, "bill_fen", amount, "store_fen"));
            }
        } else if (q != PC_ENOTFOUND) {
            rc = q;
        }
    }
    /* Paid here that day but absent from the bill; and the per-school/task totals. */
    char from_db[32], to_db[32];
    if (rc == 0)
        rc = pc_finance_days(bill_date, NULL, from_db, to_db);
    long long after = 0;
    size_t n = 0;
    const struct pc_scope every = {.all = true};
    do {
        struct pc_finance_payment *ps = NULL;
        if (rc == 0)
            rc = pc_store_finance_payments(ctx->db, from_db, to_db, &every, 0, 0, after, PAGE, &ps,
                                           &n);
        for (size_t i = 0; rc == 0 && i < n; i++) {
            const struct pc_finance_payment *p = &ps[i];
            struct total *t = total_of(&ts, p->school_id, p->task_id);
            snprintf(t->school_code, sizeof t->school_code, "%s", p->school_code);
            snprintf(t->task_name, sizeof t->task_name, "%s", p->task_name);
            t->payments++;
            t->amount_fen += p->amount_fen;
            t->refunded_fen += p->refunded_fen;
            bool in_bill = false;
            for (size_t k = 0; k < bill.n && !in_bill; k++)
                in_bill = !strcmp(bill.rows[k].transaction_id, p->transaction_id);
            if (!in_bill)
                cJSON_AddItemToArray(missing_bill,
                                     item(p->school_id, p->out_trade_no, p->transaction_id,
                                          p->amount_fen, "store_fen", 0, NULL));
            after = p->id;
        }
        free(ps);
    } while (rc == 0 && n == PAGE);
    cJSON_AddNumberToObject(r, "matched", matched);
    cJSON_AddNumberToObject(r, "refunds_matched", refunds_matched);
    cJSON *tj = cJSON_AddArrayToObject(r, "totals");
    for (size_t i = 0; i < ts.n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "school_id", (double)ts.t[i].school_id);
        cJSON_AddStringToObject(o, "school_code", ts.t[i].school_code);
        cJSON_AddNumberToObject(o, "task_id", (double)ts.t[i].task_id);
        cJSON_AddStringToObject(o, "task_name", ts.t[i].task_name);
        cJSON_AddNumberToObject(o, "payments", (double)ts.t[i].payments);
        cJSON_AddNumberToObject(o, "matched", (double)ts.t[i].matched);
        cJSON_AddNumberToObject(o, "amount_fen", (double)ts.t[i].amount_fen);
        cJSON_AddNumberToObject(o, "refunded_fen", (double)ts.t[i].refunded_fen);
        cJSON_AddNumberToObject(o, "bill_settle_fen", (double)ts.t[i].bill_settle_fen);
        cJSON_AddNumberToObject(o, "bill_fee_e5", (double)ts.t[i].bill_fee_e5);
        cJSON_AddItemToArray(tj, o);
    }
    free(ts.t);
    pc_bill_free(&bill);
    if (rc) {
        snprintf(err, errlen, "store: %s", pc_strerror(rc));
        cJSON_Delete(r);
        return rc;
    }
    char now[40];
    pc_time_rfc3339(pc_time_now_ms() / 1000, now, sizeof now, PC_TZ_SHANGHAI_MIN);
    cJSON_AddStringToObject(r, "generated_at", now);
    *report = r;
    return 0;
}

int pc_finance_recon_job(struct pc_ctx *ctx, void *arg)
{
    (void)arg;
    bool held = false;
    if (!ctx->pay || pc_store_lease_acquire(ctx->db, LEASE, ctx->instance, LEASE_TTL_S, &held) ||
        !held)
        return ctx->cfg->recon_interval_ms;
    /* Yesterday's bill is ready after 10:00 Beijing time: request it once. */
    int64_t now = pc_time_now_ms() / 1000;
    char today[40], yday[40];
    pc_time_rfc3339(now, today, sizeof today, PC_TZ_SHANGHAI_MIN);
    pc_time_rfc3339(now - 86400, yday, sizeof yday, PC_TZ_SHANGHAI_MIN);
    yday[10] = '\0';
    bool exists = true;
    if (strncmp(today + 11, "10:30", 5) >= 0 &&
        pc_store_recon_exists(ctx->db, yday, &exists) == 0 && !exists)
        pc_store_recon_request(ctx->db, yday, 0);
    char day[11];
    while (pc_store_recon_due(ctx->db, day) == 0) {
        char err[300];
        cJSON *report = NULL;
        pc_store_recon_set(ctx->db, day, "running", NULL, NULL);
        int rc = pc_finance_reconcile(ctx, day, &report, err, sizeof err);
        char *json = report ? cJSON_PrintUnformatted(report) : NULL;
        pc_store_recon_set(ctx->db, day, rc ? "failed" : "done", rc ? err : NULL, json);
        pc_log(rc ? PC_LOG_WARN : PC_LOG_INFO, "reconciliation", PC_LS("bill_date", day),
               PC_LS("error", rc ? err : ""));
        free(json);
        cJSON_Delete(report);
    }
    return ctx->cfg->recon_interval_ms;
}
