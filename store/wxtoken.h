/* store/wxtoken.h — the shared WeChat access_token, sealed (table wx_access_tokens). Owned by
 * wechat/token.c: one instance stores it, every instance reads it. Worker or jobs thread. */
#ifndef PC_STORE_WXTOKEN_H
#define PC_STORE_WXTOKEN_H

#include "store/db.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pc_store_wxtoken {
    unsigned char enc[1100]; /* the sealed token (base/crypto.h pc_seal) */
    size_t enc_len;
    int64_t version;
    int64_t expires_in_s; /* seconds left on the database clock (may be negative) */
    bool stale;
};

/* The token of appid into *out. Returns 0, PC_ENOTFOUND (none stored, or too long to be ours)
 * or a store error. */
int pc_store_wxtoken_get(struct pc_db *db, const char *appid, struct pc_store_wxtoken *out);
/* Stores a freshly fetched sealed token: version + 1, stale cleared, fetched_by = the instance.
 * Returns 0 or a store error. */
int pc_store_wxtoken_put(struct pc_db *db, const char *appid, const unsigned char *enc,
                         size_t enc_len, int expires_in_s, const char *fetched_by);
/* Marks version as rejected by WeChat (no-op when a newer one is stored). Returns 0 or a store
 * error. */
int pc_store_wxtoken_mark_stale(struct pc_db *db, const char *appid, int64_t version);

#endif
