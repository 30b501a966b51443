/* fuzz_h1parse.c — bytes into the HTTP/1.1 request parser (server/h1parse.h) the way a
 * connection feeds it (the first byte picks the size of each read), and each parsed head into
 * the request record (server/req.c: header copies, query, X-Forwarded-For walk behind a
 * trusted proxy). Checks that every span stays inside the bytes given. */
#include "server/addr.h"
#include "server/h1parse.h"
#include "server/req_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_HEAD 4096

static size_t g_body;
static size_t g_limit;

static int on_body(void *arg, const char *p, size_t n)
{
    (void)arg;
    (void)p;
    g_body += n;
    return g_body > g_limit;
}

static void check_span(struct pc_h1_span s, size_t have)
{
    if ((size_t)s.off + s.len > have)
        abort();
}

static void use_head(struct pc_h1 *h, const char *buf, size_t have)
{
    static struct pc_cidr_list trusted, allow;
    static int init;
    if (!init) {
        char err[64];
        pc_cidr_list_parse("127.0.0.0/8, ::1", &trusted, err, sizeof err);
        pc_cidr_list_parse("10.0.0.0/8", &allow, err, sizeof err);
        init = 1;
    }
    check_span(h->url, have);
    for (size_t i = 0; i < h->nfields; i++) {
        check_span(h->fields[i].name, have);
        check_span(h->fields[i].value, have);
    }
    struct pc_req r;
    pc__req_init(&r, NULL, NULL);
    struct pc_addr peer;
    pc_addr_parse("127.0.0.1", 9, &peer);
    pc__req_begin(&r, h, buf, &peer, "127.0.0.1", &trusted, &allow, "0000000000000000");
    if (!pc_req_path(&r) || !pc_req_client_ip(&r)[0] || !pc_req_id(&r)[0])
        abort();
    (void)pc_req_header(&r, "Host");
    (void)pc_req_query(&r, "cursor");
    (void)pc_req_metrics_allowed(&r);
    pc__req_destroy(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) {
        pc_h1_global_init(MAX_HEAD);
        init = 1;
    }
    if (size < 2)
        return 0;
    size_t step = (size_t)(data[0] % 97) + 1;
    g_limit = (data[1] & 1) ? 64 : 1 << 20;
    g_body = 0;
    const char *text = (const char *)data + 2;
    size_t len = size - 2;
    struct pc_h1 h;
    pc_h1_init(&h, MAX_HEAD, on_body, NULL);
    char *buf = malloc(len + 1);
    size_t have = 0, off = 0, given = 0;
    for (int requests = 0; requests < 64;) {
        if (off == have) {
            if (given == len)
                break;
            size_t n = len - given < step ? len - given : step;
            memcpy(buf + have, text + given, n);
            have += n;
            given += n;
        }
        enum pc_h1_stop st;
        size_t used = pc_h1_feed(&h, buf, off, have - off, &st);
        if (used > have - off)
            abort();
        off += used;
        if (st == PC_H1_HEAD) {
            use_head(&h, buf, have);
        } else if (st == PC_H1_DONE) {
            requests++;
            memmove(buf, buf + off, have - off);
            have -= off;
            off = 0;
            if (pc_h1_upgrade(&h))
                break;
            pc_h1_next(&h);
        } else if (st == PC_H1_ERROR) {
            if (h.status != 400 && h.status != 413 && h.status != 431)
                abort();
            break;
        } else if (h.head_done) {
            memmove(buf, buf + off, have - off);
            have -= off;
            off = 0;
        } else if (used == 0 && off < have) {
            abort(); /* no progress without a stop */
        }
    }
    free(buf);
    return 0;
}
