/* staff/accounts.c — staff account management by admins (rules); SQL is in store/staff.c
 * (accounts, roles, sessions) and store/tasks.c (the scope's tasks and schools). See
 * accounts.h. */
#include "staff/accounts.h"

#include "base/err.h"
#include "base/json.h"
#include "base/utf8.h"
#include "staff/scope.h"
#include "store/staff.h"
#include "store/tasks.h"

#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct role_in {
    char role[16];
    int64_t school_id;
    char college[129];
    int64_t task_id;
};

/* Characters of valid UTF-8 text without control characters; -1 otherwise. */
static long text_chars(const char *s)
{
    size_t n = strlen(s), i = 0;
    long chars = 0;
    while (i < n) {
        long cp = pc_utf8_next(s, n, &i);
        if (cp < 0x20 || cp == 0x7f)
            return -1;
        chars++;
    }
    return chars;
}

static int bad(struct pc_staff_input_err *e, const char *field, const char *message)
{
    e->field = field;
    e->message = message;
    return PC_EINVAL;
}

static cJSON *role_json(const struct pc_store_role *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "role", r->role);
    cJSON_AddItemToObject(o, "school_id",
                          r->school_id ? cJSON_CreateNumber((double)r->school_id)
                                       : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "college",
                          r->college[0] ? cJSON_CreateString(r->college) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "task_id",
                          r->task_id ? cJSON_CreateNumber((double)r->task_id) : cJSON_CreateNull());
    return o;
}

/* The account with its roles, and whether by may manage it. */
static int load(struct pc_db *db, const struct pc_staff_auth *by, int64_t id, cJSON **out,
                bool *visible)
{
    struct pc_store_staff_row s;
    struct pc_store_role roles[PC_STAFF_MAX_ROLES * 2];
    size_t n = 0;
    int rc = pc_store_staff_get(db, id, &s);
    if (rc == 0)
        rc = pc_store_staff_roles(db, id, roles, sizeof roles / sizeof roles[0], &n);
    if (rc)
        return rc;
    *visible = true;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)s.id);
    cJSON_AddStringToObject(o, "username", s.username);
    cJSON_AddItemToObject(o, "display_name",
                          s.display_name[0] ? cJSON_CreateString(s.display_name)
                                            : cJSON_CreateNull());
    cJSON_AddBoolToObject(o, "disabled", s.disabled);
    cJSON *ra = cJSON_AddArrayToObject(o, "roles");
    for (size_t i = 0; i < n; i++) {
        cJSON_AddItemToArray(ra, role_json(&roles[i]));
        if (!pc_staff_may(by, PC_ROLE_ADMIN, roles[i].school_id, 0))
            *visible = false; /* a role where by is no admin (company roles: company admins) */
    }
    if (n == 0 && !pc_staff_company(by, PC_ROLE_ADMIN))
        *visible = false; /* an account without roles belongs to the company */
    pc_json_add_time(o, "created_at", s.created_at);
    pc_json_add_time(o, "updated_at", s.updated_at);
    *out = o;
    return 0;
}

int pc_staff_accounts_list(struct pc_db *db, const struct pc_staff_auth *by, cJSON **items)
{
    struct pc_store_staff_row *rows = NULL;
    size_t n = 0;
    int rc = pc_store_staff_all(db, &rows, &n);
    if (rc)
        return rc;
    *items = cJSON_CreateArray();
    for (size_t i = 0; i < n && rc == 0; i++) {
        cJSON *a = NULL;
        bool visible = false;
        rc = load(db, by, rows[i].id, &a, &visible);
        if (rc == 0 && visible)
            cJSON_AddItemToArray(*items, a);
        else
            cJSON_Delete(a);
    }
    free(rows);
    if (rc) {
        cJSON_Delete(*items);
        *items = NULL;
    }
    return rc;
}

static int integer_or_null(const cJSON *v, int64_t *out)
{
    *out = 0;
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 9e15 ||
        (double)(int64_t)v->valuedouble != v->valuedouble)
        return -1;
    *out = (int64_t)v->valuedouble;
    return 0;
}

