/* server/req.c — request copies and response building. Creation and sending run on the
 * request's loop thread; accessors and response setters on whichever thread owns it. */
#include "server/req_internal.h"

#include "base/alloc.h"
#include "base/err.h"
#include "config/config.h"

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <strings.h>
#include <sys/socket.h>

bool pc__req_id_valid(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (n >= 64)
            return false;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '-'))
            return false;
    }
    return n > 0;
}

static const char *method_name(enum evhttp_cmd_type t)
{
    switch (t) {
    case EVHTTP_REQ_GET:
        return "GET";
    case EVHTTP_REQ_POST:
        return "POST";
    case EVHTTP_REQ_HEAD:
        return "HEAD";
    case EVHTTP_REQ_PUT:
        return "PUT";
    case EVHTTP_REQ_DELETE:
        return "DELETE";
    case EVHTTP_REQ_OPTIONS:
        return "OPTIONS";
    case EVHTTP_REQ_TRACE:
        return "TRACE";
    case EVHTTP_REQ_CONNECT:
        return "CONNECT";
    case EVHTTP_REQ_PATCH:
        return "PATCH";
    }
    return "OTHER";
}

static void peer_address(struct pc_req *r, struct evhttp_connection *evcon)
{
    r->ip[0] = '\0';
    if (!evcon)
        return;
    const struct sockaddr *sa = evhttp_connection_get_addr(evcon);
    if (!sa)
        return;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, r->ip, sizeof r->ip);
        r->loopback = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, r->ip, sizeof r->ip);
        r->loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) ||
                      (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && in6->sin6_addr.s6_addr[12] == 127);
    }
}

/* The last entry of X-Forwarded-For is the one our proxy appended. */
static void forwarded_address(struct pc_req *r)
{
    const char *xff = pc_req_header(r, "X-Forwarded-For");
    if (!xff)
        return;
    const char *last = strrchr(xff, ',');
    last = last ? last + 1 : xff;
    while (*last == ' ')
        last++;
    unsigned char tmp[16];
    char cand[46];
    snprintf(cand, sizeof cand, "%s", last);
    cand[strcspn(cand, " ")] = '\0';
    if (inet_pton(AF_INET, cand, tmp) == 1 || inet_pton(AF_INET6, cand, tmp) == 1) {
        snprintf(r->ip, sizeof r->ip, "%s", cand);
        r->loopback = strncmp(cand, "127.", 4) == 0 || strcmp(cand, "::1") == 0;
    }
}

struct pc_req *pc__req_new(struct evhttp_request *ev, bool trust_proxy, const char *gen_id)
{
    struct pc_req *r = pc_new(struct pc_req);
    r->ev = ev;
    r->route_idx = -1;
    r->resp_fd = -1;
    snprintf(r->method, sizeof r->method, "%s", method_name(evhttp_request_get_command(ev)));
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(ev);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
    r->path = pc_xstrdup(path && path[0] ? path : "/");
    r->query = query ? pc_xstrdup(query) : NULL;
    TAILQ_INIT(&r->qargs);

    struct evkeyvalq *in = evhttp_request_get_input_headers(ev);
    struct evkeyval *kv;
    size_t n = 0;
    TAILQ_FOREACH(kv, in, next)
    n++;
    r->hdrs = pc_xcalloc(n ? n : 1, sizeof *r->hdrs);
    TAILQ_FOREACH(kv, in, next)
    {
        r->hdrs[r->nhdrs].name = pc_xstrdup(kv->key);
        r->hdrs[r->nhdrs].value = pc_xstrdup(kv->value);
        r->nhdrs++;
    }
    const char *rid = pc_req_header(r, "X-Request-Id");
    snprintf(r->id, sizeof r->id, "%s", rid && pc__req_id_valid(rid) ? rid : gen_id);
    peer_address(r, evhttp_request_get_connection(ev));
    if (trust_proxy)
        forwarded_address(r);
    return r;
}

