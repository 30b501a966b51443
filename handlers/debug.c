/* handlers/debug.c — routes that exist only with server.debug_routes (test suite). */
#include "handlers/handlers.h"

#include "base/gate.h"
#include "config/config.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

/* Worker: GET /__debug/sleep?ms=N holds a worker for N ms (graceful-shutdown tests). */
void h_debug_sleep(struct pc_req *r, struct pc_ctx *ctx)
{
    (void)ctx;
    const char *s = pc_req_query(r, "ms");
    char *end = NULL;
    errno = 0;
    long ms = s ? strtol(s, &end, 10) : 0;
    if (!s || errno || *end || ms < 0 || ms > 60000) {
        pc_resp_invalid(r, "ms", "ms must be 0..60000");
        return;
    }
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "slept_ms", (double)ms);
    pc_resp_json(r, 200, o);
}

/* Worker: GET /__debug/image-hold?ms=N takes a place of the image gate for N ms, so that tests
 * can fill the gate without racing real decodes. */
void h_debug_image_hold(struct pc_req *r, struct pc_ctx *ctx)
{
    const char *s = pc_req_query(r, "ms");
    char *end = NULL;
    errno = 0;
    long ms = s ? strtol(s, &end, 10) : 0;
    if (!s || errno || *end || ms < 0 || ms > 60000) {
        pc_resp_invalid(r, "ms", "ms must be 0..60000");
        return;
    }
    if (pc_image_gate_enter(ctx->cfg->limit_image_wait_ms)) {
        pc_resp_error(r, 503, "OVERLOADED", "image gate full", NULL);
        return;
    }
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
    pc_image_gate_leave();
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "held_ms", (double)ms);
    pc_resp_json(r, 200, o);
}
