/* handlers/finance.c — GET /finance/payments (finance): JSON pages, or with
 * `Accept: text/csv` (or ?format=csv) the whole range as a CSV for Excel. */
#include "handlers/handlers.h"

#include "base/buf.h"
#include "base/err.h"
#include "base/timeutil.h"
#include "finance/finance.h"
#include "server/auth.h"
#include "staff/staff.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CSV_PAGE 1000

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
    char from_db[32], to_db[32], today[40];
    const char *from = pc_req_query(r, "from"), *to = pc_req_query(r, "to");
    if (!from) { /* today, Beijing time */
        pc_time_rfc3339(pc_time_now_ms() / 1000, today, sizeof today, PC_TZ_SHANGHAI_MIN);
        today[10] = '\0';
        from = today;
    }
    if (pc_finance_days(from, to, from_db, to_db)) {
        pc_resp_invalid(r, "from", "from/to 应为 YYYY-MM-DD（北京时间），且跨度不超过一年");
        return;
    }
    int64_t school = 0, task = 0;
    if (id_query(r, "school_id", &school) || id_query(r, "task_id", &task))
        return;
    if (by->school_id) { /* a school's finance sees that school only */
        if (school && school != by->school_id) {
            pc_resp_error(r, 404, "NOT_FOUND", "学校不存在", NULL);
            return;
        }
        school = by->school_id;
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
        struct pc_buf b;
        pc_buf_init(&b, 256u << 20);
        pc_finance_csv_header(&b);
        do {
            rc = pc_store_finance_payments(ctx->db, from_db, to_db, school, task, after, CSV_PAGE,
                                           &ps, &n);
            for (size_t i = 0; rc == 0 && i < n; i++)
                pc_finance_csv_row(&b, &ps[i]);
            if (n)
                after = ps[n - 1].id;
            free(ps);
        } while (rc == 0 && n == CSV_PAGE);
        if (rc)
            pc_resp_from_err(r, ctx, rc);
        else {
            char disp[128];
            snprintf(disp, sizeof disp, "attachment; filename=\"payments-%s-%s.csv\"", from,
                     to ? to : from);
            pc_resp_raw(r, 200, "text/csv; charset=utf-8", b.p ? b.p : "", b.len);
            pc_resp_header(r, "Content-Disposition", disp);
        }
        pc_buf_free(&b);
        return;
    }
    rc = pc_store_finance_payments(ctx->db, from_db, to_db, school, task, after, limit, &ps, &n);
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
