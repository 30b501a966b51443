/* roster/csvimport.c — see csvimport.h and docs/roster.md.
 *
 * Flow: refuse by size and signature (.xlsx / .xls / NUL bytes), pick the charset (UTF-8 BOM,
 * UTF-16LE BOM, valid UTF-8, else GB18030 through iconv), then run libcsv over the decoded
 * text once per candidate delimiter (',', '\t', ';') until one yields a header row with
 * 学院 姓名 学号 among the first PC_ROSTER_HEADER_SCAN non-blank records. A file that is not
 * valid UTF-8 and has no UTF-8 header is converted from GB18030 and tried again.
 *
 * Physical line numbers: the text is fed to libcsv one physical line (LF, CRLF or lone CR)
 * at a time; a record starts on the line during which libcsv leaves ROW_NOT_BEGUN
 * (pstate 0 in <csv.h>'s public struct). */
#include "roster/csvimport.h"

#include "base/alloc.h"
#include "base/err.h"

#include <csv.h>
#include <iconv.h>
#include <limits.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum col {
    COL_SEQ,
    COL_COLLEGE,
    COL_NAME,
    COL_SNO,
    COL_CLASS,
    COL_CODE,
    COL_ID,
    COL_COLLECTED,
    COL_N
};

#define COL_NONE          SIZE_MAX
#define REQUIRED_MASK     ((1u << COL_COLLEGE) | (1u << COL_NAME) | (1u << COL_SNO))
#define CELL_KEEP         4096 /* bytes of a known cell kept; longer is too long for every column */
#define NO_HEADER         1    /* internal: no header row with this delimiter/charset */
#define CSV_ROW_NOT_BEGUN 0    /* libcsv's pstate values (csv.c) */
#define CSV_FIELD_BEGUN   2

static const char *const g_col_label[COL_N] = {"序号", "学院",   "姓名",     "学号",
                                               "班级", "采集码", "身份证号", "已采集"};

/* Header names after whitespace and '*' are removed (docs/roster.md lists them). */
static const struct {
    const char *name;
    enum col col;
} g_aliases[] = {
    {"序号", COL_SEQ},           {"学院", COL_COLLEGE},
    {"院系", COL_COLLEGE},       {"所在学院", COL_COLLEGE},
    {"所在院系", COL_COLLEGE},   {"学院名称", COL_COLLEGE},
    {"姓名", COL_NAME},          {"学生姓名", COL_NAME},
    {"学号", COL_SNO},           {"学生学号", COL_SNO},
    {"班级", COL_CLASS},         {"班级名称", COL_CLASS},
    {"所在班级", COL_CLASS},     {"行政班", COL_CLASS},
    {"行政班级", COL_CLASS},     {"采集码", COL_CODE},
    {"身份证号", COL_ID},        {"身份证号码", COL_ID},
    {"身份证", COL_ID},          {"已采集", COL_COLLECTED},
    {"是否采集", COL_COLLECTED}, {"是否已采集", COL_COLLECTED},
    {"采集状态", COL_COLLECTED},
};

struct cell {
    char p[CELL_KEEP + 1];
    size_t n;
    int over; /* the cell was longer than CELL_KEEP */
};

struct ctx {
    size_t max_rows;
    char delim;
    int stop; /* set with rc: stop feeding */
    int rc;
    char err[200];

    /* header */
    int have_header;
    size_t header_line;
    size_t scanned; /* non-blank records looked at for a header */
    size_t col[COL_N];
    size_t hcol[COL_N]; /* the current record read as a header */
    int hdup;           /* a column twice in the current record (COL_N + 1: none) */
    unsigned best_mask; /* required columns of the closest header candidate */

    /* the current record */
    size_t pending_line; /* line of the chunk during which the next record may start */
    size_t start_line;
    size_t field;
    int nonblank; /* a cell other than 序号 is not empty */
    int bad_utf8;
    int unclosed; /* the record ends inside a quoted cell at end of file */
    struct cell cells[COL_N];

    /* results */
    size_t ndata;
    struct pc_roster_row *rows;
    size_t nrows, rows_cap;
    struct pc_roster_error *errors;
    size_t nerrors, errors_cap;
    size_t *dup; /* open addressing: row index + 1, keyed by lower-case 学号 */
    size_t dup_cap;
};

