/* staff/staff.c — staff accounts, login and tokens (rules); SQL is in store/. */
#include "staff/staff.h"

#include "base/crypto.h"
#include "base/err.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "config/config.h"
#include "staff/scope.h"
#include "store/audit.h"
#include "store/ratelimit.h"
#include "store/staff.h"
#include "store/tasks.h"

#include <argon2.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* OWASP Password Storage Cheat Sheet: Argon2id, m=19 MiB, t=2, p=1. */
#define ARGON_T   2
#define ARGON_M   19456
#define ARGON_P   1
#define SALT_LEN  16
#define HASH_LEN  32
#define RL_PAIR   "login_pair"
#define RL_ADDR   "login_addr"
#define MAX_ROLES PC_STAFF_AUTH_ROLES

static const struct {
    const char *name;
    unsigned bit;
} g_roles[] = {{"admin", PC_ROLE_ADMIN},
               {"reviewer", PC_ROLE_REVIEWER},
               {"finance", PC_ROLE_FINANCE},
               {"college", PC_ROLE_COLLEGE}};

unsigned pc_role_from_name(const char *name)
{
    for (size_t i = 0; i < sizeof g_roles / sizeof g_roles[0]; i++)
        if (name && !strcmp(name, g_roles[i].name))
            return g_roles[i].bit;
    return 0;
}

cJSON *pc_role_names(unsigned mask)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < sizeof g_roles / sizeof g_roles[0]; i++)
        if (mask & g_roles[i].bit)
            cJSON_AddItemToArray(a, cJSON_CreateString(g_roles[i].name));
    return a;
}

int pc_staff_hash_password(const char *password, char *out, size_t outlen)
{
    unsigned char salt[SALT_LEN];
    if (pc_rand_bytes(salt, sizeof salt))
        return PC_ECRYPTO;
    int rc = argon2id_hash_encoded(ARGON_T, ARGON_M, ARGON_P, password, strlen(password), salt,
                                   sizeof salt, HASH_LEN, out, outlen);
    return rc == ARGON2_OK ? 0 : PC_ECRYPTO;
}

int pc_staff_verify_password(const char *encoded, const char *password)
{
    return argon2id_verify(encoded, password, strlen(password)) == ARGON2_OK;
}

/* A hash to verify against when the username is unknown, so that both paths cost
 * the same and timing does not reveal which usernames exist. */
static pthread_once_t g_dummy_once = PTHREAD_ONCE_INIT;
static char g_dummy[128];
static void make_dummy(void)
{
    if (pc_staff_hash_password("portraitd-no-such-user", g_dummy, sizeof g_dummy))
        g_dummy[0] = '\0';
}

int pc_staff_username_valid(const char *u)
{
    size_t n = u ? strlen(u) : 0;
    if (n == 0 || n > PC_STAFF_USERNAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = u[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == '@'))
            return 0;
    }
    return 1;
}

/* The roles of staff_id, each with its own scope, into auth (may be NULL); returns the union
 * of their bits. */
static unsigned roles_mask(struct pc_db *db, int64_t staff_id, struct pc_staff_auth *auth, int *rc)
{
    struct pc_store_role roles[MAX_ROLES];
    size_t n = 0;
    unsigned mask = 0;
    *rc = pc_store_staff_roles(db, staff_id, roles, MAX_ROLES, &n);
    for (size_t i = 0; *rc == 0 && i < n; i++) {
        unsigned bit = pc_role_from_name(roles[i].role);
        mask |= bit;
        if (!auth || !bit || auth->nroles == PC_STAFF_AUTH_ROLES)
            continue;
        struct pc_staff_role *r = &auth->role[auth->nroles++];
        r->role = bit;
        r->school_id = roles[i].school_id;
        snprintf(r->college, sizeof r->college, "%s", roles[i].college);
        r->task_id = roles[i].task_id;
    }
    return mask;
}

