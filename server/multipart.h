/* server/multipart.h — a bounded multipart/form-data parser (RFC 7578, RFC 2046 §5.1.1).
 *
 * Runs on a body that is already in memory (bounded by server.max_body_bytes): uploads
 * from WeChat's wx.uploadFile (part "file" plus the formData fields) and browser forms.
 * Zero-copy: names, filenames, content types and data point into the body, except names
 * and filenames that used backslash escapes, which are decoded into the parts array's
 * allocation. None of them is NUL-terminated: always use the lengths.
 * What is accepted and refused: docs/multipart.md. Pure functions; any thread. */
#ifndef PC_SERVER_MULTIPART_H
#define PC_SERVER_MULTIPART_H

#include <stddef.h>

#define PC_MP_BOUNDARY_MAX 70   /* RFC 2046: 1..70 characters */
#define PC_MP_HEADERS_MAX  8192 /* bytes of one part's header lines, CRLFs included */
#define PC_MP_NAME_MAX     128  /* bytes of a field name (after unescaping) */
#define PC_MP_FILENAME_MAX 255  /* bytes of a filename (after unescaping) */

struct pc_mp_part {
    const char *name; /* field name, 1..PC_MP_NAME_MAX bytes, never NUL/CR/LF inside */
    size_t name_len;
    const char *filename; /* filename parameter as sent (may be ""); NULL when absent */
    size_t filename_len;
    const char *content_type; /* the part's Content-Type value, trimmed; NULL when absent */
    size_t content_type_len;
    const char *data; /* the part's content: any bytes, NULs included; may be empty */
    size_t len;
};

struct pc_multipart {
    struct pc_mp_part *parts; /* nparts entries in body order; owned, pc_multipart_free */
    size_t nparts;
};

/* Parses body (len bytes) sent with Content-Type content_type ("multipart/form-data;
 * boundary=..."). Never reads body past len. Parts point into body (zero-copy): the caller
 * keeps body alive while it uses out. At most max_parts parts; each part's headers at most
 * PC_MP_HEADERS_MAX bytes. The only allocation is out->parts (at most max_parts entries plus
 * the unescaped names). Returns 0 (out filled; nparts may be 0 for "--boundary--"),
 * PC_EINVAL when content_type or body is malformed or truncated (a reason, without body
 * bytes, in err when err is not NULL) or PC_ETOOBIG when there are more than max_parts
 * parts. On failure out is {NULL, 0}. */
int pc_multipart_parse(const char *content_type, const char *body, size_t len, size_t max_parts,
                       struct pc_multipart *out, char *err, size_t errlen);
/* Frees the parts array only (never the body) and resets mp to {NULL, 0}. NULL-safe. */
void pc_multipart_free(struct pc_multipart *mp);
/* The first part whose name equals the C string name (case-sensitive), or NULL. The
 * result is owned by mp. */
const struct pc_mp_part *pc_multipart_get(const struct pc_multipart *mp, const char *name);

#endif
