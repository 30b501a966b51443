/* tests/unit/test_roster_csv.c — roster/csvimport.h: the 101-student fixtures in every
 * encoding Excel writes (tests/fixtures/roster/README.md), free column order and the optional
 * columns (ID masked, the raw number nowhere in the result), per-line errors with their line
 * numbers, whole-file refusals, duplicates, quoting, lone CR, delimiters, header variants, and
 * every prefix of valid files (each in its own exact-size allocation, so ASan sees any read
 * past len). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/err.h"
#include "roster/csvimport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIXTURES PC_SOURCE_DIR "/tests/fixtures/roster/"

static char *load(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, FIXTURES "%s", name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    char *p = malloc(n ? (size_t)n : 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return p;
}

/* Parses a C string (copied to an exact-size buffer). */
static int parse_str(const char *s, size_t max_rows, struct pc_roster_parse *out, char *err,
                     size_t errlen)
{
    size_t n = strlen(s);
    char *p = malloc(n ? n : 1);
    memcpy(p, s, n);
    int rc = pc_roster_parse(p, n, max_rows, out, err, errlen);
    free(p);
    return rc;
}

static int parse_file(const char *name, struct pc_roster_parse *out, char *err, size_t errlen)
{
    size_t n;
    char *p = load(name, &n);
    int rc = pc_roster_parse(p, n, 1000, out, err, errlen);
    free(p);
    return rc;
}

static void assert_zeroed(const struct pc_roster_parse *p)
{
    assert_null(p->rows);
    assert_null(p->errors);
    assert_int_equal(p->nrows, 0);
    assert_int_equal(p->nerrors, 0);
}

static int contains(const void *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp((const char *)hay + i, needle, k) == 0)
            return 1;
    return 0;
}

static const struct pc_roster_error *error_at(const struct pc_roster_parse *p, size_t line)
{
    for (size_t i = 0; i < p->nerrors; i++)
        if (p->errors[i].line == line)
            return &p->errors[i];
    return NULL;
}

static void assert_error(const struct pc_roster_parse *p, size_t line, const char *needle)
{
    const struct pc_roster_error *e = error_at(p, line);
    if (!e)
        fail_msg("no error on line %zu", line);
    char prefix[32];
    snprintf(prefix, sizeof prefix, "第 %zu 行：", line);
    if (strncmp(e->reason, prefix, strlen(prefix)) != 0 || !strstr(e->reason, needle))
        fail_msg("line %zu: \"%s\" lacks \"%s\"", line, e->reason, needle);
}

static const struct pc_roster_row *row_at(const struct pc_roster_parse *p, size_t line)
{
    for (size_t i = 0; i < p->nrows; i++)
        if (p->rows[i].line == line)
            return &p->rows[i];
    fail_msg("no row on line %zu", line);
    return NULL;
}

static void check_101(const struct pc_roster_parse *p)
{
    assert_int_equal(p->nrows, 101);
    assert_int_equal(p->nerrors, 0);
    assert_int_equal(p->header_line, 1);
    for (size_t i = 0; i < 101; i++) {
        const struct pc_roster_row *r = &p->rows[i];
        assert_int_equal(r->line, i + 2);
        assert_int_equal(r->seq, (int)i + 1);
        assert_int_equal(r->collected, -1);
        assert_string_equal(r->code, "");
        assert_string_equal(r->id_masked, "");
        assert_true(strlen(r->student_no) >= 10);
    }
    const struct pc_roster_row *r = &p->rows[0];
    assert_string_equal(r->college, "海外学院(外国语学院)");
    assert_string_equal(r->name, "陈萱");
    assert_string_equal(r->student_no, "2020146101");
    assert_string_equal(r->class_name, "20英语B班(师)");
    assert_string_equal(p->rows[1].name, "MISSANG MI ABA’A Medy Evrard");
    assert_string_equal(p->rows[1].student_no, "2020146F101");
    assert_string_equal(p->rows[2].name, "N'DIAYE Fatou Binetou");
    assert_string_equal(p->rows[3].name, "GARCIA, Maria José");
    assert_string_equal(p->rows[3].class_name, "20英语A班(师)");
    assert_string_equal(p->rows[14].name, "迪丽热巴·迪力木拉提");
    assert_string_equal(p->rows[15].name, "刘䶮");
    assert_string_equal(p->rows[16].name, "王芳");
    assert_string_equal(p->rows[26].name, "王芳");
    assert_string_equal(p->rows[27].class_name, "");
    assert_string_equal(p->rows[42].college, "音乐学院");
    assert_string_equal(p->rows[100].name, "司马懿");
    assert_string_equal(p->rows[100].college, "体育学院");
    assert_string_equal(p->rows[100].student_no, "2020123110");
    /* ten colleges */
    size_t ncol = 0;
    for (size_t i = 0; i < 101; i++)
        if (i == 0 || strcmp(p->rows[i].college, p->rows[i - 1].college) != 0)
            ncol++;
    assert_int_equal(ncol, 10);
}

