/* payment/wxpay.c — WeChat Pay v3 client: key loading, signed calls, verification. */
#include "payment/wxpay.h"

#include "base/alloc.h"
#include "base/err.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "payment/wxpay_crypto.h"
#include "config/config.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pc_pay {
    const struct pc_config *cfg;
    struct pc_pay_signer *signer;
    struct pc_pay_keys *keys;
    char apiv3[33];
};

struct pc_pay *pc_pay_load(const struct pc_config *cfg, char *err, size_t errlen)
{
    err[0] = '\0';
    if (!cfg->pay_mchid[0])
        return NULL;
    struct pc_pay *p = pc_new(struct pc_pay);
    p->cfg = cfg;
    p->keys = pc_pay_keys_new();
    if (strlen(cfg->pay_apiv3_key) != 32) {
        snprintf(err, errlen, "pay.apiv3_key must be 32 characters (PORTRAITD_PAY_APIV3_KEY)");
        goto fail;
    }
    memcpy(p->apiv3, cfg->pay_apiv3_key, 33);
    p->signer =
        pc_pay_signer_load(cfg->pay_merchant_key_file, cfg->pay_mchid, cfg->pay_merchant_serial);
    if (!p->signer) {
        snprintf(err, errlen, "cannot load pay.merchant_key_file %s", cfg->pay_merchant_key_file);
        goto fail;
    }
    char *list = pc_xstrdup(cfg->pay_platform_certs), *save = NULL;
    for (char *f = strtok_r(list, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
        while (*f == ' ')
            f++;
        if (*f && pc_pay_keys_add_file(p->keys, NULL, f)) {
            snprintf(err, errlen, "cannot load platform certificate %s", f);
            free(list);
            goto fail;
        }
    }
    free(list);
    if (cfg->pay_pubkey_id[0] &&
        pc_pay_keys_add_file(p->keys, cfg->pay_pubkey_id, cfg->pay_pubkey_file)) {
        snprintf(err, errlen, "cannot load pay.pubkey_file %s", cfg->pay_pubkey_file);
        goto fail;
    }
    if (pc_pay_keys_count(p->keys) == 0) {
        snprintf(err, errlen,
                 "no WeChat Pay verification key (pay.platform_certs or pay.pubkey_*)");
        goto fail;
    }
    return p;
fail:
    pc_pay_free(p);
    return NULL;
}

void pc_pay_free(struct pc_pay *p)
{
    if (!p)
        return;
    pc_pay_signer_free(p->signer);
    pc_pay_keys_free(p->keys);
    OPENSSL_cleanse(p->apiv3, sizeof p->apiv3);
    free(p);
}

const char *pc_pay_mchid(const struct pc_pay *p)
{
    return p->cfg->pay_mchid;
}

const char *pc_pay_appid(const struct pc_pay *p)
{
    return p->cfg->wx_appid;
}

void pc_pay_call_free(struct pc_pay_call *c)
{
    free(c->body);
    c->body = NULL;
}

/* Fills c for METHOD path (with query) and body (taken), signed now. */
static int sign_call(const struct pc_pay *p, const char *method, const char *path, char *body,
                     const char *name, struct pc_pay_call *c)
{
    memset(&c->req, 0, sizeof c->req);
    c->body = body;
    size_t blen = body ? strlen(body) : 0;
    int rc = pc_pay_authorization(p->signer, method, path, body, blen, pc_time_now_ms() / 1000,
                                  NULL, c->auth + 15, sizeof c->auth - 15);
    if (rc)
        return rc;
    memcpy(c->auth, "Authorization: ", 15);
    snprintf(c->url, sizeof c->url, "%s%s", p->cfg->pay_api_base, path);
    c->req.method = method;
    c->req.url = c->url;
    c->req.body = body;
    c->req.body_len = blen;
    c->req.timeout_ms = p->cfg->pay_timeout_ms;
    c->req.max_response = 1 << 20;
    c->req.ca_file = p->cfg->pay_ca_file;
    c->req.name = name;
    c->req.headers[0] = c->auth;
    c->req.headers[1] = "Accept: application/json";
    c->req.headers[2] = body ? "Content-Type: application/json" : NULL;
    return 0;
}

/* The prepay body of §4 (JSAPI with the payer's openid; Native without a payer). */
static char *prepay_body(const struct pc_pay *p, const char *out_trade_no, int64_t amount_fen,
                         const char *openid, int64_t time_expire)
{
    char te[32];
    pc_time_rfc3339(time_expire, te, sizeof te, PC_TZ_SHANGHAI_MIN);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "appid", p->cfg->wx_appid);
    cJSON_AddStringToObject(o, "mchid", p->cfg->pay_mchid);
    cJSON_AddStringToObject(o, "description", p->cfg->pay_description);
    cJSON_AddStringToObject(o, "out_trade_no", out_trade_no);
    cJSON_AddStringToObject(o, "time_expire", te);
    cJSON_AddStringToObject(o, "notify_url", p->cfg->pay_notify_url);
    cJSON *a = cJSON_AddObjectToObject(o, "amount");
    cJSON_AddNumberToObject(a, "total", (double)amount_fen); /* an integer: fen */
    cJSON_AddStringToObject(a, "currency", "CNY");
    if (openid) {
        cJSON *payer = cJSON_AddObjectToObject(o, "payer");
        cJSON_AddStringToObject(payer, "openid", openid);
    }
    char *body = cJSON_PrintUnformatted(o); /* serialised once, signed and sent as is */
    cJSON_Delete(o);
    return body;
}

