/* orders/orders.c — collection code → roster gate → candidate → order (rules). */
#include "orders/orders.h"

#include "orders/limits.h"

#include "base/alloc.h"
#include "base/buf.h"
#include "base/crypto.h"
#include "base/err.h"
#include "base/gate.h"
#include "base/json.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "codes/codes.h"
#include "config/config.h"
#include "store/audit.h"
#include "store/orders.h"
#include "store/photos.h"
#include "store/roster.h"
#include "store/tasks.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pc_order_get(struct pc_db *db, const char *order_no, struct pc_order *o)
{
    return order_no && strlen(order_no) < 33 ? pc_store_order_get(db, order_no, o) : PC_ENOTFOUND;
}

int pc_order_notice(struct pc_db *db, const char *order_no, struct pc_order_notice *out)
{
    return order_no && strlen(order_no) < 33 ? pc_store_order_notice(db, order_no, out)
                                             : PC_ENOTFOUND;
}

int pc_order_notices(struct pc_db *db, const char *const *order_nos, size_t n,
                     struct pc_order_notice *out, bool *found)
{
    int rc = 0;
    for (size_t at = 0; at < n && rc == 0; at += PC_DB_IN_MAX) {
        const char *keys[PC_DB_IN_MAX];
        size_t idx[PC_DB_IN_MAX], k = 0;
        bool got[PC_DB_IN_MAX];
        struct pc_order_notice *tmp = pc_xcalloc(PC_DB_IN_MAX, sizeof *tmp);
        for (size_t i = at; i < n && i < at + PC_DB_IN_MAX; i++) {
            found[i] = false;
            if (order_nos[i] && strlen(order_nos[i]) < 33) {
                idx[k] = i;
                keys[k++] = order_nos[i];
            }
        }
        rc = k ? pc_store_order_notices(db, keys, k, tmp, got) : 0;
        for (size_t j = 0; rc == 0 && j < k; j++)
            if ((found[idx[j]] = got[j]))
                out[idx[j]] = tmp[j];
        free(tmp);
    }
    return rc;
}

int pc_order_get_own(struct pc_db *db, const struct pc_user_auth *u, const char *order_no,
                     struct pc_order *o)
{
    int rc = pc_order_get(db, order_no, o);
    return rc == 0 && o->user_id != u->id ? PC_ENOTFOUND : rc;
}

int pc_order_lock(struct pc_db *db, const char *order_no, struct pc_order *o)
{
    return order_no && strlen(order_no) < 33 ? pc_store_order_get_locked(db, order_no, o)
                                             : PC_ENOTFOUND;
}

int pc_order_list_own(struct pc_db *db, const struct pc_user_auth *u, int64_t before_id, int limit,
                      struct pc_order **out, size_t *n)
{
    return pc_store_order_list_user(db, u->id, before_id, limit, out, n);
}

int pc_order_list_pending(struct pc_db *db, const struct pc_scope *scope, int64_t task_id,
                          int64_t after_id, int limit, struct pc_order **out, size_t *n)
{
    return pc_store_review_queue(db, scope, task_id, after_id, limit, out, n);
}

int pc_order_list_to_sweep(struct pc_db *db, int min_age_s, int limit, char (*out)[33], size_t *n)
{
    return pc_store_orders_to_sweep(db, min_age_s, limit, out, n);
}

int pc_order_photo_checks(struct pc_db *db, const struct pc_order *o, cJSON **checks)
{
    char *json = NULL;
    *checks = NULL;
    int rc = pc_store_photo_checks(db, o->id, &json);
    if (rc && rc != PC_ENOTFOUND)
        return rc;
    *checks = json ? cJSON_Parse(json) : NULL;
    free(json);
    if (!*checks)
        *checks = cJSON_CreateArray();
    return 0;
}

int pc_order_set_prepay(struct pc_db *db, const struct pc_order *o, const char *prepay_id,
                        int ttl_s)
{
    return pc_store_order_set_prepay(db, o->id, prepay_id, ttl_s);
}

int pc_order_native_code(struct pc_db *db, const struct pc_order *o,
                         char code_url[PC_ORDER_CODE_URL_MAX + 1])
{
    return pc_store_order_native_code(db, o->id, code_url);
}

struct native_args {
    int64_t order_id;
    const char *code_url;
    int ttl_s;
};

static int native_tx(struct pc_db *db, void *arg)
{
    const struct native_args *a = arg;
    int rc = pc_store_order_native_code_set(db, a->order_id, a->code_url, a->ttl_s);
    return rc ? rc : pc_store_order_mark_native(db, a->order_id);
}