static void test_101_every_encoding(void **state)
{
    static const struct {
        const char *file, *enc;
        char delim;
    } cases[] = {
        {"roster-101-utf8.csv", "UTF-8", ','},
        {"roster-101-utf8-bom.csv", "UTF-8-BOM", ','},
        {"roster-101-gb18030.csv", "GB18030", ','},
        {"roster-101-utf16le.txt", "UTF-16LE", '\t'},
    };
    struct pc_roster_parse first;
    char err[256];
    assert_int_equal(parse_file(cases[0].file, &first, err, sizeof err), 0);
    assert_string_equal(err, "");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct pc_roster_parse p;
        int rc = parse_file(cases[i].file, &p, err, sizeof err);
        if (rc != 0)
            fail_msg("%s: %d %s", cases[i].file, rc, err);
        assert_string_equal(p.encoding, cases[i].enc);
        assert_int_equal(p.delimiter, cases[i].delim);
        check_101(&p);
        /* identical content, byte for byte (rows are zero-filled) */
        assert_memory_equal(p.rows, first.rows, 101 * sizeof *p.rows);
        pc_roster_parse_free(&p);
        assert_zeroed(&p);
        pc_roster_parse_free(&p); /* twice is fine */
    }
    pc_roster_parse_free(&first);
    pc_roster_parse_free(NULL);
}

static void test_max_rows(void **state)
{
    size_t n;
    char *d = load("roster-101-utf8.csv", &n), err[256];
    struct pc_roster_parse p;
    assert_int_equal(pc_roster_parse(d, n, 100, &p, err, sizeof err), PC_ETOOBIG);
    assert_zeroed(&p);
    assert_non_null(strstr(err, "100"));
    assert_int_equal(pc_roster_parse(d, n, 101, &p, err, sizeof err), 0);
    assert_int_equal(p.nrows, 101);
    pc_roster_parse_free(&p);
    /* err may be NULL */
    assert_int_equal(pc_roster_parse(d, n, 5, &p, NULL, 0), PC_ETOOBIG);
    free(d);

    assert_int_equal(pc_roster_parse(NULL, 0, 5, &p, err, sizeof err), PC_EINVAL);
    char *big = calloc(1, PC_ROSTER_MAX_BYTES + 1);
    assert_int_equal(pc_roster_parse(big, PC_ROSTER_MAX_BYTES + 1, 5, &p, err, sizeof err),
                     PC_ETOOBIG);
    assert_zeroed(&p);
    assert_non_null(strstr(err, "20 MiB"));
    free(big);
}

