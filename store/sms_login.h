/* store/sms_login.h — SQL of the PC page's phone login: SMS login codes (only their HMAC is
 * stored) and students found or created by their phone number.
 *
 * Every function takes the calling thread's database handle; 0 or a store error
 * (PC_ENOTFOUND where said, PC_EDBDOWN, PC_EDB, PC_ERETRY). */
#ifndef PC_STORE_SMS_LOGIN_H
#define PC_STORE_SMS_LOGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pc_db;

/* Records a new code for phone, valid ttl_s seconds from now (database clock); *id receives
 * its row id. */
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
/* The newest code of phone, locked (FOR UPDATE) until the transaction ends. 0 or
 * PC_ENOTFOUND. Inside a transaction only. */
int pc_store_sms_code_latest_locked(struct pc_db *db, const char *phone,
                                    struct pc_store_sms_code *out);
/* Counts one wrong try; burn also spends the code. */
int pc_store_sms_code_fail(struct pc_db *db, int64_t id, bool burn);
/* Spends the code (a successful login). */
int pc_store_sms_code_use(struct pc_db *db, int64_t id);

/* The student who bound phone most recently (in the mini-program or on the PC page).
 * 0 or PC_ENOTFOUND. */
int pc_store_user_by_phone(struct pc_db *db, const char *phone, int64_t *user_id);
/* Creates a student known only by phone; openid is a placeholder that no WeChat openid can
 * equal (docs/users.md). */
int pc_store_user_insert_phone(struct pc_db *db, const char *openid, const char *phone,
                               int64_t *user_id);

#endif