int pc_order_set_native_code(struct pc_db *db, const struct pc_order *o, const char *code_url,
                             int ttl_s)
{
    struct native_args a = {o->id, code_url, ttl_s};
    return pc_db_tx(db, native_tx, &a);
}

bool pc_order_is_paid(const struct pc_order *o)
{
    return !strcmp(o->status, "pending_review") || !strcmp(o->status, "approved") ||
           !strcmp(o->status, "rejected");
}

void pc_order_no_new(char out[33])
{
    unsigned char rnd[4];
    char day[32];
    pc_rand_bytes(rnd, sizeof rnd);
    pc_time_rfc3339(pc_time_now_ms() / 1000, day, sizeof day, PC_TZ_SHANGHAI_MIN);
    snprintf(out, 33, "P%.4s%.2s%.2s%02X%02X%02X%02X", day, day + 5, day + 8, rnd[0], rnd[1],
             rnd[2], rnd[3]);
}

void pc_order_view_of(const struct pc_order *o, struct pc_order_view *v)
{
    *v = (struct pc_order_view){.id = o->id,
                                .task_id = o->task_id,
                                .amount_fen = o->amount_fen,
                                .order_no = o->order_no,
                                .status = o->status,
                                .student_name = o->student_name,
                                .student_no = o->student_no,
                                .college = o->college,
                                .class_name = o->class_name,
                                .paid_at = o->paid_at,
                                .photo_at = o->photo_at,
                                .editable_until = o->editable_until,
                                .created_at = o->created_at,
                                .updated_at = o->updated_at,
                                .review_decision = o->review_decision,
                                .review_code = o->review_code,
                                .review_reason = o->review_reason,
                                .review_at = o->review_at};
}

static bool present(const char *s)
{
    return s && s[0];
}

/* Writes into b until one write does not fit; rc keeps the first failure. */
struct jw {
    struct pc_buf *b;
    int rc;
};

static void raw(struct jw *w, const char *s)
{
    if (w->rc == 0)
        w->rc = pc_buf_adds(w->b, s);
}

/* key (the text up to the value, e.g. ,"name":) then the value as a JSON string ("" for
 * NULL). */
static void str(struct jw *w, const char *key, const char *v)
{
    raw(w, key);
    raw(w, "\"");
    if (w->rc == 0 && v)
        w->rc = pc_buf_add_json_str(w->b, v, strlen(v));
    raw(w, "\"");
}

/* The value as a JSON string, or null when absent or empty. */
static void str_or_null(struct jw *w, const char *key, const char *v)
{
    if (present(v)) {
        str(w, key, v);
    } else {
        raw(w, key);
        raw(w, "null");
    }
}

/* A DATETIME as RFC 3339 at +08:00, or null when absent or unreadable. */
static void time_or_null(struct jw *w, const char *key, const char *db_text)
{
    char t[32];
    if (present(db_text) && pc_time_db_to_api(db_text, t, sizeof t) == 0) {
        str(w, key, t);
    } else {
        raw(w, key);
        raw(w, "null");
    }
}

static void num(struct jw *w, const char *key, int64_t v)
{
    char n[24];
    snprintf(n, sizeof n, "%lld", (long long)v);
    raw(w, key);
    raw(w, n);
}

int pc_order_json_write(struct pc_buf *b, const struct pc_order_view *v)
{
    struct jw w = {b, 0};
    str(&w, "{\"order_no\":", v->order_no);
    num(&w, ",\"task_id\":", v->task_id);
    str(&w, ",\"status\":", v->status);
    str(&w, ",\"student\":{\"name\":", v->student_name);
    str(&w, ",\"student_no\":", v->student_no);
    str_or_null(&w, ",\"college\":", v->college);
    str_or_null(&w, ",\"class\":", v->class_name);
    num(&w, "},\"amount_fen\":", v->amount_fen);
    time_or_null(&w, ",\"paid_at\":", v->paid_at);
    if (present(v->photo_at)) {
        time_or_null(&w, ",\"photo\":{\"uploaded_at\":", v->photo_at);
        raw(&w, ",\"checks_ok\":true}"); /* only passing photos are stored */
    } else {
        raw(&w, ",\"photo\":null");
    }
    if (present(v->review_decision)) {
        str(&w, ",\"review\":{\"decision\":", v->review_decision);
        str_or_null(&w, ",\"reason_code\":", v->review_code);
        str_or_null(&w, ",\"reason\":", v->review_reason);
        time_or_null(&w, ",\"at\":", v->review_at);
        raw(&w, "}");
    } else {
        raw(&w, ",\"review\":null");
    }
    time_or_null(&w, ",\"editable_until\":", v->editable_until);
    time_or_null(&w, ",\"created_at\":", v->created_at);
    time_or_null(&w, ",\"updated_at\":", v->updated_at);
    raw(&w, "}");
    return w.rc;
}

