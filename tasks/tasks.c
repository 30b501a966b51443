/* tasks/tasks.c — collection tasks and binding (rules); SQL in store/tasks.c. */
#include "tasks/tasks.h"

#include "staff/scope.h"

#include "base/err.h"
#include "base/timeutil.h"
#include "config/config.h"
#include "staff/staff.h"
#include "store/audit.h"
#include "store/ratelimit.h"
#include "store/tasks.h"
#include "store/users.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RL_BIND_USER "bind_user"
#define RL_BIND_ADDR "bind_addr"

bool pc_feature_code_norm(const char *in, char *out, size_t len)
{
    if (!in)
        return false;
    while (*in == ' ' || *in == '\t')
        in++;
    size_t n = strlen(in);
    while (n && (in[n - 1] == ' ' || in[n - 1] == '\t'))
        n--;
    if (n < 4 || n > 32 || n >= len)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (!isalnum(c))
            return false;
        out[i] = (char)tolower(c);
    }
    out[n] = '\0';
    return true;
}

enum pc_window pc_window_at(int64_t opens_at, int64_t closes_at, int64_t now)
{
    if (now < opens_at)
        return PC_WINDOW_NOT_OPEN;
    if (now > closes_at)
        return PC_WINDOW_CLOSED;
    return PC_WINDOW_OPEN;
}

void pc_task_defaults(struct pc_task *t)
{
    memset(t, 0, sizeof *t);
    t->edit_days = 7;
    t->resubmit_cap = 3;
    t->unpaid_timeout_s = 1800;
    t->roster_required = true;
}

static int str_field(const cJSON *j, const char *key, char *dst, size_t len, size_t max_chars,
                     bool required, const char **field)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!v)
        return required ? (*field = key, PC_EINVAL) : 0;
    if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) >= len ||
        strlen(v->valuestring) > max_chars * 4) {
        *field = key;
        return PC_EINVAL;
    }
    snprintf(dst, len, "%s", v->valuestring);
    return 0;
}

static int time_field(const cJSON *j, const char *key, char *dst, size_t len, bool required,
                      const char **field)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    int64_t t;
    if (!v)
        return required ? (*field = key, PC_EINVAL) : 0;
    if (!cJSON_IsString(v) || pc_time_parse_rfc3339(v->valuestring, &t) ||
        pc_time_format_db(t, dst, len)) {
        *field = key;
        return PC_EINVAL;
    }
    return 0;
}

static int int_field(const cJSON *j, const char *key, int64_t min, int64_t max, int64_t *dst,
                     bool required, const char **field)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!v)
        return required ? (*field = key, PC_EINVAL) : 0;
    double d = cJSON_IsNumber(v) ? v->valuedouble : -1e300;
    if (d < (double)min || d > (double)max || d != (double)(int64_t)d) {
        *field = key;
        return PC_EINVAL;
    }
    *dst = (int64_t)d;
    return 0;
}

