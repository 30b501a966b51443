/* wechat/miniapp.c — WeChat mini-program OpenAPI requests and responses. */
#include "wechat/miniapp.h"

#include "base/err.h"
#include "config/config.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool pc_wx_code_valid(const char *s)
{
    size_t n = 0;
    if (!s)
        return false;
    for (; s[n]; n++) {
        char c = s[n];
        if (n >= 128 || !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                          (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return n > 0;
}

static void base_call(const struct pc_config *cfg, const char *method, const char *name,
                      struct pc_wx_call *c)
{
    memset(&c->req, 0, sizeof c->req);
    c->req.method = method;
    c->req.url = c->url;
    c->req.timeout_ms = cfg->wx_timeout_ms;
    c->req.max_response = (size_t)cfg->wx_max_response_bytes;
    c->req.ca_file = cfg->wx_ca_file;
    c->req.name = name;
    c->req.headers[0] = "Accept: application/json";
}

/* Appends a JSON string value (escaped) to out. */
static void json_body(struct pc_wx_call *c, cJSON *o)
{
    char *s = cJSON_PrintUnformatted(o);
    snprintf(c->body, sizeof c->body, "%s", s ? s : "{}");
    free(s);
    cJSON_Delete(o);
    c->req.body = c->body;
    c->req.body_len = strlen(c->body);
    c->req.headers[1] = "Content-Type: application/json";
}

void pc_wx_code2session_call(const struct pc_config *cfg, const char *code, struct pc_wx_call *c)
{
    base_call(cfg, "GET", "jscode2session", c);
    /* appid, secret and a validated code contain only URL-safe characters. */
    snprintf(c->url, sizeof c->url,
             "%s/sns/jscode2session?appid=%s&secret=%s&js_code=%s&grant_type=authorization_code",
             cfg->wx_api_base, cfg->wx_appid, cfg->wx_secret, code);
}

void pc_wx_phone_call(const struct pc_config *cfg, const char *access_token, const char *code,
                      const char *openid, struct pc_wx_call *c)
{
    base_call(cfg, "POST", "getuserphonenumber", c);
    snprintf(c->url, sizeof c->url, "%s/wxa/business/getuserphonenumber?access_token=%s",
             cfg->wx_api_base, access_token);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "code", code);
    if (openid && openid[0]) /* WeChat then refuses a code issued to someone else */
        cJSON_AddStringToObject(o, "openid", openid);
    json_body(c, o);
}

void pc_wx_stable_token_call(const struct pc_config *cfg, struct pc_wx_call *c)
{
    base_call(cfg, "POST", "stable_token", c);
    snprintf(c->url, sizeof c->url, "%s/cgi-bin/stable_token", cfg->wx_api_base);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "grant_type", "client_credential");
    cJSON_AddStringToObject(o, "appid", cfg->wx_appid);
    cJSON_AddStringToObject(o, "secret", cfg->wx_secret);
    cJSON_AddFalseToObject(o, "force_refresh");
    json_body(c, o);
}

bool pc_wx_token_rejected(int errcode)
{
    return errcode == 40001 || errcode == 42001 || errcode == 40014;
}

/* Parses a WeChat JSON reply; a present, non-zero errcode becomes PC_EUPSTREAM.
 * A missing errcode counts as 0 (code2Session omits it on success). */
static int parse_reply(const struct pc_out_resp *resp, cJSON **out, int *errcode)
{
    *errcode = 0;
    *out = NULL;
    if (resp->err || resp->status != 200 || !resp->body)
        return PC_EIO;
    cJSON *j = cJSON_ParseWithLength(resp->body, resp->len);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return PC_EIO;
    }
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "errcode");
    if (cJSON_IsNumber(e) && e->valueint != 0) {
        *errcode = e->valueint;
        cJSON_Delete(j);
        return PC_EUPSTREAM;
    }
    *out = j;
    return 0;
}

static int copy_str(const cJSON *j, const char *key, char *dst, size_t len, bool required)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!cJSON_IsString(v) || !v->valuestring[0]) {
        dst[0] = '\0';
        return required ? PC_EIO : 0;
    }
    if (strlen(v->valuestring) >= len)
        return PC_EIO;
    snprintf(dst, len, "%s", v->valuestring);
    return 0;
}

int pc_wx_code2session_parse(const struct pc_out_resp *resp, struct pc_wx_session *out,
                             int *errcode)
{
    cJSON *j;
    int rc = parse_reply(resp, &j, errcode);
    if (rc)
        return rc;
    rc = copy_str(j, "openid", out->openid, sizeof out->openid, true);
    if (rc == 0)
        rc = copy_str(j, "session_key", out->session_key, sizeof out->session_key, true);
    if (rc == 0)
        rc = copy_str(j, "unionid", out->unionid, sizeof out->unionid, false);
    cJSON_Delete(j);
    return rc;
}

int pc_wx_phone_parse(const struct pc_out_resp *resp, char *phone, size_t len, int *errcode)
{
    cJSON *j;
    int rc = parse_reply(resp, &j, errcode);
    if (rc)
        return rc;
    const cJSON *info = cJSON_GetObjectItemCaseSensitive(j, "phone_info");
    rc = PC_EIO;
    if (cJSON_IsObject(info)) {
        rc = copy_str(info, "purePhoneNumber", phone, len, false);
        if (rc == 0 && !phone[0])
            rc = copy_str(info, "phoneNumber", phone, len, true);
    }
    cJSON_Delete(j);
    return rc;
}

int pc_wx_stable_token_parse(const struct pc_out_resp *resp, char *token, size_t len,
                             int *expires_in, int *errcode)
{
    cJSON *j;
    int rc = parse_reply(resp, &j, errcode);
    if (rc)
        return rc;
    rc = copy_str(j, "access_token", token, len, true);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "expires_in");
    if (rc == 0 && (!cJSON_IsNumber(e) || e->valueint <= 0))
        rc = PC_EIO;
    if (rc == 0)
        *expires_in = e->valueint;
    cJSON_Delete(j);
    return rc;
}

int pc_wx_subscribe_call(const struct pc_config *cfg, const char *access_token, const cJSON *msg,
                         struct pc_wx_call *c)
{
    base_call(cfg, "POST", "subscribe_send", c);
    snprintf(c->url, sizeof c->url, "%s/cgi-bin/message/subscribe/send?access_token=%s",
             cfg->wx_api_base, access_token);
    char *s = cJSON_PrintUnformatted(msg);
    int rc = s && strlen(s) < sizeof c->body ? 0 : PC_ETOOBIG;
    if (rc == 0) {
        snprintf(c->body, sizeof c->body, "%s", s);
        c->req.body = c->body;
        c->req.body_len = strlen(c->body);
        c->req.headers[1] = "Content-Type: application/json";
    }
    free(s);
    return rc;
}

int pc_wx_subscribe_parse(const struct pc_out_resp *resp, int *errcode)
{
    cJSON *j;
    int rc = parse_reply(resp, &j, errcode);
    if (rc == 0 && !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(j, "errcode")))
        rc = PC_EIO; /* subscribe/send always says errcode 0 when it sent */
    cJSON_Delete(j);
    return rc;
}
