/* it_sandbox.c — the WeChat sandbox (tools/sandbox) against its contract: SANDBOX.md's
 * control endpoints and the WeChat behaviour of wechat-protocols.md §1–§3, over HTTPS
 * with the test CA. Tests run in order and share one sandbox; a few start their own
 * (short code / token lifetimes). The last test checks a clean, leak-free exit. */
#include "harness.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

static struct h_sandbox g_sb;

static int setup(void **state)
{
    (void)state;
    h_sandbox_start(&g_sb, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (g_sb.pid > 0)
        h_sandbox_stop(&g_sb);
    return 0;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* ---------- helpers ---------- */

/* A WeChat-facing call: always HTTP 200 with a JSON body (caller deletes). */
static cJSON *wx(struct h_sandbox *sb, const char *method, const char *path, const char *json)
{
    struct h_resp r;
    h_sb_call(sb, method, path, json, &r);
    if (r.status != 200)
        fail_msg("%s %s: HTTP %ld %s", method, path, r.status, r.body);
    cJSON *j = h_json(&r);
    h_resp_free(&r);
    return j;
}

/* errcode of a WeChat reply; 0 when absent (successful jscode2session has none). */
static long errcode_of(const cJSON *j)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "errcode");
    return cJSON_IsNumber(e) ? (long)e->valuedouble : 0;
}

static const char *str_of(const cJSON *j, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void assert_errcode(cJSON *j, long want)
{
    if (errcode_of(j) != want) {
        char *s = cJSON_PrintUnformatted(j);
        fail_msg("expected errcode %ld, got %s", want, s);
    }
}

/* Issues a login code (openid may be NULL); the openid is copied to openid_out. */
static void login_code(struct h_sandbox *sb, const char *openid, char *code, size_t codelen,
                       char *openid_out, size_t openidlen)
{
    char body[200];
    if (openid)
        snprintf(body, sizeof body, "{\"openid\":\"%s\"}", openid);
    else
        snprintf(body, sizeof body, "{}");
    cJSON *j = h_sb_json(sb, "POST", "/__sandbox/login-code", body);
    assert_non_null(str_of(j, "code"));
    assert_non_null(str_of(j, "openid"));
    snprintf(code, codelen, "%s", str_of(j, "code"));
    if (openid_out)
        snprintf(openid_out, openidlen, "%s", str_of(j, "openid"));
    cJSON_Delete(j);
}

static cJSON *jscode2session(struct h_sandbox *sb, const char *appid, const char *secret,
                             const char *code)
{
    char path[512];
    snprintf(path, sizeof path,
             "/sns/jscode2session?appid=%s&secret=%s&js_code=%s&grant_type=authorization_code",
             appid, secret, code);
    return wx(sb, "GET", path, NULL);
}

/* stable_token; the token is copied to tok (when the call succeeds). */
static cJSON *stable_token(struct h_sandbox *sb, int force, char *tok, size_t toklen)
{
    char body[300];
    snprintf(body, sizeof body,
             "{\"grant_type\":\"client_credential\",\"appid\":\"%s\",\"secret\":\"%s\","
             "\"force_refresh\":%s}",
             H_APPID, H_SECRET, force ? "true" : "false");
    cJSON *j = wx(sb, "POST", "/cgi-bin/stable_token", body);
    if (tok && str_of(j, "access_token"))
        snprintf(tok, toklen, "%s", str_of(j, "access_token"));
    return j;
}

static void classic_token(struct h_sandbox *sb, char *tok, size_t toklen)
{
    char path[300];
    snprintf(path, sizeof path, "/cgi-bin/token?grant_type=client_credential&appid=%s&secret=%s",
             H_APPID, H_SECRET);
    cJSON *j = wx(sb, "GET", path, NULL);
    assert_errcode(j, 0);
    assert_non_null(str_of(j, "access_token"));
    const cJSON *ei = cJSON_GetObjectItemCaseSensitive(j, "expires_in");
    assert_true(cJSON_IsNumber(ei) && ei->valuedouble == 7200);
    snprintf(tok, toklen, "%s", str_of(j, "access_token"));
    cJSON_Delete(j);
}

static void phone_code(struct h_sandbox *sb, const char *openid, const char *phone, char *code,
                       size_t len)
{
    char body[200];
    snprintf(body, sizeof body, "{\"openid\":\"%s\",\"phone\":\"%s\"}", openid, phone);
    cJSON *j = h_sb_json(sb, "POST", "/__sandbox/phone-code", body);
    assert_non_null(str_of(j, "code"));
    snprintf(code, len, "%s", str_of(j, "code"));
    cJSON_Delete(j);
}

/* getuserphonenumber with token and code (openid may be NULL). */
static cJSON *get_phone(struct h_sandbox *sb, const char *tok, const char *code, const char *openid)
{
    char path[300], body[300];
    snprintf(path, sizeof path, "/wxa/business/getuserphonenumber?access_token=%s", tok);
    if (openid)
        snprintf(body, sizeof body, "{\"code\":\"%s\",\"openid\":\"%s\"}", code, openid);
    else
        snprintf(body, sizeof body, "{\"code\":\"%s\"}", code);
    return wx(sb, "POST", path, body);
}

/* errcode of getuserphonenumber for a fresh valid phone code: 0 when tok is valid. */
static long token_errcode(struct h_sandbox *sb, const char *tok)
{
    char code[100];
    phone_code(sb, "o_tokencheck", "13800138000", code, sizeof code);
    cJSON *j = get_phone(sb, tok, code, NULL);
    long e = errcode_of(j);
    cJSON_Delete(j);
    return e;
}

static void reset(struct h_sandbox *sb)
{
    cJSON_Delete(h_sb_json(sb, "POST", "/__sandbox/reset", NULL));
}

static int count_array(cJSON *j, const char *name)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, name);
    assert_true(cJSON_IsArray(a));
    return cJSON_GetArraySize(a);
}

