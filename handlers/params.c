/* handlers/params.c — pagination parameters shared by list handlers, and the CSV answer of
 * the exports. */
#include "handlers/handlers.h"

#include "base/buf.h"
#include "base/crypto.h"
#include "base/err.h"
#include "base/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pc_h_list_end(struct pc_req *r, const struct pc_ctx *ctx, int rc, struct pc_buf *b, size_t n,
                   int limit, int64_t last_id)
{
    if (rc == 0 && n == (size_t)limit) {
        char cur[32];
        pc_h_cursor_make((long long)last_id, cur);
        rc = pc_buf_addf(b, ",\"next_cursor\":\"%s\"}", cur);
    } else if (rc == 0) {
        rc = pc_buf_adds(b, ",\"next_cursor\":null}");
    }
    if (rc == 0)
        pc_resp_json_buf(r, 200, b);
    else
        pc_resp_from_err(r, ctx, rc);
}

int pc_h_limit(struct pc_req *r, int *limit)
{
    const char *s = pc_req_query(r, "limit");
    *limit = 50;
    if (!s)
        return 0;
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 1 || v > 500) {
        pc_resp_invalid(r, "limit", "limit 应为 1 到 500 之间的整数");
        return -1;
    }
    *limit = (int)v;
    return 0;
}

/* Cursors are base64url("c1:<id>"): opaque to clients, cheap to check. */
void pc_h_cursor_make(long long id, char out[32])
{
    char raw[24];
    int n = snprintf(raw, sizeof raw, "c1:%lld", id);
    pc_b64url(raw, (size_t)n, out);
}

int pc_h_cursor_id(struct pc_req *r, long long *id)
{
    const char *c = pc_req_query(r, "cursor");
    *id = 0;
    if (!c || !c[0])
        return 0;
    char raw[32];
    size_t n = 0;
    char *end = NULL;
    if (pc_b64url_decode(c, strlen(c), raw, sizeof raw - 1, &n) == 0) {
        raw[n] = '\0';
        errno = 0;
        long long v = strncmp(raw, "c1:", 3) == 0 ? strtoll(raw + 3, &end, 10) : 0;
        if (!errno && end && end != raw + 3 && *end == '\0' && v > 0) {
            *id = v;
            return 0;
        }
    }
    pc_resp_invalid(r, "cursor", "cursor 无效");
    return -1;
}

void pc_h_export_failed(struct pc_req *r, const struct pc_ctx *ctx, int rc)
{
    if (rc != PC_ETOOBIG) {
        pc_resp_from_err(r, ctx, rc);
        return;
    }
    /* Never a cut file that looks whole. */
    pc_log(PC_LOG_ERROR, "export refused: larger than its limit", PC_LS("path", pc_req_path(r)));
    pc_resp_error(r, 500, "EXPORT_TOO_LARGE",
                  "导出内容超过上限，无法生成完整文件，请缩小范围后重试", NULL);
}

void pc_h_attachment(struct pc_req *r, const char *filename)
{
    char disp[160];
    snprintf(disp, sizeof disp, "attachment; filename=\"%s\"", filename);
    pc_resp_header(r, "Content-Disposition", disp);
}

void pc_h_csv_reply(struct pc_req *r, const struct pc_ctx *ctx, int rc, const struct pc_buf *b,
                    const char *filename)
{
    if (rc) {
        pc_h_export_failed(r, ctx, rc);
        return;
    }
    pc_resp_raw(r, 200, "text/csv; charset=utf-8", b->p ? b->p : "", b->len);
    pc_h_attachment(r, filename);
}
