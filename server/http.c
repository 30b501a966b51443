/* server/http.c — the server: listeners, event loops, the per-address connection cap, what
 * happens to a request once its head is parsed (route, limits, inline or worker, the answer's
 * metrics and log line), the completion hand-off and shutdown.
 *
 * Threads: the main thread binds sockets, starts loops and workers, then waits for a
 * signal. Each loop thread owns its event_base and every connection accepted on it
 * (server/conn.c). Worker threads run handlers on the requests and push them back onto the
 * owning loop's completion queue. */

#define _GNU_SOURCE /* accept4: accepted sockets are non-blocking without two more calls */

#include "server/server.h"

#include "base/alloc.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "config/config.h"
#include "net/outbound.h"
#include "server/conn.h"
#include "server/metrics.h"
#include "server/router.h"
#include "server/tls.h"
#include "server/workers.h"
#include "store/db.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <fcntl.h>
#include <mysql.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define FLUSH_MS   300  /* after the last reply of a drain, time for it to reach the client */
#define IP_BUCKETS 4096 /* chains of the per-address connection table */

struct ip_slot {
    struct pc_addr a;
    uint32_t n;
    struct ip_slot *next;
};

/* ---------- connection caps (any loop thread) ---------- */

static size_t ip_hash(const struct pc_addr *a)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < sizeof a->b; i++)
        h = (h ^ a->b[i]) * 1099511628211ull;
    return (size_t)(h % IP_BUCKETS);
}

/* Counts a new connection from peer against server.max_connections and, unless peer is a
 * trusted proxy, server.max_conns_per_ip. False: over a cap, close it. */
static bool admit(struct pc_server *srv, const struct pc_addr *peer, bool trusted)
{
    const struct pc_config *cfg = srv->cfg;
    long n = atomic_fetch_add(&srv->nconns, 1);
    if (cfg->max_connections > 0 && n >= cfg->max_connections) {
        atomic_fetch_sub(&srv->nconns, 1);
        return false;
    }
    if (trusted || cfg->max_conns_per_ip <= 0)
        return true;
    bool ok = true;
    pthread_mutex_lock(&srv->ip_mu);
    struct ip_slot **head = &srv->ip_tab[ip_hash(peer)], *s = *head;
    while (s && memcmp(&s->a, peer, sizeof *peer) != 0)
        s = s->next;
    if (!s) {
        s = pc_new(struct ip_slot);
        s->a = *peer;
        s->next = *head;
        *head = s;
    }
    if (s->n >= (uint32_t)cfg->max_conns_per_ip)
        ok = false;
    else
        s->n++;
    pthread_mutex_unlock(&srv->ip_mu);
    if (!ok)
        atomic_fetch_sub(&srv->nconns, 1);
    return ok;
}

void pc__http_release(struct pc_server *srv, const struct pc_addr *peer, bool trusted)
{
    atomic_fetch_sub(&srv->nconns, 1);
    if (trusted || srv->cfg->max_conns_per_ip <= 0)
        return;
    pthread_mutex_lock(&srv->ip_mu);
    struct ip_slot **pp = &srv->ip_tab[ip_hash(peer)];
    while (*pp && memcmp(&(*pp)->a, peer, sizeof *peer) != 0)
        pp = &(*pp)->next;
    if (*pp && --(*pp)->n == 0) {
        struct ip_slot *dead = *pp;
        *pp = dead->next;
        free(dead);
    }
    pthread_mutex_unlock(&srv->ip_mu);
}

void pc__http_gen_id(struct pc_server *srv, char out[32])
{
    static const char hex[] = "0123456789abcdef";
    unsigned long long v = atomic_fetch_add(&srv->seq, 1);
    char tmp[16];
    int n = 0;
    do {
        tmp[n++] = hex[v & 15];
        v >>= 4;
    } while (v);
    while (n < 8)
        tmp[n++] = '0';
    memcpy(out, srv->id_prefix, 8);
    for (int i = 0; i < n; i++)
        out[8 + i] = tmp[n - 1 - i];
    out[8 + n] = '\0';
}

/* ---------- request lifecycle (loop thread) ---------- */

