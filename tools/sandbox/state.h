/* tools/sandbox/state.h — everything the sandbox remembers: users and their consents,
 * login and phone codes, access tokens, faults, recorded requests and messages.
 *
 * Owned by the loop thread; nothing here is thread-safe. Every collection is bounded:
 * the oldest entries are dropped past the limits below. */
#ifndef SB_STATE_H
#define SB_STATE_H

#include "tools/sandbox/sandbox.h"

#include <stdint.h>

struct sb_pay;

#define SB_MAX_USERS        100000
#define SB_MAX_CODES        100000
#define SB_MAX_TOKENS       10000
#define SB_MAX_RECORDS      10000              /* requests, and messages, each */
#define SB_MAX_RECORD_BYTES (32 * 1024 * 1024) /* bytes of JSON kept per record list */
#define SB_MAX_CONSENTS     256                /* templates per user */
#define SB_FORCE_PER_DAY    20
#define SB_FORCE_GAP_MS     30000

enum sb_code_kind { SB_CODE_LOGIN, SB_CODE_PHONE };

struct sb_code {
    struct sb_code *next; /* issue order */
    enum sb_code_kind kind;
    char code[72];
    char openid[SB_MAX_OPENID + 1];
    char unionid[SB_MAX_OPENID + 1]; /* "" when the login-code request had none */
    char phone_cc[8];                /* country code without '+', e.g. "86" */
    char phone_pure[24];             /* number without the country code */
    int64_t created_ms;
    int used;
};

struct sb_consent {
    struct sb_consent *next;
    char *template_id;
    long remaining;
};

struct sb_user {
    char openid[SB_MAX_OPENID + 1];
    char unionid[SB_MAX_OPENID + 1];
    char session_key[32]; /* the latest one (never logged) */
    struct sb_consent *consents;
    size_t nconsents;
};

enum sb_token_set { SB_TOK_CLASSIC = 0, SB_TOK_STABLE = 1 };

struct sb_token {
    struct sb_token *next; /* issue order */
    enum sb_token_set set;
    char value[100]; /* 96 characters of base64url */
    int64_t issued_ms;
    int64_t expires_ms;
    int64_t invalid_ms; /* from then on 40001; INT64_MAX when never */
};

/* Results of redeeming a code. */
enum sb_redeem { SB_REDEEM_OK = 0, SB_REDEEM_UNKNOWN, SB_REDEEM_USED, SB_REDEEM_EXPIRED };

/* Creates the empty state; opts must outlive it. */
struct sb_state *sb_state_new(const struct sb_opts *opts);
/* Frees everything. NULL-safe. */
void sb_state_free(struct sb_state *st);
/* Forgets everything: users, codes, tokens, faults, requests, messages, consents, and the
 * WeChat Pay state (orders, refunds, deliveries) when a pay side is attached. */
void sb_state_reset(struct sb_state *st);
/* Attaches the WeChat Pay side (borrowed; NULL detaches). */
void sb_state_set_pay(struct sb_state *st, struct sb_pay *pay);
struct sb_pay *sb_state_pay(struct sb_state *st);

/* ---- users ---- */
struct sb_user *sb_user_find(struct sb_state *st, const char *openid);
/* Finds or creates; NULL when SB_MAX_USERS is reached. */
struct sb_user *sb_user_get(struct sb_state *st, const char *openid);
/* Adds n sends of template_id; returns the new remaining count, or -1 when the user
 * already has SB_MAX_CONSENTS templates. */
long sb_consent_add(struct sb_user *u, const char *template_id, long n);
/* Uses one send of template_id: 0, or -1 when none is left. */
int sb_consent_take(struct sb_user *u, const char *template_id);

/* ---- codes ---- */
/* Issues a code (fields of proto copied, except code/created/used). Returns it (owned by
 * the state until redeemed-and-purged or reset). */
const struct sb_code *sb_code_issue(struct sb_state *st, const struct sb_code *proto);
/* Redeems a code of the given kind; on SB_REDEEM_OK marks it used and *out points at it.
 * When openid is not NULL a code of another user is SB_REDEEM_UNKNOWN (and stays unused). */
enum sb_redeem sb_code_redeem(struct sb_state *st, enum sb_code_kind kind, const char *code,
                              const char *openid, const struct sb_code **out);

/* ---- access tokens ---- */
/* 0 when valid, 40001 (unknown or invalidated) or 42001 (expired). */
long sb_token_check(struct sb_state *st, const char *value);
/* cgi-bin/token: a new token; the previous one stays valid SB_TOKEN_OVERLAP s more. */
const struct sb_token *sb_token_classic(struct sb_state *st);
/* cgi-bin/stable_token. On refusal of a force refresh returns NULL with *errmsg set. */
const struct sb_token *sb_token_stable(struct sb_state *st, int force, const char **errmsg);
/* Expires the given token (or every token when value is NULL) now. Returns how many;
 * -1 when value is unknown. */
long sb_token_expire(struct sb_state *st, const char *value);

/* ---- faults ---- */
/* 1 if name is an endpoint name of the control contract. */
int sb_endpoint_known(const char *name);
/* Arms faults for endpoint; a field < 0 leaves that fault as it is. count applies to the
 * errcode, delay, duplicate and drop faults set by this call (drop: 1 arms, 0 clears). */
void sb_fault_set(struct sb_state *st, const char *endpoint, int has_errcode, long errcode,
                  long delay_ms, long count, long duplicate, long drop);
/* Takes one use of the faults armed for endpoint: *errcode (0 none), *delay_ms (0 none). */
void sb_fault_take(struct sb_state *st, const char *endpoint, long *errcode, long *delay_ms);
/* Takes one use of the faults of a notification endpoint ("notify", "refund_notify"):
 * *delay_ms before the first attempt, *duplicate extra copies, *drop never deliver. */
void sb_fault_take_notify(struct sb_state *st, const char *endpoint, long *delay_ms,
                          long *duplicate, int *drop);
/* Current faults of endpoint as JSON (caller deletes). */
cJSON *sb_fault_json(struct sb_state *st, const char *endpoint);

/* ---- records ---- */
/* Records a WeChat-facing request (headers and body copied). */
void sb_record_request(struct sb_state *st, struct sb_call *c);
/* Records a delivered message; data is copied. */
void sb_record_message(struct sb_state *st, const char *kind, const char *to,
                       const char *template_id, const cJSON *data, const char *text,
                       const char *page);
/* Appends {"requests":[...]} (filtered by endpoint when not NULL) to out. */
void sb_requests_render(struct sb_state *st, const char *endpoint, struct pc_buf *out);
/* Appends {"messages":[...]} (filtered by kind when not NULL) to out. */
void sb_messages_render(struct sb_state *st, const char *kind, struct pc_buf *out);

#endif
