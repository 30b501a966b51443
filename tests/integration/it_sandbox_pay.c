/* it_sandbox_pay.c — the WeChat Pay v3 side of the sandbox (tools/sandbox/pay.c,
 * pay_notify.c) against wechat-protocols.md §4–§7 and SANDBOX.md: signed requests and
 * replies, JSAPI orders, query, close, refunds, notifications delivered over HTTPS to a
 * receiver in this process (libevent + OpenSSL in a thread, with the test CA), retries,
 * faults, public-key mode and reset. Tests run in order and share one sandbox; the last
 * checks a clean, leak-free exit. */
#include "harness.h"

#include "payment/wxpay_crypto.h"
#include "server/tls.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

static struct h_sandbox g_sb;
static char g_dir[400]; /* the pay keys (scripts/gen-pay-keys.sh) */
static char g_args[1024];
static char g_mchid[32], g_mserial[80], g_pserial[80], g_pubid[80], g_apiv3[40];
static struct pc_pay_signer *g_signer; /* the merchant key */
static struct pc_pay_keys *g_verify;   /* platform cert + WeChat Pay public key */
static char g_notify_url[128];
static int g_seq;

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static void read_text(const char *name, char *out, size_t len)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(out, 1, len - 1, f);
    fclose(f);
    out[n] = '\0';
    while (n && (out[n - 1] == '\n' || out[n - 1] == '\r'))
        out[--n] = '\0';
}

/* ---------- the notification receiver (a thread with its own loop) ---------- */

#define RCV_MAX 64

struct rcv_msg {
    char *body;
    size_t len;
    char path[128];
    char ts[32], nonce[80], serial[96], sig[800], sigtype[64];
};

static struct {
    pthread_mutex_t mu;
    struct rcv_msg msgs[RCV_MAX];
    int n;
    int script[16]; /* statuses to answer first, in order */
    int nscript, pos;
    int port;
    struct event_base *base;
    struct evhttp *http;
    struct event *tick;
    SSL_CTX *ssl;
    pthread_t th;
    atomic_int stop;
} g_rcv = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void rcv_copy_header(struct evkeyvalq *in, const char *name, char *dst, size_t len)
{
    const char *v = evhttp_find_header(in, name);
    snprintf(dst, len, "%s", v ? v : "");
}

static void rcv_on_request(struct evhttp_request *req, void *arg)
{
    (void)arg;
    struct evbuffer *b = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(b);
    char *body = malloc(len + 1);
    evbuffer_remove(b, body, len);
    body[len] = '\0';
    struct evkeyvalq *in = evhttp_request_get_input_headers(req);
    int status = 200;
    pthread_mutex_lock(&g_rcv.mu);
    if (g_rcv.n < RCV_MAX) {
        struct rcv_msg *m = &g_rcv.msgs[g_rcv.n++];
        m->body = body;
        m->len = len;
        body = NULL;
        snprintf(m->path, sizeof m->path, "%s", evhttp_request_get_uri(req));
        rcv_copy_header(in, "wechatpay-timestamp", m->ts, sizeof m->ts);
        rcv_copy_header(in, "wechatpay-nonce", m->nonce, sizeof m->nonce);
        rcv_copy_header(in, "wechatpay-serial", m->serial, sizeof m->serial);
        rcv_copy_header(in, "wechatpay-signature", m->sig, sizeof m->sig);
        rcv_copy_header(in, "wechatpay-signature-type", m->sigtype, sizeof m->sigtype);
    }
    if (g_rcv.pos < g_rcv.nscript)
        status = g_rcv.script[g_rcv.pos++];
    pthread_mutex_unlock(&g_rcv.mu);
    free(body);
    struct evbuffer *out = evbuffer_new();
    if (status >= 400)
        evbuffer_add_printf(out, "{\"code\":\"FAIL\",\"message\":\"失败\"}");
    evhttp_send_reply(req, status, status < 300 ? "OK" : "Error", out);
    evbuffer_free(out);
}

static struct bufferevent *rcv_bevcb(struct event_base *base, void *arg)
{
    return bufferevent_openssl_socket_new(base, -1, SSL_new(arg), BUFFEREVENT_SSL_ACCEPTING,
                                          BEV_OPT_CLOSE_ON_FREE);
}

static void rcv_on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    if (atomic_load(&g_rcv.stop))
        event_base_loopbreak(g_rcv.base);
}

static void *rcv_main(void *arg)
{
    (void)arg;
    event_base_dispatch(g_rcv.base);
    return NULL;
}

static void rcv_start(void)
{
    char cert[500], key[500], err[256];
    snprintf(cert, sizeof cert, "%s/tls/server.pem", h_workdir());
    snprintf(key, sizeof key, "%s/tls/server.key", h_workdir());
    g_rcv.ssl = pc_tls_server_ctx(cert, key, err, sizeof err);
    if (!g_rcv.ssl)
        fail_msg("receiver TLS: %s", err);
    g_rcv.base = event_base_new();
    g_rcv.http = evhttp_new(g_rcv.base);
    evhttp_set_bevcb(g_rcv.http, rcv_bevcb, g_rcv.ssl);
    evhttp_set_gencb(g_rcv.http, rcv_on_request, NULL);
    struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(g_rcv.http, "127.0.0.1", 0);
    assert_non_null(bs);
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sa, &sl);
    g_rcv.port = ntohs(sa.sin_port);
    g_rcv.tick = event_new(g_rcv.base, -1, EV_PERSIST, rcv_on_tick, NULL);
    struct timeval tv = {0, 50000};
    event_add(g_rcv.tick, &tv);
    snprintf(g_notify_url, sizeof g_notify_url, "https://127.0.0.1:%d/notify/pay", g_rcv.port);
    assert_int_equal(pthread_create(&g_rcv.th, NULL, rcv_main, NULL), 0);
}

static void rcv_clear_locked(void)
{
    for (int i = 0; i < g_rcv.n; i++)
        free(g_rcv.msgs[i].body);
    g_rcv.n = 0;
    g_rcv.nscript = g_rcv.pos = 0;
}

