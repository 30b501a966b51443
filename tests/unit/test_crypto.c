/* tests/unit/test_crypto.c — base/crypto.h: base64url, tokens, SHA-256, hex, pc_ct_equal. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/crypto.h"
#include "base/err.h"

#include <stdlib.h>
#include <string.h>

static const char B64URL_ALPHABET[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void check_encode(const void *p, size_t n, const char *want)
{
    char out[128];
    memset(out, '#', sizeof out);
    size_t len = pc_b64url(p, n, out);
    assert_string_equal(out, want);
    assert_int_equal(len, strlen(want));
}

/* RFC 4648 section 10, without the '=' padding. */
static void test_b64url_encodes_rfc4648_vectors_without_padding(void **state)
{
    check_encode("", 0, "");
    check_encode("f", 1, "Zg");
    check_encode("fo", 2, "Zm8");
    check_encode("foo", 3, "Zm9v");
    check_encode("foob", 4, "Zm9vYg");
    check_encode("fooba", 5, "Zm9vYmE");
    check_encode("foobar", 6, "Zm9vYmFy");
}

static void test_b64url_uses_url_alphabet_for_62_and_63(void **state)
{
    /* Standard base64 would give "+/8=", "////" and "++++". */
    check_encode("\xfb\xff", 2, "-_8");
    check_encode("\xff\xff\xff", 3, "____");
    check_encode("\xfb\xef\xbe", 3, "----");
    check_encode("\x00\x00\x00", 3, "AAAA");
}

static void check_decode(const char *s, const void *want, size_t wantlen)
{
    unsigned char out[128];
    size_t outlen = 9999;
    assert_int_equal(pc_b64url_decode(s, strlen(s), out, sizeof out, &outlen), 0);
    assert_int_equal(outlen, wantlen);
    assert_memory_equal(out, want, wantlen);
}

static void test_b64url_decodes_rfc4648_vectors(void **state)
{
    check_decode("", "", 0);
    check_decode("Zg", "f", 1);
    check_decode("Zm8", "fo", 2);
    check_decode("Zm9v", "foo", 3);
    check_decode("Zm9vYg", "foob", 4);
    check_decode("Zm9vYmE", "fooba", 5);
    check_decode("Zm9vYmFy", "foobar", 6);
    check_decode("-_8", "\xfb\xff", 2);
    check_decode("____", "\xff\xff\xff", 3);
}

static void test_b64url_round_trips_every_length_and_byte(void **state)
{
    unsigned char in[256];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (unsigned char)(i * 7 + 3);
    for (size_t n = 0; n <= sizeof in; n++) {
        char enc[4 * ((sizeof in + 2) / 3) + 1];
        unsigned char dec[sizeof in];
        size_t elen = pc_b64url(in, n, enc);
        assert_int_equal(elen, (n * 4 + 2) / 3);
        assert_int_equal(strspn(enc, B64URL_ALPHABET), elen);
        size_t dlen = 0;
        assert_int_equal(pc_b64url_decode(enc, elen, dec, n, &dlen), 0);
        assert_int_equal(dlen, n);
        assert_memory_equal(dec, in, n);
    }
}

static void test_b64url_decode_refuses_bad_characters(void **state)
{
    static const char *bad[] = {"Zm9v+A", "Zm9v/A", "Zm9vYg==", "Zm 9v",
                                "Zm9v\n", "Zm9v.A", "Zm9v*A",   "Zm\x80v"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        unsigned char out[64];
        size_t outlen = 0;
        if (pc_b64url_decode(bad[i], strlen(bad[i]), out, sizeof out, &outlen) != PC_EINVAL)
            fail_msg("'%s' was accepted", bad[i]);
    }
}

static void test_b64url_decode_refuses_embedded_nul(void **state)
{
    unsigned char out[16];
    size_t outlen = 0;
    assert_int_equal(pc_b64url_decode("Zm\0v", 4, out, sizeof out, &outlen), PC_EINVAL);
}

static void test_b64url_decode_refuses_output_overflow(void **state)
{
    unsigned char out[8];
    size_t outlen = 0;
    memset(out, 0xaa, sizeof out);
    assert_int_equal(pc_b64url_decode("Zm9vYmFy", 8, out, 5, &outlen), PC_EINVAL);
    assert_int_equal(out[5], 0xaa); /* nothing written past the capacity */
    assert_int_equal(pc_b64url_decode("Zm9vYmFy", 8, out, 6, &outlen), 0);
    assert_int_equal(outlen, 6);
    assert_memory_equal(out, "foobar", 6);
    assert_int_equal(pc_b64url_decode("Zg", 2, out, 0, &outlen), PC_EINVAL);
}