/* An audit row of the command line (actor "system") about account staff_id. */
static int system_audit(struct pc_db *db, const char *action, int64_t staff_id, int64_t school_id,
                        const cJSON *details)
{
    char target[24];
    snprintf(target, sizeof target, "%lld", (long long)staff_id);
    struct pc_audit au = {.actor_type = "system",
                          .school_id = school_id,
                          .action = action,
                          .target_type = "staff",
                          .target_id = target,
                          .details = details};
    return pc_store_audit_insert(db, &au);
}

/* A role as the command line names it, resolved: the school of a code, the task's school. */
struct cli_role {
    const char *role, *college;
    int64_t school_id, task_id;
};

static int cli_role(struct pc_db *db, const char *role, const char *school_code,
                    const char *college, int64_t task_id, struct cli_role *out)
{
    memset(out, 0, sizeof *out);
    if (!pc_role_from_name(role))
        return PC_EINVAL;
    if (!strcmp(role, "college") != (college && college[0]))
        return PC_EINVAL; /* a college role needs its college, and only it may name one */
    if (task_id && strcmp(role, "reviewer"))
        return PC_EINVAL; /* only reviewers are assigned to a task */
    out->role = role;
    out->college = college && college[0] ? college : NULL;
    out->task_id = task_id;
    if (school_code) {
        int rc = pc_store_school_id_by_code(db, school_code, &out->school_id);
        if (rc)
            return rc;
    }
    if (task_id) {
        struct pc_task t;
        int rc = pc_store_task_get(db, task_id, false, &t);
        if (rc)
            return rc;
        if (out->school_id && out->school_id != t.school_id)
            return PC_EINVAL;
        out->school_id = t.school_id;
    }
    if (!strcmp(role, "college") && !out->school_id)
        return PC_EINVAL;
    return 0;
}

static cJSON *cli_role_json(const struct cli_role *r)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "role", r->role);
    cJSON_AddItemToObject(d, "school_id",
                          r->school_id ? cJSON_CreateNumber((double)r->school_id)
                                       : cJSON_CreateNull());
    cJSON_AddItemToObject(d, "college",
                          r->college ? cJSON_CreateString(r->college) : cJSON_CreateNull());
    cJSON_AddItemToObject(d, "task_id",
                          r->task_id ? cJSON_CreateNumber((double)r->task_id) : cJSON_CreateNull());
    return d;
}

struct create_args {
    const char *username, *hash;
    struct cli_role role;
    int64_t id;
};

static int create_tx(struct pc_db *db, void *arg)
{
    struct create_args *a = arg;
    int rc = pc_store_staff_insert(db, a->username, a->hash, NULL, &a->id);
    if (rc == 0)
        rc = pc_store_staff_role_insert(db, a->id, a->role.role, a->role.school_id, a->role.college,
                                        a->role.task_id);
    if (rc == 0) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "username", a->username);
        cJSON_AddItemToObject(d, "roles", cJSON_CreateArray());
        cJSON_AddItemToArray(cJSON_GetObjectItem(d, "roles"), cli_role_json(&a->role));
        rc = system_audit(db, "staff.create", a->id, a->role.school_id, d);
        cJSON_Delete(d);
    }
    return rc;
}

int pc_staff_create(struct pc_db *db, const char *username, const char *password, const char *role,
                    const char *school_code, const char *college, int64_t task_id, int64_t *id)
{
    if (!pc_staff_username_valid(username) || !password ||
        strlen(password) < PC_STAFF_PASSWORD_MIN || strlen(password) > PC_STAFF_PASSWORD_MAX)
        return PC_EINVAL;
    struct create_args a = {.username = username};
    int rc = cli_role(db, role, school_code, college, task_id, &a.role);
    if (rc)
        return rc;
    char hash[256];
    if (pc_staff_hash_password(password, hash, sizeof hash))
        return PC_ECRYPTO;
    a.hash = hash;
    rc = pc_db_tx(db, create_tx, &a);
    OPENSSL_cleanse(hash, sizeof hash);
    if (rc == 0 && id)
        *id = a.id;
    return rc;
}

