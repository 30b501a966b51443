/* tests/unit/test_paykeys.c — the WeChat Pay verification keys as certificates rotate
 * (payment/wxpay_crypto.h): a certificate is kept by its serial until its notAfter, an expired
 * one or one listed under another serial is refused, a downloaded set is merged beside the
 * public key, and expired ones are pruned. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/err.h"
#include "payment/wxpay_crypto.h"

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A self-signed certificate valid from `from` to `to` seconds from now, serial hex; its PEM
 * (malloc'd) and, when signer is not NULL, a signer of its key. */
static char *cert(long from, long to, const char *serial_hex, size_t *len,
                  struct pc_pay_signer **signer)
{
    EVP_PKEY *key = EVP_RSA_gen(2048);
    X509 *x = X509_new();
    BIGNUM *bn = NULL;
    BN_hex2bn(&bn, serial_hex);
    ASN1_INTEGER *sn = BN_to_ASN1_INTEGER(bn, NULL);
    X509_set_version(x, 2);
    X509_set_serialNumber(x, sn);
    X509_gmtime_adj(X509_getm_notBefore(x), from);
    X509_gmtime_adj(X509_getm_notAfter(x), to);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)"t", -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509_sign(x, key, EVP_sha256());
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, x);
    char *p;
    long n = BIO_get_mem_data(b, &p);
    char *pem = malloc((size_t)n + 1);
    memcpy(pem, p, (size_t)n);
    pem[n] = '\0';
    *len = (size_t)n;
    if (signer) {
        BIO *kb = BIO_new(BIO_s_mem());
        PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL);
        n = BIO_get_mem_data(kb, &p);
        *signer = pc_pay_signer_from_pem(p, (size_t)n, "1900000001", serial_hex);
        BIO_free(kb);
    }
    BIO_free(b);
    ASN1_INTEGER_free(sn);
    BN_free(bn);
    X509_free(x);
    EVP_PKEY_free(key);
    return pem;
}

static int verifies(const struct pc_pay_keys *k, struct pc_pay_signer *s, const char *serial)
{
    static const char msg[] = "1700000000\nnonce\n{}\n";
    char sig[PC_PAY_SIG_B64_MAX];
    assert_int_equal(pc_pay_sign(s, msg, sizeof msg - 1, sig, sizeof sig), 0);
    return pc_pay_verify_message(k, serial, msg, sizeof msg - 1, sig) == 0;
}

static void test_certificates_are_kept_by_serial_until_they_expire(void **state)
{
    (void)state;
    struct pc_pay_keys *k = pc_pay_keys_new();
    struct pc_pay_signer *s1 = NULL, *s2 = NULL;
    size_t n1, n2, n3;
    char *c1 = cert(-60, 3600, "5157F09EFDC096DE15EBE81A47057A7232F1B8E1", &n1, &s1);
    char *c2 = cert(-60, 86400, "7E2A0B5B8F9A0C1D2E3F405162738495A6B7C8D9", &n2, &s2);
    char *old = cert(-7200, -60, "1234", &n3, NULL);
    assert_int_equal(pc_pay_keys_add_cert(k, c1, n1), 0);
    assert_int_equal(pc_pay_keys_add_cert(k, old, n3), PC_EINVAL); /* expired */
    /* Listed under another serial than its own: refused. */
    assert_int_equal(pc_pay_keys_add_cert_as(k, c2, n2, "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"),
                     PC_EINVAL);
    assert_false(pc_pay_keys_has(k, "7E2A0B5B8F9A0C1D2E3F405162738495A6B7C8D9"));
    assert_true(verifies(k, s1, "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"));
    assert_false(verifies(k, s2, "7E2A0B5B8F9A0C1D2E3F405162738495A6B7C8D9"));
    /* A downloaded set is merged beside what was there. */
    struct pc_pay_keys *got = pc_pay_keys_new();
    assert_int_equal(
        pc_pay_keys_add_cert_as(got, c2, n2, "7E2A0B5B8F9A0C1D2E3F405162738495A6B7C8D9"), 0);
    assert_int_equal(pc_pay_keys_merge(k, got), 0);
    pc_pay_keys_free(got);
    assert_int_equal(pc_pay_keys_count(k), 2);
    assert_true(verifies(k, s1, "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"));
    assert_true(verifies(k, s2, "7E2A0B5B8F9A0C1D2E3F405162738495A6B7C8D9"));
    char serials[200];
    pc_pay_keys_serials(k, serials, sizeof serials);
    assert_non_null(strstr(serials, "7E2A0B5B"));
    /* Two hours on, the first has expired and goes; the second stays. */
    assert_int_equal(pc_pay_keys_prune(k, (int64_t)time(NULL) + 7200), 1);
    assert_false(pc_pay_keys_has(k, "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"));
    assert_true(verifies(k, s2, "7E2A0B5B8F9A0C1D2E3F405162738495A6B7C8D9"));
    pc_pay_keys_free(k);
    pc_pay_signer_free(s1);
    pc_pay_signer_free(s2);
    free(c1);
    free(c2);
    free(old);
}

static void test_a_full_map_makes_room_by_the_certificate_that_ends_first(void **state)
{
    (void)state;
    struct pc_pay_keys *k = pc_pay_keys_new();
    char serial[16];
    size_t n;
    for (int i = 0; i < 16; i++) {
        snprintf(serial, sizeof serial, "%X", 0x1000 + i);
        char *c = cert(-60, 3600 + i * 60, serial, &n, NULL);
        assert_int_equal(pc_pay_keys_add_cert(k, c, n), 0);
        free(c);
    }
    assert_int_equal(pc_pay_keys_count(k), 16);
    char *c = cert(-60, 86400, "ABCDEF", &n, NULL);
    assert_int_equal(pc_pay_keys_add_cert(k, c, n), 0); /* the one ending soonest goes */
    free(c);
    assert_false(pc_pay_keys_has(k, "1000"));
    assert_true(pc_pay_keys_has(k, "ABCDEF"));
    assert_true(pc_pay_keys_has(k, "100F"));
    pc_pay_keys_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_certificates_are_kept_by_serial_until_they_expire),
        cmocka_unit_test(test_a_full_map_makes_room_by_the_certificate_that_ends_first),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
