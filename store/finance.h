/* store/finance.h — what finance reads and the reconciliation of each bill day (tables payments
 * joined with orders, tasks, schools and refunds; table reconciliations). Owned by finance/.
 * Worker or jobs thread. */
#ifndef PC_STORE_FINANCE_H
#define PC_STORE_FINANCE_H

#include "store/db.h"
#include "store/scope.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pc_finance_payment {
    int64_t id;
    char out_trade_no[33];
    char transaction_id[33];
    int64_t amount_fen;
    char success_time[32];
    char source[8];
    char disposition[12];
    char order_status[20];
    int64_t task_id;
    char task_name[129];
    int64_t school_id;
    char school_code[17];
    char school_name[129];
    char college[129];
    char class_name[129];
    char student_no[33];
    char student_name[129];
    int64_t refunded_fen; /* successful refunds of the order */
};
/* Payments whose success_time is in [from_db, to_db) (UTC DATETIME text), within scope, of
 * school_id and task_id (0 = any), ids above after_id, oldest first, at most limit: *out (the
 * caller frees it) of *n. Returns 0 or a store error. */
int pc_store_finance_payments(struct pc_db *db, const char *from_db, const char *to_db,
                              const struct pc_scope *scope, int64_t school_id, int64_t task_id,
                              int64_t after_id, int limit, struct pc_finance_payment **out,
                              size_t *n);

/* ---- reconciliations (one per Beijing bill day "YYYY-MM-DD") ---- */
/* A new request, or an existing day back to 'requested' (unless running). Returns 0 or a store
 * error. */
int pc_store_recon_request(struct pc_db *db, const char *bill_date, int64_t staff_id);
/* The oldest day waiting (or stuck running for 10 minutes) into bill_date. Returns 0,
 * PC_ENOTFOUND or a store error. */
int pc_store_recon_due(struct pc_db *db, char bill_date[11]);
/* *exists tells whether the day has a reconciliation. Returns 0 or a store error. */
int pc_store_recon_exists(struct pc_db *db, const char *bill_date, bool *exists);
/* Sets a day's state and error; report_json NULL keeps the previous report. Returns 0 or a
 * store error. */
int pc_store_recon_set(struct pc_db *db, const char *bill_date, const char *state,
                       const char *error, const char *report_json);
/* A day's state, error and report (*report_json: pc_xstrdup, NULL when none; the caller
 * frees it). Returns 0, PC_ENOTFOUND or a store error. */
int pc_store_recon_get(struct pc_db *db, const char *bill_date, char state[12], char error[501],
                       char **report_json);

#endif