struct passwd_args {
    int64_t id;
    const char *hash;
    uint64_t revoked;
};

/* A new password ends every session the account had (whoever held the old one is out). */
static int passwd_tx(struct pc_db *db, void *arg)
{
    struct passwd_args *a = arg;
    int rc = pc_store_staff_set_password(db, a->id, a->hash);
    if (rc == 0)
        rc = pc_store_staff_sessions_revoke_all(db, a->id, &a->revoked);
    if (rc == 0) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddBoolToObject(d, "password_changed", true);
        cJSON_AddNumberToObject(d, "sessions_revoked", (double)a->revoked);
        struct pc_staff_auth who = {.id = a->id};
        roles_mask(db, a->id, &who, &rc);
        if (rc == 0)
            rc = system_audit(db, "staff.password_set", a->id, pc_staff_home_school(&who), d);
        cJSON_Delete(d);
    }
    return rc;
}

int pc_staff_set_password(struct pc_db *db, const char *username, const char *password,
                          uint64_t *sessions_revoked)
{
    if (!password || strlen(password) < PC_STAFF_PASSWORD_MIN ||
        strlen(password) > PC_STAFF_PASSWORD_MAX)
        return PC_EINVAL;
    struct pc_store_staff s;
    int rc = pc_store_staff_by_username(db, username, &s);
    OPENSSL_cleanse(s.password_hash, sizeof s.password_hash);
    if (rc)
        return rc;
    char hash[256];
    if (pc_staff_hash_password(password, hash, sizeof hash))
        return PC_ECRYPTO;
    struct passwd_args a = {s.id, hash, 0};
    rc = pc_db_tx(db, passwd_tx, &a);
    OPENSSL_cleanse(hash, sizeof hash);
    if (rc == 0 && sessions_revoked)
        *sessions_revoked = a.revoked;
    return rc;
}

struct grant_args {
    int64_t id;
    struct cli_role role;
    bool grant;
    uint64_t changed;
};

static int grant_tx(struct pc_db *db, void *arg)
{
    struct grant_args *a = arg;
    int rc = a->grant ? pc_store_staff_role_insert(db, a->id, a->role.role, a->role.school_id,
                                                   a->role.college, a->role.task_id)
                      : pc_store_staff_role_delete(db, a->id, a->role.role, a->role.school_id,
                                                   a->role.college, a->role.task_id, &a->changed);
    if (rc == 0 && a->grant)
        a->changed = 1;
    if (rc == 0 && a->changed) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddItemToObject(d, a->grant ? "granted" : "revoked", cli_role_json(&a->role));
        rc = system_audit(db, "staff.update", a->id, a->role.school_id, d);
        cJSON_Delete(d);
    }
    return rc;
}

int pc_staff_role_change(struct pc_db *db, const char *username, bool grant, const char *role,
                         const char *school_code, const char *college, int64_t task_id)
{
    struct pc_store_staff s;
    int rc = pc_store_staff_by_username(db, username, &s);
    OPENSSL_cleanse(s.password_hash, sizeof s.password_hash);
    if (rc)
        return rc;
    struct grant_args a = {.id = s.id, .grant = grant};
    rc = cli_role(db, role, school_code, college, task_id, &a.role);
    if (rc == 0 && grant) {
        struct pc_store_role have[MAX_ROLES];
        size_t n = 0;
        rc = pc_store_staff_roles(db, s.id, have, MAX_ROLES, &n);
        for (size_t i = 0; rc == 0 && i < n; i++)
            if (!strcmp(have[i].role, a.role.role) && have[i].school_id == a.role.school_id &&
                have[i].task_id == a.role.task_id &&
                !strcmp(have[i].college, a.role.college ? a.role.college : ""))
                return 0; /* held already */
        if (rc == 0 && n >= MAX_ROLES)
            rc = PC_ETOOBIG;
    }
    if (rc == 0)
        rc = pc_db_tx(db, grant_tx, &a);
    if (rc == 0 && !grant && !a.changed)
        rc = PC_ENOTFOUND;
    return rc;
}