static void rcv_stop(void)
{
    atomic_store(&g_rcv.stop, 1);
    pthread_join(g_rcv.th, NULL);
    event_free(g_rcv.tick);
    evhttp_free(g_rcv.http);
    event_base_free(g_rcv.base);
    SSL_CTX_free(g_rcv.ssl);
    rcv_clear_locked();
}

/* Forgets received messages; the next answers are script[0..n) then 200. */
static void rcv_reset(const int *script, int n)
{
    pthread_mutex_lock(&g_rcv.mu);
    rcv_clear_locked();
    for (int i = 0; i < n && i < 16; i++)
        g_rcv.script[i] = script[i];
    g_rcv.nscript = n;
    pthread_mutex_unlock(&g_rcv.mu);
}

static int rcv_count(void)
{
    pthread_mutex_lock(&g_rcv.mu);
    int n = g_rcv.n;
    pthread_mutex_unlock(&g_rcv.mu);
    return n;
}

/* Waits until at least n messages arrived (fails after timeout_ms). */
static void rcv_wait(int n, long timeout_ms)
{
    for (long t = 0; rcv_count() < n; t += 20) {
        if (t > timeout_ms)
            fail_msg("expected %d notifications, got %d", n, rcv_count());
        sleep_ms(20);
    }
}

/* A copy of message i (body owned by the caller). */
static struct rcv_msg rcv_get(int i)
{
    pthread_mutex_lock(&g_rcv.mu);
    assert_true(i < g_rcv.n);
    struct rcv_msg m = g_rcv.msgs[i];
    m.body = malloc(m.len + 1);
    memcpy(m.body, g_rcv.msgs[i].body, m.len + 1);
    pthread_mutex_unlock(&g_rcv.mu);
    return m;
}

/* ---------- signed calls ---------- */

static void sb_srv(struct h_sandbox *sb, struct h_srv *tmp)
{
    memset(tmp, 0, sizeof *tmp);
    tmp->port = sb->port;
    snprintf(tmp->ca, sizeof tmp->ca, "%s/tls/dev-ca.pem", h_workdir());
    snprintf(tmp->log, sizeof tmp->log, "%s", sb->log);
}

/* A v3 call signed with signer at now + ts_off; sent_body (when not NULL) replaces the
 * signed body on the wire. */
static void pay_call_ex(struct h_sandbox *sb, const struct pc_pay_signer *signer, long ts_off,
                        const char *method, const char *path, const char *body,
                        const char *sent_body, struct h_resp *r)
{
    char auth[PC_PAY_AUTH_MAX], hdr[PC_PAY_AUTH_MAX + 32];
    size_t len = body ? strlen(body) : 0;
    assert_int_equal(pc_pay_authorization(signer, method, path, body ? body : "", len,
                                          (int64_t)time(NULL) + ts_off, NULL, auth, sizeof auth),
                     0);
    snprintf(hdr, sizeof hdr, "Authorization: %s", auth);
    const char *hs[] = {hdr, "Accept: application/json", "Content-Type: application/json", NULL};
    const char *wire = sent_body ? sent_body : body;
    struct h_srv tmp;
    sb_srv(sb, &tmp);
    h_http(&tmp, method, path, hs, wire, wire ? strlen(wire) : 0, r);
}

static void pay_call(const char *method, const char *path, const char *body, struct h_resp *r)
{
    pay_call_ex(&g_sb, g_signer, 0, method, path, body, NULL, r);
}

/* Asserts that r carries a valid WeChat Pay signature by the key expected_serial. */
static void assert_signed(const struct h_resp *r, const char *expected_serial)
{
    char ts[32], nonce[80], serial[96], sig[800], type[64], rid[80];
    assert_non_null(h_header(r, "Wechatpay-Timestamp", ts, sizeof ts));
    assert_non_null(h_header(r, "Wechatpay-Nonce", nonce, sizeof nonce));
    assert_non_null(h_header(r, "Wechatpay-Serial", serial, sizeof serial));
    assert_non_null(h_header(r, "Wechatpay-Signature", sig, sizeof sig));
    assert_non_null(h_header(r, "Wechatpay-Signature-Type", type, sizeof type));
    assert_non_null(h_header(r, "Request-ID", rid, sizeof rid));
    assert_string_equal(type, "WECHATPAY2-SHA256-RSA2048");
    assert_string_equal(serial, expected_serial);
    long long t = strtoll(ts, NULL, 10);
    assert_true(t > (long long)time(NULL) - 60 && t < (long long)time(NULL) + 60);
    assert_int_equal(pc_pay_verify(g_verify, serial, ts, nonce, r->body, r->len, sig), 0);
}

static void assert_pay_error(const struct h_resp *r, long status, const char *code)
{
    if (r->status != status)
        fail_msg("expected %ld %s, got %ld: %.300s", status, code, r->status, r->body);
    cJSON *j = h_json(r);
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "code");
    if (!cJSON_IsString(c) || strcmp(c->valuestring, code))
        fail_msg("expected code %s: %.300s", code, r->body);
    assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "message")));
    cJSON_Delete(j);
}

static const char *str_of(const cJSON *j, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double num_of(const cJSON *j, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);
    assert_true(cJSON_IsNumber(v));
    return v->valuedouble;
}

/* A fresh out_trade_no. */
static void new_no(char *out, size_t len)
{
    snprintf(out, len, "PT%ld_%d", (long)time(NULL), ++g_seq);
}

static void jsapi_body(char *out, size_t len, const char *no, const char *desc, const char *total)
{
    snprintf(out, len,
             "{\"appid\":\"%s\",\"mchid\":\"%s\",\"description\":\"%s\",\"out_trade_no\":\"%s\","
             "\"notify_url\":\"%s\",\"attach\":\"order-7\",\"amount\":{\"total\":%s,"
             "\"currency\":\"CNY\"},\"payer\":{\"openid\":\"o_payer_1\"}}",
             H_APPID, g_mchid, desc, no, g_notify_url, total);
}

