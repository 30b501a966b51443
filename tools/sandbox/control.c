/* tools/sandbox/control.c — the /__sandbox/... control endpoints (SANDBOX.md): JSON in,
 * JSON out, 200 on success, 400 {"error"} on bad input. Loop thread only. */
#include "tools/sandbox/sandbox.h"

#include "base/alloc.h"
#include "base/crypto.h"
#include "tools/sandbox/state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parses the body: NULL body → empty object; not a JSON object → NULL after a 400. */
static cJSON *sb_ctl_body(struct sb_call *c)
{
    if (!c->body_len)
        return cJSON_CreateObject();
    cJSON *j = sb_body_object(c);
    if (!j)
        sb_reply_ctl_error(c, 400, "the body must be a JSON object");
    return j;
}

/* Reads an optional string field: 0 absent, 1 present (in *out), -1 wrong type (400 sent). */
static int sb_ctl_str(struct sb_call *c, const cJSON *obj, const char *name, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    *out = NULL;
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsString(v)) {
        sb_reply_ctl_error(c, 400, "%s must be a string", name);
        return -1;
    }
    *out = v->valuestring;
    return 1;
}

/* Reads an optional integer field in [min, max]: 0 absent, 1 present, -1 bad (400 sent). */
static int sb_ctl_int(struct sb_call *c, const cJSON *obj, const char *name, long min, long max,
                      long *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!v || cJSON_IsNull(v))
        return 0;
    double d = cJSON_IsNumber(v) ? v->valuedouble : (double)min - 1;
    if (!(d >= (double)min && d <= (double)max) || d != (double)(long)d) {
        sb_reply_ctl_error(c, 400, "%s must be an integer from %ld to %ld", name, min, max);
        return -1;
    }
    *out = (long)d;
    return 1;
}

/* Reads an optional openid-like id ([A-Za-z0-9_-]{1,64}). */
static int sb_ctl_id(struct sb_call *c, const cJSON *obj, const char *name, const char **out)
{
    int rc = sb_ctl_str(c, obj, name, out);
    if (rc == 1 && !sb_id_ok(*out, SB_MAX_OPENID)) {
        sb_reply_ctl_error(c, 400, "%s must be 1 to %d characters of [A-Za-z0-9_-]", name,
                           SB_MAX_OPENID);
        return -1;
    }
    return rc;
}

/* POST /__sandbox/login-code {"openid"?,"unionid"?} → {"code","openid"} */
static void sb_ctl_login_code(struct sb_call *c)
{
    const char *openid = NULL, *unionid = NULL;
    char fresh[SB_MAX_OPENID + 1];
    cJSON *body = sb_ctl_body(c);
    if (!body || sb_ctl_id(c, body, "openid", &openid) < 0 ||
        sb_ctl_id(c, body, "unionid", &unionid) < 0)
        goto out;
    if (!openid) {
        do { /* "o" + 27 base64url characters, the shape of real openids */
            unsigned char raw[20];
            fresh[0] = 'o';
            pc_rand_bytes(raw, sizeof raw);
            pc_b64url(raw, sizeof raw, fresh + 1);
        } while (sb_user_find(c->st, fresh));
        openid = fresh;
    }
    struct sb_user *u = sb_user_get(c->st, openid);
    if (!u) {
        sb_reply_ctl_error(c, 400, "too many users (max %d); POST /__sandbox/reset", SB_MAX_USERS);
        goto out;
    }
    struct sb_code proto;
    memset(&proto, 0, sizeof proto);
    proto.kind = SB_CODE_LOGIN;
    snprintf(proto.openid, sizeof proto.openid, "%s", openid);
    snprintf(proto.unionid, sizeof proto.unionid, "%s", unionid ? unionid : "");
    const struct sb_code *code = sb_code_issue(c->st, &proto);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "code", code->code);
    cJSON_AddStringToObject(j, "openid", code->openid);
    if (unionid)
        cJSON_AddStringToObject(j, "unionid", unionid);
    cJSON_AddNumberToObject(j, "expires_in", (double)c->opts->code_ttl_s);
    sb_reply_json(c, 200, j);
out:
    cJSON_Delete(body);
}