static const char *static_method(const char *m)
{
    static const char *const known[] = {"GET",  "POST",    "PUT",   "PATCH",  "DELETE",
                                        "HEAD", "OPTIONS", "TRACE", "CONNECT"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (!strcmp(m, known[i]))
            return known[i];
    return "OTHER";
}

/* Records the answered request (metrics, log line) and puts its answer on the wire. */
static void finish(struct pc_loop *L, struct pc_req *r)
{
    struct pc_server *srv = L->srv;
    struct pc_conn *c = r->conn;
    if (atomic_load(&srv->draining))
        c->close_after = true;
    if (!r->status)
        pc_resp_error(r, 500, "INTERNAL", "服务器内部错误", NULL);
    uint64_t now = pc_time_mono_ns();
    pc__loop_set_now(L, now);
    uint64_t dur = now - r->t0_ns;
    const char *route = r->route ? r->route->pattern : "unmatched";
    const char *method = r->route ? r->route->method : static_method(r->method);
    pc_metrics_observe(srv->metrics, method, route, r->status, dur);
    if (pc_log_enabled(PC_LOG_INFO))
        pc_log(PC_LOG_INFO, "request", PC_LS("id", r->id), PC_LS("method", r->method),
               PC_LS("path", r->path), PC_LI("status", r->status),
               PC_LF("duration_ms", (double)dur / 1e6), PC_LS("ip", r->ip),
               PC_LI("bytes_in", r->body_len));
    if (c->in_flight) {
        c->in_flight = false;
        atomic_fetch_sub(&srv->inflight, 1);
    }
    pc__conn_respond(c);
}

static int64_t route_limit(const struct pc_config *cfg, const struct pc_route *route)
{
    if (!(route->flags & PC_ROUTE_UPLOAD))
        return cfg->max_json_bytes;
    int64_t limit = cfg->max_body_bytes;
    if (route->flags & PC_ROUTE_PHOTO)
        limit = cfg->photo_max_bytes + PC_ROUTE_FRAMING;
    else if (route->flags & PC_ROUTE_AVATAR)
        limit = cfg->avatar_max_bytes + PC_ROUTE_FRAMING;
    return limit < cfg->max_body_bytes ? limit : cfg->max_body_bytes;
}

static void too_large(struct pc_req *r, int64_t limit)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddNumberToObject(d, "limit_bytes", (double)limit);
    pc_resp_error(r, 413, "PAYLOAD_TOO_LARGE", "请求内容过大", d);
}

/* The answer is known before the body is read (404, 405, draining). A small body is read
 * and dropped so that the connection can stay open; any other is not read at all (closing). */
static bool answer_before_body(struct pc_conn *c)
{
    const struct pc_config *cfg = c->L->srv->cfg;
    struct pc_req *r = &c->req;
    c->discard = true;
    c->body_limit = 0;
    if (!pc_h1_has_body(&c->h1))
        return true; /* complete at once: pc__http_request answers */
    int64_t cl = pc_h1_content_length(&c->h1);
    const char *expect = pc_req_header(r, "Expect");
    if (cl >= 0 && cl <= cfg->max_json_bytes && !(expect && !strcasecmp(expect, "100-continue"))) {
        c->body_limit = cl;
        return true;
    }
    c->close_after = true;
    finish(c->L, r);
    return false;
}

bool pc__http_head(struct pc_conn *c)
{
    struct pc_loop *L = c->L;
    struct pc_server *srv = L->srv;
    const struct pc_config *cfg = srv->cfg;
    struct pc_req *r = &c->req;
    c->in_flight = true;
    atomic_fetch_add(&srv->inflight, 1);
    if (atomic_load(&srv->draining)) {
        pc_resp_header(r, "Retry-After", "1");
        pc_resp_error(r, 503, "SHUTTING_DOWN", "服务正在重启，请稍后重试", NULL);
        c->close_after = true;
        return answer_before_body(c);
    }
    struct pc_route_match m;
    int rc = pc_router_match(srv->routes, srv->nroutes, r->method, r->path, cfg->debug_routes, &m);
    if (rc == PC_ENOTFOUND) {
        pc_resp_error(r, 404, "NOT_FOUND", "请求的资源不存在", NULL);
        return answer_before_body(c);
    }
    if (rc == PC_ECONFLICT) {
        pc_resp_header(r, "Allow", m.allow);
        pc_resp_error(r, 405, "METHOD_NOT_ALLOWED", "不支持该请求方法", NULL);
        return answer_before_body(c);
    }
    r->route = &srv->routes[m.index];
    r->route_idx = m.index;
    r->nparams = m.ncap;
    for (size_t i = 0; i < m.ncap; i++) {
        r->param_names[i] = m.names[i];
        r->param_values[i] = m.values[i];
    }
    /* Route first, then read: a declared body over the route's limit is refused unread. */
    c->body_limit = route_limit(cfg, r->route);
    if (pc_h1_content_length(&c->h1) > c->body_limit) {
        too_large(r, c->body_limit);
        c->close_after = true;
        finish(L, r);
        return false;
    }
    return true;
}