int pc_task_apply_json(struct pc_task *t, const cJSON *j, bool partial, const char **school_ref,
                       const char **field, const char **message)
{
    bool req = !partial;
    int64_t v;
    *school_ref = NULL;
    *message = "参数不正确";
    if (str_field(j, "name", t->name, sizeof t->name, 64, req, field))
        return *message = "任务名称为 1–64 个字", PC_EINVAL;
    const cJSON *school = cJSON_GetObjectItemCaseSensitive(j, "school");
    if (school && !partial) {
        if (!cJSON_IsString(school) || !school->valuestring[0])
            return *field = "school", *message = "请填写学校代码或名称", PC_EINVAL;
        *school_ref = school->valuestring;
    } else if (!school && !partial) {
        return *field = "school", *message = "请填写学校代码或名称", PC_EINVAL;
    } else if (school && partial) {
        return *field = "school", *message = "任务的学校不能修改", PC_EINVAL;
    }
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(j, "collection_type");
    if (type || req) {
        if (!cJSON_IsString(type) ||
            (strcmp(type->valuestring, "centralized") && strcmp(type->valuestring, "scattered")))
            return *field = "collection_type",
                   *message = "采集类型应为 centralized（集中采集）或 scattered（零散采集）",
                   PC_EINVAL;
        snprintf(t->collection_type, sizeof t->collection_type, "%s", type->valuestring);
    }
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(j, "feature_code");
    if (code || req) {
        char norm[40];
        if (!cJSON_IsString(code) || !pc_feature_code_norm(code->valuestring, norm, sizeof norm))
            return *field = "feature_code", *message = "特征码为 4–32 位字母或数字", PC_EINVAL;
        /* Stored as typed (trimmed); matched by its normalised form. */
        const char *s = code->valuestring;
        while (*s == ' ' || *s == '\t')
            s++;
        snprintf(t->feature_code, sizeof t->feature_code, "%.*s", (int)strlen(norm), s);
    }
    if (time_field(j, "opens_at", t->opens_at, sizeof t->opens_at, req, field) ||
        time_field(j, "closes_at", t->closes_at, sizeof t->closes_at, req, field))
        return *message = "时间格式应为 RFC 3339，例如 2024-01-18T23:59:59+08:00", PC_EINVAL;
    if (int_field(j, "price_fen", 0, 10000000, &t->price_fen, req, field))
        return *message = "价格以分为单位，应为 0 到 10000000 的整数", PC_EINVAL;
    static const struct {
        const char *key;
        int64_t min, max;
        size_t off;
        const char *message;
    } opts[] = {{"edit_days", 0, 60, offsetof(struct pc_task, edit_days), "修改期为 0 到 60 天"},
                {"resubmit_cap", 0, 50, offsetof(struct pc_task, resubmit_cap),
                 "重新提交次数上限为 0 到 50"},
                {"unpaid_timeout_s", 60, 86400, offsetof(struct pc_task, unpaid_timeout_s),
                 "未支付超时为 60 到 86400 秒"},
                {"grad_year", 2000, 2100, offsetof(struct pc_task, grad_year), "毕业年份不正确"}};
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        v = -1;
        if (int_field(j, opts[i].key, opts[i].min, opts[i].max, &v, false, field))
            return *message = opts[i].message, PC_EINVAL;
        if (v >= 0)
            *(int *)((char *)t + opts[i].off) = (int)v;
    }
    const cJSON *rr = cJSON_GetObjectItemCaseSensitive(j, "roster_required");
    if (rr) {
        if (!cJSON_IsBool(rr))
            return *field = "roster_required", *message = "roster_required 应为 true 或 false",
                   PC_EINVAL;
        t->roster_required = cJSON_IsTrue(rr);
    }
    const cJSON *ar = cJSON_GetObjectItemCaseSensitive(j, "archived");
    if (ar) {
        if (!cJSON_IsBool(ar) || !partial)
            return *field = "archived", *message = "archived 应为 true 或 false", PC_EINVAL;
        t->archived = cJSON_IsTrue(ar);
    }
    int64_t o = 0, c = 0;
    pc_time_parse_db(t->opens_at, &o);
    pc_time_parse_db(t->closes_at, &c);
    if (c <= o)
        return *field = "closes_at", *message = "截止时间必须晚于开始时间", PC_EINVAL;
    if (!t->grad_year) { /* the school year of the window's end, in Shanghai */
        char y[8];
        pc_time_rfc3339(c, y, sizeof y, PC_TZ_SHANGHAI_MIN);
        t->grad_year = (int)strtol(y, NULL, 10);
    }
    *field = NULL;
    return 0;
}

static int audit_task(struct pc_db *db, const struct pc_staff_auth *by, const struct pc_task *t,
                      const char *action, cJSON *details, const char *ip, const char *request_id)
{
    return pc_staff_audit(db, by, t->school_id, action, "task", t->id, details, ip, request_id);
}

struct create_args {
    const struct pc_staff_auth *by;
    struct pc_task *t;
    const char *ip, *rid;
};

static int create_tx(struct pc_db *db, void *arg)
{
    struct create_args *a = arg;
    char norm[40];
    pc_feature_code_norm(a->t->feature_code, norm, sizeof norm);
    int rc = pc_store_task_insert(db, a->t, norm, &a->t->id);
    if (rc)
        return rc;
    rc = pc_store_task_get(db, a->t->id, false, a->t);
    if (rc == 0) {
        cJSON *d = pc_task_json(a->t, true);
        rc = audit_task(db, a->by, a->t, "task.create", d, a->ip, a->rid);
        cJSON_Delete(d);
    }
    return rc;
}

int pc_task_create(struct pc_db *db, const struct pc_staff_auth *by, struct pc_task *t,
                   const char *ip, const char *request_id)
{
    struct create_args a = {by, t, ip, request_id};
    return pc_db_tx(db, create_tx, &a);
}

struct patch_args {
    const struct pc_staff_auth *by;
    int64_t id;
    const cJSON *j;
    const char *ip, *rid;
    struct pc_task *t;
    const char *field, *message;
};

