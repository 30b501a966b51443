/* tools/sandbox/pay.c — the WeChat Pay API v3 side of the sandbox (wechat-protocols.md
 * §4–§7): request authentication (WECHATPAY2-SHA256-RSA2048), signed responses, JSAPI
 * orders, query, close, refunds, and the control calls POST /__sandbox/pay and
 * GET /__sandbox/notifications. Notification delivery lives in pay_notify.c.
 * Loop thread only. */
#include "tools/sandbox/pay.h"

#include "base/alloc.h"
#include "base/crypto.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "payment/wxpay_crypto.h"
#include "net/outbound.h"
#include "tools/sandbox/state.h"
#include "tools/sandbox/validate.h"

#include <event2/event.h>
#include <openssl/crypto.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------- loading ---------- */

/* Reads a small text file into buf, trailing white space removed. 0 or -1. */
static int sb_read_small(const char *dir, const char *name, char *buf, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, len - 1, f);
    int bad = ferror(f) || !feof(f);
    fclose(f);
    if (bad)
        return -1;
    buf[n] = '\0';
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    return n ? 0 : -1;
}

/* Signs a probe with s and verifies it under serial with the public half in k. */
static int sb_pay_selftest(const struct pc_pay_signer *s, const struct pc_pay_keys *k,
                           const char *serial)
{
    static const char probe[] = "portraitd-sandbox self test\n";
    char sig[PC_PAY_SIG_B64_MAX];
    if (pc_pay_sign(s, probe, sizeof probe - 1, sig, sizeof sig))
        return -1;
    return pc_pay_verify_message(k, serial, probe, sizeof probe - 1, sig) ? -1 : 0;
}

/* Loads everything of --pay-dir (scripts/gen-pay-keys.sh). 0, or -1 with err set. */
static int sb_pay_load(struct sb_pay *p, const char *dir, char *err, size_t errlen)
{
    char path[4096], key[64];
    struct pc_pay_signer *merchant = NULL;
    struct pc_pay_keys *check = pc_pay_keys_new();
    int rc = -1;
    if (sb_read_small(dir, "mchid", p->mchid, sizeof p->mchid) ||
        sb_read_small(dir, "merchant.serial", p->merchant_serial, sizeof p->merchant_serial) ||
        sb_read_small(dir, "platform.serial", p->platform_serial, sizeof p->platform_serial) ||
        sb_read_small(dir, "pubkey.id", p->pubkey_id, sizeof p->pubkey_id) ||
        sb_read_small(dir, "apiv3.key", key, sizeof key)) {
        snprintf(err, errlen,
                 "%s: missing mchid, *.serial, pubkey.id or apiv3.key "
                 "(run scripts/gen-pay-keys.sh)",
                 dir);
        goto out;
    }
    if (strlen(key) != 32) {
        snprintf(err, errlen, "%s/apiv3.key must hold 32 characters", dir);
        goto out;
    }
    memcpy(p->apiv3, key, 32);
    snprintf(path, sizeof path, "%s/merchant.pem", dir);
    if (pc_pay_keys_add_file(p->merchant_keys, NULL, path)) {
        snprintf(err, errlen, "cannot load %s", path);
        goto out;
    }
    snprintf(path, sizeof path, "%s/platform.key", dir);
    p->platform = pc_pay_signer_load(path, p->mchid, p->platform_serial);
    snprintf(path, sizeof path, "%s/pubkey.key", dir);
    p->pubkey = pc_pay_signer_load(path, p->mchid, p->pubkey_id);
    snprintf(path, sizeof path, "%s/merchant.key", dir);
    merchant = pc_pay_signer_load(path, p->mchid, p->merchant_serial);
    if (!p->platform || !p->pubkey || !merchant) {
        snprintf(err, errlen, "cannot load %s/{platform,pubkey,merchant}.key", dir);
        goto out;
    }
    snprintf(path, sizeof path, "%s/platform.pem", dir);
    int bad = pc_pay_keys_add_file(check, NULL, path);
    snprintf(path, sizeof path, "%s/pubkey.pub", dir);
    bad = bad || pc_pay_keys_add_file(check, p->pubkey_id, path);
    if (bad || sb_pay_selftest(p->platform, check, p->platform_serial) ||
        sb_pay_selftest(p->pubkey, check, p->pubkey_id) ||
        sb_pay_selftest(merchant, p->merchant_keys, p->merchant_serial)) {
        snprintf(err, errlen, "%s: a key does not match its certificate, serial or id", dir);
        goto out;
    }
    rc = 0;
out:
    pc_pay_signer_free(merchant);
    pc_pay_keys_free(check);
    OPENSSL_cleanse(key, sizeof key);
    return rc;
}

struct sb_pay *sb_pay_new(struct event_base *base, const struct sb_opts *opts, struct sb_state *st,
                          char *err, size_t errlen)
{
    struct sb_pay *p = pc_new(struct sb_pay);
    p->opts = opts;
    p->st = st;
    p->base = base;
    p->merchant_keys = pc_pay_keys_new();
    err[0] = '\0';
    if (opts->pay_dir) {
        if (sb_pay_load(p, opts->pay_dir, err, errlen) ||
            sb_certs_init(p, opts->pay_dir, err, errlen)) {
            sb_pay_free(p);
            return NULL;
        }
        p->ready = 1;
    }
    p->out = pc_outbound_new(base);
    return p;
}

/* Forgets the orders and refunds (notifications: sb_notify_clear). */
static void sb_pay_clear(struct sb_pay *p)
{
    for (struct sb_order *o = p->orders, *next; o; o = next) {
        next = o->next;
        free(o);
    }
    p->orders = p->orders_tail = NULL;
    p->norders = 0;
    for (struct sb_refund *r = p->refunds, *next; r; r = next) {
        next = r->next;
        if (r->timer)
            event_free(r->timer);
        free(r);
    }
    p->refunds = p->refunds_tail = NULL;
    p->nrefunds = 0;
}

