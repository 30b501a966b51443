/* server/tls.h — the server's TLS context (OpenSSL 3, TLS 1.2 minimum). Main thread. */
#ifndef PC_SERVER_TLS_H
#define PC_SERVER_TLS_H

#include <stddef.h>

typedef struct ssl_ctx_st SSL_CTX;

/* Loads the certificate chain and key; NULL with a message in err on failure.
 * The context is shared read-only by every loop thread; free with SSL_CTX_free. */
SSL_CTX *pc_tls_server_ctx(const char *cert_file, const char *key_file, char *err, size_t errlen);

#endif
