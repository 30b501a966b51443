/* storage/s3.c — objects in an S3-compatible store (Tencent COS, MinIO, Ceph RGW, AWS) over
 * libcurl, signed with AWS Signature V4 by libcurl (CURLOPT_AWS_SIGV4). libcurl 7.88 neither
 * sends x-amz-content-sha256 nor a content type of ours, so every request carries the
 * payload's SHA-256 (computed here with OpenSSL), and a PUT its Content-Type and Content-MD5
 * (the store refuses a body that does not match). Each thread keeps one easy handle, so its
 * connection to the store stays open between requests. See storage.h. */
#include "storage/internal.h"

#include "base/alloc.h"
#include "base/crypto.h"
#include "base/err.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "config/config.h"

#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ATTEMPTS    3
#define ERRBODY_MAX 1024
/* SHA-256 of no bytes: the payload hash of GET, HEAD and DELETE. */
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static pthread_key_t g_handle_key;
static pthread_once_t g_handle_once = PTHREAD_ONCE_INIT;

static void handle_free(void *h)
{
    curl_easy_cleanup(h);
}

static void handle_key_init(void)
{
    pthread_key_create(&g_handle_key, handle_free);
}

/* This thread's easy handle, reset for a new request (the connection cache stays). */
static CURL *thread_handle(void)
{
    pthread_once(&g_handle_once, handle_key_init);
    CURL *c = pthread_getspecific(g_handle_key);
    if (c) {
        curl_easy_reset(c);
        return c;
    }
    c = curl_easy_init();
    if (c)
        pthread_setspecific(g_handle_key, c);
    return c;
}

static bool dns_label_chars(const char *s, const char *extra)
{
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || strchr(extra, *s)))
            return false;
    return true;
}

static bool loopback_http(const char *ep)
{
    static const char *const ok[] = {"http://127.", "http://localhost:", "http://localhost/",
                                     "http://[::1]"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (!strncmp(ep, ok[i], strlen(ok[i])))
            return true;
    return !strcmp(ep, "http://localhost");
}

int pc_s3_check(const struct pc_config *cfg, char *err, size_t errlen)
{
    const char *ep = cfg->s3_endpoint ? cfg->s3_endpoint : "";
    size_t bl = cfg->s3_bucket ? strlen(cfg->s3_bucket) : 0;
    const char *prefix = cfg->s3_prefix ? cfg->s3_prefix : "";
    if (strncmp(ep, "https://", 8) && !loopback_http(ep))
        snprintf(err, errlen,
                 "storage.s3_endpoint must be https://host[:port] (http:// only to "
                 "a loopback address)");
    else if (strlen(ep) > 200 || ep[strlen(ep) - 1] == '/' || strchr(ep + 8, '/') ||
             strchr(ep, '?'))
        snprintf(err, errlen, "storage.s3_endpoint is scheme://host[:port], no path");
    else if (bl < 3 || bl > 63 || !dns_label_chars(cfg->s3_bucket, ".-"))
        snprintf(err, errlen, "storage.s3_bucket must be 3-63 of [a-z0-9.-]");
    else if (!cfg->s3_region || !cfg->s3_region[0] || strlen(cfg->s3_region) > 40 ||
             !dns_label_chars(cfg->s3_region, "-"))
        snprintf(err, errlen, "storage.s3_region must be a region name like ap-guangzhou");
    else if (strlen(prefix) > 100 || prefix[0] == '/' || strstr(prefix, "..") ||
             !dns_label_chars(prefix, "ABCDEFGHIJKLMNOPQRSTUVWXYZ/._-"))
        snprintf(err, errlen, "storage.s3_prefix must be up to 100 of [A-Za-z0-9/._-]");
    else if (!cfg->s3_access_key || !cfg->s3_access_key[0] || !cfg->s3_secret_key ||
             !cfg->s3_secret_key[0] || strchr(cfg->s3_access_key, ':'))
        snprintf(err, errlen,
                 "storage.s3_access_key and storage.s3_secret_key are needed "
                 "(PORTRAITD_STORAGE_S3_ACCESS_KEY, PORTRAITD_STORAGE_S3_SECRET_KEY)");
    else
        return 0;
    return PC_EINVAL;
}

/* The object's URL: path style endpoint/bucket/prefix+rel, or bucket.host/prefix+rel. */
static int object_url(const struct pc_config *cfg, const char *rel, char *out, size_t len)
{
    const char *ep = cfg->s3_endpoint, *prefix = cfg->s3_prefix ? cfg->s3_prefix : "";
    int n;
    if (cfg->s3_path_style) {
        n = snprintf(out, len, "%s/%s/%s%s", ep, cfg->s3_bucket, prefix, rel);
    } else {
        const char *host = strstr(ep, "://") + 3;
        n = snprintf(out, len, "%.*s%s.%s/%s%s", (int)(host - ep), ep, cfg->s3_bucket, host, prefix,
                     rel);
    }
    return n > 0 && (size_t)n < len ? 0 : PC_EINVAL;
}

/* The bucket's URL with a query (already canonical: sorted and percent-encoded). */
static int bucket_url(const struct pc_config *cfg, const char *query, char *out, size_t len)
{
    const char *ep = cfg->s3_endpoint;
    int n;
    if (cfg->s3_path_style) {
        n = snprintf(out, len, "%s/%s?%s", ep, cfg->s3_bucket, query);
    } else {
        const char *host = strstr(ep, "://") + 3;
        n = snprintf(out, len, "%.*s%s.%s/?%s", (int)(host - ep), ep, cfg->s3_bucket, host, query);
    }
    return n > 0 && (size_t)n < len ? 0 : PC_EINVAL;
}

struct call {
    CURL *c;
    const char *method;
    const char *query; /* a request on the bucket (a listing) rather than the object rel */
    /* GET */
    size_t max;
    pc_storage_sink sink;
    void *arg;
    size_t got;
    int sink_rc;
    /* error replies */
    char errbody[ERRBODY_MAX + 1];
    size_t errlen;
};

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
    struct call *k = arg;
    size_t n = size * nmemb;
    long status = 0;
    curl_easy_getinfo(k->c, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200 || !k->sink) { /* an error document: keep its start for the log */
        size_t take = n < ERRBODY_MAX - k->errlen ? n : ERRBODY_MAX - k->errlen;
        memcpy(k->errbody + k->errlen, p, take);
        k->errlen += take;
        k->errbody[k->errlen] = '\0';
        return n;
    }
    if (k->got + n > k->max) {
        k->sink_rc = PC_ETOOBIG;
        return 0; /* stops the transfer */
    }
    k->got += n;
    k->sink_rc = k->sink(k->arg, p, n);
    return k->sink_rc ? 0 : n;
}

