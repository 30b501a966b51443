/* net/outbound.c — libcurl multi-socket glue for libevent (after curl's hiperfifo.c
 * pattern: a socket callback that maps curl's interest onto events, a timer callback that
 * arms one evtimer, and a completion drain after every socket action). */
#include "net/outbound.h"

#include "base/alloc.h"
#include "base/err.h"
#include "base/log.h"

#include <curl/curl.h>
#include <event2/event.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct transfer {
    struct pc_outbound *o;
    CURL *easy;
    struct curl_slist *headers;
    struct pc_out_resp resp;
    size_t max;
    bool too_big;
    pc_out_cb cb;
    void *arg;
    struct transfer *prev, *next;
};

struct pc_outbound {
    struct event_base *base;
    CURLM *multi;
    struct event *timer;
    struct transfer *active;
    size_t nactive;
};

int pc_outbound_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : PC_EIO;
}

void pc_outbound_global_cleanup(void)
{
    curl_global_cleanup();
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
    struct transfer *t = arg;
    size_t n = size * nmemb;
    if (t->resp.len + n > t->max) {
        t->too_big = true;
        return 0; /* makes curl fail the transfer with CURLE_WRITE_ERROR */
    }
    t->resp.body = pc_xrealloc(t->resp.body, t->resp.len + n + 1);
    memcpy(t->resp.body + t->resp.len, p, n);
    t->resp.len += n;
    t->resp.body[t->resp.len] = '\0';
    return n;
}

#define MAX_HEADER_BYTES 16384

static size_t on_header(char *p, size_t size, size_t nmemb, void *arg)
{
    struct transfer *t = arg;
    size_t n = size * nmemb;
    if (n > 5 && strncmp(p, "HTTP/", 5) == 0) { /* a new response (after 100 Continue) */
        t->resp.headers_len = 0;
        if (t->resp.headers)
            t->resp.headers[0] = '\0';
    }
    if (t->resp.headers_len + n > MAX_HEADER_BYTES)
        return n; /* keep what fits; WeChat's headers are small */
    t->resp.headers = pc_xrealloc(t->resp.headers, t->resp.headers_len + n + 1);
    memcpy(t->resp.headers + t->resp.headers_len, p, n);
    t->resp.headers_len += n;
    t->resp.headers[t->resp.headers_len] = '\0';
    return n;
}

const char *pc_out_resp_header(const struct pc_out_resp *resp, const char *name, char *buf,
                               size_t len)
{
    size_t nl = strlen(name);
    for (const char *line = resp->headers; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t ll = end ? (size_t)(end - line) : strlen(line);
        if (ll > nl && line[nl] == ':' && strncasecmp(line, name, nl) == 0) {
            const char *v = line + nl + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            size_t vl = ll - (size_t)(v - line);
            while (vl && (v[vl - 1] == '\r' || v[vl - 1] == ' '))
                vl--;
            if (vl >= len)
                return NULL;
            memcpy(buf, v, vl);
            buf[vl] = '\0';
            return buf;
        }
        line = end ? end + 1 : NULL;
    }
    return NULL;
}

/* Configures an easy handle for req; shared by the async and the blocking forms. */
static int setup_easy(CURL *e, const struct pc_out_req *req, struct transfer *t)
{
    if (!req->url || strncmp(req->url, "https://", 8) != 0)
        return PC_EINVAL;
    for (size_t i = 0; i < PC_OUT_MAX_HEADERS && req->headers[i]; i++)
        t->headers = curl_slist_append(t->headers, req->headers[i]);
    t->headers = curl_slist_append(t->headers, "Expect:");
    t->max = req->max_response ? req->max_response : 1 << 20;
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    if (req->ca_file && req->ca_file[0])
        curl_easy_setopt(e, CURLOPT_CAINFO, req->ca_file);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, req->timeout_ms > 0 ? req->timeout_ms : 5000L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     req->timeout_ms > 0 && req->timeout_ms < 3000 ? req->timeout_ms : 3000L);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "portraitd/1");
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(e, CURLOPT_PRIVATE, t);
    if (req->method && strcmp(req->method, "POST") == 0) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, req->body ? req->body : "");
    } else if (req->method && strcmp(req->method, "GET") != 0) {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
    }
    return 0;
}

/* Fills t->resp from the finished transfer's result. */
static void finish_resp(struct transfer *t, CURLcode rc)
{
    struct pc_out_resp *r = &t->resp;
    curl_easy_getinfo(t->easy, CURLINFO_TOTAL_TIME, &r->seconds);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &r->status);
        if (!r->body)
            r->body = pc_xstrdup("");
        return;
    }
    r->err = t->too_big ? PC_ETOOBIG : rc == CURLE_OPERATION_TIMEDOUT ? PC_ETIMEOUT : PC_EIO;
    snprintf(r->errmsg, sizeof r->errmsg, "%s",
             t->too_big ? "response too large" : curl_easy_strerror(rc));
}

static void transfer_free(struct transfer *t)
{
    curl_easy_cleanup(t->easy);
    curl_slist_free_all(t->headers);
    free(t->resp.body);
    free(t->resp.headers);
    free(t);
}