/* Creates an order; returns its prepay_id in out. */
static void create_order(const char *no, const char *total, char *prepay, size_t len)
{
    char body[1024];
    struct h_resp r;
    jsapi_body(body, sizeof body, no, "证件照", total);
    pay_call("POST", "/v3/pay/transactions/jsapi", body, &r);
    if (r.status != 200)
        fail_msg("jsapi: %ld %s", r.status, r.body);
    assert_signed(&r, g_pserial);
    cJSON *j = h_json(&r);
    const char *p = str_of(j, "prepay_id");
    assert_non_null(p);
    snprintf(prepay, len, "%s", p);
    cJSON_Delete(j);
    h_resp_free(&r);
}

/* Decrypts a received notification after checking its signature with serial's key. */
static cJSON *open_notification(const struct rcv_msg *m, const char *serial, const char *aad,
                                const char *event_type, char *id, size_t idlen)
{
    assert_string_equal(m->serial, serial);
    assert_string_equal(m->sigtype, "WECHATPAY2-SHA256-RSA2048");
    assert_int_equal(pc_pay_verify(g_verify, m->serial, m->ts, m->nonce, m->body, m->len, m->sig),
                     0);
    cJSON *env = cJSON_ParseWithLength(m->body, m->len);
    assert_non_null(env);
    assert_string_equal(str_of(env, "event_type"), event_type);
    assert_string_equal(str_of(env, "resource_type"), "encrypt-resource");
    assert_non_null(str_of(env, "create_time"));
    assert_non_null(str_of(env, "summary"));
    const char *eid = str_of(env, "id");
    assert_non_null(eid);
    assert_true(!strncmp(eid, "EV-", 3));
    snprintf(id, idlen, "%s", eid);
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(env, "resource");
    assert_string_equal(str_of(res, "algorithm"), "AEAD_AES_256_GCM");
    assert_string_equal(str_of(res, "original_type"), aad);
    assert_string_equal(str_of(res, "associated_data"), aad);
    const char *nonce = str_of(res, "nonce");
    assert_int_equal(strlen(nonce), 12);
    char plain[8192];
    size_t n = 0;
    assert_int_equal(
        pc_pay_decrypt(g_apiv3, 32, nonce, aad, str_of(res, "ciphertext"), plain, sizeof plain, &n),
        0);
    cJSON_Delete(env);
    cJSON *t = cJSON_ParseWithLength(plain, n);
    assert_non_null(t);
    return t;
}

/* The /__sandbox/notifications entries of out_trade_no (caller deletes the array). */
static cJSON *notifications_of(struct h_sandbox *sb, const char *no)
{
    char path[200];
    snprintf(path, sizeof path, "/__sandbox/notifications?out_trade_no=%s", no);
    cJSON *j = h_sb_json(sb, "GET", path, NULL);
    cJSON *arr = cJSON_DetachItemFromObject(j, "notifications");
    cJSON_Delete(j);
    assert_true(cJSON_IsArray(arr));
    return arr;
}

static void control_pay(const char *no, char *txn, size_t len)
{
    char body[200];
    snprintf(body, sizeof body, "{\"out_trade_no\":\"%s\"}", no);
    cJSON *j = h_sb_json(&g_sb, "POST", "/__sandbox/pay", body);
    snprintf(txn, len, "%s", str_of(j, "transaction_id"));
    cJSON_Delete(j);
}

/* ---------- set-up ---------- */

static int setup(void **state)
{
    (void)state;
    char cmd[900];
    snprintf(g_dir, sizeof g_dir, "%s/paykeys", h_workdir());
    snprintf(cmd, sizeof cmd, "'%s/scripts/gen-pay-keys.sh' '%s'", PC_SOURCE_DIR, g_dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(system(cmd), 0); /* idempotent */
    read_text("mchid", g_mchid, sizeof g_mchid);
    read_text("merchant.serial", g_mserial, sizeof g_mserial);
    read_text("platform.serial", g_pserial, sizeof g_pserial);
    read_text("pubkey.id", g_pubid, sizeof g_pubid);
    read_text("apiv3.key", g_apiv3, sizeof g_apiv3);
    assert_int_equal(strlen(g_mchid), 10);
    assert_int_equal(strlen(g_apiv3), 32);
    assert_true(!strncmp(g_pubid, "PUB_KEY_ID_", 11));
    char path[600];
    snprintf(path, sizeof path, "%s/merchant.key", g_dir);
    g_signer = pc_pay_signer_load(path, g_mchid, g_mserial);
    assert_non_null(g_signer);
    g_verify = pc_pay_keys_new();
    snprintf(path, sizeof path, "%s/platform.pem", g_dir);
    assert_int_equal(pc_pay_keys_add_file(g_verify, NULL, path), 0);
    snprintf(path, sizeof path, "%s/pubkey.pub", g_dir);
    assert_int_equal(pc_pay_keys_add_file(g_verify, g_pubid, path), 0);
    snprintf(g_args, sizeof g_args,
             "--pay-dir %s --ca-file %s/tls/dev-ca.pem --notify-schedule 0.2,0.2,0.5 "
             "--refund-delay-ms 100",
             g_dir, h_workdir());
    h_sandbox_start(&g_sb, g_args);
    rcv_start();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (g_sb.pid > 0)
        h_sandbox_stop(&g_sb);
    rcv_stop();
    pc_pay_signer_free(g_signer);
    pc_pay_keys_free(g_verify);
    return 0;
}

/* ---------- tests ---------- */

static void test_key_files(void **state)
{
    (void)state;
    struct stat st;
    const char *secret[] = {"merchant.key", "platform.key", "pubkey.key", "apiv3.key"};
    for (size_t i = 0; i < 4; i++) {
        char path[600];
        snprintf(path, sizeof path, "%s/%s", g_dir, secret[i]);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
    }
    assert_int_equal(strlen(g_mserial), 40);
    for (const char *s = g_mserial; *s; s++)
        assert_true((*s >= '0' && *s <= '9') || (*s >= 'A' && *s <= 'F'));
}

static void test_signed_request_gets_signed_reply(void **state)
{
    (void)state;
    char no[40], prepay[80];
    new_no(no, sizeof no);
    create_order(no, "100", prepay, sizeof prepay);
    assert_true(!strncmp(prepay, "wx", 2));
    for (const char *s = prepay + 2; *s; s++)
        assert_true(*s >= '0' && *s <= '9');
    /* recorded under its endpoint name */
    cJSON *j = h_sb_json(&g_sb, "GET", "/__sandbox/requests?endpoint=jsapi", NULL);
    assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(j, "requests")) >= 1);
    cJSON_Delete(j);
}

