/* tools/sandbox/bill.c — WeChat Pay trade bills for what the sandbox processed
 * (wechat-protocols.md §6.4):
 *   GET /v3/bill/tradebill?bill_date=YYYY-MM-DD[&bill_type=ALL|SUCCESS|REFUND][&tar_type=GZIP]
 *     (signed request, signed reply) → {"hash_type":"SHA1","hash_value","download_url"};
 *     400 NO_STATEMENT_EXIST for a day without transactions.
 *   GET /v3/billdownload/file?token=… (signed request, UNSIGNED reply) → the file: UTF-8 with
 *     BOM, CRLF, header row, backtick-prefixed fields, the summary; gzip when asked.
 * The hash is SHA-1 over the uncompressed file. Loop thread only. */
#include "tools/sandbox/pay.h"
#include "tools/sandbox/sandbox.h"
#include "tools/sandbox/state.h"

#include "base/alloc.h"
#include "base/buf.h"
#include "base/crypto.h"
#include "base/timeutil.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <openssl/sha.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define SB_BILLS 16 /* download tokens kept (oldest replaced) */

static struct sb_bill {
    char token[33];
    char *data; /* as served (gzip when asked) */
    size_t len;
} g_bills[SB_BILLS];
static size_t g_next;

static void yuan(struct pc_buf *b, int64_t fen)
{
    pc_buf_addf(b, "`%lld.%02lld,", (long long)(fen / 100), (long long)(fen % 100));
}

static void when(int64_t s, char *out, size_t len)
{
    char t[40];
    pc_time_rfc3339(s, t, len < sizeof t ? sizeof t : len, PC_TZ_SHANGHAI_MIN);
    snprintf(out, len, "%.10s %.8s", t, t + 11);
}

/* The bill text for [day_s, day_s + 1 day) of type ("ALL", "SUCCESS", "REFUND"); *rows. */
static void render(struct sb_pay *p, int64_t day_s, const char *type, struct pc_buf *b,
                   size_t *rows)
{
    int64_t n = 0, settle = 0, refund = 0, fee = 0, order = 0, applied = 0;
    bool all = !strcmp(type, "ALL");
    pc_buf_adds(b, "\xef\xbb\xbf交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,"
                   "用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,"
                   "微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,"
                   "商户数据包,手续费,费率,订单金额,申请退款金额,费率备注\r\n");
    char t[32];
    for (struct sb_order *o = p->orders; o && (all || !strcmp(type, "SUCCESS")); o = o->next) {
        if (!o->transaction_id[0] || o->success_s < day_s || o->success_s >= day_s + 86400)
            continue;
        int64_t f = o->total * 6; /* 0.60 % in 1e-5 yuan */
        when(o->success_s, t, sizeof t);
        pc_buf_addf(b, "`%s,`%s,`%s,`0,`,`%s,`%s,`%s,`%s,`SUCCESS,`OTHERS,`CNY,", t, o->appid,
                    p->mchid, o->transaction_id, o->out_trade_no, o->openid,
                    o->native ? "NATIVE" : "JSAPI");
        yuan(b, o->total);
        pc_buf_adds(b, "`0.00,`0,`0,`0.00,`0.00,`,`,");
        pc_buf_addf(b, "`%s,`%s,`%lld.%05lld,`0.60%%,", o->description, o->attach,
                    (long long)(f / 100000), (long long)(f % 100000));
        yuan(b, o->total);
        pc_buf_adds(b, "`0.00,`\r\n");
        n++, settle += o->total, fee += f, order += o->total;
    }
    for (struct sb_refund *r = p->refunds; r && (all || !strcmp(type, "REFUND")); r = r->next) {
        if (!r->success || r->success_s < day_s || r->success_s >= day_s + 86400)
            continue;
        struct sb_order *o = NULL;
        for (o = p->orders; o && strcmp(o->out_trade_no, r->out_trade_no); o = o->next)
            ;
        when(r->success_s, t, sizeof t);
        pc_buf_addf(b, "`%s,`%s,`%s,`0,`,`%s,`%s,`%s,`%s,`REFUND,`OTHERS,`CNY,`0.00,`0.00,", t,
                    o ? o->appid : "", p->mchid, r->transaction_id, r->out_trade_no,
                    o ? o->openid : "", o && o->native ? "NATIVE" : "JSAPI");
        pc_buf_addf(b, "`%s,`%s,", r->refund_id, r->out_refund_no);
        yuan(b, r->refund);
        pc_buf_adds(b, "`0.00,`ORIGINAL,`SUCCESS,");
        pc_buf_addf(b, "`%s,`%s,`0.00000,`0.60%%,`0.00,", o ? o->description : "",
                    o ? o->attach : "");
        yuan(b, r->refund);
        pc_buf_adds(b, "`\r\n");
        n++, refund += r->refund, applied += r->refund;
    }
    pc_buf_adds(b, "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,"
                   "申请退款总金额\r\n");
    pc_buf_addf(b, "`%lld.0,", (long long)n);
    yuan(b, settle);
    yuan(b, refund);
    pc_buf_addf(b, "`0.0,`%lld.%02lld,", (long long)(fee / 100000),
                (long long)(fee % 100000 / 1000));
    yuan(b, order);
    pc_buf_addf(b, "`%lld.%02lld\r\n", (long long)(applied / 100), (long long)(applied % 100));
    *rows = (size_t)n;
}