/* ---------- login ---------- */

static void test_login_code_works_once_then_40163(void **state)
{
    (void)state;
    char code[100], openid[100];
    login_code(&g_sb, "o_once", code, sizeof code, openid, sizeof openid);
    assert_string_equal(openid, "o_once");
    cJSON *j = jscode2session(&g_sb, H_APPID, H_SECRET, code);
    assert_null(cJSON_GetObjectItemCaseSensitive(j, "errcode")); /* none on success */
    assert_string_equal(str_of(j, "openid"), "o_once");
    assert_non_null(str_of(j, "session_key"));
    assert_int_equal(strlen(str_of(j, "session_key")), 24);
    assert_null(cJSON_GetObjectItemCaseSensitive(j, "unionid"));
    cJSON_Delete(j);
    j = jscode2session(&g_sb, H_APPID, H_SECRET, code);
    assert_errcode(j, 40163);
    assert_non_null(str_of(j, "errmsg"));
    cJSON_Delete(j);
}

static void test_unknown_code_is_40029(void **state)
{
    (void)state;
    cJSON *j = jscode2session(&g_sb, H_APPID, H_SECRET, "0a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p");
    assert_errcode(j, 40029);
    cJSON_Delete(j);
}

static void test_fresh_openid_shape_new_session_key_per_login_and_unionid(void **state)
{
    (void)state;
    char code[100], openid[100], code2[100];
    login_code(&g_sb, NULL, code, sizeof code, openid, sizeof openid);
    assert_int_equal(strlen(openid), 28);
    assert_int_equal(openid[0], 'o');
    assert_int_equal(strspn(openid + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                        "0123456789-_"),
                     27);
    cJSON *a = jscode2session(&g_sb, H_APPID, H_SECRET, code);
    login_code(&g_sb, openid, code2, sizeof code2, NULL, 0);
    cJSON *b = jscode2session(&g_sb, H_APPID, H_SECRET, code2);
    assert_string_equal(str_of(a, "openid"), openid);
    assert_string_equal(str_of(b, "openid"), openid);
    assert_string_not_equal(str_of(a, "session_key"), str_of(b, "session_key"));
    cJSON_Delete(a);
    cJSON_Delete(b);

    cJSON *lc = h_sb_json(&g_sb, "POST", "/__sandbox/login-code",
                          "{\"openid\":\"o_union\",\"unionid\":\"u_union_1\"}");
    cJSON *j = jscode2session(&g_sb, H_APPID, H_SECRET, str_of(lc, "code"));
    assert_string_equal(str_of(j, "unionid"), "u_union_1");
    cJSON_Delete(j);
    cJSON_Delete(lc);
}

static void test_wrong_appid_40013_wrong_secret_40125(void **state)
{
    (void)state;
    char code[100];
    login_code(&g_sb, "o_secret", code, sizeof code, NULL, 0);
    cJSON *j = jscode2session(&g_sb, "wx0000000000000000", H_SECRET, code);
    assert_errcode(j, 40013);
    cJSON_Delete(j);
    j = jscode2session(&g_sb, H_APPID, "wrongsecret", code);
    assert_errcode(j, 40125);
    cJSON_Delete(j);
    /* Neither consumed the code. */
    j = jscode2session(&g_sb, H_APPID, H_SECRET, code);
    assert_errcode(j, 0);
    assert_string_equal(str_of(j, "openid"), "o_secret");
    cJSON_Delete(j);
}

static void test_expired_code_is_40029(void **state)
{
    (void)state;
    struct h_sandbox sb;
    h_sandbox_start(&sb, "--code-ttl-s 1");
    char code[100], fresh[100];
    login_code(&sb, "o_slow", code, sizeof code, NULL, 0);
    sleep_ms(1600);
    login_code(&sb, "o_slow", fresh, sizeof fresh, NULL, 0);
    cJSON *j = jscode2session(&sb, H_APPID, H_SECRET, code);
    assert_errcode(j, 40029);
    cJSON_Delete(j);
    j = jscode2session(&sb, H_APPID, H_SECRET, fresh);
    assert_errcode(j, 0);
    cJSON_Delete(j);
    assert_int_equal(h_sandbox_stop(&sb), 0);
}

