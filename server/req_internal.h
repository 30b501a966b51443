/* server/req_internal.h — the request record shared by req.c and http.c only. */
#ifndef PC_SERVER_REQ_INTERNAL_H
#define PC_SERVER_REQ_INTERNAL_H

#include "net/outbound.h"
#include "server/req.h"
#include "server/workers.h"

#include <sys/queue.h>
#include <event2/keyvalq_struct.h>

#define PC_MAX_PARAMS  6
#define PC_MAX_RHEADER 12

struct evhttp_request;
struct pc_loop;

struct pc_hdr {
    char *name;
    char *value;
};

struct pc_req {
    struct pc_job job; /* first: the worker pool hands jobs back as requests */
    struct pc_loop *loop;
    struct evhttp_request *ev;
    const struct pc_route *route;
    int route_idx;
    uint64_t t0_ns;
    char method[8];
    char *path;
    char *query;
    bool qparsed;
    struct evkeyvalq qargs;
    size_t nparams;
    char *param_names[PC_MAX_PARAMS];
    char *param_values[PC_MAX_PARAMS];
    struct pc_hdr *hdrs;
    size_t nhdrs;
    char *body;
    size_t body_len;
    char id[65];
    char ip[46];
    bool loopback;
    cJSON *json;
    bool has_staff;
    struct pc_staff_auth staff;
    bool has_user;
    struct pc_user_auth user;
    /* multi-step handlers */
    pc_handler_fn next;     /* step to run on the next worker pass (NULL: the route's) */
    bool call_pending;      /* the loop must start `call` before the next step */
    struct pc_out_req call; /* strings below are owned copies */
    char *call_strings[PC_OUT_MAX_HEADERS + 4];
    struct pc_out_resp upstream;
    void *data;
    void (*data_free)(void *);
    /* response */
    int status;
    char *resp_body;
    size_t resp_len;
    int resp_fd; /* a file body (pc_resp_file), -1 when none; closed by whoever sends or frees */
    const char *resp_ctype;
    struct pc_hdr resp_hdrs[PC_MAX_RHEADER];
    size_t nresp_hdrs;
};

/* Builds a request from ev on the loop thread (copies headers, path, address, id).
 * trust_proxy takes the client address from X-Forwarded-For. Never NULL. */
struct pc_req *pc__req_new(struct evhttp_request *ev, bool trust_proxy, const char *gen_id);
/* Copies the body out of the evhttp buffer (loop thread). */
void pc__req_take_body(struct pc_req *r);
/* Sends the response on the loop thread (the request must still be owned by us). */
void pc__req_send(struct pc_req *r);
void pc__req_free(struct pc_req *r);
/* Validates a client-supplied request id: 1..64 of [A-Za-z0-9._:-]. */
bool pc__req_id_valid(const char *s);

#endif
