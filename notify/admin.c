/* notify/admin.c — the people's side of notifications: a student's subscription consents,
 * and staff looking at and re-queuing parked messages. Worker threads (database). */
#include "notify/notify.h"

#include "base/err.h"
#include "base/json.h"
#include "config/config.h"
#include "staff/staff.h"
#include "store/outbox.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TEMPLATES 10 /* wx.requestSubscribeMessage takes at most 3 at a time */

static bool template_id_ok(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (n >= 64 || !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return n > 0;
}

struct consent_args {
    int64_t user_id;
    const cJSON *ids;
    cJSON *out;
};

static int consent_tx(struct pc_db *db, void *arg)
{
    struct consent_args *a = arg;
    const cJSON *it;
    cJSON_ArrayForEach(it, a->ids)
    {
        bool accept = !strcmp(it->valuestring, "accept");
        int rc = pc_store_consent_add(db, a->user_id, it->string, accept, it->valuestring);
        int left = 0;
        if (rc == 0)
            rc = pc_store_consent_remaining(db, a->user_id, it->string, &left);
        if (rc)
            return rc;
        cJSON_AddNumberToObject(a->out, it->string, left);
    }
    return 0;
}

int pc_notify_record_consents(struct pc_db *db, int64_t user_id, const cJSON *body, cJSON **out,
                              const char **field)
{
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(body, "template_ids");
    const cJSON *it;
    int n = 0;
    *out = NULL;
    *field = "template_ids";
    if (!cJSON_IsObject(ids) || !ids->child)
        return PC_EINVAL;
    cJSON_ArrayForEach(it, ids)
    {
        if (++n > MAX_TEMPLATES || !template_id_ok(it->string) || !cJSON_IsString(it) ||
            (strcmp(it->valuestring, "accept") && strcmp(it->valuestring, "reject") &&
             strcmp(it->valuestring, "ban") && strcmp(it->valuestring, "filter")))
            return PC_EINVAL;
    }
    struct consent_args a = {user_id, ids, cJSON_CreateObject()};
    int rc = pc_db_tx(db, consent_tx, &a);
    if (rc) {
        cJSON_Delete(a.out);
        return rc;
    }
    *out = a.out;
    return 0;
}

cJSON *pc_notify_outbox_json(const struct pc_outbox_msg *m)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)m->id);
    cJSON_AddStringToObject(o, "kind", m->kind);
    cJSON_AddStringToObject(o, "state", m->state);
    cJSON_AddNumberToObject(o, "attempts", m->attempts);
    /* A delivered message keeps why a channel was skipped as a note, not as an error. */
    bool done = !strcmp(m->state, "done");
    cJSON_AddItemToObject(o, done ? "note" : "last_error",
                          m->last_error[0] ? cJSON_CreateString(m->last_error)
                                           : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "sent_via",
                          m->sent_via[0] ? cJSON_CreateString(m->sent_via) : cJSON_CreateNull());
    pc_json_add_time(o, "next_try_at", m->next_try_at);
    pc_json_add_time(o, "sent_at", m->sent_at);
    pc_json_add_time(o, "created_at", m->created_at);
    cJSON *p = cJSON_Parse(m->payload);
    const cJSON *no = cJSON_GetObjectItemCaseSensitive(p, "order_no");
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(p, "event");
    cJSON_AddItemToObject(o, "order_no",
                          cJSON_IsString(no) ? cJSON_CreateString(no->valuestring)
                                             : cJSON_CreateNull());
    cJSON_AddItemToObject(
        o, "event", cJSON_IsString(ev) ? cJSON_CreateString(ev->valuestring) : cJSON_CreateNull());
    cJSON_Delete(p);
    return o;
}

struct requeue_args {
    const struct pc_staff_auth *by;
    int64_t id;
    const char *ip, *rid;
    struct pc_outbox_msg *m;
};

static int requeue_tx(struct pc_db *db, void *arg)
{
    struct requeue_args *a = arg;
    int rc = pc_store_outbox_requeue(db, a->id);
    if (rc == 0)
        rc = pc_store_outbox_get(db, a->id, a->m);
    if (rc == 0) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "kind", a->m->kind);
        rc = pc_staff_audit(db, a->by, 0, "outbox.retry", "outbox", a->id, d, a->ip, a->rid);
        cJSON_Delete(d);
    }
    return rc;
}

int pc_notify_requeue(struct pc_db *db, const struct pc_staff_auth *by, int64_t id, const char *ip,
                      const char *request_id, struct pc_outbox_msg *m)
{
    struct requeue_args a = {by, id, ip, request_id, m};
    memset(m, 0, sizeof *m);
    int rc = pc_store_outbox_get(db, id, m); /* 404 before 409 */
    if (rc)
        return rc;
    free(m->payload);
    m->payload = NULL;
    return pc_db_tx(db, requeue_tx, &a);
}

int pc_notify_outbox_list(struct pc_db *db, const char *state, int64_t before_id, int limit,
                          struct pc_outbox_msg **out, size_t *n)
{
    return pc_store_outbox_list(db, state, before_id, limit, out, n);
}

void pc_notify_msgs_free(struct pc_outbox_msg *m, size_t n)
{
    pc_store_outbox_msgs_free(m, n);
}