static void test_b64url_decode_refuses_lone_trailing_char(void **state)
{
    unsigned char out[16];
    size_t outlen = 0;
    assert_int_equal(pc_b64url_decode("Z", 1, out, sizeof out, &outlen), PC_EINVAL);
    assert_int_equal(pc_b64url_decode("Zm9vY", 5, out, sizeof out, &outlen), PC_EINVAL);
    assert_int_equal(pc_b64url_decode("Zm9vYmFyZ", 9, out, sizeof out, &outlen), PC_EINVAL);
}

static void test_b64url_decode_uses_n_not_nul(void **state)
{
    unsigned char out[16];
    size_t outlen = 0;
    assert_int_equal(pc_b64url_decode("Zm9v!!!", 4, out, sizeof out, &outlen), 0);
    assert_int_equal(outlen, 3);
    assert_memory_equal(out, "foo", 3);
}

static void test_token_is_43_url_safe_chars_of_32_bytes(void **state)
{
    char tok[PC_TOKEN_STRLEN];
    memset(tok, '#', sizeof tok);
    assert_int_equal(pc_token_new(tok), 0);
    assert_int_equal(strlen(tok), 43);
    assert_int_equal(strspn(tok, B64URL_ALPHABET), 43);
    unsigned char raw[64];
    size_t n = 0;
    assert_int_equal(pc_b64url_decode(tok, 43, raw, sizeof raw, &n), 0);
    assert_int_equal(n, PC_TOKEN_BYTES);
}

static int cmp_tok(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void test_token_unique_over_1000_draws(void **state)
{
    enum { N = 1000 };
    char(*toks)[PC_TOKEN_STRLEN] = calloc(N, PC_TOKEN_STRLEN);
    assert_non_null(toks);
    for (int i = 0; i < N; i++) {
        assert_int_equal(pc_token_new(toks[i]), 0);
        assert_int_equal(strlen(toks[i]), 43);
    }
    qsort(toks, N, PC_TOKEN_STRLEN, cmp_tok);
    for (int i = 1; i < N; i++)
        if (strcmp(toks[i - 1], toks[i]) == 0)
            fail_msg("duplicate token %s", toks[i]);
    free(toks);
}

static void test_rand_bytes_fills_buffer(void **state)
{
    unsigned char a[64], b[64];
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    assert_int_equal(pc_rand_bytes(a, sizeof a), 0);
    assert_int_equal(pc_rand_bytes(b, sizeof b), 0);
    assert_memory_not_equal(a, b, sizeof a);
    static const unsigned char zero[64];
    assert_memory_not_equal(a, zero, sizeof a);
}

static void test_sha256_hex_of_abc(void **state)
{
    char out[PC_SHA256_HEXLEN];
    pc_sha256_hex("abc", 3, out);
    assert_string_equal(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_sha256_hex_of_empty_and_two_blocks(void **state)
{
    char out[PC_SHA256_HEXLEN];
    pc_sha256_hex("", 0, out);
    assert_string_equal(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    pc_sha256_hex(m, strlen(m), out);
    assert_string_equal(out, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_hex_is_lower_case_and_terminated(void **state)
{
    char out[16];
    memset(out, '#', sizeof out);
    pc_hex("\x00\xab\xff\x10", 4, out);
    assert_string_equal(out, "00abff10");
    pc_hex("", 0, out);
    assert_string_equal(out, "");
}

static void test_ct_equal_compares_bytes(void **state)
{
    assert_int_equal(pc_ct_equal("secret-token", "secret-token", 12), 1);
    assert_int_equal(pc_ct_equal("secret-token", "secret-tokeN", 12), 0);
    assert_int_equal(pc_ct_equal("Xecret-token", "secret-token", 12), 0);
    assert_int_equal(pc_ct_equal("a\0b", "a\0c", 3), 0);
    assert_int_equal(pc_ct_equal("a\0b", "a\0b", 3), 1);
    assert_int_equal(pc_ct_equal("abc", "xyz", 0), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64url_encodes_rfc4648_vectors_without_padding),
        cmocka_unit_test(test_b64url_uses_url_alphabet_for_62_and_63),
        cmocka_unit_test(test_b64url_decodes_rfc4648_vectors),
        cmocka_unit_test(test_b64url_round_trips_every_length_and_byte),
        cmocka_unit_test(test_b64url_decode_refuses_bad_characters),
        cmocka_unit_test(test_b64url_decode_refuses_embedded_nul),
        cmocka_unit_test(test_b64url_decode_refuses_output_overflow),
        cmocka_unit_test(test_b64url_decode_refuses_lone_trailing_char),
        cmocka_unit_test(test_b64url_decode_uses_n_not_nul),
        cmocka_unit_test(test_token_is_43_url_safe_chars_of_32_bytes),
        cmocka_unit_test(test_token_unique_over_1000_draws),
        cmocka_unit_test(test_rand_bytes_fills_buffer),
        cmocka_unit_test(test_sha256_hex_of_abc),
        cmocka_unit_test(test_sha256_hex_of_empty_and_two_blocks),
        cmocka_unit_test(test_hex_is_lower_case_and_terminated),
        cmocka_unit_test(test_ct_equal_compares_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
