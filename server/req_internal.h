/* server/req_internal.h — the request record shared by req.c, conn.c and http.c only.
 *
 * A connection carries one request at a time; its pc_req lives inside the connection
 * (server/conn.h) and is reset between requests, so a keep-alive request allocates only
 * what it needs beyond the connection's reused buffers. */
#ifndef PC_SERVER_REQ_INTERNAL_H
#define PC_SERVER_REQ_INTERNAL_H

#include "base/buf.h"
#include "net/outbound.h"
#include "server/addr.h"
#include "server/req.h"
#include "server/workers.h"

#include <stdatomic.h>
#include <sys/queue.h>
#include <event2/keyvalq_struct.h>

#define PC_MAX_PARAMS  6
#define PC_MAX_RHEADER 12
#define PC_RESP_SMALL  256 /* bodies up to this size are kept inside the request */

struct pc_loop;
struct pc_conn;
struct pc_h1;

struct pc_hdr {
    char *name;
    char *value;
};

struct pc_req {
    struct pc_job job; /* first: the worker pool hands jobs back as requests */
    struct pc_loop *loop;
    struct pc_conn *conn; /* the connection the request arrived on (it holds the request) */
    const struct pc_route *route;
    int route_idx;
    uint64_t t0_ns;
    const char *method; /* static string */
    char *path;         /* in arena */
    char *query;        /* in arena, NULL when the target had no '?' */
    bool qparsed;
    struct evkeyvalq qargs;
    size_t nparams;
    char *param_names[PC_MAX_PARAMS];
    char *param_values[PC_MAX_PARAMS];
    struct pc_hdr *hdrs; /* in arena */
    size_t nhdrs;
    char *arena; /* path, query, header array and strings of this request; kept for the next */
    size_t arena_cap;
    char *body; /* NUL-terminated; the buffer is kept for the next request when small */
    size_t body_len, body_cap;
    char id[65];
    char ip[PC_ADDR_TEXT];
    bool loopback;
    bool metrics_ok; /* the client address is in server.metrics_allow */
    cJSON *json;
    bool has_staff;
    struct pc_staff_auth staff;
    bool has_user;
    struct pc_user_auth user;
    /* multi-step handlers */
    pc_handler_fn next;     /* step to run on the next worker pass (NULL: the route's) */
    bool to_worker;         /* a loop step handed the request to a worker (next) */
    bool parked;            /* the step ended with pc_req_park: see park_state */
    atomic_uint park_state; /* PC__PARK_* bits: the step is over, the completer is done */
    bool call_pending;      /* the loop must start `call` before the next step */
    struct pc_out_req call; /* strings below are owned copies */
    char *call_strings[PC_OUT_MAX_HEADERS + 4];
    struct pc_out_resp upstream;
    void *data;
    void (*data_free)(void *);
    /* response */
    int status;
    char *resp_body;        /* owned unless it points at resp_small or into resp_buf (resp_kept) */
    bool resp_kept;         /* resp_body is resp_buf's content */
    struct pc_buf resp_buf; /* pc_resp_buf: kept for the connection's next requests */
    size_t resp_len;
    int resp_fd; /* a file body (pc_resp_file), -1 when none; closed by whoever sends or frees */
    const char *resp_ctype;
    struct pc_hdr resp_hdrs[PC_MAX_RHEADER];
    size_t nresp_hdrs;
    char resp_small[PC_RESP_SMALL];
};

/* park_state: a parked request goes back to its loop when both bits are set (whoever sets the
 * second one hands it back). */
#define PC__PARK_STEP_DONE 1u /* the step that parked it has returned */
#define PC__PARK_COMPLETED 2u /* pc_req_complete was called */
/* Sets bit in r->park_state; true when the other bit was already set (the caller hands r
 * back to its loop). Any thread. */
bool pc__req_park_mark(struct pc_req *r, unsigned bit);
/* A parked request whose completion has not come yet (read by the server's teardown once no
 * step runs any more). */
bool pc__req_awaits_completion(struct pc_req *r);
/* The response body as memory of its own for the caller (who frees it), leaving the request
 * without one. Loop thread, while sending. */
char *pc__req_take_resp_body(struct pc_req *r);

/* Prepares a connection's request record (once per connection). */
void pc__req_init(struct pc_req *r, struct pc_loop *loop, struct pc_conn *conn);
/* Fills r from a parsed head (h after PC_H1_HEAD, spans into buf): method, path, query,
 * headers (copied), request id (the client's when valid, else gen_id), client address (peer,
 * or behind trusted proxies the X-Forwarded-For walk of server/addr.h) and whether it may read
 * /metrics without a token. h NULL: a request whose head could not be parsed ("-" path).
 * PC_EINVAL when the request target is not a URL. Loop thread. */
int pc__req_begin(struct pc_req *r, const struct pc_h1 *h, const char *buf,
                  const struct pc_addr *peer, const char *peer_text,
                  const struct pc_cidr_list *trusted, const struct pc_cidr_list *metrics_allow,
                  const char *gen_id);
/* Appends body bytes (loop thread); the caller enforces the limit. expect: a size hint. */
void pc__req_body_reserve(struct pc_req *r, size_t expect);
void pc__req_body_append(struct pc_req *r, const char *p, size_t n);
/* Frees what this request allocated and makes r ready for the connection's next request
 * (arena and a small body buffer are kept). */
void pc__req_reset(struct pc_req *r);
/* Forgets the response set so far (status, body, headers). */
void pc__req_reset_response(struct pc_req *r);
/* Frees everything, the kept buffers too. */
void pc__req_destroy(struct pc_req *r);
/* Drops the kept buffers of an idle connection (memory given back between requests). */
void pc__req_trim(struct pc_req *r);
/* Validates a client-supplied request id: 1..64 of [A-Za-z0-9._:-]. */
bool pc__req_id_valid(const char *s);

#endif
