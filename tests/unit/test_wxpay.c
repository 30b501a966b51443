/* test_wxpay.c — WeChat Pay v3 cryptography against the published vectors of
 * tests/fixtures/wechatpay (wechat-protocols.md §8): V1 signing, V2 public-key
 * verification, V3 notification signature + decryption, V4/V5 AES-GCM, and the failure
 * cases (bad base64, wrong key, tampered tag, SIGNTEST probes). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/crypto.h"
#include "base/err.h"
#include "payment/wxpay_crypto.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FX PC_SOURCE_DIR "/tests/fixtures/wechatpay/"

/* Reads a fixture file whole (NUL-terminated); *len without the NUL. */
static char *fx(const char *rel, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, FX "%s", rel);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("missing fixture %s", path);
    char *buf = malloc(1 << 16);
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

/* A fixture holding one value: trailing newline trimmed. */
static char *fx_str(const char *rel)
{
    size_t n;
    char *s = fx(rel, &n);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

static void test_v1_rsa_sha256_signature_matches_byte_for_byte(void **state)
{
    (void)state;
    size_t plen, mlen;
    char *pem = fx("v1-sign/private_key.pem", &plen), *msg = fx("v1-sign/message.bin", &mlen);
    char *want = fx_str("v1-sign/signature.b64");
    struct pc_pay_signer *s = pc_pay_signer_from_pem(pem, plen, "1234567890", "F5765756002FDD77");
    assert_non_null(s);
    char sig[PC_PAY_SIG_B64_MAX];
    assert_int_equal(pc_pay_sign(s, msg, mlen, sig, sizeof sig), 0);
    assert_string_equal(sig, want);
    pc_pay_signer_free(s);
    free(pem);
    free(msg);
    free(want);
}

static void test_authorization_header_signs_the_five_line_message(void **state)
{
    (void)state;
    size_t plen;
    char *pem = fx("v1-sign/private_key.pem", &plen);
    struct pc_pay_signer *s = pc_pay_signer_from_pem(pem, plen, "1900000001", "F5765756002FDD77");
    const char body[] = "{\"mchid\":\"1900000001\"}";
    char auth[PC_PAY_AUTH_MAX];
    assert_int_equal(pc_pay_authorization(s, "POST", "/v3/pay/transactions/out-trade-no/T1/close",
                                          body, sizeof body - 1, 1554208460,
                                          "593BEC0C930BF1AFEB40B4A08C8FB242", auth, sizeof auth),
                     0);
    assert_non_null(strstr(auth, "WECHATPAY2-SHA256-RSA2048 mchid=\"1900000001\""));
    assert_non_null(strstr(auth, "serial_no=\"F5765756002FDD77\""));
    assert_non_null(strstr(auth, "timestamp=\"1554208460\""));
    /* The signature in the header verifies over exactly METHOD\nURL\nTS\nNONCE\nBODY\n. */
    size_t mlen;
    char *msg =
        pc_pay_request_message("POST", "/v3/pay/transactions/out-trade-no/T1/close", 1554208460,
                               "593BEC0C930BF1AFEB40B4A08C8FB242", body, sizeof body - 1, &mlen);
    assert_string_equal(msg, "POST\n/v3/pay/transactions/out-trade-no/T1/close\n1554208460\n"
                             "593BEC0C930BF1AFEB40B4A08C8FB242\n{\"mchid\":\"1900000001\"}\n");
    char *sig = strstr(auth, "signature=\"") + 11;
    sig[strlen(sig) - 1] = '\0';
    size_t publen;
    char *pub = fx("v1-sign/public.pem", &publen);
    struct pc_pay_keys *k = pc_pay_keys_new();
    assert_int_equal(pc_pay_keys_add_pubkey(k, "F5765756002FDD77", pub, publen), 0);
    assert_int_equal(pc_pay_verify_message(k, "F5765756002FDD77", msg, mlen, sig), 0);
    /* An empty body (GET) still ends with a bare "\n" line. */
    free(msg);
    msg = pc_pay_request_message("GET", "/v3/certificates", 1680144553,
                                 "vDit3y4Fmv45dem0CSmKbBK4tUHRR8Dj", NULL, 0, &mlen);
    assert_string_equal(msg,
                        "GET\n/v3/certificates\n1680144553\nvDit3y4Fmv45dem0CSmKbBK4tUHRR8Dj\n\n");
    free(msg);
    pc_pay_keys_free(k);
    pc_pay_signer_free(s);
    free(pem);
    free(pub);
}

static void test_v2_public_key_mode_verifies_and_rejects_a_wrong_message(void **state)
{
    (void)state;
    size_t publen, mlen, wlen;
    char *pub = fx("v1-sign/public.pem", &publen), *msg = fx("v1-sign/message.bin", &mlen);
    char *wrong = fx("v1-sign/wrong_message.bin", &wlen), *sig = fx_str("v1-sign/signature.b64");
    char *id = fx_str("v1-sign/serial.txt");
    struct pc_pay_keys *k = pc_pay_keys_new();
    assert_int_equal(pc_pay_keys_add_pubkey(k, id, pub, publen), 0);
    assert_int_equal(pc_pay_verify_message(k, id, msg, mlen, sig), 0);
    assert_int_equal(pc_pay_verify_message(k, id, wrong, wlen, sig), PC_EAUTH);
    assert_int_equal(pc_pay_verify_message(k, "PUB_KEY_ID_UNKNOWN", msg, mlen, sig), PC_EAUTH);
    pc_pay_keys_free(k);
    free(pub);
    free(msg);
    free(wrong);
    free(sig);
    free(id);
}

/* The V3 notification: headers.json, body.json, platform_cert.pem, apiv3_key.txt. */
static void test_v3_notification_signature_verifies_and_resource_decrypts(void **state)
{
    (void)state;
    size_t clen, blen;
    char *cert = fx("v3-notify/platform_cert.pem", &clen), *body = fx("v3-notify/body.json", &blen);
    char *hdrs = fx("v3-notify/headers.json", NULL), *key = fx_str("v3-notify/apiv3_key.txt");
    char *want = fx_str("v3-notify/expected_plaintext.json");
    cJSON *h = cJSON_Parse(hdrs);
    const char *serial = cJSON_GetObjectItem(h, "Wechatpay-Serial")->valuestring;
    const char *ts = cJSON_GetObjectItem(h, "Wechatpay-Timestamp")->valuestring;
    const char *nonce = cJSON_GetObjectItem(h, "Wechatpay-Nonce")->valuestring;
    const char *sig = cJSON_GetObjectItem(h, "Wechatpay-Signature")->valuestring;
    struct pc_pay_keys *k = pc_pay_keys_new();
    assert_int_equal(pc_pay_keys_add_cert(k, cert, clen), 0); /* serial from the cert */
    assert_int_equal(pc_pay_verify(k, serial, ts, nonce, body, blen, sig), 0);
    /* One changed body byte, another nonce, another timestamp: all refused. */
    body[10] ^= 1;
    assert_int_equal(pc_pay_verify(k, serial, ts, nonce, body, blen, sig), PC_EAUTH);
    body[10] ^= 1;
    assert_int_equal(pc_pay_verify(k, serial, ts, "x", body, blen, sig), PC_EAUTH);
    assert_int_equal(pc_pay_verify(k, serial, "1624523847", nonce, body, blen, sig), PC_EAUTH);
    assert_int_equal(pc_pay_verify(k, "0000000000000000", ts, nonce, body, blen, sig), PC_EAUTH);
    /* The resource decrypts (16-byte key: AES-128-GCM, as the Go vector needs). */
    cJSON *b = cJSON_Parse(body);
    cJSON *res = cJSON_GetObjectItem(b, "resource");
    char out[1024];
    size_t n = 0;
    assert_int_equal(
        pc_pay_decrypt(key, strlen(key), cJSON_GetObjectItem(res, "nonce")->valuestring,
                       cJSON_GetObjectItem(res, "associated_data")->valuestring,
                       cJSON_GetObjectItem(res, "ciphertext")->valuestring, out, sizeof out, &n),
        0);
    assert_string_equal(out, want);
    cJSON_Delete(b);
    cJSON_Delete(h);
    pc_pay_keys_free(k);
    free(cert);
    free(body);
    free(hdrs);
    free(key);
    free(want);
}

static void test_signature_probes_and_bad_base64_fail_gracefully(void **state)
{
    (void)state;
    size_t clen;
    char *cert = fx("v3-notify/platform_cert.pem", &clen);
    struct pc_pay_keys *k = pc_pay_keys_new();
    assert_int_equal(pc_pay_keys_add_cert(k, cert, clen), 0);
    static const char *const bad[] = {
        "WECHATPAY/SIGNTEST/MTIzNDU2Nzg5MA==",
        "WECHATPAY/SIGNTEST/",
        "not base64 at all!",
        "YWJj=ZGVm",
        "YWJjZA",
        "",
        "====",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(pc_pay_verify(k, "D7CE59D1F522D701", "1624523846", "n", "{}", 2, bad[i]),
                         PC_EAUTH);
    assert_int_equal(pc_pay_verify(k, "D7CE59D1F522D701", "1624523846", "n", "{}", 2, NULL),
                     PC_EAUTH);
    pc_pay_keys_free(k);
    free(cert);
}

static void test_v4_aes128_gcm_and_its_negative_cases(void **state)
{
    (void)state;
    char *key = fx_str("v4-aes128/key.txt"), *nonce = fx_str("v4-aes128/nonce.txt");
    char *aad = fx_str("v4-aes128/aad.txt"), *ct = fx_str("v4-aes128/ciphertext.b64");
    char *pt = fx_str("v4-aes128/plaintext.txt");
    char out[256];
    size_t n;
    assert_int_equal(pc_pay_decrypt(key, strlen(key), nonce, aad, ct, out, sizeof out, &n), 0);
    assert_string_equal(out, pt);
    char *wk = fx_str("v4-aes128/negative/wrong_key.txt");
    char *ik = fx_str("v4-aes128/negative/invalid_key.txt");
    char *ib = fx_str("v4-aes128/negative/invalid_base64_ciphertext.txt");
    char *ic = fx_str("v4-aes128/negative/invalid_ciphertext.b64");
    assert_int_equal(pc_pay_decrypt(wk, strlen(wk), nonce, aad, ct, out, sizeof out, &n), PC_EAUTH);
    assert_int_equal(pc_pay_decrypt(ik, strlen(ik), nonce, aad, ct, out, sizeof out, &n),
                     PC_EINVAL);
    assert_int_equal(pc_pay_decrypt(key, strlen(key), nonce, aad, ib, out, sizeof out, &n),
                     PC_EINVAL);
    assert_int_not_equal(pc_pay_decrypt(key, strlen(key), nonce, aad, ic, out, sizeof out, &n), 0);
    free(key);
    free(nonce);
    free(aad);
    free(ct);
    free(pt);
    free(wk);
    free(ik);
    free(ib);
    free(ic);
}

static void test_v5_aes256_gcm_both_directions_and_tampering(void **state)
{
    (void)state;
    char *key = fx_str("v5-aes256/key.txt"), *nonce = fx_str("v5-aes256/nonce.txt");
    char *aad = fx_str("v5-aes256/aad.txt"), *ct = fx_str("v5-aes256/ciphertext.b64");
    char *pt = fx_str("v5-aes256/plaintext.txt");
    assert_int_equal(strlen(key), 32);
    char out[256], enc[256];
    size_t n;
    assert_int_equal(pc_pay_decrypt(key, 32, nonce, aad, ct, out, sizeof out, &n), 0);
    assert_string_equal(out, pt);
    assert_int_equal(pc_pay_encrypt(key, 32, nonce, aad, pt, strlen(pt), enc, sizeof enc), 0);
    assert_string_equal(enc, ct);
    char *bad_aad = fx_str("v5-aes256/negative/bad_aad.txt");
    char *bad_nonce = fx_str("v5-aes256/negative/bad_nonce.txt");
    assert_int_equal(pc_pay_decrypt(key, 32, nonce, bad_aad, ct, out, sizeof out, &n), PC_EAUTH);
    assert_int_equal(pc_pay_decrypt(key, 32, bad_nonce, aad, ct, out, sizeof out, &n), PC_EAUTH);
    /* 128 zero bytes as the raw ciphertext. */
    size_t zl;
    char *zeros = fx("v5-aes256/negative/bad_ciphertext.bin", &zl);
    char zb64[256];
    pc_b64(zeros, zl, zb64);
    assert_int_equal(pc_pay_decrypt(key, 32, nonce, aad, zb64, out, sizeof out, &n), PC_EAUTH);
    /* A flipped tag bit. */
    char tampered[64];
    snprintf(tampered, sizeof tampered, "%s", ct);
    tampered[20] = tampered[20] == 'A' ? 'B' : 'A';
    assert_int_equal(pc_pay_decrypt(key, 32, nonce, aad, tampered, out, sizeof out, &n), PC_EAUTH);
    free(key);
    free(nonce);
    free(aad);
    free(ct);
    free(pt);
    free(bad_aad);
    free(bad_nonce);
    free(zeros);
}

static void test_pay_sign_signs_appid_timestamp_nonce_package(void **state)
{
    (void)state;
    size_t plen, publen;
    char *pem = fx("v1-sign/private_key.pem", &plen), *pub = fx("v1-sign/public.pem", &publen);
    struct pc_pay_signer *s = pc_pay_signer_from_pem(pem, plen, "1900000001", "F5765756002FDD77");
    char sig[PC_PAY_SIG_B64_MAX];
    assert_int_equal(
        pc_pay_pay_sign(s, "wxd678efh567hg6787", "1414561699", "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
                        "prepay_id=wx201410272009395522657a690389285100", sig, sizeof sig),
        0);
    const char msg[] = "wxd678efh567hg6787\n1414561699\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\n"
                       "prepay_id=wx201410272009395522657a690389285100\n";
    struct pc_pay_keys *k = pc_pay_keys_new();
    assert_int_equal(pc_pay_keys_add_pubkey(k, "K", pub, publen), 0);
    assert_int_equal(pc_pay_verify_message(k, "K", msg, sizeof msg - 1, sig), 0);
    pc_pay_keys_free(k);
    pc_pay_signer_free(s);
    free(pem);
    free(pub);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v1_rsa_sha256_signature_matches_byte_for_byte),
        cmocka_unit_test(test_authorization_header_signs_the_five_line_message),
        cmocka_unit_test(test_v2_public_key_mode_verifies_and_rejects_a_wrong_message),
        cmocka_unit_test(test_v3_notification_signature_verifies_and_resource_decrypts),
        cmocka_unit_test(test_signature_probes_and_bad_base64_fail_gracefully),
        cmocka_unit_test(test_v4_aes128_gcm_and_its_negative_cases),
        cmocka_unit_test(test_v5_aes256_gcm_both_directions_and_tampering),
        cmocka_unit_test(test_pay_sign_signs_appid_timestamp_nonce_package),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
