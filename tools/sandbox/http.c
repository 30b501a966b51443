/* tools/sandbox/http.c — the sandbox's HTTP(S) side: listener, routing, request records,
 * faults (errcode and delayed replies) and reply helpers. Loop thread only. */
#include "tools/sandbox/sandbox.h"

#include "base/alloc.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "server/tls.h"
#include "tools/sandbox/pay.h"
#include "tools/sandbox/state.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Every area's routes; a new area (pay, sms, chsi) adds its table here. */
static const struct sb_route_table *const sb_tables[] = {
    &sb_wx_table,  &sb_control_table, &sb_chsi_table, &sb_pay_table,
    &sb_sms_table, &sb_bill_table,    &sb_certs_table};
#define SB_NTABLES (sizeof sb_tables / sizeof sb_tables[0])

/* A reply held back by a delay fault. */
struct sb_pending {
    struct sb_pending *prev, *next;
    struct sb_http *h;
    struct evhttp_request *ev;
    struct event *timer;
    int status;
    const char *content_type;
    char *body;
    size_t len;
};

struct sb_http {
    const struct sb_opts *opts;
    struct sb_state *st;
    struct event_base *base;
    struct evhttp *http;
    SSL_CTX *ssl;
    int port;
    struct sb_pending *pending;
};

/* ---------- replies ---------- */

const char *sb_query(struct sb_call *c, const char *name)
{
    return evhttp_find_header(&c->query, name);
}

void sb_reply_json(struct sb_call *c, int status, cJSON *j)
{
    char *s = cJSON_PrintUnformatted(j);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "errcode");
    if (cJSON_IsNumber(e))
        c->errcode = (long)e->valuedouble;
    pc_buf_reset(&c->out);
    pc_buf_adds(&c->out, s);
    free(s);
    cJSON_Delete(j);
    c->status = status;
}

void sb_reply_wx_error(struct sb_call *c, long errcode, const char *errmsg)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "errcode", (double)errcode);
    cJSON_AddStringToObject(j, "errmsg", errmsg ? errmsg : sb_wx_errmsg(errcode));
    c->content_type = SB_WX_CONTENT;
    sb_reply_json(c, 200, j);
}

void sb_reply_ctl_error(struct sb_call *c, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "error", msg);
    c->content_type = SB_CTL_CONTENT;
    sb_reply_json(c, status, j);
}

int sb_id_ok(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-'))
            return 0;
    }
    return 1;
}

cJSON *sb_body_object(struct sb_call *c)
{
    if (!c->body_len)
        return NULL;
    cJSON *j = cJSON_ParseWithLength(c->body, c->body_len);
    if (j && !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        j = NULL;
    }
    return j;
}

/* ---------- sending ---------- */

static const char *sb_reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Error";
    }
}

/* Sends the reply; ev belongs to libevent afterwards. */
static void sb_send(struct evhttp_request *ev, int status, const char *content_type,
                    const char *body, size_t len)
{
    struct evkeyvalq *oh = evhttp_request_get_output_headers(ev);
    evhttp_remove_header(oh, "Content-Type");
    evhttp_add_header(oh, "Content-Type", content_type);
    struct evbuffer *b = evbuffer_new();
    if (b && len)
        evbuffer_add(b, body, len);
    evhttp_send_reply(ev, status, sb_reason(status), b);
    if (b)
        evbuffer_free(b);
}

static void sb_pending_unlink(struct sb_pending *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        p->h->pending = p->next;
    if (p->next)
        p->next->prev = p->prev;
}

/* Sends a delayed reply and frees it. */
static void sb_pending_fire(struct sb_pending *p)
{
    sb_pending_unlink(p);
    sb_send(p->ev, p->status, p->content_type, p->body, p->len);
    event_free(p->timer);
    free(p->body);
    free(p);
}

static void sb_on_delay(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sb_pending_fire(arg);
}

/* Holds c's reply back for delay_ms (an evtimer: the loop keeps serving). Takes c->out. */
static void sb_defer(struct sb_http *h, struct sb_call *c, long delay_ms)
{
    struct sb_pending *p = pc_new(struct sb_pending);
    p->h = h;
    p->ev = c->ev;
    p->status = c->status;
    p->content_type = c->content_type;
    p->body = pc_buf_take(&c->out, &p->len);
    p->timer = evtimer_new(h->base, sb_on_delay, p);
    p->next = h->pending;
    if (h->pending)
        h->pending->prev = p;
    h->pending = p;
    struct timeval tv = {delay_ms / 1000, (delay_ms % 1000) * 1000};
    evtimer_add(p->timer, &tv);
}

/* ---------- routing ---------- */

static const char *sb_method_name(enum evhttp_cmd_type t)
{
    switch (t) {
    case EVHTTP_REQ_GET:
        return "GET";
    case EVHTTP_REQ_POST:
        return "POST";
    case EVHTTP_REQ_HEAD:
        return "HEAD";
    case EVHTTP_REQ_PUT:
        return "PUT";
    case EVHTTP_REQ_DELETE:
        return "DELETE";
    case EVHTTP_REQ_OPTIONS:
        return "OPTIONS";
    case EVHTTP_REQ_PATCH:
        return "PATCH";
    default:
        return "OTHER";
    }
}

