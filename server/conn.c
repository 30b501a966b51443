/* server/conn.c — a connection's bytes: TLS, the HTTP/1.1 parser, the response on the wire,
 * timeouts and the memory an idle connection keeps. Loop thread of the connection.
 *
 * One edge-triggered event per connection, registered once (server/conn.h). A small response
 * is written as one buffer — status line, headers and body — so it leaves in one TLS record
 * and one write(2). */
#include "server/conn.h"

#include "base/alloc.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "config/config.h"

#include <errno.h>
#include <event2/event.h>
#include <limits.h>
#include <malloc.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define IN_START        4096
#define BODY_READ_MAX   (64 * 1024) /* input buffer while reading a body */
#define OUT_INLINE      (16 * 1024) /* a body up to this size shares the head's buffer (1 record) */
#define FILE_CHUNK      (16 * 1024) /* file bodies are read and sent one record at a time */
#define FILE_TIMEOUT_S  3600        /* a file download may stall this long between two writes */
#define LINGER_MS       2000        /* after the last answer, how long unread input is skipped */
#define LINGER_MAX      (16u << 20) /* and how much of it */
#define IDLE_RELEASE_MS 1000        /* an idle connection gives its buffers back after this */
#define TRIM_MIN_CLOSED 64          /* malloc_trim once this many fewer connections are open */

static const char g_continue[] = "HTTP/1.1 100 Continue\r\n\r\n";

int64_t pc__loop_now(struct pc_loop *L)
{
    pc__loop_set_now(L, pc_time_mono_ns());
    return L->now_ms;
}

void pc__loop_set_now(struct pc_loop *L, uint64_t ns)
{
    L->now_ns = ns;
    L->now_ms = (int64_t)(ns / 1000000u);
}

static void clear_tls_errors(void)
{
    /* SSL_get_error reads the thread's error queue: a stale entry (from another connection or
     * the outbound client on this thread) would turn a retry into a failure. */
    if (ERR_peek_error())
        ERR_clear_error();
}

/* ---------- buffers ---------- */

static void out_need(struct pc_conn *c, size_t n)
{
    if (c->out_len + n <= c->out_cap)
        return;
    size_t cap = c->out_cap ? c->out_cap : 1024;
    while (cap < c->out_len + n)
        cap *= 2;
    c->out = pc_xrealloc(c->out, cap);
    c->out_cap = cap;
}

static void put(struct pc_conn *c, const char *s, size_t n)
{
    out_need(c, n);
    memcpy(c->out + c->out_len, s, n);
    c->out_len += n;
}

static void put_str(struct pc_conn *c, const char *s)
{
    put(c, s, strlen(s));
}

