/* tools/sandbox/sandbox.h — the WeChat sandbox (portraitd-sandbox): shared types.
 *
 * One process, one event-loop thread, all state in memory. Every function declared
 * here runs on the loop thread. Each area of the sandbox is one file with one route
 * table: wx_api.c (mini-program endpoints), control.c (/__sandbox/...), chsi.c, pay.c
 * (WeChat Pay v3, pay.h); later areas (SMS) add a file and a table to sb_tables in
 * http.c. */
#ifndef SB_SANDBOX_H
#define SB_SANDBOX_H

#include "base/buf.h"

#include <cjson/cJSON.h>
#include <event2/keyvalq_struct.h>
#include <stddef.h>
#include <stdint.h>

#define SB_MAX_BODY      (64 * 1024)        /* request bodies */
#define SB_MAX_HEADERS   (16 * 1024)        /* request header block */
#define SB_MAX_REPLY     (64 * 1024 * 1024) /* reply bodies (request listings) */
#define SB_MAX_DELAY_MS  600000             /* longest delay fault */
#define SB_MAX_OPENID    64                 /* openid / unionid length */
#define SB_MAX_TEMPLATE  128                /* template_id length */
#define SB_WX_CONTENT    "application/json; encoding=utf-8"
#define SB_PAY_CONTENT   "application/json; charset=utf-8"
#define SB_MAX_SCHEDULE  32 /* --notify-schedule entries */
#define SB_CTL_CONTENT   "application/json"
#define SB_TOKEN_OVERLAP 300 /* seconds an old token keeps working */

struct evhttp_request;
struct sb_state;

/* Command-line options; strings point into argv. */
struct sb_opts {
    const char *listen;
    const char *port_file;
    const char *cert;
    const char *key;
    const char *appid;
    const char *secret;
    const char *log_level;
    int plain;
    int64_t code_ttl_s;
    int64_t token_ttl_s;
    unsigned char code_key[32]; /* --code-key: the CC1 collection-code key */
    int has_code_key;
    const char *pay_dir; /* --pay-dir: scripts/gen-pay-keys.sh output; NULL: no WeChat Pay */
    int pay_pubkey_mode; /* --pay-mode pubkey: sign with the PUB_KEY_ID_ key */
    const char *ca_file; /* --ca-file: CA bundle for notification deliveries */
    double notify_schedule[SB_MAX_SCHEDULE]; /* seconds between delivery attempts */
    size_t notify_n;
    long refund_delay_ms; /* PROCESSING → SUCCESS */
    const char *sms_key;  /* --sms-key: the SMS gateway's API key; NULL accepts any */
};

/* One request being answered. Built and freed by http.c; handlers fill status,
 * content type and out. */
struct sb_call {
    const struct sb_opts *opts;
    struct sb_state *st;
    struct evhttp_request *ev;
    const char *method;     /* "GET", "POST", … (static) */
    const char *uri;        /* path with query, as received (owned by ev) */
    const char *path;       /* path without query (owned by ev's uri) */
    struct evkeyvalq query; /* decoded query parameters */
    char *body;             /* NUL-terminated copy of the body (owned) */
    size_t body_len;
    const char *endpoint; /* WeChat endpoint name, NULL for control routes */
    int status;
    const char *content_type;
    long errcode; /* WeChat errcode of the reply, for the log */
    struct pc_buf out;
};

typedef void (*sb_handler)(struct sb_call *c);

struct sb_route {
    const char *method;
    const char *path;
    const char *endpoint; /* name for faults and /__sandbox/requests; NULL: control */
    sb_handler fn;
};

struct sb_route_table {
    const struct sb_route *routes;
    size_t n;
};

extern const struct sb_route_table sb_wx_table;
extern const struct sb_route_table sb_control_table;
extern const struct sb_route_table sb_chsi_table;
extern const struct sb_route_table sb_pay_table;
extern const struct sb_route_table sb_sms_table;
extern const struct sb_route_table sb_bill_table;
extern const struct sb_route_table sb_certs_table;
/* Forgets the trade bills waiting for download (bill.c). */
void sb_bill_reset(void);

/* ---- the HTTP side (http.c) ---- */

struct event_base;
struct sb_http;

/* Binds opts->listen (TLS unless opts->plain) and serves on base. NULL with a message in
 * err on failure. st and opts must outlive it. */
struct sb_http *sb_http_new(struct event_base *base, const struct sb_opts *opts,
                            struct sb_state *st, char *err, size_t errlen);
/* The bound TCP port. */
int sb_http_port(const struct sb_http *h);
/* Sends every delayed reply now (shutdown). */
void sb_http_flush(struct sb_http *h);
/* Sends every delayed reply now, closes the listener and connections, frees h. NULL-safe. */
void sb_http_free(struct sb_http *h);

/* ---- replies (http.c) ---- */

/* Query parameter by name, or NULL. */
const char *sb_query(struct sb_call *c, const char *name);
/* Replies with the printed JSON of j (j is deleted). */
void sb_reply_json(struct sb_call *c, int status, cJSON *j);
/* WeChat error: HTTP 200 {"errcode":N,"errmsg":"..."}. */
void sb_reply_wx_error(struct sb_call *c, long errcode, const char *errmsg);
/* Control error: {"error":"..."} with an HTTP status (400, 404, 405). */
void sb_reply_ctl_error(struct sb_call *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The errmsg WeChat uses for errcode (a generic text when unknown). */
const char *sb_wx_errmsg(long errcode);

/* ---- small helpers ---- */

/* Route paths may hold "*" segments (one non-empty path segment each). Copies path
 * segment i (0 is the first after the leading '/'), percent-decoded, into out. 0, or -1
 * when it is missing, empty, holds a NUL or does not fit. */
int sb_path_arg(struct sb_call *c, size_t i, char *out, size_t len);

/* 1 if s is 1..max characters of [A-Za-z0-9_-]. */
int sb_id_ok(const char *s, size_t max);
/* Parses a JSON object body; NULL when the body is empty or not an object (caller deletes). */
cJSON *sb_body_object(struct sb_call *c);

#endif