static void test_column_order_and_extra_columns(void **state)
{
    struct pc_roster_parse p;
    char err[256];
    assert_int_equal(parse_file("roster-extra-columns.csv", &p, err, sizeof err), 0);
    assert_int_equal(p.nrows, 4);
    assert_int_equal(p.nerrors, 2);

    const struct pc_roster_row *r = row_at(&p, 2);
    assert_string_equal(r->student_no, "2020146F101");
    assert_string_equal(r->name, "MISSANG MI ABA’A Medy Evrard");
    assert_string_equal(r->college, "海外学院(外国语学院)");
    assert_string_equal(r->class_name, "20英语B班(师)");
    assert_string_equal(r->code, "https://photo.example.edu.cn/c/AB12CD34");
    assert_string_equal(r->id_masked, "4201**********1234");
    assert_int_equal(r->collected, 1);
    assert_int_equal(r->seq, 0);
    r = row_at(&p, 3);
    assert_string_equal(r->id_masked, "4201**********123X");
    assert_int_equal(r->collected, 0);
    assert_string_equal(r->code, "PC-0002");
    r = row_at(&p, 4);
    assert_string_equal(r->id_masked, "");
    assert_string_equal(r->code, "");
    assert_int_equal(r->collected, 0);
    r = row_at(&p, 5);
    assert_string_equal(r->id_masked, "G123*5678");
    assert_int_equal(r->collected, 1);
    assert_error(&p, 6, "身份证号被 Excel 转成了科学计数法");
    assert_error(&p, 7, "已采集");

    /* the raw ID numbers are nowhere in the result */
    static const char *const ids[] = {"420106200001011234", "42010620000101123X", "12345678",
                                      "200001011"};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        assert_false(contains(p.rows, p.nrows * sizeof *p.rows, ids[i]));
        assert_false(contains(p.errors, p.nerrors * sizeof *p.errors, ids[i]));
    }
    pc_roster_parse_free(&p);

    /* short ID-like values are all stars */
    assert_int_equal(parse_str("学院,姓名,学号,身份证\n文学院,陈萱,1,12345678\n文学院,王芳,2,"
                               "123456789\n",
                               10, &p, err, sizeof err),
                     0);
    assert_string_equal(p.rows[0].id_masked, "********");
    assert_string_equal(p.rows[1].id_masked, "1234*6789");
    pc_roster_parse_free(&p);
}

static void test_mixed_errors(void **state)
{
    struct pc_roster_parse p;
    char err[256];
    assert_int_equal(parse_file("roster-mixed-errors.csv", &p, err, sizeof err), 0);
    assert_string_equal(p.encoding, "UTF-8-BOM");
    assert_int_equal(p.header_line, 2);
    assert_int_equal(p.nrows, 7);
    assert_int_equal(p.nerrors, 9);

    assert_string_equal(row_at(&p, 3)->name, "陈萱");
    assert_int_equal(row_at(&p, 3)->seq, 1);
    assert_string_equal(row_at(&p, 8)->student_no, "2020103105");
    assert_string_equal(row_at(&p, 9)->student_no, "2020111106");
    assert_string_equal(row_at(&p, 14)->name, "吴十");
    assert_string_equal(row_at(&p, 14)->class_name, "");
    assert_string_equal(row_at(&p, 16)->name, "王 芳");
    assert_string_equal(row_at(&p, 17)->student_no, "1234567890F");
    assert_string_equal(row_at(&p, 19)->name, "褚十五");

    assert_error(&p, 4, "姓名为空");
    assert_error(&p, 5, "学号为空");
    assert_error(&p, 6, "学号「2.02015E+10」被 Excel 转成了科学计数法，请将该列设为文本后重新导出");
    assert_error(&p, 10, "只能由字母和数字组成");
    assert_error(&p, 11, "与第 3 行重复");
    assert_error(&p, 13, "超过 64 个字");
    assert_error(&p, 15, "学院为空");
    assert_error(&p, 18, "超过 32 位");
    assert_error(&p, 21, "UTF-8");
    /* errors come in line order, one per record */
    for (size_t i = 1; i < p.nerrors; i++)
        assert_true(p.errors[i].line > p.errors[i - 1].line);
    pc_roster_parse_free(&p);
}

