/* base/buf.h — a growable byte buffer with a hard maximum (curl's dynbuf idea).
 *
 * Fields are read-only outside buf.c. The content is always NUL-terminated so it
 * can be used as a C string. A buffer belongs to one thread at a time. */
#ifndef PC_BASE_BUF_H
#define PC_BASE_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct pc_buf {
    char *p;    /* content, NUL-terminated; NULL until the first add */
    size_t len; /* bytes used, without the terminator */
    size_t cap; /* bytes allocated */
    size_t max; /* hard limit on len */
};

/* Starts an empty buffer that may grow to max bytes. */
void pc_buf_init(struct pc_buf *b, size_t max);
/* Releases the content; the buffer can be reused after pc_buf_init. NULL-safe. */
void pc_buf_free(struct pc_buf *b);
/* Empties the buffer, keeping its allocation. */
void pc_buf_reset(struct pc_buf *b);
/* Empties the buffer, keeping its allocation, with a new hard maximum. */
void pc_buf_reuse(struct pc_buf *b, size_t max);
/* Appends n bytes. 0, or PC_ETOOBIG (nothing appended) past the maximum. */
int pc_buf_add(struct pc_buf *b, const void *p, size_t n);
/* Appends a C string. */
int pc_buf_adds(struct pc_buf *b, const char *s);
/* Appends printf-formatted text. 0 or PC_ETOOBIG. */
int pc_buf_addf(struct pc_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int pc_buf_vaddf(struct pc_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Appends s as the inside of a JSON string (escaped, without quotes). */
int pc_buf_add_json_str(struct pc_buf *b, const char *s, size_t n);
/* Appends v as one quoted CSV cell ("" doubled; NULL = empty), then "," — or CRLF when last.
 * A cell a spreadsheet would take for a formula (pc_csv_cell_is_formula) is written after an
 * apostrophe, so Excel shows it as text. 0, or PC_ETOOBIG when the whole cell does not fit
 * (then nothing is appended). */
int pc_buf_add_csv_cell(struct pc_buf *b, const char *v, int last);
/* Whether v starts with =, +, -, @, a tab or a CR and is not a plain decimal number ("-0.01"
 * stays a number). */
bool pc_csv_cell_is_formula(const char *v);
/* Hands the content to the caller (who frees it) and empties the buffer. Never NULL. */
char *pc_buf_take(struct pc_buf *b, size_t *len);

#endif
