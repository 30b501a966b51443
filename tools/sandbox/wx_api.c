/* tools/sandbox/wx_api.c — the mini-program endpoints of api.weixin.qq.com
 * (wechat-protocols.md §1–§3): jscode2session, getuserphonenumber, cgi-bin/token,
 * cgi-bin/stable_token, subscribe/send. Errors are HTTP 200 {"errcode","errmsg"} as at
 * WeChat. Loop thread only. */
#include "tools/sandbox/sandbox.h"

#include "base/alloc.h"
#include "base/crypto.h"
#include "base/timeutil.h"
#include "tools/sandbox/state.h"
#include "tools/sandbox/validate.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SB_MSG_TOKEN_INVALID "invalid credential, access_token is invalid or not latest"

const char *sb_wx_errmsg(long errcode)
{
    switch (errcode) {
    case -1:
        return "system error";
    case 0:
        return "ok";
    case 40001:
        return SB_MSG_TOKEN_INVALID;
    case 40002:
        return "invalid grant_type";
    case 40003:
        return "invalid openid";
    case 40013:
        return "invalid appid";
    case 40029:
        return "invalid code";
    case 40037:
        return "invalid template_id";
    case 40125:
        return "invalid appsecret";
    case 40163:
        return "code been used";
    case 40226:
        return "code blocked";
    case 41001:
        return "access_token missing";
    case 41008:
        return "missing code";
    case 42001:
        return "access_token expired";
    case 43001:
        return "require GET method";
    case 43002:
        return "require POST method";
    case 43101:
        return "user refuse to accept the msg";
    case 45009:
        return "reach max api daily quota limit";
    case 45011:
        return "api minute-quota reach limit  mustslower  retry next minute";
    case 47001:
        return "data format error";
    case 47003:
        return "argument invalid!";
    default:
        return "sandbox injected error";
    }
}

/* 1 when the query's appid and secret match; otherwise replies 40013 / 40125. */
static int sb_check_app(struct sb_call *c, const char *appid, const char *secret)
{
    if (!appid || strcmp(appid, c->opts->appid)) {
        sb_reply_wx_error(c, 40013, NULL);
        return 0;
    }
    if (!secret || strcmp(secret, c->opts->secret)) {
        sb_reply_wx_error(c, 40125, NULL);
        return 0;
    }
    return 1;
}

/* 1 when ?access_token= is valid; otherwise replies 41001 / 40001 / 42001. */
static int sb_check_token(struct sb_call *c)
{
    const char *t = sb_query(c, "access_token");
    if (!t || !t[0]) {
        sb_reply_wx_error(c, 41001, NULL);
        return 0;
    }
    long e = sb_token_check(c->st, t);
    if (e) {
        sb_reply_wx_error(c, e, NULL);
        return 0;
    }
    return 1;
}

static const char *sb_str(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* GET /sns/jscode2session?appid&secret&js_code&grant_type=authorization_code */
static void sb_wx_jscode2session(struct sb_call *c)
{
    if (!sb_check_app(c, sb_query(c, "appid"), sb_query(c, "secret")))
        return;
    const char *gt = sb_query(c, "grant_type");
    if (!gt || strcmp(gt, "authorization_code")) {
        sb_reply_wx_error(c, 40002, NULL);
        return;
    }
    const char *code = sb_query(c, "js_code");
    if (!code || !code[0]) {
        sb_reply_wx_error(c, 41008, NULL);
        return;
    }
    const struct sb_code *lc = NULL;
    enum sb_redeem rd = sb_code_redeem(c->st, SB_CODE_LOGIN, code, NULL, &lc);
    if (rd != SB_REDEEM_OK) {
        sb_reply_wx_error(c, rd == SB_REDEEM_USED ? 40163 : 40029, NULL);
        return;
    }
    struct sb_user *u = sb_user_get(c->st, lc->openid);
    if (!u) {
        sb_reply_wx_error(c, -1, NULL);
        return;
    }
    unsigned char raw[16];
    pc_rand_bytes(raw, sizeof raw);
    EVP_EncodeBlock((unsigned char *)u->session_key, raw, (int)sizeof raw); /* 24 chars */
    if (lc->unionid[0])
        snprintf(u->unionid, sizeof u->unionid, "%s", lc->unionid);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "session_key", u->session_key);
    cJSON_AddStringToObject(j, "openid", u->openid);
    if (lc->unionid[0])
        cJSON_AddStringToObject(j, "unionid", lc->unionid);
    sb_reply_json(c, 200, j);
}