/* ---- text helpers ------------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (n > 0 bytes available), 0 when invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t len;
    uint32_t v, min;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2, v = c & 0x1f, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3, v = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

static int utf8_valid(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        uint32_t cp;
        size_t k = utf8_seq(u + i, n - i, &cp);
        if (k == 0)
            return 0;
        i += k;
    }
    return 1;
}

/* Length of the blank character (ASCII space, tab, CR, LF, U+3000, U+00A0) at s, or 0. */
static size_t blank_at(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    if (n >= 1 && (u[0] == ' ' || u[0] == '\t' || u[0] == '\r' || u[0] == '\n'))
        return 1;
    if (n >= 2 && u[0] == 0xc2 && u[1] == 0xa0)
        return 2;
    if (n >= 3 && u[0] == 0xe3 && u[1] == 0x80 && u[2] == 0x80)
        return 3;
    return 0;
}

/* Length of the blank character that ends s[0..n), or 0. */
static size_t blank_before(const char *s, size_t n)
{
    if (n >= 1 && blank_at(s + n - 1, 1))
        return 1;
    if (n >= 2 && blank_at(s + n - 2, 2) == 2)
        return 2;
    if (n >= 3 && blank_at(s + n - 3, 3) == 3)
        return 3;
    return 0;
}

static void trim(const char **s, size_t *n)
{
    size_t k;
    while (*n && (k = blank_at(*s, *n)) != 0)
        *s += k, *n -= k;
    while (*n && (k = blank_before(*s, *n)) != 0)
        *n -= k;
}

/* Unwraps Excel's text tricks: ="2020146F101" and a leading apostrophe; trims again. */
static void unwrap(const char **s, size_t *n)
{
    trim(s, n);
    if (*n >= 3 && (*s)[0] == '=' && (*s)[1] == '"' && (*s)[*n - 1] == '"') {
        *s += 2, *n -= 3;
        trim(s, n);
    } else if (*n >= 1 && (*s)[0] == '\'') {
        *s += 1, *n -= 1;
        trim(s, n);
    }
}

/* Copies at most max bytes of s (cut on a character boundary, control characters shown as
 * spaces) into out (outn > max), appending "…" when cut. For quoting values in reasons. */
static void show(const char *s, size_t n, size_t max, char *out, size_t outn)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, o = 0;
    while (i < n) {
        uint32_t cp;
        size_t k = utf8_seq(u + i, n - i, &cp), sk = k;
        const char *src = s + i;
        if (k == 0)
            src = "?", sk = k = 1;
        else if (cp < 0x20 || cp == 0x7f)
            src = " ", sk = 1;
        if (o + sk > max || o + sk + 4 > outn) {
            if (o + 4 <= outn) {
                memcpy(out + o, "\xe2\x80\xa6", 3); /* … */
                o += 3;
            }
            break;
        }
        memcpy(out + o, src, sk);
        o += sk;
        i += k;
    }
    out[o] = '\0';
}

/* Drops an incomplete UTF-8 sequence at the end of a NUL-terminated string (after a
 * snprintf truncation). */
static void utf8_cut(char *s)
{
    size_t n = strlen(s), i = n;
    while (i > 0 && ((unsigned char)s[i - 1] & 0xc0) == 0x80)
        i--;
    if (i > 0 && (unsigned char)s[i - 1] >= 0xc0) {
        uint32_t cp;
        if (utf8_seq((const unsigned char *)s + i - 1, n - i + 1, &cp) != n - i + 1)
            s[i - 1] = '\0';
    }
}

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (!err || errlen == 0)
        return;
    snprintf(err, errlen, "%s", msg);
    utf8_cut(err);
}

/* ---- header ------------------------------------------------------------------------- */

/* The column a header cell names, or COL_N. Whitespace (also U+3000, U+00A0, U+FEFF) and
 * '*' / '＊' anywhere are ignored; a trailing "(...)" / "（...）" note is tried without. */
static enum col header_col(const char *s, size_t n)
{
    char b[64];
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t k = blank_at(s + i, n - i);
        if (k) {
            i += k;
            continue;
        }
        if (n - i >= 3 && memcmp(s + i, "\xef\xbb\xbf", 3) == 0) { /* BOM */
            i += 3;
            continue;
        }
        if (n - i >= 3 && memcmp(s + i, "\xef\xbc\x8a", 3) == 0) { /* ＊ */
            i += 3;
            continue;
        }
        if (s[i] == '*') {
            i++;
            continue;
        }
        if (o + 1 >= sizeof b)
            return COL_N;
        b[o++] = s[i++];
    }
    b[o] = '\0';
    for (int pass = 0; pass < 2; pass++) {
        for (size_t a = 0; a < sizeof g_aliases / sizeof g_aliases[0]; a++)
            if (strcmp(b, g_aliases[a].name) == 0)
                return g_aliases[a].col;
        /* "学号(必填)" / "学号（必填）": cut the last parenthesised note */
        char *open = NULL;
        if (o >= 1 && b[o - 1] == ')')
            open = strrchr(b, '(');
        else if (o >= 3 && memcmp(b + o - 3, "\xef\xbc\x89", 3) == 0) {
            for (char *q = b; (q = strstr(q, "\xef\xbc\x88")) != NULL; q += 3)
                open = q;
        }
        if (!open || open == b)
            break;
        *open = '\0';
        o = (size_t)(open - b);
    }
    return COL_N;
}