static void test_bad_signatures_401(void **state)
{
    (void)state;
    char no[40], body[1024];
    struct h_resp r;
    new_no(no, sizeof no);
    jsapi_body(body, sizeof body, no, "证件照", "100");
    /* tampered body */
    char tampered[1024];
    jsapi_body(tampered, sizeof tampered, no, "证件照", "1");
    pay_call_ex(&g_sb, g_signer, 0, "POST", "/v3/pay/transactions/jsapi", body, tampered, &r);
    assert_pay_error(&r, 401, "SIGN_ERROR");
    assert_signed(&r, g_pserial);
    h_resp_free(&r);
    /* wrong serial */
    char path[600];
    snprintf(path, sizeof path, "%s/merchant.key", g_dir);
    struct pc_pay_signer *wrong =
        pc_pay_signer_load(path, g_mchid, "1234567890ABCDEF1234567890ABCDEF12345678");
    pay_call_ex(&g_sb, wrong, 0, "POST", "/v3/pay/transactions/jsapi", body, NULL, &r);
    assert_pay_error(&r, 401, "SIGN_ERROR");
    h_resp_free(&r);
    pc_pay_signer_free(wrong);
    /* another key with the right serial */
    snprintf(path, sizeof path, "%s/platform.key", g_dir);
    struct pc_pay_signer *other = pc_pay_signer_load(path, g_mchid, g_mserial);
    pay_call_ex(&g_sb, other, 0, "POST", "/v3/pay/transactions/jsapi", body, NULL, &r);
    assert_pay_error(&r, 401, "SIGN_ERROR");
    h_resp_free(&r);
    pc_pay_signer_free(other);
    /* old timestamp */
    pay_call_ex(&g_sb, g_signer, -600, "POST", "/v3/pay/transactions/jsapi", body, NULL, &r);
    assert_pay_error(&r, 401, "SIGN_ERROR");
    h_resp_free(&r);
    /* query string is part of the signed URL */
    char q[200], auth[PC_PAY_AUTH_MAX], hdr[PC_PAY_AUTH_MAX + 32];
    snprintf(q, sizeof q, "/v3/pay/transactions/out-trade-no/%s?mchid=%s", no, g_mchid);
    assert_int_equal(pc_pay_authorization(g_signer, "GET", "/v3/pay/transactions/out-trade-no/x",
                                          "", 0, (int64_t)time(NULL), NULL, auth, sizeof auth),
                     0);
    snprintf(hdr, sizeof hdr, "Authorization: %s", auth);
    const char *hs[] = {hdr, NULL};
    struct h_srv tmp;
    sb_srv(&g_sb, &tmp);
    h_http(&tmp, "GET", q, hs, NULL, 0, &r);
    assert_pay_error(&r, 401, "SIGN_ERROR");
    h_resp_free(&r);
    /* malformed header */
    const char *bad[] = {"Authorization: WECHATPAY2-SHA256-RSA2048 mchid=\"1\"", NULL};
    h_http(&tmp, "GET", q, bad, NULL, 0, &r);
    assert_pay_error(&r, 401, "SIGN_ERROR");
    assert_non_null(strstr(r.body, "Http头Authorization值格式错误"));
    h_resp_free(&r);
    h_http(&tmp, "GET", q, NULL, NULL, 0, &r);
    assert_pay_error(&r, 401, "SIGN_ERROR");
    h_resp_free(&r);
    /* nothing was created */
    pay_call("GET", q, NULL, &r);
    assert_pay_error(&r, 404, "ORDER_NOT_EXIST");
    assert_signed(&r, g_pserial);
    h_resp_free(&r);
}

static void test_jsapi_validation(void **state)
{
    (void)state;
    char no[40], body[1024];
    struct h_resp r;
    new_no(no, sizeof no);
    jsapi_body(body, sizeof body, no, "证件照", "0.01");
    pay_call("POST", "/v3/pay/transactions/jsapi", body, &r);
    assert_pay_error(&r, 400, "PARAM_ERROR");
    assert_non_null(strstr(r.body, "64 位有符号整数"));
    assert_signed(&r, g_pserial);
    h_resp_free(&r);
    jsapi_body(body, sizeof body, no, "证件照", "0");
    pay_call("POST", "/v3/pay/transactions/jsapi", body, &r);
    assert_pay_error(&r, 400, "PARAM_ERROR");
    h_resp_free(&r);
    jsapi_body(body, sizeof body, "abc", "证件照", "100");
    pay_call("POST", "/v3/pay/transactions/jsapi", body, &r);
    assert_pay_error(&r, 400, "PARAM_ERROR");
    h_resp_free(&r);
    snprintf(body, sizeof body,
             "{\"appid\":\"wx0000000000000000\",\"mchid\":\"%s\",\"description\":\"x\","
             "\"out_trade_no\":\"%s\",\"notify_url\":\"%s\",\"amount\":{\"total\":1},"
             "\"payer\":{\"openid\":\"o1\"}}",
             g_mchid, no, g_notify_url);
    pay_call("POST", "/v3/pay/transactions/jsapi", body, &r);
    assert_pay_error(&r, 400, "APPID_MCHID_NOT_MATCH");
    h_resp_free(&r);
    snprintf(body, sizeof body,
             "{\"appid\":\"%s\",\"mchid\":\"%s\",\"description\":\"x\","
             "\"out_trade_no\":\"%s\",\"notify_url\":\"http://127.0.0.1/n\","
             "\"amount\":{\"total\":1},\"payer\":{\"openid\":\"o1\"}}",
             H_APPID, g_mchid, no);
    pay_call("POST", "/v3/pay/transactions/jsapi", body, &r);
    assert_pay_error(&r, 400, "PARAM_ERROR");
    h_resp_free(&r);
    snprintf(body, sizeof body,
             "{\"appid\":\"%s\",\"mchid\":\"%s\",\"description\":\"x\",\"out_trade_no\":\"%s\","
             "\"notify_url\":\"%s\",\"amount\":{\"total\":1},\"payer\":{\"openid\":\"o1\"},"
             "\"time_expire\":\"tomorrow\"}",
             H_APPID, g_mchid, no, g_notify_url);
    pay_call("POST", "/v3/pay/transactions/jsapi", body, &r);
    assert_pay_error(&r, 400, "PARAM_ERROR");
    h_resp_free(&r);
    pay_call("POST", "/v3/pay/transactions/jsapi", "[1]", &r);
    assert_pay_error(&r, 400, "PARAM_ERROR");
    h_resp_free(&r);
}

