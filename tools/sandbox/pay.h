/* tools/sandbox/pay.h — the WeChat Pay API v3 side of the sandbox (pay.c: keys, request
 * authentication, signed replies, orders, refunds, control calls; pay_notify.c: signed and
 * encrypted notifications delivered over HTTPS with retries).
 *
 * One struct sb_pay per process, made by main.c and owned by it; the state (state.c)
 * borrows it so that POST /__sandbox/reset clears it. Loop thread only. */
#ifndef SB_PAY_H
#define SB_PAY_H

#include "tools/sandbox/sandbox.h"

#include "payment/wxpay_crypto.h"

#include <stdint.h>

#define SB_PAY_MAX_ORDERS    10000 /* the oldest order is forgotten past this */
#define SB_PAY_MAX_REFUNDS   10000
#define SB_PAY_MAX_NOTIFS    1000  /* notifications being delivered at once */
#define SB_PAY_MAX_NOTIF_REC 10000 /* delivery attempts kept for /__sandbox/notifications */
#define SB_PAY_MAX_URL       256
#define SB_PAY_MAX_NO        32  /* out_trade_no, transaction_id */
#define SB_PAY_MAX_DESC      127 /* description, in characters */
#define SB_PAY_MAX_ATTACH    128 /* bytes */
#define SB_PAY_MAX_OPENID    128
#define SB_PAY_MAX_TOTAL     100000000000LL /* fen */
#define SB_PAY_NOTIFY_MS     5000           /* one delivery attempt, whole call */

enum sb_trade { SB_TRADE_NOTPAY = 0, SB_TRADE_SUCCESS, SB_TRADE_CLOSED, SB_TRADE_REFUND };

struct sb_order {
    struct sb_order *next; /* creation order */
    char out_trade_no[SB_PAY_MAX_NO + 1];
    char appid[40];
    char description[4 * SB_PAY_MAX_DESC + 1];
    char notify_url[SB_PAY_MAX_URL + 1];
    char attach[SB_PAY_MAX_ATTACH + 1];
    char openid[SB_PAY_MAX_OPENID + 1];
    char time_expire[40]; /* as sent, "" when none */
    int64_t expire_s;     /* 0 when none */
    int64_t total;        /* fen */
    char prepay_id[48];
    int native;        /* placed by /v3/pay/transactions/native: paid by scanning a QR */
    char code_url[80]; /* Native only */
    char transaction_id[SB_PAY_MAX_NO + 1]; /* "" until paid */
    enum sb_trade state;
    int64_t success_s;
    int64_t payer_total;
    int64_t refunded;
};

struct sb_refund {
    struct sb_refund *next; /* creation order */
    struct sb_pay *p;
    char out_refund_no[65];
    char refund_id[40];
    char out_trade_no[SB_PAY_MAX_NO + 1];
    char transaction_id[SB_PAY_MAX_NO + 1];
    char notify_url[SB_PAY_MAX_URL + 1]; /* "" when none: no notification */
    int64_t refund, total, payer_total;
    int64_t create_s, success_s;
    int success;
    struct event *timer; /* PROCESSING → SUCCESS after --refund-delay-ms */
};

#define SB_PAY_MAX_CERTS 8

/* A platform certificate WeChat Pay lists (certs.c). */
struct sb_cert {
    char serial[PC_PAY_SERIAL_MAX + 1];
    char *pem;
    int64_t effective_s, expire_s;
};

struct sb_notif;
struct sb_notif_rec;
struct pc_outbound;
struct event_base;
struct sb_state;

