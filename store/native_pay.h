/* store/native_pay.h — SQL of WeChat Pay Native prepays (the PC page's QR code): the code_url
 * of an order, kept while it is live so that repeat calls reuse it.
 *
 * Worker thread, with the caller's database handle; 0 or a store error. */
#ifndef PC_STORE_NATIVE_PAY_H
#define PC_STORE_NATIVE_PAY_H

#include <stddef.h>
#include <stdint.h>

struct pc_db;

#define PC_NATIVE_CODE_URL_MAX 255

/* The order's code_url if it stays live for at least another minute. 0 or PC_ENOTFOUND. */
int pc_store_native_code_live(struct pc_db *db, int64_t order_id,
                              char code_url[PC_NATIVE_CODE_URL_MAX + 1]);
/* Records a new code_url live for ttl_s seconds and marks the order as known to WeChat Pay
 * (orders.prepay_id = "native" unless a JSAPI prepay id is there, with no prepay expiry so it
 * is never handed to wx.requestPayment): the sweeper then queries the order before closing
 * it, as for a JSAPI prepay. One transaction. */
int pc_store_native_code_set(struct pc_db *db, int64_t order_id, const char *code_url, int ttl_s);

#endif
