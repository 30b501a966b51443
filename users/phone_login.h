/* users/phone_login.h — the PC page's login: a 6-digit code sent by SMS to a mainland
 * mobile number, then the student account bound to that number (or a new one).
 *
 * Codes are single-use, live auth.sms_code_ttl_s (5 minutes), and only their HMAC-SHA256
 * under crypto.data_key is stored; the SMS itself is an outbox message (kind
 * "sms.login_code") carrying the code sealed with the same key, so it is written in the
 * same transaction as the code and delivered by the outbox worker (docs/notify.md).
 * Every function runs on the calling worker with its database handle. */
#ifndef PC_USERS_PHONE_LOGIN_H
#define PC_USERS_PHONE_LOGIN_H

#include "users/users.h"

#include <stdbool.h>

#define PC_SMS_LOGIN_KIND   "sms.login_code" /* outbox kind of a login code */
#define PC_SMS_CODE_DIGITS  6
#define PC_SMS_CODE_MAX_TRY 5 /* wrong codes tried against one code before it is burnt */

/* A mainland China mobile number: 11 digits, "1" then 3–9. */
bool pc_phone_valid(const char *phone);

/* Sends a login code to phone: the rate limits first (one code per phone per
 * auth.sms_phone_interval_s, auth.sms_phone_max per phone and auth.sms_addr_max per address
 * within auth.sms_window_s), then the code, its HMAC row, the outbox message and the audit
 * row in one transaction. 0, PC_ELIMIT (*retry_after_s), PC_ECRYPTO or a store error. */
int pc_sms_login_send(struct pc_db *db, const struct pc_config *cfg, const char *phone,
                      const char *ip, const char *request_id, int *retry_after_s);

enum pc_phone_login_result {
    PC_PHONE_LOGIN_OK = 0,
    PC_PHONE_LOGIN_INVALID, /* no code, a wrong one, or one already used or burnt */
    PC_PHONE_LOGIN_EXPIRED  /* the newest code is past its five minutes */
};
/* Checks code against the newest code sent to phone (counting a wrong try, burning the code
 * at PC_SMS_CODE_MAX_TRY), spends it, then logs in the student who bound phone most recently
 * or a new one, and issues a token (out, as pc_user_login). 0 with *result telling the
 * outcome, PC_ELIMIT (the per-address login limit, out->retry_after_s) or a store error. */
int pc_phone_login(struct pc_db *db, const struct pc_config *cfg, const char *phone,
                   const char *code, const char *ip, const char *request_id,
                   enum pc_phone_login_result *result, struct pc_user_login_out *out);

/* HMAC-SHA256 (hex) of a code for phone under the data key; what the database keeps. */
int pc_sms_code_hmac(const struct pc_config *cfg, const char *phone, const char *code,
                     char out[65]);

#endif
