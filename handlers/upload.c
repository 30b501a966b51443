/* handlers/upload.c — reading an uploaded file: multipart/form-data field "file" (as
 * wx.uploadFile and browser forms send it) or a raw image/jpeg / image/png body. */
#include "handlers/handlers.h"

#include "server/multipart.h"

#include <string.h>
#include <strings.h>

int pc_h_upload(struct pc_req *r, int64_t max, const char *too_big_message, const char **data,
                size_t *len, struct pc_multipart *mp)
{
    const char *ct = pc_req_header(r, "Content-Type");
    size_t blen;
    const char *body = pc_req_body(r, &blen);
    memset(mp, 0, sizeof *mp);
    if (ct && strncasecmp(ct, "multipart/form-data", 19) == 0) {
        char err[128];
        int rc = pc_multipart_parse(ct, body, blen, 16, mp, err, sizeof err);
        if (rc) {
            cJSON *d = cJSON_CreateObject();
            cJSON_AddStringToObject(d, "reason", err);
            pc_resp_error(r, 400, "MALFORMED_MULTIPART", "上传内容格式错误", d);
            return -1;
        }
        const struct pc_mp_part *p = pc_multipart_get(mp, "file");
        if (!p || p->len == 0) {
            pc_resp_invalid(r, "file", "请选择要上传的图片（字段 file）");
            return -1;
        }
        *data = p->data;
        *len = p->len;
    } else if (ct &&
               (strncasecmp(ct, "image/jpeg", 10) == 0 || strncasecmp(ct, "image/png", 9) == 0)) {
        *data = body;
        *len = blen;
    } else {
        pc_resp_error(r, 415, "UNSUPPORTED_MEDIA_TYPE",
                      "请以 multipart/form-data（字段 file）或 image/jpeg、image/png 上传", NULL);
        return -1;
    }
    if ((int64_t)*len > max) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddNumberToObject(d, "limit_bytes", (double)max);
        pc_resp_error(r, 413, "PAYLOAD_TOO_LARGE", too_big_message, d);
        return -1;
    }
    return 0;
}
