/* wechat/miniapp.h — the mini-program OpenAPI calls portraitd makes (wechat-protocols.md
 * §1–§2): request builders and response parsers. Pure functions; any thread.
 *
 * Builders fill a pc_out_req whose strings point into caller buffers. Parsers return 0
 * on success, PC_EUPSTREAM with *errcode set when WeChat answered an error, or PC_EIO
 * for a transport failure / non-200 / unparseable body (then *errcode is 0). */
#ifndef PC_WECHAT_MINIAPP_H
#define PC_WECHAT_MINIAPP_H

#include "net/outbound.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

struct pc_config;

#define PC_WX_URL_MAX  2048
#define PC_WX_BODY_MAX 4096

struct pc_wx_call {
    struct pc_out_req req;
    char url[PC_WX_URL_MAX];
    char body[PC_WX_BODY_MAX];
};

/* 1 if s can be a wx.login / getPhoneNumber code: 1..128 of [A-Za-z0-9_-]. */
bool pc_wx_code_valid(const char *s);

/* GET /sns/jscode2session. */
void pc_wx_code2session_call(const struct pc_config *cfg, const char *code, struct pc_wx_call *c);

struct pc_wx_session {
    char openid[65];
    char unionid[65];     /* "" when absent */
    char session_key[64]; /* base64 of 16 bytes; a secret: never log or return it */
};
int pc_wx_code2session_parse(const struct pc_out_resp *resp, struct pc_wx_session *out,
                             int *errcode);

/* POST /wxa/business/getuserphonenumber?access_token=T with {"code","openid"}: with the openid
 * (wechat-protocols.md §1.2) WeChat checks that the code was issued to that user, so a code
 * taken from someone else's phone button binds nothing. openid may be NULL (left out). */
void pc_wx_phone_call(const struct pc_config *cfg, const char *access_token, const char *code,
                      const char *openid, struct pc_wx_call *c);
/* phone receives purePhoneNumber (national number), or phoneNumber when that is absent. */
int pc_wx_phone_parse(const struct pc_out_resp *resp, char *phone, size_t len, int *errcode);

/* POST /cgi-bin/stable_token, normal mode (never force_refresh). */
void pc_wx_stable_token_call(const struct pc_config *cfg, struct pc_wx_call *c);
int pc_wx_stable_token_parse(const struct pc_out_resp *resp, char *token, size_t len,
                             int *expires_in, int *errcode);

/* POST /cgi-bin/message/subscribe/send?access_token=T with msg ({"touser","template_id",
 * "page"?,"data","miniprogram_state"?}; borrowed). PC_ETOOBIG when it does not fit. */
int pc_wx_subscribe_call(const struct pc_config *cfg, const char *access_token, const cJSON *msg,
                         struct pc_wx_call *c);
/* 0 when sent; PC_EUPSTREAM with *errcode (43101: no consent left; 47003: bad data). */
int pc_wx_subscribe_parse(const struct pc_out_resp *resp, int *errcode);

/* 1 for the errcodes that mean "this access_token is no good" (40001, 42001, 40014). */
bool pc_wx_token_rejected(int errcode);

#endif