static void test_refusals(void **state)
{
    struct pc_roster_parse p;
    char err[256];

    assert_int_equal(parse_file("roster-xlsx.csv", &p, err, sizeof err), PC_EINVAL);
    assert_zeroed(&p);
    assert_non_null(strstr(err, ".xlsx"));
    assert_int_equal(parse_file("roster-missing-sno.csv", &p, err, sizeof err), PC_EINVAL);
    assert_zeroed(&p);
    assert_non_null(strstr(err, "缺少「学号」"));

    static const char ole2[] = "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00\x00";
    assert_int_equal(pc_roster_parse(ole2, sizeof ole2 - 1, 10, &p, err, sizeof err), PC_EINVAL);
    assert_non_null(strstr(err, ".xls"));
    static const char nul[] = "学院,姓名,学号\n文学院,陈萱,1\x00\n";
    assert_int_equal(pc_roster_parse(nul, sizeof nul - 1, 10, &p, err, sizeof err), PC_EINVAL);
    assert_non_null(strstr(err, "二进制"));
    assert_int_equal(pc_roster_parse("", 0, 10, &p, err, sizeof err), PC_EINVAL);
    assert_int_equal(parse_str("\n\r\n  ,, \n", 10, &p, err, sizeof err), PC_EINVAL);
    assert_non_null(strstr(err, "没有任何内容"));
    static const char be[] = "\xfe\xff\x5b\x66\x96\x62";
    assert_int_equal(pc_roster_parse(be, sizeof be - 1, 10, &p, err, sizeof err), PC_EINVAL);
    assert_non_null(strstr(err, "UTF-16BE"));
    /* odd number of bytes after a UTF-16LE BOM, a lone surrogate */
    static const char odd[] = "\xff\xfe\x66\x5b\x62";
    assert_int_equal(pc_roster_parse(odd, sizeof odd - 1, 10, &p, err, sizeof err), PC_EINVAL);
    assert_non_null(strstr(err, "UTF-16"));
    static const char surr[] = "\xff\xfe\x00\xd8\x41\x00";
    assert_int_equal(pc_roster_parse(surr, sizeof surr - 1, 10, &p, err, sizeof err), PC_EINVAL);
    /* neither UTF-8 nor GB18030 (0x80 and 0xff are not GB18030 lead bytes) */
    assert_int_equal(parse_str("\xd1\xa7\xd4\xba,\x80\xff\n", 10, &p, err, sizeof err), PC_EINVAL);
    assert_non_null(strstr(err, "字符编码"));
    /* a GB18030 file with one broken byte is refused as a whole */
    assert_int_equal(parse_str("\xd1\xa7\xd4\xba,\xd0\xd5\xc3\xfb,\xd1\xa7\xba\xc5\n"
                               "\xce\xc4,\xb3\xc2,1\n\xce\xc4,\x80,2\n",
                               10, &p, err, sizeof err),
                     PC_EINVAL);
    assert_non_null(strstr(err, "字符编码"));
    /* the same, intact: GB18030 学院,姓名,学号 / 文,陈,1 */
    assert_int_equal(parse_str("\xd1\xa7\xd4\xba,\xd0\xd5\xc3\xfb,\xd1\xa7\xba\xc5\n"
                               "\xce\xc4,\xb3\xc2,1\n",
                               10, &p, err, sizeof err),
                     0);
    assert_string_equal(p.encoding, "GB18030");
    assert_string_equal(p.rows[0].college, "文");
    assert_string_equal(p.rows[0].name, "陈");
    pc_roster_parse_free(&p);
    /* a column twice */
    assert_int_equal(parse_str("学院,姓名,学号,学 号\n文学院,陈萱,1,2\n", 10, &p, err, sizeof err),
                     PC_EINVAL);
    assert_non_null(strstr(err, "「学号」列出现了不止一次"));
    /* the header after 10 non-blank records */
    char buf[1024] = "";
    for (int i = 0; i < 10; i++)
        strncat(buf, "说明,,\n", sizeof buf - strlen(buf) - 1);
    strncat(buf, "学院,姓名,学号\n文学院,陈萱,1\n", sizeof buf - strlen(buf) - 1);
    assert_int_equal(parse_str(buf, 10, &p, err, sizeof err), PC_EINVAL);
    assert_non_null(strstr(err, "找不到表头"));
    /* 9 title records (blank lines not counted) is fine */
    assert_int_equal(parse_str(buf + strlen("说明,,\n"), 10, &p, err, sizeof err), 0);
    assert_int_equal(p.header_line, 10);
    assert_int_equal(p.nrows, 1);
    pc_roster_parse_free(&p);
    /* a reason that does not fit is cut on a character boundary */
    char small[20];
    assert_int_equal(parse_file("roster-xlsx.csv", &p, small, sizeof small), PC_EINVAL);
    assert_true(strlen(small) < sizeof small);
    struct pc_roster_parse q;
    assert_int_equal(parse_str(small, 1, &q, NULL, 0), PC_EINVAL); /* still valid UTF-8 text */
}

