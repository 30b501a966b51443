/* notify/outbox.c — the outbox worker (jobs thread): claim due messages, deliver each by
 * subscription message or SMS, record the outcome. See notify.h. */
#include "notify/notify.h"

#include "base/alloc.h"
#include "base/crypto.h"
#include "base/err.h"
#include "base/log.h"
#include "base/stats.h"
#include "base/timeutil.h"
#include "config/config.h"
#include "net/outbound.h"
#include "orders/orders.h"
#include "store/outbox.h"
#include "wechat/miniapp.h"
#include "wechat/token.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum outcome { SENT, RETRY, UNSENT };

struct delivery {
    struct pc_ctx *ctx;
    enum pc_notify_event event;
    struct pc_notify_values v;
    const char *openid;
    int64_t user_id;
    char phone[24];
    char via[17];
    char note[501]; /* the error of a RETRY, or why nothing was sent */
};

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Sends the subscription message if a template is configured and a consent is left.
 * SENT, RETRY (transient: try the whole message again later) or UNSENT (fall back). */
static enum outcome by_subscription(struct delivery *d)
{
    struct pc_ctx *ctx = d->ctx;
    const struct pc_config *cfg = ctx->cfg;
    cJSON *msg = NULL;
    char err[256];
    int rc = pc_notify_subscribe_msg(cfg, d->event, d->openid, &d->v, &msg, err, sizeof err);
    if (rc == PC_ENOTFOUND)
        return UNSENT;
    if (rc) {
        snprintf(d->note, sizeof d->note, "subscribe: %s", err);
        pc_log(PC_LOG_WARN, "subscription message cannot be built", PC_LS("error", err));
        return UNSENT;
    }
    char tpl[65]; /* msg is gone by the time the consent is used */
    snprintf(tpl, sizeof tpl, "%s", jstr(msg, "template_id"));
    int left = 0;
    rc = pc_store_consent_remaining(ctx->db, d->user_id, tpl, &left);
    if (rc == 0 && left <= 0) {
        snprintf(d->note, sizeof d->note, "subscribe: no consent left");
        cJSON_Delete(msg);
        return UNSENT;
    }
    char token[PC_WX_TOKEN_MAX];
    int64_t version = 0;
    if (rc == 0)
        rc = pc_wxtoken_current(ctx, token, sizeof token, &version);
    if (rc) {
        snprintf(d->note, sizeof d->note, "subscribe: %s", pc_strerror(rc));
        cJSON_Delete(msg);
        return RETRY;
    }
    struct pc_wx_call call;
    struct pc_out_resp resp;
    rc = pc_wx_subscribe_call(cfg, token, msg, &call);
    cJSON_Delete(msg);
    if (rc) {
        snprintf(d->note, sizeof d->note, "subscribe: message too large");
        return UNSENT;
    }
    pc_outbound_perform(&call.req, &resp);
    int errcode = 0;
    rc = pc_wx_subscribe_parse(&resp, &errcode);
    if (rc == PC_EIO)
        snprintf(d->note, sizeof d->note, "subscribe: %s (HTTP %ld)",
                 resp.err ? resp.errmsg : "bad reply", resp.status);
    pc_out_resp_clear(&resp);
    if (rc == 0) {
        pc_store_consent_take(ctx->db, d->user_id, tpl);
        snprintf(d->via, sizeof d->via, "subscribe");
        return SENT;
    }
    if (rc == PC_EIO)
        return RETRY;
    snprintf(d->note, sizeof d->note, "subscribe: errcode %d", errcode);
    if (errcode == 43101) { /* refused or used up: a normal outcome (§3) */
        pc_store_consent_clear(ctx->db, d->user_id, tpl);
        pc_log(PC_LOG_DEBUG, "no subscription left (43101)", PC_LI("user_id", d->user_id));
        return UNSENT;
    }
    if (pc_wx_token_rejected(errcode)) { /* the owner replaces it; we try again soon */
        pc_wxtoken_reject(ctx, version);
        return RETRY;
    }
    if (errcode == 40003 || errcode == 40037 || errcode == 47003 || errcode == 41030) {
        pc_log(PC_LOG_WARN, "subscription message refused for good", PC_LI("errcode", errcode));
        return UNSENT; /* our template or data is wrong: retrying cannot help */
    }
    return RETRY; /* -1 system busy, 45009 quota, … */
}

