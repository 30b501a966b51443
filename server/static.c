/* server/static.c — static files of the browser pages. See static.h. */
#include "server/static.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

const char pc_static_csp[] =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'";

static const struct {
    const char *ext;
    const char *type;
} g_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".woff", "font/woff"},
    {".ttf", "font/ttf"},
    {".txt", "text/plain; charset=utf-8"},
    {".map", "application/json"},
};

const char *pc_static_content_type(const char *name)
{
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof g_types / sizeof g_types[0]; i++)
        if (!strcasecmp(dot, g_types[i].ext))
            return g_types[i].type;
    return "application/octet-stream";
}

int pc_static_path_ok(const char *rel)
{
    size_t n = rel ? strlen(rel) : 0;
    if (n == 0 || n > 255)
        return 0;
    int seg_start = 1;
    for (size_t i = 0; i < n; i++) {
        char c = rel[i];
        if (c == '/') {
            if (seg_start)
                return 0; /* empty segment or leading '/' */
            seg_start = 1;
            continue;
        }
        if (seg_start && c == '.')
            return 0; /* ".", "..", hidden files */
        seg_start = 0;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return !seg_start;
}

static void not_found(struct pc_req *r)
{
    pc_resp_error(r, 404, "NOT_FOUND", "请求的资源不存在", NULL);
}

void pc_static_serve(struct pc_req *r, const char *root, const char *rel,
                     enum pc_static_cache cache)
{
    char path[4096];
    if (!root || !root[0] || !pc_static_path_ok(rel) ||
        (size_t)snprintf(path, sizeof path, "%s/%s", root, rel) >= sizeof path) {
        not_found(r);
        return;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        not_found(r);
        return;
    }
    char etag[64];
    snprintf(etag, sizeof etag, "\"%llx-%llx\"", (unsigned long long)st.st_size,
             (unsigned long long)st.st_mtim.tv_sec * 1000000000ull +
                 (unsigned long long)st.st_mtim.tv_nsec);
    pc_resp_header(r, "Cache-Control",
                   cache == PC_STATIC_IMMUTABLE ? "public, max-age=31536000, immutable"
                                                : "no-cache");
    pc_resp_header(r, "ETag", etag);
    pc_resp_header(r, "Content-Security-Policy", pc_static_csp);
    pc_resp_header(r, "X-Frame-Options", "DENY");
    pc_resp_header(r, "Referrer-Policy", "no-referrer");
    pc_resp_header(r, "Cross-Origin-Opener-Policy", "same-origin");
    const char *inm = pc_req_header(r, "If-None-Match");
    if (inm && strstr(inm, etag)) {
        close(fd);
        pc_resp_raw(r, 304, pc_static_content_type(rel), "", 0);
        return;
    }
    pc_resp_file(r, 200, pc_static_content_type(rel), fd, (size_t)st.st_size);
}
