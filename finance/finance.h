/* finance/finance.h — what finance sees: payments over Beijing-time days, as JSON (fen) or
 * as CSV for Excel (UTF-8 with BOM, yuan with two decimals, formatted from integers — never
 * through floating point). Pure; any thread. */
#ifndef PC_FINANCE_H
#define PC_FINANCE_H

#include "base/buf.h"
#include "store/finance.h"

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
/* The CSV header (with the BOM) and one row, CRLF-terminated, cells quoted. */
void pc_finance_csv_header(struct pc_buf *b);
void pc_finance_csv_row(struct pc_buf *b, const struct pc_finance_payment *p);

struct pc_ctx;
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
