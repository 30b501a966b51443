/* tests/integration/s3server.h — the S3-compatible server of the tests: s3rver on a free
 * loopback port (tools/s3/serve.js, installed by scripts/s3.sh), which checks AWS Signature
 * V4 with the development key pair S3RVER / S3RVER. Its objects are plain files under
 * DIR/data/<bucket>/, so a test can see what was stored. */
#ifndef PC_TESTS_S3SERVER_H
#define PC_TESTS_S3SERVER_H

#include <sys/types.h>

#define H_S3_BUCKET "photos"
#define H_S3_KEY    "S3RVER"

struct h_s3 {
    pid_t pid;
    int port;
    char dir[320];
    char log[400];
    char endpoint[64]; /* http://127.0.0.1:PORT */
};

/* Starts the server in a fresh directory of the work directory and waits until it listens;
 * also exports PORTRAITD_STORAGE_S3_ACCESS_KEY / _SECRET_KEY for the servers started later. */
void h_s3_start(struct h_s3 *s3);
/* Stops it (SIGTERM); returns its exit status. */
int h_s3_stop(struct h_s3 *s3);
/* INI lines of a [storage] section that put portraitd's objects in this server, into buf. */
const char *h_s3_conf(const struct h_s3 *s3, char *buf, size_t len);
/* Number of stored objects whose key starts with prefix (files of the bucket directory). */
int h_s3_objects(const struct h_s3 *s3, const char *prefix);

#endif