static void unlink_transfer(struct pc_outbound *o, struct transfer *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        o->active = t->next;
    if (t->next)
        t->next->prev = t->prev;
    o->nactive--;
}

/* Hands every finished transfer to its callback. */
static void drain_done(struct pc_outbound *o)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(o->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct transfer *t = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
        CURLcode rc = msg->data.result;
        curl_multi_remove_handle(o->multi, t->easy);
        unlink_transfer(o, t);
        finish_resp(t, rc);
        t->cb(&t->resp, t->arg);
        transfer_free(t);
    }
}

static void on_socket_event(evutil_socket_t fd, short what, void *arg)
{
    struct pc_outbound *o = arg;
    int action =
        ((what & EV_READ) ? CURL_CSELECT_IN : 0) | ((what & EV_WRITE) ? CURL_CSELECT_OUT : 0);
    int running = 0;
    curl_multi_socket_action(o->multi, fd, action, &running);
    drain_done(o);
    if (running <= 0 && evtimer_pending(o->timer, NULL))
        evtimer_del(o->timer);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct pc_outbound *o = arg;
    int running = 0;
    curl_multi_socket_action(o->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    drain_done(o);
}

/* CURLMOPT_SOCKETFUNCTION: keep one persistent event per socket curl watches. */
static int sock_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)e;
    struct pc_outbound *o = userp;
    struct event *ev = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (ev)
            event_free(ev);
        curl_multi_assign(o->multi, s, NULL);
        return 0;
    }
    short kind = (short)(((what & CURL_POLL_IN) ? EV_READ : 0) |
                         ((what & CURL_POLL_OUT) ? EV_WRITE : 0) | EV_PERSIST);
    if (ev) {
        event_del(ev);
        event_assign(ev, o->base, s, kind, on_socket_event, o);
    } else {
        ev = event_new(o->base, s, kind, on_socket_event, o);
        curl_multi_assign(o->multi, s, ev);
    }
    event_add(ev, NULL);
    return 0;
}

/* CURLMOPT_TIMERFUNCTION: one timer, re-armed as curl asks. */
static int timer_cb(CURLM *m, long timeout_ms, void *userp)
{
    (void)m;
    struct pc_outbound *o = userp;
    if (timeout_ms < 0) {
        evtimer_del(o->timer);
        return 0;
    }
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    evtimer_add(o->timer, &tv);
    return 0;
}

struct pc_outbound *pc_outbound_new(struct event_base *base)
{
    struct pc_outbound *o = pc_new(struct pc_outbound);
    o->base = base;
    o->multi = curl_multi_init();
    if (!o->multi)
        abort();
    o->timer = evtimer_new(base, on_timer, o);
    curl_multi_setopt(o->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
    curl_multi_setopt(o->multi, CURLMOPT_SOCKETDATA, o);
    curl_multi_setopt(o->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(o->multi, CURLMOPT_TIMERDATA, o);
    curl_multi_setopt(o->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 32L);
    return o;
}

int pc_outbound_start(struct pc_outbound *o, const struct pc_out_req *req, pc_out_cb cb, void *arg)
{
    struct transfer *t = pc_new(struct transfer);
    t->o = o;
    t->cb = cb;
    t->arg = arg;
    t->easy = curl_easy_init();
    if (!t->easy)
        abort();
    int rc = setup_easy(t->easy, req, t);
    if (rc) {
        transfer_free(t);
        return rc;
    }
    t->next = o->active;
    if (o->active)
        o->active->prev = t;
    o->active = t;
    o->nactive++;
    if (curl_multi_add_handle(o->multi, t->easy) != CURLM_OK) {
        unlink_transfer(o, t);
        transfer_free(t);
        return PC_EIO;
    }
    return 0;
}

size_t pc_outbound_active(const struct pc_outbound *o)
{
    return o->nactive;
}

void pc_outbound_free(struct pc_outbound *o)
{
    if (!o)
        return;
    while (o->active) {
        struct transfer *t = o->active;
        curl_multi_remove_handle(o->multi, t->easy);
        unlink_transfer(o, t);
        t->resp.err = PC_EBUSY;
        snprintf(t->resp.errmsg, sizeof t->resp.errmsg, "cancelled at shutdown");
        t->cb(&t->resp, t->arg);
        transfer_free(t);
    }
    curl_multi_cleanup(o->multi);
    event_free(o->timer);
    free(o);
}

void pc_outbound_perform(const struct pc_out_req *req, struct pc_out_resp *resp)
{
    struct transfer *t = pc_new(struct transfer);
    t->easy = curl_easy_init();
    if (!t->easy)
        abort();
    if (setup_easy(t->easy, req, t)) {
        t->resp.err = PC_EINVAL;
        snprintf(t->resp.errmsg, sizeof t->resp.errmsg, "bad request (https only)");
    } else {
        finish_resp(t, curl_easy_perform(t->easy));
    }
    *resp = t->resp;
    t->resp.body = NULL;
    t->resp.headers = NULL;
    transfer_free(t);
}

void pc_out_resp_clear(struct pc_out_resp *resp)
{
    free(resp->body);
    free(resp->headers);
    memset(resp, 0, sizeof *resp);
}
