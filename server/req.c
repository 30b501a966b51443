/* server/req.c — the request record: building it from a parsed head, the accessors handlers
 * use, and the response setters. Building and resetting run on the request's loop thread;
 * accessors and response setters on whichever thread owns the request. The response goes on
 * the wire in server/conn.c. */
#include "server/req_internal.h"

#include "base/alloc.h"
#include "base/err.h"
#include "config/config.h"
#include "server/h1parse.h"

#include <event2/http.h>
#include <openssl/crypto.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

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

void pc__req_init(struct pc_req *r, struct pc_loop *loop, struct pc_conn *conn)
{
    memset(r, 0, sizeof *r);
    r->loop = loop;
    r->conn = conn;
    r->route_idx = -1;
    r->resp_fd = -1;
    r->method = "OTHER";
    TAILQ_INIT(&r->qargs);
}

/* Room for n bytes in the arena (kept across the connection's requests). */
static void arena_need(struct pc_req *r, size_t n)
{
    if (n <= r->arena_cap)
        return;
    size_t cap = r->arena_cap ? r->arena_cap : 512;
    while (cap < n)
        cap *= 2;
    free(r->arena);
    r->arena = pc_xmalloc(cap);
    r->arena_cap = cap;
}

static char *arena_str(char **at, const char *p, size_t n)
{
    char *s = *at;
    memcpy(s, p, n);
    s[n] = '\0';
    *at += n + 1;
    return s;
}

#define MAX_XFF 16 /* X-Forwarded-For lines considered */

static void client_address(struct pc_req *r, const struct pc_addr *peer, const char *peer_text,
                           const struct pc_cidr_list *trusted,
                           const struct pc_cidr_list *metrics_allow)
{
    struct pc_addr client = *peer;
    if (trusted->n && pc_cidr_list_has(trusted, peer)) {
        const char *v[MAX_XFF];
        size_t vl[MAX_XFF], n = 0;
        for (size_t i = 0; i < r->nhdrs && n < MAX_XFF; i++) {
            if (strcasecmp(r->hdrs[i].name, "X-Forwarded-For") == 0) {
                v[n] = r->hdrs[i].value;
                vl[n] = strlen(v[n]);
                n++;
            }
        }
        pc_addr_client(peer, trusted, v, vl, n, &client);
    }
    if (memcmp(&client, peer, sizeof client) == 0)
        memcpy(r->ip, peer_text, strnlen(peer_text, sizeof r->ip - 1) + 1);
    else
        pc_addr_format(&client, r->ip);
    r->loopback = pc_addr_is_loopback(&client);
    r->metrics_ok = pc_cidr_list_has(metrics_allow, &client);
}

int pc__req_begin(struct pc_req *r, const struct pc_h1 *h, const char *buf,
                  const struct pc_addr *peer, const char *peer_text,
                  const struct pc_cidr_list *trusted, const struct pc_cidr_list *metrics_allow,
                  const char *gen_id)
{
    int rc = 0;
    struct pc_h1_span path = {0, 0}, query = {0, 0};
    bool has_query = false;
    size_t nf = h ? h->nfields : 0;
    if (h) {
        r->method = pc_h1_method(h);
        if (!pc_h1_target(h, buf, &path, &query, &has_query))
            rc = PC_EINVAL;
    }
    size_t need = nf * sizeof(struct pc_hdr) + path.len + query.len + 4;
    for (size_t i = 0; i < nf; i++)
        need += h->fields[i].name.len + h->fields[i].value.len + 2;
    arena_need(r, need);
    r->hdrs = (struct pc_hdr *)(void *)r->arena;
    char *at = r->arena + nf * sizeof(struct pc_hdr);
    for (size_t i = 0; i < nf; i++) {
        const struct pc_h1_field *f = &h->fields[i];
        r->hdrs[i].name = arena_str(&at, buf + f->name.off, f->name.len);
        r->hdrs[i].value = arena_str(&at, buf + f->value.off, f->value.len);
    }
    r->nhdrs = nf;
    if (rc == 0 && path.len)
        r->path = arena_str(&at, buf + path.off, path.len);
    else
        r->path = arena_str(&at, rc == 0 && h ? "/" : "-", 1);
    r->query = has_query && rc == 0 ? arena_str(&at, buf + query.off, query.len) : NULL;
    const char *rid = pc_req_header(r, "X-Request-Id");
    const char *id = rid && pc__req_id_valid(rid) ? rid : gen_id; /* both at most 64 bytes */
    memcpy(r->id, id, strnlen(id, sizeof r->id - 1) + 1);
    client_address(r, peer, peer_text, trusted, metrics_allow);
    return rc;
}

#define BODY_KEEP (64 * 1024) /* a body buffer up to this size stays for the next request */

void pc__req_body_reserve(struct pc_req *r, size_t expect)
{
    if (expect + 1 <= r->body_cap)
        return;
    r->body = pc_xrealloc(r->body, expect + 1);
    r->body_cap = expect + 1;
}

void pc__req_body_append(struct pc_req *r, const char *p, size_t n)
{
    if (r->body_len + n + 1 > r->body_cap) {
        size_t cap = r->body_cap ? r->body_cap : 1024;
        while (cap < r->body_len + n + 1)
            cap *= 2;
        r->body = pc_xrealloc(r->body, cap);
        r->body_cap = cap;
    }
    memcpy(r->body + r->body_len, p, n);
    r->body_len += n;
    r->body[r->body_len] = '\0';
}

