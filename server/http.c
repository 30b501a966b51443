/* server/http.c — listeners, event loops, dispatch, completion hand-off and shutdown.
 *
 * Threads: the main thread binds sockets, starts loops and workers, then waits for a
 * signal. Each loop thread owns its event_base, evhttp and every request accepted on
 * it. Worker threads run handlers on copies of the requests and push them back onto
 * the owning loop's completion queue. */

#include "server/server.h"

#include "base/alloc.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "config/config.h"
#include "server/metrics.h"
#include "net/outbound.h"
#include "server/req_internal.h"
#include "server/router.h"
#include "server/tls.h"
#include "server/workers.h"
#include "store/db.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
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
#include <sys/socket.h>
#include <unistd.h>

#define MAX_LISTEN 8
#define FLUSH_MS   300 /* after the last reply of a drain, time for it to reach the client */

struct pc_loop {
    struct pc_server *srv;
    int idx;
    pthread_t thread;
    struct event_base *base;
    struct evhttp *http;
    struct evhttp_bound_socket *bound[MAX_LISTEN];
    int nbound;
    struct event *done_ev;
    struct event *stop_accept_ev;
    pthread_mutex_t mu;
    struct pc_req *done_head, *done_tail;
    struct pc_ctx ctx; /* for inline handlers: no database */
    struct pc_outbound *out;
    bool closing; /* being torn down: finished calls are dropped, not answered */
};

struct pc_server {
    const struct pc_config *cfg;
    const struct pc_route *routes;
    size_t nroutes;
    SSL_CTX *ssl;
    int lfds[MAX_LISTEN];
    int nlfds;
    int port;
    struct pc_loop *loops;
    int nloops;
    struct pc_workers *workers;
    struct pc_ctx base; /* what every handler's context starts from (pc_server_set_context) */
    struct pc_metrics *metrics;
    atomic_int draining;
    atomic_long inflight;
    atomic_ullong seq;
    char id_prefix[9];
    int64_t started_ms;
};

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

static void finish(struct pc_loop *L, struct pc_req *r)
{
    struct pc_server *srv = L->srv;
    if (atomic_load(&srv->draining))
        pc_resp_header(r, "Connection", "close");
    if (r->ev)
        pc__req_send(r);
    uint64_t dur = pc_time_mono_ns() - r->t0_ns;
    const char *route = r->route ? r->route->pattern : "unmatched";
    const char *method = r->route ? r->route->method : static_method(r->method);
    pc_metrics_observe(srv->metrics, method, route, r->status, dur);
    pc_log(PC_LOG_INFO, "request", PC_LS("id", r->id), PC_LS("method", r->method),
           PC_LS("path", r->path), PC_LI("status", r->status),
           PC_LF("duration_ms", (double)dur / 1e6), PC_LS("ip", r->ip),
           PC_LI("bytes_in", r->body_len));
    pc__req_free(r);
    atomic_fetch_sub(&srv->inflight, 1);
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
    if (r->call_pending && r->status) /* a step may not both answer and call out */
        r->call_pending = false;
}

static void start_call(struct pc_loop *L, struct pc_req *r);

/* Worker thread: hands the finished request back to its loop. */
static void job_done(struct pc_job *job)
{
    struct pc_req *r = (struct pc_req *)job;
    struct pc_loop *L = r->loop;
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
        r->ev = NULL; /* the connection goes with the loop */
        pc__req_free(r);
        atomic_fetch_sub(&L->srv->inflight, 1);
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

static void on_request(struct evhttp_request *ev, void *arg)
{
    struct pc_loop *L = arg;
    struct pc_server *srv = L->srv;
    const struct pc_config *cfg = srv->cfg;
    char gen[32];
    snprintf(gen, sizeof gen, "%s%08llx", srv->id_prefix,
             (unsigned long long)atomic_fetch_add(&srv->seq, 1));
    struct pc_req *r = pc__req_new(ev, cfg->trust_proxy, gen);
    r->loop = L;
    r->t0_ns = pc_time_mono_ns();
    atomic_fetch_add(&srv->inflight, 1);

    if (atomic_load(&srv->draining)) {
        pc_resp_header(r, "Retry-After", "1");
        pc_resp_error(r, 503, "SHUTTING_DOWN", "服务正在重启，请稍后重试", NULL);
        finish(L, r);
        return;
    }
    struct pc_route_match m;
    int rc = pc_router_match(srv->routes, srv->nroutes, r->method, r->path, cfg->debug_routes, &m);
    if (rc == PC_ENOTFOUND) {
        pc_resp_error(r, 404, "NOT_FOUND", "请求的资源不存在", NULL);
        finish(L, r);
        return;
    }
    if (rc == PC_ECONFLICT) {
        pc_resp_header(r, "Allow", m.allow);
        pc_resp_error(r, 405, "METHOD_NOT_ALLOWED", "不支持该请求方法", NULL);
        finish(L, r);
        return;
    }
    r->route = &srv->routes[m.index];
    r->route_idx = m.index;
    r->nparams = m.ncap;
    for (size_t i = 0; i < m.ncap; i++) {
        r->param_names[i] = m.names[i];
        r->param_values[i] = m.values[i];
    }
    int64_t limit = (r->route->flags & PC_ROUTE_UPLOAD) ? cfg->max_body_bytes : cfg->max_json_bytes;
    size_t blen = evbuffer_get_length(evhttp_request_get_input_buffer(ev));
    if ((int64_t)blen > limit) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddNumberToObject(d, "limit_bytes", (double)limit);
        pc_resp_header(r, "Connection", "close");
        pc_resp_error(r, 413, "PAYLOAD_TOO_LARGE", "请求内容过大", d);
        finish(L, r);
        return;
    }
    pc__req_take_body(r);
    if (r->route->flags & PC_ROUTE_INLINE) {
        r->route->fn(r, &L->ctx);
        finish(L, r);
        return;
    }
    r->job.run = job_run;
    r->job.done = job_done;
    if (pc_workers_submit(srv->workers, &r->job) != 0) {
        pc_resp_header(r, "Retry-After", "1");
        pc_resp_error(r, 503, "OVERLOADED", "服务器繁忙，请稍后重试", NULL);
        finish(L, r);
    }
}

