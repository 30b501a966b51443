/* fuzz_bill.c — bytes into pc_bill_parse (payment/bill.h), the trade-bill parser.
 *
 * Input: the file as is. Checks: the return code; on failure an empty result and a message;
 * on success that the summary count equals the rows, every string is terminated inside its
 * array, and a second parse gives identical rows. Also feeds each comma-separated piece of
 * the input to pc_bill_decimal and checks the value's sign and magnitude bound. */
#include "base/err.h"
#include "payment/bill.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pc_bill a, b;
    char err[160];
    int rc = pc_bill_parse((const char *)data, size, &a, err, sizeof err);
    if (rc != 0) {
        if (rc != PC_EINVAL || a.rows || a.n || !err[0])
            abort();
    } else {
        if (a.sum.count != (int64_t)a.n)
            abort();
        for (size_t i = 0; i < a.n; i++)
            if (!memchr(a.rows[i].out_trade_no, 0, sizeof a.rows[i].out_trade_no) ||
                !memchr(a.rows[i].attach, 0, sizeof a.rows[i].attach) || !a.rows[i].out_trade_no[0])
                abort();
        if (pc_bill_parse((const char *)data, size, &b, err, sizeof err) != 0 || b.n != a.n ||
            (a.n && memcmp(a.rows, b.rows, a.n * sizeof *a.rows) != 0))
            abort();
        pc_bill_free(&b);
        pc_bill_free(&a);
    }
    char piece[40];
    size_t k = 0;
    for (size_t i = 0; i <= size; i++) {
        if (i == size || data[i] == ',' || k == sizeof piece - 1) {
            piece[k] = '\0';
            int64_t v;
            if (pc_bill_decimal(piece, 2, &v) == 0 &&
                (v > 999999999999999999LL || v < -999999999999999999LL))
                abort();
            k = 0;
            continue;
        }
        piece[k++] = (char)data[i];
    }
    return 0;
}
