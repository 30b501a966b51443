/* it_login.c — student login through the WeChat sandbox: code2Session, sessions, profile,
 * phone binding, avatar, WeChat error mapping, rate limits, and a slow upstream that must
 * not stall other requests. Real portraitd, real MariaDB, sandbox over HTTPS. */
#include "harness.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>
#include <turbojpeg.h>

static struct h_db g_db;
static struct h_sandbox g_sb;
static struct h_srv g_srv;
static const char *KEY_HEX = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

static void start_server(struct h_srv *srv, const char *more)
{
    char conf[2048], wx[512];
    snprintf(conf, sizeof conf,
             "%s\ntimeout_ms = 1500\n[server]\ntrusted_proxies = 127.0.0.1\n"
             "[auth]\nwxlogin_openid_max = 3\nwxlogin_addr_max = 8\n%s",
             h_sandbox_conf(&g_sb, wx, sizeof wx), more ? more : "");
    h_srv_start(srv, &g_db, conf, 0);
}

static int setup(void **state)
{
    (void)state;
    h_db_start(&g_db);
    h_sandbox_start(&g_sb, NULL);
    start_server(&g_srv, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return h_stack_down(&g_srv, &g_sb, &g_db);
}

/* A fresh wx.login code for openid from the sandbox (copied into code). */
static void login_code(const char *openid, char *code, size_t len)
{
    char body[128];
    snprintf(body, sizeof body, "{\"openid\":\"%s\"}", openid);
    cJSON *j = h_sb_json(&g_sb, "POST", "/__sandbox/login-code", body);
    snprintf(code, len, "%s", cJSON_GetObjectItem(j, "code")->valuestring);
    cJSON_Delete(j);
}

/* POST /auth/wx-login with code from address ip. */
static void wx_login(struct h_srv *srv, const char *code, const char *ip, struct h_resp *r)
{
    char body[256], xff[64];
    snprintf(body, sizeof body, "{\"code\":\"%s\"}", code);
    snprintf(xff, sizeof xff, "X-Forwarded-For: %s", ip);
    const char *hs[] = {"Content-Type: application/json", xff, NULL};
    h_http(srv, "POST", "/api/v1/auth/wx-login", hs, body, strlen(body), r);
}

/* Logs openid in (from address ip) and returns its token and user id. */
static long long login_as(struct h_srv *srv, const char *openid, const char *ip, char *token,
                          size_t len)
{
    char code[128];
    struct h_resp r;
    login_code(openid, code, sizeof code);
    wx_login(srv, code, ip, &r);
    if (r.status != 200)
        fail_msg("login %s: %ld %s", openid, r.status, r.body);
    cJSON *j = h_json(&r);
    snprintf(token, len, "%s", cJSON_GetObjectItem(j, "token")->valuestring);
    long long id =
        (long long)cJSON_GetObjectItem(cJSON_GetObjectItem(j, "user"), "id")->valuedouble;
    cJSON_Delete(j);
    h_resp_free(&r);
    return id;
}

static void fault(const char *json)
{
    cJSON_Delete(h_sb_json(&g_sb, "POST", "/__sandbox/faults", json));
}

static void test_first_login_creates_the_user_and_the_second_finds_it(void **state)
{
    (void)state;
    char code[128];
    struct h_resp r;
    login_code("o_first_login", code, sizeof code);
    wx_login(&g_srv, code, "198.51.100.10", &r);
    assert_int_equal(r.status, 200);
    cJSON *j = h_json(&r);
    const char *tok = cJSON_GetObjectItem(j, "token")->valuestring;
    assert_int_equal(strlen(tok), 43);
    assert_string_equal(cJSON_GetObjectItem(j, "expires_at")->valuestring + 19, "+08:00");
    cJSON *u = cJSON_GetObjectItem(j, "user");
    long long id = (long long)cJSON_GetObjectItem(u, "id")->valuedouble;
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(u, "profile_complete")));
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(u, "phone_bound")));
    assert_null(strstr(r.body, "session_key"));
    cJSON_Delete(j);
    h_resp_free(&r);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM users WHERE openid='o_first_login'"), 1);

    char tok2[64];
    long long id2 = login_as(&g_srv, "o_first_login", "198.51.100.10", tok2, sizeof tok2);
    assert_int_equal(id2, id);
    assert_int_equal(h_db_int(&g_db, "SELECT COUNT(*) FROM users WHERE openid='o_first_login'"), 1);
    assert_int_equal(h_db_int(&g_db,
                              "SELECT COUNT(*) FROM audit_log WHERE action='user.login' "
                              "AND actor_id=%lld",
                              id),
                     2);
    /* The sandbox saw exactly our appid and secret and the code, over jscode2session. */
    cJSON *req = h_sb_json(&g_sb, "GET", "/__sandbox/requests?endpoint=jscode2session", NULL);
    cJSON *list = cJSON_GetObjectItem(req, "requests");
    assert_true(cJSON_GetArraySize(list) >= 2);
    const char *path = cJSON_GetObjectItem(cJSON_GetArrayItem(list, 0), "path")->valuestring;
    assert_non_null(strstr(path, "appid=" H_APPID));
    assert_non_null(strstr(path, "grant_type=authorization_code"));
    cJSON_Delete(req);
}

