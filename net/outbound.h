/* net/outbound.h — outbound HTTPS calls (WeChat, later WeChat Pay, SMS) with libcurl.
 *
 * pc_outbound is libcurl's multi-socket API driven by one libevent event_base: calls
 * never block the loop, connections are reused per loop, peer certificate and host name
 * are always verified, only HTTPS is allowed, every call has a total timeout and a
 * bounded response size. One pc_outbound per loop; it is used only on that loop's thread.
 * pc_outbound_perform is the blocking form for background threads. */
#ifndef PC_NET_OUTBOUND_H
#define PC_NET_OUTBOUND_H

#include <stddef.h>

struct event_base;
struct pc_outbound;

#define PC_OUT_MAX_HEADERS 8

struct pc_out_req {
    const char *method;                          /* "GET" or "POST" */
    const char *url;                             /* https:// only */
    const char *headers[PC_OUT_MAX_HEADERS + 1]; /* "Name: value", NULL-terminated */
    const char *body;                            /* copied by the call; may be NULL */
    size_t body_len;
    long timeout_ms;     /* whole call */
    size_t max_response; /* larger bodies fail with PC_ETOOBIG */
    const char *ca_file; /* PEM bundle; NULL or "" = system store */
    const char *name;    /* short label for logs and metrics ("jscode2session") */
};

struct pc_out_resp {
    int err;     /* 0, PC_ETIMEOUT, PC_ETOOBIG, PC_EIO (connect, TLS, protocol) */
    long status; /* HTTP status when err == 0 */
    char *body;  /* NUL-terminated; owned by the response */
    size_t len;
    double seconds;
    char errmsg[256]; /* libcurl's description when err != 0 */
    char *headers;    /* raw response header lines (NUL-terminated, bounded); owned */
    size_t headers_len;
};

/* A response header's value (case-insensitive name, trimmed) copied into buf; NULL if absent. */
const char *pc_out_resp_header(const struct pc_out_resp *resp, const char *name, char *buf,
                               size_t len);

/* Called on the loop thread once per started call; resp is valid during the call only
 * (take resp->body by setting it to NULL to keep it). */
typedef void (*pc_out_cb)(struct pc_out_resp *resp, void *arg);

/* Process-wide libcurl set-up; main thread, before any thread starts. */
int pc_outbound_global_init(void);
void pc_outbound_global_cleanup(void);

/* A client for base (borrowed). Never NULL. */
struct pc_outbound *pc_outbound_new(struct event_base *base);
/* Starts a call; cb runs later on the loop. 0 or PC_EINVAL (bad request). */
int pc_outbound_start(struct pc_outbound *o, const struct pc_out_req *req, pc_out_cb cb, void *arg);
/* Calls in flight. */
size_t pc_outbound_active(const struct pc_outbound *o);
/* Cancels every call in flight (their callbacks run with err PC_EBUSY) and frees. NULL-safe. */
void pc_outbound_free(struct pc_outbound *o);

/* Blocking call for background threads; resp->body owned by the caller (free). */
void pc_outbound_perform(const struct pc_out_req *req, struct pc_out_resp *resp);
void pc_out_resp_clear(struct pc_out_resp *resp);

#endif
