/* export/export.c — the task photo zip. See export.h. */
#include "export/export.h"

#include "base/alloc.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "storage/storage.h"
#include "store/export.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#define PAGE 500

/* The cells of one CSV line, CRLF after the last. 0 or PC_ETOOBIG. */
static int csv_line(struct pc_buf *b, const char *const *cells, size_t n)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = pc_buf_add_csv_cell(b, cells[i], i + 1 == n);
    return rc;
}

int pc_export_error_row(struct pc_buf *b, const struct pc_export_row *e, const char *why)
{
    const char *cells[] = {e->college, e->class_name, e->name, e->student_no, e->order_no, why};
    return csv_line(b, cells, sizeof cells / sizeof cells[0]);
}

int pc_export_manifest_row(struct pc_buf *b, const struct pc_export_row *e, const char *file)
{
    char when[40] = "";
    if (e->approved_at[0] && pc_time_db_to_api(e->approved_at, when, sizeof when) == 0)
        when[19] = '\0', when[10] = ' ';
    const char *cells[] = {e->college,  e->class_name, e->name, e->student_no,
                           e->order_no, when,          file,    e->sha256};
    return csv_line(b, cells, sizeof cells / sizeof cells[0]);
}

static const char *missing_reason(const char *state)
{
    return !strcmp(state, "not_started")         ? "未开始采集"
           : !strcmp(state, "awaiting_photo")    ? "未上传照片"
           : !strcmp(state, "unpaid")            ? "未付款"
           : !strcmp(state, "pending_review")    ? "待审核"
           : !strcmp(state, "rejected")          ? "审核未通过，待重新上传"
           : !strcmp(state, "refunded")          ? "已退款"
           : !strcmp(state, "collected_offline") ? "已线下采集"
                                                 : state;
}

/* A zip member read from storage when libzip writes it (at zip_close), so that one photo at
 * a time is in memory whatever the backend. */
struct member {
    const struct pc_config *cfg;
    char rel[256];
    int64_t size;
    char *data;
    size_t len, off;
    zip_error_t err;
};

static zip_int64_t member_cb(void *ud, void *data, zip_uint64_t len, zip_source_cmd_t cmd)
{
    struct member *m = ud;
    switch (cmd) {
    case ZIP_SOURCE_OPEN:
        if (pc_storage_get(m->cfg, m->rel, (size_t)m->size, &m->data, &m->len) ||
            m->len != (size_t)m->size) {
            zip_error_set(&m->err, ZIP_ER_READ, EIO);
            return -1;
        }
        m->off = 0;
        return 0;
    case ZIP_SOURCE_READ: {
        size_t n = m->len - m->off < len ? m->len - m->off : (size_t)len;
        memcpy(data, m->data + m->off, n);
        m->off += n;
        return (zip_int64_t)n;
    }
    case ZIP_SOURCE_CLOSE:
        free(m->data);
        m->data = NULL;
        return 0;
    case ZIP_SOURCE_STAT: {
        zip_stat_t *st = data;
        zip_stat_init(st);
        st->size = (zip_uint64_t)m->size;
        st->valid |= ZIP_STAT_SIZE;
        return sizeof *st;
    }
    case ZIP_SOURCE_ERROR:
        return zip_error_to_data(&m->err, data, len);
    case ZIP_SOURCE_FREE:
        free(m->data);
        zip_error_fini(&m->err);
        free(m);
        return 0;
    case ZIP_SOURCE_SUPPORTS:
        return zip_source_make_command_bitmap(ZIP_SOURCE_OPEN, ZIP_SOURCE_READ, ZIP_SOURCE_CLOSE,
                                              ZIP_SOURCE_STAT, ZIP_SOURCE_ERROR, ZIP_SOURCE_FREE,
                                              -1);
    default:
        zip_error_set(&m->err, ZIP_ER_OPNOTSUPP, 0);
        return -1;
    }
}

/* A source for the stored object rel of size bytes, or NULL. */
static zip_source_t *member_source(zip_t *za, const struct pc_config *cfg, const char *rel,
                                   int64_t size)
{
    struct member *m = pc_new(struct member);
    m->cfg = cfg;
    snprintf(m->rel, sizeof m->rel, "%s", rel);
    m->size = size;
    zip_error_init(&m->err);
    zip_source_t *src = zip_source_function(za, member_cb, m);
    if (!src) {
        zip_error_fini(&m->err);
        free(m);
    }
    return src;
}

