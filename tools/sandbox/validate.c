/* tools/sandbox/validate.c — UTF-8 decoding and the subscribe-message value rules.
 * Pure functions; any thread. */
#include "tools/sandbox/validate.h"

#include "base/alloc.h"

#include <stdio.h>
#include <string.h>

#define SB_MAX_VALUE_CPS 256 /* longer values are invalid for every rule */

/* Decodes one code point at s[0..n); returns its byte length, or 0 when invalid. */
static size_t sb_utf8_one(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t len;
    uint32_t c, min;
    if ((s[0] & 0xE0) == 0xC0) {
        len = 2;
        c = s[0] & 0x1F;
        min = 0x80;
    } else if ((s[0] & 0xF0) == 0xE0) {
        len = 3;
        c = s[0] & 0x0F;
        min = 0x800;
    } else if ((s[0] & 0xF8) == 0xF0) {
        len = 4;
        c = s[0] & 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return len;
}

long sb_utf8_decode(const char *s, size_t n, uint32_t *cps, size_t max)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, k = 0;
    while (i < n) {
        uint32_t cp;
        size_t len = sb_utf8_one(u + i, n - i, &cp);
        if (!len || k == max)
            return -1;
        cps[k++] = cp;
        i += len;
    }
    return (long)k;
}

char *sb_utf8_sanitize(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)(s ? s : "");
    if (!s)
        n = 0;
    char *out = pc_xmalloc(3 * n + 1);
    size_t i = 0, o = 0;
    while (i < n) {
        uint32_t cp;
        size_t len = sb_utf8_one(u + i, n - i, &cp);
        if (!len || cp == 0) {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
            continue;
        }
        memcpy(out + o, u + i, len);
        o += len;
        i += len;
    }
    out[o] = '\0';
    return out;
}

/* ---------- character classes ---------- */

static int sb_is_digit(uint32_t c)
{
    return c >= '0' && c <= '9';
}

static int sb_is_alpha(uint32_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int sb_is_cjk(uint32_t c)
{
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x20000 && c <= 0x2EBEF) ||
           (c >= 0x30000 && c <= 0x3134F);
}

static int sb_is_control(uint32_t c)
{
    return c < 0x20 || (c >= 0x7F && c <= 0x9F);
}

/* ASCII punctuation, Latin-1 signs, general and CJK punctuation, full-width forms. */
static int sb_is_symbol(uint32_t c)
{
    if (c >= 0x21 && c <= 0x7E)
        return !sb_is_digit(c) && !sb_is_alpha(c);
    return (c >= 0xA1 && c <= 0xBF) || c == 0xD7 || c == 0xF7 || (c >= 0x2010 && c <= 0x2BFF) ||
           (c >= 0x3001 && c <= 0x303F) || (c >= 0xFF01 && c <= 0xFF0F) ||
           (c >= 0xFF1A && c <= 0xFF20) || (c >= 0xFF3B && c <= 0xFF40) ||
           (c >= 0xFF5B && c <= 0xFF65) || (c >= 0xFFE0 && c <= 0xFFEE);
}

static int sb_is_currency(uint32_t c)
{
    return c == '$' || c == 0xA5 /* ¥ */ || c == 0xFFE5 /* ￥ */ || c == 0x20AC /* € */ ||
           c == 0xA3 /* £ */;
}

/* ---------- time and date ---------- */

struct sb_cur {
    const uint32_t *c;
    long i, n;
};

/* Reads min..max digits into *v. */
static int sb_num(struct sb_cur *p, int min, int max, int *v)
{
    int k = 0;
    long long x = 0;
    while (p->i < p->n && k < max && sb_is_digit(p->c[p->i])) {
        x = x * 10 + (long long)(p->c[p->i] - '0');
        p->i++;
        k++;
    }
    *v = x > 999999 ? 999999 : (int)x;
    return k >= min;
}

