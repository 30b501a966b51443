/* test_order_payment.c — whose money an order takes (pc_order_payment_matches, the first check
 * of the paid transition): its amount, and its payer — the student's own openid for a JSAPI
 * payment, anyone for a Native payment (the PC page's QR code is paid by whoever scans it). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "orders/state.h"

#include <stdio.h>
#include <string.h>

static struct pc_order an_order(void)
{
    struct pc_order o;
    memset(&o, 0, sizeof o);
    snprintf(o.order_no, sizeof o.order_no, "P20240119ABCDEF01");
    snprintf(o.openid, sizeof o.openid, "o_student");
    snprintf(o.status, sizeof o.status, "unpaid");
    o.amount_fen = 2500;
    return o;
}

static struct pc_order_payment a_payment(const char *payer, int64_t amount, bool native)
{
    struct pc_order_payment p = {.transaction_id = "4200000000202401190000000001",
                                 .amount_fen = amount,
                                 .payer_openid = payer,
                                 .native = native,
                                 .paid_at = "2024-01-19 02:02:11",
                                 .source = "notify"};
    return p;
}

static void test_a_jsapi_payment_is_taken_only_from_the_students_own_openid(void **state)
{
    (void)state;
    struct pc_order o = an_order();
    struct pc_order_payment own = a_payment("o_student", 2500, false);
    struct pc_order_payment other = a_payment("o_somebody_else", 2500, false);
    assert_true(pc_order_payment_matches(&o, &own));
    assert_false(pc_order_payment_matches(&o, &other));
}

static void test_a_native_payment_is_taken_from_whoever_scanned_the_code(void **state)
{
    (void)state;
    struct pc_order o = an_order();
    struct pc_order_payment parent = a_payment("o_scan_parent", 2500, true);
    struct pc_order_payment own = a_payment("o_student", 2500, true);
    assert_true(pc_order_payment_matches(&o, &parent));
    assert_true(pc_order_payment_matches(&o, &own));
}

static void test_the_amount_must_be_the_orders_on_either_channel(void **state)
{
    (void)state;
    struct pc_order o = an_order();
    struct pc_order_payment jsapi_less = a_payment("o_student", 2499, false);
    struct pc_order_payment native_less = a_payment("o_scan_parent", 2499, true);
    struct pc_order_payment native_more = a_payment("o_scan_parent", 2501, true);
    struct pc_order_payment native_none = a_payment("o_scan_parent", -1, true);
    assert_false(pc_order_payment_matches(&o, &jsapi_less));
    assert_false(pc_order_payment_matches(&o, &native_less));
    assert_false(pc_order_payment_matches(&o, &native_more));
    assert_false(pc_order_payment_matches(&o, &native_none));
}

static void test_a_payment_without_a_payer_is_refused_on_either_channel(void **state)
{
    (void)state;
    struct pc_order o = an_order();
    struct pc_order_payment jsapi = a_payment(NULL, 2500, false);
    struct pc_order_payment native = a_payment(NULL, 2500, true);
    struct pc_order_payment empty = a_payment("", 2500, true);
    assert_false(pc_order_payment_matches(&o, &jsapi));
    assert_false(pc_order_payment_matches(&o, &native));
    assert_false(pc_order_payment_matches(&o, &empty));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_jsapi_payment_is_taken_only_from_the_students_own_openid),
        cmocka_unit_test(test_a_native_payment_is_taken_from_whoever_scanned_the_code),
        cmocka_unit_test(test_the_amount_must_be_the_orders_on_either_channel),
        cmocka_unit_test(test_a_payment_without_a_payer_is_refused_on_either_channel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
