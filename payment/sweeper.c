/* payment/sweeper.c — query-then-close of unpaid orders on the jobs thread. */
#include "payment/sweeper.h"

#include "base/err.h"
#include "base/log.h"
#include "orders/orders.h"
#include "orders/state.h"
#include "payment/apply.h"
#include "payment/wxpay.h"
#include "config/config.h"
#include "store/leases.h"

#include <stdio.h>
#include <string.h>

#define LEASE       "pay_sweeper"
#define LEASE_TTL_S 60
#define BATCH       50

/* Queries WeChat about an order: 0 with *tx (caller deletes) or PC_ENOTFOUND (WeChat does
 * not know it), or PC_EUPSTREAM / PC_EIO. */
static int query(struct pc_ctx *ctx, const char *order_no, cJSON **tx)
{
    struct pc_pay_call call;
    struct pc_out_resp resp;
    *tx = NULL;
    if (pc_pay_call_query(ctx->pay, order_no, &call))
        return PC_ECRYPTO;
    pc_outbound_perform(&call.req, &resp);
    pc_pay_call_free(&call);
    int rc;
    if (resp.err)
        rc = PC_EIO;
    else if (resp.status == 404)
        rc = PC_ENOTFOUND;
    else if (resp.status != 200 || pc_pay_verify_response(ctx->pay, &resp))
        rc = PC_EUPSTREAM;
    else {
        *tx = cJSON_ParseWithLength(resp.body, resp.len);
        rc = cJSON_IsObject(*tx) ? 0 : PC_EUPSTREAM;
    }
    pc_out_resp_clear(&resp);
    return rc;
}

static int close_at_wechat(struct pc_ctx *ctx, const char *order_no)
{
    struct pc_pay_call call;
    struct pc_out_resp resp;
    if (pc_pay_call_close(ctx->pay, order_no, &call))
        return PC_ECRYPTO;
    pc_outbound_perform(&call.req, &resp);
    pc_pay_call_free(&call);
    int rc = resp.err                                                            ? PC_EIO
             : resp.status == 204                                                ? 0
             : resp.status == 400 && resp.body && strstr(resp.body, "ORDERPAID") ? PC_ECONFLICT
                                                                                 : PC_EUPSTREAM;
    pc_out_resp_clear(&resp);
    return rc;
}

int pc_pay_sweep_order(struct pc_ctx *ctx, const char *order_no)
{
    struct pc_order o;
    int rc = pc_order_get(ctx->db, order_no, &o);
    if (rc || strcmp(o.status, "unpaid") != 0)
        return rc == PC_ENOTFOUND ? 0 : rc;
    cJSON *tx = NULL;
    if (o.prepay_id[0]) {
        rc = query(ctx, order_no, &tx);
        if (rc == 0) {
            const cJSON *st = cJSON_GetObjectItemCaseSensitive(tx, "trade_state");
            if (cJSON_IsString(st) && !strcmp(st->valuestring, "SUCCESS")) {
                enum pc_apply_result res;
                rc = pc_payment_apply(ctx->db, ctx->cfg, NULL, "QUERY", tx, "query", &res);
                pc_log(PC_LOG_INFO, "sweeper applied a payment found by query",
                       PC_LS("order_no", order_no), PC_LI("result", res));
                cJSON_Delete(tx);
                return rc;
            }
        } else if (rc != PC_ENOTFOUND) {
            return 0; /* WeChat unreachable: try again next round, never close blind */
        }
        cJSON_Delete(tx);
    }
    if (!o.pay_overdue)
        return 0;
    if (o.prepay_id[0]) {
        rc = close_at_wechat(ctx, order_no);
        if (rc == PC_ECONFLICT) /* paid after all: the next query applies it */
            return 0;
        if (rc)
            return 0;
    }
    bool closed = false;
    rc = pc_order_close(ctx->db, order_no, PC_CLOSE_PAY_TIMEOUT, &closed);
    if (rc == 0 && closed)
        pc_log(PC_LOG_INFO, "closed an unpaid order past its deadline",
               PC_LS("order_no", order_no));
    return rc;
}

int pc_pay_sweeper_job(struct pc_ctx *ctx, void *arg)
{
    (void)arg;
    if (!ctx->pay)
        return 60000;
    bool held = false;
    if (pc_store_lease_acquire(ctx->db, LEASE, ctx->instance, LEASE_TTL_S, &held) || !held)
        return ctx->cfg->pay_sweep_interval_ms;
    char nos[BATCH][33];
    size_t n = 0;
    if (pc_order_list_to_sweep(ctx->db, ctx->cfg->pay_sweep_min_age_s, BATCH, nos, &n) == 0)
        for (size_t i = 0; i < n; i++) {
            /* The lease is renewed per order (a query and a close, each bounded by
             * pay.timeout_ms, fit in it; a batch of 50 would not): lost, the batch stops. */
            if (i && (pc_store_lease_acquire(ctx->db, LEASE, ctx->instance, LEASE_TTL_S, &held) ||
                      !held))
                break;
            pc_pay_sweep_order(ctx, nos[i]);
        }
    return ctx->cfg->pay_sweep_interval_ms;
}