/* POST /wxa/business/getuserphonenumber?access_token=T {"code"[,"openid"]} */
static void sb_wx_getuserphonenumber(struct sb_call *c)
{
    if (!sb_check_token(c))
        return;
    cJSON *body = sb_body_object(c);
    if (!body) {
        sb_reply_wx_error(c, 47001, NULL);
        goto out;
    }
    const char *code = sb_str(body, "code");
    if (!code || !code[0]) {
        sb_reply_wx_error(c, 41008, NULL);
        goto out;
    }
    const cJSON *oid = cJSON_GetObjectItemCaseSensitive(body, "openid");
    if (oid && !cJSON_IsString(oid)) {
        sb_reply_wx_error(c, 47001, NULL);
        goto out;
    }
    const struct sb_code *pc = NULL;
    enum sb_redeem rd =
        sb_code_redeem(c->st, SB_CODE_PHONE, code, oid ? oid->valuestring : NULL, &pc);
    if (rd != SB_REDEEM_OK) {
        sb_reply_wx_error(c, rd == SB_REDEEM_USED ? 40163 : 40029, NULL);
        goto out;
    }
    char full[40];
    if (!strcmp(pc->phone_cc, "86"))
        snprintf(full, sizeof full, "%s", pc->phone_pure);
    else
        snprintf(full, sizeof full, "+%s%s", pc->phone_cc, pc->phone_pure);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "errcode", 0);
    cJSON_AddStringToObject(j, "errmsg", "ok");
    cJSON *pi = cJSON_AddObjectToObject(j, "phone_info");
    cJSON_AddStringToObject(pi, "phoneNumber", full);
    cJSON_AddStringToObject(pi, "purePhoneNumber", pc->phone_pure);
    cJSON_AddStringToObject(pi, "countryCode", pc->phone_cc);
    cJSON *wm = cJSON_AddObjectToObject(pi, "watermark");
    cJSON_AddNumberToObject(wm, "timestamp", (double)(pc_time_now_ms() / 1000));
    cJSON_AddStringToObject(wm, "appid", c->opts->appid);
    sb_reply_json(c, 200, j);
out:
    cJSON_Delete(body);
}

static void sb_reply_token(struct sb_call *c, const struct sb_token *t)
{
    int64_t left_ms = t->expires_ms - pc_time_now_ms();
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "access_token", t->value);
    cJSON_AddNumberToObject(j, "expires_in", (double)(left_ms > 0 ? (left_ms + 999) / 1000 : 0));
    sb_reply_json(c, 200, j);
}

/* GET /cgi-bin/token?grant_type=client_credential&appid&secret */
static void sb_wx_token(struct sb_call *c)
{
    const char *gt = sb_query(c, "grant_type");
    if (!gt || strcmp(gt, "client_credential")) {
        sb_reply_wx_error(c, 40002, NULL);
        return;
    }
    if (!sb_check_app(c, sb_query(c, "appid"), sb_query(c, "secret")))
        return;
    sb_reply_token(c, sb_token_classic(c->st));
}

/* POST /cgi-bin/stable_token {"grant_type","appid","secret","force_refresh"} */
static void sb_wx_stable_token(struct sb_call *c)
{
    cJSON *body = sb_body_object(c);
    if (!body) {
        sb_reply_wx_error(c, 47001, NULL);
        goto out;
    }
    const char *gt = sb_str(body, "grant_type");
    if (!gt || strcmp(gt, "client_credential")) {
        sb_reply_wx_error(c, 40002, NULL);
        goto out;
    }
    if (!sb_check_app(c, sb_str(body, "appid"), sb_str(body, "secret")))
        goto out;
    const cJSON *fr = cJSON_GetObjectItemCaseSensitive(body, "force_refresh");
    if (fr && !cJSON_IsBool(fr)) {
        sb_reply_wx_error(c, 47001, NULL);
        goto out;
    }
    const char *why = NULL;
    const struct sb_token *t = sb_token_stable(c->st, cJSON_IsTrue(fr), &why);
    if (!t) {
        sb_reply_wx_error(c, 45009, why);
        goto out;
    }
    sb_reply_token(c, t);
out:
    cJSON_Delete(body);
}