/* Decrypts the stored session_key with the test data key: it must be the sandbox's. */
static void test_session_key_is_sealed_at_rest_and_never_logged(void **state)
{
    (void)state;
    char tok[64];
    long long id = login_as(&g_srv, "o_sealed", "198.51.100.11", tok, sizeof tok);
    assert_int_equal(h_db_int(&g_db, "SELECT LENGTH(session_key_enc) FROM users WHERE id=%lld", id),
                     24 + 29);
    /* Fetch the sealed bytes as hex and open them. */
    char hexq[256];
    snprintf(hexq, sizeof hexq, "SELECT HEX(session_key_enc) FROM users WHERE id=%lld", id);
    char cmd[600], out[256];
    snprintf(cmd, sizeof cmd, "'%s/scripts/mariadb.sh' sql '%s' portraitd -N -e \"%s\"",
             PC_SOURCE_DIR, g_db.dir, hexq);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    assert_non_null(fgets(out, sizeof out, p));
    pclose(p);
    unsigned char blob[64], key[32], plain[32];
    size_t n = strlen(out) / 2;
    for (size_t i = 0; i < n; i++) {
        char b[3] = {out[2 * i], out[2 * i + 1], 0};
        blob[i] = (unsigned char)strtol(b, NULL, 16);
    }
    for (size_t i = 0; i < 32; i++) {
        char b[3] = {KEY_HEX[2 * i], KEY_HEX[2 * i + 1], 0};
        key[i] = (unsigned char)strtol(b, NULL, 16);
    }
    assert_int_equal(blob[0], 1);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int len = 0;
    const char *aad = "users.session_key:o_sealed";
    assert_int_equal(EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, blob + 1), 1);
    EVP_DecryptUpdate(c, NULL, &len, (const unsigned char *)aad, (int)strlen(aad));
    EVP_DecryptUpdate(c, plain, &len, blob + 13, 24);
    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, blob + 13 + 24);
    assert_int_equal(EVP_DecryptFinal_ex(c, plain + len, &len), 1);
    EVP_CIPHER_CTX_free(c);
    plain[24] = '\0';
    /* 24 base64 characters of a 16-byte key, nowhere in the server's log. */
    FILE *f = fopen(g_srv.log, "r");
    char line[8192];
    while (f && fgets(line, sizeof line, f)) {
        assert_null(strstr(line, (const char *)plain));
        assert_null(strstr(line, H_SECRET));
        assert_null(strstr(line, tok));
    }
    if (f)
        fclose(f);
}

static void test_a_reused_or_unknown_code_asks_for_a_new_one(void **state)
{
    (void)state;
    char code[128];
    struct h_resp r;
    login_code("o_reuse", code, sizeof code);
    wx_login(&g_srv, code, "198.51.100.12", &r);
    assert_int_equal(r.status, 200);
    h_resp_free(&r);
    wx_login(&g_srv, code, "198.51.100.12", &r); /* 40163 code been used */
    h_assert_error(&r, 400, "WX_CODE_INVALID");
    h_resp_free(&r);
    wx_login(&g_srv, "never-issued-code", "198.51.100.12", &r); /* 40029 */
    h_assert_error(&r, 400, "WX_CODE_INVALID");
    h_resp_free(&r);
    wx_login(&g_srv, "bad code with spaces", "198.51.100.12", &r);
    h_assert_error(&r, 400, "INVALID_INPUT");
    h_resp_free(&r);
}

