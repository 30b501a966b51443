/* tests/integration/rawtls.h — a TLS client that speaks raw bytes to portraitd, for what
 * libcurl hides: dribbled headers, pipelined requests, Expect: 100-continue, the number of TLS
 * records an answer takes, connections from a chosen loopback address, many idle connections.
 * Blocking sockets with a receive timeout; the server certificate is not verified (loopback). */
#ifndef PC_TESTS_RAWTLS_H
#define PC_TESTS_RAWTLS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ssl_st SSL;

struct rt_conn {
    int fd;
    SSL *ssl;
    int app_records;  /* application-data records received so far */
    char pend[65536]; /* bytes read past the last response */
    size_t npend;
};

struct rt_resp {
    int status;
    char head[8192]; /* status line and headers, NUL-terminated */
    char *body;      /* Content-Length bytes, NUL-terminated (malloc) */
    size_t len;
};

/* Connects to 127.0.0.1:port from src (a loopback address such as "127.0.0.2", or NULL) and
 * completes the TLS handshake. 0, or -1 when the connection or the handshake failed (the
 * server closed it). timeout_ms bounds each later read. */
int rt_open(struct rt_conn *c, int port, const char *src, int timeout_ms);
/* Connects without TLS (plain TCP), for connections that should never finish a handshake. */
int rt_open_tcp(struct rt_conn *c, int port);
/* Sends n bytes (TLS when open with rt_open). 0 or -1. */
int rt_send(struct rt_conn *c, const void *p, size_t n);
int rt_send_str(struct rt_conn *c, const char *s);
/* Reads one response (status line, headers, Content-Length body). 0, or -1 on end of stream,
 * error or timeout. */
int rt_read_response(struct rt_conn *c, struct rt_resp *r);
/* True when the server has closed the connection (end of stream or reset) within timeout_ms;
 * bytes it sends meanwhile are skipped. */
bool rt_closed_by_peer(struct rt_conn *c, int timeout_ms);
/* Header value of a response (case-insensitive) into buf; NULL when absent. */
const char *rt_header(const struct rt_resp *r, const char *name, char *buf, size_t len);
void rt_resp_free(struct rt_resp *r);
void rt_close(struct rt_conn *c);

#endif
