/* tests/unit/test_session_cache.c — users/session_cache.h: the bounded table of valid student
 * sessions (hits, expiry, age, drops, replacement within a set, the bound). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/crypto.h"
#include "users/session_cache.h"

#include <stdio.h>
#include <string.h>

#define NOW_WALL 1800000000000LL /* ms */
#define AGE_MS   300000

/* A session whose key is the SHA-256 of "token-<i>" (what users.c keys by). */
static struct pc_session_entry session(int i)
{
    struct pc_session_entry e;
    memset(&e, 0, sizeof e);
    char tok[32];
    snprintf(tok, sizeof tok, "token-%d", i);
    pc_sha256_hex(tok, strlen(tok), e.token_hash);
    e.user_id = 1000 + i;
    e.session_id = 5000 + i;
    snprintf(e.openid, sizeof e.openid, "openid-%d", i);
    e.expires_ms = NOW_WALL + 3600000;
    return e;
}

static void test_session_cache_returns_what_was_put(void **state)
{
    (void)state;
    struct pc_session_cache *c = pc_session_cache_new(64, AGE_MS);
    struct pc_session_entry e = session(1), got;
    assert_false(pc_session_cache_get(c, e.token_hash, NOW_WALL, 10, &got));
    pc_session_cache_put(c, &e, 10);
    assert_true(pc_session_cache_get(c, e.token_hash, NOW_WALL, 20, &got));
    assert_int_equal(got.user_id, 1001);
    assert_int_equal(got.session_id, 5001);
    assert_string_equal(got.openid, "openid-1");
    struct pc_session_entry other = session(2);
    assert_false(pc_session_cache_get(c, other.token_hash, NOW_WALL, 20, &got));
    pc_session_cache_free(c);
}

static void test_session_cache_never_serves_an_expired_session(void **state)
{
    (void)state;
    struct pc_session_cache *c = pc_session_cache_new(64, AGE_MS);
    struct pc_session_entry e = session(1), got;
    pc_session_cache_put(c, &e, 10);
    assert_true(pc_session_cache_get(c, e.token_hash, e.expires_ms - 1, 20, &got));
    assert_false(pc_session_cache_get(c, e.token_hash, e.expires_ms, 20, &got));
    /* dropped when found expired: an earlier clock does not bring it back */
    assert_false(pc_session_cache_get(c, e.token_hash, NOW_WALL, 20, &got));
    pc_session_cache_free(c);
}

static void test_session_cache_asks_again_after_max_age(void **state)
{
    (void)state;
    struct pc_session_cache *c = pc_session_cache_new(64, AGE_MS);
    struct pc_session_entry e = session(1), got;
    pc_session_cache_put(c, &e, 1000);
    assert_true(pc_session_cache_get(c, e.token_hash, NOW_WALL, 1000 + AGE_MS - 1, &got));
    assert_false(pc_session_cache_get(c, e.token_hash, NOW_WALL, 1000 + AGE_MS, &got));
    pc_session_cache_free(c);
}

static void test_session_cache_drop_by_token_and_by_session(void **state)
{
    (void)state;
    struct pc_session_cache *c = pc_session_cache_new(64, AGE_MS);
    struct pc_session_entry a = session(1), b = session(2), got;
    pc_session_cache_put(c, &a, 10);
    pc_session_cache_put(c, &b, 10);
    assert_true(pc_session_cache_drop(c, a.token_hash));
    assert_false(pc_session_cache_drop(c, a.token_hash));
    assert_false(pc_session_cache_get(c, a.token_hash, NOW_WALL, 20, &got));
    assert_true(pc_session_cache_get(c, b.token_hash, NOW_WALL, 20, &got));
    assert_int_equal(pc_session_cache_drop_session(c, b.session_id), 1);
    assert_false(pc_session_cache_get(c, b.token_hash, NOW_WALL, 20, &got));
    assert_int_equal(pc_session_cache_count(c), 0);
    pc_session_cache_free(c);
}

static void test_session_cache_put_replaces_the_same_token(void **state)
{
    (void)state;
    struct pc_session_cache *c = pc_session_cache_new(64, AGE_MS);
    struct pc_session_entry e = session(1), got;
    pc_session_cache_put(c, &e, 10);
    e.user_id = 77;
    pc_session_cache_put(c, &e, 20);
    assert_int_equal(pc_session_cache_count(c), 1);
    assert_true(pc_session_cache_get(c, e.token_hash, NOW_WALL, 30, &got));
    assert_int_equal(got.user_id, 77);
    pc_session_cache_free(c);
}

static void test_session_cache_stays_within_its_capacity(void **state)
{
    (void)state;
    struct pc_session_cache *c = pc_session_cache_new(100, AGE_MS);
    size_t cap = pc_session_cache_capacity(c);
    assert_true(cap >= 100 && cap <= 256);
    for (int i = 0; i < 5000; i++) {
        struct pc_session_entry e = session(i);
        pc_session_cache_put(c, &e, i);
    }
    assert_true(pc_session_cache_count(c) <= cap);
    /* the newest entry is always there; the oldest of a full set was replaced */
    struct pc_session_entry last = session(4999), first = session(0), got;
    assert_true(pc_session_cache_get(c, last.token_hash, NOW_WALL, 5000, &got));
    assert_false(pc_session_cache_get(c, first.token_hash, NOW_WALL, 5000, &got));
    pc_session_cache_clear(c);
    assert_int_equal(pc_session_cache_count(c), 0);
    assert_false(pc_session_cache_get(c, last.token_hash, NOW_WALL, 5000, &got));
    pc_session_cache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_session_cache_returns_what_was_put),
        cmocka_unit_test(test_session_cache_never_serves_an_expired_session),
        cmocka_unit_test(test_session_cache_asks_again_after_max_age),
        cmocka_unit_test(test_session_cache_drop_by_token_and_by_session),
        cmocka_unit_test(test_session_cache_put_replaces_the_same_token),
        cmocka_unit_test(test_session_cache_stays_within_its_capacity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
