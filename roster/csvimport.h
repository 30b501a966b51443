/* roster/csvimport.h — the roster (graduation photo collection list) CSV parser.
 *
 * A clerk exports the list of students from Excel and uploads it; this turns the file into
 * rows plus per-line errors written for the clerk (in Chinese). It accepts what Excel really
 * writes: "CSV UTF-8" (BOM, CRLF), plain "CSV" on Chinese Windows (GBK/GB18030), "Unicode
 * text" (UTF-16LE, tab-separated), old Mac lone-CR line ends, comma/tab/semicolon delimiters,
 * quoted cells, title rows above the header, `="..."` and leading-apostrophe text cells.
 * Everything that is accepted or refused, and every reason: docs/roster.md.
 *
 * Pure: no database, no I/O, no global state (libcsv and iconv descriptors are per call).
 * Any thread. Built on libcsv (<csv.h>) and glibc iconv. */
#ifndef PC_ROSTER_CSVIMPORT_H
#define PC_ROSTER_CSVIMPORT_H

#include <stddef.h>

#define PC_ROSTER_MAX_BYTES   (20u * 1024u * 1024u) /* larger files: PC_ETOOBIG */
#define PC_ROSTER_NAME_CHARS  64 /* 姓名: at most 64 characters (and 128 bytes) */
#define PC_ROSTER_SNO_MAX     32 /* 学号: 1..32 of [A-Za-z0-9] */
#define PC_ROSTER_HEADER_SCAN 10 /* the header must be among the first 10 non-blank records */
#define PC_ROSTER_CELL_MAX    (1u << 20) /* one cell over 1 MiB: the file is refused */
#define PC_ROSTER_ERR_MAX     256        /* an err buffer this big holds every refusal reason */

struct pc_roster_row {
    size_t line;          /* 1-based physical line of the record's start in the file */
    int seq;              /* 序号; 0 when the column is absent, empty or not a number */
    char college[129];    /* 学院, trimmed, never empty; line breaks inside become spaces */
    char name[129];       /* 姓名, trimmed (ASCII spaces/tabs, U+3000, U+00A0), otherwise exact;
                             1..64 characters, no control characters */
    char student_no[33];  /* 学号, [A-Za-z0-9]{1,32}: ="..." and ' unwrapped, full-width made
                             ASCII, letters' case as in the file; unique in rows ignoring
                             ASCII case */
    char class_name[129]; /* 班级, trimmed like 学院; may be "" */
    char code[2049];      /* 采集码 (text, trimmed) when the column is present, else "" */
    char id_masked[41];   /* 身份证号 masked right away: first 4 + '*'... + last 4 (all '*'
                             up to 8 characters); "" when absent/empty. The raw number is
                             never stored, and the parser wipes its own copies */
    int collected;        /* 已采集: 1 yes, 0 no (or empty), -1 when the column is absent */
};

struct pc_roster_error {
    size_t line;      /* 1-based physical line where the rejected record starts */
    char reason[160]; /* for the clerk, in Chinese, line included: "第 12 行：学号为空" */
};

struct pc_roster_parse {
    struct pc_roster_row *rows; /* nrows good rows in file order; owned */
    size_t nrows;
    struct pc_roster_error *errors; /* nerrors rejected records in file order (at most one
                                       per record); owned */
    size_t nerrors;
    char encoding[16];  /* "UTF-8", "UTF-8-BOM", "GB18030" or "UTF-16LE" */
    char delimiter;     /* ',', '\t' or ';' (detected from the header line) */
    size_t header_line; /* physical line of the header row (title rows above it skipped) */
};

/* Parses a roster file of len bytes (data need not be NUL-terminated; never read past len).
 * max_rows bounds the data records (good and bad, blank ones not counted) and so the memory:
 * each row is about 2.6 KiB.
 * Returns
 *   0            out filled: good rows in out->rows, rejected records in out->errors (either
 *                may be empty). The caller frees with pc_roster_parse_free.
 *   PC_EINVAL    the whole file is refused (not CSV text: empty, .xlsx/.xls/binary, charset
 *                not UTF-8/GB18030/UTF-16LE, no header with 学院 姓名 学号 among the first
 *                PC_ROSTER_HEADER_SCAN records, a header column twice, a cell over
 *                PC_ROSTER_CELL_MAX), or data is NULL;
 *   PC_ETOOBIG   len > PC_ROSTER_MAX_BYTES, or more than max_rows data records.
 * On failure out is all zero and err (when not NULL) holds a Chinese reason for the clerk;
 * on success err is "". The parser wipes its own copies of the file; data (which may hold
 * raw ID numbers) stays the caller's to wipe. Any thread. */
int pc_roster_parse(const char *data, size_t len, size_t max_rows, struct pc_roster_parse *out,
                    char *err, size_t errlen);

/* Frees rows and errors and zeroes p. NULL-safe, and safe on a zeroed or freed struct. */
void pc_roster_parse_free(struct pc_roster_parse *p);

#endif