static void test_prepay_idempotent(void **state)
{
    (void)state;
    char no[40], p1[80], p2[80], body[1024];
    struct h_resp r;
    new_no(no, sizeof no);
    create_order(no, "100", p1, sizeof p1);
    create_order(no, "100", p2, sizeof p2);
    assert_string_equal(p1, p2);
    jsapi_body(body, sizeof body, no, "另一件商品", "100");
    pay_call("POST", "/v3/pay/transactions/jsapi", body, &r);
    assert_pay_error(&r, 400, "INVALID_REQUEST");
    h_resp_free(&r);
}

static void test_pay_delivers_notification(void **state)
{
    (void)state;
    char no[40], prepay[80], txn[64], id[64], path[200];
    struct h_resp r;
    rcv_reset(NULL, 0);
    new_no(no, sizeof no);
    create_order(no, "2990", prepay, sizeof prepay);
    control_pay(no, txn, sizeof txn);
    assert_int_equal(strlen(txn), 28);
    assert_true(!strncmp(txn, "4200", 4));
    rcv_wait(1, 5000);
    struct rcv_msg m = rcv_get(0);
    assert_string_equal(m.path, "/notify/pay");
    cJSON *t =
        open_notification(&m, g_pserial, "transaction", "TRANSACTION.SUCCESS", id, sizeof id);
    free(m.body);
    assert_string_equal(str_of(t, "out_trade_no"), no);
    assert_string_equal(str_of(t, "transaction_id"), txn);
    assert_string_equal(str_of(t, "appid"), H_APPID);
    assert_string_equal(str_of(t, "mchid"), g_mchid);
    assert_string_equal(str_of(t, "trade_state"), "SUCCESS");
    assert_string_equal(str_of(t, "trade_type"), "JSAPI");
    assert_string_equal(str_of(t, "attach"), "order-7");
    assert_non_null(str_of(t, "success_time"));
    assert_string_equal(str_of(cJSON_GetObjectItem(t, "payer"), "openid"), "o_payer_1");
    const cJSON *am = cJSON_GetObjectItem(t, "amount");
    assert_int_equal((long)num_of(am, "total"), 2990);
    assert_int_equal((long)num_of(am, "payer_total"), 2990);
    assert_string_equal(str_of(am, "currency"), "CNY");
    cJSON_Delete(t);
    /* the query agrees */
    snprintf(path, sizeof path, "/v3/pay/transactions/out-trade-no/%s?mchid=%s", no, g_mchid);
    pay_call("GET", path, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_signed(&r, g_pserial);
    cJSON *q = h_json(&r);
    assert_string_equal(str_of(q, "trade_state"), "SUCCESS");
    assert_string_equal(str_of(q, "transaction_id"), txn);
    cJSON_Delete(q);
    h_resp_free(&r);
    snprintf(path, sizeof path, "/v3/pay/transactions/id/%s?mchid=%s", txn, g_mchid);
    pay_call("GET", path, NULL, &r);
    assert_int_equal(r.status, 200);
    h_resp_free(&r);
    /* paid: a new jsapi and a close are refused */
    char body[1024];
    jsapi_body(body, sizeof body, no, "证件照", "2990");
    pay_call("POST", "/v3/pay/transactions/jsapi", body, &r);
    assert_pay_error(&r, 400, "ORDERPAID");
    h_resp_free(&r);
    snprintf(path, sizeof path, "/v3/pay/transactions/out-trade-no/%s/close", no);
    snprintf(body, sizeof body, "{\"mchid\":\"%s\"}", g_mchid);
    pay_call("POST", path, body, &r);
    assert_pay_error(&r, 400, "ORDERPAID");
    h_resp_free(&r);
    /* paying twice: same transaction, no second delivery */
    char txn2[64];
    control_pay(no, txn2, sizeof txn2);
    assert_string_equal(txn, txn2);
    sleep_ms(600);
    assert_int_equal(rcv_count(), 1);
    cJSON *arr = notifications_of(&g_sb, no);
    assert_int_equal(cJSON_GetArraySize(arr), 1);
    cJSON *e = cJSON_GetArrayItem(arr, 0);
    assert_string_equal(str_of(e, "event_type"), "TRANSACTION.SUCCESS");
    assert_string_equal(str_of(e, "id"), id);
    assert_int_equal((long)num_of(e, "attempt"), 1);
    assert_int_equal((long)num_of(e, "status"), 200);
    assert_non_null(str_of(e, "at"));
    cJSON_Delete(arr);
}

static void test_retries_until_success(void **state)
{
    (void)state;
    char no[40], prepay[80], txn[64];
    static const int script[] = {500, 500, 204};
    rcv_reset(script, 3);
    new_no(no, sizeof no);
    create_order(no, "100", prepay, sizeof prepay);
    control_pay(no, txn, sizeof txn);
    rcv_wait(3, 5000);
    sleep_ms(800); /* a 4th attempt would come 0.5 s after the 3rd */
    assert_int_equal(rcv_count(), 3);
    struct rcv_msg a = rcv_get(0), b = rcv_get(2);
    assert_string_equal(a.body, b.body); /* the same envelope every time */
    free(a.body);
    free(b.body);
    cJSON *arr = notifications_of(&g_sb, no);
    assert_int_equal(cJSON_GetArraySize(arr), 3);
    static const long want[] = {500, 500, 204};
    for (int i = 0; i < 3; i++) {
        cJSON *e = cJSON_GetArrayItem(arr, i);
        assert_int_equal((long)num_of(e, "attempt"), i + 1);
        assert_int_equal((long)num_of(e, "status"), want[i]);
    }
    cJSON_Delete(arr);
}

static void test_schedule_runs_out(void **state)
{
    (void)state;
    char no[40], prepay[80], txn[64];
    static const int script[] = {500, 503, 500, 500, 500};
    rcv_reset(script, 5);
    new_no(no, sizeof no);
    create_order(no, "100", prepay, sizeof prepay);
    control_pay(no, txn, sizeof txn);
    rcv_wait(4, 5000);
    sleep_ms(1200);
    assert_int_equal(rcv_count(), 4); /* 1 + 3 gaps of --notify-schedule */
}

static void test_duplicate_fault(void **state)
{
    (void)state;
    char no[40], prepay[80], txn[64], id0[64], id[64];
    rcv_reset(NULL, 0);
    cJSON *f =
        h_sb_json(&g_sb, "POST", "/__sandbox/faults", "{\"endpoint\":\"notify\",\"duplicate\":2}");
    assert_int_equal((long)num_of(f, "duplicate"), 2);
    cJSON_Delete(f);
    new_no(no, sizeof no);
    create_order(no, "100", prepay, sizeof prepay);
    control_pay(no, txn, sizeof txn);
    rcv_wait(3, 5000);
    sleep_ms(300);
    assert_int_equal(rcv_count(), 3);
    for (int i = 0; i < 3; i++) {
        struct rcv_msg m = rcv_get(i);
        cJSON *t = open_notification(&m, g_pserial, "transaction", "TRANSACTION.SUCCESS",
                                     i ? id : id0, sizeof id);
        free(m.body);
        assert_string_equal(str_of(t, "out_trade_no"), no);
        cJSON_Delete(t);
        if (i)
            assert_string_equal(id, id0);
    }
    /* the fault was used up: the next payment is delivered once */
    rcv_reset(NULL, 0);
    new_no(no, sizeof no);
    create_order(no, "100", prepay, sizeof prepay);
    control_pay(no, txn, sizeof txn);
    rcv_wait(1, 5000);
    sleep_ms(300);
    assert_int_equal(rcv_count(), 1);
}

static void test_drop_and_delay_faults(void **state)
{
    (void)state;
    char no[40], prepay[80], txn[64];
    rcv_reset(NULL, 0);
    cJSON_Delete(h_sb_json(&g_sb, "POST", "/__sandbox/faults",
                           "{\"endpoint\":\"notify\",\"drop\":true,\"count\":1}"));
    new_no(no, sizeof no);
    create_order(no, "100", prepay, sizeof prepay);
    control_pay(no, txn, sizeof txn);
    sleep_ms(700);
    assert_int_equal(rcv_count(), 0);
    cJSON *arr = notifications_of(&g_sb, no);
    assert_int_equal(cJSON_GetArraySize(arr), 0);
    cJSON_Delete(arr);
    /* the order is paid all the same (the sweeper finds it by query) */
    char path[200];
    struct h_resp r;
    snprintf(path, sizeof path, "/v3/pay/transactions/out-trade-no/%s?mchid=%s", no, g_mchid);
    pay_call("GET", path, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"trade_state\":\"SUCCESS\""));
    h_resp_free(&r);
    /* delay_ms holds the first attempt back */
    cJSON_Delete(h_sb_json(&g_sb, "POST", "/__sandbox/faults",
                           "{\"endpoint\":\"notify\",\"delay_ms\":800}"));
    new_no(no, sizeof no);
    create_order(no, "100", prepay, sizeof prepay);
    control_pay(no, txn, sizeof txn);
    sleep_ms(400);
    assert_int_equal(rcv_count(), 0);
    rcv_wait(1, 5000);
    /* control errors */
    struct h_resp e;
    h_sb_call(&g_sb, "POST", "/__sandbox/faults", "{\"endpoint\":\"jsapi\",\"errcode\":40001}", &e);
    assert_int_equal(e.status, 400);
    h_resp_free(&e);
    h_sb_call(&g_sb, "POST", "/__sandbox/faults", "{\"endpoint\":\"jsapi\",\"drop\":true}", &e);
    assert_int_equal(e.status, 400);
    h_resp_free(&e);
    h_sb_call(&g_sb, "POST", "/__sandbox/pay", "{\"out_trade_no\":\"NOPE_123456\"}", &e);
    assert_int_equal(e.status, 404);
    h_resp_free(&e);
}