/* ---- results ------------------------------------------------------------------------ */

static void add_error(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add_error(struct ctx *c, const char *fmt, ...)
{
    if (c->nerrors == c->errors_cap) {
        c->errors_cap = c->errors_cap ? c->errors_cap * 2 : 16;
        c->errors = pc_xrealloc(c->errors, c->errors_cap * sizeof *c->errors);
    }
    struct pc_roster_error *e = &c->errors[c->nerrors++];
    memset(e, 0, sizeof *e);
    e->line = c->start_line;
    int k = snprintf(e->reason, sizeof e->reason, "第 %zu 行：", c->start_line);
    size_t off = k > 0 && (size_t)k < sizeof e->reason ? (size_t)k : 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->reason + off, sizeof e->reason - off, fmt, ap);
    va_end(ap);
    utf8_cut(e->reason);
}

static size_t sno_hash(const char *s)
{
    size_t h = 14695981039346656037u;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch >= 'A' && ch <= 'Z')
            ch = (unsigned char)(ch - 'A' + 'a');
        h = (h ^ ch) * 1099511628211u;
    }
    return h;
}

static int sno_eq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        unsigned char x = (unsigned char)*a, y = (unsigned char)*b;
        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y - 'A' + 'a');
        if (x != y)
            return 0;
    }
    return *a == *b;
}

/* The row holding sno (case-insensitive), or NULL. */
static const struct pc_roster_row *dup_find(const struct ctx *c, const char *sno)
{
    if (!c->dup_cap)
        return NULL;
    for (size_t i = sno_hash(sno) & (c->dup_cap - 1);; i = (i + 1) & (c->dup_cap - 1)) {
        if (c->dup[i] == 0)
            return NULL;
        if (sno_eq(c->rows[c->dup[i] - 1].student_no, sno))
            return &c->rows[c->dup[i] - 1];
    }
}

static void dup_put(size_t *tab, size_t cap, const struct pc_roster_row *rows, size_t idx)
{
    size_t i = sno_hash(rows[idx].student_no) & (cap - 1);
    while (tab[i] != 0)
        i = (i + 1) & (cap - 1);
    tab[i] = idx + 1;
}

static void add_row(struct ctx *c, const struct pc_roster_row *r)
{
    if (c->nrows == c->rows_cap) {
        c->rows_cap = c->rows_cap ? c->rows_cap * 2 : 64;
        c->rows = pc_xrealloc(c->rows, c->rows_cap * sizeof *c->rows);
    }
    c->rows[c->nrows] = *r;
    if ((c->nrows + 1) * 2 > c->dup_cap) {
        size_t cap = c->dup_cap ? c->dup_cap * 2 : 128;
        size_t *tab = pc_xcalloc(cap, sizeof *tab);
        for (size_t i = 0; i < c->nrows; i++)
            dup_put(tab, cap, c->rows, i);
        free(c->dup);
        c->dup = tab;
        c->dup_cap = cap;
    }
    dup_put(c->dup, c->dup_cap, c->rows, c->nrows);
    c->nrows++;
}

/* ---- one record ---------------------------------------------------------------------- */

/* The trimmed cell of column k ("" when the column or the cell is absent). */
static void cell_get(const struct ctx *c, enum col k, const char **s, size_t *n)
{
    *s = c->cells[k].p;
    *n = c->cells[k].n;
    trim(s, n);
}

/* 2.02015E+10, 2E+10, 2,02015E+10: what Excel shows for a long number in a General cell. */
static int scientific(const char *s, size_t n)
{
    size_t i = 0, d = 0;
    int frac = 0, sign = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++, d++;
    if (d == 0)
        return 0;
    if (i < n && (s[i] == '.' || s[i] == ',')) {
        i++, frac = 1, d = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++, d++;
        if (d == 0)
            return 0;
    }
    if (i >= n || (s[i] != 'E' && s[i] != 'e'))
        return 0;
    i++;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++, sign = 1;
    d = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++, d++;
    return d > 0 && i == n && (frac || sign);
}