/* 1 if path matches pattern, where a "*" segment of the pattern matches one non-empty
 * segment of path. */
static int sb_path_match(const char *pattern, const char *path)
{
    const char *start = pattern;
    while (*pattern && *path) {
        if (pattern > start && pattern[-1] == '/' && pattern[0] == '*' &&
            (pattern[1] == '/' || !pattern[1])) {
            size_t seg = strcspn(path, "/");
            if (!seg)
                return 0;
            path += seg;
            pattern++;
            continue;
        }
        if (*pattern++ != *path++)
            return 0;
    }
    return !*pattern && !*path;
}

int sb_path_arg(struct sb_call *c, size_t i, char *out, size_t len)
{
    const char *s = c->path;
    for (;;) {
        if (*s != '/')
            return -1;
        s++;
        size_t seg = strcspn(s, "/");
        if (i-- == 0) {
            size_t n = 0;
            char *raw = pc_xstrndup(s, seg);
            char *dec = evhttp_uridecode(raw, 0, &n);
            free(raw);
            int bad = !dec || !n || n >= len || strlen(dec) != n;
            if (!bad)
                memcpy(out, dec, n + 1);
            free(dec);
            return bad ? -1 : 0;
        }
        s += seg;
    }
}

/* The route for (method, path); *path_route is any route of that path (method aside). */
static const struct sb_route *sb_match(const char *method, const char *path,
                                       const struct sb_route **path_route)
{
    *path_route = NULL;
    for (size_t t = 0; t < SB_NTABLES; t++) {
        for (size_t i = 0; i < sb_tables[t]->n; i++) {
            const struct sb_route *r = &sb_tables[t]->routes[i];
            if (!sb_path_match(r->path, path))
                continue;
            if (!*path_route)
                *path_route = r;
            if (!strcmp(r->method, method))
                return r;
        }
    }
    return NULL;
}

static void sb_on_request(struct evhttp_request *ev, void *arg)
{
    struct sb_http *h = arg;
    uint64_t t0 = pc_time_mono_ns();
    struct sb_call c;
    memset(&c, 0, sizeof c);
    c.opts = h->opts;
    c.st = h->st;
    c.ev = ev;
    c.method = sb_method_name(evhttp_request_get_command(ev));
    c.uri = evhttp_request_get_uri(ev);
    const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(ev);
    c.path = u ? evhttp_uri_get_path(u) : NULL;
    if (!c.path || !c.path[0])
        c.path = "/";
    const char *q = u ? evhttp_uri_get_query(u) : NULL;
    c.query.tqh_first = NULL; /* TAILQ_INIT */
    c.query.tqh_last = &c.query.tqh_first;
    if (evhttp_parse_query_str(q ? q : "", &c.query) != 0)
        evhttp_clear_headers(&c.query);
    struct evbuffer *in = evhttp_request_get_input_buffer(ev);
    c.body_len = evbuffer_get_length(in);
    c.body = pc_xmalloc(c.body_len + 1);
    evbuffer_remove(in, c.body, c.body_len);
    c.body[c.body_len] = '\0';
    c.status = 200;
    c.content_type = SB_CTL_CONTENT;
    pc_buf_init(&c.out, SB_MAX_REPLY);

    long delay_ms = 0;
    const struct sb_route *any = NULL;
    const struct sb_route *r = sb_match(c.method, c.path, &any);
    if (any && any->endpoint) {
        /* A WeChat-facing endpoint: record the call, failed ones included. */
        int pay = sb_pay_path(c.path);
        c.endpoint = any->endpoint;
        c.content_type = pay ? SB_PAY_CONTENT : SB_WX_CONTENT;
        sb_record_request(h->st, &c);
        long fault = 0;
        if (!r) {
            if (pay)
                sb_pay_error(&c, 405, "INVALID_REQUEST", "请求方法不支持");
            else
                sb_reply_wx_error(&c, !strcmp(any->method, "GET") ? 43001 : 43002, NULL);
        } else if (pay && sb_pay_authenticate(&c)) {
            /* 401 SIGN_ERROR (or 500 without --pay-dir) is set; no fault is used */
        } else {
            sb_fault_take(h->st, c.endpoint, &fault, &delay_ms);
            if (fault && pay)
                sb_pay_fault_reply(&c, fault);
            else if (fault)
                sb_reply_wx_error(&c, fault, NULL);
            else
                r->fn(&c);
        }
        if (pay)
            sb_pay_sign_reply(&c);
    } else if (r) {
        r->fn(&c);
    } else if (any) {
        evhttp_add_header(evhttp_request_get_output_headers(ev), "Allow", any->method);
        sb_reply_ctl_error(&c, 405, "method %s not allowed on %s", c.method, c.path);
    } else {
        sb_reply_ctl_error(&c, 404, "not found: %s", c.path);
    }

    pc_log(PC_LOG_INFO, "request", PC_LS("method", c.method), PC_LS("path", c.path),
           PC_LS("endpoint", c.endpoint ? c.endpoint : "control"), PC_LI("status", c.status),
           PC_LI("errcode", c.errcode), PC_LI("delay_ms", delay_ms),
           PC_LF("duration_ms", (double)(pc_time_mono_ns() - t0) / 1e6),
           PC_LI("bytes_in", c.body_len));
    if (delay_ms > 0)
        sb_defer(h, &c, delay_ms);
    else
        sb_send(ev, c.status, c.content_type, c.out.p, c.out.len);
    pc_buf_free(&c.out);
    evhttp_clear_headers(&c.query);
    free(c.body);
}