void pc__http_refuse(struct pc_conn *c, int status)
{
    struct pc_server *srv = c->L->srv;
    struct pc_req *r = &c->req;
    if (!c->in_flight) {
        c->in_flight = true;
        atomic_fetch_add(&srv->inflight, 1);
    }
    /* Whatever the handler might have said, this request's bytes are not all read. */
    pc__req_reset_response(r);
    if (status == 413) {
        too_large(r, c->body_limit);
    } else if (status == 431) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddNumberToObject(d, "limit_bytes", (double)srv->cfg->max_header_bytes);
        pc_resp_error(r, 431, "HEADERS_TOO_LARGE", "请求头过大", d);
    } else {
        pc_resp_error(r, 400, "BAD_REQUEST", "请求格式错误", NULL);
    }
    c->close_after = true;
    finish(c->L, r);
}

/* Worker thread: runs the route's handler, or the step a previous pass left in r->next,
 * with the worker's database connection. */
static void job_run(struct pc_job *job, void *state)
{
    struct pc_req *r = (struct pc_req *)job;
    struct pc_ctx *ctx = state;
    pc_handler_fn fn = r->next ? r->next : r->route->fn;
    r->next = NULL;
    fn(r, ctx);
    if (r->parked) /* handed over: its completer may be writing the response now */
        return;
    if (r->call_pending && r->status) /* a step may not both answer and call out */
        r->call_pending = false;
}

static void start_call(struct pc_loop *L, struct pc_req *r);

/* Any thread: queues r for its loop, which answers it (or starts its call). */
static void hand_back(struct pc_loop *L, struct pc_req *r)
{
    pthread_mutex_lock(&L->mu);
    r->job.next = NULL;
    if (L->done_tail)
        L->done_tail->job.next = &r->job;
    else
        L->done_head = r;
    L->done_tail = r;
    pthread_mutex_unlock(&L->mu);
    event_active(L->done_ev, EV_READ, 0);
}

/* Worker thread: hands the finished request back to its loop; a parked one goes back when it
 * is also completed (pc_req_complete), by whichever of the two comes second. */
static void job_done(struct pc_job *job)
{
    struct pc_req *r = (struct pc_req *)job;
    if (r->parked && !pc__req_park_mark(r, PC__PARK_STEP_DONE))
        return; /* the completer hands it back */
    hand_back(r->loop, r);
}

void pc_req_complete(struct pc_req *r)
{
    struct pc_loop *L = r->loop;
    struct pc_server *srv = L->srv;
    pthread_mutex_lock(&srv->park_mu);
    if (srv->loops_closed) { /* too late: the server stopped; its connection waited for this */
        pthread_mutex_unlock(&srv->park_mu);
        pc_log(PC_LOG_WARN, "request completed after the server stopped: not answered",
               PC_LS("id", r->id));
        pc__conn_destroy(r->conn);
        return;
    }
    if (pc__req_park_mark(r, PC__PARK_COMPLETED))
        hand_back(L, r);
    pthread_mutex_unlock(&srv->park_mu);
}

/* Loop thread: answers every request the workers finished (activations coalesce). */
static void on_done(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct pc_loop *L = arg;
    pthread_mutex_lock(&L->mu);
    struct pc_req *r = L->done_head;
    L->done_head = L->done_tail = NULL;
    pthread_mutex_unlock(&L->mu);
    pc__loop_now(L);
    while (r) {
        struct pc_req *next = (struct pc_req *)r->job.next;
        if (r->call_pending)
            start_call(L, r);
        else
            finish(L, r);
        r = next;
    }
}