static void test_duplicates(void **state)
{
    struct pc_roster_parse p;
    char err[256];
    assert_int_equal(parse_str("学号,姓名,学院\n"
                               "2020146F101,甲,海外学院\n"
                               "2020146F102,乙,海外学院\n"
                               "2020146f101,丙,海外学院\n"
                               "2020146F102,丁,海外学院\n"
                               ",戊,海外学院\n"
                               "2020146F103,,海外学院\n"
                               "2020146F103,己,海外学院\n",
                               10, &p, err, sizeof err),
                     0);
    assert_int_equal(p.nrows, 3);
    assert_int_equal(p.nerrors, 4);
    assert_error(&p, 4, "学号 2020146f101 与第 2 行重复");
    assert_error(&p, 5, "学号 2020146F102 与第 3 行重复");
    assert_error(&p, 7, "姓名为空");
    /* a rejected line does not count: line 8 is the first good 2020146F103 */
    assert_string_equal(row_at(&p, 8)->name, "己");
    pc_roster_parse_free(&p);
}

static void test_quoted(void **state)
{
    struct pc_roster_parse p;
    char err[256];
    assert_int_equal(parse_file("roster-quoted.csv", &p, err, sizeof err), 0);
    assert_int_equal(p.nrows, 4);
    assert_int_equal(p.nerrors, 2);
    const struct pc_roster_row *r = row_at(&p, 2);
    assert_string_equal(r->college, "海外学院 (外国语学院)");
    assert_string_equal(r->name, "GARCIA, Maria José");
    assert_string_equal(r->class_name, "20英语A班(师)");
    r = row_at(&p, 4);
    assert_string_equal(r->name, "王\"小\"明");
    assert_string_equal(r->class_name, "20汉语言文学1班(师),辅修");
    assert_string_equal(row_at(&p, 5)->college, "文学院");
    assert_string_equal(row_at(&p, 8)->class_name, "20汉语言 文学2班");
    assert_error(&p, 6, "换行");
    assert_error(&p, 10, "引号没有闭合");
    pc_roster_parse_free(&p);

    /* Excel's unquoted ="..." and quoted "=""...""" forms, apostrophes */
    assert_int_equal(parse_str("序号,学院,姓名,学号\n"
                               "=\"7\",文学院,甲,=\"2020101101\"\n"
                               "'8,文学院,乙,\"=\"\"2020101102\"\"\"\n"
                               " 9 ,文学院,丙,' 2020101103 \n"
                               "x,文学院,丁,2020101104\n",
                               10, &p, err, sizeof err),
                     0);
    assert_int_equal(p.nrows, 4);
    assert_string_equal(p.rows[0].student_no, "2020101101");
    assert_int_equal(p.rows[0].seq, 7);
    assert_string_equal(p.rows[1].student_no, "2020101102");
    assert_int_equal(p.rows[1].seq, 8);
    assert_string_equal(p.rows[2].student_no, "2020101103");
    assert_int_equal(p.rows[2].seq, 9);
    assert_int_equal(p.rows[3].seq, 0);
    pc_roster_parse_free(&p);
    /* control characters: dropped from 学院/班级 (a 学院 of nothing else is empty), refused
     * in 姓名 (fuzzer finding) */
    assert_int_equal(parse_str("学院,姓名,学号,班级\n\x14,甲,1,x\n文\x01学院,乙,2,\x02\n"
                               "文学院,丙\x7f,3,\n",
                               10, &p, err, sizeof err),
                     0);
    assert_int_equal(p.nrows, 1);
    assert_string_equal(p.rows[0].college, "文 学院");
    assert_string_equal(p.rows[0].class_name, "");
    assert_error(&p, 2, "学院为空");
    assert_error(&p, 4, "控制字符");
    pc_roster_parse_free(&p);
}