static void test_api_faults(void **state)
{
    (void)state;
    char no[40], body[1024], path[200];
    struct h_resp r;
    cJSON_Delete(
        h_sb_json(&g_sb, "POST", "/__sandbox/faults", "{\"endpoint\":\"jsapi\",\"errcode\":500}"));
    new_no(no, sizeof no);
    jsapi_body(body, sizeof body, no, "证件照", "100");
    pay_call("POST", "/v3/pay/transactions/jsapi", body, &r);
    assert_pay_error(&r, 500, "SYSTEM_ERROR");
    assert_signed(&r, g_pserial);
    h_resp_free(&r);
    cJSON_Delete(h_sb_json(&g_sb, "POST", "/__sandbox/faults",
                           "{\"endpoint\":\"query\",\"errcode\":429,\"count\":2}"));
    snprintf(path, sizeof path, "/v3/pay/transactions/out-trade-no/%s?mchid=%s", no, g_mchid);
    for (int i = 0; i < 2; i++) {
        pay_call("GET", path, NULL, &r);
        assert_pay_error(&r, 429, "FREQUENCY_LIMITED");
        h_resp_free(&r);
    }
    /* the faulted jsapi created nothing */
    pay_call("GET", path, NULL, &r);
    assert_pay_error(&r, 404, "ORDER_NOT_EXIST");
    h_resp_free(&r);
    pay_call("POST", "/v3/pay/transactions/jsapi", body, &r);
    assert_int_equal(r.status, 200);
    h_resp_free(&r);
}