cJSON *pc_order_json(const struct pc_order *o)
{
    struct pc_order_view v;
    struct pc_buf b;
    pc_buf_init(&b, 64 * 1024);
    pc_order_view_of(o, &v);
    cJSON *j = pc_order_json_write(&b, &v) == 0 ? cJSON_ParseWithLength(b.p, b.len) : NULL;
    pc_buf_free(&b);
    if (!j)
        abort(); /* the writer's own output, within 64 KiB: only OOM gets here */
    return j;
}

int pc_order_list_own_json(struct pc_db *db, const struct pc_user_auth *u, int64_t before_id,
                           int limit, struct pc_buf *out, size_t *n, int64_t *last_id)
{
    struct pc_db_res *res = NULL;
    *n = 0;
    *last_id = 0;
    int rc = pc_store_order_list_user_views(db, u->id, before_id, limit, &res);
    if (rc)
        return rc;
    rc = pc_order_views_json(res, out, n, last_id);
    pc_db_res_free(res);
    return rc;
}

int pc_order_views_json(const struct pc_db_res *res, struct pc_buf *out, size_t *n,
                        int64_t *last_id)
{
    size_t rows = pc_db_res_rows(res);
    int rc = pc_buf_add(out, "[", 1);
    for (size_t i = 0; i < rows && rc == 0; i++) {
        struct pc_order_view v;
        pc_store_order_view_at(res, i, &v);
        rc = i ? pc_buf_add(out, ",", 1) : 0;
        if (rc == 0)
            rc = pc_order_json_write(out, &v);
        *last_id = v.id;
    }
    if (rc == 0)
        rc = pc_buf_add(out, "]", 1);
    *n = rc == 0 ? rows : 0;
    return rc;
}

/* Window and binding of the student to the task. */
static int task_gate(struct pc_db *db, const struct pc_user_auth *u, int64_t task_id,
                     struct pc_task *t, enum pc_gate *gate)
{
    bool bound = false;
    int rc = pc_store_task_get(db, task_id, false, t);
    if (rc == PC_ENOTFOUND) {
        *gate = PC_GATE_NOT_BOUND;
        return 0;
    }
    if (rc == 0)
        rc = pc_store_binding_exists(db, u->id, task_id, &bound);
    if (rc)
        return rc;
    *gate = !bound || t->archived ? PC_GATE_NOT_BOUND
            : t->not_open_yet     ? PC_GATE_NOT_OPEN
            : t->closed           ? PC_GATE_CLOSED
                                  : PC_GATE_OK;
    return 0;
}

/* The roster gate for a decoded record: roster membership and name, offline collection,
 * an order in this task, an order in another task of the same school year. */
static int roster_gate(struct pc_db *db, const struct pc_task *t, const struct pc_cc_record *rec,
                       int64_t user_id, struct pc_roster_entry *r, bool *in_roster,
                       enum pc_gate *gate, char order_no[33], bool *own)
{
    *own = false;
    *in_roster = false;
    order_no[0] = '\0';
    if (strcmp(rec->school_code, t->school_code) != 0) {
        *gate = PC_GATE_NOT_IN_ROSTER;
        return 0;
    }
    int rc = pc_store_roster_get(db, t->id, rec->student_no, r);
    if (rc && rc != PC_ENOTFOUND)
        return rc;
    *in_roster = rc == 0;
    if ((!*in_roster && t->roster_required) ||
        (*in_roster && !pc_cc_name_matches(rec->name_masked, r->name))) {
        *gate = PC_GATE_NOT_IN_ROSTER;
        return 0;
    }
    if (*in_roster && r->collected == 1) {
        *gate = PC_GATE_ALREADY_COLLECTED;
        return 0;
    }
    struct pc_order o;
    rc = pc_store_order_active(db, t->id, rec->student_no, &o);
    if (rc == 0) {
        *own = o.user_id == user_id;
        if (*own)
            snprintf(order_no, 33, "%s", o.order_no);
        *gate = *own ? PC_GATE_DUPLICATE : PC_GATE_OTHER_ACCOUNT;
        return 0;
    }
    if (rc != PC_ENOTFOUND)
        return rc;
    rc = pc_store_order_same_year(db, t->school_id, t->grad_year, rec->student_no, t->id, order_no);
    if (rc == 0) {
        *gate = PC_GATE_ALREADY_COLLECTED;
        return 0;
    }
    if (rc != PC_ENOTFOUND)
        return rc;
    *gate = PC_GATE_OK;
    return 0;
}