/* The <Code> of an S3 error document, or "". */
static void error_code(const char *body, char *out, size_t len)
{
    const char *a = strstr(body, "<Code>"), *b = a ? strstr(a, "</Code>") : NULL;
    if (a && b && b - a - 6 < 64)
        snprintf(out, len, "%.*s", (int)(b - a - 6), a + 6);
    else
        snprintf(out, len, "%s", "");
}

static bool transient(CURLcode cc, long status)
{
    if (cc == CURLE_OK)
        return status >= 500 || status == 429;
    return cc == CURLE_COULDNT_CONNECT || cc == CURLE_OPERATION_TIMEDOUT ||
           cc == CURLE_SEND_ERROR || cc == CURLE_RECV_ERROR || cc == CURLE_GOT_NOTHING ||
           cc == CURLE_PARTIAL_FILE;
}

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

/* One request, retried on a transient failure (a read only while nothing reached its sink).
 * body/len for a PUT, ctype its Content-Type. *status receives the last HTTP status (0 when
 * there was none). 0 when the store answered (whatever the status), or PC_EIO/the sink's
 * value/PC_ETOOBIG. */
static int perform(const struct pc_config *cfg, struct call *k, const char *rel, const void *body,
                   size_t len, const char *ctype, long *status, int64_t *length)
{
    char url[2048], sha_h[100], md5_h[80], ct_h[160], sig[80], sha[PC_SHA256_HEXLEN];
    *status = 0;
    if (k->query ? bucket_url(cfg, k->query, url, sizeof url)
                 : object_url(cfg, rel, url, sizeof url))
        return PC_EINVAL;
    bool put = !strcmp(k->method, "PUT");
    if (put) {
        unsigned char md5[16];
        char b64[32];
        pc_sha256_hex(body, len, sha);
        EVP_Digest(body, len, md5, NULL, EVP_md5(), NULL);
        pc_b64(md5, sizeof md5, b64);
        snprintf(md5_h, sizeof md5_h, "Content-MD5: %s", b64);
        snprintf(ct_h, sizeof ct_h, "Content-Type: %s", ctype);
    }
    snprintf(sha_h, sizeof sha_h, "x-amz-content-sha256: %s", put ? sha : EMPTY_SHA256);
    snprintf(sig, sizeof sig, "aws:amz:%s:s3", cfg->s3_region);
    int rc = PC_EIO;
    CURLcode cc = CURLE_OK;
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
        if (attempt)
            pause_ms(100L << (2 * attempt)); /* 400 ms, then 1.6 s */
        CURL *c = thread_handle();
        if (!c)
            return PC_EIO;
        k->c = c;
        k->errlen = 0;
        k->errbody[0] = '\0';
        struct curl_slist *h = curl_slist_append(NULL, sha_h);
        if (put) {
            h = curl_slist_append(h, ct_h);
            h = curl_slist_append(h, md5_h);
        }
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_AWS_SIGV4, sig);
        curl_easy_setopt(c, CURLOPT_USERNAME, cfg->s3_access_key);
        curl_easy_setopt(c, CURLOPT_PASSWORD, cfg->s3_secret_key);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)cfg->s3_timeout_ms);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                         (long)(cfg->s3_timeout_ms < 5000 ? cfg->s3_timeout_ms : 5000));
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
        if (cfg->s3_ca_file && cfg->s3_ca_file[0])
            curl_easy_setopt(c, CURLOPT_CAINFO, cfg->s3_ca_file);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, k);
        if (put) {
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        } else if (!strcmp(k->method, "HEAD")) {
            curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
        } else if (!strcmp(k->method, "DELETE")) {
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "DELETE");
        }
        cc = curl_easy_perform(c);
        curl_slist_free_all(h);
        *status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
        if (length) {
            curl_off_t cl = -1;
            curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
            *length = (int64_t)cl;
        }
        if (k->sink_rc)
            return k->sink_rc; /* the reader stopped it, or it grew past max */
        rc = cc == CURLE_OK ? 0 : PC_EIO;
        if (!transient(cc, *status) || k->got)
            break;
    }
    if (rc || *status >= 300) {
        char code[64];
        error_code(k->errbody, code, sizeof code);
        pc_log(*status == 404 ? PC_LOG_DEBUG : PC_LOG_ERROR, "object store request failed",
               PC_LS("method", k->method), PC_LS("key", rel), PC_LI("status", *status),
               PC_LS("code", code), PC_LS("error", cc ? curl_easy_strerror(cc) : ""));
    }
    return rc;
}