static bool sms_for(const struct pc_config *cfg, enum pc_notify_event e)
{
    return pc_config_sms_event(cfg, pc_notify_event_name(e));
}

static enum outcome by_sms(struct delivery *d)
{
    const struct pc_config *cfg = d->ctx->cfg;
    if (!sms_for(cfg, d->event) || !cfg->sms_api_base || !cfg->sms_api_base[0])
        return UNSENT;
    if (!d->phone[0]) {
        size_t l = strlen(d->note);
        snprintf(d->note + l, sizeof d->note - l, "%sno phone bound", l ? "; " : "");
        return UNSENT;
    }
    char text[1024];
    pc_notify_sms_text(cfg, d->event, &d->v, text, sizeof text);
    if (pc_notify_sms_post(cfg, d->phone, text, d->note, sizeof d->note))
        return RETRY;
    snprintf(d->via, sizeof d->via, "sms");
    return SENT;
}

/* The orders of a claimed batch, read together before it is delivered (docs/notify.md). */
struct notices {
    struct pc_order_notice *of; /* of[i]: message i's order, when found[i] */
    bool *found;
    bool read; /* false: not read together (each message reads its own) */
};

static void notices_read(struct pc_ctx *ctx, const struct pc_outbox_msg *ms, size_t n,
                         struct notices *nt)
{
    char(*nos)[33] = pc_xcalloc(n ? n : 1, sizeof *nos);
    const char **keys = pc_xcalloc(n ? n : 1, sizeof *keys);
    nt->of = pc_xcalloc(n ? n : 1, sizeof *nt->of);
    nt->found = pc_xcalloc(n ? n : 1, sizeof *nt->found);
    for (size_t i = 0; i < n; i++) {
        cJSON *p = strcmp(ms[i].kind, "sms.login_code") ? cJSON_Parse(ms[i].payload) : NULL;
        const char *no = jstr(p, "order_no");
        if (no && strlen(no) < sizeof nos[i]) {
            snprintf(nos[i], sizeof nos[i], "%s", no);
            keys[i] = nos[i];
        }
        cJSON_Delete(p);
    }
    nt->read = pc_order_notices(ctx->db, keys, n, nt->of, nt->found) == 0;
    free(keys);
    free(nos);
}

static void notices_free(struct notices *nt)
{
    free(nt->of);
    free(nt->found);
}

/* Works out the event and its values from the message and the order (nt->of[i] when the
 * batch's orders were read together), then sends. */
static enum outcome deliver(struct pc_ctx *ctx, const struct pc_outbox_msg *m, struct delivery *d,
                            const struct notices *nt, size_t i)
{
    cJSON *p = cJSON_Parse(m->payload);
    const char *no = jstr(p, "order_no");
    struct pc_order_notice o;
    enum outcome out = UNSENT;
    memset(d, 0, sizeof *d);
    d->ctx = ctx;
    snprintf(d->via, sizeof d->via, "none");
    if (!strcmp(m->kind, "sms.login_code")) { /* users/phone_login.c: the PC page's login */
        int lc = pc_notify_login_code(ctx->cfg, m->payload, d->note, sizeof d->note);
        if (lc == 0)
            snprintf(d->via, sizeof d->via, "sms");
        cJSON_Delete(p);
        return lc == PC_EIO ? RETRY : lc == 0 ? SENT : UNSENT;
    }
    const char *ev = !strcmp(m->kind, "order.paid") ? "paid" : jstr(p, "event");
    d->event = !ev                       ? PC_NOTIFY_NONE
               : !strcmp(ev, "paid")     ? PC_NOTIFY_PAID
               : !strcmp(ev, "approved") ? PC_NOTIFY_APPROVED
               : !strcmp(ev, "rejected") ? PC_NOTIFY_REJECTED
                                         : PC_NOTIFY_NONE;
    int rc = d->event == PC_NOTIFY_NONE ? PC_ENOTFOUND
             : !nt->read                ? pc_order_notice(ctx->db, no, &o)
             : nt->found[i]             ? 0
                                        : PC_ENOTFOUND;
    if (rc == 0 && nt->read)
        o = nt->of[i];
    if (rc == PC_ENOTFOUND) {
        snprintf(d->note, sizeof d->note, "nothing to send: unknown event or order");
        goto out;
    }
    if (rc) {
        snprintf(d->note, sizeof d->note, "store: %s", pc_strerror(rc));
        out = RETRY;
        goto out;
    }
    /* What the student is told is what was decided then, not what the order says now. */
    d->v = (struct pc_notify_values){.student = o.student_name,
                                     .task = o.task_name,
                                     .order_no = o.order_no,
                                     .amount_fen = o.amount_fen,
                                     .paid_at = o.paid_at,
                                     .reason = jstr(p, "reason"),
                                     .deadline = jstr(p, "editable_until_db")};
    d->openid = o.openid;
    d->user_id = o.user_id;
    snprintf(d->phone, sizeof d->phone, "%s", o.phone);
    out = by_subscription(d);
    if (out == UNSENT)
        out = by_sms(d);
out:
    cJSON_Delete(p);
    return out;
}