void sb_pay_reset(struct sb_pay *p)
{
    if (!p)
        return;
    sb_pay_clear(p);
    sb_notify_clear(p);
}

void sb_pay_free(struct sb_pay *p)
{
    if (!p)
        return;
    p->closing = 1;
    pc_outbound_free(p->out); /* in-flight deliveries end with PC_EBUSY */
    p->out = NULL;
    sb_pay_reset(p);
    pc_pay_keys_free(p->merchant_keys);
    pc_pay_signer_free(p->platform);
    pc_pay_signer_free(p->pubkey);
    sb_certs_free(p);
    OPENSSL_cleanse(p->apiv3, sizeof p->apiv3);
    free(p);
}

/* ---------- small helpers ---------- */

static struct sb_pay *sb_pay_of(struct sb_call *c)
{
    return sb_state_pay(c->st);
}

int sb_pay_path(const char *path)
{
    return path && !strncmp(path, "/v3/", 4);
}

const char *sb_pay_serial(const struct sb_pay *p)
{
    return p->opts->pay_pubkey_mode ? p->pubkey_id : p->platform_serial;
}

const struct pc_pay_signer *sb_pay_signer(const struct sb_pay *p)
{
    return p->opts->pay_pubkey_mode ? p->pubkey : p->platform;
}

void sb_pay_now_text(char *out, size_t len)
{
    pc_time_rfc3339(pc_time_now_ms() / 1000, out, len, PC_TZ_SHANGHAI_MIN);
}

void sb_pay_digits(char *out, size_t n)
{
    unsigned char r[64];
    while (n) {
        size_t k = n < sizeof r ? n : sizeof r;
        pc_rand_bytes(r, k);
        for (size_t i = 0; i < k; i++)
            out[i] = (char)('0' + r[i] % 10);
        out += k;
        n -= k;
    }
    *out = '\0';
}

/* "YYYYMMDD" (or with hms, "YYYYMMDDhhmmss") of now at +08:00. */
static void sb_pay_date_digits(char *out, size_t len, int hms)
{
    char t[40];
    size_t k = 0;
    sb_pay_now_text(t, sizeof t);
    for (const char *s = t; *s && s < t + 19 && k + 1 < len; s++) {
        if (*s >= '0' && *s <= '9')
            out[k++] = *s;
        if (!hms && k == 8)
            break;
    }
    out[k] = '\0';
}

void sb_pay_error(struct sb_call *c, int status, const char *code, const char *message)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "code", code);
    cJSON_AddStringToObject(j, "message", message);
    c->content_type = SB_PAY_CONTENT;
    sb_reply_json(c, status, j);
}

void sb_pay_fault_reply(struct sb_call *c, long status)
{
    const char *code = "SYSTEM_ERROR", *msg = "系统错误";
    switch (status) {
    case 400:
        code = "PARAM_ERROR", msg = "参数错误";
        break;
    case 401:
        code = "SIGN_ERROR", msg = "签名错误";
        break;
    case 403:
        code = "NO_AUTH", msg = "商户无权限";
        break;
    case 404:
        code = "ORDER_NOT_EXIST", msg = "订单不存在";
        break;
    case 429:
        code = "FREQUENCY_LIMITED", msg = "频率超限";
        break;
    case 502:
        code = "BANK_ERROR", msg = "银行系统异常";
        break;
    default:
        if (status < 500)
            code = "INVALID_REQUEST", msg = "无效请求";
        break;
    }
    sb_pay_error(c, (int)status, code, msg);
}

/* ---------- authentication and signed replies ---------- */

struct sb_auth {
    char mchid[40];
    char nonce[80];
    char timestamp[24];
    char serial[PC_PAY_SERIAL_MAX + 1];
    char signature[PC_PAY_SIG_B64_MAX + 1];
};

/* Parses `WECHATPAY2-SHA256-RSA2048 k="v",k="v",...` (any order, all five required).
 * 0 or -1. */
static int sb_auth_parse(const char *h, struct sb_auth *a)
{
    static const char scheme[] = "WECHATPAY2-SHA256-RSA2048 ";
    memset(a, 0, sizeof *a);
    if (!h || strncmp(h, scheme, sizeof scheme - 1))
        return -1;
    const char *s = h + sizeof scheme - 1;
    unsigned seen = 0;
    for (;;) {
        while (*s == ' ')
            s++;
        const char *eq = strchr(s, '=');
        if (!eq || eq == s || eq[1] != '"')
            return -1;
        const char *v = eq + 2, *q = strchr(v, '"');
        if (!q)
            return -1;
        size_t klen = (size_t)(eq - s), vlen = (size_t)(q - v);
        struct {
            const char *name;
            char *dst;
            size_t cap;
        } f[] = {{"mchid", a->mchid, sizeof a->mchid},
                 {"nonce_str", a->nonce, sizeof a->nonce},
                 {"timestamp", a->timestamp, sizeof a->timestamp},
                 {"serial_no", a->serial, sizeof a->serial},
                 {"signature", a->signature, sizeof a->signature}};
        for (unsigned i = 0; i < 5; i++) {
            if (strlen(f[i].name) != klen || strncmp(f[i].name, s, klen))
                continue;
            if ((seen & (1u << i)) || vlen == 0 || vlen >= f[i].cap)
                return -1;
            memcpy(f[i].dst, v, vlen);
            f[i].dst[vlen] = '\0';
            seen |= 1u << i;
        }
        s = q + 1;
        if (!*s)
            break;
        if (*s != ',')
            return -1;
        s++;
    }
    return seen == 0x1f ? 0 : -1;
}

