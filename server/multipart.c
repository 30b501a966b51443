/* server/multipart.c — multipart/form-data over a body in memory (RFC 7578, RFC 2046 §5.1.1).
 *
 * One forward pass: find the first delimiter, then for each part its header block (bounded
 * by PC_MP_HEADERS_MAX) and the next "CRLF--boundary". Every index stays below len; the
 * boundary search is glibc's memmem (two-way, linear time on any input). Pure; any thread. */
#define _GNU_SOURCE /* memmem */
#include "server/multipart.h"

#include "base/alloc.h"
#include "base/err.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mp_ctx {
    const char *body;
    size_t len;
    char delim[4 + PC_MP_BOUNDARY_MAX]; /* "\r\n--" boundary */
    size_t dlen;
    char *err;
    size_t errlen;
};

/* A parameter value: the bytes between the quotes (escapes still in) or the bare token. */
struct mp_val {
    const char *p;
    size_t n;    /* raw length */
    size_t nesc; /* backslash escapes in p: the unescaped length is n - nesc */
};

/* Writes a reason into the caller's err (when given) and returns code. */
static int bad(struct mp_ctx *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int bad(struct mp_ctx *c, int code, const char *fmt, ...)
{
    if (c->err && c->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err, c->errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

static bool is_alnum(unsigned char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

/* RFC 7230 tchar: header and parameter names. */
static bool is_tchar(unsigned char ch)
{
    return is_alnum(ch) || (ch != 0 && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/* Control characters other than HTAB (CR, LF and NUL included). */
static bool is_ctl(unsigned char ch)
{
    return (ch < 0x20 && ch != '\t') || ch == 0x7f;
}

/* RFC 2046 bchars. */
static bool is_bchar(unsigned char ch)
{
    return is_alnum(ch) || (ch != 0 && strchr("'()+_,-./:=? ", ch) != NULL);
}

static bool is_ws(char ch)
{
    return ch == ' ' || ch == '\t';
}

/* ASCII case-insensitive: s[0..n) equals the lower-case literal lit. */
static bool ieq(const char *s, size_t n, const char *lit)
{
    if (n != strlen(lit))
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        if (ch != lit[i])
            return false;
    }
    return true;
}

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && is_ws(*p))
        p++;
    return p;
}

/* Copies s[0..n) without its backslash escapes into out (NULL: only counts). Returns the
 * unescaped length. s never ends in a lone backslash (next_param checked it). */
static size_t unescape(const char *s, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\')
            i++;
        if (out)
            out[o] = s[i];
        o++;
    }
    return o;
}

/* Reads the next `; key=value` of a parameter list in [*pp, end). Empty parameters (";;",
 * a trailing ";") are skipped. Values are a quoted-string (escapes kept in v, counted in
 * v->nesc) or a non-empty run without whitespace, ';', '"', '\\' or controls — so a value
 * holds a backslash only if it was quoted and escaped. Returns 1 with key and v, 0 at the
 * end, PC_EINVAL on bad syntax. */
static int next_param(const char **pp, const char *end, const char **key, size_t *keylen,
                      struct mp_val *v)
{
    const char *p = *pp;
    for (;;) {
        p = skip_ws(p, end);
        if (p == end) {
            *pp = p;
            return 0;
        }
        if (*p != ';')
            return PC_EINVAL;
        p = skip_ws(p + 1, end);
        if (p < end && *p != ';')
            break;
    }
    const char *k = p;
    while (p < end && is_tchar((unsigned char)*p))
        p++;
    if (p == k)
        return PC_EINVAL;
    *key = k;
    *keylen = (size_t)(p - k);
    p = skip_ws(p, end);
    if (p == end || *p != '=')
        return PC_EINVAL;
    p = skip_ws(p + 1, end);
    v->nesc = 0;
    if (p < end && *p == '"') {
        v->p = ++p;
        for (;;) {
            if (p == end)
                return PC_EINVAL; /* unterminated quoted-string */
            unsigned char ch = (unsigned char)*p;
            if (ch == '"')
                break;
            if (ch == '\\') {
                if (++p == end)
                    return PC_EINVAL;
                ch = (unsigned char)*p;
                v->nesc++;
            }
            if (is_ctl(ch))
                return PC_EINVAL;
            p++;
        }
        v->n = (size_t)(p - v->p);
        p++; /* the closing quote */
    } else {
        v->p = p;
        while (p < end && *p != ';' && !is_ws(*p)) {
            if (is_ctl((unsigned char)*p) || *p == '"' || *p == '\\')
                return PC_EINVAL;
            p++;
        }
        v->n = (size_t)(p - v->p);
        if (v->n == 0)
            return PC_EINVAL;
    }
    *pp = p;
    return 1;
}

/* Checks that content_type is multipart/form-data and stores "\r\n--" boundary in c->delim. */
static int parse_content_type(struct mp_ctx *c, const char *ct)
{
    static const char type[] = "multipart/form-data";
    if (!ct)
        return bad(c, PC_EINVAL, "no Content-Type");
    const char *end = ct + strlen(ct), *p = skip_ws(ct, end), *key;
    size_t keylen, tl = sizeof type - 1;
    struct mp_val v;
    if ((size_t)(end - p) < tl || !ieq(p, tl, type))
        return bad(c, PC_EINVAL, "Content-Type is not multipart/form-data");
    p += tl;
    if (p < end && *p != ';' && !is_ws(*p))
        return bad(c, PC_EINVAL, "Content-Type is not multipart/form-data");
    bool found = false;
    int rc;
    while ((rc = next_param(&p, end, &key, &keylen, &v)) == 1) {
        if (!ieq(key, keylen, "boundary"))
            continue;
        if (found)
            return bad(c, PC_EINVAL, "Content-Type has two boundary parameters");
        found = true;
        size_t n = v.n - v.nesc;
        if (n == 0 || n > PC_MP_BOUNDARY_MAX)
            return bad(c, PC_EINVAL, "boundary must be 1 to %d characters", PC_MP_BOUNDARY_MAX);
        unescape(v.p, v.n, c->delim + 4);
        for (size_t i = 0; i < n; i++)
            if (!is_bchar((unsigned char)c->delim[4 + i]))
                return bad(c, PC_EINVAL, "boundary has a character outside RFC 2046 bchars");
        if (c->delim[4 + n - 1] == ' ')
            return bad(c, PC_EINVAL, "boundary ends with a space");
        memcpy(c->delim, "\r\n--", 4);
        c->dlen = 4 + n;
    }
    if (rc < 0)
        return bad(c, PC_EINVAL, "malformed Content-Type parameters");
    if (!found)
        return bad(c, PC_EINVAL, "Content-Type has no boundary");
    return 0;
}

/* Classifies what follows a "--boundary" that ends at k. Returns 1 for a delimiter line
 * (transport padding, CRLF; *close false) or a close delimiter ("--", padding, then CRLF or
 * the end of the body; *close true), with *next the first byte after it; 0 when another
 * byte follows the boundary text (a longer line: still part data); PC_EINVAL when the line
 * is malformed or cut off. */
static int delim_tail(const struct mp_ctx *c, size_t k, size_t *next, bool *close)
{
    const char *b = c->body;
    size_t len = c->len;
    if (k == len)
        return PC_EINVAL;
    if (b[k] == '-') {
        if (len - k < 2 || b[k + 1] != '-')
            return PC_EINVAL;
        k += 2;
        *close = true;
        while (k < len && is_ws(b[k]))
            k++;
        if (k == len) {
            *next = len;
            return 1;
        }
    } else if (is_ws(b[k]) || b[k] == '\r') {
        *close = false;
        while (k < len && is_ws(b[k]))
            k++;
    } else {
        return 0;
    }
    if (len - k < 2 || b[k] != '\r' || b[k + 1] != '\n')
        return PC_EINVAL;
    *next = k + 2;
    return 1;
}

/* A delimiter without its CRLF ("--boundary") at index at: the opening delimiter at the
 * start of the body, or right after a part's blank line (empty data). Same returns as
 * delim_tail. */
static int dash_boundary_at(const struct mp_ctx *c, size_t at, size_t *next, bool *close)
{
    size_t n = c->dlen - 2;
    if (c->len - at < n || memcmp(c->body + at, c->delim + 2, n) != 0)
        return 0;
    return delim_tail(c, at + n, next, close);
}

/* Finds the first "CRLF--boundary" delimiter at or after from. Returns 1 with *start (where
 * the CRLF begins, i.e. where the data before it ends), *next and *close; 0 when there is
 * none; PC_EINVAL for a malformed delimiter line. */
static int find_delim(const struct mp_ctx *c, size_t from, size_t *start, size_t *next, bool *close)
{
    while (from < c->len) {
        const char *q = memmem(c->body + from, c->len - from, c->delim, c->dlen);
        if (!q)
            return 0;
        size_t at = (size_t)(q - c->body);
        int rc = delim_tail(c, at + c->dlen, next, close);
        if (rc != 0) {
            *start = at;
            return rc;
        }
        from = at + 1;
    }
    return 0;
}

/* Parses a Content-Disposition value [p, end) (trimmed) into part's name and filename. The
 * pointers keep escapes; pc_multipart_parse decodes them at the end. */
static int parse_disposition(struct mp_ctx *c, size_t idx, const char *p, const char *end,
                             struct pc_mp_part *part)
{
    const char *key;
    size_t keylen;
    struct mp_val v;
    bool have_name = false;
    if ((size_t)(end - p) < 9 || !ieq(p, 9, "form-data") ||
        (p + 9 < end && p[9] != ';' && !is_ws(p[9])))
        return bad(c, PC_EINVAL, "part %zu: Content-Disposition is not form-data", idx);
    p += 9;
    int rc;
    while ((rc = next_param(&p, end, &key, &keylen, &v)) == 1) {
        size_t n = v.n - v.nesc;
        if (ieq(key, keylen, "name")) {
            if (have_name)
                return bad(c, PC_EINVAL, "part %zu: two name parameters", idx);
            if (n == 0 || n > PC_MP_NAME_MAX)
                return bad(c, PC_EINVAL, "part %zu: name must be 1 to %d bytes", idx,
                           PC_MP_NAME_MAX);
            have_name = true;
            part->name = v.p;
            part->name_len = v.n;
        } else if (ieq(key, keylen, "filename")) {
            if (part->filename)
                return bad(c, PC_EINVAL, "part %zu: two filename parameters", idx);
            if (n > PC_MP_FILENAME_MAX)
                return bad(c, PC_EINVAL, "part %zu: filename longer than %d bytes", idx,
                           PC_MP_FILENAME_MAX);
            part->filename = v.p;
            part->filename_len = v.n;
        }
        /* filename* (RFC 5987) is ignored: RFC 7578 §4.2 forbids it in form-data. */
    }
    if (rc < 0)
        return bad(c, PC_EINVAL, "part %zu: malformed Content-Disposition parameters", idx);
    if (!have_name)
        return bad(c, PC_EINVAL, "part %zu: Content-Disposition has no name", idx);
    return 0;
}

/* Parses the header block of part idx (1-based) starting at pos; *data_start receives the
 * index after its blank line. */
static int parse_headers(struct mp_ctx *c, size_t idx, size_t pos, struct pc_mp_part *part,
                         size_t *data_start)
{
    const char *b = c->body;
    size_t rem = c->len - pos, hlen;
    if (rem >= 2 && b[pos] == '\r' && b[pos + 1] == '\n') {
        hlen = 0;
    } else {
        size_t win = rem < PC_MP_HEADERS_MAX + 2 ? rem : PC_MP_HEADERS_MAX + 2;
        const char *t = memmem(b + pos, win, "\r\n\r\n", 4);
        if (!t && rem > win)
            return bad(c, PC_EINVAL, "part %zu: headers longer than %d bytes", idx,
                       PC_MP_HEADERS_MAX);
        if (!t)
            return bad(c, PC_EINVAL, "part %zu: headers not ended by a blank line", idx);
        hlen = (size_t)(t - (b + pos)) + 2;
    }
    *data_start = pos + hlen + 2;

    const char *p = b + pos, *end = b + pos + hlen;
    bool have_cd = false;
    while (p < end) {
        const char *line = p;
        while (*p != '\r' && *p != '\n')
            p++; /* stops at the latest at the block's final CRLF */
        const char *eol = p;
        if (p[0] != '\r' || p[1] != '\n')
            return bad(c, PC_EINVAL, "part %zu: bare CR or LF in headers", idx);
        p += 2;
        const char *n = line;
        while (n < eol && is_tchar((unsigned char)*n))
            n++;
        if (n == line || n == eol || *n != ':')
            return bad(c, PC_EINVAL, "part %zu: malformed header line", idx);
        size_t nlen = (size_t)(n - line);
        const char *v = skip_ws(n + 1, eol), *vend = eol;
        while (vend > v && is_ws(vend[-1]))
            vend--;
        for (const char *q = v; q < vend; q++)
            if (is_ctl((unsigned char)*q))
                return bad(c, PC_EINVAL, "part %zu: control character in a header", idx);
        if (ieq(line, nlen, "content-disposition")) {
            if (have_cd)
                return bad(c, PC_EINVAL, "part %zu: two Content-Disposition headers", idx);
            have_cd = true;
            int rc = parse_disposition(c, idx, v, vend, part);
            if (rc)
                return rc;
        } else if (ieq(line, nlen, "content-type")) {
            if (part->content_type)
                return bad(c, PC_EINVAL, "part %zu: two Content-Type headers", idx);
            part->content_type = v;
            part->content_type_len = (size_t)(vend - v);
        }
    }
    if (!have_cd)
        return bad(c, PC_EINVAL, "part %zu: no Content-Disposition", idx);
    return 0;
}

/* Moves escaped names and filenames into the tail of the parts allocation, unescaped. A
 * value holds a backslash only when it was quoted with escapes (next_param). */
static struct pc_mp_part *decode_escapes(struct pc_mp_part *parts, size_t n)
{
    size_t extra = 0;
    for (size_t i = 0; i < n; i++) {
        if (memchr(parts[i].name, '\\', parts[i].name_len))
            extra += unescape(parts[i].name, parts[i].name_len, NULL);
        if (parts[i].filename && memchr(parts[i].filename, '\\', parts[i].filename_len))
            extra += unescape(parts[i].filename, parts[i].filename_len, NULL);
    }
    if (extra == 0)
        return parts;
    parts = pc_xrealloc(parts, n * sizeof *parts + extra);
    char *o = (char *)(parts + n);
    for (size_t i = 0; i < n; i++) {
        struct pc_mp_part *pt = &parts[i];
        if (memchr(pt->name, '\\', pt->name_len)) {
            pt->name_len = unescape(pt->name, pt->name_len, o);
            pt->name = o;
            o += pt->name_len;
        }
        if (pt->filename && memchr(pt->filename, '\\', pt->filename_len)) {
            pt->filename_len = unescape(pt->filename, pt->filename_len, o);
            pt->filename = o;
            o += pt->filename_len;
        }
    }
    return parts;
}

int pc_multipart_parse(const char *content_type, const char *body, size_t len, size_t max_parts,
                       struct pc_multipart *out, char *err, size_t errlen)
{
    struct mp_ctx c = {.body = body, .len = len, .err = err, .errlen = errlen};
    struct pc_mp_part *parts = NULL;
    size_t n = 0, cap = 0, pos = 0, start = 0;
    bool close = false;
    int rc;

    out->parts = NULL;
    out->nparts = 0;
    if (err && errlen)
        err[0] = '\0';
    rc = parse_content_type(&c, content_type);
    if (rc)
        goto out;
    if (!body || len == 0) {
        rc = bad(&c, PC_EINVAL, "empty body");
        goto out;
    }

    /* The opening delimiter: at the very start, or as CRLF--boundary after a preamble. */
    rc = dash_boundary_at(&c, 0, &pos, &close);
    if (rc == 0)
        rc = find_delim(&c, 0, &start, &pos, &close);
    if (rc <= 0) {
        rc = bad(&c, PC_EINVAL, rc ? "malformed or cut delimiter line" : "no opening delimiter");
        goto out;
    }

    while (!close) {
        if (n == max_parts) {
            rc = bad(&c, PC_ETOOBIG, "more than %zu parts", max_parts);
            goto out;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 4;
            if (cap > max_parts)
                cap = max_parts;
            parts = pc_xrealloc(parts, cap * sizeof *parts);
        }
        struct pc_mp_part *pt = &parts[n];
        size_t ds = 0;
        memset(pt, 0, sizeof *pt);
        rc = parse_headers(&c, n + 1, pos, pt, &ds);
        if (rc)
            goto out;
        start = ds; /* a dash-boundary right after the blank line: empty data */
        rc = dash_boundary_at(&c, ds, &pos, &close);
        if (rc == 0)
            rc = find_delim(&c, ds, &start, &pos, &close);
        if (rc <= 0) {
            rc = bad(&c, PC_EINVAL,
                     rc ? "part %zu: malformed or cut delimiter line"
                        : "part %zu: no delimiter after the data (truncated body?)",
                     n + 1);
            goto out;
        }
        pt->data = body + ds;
        pt->len = start - ds;
        n++;
    }
    /* Anything after the close delimiter is the epilogue: ignored. */
    rc = 0;
    if (n == 0) {
        pc_free_null(parts);
    } else {
        parts = decode_escapes(parts, n);
    }
    out->parts = parts;
    out->nparts = n;
    parts = NULL;

out:
    free(parts);
    return rc;
}

void pc_multipart_free(struct pc_multipart *mp)
{
    if (!mp)
        return;
    pc_free_null(mp->parts);
    mp->nparts = 0;
}

const struct pc_mp_part *pc_multipart_get(const struct pc_multipart *mp, const char *name)
{
    if (!mp || !name)
        return NULL;
    size_t nl = strlen(name);
    for (size_t i = 0; i < mp->nparts; i++) {
        const struct pc_mp_part *pt = &mp->parts[i];
        if (pt->name_len == nl && memcmp(pt->name, name, nl) == 0)
            return pt;
    }
    return NULL;
}
