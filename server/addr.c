/* server/addr.c — CIDR lists and the X-Forwarded-For walk. Pure; any thread. */
#include "server/addr.h"

#include "base/alloc.h"
#include "base/err.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static const uint8_t g_v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static bool is_v4(const struct pc_addr *a)
{
    return memcmp(a->b, g_v4mapped, 12) == 0;
}

/* One address without a prefix; also "[v6]", "[v6]:port" and "a.b.c.d:port" as some proxies
 * write them. */
static bool parse_host(const char *s, size_t len, bool ports, struct pc_addr *out)
{
    char tmp[64];
    if (len == 0 || len >= sizeof tmp)
        return false;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    char *h = tmp;
    if (!ports && (h[0] == '[' || (strchr(h, ':') && strchr(h, ':') == strrchr(h, ':'))))
        return false; /* a bracket or a single colon: a port */
    if (h[0] == '[') {
        char *close_br = strchr(h, ']');
        if (!close_br || (close_br[1] && close_br[1] != ':'))
            return false;
        *close_br = '\0';
        h++;
    } else {
        char *colon = strchr(h, ':');
        if (colon && !strchr(colon + 1, ':') && strchr(h, '.'))
            *colon = '\0'; /* a.b.c.d:port */
    }
    struct in_addr v4;
    if (inet_pton(AF_INET, h, &v4) == 1) {
        memcpy(out->b, g_v4mapped, 12);
        memcpy(out->b + 12, &v4, 4);
        return true;
    }
    return inet_pton(AF_INET6, h, out->b) == 1;
}

bool pc_addr_parse(const char *s, size_t len, struct pc_addr *out)
{
    return parse_host(s, len, false, out);
}

void pc_addr_from_sockaddr(const struct sockaddr *sa, struct pc_addr *out)
{
    memset(out, 0, sizeof *out);
    if (sa->sa_family == AF_INET) {
        memcpy(out->b, g_v4mapped, 12);
        memcpy(out->b + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        memcpy(out->b, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
    }
}

void pc_addr_format(const struct pc_addr *a, char out[PC_ADDR_TEXT])
{
    if (is_v4(a)) {
        if (!inet_ntop(AF_INET, a->b + 12, out, PC_ADDR_TEXT))
            out[0] = '\0';
    } else if (!inet_ntop(AF_INET6, a->b, out, PC_ADDR_TEXT)) {
        out[0] = '\0';
    }
}

bool pc_addr_is_loopback(const struct pc_addr *a)
{
    static const uint8_t v6lo[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return (is_v4(a) && a->b[12] == 127) || memcmp(a->b, v6lo, 16) == 0;
}

static bool in_cidr(const struct pc_cidr *c, const struct pc_addr *a)
{
    int full = c->bits / 8, rest = c->bits % 8;
    if (memcmp(c->net.b, a->b, (size_t)full) != 0)
        return false;
    if (!rest)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (c->net.b[full] & mask) == (a->b[full] & mask);
}

static bool parse_cidr(const char *s, size_t len, struct pc_cidr *out)
{
    const char *slash = memchr(s, '/', len);
    size_t hl = slash ? (size_t)(slash - s) : len;
    if (!parse_host(s, hl, false, &out->net))
        return false;
    int max = is_v4(&out->net) ? 32 : 128;
    int bits = max;
    if (slash) {
        const char *p = slash + 1, *end = s + len;
        if (p == end || end - p > 3)
            return false;
        bits = 0;
        for (; p < end; p++) {
            if (*p < '0' || *p > '9')
                return false;
            bits = bits * 10 + (*p - '0');
        }
        if (bits > max)
            return false;
    }
    out->bits = is_v4(&out->net) ? 96 + bits : bits;
    /* Clear the host bits so that "10.1.2.3/8" means 10.0.0.0/8. */
    for (int i = out->bits; i < 128; i++)
        out->net.b[i / 8] &= (uint8_t) ~(0x80 >> (i % 8));
    return true;
}

int pc_cidr_list_parse(const char *text, struct pc_cidr_list *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const char *p = text ? text : "";
    size_t cap = 0;
    while (*p) {
        p += strspn(p, ", \t");
        size_t n = strcspn(p, ", \t");
        if (!n)
            break;
        struct pc_cidr c;
        if (!parse_cidr(p, n, &c)) {
            snprintf(err, errlen, "'%.*s' is not an address or CIDR block", (int)(n > 64 ? 64 : n),
                     p);
            pc_cidr_list_free(out);
            return PC_EINVAL;
        }
        if (out->n == cap) {
            cap = cap ? cap * 2 : 4;
            out->v = pc_xrealloc(out->v, cap * sizeof *out->v);
        }
        out->v[out->n++] = c;
        p += n;
    }
    return 0;
}

void pc_cidr_list_free(struct pc_cidr_list *l)
{
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

bool pc_cidr_list_has(const struct pc_cidr_list *l, const struct pc_addr *a)
{
    for (size_t i = 0; i < l->n; i++)
        if (in_cidr(&l->v[i], a))
            return true;
    return false;
}

void pc_addr_client(const struct pc_addr *peer, const struct pc_cidr_list *trusted,
                    const char *const *xff, const size_t *xff_len, size_t n, struct pc_addr *out)
{
    *out = *peer;
    for (size_t line = n; line-- > 0;) {
        const char *s = xff[line];
        size_t end = xff_len[line];
        for (;;) {
            if (!pc_cidr_list_has(trusted, out))
                return;
            size_t start = end;
            while (start > 0 && s[start - 1] != ',')
                start--;
            size_t a = start, b = end;
            while (a < b && (s[a] == ' ' || s[a] == '\t'))
                a++;
            while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t'))
                b--;
            struct pc_addr next;
            if (b > a) {
                if (!parse_host(s + a, b - a, true, &next))
                    return; /* not an address: keep the last hop we could vouch for */
                *out = next;
            }
            if (start == 0)
                break;
            end = start - 1;
        }
    }
}