/* ---------- access tokens ---------- */

static void test_stable_token_normal_mode_returns_same_token(void **state)
{
    (void)state;
    reset(&g_sb);
    char t1[200] = "", t2[200] = "";
    cJSON *a = stable_token(&g_sb, 0, t1, sizeof t1);
    cJSON *b = stable_token(&g_sb, 0, t2, sizeof t2);
    assert_errcode(a, 0);
    assert_true(strlen(t1) >= 64);
    assert_int_equal(strspn(t1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
                     strlen(t1));
    assert_string_equal(t1, t2);
    const cJSON *ei = cJSON_GetObjectItemCaseSensitive(b, "expires_in");
    assert_true(cJSON_IsNumber(ei) && ei->valuedouble > 7000 && ei->valuedouble <= 7200);
    cJSON_Delete(a);
    cJSON_Delete(b);
    assert_int_equal(token_errcode(&g_sb, t1), 0);
}

static void test_stable_force_refresh_invalidates_old_token_40001(void **state)
{
    (void)state;
    reset(&g_sb);
    char t1[200], t2[200];
    cJSON_Delete(stable_token(&g_sb, 0, t1, sizeof t1));
    cJSON *j = stable_token(&g_sb, 1, t2, sizeof t2);
    assert_errcode(j, 0);
    cJSON_Delete(j);
    assert_string_not_equal(t1, t2);
    assert_int_equal(token_errcode(&g_sb, t1), 40001);
    assert_int_equal(token_errcode(&g_sb, t2), 0);
    /* Normal mode now hands out the new one. */
    char t3[200];
    cJSON_Delete(stable_token(&g_sb, 0, t3, sizeof t3));
    assert_string_equal(t2, t3);
}

static void test_force_refresh_twice_within_30s_is_refused_45009(void **state)
{
    (void)state;
    reset(&g_sb);
    char t1[200], t2[200] = "";
    cJSON *j = stable_token(&g_sb, 1, t1, sizeof t1);
    assert_errcode(j, 0);
    cJSON_Delete(j);
    j = stable_token(&g_sb, 1, t2, sizeof t2);
    assert_errcode(j, 45009);
    assert_null(cJSON_GetObjectItemCaseSensitive(j, "access_token"));
    cJSON_Delete(j);
    assert_int_equal(token_errcode(&g_sb, t1), 0); /* the refused refresh changed nothing */
}

static void test_stable_token_near_expiry_renews_and_old_still_works(void **state)
{
    (void)state;
    struct h_sandbox sb;
    h_sandbox_start(&sb, "--token-ttl-s 302");
    char t1[200], t2[200];
    cJSON *a = stable_token(&sb, 0, t1, sizeof t1);
    assert_int_equal((long)cJSON_GetObjectItemCaseSensitive(a, "expires_in")->valuedouble, 302);
    cJSON_Delete(a);
    sleep_ms(2500); /* now fewer than 300 s are left */
    cJSON *b = stable_token(&sb, 0, t2, sizeof t2);
    assert_errcode(b, 0);
    assert_string_not_equal(t1, t2);
    assert_int_equal((long)cJSON_GetObjectItemCaseSensitive(b, "expires_in")->valuedouble, 302);
    cJSON_Delete(b);
    assert_int_equal(token_errcode(&sb, t1), 0);
    assert_int_equal(token_errcode(&sb, t2), 0);
    assert_int_equal(h_sandbox_stop(&sb), 0);
}

static void test_cgi_token_keeps_previous_valid_right_after_refresh(void **state)
{
    (void)state;
    reset(&g_sb);
    char t1[200], t2[200], s1[200];
    classic_token(&g_sb, t1, sizeof t1);
    classic_token(&g_sb, t2, sizeof t2);
    assert_string_not_equal(t1, t2);
    assert_int_equal(token_errcode(&g_sb, t1), 0); /* 5-minute overlap */
    assert_int_equal(token_errcode(&g_sb, t2), 0);
    /* The two endpoints' tokens are independent: a forced stable refresh leaves these. */
    cJSON_Delete(stable_token(&g_sb, 1, s1, sizeof s1));
    assert_int_equal(token_errcode(&g_sb, t2), 0);
    assert_int_equal(token_errcode(&g_sb, s1), 0);
}

static void test_expire_token_gives_42001_unknown_40001_missing_41001(void **state)
{
    (void)state;
    reset(&g_sb);
    char t1[200], t2[200], body[300];
    classic_token(&g_sb, t1, sizeof t1);
    cJSON_Delete(stable_token(&g_sb, 0, t2, sizeof t2));
    snprintf(body, sizeof body, "{\"access_token\":\"%s\"}", t1);
    cJSON *j = h_sb_json(&g_sb, "POST", "/__sandbox/expire-token", body);
    assert_int_equal((long)cJSON_GetObjectItemCaseSensitive(j, "expired")->valuedouble, 1);
    cJSON_Delete(j);
    assert_int_equal(token_errcode(&g_sb, t1), 42001);
    assert_int_equal(token_errcode(&g_sb, t2), 0);
    assert_int_equal(token_errcode(&g_sb, "no-such-token"), 40001);
    cJSON_Delete(h_sb_json(&g_sb, "POST", "/__sandbox/expire-token", NULL));
    assert_int_equal(token_errcode(&g_sb, t2), 42001);
    /* Normal-mode stable_token replaces an expired token. */
    char t3[200];
    cJSON_Delete(stable_token(&g_sb, 0, t3, sizeof t3));
    assert_string_not_equal(t2, t3);
    assert_int_equal(token_errcode(&g_sb, t3), 0);
    j = wx(&g_sb, "POST", "/wxa/business/getuserphonenumber", "{\"code\":\"x\"}");
    assert_errcode(j, 41001);
    cJSON_Delete(j);
    j = wx(&g_sb, "POST", "/wxa/business/getuserphonenumber?access_token=zzz", "{\"code\":\"x\"}");
    assert_errcode(j, 40001);
    assert_string_equal(str_of(j, "errmsg"),
                        "invalid credential, access_token is invalid or not latest");
    cJSON_Delete(j);
    struct h_resp r;
    h_sb_call(&g_sb, "POST", "/__sandbox/expire-token", "{\"access_token\":\"nope\"}", &r);
    assert_int_equal(r.status, 400);
    h_resp_free(&r);
}

/* ---------- phone number ---------- */

static void test_phone_number_flow(void **state)
{
    (void)state;
    reset(&g_sb);
    char tok[200], lcode[100], openid[100], pcode[100];
    cJSON_Delete(stable_token(&g_sb, 0, tok, sizeof tok));
    login_code(&g_sb, NULL, lcode, sizeof lcode, openid, sizeof openid);
    cJSON_Delete(jscode2session(&g_sb, H_APPID, H_SECRET, lcode));
    phone_code(&g_sb, openid, "13800138000", pcode, sizeof pcode);

    /* Another user's openid: 40029, and the code stays usable. */
    cJSON *j = get_phone(&g_sb, tok, pcode, "o_someone_else");
    assert_errcode(j, 40029);
    cJSON_Delete(j);

    j = get_phone(&g_sb, tok, pcode, openid);
    assert_errcode(j, 0);
    assert_string_equal(str_of(j, "errmsg"), "ok");
    const cJSON *pi = cJSON_GetObjectItemCaseSensitive(j, "phone_info");
    assert_string_equal(str_of(pi, "phoneNumber"), "13800138000");
    assert_string_equal(str_of(pi, "purePhoneNumber"), "13800138000");
    assert_string_equal(str_of(pi, "countryCode"), "86");
    const cJSON *wm = cJSON_GetObjectItemCaseSensitive(pi, "watermark");
    assert_string_equal(str_of(wm, "appid"), H_APPID);
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(wm, "timestamp");
    assert_true(cJSON_IsNumber(ts) && ts->valuedouble > 1.6e9);
    cJSON_Delete(j);

    j = get_phone(&g_sb, tok, pcode, NULL);
    assert_errcode(j, 40163);
    cJSON_Delete(j);
    j = get_phone(&g_sb, tok, "ffffffffffffffffffffffffffffffff", NULL);
    assert_errcode(j, 40029);
    cJSON_Delete(j);

    /* A login code is not a phone code. */
    login_code(&g_sb, openid, lcode, sizeof lcode, NULL, 0);
    j = get_phone(&g_sb, tok, lcode, NULL);
    assert_errcode(j, 40029);
    cJSON_Delete(j);

    /* Foreign number: purePhoneNumber without the country code. */
    phone_code(&g_sb, openid, "+1 2025550123", pcode, sizeof pcode);
    j = get_phone(&g_sb, tok, pcode, NULL);
    pi = cJSON_GetObjectItemCaseSensitive(j, "phone_info");
    assert_string_equal(str_of(pi, "phoneNumber"), "+12025550123");
    assert_string_equal(str_of(pi, "purePhoneNumber"), "2025550123");
    assert_string_equal(str_of(pi, "countryCode"), "1");
    cJSON_Delete(j);

    struct h_resp r;
    h_sb_call(&g_sb, "POST", "/__sandbox/phone-code", "{\"openid\":\"o_x\",\"phone\":\"12345\"}",
              &r);
    assert_int_equal(r.status, 400);
    cJSON *e = h_json(&r);
    assert_non_null(str_of(e, "error"));
    cJSON_Delete(e);
    h_resp_free(&r);
}

/* ---------- subscribe messages ---------- */

/* Sends one data field to subscribe/send; returns the reply (caller deletes). */
static cJSON *send_one(const char *tok, const char *touser, const char *tid, const char *key,
                       const char *value)
{
    char path[300];
    snprintf(path, sizeof path, "/cgi-bin/message/subscribe/send?access_token=%s", tok);
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "touser", touser);
    cJSON_AddStringToObject(b, "template_id", tid);
    cJSON_AddStringToObject(b, "page", "pages/order/detail?id=7");
    cJSON *d = cJSON_AddObjectToObject(b, "data");
    cJSON *f = cJSON_AddObjectToObject(d, key);
    cJSON_AddStringToObject(f, "value", value);
    char *s = cJSON_PrintUnformatted(b);
    cJSON *j = wx(&g_sb, "POST", path, s);
    free(s);
    cJSON_Delete(b);
    return j;
}

