/* codes/mask.c — name/ID masking and masked-name matching. Pure; any thread. */
#include "codes/codes.h"
#include "codes/internal.h"

#include "base/utf8.h"

#include <string.h>

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* Drops leading and trailing ASCII whitespace and U+3000 (ideographic space, E3 80 80). */
static void trim(const char **s, size_t *n)
{
    const char *p = *s;
    size_t len = *n;
    for (;;) {
        if (len && is_space(p[0])) {
            p++, len--;
        } else if (len >= 3 && memcmp(p, "\xe3\x80\x80", 3) == 0) {
            p += 3, len -= 3;
        } else {
            break;
        }
    }
    for (;;) {
        if (len && is_space(p[len - 1])) {
            len--;
        } else if (len >= 3 && memcmp(p + len - 3, "\xe3\x80\x80", 3) == 0) {
            len -= 3;
        } else {
            break;
        }
    }
    *s = p;
    *n = len;
}

static size_t count_cps(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; c++)
        pc_utf8_next(s, n, &i);
    return c;
}

/* Bounded output that never splits a code point: once something does not fit, nothing more
 * is written. */
struct out {
    char *p;
    size_t cap, len;
    int full;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->full || o->len + n >= o->cap) {
        o->full = 1;
        return;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = '\0';
}

/* Keeps the first `head` and the last `tail` code points of s[0..n) (c of them in all) and
 * writes one '*' for every other one. */
static void mask(const char *s, size_t n, size_t c, size_t head, size_t tail, char *dst, size_t cap)
{
    struct out o = {dst, cap, 0, 0};
    if (!dst || cap == 0)
        return;
    dst[0] = '\0';
    size_t i = 0;
    for (size_t k = 0; k < c; k++) {
        size_t start = i;
        pc_utf8_next(s, n, &i);
        if (k < head || k >= c - tail)
            put(&o, s + start, i - start);
        else
            put(&o, "*", 1);
    }
}

void pc_cc_mask_name(const char *name, char *out, size_t len)
{
    size_t n = name ? strlen(name) : 0;
    trim(&name, &n);
    size_t c = count_cps(name, n);
    /* 1 → "*"; 2 → first + "*"; 3+ → first + stars + last */
    mask(name, n, c, c >= 2 ? 1 : 0, c >= 3 ? 1 : 0, out, len);
}

void pc_cc_mask_id(const char *id_no, char *out, size_t len)
{
    size_t n = id_no ? strlen(id_no) : 0;
    trim(&id_no, &n);
    size_t c = count_cps(id_no, n);
    mask(id_no, n, c, c >= 9 ? 4 : 0, c >= 9 ? 4 : 0, out, len);
}

static int valid_utf8(const char *s, size_t n)
{
    for (size_t i = 0; i < n;)
        if (pc_utf8_next(s, n, &i) < 0)
            return 0;
    return 1;
}

int pc_cc_name_matches(const char *name_masked, const char *roster_name)
{
    if (!name_masked || !roster_name)
        return 0;
    const char *m = name_masked, *r = roster_name;
    size_t mn = strlen(m), rn = strlen(r);
    trim(&m, &mn);
    trim(&r, &rn);
    if (!valid_utf8(m, mn) || !valid_utf8(r, rn) || rn == 0)
        return 0;
    const char *first = memchr(m, '*', mn);
    if (!first)
        return mn == rn && memcmp(m, r, mn) == 0;
    const char *last = first;
    for (const char *p = m + mn; p-- > first;) {
        if (*p == '*') {
            last = p;
            break;
        }
    }
    /* '*' is ASCII, so the parts end and start on code point boundaries; with both strings
     * valid UTF-8, byte equality of whole sequences is code point equality. */
    size_t pre = (size_t)(first - m), suf = mn - (size_t)(last - m) - 1;
    if (rn <= pre + suf) /* the stars must hide at least one code point */
        return 0;
    return memcmp(r, m, pre) == 0 && memcmp(r + rn - suf, last + 1, suf) == 0;
}