/* Who a login attempt names, as the counters and the audit row see it: never the typed text
 * (a password pasted into the username field must not end up in a table). */
struct login_subject {
    bool known;              /* an account has this (normalised) username */
    struct pc_store_staff s; /* the account when known */
    char key[40];            /* "id:<id>", or "h:" + 16 hex of an HMAC of the normalised text */
    int64_t school_id;       /* the account's one school, 0 = company or several */
};

/* Lower-cases ASCII and trims blanks: the form usernames are compared in (the column's
 * collation ignores case). */
static void normalise_username(const char *in, char *out, size_t len)
{
    while (*in == ' ' || *in == '\t')
        in++;
    size_t k = 0;
    for (; *in && k + 1 < len; in++)
        out[k++] = (*in >= 'A' && *in <= 'Z') ? (char)(*in - 'A' + 'a') : *in;
    while (k && (out[k - 1] == ' ' || out[k - 1] == '\t'))
        k--;
    out[k] = '\0';
}

static int login_subject(struct pc_db *db, const struct pc_config *cfg, const char *username,
                         struct login_subject *ls)
{
    char norm[PC_STAFF_PASSWORD_MAX + 1];
    memset(ls, 0, sizeof *ls);
    normalise_username(username, norm, sizeof norm);
    int rc =
        pc_staff_username_valid(norm) ? pc_store_staff_by_username(db, norm, &ls->s) : PC_ENOTFOUND;
    if (rc == 0) {
        ls->known = true;
        snprintf(ls->key, sizeof ls->key, "id:%lld", (long long)ls->s.id);
        struct pc_staff_auth a = {.id = ls->s.id};
        roles_mask(db, ls->s.id, &a, &rc);
        ls->school_id = rc == 0 ? pc_staff_home_school(&a) : 0;
    } else if (rc == PC_ENOTFOUND) {
        unsigned char key[PC_DATA_KEY_BYTES];
        char mac[PC_SHA256_HEXLEN];
        rc = pc_data_key_parse(cfg->data_key, key) ? PC_ECRYPTO : 0;
        if (rc == 0)
            rc = pc_hmac_sha256_hex(key, sizeof key, norm, strlen(norm), mac);
        OPENSSL_cleanse(key, sizeof key);
        snprintf(ls->key, sizeof ls->key, "h:%.16s", mac);
    }
    OPENSSL_cleanse(norm, sizeof norm);
    return rc;
}

/* The audit row of an attempt: the account's own username when the attempt named one, else no
 * name at all (details.username_key lets repeated attempts be told apart). */
static void audit_login(struct pc_db *db, const struct pc_login_in *in,
                        const struct login_subject *ls, const char *result)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "result", result);
    cJSON_AddBoolToObject(d, "username_known", ls->known);
    if (!ls->known)
        cJSON_AddStringToObject(d, "username_key", ls->key);
    char target[24];
    snprintf(target, sizeof target, "%lld", (long long)ls->s.id);
    struct pc_audit au = {.actor_type = ls->known ? "staff" : "anonymous",
                          .actor_id = ls->known ? ls->s.id : 0,
                          .actor_name = ls->known ? ls->s.username : NULL,
                          .school_id = ls->school_id,
                          .action = "staff.login",
                          .target_type = "staff",
                          .target_id = ls->known ? target : NULL,
                          .ip = in->ip,
                          .request_id = in->request_id,
                          .details = d};
    pc_store_audit_insert(db, &au);
    cJSON_Delete(d);
}