static void test_subscribe_send_validates_each_prefix(void **state)
{
    (void)state;
    reset(&g_sb);
    char tok[200], code[100];
    cJSON_Delete(stable_token(&g_sb, 0, tok, sizeof tok));
    login_code(&g_sb, "o_sub", code, sizeof code, NULL, 0);
    /* Valid values pass validation and then meet the missing consent (43101); invalid ones
     * are 47003 before that. */
    static const struct {
        const char *key, *value;
        int ok;
    } cases[] = {
        {"thing1", "照片审核通过", 1},
        {"thing1", "一二三四五六七八九十一二三四五六七八九十", 1}, /* 20 Chinese = 20 */
        {"thing1", "一二三四五六七八九十一二三四五六七八九十一", 0},
        {"thing1", "Photo approved, thanks!", 0}, /* 23 */
        {"number2", "12345678901234567890123456789012", 1},
        {"number2", "3.1415", 1},
        {"number2", "123456789012345678901234567890123", 0},
        {"number2", "12a", 0},
        {"number2", "1.2.3", 0},
        {"letter3", "abcXYZ", 1},
        {"letter3", "abc1", 0},
        {"letter3", "abcdefghijklmnopqrstuvwxyzABCDEFG", 0},
        {"symbol4", "+-*/%", 1},
        {"symbol4", "+-*/%!", 0},
        {"symbol4", "a", 0},
        {"character_string5", "PC20240119-0001", 1},
        {"character_string5", "订单123", 0},
        {"character_string5", "123456789012345678901234567890123", 0},
        {"time6", "15:01", 1},
        {"time6", "2019年10月1日 15:01", 1},
        {"time6", "2024-01-19 10:02", 1},
        {"time6", "2019年10月1日 15:01 ~ 2019年10月1日 16:01", 1},
        {"time6", "2019年10月1日", 0},
        {"time6", "25:00", 0},
        {"time6", "soon", 0},
        {"date7", "2019年10月1日", 1},
        {"date7", "2024-01-19", 1},
        {"date7", "2024-01-19 16:18", 1},
        {"date7", "2019年10月1日 ~ 2019年10月7日", 1},
        {"date7", "2020-01-18 16:18:49.0", 0},
        {"date7", "2024-13-01", 0},
        {"amount8", "¥12.50", 1},
        {"amount8", "￥100元", 1},
        {"amount8", "12.50", 0},
        {"amount8", "¥12345678901", 0},
        {"phone_number9", "+86-13800138000", 1},
        {"phone_number9", "020-12345678-1234567", 0},
        {"phone_number9", "call me", 0},
        {"car_number10", "粤B12345", 1},
        {"car_number10", "粤B123456X", 0},
        {"name11", "张三", 1},
        {"name11", "欧阳一二三四五六七八", 1},
        {"name11", "欧阳一二三四五六七八九", 0},
        {"name11", "John Smith", 1},
        {"name11", "Johnathan Smithsonian", 0},
        {"name11", "张三John", 0},
        {"phrase12", "配送中", 1},
        {"phrase12", "审核已通过了", 0},
        {"phrase12", "已完成!", 0},
        {"phrase12", "ok", 0},
        {"unknown13", "x", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *j = send_one(tok, "o_sub", "TPL_A", cases[i].key, cases[i].value);
        long want = cases[i].ok ? 43101 : 47003;
        if (errcode_of(j) != want)
            fail_msg("%s=\"%s\": want %ld, got %ld %s", cases[i].key, cases[i].value, want,
                     errcode_of(j), str_of(j, "errmsg"));
        if (!cases[i].ok) {
            char msg[200];
            snprintf(msg, sizeof msg, "argument invalid! data.%s.value invalid", cases[i].key);
            assert_string_equal(str_of(j, "errmsg"), msg);
        }
        cJSON_Delete(j);
    }
    cJSON *j = send_one(tok, "o_sub", "TPL_A", "thing1", "");
    assert_errcode(j, 47003);
    assert_string_equal(str_of(j, "errmsg"), "argument invalid! data.thing1.value is empty");
    cJSON_Delete(j);
    j = send_one(tok, "o_sub", "TPL_A", "phrase3", "no");
    assert_string_equal(str_of(j, "errmsg"), "argument invalid! data.phrase3.value invalid");
    cJSON_Delete(j);
    /* Unknown user 40003, empty template 40037, no data 47003. */
    j = send_one(tok, "o_nobody", "TPL_A", "thing1", "x");
    assert_errcode(j, 40003);
    cJSON_Delete(j);
    j = send_one(tok, "o_sub", "", "thing1", "x");
    assert_errcode(j, 40037);
    cJSON_Delete(j);
    char path[300];
    snprintf(path, sizeof path, "/cgi-bin/message/subscribe/send?access_token=%s", tok);
    j = wx(&g_sb, "POST", path, "{\"touser\":\"o_sub\",\"template_id\":\"TPL_A\"}");
    assert_errcode(j, 47003);
    cJSON_Delete(j);
    j = wx(&g_sb, "POST", "/cgi-bin/message/subscribe/send?access_token=bogus",
           "{\"touser\":\"o_sub\",\"template_id\":\"TPL_A\",\"data\":{}}");
    assert_errcode(j, 40001);
    cJSON_Delete(j);
}

static void test_subscribe_send_needs_consent_and_each_send_uses_one(void **state)
{
    (void)state;
    reset(&g_sb);
    char tok[200], code[100];
    cJSON_Delete(stable_token(&g_sb, 0, tok, sizeof tok));
    login_code(&g_sb, "o_consent", code, sizeof code, NULL, 0);
    cJSON *j = send_one(tok, "o_consent", "TPL_B", "thing1", "您的照片已审核通过");
    assert_errcode(j, 43101);
    assert_string_equal(str_of(j, "errmsg"), "user refuse to accept the msg");
    cJSON_Delete(j);

    j = h_sb_json(&g_sb, "POST", "/__sandbox/subscribe-consent",
                  "{\"openid\":\"o_consent\",\"template_id\":\"TPL_B\",\"count\":2}");
    assert_int_equal((long)cJSON_GetObjectItemCaseSensitive(j, "remaining")->valuedouble, 2);
    cJSON_Delete(j);
    for (int i = 0; i < 2; i++) {
        j = send_one(tok, "o_consent", "TPL_B", "thing1", "您的照片已审核通过");
        assert_errcode(j, 0);
        assert_string_equal(str_of(j, "errmsg"), "ok");
        cJSON_Delete(j);
    }
    j = send_one(tok, "o_consent", "TPL_B", "thing1", "您的照片已审核通过");
    assert_errcode(j, 43101);
    cJSON_Delete(j);
    /* Consent is per template. */
    j = send_one(tok, "o_consent", "TPL_C", "thing1", "x");
    assert_errcode(j, 43101);
    cJSON_Delete(j);

    j = h_sb_json(&g_sb, "GET", "/__sandbox/messages?kind=subscribe", NULL);
    assert_int_equal(count_array(j, "messages"), 2);
    const cJSON *m = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "messages"), 0);
    assert_string_equal(str_of(m, "kind"), "subscribe");
    assert_string_equal(str_of(m, "to"), "o_consent");
    assert_string_equal(str_of(m, "template_id"), "TPL_B");
    assert_non_null(str_of(m, "at"));
    assert_non_null(strstr(str_of(m, "text"), "您的照片已审核通过"));
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(m, "data");
    assert_string_equal(str_of(cJSON_GetObjectItemCaseSensitive(d, "thing1"), "value"),
                        "您的照片已审核通过");
    cJSON_Delete(j);
    j = h_sb_json(&g_sb, "GET", "/__sandbox/messages?kind=sms", NULL);
    assert_int_equal(count_array(j, "messages"), 0);
    cJSON_Delete(j);

    struct h_resp r;
    h_sb_call(&g_sb, "POST", "/__sandbox/subscribe-consent",
              "{\"openid\":\"o_unknown\",\"template_id\":\"TPL_B\"}", &r);
    assert_int_equal(r.status, 400);
    h_resp_free(&r);
}

