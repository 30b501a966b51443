/* finance/finance.h — what finance sees: payments over Beijing-time days, as JSON (fen) or
 * as CSV for Excel (UTF-8 with BOM, yuan with two decimals, formatted from integers — never
 * through floating point). Pure; any thread. */
#ifndef PC_FINANCE_H
#define PC_FINANCE_H

#include "base/buf.h"
#include "core/ctx.h"
#include "store/finance.h"
#include "store/scope.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

/* Turns the inclusive Beijing-time days from..to ("YYYY-MM-DD"; to NULL = from) into the UTC
 * DATETIME half-open range [from_db, to_db). 0, or PC_EINVAL (bad date, to before from, or
 * more than 366 days). */
int pc_finance_days(const char *from, const char *to, char from_db[32], char to_db[32]);

/* fen as yuan with two decimals: 2500 → "25.00", -1 → "-0.01". */
void pc_finance_yuan(int64_t fen, char *out, size_t len);

cJSON *pc_finance_payment_json(const struct pc_finance_payment *p);
/* The CSV header (with the BOM) and one row, CRLF-terminated, cells quoted. 0, or PC_ETOOBIG
 * when b cannot hold it (the file must not be answered then: it would be cut). */
int pc_finance_csv_header(struct pc_buf *b);
int pc_finance_csv_row(struct pc_buf *b, const struct pc_finance_payment *p);

/* What a payments view covers: the UTC range of its Beijing days (pc_finance_days), the part
 * the caller's finance roles reach, and a school and a task (0 = any). */
struct pc_finance_range {
    char from_db[32], to_db[32];
    struct pc_scope scope;
    int64_t school_id, task_id;
};
/* Fills q->scope from by's finance roles (a school's finance: its school; company finance:
 * every school). PC_ENOTFOUND when q->school_id names a school out of reach. Pure. */
int pc_finance_scope(const struct pc_staff_auth *by, struct pc_finance_range *q);
/* Payments of q with ids above after_id, oldest first, at most limit: *out (the caller frees
 * it) of *n; the read is audited ("finance.payments_read": the order numbers shown, per
 * school, from ip). Worker thread. Returns 0 or a store error (then nothing is returned). */
int pc_finance_payments(struct pc_db *db, const struct pc_staff_auth *by,
                        const struct pc_finance_range *q, int64_t after_id, int limit,
                        const char *ip, const char *request_id, struct pc_finance_payment **out,
                        size_t *n);
/* Every payment of q as the CSV for Excel into b (header, then rows, read in pages), audited
 * like pc_finance_payments (rows counted per school). Returns 0, PC_ETOOBIG (more than b may
 * hold: nothing must be answered) or a store error. */
int pc_finance_payments_csv(struct pc_db *db, const struct pc_staff_auth *by,
                            const struct pc_finance_range *q, const char *ip,
                            const char *request_id, struct pc_buf *b);

/* Requests the reconciliation of bill_date ("YYYY-MM-DD", checked by the caller), audited
 * "reconciliation.request", and wakes the jobs to run it. Worker thread. Returns 0 or a store
 * error. */
int pc_finance_recon_request(struct pc_ctx *ctx, const struct pc_staff_auth *by,
                             const char *bill_date, const char *ip, const char *request_id);
/* A day's reconciliation as by may see it: its state, error ("" when none) and report
 * (*report, the caller's; NULL until there is one). Company finance get the whole report; a
 * school's finance the rows and totals of their school only ("school_view": true, without the
 * merchant-wide bill summary). Returns 0, PC_ENOTFOUND (none, or not a day) or a store
 * error. */
int pc_finance_recon_get(struct pc_db *db, const struct pc_staff_auth *by, const char *bill_date,
                         char state[12], char error[501], cJSON **report);

/* Jobs thread (blocking): downloads bill_date's trade bill and compares it with the store:
 * matched payments, amount mismatches, payments in the bill but not here (healed through an
 * order query, and reported), payments here but not in the bill, refunds, and totals per
 * school and task. *report (the caller's) on 0; else err says why. */
int pc_finance_reconcile(struct pc_ctx *ctx, const char *bill_date, cJSON **report, char *err,
                         size_t errlen);
/* Jobs thread, lease "reconciliation": runs requested days, and requests yesterday's after
 * 10:30 Beijing time (WeChat publishes a bill after 10:00). */
int pc_finance_recon_job(struct pc_ctx *ctx, void *arg);

#endif
