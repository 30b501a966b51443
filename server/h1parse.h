/* server/h1parse.h — one HTTP/1.1 request at a time out of a connection's byte stream.
 *
 * A thin layer over http_parser (Debian libhttp-parser) that adds portraitd's limits and
 * stops at the two points where the server must decide something: right after the request
 * line and headers (route first, then read the body), and right after the whole request.
 * The request line and header fields are reported as spans (offsets and lengths) into the
 * caller's buffer, which must keep a request's head bytes at the same offsets until the
 * PC_H1_HEAD stop; body bytes go to a callback as they are decoded (chunked included).
 * No allocation. Pure functions; one parser per connection, on that connection's thread. */
#ifndef PC_SERVER_H1PARSE_H
#define PC_SERVER_H1PARSE_H

#include <http_parser.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PC_H1_MAX_FIELDS 100 /* header fields per request; more is 431 */

enum pc_h1_stop {
    PC_H1_MORE = 0, /* every byte given was consumed: feed more */
    PC_H1_HEAD,     /* request line and headers complete: decide, then feed on */
    PC_H1_DONE,     /* the whole request is complete (body included) */
    PC_H1_ERROR     /* malformed, or over a limit: status and why say which */
};

struct pc_h1_span {
    uint32_t off, len;
};

struct pc_h1_field {
    struct pc_h1_span name, value;
};

struct pc_h1 {
    http_parser p;
    size_t max_head;   /* bytes of request line + headers (server.max_header_bytes) */
    size_t head_bytes; /* of the current request, leading empty lines included */
    const char *base;  /* the buffer spans point into (during pc_h1_feed only) */
    struct pc_h1_span url;
    struct pc_h1_field fields[PC_H1_MAX_FIELDS];
    size_t nfields;
    int last;        /* 0 none, 1 in a field name, 2 in a value */
    bool head_done;  /* PC_H1_HEAD reported for the current request */
    bool done;       /* PC_H1_DONE reported; pc_h1_next before the next request */
    int stop;        /* what the callbacks decided (enum pc_h1_stop) */
    int status;      /* on PC_H1_ERROR: 400, 413 (the body callback refused) or 431 */
    const char *why; /* on PC_H1_ERROR: a short reason without request bytes */
    /* Receives each decoded piece of the body; nonzero stops with 413. */
    int (*on_body)(void *arg, const char *p, size_t n);
    void *arg;
};

/* Sets the process-wide ceiling of http_parser's own header counter above max_head (it is a
 * global of the library). Once, before any parser runs. Main thread. */
void pc_h1_global_init(size_t max_head);
/* Ready for the first request of a connection. */
void pc_h1_init(struct pc_h1 *h, size_t max_head,
                int (*on_body)(void *arg, const char *p, size_t n), void *arg);
/* Ready for the next request on the same connection, after PC_H1_DONE. The caller moves the
 * unconsumed bytes so that the next request's head starts at a fixed offset. */
void pc_h1_next(struct pc_h1 *h);
/* Parses base[off, off + len). Returns the bytes consumed and sets *stop; after PC_H1_HEAD
 * and PC_H1_DONE the rest is fed again by the caller. After PC_H1_ERROR the connection can
 * carry no further request. */
size_t pc_h1_feed(struct pc_h1 *h, const char *base, size_t off, size_t len, enum pc_h1_stop *stop);

/* After PC_H1_HEAD: */
const char *pc_h1_method(const struct pc_h1 *h); /* static string ("GET", ...) */
bool pc_h1_keep_alive(const struct pc_h1 *h);    /* the connection may carry another request */
bool pc_h1_has_body(const struct pc_h1 *h);      /* Content-Length > 0 or chunked */
/* Content-Length, or -1 when the body is chunked or there is none. */
int64_t pc_h1_content_length(const struct pc_h1 *h);
int pc_h1_version_minor(const struct pc_h1 *h); /* 1 for HTTP/1.1, 0 for HTTP/1.0 */
/* The value span of the first field named name (case-insensitive) in base; false if none. */
bool pc_h1_field(const struct pc_h1 *h, const char *base, const char *name,
                 struct pc_h1_span *value);
/* Splits the request target (origin-form, absolute-form or "*") into the path and the query
 * (without '?'; len 0 and off 0 when absent). False when the target is not a valid URL. */
bool pc_h1_target(const struct pc_h1 *h, const char *base, struct pc_h1_span *path,
                  struct pc_h1_span *query, bool *has_query);
/* True when the request asked to switch protocols (Upgrade or CONNECT): the bytes after it
 * are not HTTP, so the connection closes after the answer. */
bool pc_h1_upgrade(const struct pc_h1 *h);

#endif
