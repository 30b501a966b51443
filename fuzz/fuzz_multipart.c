/* fuzz_multipart.c — bodies (and sometimes Content-Types) into pc_multipart_parse.
 *
 * Input: one control byte, then the body. Control bit 7 set: the Content-Type is the input
 * up to the first '\n' (the rest is the body); clear: one of three fixed boundaries (bits
 * 0-1). Bits 2-5: max_parts. Checks: the return code and the failure state; every pointer
 * of a part inside the body (or, for unescaped names, outside it); parts in order without
 * overlap; limits; pc_multipart_get; and that re-serialising the parts canonically parses
 * back to the same parts. The body is copied to an exact-size buffer. */
#include "base/err.h"
#include "server/multipart.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const g_boundaries[] = {"b", "----WebKitFormBoundaryr6pTzQ8kH1vX3mNa",
                                           "simple boundary"};

static int inside(const char *p, size_t n, const char *body, size_t len)
{
    return p >= body && p <= body + len && n <= (size_t)(body + len - p);
}

static void check_text(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
            abort();
    }
}

/* Appends a quoted-string with " and \ escaped. */
static size_t put_quoted(char *o, const char *p, size_t n)
{
    size_t k = 0;
    o[k++] = '"';
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '"' || p[i] == '\\')
            o[k++] = '\\';
        o[k++] = p[i];
    }
    o[k++] = '"';
    return k;
}

static void check_roundtrip(const char *boundary, const struct pc_multipart *mp)
{
    size_t bl = strlen(boundary), cap = bl + 8;
    for (size_t i = 0; i < mp->nparts; i++) {
        const struct pc_mp_part *pt = &mp->parts[i];
        cap += bl + 8 + 64 + 2 * pt->name_len + 2 * pt->filename_len + pt->content_type_len +
               pt->len + 32;
    }
    char *o = malloc(cap), ct[128];
    size_t k = 0;
    for (size_t i = 0; i < mp->nparts; i++) {
        const struct pc_mp_part *pt = &mp->parts[i];
        k += (size_t)snprintf(o + k, cap - k,
                              "--%s\r\nContent-Disposition: form-data; name=", boundary);
        k += put_quoted(o + k, pt->name, pt->name_len);
        if (pt->filename) {
            memcpy(o + k, "; filename=", 11);
            k += 11;
            k += put_quoted(o + k, pt->filename, pt->filename_len);
        }
        memcpy(o + k, "\r\n", 2);
        k += 2;
        if (pt->content_type) {
            memcpy(o + k, "Content-Type: ", 14);
            k += 14;
            memcpy(o + k, pt->content_type, pt->content_type_len);
            k += pt->content_type_len;
            memcpy(o + k, "\r\n", 2);
            k += 2;
        }
        memcpy(o + k, "\r\n", 2);
        k += 2;
        memcpy(o + k, pt->data, pt->len);
        k += pt->len;
        memcpy(o + k, "\r\n", 2);
        k += 2;
    }
    k += (size_t)snprintf(o + k, cap - k, "--%s--\r\n", boundary);
    if (k >= cap)
        abort();
    snprintf(ct, sizeof ct, "multipart/form-data; boundary=\"%s\"", boundary);
    struct pc_multipart again;
    char err[128];
    if (pc_multipart_parse(ct, o, k, mp->nparts, &again, err, sizeof err) != 0) {
        fprintf(stderr, "round trip refused: %s\n", err);
        abort();
    }
    if (again.nparts != mp->nparts)
        abort();
    for (size_t i = 0; i < mp->nparts; i++) {
        const struct pc_mp_part *a = &mp->parts[i], *b = &again.parts[i];
        if (a->name_len != b->name_len || memcmp(a->name, b->name, a->name_len) != 0 ||
            a->len != b->len || memcmp(a->data, b->data, a->len) != 0 ||
            !a->filename != !b->filename || a->filename_len != b->filename_len ||
            (a->filename && memcmp(a->filename, b->filename, a->filename_len) != 0) ||
            !a->content_type != !b->content_type || a->content_type_len != b->content_type_len ||
            (a->content_type && memcmp(a->content_type, b->content_type, a->content_type_len)))
            abort();
    }
    pc_multipart_free(&again);
    free(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t ctl = data[0];
    size_t max_parts = (ctl >> 2) & 15;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    char ct[256];
    const char *boundary = NULL;
    if (ctl & 0x80) {
        const uint8_t *nl = memchr(p, '\n', n);
        size_t cl = nl ? (size_t)(nl - p) : n;
        if (cl >= sizeof ct)
            return 0;
        memcpy(ct, p, cl);
        ct[cl] = '\0';
        p += nl ? cl + 1 : cl;
        n -= nl ? cl + 1 : cl;
    } else {
        boundary = g_boundaries[(ctl & 3) % 3];
        snprintf(ct, sizeof ct, "multipart/form-data; boundary=\"%s\"", boundary);
    }
    char *body = malloc(n ? n : 1);
    memcpy(body, p, n);

    struct pc_multipart mp;
    char err[64];
    int rc = pc_multipart_parse(ct, body, n, max_parts, &mp, err, sizeof err);
    if (rc != 0) {
        if ((rc != PC_EINVAL && rc != PC_ETOOBIG) || mp.parts || mp.nparts)
            abort();
        if (strlen(err) >= sizeof err || err[0] == '\0')
            abort();
        goto out;
    }
    if (mp.nparts > max_parts || (mp.nparts == 0) != (mp.parts == NULL))
        abort();
    const char *prev_end = body;
    for (size_t i = 0; i < mp.nparts; i++) {
        const struct pc_mp_part *pt = &mp.parts[i];
        if (!pt->data || !inside(pt->data, pt->len, body, n) || pt->data < prev_end)
            abort();
        prev_end = pt->data + pt->len;
        if (!pt->name || pt->name_len == 0 || pt->name_len > PC_MP_NAME_MAX)
            abort();
        check_text(pt->name, pt->name_len);
        if (pt->filename) {
            if (pt->filename_len > PC_MP_FILENAME_MAX)
                abort();
            check_text(pt->filename, pt->filename_len);
        } else if (pt->filename_len) {
            abort();
        }
        if (pt->content_type) {
            if (!inside(pt->content_type, pt->content_type_len, body, n))
                abort();
            check_text(pt->content_type, pt->content_type_len);
        } else if (pt->content_type_len) {
            abort();
        }
        char key[PC_MP_NAME_MAX + 1];
        memcpy(key, pt->name, pt->name_len);
        key[pt->name_len] = '\0';
        const struct pc_mp_part *g = pc_multipart_get(&mp, key);
        if (!g || g > pt || g->name_len != pt->name_len)
            abort();
    }
    if (boundary)
        check_roundtrip(boundary, &mp);
    pc_multipart_free(&mp);
    if (mp.parts || mp.nparts)
        abort();
out:
    free(body);
    return 0;
}
