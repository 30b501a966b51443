/* payment/wxpay.c — WeChat Pay v3 client: key loading, signed calls, verification. */
#include "payment/wxpay.h"

#include "core/ctx.h"

#include "base/alloc.h"
#include "base/err.h"
#include "base/log.h"
#include "base/stats.h"
#include "base/timeutil.h"
#include "payment/wxpay_crypto.h"
#include "config/config.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The platform certificates' downloads: one at a time, an unknown serial at most every
 * pay.cert_unknown_min_interval_s. Mutable behind the otherwise immutable client. */
struct certs_state {
    pthread_mutex_t mu;      /* one download at a time */
    pthread_mutex_t unknown; /* guards last_unknown_s */
    int64_t last_unknown_s;  /* the last download an unknown serial caused, Unix seconds */
};

struct pc_pay {
    const struct pc_config *cfg;
    struct pc_pay_signer *signer;
    struct pc_pay_keys *keys;
    char apiv3[33];
    struct certs_state *certs;
};

static struct pc_stat g_refresh_ok = PC_STAT_INIT(
    "portraitd_pay_cert_refresh_total", "counter", "result=\"ok\"",
    "Downloads of the WeChat Pay platform certificates (/v3/certificates), by result.", 0);
static struct pc_stat g_refresh_failed =
    PC_STAT_INIT("portraitd_pay_cert_refresh_total", "counter", "result=\"failed\"",
                 "Downloads of the WeChat Pay platform certificates, by result.", 0);
static struct pc_stat g_unknown_serial =
    PC_STAT_INIT("portraitd_pay_unknown_serial_total", "counter", NULL,
                 "Signatures of WeChat Pay that named a serial not known at the time.", 0);
static struct pc_stat g_keys = PC_STAT_INIT(
    "portraitd_pay_verification_keys", "gauge", NULL,
    "WeChat Pay keys verifying signatures (platform certificates and public keys).", 0);

static int sign_call(const struct pc_pay *p, const char *method, const char *path, char *body,
                     const char *name, struct pc_pay_call *c);