/* 学号: unwrapped, full-width letters and digits made ASCII, checked. 0 or -1 with msg. */
static int clean_sno(const char *s, size_t n, char *out, char *msg, size_t msgn)
{
    char b[CELL_KEEP + 1], v[64];
    size_t o = 0;
    unwrap(&s, &n);
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = utf8_seq((const unsigned char *)s + i, n - i, &cp);
        if (k == 0)
            k = 1, cp = '?';
        if (k == 3 && ((cp >= 0xff10 && cp <= 0xff19) || (cp >= 0xff21 && cp <= 0xff3a) ||
                       (cp >= 0xff41 && cp <= 0xff5a))) {
            b[o++] = (char)(cp - 0xfee0);
        } else {
            memcpy(b + o, s + i, k);
            o += k;
        }
        i += k;
    }
    if (o == 0) {
        snprintf(msg, msgn, "学号为空");
        return -1;
    }
    show(b, o, 32, v, sizeof v);
    if (scientific(b, o)) {
        snprintf(msg, msgn, "学号「%s」被 Excel 转成了科学计数法，请将该列设为文本后重新导出", v);
        return -1;
    }
    for (size_t i = 0; i < o; i++) {
        char ch = b[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z'))) {
            snprintf(msg, msgn, "学号「%s」只能由字母和数字组成", v);
            return -1;
        }
    }
    if (o > PC_ROSTER_SNO_MAX) {
        snprintf(msg, msgn, "学号「%s」超过 %d 位", v, PC_ROSTER_SNO_MAX);
        return -1;
    }
    memcpy(out, b, o);
    out[o] = '\0';
    return 0;
}

/* 学院 / 班级: line breaks and other control characters become one space. 0, or -1 when
 * longer than outn - 1 bytes. */
static int clean_text(const char *s, size_t n, char *out, size_t outn)
{
    size_t o = 0;
    int space = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch == 0x7f) {
            space = 1;
            continue;
        }
        if (space) {
            if (o + 1 >= outn)
                return -1;
            out[o++] = ' ';
            space = 0;
        }
        if (o + 1 >= outn)
            return -1;
        out[o++] = (char)ch;
    }
    out[o] = '\0';
    return 0;
}

static int has_control(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 1;
    return 0;
}

static size_t utf8_chars(const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80)
            k++;
    return k;
}

