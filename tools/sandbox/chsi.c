/* tools/sandbox/chsi.c — the development CHSI collection-code issuer (SANDBOX.md
 * POST /__sandbox/collection-code): mints a CC1 code (codes/codes.h) for a student and its
 * QR picture as a PNG. Loop thread only. */
#include "tools/sandbox/sandbox.h"

#include "base/alloc.h"
#include "base/crypto.h"
#include "base/timeutil.h"
#include "codes/codes.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Copies a required (or optional) string member into dst; 400 and -1 when it is wrong. */
static int take(struct sb_call *c, const cJSON *j, const char *key, char *dst, size_t len,
                int required)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!v && !required) {
        dst[0] = '\0';
        return 0;
    }
    if (!cJSON_IsString(v) || (required && !v->valuestring[0]) || strlen(v->valuestring) >= len) {
        sb_reply_ctl_error(c, 400, "%s must be a string of at most %zu bytes", key, len - 1);
        return -1;
    }
    snprintf(dst, len, "%s", v->valuestring);
    return 0;
}

static void sb_ctl_collection_code(struct sb_call *c)
{
    if (!c->opts->has_code_key) {
        sb_reply_ctl_error(c, 400, "the sandbox was started without --code-key");
        return;
    }
    cJSON *j = sb_body_object(c);
    if (!j) {
        sb_reply_ctl_error(c, 400, "the body must be a JSON object");
        return;
    }
    struct pc_cc_record rec;
    char name[129], id_no[41];
    memset(&rec, 0, sizeof rec);
    if (take(c, j, "student_no", rec.student_no, sizeof rec.student_no, 1) ||
        take(c, j, "name", name, sizeof name, 1) ||
        take(c, j, "school_code", rec.school_code, sizeof rec.school_code, 1) ||
        take(c, j, "school", rec.school, sizeof rec.school, 1) ||
        take(c, j, "id_no", id_no, sizeof id_no, 0) ||
        take(c, j, "major", rec.major, sizeof rec.major, 0) ||
        take(c, j, "level", rec.level, sizeof rec.level, 0)) {
        cJSON_Delete(j);
        return;
    }
    const cJSON *gy = cJSON_GetObjectItemCaseSensitive(j, "grad_year");
    rec.grad_year = cJSON_IsNumber(gy) ? gy->valueint : 2024;
    cJSON_Delete(j);
    pc_cc_mask_name(name, rec.name_masked, sizeof rec.name_masked);
    pc_cc_mask_id(id_no, rec.id_masked, sizeof rec.id_masked);
    if (!rec.level[0])
        snprintf(rec.level, sizeof rec.level, "本科");
    unsigned char rnd[8];
    char hex[17];
    pc_rand_bytes(rnd, sizeof rnd);
    pc_hex(rnd, sizeof rnd, hex);
    snprintf(rec.uid, sizeof rec.uid, "CHSI%s", hex);
    pc_time_rfc3339(pc_time_now_ms() / 1000, rec.issued_at, sizeof rec.issued_at,
                    PC_TZ_SHANGHAI_MIN);
    char code[PC_CC_MAX_TEXT + 1];
    size_t n = 0;
    if (pc_cc_encode(c->opts->code_key, &rec, code, sizeof code, &n)) {
        sb_reply_ctl_error(c, 400, "the record breaks the code's field rules");
        return;
    }
    unsigned char *png = NULL;
    size_t png_len = 0;
    if (pc_qr_png((const unsigned char *)code, n, 4, &png, &png_len)) {
        sb_reply_ctl_error(c, 400, "the code does not fit in a QR symbol");
        return;
    }
    char *b64 = pc_xmalloc(4 * ((png_len + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)b64, png, (int)png_len);
    free(png);
    cJSON *out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "code", code);
    cJSON_AddStringToObject(out, "qr_png_base64", b64);
    cJSON_AddStringToObject(out, "name_masked", rec.name_masked);
    cJSON_AddStringToObject(out, "uid", rec.uid);
    free(b64);
    sb_reply_json(c, 200, out);
}

static const struct sb_route sb_chsi_routes[] = {
    {"POST", "/__sandbox/collection-code", NULL, sb_ctl_collection_code},
};
const struct sb_route_table sb_chsi_table = {sb_chsi_routes,
                                             sizeof sb_chsi_routes / sizeof sb_chsi_routes[0]};