static void test_wechat_errors_map_to_clear_student_errors(void **state)
{
    (void)state;
    static const struct {
        int errcode;
        long status;
        const char *code;
    } cases[] = {{40029, 400, "WX_CODE_INVALID"},
                 {40163, 400, "WX_CODE_INVALID"},
                 {45011, 429, "RATE_LIMITED"},
                 {40226, 403, "WX_LOGIN_REFUSED"},
                 {-1, 503, "WECHAT_UNAVAILABLE"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char code[128], f[128], ip[32], ra[16];
        struct h_resp r;
        snprintf(ip, sizeof ip, "192.0.2.%zu", 20 + i);
        login_code("o_errors", code, sizeof code);
        snprintf(f, sizeof f, "{\"endpoint\":\"jscode2session\",\"errcode\":%d,\"count\":1}",
                 cases[i].errcode);
        fault(f);
        wx_login(&g_srv, code, ip, &r);
        h_assert_error(&r, cases[i].status, cases[i].code);
        if (cases[i].status == 429 || cases[i].status == 503)
            assert_non_null(h_header(&r, "Retry-After", ra, sizeof ra));
        h_resp_free(&r);
    }
}

static void test_an_upstream_timeout_is_503(void **state)
{
    (void)state;
    char code[128];
    struct h_resp r;
    login_code("o_timeout", code, sizeof code);
    fault("{\"endpoint\":\"jscode2session\",\"delay_ms\":3000,\"count\":1}");
    wx_login(&g_srv, code, "192.0.2.40", &r); /* wechat.timeout_ms is 1500 here */
    h_assert_error(&r, 503, "WECHAT_UNAVAILABLE");
    h_resp_free(&r);
}

struct slow_login {
    struct h_srv *srv;
    char code[128];
    struct h_resp resp;
    atomic_int done;
};

static void *slow_login_thread(void *p)
{
    struct slow_login *s = p;
    wx_login(s->srv, s->code, "192.0.2.41", &s->resp);
    atomic_store(&s->done, 1);
    return NULL;
}

/* One loop thread and one worker: if the 3 s code2Session held either, nothing else could
 * be answered until it returned. Ordering, not timing, is asserted. */
static void test_a_slow_code2session_does_not_stall_other_requests(void **state)
{
    (void)state;
    struct h_srv one;
    start_server(&one, "[server]\nthreads = 1\nworkers = 1\n[wechat]\ntimeout_ms = 8000\n");
    char tok[64];
    login_as(&one, "o_meanwhile", "192.0.2.42", tok, sizeof tok);
    struct slow_login s = {&one, "", {0}, 0};
    login_code("o_slow", s.code, sizeof s.code);
    fault("{\"endpoint\":\"jscode2session\",\"delay_ms\":3000,\"count\":1}");
    pthread_t t;
    pthread_create(&t, NULL, slow_login_thread, &s);
    /* Wait until the sandbox holds the slow call. */
    for (int i = 0; i < 200; i++) {
        cJSON *j = h_sb_json(&g_sb, "GET", "/__sandbox/requests?endpoint=jscode2session", NULL);
        cJSON *list = cJSON_GetObjectItem(j, "requests");
        int seen = 0;
        for (int k = 0; k < cJSON_GetArraySize(list); k++)
            seen |= strstr(cJSON_GetObjectItem(cJSON_GetArrayItem(list, k), "path")->valuestring,
                           s.code) != NULL;
        cJSON_Delete(j);
        if (seen)
            break;
        h_msleep(10);
    }
    int answered = 0;
    for (int i = 0; i < 10; i++) {
        struct h_resp r;
        h_get(&one, "/api/v1/me", tok, &r); /* needs the worker and the database */
        assert_int_equal(r.status, 200);
        h_resp_free(&r);
        h_get(&one, "/healthz", NULL, &r);
        assert_int_equal(r.status, 200);
        h_resp_free(&r);
        if (!atomic_load(&s.done))
            answered++;
    }
    pthread_join(t, NULL);
    assert_int_equal(answered, 10); /* all answered while the slow login was still waiting */
    assert_int_equal(s.resp.status, 200);
    h_resp_free(&s.resp);
    assert_int_equal(h_srv_stop(&one, SIGTERM), 0);
}

static void test_profile_completion_and_validation(void **state)
{
    (void)state;
    char tok[64];
    login_as(&g_srv, "o_profile", "192.0.2.50", tok, sizeof tok);
    struct h_resp r;
    h_get(&g_srv, "/api/v1/me", tok, &r);
    assert_int_equal(r.status, 200);
    cJSON *j = h_json(&r);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j, "profile_complete")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "real_name")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "phone_masked")));
    cJSON_Delete(j);
    h_resp_free(&r);

    static const char *const bad[] = {"{\"real_name\":\"\"}",
                                      "{\"real_name\":\"   \"}",
                                      "{\"real_name\":\"<script>\"}",
                                      "{\"real_name\":\"张三3\"}",
                                      "{\"real_name\":42}",
                                      "{\"nickname\":\"x\"}",
                                      "{\"real_name\":\"ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFG\"}"};
    const char *hs[] = {"Content-Type: application/json", NULL, NULL};
    char auth[128];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", tok);
    hs[1] = auth;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        h_http(&g_srv, "PUT", "/api/v1/me/profile", hs, bad[i], strlen(bad[i]), &r);
        h_assert_error(&r, 400, "INVALID_INPUT");
        h_resp_free(&r);
    }
    const char *latin = "{\"real_name\":\"  MISSANG MI ABA\xe2\x80\x99"
                        "A Medy Evrard \","
                        "\"nickname\":\"Medy\"}";
    h_http(&g_srv, "PUT", "/api/v1/me/profile", hs, latin, strlen(latin), &r);
    assert_int_equal(r.status, 200);
    j = h_json(&r);
    assert_string_equal(cJSON_GetObjectItem(j, "real_name")->valuestring,
                        "MISSANG MI ABA\xe2\x80\x99"
                        "A Medy Evrard");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "profile_complete")));
    cJSON_Delete(j);
    h_resp_free(&r);
    const char *cn = "{\"real_name\":\"陈萱\"}";
    h_http(&g_srv, "PUT", "/api/v1/me/profile", hs, cn, strlen(cn), &r);
    assert_int_equal(r.status, 200);
    h_resp_free(&r);
    h_get(&g_srv, "/api/v1/me", tok, &r);
    j = h_json(&r);
    assert_string_equal(cJSON_GetObjectItem(j, "real_name")->valuestring, "陈萱");
    cJSON_Delete(j);
    h_resp_free(&r);
}