int pc_pay_call_jsapi(const struct pc_pay *p, const char *out_trade_no, int64_t amount_fen,
                      const char *openid, int64_t time_expire, struct pc_pay_call *c)
{
    char *body = prepay_body(p, out_trade_no, amount_fen, openid, time_expire);
    return sign_call(p, "POST", "/v3/pay/transactions/jsapi", body, "jsapi", c);
}

int pc_pay_call_native(const struct pc_pay *p, const char *out_trade_no, int64_t amount_fen,
                       int64_t time_expire, struct pc_pay_call *c)
{
    char *body = prepay_body(p, out_trade_no, amount_fen, NULL, time_expire);
    return sign_call(p, "POST", "/v3/pay/transactions/native", body, "native", c);
}

int pc_pay_call_query(const struct pc_pay *p, const char *out_trade_no, struct pc_pay_call *c)
{
    char path[256];
    snprintf(path, sizeof path, "/v3/pay/transactions/out-trade-no/%s?mchid=%s", out_trade_no,
             p->cfg->pay_mchid);
    return sign_call(p, "GET", path, NULL, "query", c);
}

int pc_pay_call_tradebill(const struct pc_pay *p, const char *bill_date, bool gzip,
                          struct pc_pay_call *c)
{
    char path[128];
    if (!bill_date || strlen(bill_date) != 10 || strspn(bill_date, "0123456789-") != 10)
        return PC_EINVAL;
    snprintf(path, sizeof path, "/v3/bill/tradebill?bill_date=%s&bill_type=ALL%s", bill_date,
             gzip ? "&tar_type=GZIP" : "");
    return sign_call(p, "GET", path, NULL, "tradebill", c);
}

int pc_pay_call_download(const struct pc_pay *p, const char *download_url, struct pc_pay_call *c)
{
    size_t base = strlen(p->cfg->pay_api_base);
    if (!download_url || strncmp(download_url, p->cfg->pay_api_base, base) != 0 ||
        download_url[base] != '/' || strlen(download_url) >= sizeof c->url)
        return PC_EINVAL;
    int rc = sign_call(p, "GET", download_url + base, NULL, "billdownload", c);
    c->req.max_response = 256u << 20;
    c->req.headers[1] = "Accept: */*";
    return rc;
}

int pc_pay_call_close(const struct pc_pay *p, const char *out_trade_no, struct pc_pay_call *c)
{
    char path[256];
    snprintf(path, sizeof path, "/v3/pay/transactions/out-trade-no/%s/close", out_trade_no);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "mchid", p->cfg->pay_mchid);
    char *body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return sign_call(p, "POST", path, body, "close", c);
}

int pc_pay_call_refund(const struct pc_pay *p, const char *out_trade_no, const char *out_refund_no,
                       int64_t refund_fen, int64_t total_fen, const char *reason,
                       struct pc_pay_call *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "out_trade_no", out_trade_no);
    cJSON_AddStringToObject(o, "out_refund_no", out_refund_no);
    if (reason && reason[0])
        cJSON_AddStringToObject(o, "reason", reason);
    if (p->cfg->pay_refund_notify_url[0])
        cJSON_AddStringToObject(o, "notify_url", p->cfg->pay_refund_notify_url);
    cJSON *a = cJSON_AddObjectToObject(o, "amount");
    cJSON_AddNumberToObject(a, "refund", (double)refund_fen);
    cJSON_AddNumberToObject(a, "total", (double)total_fen);
    cJSON_AddStringToObject(a, "currency", "CNY");
    char *body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return sign_call(p, "POST", "/v3/refund/domestic/refunds", body, "refund", c);
}