/* 401 SIGN_ERROR with the string the sandbox checked, as WeChat's detail does. */
static void sb_sign_error(struct sb_call *c, const char *message, const char *msg, size_t len)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "code", "SIGN_ERROR");
    cJSON_AddStringToObject(j, "message", message);
    if (msg) {
        cJSON *d = cJSON_AddObjectToObject(j, "detail");
        cJSON *si = cJSON_AddObjectToObject(d, "sign_information");
        cJSON_AddStringToObject(si, "method", c->method);
        cJSON_AddStringToObject(si, "url", c->uri);
        char *safe = sb_utf8_sanitize(msg, len > 1024 ? 1024 : len);
        cJSON_AddStringToObject(si, "truncated_sign_message", safe);
        free(safe);
        cJSON_AddNumberToObject(si, "sign_message_length", (double)len);
    }
    c->content_type = SB_PAY_CONTENT;
    sb_reply_json(c, 401, j);
}

static int sb_digits_only(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

int sb_pay_authenticate(struct sb_call *c)
{
    struct sb_pay *p = sb_pay_of(c);
    if (!p || !p->ready) {
        sb_pay_error(c, 500, "SYSTEM_ERROR",
                     "系统错误 (the sandbox was started without --pay-dir)");
        return -1;
    }
    struct sb_auth a;
    const char *h = evhttp_find_header(evhttp_request_get_input_headers(c->ev), "Authorization");
    if (sb_auth_parse(h, &a) || !sb_digits_only(a.timestamp) || strlen(a.timestamp) > 12) {
        sb_sign_error(c, "Http头Authorization值格式错误", NULL, 0);
        return -1;
    }
    if (strcmp(a.mchid, p->mchid)) {
        sb_sign_error(c, "商户号mchid与签名不匹配", NULL, 0);
        return -1;
    }
    if (strcasecmp(a.serial, p->merchant_serial)) {
        sb_sign_error(c, "商户证书序列号有误", NULL, 0);
        return -1;
    }
    char *end = NULL;
    long long ts = strtoll(a.timestamp, &end, 10);
    long long now = (long long)(pc_time_now_ms() / 1000);
    if (ts > now + 300 || ts < now - 300) {
        sb_sign_error(c, "签名错误 (timestamp is more than 5 minutes off)", NULL, 0);
        return -1;
    }
    size_t len = 0;
    char *msg =
        pc_pay_request_message(c->method, c->uri, (int64_t)ts, a.nonce, c->body, c->body_len, &len);
    int bad =
        !msg || pc_pay_verify_message(p->merchant_keys, p->merchant_serial, msg, len, a.signature);
    if (bad)
        sb_sign_error(c, "签名错误", msg ? msg : "", msg ? len : 0);
    free(msg);
    return bad ? -1 : 0;
}

int sb_pay_sign_headers(const struct sb_pay *p, const char *body, size_t len,
                        struct sb_pay_sig *out)
{
    snprintf(out->timestamp, sizeof out->timestamp, "%lld", (long long)(pc_time_now_ms() / 1000));
    if (pc_pay_nonce(out->nonce))
        return -1;
    struct pc_buf m;
    pc_buf_init(&m, SB_MAX_REPLY + 128);
    pc_buf_addf(&m, "%s\n%s\n", out->timestamp, out->nonce);
    pc_buf_add(&m, body ? body : "", len);
    int rc = pc_buf_adds(&m, "\n");
    if (!rc)
        rc = pc_pay_sign(sb_pay_signer(p), m.p, m.len, out->signature, sizeof out->signature);
    pc_buf_free(&m);
    snprintf(out->serial, sizeof out->serial, "%s", sb_pay_serial(p));
    return rc ? -1 : 0;
}

void sb_pay_sign_reply(struct sb_call *c)
{
    struct sb_pay *p = sb_pay_of(c);
    if (!p || !p->ready)
        return;
    if (c->endpoint && !strcmp(c->endpoint, "billdownload") && c->status == 200)
        return; /* the bill file itself is not signed (§6.4) */
    struct sb_pay_sig sig;
    if (c->status == 204)
        pc_buf_reset(&c->out);
    if (sb_pay_sign_headers(p, c->out.p, c->out.len, &sig)) {
        pc_log_msg(PC_LOG_ERROR, "cannot sign a WeChat Pay reply");
        return;
    }
    unsigned char rid[16];
    char rid_hex[33];
    pc_rand_bytes(rid, sizeof rid);
    pc_hex(rid, sizeof rid, rid_hex);
    for (char *s = rid_hex; *s; s++)
        if (*s >= 'a' && *s <= 'f')
            *s = (char)(*s - 'a' + 'A');
    struct evkeyvalq *oh = evhttp_request_get_output_headers(c->ev);
    evhttp_add_header(oh, "Wechatpay-Timestamp", sig.timestamp);
    evhttp_add_header(oh, "Wechatpay-Nonce", sig.nonce);
    evhttp_add_header(oh, "Wechatpay-Serial", sig.serial);
    evhttp_add_header(oh, "Wechatpay-Signature", sig.signature);
    evhttp_add_header(oh, "Wechatpay-Signature-Type", "WECHATPAY2-SHA256-RSA2048");
    evhttp_add_header(oh, "Request-ID", rid_hex);
}

/* ---------- orders ---------- */

struct sb_order *sb_order_find(struct sb_pay *p, const char *out_trade_no)
{
    for (struct sb_order *o = p->orders; o; o = o->next)
        if (!strcmp(o->out_trade_no, out_trade_no))
            return o;
    return NULL;
}

static struct sb_order *sb_order_by_txn(struct sb_pay *p, const char *transaction_id)
{
    for (struct sb_order *o = p->orders; o; o = o->next)
        if (o->transaction_id[0] && !strcmp(o->transaction_id, transaction_id))
            return o;
    return NULL;
}

static const char *sb_trade_name(enum sb_trade t)
{
    switch (t) {
    case SB_TRADE_SUCCESS:
        return "SUCCESS";
    case SB_TRADE_CLOSED:
        return "CLOSED";
    case SB_TRADE_REFUND:
        return "REFUND";
    default:
        return "NOTPAY";
    }
}

static const char *sb_trade_desc(enum sb_trade t)
{
    switch (t) {
    case SB_TRADE_SUCCESS:
        return "支付成功";
    case SB_TRADE_CLOSED:
        return "订单已关闭";
    case SB_TRADE_REFUND:
        return "订单发生过退款";
    default:
        return "订单未支付";
    }
}

cJSON *sb_order_json(const struct sb_pay *p, const struct sb_order *o)
{
    int paid = o->state == SB_TRADE_SUCCESS || o->state == SB_TRADE_REFUND;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "appid", o->appid);
    cJSON_AddStringToObject(j, "mchid", p->mchid);
    cJSON_AddStringToObject(j, "out_trade_no", o->out_trade_no);
    if (paid)
        cJSON_AddStringToObject(j, "transaction_id", o->transaction_id);
    cJSON_AddStringToObject(j, "trade_type", o->native ? "NATIVE" : "JSAPI");
    cJSON_AddStringToObject(j, "trade_state", sb_trade_name(o->state));
    cJSON_AddStringToObject(j, "trade_state_desc", sb_trade_desc(o->state));
    if (paid)
        cJSON_AddStringToObject(j, "bank_type", "OTHERS");
    cJSON_AddStringToObject(j, "attach", o->attach);
    if (paid) {
        char t[40];
        pc_time_rfc3339(o->success_s, t, sizeof t, PC_TZ_SHANGHAI_MIN);
        cJSON_AddStringToObject(j, "success_time", t);
    }
    cJSON *payer = cJSON_AddObjectToObject(j, "payer");
    cJSON_AddStringToObject(payer, "openid", o->openid);
    cJSON *am = cJSON_AddObjectToObject(j, "amount");
    cJSON_AddNumberToObject(am, "total", (double)o->total);
    if (paid)
        cJSON_AddNumberToObject(am, "payer_total", (double)o->payer_total);
    cJSON_AddStringToObject(am, "currency", "CNY");
    cJSON_AddStringToObject(am, "payer_currency", "CNY");
    return j;
}

