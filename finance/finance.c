/* finance/finance.c — payments for finance. See finance.h. */
#include "finance/finance.h"

#include "base/alloc.h"
#include "base/err.h"
#include "base/json.h"
#include "base/timeutil.h"
#include "staff/scope.h"
#include "staff/staff.h"
#include "store/finance.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CSV_PAGE 1000 /* payments read per query while writing a CSV */

static int day_start(const char *day, int64_t *t)
{
    char iso[40];
    if (!day || strlen(day) != 10 || day[4] != '-' || day[7] != '-')
        return PC_EINVAL;
    snprintf(iso, sizeof iso, "%sT00:00:00+08:00", day);
    return pc_time_parse_rfc3339(iso, t);
}

int pc_finance_days(const char *from, const char *to, char from_db[32], char to_db[32])
{
    int64_t a, b;
    if (day_start(from, &a) || day_start(to ? to : from, &b) || b < a || b - a > 365LL * 86400)
        return PC_EINVAL;
    b += 86400;
    if (pc_time_format_db(a, from_db, 32) || pc_time_format_db(b, to_db, 32))
        return PC_EINVAL;
    return 0;
}

void pc_finance_yuan(int64_t fen, char *out, size_t len)
{
    uint64_t m = fen < 0 ? (uint64_t)0 - (uint64_t)fen : (uint64_t)fen;
    snprintf(out, len, "%s%llu.%02llu", fen < 0 ? "-" : "", (unsigned long long)(m / 100),
             (unsigned long long)(m % 100));
}

cJSON *pc_finance_payment_json(const struct pc_finance_payment *p)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)p->id);
    cJSON_AddStringToObject(o, "out_trade_no", p->out_trade_no);
    cJSON_AddStringToObject(o, "transaction_id", p->transaction_id);
    cJSON_AddNumberToObject(o, "amount_fen", (double)p->amount_fen);
    cJSON_AddNumberToObject(o, "refunded_fen", (double)p->refunded_fen);
    pc_json_add_time(o, "success_time", p->success_time);
    cJSON_AddStringToObject(o, "source", p->source);
    cJSON_AddStringToObject(o, "disposition", p->disposition);
    cJSON_AddStringToObject(o, "order_status", p->order_status);
    cJSON *t = cJSON_AddObjectToObject(o, "task");
    cJSON_AddNumberToObject(t, "id", (double)p->task_id);
    cJSON_AddStringToObject(t, "name", p->task_name);
    cJSON *s = cJSON_AddObjectToObject(o, "school");
    cJSON_AddNumberToObject(s, "id", (double)p->school_id);
    cJSON_AddStringToObject(s, "code", p->school_code);
    cJSON_AddStringToObject(s, "name", p->school_name);
    cJSON *st = cJSON_AddObjectToObject(o, "student");
    cJSON_AddStringToObject(st, "student_no", p->student_no);
    cJSON_AddStringToObject(st, "name", p->student_name);
    cJSON_AddStringToObject(st, "college", p->college);
    cJSON_AddStringToObject(st, "class", p->class_name);
    return o;
}

int pc_finance_csv_header(struct pc_buf *b)
{
    return pc_buf_adds(b, "\xef\xbb\xbf支付时间,商户订单号,微信订单号,金额(元),已退款(元),学校代码,"
                          "学校,任务,学院,班级,学号,姓名,订单状态,来源\r\n");
}

int pc_finance_csv_row(struct pc_buf *b, const struct pc_finance_payment *p)
{
    char when[32] = "", amount[32], refunded[32];
    if (p->success_time[0] && pc_time_db_to_api(p->success_time, when, sizeof when) == 0)
        when[19] = '\0'; /* "2024-01-19T10:00:00" in Beijing time */
    if (when[0])
        when[10] = ' ';
    pc_finance_yuan(p->amount_fen, amount, sizeof amount);
    pc_finance_yuan(p->refunded_fen, refunded, sizeof refunded);
    const char *cells[] = {
        when,           p->out_trade_no, p->transaction_id, amount,     refunded,
        p->school_code, p->school_name,  p->task_name,      p->college, p->class_name,
        p->student_no,  p->student_name, p->order_status,   p->source};
    size_t n = sizeof cells / sizeof cells[0];
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = pc_buf_add_csv_cell(b, cells[i], i + 1 == n);
    return rc;
}

int pc_finance_scope(const struct pc_staff_auth *by, struct pc_finance_range *q)
{
    pc_staff_scope(by, PC_ROLE_FINANCE, &q->scope);
    if (q->school_id && !pc_scope_has(&q->scope, q->school_id, 0) &&
        !pc_staff_company(by, PC_ROLE_FINANCE))
        return PC_ENOTFOUND;
    return 0;
}

/* Audits a read of payments ps (names and student numbers): one row per school. */
static int audit_payments(struct pc_db *db, const struct pc_staff_auth *by,
                          const struct pc_finance_range *q, const char *what,
                          const struct pc_read_item *items, size_t n, const char *ip,
                          const char *rid)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "format", what);
    cJSON_AddStringToObject(d, "from", q->from_db);
    cJSON_AddStringToObject(d, "to", q->to_db);
    if (q->school_id)
        cJSON_AddNumberToObject(d, "school_id", (double)q->school_id);
    if (q->task_id)
        cJSON_AddNumberToObject(d, "task_id", (double)q->task_id);
    int rc = pc_staff_audit_read(db, by, "finance.payments_read", "task", q->task_id, d, items, n,
                                 ip, rid);
    cJSON_Delete(d);
    return rc;
}