void pc__req_take_body(struct pc_req *r)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(r->ev);
    size_t n = evbuffer_get_length(in);
    r->body = pc_xmalloc(n + 1);
    if (n)
        evbuffer_remove(in, r->body, n);
    r->body[n] = '\0';
    r->body_len = n;
}

/* Reason phrases libevent 2.1 does not know (it would say "Client Error"). */
static const char *reason_phrase(int status)
{
    switch (status) {
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 413:
        return "Payload Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Entity";
    case 429:
        return "Too Many Requests";
    default:
        return NULL; /* libevent's own table */
    }
}

static void free_body_cb(const void *data, size_t len, void *arg)
{
    (void)len;
    (void)arg;
    free((void *)data);
}

void pc__req_send(struct pc_req *r)
{
    if (!r->status)
        pc_resp_error(r, 500, "INTERNAL", "服务器内部错误", NULL);
    struct evkeyvalq *oh = evhttp_request_get_output_headers(r->ev);
    evhttp_add_header(oh, "Content-Type", r->resp_ctype ? r->resp_ctype : "application/json");
    evhttp_add_header(oh, "X-Request-Id", r->id);
    evhttp_add_header(oh, "X-Content-Type-Options", "nosniff");
    bool cache_set = false; /* static files choose their own caching (server/static.c) */
    for (size_t i = 0; i < r->nresp_hdrs; i++)
        cache_set = cache_set || !strcasecmp(r->resp_hdrs[i].name, "Cache-Control");
    if (!cache_set)
        evhttp_add_header(oh, "Cache-Control", "no-store");
    for (size_t i = 0; i < r->nresp_hdrs; i++)
        evhttp_add_header(oh, r->resp_hdrs[i].name, r->resp_hdrs[i].value);
    struct evbuffer *b = evbuffer_new();
    if (r->resp_fd >= 0) { /* libevent reads the file as the connection drains; it closes fd */
        /* A large file to a slow client outlasts server.timeout_s, which libevent applies to
         * the whole write: give it an hour (the download's own pace decides). */
        struct evhttp_connection *con = evhttp_request_get_connection(r->ev);
        if (con)
            evhttp_connection_set_timeout(con, 3600);
        if (evbuffer_add_file(b, r->resp_fd, 0, (ev_off_t)r->resp_len) != 0)
            close(r->resp_fd);
        r->resp_fd = -1;
    } else if (r->resp_len) {
        evbuffer_add_reference(b, r->resp_body, r->resp_len, free_body_cb, NULL);
        r->resp_body = NULL;
    }
    evhttp_send_reply(r->ev, r->status, reason_phrase(r->status), b);
    evbuffer_free(b);
    r->ev = NULL;
}

/* The URL and body of a call may hold secrets (AppSecret, access_token): wipe them. */
static void clear_call(struct pc_req *r)
{
    for (size_t i = 0; i < sizeof r->call_strings / sizeof r->call_strings[0]; i++) {
        if (r->call_strings[i])
            OPENSSL_cleanse(r->call_strings[i], strlen(r->call_strings[i]));
        pc_free_null(r->call_strings[i]);
    }
    memset(&r->call, 0, sizeof r->call);
}

void pc_req_call(struct pc_req *r, const struct pc_out_req *call, pc_handler_fn next)
{
    clear_call(r);
    r->call = *call;
    size_t k = 0;
    r->call.url = r->call_strings[k++] = pc_xstrdup(call->url);
    r->call.method = r->call_strings[k++] = pc_xstrdup(call->method ? call->method : "GET");
    r->call.name = r->call_strings[k++] = pc_xstrdup(call->name ? call->name : "upstream");
    if (call->body) {
        char *b = pc_xmalloc(call->body_len + 1);
        memcpy(b, call->body, call->body_len);
        b[call->body_len] = '\0';
        r->call.body = r->call_strings[k++] = b;
    }
    for (size_t i = 0; i < PC_OUT_MAX_HEADERS && call->headers[i]; i++)
        r->call.headers[i] = r->call_strings[k++] = pc_xstrdup(call->headers[i]);
    r->call_pending = true;
    r->next = next;
}

const struct pc_out_resp *pc_req_upstream(const struct pc_req *r)
{
    return &r->upstream;
}

