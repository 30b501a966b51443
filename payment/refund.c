/* payment/refund.c — refund requests and results (rules); SQL in store/refunds.c. */
#include "payment/refund.h"

#include "base/err.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "payment/wxpay.h"
#include "orders/state.h"
#include "staff/scope.h"
#include "staff/staff.h"
#include "tasks/tasks.h"
#include "store/audit.h"
#include "store/payments.h"

#include <stdio.h>
#include <string.h>

cJSON *pc_refund_json(const struct pc_refund *r)
{
    char t[32];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "out_refund_no", r->out_refund_no);
    cJSON_AddItemToObject(o, "refund_id",
                          r->refund_id[0] ? cJSON_CreateString(r->refund_id) : cJSON_CreateNull());
    cJSON_AddNumberToObject(o, "amount_fen", (double)r->amount_fen);
    cJSON_AddStringToObject(o, "reason", r->reason);
    cJSON_AddStringToObject(o, "status", r->status);
    pc_time_db_to_api(r->created_at, t, sizeof t);
    cJSON_AddStringToObject(o, "created_at", t);
    return o;
}

struct request_args {
    const struct pc_staff_auth *by;
    const char *order_no, *reason, *ip, *rid;
    int64_t amount;
    enum pc_refund_outcome *outcome;
    struct pc_order *o;
    struct pc_refund *r;
};

static int request_tx(struct pc_db *db, void *arg)
{
    struct request_args *a = arg;
    int rc = pc_order_lock(db, a->order_no, a->o);
    if (rc == 0 && !pc_staff_may(a->by, PC_ROLE_FINANCE, a->o->school_id, a->o->task_id))
        rc = PC_ENOTFOUND;
    if (rc == PC_ENOTFOUND) {
        *a->outcome = PC_REFUND_NOT_FOUND;
        return 0;
    }
    if (rc)
        return rc;
    rc = pc_store_refund_open(db, a->o->id, a->r);
    if (rc == 0) { /* the open refund again: its order is shown, so the read is audited */
        *a->outcome = PC_REFUND_EXISTING;
        cJSON *d = pc_refund_json(a->r);
        cJSON_AddStringToObject(d, "order_no", a->o->order_no);
        cJSON_AddBoolToObject(d, "existing", true);
        rc = pc_staff_audit(db, a->by, a->o->school_id, "refund.request", "order", a->o->id, d,
                            a->ip, a->rid);
        cJSON_Delete(d);
        return rc;
    }
    if (rc != PC_ENOTFOUND)
        return rc;
    if (!pc_order_is_paid(a->o) || !a->o->transaction_id[0]) {
        *a->outcome = PC_REFUND_STATE;
        return 0;
    }
    int64_t done = 0, n = 0;
    rc = pc_store_refunded_total(db, a->o->id, &done);
    if (rc == 0)
        rc = pc_store_refund_count(db, a->o->id, &n);
    if (rc)
        return rc;
    if (a->amount <= 0 || a->amount > a->o->amount_fen - done) {
        *a->outcome = PC_REFUND_AMOUNT;
        return 0;
    }
    char no[65];
    snprintf(no, sizeof no, "R%s-%lld", a->o->order_no, (long long)n + 1);
    rc = pc_store_refund_insert(db, a->o->id, no, a->amount, a->reason, a->by->id);
    if (rc == 0)
        rc = pc_store_refund_get(db, no, false, a->r);
    if (rc == 0) {
        cJSON *d = pc_refund_json(a->r);
        cJSON_AddStringToObject(d, "order_no", a->o->order_no);
        rc = pc_staff_audit(db, a->by, a->o->school_id, "refund.request", "order", a->o->id, d,
                            a->ip, a->rid);
        cJSON_Delete(d);
    }
    *a->outcome = PC_REFUND_OK;
    return rc;
}

int pc_refund_request(struct pc_db *db, const struct pc_staff_auth *by, const char *order_no,
                      int64_t amount_fen, const char *reason, const char *ip,
                      const char *request_id, enum pc_refund_outcome *outcome, struct pc_order *o,
                      struct pc_refund *r)
{
    struct request_args a = {by, order_no, reason, ip, request_id, amount_fen, outcome, o, r};
    return pc_db_tx(db, request_tx, &a);
}

struct apply_args {
    const char *notify_id;
    const cJSON *refund;
    bool *applied;
};

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* An integer amount member of o ("refund", "total") into *v; -1 when absent or not fen. */
static int amount_of(const cJSON *o, const char *k, int64_t *v)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsNumber(x) || x->valuedouble < 0 || x->valuedouble > 9e15 ||
        (double)(int64_t)x->valuedouble != x->valuedouble)
        return -1;
    *v = (int64_t)x->valuedouble;
    return 0;
}

