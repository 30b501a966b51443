/* store/sms_codes.h — the PC page's SMS login codes (table sms_login_codes): only each code's
 * HMAC is kept, with its expiry, wrong tries and use. Owned by users/ (users/phone_login.c).
 * Worker thread. */
#ifndef PC_STORE_SMS_CODES_H
#define PC_STORE_SMS_CODES_H

#include "store/db.h"

#include <stdbool.h>
#include <stdint.h>

/* Records a new code for phone, valid ttl_s seconds from now (database clock); *id receives
 * its row id. Returns 0 or a store error. */
int pc_store_sms_code_insert(struct pc_db *db, const char *phone, const char *code_hmac, int ttl_s,
                             const char *ip, int64_t *id);

/* The newest code sent to a phone, as the verification sees it. */
struct pc_store_sms_code {
    int64_t id;
    char code_hmac[65];
    bool expired; /* expires_at has passed */
    bool used;    /* spent by a login, or burnt by too many wrong tries */
    int failures; /* wrong codes tried against it */
};
/* The newest code of phone into *out, locked (FOR UPDATE) until the transaction ends (inside
 * one). Returns 0, PC_ENOTFOUND or a store error. */
int pc_store_sms_code_latest_locked(struct pc_db *db, const char *phone,
                                    struct pc_store_sms_code *out);
/* Counts one wrong try; burn also spends the code. Returns 0 or a store error. */
int pc_store_sms_code_fail(struct pc_db *db, int64_t id, bool burn);
/* Spends the code (a successful login). Returns 0, PC_ECONFLICT (spent meanwhile) or a store
 * error. */
int pc_store_sms_code_use(struct pc_db *db, int64_t id);

#endif