/* ---------- faults ---------- */

static void test_fault_errcode_answers_next_count_calls(void **state)
{
    (void)state;
    reset(&g_sb);
    char code[100];
    login_code(&g_sb, "o_fault", code, sizeof code, NULL, 0);
    cJSON_Delete(h_sb_json(&g_sb, "POST", "/__sandbox/faults",
                           "{\"endpoint\":\"jscode2session\",\"errcode\":40226,\"count\":2}"));
    for (int i = 0; i < 2; i++) {
        cJSON *j = jscode2session(&g_sb, H_APPID, H_SECRET, code);
        assert_errcode(j, 40226);
        assert_non_null(str_of(j, "errmsg"));
        cJSON_Delete(j);
    }
    /* The faulted calls did not consume the code. */
    cJSON *j = jscode2session(&g_sb, H_APPID, H_SECRET, code);
    assert_errcode(j, 0);
    assert_string_equal(str_of(j, "openid"), "o_fault");
    cJSON_Delete(j);
    /* Other endpoints were not affected; count defaults to 1. */
    cJSON_Delete(h_sb_json(&g_sb, "POST", "/__sandbox/faults",
                           "{\"endpoint\":\"stable_token\",\"errcode\":-1}"));
    j = stable_token(&g_sb, 0, NULL, 0);
    assert_errcode(j, -1);
    cJSON_Delete(j);
    j = stable_token(&g_sb, 0, NULL, 0);
    assert_errcode(j, 0);
    cJSON_Delete(j);

    struct h_resp r;
    h_sb_call(&g_sb, "POST", "/__sandbox/faults", "{\"endpoint\":\"nope\",\"errcode\":1}", &r);
    assert_int_equal(r.status, 400);
    h_resp_free(&r);
    h_sb_call(&g_sb, "POST", "/__sandbox/faults", "{\"endpoint\":\"token\"}", &r);
    assert_int_equal(r.status, 400);
    h_resp_free(&r);
    /* A notify duplicate fault is accepted (used by the payment sandbox). */
    cJSON_Delete(
        h_sb_json(&g_sb, "POST", "/__sandbox/faults", "{\"endpoint\":\"notify\",\"duplicate\":3}"));
}

