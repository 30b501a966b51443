/* wechat/token.h — the one shared access_token (wechat-protocols.md §2.3).
 *
 * Exactly one instance — the holder of the lease "wx_access_token" — fetches it, with
 * stable_token in normal mode (never force_refresh), ahead of expiry or when a caller
 * reported it rejected; it stores the token sealed in wx_access_tokens. Every instance
 * reads it from there. */
#ifndef PC_WECHAT_TOKEN_H
#define PC_WECHAT_TOKEN_H

#include "core/ctx.h"

#include <stddef.h>
#include <stdint.h>

#define PC_WX_TOKEN_MAX 600 /* WeChat: reserve at least 512 bytes */

/* Background job (jobs thread): renews the lease and, when holding it, refreshes the
 * token if missing, stale or within wechat.token_refresh_ahead_s of expiry.
 * Returns the delay until the next run in ms. */
int pc_wxtoken_job(struct pc_ctx *ctx, void *arg);

/* Worker: the current token and its version; waits up to wechat.token_wait_ms for the
 * holder to provide one. 0, PC_ETIMEOUT, PC_EDBDOWN, PC_ECRYPTO. */
int pc_wxtoken_current(struct pc_ctx *ctx, char *token, size_t len, int64_t *version);

/* Any thread with a database: WeChat rejected token `version` (40001/42001/40014). Marks it
 * stale and wakes the local jobs (the lease holder fetches a new one); does not wait. Returns
 * 0 or a store error. */
int pc_wxtoken_reject(struct pc_ctx *ctx, int64_t version);

/* Worker: WeChat rejected token `version` (40001/42001/40014). Marks it stale, wakes the
 * local jobs, and waits for a newer version (which *version receives). */
int pc_wxtoken_replace(struct pc_ctx *ctx, int64_t *version, char *token, size_t len);

#endif
