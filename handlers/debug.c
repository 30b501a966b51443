/* handlers/debug.c — routes that exist only with server.debug_routes (test suite). */
#include "handlers/handlers.h"

#include "base/gate.h"
#include "config/config.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

/* ?ms=0..60000 into *ms; otherwise 400 and -1. */
static int ms_param(struct pc_req *r, long *ms)
{
    const char *s = pc_req_query(r, "ms");
    char *end = NULL;
    errno = 0;
    *ms = s ? strtol(s, &end, 10) : 0;
    if (!s || errno || *end || *ms < 0 || *ms > 60000) {
        pc_resp_invalid(r, "ms", "ms must be 0..60000");
        return -1;
    }
    return 0;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

/* Worker: GET /__debug/sleep?ms=N holds a worker for N ms (graceful-shutdown tests). */
void h_debug_sleep(struct pc_req *r, struct pc_ctx *ctx)
{
    (void)ctx;
    long ms;
    if (ms_param(r, &ms))
        return;
    sleep_ms(ms);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "slept_ms", (double)ms);
    pc_resp_json(r, 200, o);
}

/* Worker: GET /__debug/image-hold?ms=N takes a place of the image gate for N ms, so that tests
 * can fill the gate without racing real decodes. */
void h_debug_image_hold(struct pc_req *r, struct pc_ctx *ctx)
{
    long ms;
    if (ms_param(r, &ms))
        return;
    if (pc_image_gate_enter(ctx->cfg->limit_image_wait_ms)) {
        pc_resp_error(r, 503, "OVERLOADED", "image gate full", NULL);
        return;
    }
    sleep_ms(ms);
    pc_image_gate_leave();
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "held_ms", (double)ms);
    pc_resp_json(r, 200, o);
}