void pc_req_set_data(struct pc_req *r, void *data, void (*free_fn)(void *))
{
    if (r->data && r->data_free)
        r->data_free(r->data);
    r->data = data;
    r->data_free = free_fn;
}

void *pc_req_data(const struct pc_req *r)
{
    return r->data;
}

void pc__req_free(struct pc_req *r)
{
    if (!r)
        return;
    clear_call(r);
    pc_out_resp_clear(&r->upstream);
    if (r->data && r->data_free)
        r->data_free(r->data);
    free(r->path);
    free(r->query);
    if (r->qparsed)
        evhttp_clear_headers(&r->qargs);
    for (size_t i = 0; i < r->nparams; i++) {
        free(r->param_names[i]);
        free(r->param_values[i]);
    }
    for (size_t i = 0; i < r->nhdrs; i++) {
        free(r->hdrs[i].name);
        free(r->hdrs[i].value);
    }
    free(r->hdrs);
    free(r->body);
    cJSON_Delete(r->json);
    free(r->resp_body);
    if (r->resp_fd >= 0)
        close(r->resp_fd);
    for (size_t i = 0; i < r->nresp_hdrs; i++) {
        free(r->resp_hdrs[i].name);
        free(r->resp_hdrs[i].value);
    }
    free(r);
}

const char *pc_req_method(const struct pc_req *r)
{
    return r->method;
}

const char *pc_req_path(const struct pc_req *r)
{
    return r->path;
}

const char *pc_req_param(const struct pc_req *r, const char *name)
{
    for (size_t i = 0; i < r->nparams; i++)
        if (strcmp(r->param_names[i], name) == 0)
            return r->param_values[i];
    return NULL;
}

const char *pc_req_query(struct pc_req *r, const char *name)
{
    if (!r->query)
        return NULL;
    if (!r->qparsed) {
        if (evhttp_parse_query_str(r->query, &r->qargs) != 0)
            evhttp_clear_headers(&r->qargs);
        r->qparsed = true;
    }
    return evhttp_find_header(&r->qargs, name);
}

const char *pc_req_header(const struct pc_req *r, const char *name)
{
    for (size_t i = 0; i < r->nhdrs; i++)
        if (strcasecmp(r->hdrs[i].name, name) == 0)
            return r->hdrs[i].value;
    return NULL;
}

const char *pc_req_body(const struct pc_req *r, size_t *len)
{
    if (len)
        *len = r->body_len;
    return r->body ? r->body : "";
}

const char *pc_req_id(const struct pc_req *r)
{
    return r->id;
}

const char *pc_req_client_ip(const struct pc_req *r)
{
    return r->ip;
}

bool pc_req_client_is_loopback(const struct pc_req *r)
{
    return r->loopback;
}

struct pc_user_auth *pc_req_user(struct pc_req *r)
{
    return r->has_user ? &r->user : NULL;
}

struct pc_staff_auth *pc_req_staff(struct pc_req *r)
{
    return r->has_staff ? &r->staff : NULL;
}

void pc_req_set_staff(struct pc_req *r, const struct pc_staff_auth *s)
{
    r->staff = *s;
    r->has_staff = true;
}

void pc_req_set_user(struct pc_req *r, const struct pc_user_auth *u)
{
    r->user = *u;
    r->has_user = true;
}

