/* test_bill.c — the WeChat Pay trade bill (wechat-protocols.md §6.4): the public fixture
 * tests/fixtures/wechatpay/bill.ALL.csv (from wechatpay-apiv3/wechatpay-php, 45 rows,
 * totals 0.47 / 0.14 / 0.08) parses to exact integers; decimals never go through floating
 * point; malformed bills are refused with the line that is wrong. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/err.h"
#include "payment/bill.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    p[n] = '\0';
    *len = (size_t)n;
    return p;
}

static void test_the_public_fixture_parses_to_45_rows_and_its_exact_totals(void **state)
{
    (void)state;
    size_t len;
    char *data = slurp(PC_SOURCE_DIR "/tests/fixtures/wechatpay/bill.ALL.csv", &len);
    struct pc_bill b;
    char err[128];
    assert_int_equal(pc_bill_parse(data, len, &b, err, sizeof err), 0);
    assert_int_equal(b.n, 45);
    assert_int_equal(b.sum.count, 45);
    assert_int_equal(b.sum.settle_total_fen, 47);
    assert_int_equal(b.sum.refund_total_fen, 14);
    assert_int_equal(b.sum.fee_total_e5, 8000); /* 0.08 yuan */
    assert_int_equal(b.sum.order_total_fen, 47);
    assert_int_equal(b.sum.refund_applied_total_fen, 14);
    /* the first data row: a refund */
    const struct pc_bill_row *r = &b.rows[0];
    assert_string_equal(r->time, "2019-02-19 05:01:46");
    assert_string_equal(r->appid, "wxab8acd895ab1638a");
    assert_string_equal(r->mchid, "1921000401");
    assert_string_equal(r->transaction_id, "4200000263201902167700134212");
    assert_string_equal(r->out_trade_no, "autotest_20190216081946_82335");
    assert_string_equal(r->trade_state, "REFUND");
    assert_string_equal(r->out_refund_no, "REF4200000263201902167700963919");
    assert_int_equal(r->refund_fen, 1);
    assert_string_equal(r->refund_state, "SUCCESS");
    assert_string_equal(r->rate, "39.00%");
    /* the rows add up to the summary */
    int64_t settle = 0, refund = 0, fee = 0;
    for (size_t i = 0; i < b.n; i++) {
        settle += b.rows[i].settle_fen;
        refund += b.rows[i].refund_fen;
        fee += b.rows[i].fee_e5;
    }
    assert_int_equal(settle, b.sum.settle_total_fen);
    assert_int_equal(refund, b.sum.refund_total_fen);
    assert_int_equal(fee, b.sum.fee_total_e5);
    pc_bill_free(&b);
    free(data);
}

