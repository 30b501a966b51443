/* handlers/params.c — pagination parameters shared by list handlers. */
#include "handlers/handlers.h"

#include "base/crypto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pc_h_limit(struct pc_req *r, int *limit)
{
    const char *s = pc_req_query(r, "limit");
    *limit = 50;
    if (!s)
        return 0;
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 1 || v > 500) {
        pc_resp_invalid(r, "limit", "limit 应为 1 到 500 之间的整数");
        return -1;
    }
    *limit = (int)v;
    return 0;
}

/* Cursors are base64url("c1:<id>"): opaque to clients, cheap to check. */
void pc_h_cursor_make(long long id, char out[32])
{
    char raw[24];
    int n = snprintf(raw, sizeof raw, "c1:%lld", id);
    pc_b64url(raw, (size_t)n, out);
}

int pc_h_cursor_id(struct pc_req *r, long long *id)
{
    const char *c = pc_req_query(r, "cursor");
    *id = 0;
    if (!c || !c[0])
        return 0;
    char raw[32];
    size_t n = 0;
    char *end = NULL;
    if (pc_b64url_decode(c, strlen(c), raw, sizeof raw - 1, &n) == 0) {
        raw[n] = '\0';
        errno = 0;
        long long v = strncmp(raw, "c1:", 3) == 0 ? strtoll(raw + 3, &end, 10) : 0;
        if (!errno && end && end != raw + 3 && *end == '\0' && v > 0) {
            *id = v;
            return 0;
        }
    }
    pc_resp_invalid(r, "cursor", "cursor 无效");
    return -1;
}