/* Loop thread: an outbound call of a request ended; its next step goes to a worker. */
static void on_call_done(struct pc_out_resp *resp, void *arg)
{
    struct pc_req *r = arg;
    struct pc_loop *L = r->loop;
    pc_out_resp_clear(&r->upstream);
    r->upstream = *resp;
    resp->body = NULL; /* now owned by the request */
    resp->headers = NULL;
    if (resp->err)
        pc_log(PC_LOG_WARN, "upstream call failed", PC_LS("id", r->id), PC_LS("call", r->call.name),
               PC_LS("error", resp->errmsg));
    if (L->closing) {
        pc__conn_destroy(r->conn); /* the connection goes with the loop */
        return;
    }
    if (pc_workers_submit(L->srv->workers, &r->job) != 0) {
        pc_resp_header(r, "Retry-After", "1");
        pc_resp_error(r, 503, "OVERLOADED", "服务器繁忙，请稍后重试", NULL);
        finish(L, r);
    }
}

static void start_call(struct pc_loop *L, struct pc_req *r)
{
    r->call_pending = false;
    if (pc_outbound_start(L->out, &r->call, on_call_done, r) != 0) {
        pc_resp_error(r, 500, "INTERNAL", "服务器内部错误，请稍后重试", NULL);
        finish(L, r);
    }
}

void pc__http_request(struct pc_conn *c)
{
    struct pc_loop *L = c->L;
    struct pc_req *r = &c->req;
    if (r->status) { /* answered at the head (404, 405, draining) */
        finish(L, r);
        return;
    }
    r->job.run = job_run;
    r->job.done = job_done;
    if (r->route->flags & (PC_ROUTE_INLINE | PC_ROUTE_LOOP)) {
        r->route->fn(r, &L->ctx);
        if (r->parked) { /* back here when completed, by whichever comes second */
            if (pc__req_park_mark(r, PC__PARK_STEP_DONE))
                finish(L, r);
            return;
        }
        if (!r->to_worker) {
            finish(L, r);
            return;
        }
        r->to_worker = false; /* it goes on with r->next on a worker */
    }
    if (pc_workers_submit(L->srv->workers, &r->job) != 0) {
        pc_resp_header(r, "Retry-After", "1");
        pc_resp_error(r, 503, "OVERLOADED", "服务器繁忙，请稍后重试", NULL);
        finish(L, r);
    }
}

/* ---------- loops ---------- */

static void set_accepting(struct pc_loop *L, bool on)
{
    if (L->accepting == on)
        return;
    for (int i = 0; i < L->naccept; i++)
        if (L->accept_ev[i])
            on ? event_add(L->accept_ev[i], NULL) : event_del(L->accept_ev[i]);
    L->accepting = on;
}

static void on_retry_accept(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct pc_loop *L = arg;
    if (!atomic_load(&L->srv->draining))
        set_accepting(L, true);
}

static void on_accept(evutil_socket_t lfd, short what, void *arg)
{
    (void)what;
    struct pc_loop *L = arg;
    struct pc_server *srv = L->srv;
    pc__loop_now(L);
    for (int i = 0; i < 64; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* out of descriptors: stop accepting for a moment instead of spinning */
                pc_log(PC_LOG_WARN, "cannot accept", PC_LS("error", strerror(errno)));
                set_accepting(L, false);
                struct timeval tv = {0, 200 * 1000};
                event_add(L->retry_ev, &tv);
            }
            return;
        }
        struct pc_addr peer;
        pc_addr_from_sockaddr((struct sockaddr *)&ss, &peer);
        bool trusted = pc_cidr_list_has(&srv->trusted, &peer);
        if (!admit(srv, &peer, trusted)) {
            atomic_fetch_add(&srv->refused_conns, 1);
            close(fd);
            continue;
        }
        pc__conn_new(L, fd, &peer, trusted);
    }
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    pc__loop_tick(arg);
}

static void on_stop_accept(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct pc_loop *L = arg;
    set_accepting(L, false);
    for (int i = 0; i < L->naccept; i++) {
        if (!L->accept_ev[i])
            continue;
        int lfd = event_get_fd(L->accept_ev[i]);
        event_free(L->accept_ev[i]);
        L->accept_ev[i] = NULL;
        close(lfd); /* the listening socket is gone once every loop closed its copy */
    }
}