cJSON *pc_req_json(struct pc_req *r)
{
    if (r->json)
        return r->json;
    const char *ct = pc_req_header(r, "Content-Type");
    if (ct) {
        size_t n = strcspn(ct, ";");
        while (n && ct[n - 1] == ' ')
            n--;
        /* JSON, plus the types tools send by default (curl -d, fetch with a string). */
        if (!(n == 16 && strncasecmp(ct, "application/json", 16) == 0) &&
            !(n == 10 && strncasecmp(ct, "text/plain", 10) == 0) &&
            !(n == 33 && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0)) {
            pc_resp_error(r, 415, "UNSUPPORTED_MEDIA_TYPE", "请求内容类型不受支持，请使用 JSON",
                          NULL);
            return NULL;
        }
    }
    const char *end = NULL;
    cJSON *j = r->body_len ? cJSON_ParseWithLengthOpts(r->body, r->body_len, &end, 0) : NULL;
    if (j && end) { /* only whitespace may follow the value */
        for (const char *p = end; p < r->body + r->body_len; p++) {
            if (*p != ' ' && *p != '\n' && *p != '\r' && *p != '\t') {
                cJSON_Delete(j);
                j = NULL;
                break;
            }
        }
    }
    if (!j || !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        pc_resp_error(r, 400, "MALFORMED_JSON", "请求格式错误：需要一个 JSON 对象", NULL);
        return NULL;
    }
    r->json = j;
    return j;
}

static void set_body(struct pc_req *r, int status, const char *ctype, char *body, size_t len)
{
    free(r->resp_body);
    if (r->resp_fd >= 0) {
        close(r->resp_fd);
        r->resp_fd = -1;
    }
    r->status = status;
    r->resp_ctype = ctype;
    r->resp_body = body;
    r->resp_len = len;
}

void pc_resp_json(struct pc_req *r, int status, cJSON *body)
{
    char *s = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    if (!s)
        abort(); /* cJSON only fails on OOM */
    set_body(r, status, "application/json; charset=utf-8", s, strlen(s));
}

void pc_resp_raw(struct pc_req *r, int status, const char *content_type, const void *p, size_t n)
{
    set_body(r, status, content_type, pc_xmemdup(p, n), n);
}

void pc_resp_file(struct pc_req *r, int status, const char *content_type, int fd, size_t len)
{
    set_body(r, status, content_type, NULL, 0);
    r->resp_fd = fd;
    r->resp_len = len;
}

void pc_resp_error(struct pc_req *r, int status, const char *code, const char *message,
                   cJSON *details)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *e = cJSON_AddObjectToObject(root, "error");
    cJSON_AddStringToObject(e, "code", code);
    cJSON_AddStringToObject(e, "message", message);
    if (details)
        cJSON_AddItemToObject(e, "details", details);
    pc_resp_json(r, status, root);
}

void pc_resp_header(struct pc_req *r, const char *name, const char *value)
{
    for (size_t i = 0; i < r->nresp_hdrs; i++) {
        if (strcasecmp(r->resp_hdrs[i].name, name) == 0) {
            free(r->resp_hdrs[i].value);
            r->resp_hdrs[i].value = pc_xstrdup(value);
            return;
        }
    }
    if (r->nresp_hdrs == PC_MAX_RHEADER)
        abort(); /* a programming error: raise PC_MAX_RHEADER */
    r->resp_hdrs[r->nresp_hdrs].name = pc_xstrdup(name);
    r->resp_hdrs[r->nresp_hdrs].value = pc_xstrdup(value);
    r->nresp_hdrs++;
}

void pc_resp_from_err(struct pc_req *r, const struct pc_ctx *ctx, int err)
{
    char ra[16];
    switch (err) {
    case PC_EDBDOWN:
        snprintf(ra, sizeof ra, "%d", ctx->cfg->db_retry_after_s);
        pc_resp_header(r, "Retry-After", ra);
        pc_resp_error(r, 503, "SERVICE_UNAVAILABLE", "服务暂时不可用，请稍后重试", NULL);
        break;
    case PC_EBUSY:
    case PC_ERETRY:
        pc_resp_header(r, "Retry-After", "1");
        pc_resp_error(r, 503, "OVERLOADED", "服务器繁忙，请稍后重试", NULL);
        break;
    default:
        pc_resp_error(r, 500, "INTERNAL", "服务器内部错误，请稍后重试", NULL);
        break;
    }
}

bool pc_resp_is_set(const struct pc_req *r)
{
    return r->status != 0;
}

int pc_resp_status(const struct pc_req *r)
{
    return r->status;
}

void pc_resp_invalid(struct pc_req *r, const char *field, const char *message)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "field", field);
    pc_resp_error(r, 400, "INVALID_INPUT", message, d);
}
