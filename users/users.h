/* users/users.h — students: WeChat login, sessions, profile, phone and avatar.
 *
 * Every function takes the calling worker's database handle and runs on that thread.
 * The WeChat session_key is sealed with crypto.data_key before it is stored and never
 * leaves this module. */
#ifndef PC_USERS_USERS_H
#define PC_USERS_USERS_H

#include "core/ctx.h"
#include "store/users.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pc_config;
struct pc_db;
struct pc_wx_session;

#define PC_NAME_MAX_CHARS 32 /* real_name / nickname, in Unicode characters */

/* Counts a login attempt from ip; PC_ELIMIT (with *retry_after_s) past
 * auth.wxlogin_addr_max in auth.wxlogin_window_s. */
int pc_user_login_gate_addr(struct pc_db *db, const struct pc_config *cfg, const char *ip,
                            int *retry_after_s);

struct pc_user_login_out {
    char token[48];
    char expires_at[32];
    int64_t user_id;
    bool created;
    bool profile_complete;
    bool phone_bound;
    int retry_after_s; /* with PC_ELIMIT */
};
/* After code2Session succeeded: applies the per-openid limit, creates or updates the user
 * (sealing the session_key), issues a token and audits the login.
 * 0, PC_ELIMIT, PC_ECRYPTO, or a store error. */
int pc_user_login(struct pc_db *db, const struct pc_config *cfg, const struct pc_wx_session *s,
                  const char *ip, const char *request_id, struct pc_user_login_out *out);

/* Issues a token for user_id (out->created as the caller set it), fills the profile flags
 * and audits the login ("user.login", details.via when not NULL). Used by every login. */
int pc_user_session_issue(struct pc_db *db, const struct pc_config *cfg, int64_t user_id,
                          const char *ip, const char *request_id, const char *via,
                          struct pc_user_login_out *out);

enum pc_user_token_state { PC_USER_TOKEN_OK = 0, PC_USER_TOKEN_UNKNOWN, PC_USER_TOKEN_EXPIRED };
int pc_user_authenticate(struct pc_db *db, const char *token, struct pc_user_auth *out,
                         enum pc_user_token_state *state);
int pc_user_logout(struct pc_db *db, const struct pc_user_auth *auth);
/* The student of token when the session cache (users/sessions.h) holds it; false otherwise
 * (then ask pc_user_authenticate). No database: fit for an event-loop thread. */
bool pc_user_token_cached(const char *token, struct pc_user_auth *out);

/* Validates a person's name: valid UTF-8, 1..PC_NAME_MAX_CHARS characters after trimming,
 * letters (any script), spaces, and · . ' ’ - only. Writes the trimmed name to out. */
bool pc_user_name_valid(const char *in, char *out, size_t len);
/* Nicknames: valid UTF-8, ≤ PC_NAME_MAX_CHARS characters, no control characters. */
bool pc_user_nickname_valid(const char *in, char *out, size_t len);
/* "13812345678" → "138****5678"; other lengths keep the first 3 and last 4 (or mask all). */
void pc_user_phone_mask(const char *phone, char *out, size_t len);

/* The student id into *out. Returns 0, PC_ENOTFOUND or a store error. */
int pc_user_get(struct pc_db *db, int64_t id, struct pc_user *out);
/* Sets the real name and nickname (NULL: none), both already valid (pc_user_name_valid,
 * pc_user_nickname_valid). Returns 0 or a store error. */
int pc_user_set_profile(struct pc_db *db, int64_t id, const char *real_name, const char *nickname);
/* Binds the phone number WeChat vouched for. Returns 0 or a store error. */
int pc_user_set_phone(struct pc_db *db, int64_t id, const char *phone);
/* The avatar file by its public name ("<32 hex>.jpg|.png"): *data (the caller frees it) of
 * *len, *png tells the type. Returns 0, PC_ENOTFOUND (also for a name that cannot be one) or
 * a store/storage error. */
int pc_user_avatar_read(struct pc_db *db, const struct pc_config *cfg, const char *name,
                        char **data, size_t *len, bool *png);

/* Stores an avatar (already a checked JPEG or PNG) durably, without its metadata
 * (base/imgmeta.h), and records it; out receives its public file name ("<32 hex>.jpg").
 * PC_EINVAL when its structure cannot be walked. */
int pc_user_set_avatar(struct pc_db *db, const struct pc_config *cfg, int64_t user_id,
                       const void *data, size_t len, const char *ext, char *out, size_t outlen);

#endif
