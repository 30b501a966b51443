/* payment/wxpay.h — the WeChat Pay API v3 client of portraitd: the merchant's keys and the
 * verification keys loaded once at start-up (immutable, shared by all threads), signed
 * request builders (JSAPI prepay, query, close, refund), response verification, the
 * wx.requestPayment parameters, and notification verification + decryption. */
#ifndef PC_PAYMENT_WXPAY_H
#define PC_PAYMENT_WXPAY_H

#include "net/outbound.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pc_config;
struct pc_pay;

/* Loads keys per the [pay] configuration. Returns NULL with err "" when payments are not
 * configured (pay.mchid empty), NULL with a message in err when they are but a key cannot
 * be loaded. Main thread. */
struct pc_pay *pc_pay_load(const struct pc_config *cfg, char *err, size_t errlen);
void pc_pay_free(struct pc_pay *p);

/* A signed call; the pc_out_req's strings point into the struct (and body, owned). */
struct pc_pay_call {
    struct pc_out_req req;
    char url[1024];
    char auth[1200];
    char *body;
};
void pc_pay_call_free(struct pc_pay_call *c);

/* POST /v3/pay/transactions/jsapi for an order. time_expire: Unix seconds. */
int pc_pay_call_jsapi(const struct pc_pay *p, const char *out_trade_no, int64_t amount_fen,
                      const char *openid, int64_t time_expire, struct pc_pay_call *c);
/* POST /v3/pay/transactions/native for an order (the PC page): the same body without a payer;
 * WeChat answers {"code_url"} for a QR code. time_expire: Unix seconds. */
int pc_pay_call_native(const struct pc_pay *p, const char *out_trade_no, int64_t amount_fen,
                       int64_t time_expire, struct pc_pay_call *c);
/* GET /v3/pay/transactions/out-trade-no/{no}?mchid= */
int pc_pay_call_query(const struct pc_pay *p, const char *out_trade_no, struct pc_pay_call *c);
/* POST /v3/pay/transactions/out-trade-no/{no}/close */
int pc_pay_call_close(const struct pc_pay *p, const char *out_trade_no, struct pc_pay_call *c);

/* POST /v3/refund/domestic/refunds (amounts in fen; total = the order's amount). */
int pc_pay_call_refund(const struct pc_pay *p, const char *out_trade_no, const char *out_refund_no,
                       int64_t refund_fen, int64_t total_fen, const char *reason,
                       struct pc_pay_call *c);

/* GET /v3/bill/tradebill?bill_date=YYYY-MM-DD&bill_type=ALL[&tar_type=GZIP] */
int pc_pay_call_tradebill(const struct pc_pay *p, const char *bill_date, bool gzip,
                          struct pc_pay_call *c);
/* GET of a tradebill reply's download_url, signed like any v3 call (its answer is not).
 * PC_EINVAL unless the URL lies under pay.api_base. */
int pc_pay_call_download(const struct pc_pay *p, const char *download_url, struct pc_pay_call *c);

/* Verifies a WeChat Pay response (2xx must be signed; an unsigned 4xx/5xx is reported as
 * is). 0 when signed and valid, PC_EAUTH otherwise. */
int pc_pay_verify_response(const struct pc_pay *p, const struct pc_out_resp *resp);

/* wx.requestPayment arguments for prepay_id: {"timeStamp","nonceStr","package","signType",
 * "paySign"} (caller deletes). NULL on a signing failure. */
cJSON *pc_pay_request_payment(const struct pc_pay *p, const char *prepay_id);

/* Header values of a notification as received. */
struct pc_pay_notify_headers {
    const char *serial, *timestamp, *nonce, *signature, *signature_type;
};
/* Verifies a notification over the raw body (signature, then freshness against now within
 * pay.notify_max_skew_s), then decrypts resource with the APIv3 key. A serial not known yet
 * (WeChat Pay rotated its certificate) downloads the certificates once, rate-limited
 * (pc_pay_certs_refresh), before it is refused. *resource receives the
 * plaintext JSON (caller deletes) and *envelope the parsed body (caller deletes).
 * 0, PC_EAUTH (signature/freshness: answer 401) or PC_EINVAL (undecryptable: 400). */
int pc_pay_open_notification(const struct pc_pay *p, const struct pc_pay_notify_headers *h,
                             const char *body, size_t len, int64_t now, cJSON **envelope,
                             cJSON **resource);

/* Downloads /v3/certificates (blocking, any thread that may wait pay.timeout_ms): each
 * certificate is decrypted with the APIv3 key and must carry the serial it is listed under and
 * not be expired; the answer must be signed by one of them or by a key known already; then
 * every one is kept by serial beside the keys there were (platform certificates of the
 * configuration, the public key), and expired ones are dropped. One download at a time.
 * 0, or PC_EUPSTREAM / PC_EAUTH with err saying why (the keys are left as they were). */
int pc_pay_certs_refresh(const struct pc_pay *p, char *err, size_t errlen);
/* The jobs' refresher (app/jobs.h): every pay.cert_refresh_s, sooner after a failure. */
struct pc_ctx;
int pc_pay_certs_job(struct pc_ctx *ctx, void *arg);

const char *pc_pay_mchid(const struct pc_pay *p);
const char *pc_pay_appid(const struct pc_pay *p);

#endif