struct slow_call {
    atomic_int *seq;
    int finished_as;
    long errcode;
};

static void *slow_thread(void *arg)
{
    struct slow_call *sc = arg;
    char path[300];
    snprintf(path, sizeof path, "/cgi-bin/token?grant_type=client_credential&appid=%s&secret=%s",
             H_APPID, H_SECRET);
    struct h_resp r;
    h_sb_call(&g_sb, "GET", path, NULL, &r);
    sc->finished_as = atomic_fetch_add(sc->seq, 1);
    cJSON *j = cJSON_ParseWithLength(r.body, r.len);
    sc->errcode = j ? errcode_of(j) : -999;
    cJSON_Delete(j);
    h_resp_free(&r);
    return NULL;
}

static void test_delay_fault_delays_only_that_endpoint(void **state)
{
    (void)state;
    reset(&g_sb);
    cJSON_Delete(h_sb_json(&g_sb, "POST", "/__sandbox/faults",
                           "{\"endpoint\":\"token\",\"delay_ms\":2000,\"count\":1}"));
    atomic_int seq = 0;
    struct slow_call sc = {&seq, -1, -1};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, slow_thread, &sc), 0);
    /* Wait until the slow call has reached the sandbox, then use another endpoint. */
    for (int i = 0; i < 200; i++) {
        cJSON *rq = h_sb_json(&g_sb, "GET", "/__sandbox/requests?endpoint=token", NULL);
        int n = count_array(rq, "requests");
        cJSON_Delete(rq);
        if (n)
            break;
        sleep_ms(10);
    }
    cJSON *j = stable_token(&g_sb, 0, NULL, 0);
    int fast_finished_as = atomic_fetch_add(&seq, 1);
    assert_errcode(j, 0);
    cJSON_Delete(j);
    pthread_join(th, NULL);
    assert_int_equal(fast_finished_as, 0); /* the other endpoint answered meanwhile */
    assert_int_equal(sc.finished_as, 1);
    assert_int_equal(sc.errcode, 0); /* delayed, not failed */
    /* count 1: the next call is not delayed (and the combined form is accepted). */
    cJSON_Delete(h_sb_json(&g_sb, "POST", "/__sandbox/faults",
                           "{\"endpoint\":\"token\",\"errcode\":45011,\"delay_ms\":100}"));
    char path[300];
    snprintf(path, sizeof path, "/cgi-bin/token?grant_type=client_credential&appid=%s&secret=%s",
             H_APPID, H_SECRET);
    j = wx(&g_sb, "GET", path, NULL);
    assert_errcode(j, 45011);
    cJSON_Delete(j);
}

