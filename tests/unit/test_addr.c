/* tests/unit/test_addr.c — server/addr.h: CIDR lists and the client behind trusted proxies. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/err.h"
#include "server/addr.h"

#include <string.h>

static struct pc_addr addr(const char *s)
{
    struct pc_addr a;
    if (!pc_addr_parse(s, strlen(s), &a))
        fail_msg("'%s' did not parse", s);
    return a;
}

static void expect_text(const struct pc_addr *a, const char *want)
{
    char t[PC_ADDR_TEXT];
    pc_addr_format(a, t);
    assert_string_equal(t, want);
}

static void test_cidr_list_matches_v4_v6_and_v4_mapped(void **state)
{
    struct pc_cidr_list l;
    char err[128];
    assert_int_equal(
        pc_cidr_list_parse("10.0.0.0/8, 192.168.1.7 ,fd00::/8\t::1", &l, err, sizeof err), 0);
    assert_int_equal(l.n, 4);
    struct pc_addr a = addr("10.200.3.4"), b = addr("11.0.0.1"), c = addr("192.168.1.7"),
                   d = addr("192.168.1.8"), e = addr("fd12::5"), f = addr("::1"),
                   g = addr("::ffff:10.1.1.1"), h = addr("fe80::1");
    assert_true(pc_cidr_list_has(&l, &a));
    assert_false(pc_cidr_list_has(&l, &b));
    assert_true(pc_cidr_list_has(&l, &c));
    assert_false(pc_cidr_list_has(&l, &d));
    assert_true(pc_cidr_list_has(&l, &e));
    assert_true(pc_cidr_list_has(&l, &f));
    assert_true(pc_cidr_list_has(&l, &g)); /* an IPv4 peer on a dual-stack socket */
    assert_false(pc_cidr_list_has(&l, &h));
    pc_cidr_list_free(&l);
}

static void test_cidr_host_bits_are_ignored_and_odd_prefixes_work(void **state)
{
    struct pc_cidr_list l;
    char err[128];
    assert_int_equal(pc_cidr_list_parse("10.1.2.3/8 172.16.0.0/12 0.0.0.0/0", &l, err, sizeof err),
                     0);
    struct pc_addr a = addr("10.9.9.9"), b = addr("172.31.255.255"), c = addr("8.8.8.8"),
                   v6 = addr("2001:db8::1");
    assert_true(pc_cidr_list_has(&l, &a));
    assert_true(pc_cidr_list_has(&l, &b));
    assert_true(pc_cidr_list_has(&l, &c)); /* 0.0.0.0/0: every IPv4 address */
    assert_false(pc_cidr_list_has(&l, &v6));
    pc_cidr_list_free(&l);
}

static void test_cidr_list_refuses_names_ports_and_bad_prefixes(void **state)
{
    static const char *const bad[] = {"localhost", "10.0.0.0/33", "::/129",      "10.0.0.0/",
                                      "10.0.0/8",  "1.2.3.4:80",  "10.0.0.0/8x", "[::1]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct pc_cidr_list l;
        char err[128] = "";
        if (pc_cidr_list_parse(bad[i], &l, err, sizeof err) != PC_EINVAL)
            fail_msg("'%s' was accepted", bad[i]);
        assert_non_null(strstr(err, "is not an address"));
        assert_int_equal(l.n, 0);
    }
    struct pc_cidr_list empty;
    char err[128];
    assert_int_equal(pc_cidr_list_parse("", &empty, err, sizeof err), 0);
    assert_int_equal(empty.n, 0);
    struct pc_addr a = addr("127.0.0.1");
    assert_false(pc_cidr_list_has(&empty, &a));
}

/* The client for a peer and X-Forwarded-For lines, as text. */
static void expect_client(const char *peer, const char *trusted, const char *const *xff,
                          const char *want)
{
    struct pc_cidr_list l;
    char err[128];
    assert_int_equal(pc_cidr_list_parse(trusted, &l, err, sizeof err), 0);
    size_t n = 0, len[8];
    while (xff && xff[n]) {
        len[n] = strlen(xff[n]);
        n++;
    }
    struct pc_addr p = addr(peer), out;
    pc_addr_client(&p, &l, xff, len, n, &out);
    char got[PC_ADDR_TEXT];
    pc_addr_format(&out, got);
    if (strcmp(got, want))
        fail_msg("peer %s trusted [%s]: got %s, want %s", peer, trusted, got, want);
    pc_cidr_list_free(&l);
}

