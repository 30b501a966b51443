/* wechat/token.c — lease-owned access_token refresh and reads. */
#include "wechat/token.h"

#include "base/crypto.h"
#include "base/err.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "config/config.h"
#include "store/leases.h"
#include "store/wxtoken.h"
#include "wechat/miniapp.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define LEASE_NAME  "wx_access_token"
#define LEASE_TTL_S 30
#define TICK_MS     1000
#define POLL_MS     50

static void aad_for(const struct pc_config *cfg, char *aad, size_t len)
{
    snprintf(aad, len, "wx_access_tokens:%s", cfg->wx_appid);
}

static int fetch_and_store(struct pc_ctx *ctx)
{
    const struct pc_config *cfg = ctx->cfg;
    struct pc_wx_call call;
    struct pc_out_resp resp;
    pc_wx_stable_token_call(cfg, &call);
    pc_outbound_perform(&call.req, &resp);
    OPENSSL_cleanse(call.body, sizeof call.body); /* it held the AppSecret */
    char token[PC_WX_TOKEN_MAX];
    int expires_in = 0, errcode = 0;
    int rc = pc_wx_stable_token_parse(&resp, token, sizeof token, &expires_in, &errcode);
    if (rc) {
        pc_log(PC_LOG_WARN, "access_token fetch failed", PC_LI("errcode", errcode),
               PC_LS("error", resp.err ? resp.errmsg : pc_strerror(rc)),
               PC_LI("http_status", resp.status));
        pc_out_resp_clear(&resp);
        return rc;
    }
    pc_out_resp_clear(&resp);
    unsigned char key[PC_DATA_KEY_BYTES], enc[PC_WX_TOKEN_MAX + PC_SEAL_OVERHEAD];
    char aad[96];
    size_t n = strlen(token);
    aad_for(cfg, aad, sizeof aad);
    rc = pc_data_key_parse(cfg->data_key, key) ? PC_ECRYPTO : pc_seal(key, aad, token, n, enc);
    OPENSSL_cleanse(token, sizeof token);
    OPENSSL_cleanse(key, sizeof key);
    if (rc == 0)
        rc = pc_store_wxtoken_put(ctx->db, cfg->wx_appid, enc, n + PC_SEAL_OVERHEAD, expires_in,
                                  ctx->instance);
    if (rc == 0)
        pc_log(PC_LOG_INFO, "access_token refreshed", PC_LI("expires_in", expires_in));
    return rc;
}

int pc_wxtoken_job(struct pc_ctx *ctx, void *arg)
{
    (void)arg;
    const struct pc_config *cfg = ctx->cfg;
    if (!cfg->wx_appid[0])
        return 60000; /* WeChat not configured */
    bool held = false;
    if (pc_store_lease_acquire(ctx->db, LEASE_NAME, ctx->instance, LEASE_TTL_S, &held) || !held)
        return TICK_MS;
    struct pc_store_wxtoken t;
    int rc = pc_store_wxtoken_get(ctx->db, cfg->wx_appid, &t);
    if (rc == PC_ENOTFOUND ||
        (rc == 0 && (t.stale || t.expires_in_s <= cfg->wx_token_refresh_ahead_s)))
        fetch_and_store(ctx);
    return TICK_MS;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

/* Reads and unseals the stored token when its version is above min_version and it is
 * neither stale nor expired; polls until wechat.token_wait_ms passes. */
static int read_token(struct pc_ctx *ctx, int64_t min_version, char *token, size_t len,
                      int64_t *version)
{
    const struct pc_config *cfg = ctx->cfg;
    uint64_t deadline = pc_time_mono_ns() + (uint64_t)cfg->wx_token_wait_ms * 1000000ull;
    for (;;) {
        struct pc_store_wxtoken t;
        int rc = pc_store_wxtoken_get(ctx->db, cfg->wx_appid, &t);
        if (rc && rc != PC_ENOTFOUND)
            return rc;
        if (rc == 0 && t.version > min_version && !t.stale && t.expires_in_s > 0) {
            unsigned char key[PC_DATA_KEY_BYTES];
            char aad[96];
            size_t n = t.enc_len - PC_SEAL_OVERHEAD;
            aad_for(cfg, aad, sizeof aad);
            if (t.enc_len < PC_SEAL_OVERHEAD || n >= len || pc_data_key_parse(cfg->data_key, key))
                return PC_ECRYPTO;
            rc = pc_unseal(key, aad, t.enc, t.enc_len, token);
            OPENSSL_cleanse(key, sizeof key);
            if (rc)
                return PC_ECRYPTO;
            token[n] = '\0';
            *version = t.version;
            return 0;
        }
        if (pc_time_mono_ns() >= deadline)
            return PC_ETIMEOUT;
        pc_ctx_wake_jobs(ctx);
        sleep_ms(POLL_MS);
    }
}

int pc_wxtoken_current(struct pc_ctx *ctx, char *token, size_t len, int64_t *version)
{
    return read_token(ctx, 0, token, len, version);
}

int pc_wxtoken_reject(struct pc_ctx *ctx, int64_t version)
{
    int rc = pc_store_wxtoken_mark_stale(ctx->db, ctx->cfg->wx_appid, version);
    pc_ctx_wake_jobs(ctx);
    return rc;
}

int pc_wxtoken_replace(struct pc_ctx *ctx, int64_t *version, char *token, size_t len)
{
    int rc = pc_wxtoken_reject(ctx, *version);
    if (rc)
        return rc;
    pc_log(PC_LOG_WARN, "access_token rejected by WeChat; asking for a new one",
           PC_LI("version", *version));
    return read_token(ctx, *version, token, len, version);
}
