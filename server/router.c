/* server/router.c — linear route matching with {name} captures. Pure; any thread. */
#include "server/router.h"

#include "base/alloc.h"
#include "base/err.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes s[0..n) into a new string; NULL on bad escapes, '/' or NUL. */
static char *decode_segment(const char *s, size_t n)
{
    char *out = pc_xmalloc(n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= n) {
                free(out);
                return NULL;
            }
            int a = hexval(s[i + 1]), b = hexval(s[i + 2]);
            if (a < 0 || b < 0) {
                free(out);
                return NULL;
            }
            c = (char)(a * 16 + b);
            i += 2;
            if (c == '/' || c == '\0') {
                free(out);
                return NULL;
            }
        }
        out[o++] = c;
    }
    out[o] = '\0';
    return out;
}

void pc_route_match_clear(struct pc_route_match *m)
{
    for (size_t i = 0; i < m->ncap; i++) {
        free(m->names[i]);
        free(m->values[i]);
        m->names[i] = m->values[i] = NULL;
    }
    m->ncap = 0;
}

/* Matches path against pattern; on success captures go into m. */
static bool match_one(const char *pattern, const char *path, struct pc_route_match *m)
{
    const char *p = pattern, *s = path;
    pc_route_match_clear(m);
    while (*p && *s) {
        if (*p != '/' || *s != '/')
            goto fail;
        p++;
        s++;
        size_t pl = strcspn(p, "/"), sl = strcspn(s, "/");
        if (pl >= 2 && p[0] == '{' && p[pl - 1] == '}') {
            if (sl == 0 || m->ncap == PC_ROUTER_MAX_CAPTURES)
                goto fail;
            char *v = decode_segment(s, sl);
            if (!v)
                goto fail;
            m->names[m->ncap] = pc_xstrndup(p + 1, pl - 2);
            m->values[m->ncap] = v;
            m->ncap++;
        } else if (pl != sl || memcmp(p, s, pl) != 0) {
            goto fail;
        }
        p += pl;
        s += sl;
    }
    if (*p == '\0' && *s == '\0')
        return true;
fail:
    pc_route_match_clear(m);
    return false;
}

int pc_router_match(const struct pc_route *routes, size_t n, const char *method, const char *path,
                    int debug, struct pc_route_match *m)
{
    memset(m, 0, sizeof *m);
    m->index = -1;
    bool path_seen = false;
    for (size_t i = 0; i < n; i++) {
        if ((routes[i].flags & PC_ROUTE_DEBUG) && !debug)
            continue;
        if (!match_one(routes[i].pattern, path, m))
            continue;
        /* HEAD is GET without the body (RFC 9110 §9.3.2): the connection drops the body. */
        if (strcmp(routes[i].method, method) == 0 ||
            (strcmp(method, "HEAD") == 0 && strcmp(routes[i].method, "GET") == 0)) {
            m->index = (int)i;
            return 0;
        }
        pc_route_match_clear(m);
        size_t al = strlen(m->allow);
        if (!strstr(m->allow, routes[i].method))
            snprintf(m->allow + al, sizeof m->allow - al, "%s%s", al ? ", " : "", routes[i].method);
        al = strlen(m->allow);
        if (strcmp(routes[i].method, "GET") == 0 && !strstr(m->allow, "HEAD"))
            snprintf(m->allow + al, sizeof m->allow - al, ", HEAD");
        path_seen = true;
    }
    return path_seen ? PC_ECONFLICT : PC_ENOTFOUND;
}
