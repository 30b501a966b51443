/* server/tls.c — server SSL_CTX: TLS 1.2+, modern ciphers, no compression or renegotiation;
 * and the socket BIO of the connections (server/conn.c). */
#include "server/tls.h"

#include <errno.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

SSL_CTX *pc_tls_server_ctx(const char *cert_file, const char *key_file, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        snprintf(err, errlen, "SSL_CTX_new failed");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    /* TLS 1.2: forward-secret AEAD suites only (TLS 1.3 suites are OpenSSL's defaults). */
    SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20");
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
        snprintf(err, errlen, "cannot load TLS certificate %s: %s", cert_file,
                 ERR_reason_error_string(ERR_get_error()));
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) {
        snprintf(err, errlen, "cannot load TLS key %s: %s", key_file,
                 ERR_reason_error_string(ERR_get_error()));
        goto fail;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        snprintf(err, errlen, "TLS key %s does not match certificate %s", key_file, cert_file);
        goto fail;
    }
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

void pc_tls_ctx_for_conns(SSL_CTX *ctx)
{
    /* Writes may stop after any record and resume from a moved buffer (server/conn.c keeps
     * its own offsets); reads take whatever the socket holds in one recv (read-ahead), so a
     * request costs one read instead of a record-header read and a record-body read. */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_read_ahead(ctx, 1);
}

static bool would_block(void)
{
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

long pc_sock_recv(struct pc_sock *s, void *buf, size_t n)
{
    ssize_t r = recv(s->fd, buf, n, 0);
    if (r > 0) {
        if ((size_t)r < n)
            s->readable = false;
        return (long)r;
    }
    if (r < 0 && would_block()) {
        s->readable = false;
        return 0;
    }
    return -1;
}

long pc_sock_send(struct pc_sock *s, const void *buf, size_t n)
{
    ssize_t r = send(s->fd, buf, n, MSG_NOSIGNAL);
    if (r >= 0) {
        if ((size_t)r < n)
            s->writable = false;
        return (long)r;
    }
    if (would_block()) {
        s->writable = false;
        return 0;
    }
    return -1;
}

static int bio_write(BIO *b, const char *buf, int len)
{
    struct pc_sock *s = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    long r = pc_sock_send(s, buf, (size_t)len);
    if (r > 0)
        return (int)r;
    if (r == 0 && len > 0)
        BIO_set_retry_write(b);
    return -1;
}

static int bio_read(BIO *b, char *buf, int len)
{
    struct pc_sock *s = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    ssize_t r = recv(s->fd, buf, (size_t)len, 0);
    if (r > 0) {
        if (r < len)
            s->readable = false;
        return (int)r;
    }
    if (r == 0)
        return 0; /* end of stream */
    if (would_block()) {
        s->readable = false;
        BIO_set_retry_read(b);
    }
    return -1;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)ptr;
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1;
    case BIO_CTRL_GET_CLOSE:
        return BIO_get_shutdown(b);
    case BIO_CTRL_SET_CLOSE:
        BIO_set_shutdown(b, (int)num);
        return 1;
    default:
        return 0;
    }
}

static int bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static BIO_METHOD *g_method;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void make_method(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "portraitd socket");
    if (!m || !BIO_meth_set_write(m, bio_write) || !BIO_meth_set_read(m, bio_read) ||
        !BIO_meth_set_ctrl(m, bio_ctrl) || !BIO_meth_set_create(m, bio_create))
        abort(); /* only fails on OOM */
    g_method = m;
}

BIO *pc_tls_sock_bio(struct pc_sock *s)
{
    pthread_once(&g_once, make_method);
    BIO *b = BIO_new(g_method);
    if (!b)
        abort();
    BIO_set_data(b, s);
    return b;
}