static char *gzip(const char *in, size_t n, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    size_t cap = deflateBound(&z, (uLong)n) + 32;
    char *out = pc_xmalloc(cap);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    *out_len = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(out);
        return NULL;
    }
    return out;
}

static void sb_bill_tradebill(struct sb_call *c)
{
    struct sb_pay *p = sb_state_pay(c->st);
    const char *date = sb_query(c, "bill_date"), *type = sb_query(c, "bill_type");
    const char *tar = sb_query(c, "tar_type");
    char iso[40];
    int64_t day_s;
    if (!type)
        type = "ALL";
    if (!date || strlen(date) != 10 ||
        (snprintf(iso, sizeof iso, "%sT00:00:00+08:00", date),
         pc_time_parse_rfc3339(iso, &day_s))) {
        sb_pay_error(c, 400, "PARAM_ERROR", "bill_date格式不正确");
        return;
    }
    if (strcmp(type, "ALL") && strcmp(type, "SUCCESS") && strcmp(type, "REFUND")) {
        sb_pay_error(c, 400, "PARAM_ERROR", "bill_type不正确");
        return;
    }
    if (tar && strcmp(tar, "GZIP")) {
        sb_pay_error(c, 400, "PARAM_ERROR", "tar_type不正确");
        return;
    }
    struct pc_buf b;
    size_t rows = 0;
    pc_buf_init(&b, 64u << 20);
    render(p, day_s, type, &b, &rows);
    if (rows == 0) {
        pc_buf_free(&b);
        sb_pay_error(c, 400, "NO_STATEMENT_EXIST", "账单文件不存在");
        return;
    }
    unsigned char sha[SHA_DIGEST_LENGTH];
    char hex[2 * SHA_DIGEST_LENGTH + 1];
    SHA1((const unsigned char *)b.p, b.len, sha);
    pc_hex(sha, sizeof sha, hex);
    struct sb_bill *bill = &g_bills[g_next++ % SB_BILLS];
    free(bill->data);
    unsigned char tok[16];
    pc_rand_bytes(tok, sizeof tok);
    pc_hex(tok, sizeof tok, bill->token);
    if (tar) {
        bill->data = gzip(b.p, b.len, &bill->len);
        pc_buf_free(&b);
    } else {
        bill->data = pc_buf_take(&b, &bill->len);
    }
    const char *host = evhttp_find_header(evhttp_request_get_input_headers(c->ev), "Host");
    char url[512];
    snprintf(url, sizeof url, "%s://%s/v3/billdownload/file?token=%s",
             c->opts->plain ? "http" : "https", host ? host : "127.0.0.1", bill->token);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "hash_type", "SHA1");
    cJSON_AddStringToObject(j, "hash_value", hex);
    cJSON_AddStringToObject(j, "download_url", url);
    sb_reply_json(c, 200, j);
}

static void sb_bill_download(struct sb_call *c)
{
    const char *token = sb_query(c, "token");
    for (size_t i = 0; token && i < SB_BILLS; i++)
        if (g_bills[i].data && !strcmp(g_bills[i].token, token)) {
            pc_buf_reset(&c->out);
            pc_buf_add(&c->out, g_bills[i].data, g_bills[i].len);
            c->status = 200;
            c->content_type = "application/octet-stream";
            return;
        }
    sb_pay_error(c, 400, "INVALID_REQUEST", "token无效或已过期");
}

void sb_bill_reset(void)
{
    for (size_t i = 0; i < SB_BILLS; i++) {
        free(g_bills[i].data);
        memset(&g_bills[i], 0, sizeof g_bills[i]);
    }
}

static const struct sb_route sb_bill_routes[] = {
    {"GET", "/v3/bill/tradebill", "tradebill", sb_bill_tradebill},
    {"GET", "/v3/billdownload/file", "billdownload", sb_bill_download},
};

const struct sb_route_table sb_bill_table = {sb_bill_routes,
                                             sizeof sb_bill_routes / sizeof sb_bill_routes[0]};