/* ---------- listening ---------- */

static struct bufferevent *sb_tls_bevcb(struct event_base *base, void *arg)
{
    SSL *ssl = SSL_new(arg);
    return bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                          BEV_OPT_CLOSE_ON_FREE);
}

/* Binds "host:port" or "[v6]:port"; returns the listening socket or -1 with err set. */
static int sb_bind(const char *listen_addr, int *port, char *err, size_t errlen)
{
    char *copy = pc_xstrdup(listen_addr), *host = copy, *portstr = NULL;
    int fd = -1;
    struct addrinfo hints = {0}, *ai = NULL;
    if (*host == '[') {
        host++;
        char *close_br = strchr(host, ']');
        if (close_br && close_br[1] == ':') {
            *close_br = '\0';
            portstr = close_br + 2;
        }
    } else {
        char *colon = strrchr(host, ':');
        if (colon) {
            *colon = '\0';
            portstr = colon + 1;
        }
    }
    if (!portstr || !portstr[0]) {
        snprintf(err, errlen, "bad --listen '%s' (want HOST:PORT)", listen_addr);
        goto out;
    }
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int gai = getaddrinfo(host[0] ? host : NULL, portstr, &hints, &ai);
    if (gai) {
        snprintf(err, errlen, "cannot resolve %s: %s", listen_addr, gai_strerror(gai));
        goto out;
    }
    snprintf(err, errlen, "cannot listen on %s", listen_addr);
    for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        /* Accepted sockets inherit it: small TLS records leave at once. */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (a->ai_family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        if (bind(fd, a->ai_addr, a->ai_addrlen) || listen(fd, 1024)) {
            snprintf(err, errlen, "cannot listen on %s: %s", listen_addr, strerror(errno));
            close(fd);
            fd = -1;
        }
    }
    if (fd >= 0) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        getsockname(fd, (struct sockaddr *)&ss, &sl);
        *port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                              : ((struct sockaddr_in6 *)&ss)->sin6_port);
        err[0] = '\0';
    }
out:
    if (ai)
        freeaddrinfo(ai);
    free(copy);
    return fd;
}

struct sb_http *sb_http_new(struct event_base *base, const struct sb_opts *opts,
                            struct sb_state *st, char *err, size_t errlen)
{
    struct sb_http *h = pc_new(struct sb_http);
    h->opts = opts;
    h->st = st;
    h->base = base;
    err[0] = '\0';
    if (!opts->plain) {
        h->ssl = pc_tls_server_ctx(opts->cert, opts->key, err, errlen);
        if (!h->ssl)
            goto fail;
    }
    h->http = evhttp_new(base);
    if (!h->http) {
        snprintf(err, errlen, "cannot create the HTTP server");
        goto fail;
    }
    evhttp_set_max_body_size(h->http, SB_MAX_BODY);
    evhttp_set_max_headers_size(h->http, SB_MAX_HEADERS);
    evhttp_set_timeout(h->http, 60);
    evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                            EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                            EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
    evhttp_set_default_content_type(h->http, SB_CTL_CONTENT);
    evhttp_set_gencb(h->http, sb_on_request, h);
    if (h->ssl)
        evhttp_set_bevcb(h->http, sb_tls_bevcb, h->ssl);
    int fd = sb_bind(opts->listen, &h->port, err, errlen);
    if (fd < 0)
        goto fail;
    if (!evhttp_accept_socket_with_handle(h->http, fd)) {
        close(fd);
        snprintf(err, errlen, "cannot accept on %s", opts->listen);
        goto fail;
    }
    return h;
fail:
    sb_http_free(h);
    return NULL;
}

int sb_http_port(const struct sb_http *h)
{
    return h->port;
}

void sb_http_flush(struct sb_http *h)
{
    while (h->pending)
        sb_pending_fire(h->pending);
}

void sb_http_free(struct sb_http *h)
{
    if (!h)
        return;
    sb_http_flush(h);
    if (h->http)
        evhttp_free(h->http);
    if (h->ssl)
        SSL_CTX_free(h->ssl);
    free(h);
}