static int patch_tx(struct pc_db *db, void *arg)
{
    struct patch_args *a = arg;
    const char *school_ref;
    int rc = pc_store_task_get(db, a->id, true, a->t);
    if (rc)
        return rc;
    if (!pc_staff_may(a->by, PC_ROLE_ADMIN, a->t->school_id, a->t->id))
        return PC_ENOTFOUND;
    cJSON *before = pc_task_json(a->t, true);
    rc = pc_task_apply_json(a->t, a->j, true, &school_ref, &a->field, &a->message);
    char norm[40];
    if (rc == 0) {
        pc_feature_code_norm(a->t->feature_code, norm, sizeof norm);
        rc = pc_store_task_update(db, a->t, norm);
    }
    if (rc == 0)
        rc = pc_store_task_get(db, a->id, false, a->t);
    if (rc == 0) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddItemToObject(d, "before", before);
        cJSON_AddItemToObject(d, "after", pc_task_json(a->t, true));
        rc = audit_task(db, a->by, a->t, "task.update", d, a->ip, a->rid);
        cJSON_Delete(d);
    } else {
        cJSON_Delete(before);
    }
    return rc;
}

int pc_task_patch(struct pc_db *db, const struct pc_staff_auth *by, int64_t id, const cJSON *j,
                  const char *ip, const char *request_id, struct pc_task *t, const char **field,
                  const char **message)
{
    struct patch_args a = {by, id, j, ip, request_id, t, NULL, NULL};
    int rc = pc_db_tx(db, patch_tx, &a);
    *field = a.field;
    *message = a.message;
    return rc;
}

cJSON *pc_task_json(const struct pc_task *t, bool admin)
{
    char o[32], c[32];
    pc_time_db_to_api(t->opens_at, o, sizeof o);
    pc_time_db_to_api(t->closes_at, c, sizeof c);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "id", (double)t->id);
    cJSON_AddStringToObject(j, "name", t->name);
    cJSON_AddStringToObject(j, "school", t->school_name);
    cJSON_AddStringToObject(j, "collection_type", t->collection_type);
    cJSON_AddStringToObject(j, "opens_at", o);
    cJSON_AddStringToObject(j, "closes_at", c);
    cJSON_AddNumberToObject(j, "price_fen", (double)t->price_fen);
    if (!admin)
        return j;
    char ca[32], ua[32];
    pc_time_db_to_api(t->created_at, ca, sizeof ca);
    pc_time_db_to_api(t->updated_at, ua, sizeof ua);
    cJSON_AddNumberToObject(j, "school_id", (double)t->school_id);
    cJSON_AddStringToObject(j, "school_code", t->school_code);
    cJSON_AddStringToObject(j, "feature_code", t->feature_code);
    cJSON_AddNumberToObject(j, "edit_days", t->edit_days);
    cJSON_AddNumberToObject(j, "resubmit_cap", t->resubmit_cap);
    cJSON_AddNumberToObject(j, "unpaid_timeout_s", t->unpaid_timeout_s);
    cJSON_AddNumberToObject(j, "grad_year", t->grad_year);
    cJSON_AddBoolToObject(j, "roster_required", t->roster_required);
    cJSON_AddBoolToObject(j, "archived", t->archived);
    cJSON_AddStringToObject(j, "created_at", ca);
    cJSON_AddStringToObject(j, "updated_at", ua);
    return j;
}

/* Counts one more failed guess and tells whether the caller is over either limit. */
static int guess_state(struct pc_db *db, const struct pc_config *cfg, const char *ukey,
                       const char *ip, bool count, int *retry_after_s)
{
    int hu = 0, ha = 0, ru = 0, ra = 0;
    int rc = 0;
    if (count) {
        rc = pc_store_rl_hit(db, RL_BIND_USER, ukey, cfg->bind_window_s);
        if (rc == 0)
            rc = pc_store_rl_hit(db, RL_BIND_ADDR, ip, cfg->bind_window_s);
    }
    if (rc == 0)
        rc = pc_store_rl_get(db, RL_BIND_USER, ukey, cfg->bind_window_s, &hu, &ru);
    if (rc == 0)
        rc = pc_store_rl_get(db, RL_BIND_ADDR, ip, cfg->bind_window_s, &ha, &ra);
    if (rc)
        return rc;
    *retry_after_s = 0;
    if (hu >= cfg->bind_user_max_failures || ha >= cfg->bind_addr_max_failures)
        *retry_after_s = (ru > ra ? ru : ra) > 0 ? (ru > ra ? ru : ra) : 1;
    return 0;
}