static void test_phone_binds_and_is_shown_masked(void **state)
{
    (void)state;
    char tok[64];
    login_as(&g_srv, "o_phone", "192.0.2.51", tok, sizeof tok);
    cJSON *pc = h_sb_json(&g_sb, "POST", "/__sandbox/phone-code",
                          "{\"openid\":\"o_phone\",\"phone\":\"13812345678\"}");
    char body[256];
    snprintf(body, sizeof body, "{\"code\":\"%s\"}", cJSON_GetObjectItem(pc, "code")->valuestring);
    cJSON_Delete(pc);
    struct h_resp r;
    h_post_json(&g_srv, "/api/v1/me/phone", tok, body, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"phone_masked\":\"138****5678\"}");
    h_resp_free(&r);
    h_get(&g_srv, "/api/v1/me", tok, &r);
    cJSON *j = h_json(&r);
    assert_string_equal(cJSON_GetObjectItem(j, "phone_masked")->valuestring, "138****5678");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "phone_bound")));
    assert_null(strstr(r.body, "13812345678"));
    cJSON_Delete(j);
    h_resp_free(&r);
    h_post_json(&g_srv, "/api/v1/me/phone", tok, body, &r); /* the code works once */
    h_assert_error(&r, 400, "PHONE_CODE_INVALID");
    h_resp_free(&r);
    h_post_json(&g_srv, "/api/v1/me/phone", NULL, body, &r);
    h_assert_error(&r, 401, "UNAUTHORIZED");
    h_resp_free(&r);
}