/* 1, 0, or -1 when not understood. */
static int collected_value(const char *s, size_t n)
{
    static const char *const yes[] = {"是", "已采集", "已", "y", "yes", "1", "√", "✓", "✔", "true"};
    static const char *const no[] = {"否", "未采集", "未", "n", "no", "0", "×", "✗", "false"};
    char b[16];
    if (n == 0)
        return 0;
    if (n >= sizeof b)
        return -1;
    for (size_t i = 0; i < n; i++)
        b[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
    b[n] = '\0';
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        if (strcmp(b, yes[i]) == 0)
            return 1;
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (strcmp(b, no[i]) == 0)
            return 0;
    return -1;
}

/* A data record that repeats the header (two sheets pasted one after the other). */
static int repeats_header(const struct ctx *c)
{
    const char *s;
    size_t n;
    cell_get(c, COL_SNO, &s, &n);
    if (header_col(s, n) != COL_SNO)
        return 0;
    cell_get(c, COL_NAME, &s, &n);
    return header_col(s, n) == COL_NAME;
}

static void data_record(struct ctx *c)
{
    struct pc_roster_row r;
    char msg[160], v[64];
    const char *s;
    size_t n;

    if (!c->nonblank || repeats_header(c))
        return;
    if (++c->ndata > c->max_rows) {
        c->stop = 1;
        c->rc = PC_ETOOBIG;
        snprintf(c->err, sizeof c->err, "名单超过 %zu 行（第 %zu 行），请分成几个文件上传",
                 c->max_rows, c->start_line);
        return;
    }
    if (c->unclosed) {
        add_error(c, "引号没有闭合（从这里到文件末尾都被当成了一个单元格）");
        return;
    }
    if (c->bad_utf8) {
        add_error(c, "含有无法识别的字符（不是有效的 UTF-8 文字），请检查文件编码");
        return;
    }
    memset(&r, 0, sizeof r);
    r.line = c->start_line;
    r.collected = -1;

    /* 学号 */
    if (c->cells[COL_SNO].over) {
        add_error(c, "学号超过 %d 位", PC_ROSTER_SNO_MAX);
        return;
    }
    cell_get(c, COL_SNO, &s, &n);
    if (clean_sno(s, n, r.student_no, msg, sizeof msg) != 0) {
        add_error(c, "%s", msg);
        return;
    }
    /* 姓名 */
    cell_get(c, COL_NAME, &s, &n);
    if (n == 0) {
        add_error(c, "姓名为空");
        return;
    }
    if (c->cells[COL_NAME].over || n >= sizeof r.name || utf8_chars(s, n) > PC_ROSTER_NAME_CHARS) {
        show(s, n, 24, v, sizeof v);
        add_error(c, "姓名「%s」超过 %d 个字", v, PC_ROSTER_NAME_CHARS);
        return;
    }
    if (has_control(s, n)) {
        show(s, n, 40, v, sizeof v);
        add_error(c, "姓名「%s」中含有换行或其他控制字符", v);
        return;
    }
    memcpy(r.name, s, n);
    /* 学院 */
    cell_get(c, COL_COLLEGE, &s, &n);
    if (n == 0) {
        add_error(c, "学院为空");
        return;
    }
    if (c->cells[COL_COLLEGE].over || clean_text(s, n, r.college, sizeof r.college) != 0) {
        add_error(c, "学院名称过长（最多 %zu 字节，约 42 个汉字）", sizeof r.college - 1);
        return;
    }
    if (r.college[0] == '\0') { /* nothing but control characters */
        add_error(c, "学院为空");
        return;
    }
    /* 班级 */
    if (c->col[COL_CLASS] != COL_NONE) {
        cell_get(c, COL_CLASS, &s, &n);
        if (c->cells[COL_CLASS].over || clean_text(s, n, r.class_name, sizeof r.class_name) != 0) {
            add_error(c, "班级名称过长（最多 %zu 字节，约 42 个汉字）", sizeof r.class_name - 1);
            return;
        }
    }
    /* 采集码 */
    if (c->col[COL_CODE] != COL_NONE) {
        cell_get(c, COL_CODE, &s, &n);
        if (c->cells[COL_CODE].over || n >= sizeof r.code) {
            add_error(c, "采集码过长（最多 %zu 字节）", sizeof r.code - 1);
            return;
        }
        memcpy(r.code, s, n);
    }
    /* 身份证号: masked right away */
    if (c->col[COL_ID] != COL_NONE) {
        cell_get(c, COL_ID, &s, &n);
        unwrap(&s, &n);
        if (scientific(s, n)) {
            add_error(c, "身份证号被 Excel 转成了科学计数法，请将该列设为文本后重新导出");
            return;
        }
        if (c->cells[COL_ID].over || n >= sizeof r.id_masked) {
            add_error(c, "身份证号过长（最多 %zu 个字符）", sizeof r.id_masked - 1);
            return;
        }
        for (size_t i = 0; i < n; i++) {
            if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f) {
                add_error(c, "身份证号只能含有半角字母、数字和符号");
                return;
            }
        }
        for (size_t i = 0; i < n; i++)
            r.id_masked[i] = (n > 8 && (i < 4 || i >= n - 4)) ? s[i] : '*';
    }
    /* 已采集 */
    if (c->col[COL_COLLECTED] != COL_NONE) {
        cell_get(c, COL_COLLECTED, &s, &n);
        r.collected = collected_value(s, n);
        if (r.collected < 0) {
            show(s, n, 24, v, sizeof v);
            add_error(c, "已采集一栏的「%s」看不懂（请填 是 或 否）", v);
            return;
        }
    }
    /* 序号: informative only, 0 unless a plain non-negative integer */
    if (c->col[COL_SEQ] != COL_NONE) {
        cell_get(c, COL_SEQ, &s, &n);
        unwrap(&s, &n);
        if (n > 0 && n < 12 && s[0] >= '0' && s[0] <= '9') {
            char b[12], *end;
            memcpy(b, s, n);
            b[n] = '\0';
            long x = strtol(b, &end, 10);
            if (*end == '\0' && x >= 0 && x <= INT_MAX)
                r.seq = (int)x;
        }
    }
    const struct pc_roster_row *first = dup_find(c, r.student_no);
    if (first) {
        add_error(c, "学号 %s 与第 %zu 行重复", r.student_no, first->line);
        return;
    }
    add_row(c, &r);
}