/* ---------- records and reset ---------- */

static void test_requests_recorded_with_query_and_body(void **state)
{
    (void)state;
    reset(&g_sb);
    const char *body = "{\"code\":\"abc\",\"openid\":\"o_rec\"}";
    cJSON_Delete(wx(&g_sb, "POST", "/wxa/business/getuserphonenumber?access_token=TOKEN123", body));
    cJSON_Delete(jscode2session(&g_sb, H_APPID, "bad", "c1"));
    cJSON_Delete(wx(&g_sb, "GET", "/wxa/business/getuserphonenumber?access_token=T2", NULL));

    cJSON *j = h_sb_json(&g_sb, "GET", "/__sandbox/requests?endpoint=getuserphonenumber", NULL);
    assert_int_equal(count_array(j, "requests"), 2);
    const cJSON *a = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "requests"), 0);
    assert_string_equal(str_of(a, "endpoint"), "getuserphonenumber");
    assert_string_equal(str_of(a, "method"), "POST");
    assert_string_equal(str_of(a, "path"),
                        "/wxa/business/getuserphonenumber?access_token=TOKEN123");
    assert_string_equal(str_of(a, "body"), body);
    assert_non_null(str_of(a, "at"));
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(a, "headers");
    assert_true(cJSON_IsObject(h));
    assert_string_equal(str_of(h, "Content-Type"), "application/json");
    const cJSON *b = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "requests"), 1);
    assert_string_equal(str_of(b, "method"), "GET"); /* oldest first; wrong method recorded */
    cJSON_Delete(j);

    j = h_sb_json(&g_sb, "GET", "/__sandbox/requests", NULL);
    assert_int_equal(count_array(j, "requests"), 3);
    const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "requests"), 1);
    assert_string_equal(str_of(c, "endpoint"), "jscode2session");
    assert_non_null(strstr(str_of(c, "path"), "js_code=c1"));
    cJSON_Delete(j);

    struct h_resp r;
    h_sb_call(&g_sb, "GET", "/__sandbox/requests?endpoint=bogus", NULL, &r);
    assert_int_equal(r.status, 400);
    h_resp_free(&r);
}