void pc_export_name_part(const char *in, char *out, size_t len)
{
    size_t k = 0;
    const char *p = in;
    for (; *p && k + 1 < len; p++) {
        unsigned char c = (unsigned char)*p;
        bool bad = c == '/' || c == '\\' || c == '.' || c == ':' || c < 0x20 || c == 0x7f;
        out[k++] = bad ? '_' : *p;
    }
    if (*p && (*p & 0xc0) == 0x80) { /* cut inside a UTF-8 character: drop its first bytes */
        while (k && (out[k - 1] & 0xc0) == 0x80)
            k--;
        if (k)
            k--;
    }
    out[k] = '\0';
    if (!k)
        snprintf(out, len, "未分学院");
}

int pc_export_task_zip(struct pc_db *db, const struct pc_config *cfg, int64_t task_id,
                       bool by_college, struct pc_export_result *out)
{
    char tmp[1200];
    struct pc_buf manifest, errors;
    struct pc_export_row *rows = NULL;
    size_t n = 0;
    int64_t after = 0;
    int rc = 0, zerr = 0;
    memset(out, 0, sizeof *out);
    out->fd = -1;
    int fd = pc_storage_tmpfile(cfg, tmp, sizeof tmp);
    if (fd < 0)
        return PC_EIO;
    close(fd);
    zip_t *za = zip_open(tmp, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    if (!za) {
        unlink(tmp);
        return PC_EIO;
    }
    pc_buf_init(&manifest, 64u << 20);
    pc_buf_init(&errors, 64u << 20);
    pc_buf_adds(&manifest, "\xef\xbb\xbf学院,班级,姓名,学号,订单号,审核通过时间,文件,SHA-256\r\n");
    pc_buf_adds(&errors, "\xef\xbb\xbf学院,班级,姓名,学号,订单号,原因\r\n");
    do {
        rc = pc_store_export_approved(db, task_id, after, PAGE, &rows, &n);
        for (size_t i = 0; rc == 0 && i < n; i++) {
            const struct pc_export_row *e = &rows[i];
            char name[600], college[300], no[64];
            after = e->id;
            int64_t size = 0;
            if (!e->path[0] || pc_storage_size(cfg, e->path, &size) != 0) {
                rc = pc_export_error_row(&errors, e, e->path[0] ? "照片文件缺失" : "没有照片");
                out->errors++;
                continue;
            }
            pc_export_name_part(e->student_no, no, sizeof no);
            pc_export_name_part(e->college, college, sizeof college);
            if (by_college)
                snprintf(name, sizeof name, "%s/%s.jpg", college, no);
            else
                snprintf(name, sizeof name, "%s.jpg", no);
            zip_source_t *src = member_source(za, cfg, e->path, size);
            zip_int64_t idx = src ? zip_file_add(za, name, src, ZIP_FL_ENC_UTF_8) : -1;
            if (idx < 0) {
                if (src)
                    zip_source_free(src);
                rc = pc_export_error_row(&errors, e, "重复的学号或无法读取的照片");
                out->errors++;
                continue;
            }
            zip_set_file_compression(za, (zip_uint64_t)idx, ZIP_CM_STORE, 0);
            rc = pc_export_manifest_row(&manifest, e, name);
            out->photos++;
        }
        free(rows);
        rows = NULL;
    } while (rc == 0 && n == PAGE);
    after = 0;
    while (rc == 0) {
        rc = pc_store_export_missing(db, task_id, after, PAGE, &rows, &n);
        for (size_t i = 0; rc == 0 && i < n; i++) {
            after = rows[i].id;
            rc = pc_export_error_row(&errors, &rows[i], missing_reason(rows[i].state));
            out->errors++;
        }
        free(rows);
        rows = NULL;
        if (n < PAGE)
            break;
    }
    zip_source_t *ms = rc == 0 ? zip_source_buffer(za, manifest.p, manifest.len, 0) : NULL;
    if (ms && zip_file_add(za, "manifest.csv", ms, ZIP_FL_ENC_UTF_8) < 0) {
        zip_source_free(ms);
        rc = PC_EIO;
    }
    zip_source_t *es = rc == 0 ? zip_source_buffer(za, errors.p, errors.len, 0) : NULL;
    if (es && zip_file_add(za, "errors.csv", es, ZIP_FL_ENC_UTF_8) < 0) {
        zip_source_free(es);
        rc = PC_EIO;
    }
    if (rc == 0 && zip_close(za) != 0) {
        pc_log(PC_LOG_ERROR, "export zip not written", PC_LS("error", zip_strerror(za)));
        rc = PC_EIO;
    }
    if (rc)
        zip_discard(za);
    pc_buf_free(&manifest);
    pc_buf_free(&errors);
    if (rc == 0) {
        out->fd = open(tmp, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (out->fd < 0 || fstat(out->fd, &st) != 0)
            rc = PC_EIO;
        else
            out->len = (size_t)st.st_size;
    }
    unlink(tmp);
    if (rc && out->fd >= 0) {
        close(out->fd);
        out->fd = -1;
    }
    return rc;
}