static void put_u64(struct pc_conn *c, uint64_t v)
{
    char tmp[24];
    size_t n = sizeof tmp;
    do {
        tmp[--n] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put(c, tmp + n, sizeof tmp - n);
}

/* A header line; CR, LF and NUL in a value (from a handler) become spaces. */
static void put_header(struct pc_conn *c, const char *name, const char *value)
{
    put_str(c, name);
    put(c, ": ", 2);
    size_t start = c->out_len, n = strlen(value);
    put(c, value, n);
    for (size_t i = start; i < c->out_len; i++)
        if (c->out[i] == '\r' || c->out[i] == '\n' || c->out[i] == '\0')
            c->out[i] = ' ';
    put(c, "\r\n", 2);
}

/* ---------- closing ---------- */

static void conn_unlink(struct pc_conn *c)
{
    struct pc_loop *L = c->L;
    if (c->prev)
        c->prev->next = c->next;
    else
        L->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

/* Closes the socket (without a TLS close_notify) and gives the connection's places back. */
static void conn_close_socket(struct pc_conn *c)
{
    if (!c->open)
        return;
    struct pc_loop *L = c->L;
    conn_unlink(c);
    L->nconns--;
    event_free(c->ev);
    c->ev = NULL;
    if (c->ssl) {
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    close(c->sock.fd);
    c->open = false;
    pc__http_release(L->srv, &c->peer, c->peer_trusted);
}

void pc__conn_destroy(struct pc_conn *c)
{
    conn_close_socket(c);
    if (c->in_flight) {
        c->in_flight = false;
        atomic_fetch_sub(&c->L->srv->inflight, 1);
    }
    pc__req_destroy(&c->req);
    free(c->in);
    free(c->out);
    free(c->wbody);
    if (c->file_fd >= 0)
        close(c->file_fd);
    free(c);
}

void pc__conn_abandon(struct pc_conn *c)
{
    conn_close_socket(c);
}

/* Closes c; frees it unless its request is with a handler (then the request's return frees
 * it). The caller must not touch c afterwards. */
static void conn_close(struct pc_conn *c)
{
    conn_close_socket(c);
    if (c->state != PC_CS_BUSY)
        pc__conn_destroy(c);
}

/* ---------- reading ---------- */

/* Bytes into p: >0 read, 0 wait for an event, -1 end of stream or error. */
static long io_read(struct pc_conn *c, char *p, size_t n)
{
    c->read_wants_write = false;
    if (!c->ssl)
        return pc_sock_recv(&c->sock, p, n);
    clear_tls_errors();
    int r = SSL_read(c->ssl, p, n > INT_MAX ? INT_MAX : (int)n);
    if (r > 0)
        return r;
    switch (SSL_get_error(c->ssl, r)) {
    case SSL_ERROR_WANT_READ:
        return 0;
    case SSL_ERROR_WANT_WRITE:
        c->read_wants_write = true;
        return 0;
    default:
        return -1;
    }
}

/* Bytes from p: >0 written, 0 wait for an event, -1 error. */
static long io_write(struct pc_conn *c, const char *p, size_t n)
{
    if (!c->ssl)
        return pc_sock_send(&c->sock, p, n);
    clear_tls_errors();
    int w = SSL_write(c->ssl, p, n > INT_MAX ? INT_MAX : (int)n);
    if (w > 0)
        return w;
    switch (SSL_get_error(c->ssl, w)) {
    case SSL_ERROR_WANT_WRITE:
    case SSL_ERROR_WANT_READ:
        return 0;
    default:
        return -1;
    }
}

static int on_body(void *arg, const char *p, size_t n)
{
    struct pc_conn *c = arg;
    c->body_seen += n;
    if (c->body_seen > (uint64_t)c->body_limit)
        return 1;
    if (!c->discard)
        pc__req_body_append(&c->req, p, n);
    return 0;
}

static bool expects_continue(const struct pc_req *r)
{
    const char *e = pc_req_header(r, "Expect");
    return e && strcasecmp(e, "100-continue") == 0;
}

/* A request with no parsed head (or a target that is not a URL) still gets an id, a client
 * address and an answer. */
static void refuse(struct pc_conn *c, int status)
{
    struct pc_server *srv = c->L->srv;
    if (!c->h1.head_done) {
        char gen[32];
        pc__http_gen_id(srv, gen);
        c->req.t0_ns = pc_time_mono_ns();
        pc__req_begin(&c->req, NULL, c->in, &c->peer, c->peer_text, &srv->trusted,
                      &srv->metrics_allow, gen);
    }
    pc__http_refuse(c, status);
}

/* The head is parsed: the request record, the route's decision, the body's deadline. False
 * when the request is answered already. */
static bool on_head(struct pc_conn *c)
{
    struct pc_loop *L = c->L;
    struct pc_server *srv = L->srv;
    const struct pc_config *cfg = srv->cfg;
    struct pc_req *r = &c->req;
    char gen[32];
    pc__http_gen_id(srv, gen);
    r->t0_ns = L->now_ns; /* the event that brought the head's last bytes */
    int rc = pc__req_begin(r, &c->h1, c->in, &c->peer, c->peer_text, &srv->trusted,
                           &srv->metrics_allow, gen);
    c->is_head = strcmp(r->method, "HEAD") == 0;
    c->close_after = !pc_h1_keep_alive(&c->h1);
    c->discard = false;
    c->body_seen = 0;
    c->body_deadline_ms = L->now_ms + (int64_t)cfg->body_timeout_s * 1000;
    int64_t idle = L->now_ms + (int64_t)cfg->timeout_s * 1000;
    c->deadline_ms = idle < c->body_deadline_ms ? idle : c->body_deadline_ms;
    if (rc) {
        refuse(c, 400);
        return false;
    }
    if (!pc__http_head(c))
        return false;
    int64_t cl = pc_h1_content_length(&c->h1);
    if (!c->discard && cl > 0)
        pc__req_body_reserve(r, (size_t)cl);
    if (!c->discard && pc_h1_has_body(&c->h1) && expects_continue(r))
        put(c, g_continue, sizeof g_continue - 1);
    return true;
}

/* The whole request is in: its leftover (a pipelined request) moves to the front. */
static void on_done(struct pc_conn *c)
{
    size_t rest = c->in_len - c->in_off;
    if (rest && c->in_off)
        memmove(c->in, c->in + c->in_off, rest);
    c->in_len = rest;
    c->in_off = 0;
    c->state = PC_CS_BUSY;
    c->deadline_ms = INT64_MAX;
    pc__http_request(c);
}

/* Feeds what is buffered to the parser. True when the request (or an error) took the
 * connection out of reading. */
static bool parse_input(struct pc_conn *c)
{
    while (c->in_off < c->in_len) {
        enum pc_h1_stop st;
        size_t used = pc_h1_feed(&c->h1, c->in, c->in_off, c->in_len - c->in_off, &st);
        c->in_off += used;
        if (st == PC_H1_HEAD) {
            if (!on_head(c))
                return true;
            continue;
        }
        if (st == PC_H1_DONE) {
            on_done(c);
            return true;
        }
        if (st == PC_H1_ERROR) {
            refuse(c, c->h1.status);
            return true;
        }
        break;
    }
    if (c->h1.head_done) { /* body bytes were copied out: the buffer starts over */
        size_t rest = c->in_len - c->in_off;
        if (rest && c->in_off)
            memmove(c->in, c->in + c->in_off, rest);
        c->in_len = rest;
        c->in_off = 0;
    }
    return false;
}

/* Room to read into; false when the head cannot fit (431). */
static bool in_room(struct pc_conn *c)
{
    if (!c->in) {
        c->in_cap = IN_START;
        c->in = pc_xmalloc(c->in_cap);
    }
    if (c->in_len < c->in_cap)
        return true;
    size_t max = c->h1.head_done ? BODY_READ_MAX : c->h1.max_head + IN_START;
    if (c->in_cap >= max)
        return false;
    size_t cap = c->in_cap * 2 > max ? max : c->in_cap * 2;
    c->in = pc_xrealloc(c->in, cap);
    c->in_cap = cap;
    return true;
}

static int flush(struct pc_conn *c);

/* Reads and parses until a request is complete (1), the socket is drained (0) or the
 * connection closed (-1: c is gone). */
static int read_requests(struct pc_conn *c)
{
    struct pc_loop *L = c->L;
    const struct pc_config *cfg = L->srv->cfg;
    for (;;) {
        if (parse_input(c))
            return 1;
        if (c->out_off < c->out_len) { /* "100 Continue" before the body can come */
            int f = flush(c);
            if (f < 0) {
                conn_close(c);
                return -1;
            }
            if (f == 0)
                return 0;
        }
        bool pending = c->ssl && SSL_has_pending(c->ssl);
        if (!c->sock.readable && !pending && !(c->read_wants_write && c->sock.writable))
            return 0;
        if (!in_room(c)) {
            refuse(c, 431);
            return 1;
        }
        long n = io_read(c, c->in + c->in_len, c->in_cap - c->in_len);
        if (n > 0) {
            if (c->idle) { /* the next request starts: its head has header_timeout_s */
                c->idle = false;
                c->deadline_ms = L->now_ms + (int64_t)cfg->header_timeout_s * 1000;
            } else if (c->h1.head_done) { /* body progress, within the body's own deadline */
                int64_t idle = L->now_ms + (int64_t)cfg->timeout_s * 1000;
                c->deadline_ms = idle < c->body_deadline_ms ? idle : c->body_deadline_ms;
            }
            c->in_len += (size_t)n;
            c->last_io_ms = L->now_ms;
            c->trimmed = false;
            continue;
        }
        if (n == 0)
            return 0;
        conn_close(c);
        return -1;
    }
}

/* ---------- writing ---------- */

/* The reason phrase: http_parser's table (RFC 9110 names), a class name for codes it lacks. */
static const char *reason(int status)
{
    const char *s = http_status_str((enum http_status)status);
    if (s[0] != '<')
        return s;
    return status < 300   ? "OK"
           : status < 400 ? "Redirect"
           : status < 500 ? "Client Error"
                          : "Server Error";
}

static void loop_date(struct pc_loop *L)
{
    time_t now = time(NULL);
    if (now == L->date_sec && L->date_len)
        return;
    struct tm tm;
    gmtime_r(&now, &tm);
    L->date_len = strftime(L->date, sizeof L->date, "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
    L->date_sec = now;
}

/* The response of r on the wire: status line and headers, and the body in the same buffer
 * when it is small; a larger body or a file follows from where it is. */
static void serialize(struct pc_conn *c, struct pc_req *r)
{
    if (!r->status)
        pc_resp_error(r, 500, "INTERNAL", "服务器内部错误", NULL);
    int st = r->status;
    for (size_t i = 0; i < r->nresp_hdrs; i++)
        if (strcasecmp(r->resp_hdrs[i].name, "Connection") == 0 &&
            strcasecmp(r->resp_hdrs[i].value, "close") == 0)
            c->close_after = true;
    bool bodyless = st < 200 || st == 204 || st == 304;
    size_t blen = bodyless ? 0 : r->resp_len;
    if (c->out_off == c->out_len)
        c->out_off = c->out_len = 0;
    out_need(c, 256 + (blen <= OUT_INLINE ? blen : 0));
    put(c, "HTTP/1.1 ", 9);
    put_u64(c, (uint64_t)st);
    put(c, " ", 1);
    put_str(c, reason(st));
    put(c, "\r\n", 2);
    if (!bodyless) {
        put(c, "Content-Type: ", 14);
        put_str(c, r->resp_ctype ? r->resp_ctype : "application/json");
        put(c, "\r\nContent-Length: ", 18);
        put_u64(c, blen);
        put(c, "\r\n", 2);
    }
    put(c, "X-Request-Id: ", 14);
    put_str(c, r->id);
    put_str(c, "\r\nX-Content-Type-Options: nosniff\r\n");
    bool cache_set = false; /* static files choose their own caching (server/static.c) */
    for (size_t i = 0; i < r->nresp_hdrs; i++)
        cache_set = cache_set || !strcasecmp(r->resp_hdrs[i].name, "Cache-Control");
    if (!cache_set)
        put_str(c, "Cache-Control: no-store\r\n");
    loop_date(c->L);
    put(c, c->L->date, c->L->date_len);
    if (c->close_after)
        put_str(c, "Connection: close\r\n");
    else if (pc_h1_version_minor(&c->h1) == 0)
        put_str(c, "Connection: keep-alive\r\n");
    for (size_t i = 0; i < r->nresp_hdrs; i++)
        if (strcasecmp(r->resp_hdrs[i].name, "Connection") != 0)
            put_header(c, r->resp_hdrs[i].name, r->resp_hdrs[i].value);
    put(c, "\r\n", 2);
    if (c->is_head || bodyless || !blen)
        return; /* a file descriptor is closed with the request */
    if (r->resp_fd >= 0) {
        c->file_fd = r->resp_fd;
        r->resp_fd = -1;
        c->file_off = 0;
        c->file_left = blen;
    } else if (blen <= OUT_INLINE) {
        put(c, r->resp_body, blen);
    } else {
        c->wbody = pc__req_take_resp_body(r);
        c->wbody_len = blen;
        c->wbody_off = 0;
    }
}

/* Writes what is pending: 1 all sent, 0 wait for an event, -1 error. */
static int flush(struct pc_conn *c)
{
    struct pc_loop *L = c->L;
    for (;;) {
        const char *p;
        size_t n;
        bool body = false;
        if (c->out_off < c->out_len) {
            p = c->out + c->out_off;
            n = c->out_len - c->out_off;
        } else if (c->wbody && c->wbody_off < c->wbody_len) {
            p = c->wbody + c->wbody_off;
            n = c->wbody_len - c->wbody_off;
            body = true;
        } else if (c->file_fd >= 0 && c->file_left > 0) {
            c->out_off = c->out_len = 0;
            size_t want = c->file_left < FILE_CHUNK ? (size_t)c->file_left : FILE_CHUNK;
            out_need(c, want);
            ssize_t got = pread(c->file_fd, c->out, want, (off_t)c->file_off);
            if (got <= 0) {
                pc_log(PC_LOG_WARN, "cannot read response file", PC_LS("id", c->req.id),
                       PC_LS("error", got < 0 ? strerror(errno) : "end of file"));
                return -1;
            }
            c->out_len = (size_t)got;
            c->file_off += (uint64_t)got;
            c->file_left -= (uint64_t)got;
            continue;
        } else {
            c->out_off = c->out_len = 0;
            pc_free_null(c->wbody);
            c->wbody_len = c->wbody_off = 0;
            if (c->file_fd >= 0) {
                close(c->file_fd);
                c->file_fd = -1;
            }
            return 1;
        }
        if (!c->sock.writable)
            return 0;
        long w = io_write(c, p, n);
        if (w < 0)
            return -1;
        if (w == 0)
            return 0;
        if (body)
            c->wbody_off += (size_t)w;
        else
            c->out_off += (size_t)w;
        int64_t t = c->file_fd >= 0 ? FILE_TIMEOUT_S : L->srv->cfg->timeout_s;
        c->deadline_ms = L->now_ms + t * 1000;
        c->last_io_ms = L->now_ms;
    }
}

/* Ready for the next request on a kept-alive connection (it may be buffered already). */
static void next_request(struct pc_conn *c)
{
    const struct pc_config *cfg = c->L->srv->cfg;
    pc_h1_next(&c->h1);
    c->state = PC_CS_READ;
    c->is_head = false;
    c->discard = false;
    c->close_after = false;
    c->body_seen = 0;
    c->idle = c->in_len == 0;
    c->deadline_ms =
        c->L->now_ms + (int64_t)(c->idle ? cfg->timeout_s : cfg->header_timeout_s) * 1000;
}

/* Answered and closing: close_notify and FIN go out, then what the client still sends (the
 * rest of a refused body) is read and dropped for a moment, so that it reads the answer
 * instead of a reset. */
static void start_linger(struct pc_conn *c)
{
    if (c->ssl) {
        clear_tls_errors();
        SSL_shutdown(c->ssl);
    }
    shutdown(c->sock.fd, SHUT_WR);
    c->state = PC_CS_LINGER;
    c->deadline_ms = c->L->now_ms + LINGER_MS;
    c->body_seen = 0;
}

/* 0: wait for more; -1: done, close. */
static int linger(struct pc_conn *c)
{
    char buf[8192];
    for (;;) {
        ssize_t r = recv(c->sock.fd, buf, sizeof buf, 0);
        if (r > 0) {
            c->body_seen += (uint64_t)r;
            if (c->body_seen > LINGER_MAX)
                return -1;
            continue;
        }
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return 0;
        return -1;
    }
}

/* ---------- the state machine ---------- */

static void conn_run(struct pc_conn *c)
{
    c->in_run = true;
    for (;;) {
        switch (c->state) {
        case PC_CS_HANDSHAKE: {
            clear_tls_errors();
            int r = SSL_do_handshake(c->ssl);
            if (r == 1) {
                c->state = PC_CS_READ;
                c->last_io_ms = c->L->now_ms;
                continue;
            }
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                goto out;
            conn_close(c);
            return;
        }
        case PC_CS_READ: {
            int r = read_requests(c);
            if (r < 0)
                return;
            if (r == 0)
                goto out;
            continue;
        }
        case PC_CS_BUSY:
            goto out;
        case PC_CS_WRITE: {
            int r = flush(c);
            if (r < 0) {
                conn_close(c);
                return;
            }
            if (r == 0)
                goto out;
            if (c->close_after || pc_h1_upgrade(&c->h1)) {
                start_linger(c);
                continue;
            }
            next_request(c);
            continue;
        }
        case PC_CS_LINGER:
            if (linger(c) < 0) {
                conn_close(c);
                return;
            }
            goto out;
        }
    }
out:
    c->in_run = false;
}

static void on_event(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    struct pc_conn *c = arg;
    if (what & EV_READ)
        c->sock.readable = true;
    if (what & EV_WRITE)
        c->sock.writable = true;
    pc__loop_now(c->L);
    conn_run(c);
}

void pc__conn_new(struct pc_loop *L, int fd, const struct pc_addr *peer, bool trusted)
{
    const struct pc_config *cfg = L->srv->cfg;
    struct pc_conn *c = pc_new(struct pc_conn);
    c->L = L;
    c->sock.fd = fd;
    c->sock.readable = true;
    c->sock.writable = true;
    c->peer = *peer;
    pc_addr_format(peer, c->peer_text);
    c->peer_trusted = trusted;
    c->file_fd = -1;
    c->open = true;
    pc_h1_init(&c->h1, (size_t)cfg->max_header_bytes, on_body, c);
    pc__req_init(&c->req, L, c);
    c->state = PC_CS_READ;
    if (L->srv->ssl) {
        c->ssl = SSL_new(L->srv->ssl);
        if (!c->ssl)
            abort(); /* only fails on OOM */
        BIO *b = pc_tls_sock_bio(&c->sock);
        SSL_set_bio(c->ssl, b, b);
        SSL_set_accept_state(c->ssl);
        c->state = PC_CS_HANDSHAKE;
    }
    /* The handshake and the first request's head share header_timeout_s. */
    c->deadline_ms = L->now_ms + (int64_t)cfg->header_timeout_s * 1000;
    c->last_io_ms = L->now_ms;
    c->next = L->conns;
    if (L->conns)
        L->conns->prev = c;
    L->conns = c;
    if (++L->nconns > L->peak_conns)
        L->peak_conns = L->nconns;
    c->ev = event_new(L->base, fd, EV_READ | EV_WRITE | EV_PERSIST | EV_ET, on_event, c);
    if (!c->ev || event_add(c->ev, NULL) != 0)
        abort(); /* only fails on OOM */
}

void pc__conn_respond(struct pc_conn *c)
{
    if (!c->open) { /* the client went away while the handler ran */
        pc__conn_destroy(c);
        return;
    }
    struct pc_loop *L = c->L;
    serialize(c, &c->req);
    pc__req_reset(&c->req);
    c->state = PC_CS_WRITE;
    c->deadline_ms =
        L->now_ms + (int64_t)(c->file_fd >= 0 ? FILE_TIMEOUT_S : L->srv->cfg->timeout_s) * 1000;
    if (!c->in_run)
        conn_run(c);
}

/* Gives back what an idle connection holds: its buffers, the request's kept buffers and
 * OpenSSL's record buffers (kept while a connection is busy, so a request allocates none). */
static void release_idle(struct pc_conn *c)
{
    if (c->ssl)
        SSL_free_buffers(c->ssl); /* refuses (harmlessly) while a record is half read */
    if (c->out_off == c->out_len) {
        pc_free_null(c->out);
        c->out_cap = c->out_len = c->out_off = 0;
    }
    if (c->in_len == 0) {
        pc_free_null(c->in);
        c->in_cap = c->in_off = 0;
        pc__req_trim(&c->req);
    }
    c->trimmed = true;
}

void pc__loop_tick(struct pc_loop *L)
{
    int64_t now = pc__loop_now(L);
    for (struct pc_conn *c = L->conns, *next; c; c = next) {
        next = c->next;
        if (now >= c->deadline_ms) {
            atomic_fetch_add(&L->srv->timeouts, 1);
            conn_close(c);
            continue;
        }
        if (!c->trimmed && c->state == PC_CS_READ && now - c->last_io_ms >= IDLE_RELEASE_MS)
            release_idle(c);
    }
    /* After a crowd of connections (slow clients, a burst) has gone, the allocator keeps
     * their pages; hand them back once the count has fallen well below its peak. */
    if (L->peak_conns >= L->nconns + TRIM_MIN_CLOSED && L->nconns * 2 < L->peak_conns) {
        malloc_trim(0);
        L->peak_conns = L->nconns;
    }
}
