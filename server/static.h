/* server/static.h — static files of the browser pages (the staff console and the students'
 * PC page, built into server.www_dir by `make build`): content types, caching and the
 * security headers every page carries (docs/console.md).
 *
 * Worker or loop thread (one open() and fstat(); the file is sent by the loop). */
#ifndef PC_SERVER_STATIC_H
#define PC_SERVER_STATIC_H

#include "server/req.h"

enum pc_static_cache {
    PC_STATIC_REVALIDATE, /* HTML: "no-cache" with an ETag, so a new build shows at once */
    PC_STATIC_IMMUTABLE   /* content-hashed assets: cached for a year */
};

/* The Content-Security-Policy of the pages: scripts, styles and connections from this origin
 * only (no inline script, no eval), images also from blob: and data: (photos are fetched with
 * the bearer token and shown as object URLs), no framing. */
extern const char pc_static_csp[];

/* Content type for a file name by its extension; "application/octet-stream" if unknown. */
const char *pc_static_content_type(const char *name);

/* 1 if rel is a safe relative path: segments of [A-Za-z0-9._-] separated by '/', none empty,
 * none starting with '.', at most 255 bytes. */
int pc_static_path_ok(const char *rel);

/* Answers r with the file root/rel: 200 with the file (or 304 when If-None-Match matches its
 * ETag), content type, caching per cache and the security headers; 404 NOT_FOUND when root is
 * empty, rel is not safe, or it is not a regular file. */
void pc_static_serve(struct pc_req *r, const char *root, const char *rel,
                     enum pc_static_cache cache);

#endif