/* What this instance's outbox worker did (GET /metrics). */
static struct pc_stat g_claimed = PC_STAT_INIT("portraitd_outbox_claimed_total", "counter", NULL,
                                               "Outbox messages claimed by this instance.", 0);
static struct pc_stat g_done[3] = {
    PC_STAT_INIT("portraitd_outbox_finished_total", "counter", "via=\"subscribe\"",
                 "Outbox messages finished, by how they were sent (none: nothing to send).", 0),
    PC_STAT_INIT("portraitd_outbox_finished_total", "counter", "via=\"sms\"",
                 "Outbox messages finished, by how they were sent (none: nothing to send).", 0),
    PC_STAT_INIT("portraitd_outbox_finished_total", "counter", "via=\"none\"",
                 "Outbox messages finished, by how they were sent (none: nothing to send).", 0)};
static struct pc_stat g_retried = PC_STAT_INIT("portraitd_outbox_retries_total", "counter", NULL,
                                               "Outbox deliveries that failed and wait.", 0);
static struct pc_stat g_dead =
    PC_STAT_INIT("portraitd_outbox_dead_total", "counter", NULL,
                 "Outbox messages parked as dead after notify.max_attempts.", 0);

/* The backlog across every instance, read at most once a second by each instance's worker. */
#define BACKLOG(st)                                                                                \
    PC_STAT_INIT("portraitd_outbox_backlog", "gauge", "state=\"" st "\"",                          \
                 "Outbox messages not yet sent, all instances: due now, waiting to retry, "        \
                 "claimed, dead.",                                                                 \
                 0)
static struct pc_stat g_backlog[4] = {BACKLOG("due"), BACKLOG("waiting"), BACKLOG("running"),
                                      BACKLOG("dead")};
#undef BACKLOG
static struct pc_stat g_oldest =
    PC_STAT_INIT("portraitd_outbox_oldest_due_seconds", "gauge", NULL,
                 "How long the oldest due outbox message has waited, all instances.", 0);

static void backlog_sample(struct pc_ctx *ctx)
{
    static _Atomic uint64_t next_ns;
    uint64_t now = pc_time_mono_ns();
    if (now < atomic_load_explicit(&next_ns, memory_order_relaxed))
        return;
    atomic_store_explicit(&next_ns, now + 1000000000ull, memory_order_relaxed);
    struct pc_outbox_backlog b;
    if (pc_store_outbox_backlog(ctx->db, &b))
        return;
    pc_stat_set(&g_backlog[0], b.due);
    pc_stat_set(&g_backlog[1], b.waiting);
    pc_stat_set(&g_backlog[2], b.running);
    pc_stat_set(&g_backlog[3], b.dead);
    pc_stat_set(&g_oldest, b.oldest_due_s);
}

/* The messages of a batch that had nothing to send, marked done together at its end: a crash
 * before that only lets another claim find them again, and nothing was sent twice. A message
 * that was sent is marked at once (the at-least-once window stays one message). */
struct unsent {
    int64_t *ids;
    char (*notes)[sizeof((struct delivery *)0)->note];
    const char **note_of;
    size_t n;
};

static void unsent_finish(struct pc_ctx *ctx, struct unsent *u, const char *me)
{
    int rc = pc_store_outbox_done_many(ctx->db, u->ids, me, "none", u->note_of, u->n);
    pc_stat_add(&g_done[2], rc ? 0 : (long long)u->n);
    for (size_t i = 0; rc && i < u->n; i++)
        pc_log(PC_LOG_WARN, "outbox row not updated; its lease will expire",
               PC_LI("outbox_id", u->ids[i]), PC_LS("error", pc_strerror(rc)));
    free(u->ids);
    free(u->notes);
    free(u->note_of);
}

