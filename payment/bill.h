/* payment/bill.h — WeChat Pay v3 trade bills (GET /v3/bill/tradebill, wechat-protocols.md
 * §6.4): the file format parsed exactly, amounts as integers (never floating point).
 *
 * The file: UTF-8 (BOM optional), CRLF lines (LF accepted), a header row without
 * backticks, data rows whose every field starts with one backtick, then a summary header
 * (found by its text 总交易单数) and one summary row. Columns are found by header name, so
 * a bill type with other columns parses as long as the needed ones are present. Pure; any
 * thread. */
#ifndef PC_PAYMENT_BILL_H
#define PC_PAYMENT_BILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pc_bill_row {
    char time[20];              /* 交易时间, "YYYY-MM-DD HH:MM:SS" Beijing time */
    char appid[33];             /* 公众账号ID */
    char mchid[33];             /* 商户号 */
    char transaction_id[65];    /* 微信订单号 */
    char out_trade_no[65];      /* 商户订单号 */
    char openid[129];           /* 用户标识 */
    char trade_type[17];        /* JSAPI, NATIVE, … */
    char trade_state[17];       /* SUCCESS or REFUND */
    int64_t settle_fen;         /* 应结订单金额 */
    int64_t coupon_fen;         /* 代金券金额 */
    char refund_id[65];         /* 微信退款单号 ("0" or "" when none) */
    char out_refund_no[65];     /* 商户退款单号 */
    int64_t refund_fen;         /* 退款金额 */
    char refund_state[17];      /* 退款状态 */
    char attach[129];           /* 商户数据包 */
    int64_t fee_e5;             /* 手续费 in 1e-5 yuan (the bill gives 5 decimals) */
    char rate[17];              /* 费率, e.g. "0.60%" */
    int64_t order_fen;          /* 订单金额 */
    int64_t refund_applied_fen; /* 申请退款金额 */
};

struct pc_bill_summary {
    int64_t count;                    /* 总交易单数 ("45.0" in the file) */
    int64_t settle_total_fen;         /* 应结订单总金额 */
    int64_t refund_total_fen;         /* 退款总金额 */
    int64_t coupon_refund_total_fen;  /* 充值券退款总金额 */
    int64_t fee_total_e5;             /* 手续费总金额 */
    int64_t order_total_fen;          /* 订单总金额 */
    int64_t refund_applied_total_fen; /* 申请退款总金额 */
};

struct pc_bill {
    struct pc_bill_row *rows; /* pc_xmalloc'd */
    size_t n;
    struct pc_bill_summary sum;
};

/* Parses a whole (uncompressed) bill. 0, or PC_EINVAL with a message naming the line and
 * column in err; *out is then empty. The summary is required and its count must equal the
 * number of data rows. Free with pc_bill_free. */
int pc_bill_parse(const char *data, size_t len, struct pc_bill *out, char *err, size_t errlen);
void pc_bill_free(struct pc_bill *b);

/* Parses a decimal yuan amount with at most `decimals` decimals ("0.47", "12", "-0.01")
 * into units of 10^-decimals yuan. 0 or PC_EINVAL (no exponents, no spaces, ≤ 15 digits). */
int pc_bill_decimal(const char *s, int decimals, int64_t *out);

struct pc_pay;

/* Blocking (a worker or the jobs thread): the two-step v3 download of bill_date's ALL bill
 * (YYYY-MM-DD, Beijing): the signed GET /v3/bill/tradebill (its answer's signature
 * verified), then the signed GET of download_url (whose answer is not signed), gunzipped,
 * its SHA-1 compared with hash_value, then parsed. 0, PC_ENOTFOUND (WeChat has no bill for
 * that day: NO_STATEMENT_EXIST), PC_EUPSTREAM / PC_EIO / PC_ECRYPTO (hash mismatch) /
 * PC_EINVAL (malformed bill), with a message in err. */
int pc_bill_fetch(const struct pc_pay *p, const char *bill_date, struct pc_bill *out, char *err,
                  size_t errlen);

#endif
