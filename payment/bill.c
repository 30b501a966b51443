/* payment/bill.c — trade-bill parsing. See bill.h. */
#include "payment/bill.h"

#include "base/alloc.h"
#include "base/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FIELDS 64
#define MAX_ROWS   2000000 /* a busy merchant's day is far below this */

int pc_bill_decimal(const char *s, int decimals, int64_t *out)
{
    int64_t v = 0;
    int digits = 0, frac = -1;
    bool neg = false;
    if (!s || !*s || decimals < 0 || decimals > 6)
        return PC_EINVAL;
    if (*s == '-') {
        neg = true;
        s++;
    }
    for (; *s; s++) {
        if (*s == '.') {
            if (frac >= 0 || digits == 0)
                return PC_EINVAL;
            frac = 0;
            continue;
        }
        if (*s < '0' || *s > '9' || ++digits > 15)
            return PC_EINVAL;
        if (frac >= 0 && ++frac > decimals) {
            if (*s != '0') /* "45.0" for a count is fine; a real fraction of a unit is not */
                return PC_EINVAL;
            continue;
        }
        v = v * 10 + (*s - '0');
    }
    if (digits == 0 || frac == 0)
        return PC_EINVAL;
    for (int k = frac < 0 ? 0 : frac; k < decimals; k++)
        v *= 10;
    *out = neg ? -v : v;
    return 0;
}

/* Splits line[0..n) at commas into fields (NUL-terminated in place; the line is a copy),
 * stripping one leading backtick from each when strip is set. Returns the field count. */
static size_t split(char *line, size_t n, char **f, size_t max, bool strip)
{
    size_t k = 0;
    char *p = line, *end = line + n;
    while (k < max) {
        char *c = memchr(p, ',', (size_t)(end - p));
        char *stop = c ? c : end;
        *stop = '\0';
        f[k++] = strip && *p == '`' ? p + 1 : p;
        if (!c)
            break;
        p = c + 1;
    }
    return k;
}

enum col {
    C_TIME,
    C_APPID,
    C_MCHID,
    C_TXID,
    C_OTN,
    C_OPENID,
    C_TTYPE,
    C_TSTATE,
    C_SETTLE,
    C_COUPON,
    C_RID,
    C_ORN,
    C_REFUND,
    C_RSTATE,
    C_ATTACH,
    C_FEE,
    C_RATE,
    C_ORDER,
    C_RAPPLIED,
    NCOLS
};
static const char *const col_names[NCOLS] = {
    "交易时间",     "公众账号ID",   "商户号",   "微信订单号",   "商户订单号",
    "用户标识",     "交易类型",     "交易状态", "应结订单金额", "代金券金额",
    "微信退款单号", "商户退款单号", "退款金额", "退款状态",     "商户数据包",
    "手续费",       "费率",         "订单金额", "申请退款金额"};

static int copy_field(const char *v, char *dst, size_t cap)
{
    if (strlen(v) >= cap)
        return PC_EINVAL;
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

static int parse_row(char **f, const int *idx, struct pc_bill_row *r, const char **bad)
{
    struct {
        enum col c;
        char *dst;
        size_t cap;
    } strs[] = {{C_TIME, r->time, sizeof r->time},
                {C_APPID, r->appid, sizeof r->appid},
                {C_MCHID, r->mchid, sizeof r->mchid},
                {C_TXID, r->transaction_id, sizeof r->transaction_id},
                {C_OTN, r->out_trade_no, sizeof r->out_trade_no},
                {C_OPENID, r->openid, sizeof r->openid},
                {C_TTYPE, r->trade_type, sizeof r->trade_type},
                {C_TSTATE, r->trade_state, sizeof r->trade_state},
                {C_RID, r->refund_id, sizeof r->refund_id},
                {C_ORN, r->out_refund_no, sizeof r->out_refund_no},
                {C_RSTATE, r->refund_state, sizeof r->refund_state},
                {C_ATTACH, r->attach, sizeof r->attach},
                {C_RATE, r->rate, sizeof r->rate}};
    struct {
        enum col c;
        int dec;
        int64_t *dst;
    } nums[] = {{C_SETTLE, 2, &r->settle_fen}, {C_COUPON, 2, &r->coupon_fen},
                {C_REFUND, 2, &r->refund_fen}, {C_FEE, 5, &r->fee_e5},
                {C_ORDER, 2, &r->order_fen},   {C_RAPPLIED, 2, &r->refund_applied_fen}};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        if (idx[strs[i].c] >= 0 && copy_field(f[idx[strs[i].c]], strs[i].dst, strs[i].cap)) {
            *bad = col_names[strs[i].c];
            return PC_EINVAL;
        }
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        const char *v = idx[nums[i].c] >= 0 ? f[idx[nums[i].c]] : "0";
        if (pc_bill_decimal(v[0] ? v : "0", nums[i].dec, nums[i].dst)) {
            *bad = col_names[nums[i].c];
            return PC_EINVAL;
        }
    }
    if (!r->out_trade_no[0] || !r->transaction_id[0]) {
        *bad = !r->out_trade_no[0] ? "商户订单号" : "微信订单号";
        return PC_EINVAL;
    }
    return 0;
}