struct pc_pay *pc_pay_load(const struct pc_config *cfg, char *err, size_t errlen)
{
    err[0] = '\0';
    if (!cfg->pay_mchid[0])
        return NULL;
    struct pc_pay *p = pc_new(struct pc_pay);
    p->cfg = cfg;
    p->keys = pc_pay_keys_new();
    p->certs = pc_new(struct certs_state);
    pthread_mutex_init(&p->certs->mu, NULL);
    pthread_mutex_init(&p->certs->unknown, NULL);
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
    if (!cfg->pay_platform_certs[0] && cfg->pay_cert_download) {
        /* Bootstrap (no platform certificate configured): the first list is verified with a
         * certificate it holds (each one came decrypted with the APIv3 key, which only WeChat
         * Pay and we know), before the server answers its first notification. */
        char why[256];
        if (pc_pay_certs_refresh(p, why, sizeof why))
            pc_log(PC_LOG_WARN,
                   "platform certificates not downloaded at start; retried by the "
                   "jobs and on the first notification",
                   PC_LS("error", why));
    }
    if (pc_pay_keys_count(p->keys) == 0 && !cfg->pay_cert_download) {
        snprintf(err, errlen,
                 "no WeChat Pay verification key (pay.platform_certs, pay.pubkey_* or "
                 "pay.cert_download)");
        goto fail;
    }
    pc_stat_set(&g_keys, (long long)pc_pay_keys_count(p->keys));
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
    if (p->certs) {
        pthread_mutex_destroy(&p->certs->mu);
        pthread_mutex_destroy(&p->certs->unknown);
    }
    free(p->certs);
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

/* A serial not known yet: WeChat Pay has rotated its certificate (a new one is used within 24
 * hours of appearing). Downloads the list again — at most every cert_unknown_min_interval_s
 * — and says whether the serial is known now. Public-key ids are never downloaded. */
static bool learn_serial(const struct pc_pay *p, const char *serial)
{
    if (!serial || !serial[0] || pc_pay_keys_has(p->keys, serial))
        return false;
    pc_stat_add(&g_unknown_serial, 1);
    if (!p->cfg->pay_cert_download || !strncmp(serial, "PUB_KEY_ID_", 11))
        return false;
    /* Whoever can reach the notify URL can name serials: the downloads they cause are capped,
     * whatever the serials. */
    pthread_mutex_lock(&p->certs->unknown);
    int64_t now = pc_time_now_ms() / 1000;
    bool due = !p->certs->last_unknown_s ||
               now - p->certs->last_unknown_s >= p->cfg->pay_cert_unknown_min_s;
    if (due)
        p->certs->last_unknown_s = now;
    pthread_mutex_unlock(&p->certs->unknown);
    if (due) {
        char why[256];
        pc_log(PC_LOG_INFO,
               "a WeChat Pay signature names an unknown serial; downloading the "
               "platform certificates",
               PC_LS("serial", serial));
        if (pc_pay_certs_refresh(p, why, sizeof why))
            pc_log(PC_LOG_WARN, "platform certificates not downloaded", PC_LS("error", why));
    }
    return pc_pay_keys_has(p->keys, serial);
}

/* Verifies ts\nnonce\nbody\n under serial, learning a rotated serial once. */
static int verify_signed(const struct pc_pay *p, const char *serial, const char *ts,
                         const char *nonce, const void *body, size_t len, const char *sig)
{
    int rc = pc_pay_verify(p->keys, serial, ts, nonce, body, len, sig);
    if (rc && learn_serial(p, serial))
        rc = pc_pay_verify(p->keys, serial, ts, nonce, body, len, sig);
    return rc;
}

int pc_pay_verify_response(const struct pc_pay *p, const struct pc_out_resp *resp)
{
    char serial[PC_PAY_SERIAL_MAX], ts[32], nonce[128], sig[PC_PAY_SIG_B64_MAX];
    if (!pc_out_resp_header(resp, "Wechatpay-Serial", serial, sizeof serial) ||
        !pc_out_resp_header(resp, "Wechatpay-Timestamp", ts, sizeof ts) ||
        !pc_out_resp_header(resp, "Wechatpay-Nonce", nonce, sizeof nonce) ||
        !pc_out_resp_header(resp, "Wechatpay-Signature", sig, sizeof sig))
        return PC_EAUTH;
    return verify_signed(p, serial, ts, nonce, resp->body, resp->len, sig);
}

int pc_pay_certs_refresh(const struct pc_pay *p, char *err, size_t errlen)
{
    struct pc_pay_call call;
    struct pc_out_resp resp;
    struct pc_pay_keys *got = pc_pay_keys_new();
    cJSON *j = NULL;
    int rc = PC_EUPSTREAM;
    err[0] = '\0';
    pthread_mutex_lock(&p->certs->mu); /* one download at a time */
    memset(&resp, 0, sizeof resp);
    if (sign_call(p, "GET", "/v3/certificates", NULL, "certificates", &call)) {
        snprintf(err, errlen, "cannot sign the request");
        goto out;
    }
    pc_outbound_perform(&call.req, &resp);
    pc_pay_call_free(&call);
    if (resp.err || resp.status != 200) {
        snprintf(err, errlen, "GET /v3/certificates: %s (HTTP %ld)",
                 resp.err ? resp.errmsg : "refused", resp.status);
        goto out;
    }
    j = cJSON_ParseWithLength(resp.body, resp.len);
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(j, "data"))
    {
        const cJSON *sn = cJSON_GetObjectItemCaseSensitive(it, "serial_no");
        const cJSON *ec = cJSON_GetObjectItemCaseSensitive(it, "encrypt_certificate");
        const cJSON *alg = cJSON_GetObjectItemCaseSensitive(ec, "algorithm");
        const cJSON *nc = cJSON_GetObjectItemCaseSensitive(ec, "nonce");
        const cJSON *ad = cJSON_GetObjectItemCaseSensitive(ec, "associated_data");
        const cJSON *ct = cJSON_GetObjectItemCaseSensitive(ec, "ciphertext");
        if (!cJSON_IsString(sn) || !cJSON_IsString(alg) ||
            strcmp(alg->valuestring, "AEAD_AES_256_GCM") || !cJSON_IsString(nc) ||
            !cJSON_IsString(ct))
            continue;
        size_t cap = strlen(ct->valuestring) + 1, n = 0;
        char *pem = pc_xmalloc(cap);
        /* Only WeChat Pay encrypts with our APIv3 key: a certificate that decrypts is theirs. */
        if (pc_pay_decrypt(p->apiv3, 32, nc->valuestring, cJSON_IsString(ad) ? ad->valuestring : "",
                           ct->valuestring, pem, cap, &n) == 0 &&
            pc_pay_keys_add_cert_as(got, pem, n, sn->valuestring) != 0)
            pc_log(PC_LOG_WARN,
                   "a downloaded platform certificate is refused (expired, or not "
                   "the serial it is listed under)",
                   PC_LS("serial", sn->valuestring));
        free(pem);
    }
    /* The answer itself must be signed, by a certificate known before or just decrypted. */
    char serial[PC_PAY_SERIAL_MAX], ts[32], nonce[128], sig[PC_PAY_SIG_B64_MAX];
    struct pc_pay_keys *by = NULL;
    if (pc_out_resp_header(&resp, "Wechatpay-Serial", serial, sizeof serial) &&
        pc_out_resp_header(&resp, "Wechatpay-Timestamp", ts, sizeof ts) &&
        pc_out_resp_header(&resp, "Wechatpay-Nonce", nonce, sizeof nonce) &&
        pc_out_resp_header(&resp, "Wechatpay-Signature", sig, sizeof sig))
        by = pc_pay_keys_has(got, serial) ? got : p->keys;
    if (!by || pc_pay_verify(by, serial, ts, nonce, resp.body, resp.len, sig)) {
        snprintf(err, errlen, "the certificate list is not signed by WeChat Pay");
        rc = PC_EAUTH;
        goto out;
    }
    if (pc_pay_keys_count(got) == 0) {
        snprintf(err, errlen, "the list holds no usable certificate");
        goto out;
    }
    rc = pc_pay_keys_merge(p->keys, got);
    if (rc)
        snprintf(err, errlen, "too many verification keys");
out:
    pthread_mutex_unlock(&p->certs->mu);
    pc_pay_keys_prune(p->keys, pc_time_now_ms() / 1000);
    pc_stat_add(rc ? &g_refresh_failed : &g_refresh_ok, 1);
    pc_stat_set(&g_keys, (long long)pc_pay_keys_count(p->keys));
    if (rc == 0) {
        char serials[512];
        pc_pay_keys_serials(p->keys, serials, sizeof serials);
        pc_log(PC_LOG_INFO, "platform certificates refreshed", PC_LS("serials", serials));
    }
    cJSON_Delete(j);
    pc_out_resp_clear(&resp);
    pc_pay_keys_free(got);
    return rc;
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
    if (verify_signed(p, h->serial, h->timestamp, h->nonce, body, len, h->signature))
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

int pc_pay_certs_job(struct pc_ctx *ctx, void *arg)
{
    (void)arg;
    const struct pc_pay *p = ctx->pay;
    if (!p || !p->cfg->pay_cert_download)
        return 3600 * 1000;
    char why[256];
    if (pc_pay_certs_refresh(p, why, sizeof why)) {
        pc_log(PC_LOG_WARN, "platform certificates not refreshed; trying again in a minute",
               PC_LS("error", why));
        return 60 * 1000;
    }
    return p->cfg->pay_cert_refresh_s * 1000;
}