/* A JSON integer (no fraction) in [min, max]. 0 or -1. */
static int sb_json_int(const cJSON *v, double min, double max, int64_t *out)
{
    if (!cJSON_IsNumber(v))
        return -1;
    double d = v->valuedouble;
    if (!(d >= min && d <= max) || (double)(int64_t)d != d)
        return -1;
    *out = (int64_t)d;
    return 0;
}

/* A string member: NULL when absent or not a string. */
static const char *sb_json_str(const cJSON *j, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* 1 if s is min..max characters of [0-9A-Za-z] and the characters of extra. */
static int sb_pay_id_ok(const char *s, size_t min, size_t max, const char *extra)
{
    size_t n = s ? strlen(s) : 0;
    if (n < min || n > max)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              strchr(extra, ch)))
            return 0;
    }
    return 1;
}

static int sb_notify_url_ok(const char *u)
{
    size_t n = u ? strlen(u) : 0;
    return n > 8 && n <= SB_PAY_MAX_URL && !strncmp(u, "https://", 8) && !strchr(u, '?') &&
           !strchr(u, ' ') && !strchr(u, '#');
}

static void sb_param_error(struct sb_call *c, const char *message)
{
    sb_pay_error(c, 400, "PARAM_ERROR", message);
}

/* Parses and checks a JSAPI or Native body into o (Native has no payer). 0, or -1 with the
 * reply set. */