static int sb_all_digits(const char *s, size_t min, size_t max)
{
    size_t n = strlen(s);
    if (n < min || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

/* "13800138000", "+86 13800138000", "+8613800138000", "+1 2025550123", "+44-7700900123".
 * 0, or -1 when the number is not one of those shapes. */
static int sb_phone_parse(const char *in, char *cc, size_t cclen, char *pure, size_t purelen)
{
    if (in[0] != '+') {
        if (!sb_all_digits(in, 11, 11) || in[0] != '1')
            return -1;
        snprintf(cc, cclen, "86");
        snprintf(pure, purelen, "%s", in);
        return 0;
    }
    const char *p = in + 1;
    if (!strncmp(p, "86", 2) && sb_all_digits(p + 2, 11, 11) && p[2] == '1') {
        snprintf(cc, cclen, "86");
        snprintf(pure, purelen, "%s", p + 2);
        return 0;
    }
    size_t k = strspn(p, "0123456789");
    if (k < 1 || k > 3 || p[0] == '0' || (p[k] != ' ' && p[k] != '-'))
        return -1;
    const char *rest = p + k + 1;
    if (!strncmp(p, "86", k) && k == 2) {
        if (!sb_all_digits(rest, 11, 11) || rest[0] != '1')
            return -1;
    } else if (!sb_all_digits(rest, 4, 15)) {
        return -1;
    }
    snprintf(cc, cclen, "%.*s", (int)k, p);
    snprintf(pure, purelen, "%s", rest);
    return 0;
}

/* POST /__sandbox/phone-code {"openid","phone"} → {"code"} */
static void sb_ctl_phone_code(struct sb_call *c)
{
    const char *openid = NULL, *phone = NULL;
    cJSON *body = sb_ctl_body(c);
    if (!body || sb_ctl_id(c, body, "openid", &openid) < 0 ||
        sb_ctl_str(c, body, "phone", &phone) < 0)
        goto out;
    if (!openid || !phone) {
        sb_reply_ctl_error(c, 400, "openid and phone are required");
        goto out;
    }
    struct sb_code proto;
    memset(&proto, 0, sizeof proto);
    proto.kind = SB_CODE_PHONE;
    snprintf(proto.openid, sizeof proto.openid, "%s", openid);
    if (sb_phone_parse(phone, proto.phone_cc, sizeof proto.phone_cc, proto.phone_pure,
                       sizeof proto.phone_pure)) {
        sb_reply_ctl_error(c, 400,
                           "phone must be 11 digits starting with 1, or +CC NUMBER for a "
                           "foreign number (e.g. +1 2025550123)");
        goto out;
    }
    const struct sb_code *code = sb_code_issue(c->st, &proto);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "code", code->code);
    cJSON_AddNumberToObject(j, "expires_in", (double)c->opts->code_ttl_s);
    sb_reply_json(c, 200, j);
out:
    cJSON_Delete(body);
}

/* 1 for the WeChat Pay API endpoints (errcode is an HTTP status), 2 for the notification
 * endpoints (no errcode; drop), 0 for the rest. */
static int sb_ctl_endpoint_kind(const char *endpoint)
{
    static const char *const pay[] = {"jsapi",  "native",    "query",       "close",
                                      "refund", "tradebill", "billdownload"};
    for (size_t i = 0; i < sizeof pay / sizeof pay[0]; i++)
        if (!strcmp(endpoint, pay[i]))
            return 1;
    return !strcmp(endpoint, "notify") || !strcmp(endpoint, "refund_notify") ? 2 : 0;
}

/* POST /__sandbox/faults {"endpoint","errcode"?,"delay_ms"?,"duplicate"?,"drop"?,"count"?} */
static void sb_ctl_faults(struct sb_call *c)
{
    const char *endpoint = NULL;
    long errcode = 0, delay_ms = -1, duplicate = -1, count = 1, drop = -1;
    int has_errcode = 0, has_delay = 0, has_dup = 0;
    cJSON *body = sb_ctl_body(c);
    if (!body || sb_ctl_str(c, body, "endpoint", &endpoint) < 0 ||
        (has_errcode = sb_ctl_int(c, body, "errcode", -999999, 999999, &errcode)) < 0 ||
        (has_delay = sb_ctl_int(c, body, "delay_ms", 0, SB_MAX_DELAY_MS, &delay_ms)) < 0 ||
        (has_dup = sb_ctl_int(c, body, "duplicate", 0, 10, &duplicate)) < 0 ||
        sb_ctl_int(c, body, "count", 0, 1000000, &count) < 0)
        goto out;
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(body, "drop");
    if (d && !cJSON_IsNull(d)) {
        if (!cJSON_IsBool(d)) {
            sb_reply_ctl_error(c, 400, "drop must be true or false");
            goto out;
        }
        drop = cJSON_IsTrue(d) ? 1 : 0;
    }
    if (!sb_endpoint_known(endpoint)) {
        sb_reply_ctl_error(c, 400, "unknown endpoint '%s'", endpoint ? endpoint : "");
        goto out;
    }
    if (!has_errcode && !has_delay && !has_dup && drop < 0) {
        sb_reply_ctl_error(c, 400, "give errcode, delay_ms, duplicate or drop");
        goto out;
    }
    if (has_errcode && errcode == 0) {
        sb_reply_ctl_error(c, 400, "errcode must not be 0");
        goto out;
    }
    int kind = sb_ctl_endpoint_kind(endpoint);
    if (kind == 1 && has_errcode && (errcode < 400 || errcode > 599)) {
        sb_reply_ctl_error(c, 400,
                           "errcode of WeChat Pay endpoint '%s' is an HTTP status "
                           "(400 to 599)",
                           endpoint);
        goto out;
    }
    if (kind == 2 && has_errcode) {
        sb_reply_ctl_error(c, 400, "'%s' takes delay_ms, duplicate or drop, not errcode", endpoint);
        goto out;
    }
    if (kind != 2 && drop >= 0) {
        sb_reply_ctl_error(c, 400, "drop applies to notify and refund_notify only");
        goto out;
    }
    sb_fault_set(c->st, endpoint, has_errcode, errcode, has_delay ? delay_ms : -1, count,
                 has_dup ? duplicate : -1, drop);
    sb_reply_json(c, 200, sb_fault_json(c->st, endpoint));
out:
    cJSON_Delete(body);
}

/* GET /__sandbox/requests[?endpoint=NAME] */
static void sb_ctl_requests(struct sb_call *c)
{
    const char *endpoint = sb_query(c, "endpoint");
    if (endpoint && !sb_endpoint_known(endpoint)) {
        sb_reply_ctl_error(c, 400, "unknown endpoint '%s'", endpoint);
        return;
    }
    pc_buf_reset(&c->out);
    sb_requests_render(c->st, endpoint, &c->out);
    c->status = 200;
}

/* GET /__sandbox/messages[?kind=subscribe|sms] */
static void sb_ctl_messages(struct sb_call *c)
{
    const char *kind = sb_query(c, "kind");
    if (kind && strcmp(kind, "subscribe") && strcmp(kind, "sms")) {
        sb_reply_ctl_error(c, 400, "kind must be subscribe or sms");
        return;
    }
    pc_buf_reset(&c->out);
    sb_messages_render(c->st, kind, &c->out);
    c->status = 200;
}

/* POST /__sandbox/reset */
static void sb_ctl_reset(struct sb_call *c)
{
    sb_state_reset(c->st);
    sb_bill_reset();
    cJSON *j = cJSON_CreateObject();
    cJSON_AddBoolToObject(j, "reset", 1);
    sb_reply_json(c, 200, j);
}

/* POST /__sandbox/subscribe-consent {"openid","template_id","count"?} → {"remaining"} */
static void sb_ctl_subscribe_consent(struct sb_call *c)
{
    const char *openid = NULL, *tid = NULL;
    long count = 1;
    cJSON *body = sb_ctl_body(c);
    if (!body || sb_ctl_id(c, body, "openid", &openid) < 0 ||
        sb_ctl_str(c, body, "template_id", &tid) < 0 ||
        sb_ctl_int(c, body, "count", 1, 1000, &count) < 0)
        goto out;
    if (!openid || !tid || !tid[0] || strlen(tid) > SB_MAX_TEMPLATE) {
        sb_reply_ctl_error(c, 400, "openid and template_id (1 to %d bytes) are required",
                           SB_MAX_TEMPLATE);
        goto out;
    }
    struct sb_user *u = sb_user_find(c->st, openid);
    if (!u) {
        sb_reply_ctl_error(c, 400, "unknown openid '%s': POST /__sandbox/login-code first", openid);
        goto out;
    }
    long left = sb_consent_add(u, tid, count);
    if (left < 0) {
        sb_reply_ctl_error(c, 400, "too many templates for this user (max %d)", SB_MAX_CONSENTS);
        goto out;
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "openid", openid);
    cJSON_AddStringToObject(j, "template_id", tid);
    cJSON_AddNumberToObject(j, "remaining", (double)left);
    sb_reply_json(c, 200, j);
out:
    cJSON_Delete(body);
}

/* POST /__sandbox/expire-token {"access_token"?} → {"expired":N} */
static void sb_ctl_expire_token(struct sb_call *c)
{
    const char *tok = NULL;
    cJSON *body = sb_ctl_body(c);
    if (!body || sb_ctl_str(c, body, "access_token", &tok) < 0)
        goto out;
    long n = sb_token_expire(c->st, tok);
    if (n < 0) {
        sb_reply_ctl_error(c, 400, "unknown access_token");
        goto out;
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "expired", (double)n);
    sb_reply_json(c, 200, j);
out:
    cJSON_Delete(body);
}

static const struct sb_route sb_control_routes[] = {
    {"POST", "/__sandbox/login-code", NULL, sb_ctl_login_code},
    {"POST", "/__sandbox/phone-code", NULL, sb_ctl_phone_code},
    {"POST", "/__sandbox/faults", NULL, sb_ctl_faults},
    {"GET", "/__sandbox/requests", NULL, sb_ctl_requests},
    {"GET", "/__sandbox/messages", NULL, sb_ctl_messages},
    {"POST", "/__sandbox/reset", NULL, sb_ctl_reset},
    {"POST", "/__sandbox/subscribe-consent", NULL, sb_ctl_subscribe_consent},
    {"POST", "/__sandbox/expire-token", NULL, sb_ctl_expire_token},
};

const struct sb_route_table sb_control_table = {sb_control_routes, sizeof sb_control_routes /
                                                                       sizeof sb_control_routes[0]};