struct sb_pay {
    const struct sb_opts *opts;
    struct sb_state *st;
    struct event_base *base;
    struct pc_outbound *out; /* notification deliveries */
    int ready;               /* --pay-dir loaded */
    int closing;             /* sb_pay_free is running */
    char mchid[24];
    char merchant_serial[PC_PAY_SERIAL_MAX + 1];
    char platform_serial[PC_PAY_SERIAL_MAX + 1];
    char pubkey_id[PC_PAY_SERIAL_MAX + 1];
    unsigned char apiv3[32];
    struct pc_pay_keys *merchant_keys; /* verifies requests */
    struct pc_pay_signer *platform;    /* signs in --pay-mode cert: the current certificate's */
    struct sb_cert certs[SB_PAY_MAX_CERTS]; /* oldest first; the last is current */
    size_t ncerts;
    struct pc_pay_signer *pubkey; /* signs in --pay-mode pubkey */
    struct sb_order *orders, *orders_tail;
    size_t norders;
    struct sb_refund *refunds, *refunds_tail;
    size_t nrefunds;
    struct sb_notif *notifs;  /* being delivered */
    struct sb_notif *zombies; /* cancelled by reset, waiting for their transfers */
    size_t nnotifs;
    struct sb_notif_rec *recs, *recs_tail;
    size_t nrecs;
    uint64_t seq;
};

/* Loads opts->pay_dir when given (else the pay endpoints answer 500). NULL with err set
 * when the directory is incomplete or its keys do not match. base, opts, st outlive it. */
struct sb_pay *sb_pay_new(struct event_base *base, const struct sb_opts *opts, struct sb_state *st,
                          char *err, size_t errlen);
/* Cancels deliveries in flight and frees everything; before event_base_free. NULL-safe. */
void sb_pay_free(struct sb_pay *p);
/* Forgets orders, refunds, deliveries and their records. NULL-safe. */
void sb_pay_reset(struct sb_pay *p);

/* ---- used by http.c for /v3/ requests ---- */
/* 1 if path is a WeChat Pay path (/v3/...). */
int sb_pay_path(const char *path);
/* Checks the Authorization header of c; 0, or -1 with the 401 (or 500) reply set. */
int sb_pay_authenticate(struct sb_call *c);
/* A faulted call: HTTP status with WeChat's error body for it. */
void sb_pay_fault_reply(struct sb_call *c, long status);
/* {"code","message"} with an HTTP status. */
void sb_pay_error(struct sb_call *c, int status, const char *code, const char *message);
/* Adds the Wechatpay-* and Request-ID headers over c's reply body. */
void sb_pay_sign_reply(struct sb_call *c);

/* ---- shared by pay.c and pay_notify.c ---- */
struct sb_pay_sig {
    char timestamp[24];
    char nonce[33];
    char serial[PC_PAY_SERIAL_MAX + 1];
    char signature[PC_PAY_SIG_B64_MAX];
};
/* Signs "ts\nnonce\nbody\n" with the --pay-mode key. 0 or -1. */
int sb_pay_sign_headers(const struct sb_pay *p, const char *body, size_t len,
                        struct sb_pay_sig *out);
const char *sb_pay_serial(const struct sb_pay *p);
const struct pc_pay_signer *sb_pay_signer(const struct sb_pay *p);
void sb_pay_now_text(char *out, size_t len);
/* n random decimal digits and a NUL into out[n + 1]. */
void sb_pay_digits(char *out, size_t n);
struct sb_order *sb_order_find(struct sb_pay *p, const char *out_trade_no);
/* The Transaction JSON of §5.3 (caller deletes). */
cJSON *sb_order_json(const struct sb_pay *p, const struct sb_order *o);

/* ---- platform certificates (certs.c) ---- */
/* Lists dir/platform.pem as the first certificate. 0, or -1 with err set. */
int sb_certs_init(struct sb_pay *p, const char *dir, char *err, size_t errlen);
void sb_certs_free(struct sb_pay *p);

/* ---- notifications (pay_notify.c) ---- */
/* Builds the encrypted envelope of plain (copied) and starts delivering it to url, under
 * the faults of fault_endpoint ("notify" or "refund_notify"). out_refund_no may be NULL. */
void sb_notify_start(struct sb_pay *p, const char *fault_endpoint, const char *event_type,
                     const char *summary, const char *original_type, const char *out_trade_no,
                     const char *out_refund_no, const char *url, const cJSON *plain);
/* Stops every delivery and forgets the records. */
void sb_notify_clear(struct sb_pay *p);
/* Appends {"notifications":[...]} (filtered by out_trade_no when not NULL) to out. */
void sb_notify_render(struct sb_pay *p, const char *out_trade_no, struct pc_buf *out);

#endif