static int sb_prepay_parse(struct sb_call *c, struct sb_pay *p, const cJSON *j, struct sb_order *o)
{
    const char *appid = sb_json_str(j, "appid"), *mchid = sb_json_str(j, "mchid");
    const char *desc = sb_json_str(j, "description"), *no = sb_json_str(j, "out_trade_no");
    const char *url = sb_json_str(j, "notify_url"), *attach = sb_json_str(j, "attach");
    const char *te = sb_json_str(j, "time_expire");
    const cJSON *amount = cJSON_GetObjectItemCaseSensitive(j, "amount");
    const cJSON *payer = cJSON_GetObjectItemCaseSensitive(j, "payer");
    const cJSON *total = cJSON_GetObjectItemCaseSensitive(amount, "total");
    const cJSON *cur = cJSON_GetObjectItemCaseSensitive(amount, "currency");
    const char *openid = cJSON_IsObject(payer) ? sb_json_str(payer, "openid") : NULL;
    uint32_t cps[SB_PAY_MAX_DESC];
    if (!appid || !appid[0]) {
        sb_param_error(c,
                       "输入源“/body/appid”映射到字段“公众号ID”必填性规则校验失败，此字段为必填项");
        return -1;
    }
    if (!mchid || !mchid[0]) {
        sb_param_error(
            c, "输入源“/body/mchid”映射到字段“直连商户号”必填性规则校验失败，此字段为必填项");
        return -1;
    }
    if (!desc || !desc[0] || sb_utf8_decode(desc, strlen(desc), cps, SB_PAY_MAX_DESC) < 0) {
        sb_param_error(c, "description 必填，且不超过127个字符");
        return -1;
    }
    if (!sb_pay_id_ok(no, 6, 32, "_-|*")) {
        sb_param_error(c, "out_trade_no 应为6-32位数字、大小写字母或_-|*");
        return -1;
    }
    if (!sb_notify_url_ok(url)) {
        sb_param_error(c, "notify_url 必须是不带参数的 https 地址");
        return -1;
    }
    if (attach && strlen(attach) > SB_PAY_MAX_ATTACH) {
        sb_param_error(c, "attach 不超过128字节");
        return -1;
    }
    if (!cJSON_IsObject(amount) || !total) {
        sb_param_error(
            c, "输入源“/body/amount/total”映射到字段“总金额”必填性规则校验失败，此字段为必填项");
        return -1;
    }
    if (sb_json_int(total, -9e15, 9e15, &o->total)) {
        sb_param_error(c, "无法将 JSON 输入源“/body/amount/total”映射到目标字段“总金额”中，"
                          "此字段需要一个合法的 64 位有符号整数");
        return -1;
    }
    if (o->total < 1 || o->total > SB_PAY_MAX_TOTAL) {
        sb_param_error(c, "总金额 amount.total 应为正整数（单位：分）");
        return -1;
    }
    if (cur && !(cJSON_IsString(cur) && !strcmp(cur->valuestring, "CNY"))) {
        sb_param_error(c, "amount.currency 只支持 CNY");
        return -1;
    }
    if (!o->native && (!openid || !openid[0] || strlen(openid) > SB_PAY_MAX_OPENID)) {
        sb_param_error(
            c, "输入源“/body/payer/openid”映射到字段“用户标识”必填性规则校验失败，此字段为必填项");
        return -1;
    }
    if (te && (strlen(te) >= sizeof o->time_expire || pc_time_parse_rfc3339(te, &o->expire_s))) {
        sb_param_error(c, "time_expire 应为 RFC 3339 格式，如 2018-06-08T10:34:56+08:00");
        return -1;
    }
    if (strcmp(appid, c->opts->appid)) {
        sb_pay_error(c, 400, "APPID_MCHID_NOT_MATCH", "appid和mch_id不匹配");
        return -1;
    }
    if (strcmp(mchid, p->mchid)) {
        sb_pay_error(c, 400, "MCH_NOT_EXISTS", "商户号不存在");
        return -1;
    }
    snprintf(o->appid, sizeof o->appid, "%s", appid);
    snprintf(o->description, sizeof o->description, "%s", desc);
    snprintf(o->out_trade_no, sizeof o->out_trade_no, "%s", no);
    snprintf(o->notify_url, sizeof o->notify_url, "%s", url);
    snprintf(o->attach, sizeof o->attach, "%s", attach ? attach : "");
    snprintf(o->openid, sizeof o->openid, "%s", o->native || !openid ? "" : openid);
    snprintf(o->time_expire, sizeof o->time_expire, "%s", te ? te : "");
    return 0;
}

/* 1 when a repeated order carries the same content. */
static int sb_order_same(const struct sb_order *a, const struct sb_order *b)
{
    return !strcmp(a->appid, b->appid) && !strcmp(a->description, b->description) &&
           !strcmp(a->notify_url, b->notify_url) && !strcmp(a->attach, b->attach) &&
           !strcmp(a->openid, b->openid) && !strcmp(a->time_expire, b->time_expire) &&
           a->total == b->total && a->native == b->native;
}

/* Reply {"prepay_id"} (JSAPI) or {"code_url"} (Native). */
static void sb_reply_prepay(struct sb_call *c, const struct sb_order *o)
{
    cJSON *j = cJSON_CreateObject();
    if (o->native)
        cJSON_AddStringToObject(j, "code_url", o->code_url);
    else
        cJSON_AddStringToObject(j, "prepay_id", o->prepay_id);
    c->content_type = SB_PAY_CONTENT;
    sb_reply_json(c, 200, j);
}

/* POST /v3/pay/transactions/jsapi and /native */
static void sb_pay_prepay(struct sb_call *c, int native)
{
    struct sb_pay *p = sb_pay_of(c);
    struct sb_order *o = pc_new(struct sb_order);
    o->native = native;
    cJSON *j = sb_body_object(c);
    if (!j) {
        sb_param_error(c, "输入源“/body”映射到对象失败，请求体应为 JSON 对象");
        goto out;
    }
    if (sb_prepay_parse(c, p, j, o))
        goto out;
    struct sb_order *old = sb_order_find(p, o->out_trade_no);
    if (old) {
        if (old->state == SB_TRADE_SUCCESS || old->state == SB_TRADE_REFUND)
            sb_pay_error(c, 400, "ORDERPAID", "该订单已支付");
        else if (old->state == SB_TRADE_CLOSED)
            sb_pay_error(c, 400, "ORDERCLOSED", "当前订单已关闭，请重新下单");
        else if (!sb_order_same(old, o))
            sb_pay_error(c, 400, "INVALID_REQUEST", "201 商户订单号重复");
        else
            sb_reply_prepay(c, old);
        goto out;
    }
    char date[16], digits[24];
    sb_pay_date_digits(date, sizeof date, 1);
    sb_pay_digits(digits, 18);
    snprintf(o->prepay_id, sizeof o->prepay_id, "wx%s%s", date, digits);
    if (native) {
        sb_pay_digits(digits, 10);
        snprintf(o->code_url, sizeof o->code_url, "weixin://wxpay/bizpayurl?pr=%s", digits);
    }
    o->state = SB_TRADE_NOTPAY;
    if (p->orders_tail)
        p->orders_tail->next = o;
    else
        p->orders = o;
    p->orders_tail = o;
    p->norders++;
    while (p->norders > SB_PAY_MAX_ORDERS) {
        struct sb_order *first = p->orders;
        p->orders = first->next;
        p->norders--;
        free(first);
    }
    sb_reply_prepay(c, o);
    o = NULL;
out:
    free(o);
    cJSON_Delete(j);
}

static void sb_pay_jsapi(struct sb_call *c)
{
    sb_pay_prepay(c, 0);
}

static void sb_pay_native(struct sb_call *c)
{
    sb_pay_prepay(c, 1);
}

