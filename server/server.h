/* server/server.h — the portraitd HTTP(S) server process.
 *
 * K event-loop threads (server.threads), each with its own event_base and evhttp,
 * accept from the same listening sockets. Handlers run on the loop (INLINE routes)
 * or on the worker pool (server.workers threads, one database connection each);
 * finished requests come back to their loop through a completion queue and are
 * answered there. SIGTERM/SIGINT stop accepting, let in-flight requests finish
 * (up to server.shutdown_grace_ms) and exit. */
#ifndef PC_SERVER_SERVER_H
#define PC_SERVER_SERVER_H

#include "server/req.h"

#include <stddef.h>
#include <stdint.h>

struct pc_buf;
struct pc_config;
struct pc_server;

/* Builds the server (TLS context, sockets bound) for cfg, which it borrows.
 * NULL with a message in err when it cannot. Main thread. */
struct pc_server *pc_server_new(const struct pc_config *cfg, const struct pc_route *routes,
                                size_t nroutes, char *err, size_t errlen);
/* Blocks SIGINT and SIGTERM in the calling thread (threads started afterwards inherit it, so
 * only pc_server_run's sigwait takes them) and ignores SIGPIPE. Call before starting any
 * thread of one's own. Main thread. */
void pc_server_block_signals(void);
/* Serves until SIGTERM/SIGINT, then drains and returns 0. Main thread. */
int pc_server_run(struct pc_server *srv);
void pc_server_free(struct pc_server *srv);

/* The context (core/ctx.h) every handler starts from: the WeChat Pay client, the instance
 * name and the jobs' wake-up are copied from base (cfg stays the server's); each worker adds
 * its own database connection, inline handlers get none. Before pc_server_run. Main thread. */
void pc_server_set_context(struct pc_server *srv, const struct pc_ctx *base);

/* For handlers (any thread). */
void pc_server_render_metrics(struct pc_server *srv, struct pc_buf *out);
int64_t pc_server_started_ms(const struct pc_server *srv);

#endif
