/* server/h1parse.c — http_parser with portraitd's limits and two stops per request. Pure. */
#include "server/h1parse.h"

#include <limits.h>
#include <string.h>
#include <strings.h>

enum { LAST_NONE = 0, LAST_NAME, LAST_VALUE, LAST_URL };

static int fail(struct pc_h1 *h, int status, const char *why)
{
    h->stop = PC_H1_ERROR;
    h->status = status;
    h->why = why;
    return -1;
}

/* Appends a piece the parser reported: a new span, or the continuation of the current one,
 * which must follow it directly (a header folded over lines does not: 400). */
static int span_piece(struct pc_h1 *h, struct pc_h1_span *s, const char *at, size_t n, bool fresh)
{
    size_t off = (size_t)(at - h->base);
    if (off > UINT32_MAX || n > UINT32_MAX)
        return fail(h, 431, "request head too large");
    if (fresh) {
        s->off = (uint32_t)off;
        s->len = (uint32_t)n;
        return 0;
    }
    if ((size_t)s->off + s->len != off)
        return fail(h, 400, "header folded over lines");
    s->len += (uint32_t)n;
    return 0;
}

static int cb_begin(http_parser *p)
{
    struct pc_h1 *h = p->data;
    memset(&h->url, 0, sizeof h->url);
    h->nfields = 0;
    h->last = LAST_NONE;
    h->head_done = false;
    return 0;
}

static int cb_url(http_parser *p, const char *at, size_t n)
{
    struct pc_h1 *h = p->data;
    int rc = span_piece(h, &h->url, at, n, h->last != LAST_URL);
    h->last = LAST_URL;
    return rc;
}

static int cb_field(http_parser *p, const char *at, size_t n)
{
    struct pc_h1 *h = p->data;
    if (h->head_done)
        return 0; /* a chunked body's trailer: not kept (the library bounds its size) */
    if (h->last != LAST_NAME) {
        if (h->nfields == PC_H1_MAX_FIELDS)
            return fail(h, 431, "too many header fields");
        memset(&h->fields[h->nfields], 0, sizeof h->fields[0]);
        h->nfields++;
        h->last = LAST_NAME;
        return span_piece(h, &h->fields[h->nfields - 1].name, at, n, true);
    }
    return span_piece(h, &h->fields[h->nfields - 1].name, at, n, false);
}

static int cb_value(http_parser *p, const char *at, size_t n)
{
    struct pc_h1 *h = p->data;
    if (h->head_done || h->nfields == 0)
        return 0;
    bool fresh = h->last != LAST_VALUE;
    h->last = LAST_VALUE;
    return span_piece(h, &h->fields[h->nfields - 1].value, at, n, fresh);
}

static int cb_head(http_parser *p)
{
    struct pc_h1 *h = p->data;
    h->head_done = true;
    h->stop = PC_H1_HEAD;
    http_parser_pause(p, 1);
    return 0;
}

static int cb_body(http_parser *p, const char *at, size_t n)
{
    struct pc_h1 *h = p->data;
    if (h->on_body && h->on_body(h->arg, at, n) != 0)
        return fail(h, 413, "body over the route's limit");
    return 0;
}