/* Parses and checks "roles" against the caller's scope and the tasks' schools. */
static int parse_roles(struct pc_db *db, const struct pc_staff_auth *by, const cJSON *arr,
                       struct role_in *out, size_t *n, struct pc_staff_input_err *e)
{
    *n = 0;
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) < 1 ||
        cJSON_GetArraySize(arr) > PC_STAFF_MAX_ROLES)
        return bad(e, "roles", "请为账号选择 1 至 8 个角色");
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        struct role_in *r = &out[(*n)++];
        memset(r, 0, sizeof *r);
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(it, "role");
        const cJSON *college = cJSON_GetObjectItemCaseSensitive(it, "college");
        if (!cJSON_IsObject(it) || !cJSON_IsString(role) || !pc_role_from_name(role->valuestring))
            return bad(e, "roles", "角色无效（应为 admin、reviewer、finance 或 college）");
        snprintf(r->role, sizeof r->role, "%s", role->valuestring);
        if (integer_or_null(cJSON_GetObjectItemCaseSensitive(it, "school_id"), &r->school_id) ||
            integer_or_null(cJSON_GetObjectItemCaseSensitive(it, "task_id"), &r->task_id))
            return bad(e, "roles", "学校或任务编号无效");
        if (college && !cJSON_IsNull(college)) {
            if (!cJSON_IsString(college) || text_chars(college->valuestring) < 1 ||
                strlen(college->valuestring) >= sizeof r->college)
                return bad(e, "roles", "学院名称无效");
            snprintf(r->college, sizeof r->college, "%s", college->valuestring);
        }
        if (r->task_id) {
            struct pc_task t;
            int rc = pc_store_task_get(db, r->task_id, false, &t);
            if (rc == PC_ENOTFOUND || (rc == 0 && r->school_id && t.school_id != r->school_id))
                return bad(e, "roles", "所选任务不存在或不属于该学校");
            if (rc)
                return rc;
            r->school_id = t.school_id;
        }
        if (!pc_staff_may(by, PC_ROLE_ADMIN, r->school_id, 0))
            return bad(e, "roles", "只能授予本校范围内的角色");
        if (r->school_id) {
            struct pc_school sc;
            int rc = pc_store_school_get(db, r->school_id, &sc);
            if (rc == PC_ENOTFOUND)
                return bad(e, "roles", "所选学校不存在");
            if (rc)
                return rc;
        }
        if (!strcmp(r->role, "college") && (!r->school_id || !r->college[0]))
            return bad(e, "roles", "学院角色需要指定学校和学院");
        if (strcmp(r->role, "college") && r->college[0])
            return bad(e, "roles", "只有学院角色可以指定学院");
        if (strcmp(r->role, "reviewer") && r->task_id)
            return bad(e, "roles", "只有审核员角色可以指定任务");
    }
    return 0;
}

static int check_password(const cJSON *pw, struct pc_staff_input_err *e)
{
    if (!cJSON_IsString(pw) || strlen(pw->valuestring) < PC_STAFF_PASSWORD_MIN ||
        strlen(pw->valuestring) > PC_STAFF_PASSWORD_MAX)
        return bad(e, "password", "密码长度应为 10 至 1024 个字符");
    return 0;
}

/* display_name: NULL/absent → *out NULL; else 1..32 characters of valid UTF-8. */
static int check_display_name(const cJSON *v, const char **out, struct pc_staff_input_err *e)
{
    *out = NULL;
    if (!v || cJSON_IsNull(v))
        return 0;
    long chars = cJSON_IsString(v) ? text_chars(v->valuestring) : -1;
    if (chars < 1 || chars > PC_STAFF_DISPLAY_NAME_MAX)
        return bad(e, "display_name", "显示名称最多 32 个字符");
    *out = v->valuestring;
    return 0;
}

static cJSON *roles_detail(const struct role_in *roles, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        struct pc_store_role r = {0};
        snprintf(r.role, sizeof r.role, "%s", roles[i].role);
        r.school_id = roles[i].school_id;
        snprintf(r.college, sizeof r.college, "%s", roles[i].college);
        r.task_id = roles[i].task_id;
        cJSON_AddItemToArray(a, role_json(&r));
    }
    return a;
}

struct write_args {
    const struct pc_staff_auth *by;
    const char *ip, *request_id;
    int64_t id;
    const char *username, *hash, *display_name;
    int disabled; /* -1 keep */
    const struct role_in *roles;
    size_t nroles; /* 0 with roles NULL: keep */
    bool new_password;
    int64_t school_id; /* the account's one school before the change (audit) */
};

/* The one school every role lies in (0: company-wide or several): the audit row's school. */
static int64_t roles_school(const struct role_in *roles, size_t n)
{
    int64_t school = 0;
    for (size_t i = 0; i < n; i++) {
        if (!roles[i].school_id || (school && roles[i].school_id != school))
            return 0;
        school = roles[i].school_id;
    }
    return school;
}

static int write_roles(struct pc_db *db, const struct write_args *a)
{
    int rc = pc_store_staff_roles_clear(db, a->id);
    for (size_t i = 0; i < a->nroles && rc == 0; i++)
        rc = pc_store_staff_role_insert(db, a->id, a->roles[i].role, a->roles[i].school_id,
                                        a->roles[i].college, a->roles[i].task_id);
    return rc;
}

