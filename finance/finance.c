/* finance/finance.c — payments for finance. See finance.h. */
#include "finance/finance.h"

#include "base/err.h"
#include "base/json.h"
#include "base/timeutil.h"

#include <stdio.h>
#include <string.h>

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

void pc_finance_csv_header(struct pc_buf *b)
{
    pc_buf_adds(b, "\xef\xbb\xbf支付时间,商户订单号,微信订单号,金额(元),已退款(元),学校代码,学校,"
                   "任务,学院,班级,学号,姓名,订单状态,来源\r\n");
}

void pc_finance_csv_row(struct pc_buf *b, const struct pc_finance_payment *p)
{
    char when[32] = "", amount[32], refunded[32];
    if (p->success_time[0] && pc_time_db_to_api(p->success_time, when, sizeof when) == 0)
        when[19] = '\0'; /* "2024-01-19T10:00:00" in Beijing time */
    if (when[0])
        when[10] = ' ';
    pc_finance_yuan(p->amount_fen, amount, sizeof amount);
    pc_finance_yuan(p->refunded_fen, refunded, sizeof refunded);
    pc_buf_add_csv_cell(b, when, false);
    pc_buf_add_csv_cell(b, p->out_trade_no, false);
    pc_buf_add_csv_cell(b, p->transaction_id, false);
    pc_buf_add_csv_cell(b, amount, false);
    pc_buf_add_csv_cell(b, refunded, false);
    pc_buf_add_csv_cell(b, p->school_code, false);
    pc_buf_add_csv_cell(b, p->school_name, false);
    pc_buf_add_csv_cell(b, p->task_name, false);
    pc_buf_add_csv_cell(b, p->college, false);
    pc_buf_add_csv_cell(b, p->class_name, false);
    pc_buf_add_csv_cell(b, p->student_no, false);
    pc_buf_add_csv_cell(b, p->student_name, false);
    pc_buf_add_csv_cell(b, p->order_status, false);
    pc_buf_add_csv_cell(b, p->source, true);
}