static const char *content_type(const char *rel)
{
    size_t n = strlen(rel);
    if (n > 4 && !strcmp(rel + n - 4, ".jpg"))
        return "image/jpeg";
    if (n > 4 && !strcmp(rel + n - 4, ".png"))
        return "image/png";
    return "application/octet-stream";
}

int pc_s3_put(const struct pc_config *cfg, const char *rel, const void *data, size_t len)
{
    struct call k = {.method = "PUT"};
    long status = 0;
    int rc = perform(cfg, &k, rel, data, len, content_type(rel), &status, NULL);
    return rc == 0 && status == 200 ? 0 : PC_EIO;
}

int pc_s3_read(const struct pc_config *cfg, const char *rel, size_t max, pc_storage_sink sink,
               void *arg)
{
    struct call k = {.method = "GET", .max = max, .sink = sink, .arg = arg};
    long status = 0;
    int rc = perform(cfg, &k, rel, NULL, 0, NULL, &status, NULL);
    if (rc)
        return rc;
    return status == 200 ? 0 : status == 404 ? PC_ENOTFOUND : PC_EIO;
}

int pc_s3_size(const struct pc_config *cfg, const char *rel, int64_t *size)
{
    struct call k = {.method = "HEAD"};
    long status = 0;
    int64_t len = -1;
    int rc = perform(cfg, &k, rel, NULL, 0, NULL, &status, &len);
    if (rc)
        return rc;
    if (status == 404)
        return PC_ENOTFOUND;
    if (status != 200 || len < 0)
        return PC_EIO;
    *size = len;
    return 0;
}

int pc_s3_delete(const struct pc_config *cfg, const char *rel)
{
    struct call k = {.method = "DELETE"};
    long status = 0;
    int rc = perform(cfg, &k, rel, NULL, 0, NULL, &status, NULL);
    if (rc)
        return rc;
    return status == 204 || status == 200 || status == 404 ? 0 : PC_EIO;
}