static cJSON *student_json(const struct pc_task *t, const struct pc_cc_record *rec,
                           const struct pc_roster_entry *r, bool in_roster)
{
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "name", in_roster ? r->name : rec->name_masked);
    cJSON_AddStringToObject(s, "student_no", rec->student_no);
    cJSON_AddItemToObject(s, "college",
                          in_roster ? cJSON_CreateString(r->college) : cJSON_CreateNull());
    cJSON_AddItemToObject(s, "class",
                          in_roster && r->class_name[0] ? cJSON_CreateString(r->class_name)
                                                        : cJSON_CreateNull());
    cJSON_AddStringToObject(s, "school", rec->school[0] ? rec->school : t->school_name);
    cJSON_AddItemToObject(s, "major",
                          rec->major[0] ? cJSON_CreateString(rec->major) : cJSON_CreateNull());
    cJSON_AddItemToObject(s, "id_no_masked",
                          rec->id_masked[0] ? cJSON_CreateString(rec->id_masked)
                                            : cJSON_CreateNull());
    return s;
}

int pc_code_submit(struct pc_db *db, const struct pc_config *cfg, const struct pc_user_auth *u,
                   int64_t task_id, const void *img, size_t img_len, const char *text,
                   size_t text_len, struct pc_code_result *out)
{
    memset(out, 0, sizeof *out);
    struct pc_task t;
    int rc = task_gate(db, u, task_id, &t, &out->gate);
    if (rc || out->gate != PC_GATE_OK)
        return rc;
    rc = pc_student_work(db, cfg, u->id, PC_WORK_CODE_UPLOAD, &out->retry_after_s);
    if (rc == 0 && img)
        rc = pc_image_work_begin(cfg);
    if (rc)
        return rc; /* PC_ELIMIT: 429; PC_EBUSY: 503 */
    unsigned char raw[PC_CC_MAX_TEXT + 1];
    size_t raw_len = 0;
    if (img) {
        int q = pc_qr_decode(img, img_len, raw, sizeof raw - 1, &raw_len);
        pc_image_gate_leave();
        if (q == PC_ENOTFOUND) {
            out->gate = PC_GATE_QR_NOT_FOUND;
            return 0;
        }
        if (q) { /* not a readable picture, or beyond the pixel cap */
            out->gate = PC_GATE_BAD_IMAGE;
            return 0;
        }
    } else {
        if (text_len > PC_CC_MAX_TEXT) {
            out->gate = PC_GATE_CODE_UNKNOWN;
            return 0;
        }
        memcpy(raw, text, text_len);
        raw_len = text_len;
    }
    raw[raw_len] = '\0';
    unsigned char key[PC_CC_KEY_LEN];
    struct pc_cc_record rec;
    if (pc_data_key_parse(cfg->codes_key, key) ||
        pc_cc_decode(key, (const char *)raw, raw_len, &rec)) {
        OPENSSL_cleanse(key, sizeof key);
        out->gate = PC_GATE_CODE_UNKNOWN;
        return 0;
    }
    OPENSSL_cleanse(key, sizeof key);
    struct pc_roster_entry r;
    bool in_roster, own;
    rc = roster_gate(db, &t, &rec, u->id, &r, &in_roster, &out->gate, out->order_no, &own);
    if (rc || out->gate != PC_GATE_OK)
        return rc;
    char sha[PC_SHA256_HEXLEN];
    unsigned char id[16];
    pc_sha256_hex(raw, raw_len, sha);
    pc_rand_bytes(id, sizeof id);
    pc_hex(id, sizeof id, out->candidate_id);
    cJSON *student = student_json(&t, &rec, &r, in_roster);
    cJSON *stored = cJSON_Duplicate(student, 1);
    cJSON_AddStringToObject(stored, "uid", rec.uid);
    cJSON_AddBoolToObject(stored, "in_roster", in_roster);
    char *json = cJSON_PrintUnformatted(stored);
    cJSON_Delete(stored);
    rc = pc_store_candidate_insert(db, out->candidate_id, u->id, task_id, sha, raw, raw_len,
                                   rec.student_no, json, cfg->candidate_ttl_s);
    free(json);
    if (rc) {
        cJSON_Delete(student);
        return rc;
    }
    out->student = student;
    return 0;
}