static void test_close_semantics(void **state)
{
    (void)state;
    char no[40], prepay[80], path[200], body[1024];
    struct h_resp r;
    new_no(no, sizeof no);
    create_order(no, "100", prepay, sizeof prepay);
    snprintf(path, sizeof path, "/v3/pay/transactions/out-trade-no/%s/close", no);
    snprintf(body, sizeof body, "{\"mchid\":\"%s\"}", g_mchid);
    pay_call("POST", path, body, &r);
    assert_int_equal(r.status, 204);
    assert_int_equal(r.len, 0);
    assert_signed(&r, g_pserial);
    h_resp_free(&r);
    snprintf(path, sizeof path, "/v3/pay/transactions/out-trade-no/%s?mchid=%s", no, g_mchid);
    pay_call("GET", path, NULL, &r);
    assert_int_equal(r.status, 200);
    cJSON *q = h_json(&r);
    assert_string_equal(str_of(q, "trade_state"), "CLOSED");
    assert_null(str_of(q, "transaction_id"));
    cJSON_Delete(q);
    h_resp_free(&r);
    jsapi_body(body, sizeof body, no, "证件照", "100");
    pay_call("POST", "/v3/pay/transactions/jsapi", body, &r);
    assert_pay_error(&r, 400, "ORDERCLOSED");
    h_resp_free(&r);
    snprintf(body, sizeof body, "{\"out_trade_no\":\"%s\"}", no);
    h_sb_call(&g_sb, "POST", "/__sandbox/pay", body, &r);
    assert_int_equal(r.status, 409);
    h_resp_free(&r);
    snprintf(path, sizeof path, "/v3/pay/transactions/out-trade-no/UNKNOWN_1?mchid=%s", g_mchid);
    pay_call("GET", path, NULL, &r);
    assert_pay_error(&r, 404, "ORDER_NOT_EXIST");
    h_resp_free(&r);
    /* a NOTPAY query has no transaction_id */
    new_no(no, sizeof no);
    create_order(no, "100", prepay, sizeof prepay);
    snprintf(path, sizeof path, "/v3/pay/transactions/out-trade-no/%s?mchid=%s", no, g_mchid);
    pay_call("GET", path, NULL, &r);
    q = h_json(&r);
    assert_string_equal(str_of(q, "trade_state"), "NOTPAY");
    assert_null(str_of(q, "transaction_id"));
    cJSON_Delete(q);
    h_resp_free(&r);
}

static void test_refund(void **state)
{
    (void)state;
    char no[40], prepay[80], txn[64], body[1024], rno[48], id[64];
    struct h_resp r;
    rcv_reset(NULL, 0);
    new_no(no, sizeof no);
    create_order(no, "100", prepay, sizeof prepay);
    control_pay(no, txn, sizeof txn);
    rcv_wait(1, 5000);
    rcv_reset(NULL, 0);
    snprintf(rno, sizeof rno, "R%s", no);
    snprintf(body, sizeof body,
             "{\"out_trade_no\":\"%s\",\"out_refund_no\":\"%s\",\"reason\":\"退款\","
             "\"notify_url\":\"%s\",\"amount\":{\"refund\":40,\"total\":100,\"currency\":\"CNY\"}}",
             no, rno, g_notify_url);
    pay_call("POST", "/v3/refund/domestic/refunds", body, &r);
    assert_int_equal(r.status, 200);
    assert_signed(&r, g_pserial);
    cJSON *j = h_json(&r);
    assert_string_equal(str_of(j, "status"), "PROCESSING");
    assert_string_equal(str_of(j, "channel"), "ORIGINAL");
    assert_string_equal(str_of(j, "out_trade_no"), no);
    assert_string_equal(str_of(j, "transaction_id"), txn);
    assert_string_equal(str_of(j, "out_refund_no"), rno);
    assert_non_null(str_of(j, "create_time"));
    char refund_id[64];
    snprintf(refund_id, sizeof refund_id, "%s", str_of(j, "refund_id"));
    assert_int_equal((long)num_of(cJSON_GetObjectItem(j, "amount"), "refund"), 40);
    cJSON_Delete(j);
    h_resp_free(&r);
    /* the same out_refund_no is the same refund */
    pay_call("POST", "/v3/refund/domestic/refunds", body, &r);
    assert_int_equal(r.status, 200);
    j = h_json(&r);
    assert_string_equal(str_of(j, "refund_id"), refund_id);
    cJSON_Delete(j);
    h_resp_free(&r);
    rcv_wait(1, 5000);
    struct rcv_msg m = rcv_get(0);
    cJSON *t = open_notification(&m, g_pserial, "refund", "REFUND.SUCCESS", id, sizeof id);
    free(m.body);
    assert_string_equal(str_of(t, "refund_status"), "SUCCESS");
    assert_string_equal(str_of(t, "out_refund_no"), rno);
    assert_string_equal(str_of(t, "refund_id"), refund_id);
    assert_string_equal(str_of(t, "out_trade_no"), no);
    assert_int_equal((long)num_of(cJSON_GetObjectItem(t, "amount"), "refund"), 40);
    cJSON_Delete(t);
    char path[200];
    snprintf(path, sizeof path, "/v3/refund/domestic/refunds/%s", rno);
    pay_call("GET", path, NULL, &r);
    assert_int_equal(r.status, 200);
    j = h_json(&r);
    assert_string_equal(str_of(j, "status"), "SUCCESS");
    assert_non_null(str_of(j, "success_time"));
    cJSON_Delete(j);
    h_resp_free(&r);
    snprintf(path, sizeof path, "/v3/pay/transactions/out-trade-no/%s?mchid=%s", no, g_mchid);
    pay_call("GET", path, NULL, &r);
    j = h_json(&r);
    assert_string_equal(str_of(j, "trade_state"), "REFUND");
    cJSON_Delete(j);
    h_resp_free(&r);
    /* more than what is left; wrong total */
    snprintf(body, sizeof body,
             "{\"out_trade_no\":\"%s\",\"out_refund_no\":\"%s_2\","
             "\"amount\":{\"refund\":61,\"total\":100,\"currency\":\"CNY\"}}",
             no, rno);
    pay_call("POST", "/v3/refund/domestic/refunds", body, &r);
    assert_pay_error(&r, 400, "INVALID_REQUEST");
    h_resp_free(&r);
    snprintf(body, sizeof body,
             "{\"transaction_id\":\"%s\",\"out_refund_no\":\"%s_3\","
             "\"amount\":{\"refund\":10,\"total\":99,\"currency\":\"CNY\"}}",
             txn, rno);
    pay_call("POST", "/v3/refund/domestic/refunds", body, &r);
    assert_pay_error(&r, 400, "PARAM_ERROR");
    h_resp_free(&r);
    pay_call("GET", "/v3/refund/domestic/refunds/NOPE", NULL, &r);
    assert_int_equal(r.status, 404);
    h_resp_free(&r);
    cJSON *arr = notifications_of(&g_sb, no);
    int refunds = 0;
    for (int i = 0; i < cJSON_GetArraySize(arr); i++)
        refunds += !strcmp(str_of(cJSON_GetArrayItem(arr, i), "event_type"), "REFUND.SUCCESS");
    assert_int_equal(refunds, 1);
    cJSON_Delete(arr);
}