static void *loop_main(void *arg)
{
    struct pc_loop *L = arg;
    event_base_loop(L->base, EVLOOP_NO_EXIT_ON_EMPTY);
    return NULL;
}

static int loop_init(struct pc_server *srv, struct pc_loop *L, int idx, char *err, size_t errlen)
{
    L->srv = srv;
    L->idx = idx;
    L->ctx = srv->base; /* no database on the loop */
    L->ctx.db = NULL;
    pthread_mutex_init(&L->mu, NULL);
    L->base = event_base_new();
    if (!L->base || !(event_base_get_features(L->base) & EV_FEATURE_ET)) {
        snprintf(err, errlen, "cannot create an edge-triggered event loop");
        return PC_EIO;
    }
    pc__loop_now(L);
    L->out = pc_outbound_new(L->base);
    L->done_ev = event_new(L->base, -1, EV_PERSIST, on_done, L);
    L->stop_accept_ev = event_new(L->base, -1, 0, on_stop_accept, L);
    L->tick_ev = event_new(L->base, -1, EV_PERSIST, on_tick, L);
    L->retry_ev = event_new(L->base, -1, 0, on_retry_accept, L);
    struct timeval second = {1, 0};
    event_add(L->done_ev, NULL);
    event_add(L->tick_ev, &second);
    for (int i = 0; i < srv->nlfds; i++) {
        int fd = fcntl(srv->lfds[i], F_DUPFD_CLOEXEC, 0);
        L->accept_ev[i] =
            fd >= 0 ? event_new(L->base, fd, EV_READ | EV_PERSIST, on_accept, L) : NULL;
        if (!L->accept_ev[i]) {
            if (fd >= 0)
                close(fd);
            snprintf(err, errlen, "cannot accept on listening socket");
            return PC_EIO;
        }
        L->naccept++;
    }
    set_accepting(L, true);
    return 0;
}

/* After the loop thread ended: every request and connection it held goes. */
static void loop_cleanup(struct pc_loop *L)
{
    L->closing = true;
    pc_outbound_free(L->out); /* cancelled calls drop their requests and connections */
    L->out = NULL;
    for (struct pc_req *r = L->done_head, *next; r; r = next) {
        next = (struct pc_req *)r->job.next;
        pc__conn_destroy(r->conn);
    }
    L->done_head = L->done_tail = NULL;
    /* No step runs any more; a request parked with another thread (pc_req_park) keeps its
     * connection until its completion frees it (loops_closed is set). */
    while (L->conns) {
        struct pc_conn *c = L->conns;
        if (pc__req_awaits_completion(&c->req))
            pc__conn_abandon(c);
        else
            pc__conn_destroy(c);
    }
    on_stop_accept(-1, 0, L);
    if (L->done_ev)
        event_free(L->done_ev);
    if (L->stop_accept_ev)
        event_free(L->stop_accept_ev);
    if (L->tick_ev)
        event_free(L->tick_ev);
    if (L->retry_ev)
        event_free(L->retry_ev);
    if (L->base)
        event_base_free(L->base);
    pthread_mutex_destroy(&L->mu);
}

/* ---------- listening sockets (main thread) ---------- */

static bool addr_is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6)
        return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr);
    return false;
}