/* Checks ?mchid= of a query. 0, or -1 with the reply set. */
static int sb_pay_check_mchid(struct sb_call *c, struct sb_pay *p, const char *mchid)
{
    if (!mchid || !mchid[0]) {
        sb_param_error(c, "商户号mchid不能为空");
        return -1;
    }
    if (strcmp(mchid, p->mchid)) {
        sb_pay_error(c, 400, "MCH_NOT_EXISTS", "商户号不存在");
        return -1;
    }
    return 0;
}

static void sb_pay_reply_order(struct sb_call *c, struct sb_pay *p, struct sb_order *o)
{
    if (!o) {
        sb_pay_error(c, 404, "ORDER_NOT_EXIST", "订单不存在");
        return;
    }
    c->content_type = SB_PAY_CONTENT;
    sb_reply_json(c, 200, sb_order_json(p, o));
}

/* GET /v3/pay/transactions/out-trade-no/{out_trade_no}?mchid= */
static void sb_pay_query(struct sb_call *c)
{
    struct sb_pay *p = sb_pay_of(c);
    char no[SB_PAY_MAX_NO + 1];
    if (sb_pay_check_mchid(c, p, sb_query(c, "mchid")))
        return;
    if (sb_path_arg(c, 4, no, sizeof no)) {
        sb_pay_error(c, 404, "ORDER_NOT_EXIST", "订单不存在");
        return;
    }
    sb_pay_reply_order(c, p, sb_order_find(p, no));
}

/* GET /v3/pay/transactions/id/{transaction_id}?mchid= */
static void sb_pay_query_id(struct sb_call *c)
{
    struct sb_pay *p = sb_pay_of(c);
    char id[SB_PAY_MAX_NO + 1];
    if (sb_pay_check_mchid(c, p, sb_query(c, "mchid")))
        return;
    if (sb_path_arg(c, 4, id, sizeof id)) {
        sb_pay_error(c, 404, "ORDER_NOT_EXIST", "订单不存在");
        return;
    }
    sb_pay_reply_order(c, p, sb_order_by_txn(p, id));
}

/* POST /v3/pay/transactions/out-trade-no/{out_trade_no}/close {"mchid"} → 204 */
static void sb_pay_close(struct sb_call *c)
{
    struct sb_pay *p = sb_pay_of(c);
    char no[SB_PAY_MAX_NO + 1];
    cJSON *j = sb_body_object(c);
    if (!j) {
        sb_param_error(c, "输入源“/body”映射到对象失败，请求体应为 JSON 对象");
        return;
    }
    int bad = sb_pay_check_mchid(c, p, sb_json_str(j, "mchid"));
    cJSON_Delete(j);
    if (bad)
        return;
    struct sb_order *o = sb_path_arg(c, 4, no, sizeof no) ? NULL : sb_order_find(p, no);
    if (!o) {
        sb_pay_error(c, 404, "ORDER_NOT_EXIST", "订单不存在");
        return;
    }
    if (o->state == SB_TRADE_SUCCESS || o->state == SB_TRADE_REFUND) {
        sb_pay_error(c, 400, "ORDERPAID", "该订单已支付");
        return;
    }
    o->state = SB_TRADE_CLOSED;
    pc_buf_reset(&c->out);
    c->content_type = SB_PAY_CONTENT;
    c->status = 204;
}

/* ---------- refunds ---------- */

static struct sb_refund *sb_refund_find(struct sb_pay *p, const char *out_refund_no)
{
    for (struct sb_refund *r = p->refunds; r; r = r->next)
        if (!strcmp(r->out_refund_no, out_refund_no))
            return r;
    return NULL;
}

static void sb_time_text(int64_t t, char *out, size_t len)
{
    pc_time_rfc3339(t, out, len, PC_TZ_SHANGHAI_MIN);
}

static cJSON *sb_refund_json(const struct sb_refund *r)
{
    char t[40];
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "refund_id", r->refund_id);
    cJSON_AddStringToObject(j, "out_refund_no", r->out_refund_no);
    cJSON_AddStringToObject(j, "transaction_id", r->transaction_id);
    cJSON_AddStringToObject(j, "out_trade_no", r->out_trade_no);
    cJSON_AddStringToObject(j, "channel", "ORIGINAL");
    cJSON_AddStringToObject(j, "user_received_account", "支付用户零钱");
    if (r->success) {
        sb_time_text(r->success_s, t, sizeof t);
        cJSON_AddStringToObject(j, "success_time", t);
    }
    sb_time_text(r->create_s, t, sizeof t);
    cJSON_AddStringToObject(j, "create_time", t);
    cJSON_AddStringToObject(j, "status", r->success ? "SUCCESS" : "PROCESSING");
    cJSON_AddStringToObject(j, "funds_account", "AVAILABLE");
    cJSON *am = cJSON_AddObjectToObject(j, "amount");
    cJSON_AddNumberToObject(am, "total", (double)r->total);
    cJSON_AddNumberToObject(am, "refund", (double)r->refund);
    cJSON_AddItemToObject(am, "from", cJSON_CreateArray());
    cJSON_AddNumberToObject(am, "payer_total", (double)r->payer_total);
    cJSON_AddNumberToObject(am, "payer_refund", (double)r->refund);
    cJSON_AddNumberToObject(am, "settlement_refund", (double)r->refund);
    cJSON_AddNumberToObject(am, "settlement_total", (double)r->total);
    cJSON_AddNumberToObject(am, "discount_refund", 0);
    cJSON_AddStringToObject(am, "currency", "CNY");
    return j;
}