static void test_decimals_are_exact_and_strict(void **state)
{
    (void)state;
    int64_t v;
    assert_int_equal(pc_bill_decimal("0.47", 2, &v), 0);
    assert_int_equal(v, 47);
    assert_int_equal(pc_bill_decimal("12", 2, &v), 0);
    assert_int_equal(v, 1200);
    assert_int_equal(pc_bill_decimal("0.1", 2, &v), 0);
    assert_int_equal(v, 10);
    assert_int_equal(pc_bill_decimal("0.01000", 5, &v), 0);
    assert_int_equal(v, 1000);
    assert_int_equal(pc_bill_decimal("45.0", 0, &v), 0);
    assert_int_equal(v, 45);
    assert_int_equal(pc_bill_decimal("-0.01", 2, &v), 0);
    assert_int_equal(v, -1);
    assert_int_equal(pc_bill_decimal("9999999999999.99", 2, &v), 0);
    assert_int_equal(v, 999999999999999LL);
    const char *bad[] = {
        "", ".5", "5.", "1e3", " 1", "1,000", "0.001", "1.2.3", "-", "abc", "1234567890123456"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(pc_bill_decimal(bad[i], 2, &v), PC_EINVAL);
}

static const char HEAD[] = "交易时间,公众账号ID,商户号,微信订单号,商户订单号,交易状态,应结订单金额,"
                           "退款金额,手续费\r\n";
static const char ROW[] = "`2024-01-19 10:00:00,`wx1,`19,`4200001,`P1,`SUCCESS,`25.00,`0.00,"
                          "`0.15000\r\n";
static const char SUMH[] = "总交易单数,应结订单总金额,退款总金额,手续费总金额\r\n";

static int parse(const char *text, char *err, size_t errlen)
{
    struct pc_bill b;
    int rc = pc_bill_parse(text, strlen(text), &b, err, errlen);
    if (rc == 0)
        pc_bill_free(&b);
    return rc;
}

static void test_a_minimal_bill_without_bom_and_with_lf_lines_parses(void **state)
{
    (void)state;
    char text[1024], err[128];
    snprintf(text, sizeof text, "%s%s%s`1.0,`25.00,`0.00,`0.15\n", HEAD, ROW, SUMH);
    struct pc_bill b;
    assert_int_equal(pc_bill_parse(text, strlen(text), &b, err, sizeof err), 0);
    assert_int_equal(b.n, 1);
    assert_int_equal(b.rows[0].settle_fen, 2500);
    assert_int_equal(b.rows[0].fee_e5, 15000);
    assert_int_equal(b.sum.fee_total_e5, 15000);
    pc_bill_free(&b);
}

static void test_malformed_bills_are_refused_with_the_line(void **state)
{
    (void)state;
    char text[1024], err[128];
    /* no summary */
    snprintf(text, sizeof text, "%s%s", HEAD, ROW);
    assert_int_equal(parse(text, err, sizeof err), PC_EINVAL);
    assert_non_null(strstr(err, "no summary"));
    /* the count disagrees */
    snprintf(text, sizeof text, "%s%s%s`2.0,`25.00,`0.00,`0.15\r\n", HEAD, ROW, SUMH);
    assert_int_equal(parse(text, err, sizeof err), PC_EINVAL);
    assert_non_null(strstr(err, "总交易单数"));
    /* a float amount with three decimals */
    snprintf(text, sizeof text, "%s%s%s`1.0,`25.00,`0.00,`0.15\r\n", HEAD,
             "`2024-01-19 10:00:00,`wx1,`19,`4200001,`P1,`SUCCESS,`25.001,`0.00,`0.15000\r\n",
             SUMH);
    assert_int_equal(parse(text, err, sizeof err), PC_EINVAL);
    assert_non_null(strstr(err, "line 2"));
    assert_non_null(strstr(err, "应结订单金额"));
    /* a missing field */
    snprintf(text, sizeof text, "%s%s%s`1.0,`25.00,`0.00,`0.15\r\n", HEAD,
             "`2024-01-19 10:00:00,`wx1,`19,`4200001,`P1,`SUCCESS,`25.00,`0.00\r\n", SUMH);
    assert_int_equal(parse(text, err, sizeof err), PC_EINVAL);
    /* a header without the order number column */
    snprintf(text, sizeof text, "交易时间,微信订单号,交易状态,应结订单金额\r\n%s`0.0,`0,`0\r\n",
             "总交易单数,应结订单总金额,退款总金额\r\n");
    assert_int_equal(parse(text, err, sizeof err), PC_EINVAL);
    assert_non_null(strstr(err, "商户订单号"));
    /* text after the summary, and an empty file */
    snprintf(text, sizeof text, "%s%s%s`1.0,`25.00,`0.00,`0.15\r\nmore\r\n", HEAD, ROW, SUMH);
    assert_int_equal(parse(text, err, sizeof err), PC_EINVAL);
    assert_int_equal(parse("", err, sizeof err), PC_EINVAL);
    assert_int_equal(parse("\xef\xbb\xbf", err, sizeof err), PC_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_public_fixture_parses_to_45_rows_and_its_exact_totals),
        cmocka_unit_test(test_decimals_are_exact_and_strict),
        cmocka_unit_test(test_a_minimal_bill_without_bom_and_with_lf_lines_parses),
        cmocka_unit_test(test_malformed_bills_are_refused_with_the_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