static int bind_one(struct pc_server *srv, const char *host, const char *port, char *err,
                    size_t errlen)
{
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char portbuf[16];
    snprintf(portbuf, sizeof portbuf, "%s", srv->port && !strcmp(port, "0") ? "" : port);
    if (!portbuf[0])
        snprintf(portbuf, sizeof portbuf, "%d", srv->port);
    int gai = getaddrinfo(host[0] ? host : NULL, portbuf, &hints, &ai);
    if (gai) {
        snprintf(err, errlen, "cannot resolve listen address %s: %s", host, gai_strerror(gai));
        return PC_EINVAL;
    }
    int rc = 0;
    for (struct addrinfo *a = ai; a && rc == 0; a = a->ai_next) {
        if (srv->cfg->plain_http && !addr_is_loopback(a->ai_addr)) {
            snprintf(err, errlen, "server.plain_http is allowed on loopback addresses only");
            rc = PC_EINVAL;
            break;
        }
        if (srv->nlfds == PC_MAX_LISTEN) {
            snprintf(err, errlen, "too many listen addresses (max %d)", PC_MAX_LISTEN);
            rc = PC_EINVAL;
            break;
        }
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        int one = 1;
        if (fd < 0) {
            rc = PC_EIO;
            break;
        }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        /* Accepted sockets inherit TCP_NODELAY: small TLS records go out at once instead of
         * waiting 40 ms for the client's delayed ACK. */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (a->ai_family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        if (srv->port && a->ai_family == AF_INET)
            ((struct sockaddr_in *)a->ai_addr)->sin_port = htons((uint16_t)srv->port);
        if (srv->port && a->ai_family == AF_INET6)
            ((struct sockaddr_in6 *)a->ai_addr)->sin6_port = htons((uint16_t)srv->port);
        if (bind(fd, a->ai_addr, a->ai_addrlen) || listen(fd, 1024)) {
            snprintf(err, errlen, "cannot listen on %s:%s: %s", host, port, strerror(errno));
            close(fd);
            rc = PC_EIO;
            break;
        }
        if (!srv->port) {
            struct sockaddr_storage ss;
            socklen_t sl = sizeof ss;
            getsockname(fd, (struct sockaddr *)&ss, &sl);
            srv->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                                      : ((struct sockaddr_in6 *)&ss)->sin6_port);
        }
        srv->lfds[srv->nlfds++] = fd;
    }
    freeaddrinfo(ai);
    return rc;
}

/* Parses "host:port,[v6]:port" and binds each. */
static int bind_all(struct pc_server *srv, char *err, size_t errlen)
{
    char *list = pc_xstrdup(srv->cfg->listen), *save = NULL;
    int rc = 0;
    for (char *item = strtok_r(list, ",", &save); item && rc == 0;
         item = strtok_r(NULL, ",", &save)) {
        while (*item == ' ')
            item++;
        char *host = item, *port = NULL;
        if (*item == '[') {
            host = item + 1;
            char *close_br = strchr(host, ']');
            if (!close_br || close_br[1] != ':') {
                rc = PC_EINVAL;
                break;
            }
            *close_br = '\0';
            port = close_br + 2;
        } else {
            char *colon = strrchr(item, ':');
            if (!colon) {
                rc = PC_EINVAL;
                break;
            }
            *colon = '\0';
            port = colon + 1;
        }
        rc = bind_one(srv, host, port, err, errlen);
    }
    if (rc == PC_EINVAL && !err[0])
        snprintf(err, errlen, "bad server.listen '%s' (want host:port,...)", srv->cfg->listen);
    free(list);
    return rc;
}

static int write_port_file(const char *path, int port)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return PC_EIO;
    fprintf(f, "%d\n", port);
    if (fclose(f) || rename(tmp, path))
        return PC_EIO;
    return 0;
}

/* ---------- worker thread state ---------- */

static void *worker_init(void *arg)
{
    struct pc_server *srv = arg;
    mysql_thread_init();
    struct pc_ctx *ctx = pc_new(struct pc_ctx);
    *ctx = srv->base;
    ctx->db = pc_db_new(srv->cfg);
    return ctx;
}

static void worker_fini(void *state)
{
    struct pc_ctx *ctx = state;
    pc_db_free(ctx->db);
    free(ctx);
    mysql_thread_end();
}

/* ---------- public ---------- */

