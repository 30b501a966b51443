/* tools/sandbox/sms.c — a generic HTTP SMS gateway, recorded instead of sent.
 *
 * POST /sms/v1/send, Authorization: Bearer KEY (checked when --sms-key is given),
 * body {"phone": "13800138000", "text": "...", "sign"?: "..."}:
 *   HTTP 200 {"code":0,"message":"ok","message_id":"SMS…"} — recorded as kind "sms";
 *   HTTP 200 {"code":1001,...} bad phone, {"code":1002,...} bad text, 401 {"code":401,...}.
 * Faults (`{"endpoint":"sms","errcode":N}`) answer {"errcode":N,...}: a failure to the client.
 * Loop thread only. */
#include "tools/sandbox/sandbox.h"
#include "tools/sandbox/state.h"
#include "tools/sandbox/validate.h"

#include <event2/http.h>
#include <stdio.h>
#include <string.h>

#define SB_SMS_MAX_TEXT 500 /* code points: long messages are split by real gateways */

static void sms_reply(struct sb_call *c, int status, long code, const char *message)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "code", (double)code);
    cJSON_AddStringToObject(j, "message", message);
    sb_reply_json(c, status, j);
}

static int phone_ok(const char *p)
{
    size_t n = p ? strlen(p) : 0;
    if (n < 5 || n > 20)
        return 0;
    for (size_t i = (p[0] == '+'); i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return 0;
    return 1;
}

static void sb_sms_send(struct sb_call *c)
{
    static unsigned long seq;
    if (c->opts->sms_key) {
        const char *auth =
            evhttp_find_header(evhttp_request_get_input_headers(c->ev), "Authorization");
        char want[300];
        snprintf(want, sizeof want, "Bearer %s", c->opts->sms_key);
        if (!auth || strcmp(auth, want) != 0) {
            sms_reply(c, 401, 401, "bad api key");
            return;
        }
    }
    cJSON *body = sb_body_object(c);
    const cJSON *phone = body ? cJSON_GetObjectItemCaseSensitive(body, "phone") : NULL;
    const cJSON *text = body ? cJSON_GetObjectItemCaseSensitive(body, "text") : NULL;
    uint32_t cp[SB_SMS_MAX_TEXT];
    long cps = cJSON_IsString(text) ? sb_utf8_decode(text->valuestring, strlen(text->valuestring),
                                                     cp, SB_SMS_MAX_TEXT)
                                    : -1;
    if (!cJSON_IsString(phone) || !phone_ok(phone->valuestring))
        sms_reply(c, 200, 1001, "invalid phone");
    else if (cps <= 0)
        sms_reply(c, 200, 1002, "text must be 1 to 500 characters of UTF-8");
    else {
        char id[32];
        snprintf(id, sizeof id, "SMS%08lu", ++seq);
        sb_record_message(c->st, "sms", phone->valuestring, NULL, NULL, text->valuestring, NULL);
        cJSON *j = cJSON_CreateObject();
        cJSON_AddNumberToObject(j, "code", 0);
        cJSON_AddStringToObject(j, "message", "ok");
        cJSON_AddStringToObject(j, "message_id", id);
        sb_reply_json(c, 200, j);
    }
    cJSON_Delete(body);
}

static const struct sb_route sb_sms_routes[] = {
    {"POST", "/sms/v1/send", "sms", sb_sms_send},
};

const struct sb_route_table sb_sms_table = {sb_sms_routes,
                                            sizeof sb_sms_routes / sizeof sb_sms_routes[0]};
