/* tests/unit/test_h1parse.c — server/h1parse.h: requests out of a byte stream, with the two
 * stops, the limits and the refusals the server relies on. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "server/h1parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_HEAD 2048

struct sink {
    char body[8192];
    size_t n;
    size_t limit;
};

static int on_body(void *arg, const char *p, size_t n)
{
    struct sink *s = arg;
    if (s->n + n > s->limit || s->n + n > sizeof s->body)
        return 1;
    memcpy(s->body + s->n, p, n);
    s->n += n;
    return 0;
}

/* What the server saw of one request. */
struct seen {
    int heads, dones;
    int error;
    char method[16];
    char path[256];
    char query[256];
    bool has_query;
    size_t nfields;
    char host[128];
    bool keep_alive;
    int64_t content_length;
};

static void span_copy(const char *buf, struct pc_h1_span s, char *out, size_t len)
{
    snprintf(out, len, "%.*s", (int)s.len, buf + s.off);
}

static void record_head(struct pc_h1 *h, const char *buf, struct seen *out)
{
    out->heads++;
    snprintf(out->method, sizeof out->method, "%s", pc_h1_method(h));
    struct pc_h1_span p, q, v;
    assert_true(pc_h1_target(h, buf, &p, &q, &out->has_query));
    span_copy(buf, p, out->path, sizeof out->path);
    span_copy(buf, q, out->query, sizeof out->query);
    out->nfields = h->nfields;
    if (pc_h1_field(h, buf, "host", &v))
        span_copy(buf, v, out->host, sizeof out->host);
    out->keep_alive = pc_h1_keep_alive(h);
    out->content_length = pc_h1_content_length(h);
}

/* Feeds text to the parser in pieces of step bytes the way server/conn.c does: the head stays
 * at offset 0 of one buffer until PC_H1_HEAD. Parses up to max requests; returns how many
 * completed. */
static int drive(const char *text, size_t len, size_t step, struct sink *sink, struct seen *seen,
                 int max)
{
    struct pc_h1 h;
    pc_h1_init(&h, MAX_HEAD, on_body, sink);
    char *buf = malloc(len + 1);
    size_t have = 0, off = 0, given = 0;
    int done = 0;
    memset(seen, 0, sizeof *seen * (size_t)max);
    while (done < max) {
        if (off == have) {
            if (given == len)
                break;
            size_t n = len - given < step ? len - given : step;
            memcpy(buf + have, text + given, n);
            have += n;
            given += n;
        }
        enum pc_h1_stop st;
        off += pc_h1_feed(&h, buf, off, have - off, &st);
        if (st == PC_H1_HEAD) {
            record_head(&h, buf, &seen[done]);
        } else if (st == PC_H1_DONE) {
            seen[done].dones++;
            done++;
            memmove(buf, buf + off, have - off); /* the next request's head to offset 0 */
            have -= off;
            off = 0;
            pc_h1_next(&h);
        } else if (st == PC_H1_ERROR) {
            seen[done].error = h.status;
            break;
        } else if (h.head_done) { /* body bytes are copied out */
            memmove(buf, buf + off, have - off);
            have -= off;
            off = 0;
        }
    }
    free(buf);
    return done;
}

static void test_get_is_parsed_whole_and_byte_by_byte_alike(void **state)
{
    static const char req[] = "GET /api/v1/orders?limit=5&cursor=x HTTP/1.1\r\n"
                              "Host: example.test\r\nX-Request-Id: abc\r\nAccept: */*\r\n\r\n";
    for (size_t step = 1; step <= sizeof req; step += (step < 8 ? 1 : 17)) {
        struct sink s = {.limit = 0};
        struct seen seen[1];
        assert_int_equal(drive(req, sizeof req - 1, step, &s, seen, 1), 1);
        assert_int_equal(seen[0].heads, 1);
        assert_string_equal(seen[0].method, "GET");
        assert_string_equal(seen[0].path, "/api/v1/orders");
        assert_true(seen[0].has_query);
        assert_string_equal(seen[0].query, "limit=5&cursor=x");
        assert_int_equal(seen[0].nfields, 3);
        assert_string_equal(seen[0].host, "example.test");
        assert_true(seen[0].keep_alive);
        assert_int_equal(seen[0].content_length, -1);
        assert_int_equal(s.n, 0);
    }
}

static void test_pipelined_requests_come_out_one_at_a_time_in_order(void **state)
{
    static const char req[] = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
                              "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
                              "GET /c?x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
    struct sink s = {.limit = 100};
    struct seen seen[3];
    assert_int_equal(drive(req, sizeof req - 1, sizeof req, &s, seen, 3), 3);
    assert_string_equal(seen[0].path, "/a");
    assert_string_equal(seen[1].method, "POST");
    assert_string_equal(seen[1].path, "/b");
    assert_int_equal(seen[1].content_length, 5);
    assert_string_equal(seen[2].path, "/c");
    assert_string_equal(seen[2].query, "x");
    assert_true(seen[1].keep_alive);
    assert_false(seen[2].keep_alive);
    assert_int_equal(s.n, 5);
    assert_memory_equal(s.body, "hello", 5);
}

static void test_chunked_body_is_decoded_in_any_split(void **state)
{
    static const char req[] = "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n";
    for (size_t step = 1; step < sizeof req; step += 3) {
        struct sink s = {.limit = 100};
        struct seen seen[1];
        assert_int_equal(drive(req, sizeof req - 1, step, &s, seen, 1), 1);
        assert_int_equal(seen[0].content_length, -1);
        assert_int_equal(s.n, 12);
        assert_memory_equal(s.body, "hello, world", 12);
    }
}

