/* server/tls.h — the server's TLS context (OpenSSL 3, TLS 1.2 minimum) and the socket BIO
 * the connections use. */
#ifndef PC_SERVER_TLS_H
#define PC_SERVER_TLS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ssl_ctx_st SSL_CTX;
typedef struct bio_st BIO;

/* Loads the certificate chain and key; NULL with a message in err on failure.
 * The context is shared read-only by every loop thread; free with SSL_CTX_free. Main thread. */
SSL_CTX *pc_tls_server_ctx(const char *cert_file, const char *key_file, char *err, size_t errlen);

/* Settings for the connections of server/conn.c (partial writes, read-ahead). Not for
 * bufferevent_openssl users (the sandbox): libevent does not drain read-ahead data. */
void pc_tls_ctx_for_conns(SSL_CTX *ctx);

/* What a connection knows about its socket between two edge-triggered events: readable is
 * cleared when a read returned less than asked (the socket was drained at that moment, so
 * the next bytes bring a new edge), writable when a write would block. */
struct pc_sock {
    int fd;
    bool readable;
    bool writable;
};

/* A BIO over s->fd (non-blocking) that keeps s->readable and s->writable; it never closes
 * the descriptor. Loop thread. */
BIO *pc_tls_sock_bio(struct pc_sock *s);
/* recv/send on s->fd with the same bookkeeping, for plain HTTP: bytes moved, 0 when the call
 * would block, -1 on end of stream (recv) or error. */
long pc_sock_recv(struct pc_sock *s, void *buf, size_t n);
long pc_sock_send(struct pc_sock *s, const void *buf, size_t n);

#endif