static void test_lone_cr(void **state)
{
    struct pc_roster_parse p, q;
    char err[256];
    assert_int_equal(parse_file("roster-lone-cr.csv", &p, err, sizeof err), 0);
    assert_int_equal(p.nrows, 10);
    assert_int_equal(p.nerrors, 0);
    assert_int_equal(p.rows[9].line, 11);
    assert_string_equal(p.rows[1].name, "MISSANG MI ABA’A Medy Evrard");
    pc_roster_parse_free(&p);

    /* the whole 101 file with CR, and with mixed line ends, gives the same rows */
    size_t n;
    char *d = load("roster-101-utf8.csv", &n);
    assert_int_equal(pc_roster_parse(d, n, 1000, &p, err, sizeof err), 0);
    for (size_t i = 0; i < n; i++)
        if (d[i] == '\n')
            d[i] = '\r';
    assert_int_equal(pc_roster_parse(d, n, 1000, &q, err, sizeof err), 0);
    check_101(&q);
    assert_memory_equal(p.rows, q.rows, 101 * sizeof *p.rows);
    pc_roster_parse_free(&q);
    free(d);
    pc_roster_parse_free(&p);

    /* blank lines of every kind are counted but skipped */
    assert_int_equal(parse_str("\r\n学院,姓名,学号\r\r\n\n文学院,甲,1\r \t\r,,\n\r\n文学院,乙,2",
                               10, &p, err, sizeof err),
                     0);
    assert_int_equal(p.header_line, 2);
    assert_int_equal(p.nrows, 2);
    assert_int_equal(p.rows[0].line, 5);
    assert_int_equal(p.rows[1].line, 9);
    pc_roster_parse_free(&p);
}

static void test_delimiters_and_headers(void **state)
{
    struct pc_roster_parse p;
    char err[256];
    assert_int_equal(
        parse_str("序号;学院;姓名;学号;班级\n1;文学院;陈萱;2020101101;20汉语言文学1班\n"
                  "2;\"文学院\";\"王;芳\";2020101102;\n",
                  10, &p, err, sizeof err),
        0);
    assert_int_equal(p.delimiter, ';');
    assert_int_equal(p.nrows, 2);
    assert_string_equal(p.rows[1].name, "王;芳");
    pc_roster_parse_free(&p);

    assert_int_equal(parse_str("学生姓名\t学 号\t 学院（必填）\t班级名称\t备注,说明\n"
                               "陈萱\t2020101101\t文学院\t\t有,逗号\n",
                               10, &p, err, sizeof err),
                     0);
    assert_int_equal(p.delimiter, '\t');
    assert_string_equal(p.rows[0].college, "文学院");
    assert_string_equal(p.rows[0].name, "陈萱");
    pc_roster_parse_free(&p);

    /* header names with U+3000, U+00A0, '*', a BOM inside the cell, (notes) */
    assert_int_equal(parse_str("\xef\xbb\xbf\xef\xbb\xbf序\u3000号,*学院,姓\u00a0名,学号(必填),"
                               "身份证号码,是否采集\n"
                               "1,文学院,陈萱,2020101101,,√\n2,文学院,王芳,2020101102,,×\n"
                               "3,文学院,李四,2020101103,,YES\n4,文学院,赵六,2020101104,,\n",
                               10, &p, err, sizeof err),
                     0);
    assert_int_equal(p.nrows, 4);
    assert_int_equal(p.rows[0].collected, 1);
    assert_int_equal(p.rows[1].collected, 0);
    assert_int_equal(p.rows[2].collected, 1);
    assert_int_equal(p.rows[3].collected, 0);
    pc_roster_parse_free(&p);

    /* a repeated header row is skipped; a row with only 序号 is skipped */
    assert_int_equal(parse_str("序号,学院,姓名,学号\n1,文学院,陈萱,1\n序号,学院,姓名,学号\n2,,,\n"
                               "3,文学院,王芳,2\n",
                               10, &p, err, sizeof err),
                     0);
    assert_int_equal(p.nrows, 2);
    assert_int_equal(p.nerrors, 0);
    assert_int_equal(p.rows[1].line, 5);
    pc_roster_parse_free(&p);

    /* UTF-8 without BOM, one line with broken bytes: a line error, not a refusal */
    assert_int_equal(parse_str("学院,姓名,学号\n文学院,陈萱,1\n文学院,\xe9\x99,2\n文学院,王芳,3\n",
                               10, &p, err, sizeof err),
                     0);
    assert_string_equal(p.encoding, "UTF-8");
    assert_int_equal(p.nrows, 2);
    assert_error(&p, 3, "UTF-8");
    pc_roster_parse_free(&p);

    /* names: 64 characters fit, 65 do not */
    char buf[1024];
    snprintf(buf, sizeof buf, "学院,姓名,学号\n文学院,%s,1\n文学院,%s,2\n",
             "Abcdefghij Abcdefghij Abcdefghij Abcdefghij Abcdefghij Abcdefghi",
             "Abcdefghij Abcdefghij Abcdefghij Abcdefghij Abcdefghij Abcdefghij");
    assert_int_equal(parse_str(buf, 10, &p, err, sizeof err), 0);
    assert_int_equal(p.nrows, 1);
    assert_int_equal(strlen(p.rows[0].name), 64);
    assert_error(&p, 3, "超过 64 个字");
    pc_roster_parse_free(&p);
}