static void test_pubkey_mode_and_no_pay_dir(void **state)
{
    (void)state;
    struct h_sandbox pk;
    char args[1200];
    snprintf(args, sizeof args, "%s --pay-mode pubkey", g_args);
    h_sandbox_start(&pk, args);
    char no[40], body[1024], id[64];
    struct h_resp r;
    new_no(no, sizeof no);
    jsapi_body(body, sizeof body, no, "证件照", "500");
    pay_call_ex(&pk, g_signer, 0, "POST", "/v3/pay/transactions/jsapi", body, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_signed(&r, g_pubid);
    h_resp_free(&r);
    rcv_reset(NULL, 0);
    snprintf(body, sizeof body, "{\"out_trade_no\":\"%s\",\"payer_total\":450}", no);
    cJSON_Delete(h_sb_json(&pk, "POST", "/__sandbox/pay", body));
    rcv_wait(1, 5000);
    struct rcv_msg m = rcv_get(0);
    cJSON *t = open_notification(&m, g_pubid, "transaction", "TRANSACTION.SUCCESS", id, sizeof id);
    free(m.body);
    const cJSON *am = cJSON_GetObjectItem(t, "amount");
    assert_int_equal((long)num_of(am, "total"), 500);
    assert_int_equal((long)num_of(am, "payer_total"), 450);
    cJSON_Delete(t);
    assert_int_equal(h_sandbox_stop(&pk), 0);

    struct h_sandbox bare;
    h_sandbox_start(&bare, NULL);
    pay_call_ex(&bare, g_signer, 0, "POST", "/v3/pay/transactions/jsapi", body, NULL, &r);
    assert_pay_error(&r, 500, "SYSTEM_ERROR");
    h_resp_free(&r);
    assert_int_equal(h_sandbox_stop(&bare), 0);
}

static void test_reset_clears_pay_state(void **state)
{
    (void)state;
    char no[40], prepay[80], txn[64], path[200];
    struct h_resp r;
    /* a delivery still retrying when reset comes */
    static const int script[] = {500, 500, 500, 500};
    rcv_reset(script, 4);
    new_no(no, sizeof no);
    create_order(no, "100", prepay, sizeof prepay);
    control_pay(no, txn, sizeof txn);
    rcv_wait(1, 5000);
    cJSON_Delete(h_sb_json(&g_sb, "POST", "/__sandbox/reset", NULL));
    int before = rcv_count();
    sleep_ms(700);
    assert_int_equal(rcv_count(), before);
    snprintf(path, sizeof path, "/v3/pay/transactions/out-trade-no/%s?mchid=%s", no, g_mchid);
    pay_call("GET", path, NULL, &r);
    assert_pay_error(&r, 404, "ORDER_NOT_EXIST");
    h_resp_free(&r);
    cJSON *j = h_sb_json(&g_sb, "GET", "/__sandbox/notifications", NULL);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "notifications")), 0);
    cJSON_Delete(j);
    /* still works afterwards */
    rcv_reset(NULL, 0);
    new_no(no, sizeof no);
    create_order(no, "100", prepay, sizeof prepay);
    control_pay(no, txn, sizeof txn);
    rcv_wait(1, 5000);
}

static void test_sandbox_exits_cleanly(void **state)
{
    (void)state;
    /* one delivery in flight at shutdown (its receiver keeps failing) */
    char no[40], prepay[80], txn[64];
    static const int script[] = {500, 500, 500, 500};
    rcv_reset(script, 4);
    new_no(no, sizeof no);
    create_order(no, "100", prepay, sizeof prepay);
    control_pay(no, txn, sizeof txn);
    assert_int_equal(h_sandbox_stop(&g_sb), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_files),
        cmocka_unit_test(test_signed_request_gets_signed_reply),
        cmocka_unit_test(test_bad_signatures_401),
        cmocka_unit_test(test_jsapi_validation),
        cmocka_unit_test(test_prepay_idempotent),
        cmocka_unit_test(test_pay_delivers_notification),
        cmocka_unit_test(test_retries_until_success),
        cmocka_unit_test(test_schedule_runs_out),
        cmocka_unit_test(test_duplicate_fault),
        cmocka_unit_test(test_drop_and_delay_faults),
        cmocka_unit_test(test_api_faults),
        cmocka_unit_test(test_close_semantics),
        cmocka_unit_test(test_refund),
        cmocka_unit_test(test_pubkey_mode_and_no_pay_dir),
        cmocka_unit_test(test_reset_clears_pay_state),
        cmocka_unit_test(test_sandbox_exits_cleanly),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