int pc_notify_outbox_job(struct pc_ctx *ctx, void *arg)
{
    (void)arg;
    const struct pc_config *cfg = ctx->cfg;
    const char *me = ctx->instance;
    struct pc_outbox_msg *ms = NULL;
    size_t n = 0, muted = 0;
    backlog_sample(ctx);
    /* A paid order's message has nowhere to go without a template or SMS for it: finished in
     * the claim, without being read or looked at again. */
    const char *mute = pc_config_can_notify(cfg, "paid") ? NULL : "order.paid";
    if (pc_store_outbox_claim(ctx->db, me, cfg->notify_lease_s, cfg->notify_batch, mute,
                              "nothing to send: no subscription template or SMS for this event",
                              &ms, &n, &muted))
        return cfg->notify_interval_ms;
    pc_stat_add(&g_claimed, (long long)muted);
    pc_stat_add(&g_done[2], (long long)muted);
    size_t delivered = muted;
    struct unsent u = {pc_xcalloc(n ? n : 1, sizeof *u.ids), pc_xcalloc(n ? n : 1, sizeof *u.notes),
                       pc_xcalloc(n ? n : 1, sizeof *u.note_of), 0};
    pc_stat_add(&g_claimed, (long long)n);
    struct notices nt;
    notices_read(ctx, ms, n, &nt);
    for (size_t i = 0; i < n; i++) {
        /* Every claim of the batch lives lease_s more from each message on: one message (its
         * WeChat and SMS calls, each bounded by its timeout) must fit in the lease, not the
         * whole batch. A message whose claim ran out is left to whoever took it over. */
        bool mine = false;
        if (pc_store_outbox_renew(ctx->db, ms[i].id, me, cfg->notify_lease_s, &mine) || !mine) {
            pc_log(PC_LOG_WARN, "outbox claim lost before delivery; left to its new holder",
                   PC_LI("outbox_id", ms[i].id));
            continue;
        }
        struct delivery d;
        enum outcome out = deliver(ctx, &ms[i], &d, &nt, i);
        int rc = 0;
        delivered += out != RETRY;
        if (out == RETRY) {
            uint32_t rnd = 0;
            pc_rand_bytes(&rnd, sizeof rnd);
            int64_t delay = pc_notify_backoff_ms(cfg, ms[i].attempts, rnd);
            rc = pc_store_outbox_retry(ctx->db, ms[i].id, me, cfg->notify_max_attempts, delay,
                                       d.note);
            pc_stat_add(ms[i].attempts >= cfg->notify_max_attempts ? &g_dead : &g_retried, 1);
            pc_log(ms[i].attempts >= cfg->notify_max_attempts ? PC_LOG_ERROR : PC_LOG_WARN,
                   ms[i].attempts >= cfg->notify_max_attempts ? "message parked as dead"
                                                              : "message delivery failed",
                   PC_LI("outbox_id", ms[i].id), PC_LI("attempt", ms[i].attempts),
                   PC_LS("error", d.note), PC_LI("retry_in_ms", delay));
        } else if (out == UNSENT) {
            u.ids[u.n] = ms[i].id;
            snprintf(u.notes[u.n], sizeof u.notes[u.n], "%s", d.note);
            u.note_of[u.n] = d.note[0] ? u.notes[u.n] : NULL;
            u.n++;
        } else {
            rc = pc_store_outbox_done(ctx->db, ms[i].id, me, d.via, d.note[0] ? d.note : NULL);
            pc_stat_add(&g_done[!strcmp(d.via, "subscribe") ? 0 : 1], 1);
        }
        if (out != RETRY)
            pc_log(PC_LOG_INFO, "message delivered", PC_LI("outbox_id", ms[i].id),
                   PC_LS("event", pc_notify_event_name(d.event)), PC_LS("via", d.via));
        if (rc)
            pc_log(PC_LOG_WARN, "outbox row not updated; its lease will expire",
                   PC_LI("outbox_id", ms[i].id), PC_LS("error", pc_strerror(rc)));
    }
    unsent_finish(ctx, &u, me);
    notices_free(&nt);
    pc_store_outbox_msgs_free(ms, n);
    /* A full batch: more may be due now; but when nothing of it could be delivered (WeChat or
     * the gateway unreachable), wait the interval instead of retrying the whole backlog at
     * once. */
    return n + muted == (size_t)cfg->notify_batch && delivered ? 1 : cfg->notify_interval_ms;
}