/* WeChat's word on a refund must be about our refund: its amount, of its order (out_trade_no),
 * whose amount is the total. PC_ECONFLICT otherwise (nothing is written). */
static int refund_matches(struct pc_db *db, const cJSON *refund, const struct pc_refund *r)
{
    const cJSON *am = cJSON_GetObjectItemCaseSensitive(refund, "amount");
    const char *otn = jstr(refund, "out_trade_no");
    int64_t amount = 0, total = 0;
    if (amount_of(am, "refund", &amount) || amount_of(am, "total", &total) ||
        amount != r->amount_fen || !otn || strlen(otn) > 32)
        return PC_ECONFLICT;
    struct pc_order o;
    int rc = pc_order_get(db, otn, &o);
    if (rc == PC_ENOTFOUND || (rc == 0 && (o.id != r->order_id || o.amount_fen != total)))
        return PC_ECONFLICT;
    return rc;
}

static int apply_tx(struct pc_db *db, void *arg)
{
    struct apply_args *a = arg;
    const char *no = jstr(a->refund, "out_refund_no");
    const char *st = jstr(a->refund, "refund_status");
    if (!st)
        st = jstr(a->refund, "status");
    const char *rid = jstr(a->refund, "refund_id");
    *a->applied = false;
    if (a->notify_id) {
        int rc = pc_store_notification_insert(db, a->notify_id, "REFUND", no, "received");
        if (rc == PC_EEXIST)
            return 0;
        if (rc)
            return rc;
    }
    struct pc_refund r;
    int rc = no && strlen(no) < 65 ? pc_store_refund_get(db, no, true, &r) : PC_ENOTFOUND;
    if (rc)
        return rc == PC_ENOTFOUND ? PC_ECONFLICT : rc;
    rc = refund_matches(db, a->refund, &r);
    if (rc)
        return rc;
    const char *to = !st                         ? NULL
                     : !strcmp(st, "SUCCESS")    ? "success"
                     : !strcmp(st, "CLOSED")     ? "closed"
                     : !strcmp(st, "ABNORMAL")   ? "abnormal"
                     : !strcmp(st, "PROCESSING") ? "processing"
                                                 : NULL;
    if (!to)
        return PC_ECONFLICT;
    if (!strcmp(r.status, "success") || !strcmp(r.status, to))
        return 0; /* final already, or nothing new */
    char when[32] = "";
    int64_t t;
    const char *stime = jstr(a->refund, "success_time");
    if (stime && pc_time_parse_rfc3339(stime, &t) == 0)
        pc_time_format_db(t, when, sizeof when);
    rc = pc_store_refund_set(db, no, to, rid, when[0] ? when : NULL);
    if (rc == 0 && !strcmp(to, "success")) { /* refunded in full: orders/ moves the order */
        int64_t done = 0;
        bool moved = false;
        const char *otn = jstr(a->refund, "out_trade_no");
        rc = pc_store_refunded_total(db, r.order_id, &done);
        if (rc == 0 && otn && strlen(otn) < 33)
            rc = pc_order_refunded(db, otn, r.order_id, done, &moved);
    }
    if (rc == 0) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "out_refund_no", no);
        cJSON_AddStringToObject(d, "status", to);
        struct pc_audit au = {.actor_type = "wechat",
                              .school_id = r.school_id,
                              .action = "refund.update",
                              .target_type = "refund",
                              .target_id = no,
                              .details = d};
        rc = pc_store_audit_insert(db, &au);
        cJSON_Delete(d);
    }
    *a->applied = rc == 0;
    return rc;
}

int pc_refund_apply(struct pc_db *db, const char *notify_id, const cJSON *refund, bool *applied)
{
    struct apply_args a = {notify_id, refund, applied};
    return pc_db_tx(db, apply_tx, &a);
}

int pc_refund_answered(struct pc_ctx *ctx, const char *out_refund_no,
                       const struct pc_out_resp *resp, struct pc_refund *r)
{
    cJSON *j = NULL;
    bool applied = false;
    if (!resp->err && resp->status == 200 && pc_pay_verify_response(ctx->pay, resp) == 0 &&
        (j = cJSON_ParseWithLength(resp->body, resp->len)) != NULL) {
        int rc = pc_refund_apply(ctx->db, NULL, j, &applied);
        if (rc && rc != PC_ECONFLICT)
            pc_log(PC_LOG_WARN, "refund answer not applied", PC_LS("out_refund_no", out_refund_no));
    } else {
        pc_log(PC_LOG_WARN, "refund call failed; it is retried with the same out_refund_no",
               PC_LS("out_refund_no", out_refund_no), PC_LI("http_status", resp->status));
    }
    cJSON_Delete(j);
    return pc_store_refund_get(ctx->db, out_refund_no, false, r);
}
