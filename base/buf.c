/* base/buf.c — bounded growable buffer. No globals; any thread (one owner at a time). */
#include "base/buf.h"

#include "base/alloc.h"
#include "base/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pc_buf_init(struct pc_buf *b, size_t max)
{
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void pc_buf_free(struct pc_buf *b)
{
    if (!b)
        return;
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

void pc_buf_reset(struct pc_buf *b)
{
    b->len = 0;
    if (b->p)
        b->p[0] = '\0';
}

void pc_buf_reuse(struct pc_buf *b, size_t max)
{
    pc_buf_reset(b);
    b->max = max;
}

static int reserve(struct pc_buf *b, size_t extra)
{
    if (extra > b->max || b->len > b->max - extra)
        return PC_ETOOBIG;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    b->p = pc_xrealloc(b->p, cap);
    b->cap = cap;
    return 0;
}

int pc_buf_add(struct pc_buf *b, const void *p, size_t n)
{
    int rc = reserve(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

int pc_buf_adds(struct pc_buf *b, const char *s)
{
    return pc_buf_add(b, s, strlen(s));
}

int pc_buf_vaddf(struct pc_buf *b, const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0)
        return PC_EINVAL;
    int rc = reserve(b, (size_t)n);
    if (rc)
        return rc;
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int pc_buf_addf(struct pc_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = pc_buf_vaddf(b, fmt, ap);
    va_end(ap);
    return rc;
}

int pc_buf_add_json_str(struct pc_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t start = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[7];
        if (c == '"')
            esc = "\\\"";
        else if (c == '\\')
            esc = "\\\\";
        else if (c == '\n')
            esc = "\\n";
        else if (c == '\r')
            esc = "\\r";
        else if (c == '\t')
            esc = "\\t";
        else if (c < 0x20 || c == 0x7f) {
            u[0] = '\\';
            u[1] = 'u';
            u[2] = '0';
            u[3] = '0';
            u[4] = hex[c >> 4];
            u[5] = hex[c & 15];
            u[6] = '\0';
            esc = u;
        }
        if (esc) {
            rc = pc_buf_add(b, s + start, i - start);
            if (rc == 0)
                rc = pc_buf_adds(b, esc);
            start = i + 1;
        }
    }
    if (rc == 0)
        rc = pc_buf_add(b, s + start, n - start);
    return rc;
}

char *pc_buf_take(struct pc_buf *b, size_t *len)
{
    char *p = b->p ? b->p : pc_xstrdup("");
    if (len)
        *len = b->len;
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

/* A plain decimal number ("-0.01", "+12", "2500"): a spreadsheet reads it as a number,
 * never as a formula. */
static bool plain_number(const char *s)
{
    const char *p = s + (*s == '-' || *s == '+');
    bool digits = false, dot = false;
    for (; *p; p++) {
        if (*p >= '0' && *p <= '9')
            digits = true;
        else if (*p == '.' && !dot)
            dot = true;
        else
            return false;
    }
    return digits;
}

bool pc_csv_cell_is_formula(const char *v)
{
    return v &&
           (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@' || v[0] == '\t' ||
            v[0] == '\r') &&
           !plain_number(v);
}

int pc_buf_add_csv_cell(struct pc_buf *b, const char *v, int last)
{
    const char *s = v ? v : "";
    /* A cell a spreadsheet would run as a formula (=, +, -, @, tab, CR first) is kept as text
     * with a leading apostrophe (OWASP "CSV Injection"). */
    bool neutralise = pc_csv_cell_is_formula(s);
    size_t need = strlen(s) + (last ? 4 : 3) + neutralise; /* the quotes, then "," or CRLF */
    for (const char *p = s; *p; p++)
        need += *p == '"';
    if (need > b->max - b->len)
        return PC_ETOOBIG; /* all or nothing: a cell is never cut */
    pc_buf_adds(b, neutralise ? "\"'" : "\"");
    for (const char *p = s; *p; p++)
        pc_buf_add(b, *p == '"' ? "\"\"" : p, *p == '"' ? 2 : 1);
    return pc_buf_adds(b, last ? "\"\r\n" : "\",");
}
