/* server/conn.h — internal to server/: the server, its event loops and their connections.
 *
 * http.c owns the server (sockets, loops, workers, shutdown) and what happens to a request
 * (routing, limits, the worker hand-off, metrics and logs); conn.c owns a connection's bytes
 * (TLS, the HTTP/1.1 parser, the response on the wire, timeouts, memory between requests).
 *
 * A connection is edge-triggered: one libevent event (read | write | persist | ET) is
 * registered when it is accepted and never re-armed; the connection remembers whether its
 * socket may still hold bytes or take more (struct pc_sock), so a keep-alive request costs one
 * read and one write system call and no epoll_ctl. Everything here runs on the connection's
 * loop thread unless a comment says otherwise. */
#ifndef PC_SERVER_CONN_H
#define PC_SERVER_CONN_H

#include "core/ctx.h"
#include "server/addr.h"
#include "server/h1parse.h"
#include "server/req_internal.h"
#include "server/tls.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define PC_MAX_LISTEN 8

struct event;
struct event_base;
struct pc_config;
struct pc_metrics;
struct pc_outbound;
struct pc_workers;
struct ip_slot;
typedef struct ssl_st SSL;

struct pc_server {
    const struct pc_config *cfg;
    const struct pc_route *routes;
    size_t nroutes;
    SSL_CTX *ssl;
    int lfds[PC_MAX_LISTEN];
    int nlfds;
    int port;
    struct pc_loop *loops;
    int nloops;
    struct pc_workers *workers;
    struct pc_ctx base; /* what every handler's context starts from (pc_server_set_context) */
    struct pc_metrics *metrics;
    struct pc_cidr_list trusted;       /* server.trusted_proxies */
    struct pc_cidr_list metrics_allow; /* server.metrics_allow */
    atomic_int draining;
    atomic_long inflight;    /* requests read and not yet answered (parked ones too) */
    pthread_mutex_t park_mu; /* pc_req_complete against the loops' teardown */
    bool loops_closed;       /* under park_mu: a parked request completed now is freed */
    atomic_ullong seq;
    atomic_long nconns;          /* open connections, every loop */
    atomic_ullong refused_conns; /* connections closed at accept by a cap */
    atomic_ullong timeouts;      /* connections closed by a timeout */
    pthread_mutex_t ip_mu;       /* guards ip_tab */
    struct ip_slot **ip_tab;     /* connections per client address (PC_IP_BUCKETS chains) */
    char id_prefix[9];
    int64_t started_ms;
};

struct pc_loop {
    struct pc_server *srv;
    int idx;
    pthread_t thread;
    struct event_base *base;
    struct event *accept_ev[PC_MAX_LISTEN];
    int naccept;
    bool accepting;
    struct event *done_ev;
    struct event *stop_accept_ev;
    struct event *tick_ev;  /* once a second: timeouts, idle buffers, malloc_trim */
    struct event *retry_ev; /* re-enables accepting after running out of descriptors */
    pthread_mutex_t mu;
    struct pc_req *done_head, *done_tail;
    struct pc_ctx ctx; /* for inline handlers: no database */
    struct pc_outbound *out;
    bool closing;          /* being torn down: finished calls are dropped, not answered */
    struct pc_conn *conns; /* open connections of this loop */
    size_t nconns;
    size_t peak_conns; /* most connections open since the last malloc_trim */
    uint64_t now_ns;   /* monotonic, refreshed at each event and when an answer is recorded */
    int64_t now_ms;
    time_t date_sec;
    char date[48]; /* "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n" for date_sec */
    size_t date_len;
};

enum pc_conn_state {
    PC_CS_HANDSHAKE, /* TLS handshake */
    PC_CS_READ,      /* reading a request (or waiting for one) */
    PC_CS_BUSY,      /* the request is with its handler (worker, outbound call) */
    PC_CS_WRITE,     /* sending the response */
    PC_CS_LINGER     /* answered and closing: reading what the client still sends */
};

