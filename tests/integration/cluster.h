/* tests/integration/cluster.h — what the multi-instance tests need beyond harness.h: distinct
 * portraits (so that no student's photo is another's duplicate) and haproxy in front of
 * several portraitd instances, with the configuration of etc/haproxy.cfg.example's shape. */
#ifndef PC_TESTS_CLUSTER_H
#define PC_TESTS_CLUSTER_H

#include <stddef.h>
#include <sys/types.h>

struct h_srv;
struct h_resp;

/* n JPEG portraits (1080×1440) that pass every photo rule and whose pHashes are pairwise
 * further apart than the duplicate rule's limit; out[i]/len[i] are malloc'd (caller frees). */
void h_distinct_portraits(size_t n, unsigned char **out, size_t *len);

/* PUT /api/v1/orders/{no}/photo as the mini-program does (multipart, the picture as "file")
 * with the student's token; returns the libcurl result (0 = answered) with the reply in r
 * (freed by the caller, also on failure). */
int h_put_photo(struct h_srv *s, const char *tok, const char *no, const void *img, size_t len,
                struct h_resp *r);

/* A successful WeChat Pay transaction (cJSON, caller deletes) for order no of the student
 * "o_" + no: app wx8f3c2a1b0d4e5f60, merchant 1900000109, 2500 fen, transaction tx_id. */
struct cJSON *h_transaction_json(const char *no, const char *tx_id);

struct h_balancer {
    pid_t pid;
    int port;
    char dir[320];
    char cfg[400];
    char log[400];
};

/* Starts haproxy on loopback port (0: a free one) in front of n instances
 * (scripts/haproxy-conf.sh: TLS ended with the test certificate and started again to the
 * instances, GET /readyz checks) and waits until it answers /readyz. */
void h_balancer_start(struct h_balancer *b, struct h_srv *const *srvs, size_t n, int port);
/* Stops haproxy. */
void h_balancer_stop(struct h_balancer *b);
/* A stand-in server record for h_http & co. that sends to the balancer. */
void h_balancer_srv(const struct h_balancer *b, struct h_srv *out);

#endif