static void test_names_fit(void **state)
{
    struct pc_roster_parse p;
    char err[256], buf[1024];
    /* 42 CJK characters = 126 bytes fit; 43 = 129 bytes do not */
    char n42[200] = "", n43[200] = "";
    for (int i = 0; i < 42; i++)
        strncat(n42, "阿", sizeof n42 - strlen(n42) - 1);
    snprintf(n43, sizeof n43, "%s阿", n42);
    snprintf(buf, sizeof buf, "学院,姓名,学号\n文学院,%s,1\n文学院,%s,2\n", n42, n43);
    assert_int_equal(parse_str(buf, 10, &p, err, sizeof err), 0);
    assert_int_equal(p.nrows, 1);
    assert_string_equal(p.rows[0].name, n42);
    assert_error(&p, 3, "姓名");
    pc_roster_parse_free(&p);
}

/* Every prefix parses (or is refused) without touching memory past len. */
static void prefixes(const char *name, size_t step)
{
    size_t n;
    char *d = load(name, &n);
    for (size_t k = 0; k <= n; k += step) {
        char *c = malloc(k ? k : 1);
        memcpy(c, d, k);
        struct pc_roster_parse p;
        char err[160];
        int rc = pc_roster_parse(c, k, 1000, &p, err, sizeof err);
        if (rc == 0) {
            assert_true(p.nrows <= 101);
            for (size_t i = 0; i < p.nrows; i++) {
                assert_true(p.rows[i].student_no[0] != '\0');
                assert_true(p.rows[i].line >= 1);
            }
        } else {
            assert_true(rc == PC_EINVAL);
            assert_zeroed(&p);
            assert_true(err[0] != '\0');
        }
        pc_roster_parse_free(&p);
        free(c);
    }
    free(d);
}

static void test_every_prefix(void **state)
{
    prefixes("roster-101-utf8.csv", 1);
    prefixes("roster-101-utf8-bom.csv", 1);
    prefixes("roster-101-gb18030.csv", 1);
    prefixes("roster-101-utf16le.txt", 1);
    prefixes("roster-mixed-errors.csv", 1);
    prefixes("roster-quoted.csv", 1);
    prefixes("roster-extra-columns.csv", 1);
    prefixes("roster-lone-cr.csv", 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_101_every_encoding),
        cmocka_unit_test(test_max_rows),
        cmocka_unit_test(test_column_order_and_extra_columns),
        cmocka_unit_test(test_mixed_errors),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_quoted),
        cmocka_unit_test(test_lone_cr),
        cmocka_unit_test(test_delimiters_and_headers),
        cmocka_unit_test(test_names_fit),
        cmocka_unit_test(test_every_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