/* A small real JPEG made with TurboJPEG. */
static unsigned char *make_jpeg(int w, int h, unsigned long *size)
{
    unsigned char *rgb = malloc((size_t)w * (size_t)h * 3);
    for (int i = 0; i < w * h * 3; i++)
        rgb[i] = (unsigned char)(i * 7);
    tjhandle tj = tjInitCompress();
    unsigned char *jpeg = NULL;
    *size = 0;
    assert_int_equal(tjCompress2(tj, rgb, w, 0, h, TJPF_RGB, &jpeg, size, TJSAMP_420, 85, 0), 0);
    tjDestroy(tj);
    free(rgb);
    return jpeg;
}

static void test_avatar_upload_stores_and_serves_the_image(void **state)
{
    (void)state;
    char tok[64], auth[128];
    login_as(&g_srv, "o_avatar", "192.0.2.52", tok, sizeof tok);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", tok);
    unsigned long jlen = 0;
    unsigned char *jpeg = make_jpeg(64, 64, &jlen);
    const char *b = "----WxUploadBoundary7MA4YWxkTrZu0gW";
    char head[512], tail[128];
    int hl = snprintf(head, sizeof head,
                      "--%s\r\nContent-Disposition: form-data; name=\"file\"; "
                      "filename=\"avatar.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n",
                      b);
    int tl = snprintf(tail, sizeof tail, "\r\n--%s--\r\n", b);
    size_t n = (size_t)hl + jlen + (size_t)tl;
    char *body = malloc(n);
    memcpy(body, head, (size_t)hl);
    memcpy(body + hl, jpeg, jlen);
    memcpy(body + hl + jlen, tail, (size_t)tl);
    char ct[128];
    snprintf(ct, sizeof ct, "Content-Type: multipart/form-data; boundary=%s", b);
    const char *hs[] = {ct, auth, NULL};
    struct h_resp r;
    h_http(&g_srv, "PUT", "/api/v1/me/avatar", hs, body, n, &r);
    assert_int_equal(r.status, 200);
    cJSON *j = h_json(&r);
    char url[128];
    snprintf(url, sizeof url, "%s", cJSON_GetObjectItem(j, "avatar_url")->valuestring);
    cJSON_Delete(j);
    h_resp_free(&r);
    assert_int_equal(strncmp(url, "/api/v1/avatars/", 16), 0);
    h_get(&g_srv, url, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, jlen);
    assert_memory_equal(r.body, jpeg, jlen);
    h_resp_free(&r);
    h_get(&g_srv, "/api/v1/me", tok, &r);
    assert_non_null(strstr(r.body, url));
    h_resp_free(&r);
    /* Not an image. */
    memcpy(body + hl, "GIF89a", 6);
    h_http(&g_srv, "PUT", "/api/v1/me/avatar", hs, body, n, &r);
    h_assert_error(&r, 415, "UNSUPPORTED_MEDIA_TYPE");
    h_resp_free(&r);
    /* Truncated multipart (no close delimiter). */
    h_http(&g_srv, "PUT", "/api/v1/me/avatar", hs, body, (size_t)hl + jlen, &r);
    h_assert_error(&r, 400, "MALFORMED_MULTIPART");
    h_resp_free(&r);
    /* Over 2 MB. */
    size_t big = 2 * 1024 * 1024 + 10;
    char *huge = calloc(1, big);
    memcpy(huge, jpeg, jlen);
    const char *raw[] = {"Content-Type: image/jpeg", auth, NULL};
    h_http(&g_srv, "PUT", "/api/v1/me/avatar", raw, huge, big, &r);
    h_assert_error(&r, 413, "PAYLOAD_TOO_LARGE");
    h_resp_free(&r);
    /* A raw JPEG body is accepted too. */
    h_http(&g_srv, "PUT", "/api/v1/me/avatar", raw, jpeg, jlen, &r);
    assert_int_equal(r.status, 200);
    h_resp_free(&r);
    h_get(&g_srv, "/api/v1/avatars/00000000000000000000000000000000.jpg", NULL, &r);
    h_assert_error(&r, 404, "NOT_FOUND");
    h_resp_free(&r);
    free(huge);
    free(body);
    tjFree(jpeg);
}

