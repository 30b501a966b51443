/* tests/integration/rawtls.c — see rawtls.h. */
#include "rawtls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static SSL_CTX *g_ctx;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void make_ctx(void)
{
    g_ctx = SSL_CTX_new(TLS_client_method());
    /* TLS 1.3: each record names its inner content type, which the counter below reads. */
    SSL_CTX_set_min_proto_version(g_ctx, TLS1_3_VERSION);
    SSL_CTX_set_verify(g_ctx, SSL_VERIFY_NONE, NULL);
}

static void on_msg(int write_p, int version, int content_type, const void *buf, size_t len,
                   SSL *ssl, void *arg)
{
    (void)version;
    (void)ssl;
    if (!write_p && content_type == SSL3_RT_INNER_CONTENT_TYPE && len == 1 &&
        ((const unsigned char *)buf)[0] == SSL3_RT_APPLICATION_DATA)
        (*(int *)arg)++;
}

static void set_timeout(int fd, int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static int tcp_connect(struct rt_conn *c, int port, const char *src)
{
    memset(c, 0, sizeof *c);
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return -1;
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    if (src) {
        inet_pton(AF_INET, src, &sa.sin_addr);
        if (bind(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0)
            goto fail;
    }
    sa.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        goto fail;
    return 0;
fail:
    close(c->fd);
    c->fd = -1;
    return -1;
}

int rt_open_tcp(struct rt_conn *c, int port)
{
    if (tcp_connect(c, port, NULL))
        return -1;
    set_timeout(c->fd, 5000);
    return 0;
}

int rt_open(struct rt_conn *c, int port, const char *src, int timeout_ms)
{
    pthread_once(&g_once, make_ctx);
    if (tcp_connect(c, port, src))
        return -1;
    set_timeout(c->fd, timeout_ms);
    c->ssl = SSL_new(g_ctx);
    SSL_set_fd(c->ssl, c->fd);
    SSL_set_tlsext_host_name(c->ssl, "localhost");
    SSL_set_msg_callback(c->ssl, on_msg);
    SSL_set_msg_callback_arg(c->ssl, &c->app_records);
    ERR_clear_error();
    if (SSL_connect(c->ssl) != 1) {
        rt_close(c);
        return -1;
    }
    return 0;
}

int rt_send(struct rt_conn *c, const void *p, size_t n)
{
    const char *s = p;
    while (n) {
        long w;
        if (c->ssl) {
            ERR_clear_error();
            w = SSL_write(c->ssl, s, (int)n);
        } else {
            w = send(c->fd, s, n, MSG_NOSIGNAL);
        }
        if (w <= 0)
            return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

int rt_send_str(struct rt_conn *c, const char *s)
{
    return rt_send(c, s, strlen(s));
}

/* Reads more bytes into pend: >0 read, 0 end of stream, -1 error or timeout. */
static long fill(struct rt_conn *c)
{
    if (c->npend == sizeof c->pend)
        return -1;
    long n;
    if (c->ssl) {
        ERR_clear_error();
        n = SSL_read(c->ssl, c->pend + c->npend, (int)(sizeof c->pend - c->npend));
        if (n <= 0) {
            int e = SSL_get_error(c->ssl, (int)n);
            return e == SSL_ERROR_ZERO_RETURN ? 0 : (e == SSL_ERROR_SYSCALL && !errno) ? 0 : -1;
        }
    } else {
        n = recv(c->fd, c->pend + c->npend, sizeof c->pend - c->npend, 0);
        if (n < 0)
            return -1;
        if (n == 0)
            return 0;
    }
    c->npend += (size_t)n;
    return n;
}

static const char *find_crlf2(const char *p, size_t n)
{
    for (size_t i = 0; i + 4 <= n; i++)
        if (p[i] == '\r' && p[i + 1] == '\n' && p[i + 2] == '\r' && p[i + 3] == '\n')
            return p + i;
    return NULL;
}

const char *rt_header(const struct rt_resp *r, const char *name, char *buf, size_t len)
{
    size_t nl = strlen(name);
    const char *line = strstr(r->head, "\r\n");
    while (line && line[2] != '\r') {
        line += 2;
        const char *eol = strstr(line, "\r\n");
        if (!eol)
            break;
        if ((size_t)(eol - line) > nl && line[nl] == ':' && strncasecmp(line, name, nl) == 0) {
            const char *v = line + nl + 1;
            while (*v == ' ')
                v++;
            snprintf(buf, len, "%.*s", (int)(eol - v), v);
            return buf;
        }
        line = eol;
    }
    return NULL;
}

int rt_read_response(struct rt_conn *c, struct rt_resp *r)
{
    memset(r, 0, sizeof *r);
    const char *end;
    while (!(end = find_crlf2(c->pend, c->npend))) {
        if (fill(c) <= 0)
            return -1;
    }
    size_t hl = (size_t)(end - c->pend) + 4;
    if (hl >= sizeof r->head || strncmp(c->pend, "HTTP/1.", 7) != 0)
        return -1;
    memcpy(r->head, c->pend, hl);
    r->head[hl] = '\0';
    r->status = (int)strtol(r->head + 9, NULL, 10);
    char cl[32];
    size_t blen = 0;
    if (rt_header(r, "Content-Length", cl, sizeof cl))
        blen = (size_t)strtoull(cl, NULL, 10);
    memmove(c->pend, c->pend + hl, c->npend - hl);
    c->npend -= hl;
    r->body = malloc(blen + 1);
    size_t got = 0;
    while (got < blen) {
        if (!c->npend && fill(c) <= 0) {
            rt_resp_free(r);
            return -1;
        }
        size_t take = c->npend < blen - got ? c->npend : blen - got;
        memcpy(r->body + got, c->pend, take);
        memmove(c->pend, c->pend + take, c->npend - take);
        c->npend -= take;
        got += take;
    }
    r->body[blen] = '\0';
    r->len = blen;
    return 0;
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

bool rt_closed_by_peer(struct rt_conn *c, int timeout_ms)
{
    long deadline = now_ms() + timeout_ms;
    set_timeout(c->fd, 200);
    while (now_ms() < deadline) {
        c->npend = 0;
        errno = 0;
        long n = fill(c);
        if (n == 0)
            return true;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            return true; /* reset */
    }
    return false;
}

void rt_resp_free(struct rt_resp *r)
{
    free(r->body);
    r->body = NULL;
}

void rt_close(struct rt_conn *c)
{
    if (c->ssl)
        SSL_free(c->ssl);
    c->ssl = NULL;
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}