int pc_staff_login(struct pc_db *db, const struct pc_config *cfg, const struct pc_login_in *in,
                   struct pc_login_out *out)
{
    memset(out, 0, sizeof *out);
    struct login_subject ls;
    int rc = login_subject(db, cfg, in->username, &ls);
    if (rc)
        return rc;
    /* Failures count per account and address, and per address: a guesser elsewhere slows
     * only itself and never locks the account's owner out (docs/staff.md). */
    char pair[sizeof ls.key + 48];
    snprintf(pair, sizeof pair, "%s@%s", ls.key, in->ip ? in->ip : "");
    int hits_p = 0, hits_a = 0, ra_p = 0, ra_a = 0;
    rc = pc_store_rl_get(db, RL_PAIR, pair, cfg->login_window_s, &hits_p, &ra_p);
    if (rc == 0)
        rc = pc_store_rl_get(db, RL_ADDR, in->ip, cfg->login_window_s, &hits_a, &ra_a);
    if (rc)
        goto out;
    if (hits_p >= cfg->login_user_max_failures || hits_a >= cfg->login_addr_max_failures) {
        out->retry_after_s = ra_p > ra_a ? ra_p : ra_a;
        if (out->retry_after_s < 1)
            out->retry_after_s = 1;
        audit_login(db, in, &ls, "rate_limited");
        rc = PC_ELIMIT;
        goto out;
    }
    int ok;
    if (!ls.known) {
        pthread_once(&g_dummy_once, make_dummy);
        pc_staff_verify_password(g_dummy, in->password);
        ok = 0;
    } else {
        ok = pc_staff_verify_password(ls.s.password_hash, in->password) && !ls.s.disabled;
    }
    if (!ok) {
        rc = pc_store_rl_hit(db, RL_PAIR, pair, cfg->login_window_s);
        if (rc == 0)
            rc = pc_store_rl_hit(db, RL_ADDR, in->ip, cfg->login_window_s);
        audit_login(db, in, &ls,
                    rc == 0 && ls.known && ls.s.disabled ? "disabled" : "bad_credentials");
        rc = rc ? rc : PC_EAUTH;
        goto out;
    }

    char token_hash[PC_SHA256_HEXLEN], expires_db[32];
    int64_t session_id = 0;
    if (pc_token_new(out->token)) {
        rc = PC_ECRYPTO;
        goto out;
    }
    pc_sha256_hex(out->token, strlen(out->token), token_hash);
    rc = pc_store_staff_session_insert(db, ls.s.id, token_hash, cfg->staff_token_ttl_s, in->ip,
                                       in->user_agent, &session_id, expires_db);
    if (rc == 0)
        out->roles = roles_mask(db, ls.s.id, NULL, &rc);
    if (rc) {
        OPENSSL_cleanse(out->token, sizeof out->token);
        goto out;
    }
    pc_time_db_to_api(expires_db, out->expires_at, sizeof out->expires_at);
    pc_store_rl_clear(db, RL_PAIR, pair);
    audit_login(db, in, &ls, "ok");
out:
    OPENSSL_cleanse(ls.s.password_hash, sizeof ls.s.password_hash);
    return rc;
}

int pc_staff_authenticate(struct pc_db *db, const char *token, struct pc_staff_auth *out,
                          enum pc_token_state *state)
{
    memset(out, 0, sizeof *out);
    *state = PC_TOKEN_UNKNOWN;
    char token_hash[PC_SHA256_HEXLEN];
    pc_sha256_hex(token, strlen(token), token_hash);
    struct pc_store_session s;
    int rc = pc_store_staff_session_get(db, token_hash, &s);
    if (rc == PC_ENOTFOUND)
        return 0;
    if (rc)
        return rc;
    if (s.revoked || s.disabled)
        return 0;
    if (s.expired) {
        *state = PC_TOKEN_EXPIRED;
        return 0;
    }
    out->id = s.staff_id;
    out->session_id = s.session_id;
    snprintf(out->username, sizeof out->username, "%s", s.username);
    out->roles = roles_mask(db, s.staff_id, out, &rc);
    if (rc)
        return rc;
    *state = PC_TOKEN_OK;
    return 0;
}