static void test_control_errors_400_and_unknown_404(void **state)
{
    (void)state;
    struct h_resp r;
    h_sb_call(&g_sb, "POST", "/__sandbox/login-code", "{\"openid\":\"bad id!\"}", &r);
    assert_int_equal(r.status, 400);
    cJSON *j = h_json(&r);
    assert_non_null(str_of(j, "error"));
    cJSON_Delete(j);
    h_resp_free(&r);
    h_sb_call(&g_sb, "POST", "/__sandbox/login-code", "[1,2]", &r);
    assert_int_equal(r.status, 400);
    h_resp_free(&r);
    h_sb_call(&g_sb, "POST", "/__sandbox/nope", "{}", &r);
    assert_int_equal(r.status, 404);
    j = h_json(&r);
    assert_non_null(str_of(j, "error"));
    cJSON_Delete(j);
    h_resp_free(&r);
    h_sb_call(&g_sb, "GET", "/__sandbox/messages?kind=fax", NULL, &r);
    assert_int_equal(r.status, 400);
    h_resp_free(&r);
}

static void test_reset_clears_everything(void **state)
{
    (void)state;
    char tok[200], code[100];
    cJSON_Delete(stable_token(&g_sb, 0, tok, sizeof tok));
    login_code(&g_sb, "o_reset", code, sizeof code, NULL, 0);
    cJSON_Delete(h_sb_json(&g_sb, "POST", "/__sandbox/subscribe-consent",
                           "{\"openid\":\"o_reset\",\"template_id\":\"TPL_R\"}"));
    cJSON_Delete(send_one(tok, "o_reset", "TPL_R", "thing1", "hello"));
    cJSON_Delete(h_sb_json(&g_sb, "POST", "/__sandbox/faults",
                           "{\"endpoint\":\"jscode2session\",\"errcode\":-1,\"count\":5}"));
    reset(&g_sb);

    cJSON *j = h_sb_json(&g_sb, "GET", "/__sandbox/requests", NULL);
    assert_int_equal(count_array(j, "requests"), 0);
    cJSON_Delete(j);
    j = h_sb_json(&g_sb, "GET", "/__sandbox/messages", NULL);
    assert_int_equal(count_array(j, "messages"), 0);
    cJSON_Delete(j);
    j = jscode2session(&g_sb, H_APPID, H_SECRET, code); /* no fault, code forgotten */
    assert_errcode(j, 40029);
    cJSON_Delete(j);
    assert_int_equal(token_errcode(&g_sb, tok), 40001);
    char tok2[200];
    cJSON_Delete(stable_token(&g_sb, 0, tok2, sizeof tok2));
    j = send_one(tok2, "o_reset", "TPL_R", "thing1", "hello"); /* user forgotten */
    assert_errcode(j, 40003);
    cJSON_Delete(j);
}

static void test_sandbox_exits_cleanly_on_sigterm(void **state)
{
    (void)state;
    assert_int_equal(h_sandbox_stop(&g_sb), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_login_code_works_once_then_40163),
        cmocka_unit_test(test_unknown_code_is_40029),
        cmocka_unit_test(test_fresh_openid_shape_new_session_key_per_login_and_unionid),
        cmocka_unit_test(test_wrong_appid_40013_wrong_secret_40125),
        cmocka_unit_test(test_expired_code_is_40029),
        cmocka_unit_test(test_stable_token_normal_mode_returns_same_token),
        cmocka_unit_test(test_stable_force_refresh_invalidates_old_token_40001),
        cmocka_unit_test(test_force_refresh_twice_within_30s_is_refused_45009),
        cmocka_unit_test(test_stable_token_near_expiry_renews_and_old_still_works),
        cmocka_unit_test(test_cgi_token_keeps_previous_valid_right_after_refresh),
        cmocka_unit_test(test_expire_token_gives_42001_unknown_40001_missing_41001),
        cmocka_unit_test(test_phone_number_flow),
        cmocka_unit_test(test_subscribe_send_validates_each_prefix),
        cmocka_unit_test(test_subscribe_send_needs_consent_and_each_send_uses_one),
        cmocka_unit_test(test_fault_errcode_answers_next_count_calls),
        cmocka_unit_test(test_delay_fault_delays_only_that_endpoint),
        cmocka_unit_test(test_requests_recorded_with_query_and_body),
        cmocka_unit_test(test_control_errors_400_and_unknown_404),
        cmocka_unit_test(test_reset_clears_everything),
        cmocka_unit_test(test_sandbox_exits_cleanly_on_sigterm),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