static int cb_done(http_parser *p)
{
    struct pc_h1 *h = p->data;
    h->done = true;
    h->stop = PC_H1_DONE;
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings g_settings = {
    .on_message_begin = cb_begin,
    .on_url = cb_url,
    .on_header_field = cb_field,
    .on_header_value = cb_value,
    .on_headers_complete = cb_head,
    .on_body = cb_body,
    .on_message_complete = cb_done,
};

void pc_h1_global_init(size_t max_head)
{
    /* Ours counts first (pc_h1_feed never feeds more head bytes than max_head); the
     * library's own counter, which also counts trailers, only needs to stay out of the way. */
    size_t lib = max_head * 2 + 4096;
    http_parser_set_max_header_size(lib > UINT32_MAX ? UINT32_MAX : (uint32_t)lib);
}

void pc_h1_init(struct pc_h1 *h, size_t max_head,
                int (*on_body)(void *arg, const char *p, size_t n), void *arg)
{
    memset(h, 0, sizeof *h);
    http_parser_init(&h->p, HTTP_REQUEST);
    h->p.data = h;
    h->max_head = max_head;
    h->on_body = on_body;
    h->arg = arg;
}

void pc_h1_next(struct pc_h1 *h)
{
    h->head_bytes = 0;
    h->head_done = false;
    h->done = false;
    h->stop = PC_H1_MORE;
    h->nfields = 0;
    memset(&h->url, 0, sizeof h->url);
}

size_t pc_h1_feed(struct pc_h1 *h, const char *base, size_t off, size_t len, enum pc_h1_stop *stop)
{
    if (h->stop == PC_H1_ERROR || h->done) {
        *stop = h->stop == PC_H1_ERROR ? PC_H1_ERROR : PC_H1_DONE;
        return 0;
    }
    if (HTTP_PARSER_ERRNO(&h->p) == HPE_PAUSED)
        http_parser_pause(&h->p, 0);
    h->base = base;
    h->stop = PC_H1_MORE;
    size_t n = len;
    bool in_head = !h->head_done;
    if (in_head) {
        size_t room = h->head_bytes < h->max_head ? h->max_head - h->head_bytes : 0;
        if (n > room)
            n = room;
    }
    size_t used = n ? http_parser_execute(&h->p, &g_settings, base + off, n) : 0;
    if (in_head && !h->head_done)
        h->head_bytes += used;
    enum http_errno e = HTTP_PARSER_ERRNO(&h->p);
    if (h->stop == PC_H1_ERROR) {
        /* a callback refused (status and why are set) */
    } else if (e == HPE_PAUSED) {
        /* stop is PC_H1_HEAD or PC_H1_DONE */
    } else if (e != HPE_OK) {
        h->stop = PC_H1_ERROR;
        h->status = e == HPE_HEADER_OVERFLOW ? 431 : 400;
        h->why = http_errno_description(e);
    } else if (in_head && !h->head_done && h->head_bytes >= h->max_head) {
        h->stop = PC_H1_ERROR;
        h->status = 431;
        h->why = "request head too large";
    } else if (used < n && !h->done) {
        h->stop = PC_H1_ERROR; /* the parser stopped without saying why */
        h->status = 400;
        h->why = "malformed request";
    }
    h->base = NULL;
    *stop = (enum pc_h1_stop)h->stop;
    return used;
}

const char *pc_h1_method(const struct pc_h1 *h)
{
    return http_method_str((enum http_method)h->p.method);
}

bool pc_h1_keep_alive(const struct pc_h1 *h)
{
    return http_should_keep_alive(&h->p) != 0 && !h->p.upgrade;
}

int64_t pc_h1_content_length(const struct pc_h1 *h)
{
    if ((h->p.flags & F_CHUNKED) || h->p.content_length == ULLONG_MAX ||
        h->p.content_length > INT64_MAX)
        return -1;
    return (int64_t)h->p.content_length;
}

bool pc_h1_has_body(const struct pc_h1 *h)
{
    return (h->p.flags & F_CHUNKED) ||
           (h->p.content_length != ULLONG_MAX && h->p.content_length > 0);
}

int pc_h1_version_minor(const struct pc_h1 *h)
{
    return h->p.http_major == 1 ? h->p.http_minor : 0;
}

bool pc_h1_upgrade(const struct pc_h1 *h)
{
    return h->p.upgrade != 0;
}

bool pc_h1_field(const struct pc_h1 *h, const char *base, const char *name,
                 struct pc_h1_span *value)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < h->nfields; i++) {
        const struct pc_h1_field *f = &h->fields[i];
        if (f->name.len == nl && strncasecmp(base + f->name.off, name, nl) == 0) {
            *value = f->value;
            return true;
        }
    }
    return false;
}

bool pc_h1_target(const struct pc_h1 *h, const char *base, struct pc_h1_span *path,
                  struct pc_h1_span *query, bool *has_query)
{
    const char *u = base + h->url.off;
    size_t n = h->url.len;
    memset(path, 0, sizeof *path);
    memset(query, 0, sizeof *query);
    *has_query = false;
    if (n == 0)
        return false;
    if (u[0] == '/' || (n == 1 && u[0] == '*')) {
        size_t end = n, q = n;
        const char *hash = memchr(u, '#', n);
        if (hash)
            end = (size_t)(hash - u);
        const char *qm = memchr(u, '?', end);
        if (qm)
            q = (size_t)(qm - u);
        path->off = h->url.off;
        path->len = (uint32_t)(qm ? q : end);
        if (qm) {
            *has_query = true;
            query->off = h->url.off + (uint32_t)q + 1;
            query->len = (uint32_t)(end - q - 1);
        }
        return true;
    }
    struct http_parser_url pu;
    http_parser_url_init(&pu);
    if (http_parser_parse_url(u, n, h->p.method == HTTP_CONNECT, &pu) != 0)
        return false;
    if (pu.field_set & (1 << UF_PATH)) {
        path->off = h->url.off + pu.field_data[UF_PATH].off;
        path->len = pu.field_data[UF_PATH].len;
    }
    if (pu.field_set & (1 << UF_QUERY)) {
        *has_query = true;
        query->off = h->url.off + pu.field_data[UF_QUERY].off;
        query->len = pu.field_data[UF_QUERY].len;
    }
    return true;
}
