/* tools/sandbox/state.c — the sandbox's memory: users, codes, tokens, faults, records.
 * Loop thread only. */
#include "tools/sandbox/state.h"

#include "base/alloc.h"
#include "base/crypto.h"
#include "base/timeutil.h"
#include "tools/sandbox/pay.h"
#include "tools/sandbox/validate.h"

#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------- a small string-keyed hash map (keys belong to the values) ---------- */

struct sb_ent {
    struct sb_ent *next;
    const char *key;
    void *val;
};

struct sb_map {
    struct sb_ent **b;
    size_t nb, n;
};

static size_t sb_hash(const char *s)
{
    size_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static void sb_map_init(struct sb_map *m)
{
    m->nb = 256;
    m->n = 0;
    m->b = pc_xcalloc(m->nb, sizeof *m->b);
}

/* Frees the entries (not the values). */
static void sb_map_fini(struct sb_map *m)
{
    for (size_t i = 0; i < m->nb; i++) {
        for (struct sb_ent *e = m->b[i], *next; e; e = next) {
            next = e->next;
            free(e);
        }
    }
    pc_free_null(m->b);
    m->nb = m->n = 0;
}

static void *sb_map_get(const struct sb_map *m, const char *key)
{
    for (struct sb_ent *e = m->b[sb_hash(key) & (m->nb - 1)]; e; e = e->next)
        if (!strcmp(e->key, key))
            return e->val;
    return NULL;
}

static void sb_map_put(struct sb_map *m, const char *key, void *val)
{
    if (m->n >= m->nb) {
        size_t nb = m->nb * 2;
        struct sb_ent **b = pc_xcalloc(nb, sizeof *b);
        for (size_t i = 0; i < m->nb; i++) {
            for (struct sb_ent *e = m->b[i], *next; e; e = next) {
                next = e->next;
                size_t k = sb_hash(e->key) & (nb - 1);
                e->next = b[k];
                b[k] = e;
            }
        }
        free(m->b);
        m->b = b;
        m->nb = nb;
    }
    struct sb_ent *e = pc_new(struct sb_ent);
    size_t k = sb_hash(key) & (m->nb - 1);
    e->key = key;
    e->val = val;
    e->next = m->b[k];
    m->b[k] = e;
    m->n++;
}

static void sb_map_del(struct sb_map *m, const char *key)
{
    for (struct sb_ent **pp = &m->b[sb_hash(key) & (m->nb - 1)]; *pp; pp = &(*pp)->next) {
        if (!strcmp((*pp)->key, key)) {
            struct sb_ent *e = *pp;
            *pp = e->next;
            free(e);
            m->n--;
            return;
        }
    }
}

/* ---------- records: printed JSON objects in arrival order ---------- */

struct sb_rec {
    struct sb_rec *next;
    const char *tag; /* endpoint name or message kind (static) */
    char *json;
    size_t len;
};

struct sb_recs {
    struct sb_rec *head, *tail;
    size_t n, bytes;
};

static void sb_recs_clear(struct sb_recs *r)
{
    for (struct sb_rec *e = r->head, *next; e; e = next) {
        next = e->next;
        free(e->json);
        free(e);
    }
    memset(r, 0, sizeof *r);
}

/* Appends a record (takes json) and drops the oldest past the limits. */
static void sb_recs_add(struct sb_recs *r, const char *tag, char *json)
{
    struct sb_rec *e = pc_new(struct sb_rec);
    e->tag = tag;
    e->json = json;
    e->len = strlen(json);
    if (r->tail)
        r->tail->next = e;
    else
        r->head = e;
    r->tail = e;
    r->n++;
    r->bytes += e->len;
    while (r->head && r->head != r->tail &&
           (r->n > SB_MAX_RECORDS || r->bytes > SB_MAX_RECORD_BYTES)) {
        struct sb_rec *old = r->head;
        r->head = old->next;
        r->n--;
        r->bytes -= old->len;
        free(old->json);
        free(old);
    }
}

static void sb_recs_render(const struct sb_recs *r, const char *name, const char *tag,
                           struct pc_buf *out)
{
    pc_buf_addf(out, "{\"%s\":[", name);
    int first = 1;
    for (const struct sb_rec *e = r->head; e; e = e->next) {
        if (tag && strcmp(tag, e->tag))
            continue;
        if (!first)
            pc_buf_adds(out, ",");
        pc_buf_add(out, e->json, e->len);
        first = 0;
    }
    pc_buf_adds(out, "]}");
}

/* ---------- faults ---------- */

static const char *const sb_endpoints[] = {"jscode2session", "getuserphonenumber",
                                           "token",          "stable_token",
                                           "subscribe_send", "jsapi",
                                           "query",          "close",
                                           "refund",         "tradebill",
                                           "billdownload",   "sms",
                                           "notify",         "refund_notify",
                                           "native",         "certificates"};
#define SB_NENDPOINTS (sizeof sb_endpoints / sizeof sb_endpoints[0])

struct sb_fault {
    long errcode, errcode_left;
    long delay_ms, delay_left;
    long duplicate, duplicate_left;
    long drop_left;
};

/* ---------- the state ---------- */

struct sb_state {
    const struct sb_opts *opts;
    struct sb_map users; /* openid → struct sb_user */
    struct sb_map codes; /* code → struct sb_code */
    struct sb_code *code_head, *code_tail;
    struct sb_map tokens; /* value → struct sb_token */
    struct sb_token *tok_head, *tok_tail;
    struct sb_token *current[2];
    int64_t last_force_ms;
    int64_t force_day;
    int force_count;
    struct sb_fault faults[SB_NENDPOINTS];
    struct sb_recs requests, messages;
    struct sb_pay *pay; /* borrowed */
};

static int sb_endpoint_index(const char *name)
{
    for (size_t i = 0; i < SB_NENDPOINTS; i++)
        if (!strcmp(name, sb_endpoints[i]))
            return (int)i;
    return -1;
}

int sb_endpoint_known(const char *name)
{
    return name && sb_endpoint_index(name) >= 0;
}

struct sb_state *sb_state_new(const struct sb_opts *opts)
{
    struct sb_state *st = pc_new(struct sb_state);
    st->opts = opts;
    sb_map_init(&st->users);
    sb_map_init(&st->codes);
    sb_map_init(&st->tokens);
    return st;
}

static void sb_user_free(struct sb_user *u)
{
    for (struct sb_consent *c = u->consents, *next; c; c = next) {
        next = c->next;
        free(c->template_id);
        free(c);
    }
    free(u);
}

/* Frees every collection, leaving the maps uninitialised. */
static void sb_state_clear(struct sb_state *st)
{
    for (size_t i = 0; i < st->users.nb; i++)
        for (struct sb_ent *e = st->users.b[i]; e; e = e->next)
            sb_user_free(e->val);
    sb_map_fini(&st->users);
    for (struct sb_code *c = st->code_head, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    st->code_head = st->code_tail = NULL;
    sb_map_fini(&st->codes);
    for (struct sb_token *t = st->tok_head, *next; t; t = next) {
        next = t->next;
        free(t);
    }
    st->tok_head = st->tok_tail = NULL;
    st->current[0] = st->current[1] = NULL;
    sb_map_fini(&st->tokens);
    sb_recs_clear(&st->requests);
    sb_recs_clear(&st->messages);
    memset(st->faults, 0, sizeof st->faults);
    st->last_force_ms = 0;
    st->force_day = 0;
    st->force_count = 0;
}

void sb_state_free(struct sb_state *st)
{
    if (!st)
        return;
    sb_state_clear(st);
    free(st);
}

void sb_state_set_pay(struct sb_state *st, struct sb_pay *pay)
{
    st->pay = pay;
}

struct sb_pay *sb_state_pay(struct sb_state *st)
{
    return st->pay;
}

void sb_state_reset(struct sb_state *st)
{
    sb_state_clear(st);
    sb_pay_reset(st->pay);
    sb_map_init(&st->users);
    sb_map_init(&st->codes);
    sb_map_init(&st->tokens);
}

/* ---------- users and consents ---------- */

struct sb_user *sb_user_find(struct sb_state *st, const char *openid)
{
    return sb_map_get(&st->users, openid);
}

struct sb_user *sb_user_get(struct sb_state *st, const char *openid)
{
    struct sb_user *u = sb_map_get(&st->users, openid);
    if (u)
        return u;
    if (st->users.n >= SB_MAX_USERS || strlen(openid) > SB_MAX_OPENID)
        return NULL;
    u = pc_new(struct sb_user);
    snprintf(u->openid, sizeof u->openid, "%s", openid);
    sb_map_put(&st->users, u->openid, u);
    return u;
}

long sb_consent_add(struct sb_user *u, const char *template_id, long n)
{
    for (struct sb_consent *c = u->consents; c; c = c->next) {
        if (!strcmp(c->template_id, template_id)) {
            c->remaining = c->remaining > 1000000 - n ? 1000000 : c->remaining + n;
            return c->remaining;
        }
    }
    if (u->nconsents >= SB_MAX_CONSENTS)
        return -1;
    struct sb_consent *c = pc_new(struct sb_consent);
    c->template_id = pc_xstrdup(template_id);
    c->remaining = n;
    c->next = u->consents;
    u->consents = c;
    u->nconsents++;
    return n;
}

int sb_consent_take(struct sb_user *u, const char *template_id)
{
    for (struct sb_consent *c = u->consents; c; c = c->next) {
        if (!strcmp(c->template_id, template_id)) {
            if (c->remaining <= 0)
                return -1;
            c->remaining--;
            return 0;
        }
    }
    return -1;
}

/* ---------- codes ---------- */

/* Drops codes long past their expiry (they would only answer 40029) and the oldest past
 * SB_MAX_CODES. */
static void sb_codes_sweep(struct sb_state *st, int64_t now)
{
    int64_t keep_ms = st->opts->code_ttl_s * 1000 + 3600 * 1000;
    while (st->code_head &&
           (st->codes.n >= SB_MAX_CODES || now - st->code_head->created_ms > keep_ms)) {
        struct sb_code *c = st->code_head;
        st->code_head = c->next;
        if (!st->code_head)
            st->code_tail = NULL;
        sb_map_del(&st->codes, c->code);
        free(c);
    }
}

const struct sb_code *sb_code_issue(struct sb_state *st, const struct sb_code *proto)
{
    int64_t now = pc_time_now_ms();
    sb_codes_sweep(st, now);
    struct sb_code *c = pc_new(struct sb_code);
    *c = *proto;
    c->next = NULL;
    c->used = 0;
    c->created_ms = now;
    unsigned char raw[32];
    do {
        pc_rand_bytes(raw, sizeof raw);
        if (c->kind == SB_CODE_LOGIN)
            pc_b64url(raw, 24, c->code); /* 32 characters, like wx.login codes */
        else
            pc_hex(raw, 32, c->code); /* 64 hex digits, like getPhoneNumber codes */
    } while (sb_map_get(&st->codes, c->code));
    sb_map_put(&st->codes, c->code, c);
    if (st->code_tail)
        st->code_tail->next = c;
    else
        st->code_head = c;
    st->code_tail = c;
    return c;
}

enum sb_redeem sb_code_redeem(struct sb_state *st, enum sb_code_kind kind, const char *code,
                              const char *openid, const struct sb_code **out)
{
    struct sb_code *c = sb_map_get(&st->codes, code);
    if (!c || c->kind != kind || (openid && strcmp(openid, c->openid)))
        return SB_REDEEM_UNKNOWN;
    if (c->used)
        return SB_REDEEM_USED;
    if (pc_time_now_ms() - c->created_ms > st->opts->code_ttl_s * 1000)
        return SB_REDEEM_EXPIRED;
    c->used = 1;
    *out = c;
    return SB_REDEEM_OK;
}

/* ---------- access tokens ---------- */

static long sb_token_state(const struct sb_token *t, int64_t now)
{
    if (now >= t->invalid_ms && t->invalid_ms < t->expires_ms)
        return 40001;
    if (now >= t->expires_ms)
        return 42001;
    return 0;
}

long sb_token_check(struct sb_state *st, const char *value)
{
    const struct sb_token *t = value ? sb_map_get(&st->tokens, value) : NULL;
    return t ? sb_token_state(t, pc_time_now_ms()) : 40001;
}

static struct sb_token *sb_token_new(struct sb_state *st, enum sb_token_set set, int64_t now)
{
    while (st->tok_head && st->tokens.n >= SB_MAX_TOKENS) {
        struct sb_token *old = st->tok_head;
        st->tok_head = old->next;
        if (!st->tok_head)
            st->tok_tail = NULL;
        if (st->current[old->set] == old)
            st->current[old->set] = NULL;
        sb_map_del(&st->tokens, old->value);
        free(old);
    }
    struct sb_token *t = pc_new(struct sb_token);
    t->set = set;
    t->issued_ms = now;
    t->expires_ms = now + st->opts->token_ttl_s * 1000;
    t->invalid_ms = INT64_MAX;
    unsigned char raw[72];
    do {
        pc_rand_bytes(raw, sizeof raw);
        pc_b64url(raw, sizeof raw, t->value); /* 96 characters of [A-Za-z0-9_-] */
    } while (sb_map_get(&st->tokens, t->value));
    sb_map_put(&st->tokens, t->value, t);
    if (st->tok_tail)
        st->tok_tail->next = t;
    else
        st->tok_head = t;
    st->tok_tail = t;
    st->current[set] = t;
    return t;
}

const struct sb_token *sb_token_classic(struct sb_state *st)
{
    int64_t now = pc_time_now_ms();
    struct sb_token *old = st->current[SB_TOK_CLASSIC];
    if (old && old->invalid_ms > now + SB_TOKEN_OVERLAP * 1000)
        old->invalid_ms = now + SB_TOKEN_OVERLAP * 1000;
    return sb_token_new(st, SB_TOK_CLASSIC, now);
}

const struct sb_token *sb_token_stable(struct sb_state *st, int force, const char **errmsg)
{
    int64_t now = pc_time_now_ms();
    struct sb_token *cur = st->current[SB_TOK_STABLE];
    if (!force) {
        if (cur && sb_token_state(cur, now) == 0 && cur->expires_ms - now > SB_TOKEN_OVERLAP * 1000)
            return cur;
        return sb_token_new(st, SB_TOK_STABLE, now); /* the old one runs out on its own */
    }
    int64_t day = (now / 1000 + PC_TZ_SHANGHAI_MIN * 60) / 86400;
    if (day != st->force_day) {
        st->force_day = day;
        st->force_count = 0;
    }
    if (st->last_force_ms && now - st->last_force_ms < SB_FORCE_GAP_MS) {
        *errmsg = "reach max api daily quota limit: force_refresh at most once per 30 s";
        return NULL;
    }
    if (st->force_count >= SB_FORCE_PER_DAY) {
        *errmsg = "reach max api daily quota limit";
        return NULL;
    }
    st->last_force_ms = now;
    st->force_count++;
    if (cur && cur->invalid_ms > now)
        cur->invalid_ms = now;
    return sb_token_new(st, SB_TOK_STABLE, now);
}

long sb_token_expire(struct sb_state *st, const char *value)
{
    int64_t now = pc_time_now_ms();
    if (value) {
        struct sb_token *t = sb_map_get(&st->tokens, value);
        if (!t)
            return -1;
        if (t->expires_ms > now)
            t->expires_ms = now;
        return 1;
    }
    long n = 0;
    for (struct sb_token *t = st->tok_head; t; t = t->next) {
        if (t->expires_ms > now)
            t->expires_ms = now;
        n++;
    }
    return n;
}

/* ---------- faults ---------- */

void sb_fault_set(struct sb_state *st, const char *endpoint, int has_errcode, long errcode,
                  long delay_ms, long count, long duplicate, long drop)
{
    int i = sb_endpoint_index(endpoint);
    if (i < 0)
        return;
    struct sb_fault *f = &st->faults[i];
    if (has_errcode) {
        f->errcode = errcode;
        f->errcode_left = count;
    }
    if (delay_ms >= 0) {
        f->delay_ms = delay_ms;
        f->delay_left = count;
    }
    if (duplicate >= 0) {
        f->duplicate = duplicate;
        f->duplicate_left = duplicate > 0 ? count : 0;
    }
    if (drop >= 0)
        f->drop_left = drop > 0 ? count : 0;
}

void sb_fault_take_notify(struct sb_state *st, const char *endpoint, long *delay_ms,
                          long *duplicate, int *drop)
{
    *delay_ms = 0;
    *duplicate = 0;
    *drop = 0;
    int i = sb_endpoint_index(endpoint);
    if (i < 0)
        return;
    struct sb_fault *f = &st->faults[i];
    if (f->drop_left > 0) {
        f->drop_left--;
        *drop = 1;
        return; /* a dropped notification uses no other fault */
    }
    if (f->delay_left > 0) {
        f->delay_left--;
        *delay_ms = f->delay_ms;
    }
    if (f->duplicate_left > 0) {
        f->duplicate_left--;
        *duplicate = f->duplicate;
    }
}

void sb_fault_take(struct sb_state *st, const char *endpoint, long *errcode, long *delay_ms)
{
    *errcode = 0;
    *delay_ms = 0;
    int i = sb_endpoint_index(endpoint);
    if (i < 0)
        return;
    struct sb_fault *f = &st->faults[i];
    if (f->errcode_left > 0) {
        f->errcode_left--;
        *errcode = f->errcode;
    }
    if (f->delay_left > 0) {
        f->delay_left--;
        *delay_ms = f->delay_ms;
    }
}

cJSON *sb_fault_json(struct sb_state *st, const char *endpoint)
{
    cJSON *j = cJSON_CreateObject();
    int i = sb_endpoint_index(endpoint);
    if (i < 0)
        return j;
    const struct sb_fault *f = &st->faults[i];
    cJSON_AddStringToObject(j, "endpoint", sb_endpoints[i]);
    if (f->errcode_left > 0) {
        cJSON_AddNumberToObject(j, "errcode", (double)f->errcode);
        cJSON_AddNumberToObject(j, "errcode_count", (double)f->errcode_left);
    }
    if (f->delay_left > 0) {
        cJSON_AddNumberToObject(j, "delay_ms", (double)f->delay_ms);
        cJSON_AddNumberToObject(j, "delay_count", (double)f->delay_left);
    }
    if (f->duplicate_left > 0) {
        cJSON_AddNumberToObject(j, "duplicate", (double)f->duplicate);
        cJSON_AddNumberToObject(j, "duplicate_count", (double)f->duplicate_left);
    }
    if (f->drop_left > 0) {
        cJSON_AddBoolToObject(j, "drop", 1);
        cJSON_AddNumberToObject(j, "drop_count", (double)f->drop_left);
    }
    return j;
}

/* ---------- records ---------- */

static void sb_add_at(cJSON *j)
{
    char at[40];
    pc_time_rfc3339_ms(pc_time_now_ms(), at, sizeof at, PC_TZ_SHANGHAI_MIN);
    cJSON_AddStringToObject(j, "at", at);
}

void sb_record_request(struct sb_state *st, struct sb_call *c)
{
    int i = sb_endpoint_index(c->endpoint);
    if (i < 0)
        return;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "endpoint", sb_endpoints[i]);
    cJSON_AddStringToObject(j, "method", c->method);
    char *uri = sb_utf8_sanitize(c->uri, strlen(c->uri));
    cJSON_AddStringToObject(j, "path", uri);
    free(uri);
    cJSON *h = cJSON_AddObjectToObject(j, "headers");
    struct evkeyvalq *in = evhttp_request_get_input_headers(c->ev);
    for (struct evkeyval *kv = in ? in->tqh_first : NULL; kv; kv = kv->next.tqe_next) {
        char *v = sb_utf8_sanitize(kv->value, strlen(kv->value));
        cJSON *prev = cJSON_GetObjectItem(h, kv->key);
        if (cJSON_IsString(prev)) {
            struct pc_buf b;
            pc_buf_init(&b, SB_MAX_HEADERS * 2);
            pc_buf_addf(&b, "%s, %s", prev->valuestring, v);
            char *joined = pc_buf_take(&b, NULL);
            cJSON_SetValuestring(prev, joined);
            free(joined);
        } else {
            char *k = sb_utf8_sanitize(kv->key, strlen(kv->key));
            cJSON_AddStringToObject(h, k, v);
            free(k);
        }
        free(v);
    }
    char *body = sb_utf8_sanitize(c->body, c->body_len);
    cJSON_AddStringToObject(j, "body", body);
    free(body);
    sb_add_at(j);
    sb_recs_add(&st->requests, sb_endpoints[i], cJSON_PrintUnformatted(j));
    cJSON_Delete(j);
}

void sb_record_message(struct sb_state *st, const char *kind, const char *to,
                       const char *template_id, const cJSON *data, const char *text,
                       const char *page)
{
    const char *tag = !strcmp(kind, "sms") ? "sms" : "subscribe";
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "kind", tag);
    cJSON_AddStringToObject(j, "to", to);
    if (template_id)
        cJSON_AddStringToObject(j, "template_id", template_id);
    else
        cJSON_AddNullToObject(j, "template_id");
    if (data)
        cJSON_AddItemToObject(j, "data", cJSON_Duplicate(data, 1));
    else
        cJSON_AddNullToObject(j, "data");
    cJSON_AddStringToObject(j, "text", text ? text : "");
    if (page)
        cJSON_AddStringToObject(j, "page", page);
    sb_add_at(j);
    sb_recs_add(&st->messages, tag, cJSON_PrintUnformatted(j));
    cJSON_Delete(j);
}

void sb_requests_render(struct sb_state *st, const char *endpoint, struct pc_buf *out)
{
    int i = endpoint ? sb_endpoint_index(endpoint) : -1;
    sb_recs_render(&st->requests, "requests", i >= 0 ? sb_endpoints[i] : NULL, out);
}

void sb_messages_render(struct sb_state *st, const char *kind, struct pc_buf *out)
{
    sb_recs_render(&st->messages, "messages", kind, out);
}
