/* store/users.h — students and their sessions (tables users, user_sessions). Owned by users/.
 * Worker thread. */
#ifndef PC_STORE_USERS_H
#define PC_STORE_USERS_H

#include "store/db.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A student as the API shows them to themselves. */
struct pc_user {
    int64_t id;
    char openid[65];
    char nickname[129];
    char real_name[129];
    char phone[24];
    char avatar_name[65];
};

/* Creates the user of openid or updates its sealed session key; *id receives the user's id and
 * *created tells which. Returns 0 or a store error. */
int pc_store_user_upsert(struct pc_db *db, const char *openid, const char *unionid,
                         const unsigned char *session_key_enc, size_t enc_len, int64_t *id,
                         bool *created);
/* User id into *out (empty strings for NULL columns). Returns 0, PC_ENOTFOUND or a store
 * error. */
int pc_store_user_get(struct pc_db *db, int64_t id, struct pc_user *out);
/* Returns 0 or a store error. */
int pc_store_user_set_profile(struct pc_db *db, int64_t id, const char *real_name,
                              const char *nickname);
/* The student who bound phone most recently (in the mini-program or on the PC page) into
 * *user_id. Returns 0, PC_ENOTFOUND or a store error. */
int pc_store_user_by_phone(struct pc_db *db, const char *phone, int64_t *user_id);
/* Creates a student known only by phone (the PC page's login); openid is a placeholder that no
 * WeChat openid can equal (docs/users.md). *user_id receives the id. Returns 0 or a store
 * error. */
int pc_store_user_insert_phone(struct pc_db *db, const char *openid, const char *phone,
                               int64_t *user_id);
/* Returns 0 or a store error. */
int pc_store_user_set_phone(struct pc_db *db, int64_t id, const char *phone);
/* Records the avatar's public name and its storage path. Returns 0 or a store error. */
int pc_store_user_set_avatar(struct pc_db *db, int64_t id, const char *avatar_name,
                             const char *path);
/* The storage path (into path, len bytes) of an avatar by its public name. Returns 0,
 * PC_ENOTFOUND or a store error. */
int pc_store_avatar_path(struct pc_db *db, const char *avatar_name, char *path, size_t len);

/* Creates a session that expires ttl_s from now; *session_id receives its id and expires_at
 * the UTC DATETIME text. Returns 0 or a store error. */
int pc_store_user_session_insert(struct pc_db *db, int64_t user_id, const char *token_hash,
                                 int ttl_s, const char *ip, int64_t *session_id,
                                 char expires_at[32]);
#define PC_STORE_TOKEN_HASH_LEN 64 /* lower-case hex SHA-256 of a token */

struct pc_store_user_session {
    int64_t session_id;
    int64_t user_id;
    char openid[65];
    bool expired;
    bool revoked;
    char expires_at[32]; /* UTC DATETIME text */
};
/* The session of a token hash into *out. Returns 0, PC_ENOTFOUND or a store error. */
int pc_store_user_session_get(struct pc_db *db, const char *token_hash,
                              struct pc_store_user_session *out);
/* Ends a session (logout). Returns 0 or a store error. */
int pc_store_user_session_revoke(struct pc_db *db, int64_t session_id);
/* The token hashes of the sessions revoked within the last window_s seconds (database clock):
 * *hashes (pc_xcalloc, the caller frees it; never NULL on 0) of *n. Returns 0 or a store
 * error. Read by users/sessions.c's poller. */
int pc_store_user_sessions_revoked_since(struct pc_db *db, int window_s,
                                         char (**hashes)[PC_STORE_TOKEN_HASH_LEN + 1], size_t *n);

#endif