/* Percent-encodes s as SigV4 wants a query value (everything but A-Z a-z 0-9 - . _ ~). */
static int query_value(const char *s, char *out, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t k = 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '.' || c == '_' || c == '~';
        if (k + 4 > len)
            return PC_EINVAL;
        if (plain) {
            out[k++] = (char)c;
        } else {
            out[k++] = '%';
            out[k++] = hex[c >> 4];
            out[k++] = hex[c & 15];
        }
    }
    out[k] = '\0';
    return 0;
}

/* The text of the first <tag>…</tag> at or after *at, into out (entities left as they are:
 * storage.c skips keys that are not valid paths); *at moves past it. 0, or -1 when
 * there is none or it does not fit. */
static int xml_text(const char **at, const char *end, const char *tag, char *out, size_t len)
{
    char open_t[48], close_t[48];
    snprintf(open_t, sizeof open_t, "<%s>", tag);
    snprintf(close_t, sizeof close_t, "</%s>", tag);
    const char *a = strstr(*at, open_t);
    if (!a || (end && a > end))
        return -1;
    a += strlen(open_t);
    const char *b = strstr(a, close_t);
    if (!b || (size_t)(b - a) >= len)
        return -1;
    memcpy(out, a, (size_t)(b - a));
    out[b - a] = '\0';
    *at = b + strlen(close_t);
    return 0;
}

struct page {
    char *p;
    size_t len;
};

static int page_sink(void *arg, const void *p, size_t n)
{
    struct page *pg = arg;
    pg->p = pc_xrealloc(pg->p, pg->len + n + 1);
    memcpy(pg->p + pg->len, p, n);
    pg->len += n;
    pg->p[pg->len] = '\0';
    return 0;
}

/* One ListObjectsV2 page: every <Contents> is visited (its key without storage.s3_prefix);
 * token receives the next page's continuation token, or "" after the last page. */
static int list_page(const struct pc_config *cfg, const char *prefix, char *token, size_t tlen,
                     pc_storage_visit visit, void *arg)
{
    char full[400], q_prefix[1200], q_token[3200], query[4500];
    const char *sp = cfg->s3_prefix ? cfg->s3_prefix : "";
    snprintf(full, sizeof full, "%s%s", sp, prefix);
    if (query_value(full, q_prefix, sizeof q_prefix) || query_value(token, q_token, sizeof q_token))
        return PC_EINVAL;
    /* Parameters in the order of their names: the canonical request is the query as sent. */
    if (token[0])
        snprintf(query, sizeof query, "continuation-token=%s&list-type=2&prefix=%s", q_token,
                 q_prefix);
    else
        snprintf(query, sizeof query, "list-type=2&prefix=%s", q_prefix);
    struct page pg = {NULL, 0};
    struct call k = {
        .method = "GET", .query = query, .max = 16u << 20, .sink = page_sink, .arg = &pg};
    long status = 0;
    int rc = perform(cfg, &k, prefix, NULL, 0, NULL, &status, NULL);
    if (rc == 0 && (status != 200 || !pg.p))
        rc = PC_EIO;
    const char *at = pg.p;
    while (rc == 0) {
        const char *c = strstr(at, "<Contents>"), *ce = c ? strstr(c, "</Contents>") : NULL;
        if (!c || !ce)
            break;
        char key[512], modified[64];
        int64_t t = 0;
        at = c;
        if (xml_text(&at, ce, "Key", key, sizeof key) == 0 && !strncmp(key, sp, strlen(sp)) &&
            xml_text(&at, ce, "LastModified", modified, sizeof modified) == 0 &&
            pc_time_parse_rfc3339(modified, &t) == 0)
            rc = visit(arg, key + strlen(sp), t);
        at = ce + strlen("</Contents>");
    }
    token[0] = '\0';
    at = pg.p;
    char truncated[8];
    if (rc == 0 && xml_text(&at, NULL, "IsTruncated", truncated, sizeof truncated) == 0 &&
        !strcmp(truncated, "true")) {
        at = pg.p;
        if (xml_text(&at, NULL, "NextContinuationToken", token, tlen) || !token[0])
            rc = PC_EIO; /* more, but no way to ask for it */
    }
    free(pg.p);
    return rc;
}

int pc_s3_list(const struct pc_config *cfg, const char *prefix, pc_storage_visit visit, void *arg)
{
    char token[1024] = "";
    int rc;
    do
        rc = list_page(cfg, prefix, token, sizeof token, visit, arg);
    while (rc == 0 && token[0]);
    return rc;
}