int pc_pay_verify_response(const struct pc_pay *p, const struct pc_out_resp *resp)
{
    char serial[PC_PAY_SERIAL_MAX], ts[32], nonce[128], sig[PC_PAY_SIG_B64_MAX];
    if (!pc_out_resp_header(resp, "Wechatpay-Serial", serial, sizeof serial) ||
        !pc_out_resp_header(resp, "Wechatpay-Timestamp", ts, sizeof ts) ||
        !pc_out_resp_header(resp, "Wechatpay-Nonce", nonce, sizeof nonce) ||
        !pc_out_resp_header(resp, "Wechatpay-Signature", sig, sizeof sig))
        return PC_EAUTH;
    return pc_pay_verify(p->keys, serial, ts, nonce, resp->body, resp->len, sig);
}

cJSON *pc_pay_request_payment(const struct pc_pay *p, const char *prepay_id)
{
    char ts[24], nonce[33], package[128], sig[PC_PAY_SIG_B64_MAX];
    snprintf(ts, sizeof ts, "%lld", (long long)(pc_time_now_ms() / 1000));
    snprintf(package, sizeof package, "prepay_id=%s", prepay_id);
    if (pc_pay_nonce(nonce) ||
        pc_pay_pay_sign(p->signer, p->cfg->wx_appid, ts, nonce, package, sig, sizeof sig))
        return NULL;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "appId", p->cfg->wx_appid);
    cJSON_AddStringToObject(o, "timeStamp", ts);
    cJSON_AddStringToObject(o, "nonceStr", nonce);
    cJSON_AddStringToObject(o, "package", package);
    cJSON_AddStringToObject(o, "signType", "RSA");
    cJSON_AddStringToObject(o, "paySign", sig);
    return o;
}

int pc_pay_open_notification(const struct pc_pay *p, const struct pc_pay_notify_headers *h,
                             const char *body, size_t len, int64_t now, cJSON **envelope,
                             cJSON **resource)
{
    *envelope = *resource = NULL;
    if (h->signature_type && h->signature_type[0] &&
        strcmp(h->signature_type, "WECHATPAY2-SHA256-RSA2048") != 0)
        return PC_EAUTH;
    if (pc_pay_verify(p->keys, h->serial, h->timestamp, h->nonce, body, len, h->signature))
        return PC_EAUTH;
    char *end = NULL;
    long long ts = strtoll(h->timestamp, &end, 10);
    if (!end || *end || llabs(now - ts) >= p->cfg->pay_notify_max_skew_s)
        return PC_EAUTH;
    cJSON *env = cJSON_ParseWithLength(body, len);
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(env, "resource");
    const cJSON *alg = cJSON_GetObjectItemCaseSensitive(res, "algorithm");
    const cJSON *ct = cJSON_GetObjectItemCaseSensitive(res, "ciphertext");
    const cJSON *ad = cJSON_GetObjectItemCaseSensitive(res, "associated_data");
    const cJSON *nc = cJSON_GetObjectItemCaseSensitive(res, "nonce");
    if (!cJSON_IsObject(env) || !cJSON_IsString(alg) ||
        strcmp(alg->valuestring, "AEAD_AES_256_GCM") || !cJSON_IsString(ct) ||
        !cJSON_IsString(nc)) {
        cJSON_Delete(env);
        return PC_EINVAL;
    }
    size_t cap = strlen(ct->valuestring) + 1, n = 0;
    char *plain = pc_xmalloc(cap);
    int rc =
        pc_pay_decrypt(p->apiv3, 32, nc->valuestring, cJSON_IsString(ad) ? ad->valuestring : "",
                       ct->valuestring, plain, cap, &n);
    cJSON *tx = rc == 0 ? cJSON_ParseWithLength(plain, n) : NULL;
    OPENSSL_cleanse(plain, cap);
    free(plain);
    if (!cJSON_IsObject(tx)) {
        cJSON_Delete(tx);
        cJSON_Delete(env);
        return PC_EINVAL;
    }
    *envelope = env;
    *resource = tx;
    return 0;
}