int pc_staff_audit(struct pc_db *db, const struct pc_staff_auth *by, int64_t school_id,
                   const char *action, const char *target_type, int64_t target_id,
                   const cJSON *details, const char *ip, const char *request_id)
{
    char target[24];
    snprintf(target, sizeof target, "%lld", (long long)target_id);
    struct pc_audit au = {.actor_type = "staff",
                          .actor_id = by->id,
                          .actor_name = by->username,
                          .school_id = school_id,
                          .action = action,
                          .target_type = target_type,
                          .target_id = target,
                          .ip = ip,
                          .request_id = request_id,
                          .details = details};
    return pc_store_audit_insert(db, &au);
}

int pc_staff_logout(struct pc_db *db, const struct pc_staff_auth *auth, const char *ip,
                    const char *request_id)
{
    int rc = pc_store_staff_session_revoke(db, auth->session_id);
    if (rc)
        return rc;
    return pc_staff_audit(db, auth, pc_staff_home_school(auth), "staff.logout", "staff", auth->id,
                          NULL, ip, request_id);
}

/* One audit row of a read about school: details plus the refs of items of that school. */
static int audit_read_row(struct pc_db *db, const struct pc_staff_auth *by, const char *action,
                          const char *target_type, int64_t target_id, const cJSON *details,
                          const struct pc_read_item *items, size_t n, int64_t school,
                          const char *ip, const char *request_id)
{
    cJSON *d = details ? cJSON_Duplicate(details, 1) : cJSON_CreateObject();
    cJSON *refs = cJSON_AddArrayToObject(d, "refs");
    size_t rows = 0;
    for (size_t k = 0; k < n; k++)
        if (items[k].school_id == school && rows++ < PC_AUDIT_READ_REFS && items[k].ref)
            cJSON_AddItemToArray(refs, cJSON_CreateString(items[k].ref));
    cJSON_AddNumberToObject(d, "rows", (double)rows);
    int rc = pc_staff_audit(db, by, school, action, target_type, target_id, d, ip, request_id);
    cJSON_Delete(d);
    return rc;
}

int pc_staff_audit_read(struct pc_db *db, const struct pc_staff_auth *by, const char *action,
                        const char *target_type, int64_t target_id, const cJSON *details,
                        const struct pc_read_item *items, size_t n, const char *ip,
                        const char *request_id)
{
    if (n == 0)
        return 0; /* nothing personal was read (an empty queue polled by the console) */
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        bool seen = false; /* one row per school, written at its first item */
        for (size_t k = 0; k < i && !seen; k++)
            seen = items[k].school_id == items[i].school_id;
        if (!seen)
            rc = audit_read_row(db, by, action, target_type, target_id, details, items, n,
                                items[i].school_id, ip, request_id);
    }
    return rc;
}

struct audit_list_args {
    const struct pc_staff_auth *by;
    const struct pc_scope *scope;
    int64_t before_id;
    int limit;
    const char *ip, *rid;
    cJSON **items;
};

static int audit_list_tx(struct pc_db *db, void *arg)
{
    struct audit_list_args *a = arg;
    int rc = pc_store_audit_list(db, a->scope, a->before_id, a->limit, a->items);
    if (rc == 0) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddNumberToObject(d, "rows", cJSON_GetArraySize(*a->items));
        rc = pc_staff_audit(db, a->by, pc_staff_home_school(a->by), "audit.read", "audit_log", 0, d,
                            a->ip, a->rid);
        cJSON_Delete(d);
    }
    if (rc) {
        cJSON_Delete(*a->items);
        *a->items = NULL;
    }
    return rc;
}

int pc_staff_audit_list(struct pc_db *db, const struct pc_staff_auth *by, int64_t before_id,
                        int limit, const char *ip, const char *request_id, cJSON **items)
{
    struct pc_scope scope;
    pc_staff_scope(by, PC_ROLE_ADMIN, &scope);
    struct audit_list_args a = {by, &scope, before_id, limit, ip, request_id, items};
    return pc_db_tx(db, audit_list_tx, &a);
}