static int sb_lit(struct sb_cur *p, uint32_t ch)
{
    if (p->i < p->n && p->c[p->i] == ch) {
        p->i++;
        return 1;
    }
    return 0;
}

static int sb_spaces(struct sb_cur *p)
{
    int k = 0;
    while (p->i < p->n && p->c[p->i] == ' ') {
        p->i++;
        k++;
    }
    return k;
}

/* "2019年10月1日" (*cn = 1), "2019-10-01" or "2019/10/01" (*cn = 0). */
static int sb_date(struct sb_cur *p, int *cn)
{
    int y, m, d;
    if (!sb_num(p, 4, 4, &y))
        return 0;
    if (sb_lit(p, 0x5E74 /* 年 */)) {
        *cn = 1;
        if (!sb_num(p, 1, 2, &m) || !sb_lit(p, 0x6708 /* 月 */) || !sb_num(p, 1, 2, &d) ||
            !sb_lit(p, 0x65E5 /* 日 */))
            return 0;
    } else {
        *cn = 0;
        uint32_t sep = p->i < p->n ? p->c[p->i] : 0;
        if ((sep != '-' && sep != '/') || !sb_lit(p, sep) || !sb_num(p, 1, 2, &m) ||
            !sb_lit(p, sep) || !sb_num(p, 1, 2, &d))
            return 0;
    }
    return y >= 1900 && m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

/* "15:01" or "15:01:59". */
static int sb_clock(struct sb_cur *p)
{
    int h, mi, s = 0;
    if (!sb_num(p, 1, 2, &h) || !sb_lit(p, ':') || !sb_num(p, 2, 2, &mi))
        return 0;
    if (sb_lit(p, ':') && !sb_num(p, 2, 2, &s))
        return 0;
    return h <= 23 && mi <= 59 && s <= 59;
}

/* One point in time: time_rule requires the clock, date_rule requires the date. */
static int sb_point(struct sb_cur *p, int need_clock)
{
    long start = p->i;
    int cn = 0;
    if (sb_date(p, &cn)) {
        long after_date = p->i;
        int sp = sb_spaces(p);
        if ((cn || sp) && p->i < p->n && sb_is_digit(p->c[p->i])) {
            long before_clock = p->i;
            if (sb_clock(p))
                return 1;
            p->i = before_clock;
        }
        p->i = after_date;
        return !need_clock;
    }
    p->i = start;
    return need_clock && sb_clock(p);
}

/* A point, or two joined by '~'; the whole value must be consumed. */
static int sb_time_value(const uint32_t *c, long n, int need_clock)
{
    struct sb_cur p = {c, 0, n};
    if (!sb_point(&p, need_clock))
        return 0;
    sb_spaces(&p);
    if (sb_lit(&p, '~')) {
        sb_spaces(&p);
        if (!sb_point(&p, need_clock))
            return 0;
    }
    return p.i == p.n;
}

/* ---------- the rules ---------- */

static int sb_all(const uint32_t *c, long n, int (*cls)(uint32_t))
{
    for (long i = 0; i < n; i++)
        if (!cls(c[i]))
            return 0;
    return 1;
}

static int sb_no_control(uint32_t c)
{
    return !sb_is_control(c);
}

static int sb_ascii_visible(uint32_t c)
{
    return c >= 0x21 && c <= 0x7E;
}

static int sb_phone_char(uint32_t c)
{
    return sb_is_digit(c) || (c < 0x80 && sb_is_symbol(c));
}

static int sb_car_char(uint32_t c)
{
    return sb_is_cjk(c) || sb_is_digit(c) || sb_is_alpha(c);
}

static int sb_name_cn_char(uint32_t c)
{
    return sb_is_cjk(c) || c == 0xB7 || c == 0x2022; /* middle dots of transliterated names */
}

static int sb_name_en_char(uint32_t c)
{
    return sb_is_alpha(c) || c == ' ';
}

static int sb_number(const uint32_t *c, long n)
{
    long digits = 0, dots = 0;
    for (long i = 0; i < n; i++) {
        if (sb_is_digit(c[i]))
            digits++;
        else if (c[i] == '.' && i > 0 && i < n - 1)
            dots++;
        else
            return 0;
    }
    return digits <= 32 && dots <= 1;
}

/* One currency sign, 1..10 integer digits, optional 1..2 decimals, optional 元. */
static int sb_amount(const uint32_t *c, long n)
{
    if (n > 0 && c[n - 1] == 0x5143 /* 元 */)
        n--;
    if (n < 2 || !sb_is_currency(c[0]))
        return 0;
    struct sb_cur p = {c, 1, n};
    int v;
    if (!sb_num(&p, 1, 10, &v))
        return 0;
    if (sb_lit(&p, '.') && !sb_num(&p, 1, 2, &v))
        return 0;
    return p.i == p.n;
}

static int sb_name(const uint32_t *c, long n)
{
    if (sb_all(c, n, sb_name_cn_char))
        return n <= 10 && sb_is_cjk(c[0]);
    return n <= 20 && sb_all(c, n, sb_name_en_char) && c[0] != ' ' && c[n - 1] != ' ';
}

/* 1 if the value is valid for the rule named by prefix; -1 for an unknown prefix. */
static int sb_rule(const char *prefix, const uint32_t *c, long n)
{
    if (!strcmp(prefix, "thing"))
        return n <= 20 && sb_all(c, n, sb_no_control);
    if (!strcmp(prefix, "number"))
        return sb_number(c, n);
    if (!strcmp(prefix, "letter"))
        return n <= 32 && sb_all(c, n, sb_is_alpha);
    if (!strcmp(prefix, "symbol"))
        return n <= 5 && sb_all(c, n, sb_is_symbol);
    if (!strcmp(prefix, "character_string"))
        return n <= 32 && sb_all(c, n, sb_ascii_visible);
    if (!strcmp(prefix, "time"))
        return sb_time_value(c, n, 1);
    if (!strcmp(prefix, "date"))
        return sb_time_value(c, n, 0);
    if (!strcmp(prefix, "amount"))
        return sb_amount(c, n);
    if (!strcmp(prefix, "phone_number"))
        return n <= 17 && sb_all(c, n, sb_phone_char);
    if (!strcmp(prefix, "car_number"))
        return n <= 8 && sb_all(c, n, sb_car_char);
    if (!strcmp(prefix, "name"))
        return sb_name(c, n);
    if (!strcmp(prefix, "phrase"))
        return n <= 5 && sb_all(c, n, sb_is_cjk);
    if (!strcmp(prefix, "enum"))
        return n <= 20 && sb_all(c, n, sb_no_control);
    return -1;
}

int sb_validate_subscribe(const char *key, const char *value, char *err, size_t errlen)
{
    /* The key is a rule name followed by the field number: "thing1", "character_string12". */
    char prefix[32];
    size_t kl = strlen(key), pl = kl;
    while (pl > 0 && key[pl - 1] >= '0' && key[pl - 1] <= '9')
        pl--;
    int key_ok = pl > 0 && pl < kl && kl - pl <= 3 && pl < sizeof prefix;
    snprintf(prefix, sizeof prefix, "%.*s", (int)(key_ok ? pl : 0), key);
    if (!value || !value[0]) {
        snprintf(err, errlen, "argument invalid! data.%s.value is empty", key);
        return -1;
    }
    uint32_t cps[SB_MAX_VALUE_CPS];
    long n = sb_utf8_decode(value, strlen(value), cps, SB_MAX_VALUE_CPS);
    if (!key_ok || n <= 0 || sb_rule(prefix, cps, n) != 1) {
        snprintf(err, errlen, "argument invalid! data.%s.value invalid", key);
        return -1;
    }
    return 0;
}