static void header_record(struct ctx *c)
{
    if (!c->nonblank)
        return;
    unsigned mask = 0;
    for (int k = 0; k < COL_N; k++)
        if (c->hcol[k] != COL_NONE)
            mask |= 1u << k;
    c->scanned++;
    if ((mask & REQUIRED_MASK) == REQUIRED_MASK) {
        if (c->hdup < COL_N) {
            c->stop = 1;
            c->rc = PC_EINVAL;
            snprintf(c->err, sizeof c->err, "表头（第 %zu 行）中「%s」列出现了不止一次",
                     c->start_line, g_col_label[c->hdup]);
            return;
        }
        memcpy(c->col, c->hcol, sizeof c->col);
        c->have_header = 1;
        c->header_line = c->start_line;
        return;
    }
    if (__builtin_popcount(mask & REQUIRED_MASK) > __builtin_popcount(c->best_mask))
        c->best_mask = mask & REQUIRED_MASK;
    if (c->scanned >= PC_ROSTER_HEADER_SCAN) {
        c->stop = 1;
        c->rc = NO_HEADER;
    }
}

static void reset_record(struct ctx *c)
{
    c->field = 0;
    c->nonblank = 0;
    c->bad_utf8 = 0;
    c->hdup = COL_N + 1;
    for (int k = 0; k < COL_N; k++) {
        c->cells[k].n = 0;
        c->cells[k].p[0] = '\0';
        c->cells[k].over = 0;
        c->hcol[k] = COL_NONE;
    }
}

static void on_field(void *p, size_t len, void *data)
{
    struct ctx *c = data;
    const char *s = p ? p : "";
    if (c->stop)
        return;
    if (!p)
        len = 0;
    size_t i = c->field++;
    if (i == 0)
        c->start_line = c->pending_line;
    if (!utf8_valid(s, len))
        c->bad_utf8 = 1;
    const char *t = s;
    size_t tn = len;
    trim(&t, &tn);
    if (!c->have_header) {
        if (tn)
            c->nonblank = 1;
        enum col k = header_col(t, tn);
        if (k < COL_N) {
            if (c->hcol[k] != COL_NONE)
                c->hdup = (int)k;
            else
                c->hcol[k] = i;
        }
        return;
    }
    if (tn && i != c->col[COL_SEQ])
        c->nonblank = 1;
    for (int k = 0; k < COL_N; k++) {
        if (c->col[k] != i)
            continue;
        struct cell *cl = &c->cells[k];
        if (len > CELL_KEEP) {
            cl->over = 1;
            len = CELL_KEEP;
        }
        memcpy(cl->p, s, len);
        cl->p[len] = '\0';
        cl->n = len;
    }
}

static void on_record(int term, void *data)
{
    struct ctx *c = data;
    if (c->stop)
        return;
    if (c->have_header)
        data_record(c);
    else
        header_record(c);
    reset_record(c);
}

/* libcsv's buffer: bounded by PC_ROSTER_CELL_MAX, and the old copy wiped (it may hold an ID
 * number). NULL past the bound makes csv_parse stop short. */
static void *csv_grow(void *old, size_t n)
{
    if (n > PC_ROSTER_CELL_MAX + 1)
        return NULL;
    void *p = pc_xmalloc(n);
    if (old) {
        size_t on = malloc_usable_size(old);
        memcpy(p, old, on < n ? on : n);
        explicit_bzero(old, on);
        free(old);
    }
    return p;
}

static void csv_release(void *p)
{
    if (p) {
        explicit_bzero(p, malloc_usable_size(p));
        free(p);
    }
}

/* One pass over decoded text with one delimiter. 0 (c->have_header), NO_HEADER, or
 * PC_EINVAL / PC_ETOOBIG with c->err. */
static int run(struct ctx *c, const char *t, size_t n)
{
    struct csv_parser p;
    size_t line = 1, i = 0;
    csv_init(&p, 0);
    csv_set_delim(&p, (unsigned char)c->delim);
    csv_set_realloc_func(&p, csv_grow);
    csv_set_free_func(&p, csv_release);
    csv_set_blk_size(&p, 16384);
    for (int k = 0; k < COL_N; k++)
        c->col[k] = COL_NONE;
    reset_record(c);
    while (i < n && !c->stop) {
        size_t j = i;
        while (j < n && t[j] != '\n' && t[j] != '\r')
            j++;
        if (j < n)
            j += (t[j] == '\r' && j + 1 < n && t[j + 1] == '\n') ? 2 : 1;
        if (p.pstate == CSV_ROW_NOT_BEGUN)
            c->pending_line = line;
        if (csv_parse(&p, t + i, j - i, on_field, on_record, c) != j - i) {
            /* Before the header this is just the wrong delimiter's quoting. */
            c->stop = 1;
            c->rc = c->have_header ? PC_EINVAL : NO_HEADER;
            snprintf(c->err, sizeof c->err,
                     "第 %zu 行起有一个超过 1 MiB 的单元格：多半是引号没有闭合", c->pending_line);
            break;
        }
        line++;
        i = j;
    }
    if (!c->stop) {
        c->unclosed = p.pstate == CSV_FIELD_BEGUN && p.quoted;
        csv_fini(&p, on_field, on_record, c);
    }
    csv_free(&p);
    if (c->stop)
        return c->rc;
    return c->have_header ? 0 : NO_HEADER;
}

