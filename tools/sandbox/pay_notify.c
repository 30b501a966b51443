/* tools/sandbox/pay_notify.c — WeChat Pay notifications (wechat-protocols.md §5): the
 * encrypted envelope, signed headers, delivery over HTTPS through pc_outbound (libcurl
 * multi on the loop), retries on --notify-schedule until a 200 or 204, the notify /
 * refund_notify faults (delay_ms, duplicate, drop) and the records behind
 * GET /__sandbox/notifications. Loop thread only. */
#include "tools/sandbox/pay.h"

#include "base/alloc.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "base/err.h"
#include "net/outbound.h"
#include "tools/sandbox/state.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One notification being delivered. */
struct sb_notif {
    struct sb_notif *prev, *next; /* p->notifs, or p->zombies once cancelled */
    struct sb_pay *p;
    char id[48];
    char event_type[32];
    char out_trade_no[SB_PAY_MAX_NO + 1];
    char out_refund_no[65];
    char url[SB_PAY_MAX_URL + 1];
    char *body; /* the envelope, sent as is on every attempt */
    size_t len;
    struct event *timer;
    int attempt;   /* attempts started */
    long dup;      /* extra copies of the first attempt (duplicate fault) */
    int in_flight; /* copies of the current attempt not answered yet */
    int ok;        /* a copy got 200 or 204 */
    int cancelled;
};

/* One delivery attempt (copy) as listed by /__sandbox/notifications. */
struct sb_notif_rec {
    struct sb_notif_rec *next;
    char id[48];
    char event_type[32];
    char out_trade_no[SB_PAY_MAX_NO + 1];
    char out_refund_no[65];
    int attempt, copy;
    long status; /* HTTP status, 0 for a transport error */
    char at[40];
};

/* The callback argument of one copy. */
struct sb_xfer {
    struct sb_notif *n;
    int attempt, copy;
};

static void sb_list_add(struct sb_notif **head, struct sb_notif *n)
{
    n->prev = NULL;
    n->next = *head;
    if (*head)
        (*head)->prev = n;
    *head = n;
}

static void sb_list_del(struct sb_notif **head, struct sb_notif *n)
{
    if (n->prev)
        n->prev->next = n->next;
    else
        *head = n->next;
    if (n->next)
        n->next->prev = n->prev;
    n->prev = n->next = NULL;
}

static void sb_notif_free(struct sb_notif *n)
{
    if (n->timer)
        event_free(n->timer);
    free(n->body);
    free(n);
}

static void sb_notif_record(struct sb_notif *n, int attempt, int copy, long status)
{
    struct sb_pay *p = n->p;
    struct sb_notif_rec *r = pc_new(struct sb_notif_rec);
    snprintf(r->id, sizeof r->id, "%s", n->id);
    snprintf(r->event_type, sizeof r->event_type, "%s", n->event_type);
    snprintf(r->out_trade_no, sizeof r->out_trade_no, "%s", n->out_trade_no);
    snprintf(r->out_refund_no, sizeof r->out_refund_no, "%s", n->out_refund_no);
    r->attempt = attempt;
    r->copy = copy;
    r->status = status;
    pc_time_rfc3339_ms(pc_time_now_ms(), r->at, sizeof r->at, PC_TZ_SHANGHAI_MIN);
    if (p->recs_tail)
        p->recs_tail->next = r;
    else
        p->recs = r;
    p->recs_tail = r;
    p->nrecs++;
    while (p->nrecs > SB_PAY_MAX_NOTIF_REC) {
        struct sb_notif_rec *old = p->recs;
        p->recs = old->next;
        p->nrecs--;
        free(old);
    }
}

/* Ends a delivery (success, or the schedule ran out). */
static void sb_notif_finish(struct sb_notif *n)
{
    struct sb_pay *p = n->p;
    pc_log(n->ok ? PC_LOG_INFO : PC_LOG_WARN,
           n->ok ? "notification delivered" : "notification abandoned", PC_LS("id", n->id),
           PC_LS("event_type", n->event_type), PC_LS("out_trade_no", n->out_trade_no),
           PC_LI("attempts", n->attempt));
    sb_list_del(&p->notifs, n);
    p->nnotifs--;
    sb_notif_free(n);
}

static void sb_notif_arm(struct sb_notif *n, double seconds)
{
    long us = (long)(seconds * 1e6);
    struct timeval tv = {us / 1000000, us % 1000000};
    evtimer_add(n->timer, &tv);
}