static void copy_json_str(const cJSON *o, const char *key, char *dst, size_t len)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    snprintf(dst, len, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

struct confirm_args {
    const struct pc_user_auth *u;
    const struct pc_task *t;
    const struct pc_store_candidate *c;
    const cJSON *rec;
    struct pc_order *o;
    enum pc_gate *gate;
    char *dup;
};

static int confirm_tx(struct pc_db *db, void *arg)
{
    struct confirm_args *a = arg;
    struct pc_order *o = a->o;
    struct pc_roster_entry r;
    /* Re-check what may have changed since the code was read (offline collection, other
     * tasks); the active-order rule itself is the database's unique key. */
    int rc = pc_store_roster_get(db, a->t->id, a->c->student_no, &r);
    if (rc == 0 && r.collected == 1) {
        *a->gate = PC_GATE_ALREADY_COLLECTED;
        return 0;
    }
    if (rc && rc != PC_ENOTFOUND)
        return rc;
    rc = pc_store_order_same_year(db, a->t->school_id, a->t->grad_year, a->c->student_no, a->t->id,
                                  a->dup);
    if (rc == 0) {
        *a->gate = PC_GATE_ALREADY_COLLECTED;
        return 0;
    }
    if (rc != PC_ENOTFOUND)
        return rc;
    memset(o, 0, sizeof *o);
    pc_order_no_new(o->order_no);
    o->task_id = a->t->id;
    o->user_id = a->u->id;
    o->school_id = a->t->school_id;
    o->grad_year = a->t->grad_year;
    snprintf(o->student_no, sizeof o->student_no, "%s", a->c->student_no);
    copy_json_str(a->rec, "name", o->student_name, sizeof o->student_name);
    copy_json_str(a->rec, "college", o->college, sizeof o->college);
    copy_json_str(a->rec, "class", o->class_name, sizeof o->class_name);
    snprintf(o->status, sizeof o->status, "awaiting_photo");
    o->amount_fen = a->t->price_fen;
    rc = pc_store_order_insert(db, o, a->c->code_sha256, &o->id);
    if (rc == PC_EEXIST)
        return rc;
    if (rc == 0) {
        char target[24];
        snprintf(target, sizeof target, "%lld", (long long)o->id);
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "order_no", o->order_no);
        cJSON_AddStringToObject(d, "student_no", o->student_no);
        struct pc_audit au = {.actor_type = "user",
                              .actor_id = a->u->id,
                              .school_id = o->school_id,
                              .action = "order.create",
                              .target_type = "order",
                              .target_id = o->order_no,
                              .details = d};
        rc = pc_store_audit_insert(db, &au);
        cJSON_Delete(d);
    }
    if (rc == 0)
        rc = pc_store_order_get(db, o->order_no, o);
    if (rc == 0)
        *a->gate = PC_GATE_OK;
    return rc;
}

int pc_order_confirm(struct pc_db *db, const struct pc_config *cfg, const struct pc_user_auth *u,
                     int64_t task_id, const char *candidate_id, enum pc_gate *gate,
                     struct pc_order *o, char dup[33])
{
    (void)cfg;
    dup[0] = '\0';
    struct pc_task t;
    int rc = task_gate(db, u, task_id, &t, gate);
    if (rc || *gate != PC_GATE_OK)
        return rc;
    struct pc_store_candidate c;
    rc = pc_store_candidate_get(db, candidate_id, u->id, task_id, &c);
    if (rc == PC_ENOTFOUND) {
        *gate = PC_GATE_CANDIDATE_UNKNOWN;
        return 0;
    }
    if (rc)
        return rc;
    /* Confirming twice returns the same order, even after the candidate expired. */
    rc = pc_store_order_active(db, task_id, c.student_no, o);
    if (rc == 0) {
        *gate = o->user_id == u->id ? PC_GATE_OK : PC_GATE_OTHER_ACCOUNT;
        free(c.record);
        return 0;
    }
    if (rc != PC_ENOTFOUND || c.expired) {
        *gate = PC_GATE_CANDIDATE_EXPIRED;
        free(c.record);
        return rc == PC_ENOTFOUND ? 0 : rc;
    }
    cJSON *rec = cJSON_Parse(c.record);
    struct confirm_args a = {u, &t, &c, rec, o, gate, dup};
    rc = pc_db_tx(db, confirm_tx, &a);
    if (rc == PC_EEXIST) { /* a concurrent confirm won the unique key */
        rc = pc_store_order_active(db, task_id, c.student_no, o);
        if (rc == 0)
            *gate = o->user_id == u->id ? PC_GATE_OK : PC_GATE_OTHER_ACCOUNT;
    }
    cJSON_Delete(rec);
    free(c.record);
    return rc;
}