int pc_task_bind(struct pc_db *db, const struct pc_config *cfg, const struct pc_user_auth *u,
                 const char *collection_type, const char *feature_code, const char *ip,
                 enum pc_bind_result *result, struct pc_task *t, int *retry_after_s)
{
    char ukey[24], norm[40];
    snprintf(ukey, sizeof ukey, "%lld", (long long)u->id);
    struct pc_user usr;
    int rc = pc_store_user_get(db, u->id, &usr);
    if (rc)
        return rc;
    if (!usr.real_name[0]) {
        *result = PC_BIND_PROFILE_INCOMPLETE;
        return 0;
    }
    rc = guess_state(db, cfg, ukey, ip, false, retry_after_s);
    if (rc)
        return rc;
    if (*retry_after_s) {
        *result = PC_BIND_RATE_LIMITED;
        return 0;
    }
    rc = pc_feature_code_norm(feature_code, norm, sizeof norm) ? pc_store_task_by_code(db, norm, t)
                                                               : PC_ENOTFOUND;
    if (rc == PC_ENOTFOUND) {
        *result = PC_BIND_UNKNOWN_CODE;
        return guess_state(db, cfg, ukey, ip, true, retry_after_s);
    }
    if (rc)
        return rc;
    if (strcmp(t->collection_type, collection_type) != 0)
        *result = PC_BIND_TYPE_MISMATCH;
    else if (t->not_open_yet)
        *result = PC_BIND_NOT_OPEN;
    else if (t->closed)
        *result = PC_BIND_CLOSED;
    else
        *result = PC_BIND_OK;
    if (*result == PC_BIND_OK)
        rc = pc_store_binding_insert(db, u->id, t->id);
    return rc;
}

int pc_task_get_for(struct pc_db *db, const struct pc_staff_auth *by, unsigned roles, int64_t id,
                    struct pc_task *t)
{
    int rc = pc_store_task_get(db, id, false, t);
    return rc == 0 && !pc_staff_may(by, roles, t->school_id, t->id) ? PC_ENOTFOUND : rc;
}

int pc_task_list_for(struct pc_db *db, const struct pc_staff_auth *by, int64_t before_id, int limit,
                     struct pc_task **out, size_t *n)
{
    struct pc_scope scope;
    pc_staff_scope(by, PC_ROLE_ADMIN, &scope);
    return pc_store_task_list(db, &scope, before_id, limit, out, n);
}

int pc_task_list_pickable(struct pc_db *db, const struct pc_staff_auth *by, int limit,
                          struct pc_task **out, size_t *n)
{
    struct pc_scope scope;
    pc_staff_scope(by, ~0u, &scope); /* every role: its school's tasks, or its one task */
    int rc = pc_store_task_list(db, &scope, 0, limit, out, n);
    size_t kept = 0;
    for (size_t i = 0; rc == 0 && i < *n; i++)
        if (!(*out)[i].archived)
            (*out)[kept++] = (*out)[i];
    if (rc == 0)
        *n = kept;
    return rc;
}

int pc_school_list_for(struct pc_db *db, const struct pc_staff_auth *by, struct pc_school **out,
                       size_t *n)
{
    struct pc_scope scope;
    memset(&scope, 0, sizeof scope);
    for (size_t i = 0; i < by->nroles && !scope.all; i++) { /* a task's school counts */
        if (by->role[i].school_id)
            pc_scope_add_school(&scope, by->role[i].school_id);
        else
            scope.all = true;
    }
    return pc_store_school_list(db, &scope, out, n);
}

int pc_task_set_school(struct pc_db *db, struct pc_task *t, const char *code_or_name)
{
    return pc_store_school_find(db, code_or_name, &t->school_id, t->school_code, t->school_name);
}

struct school_args {
    const struct pc_staff_auth *by;
    const char *code, *name, *ip, *rid;
    const cJSON *details;
    int64_t *id;
};

static int school_tx(struct pc_db *db, void *arg)
{
    struct school_args *a = arg;
    int rc = pc_store_school_insert(db, a->code, a->name, a->id);
    if (rc == 0)
        rc = pc_staff_audit(db, a->by, *a->id, "school.create", "school", *a->id, a->details, a->ip,
                            a->rid);
    return rc;
}

int pc_school_create(struct pc_db *db, const struct pc_staff_auth *by, const char *code,
                     const char *name, const cJSON *details, const char *ip, const char *request_id,
                     int64_t *id)
{
    struct school_args a = {by, code, name, ip, request_id, details, id};
    return pc_db_tx(db, school_tx, &a);
}