static void ctx_free(struct ctx *c)
{
    if (!c)
        return;
    free(c->rows);
    free(c->errors);
    free(c->dup);
    explicit_bzero(c, sizeof *c);
    free(c);
}

/* Anything but blanks, BOMs and delimiters? */
static int has_content(const char *t, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t k = blank_at(t + i, n - i);
        if (k) {
            i += k;
        } else if (n - i >= 3 && memcmp(t + i, "\xef\xbb\xbf", 3) == 0) {
            i += 3;
        } else if (t[i] == ',' || t[i] == ';') {
            i++;
        } else {
            return 1;
        }
    }
    return 0;
}

/* Tries each delimiter on decoded text. 0 with *win (the caller frees), NO_HEADER with the
 * closest candidate's required columns in *best (*seen: the text has any content), or a
 * refusal with err. */
static int parse_text(const char *t, size_t n, size_t max_rows, struct ctx **win, unsigned *best,
                      size_t *seen, char *err, size_t errlen)
{
    static const char delims[] = {',', '\t', ';'};
    *win = NULL;
    *seen = has_content(t, n);
    for (size_t d = 0; d < sizeof delims; d++) {
        struct ctx *c = pc_new(struct ctx);
        c->max_rows = max_rows;
        c->delim = delims[d];
        int rc = run(c, t, n);
        if (rc == NO_HEADER) {
            if (__builtin_popcount(c->best_mask) > __builtin_popcount(*best))
                *best = c->best_mask;
            ctx_free(c);
            continue;
        }
        if (rc != 0) {
            set_err(err, errlen, c->err);
            ctx_free(c);
            return rc;
        }
        *win = c;
        return 0;
    }
    return NO_HEADER;
}

/* Converts n bytes from charset `from` to UTF-8 (NUL-terminated, *out owned). 0 or -1. */
static int to_utf8(const char *from, const char *in, size_t n, char **out, size_t *outn)
{
    iconv_t cd = iconv_open("UTF-8", from);
    int rc = -1;
    *out = NULL;
    *outn = 0;
    if (cd == (iconv_t)-1)
        return -1;
    size_t cap = n * 2 + 16; /* GB18030 and UTF-16 grow at most 1.5 times */
    char *buf = pc_xmalloc(cap);
    char *ip = (char *)in, *op = buf;
    size_t il = n, ol = cap - 1;
    if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1 || il != 0)
        goto out;
    if (iconv(cd, NULL, NULL, &op, &ol) == (size_t)-1)
        goto out;
    *op = '\0';
    *outn = (size_t)(op - buf);
    *out = buf;
    buf = NULL;
    rc = 0;
out:
    if (buf) {
        explicit_bzero(buf, cap);
        free(buf);
    }
    iconv_close(cd);
    return rc;
}

