/* fuzz_roster_csv.c — files into pc_roster_parse (roster/csvimport.h).
 *
 * Input: one control byte, then the file. Control bits 0-5: max_rows (63: 100000); bit 6:
 * prepend a header with every column ("序号,学院,姓名,学号,班级,采集码,身份证号,已采集\n") so
 * mutations reach the data rows at once; bit 7: also parse the file after a UTF-8 BOM.
 * Checks: the return code and the failure state (all zero, a non-empty UTF-8 reason); each row's
 * invariants (student_no [A-Za-z0-9]{1,32}, name 1..64 characters without control characters,
 * college non-empty, every string valid UTF-8 and terminated inside its array, id_masked
 * printable ASCII, collected in -1..1); rows and errors in strictly increasing line order; no
 * student_no twice (ignoring case); max_rows; and that a second parse gives identical bytes.
 * The file is copied to an exact-size buffer. */
#include "base/err.h"
#include "roster/csvimport.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char g_header[] = "序号,学院,姓名,学号,班级,采集码,身份证号,已采集\n";

static int utf8_ok(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned char c = u[i];
        size_t k;
        uint32_t v;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            k = 2, v = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            k = 3, v = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            k = 4, v = c & 0x07;
        } else {
            return 0;
        }
        if (i + k > n)
            return 0;
        for (size_t j = 1; j < k; j++) {
            if ((u[i + j] & 0xc0) != 0x80)
                return 0;
            v = (v << 6) | (u[i + j] & 0x3f);
        }
        if ((k == 3 && v < 0x800) || (k == 4 && v < 0x10000) || v > 0x10ffff ||
            (v >= 0xd800 && v <= 0xdfff))
            return 0;
        i += k;
    }
    return 1;
}

/* A NUL-terminated UTF-8 string inside its array. */
static size_t check_str(const char *s, size_t size)
{
    const char *z = memchr(s, '\0', size);
    if (!z || !utf8_ok(s, (size_t)(z - s)))
        abort();
    return (size_t)(z - s);
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int sno_eq(const char *a, const char *b)
{
    while (*a && lower(*a) == lower(*b))
        a++, b++;
    return lower(*a) == lower(*b);
}

static void check(const char *file, size_t n, size_t max_rows)
{
    struct pc_roster_parse p, again;
    char err[160], err2[160];
    int rc = pc_roster_parse(file, n, max_rows, &p, err, sizeof err);
    if (rc != 0) {
        if ((rc != PC_EINVAL && rc != PC_ETOOBIG) || p.rows || p.nrows || p.errors || p.nerrors)
            abort();
        if (err[0] == '\0' || !utf8_ok(err, strlen(err)))
            abort();
        return;
    }
    if (err[0] != '\0' || p.nrows + p.nerrors > max_rows)
        abort();
    if ((p.nrows == 0) != (p.rows == NULL) || (p.nerrors == 0) != (p.errors == NULL))
        abort();
    if (strcmp(p.encoding, "UTF-8") && strcmp(p.encoding, "UTF-8-BOM") &&
        strcmp(p.encoding, "GB18030") && strcmp(p.encoding, "UTF-16LE"))
        abort();
    if (p.delimiter != ',' && p.delimiter != '\t' && p.delimiter != ';')
        abort();
    for (size_t i = 0; i < p.nrows; i++) {
        const struct pc_roster_row *r = &p.rows[i];
        if (r->line <= p.header_line || (i && r->line <= p.rows[i - 1].line))
            abort();
        size_t k = check_str(r->student_no, sizeof r->student_no);
        if (k == 0 || k > 32)
            abort();
        for (size_t j = 0; j < k; j++) {
            char c = r->student_no[j];
            if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
                abort();
        }
        k = check_str(r->name, sizeof r->name);
        size_t chars = 0;
        for (size_t j = 0; j < k; j++) {
            unsigned char c = (unsigned char)r->name[j];
            if (c < 0x20 || c == 0x7f)
                abort();
            chars += (c & 0xc0) != 0x80;
        }
        if (k == 0 || chars > 64 || r->name[0] == ' ' || r->name[k - 1] == ' ')
            abort();
        if (check_str(r->college, sizeof r->college) == 0)
            abort();
        check_str(r->class_name, sizeof r->class_name);
        check_str(r->code, sizeof r->code);
        k = check_str(r->id_masked, sizeof r->id_masked);
        for (size_t j = 0; j < k; j++)
            if (r->id_masked[j] <= ' ' || r->id_masked[j] >= 0x7f)
                abort();
        if (r->collected < -1 || r->collected > 1 || r->seq < 0)
            abort();
        for (size_t j = 0; j < i; j++)
            if (sno_eq(p.rows[j].student_no, r->student_no))
                abort();
    }
    for (size_t i = 0; i < p.nerrors; i++) {
        const struct pc_roster_error *e = &p.errors[i];
        if (e->line <= p.header_line || (i && e->line <= p.errors[i - 1].line))
            abort();
        check_str(e->reason, sizeof e->reason);
        if (strncmp(e->reason, "第 ", 4) != 0)
            abort();
    }
    if (pc_roster_parse(file, n, max_rows, &again, err2, sizeof err2) != 0)
        abort();
    if (again.nrows != p.nrows || again.nerrors != p.nerrors ||
        (p.nrows && memcmp(again.rows, p.rows, p.nrows * sizeof *p.rows)) ||
        (p.nerrors && memcmp(again.errors, p.errors, p.nerrors * sizeof *p.errors)))
        abort();
    pc_roster_parse_free(&again);
    pc_roster_parse_free(&p);
    if (p.rows || p.errors || p.nrows || p.nerrors)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t ctl = data[0];
    size_t max_rows = (ctl & 63) == 63 ? 100000 : (size_t)(ctl & 63);
    size_t hl = (ctl & 0x40) ? sizeof g_header - 1 : 0;
    size_t n = size - 1 + hl;
    char *file = malloc(n ? n : 1);
    memcpy(file, g_header, hl);
    memcpy(file + hl, data + 1, size - 1);
    check(file, n, max_rows);
    if (ctl & 0x80) {
        char *bom = malloc(n + 3);
        memcpy(bom, "\xef\xbb\xbf", 3);
        memcpy(bom + 3, file, n);
        check(bom, n + 3, max_rows);
        free(bom);
    }
    free(file);
    return 0;
}