static int sb_one_of(const char *s, const char *const *allowed)
{
    for (; *allowed; allowed++)
        if (!strcmp(s, *allowed))
            return 1;
    return 0;
}

/* POST /cgi-bin/message/subscribe/send?access_token=T
 * {"touser","template_id","page"?,"data","miniprogram_state"?,"lang"?} */
static void sb_wx_subscribe_send(struct sb_call *c)
{
    static const char *const states[] = {"developer", "trial", "formal", NULL};
    static const char *const langs[] = {"zh_CN", "en_US", "zh_HK", "zh_TW", NULL};
    struct pc_buf text;
    pc_buf_init(&text, SB_MAX_BODY);
    cJSON *body = NULL;
    if (!sb_check_token(c))
        goto out;
    body = sb_body_object(c);
    if (!body) {
        sb_reply_wx_error(c, 47001, NULL);
        goto out;
    }
    const char *touser = sb_str(body, "touser");
    struct sb_user *u = touser && touser[0] ? sb_user_find(c->st, touser) : NULL;
    if (!u) {
        sb_reply_wx_error(c, 40003, NULL);
        goto out;
    }
    const char *tid = sb_str(body, "template_id");
    if (!tid || !tid[0] || strlen(tid) > SB_MAX_TEMPLATE) {
        sb_reply_wx_error(c, 40037, NULL);
        goto out;
    }
    const cJSON *page = cJSON_GetObjectItemCaseSensitive(body, "page");
    if (page && !cJSON_IsString(page)) {
        sb_reply_wx_error(c, 47001, NULL);
        goto out;
    }
    const char *ms = sb_str(body, "miniprogram_state");
    if (cJSON_GetObjectItemCaseSensitive(body, "miniprogram_state") &&
        (!ms || !sb_one_of(ms, states))) {
        sb_reply_wx_error(c, 47003, "argument invalid! miniprogram_state invalid");
        goto out;
    }
    const char *lang = sb_str(body, "lang");
    if (cJSON_GetObjectItemCaseSensitive(body, "lang") && (!lang || !sb_one_of(lang, langs))) {
        sb_reply_wx_error(c, 47003, "argument invalid! lang invalid");
        goto out;
    }
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(body, "data");
    if (!cJSON_IsObject(data) || !data->child) {
        sb_reply_wx_error(c, 47003, "argument invalid! data is empty");
        goto out;
    }
    for (const cJSON *item = data->child; item; item = item->next) {
        char err[256], key[65];
        snprintf(key, sizeof key, "%s", item->string ? item->string : "");
        const cJSON *v =
            cJSON_IsObject(item) ? cJSON_GetObjectItemCaseSensitive(item, "value") : NULL;
        if (v && !cJSON_IsString(v)) {
            snprintf(err, sizeof err, "argument invalid! data.%s.value invalid", key);
            sb_reply_wx_error(c, 47003, err);
            goto out;
        }
        if (sb_validate_subscribe(key, v ? v->valuestring : NULL, err, sizeof err)) {
            sb_reply_wx_error(c, 47003, err);
            goto out;
        }
        pc_buf_addf(&text, "%s%s: %s", item == data->child ? "" : "; ", key, v->valuestring);
    }
    if (sb_consent_take(u, tid)) {
        sb_reply_wx_error(c, 43101, NULL);
        goto out;
    }
    sb_record_message(c->st, "subscribe", u->openid, tid, data, text.p ? text.p : "",
                      page ? page->valuestring : NULL);
    sb_reply_wx_error(c, 0, "ok");
out:
    cJSON_Delete(body);
    pc_buf_free(&text);
}

static const struct sb_route sb_wx_routes[] = {
    {"GET", "/sns/jscode2session", "jscode2session", sb_wx_jscode2session},
    {"POST", "/wxa/business/getuserphonenumber", "getuserphonenumber", sb_wx_getuserphonenumber},
    {"GET", "/cgi-bin/token", "token", sb_wx_token},
    {"POST", "/cgi-bin/stable_token", "stable_token", sb_wx_stable_token},
    {"POST", "/cgi-bin/message/subscribe/send", "subscribe_send", sb_wx_subscribe_send},
};

const struct sb_route_table sb_wx_table = {sb_wx_routes,
                                           sizeof sb_wx_routes / sizeof sb_wx_routes[0]};