static void test_forwarded_for_is_ignored_unless_the_peer_is_trusted(void **state)
{
    const char *xff[] = {"203.0.113.9", NULL};
    expect_client("127.0.0.1", "", xff, "127.0.0.1");
    expect_client("127.0.0.1", "10.0.0.0/8", xff, "127.0.0.1");
    expect_client("198.51.100.4", "127.0.0.1", xff, "198.51.100.4");
    expect_client("127.0.0.1", "127.0.0.1", xff, "203.0.113.9");
}

static void test_forwarded_for_is_walked_from_the_right(void **state)
{
    /* The client wrote "6.6.6.6" itself; our proxy appended the address it saw. */
    const char *spoofed[] = {"6.6.6.6, 203.0.113.9", NULL};
    expect_client("127.0.0.1", "127.0.0.1", spoofed, "203.0.113.9");
    /* Two proxies of ours (a CDN hop in 10/8, then the local one): the walk goes past both. */
    const char *chain[] = {"6.6.6.6, 198.51.100.20, 10.1.2.3", NULL};
    expect_client("127.0.0.1", "127.0.0.1, 10.0.0.0/8", chain, "198.51.100.20");
    /* Every hop trusted: the leftmost address. */
    const char *all[] = {"10.0.0.5,10.0.0.6", NULL};
    expect_client("127.0.0.1", "127.0.0.1 10.0.0.0/8", all, "10.0.0.5");
    /* Several header lines are one list, in order. */
    const char *lines[] = {"6.6.6.6", "203.0.113.7", NULL};
    expect_client("127.0.0.1", "127.0.0.1", lines, "203.0.113.7");
    /* IPv6 and the forms with ports some proxies write. */
    const char *v6[] = {"2001:db8::7", NULL};
    expect_client("::1", "::1", v6, "2001:db8::7");
    const char *ported[] = {"[2001:db8::8]:4711", NULL};
    expect_client("::1", "::1", ported, "2001:db8::8");
    const char *v4port[] = {"203.0.113.5:1234", NULL};
    expect_client("127.0.0.1", "127.0.0.1", v4port, "203.0.113.5");
}

static void test_garbage_in_forwarded_for_keeps_the_last_trusted_hop(void **state)
{
    const char *junk[] = {"203.0.113.9, unknown", NULL};
    expect_client("127.0.0.1", "127.0.0.1", junk, "127.0.0.1");
    const char *junk2[] = {"evil, 10.0.0.9", NULL};
    expect_client("127.0.0.1", "127.0.0.1, 10.0.0.0/8", junk2, "10.0.0.9");
    const char *empty[] = {"", NULL};
    expect_client("127.0.0.1", "127.0.0.1", empty, "127.0.0.1");
    const char *commas[] = {" , 203.0.113.1 ,", NULL};
    expect_client("127.0.0.1", "127.0.0.1", commas, "203.0.113.1");
}

static void test_format_and_loopback(void **state)
{
    struct pc_addr a = addr("127.0.0.9"), b = addr("::1"), c = addr("::ffff:127.0.0.1"),
                   d = addr("10.0.0.1");
    expect_text(&a, "127.0.0.9");
    expect_text(&b, "::1");
    expect_text(&c, "127.0.0.1");
    assert_true(pc_addr_is_loopback(&a));
    assert_true(pc_addr_is_loopback(&b));
    assert_true(pc_addr_is_loopback(&c));
    assert_false(pc_addr_is_loopback(&d));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cidr_list_matches_v4_v6_and_v4_mapped),
        cmocka_unit_test(test_cidr_host_bits_are_ignored_and_odd_prefixes_work),
        cmocka_unit_test(test_cidr_list_refuses_names_ports_and_bad_prefixes),
        cmocka_unit_test(test_forwarded_for_is_ignored_unless_the_peer_is_trusted),
        cmocka_unit_test(test_forwarded_for_is_walked_from_the_right),
        cmocka_unit_test(test_garbage_in_forwarded_for_keeps_the_last_trusted_hop),
        cmocka_unit_test(test_format_and_loopback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