/* The plaintext of a REFUND.SUCCESS notification. */
static cJSON *sb_refund_notice_json(const struct sb_pay *p, const struct sb_refund *r)
{
    char t[40];
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "mchid", p->mchid);
    cJSON_AddStringToObject(j, "out_trade_no", r->out_trade_no);
    cJSON_AddStringToObject(j, "transaction_id", r->transaction_id);
    cJSON_AddStringToObject(j, "out_refund_no", r->out_refund_no);
    cJSON_AddStringToObject(j, "refund_id", r->refund_id);
    cJSON_AddStringToObject(j, "refund_status", "SUCCESS");
    sb_time_text(r->success_s, t, sizeof t);
    cJSON_AddStringToObject(j, "success_time", t);
    cJSON_AddStringToObject(j, "user_received_account", "支付用户零钱");
    cJSON *am = cJSON_AddObjectToObject(j, "amount");
    cJSON_AddNumberToObject(am, "total", (double)r->total);
    cJSON_AddNumberToObject(am, "refund", (double)r->refund);
    cJSON_AddNumberToObject(am, "payer_total", (double)r->payer_total);
    cJSON_AddNumberToObject(am, "payer_refund", (double)r->refund);
    return j;
}

/* The refund went through: SUCCESS now, then the REFUND.SUCCESS notification. */
static void sb_refund_on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct sb_refund *r = arg;
    struct sb_pay *p = r->p;
    r->success = 1;
    r->success_s = pc_time_now_ms() / 1000;
    if (!r->notify_url[0])
        return;
    cJSON *plain = sb_refund_notice_json(p, r);
    sb_notify_start(p, "refund_notify", "REFUND.SUCCESS", "退款成功", "refund", r->out_trade_no,
                    r->out_refund_no, r->notify_url, plain);
    cJSON_Delete(plain);
}

/* POST /v3/refund/domestic/refunds */
static void sb_pay_refund(struct sb_call *c)
{
    struct sb_pay *p = sb_pay_of(c);
    cJSON *j = sb_body_object(c);
    if (!j) {
        sb_param_error(c, "输入源“/body”映射到对象失败，请求体应为 JSON 对象");
        return;
    }
    const char *no = sb_json_str(j, "out_trade_no"), *txn = sb_json_str(j, "transaction_id");
    const char *rno = sb_json_str(j, "out_refund_no"), *url = sb_json_str(j, "notify_url");
    const cJSON *amount = cJSON_GetObjectItemCaseSensitive(j, "amount");
    const char *cur = cJSON_IsObject(amount) ? sb_json_str(amount, "currency") : NULL;
    int64_t refund = 0, total = 0;
    struct sb_order *o = NULL;
    if (!sb_pay_id_ok(rno, 1, 64, "_-|*@")) {
        sb_param_error(c, "out_refund_no 应为1-64位数字、大小写字母或_-|*@");
        goto out;
    }
    if (!cJSON_IsObject(amount) ||
        sb_json_int(cJSON_GetObjectItemCaseSensitive(amount, "refund"), 1, 9e15, &refund) ||
        sb_json_int(cJSON_GetObjectItemCaseSensitive(amount, "total"), 1, 9e15, &total)) {
        sb_param_error(c, "amount.refund 和 amount.total 应为正整数（单位：分）");
        goto out;
    }
    if (!cur || strcmp(cur, "CNY")) {
        sb_param_error(c, "amount.currency 必填，只支持 CNY");
        goto out;
    }
    if (url && !sb_notify_url_ok(url)) {
        sb_param_error(c, "notify_url 必须是不带参数的 https 地址");
        goto out;
    }
    if (no && no[0])
        o = sb_order_find(p, no);
    else if (txn && txn[0])
        o = sb_order_by_txn(p, txn);
    else {
        sb_param_error(c, "transaction_id 和 out_trade_no 必须二选一");
        goto out;
    }
    if (!o) {
        sb_pay_error(c, 404, "RESOURCE_NOT_EXISTS", "订单不存在");
        goto out;
    }
    struct sb_refund *r = sb_refund_find(p, rno);
    if (r) {
        if (strcmp(r->out_trade_no, o->out_trade_no) || r->refund != refund || r->total != total)
            sb_pay_error(c, 400, "INVALID_REQUEST", "商户退款单号重复，且与之前的请求参数不一致");
        else
            sb_reply_json(c, 200, sb_refund_json(r));
        goto out;
    }
    if (o->state != SB_TRADE_SUCCESS && o->state != SB_TRADE_REFUND) {
        sb_pay_error(c, 400, "INVALID_REQUEST", "订单未支付，不能退款");
        goto out;
    }
    if (total != o->total) {
        sb_param_error(c, "订单金额 amount.total 与原订单金额不一致");
        goto out;
    }
    if (refund > o->total - o->refunded) {
        sb_pay_error(c, 400, "INVALID_REQUEST", "申请退款金额超过订单可退金额");
        goto out;
    }
    r = pc_new(struct sb_refund);
    r->p = p;
    char digits[32];
    snprintf(r->out_refund_no, sizeof r->out_refund_no, "%s", rno);
    sb_pay_digits(digits, 25);
    snprintf(r->refund_id, sizeof r->refund_id, "5030%s", digits);
    snprintf(r->out_trade_no, sizeof r->out_trade_no, "%s", o->out_trade_no);
    snprintf(r->transaction_id, sizeof r->transaction_id, "%s", o->transaction_id);
    snprintf(r->notify_url, sizeof r->notify_url, "%s", url ? url : "");
    r->refund = refund;
    r->total = o->total;
    r->payer_total = o->payer_total;
    r->create_s = pc_time_now_ms() / 1000;
    o->refunded += refund;
    o->state = SB_TRADE_REFUND;
    r->timer = evtimer_new(p->base, sb_refund_on_timer, r);
    long ms = c->opts->refund_delay_ms;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(r->timer, &tv);
    if (p->refunds_tail)
        p->refunds_tail->next = r;
    else
        p->refunds = r;
    p->refunds_tail = r;
    p->nrefunds++;
    while (p->nrefunds > SB_PAY_MAX_REFUNDS) {
        struct sb_refund *first = p->refunds;
        p->refunds = first->next;
        p->nrefunds--;
        event_free(first->timer);
        free(first);
    }
    c->content_type = SB_PAY_CONTENT;
    sb_reply_json(c, 200, sb_refund_json(r));
out:
    cJSON_Delete(j);
}