/* One copy answered (or failed); after the attempt's last copy: done or the next try. */
static void sb_notif_copy_done(struct sb_notif *n, int attempt, int copy, long status)
{
    struct sb_pay *p = n->p;
    n->in_flight--;
    if (n->cancelled) {
        if (n->in_flight == 0) {
            sb_list_del(&p->zombies, n);
            sb_notif_free(n);
        }
        return;
    }
    if (p->closing)
        return;
    sb_notif_record(n, attempt, copy, status);
    if (status == 200 || status == 204)
        n->ok = 1;
    if (n->in_flight > 0)
        return;
    size_t gaps = p->opts->notify_n;
    if (n->ok || (size_t)n->attempt > gaps) {
        sb_notif_finish(n);
        return;
    }
    sb_notif_arm(n, p->opts->notify_schedule[n->attempt - 1]);
}

static void sb_notif_on_reply(struct pc_out_resp *resp, void *arg)
{
    struct sb_xfer *x = arg;
    struct sb_notif *n = x->n;
    int attempt = x->attempt, copy = x->copy;
    free(x);
    long status = resp->err ? 0 : resp->status;
    if (resp->err && resp->err != PC_EBUSY && !n->cancelled)
        pc_log(PC_LOG_INFO, "notification transport error", PC_LS("id", n->id),
               PC_LS("error", resp->errmsg));
    sb_notif_copy_done(n, attempt, copy, status);
}

/* Starts one attempt: the envelope, freshly signed, once (plus the duplicates the first
 * time). */
static void sb_notif_attempt(struct sb_notif *n)
{
    struct sb_pay *p = n->p;
    struct sb_pay_sig sig;
    n->attempt++;
    int copies = 1 + (n->attempt == 1 ? (int)n->dup : 0);
    if (sb_pay_sign_headers(p, n->body, n->len, &sig)) {
        pc_log_msg(PC_LOG_ERROR, "cannot sign a notification");
        copies = 0;
    }
    char h_ts[64], h_nonce[80], h_serial[PC_PAY_SERIAL_MAX + 32], h_sig[PC_PAY_SIG_B64_MAX + 32];
    snprintf(h_ts, sizeof h_ts, "Wechatpay-Timestamp: %s", sig.timestamp);
    snprintf(h_nonce, sizeof h_nonce, "Wechatpay-Nonce: %s", sig.nonce);
    snprintf(h_serial, sizeof h_serial, "Wechatpay-Serial: %s", sig.serial);
    snprintf(h_sig, sizeof h_sig, "Wechatpay-Signature: %s", sig.signature);
    struct pc_out_req req = {
        .method = "POST",
        .url = n->url,
        .headers = {"Content-Type: application/json", "Accept: */*", h_ts, h_nonce, h_serial, h_sig,
                    "Wechatpay-Signature-Type: WECHATPAY2-SHA256-RSA2048",
                    "User-Agent: Mozilla/4.0", NULL},
        .body = n->body,
        .body_len = n->len,
        .timeout_ms = SB_PAY_NOTIFY_MS,
        .max_response = 64 * 1024,
        .ca_file = p->opts->ca_file,
        .name = "notify",
    };
    n->in_flight = copies;
    if (copies == 0) { /* nothing went out: count it as a failed attempt */
        n->in_flight = 1;
        sb_notif_copy_done(n, n->attempt, 0, 0);
        return;
    }
    int attempt = n->attempt;
    for (int i = 0; i < copies; i++) {
        struct sb_xfer *x = pc_new(struct sb_xfer);
        x->n = n;
        x->attempt = attempt;
        x->copy = i;
        if (pc_outbound_start(p->out, &req, sb_notif_on_reply, x)) {
            free(x);
            /* the last failing copy may finish n: stop touching it then */
            int last = n->in_flight == 1;
            sb_notif_copy_done(n, attempt, i, 0);
            if (last)
                return;
        }
    }
}

static void sb_notif_on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sb_notif_attempt(arg);
}

