/* server/req.h — the request/response interface handlers see.
 *
 * A pc_req is created on its loop thread from the evhttp request: method, path,
 * query, headers, client address and body are copied out, so a handler may run on
 * a worker thread without touching libevent. The handler fills in the response;
 * the loop thread sends it, exactly once. Everything returned by the accessors is
 * owned by the request and lives until the reply is sent. */
#ifndef PC_SERVER_REQ_H
#define PC_SERVER_REQ_H

#include "core/ctx.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pc_buf;
struct pc_req;
struct pc_server;

/* A handler gets its request and the domain context (core/ctx.h) of the thread it runs on:
 * a worker's database connection, or db NULL for inline (loop) handlers. */
typedef void (*pc_handler_fn)(struct pc_req *r, struct pc_ctx *ctx);

/* The body a route reads: server.max_json_bytes, or with UPLOAD server.max_body_bytes, or with
 * UPLOAD and PHOTO / AVATAR the upload's own cap plus PC_ROUTE_FRAMING bytes of multipart
 * framing (never above server.max_body_bytes). A larger Content-Length is refused with 413
 * before the body is read, a chunked body as soon as it passes the limit. */
enum pc_route_flags {
    PC_ROUTE_INLINE = 1 << 0, /* runs on the loop thread: must not block */
    PC_ROUTE_UPLOAD = 1 << 1, /* body may be up to server.max_body_bytes (else max_json_bytes) */
    PC_ROUTE_DEBUG = 1 << 2,  /* exists only with server.debug_routes */
    PC_ROUTE_PHOTO = 1 << 3,  /* with UPLOAD: up to photo.max_upload_bytes + framing */
    PC_ROUTE_AVATAR = 1 << 4, /* with UPLOAD: up to storage.avatar_max_bytes + framing */
    PC_ROUTE_LOOP = 1 << 5    /* runs first on the loop thread (ctx->db NULL, must not block): it
                                 answers, or goes on on a worker (pc_req_to_worker), or parks the
                                 request with whoever completes it (pc_req_park) */
};
#define PC_ROUTE_FRAMING (64 * 1024)

struct pc_route {
    const char *method;  /* "GET", "POST", ... */
    const char *pattern; /* "/api/v1/admin/tasks/{id}" */
    pc_handler_fn fn;
    unsigned flags;
};

/* ---- request accessors (any thread that owns the request) ---- */
const char *pc_req_method(const struct pc_req *r);
const char *pc_req_path(const struct pc_req *r);
/* Path parameter by name from the route pattern, percent-decoded; NULL if absent. */
const char *pc_req_param(const struct pc_req *r, const char *name);
/* Query-string parameter, decoded; NULL if absent. */
const char *pc_req_query(struct pc_req *r, const char *name);
/* Request header (case-insensitive); NULL if absent. */
const char *pc_req_header(const struct pc_req *r, const char *name);
const char *pc_req_body(const struct pc_req *r, size_t *len);
/* The request id (echoed X-Request-Id or generated). */
const char *pc_req_id(const struct pc_req *r);
/* Client address as text (IPv4 or IPv6): the TCP peer, or behind a proxy listed in
 * server.trusted_proxies the address it forwarded (X-Forwarded-For, walked from the right). */
const char *pc_req_client_ip(const struct pc_req *r);
bool pc_req_client_is_loopback(const struct pc_req *r);
/* The client address is in server.metrics_allow (scrapes /metrics without a token). */
bool pc_req_metrics_allowed(const struct pc_req *r);
/* Parses the body as a JSON object. On failure the error response (400 MALFORMED_JSON,
 * 415 UNSUPPORTED_MEDIA_TYPE) is already set and NULL is returned. Owned by r. */