static void test_logins_are_rate_limited_per_openid(void **state)
{
    (void)state;
    char tok[64], code[128], ip[32];
    for (int i = 0; i < 3; i++) { /* wxlogin_openid_max = 3, from different addresses */
        snprintf(ip, sizeof ip, "203.0.113.%d", 100 + i);
        login_as(&g_srv, "o_limited", ip, tok, sizeof tok);
    }
    struct h_resp r;
    login_code("o_limited", code, sizeof code);
    wx_login(&g_srv, code, "203.0.113.120", &r);
    h_assert_error(&r, 429, "RATE_LIMITED");
    h_resp_free(&r);
    login_as(&g_srv, "o_other", "203.0.113.120", tok, sizeof tok); /* others are fine */
}

static void test_logins_are_rate_limited_per_address(void **state)
{
    (void)state;
    struct h_resp r;
    for (int i = 0; i < 8; i++) { /* wxlogin_addr_max = 8; even failed attempts count */
        wx_login(&g_srv, "no-such-code", "203.0.113.200", &r);
        h_assert_error(&r, 400, "WX_CODE_INVALID");
        h_resp_free(&r);
    }
    char code[128];
    login_code("o_addr", code, sizeof code);
    wx_login(&g_srv, code, "203.0.113.200", &r);
    h_assert_error(&r, 429, "RATE_LIMITED");
    char ra[16];
    assert_non_null(h_header(&r, "Retry-After", ra, sizeof ra));
    h_resp_free(&r);
    wx_login(&g_srv, code, "203.0.113.201", &r); /* the code was not spent on the refusal */
    assert_int_equal(r.status, 200);
    h_resp_free(&r);
}

static void test_student_tokens_expire_and_logout_revokes(void **state)
{
    (void)state;
    struct h_srv short_ttl;
    start_server(&short_ttl, "[auth]\nuser_token_ttl_s = 1\n");
    char tok[64];
    login_as(&short_ttl, "o_expiring", "192.0.2.60", tok, sizeof tok);
    struct h_resp r;
    h_get(&short_ttl, "/api/v1/me", tok, &r);
    assert_int_equal(r.status, 200);
    h_resp_free(&r);
    h_msleep(2200);
    h_get(&short_ttl, "/api/v1/me", tok, &r);
    h_assert_error(&r, 401, "TOKEN_EXPIRED");
    h_resp_free(&r);
    assert_int_equal(h_srv_stop(&short_ttl, SIGTERM), 0);

    login_as(&g_srv, "o_logout", "192.0.2.61", tok, sizeof tok);
    h_post_json(&g_srv, "/api/v1/auth/logout", tok, "{}", &r);
    assert_int_equal(r.status, 200);
    h_resp_free(&r);
    h_get(&g_srv, "/api/v1/me", tok, &r);
    h_assert_error(&r, 401, "UNAUTHORIZED");
    h_resp_free(&r);
}

static void test_server_and_sandbox_exit_0(void **state)
{
    (void)state;
    assert_int_equal(h_srv_stop(&g_srv, SIGTERM), 0);
    assert_int_equal(h_sandbox_stop(&g_sb), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_login_creates_the_user_and_the_second_finds_it),
        cmocka_unit_test(test_session_key_is_sealed_at_rest_and_never_logged),
        cmocka_unit_test(test_a_reused_or_unknown_code_asks_for_a_new_one),
        cmocka_unit_test(test_wechat_errors_map_to_clear_student_errors),
        cmocka_unit_test(test_an_upstream_timeout_is_503),
        cmocka_unit_test(test_a_slow_code2session_does_not_stall_other_requests),
        cmocka_unit_test(test_profile_completion_and_validation),
        cmocka_unit_test(test_phone_binds_and_is_shown_masked),
        cmocka_unit_test(test_avatar_upload_stores_and_serves_the_image),
        cmocka_unit_test(test_logins_are_rate_limited_per_openid),
        cmocka_unit_test(test_logins_are_rate_limited_per_address),
        cmocka_unit_test(test_student_tokens_expire_and_logout_revokes),
        cmocka_unit_test(test_server_and_sandbox_exit_0),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