struct pc_conn {
    struct pc_loop *L;
    struct pc_conn *prev, *next; /* in L->conns while open */
    struct pc_sock sock;
    SSL *ssl; /* NULL for plain HTTP */
    struct event *ev;
    enum pc_conn_state state;
    struct pc_addr peer;
    char peer_text[PC_ADDR_TEXT];
    bool peer_trusted;     /* a trusted proxy: exempt from the per-address cap */
    bool open;             /* the socket is open (false: closed while its request was away) */
    bool in_run;           /* conn_run is on the stack */
    bool idle;             /* between requests, no byte of the next one yet */
    bool close_after;      /* close once the response is out */
    bool is_head;          /* the request is HEAD: no body on the wire */
    bool discard;          /* the answer is decided: read the body only to skip it */
    bool in_flight;        /* the request is counted in srv->inflight */
    bool read_wants_write; /* TLS must write before it can read on */
    /* input */
    char *in;
    size_t in_len, in_off, in_cap; /* in[0, in_off) parsed; the head stays at offset 0 */
    struct pc_h1 h1;
    int64_t body_limit; /* largest body the request may have */
    uint64_t body_seen; /* body bytes read (also when discarding) */
    /* output */
    char *out;
    size_t out_len, out_off, out_cap;
    char *wbody; /* a large body written after out (owned) */
    size_t wbody_len, wbody_off;
    int file_fd; /* a file body streamed after out, -1 when none */
    uint64_t file_off, file_left;
    /* timeouts */
    int64_t deadline_ms;      /* the connection closes at this time (INT64_MAX: none) */
    int64_t body_deadline_ms; /* the whole body must have arrived by then */
    int64_t last_io_ms;       /* last progress, for releasing idle buffers */
    bool trimmed;             /* idle buffers already given back */
    struct pc_req req;        /* the one request of this connection in progress */
};

/* ---- conn.c ---- */
/* Takes an accepted, non-blocking socket (admitted by the caps already). */
void pc__conn_new(struct pc_loop *L, int fd, const struct pc_addr *peer, bool trusted);
/* The request's response is set (any state but closed): sends it, then reads the next request
 * or closes. */
void pc__conn_respond(struct pc_conn *c);
/* Frees a connection whose request came back after the socket was closed, or any connection
 * at teardown (closing it first when open). Its loop thread, or any thread once the loop has
 * ended and the connection's socket is closed. */
void pc__conn_destroy(struct pc_conn *c);
/* Teardown: closes the socket of a connection whose parked request is still awaited; the
 * request's completion frees it (pc_req_complete). */
void pc__conn_abandon(struct pc_conn *c);
/* Once a second: timeouts, buffers of idle connections, malloc_trim after many closes. */
void pc__loop_tick(struct pc_loop *L);
/* The loop's cached monotonic time in ms, refreshed. */
int64_t pc__loop_now(struct pc_loop *L);
/* Sets the loop's cached time to ns (a monotonic reading just taken). */
void pc__loop_set_now(struct pc_loop *L, uint64_t ns);

/* ---- http.c ---- */
/* The head of c's request is parsed (c->req filled by pc__req_begin): routes it, sets
 * c->body_limit, may answer at once. Returns true to go on and read the body. */
bool pc__http_head(struct pc_conn *c);
/* The request is complete, body included: answers it, or hands it to its handler. */
void pc__http_request(struct pc_conn *c);
/* Answers a request that could not be parsed (400 or 431) or whose body was over the limit
 * (413), in API.md's error shape; the connection closes after it. */
void pc__http_refuse(struct pc_conn *c, int status);
/* The connection of an admitted peer closed: gives its places back. */
void pc__http_release(struct pc_server *srv, const struct pc_addr *peer, bool trusted);
/* A fresh request id ("%8s%016x" of the server prefix and a counter) into out[17]. */
void pc__http_gen_id(struct pc_server *srv, char out[32]);

#endif