int pc_finance_payments(struct pc_db *db, const struct pc_staff_auth *by,
                        const struct pc_finance_range *q, int64_t after_id, int limit,
                        const char *ip, const char *request_id, struct pc_finance_payment **out,
                        size_t *n)
{
    int rc = pc_store_finance_payments(db, q->from_db, q->to_db, &q->scope, q->school_id,
                                       q->task_id, after_id, limit, out, n);
    if (rc)
        return rc;
    struct pc_read_item *items = pc_xcalloc(*n ? *n : 1, sizeof *items);
    for (size_t i = 0; i < *n; i++)
        items[i] = (struct pc_read_item){(*out)[i].school_id, (*out)[i].out_trade_no};
    rc = audit_payments(db, by, q, "json", items, *n, ip, request_id);
    free(items);
    if (rc) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

int pc_finance_payments_csv(struct pc_db *db, const struct pc_staff_auth *by,
                            const struct pc_finance_range *q, const char *ip,
                            const char *request_id, struct pc_buf *b)
{
    int64_t after = 0;
    size_t n = 0, nitems = 0, cap = 0;
    struct pc_read_item *items = NULL; /* schools only: a file's rows are counted, not named */
    int rc = pc_finance_csv_header(b);
    while (rc == 0) {
        struct pc_finance_payment *ps = NULL;
        rc = pc_store_finance_payments(db, q->from_db, q->to_db, &q->scope, q->school_id,
                                       q->task_id, after, CSV_PAGE, &ps, &n);
        for (size_t i = 0; rc == 0 && i < n; i++) {
            rc = pc_finance_csv_row(b, &ps[i]);
            if (nitems == cap) {
                cap = cap ? 2 * cap : CSV_PAGE;
                items = pc_xrealloc(items, cap * sizeof *items);
            }
            items[nitems++] = (struct pc_read_item){ps[i].school_id, NULL};
        }
        if (n)
            after = ps[n - 1].id;
        free(ps);
        if (n < CSV_PAGE)
            break;
    }
    if (rc == 0)
        rc = audit_payments(db, by, q, "csv", items, nitems, ip, request_id);
    free(items);
    return rc;
}

struct recon_args {
    const struct pc_staff_auth *by;
    const char *bill_date, *ip, *rid;
};

static int recon_request_tx(struct pc_db *db, void *arg)
{
    struct recon_args *a = arg;
    int rc = pc_store_recon_request(db, a->bill_date, a->by->id);
    if (rc == 0) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "bill_date", a->bill_date);
        rc = pc_staff_audit(db, a->by, pc_staff_home_school(a->by), "reconciliation.request",
                            "reconciliation", 0, d, a->ip, a->rid);
        cJSON_Delete(d);
    }
    return rc;
}

int pc_finance_recon_request(struct pc_ctx *ctx, const struct pc_staff_auth *by,
                             const char *bill_date, const char *ip, const char *request_id)
{
    struct recon_args a = {by, bill_date, ip, request_id};
    int rc = pc_db_tx(ctx->db, recon_request_tx, &a);
    if (rc == 0)
        pc_ctx_wake_jobs(ctx); /* the reconciliation job runs it now */
    return rc;
}

/* The members of a school-scoped view: the arrays of the report reduced to the rows of scope
 * (rows whose school is not known here are company finance's alone), the merchant-wide bill
 * summary left out, the counts recomputed from the totals kept. */
static cJSON *recon_view(const cJSON *full, const struct pc_scope *scope)
{
    static const char *const arrays[] = {"amount_mismatches", "in_bill_not_here",
                                         "here_not_in_bill", "refunds_not_here", "totals"};
    cJSON *v = cJSON_CreateObject();
    const cJSON *x;
    if ((x = cJSON_GetObjectItemCaseSensitive(full, "bill_date")))
        cJSON_AddItemToObject(v, "bill_date", cJSON_Duplicate(x, 1));
    double matched = 0;
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++) {
        cJSON *out = cJSON_AddArrayToObject(v, arrays[i]);
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(full, arrays[i]))
        {
            const cJSON *sc = cJSON_GetObjectItemCaseSensitive(it, "school_id");
            if (!cJSON_IsNumber(sc) || !pc_scope_has(scope, (int64_t)sc->valuedouble, 0))
                continue;
            cJSON_AddItemToArray(out, cJSON_Duplicate(it, 1));
            const cJSON *m = cJSON_GetObjectItemCaseSensitive(it, "matched");
            if (i == 4 && cJSON_IsNumber(m))
                matched += m->valuedouble;
        }
    }
    cJSON_AddNumberToObject(v, "matched", matched);
    if ((x = cJSON_GetObjectItemCaseSensitive(full, "generated_at")))
        cJSON_AddItemToObject(v, "generated_at", cJSON_Duplicate(x, 1));
    cJSON_AddBoolToObject(v, "school_view", true);
    return v;
}

int pc_finance_recon_get(struct pc_db *db, const struct pc_staff_auth *by, const char *bill_date,
                         char state[12], char error[501], cJSON **report)
{
    char a[32], b[32], *json = NULL;
    *report = NULL;
    if (!bill_date || strlen(bill_date) != 10 || pc_finance_days(bill_date, NULL, a, b))
        return PC_ENOTFOUND;
    int rc = pc_store_recon_get(db, bill_date, state, error, &json);
    if (rc == 0 && json)
        *report = cJSON_Parse(json);
    free(json);
    if (*report && !pc_staff_company(by, PC_ROLE_FINANCE)) {
        struct pc_scope scope;
        pc_staff_scope(by, PC_ROLE_FINANCE, &scope);
        cJSON *v = recon_view(*report, &scope);
        cJSON_Delete(*report);
        *report = v;
        if (error[0]) /* WeChat's or the store's words are about the whole merchant */
            snprintf(error, 501, "对账失败");
    }
    return rc;
}