static void test_body_over_the_callbacks_limit_stops_with_413(void **state)
{
    static const char req[] = "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "a\r\n0123456789\r\n0\r\n\r\n";
    struct sink s = {.limit = 9};
    struct seen seen[1];
    assert_int_equal(drive(req, sizeof req - 1, 4, &s, seen, 1), 0);
    assert_int_equal(seen[0].heads, 1);
    assert_int_equal(seen[0].error, 413);
}

static void expect_error(const char *req, int status)
{
    for (size_t step = 1; step <= strlen(req); step = step * 3 + 1) {
        struct sink s = {.limit = 1 << 20};
        struct seen seen[1];
        int n = drive(req, strlen(req), step, &s, seen, 1);
        if (n != 0 || seen[0].error != status)
            fail_msg("step %zu: expected %d, got %d requests, error %d for %.60s", step, status, n,
                     seen[0].error, req);
    }
}

static void test_head_over_the_limit_is_431_wherever_it_is_cut(void **state)
{
    char req[MAX_HEAD + 200];
    int n = snprintf(req, sizeof req, "GET /x HTTP/1.1\r\nHost: h\r\nX-Fill: ");
    memset(req + n, 'a', MAX_HEAD);
    memcpy(req + n + MAX_HEAD, "\r\n\r\n", 5);
    expect_error(req, 431);
    /* a request line alone over the limit */
    n = snprintf(req, sizeof req, "GET /");
    memset(req + n, 'b', MAX_HEAD + 50);
    memcpy(req + n + MAX_HEAD + 50, " HTTP/1.1\r\n\r\n", 14);
    expect_error(req, 431);
    /* an endless run of empty lines before a request counts too */
    memset(req, '\n', MAX_HEAD + 10);
    req[MAX_HEAD + 10] = '\0';
    expect_error(req, 431);
}

static void test_head_at_the_limit_is_accepted(void **state)
{
    char req[MAX_HEAD + 1];
    int n = snprintf(req, sizeof req, "GET /x HTTP/1.1\r\nX-Fill: ");
    size_t fill = MAX_HEAD - (size_t)n - 4;
    memset(req + n, 'a', fill);
    memcpy(req + n + fill, "\r\n\r\n", 5);
    assert_int_equal(strlen(req), MAX_HEAD);
    struct sink s = {.limit = 0};
    struct seen seen[1];
    assert_int_equal(drive(req, strlen(req), 100, &s, seen, 1), 1);
}

static void test_too_many_header_fields_is_431(void **state)
{
    char req[MAX_HEAD];
    size_t n = (size_t)snprintf(req, sizeof req, "GET / HTTP/1.1\r\n");
    for (int i = 0; i <= PC_H1_MAX_FIELDS; i++)
        n += (size_t)snprintf(req + n, sizeof req - n, "a%d:b\r\n", i);
    snprintf(req + n, sizeof req - n, "\r\n");
    expect_error(req, 431);
}

static void test_malformed_and_ambiguous_requests_are_400(void **state)
{
    expect_error("HELLO\r\n\r\n", 400);
    expect_error("GET / HTTP/9.x\r\n\r\n", 400);
    expect_error("GET / HTTP/1.1\r\nBad Header\r\n\r\n", 400);
    expect_error("GET / HTTP/1.1\r\nX-Folded: a\r\n b\r\n\r\n", 400);
    /* request smuggling shapes: both framings, or two lengths */
    expect_error("POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "0\r\n\r\n",
                 400);
    expect_error("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400);
    expect_error("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nabc", 400);
    expect_error("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400);
}

static void test_http10_closes_unless_keep_alive_is_asked(void **state)
{
    struct sink s = {.limit = 0};
    struct seen seen[1];
    const char *a = "GET / HTTP/1.0\r\n\r\n";
    assert_int_equal(drive(a, strlen(a), 64, &s, seen, 1), 1);
    assert_false(seen[0].keep_alive);
    const char *b = "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
    assert_int_equal(drive(b, strlen(b), 64, &s, seen, 1), 1);
    assert_true(seen[0].keep_alive);
}

static void test_absolute_form_target_gives_path_and_query(void **state)
{
    struct sink s = {.limit = 0};
    struct seen seen[1];
    const char *a = "GET https://example.test:8443/api/v1/orders?limit=2 HTTP/1.1\r\n\r\n";
    assert_int_equal(drive(a, strlen(a), 64, &s, seen, 1), 1);
    assert_string_equal(seen[0].path, "/api/v1/orders");
    assert_string_equal(seen[0].query, "limit=2");
    const char *b = "GET /p?#frag HTTP/1.1\r\n\r\n";
    assert_int_equal(drive(b, strlen(b), 64, &s, seen, 1), 1);
    assert_string_equal(seen[0].path, "/p");
    assert_true(seen[0].has_query);
    assert_string_equal(seen[0].query, "");
}

int main(void)
{
    pc_h1_global_init(MAX_HEAD);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_is_parsed_whole_and_byte_by_byte_alike),
        cmocka_unit_test(test_pipelined_requests_come_out_one_at_a_time_in_order),
        cmocka_unit_test(test_chunked_body_is_decoded_in_any_split),
        cmocka_unit_test(test_body_over_the_callbacks_limit_stops_with_413),
        cmocka_unit_test(test_head_over_the_limit_is_431_wherever_it_is_cut),
        cmocka_unit_test(test_head_at_the_limit_is_accepted),
        cmocka_unit_test(test_too_many_header_fields_is_431),
        cmocka_unit_test(test_malformed_and_ambiguous_requests_are_400),
        cmocka_unit_test(test_http10_closes_unless_keep_alive_is_asked),
        cmocka_unit_test(test_absolute_form_target_gives_path_and_query),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