/* Many slow or idle clients need many descriptors: the soft limit goes up to the hard one. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

struct pc_server *pc_server_new(const struct pc_config *cfg, const struct pc_route *routes,
                                size_t nroutes, char *err, size_t errlen)
{
    err[0] = '\0';
    struct pc_server *srv = pc_new(struct pc_server);
    srv->cfg = cfg;
    srv->routes = routes;
    srv->nroutes = nroutes;
    srv->started_ms = pc_time_now_ms();
    for (int i = 0; i < PC_MAX_LISTEN; i++)
        srv->lfds[i] = -1;
    pthread_mutex_init(&srv->ip_mu, NULL);
    pthread_mutex_init(&srv->park_mu, NULL);
    srv->ip_tab = pc_xcalloc(IP_BUCKETS, sizeof *srv->ip_tab);
    unsigned char rnd[4];
    FILE *ur = fopen("/dev/urandom", "rb");
    if (!ur || fread(rnd, 1, 4, ur) != 4)
        memset(rnd, 0, 4);
    if (ur)
        fclose(ur);
    snprintf(srv->id_prefix, sizeof srv->id_prefix, "%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2],
             rnd[3]);
    srv->base.cfg = cfg;
    char why[160];
    if (pc_cidr_list_parse(cfg->trusted_proxies, &srv->trusted, why, sizeof why)) {
        snprintf(err, errlen, "server.trusted_proxies: %s", why);
        goto fail;
    }
    if (pc_cidr_list_parse(cfg->metrics_allow, &srv->metrics_allow, why, sizeof why)) {
        snprintf(err, errlen, "server.metrics_allow: %s", why);
        goto fail;
    }
    pc_h1_global_init((size_t)cfg->max_header_bytes);
    raise_fd_limit();
    if (!cfg->plain_http) {
        srv->ssl = pc_tls_server_ctx(cfg->tls_cert, cfg->tls_key, err, errlen);
        if (!srv->ssl)
            goto fail;
        pc_tls_ctx_for_conns(srv->ssl);
    }
    if (bind_all(srv, err, errlen))
        goto fail;
    srv->metrics = pc_metrics_new();
    return srv;
fail:
    pc_server_free(srv);
    return NULL;
}

void pc_server_block_signals(void)
{
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL); /* every thread inherits the mask */
    signal(SIGPIPE, SIG_IGN);
}

int pc_server_run(struct pc_server *srv)
{
    const struct pc_config *cfg = srv->cfg;
    char err[256] = "";
    int rc = 0;
    sigset_t sigs;
    pc_server_block_signals();
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);

    srv->workers = pc_workers_new(cfg->workers, cfg->queue_max, worker_init, worker_fini, srv);
    srv->nloops = cfg->threads;
    srv->loops = pc_xcalloc((size_t)srv->nloops, sizeof *srv->loops);
    for (int i = 0; i < srv->nloops; i++) {
        if (loop_init(srv, &srv->loops[i], i, err, sizeof err)) {
            pc_log(PC_LOG_ERROR, "cannot start event loop", PC_LS("error", err));
            srv->nloops = i + 1;
            rc = PC_EIO;
            goto stop;
        }
    }
    for (int i = 0; i < srv->nloops; i++)
        pthread_create(&srv->loops[i].thread, NULL, loop_main, &srv->loops[i]);
    if (cfg->port_file && cfg->port_file[0] && write_port_file(cfg->port_file, srv->port))
        pc_log(PC_LOG_WARN, "cannot write port file", PC_LS("path", cfg->port_file));
    pc_log(PC_LOG_INFO, "listening", PC_LS("listen", cfg->listen), PC_LI("port", srv->port),
           PC_LS("scheme", cfg->plain_http ? "http" : "https"), PC_LI("threads", srv->nloops),
           PC_LI("workers", cfg->workers));

    int sig = 0;
    while (sigwait(&sigs, &sig) != 0)
        ;
    pc_log(PC_LOG_INFO, "shutting down", PC_LS("signal", sig == SIGINT ? "SIGINT" : "SIGTERM"),
           PC_LI("inflight", atomic_load(&srv->inflight)));
    atomic_store(&srv->draining, 1);
    for (int i = 0; i < srv->nloops; i++)
        event_active(srv->loops[i].stop_accept_ev, EV_READ, 0);
    for (int i = 0; i < srv->nlfds; i++) {
        close(srv->lfds[i]);
        srv->lfds[i] = -1;
    }
    /* Wait for in-flight requests; a second signal stops waiting. */
    uint64_t deadline = pc_time_mono_ns() + (uint64_t)cfg->shutdown_grace_ms * 1000000ull;
    struct timespec tick = {0, 10 * 1000000};
    while (atomic_load(&srv->inflight) > 0 && pc_time_mono_ns() < deadline) {
        if (sigtimedwait(&sigs, NULL, &tick) > 0) {
            pc_log_msg(PC_LOG_WARN, "second signal: not waiting for in-flight requests");
            break;
        }
    }
    if (atomic_load(&srv->inflight) > 0)
        pc_log(PC_LOG_WARN, "shutdown grace expired",
               PC_LI("inflight", atomic_load(&srv->inflight)));