/* The URL and body of a call may hold secrets (AppSecret, access_token): wipe them. */
static void clear_call(struct pc_req *r)
{
    if (!r->call.url)
        return; /* no call was made */
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

void pc_req_to_worker(struct pc_req *r, pc_handler_fn fn)
{
    r->to_worker = true;
    r->next = fn;
}

void pc_req_park(struct pc_req *r)
{
    r->parked = true;
    atomic_store(&r->park_state, 0u);
}

bool pc__req_park_mark(struct pc_req *r, unsigned bit)
{
    unsigned other = bit == PC__PARK_STEP_DONE ? PC__PARK_COMPLETED : PC__PARK_STEP_DONE;
    return (atomic_fetch_or(&r->park_state, bit) & other) != 0;
}

bool pc__req_awaits_completion(struct pc_req *r)
{
    return r->parked && !(atomic_load(&r->park_state) & PC__PARK_COMPLETED);
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

static void free_resp_body(struct pc_req *r)
{
    if (r->resp_body != r->resp_small && !r->resp_kept)
        free(r->resp_body);
    r->resp_body = NULL;
    r->resp_kept = false;
}

char *pc__req_take_resp_body(struct pc_req *r)
{
    char *p = r->resp_body;
    if (r->resp_kept) /* the kept buffer goes with it (only bodies too large to copy) */
        p = pc_buf_take(&r->resp_buf, NULL);
    else if (p == r->resp_small)
        p = pc_xmemdup(p, r->resp_len);
    r->resp_body = NULL;
    r->resp_kept = false;
    return p;
}

void pc__req_reset(struct pc_req *r)
{
    clear_call(r);
    pc_out_resp_clear(&r->upstream);
    if (r->data && r->data_free)
        r->data_free(r->data);
    if (r->qparsed)
        evhttp_clear_headers(&r->qargs);
    for (size_t i = 0; i < r->nparams; i++) {
        free(r->param_names[i]);
        free(r->param_values[i]);
    }
    cJSON_Delete(r->json);
    free_resp_body(r);
    if (r->resp_fd >= 0)
        close(r->resp_fd);
    for (size_t i = 0; i < r->nresp_hdrs; i++) {
        free(r->resp_hdrs[i].name);
        free(r->resp_hdrs[i].value);
    }
    if (r->body_cap > BODY_KEEP) {
        pc_free_null(r->body);
        r->body_cap = 0;
    }
    if (r->resp_buf.cap > BODY_KEEP)
        pc_buf_free(&r->resp_buf);
    struct pc_loop *loop = r->loop;
    struct pc_conn *conn = r->conn;
    char *arena = r->arena, *body = r->body;
    size_t arena_cap = r->arena_cap, body_cap = r->body_cap;
    struct pc_buf resp_buf = r->resp_buf;
    /* Everything but the kept buffers starts from zero; the small-body area is not
     * cleared (it is rewritten before it is read). */
    memset(r, 0, offsetof(struct pc_req, resp_small));
    r->loop = loop;
    r->conn = conn;
    r->arena = arena;
    r->arena_cap = arena_cap;
    r->body = body;
    r->body_cap = body_cap;
    if (body)
        body[0] = '\0';
    r->resp_buf = resp_buf;
    r->route_idx = -1;
    r->resp_fd = -1;
    r->method = "OTHER";
    TAILQ_INIT(&r->qargs);
}

void pc__req_reset_response(struct pc_req *r)
{
    free_resp_body(r);
    if (r->resp_fd >= 0) {
        close(r->resp_fd);
        r->resp_fd = -1;
    }
    for (size_t i = 0; i < r->nresp_hdrs; i++) {
        free(r->resp_hdrs[i].name);
        free(r->resp_hdrs[i].value);
    }
    r->nresp_hdrs = 0;
    r->status = 0;
    r->resp_len = 0;
    r->resp_ctype = NULL;
}

void pc__req_trim(struct pc_req *r)
{
    pc_free_null(r->arena);
    r->arena_cap = 0;
    r->hdrs = NULL;
    r->nhdrs = 0;
    r->path = r->query = NULL;
    pc_free_null(r->body);
    r->body_cap = 0;
    r->body_len = 0;
    pc_buf_free(&r->resp_buf);
}

void pc__req_destroy(struct pc_req *r)
{
    pc__req_reset(r);
    pc__req_trim(r);
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
    free_resp_body(r);
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

struct pc_buf *pc_resp_buf(struct pc_req *r, size_t max)
{
    if (r->resp_kept) /* a body set from it before is dropped */
        set_body(r, r->status, r->resp_ctype, NULL, 0);
    pc_buf_reuse(&r->resp_buf, max);
    return &r->resp_buf;
}

void pc_resp_json_buf(struct pc_req *r, int status, struct pc_buf *b)
{
    static const char json[] = "application/json; charset=utf-8";
    if (b != &r->resp_buf) {
        size_t len = 0;
        char *body = pc_buf_take(b, &len);
        set_body(r, status, json, body, len);
        return;
    }
    set_body(r, status, json, NULL, 0);
    r->resp_body = b->p ? b->p : r->resp_small;
    r->resp_kept = b->p != NULL;
    r->resp_len = b->len;
}

void pc_resp_raw(struct pc_req *r, int status, const char *content_type, const void *p, size_t n)
{
    if (n <= sizeof r->resp_small) { /* no allocation for small answers (/healthz) */
        set_body(r, status, content_type, NULL, 0);
        memcpy(r->resp_small, p, n);
        r->resp_body = r->resp_small;
        r->resp_len = n;
        return;
    }
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

bool pc_req_metrics_allowed(const struct pc_req *r)
{
    return r->metrics_ok;
}