int pc_roster_parse(const char *data, size_t len, size_t max_rows, struct pc_roster_parse *out,
                    char *err, size_t errlen)
{
    const unsigned char *u = (const unsigned char *)data;
    char *conv = NULL;
    size_t convn = 0;
    const char *enc = "UTF-8";
    struct ctx *c = NULL;
    unsigned best = 0;
    size_t seen = 0;
    int rc;

    memset(out, 0, sizeof *out);
    set_err(err, errlen, "");
    if (!data) {
        set_err(err, errlen, "没有收到文件");
        return PC_EINVAL;
    }
    if (len > PC_ROSTER_MAX_BYTES) {
        set_err(err, errlen, "文件超过 20 MiB，请分成几个文件上传");
        return PC_ETOOBIG;
    }
    if (len == 0) {
        set_err(err, errlen, "文件是空的");
        return PC_EINVAL;
    }
    if (len >= 4 && u[0] == 'P' && u[1] == 'K' && (u[2] == 3 || u[2] == 5 || u[2] == 7) &&
        u[3] == u[2] + 1) {
        set_err(err, errlen,
                "这是 Excel 工作簿（.xlsx）或压缩包，不是 CSV：请在 Excel 中「另存为」"
                "「CSV UTF-8（逗号分隔）」后再上传");
        return PC_EINVAL;
    }
    if (len >= 8 && memcmp(u, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8) == 0) {
        set_err(err, errlen,
                "这是旧版 Excel 工作簿（.xls），不是 CSV：请在 Excel 中「另存为」"
                "「CSV UTF-8（逗号分隔）」后再上传");
        return PC_EINVAL;
    }

    if (len >= 3 && memcmp(u, "\xef\xbb\xbf", 3) == 0) {
        enc = "UTF-8-BOM";
        if (memchr(data + 3, '\0', len - 3))
            goto binary;
        rc = parse_text(data + 3, len - 3, max_rows, &c, &best, &seen, err, errlen);
    } else if (len >= 2 && u[0] == 0xff && u[1] == 0xfe) {
        enc = "UTF-16LE";
        if (to_utf8("UTF-16LE", data + 2, len - 2, &conv, &convn) != 0) {
            set_err(err, errlen,
                    "文件开头标明是 UTF-16（Unicode 文本），但内容不是有效的 UTF-16："
                    "请另存为「CSV UTF-8（逗号分隔）」后再上传");
            rc = PC_EINVAL;
            goto out;
        }
        if (memchr(conv, '\0', convn))
            goto binary;
        rc = parse_text(conv, convn, max_rows, &c, &best, &seen, err, errlen);
    } else if (len >= 2 && u[0] == 0xfe && u[1] == 0xff) {
        set_err(err, errlen,
                "不支持 UTF-16BE 编码的文件：请另存为「CSV UTF-8（逗号分隔）」后再上传");
        return PC_EINVAL;
    } else {
        if (memchr(data, '\0', len))
            goto binary;
        rc = parse_text(data, len, max_rows, &c, &best, &seen, err, errlen);
        if (rc == NO_HEADER && !utf8_valid(data, len)) {
            /* Not UTF-8: Excel's "CSV (逗号分隔)" on Chinese Windows writes GBK. */
            if (to_utf8("GB18030", data, len, &conv, &convn) != 0) {
                set_err(err, errlen,
                        "无法识别文件的字符编码（既不是 UTF-8，也不是 GBK/GB18030）："
                        "请另存为「CSV UTF-8（逗号分隔）」后再上传");
                rc = PC_EINVAL;
                goto out;
            }
            enc = "GB18030";
            best = 0;
            rc = parse_text(conv, convn, max_rows, &c, &best, &seen, err, errlen);
        }
    }
    if (rc == NO_HEADER && seen == 0) {
        set_err(err, errlen, "文件中没有任何内容");
        rc = PC_EINVAL;
        goto out;
    }
    if (rc == NO_HEADER) {
        char miss[64] = "";
        size_t o = 0;
        for (int k = COL_COLLEGE; k <= COL_SNO; k++)
            if (!(best & (1u << k)))
                o += (size_t)snprintf(miss + o, sizeof miss - o, "%s「%s」", o ? "、" : "",
                                      g_col_label[k]);
        char msg[300];
        snprintf(msg, sizeof msg,
                 "找不到表头：文件前 %d 个非空行中没有同时含有「学院」「姓名」「学号」三列的一行"
                 "（缺少%s）",
                 PC_ROSTER_HEADER_SCAN, miss);
        set_err(err, errlen, msg);
        rc = PC_EINVAL;
        goto out;
    }
    if (rc != 0)
        goto out;

    out->rows = c->rows;
    out->nrows = c->nrows;
    out->errors = c->errors;
    out->nerrors = c->nerrors;
    c->rows = NULL;
    c->errors = NULL;
    snprintf(out->encoding, sizeof out->encoding, "%s", enc);
    out->delimiter = c->delim;
    out->header_line = c->header_line;
    rc = 0;
    goto out;

binary:
    set_err(err, errlen, "文件含有二进制内容（NUL 字节），不是 CSV 文本文件");
    rc = PC_EINVAL;
out:
    ctx_free(c);
    if (conv) {
        explicit_bzero(conv, convn);
        free(conv);
    }
    return rc;
}

void pc_roster_parse_free(struct pc_roster_parse *p)
{
    if (!p)
        return;
    free(p->rows);
    free(p->errors);
    memset(p, 0, sizeof *p);
}