static int parse_summary(char **head, size_t nh, char **f, size_t nf, struct pc_bill_summary *s,
                         const char **bad)
{
    static const struct {
        const char *name;
        int dec;
        size_t off;
    } cols[] = {{"总交易单数", 0, offsetof(struct pc_bill_summary, count)},
                {"应结订单总金额", 2, offsetof(struct pc_bill_summary, settle_total_fen)},
                {"退款总金额", 2, offsetof(struct pc_bill_summary, refund_total_fen)},
                {"充值券退款总金额", 2, offsetof(struct pc_bill_summary, coupon_refund_total_fen)},
                {"手续费总金额", 5, offsetof(struct pc_bill_summary, fee_total_e5)},
                {"订单总金额", 2, offsetof(struct pc_bill_summary, order_total_fen)},
                {"申请退款总金额", 2, offsetof(struct pc_bill_summary, refund_applied_total_fen)}};
    memset(s, 0, sizeof *s);
    if (nf != nh) {
        *bad = "summary row";
        return PC_EINVAL;
    }
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
        size_t k = 0;
        while (k < nh && strcmp(head[k], cols[i].name) != 0)
            k++;
        if (k == nh) {
            if (i < 3) { /* the count and the two main totals are required */
                *bad = cols[i].name;
                return PC_EINVAL;
            }
            continue;
        }
        if (pc_bill_decimal(f[k], cols[i].dec, (int64_t *)((char *)s + cols[i].off))) {
            *bad = cols[i].name;
            return PC_EINVAL;
        }
    }
    return 0;
}

int pc_bill_parse(const char *data, size_t len, struct pc_bill *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    err[0] = '\0';
    if (len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3)) {
        data += 3;
        len -= 3;
    }
    char *copy = pc_xmalloc(len + 1);
    memcpy(copy, data, len);
    copy[len] = '\0';
    if (memchr(copy, '\0', len)) {
        snprintf(err, errlen, "NUL byte in the bill");
        free(copy);
        return PC_EINVAL;
    }
    int idx[NCOLS];
    size_t ncols = 0, cap = 0, lineno = 0;
    char *head[MAX_FIELDS], *f[MAX_FIELDS];
    size_t nsumhead = 0;
    char *sumhead[MAX_FIELDS];
    enum { HEADER, ROWS, SUMMARY_HEAD, SUMMARY_ROW, DONE } st = HEADER;
    const char *bad = NULL;
    int rc = 0;
    for (char *p = copy; *p && rc == 0;) {
        char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        char *next = nl ? nl + 1 : p + n;
        if (n && p[n - 1] == '\r')
            n--;
        lineno++;
        if (n == 0) { /* blank lines (a trailing CRLF) */
            p = next;
            continue;
        }
        switch (st) {
        case HEADER: {
            ncols = split(p, n, head, MAX_FIELDS, false);
            for (int c = 0; c < NCOLS; c++) {
                idx[c] = -1;
                for (size_t k = 0; k < ncols; k++)
                    if (!strcmp(head[k], col_names[c]))
                        idx[c] = (int)k;
            }
            static const enum col required[] = {C_TIME, C_TXID, C_OTN, C_TSTATE, C_SETTLE};
            for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
                if (idx[required[i]] < 0) {
                    bad = col_names[required[i]];
                    rc = PC_EINVAL;
                }
            st = ROWS;
            break;
        }
        case ROWS:
            if (p[0] != '`') { /* the summary header: found by its text */
                nsumhead = split(p, n, sumhead, MAX_FIELDS, false);
                if (nsumhead == 0 || strcmp(sumhead[0], "总交易单数") != 0) {
                    bad = "a row without backticks that is not the summary header";
                    rc = PC_EINVAL;
                }
                st = SUMMARY_ROW;
                break;
            }
            if (split(p, n, f, MAX_FIELDS, true) != ncols) {
                bad = "field count";
                rc = PC_EINVAL;
                break;
            }
            if (out->n == cap) {
                if (cap >= MAX_ROWS) {
                    bad = "too many rows";
                    rc = PC_EINVAL;
                    break;
                }
                cap = cap ? cap * 2 : 64;
                out->rows = pc_xrealloc(out->rows, cap * sizeof *out->rows);
            }
            memset(&out->rows[out->n], 0, sizeof out->rows[out->n]);
            rc = parse_row(f, idx, &out->rows[out->n], &bad);
            if (rc == 0)
                out->n++;
            break;
        case SUMMARY_ROW: {
            size_t nf = split(p, n, f, MAX_FIELDS, true);
            rc = parse_summary(sumhead, nsumhead, f, nf, &out->sum, &bad);
            st = DONE;
            break;
        }
        default:
            bad = "text after the summary";
            rc = PC_EINVAL;
        }
        p = next;
    }
    if (rc == 0 && st != DONE) {
        bad = st == HEADER ? "empty bill" : "no summary";
        rc = PC_EINVAL;
        lineno++;
    }
    if (rc == 0 && out->sum.count != (int64_t)out->n) {
        bad = "总交易单数 differs from the number of rows";
        rc = PC_EINVAL;
    }
    if (rc) {
        snprintf(err, errlen, "line %zu: %s", lineno, bad ? bad : "malformed");
        pc_bill_free(out);
    }
    free(copy);
    return rc;
}

void pc_bill_free(struct pc_bill *b)
{
    free(b->rows);
    memset(b, 0, sizeof *b);
}
