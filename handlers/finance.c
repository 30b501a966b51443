/* handlers/finance.c — GET /finance/payments (finance): JSON pages, or with
 * `Accept: text/csv` (or ?format=csv) the whole range as a CSV for Excel. */
#include "handlers/handlers.h"

#include "base/buf.h"
#include "base/err.h"
#include "base/timeutil.h"
#include "finance/finance.h"
#include "handlers/auth.h"
#include "server/server.h"
#include "staff/staff.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int id_query(struct pc_req *r, const char *name, int64_t *v)
{
    const char *s = pc_req_query(r, name);
    *v = 0;
    if (!s || !s[0])
        return 0;
    char *end = NULL;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (errno || *end || x <= 0) {
        pc_resp_invalid(r, name, "应为正整数");
        return -1;
    }
    *v = x;
    return 0;
}

void h_finance_payments(struct pc_req *r, struct pc_ctx *ctx)
{
    if (pc_auth_staff(r, ctx, PC_ROLE_FINANCE))
        return;
    const struct pc_staff_auth *by = pc_req_staff(r);
    char today[40];
    const char *from = pc_req_query(r, "from"), *to = pc_req_query(r, "to");
    if (!from) { /* today, Beijing time */
        pc_time_rfc3339(pc_time_now_ms() / 1000, today, sizeof today, PC_TZ_SHANGHAI_MIN);
        today[10] = '\0';
        from = today;
    }
    struct pc_finance_range q;
    memset(&q, 0, sizeof q);
    if (pc_finance_days(from, to, q.from_db, q.to_db)) {
        pc_resp_invalid(r, "from", "from/to 应为 YYYY-MM-DD（北京时间），且跨度不超过一年");
        return;
    }
    if (id_query(r, "school_id", &q.school_id) || id_query(r, "task_id", &q.task_id))
        return;
    if (pc_finance_scope(by, &q)) { /* a school's finance sees that school only */
        pc_resp_error(r, 404, "NOT_FOUND", "学校不存在", NULL);
        return;
    }
    const char *accept = pc_req_header(r, "Accept");
    bool csv = (accept && strstr(accept, "text/csv")) ||
               (pc_req_query(r, "format") && !strcmp(pc_req_query(r, "format"), "csv"));
    int limit = 0;
    long long after = 0;
    if (!csv && (pc_h_limit(r, &limit) || pc_h_cursor_id(r, &after)))
        return;
    struct pc_finance_payment *ps = NULL;
    size_t n = 0;
    int rc;
    if (csv) {
        char name[96];
        snprintf(name, sizeof name, "payments-%s-%s.csv", from, to ? to : from);
        struct pc_buf b;
        pc_buf_init(&b, PC_H_CSV_MAX);
        pc_h_csv_reply(
            r, ctx, pc_finance_payments_csv(ctx->db, by, &q, pc_req_client_ip(r), pc_req_id(r), &b),
            &b, name);
        pc_buf_free(&b);
        return;
    }
    rc = pc_finance_payments(ctx->db, by, &q, after, limit, pc_req_client_ip(r), pc_req_id(r), &ps,
                             &n);
    if (rc) {
        pc_resp_from_err(r, ctx, rc);
        return;
    }
    cJSON *o = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(o, "items");
    int64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        cJSON_AddItemToArray(items, pc_finance_payment_json(&ps[i]));
        total += ps[i].amount_fen;
    }
    cJSON_AddNumberToObject(o, "page_amount_fen", (double)total);
    if (n == (size_t)limit) {
        char cur[32];
        pc_h_cursor_make((long long)ps[n - 1].id, cur);
        cJSON_AddStringToObject(o, "next_cursor", cur);
    } else {
        cJSON_AddNullToObject(o, "next_cursor");
    }
    free(ps);
    pc_resp_json(r, 200, o);
}

/* "YYYY-MM-DD" of a real day, not in the future, within WeChat's three months. */
static bool bill_day_ok(const char *d)
{
    char a[32], b[32], today[40];
    if (!d || pc_finance_days(d, NULL, a, b))
        return false;
    int64_t now = pc_time_now_ms() / 1000;
    pc_time_rfc3339(now, today, sizeof today, PC_TZ_SHANGHAI_MIN);
    today[10] = '\0';
    char old[40];
    pc_time_rfc3339(now - 92 * 86400, old, sizeof old, PC_TZ_SHANGHAI_MIN);
    old[10] = '\0';
    return strcmp(d, today) <= 0 && strcmp(d, old) >= 0;
}

void h_finance_recon_request(struct pc_req *r, struct pc_ctx *ctx)
{
    if (pc_auth_staff(r, ctx, PC_ROLE_FINANCE))
        return;
    cJSON *j = pc_req_json(r);
    if (!j)
        return;
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "bill_date");
    if (!cJSON_IsString(d) || !bill_day_ok(d->valuestring)) {
        pc_resp_invalid(r, "bill_date", "bill_date 应为最近三个月内的日期 YYYY-MM-DD（北京时间）");
        return;
    }
    if (!ctx->pay) {
        pc_resp_error(r, 503, "PAYMENT_UNAVAILABLE", "支付服务暂时不可用，请稍后重试", NULL);
        return;
    }
    int rc = pc_finance_recon_request(ctx, pc_req_staff(r), d->valuestring, pc_req_client_ip(r),
                                      pc_req_id(r));
    if (rc) {
        pc_resp_from_err(r, ctx, rc);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "bill_date", d->valuestring);
    cJSON_AddStringToObject(o, "state", "requested");
    pc_resp_json(r, 202, o);
}

void h_finance_recon_get(struct pc_req *r, struct pc_ctx *ctx)
{
    if (pc_auth_staff(r, ctx, PC_ROLE_FINANCE))
        return;
    const char *d = pc_req_param(r, "bill_date");
    char state[12], error[501];
    cJSON *report = NULL;
    int rc = pc_finance_recon_get(ctx->db, pc_req_staff(r), d, state, error, &report);
    if (rc == PC_ENOTFOUND) {
        pc_resp_error(r, 404, "NOT_FOUND", "该日期没有对账记录", NULL);
        return;
    }
    if (rc) {
        pc_resp_from_err(r, ctx, rc);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "bill_date", d);
    cJSON_AddStringToObject(o, "state", state);
    cJSON_AddItemToObject(o, "error", error[0] ? cJSON_CreateString(error) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "report", report ? report : cJSON_CreateNull());
    pc_resp_json(r, 200, o);
}