static int create_tx(struct pc_db *db, void *arg)
{
    struct write_args *a = arg;
    int rc = pc_store_staff_insert(db, a->username, a->hash, a->display_name, &a->id);
    if (rc == 0)
        rc = write_roles(db, a);
    if (rc)
        return rc;
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "username", a->username);
    cJSON_AddItemToObject(d, "roles", roles_detail(a->roles, a->nroles));
    rc = pc_staff_audit(db, a->by, roles_school(a->roles, a->nroles), "staff.create", "staff",
                        a->id, d, a->ip, a->request_id);
    cJSON_Delete(d);
    return rc;
}

static int patch_tx(struct pc_db *db, void *arg)
{
    struct write_args *a = arg;
    int rc = 0;
    cJSON *d = cJSON_CreateObject();
    if (a->display_name || a->disabled >= 0)
        rc = pc_store_staff_update(db, a->id, a->display_name, a->disabled);
    if (rc == 0 && a->roles) {
        rc = write_roles(db, a);
        cJSON_AddItemToObject(d, "roles", roles_detail(a->roles, a->nroles));
    }
    if (rc == 0 && a->hash) {
        rc = pc_store_staff_set_password(db, a->id, a->hash);
        cJSON_AddBoolToObject(d, "password_changed", true);
    }
    uint64_t revoked = 0;
    if (rc == 0 && (a->hash || a->disabled > 0))
        rc = pc_store_staff_sessions_revoke_all(db, a->id, &revoked);
    if (a->display_name)
        cJSON_AddStringToObject(d, "display_name", a->display_name);
    if (a->disabled >= 0)
        cJSON_AddBoolToObject(d, "disabled", a->disabled > 0);
    cJSON_AddNumberToObject(d, "sessions_revoked", (double)revoked);
    if (rc == 0)
        rc = pc_staff_audit(db, a->by, a->school_id, "staff.update", "staff", a->id, d, a->ip,
                            a->request_id);
    cJSON_Delete(d);
    return rc;
}

int pc_staff_account_create(struct pc_db *db, const struct pc_staff_auth *by, const cJSON *body,
                            const char *ip, const char *request_id, cJSON **account,
                            struct pc_staff_input_err *e)
{
    const cJSON *user = cJSON_GetObjectItemCaseSensitive(body, "username");
    const cJSON *pw = cJSON_GetObjectItemCaseSensitive(body, "password");
    struct role_in roles[PC_STAFF_MAX_ROLES];
    struct write_args a = {.by = by, .ip = ip, .request_id = request_id, .disabled = -1};
    if (!cJSON_IsString(user) || !pc_staff_username_valid(user->valuestring))
        return bad(e, "username", "用户名应为 1 至 64 位字母、数字或 . _ - @");
    int rc = check_password(pw, e);
    if (rc == 0)
        rc = check_display_name(cJSON_GetObjectItemCaseSensitive(body, "display_name"),
                                &a.display_name, e);
    if (rc == 0)
        rc = parse_roles(db, by, cJSON_GetObjectItemCaseSensitive(body, "roles"), roles, &a.nroles,
                         e);
    if (rc)
        return rc;
    char hash[256];
    if (pc_staff_hash_password(pw->valuestring, hash, sizeof hash))
        return PC_ECRYPTO;
    a.username = user->valuestring;
    a.hash = hash;
    a.roles = roles;
    rc = pc_db_tx(db, create_tx, &a);
    OPENSSL_cleanse(hash, sizeof hash);
    bool visible;
    if (rc == 0)
        rc = load(db, by, a.id, account, &visible);
    return rc;
}

