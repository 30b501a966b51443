/* payment/billfetch.c — the two-step trade-bill download (wechat-protocols.md §6.4). */
#include "payment/bill.h"

#include "base/alloc.h"
#include "base/crypto.h"
#include "base/err.h"
#include "payment/wxpay.h"
#include "net/outbound.h"

#include <cjson/cJSON.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define MAX_BILL (512u << 20) /* uncompressed */

/* gunzips in[0..n) into a new buffer. 0 or PC_EINVAL. */
static int gunzip(const char *in, size_t n, char **out, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 16) != Z_OK)
        return PC_EINVAL;
    size_t cap = n * 4 + 4096, len = 0;
    char *buf = pc_xmalloc(cap);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    int rc;
    do {
        if (len == cap) {
            if (cap >= MAX_BILL) {
                rc = Z_MEM_ERROR;
                break;
            }
            cap *= 2;
            buf = pc_xrealloc(buf, cap);
        }
        z.next_out = (Bytef *)buf + len;
        z.avail_out = (uInt)(cap - len);
        rc = inflate(&z, Z_NO_FLUSH);
        len = cap - z.avail_out;
    } while (rc == Z_OK);
    inflateEnd(&z);
    if (rc != Z_STREAM_END || z.avail_in != 0) {
        free(buf);
        return PC_EINVAL;
    }
    *out = buf;
    *out_len = len;
    return 0;
}

int pc_bill_fetch(const struct pc_pay *p, const char *bill_date, struct pc_bill *out, char *err,
                  size_t errlen)
{
    struct pc_pay_call call;
    struct pc_out_resp resp;
    cJSON *j = NULL;
    char *plain = NULL;
    size_t plain_len = 0;
    int rc;
    memset(out, 0, sizeof *out);
    err[0] = '\0';
    if (pc_pay_call_tradebill(p, bill_date, true, &call)) {
        snprintf(err, errlen, "bad bill_date");
        return PC_EINVAL;
    }
    pc_outbound_perform(&call.req, &resp);
    pc_pay_call_free(&call);
    if (resp.err) {
        snprintf(err, errlen, "tradebill: %s", resp.errmsg);
        pc_out_resp_clear(&resp);
        return PC_EIO;
    }
    if (pc_pay_verify_response(p, &resp)) {
        snprintf(err, errlen, "tradebill: answer not signed by WeChat Pay (HTTP %ld)", resp.status);
        pc_out_resp_clear(&resp);
        return PC_EUPSTREAM;
    }
    j = cJSON_ParseWithLength(resp.body, resp.len);
    long status = resp.status;
    pc_out_resp_clear(&resp);
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(j, "code");
    if (status != 200) {
        rc = status == 400 && cJSON_IsString(code) &&
                     !strcmp(code->valuestring, "NO_STATEMENT_EXIST")
                 ? PC_ENOTFOUND
                 : PC_EUPSTREAM;
        snprintf(err, errlen, "tradebill: HTTP %ld %s", status,
                 cJSON_IsString(code) ? code->valuestring : "");
        cJSON_Delete(j);
        return rc;
    }
    const cJSON *url = cJSON_GetObjectItemCaseSensitive(j, "download_url");
    const cJSON *hash = cJSON_GetObjectItemCaseSensitive(j, "hash_value");
    const cJSON *htype = cJSON_GetObjectItemCaseSensitive(j, "hash_type");
    if (!cJSON_IsString(url) || !cJSON_IsString(hash) || !cJSON_IsString(htype) ||
        strcmp(htype->valuestring, "SHA1") != 0 || strlen(hash->valuestring) != 40 ||
        pc_pay_call_download(p, url->valuestring, &call)) {
        snprintf(err, errlen, "tradebill: unexpected answer");
        cJSON_Delete(j);
        return PC_EUPSTREAM;
    }
    char want[41];
    snprintf(want, sizeof want, "%s", hash->valuestring);
    cJSON_Delete(j);
    pc_outbound_perform(&call.req, &resp); /* download immediately: the URL lives 30 s–5 min */
    pc_pay_call_free(&call);
    if (resp.err || resp.status != 200) {
        snprintf(err, errlen, "billdownload: %s (HTTP %ld)", resp.err ? resp.errmsg : "refused",
                 resp.status);
        pc_out_resp_clear(&resp);
        return resp.err ? PC_EIO : PC_EUPSTREAM;
    }
    rc = gunzip(resp.body, resp.len, &plain, &plain_len);
    pc_out_resp_clear(&resp);
    if (rc) {
        snprintf(err, errlen, "billdownload: not a gzip file");
        return PC_EUPSTREAM;
    }
    unsigned char sha[SHA_DIGEST_LENGTH];
    char got[2 * SHA_DIGEST_LENGTH + 1];
    SHA1((const unsigned char *)plain, plain_len, sha);
    pc_hex(sha, sizeof sha, got);
    if (strcasecmp(got, want) != 0) {
        snprintf(err, errlen, "billdownload: SHA-1 %s, expected %s", got, want);
        free(plain);
        return PC_ECRYPTO;
    }
    rc = pc_bill_parse(plain, plain_len, out, err, errlen);
    free(plain);
    return rc;
}