void sb_notify_start(struct sb_pay *p, const char *fault_endpoint, const char *event_type,
                     const char *summary, const char *original_type, const char *out_trade_no,
                     const char *out_refund_no, const char *url, const cJSON *plain)
{
    long delay_ms = 0, dup = 0;
    int drop = 0;
    sb_fault_take_notify(p->st, fault_endpoint, &delay_ms, &dup, &drop);
    char id[48], digits[8];
    sb_pay_digits(digits, 6);
    char date[40];
    sb_pay_now_text(date, sizeof date);
    char stamp[20];
    size_t k = 0;
    for (const char *s = date; *s && s < date + 19 && k + 1 < sizeof stamp; s++)
        if (*s >= '0' && *s <= '9')
            stamp[k++] = *s;
    stamp[k] = '\0';
    snprintf(id, sizeof id, "EV-%s%06llu%s", stamp, (unsigned long long)(++p->seq % 1000000),
             digits);
    if (drop) {
        pc_log(PC_LOG_INFO, "notification dropped (fault)", PC_LS("id", id),
               PC_LS("event_type", event_type), PC_LS("out_trade_no", out_trade_no));
        return;
    }
    if (p->nnotifs >= SB_PAY_MAX_NOTIFS) {
        pc_log(PC_LOG_WARN, "too many notifications in delivery; dropped", PC_LS("id", id));
        return;
    }
    /* The resource: the plaintext sealed with the APIv3 key. */
    char *text = cJSON_PrintUnformatted(plain);
    size_t tlen = strlen(text);
    size_t cap = 4 * ((tlen + 16 + 2) / 3) + 1;
    char *ct = pc_xmalloc(cap);
    char nonce[33];
    pc_pay_nonce(nonce);
    nonce[12] = '\0';
    int rc = pc_pay_encrypt(p->apiv3, sizeof p->apiv3, nonce, original_type, text, tlen, ct, cap);
    free(text);
    if (rc) {
        pc_log_msg(PC_LOG_ERROR, "cannot encrypt a notification");
        free(ct);
        return;
    }
    char created[40];
    sb_pay_now_text(created, sizeof created);
    cJSON *env = cJSON_CreateObject();
    cJSON_AddStringToObject(env, "id", id);
    cJSON_AddStringToObject(env, "create_time", created);
    cJSON_AddStringToObject(env, "resource_type", "encrypt-resource");
    cJSON_AddStringToObject(env, "event_type", event_type);
    cJSON_AddStringToObject(env, "summary", summary);
    cJSON *res = cJSON_AddObjectToObject(env, "resource");
    cJSON_AddStringToObject(res, "original_type", original_type);
    cJSON_AddStringToObject(res, "algorithm", "AEAD_AES_256_GCM");
    cJSON_AddStringToObject(res, "ciphertext", ct);
    cJSON_AddStringToObject(res, "associated_data", original_type);
    cJSON_AddStringToObject(res, "nonce", nonce);
    free(ct);

    struct sb_notif *n = pc_new(struct sb_notif);
    n->p = p;
    snprintf(n->id, sizeof n->id, "%s", id);
    snprintf(n->event_type, sizeof n->event_type, "%s", event_type);
    snprintf(n->out_trade_no, sizeof n->out_trade_no, "%s", out_trade_no);
    snprintf(n->out_refund_no, sizeof n->out_refund_no, "%s", out_refund_no ? out_refund_no : "");
    snprintf(n->url, sizeof n->url, "%s", url);
    n->body = cJSON_PrintUnformatted(env);
    n->len = strlen(n->body);
    n->dup = dup;
    cJSON_Delete(env);
    n->timer = evtimer_new(p->base, sb_notif_on_timer, n);
    sb_list_add(&p->notifs, n);
    p->nnotifs++;
    sb_notif_arm(n, (double)delay_ms / 1000.0);
    pc_log(PC_LOG_INFO, "notification queued", PC_LS("id", id), PC_LS("event_type", event_type),
           PC_LS("out_trade_no", out_trade_no), PC_LI("delay_ms", delay_ms),
           PC_LI("duplicate", dup));
}

void sb_notify_clear(struct sb_pay *p)
{
    while (p->notifs) {
        struct sb_notif *n = p->notifs;
        sb_list_del(&p->notifs, n);
        if (n->in_flight > 0 && !p->closing) {
            evtimer_del(n->timer);
            n->cancelled = 1;
            sb_list_add(&p->zombies, n);
        } else {
            sb_notif_free(n);
        }
    }
    p->nnotifs = 0;
    if (p->closing) {
        while (p->zombies) {
            struct sb_notif *n = p->zombies;
            sb_list_del(&p->zombies, n);
            sb_notif_free(n);
        }
    }
    for (struct sb_notif_rec *r = p->recs, *next; r; r = next) {
        next = r->next;
        free(r);
    }
    p->recs = p->recs_tail = NULL;
    p->nrecs = 0;
}

void sb_notify_render(struct sb_pay *p, const char *out_trade_no, struct pc_buf *out)
{
    cJSON *j = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(j, "notifications");
    for (const struct sb_notif_rec *r = p ? p->recs : NULL; r; r = r->next) {
        if (out_trade_no && strcmp(out_trade_no, r->out_trade_no))
            continue;
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "id", r->id);
        cJSON_AddStringToObject(e, "out_trade_no", r->out_trade_no);
        if (r->out_refund_no[0])
            cJSON_AddStringToObject(e, "out_refund_no", r->out_refund_no);
        cJSON_AddStringToObject(e, "event_type", r->event_type);
        cJSON_AddNumberToObject(e, "attempt", r->attempt);
        cJSON_AddNumberToObject(e, "copy", r->copy);
        cJSON_AddNumberToObject(e, "status", (double)r->status);
        cJSON_AddStringToObject(e, "at", r->at);
        cJSON_AddItemToArray(arr, e);
    }
    char *s = cJSON_PrintUnformatted(j);
    pc_buf_adds(out, s);
    free(s);
    cJSON_Delete(j);
}