int pc_staff_account_patch(struct pc_db *db, const struct pc_staff_auth *by, int64_t id,
                           const cJSON *body, const char *ip, const char *request_id,
                           cJSON **account, struct pc_staff_input_err *e)
{
    cJSON *cur = NULL;
    bool visible = false;
    int rc = load(db, by, id, &cur, &visible);
    struct write_args a = {.by = by, .ip = ip, .request_id = request_id, .id = id, .disabled = -1};
    const cJSON *cr;
    bool first = true;
    cJSON_ArrayForEach(cr, cJSON_GetObjectItemCaseSensitive(cur, "roles"))
    {
        const cJSON *sc = cJSON_GetObjectItemCaseSensitive(cr, "school_id");
        int64_t school = cJSON_IsNumber(sc) ? (int64_t)sc->valuedouble : 0;
        a.school_id = first || a.school_id == school ? school : 0;
        first = false;
    }
    cJSON_Delete(cur);
    if (rc == 0 && !visible)
        rc = PC_ENOTFOUND;
    if (rc)
        return rc;
    struct role_in roles[PC_STAFF_MAX_ROLES];
    const cJSON *dis = cJSON_GetObjectItemCaseSensitive(body, "disabled");
    const cJSON *pw = cJSON_GetObjectItemCaseSensitive(body, "password");
    const cJSON *ro = cJSON_GetObjectItemCaseSensitive(body, "roles");
    if (dis && !cJSON_IsBool(dis))
        return bad(e, "disabled", "disabled 应为 true 或 false");
    if (dis)
        a.disabled = cJSON_IsTrue(dis) ? 1 : 0;
    rc = check_display_name(cJSON_GetObjectItemCaseSensitive(body, "display_name"), &a.display_name,
                            e);
    if (rc == 0 && pw)
        rc = check_password(pw, e);
    if (rc == 0 && ro) {
        rc = parse_roles(db, by, ro, roles, &a.nroles, e);
        a.roles = roles;
    }
    if (rc)
        return rc;
    if (!dis && !pw && !ro && !a.display_name)
        return bad(e, "roles", "没有需要修改的内容");
    if (id == by->id && a.disabled > 0)
        return bad(e, "disabled", "不能停用自己的账号");
    if (id == by->id && ro && (by->roles & PC_ROLE_ADMIN)) {
        bool still_admin = false;
        for (size_t i = 0; i < a.nroles; i++)
            still_admin = still_admin || !strcmp(roles[i].role, "admin");
        if (!still_admin)
            return bad(e, "roles", "不能移除自己的管理员角色");
    }
    char hash[256] = "";
    if (pw && pc_staff_hash_password(pw->valuestring, hash, sizeof hash))
        return PC_ECRYPTO;
    a.hash = pw ? hash : NULL;
    rc = pc_db_tx(db, patch_tx, &a);
    OPENSSL_cleanse(hash, sizeof hash);
    if (rc == 0)
        rc = load(db, by, id, account, &visible);
    return rc;
}

/* ---- reviewers of a task ---- */

int pc_staff_task_reviewers(struct pc_db *db, int64_t task_id, cJSON **items)
{
    struct pc_store_staff_row *rows = NULL;
    size_t n = 0;
    int rc = pc_store_staff_task_reviewers(db, task_id, &rows, &n);
    if (rc)
        return rc;
    *items = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "id", (double)rows[i].id);
        cJSON_AddStringToObject(o, "username", rows[i].username);
        cJSON_AddItemToObject(o, "display_name",
                              rows[i].display_name[0] ? cJSON_CreateString(rows[i].display_name)
                                                      : cJSON_CreateNull());
        cJSON_AddBoolToObject(o, "disabled", rows[i].disabled);
        cJSON_AddItemToArray(*items, o);
    }
    free(rows);
    return 0;
}

struct assign_args {
    const struct pc_staff_auth *by;
    int64_t staff_id, task_id, school_id;
    bool add;
    const char *ip, *rid;
    uint64_t changed;
};

static int assign_tx(struct pc_db *db, void *arg)
{
    struct assign_args *a = arg;
    struct pc_store_role have[PC_STAFF_MAX_ROLES * 2];
    size_t n = 0;
    int rc = pc_store_staff_roles(db, a->staff_id, have, sizeof have / sizeof have[0], &n);
    bool held = false;
    for (size_t i = 0; rc == 0 && i < n; i++)
        held = held || (!strcmp(have[i].role, "reviewer") && have[i].task_id == a->task_id);
    if (rc)
        return rc;
    if (a->add && !held) {
        if (n >= PC_STAFF_MAX_ROLES)
            return PC_ETOOBIG;
        rc =
            pc_store_staff_role_insert(db, a->staff_id, "reviewer", a->school_id, NULL, a->task_id);
        a->changed = rc == 0;
    } else if (!a->add && held) {
        rc = pc_store_staff_role_delete(db, a->staff_id, "reviewer", a->school_id, NULL, a->task_id,
                                        &a->changed);
    }
    if (rc == 0 && a->changed) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddNumberToObject(d, a->add ? "reviewer_task_added" : "reviewer_task_removed",
                                (double)a->task_id);
        rc = pc_staff_audit(db, a->by, a->school_id, "staff.update", "staff", a->staff_id, d, a->ip,
                            a->rid);
        cJSON_Delete(d);
    }
    return rc;
}

int pc_staff_task_reviewer_set(struct pc_db *db, const struct pc_staff_auth *by, int64_t task_id,
                               int64_t school_id, int64_t staff_id, bool add, const char *ip,
                               const char *request_id)
{
    cJSON *cur = NULL;
    bool visible = false;
    int rc = load(db, by, staff_id, &cur, &visible);
    cJSON_Delete(cur);
    if (rc == 0 && !visible)
        rc = PC_ENOTFOUND; /* an account outside the admin's reach */
    if (rc == 0 && !pc_staff_may(by, PC_ROLE_ADMIN, school_id, task_id))
        rc = PC_ENOTFOUND;
    if (rc)
        return rc;
    struct assign_args a = {by, staff_id, task_id, school_id, add, ip, request_id, 0};
    return pc_db_tx(db, assign_tx, &a);
}