stop:;
    struct timeval flush = {0, FLUSH_MS * 1000};
    for (int i = 0; i < srv->nloops; i++)
        if (srv->loops[i].base)
            event_base_loopexit(srv->loops[i].base, &flush);
    for (int i = 0; i < srv->nloops; i++)
        if (srv->loops[i].thread)
            pthread_join(srv->loops[i].thread, NULL);
    pc_workers_free(srv->workers); /* finishes running jobs; their requests are dropped below */
    srv->workers = NULL;
    /* Parked requests completed from now on are freed by their completer, but only once the
     * teardown has abandoned their connections: a completion waits on park_mu until then (it
     * must not close a connection the teardown is closing, nor touch a freed event base). */
    pthread_mutex_lock(&srv->park_mu);
    srv->loops_closed = true;
    for (int i = 0; i < srv->nloops; i++)
        loop_cleanup(&srv->loops[i]);
    pthread_mutex_unlock(&srv->park_mu);
    pc_log_msg(PC_LOG_INFO, "stopped");
    return rc;
}

void pc_server_free(struct pc_server *srv)
{
    if (!srv)
        return;
    for (int i = 0; i < srv->nlfds; i++)
        if (srv->lfds[i] >= 0)
            close(srv->lfds[i]);
    free(srv->loops);
    pc_metrics_free(srv->metrics);
    if (srv->ssl)
        SSL_CTX_free(srv->ssl);
    pc_cidr_list_free(&srv->trusted);
    pc_cidr_list_free(&srv->metrics_allow);
    if (srv->ip_tab) {
        for (size_t i = 0; i < IP_BUCKETS; i++) {
            for (struct ip_slot *s = srv->ip_tab[i], *next; s; s = next) {
                next = s->next;
                free(s);
            }
        }
        free(srv->ip_tab);
    }
    pthread_mutex_destroy(&srv->ip_mu);
    pthread_mutex_destroy(&srv->park_mu);
    free(srv);
}

void pc_server_render_metrics(struct pc_server *srv, struct pc_buf *out)
{
    pc_metrics_render(srv->metrics, out);
    pc_buf_addf(out,
                "# HELP portraitd_inflight_requests Requests being handled now.\n"
                "# TYPE portraitd_inflight_requests gauge\nportraitd_inflight_requests %ld\n",
                (long)atomic_load(&srv->inflight));
    pc_buf_addf(out,
                "# HELP portraitd_open_connections Client connections open now.\n"
                "# TYPE portraitd_open_connections gauge\nportraitd_open_connections %ld\n"
                "# HELP portraitd_connections_refused_total Connections closed at accept by "
                "server.max_connections or server.max_conns_per_ip.\n"
                "# TYPE portraitd_connections_refused_total counter\n"
                "portraitd_connections_refused_total %llu\n"
                "# HELP portraitd_connection_timeouts_total Connections closed by a timeout "
                "(header_timeout_s, body_timeout_s, timeout_s).\n"
                "# TYPE portraitd_connection_timeouts_total counter\n"
                "portraitd_connection_timeouts_total %llu\n",
                (long)atomic_load(&srv->nconns),
                (unsigned long long)atomic_load(&srv->refused_conns),
                (unsigned long long)atomic_load(&srv->timeouts));
    if (srv->workers)
        pc_buf_addf(out,
                    "# HELP portraitd_worker_queue_depth Jobs waiting for a worker.\n"
                    "# TYPE portraitd_worker_queue_depth gauge\nportraitd_worker_queue_depth %zu\n"
                    "# HELP portraitd_workers_busy Workers running a job.\n"
                    "# TYPE portraitd_workers_busy gauge\nportraitd_workers_busy %zu\n",
                    pc_workers_queued(srv->workers), pc_workers_busy(srv->workers));
    pc_buf_addf(out,
                "# HELP portraitd_start_time_seconds Process start time.\n"
                "# TYPE portraitd_start_time_seconds gauge\nportraitd_start_time_seconds %lld\n",
                (long long)(srv->started_ms / 1000));
}

int64_t pc_server_started_ms(const struct pc_server *srv)
{
    return srv->started_ms;
}

void pc_server_set_context(struct pc_server *srv, const struct pc_ctx *base)
{
    srv->base = *base;
    srv->base.cfg = srv->cfg;
    srv->base.db = NULL;
}

struct pc_server *pc_req_server(const struct pc_req *r)
{
    return r->loop->srv;
}