/* ---------- loops ---------- */

static struct bufferevent *tls_bevcb(struct event_base *base, void *arg)
{
    SSL *ssl = SSL_new(arg);
    return bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                          BEV_OPT_CLOSE_ON_FREE);
}

static void on_stop_accept(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct pc_loop *L = arg;
    for (int i = 0; i < L->nbound; i++)
        evhttp_del_accept_socket(L->http, L->bound[i]);
    L->nbound = 0;
}

static void *loop_main(void *arg)
{
    struct pc_loop *L = arg;
    event_base_loop(L->base, EVLOOP_NO_EXIT_ON_EMPTY);
    return NULL;
}

static int loop_init(struct pc_server *srv, struct pc_loop *L, int idx, char *err, size_t errlen)
{
    const struct pc_config *cfg = srv->cfg;
    L->srv = srv;
    L->idx = idx;
    L->ctx = srv->base; /* no database on the loop */
    L->ctx.db = NULL;
    pthread_mutex_init(&L->mu, NULL);
    L->base = event_base_new();
    L->http = L->base ? evhttp_new(L->base) : NULL;
    if (!L->http) {
        snprintf(err, errlen, "cannot create event loop");
        return PC_EIO;
    }
    evhttp_set_max_body_size(L->http, cfg->max_body_bytes);
    evhttp_set_max_headers_size(L->http, cfg->max_header_bytes);
    evhttp_set_timeout(L->http, cfg->timeout_s);
    evhttp_set_allowed_methods(L->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                            EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                            EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
                                            EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
    evhttp_set_flags(L->http, EVHTTP_SERVER_LINGERING_CLOSE);
    evhttp_set_default_content_type(L->http, "application/json");
    evhttp_set_gencb(L->http, on_request, L);
    if (srv->ssl)
        evhttp_set_bevcb(L->http, tls_bevcb, srv->ssl);
    L->out = pc_outbound_new(L->base);
    L->done_ev = event_new(L->base, -1, EV_PERSIST, on_done, L);
    L->stop_accept_ev = event_new(L->base, -1, 0, on_stop_accept, L);
    event_add(L->done_ev, NULL);
    for (int i = 0; i < srv->nlfds; i++) {
        int fd = dup(srv->lfds[i]);
        struct evhttp_bound_socket *b =
            fd >= 0 ? evhttp_accept_socket_with_handle(L->http, fd) : NULL;
        if (!b) {
            if (fd >= 0)
                close(fd);
            snprintf(err, errlen, "cannot accept on listening socket");
            return PC_EIO;
        }
        L->bound[L->nbound++] = b;
    }
    return 0;
}

static void loop_cleanup(struct pc_loop *L)
{
    L->closing = true;
    pc_outbound_free(L->out); /* cancelled calls drop their requests */
    if (L->http)
        evhttp_free(L->http);
    if (L->done_ev)
        event_free(L->done_ev);
    if (L->stop_accept_ev)
        event_free(L->stop_accept_ev);
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
        if (srv->nlfds == MAX_LISTEN) {
            snprintf(err, errlen, "too many listen addresses (max %d)", MAX_LISTEN);
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

struct pc_server *pc_server_new(const struct pc_config *cfg, const struct pc_route *routes,
                                size_t nroutes, char *err, size_t errlen)
{
    err[0] = '\0';
    struct pc_server *srv = pc_new(struct pc_server);
    srv->cfg = cfg;
    srv->routes = routes;
    srv->nroutes = nroutes;
    srv->started_ms = pc_time_now_ms();
    unsigned char rnd[4];
    FILE *ur = fopen("/dev/urandom", "rb");
    if (!ur || fread(rnd, 1, 4, ur) != 4)
        memset(rnd, 0, 4);
    if (ur)
        fclose(ur);
    snprintf(srv->id_prefix, sizeof srv->id_prefix, "%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2],
             rnd[3]);
    srv->base.cfg = cfg;
    if (!cfg->plain_http) {
        srv->ssl = pc_tls_server_ctx(cfg->tls_cert, cfg->tls_key, err, errlen);
        if (!srv->ssl)
            goto fail;
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
    for (int i = 0; i < srv->nloops; i++) {
        struct pc_loop *L = &srv->loops[i];
        for (struct pc_req *r = L->done_head, *next; r; r = next) {
            next = (struct pc_req *)r->job.next;
            r->ev = NULL; /* its connection is gone with the loop */
            pc__req_free(r);
        }
        L->done_head = L->done_tail = NULL;
        loop_cleanup(L);
    }
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
    free(srv);
}

void pc_server_render_metrics(struct pc_server *srv, struct pc_buf *out)
{
    pc_metrics_render(srv->metrics, out);
    pc_buf_addf(out,
                "# HELP portraitd_inflight_requests Requests being handled now.\n"
                "# TYPE portraitd_inflight_requests gauge\nportraitd_inflight_requests %ld\n",
                (long)atomic_load(&srv->inflight));
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