/* GET /v3/refund/domestic/refunds/{out_refund_no} */
static void sb_pay_refund_query(struct sb_call *c)
{
    struct sb_pay *p = sb_pay_of(c);
    char rno[SB_PAY_MAX_NO * 2 + 1];
    struct sb_refund *r = sb_path_arg(c, 4, rno, sizeof rno) ? NULL : sb_refund_find(p, rno);
    if (!r) {
        sb_pay_error(c, 404, "RESOURCE_NOT_EXISTS", "退款单不存在");
        return;
    }
    c->content_type = SB_PAY_CONTENT;
    sb_reply_json(c, 200, sb_refund_json(r));
}

/* ---------- control ---------- */

/* POST /__sandbox/pay {"out_trade_no","payer_total"?} → {"transaction_id",...} */
static void sb_ctl_pay(struct sb_call *c)
{
    struct sb_pay *p = sb_pay_of(c);
    if (!p || !p->ready) {
        sb_reply_ctl_error(c, 400, "the sandbox was started without --pay-dir");
        return;
    }
    cJSON *j = sb_body_object(c);
    const char *no = j ? sb_json_str(j, "out_trade_no") : NULL;
    const cJSON *pt = j ? cJSON_GetObjectItemCaseSensitive(j, "payer_total") : NULL;
    struct sb_order *o = no ? sb_order_find(p, no) : NULL;
    int64_t payer_total = 0;
    if (!no) {
        sb_reply_ctl_error(c, 400, "the body must be {\"out_trade_no\":\"...\"}");
        goto out;
    }
    if (!o) {
        sb_reply_ctl_error(c, 404, "unknown out_trade_no '%s' (no jsapi or native order)", no);
        goto out;
    }
    if (pt && !cJSON_IsNull(pt) && sb_json_int(pt, 0, (double)o->total, &payer_total)) {
        sb_reply_ctl_error(c, 400, "payer_total must be an integer from 0 to %lld",
                           (long long)o->total);
        goto out;
    }
    if (!pt || cJSON_IsNull(pt))
        payer_total = o->total;
    if (o->state == SB_TRADE_CLOSED) {
        sb_reply_ctl_error(c, 409, "order '%s' is closed", no);
        goto out;
    }
    int64_t now = pc_time_now_ms() / 1000;
    if (o->state == SB_TRADE_NOTPAY && o->expire_s && now > o->expire_s) {
        sb_reply_ctl_error(c, 409, "order '%s' expired at %s", no, o->time_expire);
        goto out;
    }
    int fresh = o->state == SB_TRADE_NOTPAY;
    if (fresh) {
        char date[9], digits[17];
        do {
            sb_pay_date_digits(date, sizeof date, 0);
            sb_pay_digits(digits, 16);
            snprintf(o->transaction_id, sizeof o->transaction_id, "4200%s%s", date, digits);
        } while (sb_order_by_txn(p, o->transaction_id) != o);
        if (o->native) { /* whoever scanned the QR code: a payer of the merchant's appid */
            const char *who = sb_json_str(j, "openid");
            char gen[24];
            sb_pay_digits(gen, 16);
            snprintf(o->openid, sizeof o->openid, "%s%s", who && who[0] ? "" : "o_scan_",
                     who && who[0] ? who : gen);
        }
        o->state = SB_TRADE_SUCCESS;
        o->success_s = now;
        o->payer_total = payer_total;
        cJSON *plain = sb_order_json(p, o);
        sb_notify_start(p, "notify", "TRANSACTION.SUCCESS", "支付成功", "transaction",
                        o->out_trade_no, NULL, o->notify_url, plain);
        cJSON_Delete(plain);
    }
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "transaction_id", o->transaction_id);
    cJSON_AddStringToObject(r, "out_trade_no", o->out_trade_no);
    cJSON_AddStringToObject(r, "trade_state", sb_trade_name(o->state));
    cJSON_AddBoolToObject(r, "notified", fresh);
    sb_reply_json(c, 200, r);
out:
    cJSON_Delete(j);
}

/* GET /__sandbox/notifications[?out_trade_no=] */
static void sb_ctl_notifications(struct sb_call *c)
{
    struct sb_pay *p = sb_pay_of(c);
    pc_buf_reset(&c->out);
    sb_notify_render(p, sb_query(c, "out_trade_no"), &c->out);
    c->status = 200;
}

static const struct sb_route sb_pay_routes[] = {
    {"POST", "/v3/pay/transactions/jsapi", "jsapi", sb_pay_jsapi},
    {"POST", "/v3/pay/transactions/native", "native", sb_pay_native},
    {"GET", "/v3/pay/transactions/out-trade-no/*", "query", sb_pay_query},
    {"GET", "/v3/pay/transactions/id/*", "query", sb_pay_query_id},
    {"POST", "/v3/pay/transactions/out-trade-no/*/close", "close", sb_pay_close},
    {"POST", "/v3/refund/domestic/refunds", "refund", sb_pay_refund},
    {"GET", "/v3/refund/domestic/refunds/*", "refund", sb_pay_refund_query},
    {"POST", "/__sandbox/pay", NULL, sb_ctl_pay},
    {"GET", "/__sandbox/notifications", NULL, sb_ctl_notifications},
};
const struct sb_route_table sb_pay_table = {sb_pay_routes,
                                            sizeof sb_pay_routes / sizeof sb_pay_routes[0]};