cJSON *pc_req_json(struct pc_req *r);
/* The caller the guard (handlers/auth.h) authenticated, or NULL before it ran. */
struct pc_staff_auth *pc_req_staff(struct pc_req *r);
struct pc_user_auth *pc_req_user(struct pc_req *r);
/* Records who the request is made for (copied); the guard's only way in. */
void pc_req_set_staff(struct pc_req *r, const struct pc_staff_auth *s);
void pc_req_set_user(struct pc_req *r, const struct pc_user_auth *u);
/* The server the request arrived at (server/server.h), for its metrics. */
struct pc_server *pc_req_server(const struct pc_req *r);

/* ---- continuing after an outbound call ---- */
struct pc_out_req;
struct pc_out_resp;
/* Ends the current step with an outbound HTTPS call made from the request's event loop
 * (never blocking a worker); when it completes, next runs on a worker and reads the result
 * with pc_req_upstream(). The call's strings are copied. Must be the step's last action,
 * with no response set. */
void pc_req_call(struct pc_req *r, const struct pc_out_req *call, pc_handler_fn next);
/* The result of the last outbound call (never NULL inside a next step). */
const struct pc_out_resp *pc_req_upstream(const struct pc_req *r);
/* Per-request state that survives between steps; free_fn runs when the request ends. */
void pc_req_set_data(struct pc_req *r, void *data, void (*free_fn)(void *));
void *pc_req_data(const struct pc_req *r);

/* ---- leaving a step without an answer ---- */
/* From a PC_ROUTE_LOOP handler on the loop: the request goes on with fn on a worker (with a
 * database connection), like any other route. Must be the step's last action. */
void pc_req_to_worker(struct pc_req *r, pc_handler_fn fn);
/* Ends the current step (on the loop or a worker) without an answer: the request now belongs to
 * whoever the step hands it to, which sets the response and calls pc_req_complete, on any
 * thread, exactly once. Call pc_req_park before handing it over; after handing it over the step
 * must not touch r again. A parked request stays valid until it is completed, also when its
 * client has gone meanwhile (the answer is then dropped) and when the server stopped (the
 * completion then frees it). */
void pc_req_park(struct pc_req *r);
/* The response of a parked request is set: its loop sends it. Any thread, before
 * pc_server_free; r must not be touched afterwards. */
void pc_req_complete(struct pc_req *r);

/* ---- response (set once; a later call replaces an earlier one) ---- */
/* JSON body; takes ownership of body. */
void pc_resp_json(struct pc_req *r, int status, cJSON *body);
/* The request's own body buffer (base/buf.h), emptied, that may grow to max bytes. It is kept
 * for the connection's next requests, so a body written into it and set with pc_resp_json_buf
 * costs no allocation once it has grown. Owned by r. */
struct pc_buf *pc_resp_buf(struct pc_req *r, size_t max);
/* A JSON body written into b: pc_resp_buf(r) is used in place (write nothing more into it),
 * any other buffer's content is taken, leaving b empty. */
void pc_resp_json_buf(struct pc_req *r, int status, struct pc_buf *b);
/* Raw body copied from p. */
void pc_resp_raw(struct pc_req *r, int status, const char *content_type, const void *p, size_t n);
/* The body is the first len bytes of the open file fd, sent without being read into memory;
 * the request owns fd from here on (closed after sending, or when the request is freed). */
void pc_resp_file(struct pc_req *r, int status, const char *content_type, int fd, size_t len);
/* API.md error shape {"error":{"code","message"[,"details"]}}; takes ownership of details. */
void pc_resp_error(struct pc_req *r, int status, const char *code, const char *message,
                   cJSON *details);
/* Adds a response header (copied). */
void pc_resp_header(struct pc_req *r, const char *name, const char *value);
/* Maps a pc_err from the domain or store to a response: PC_EDBDOWN → 503 with
 * Retry-After, PC_EBUSY → 503, anything else → 500 INTERNAL. */
void pc_resp_from_err(struct pc_req *r, const struct pc_ctx *ctx, int err);
bool pc_resp_is_set(const struct pc_req *r);
int pc_resp_status(const struct pc_req *r);

/* ---- shorthands for the common errors ---- */
void pc_resp_invalid(struct pc_req *r, const char *field, const char *message);

#endif
