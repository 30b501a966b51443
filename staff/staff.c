/* staff/staff.c — staff accounts, login and tokens (rules); SQL is in store/. */
#include "staff/staff.h"

#include "base/crypto.h"
#include "base/err.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "config/config.h"
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
#define RL_USER   "login_user"
#define RL_ADDR   "login_addr"
#define MAX_ROLES 16

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

struct create_args {
    const char *username, *hash, *role, *college;
    int64_t school_id;
    int64_t id;
};

static int create_tx(struct pc_db *db, void *arg)
{
    struct create_args *a = arg;
    int rc = pc_store_staff_insert(db, a->username, a->hash, NULL, &a->id);
    if (rc == 0)
        rc = pc_store_staff_role_insert(db, a->id, a->role, a->school_id, a->college, 0);
    if (rc == 0) {
        char target[24];
        snprintf(target, sizeof target, "%lld", (long long)a->id);
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "username", a->username);
        cJSON_AddStringToObject(d, "role", a->role);
        struct pc_audit au = {.actor_type = "system",
                              .action = "staff.create",
                              .target_type = "staff",
                              .target_id = target,
                              .details = d};
        rc = pc_store_audit_insert(db, &au);
        cJSON_Delete(d);
    }
    return rc;
}

int pc_staff_create(struct pc_db *db, const char *username, const char *password, const char *role,
                    const char *school_code, const char *college, int64_t *id)
{
    if (!pc_staff_username_valid(username) || !pc_role_from_name(role) || !password ||
        strlen(password) < PC_STAFF_PASSWORD_MIN || strlen(password) > PC_STAFF_PASSWORD_MAX)
        return PC_EINVAL;
    if (!strcmp(role, "college") && (!school_code || !college || !college[0]))
        return PC_EINVAL;
    struct create_args a = {username, NULL, role, college, 0, 0};
    if (school_code) {
        int rc = pc_store_school_id_by_code(db, school_code, &a.school_id);
        if (rc)
            return rc;
    }
    char hash[256];
    if (pc_staff_hash_password(password, hash, sizeof hash))
        return PC_ECRYPTO;
    a.hash = hash;
    int rc = pc_db_tx(db, create_tx, &a);
    OPENSSL_cleanse(hash, sizeof hash);
    if (rc == 0 && id)
        *id = a.id;
    return rc;
}

int pc_staff_set_password(struct pc_db *db, const char *username, const char *password)
{
    if (!password || strlen(password) < PC_STAFF_PASSWORD_MIN ||
        strlen(password) > PC_STAFF_PASSWORD_MAX)
        return PC_EINVAL;
    struct pc_store_staff s;
    int rc = pc_store_staff_by_username(db, username, &s);
    if (rc)
        return rc;
    char hash[256];
    if (pc_staff_hash_password(password, hash, sizeof hash))
        return PC_ECRYPTO;
    rc = pc_store_staff_set_password(db, s.id, hash);
    if (rc == 0) {
        char target[24];
        snprintf(target, sizeof target, "%lld", (long long)s.id);
        struct pc_audit au = {.actor_type = "system",
                              .action = "staff.password_set",
                              .target_type = "staff",
                              .target_id = target};
        rc = pc_store_audit_insert(db, &au);
    }
    return rc;
}

static void audit_login(struct pc_db *db, const struct pc_login_in *in, int64_t staff_id,
                        const char *result)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "result", result);
    char target[24];
    snprintf(target, sizeof target, "%lld", (long long)staff_id);
    struct pc_audit au = {.actor_type = staff_id ? "staff" : "anonymous",
                          .actor_id = staff_id,
                          .actor_name = in->username,
                          .action = "staff.login",
                          .target_type = "staff",
                          .target_id = staff_id ? target : NULL,
                          .ip = in->ip,
                          .request_id = in->request_id,
                          .details = d};
    pc_store_audit_insert(db, &au);
    cJSON_Delete(d);
}

static unsigned roles_mask(struct pc_db *db, int64_t staff_id, struct pc_staff_auth *auth, int *rc)
{
    struct pc_store_role roles[MAX_ROLES];
    size_t n = 0;
    unsigned mask = 0;
    *rc = pc_store_staff_roles(db, staff_id, roles, MAX_ROLES, &n);
    for (size_t i = 0; i < n; i++) {
        mask |= pc_role_from_name(roles[i].role);
        if (auth && roles[i].school_id && !auth->school_id)
            auth->school_id = roles[i].school_id;
        if (auth && roles[i].college[0] && !auth->college[0])
            snprintf(auth->college, sizeof auth->college, "%s", roles[i].college);
        if (auth && roles[i].task_id && !auth->task_id)
            auth->task_id = roles[i].task_id;
    }
    return mask;
}

int pc_staff_login(struct pc_db *db, const struct pc_config *cfg, const struct pc_login_in *in,
                   struct pc_login_out *out)
{
    memset(out, 0, sizeof *out);
    int hits_u = 0, hits_a = 0, ra_u = 0, ra_a = 0;
    int rc = pc_store_rl_get(db, RL_USER, in->username, cfg->login_window_s, &hits_u, &ra_u);
    if (rc == 0)
        rc = pc_store_rl_get(db, RL_ADDR, in->ip, cfg->login_window_s, &hits_a, &ra_a);
    if (rc)
        return rc;
    if (hits_u >= cfg->login_user_max_failures || hits_a >= cfg->login_addr_max_failures) {
        out->retry_after_s = ra_u > ra_a ? ra_u : ra_a;
        if (out->retry_after_s < 1)
            out->retry_after_s = 1;
        audit_login(db, in, 0, "rate_limited");
        return PC_ELIMIT;
    }

    struct pc_store_staff s;
    rc = pc_store_staff_by_username(db, in->username, &s);
    if (rc && rc != PC_ENOTFOUND)
        return rc;
    int ok;
    if (rc == PC_ENOTFOUND) {
        pthread_once(&g_dummy_once, make_dummy);
        pc_staff_verify_password(g_dummy, in->password);
        ok = 0;
        s.id = 0;
    } else {
        ok = pc_staff_verify_password(s.password_hash, in->password) && !s.disabled;
    }
    OPENSSL_cleanse(s.password_hash, sizeof s.password_hash);
    if (!ok) {
        rc = pc_store_rl_hit(db, RL_USER, in->username, cfg->login_window_s);
        if (rc == 0)
            rc = pc_store_rl_hit(db, RL_ADDR, in->ip, cfg->login_window_s);
        audit_login(db, in, s.id, rc == 0 && s.id && s.disabled ? "disabled" : "bad_credentials");
        return rc ? rc : PC_EAUTH;
    }

    char token_hash[PC_SHA256_HEXLEN], expires_db[32];
    int64_t session_id = 0;
    if (pc_token_new(out->token))
        return PC_ECRYPTO;
    pc_sha256_hex(out->token, strlen(out->token), token_hash);
    rc = pc_store_staff_session_insert(db, s.id, token_hash, cfg->staff_token_ttl_s, in->ip,
                                       in->user_agent, &session_id, expires_db);
    if (rc == 0)
        out->roles = roles_mask(db, s.id, NULL, &rc);
    if (rc) {
        OPENSSL_cleanse(out->token, sizeof out->token);
        return rc;
    }
    pc_time_db_to_api(expires_db, out->expires_at, sizeof out->expires_at);
    pc_store_rl_clear(db, RL_USER, in->username);
    audit_login(db, in, s.id, "ok");
    return 0;
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

int pc_staff_audit(struct pc_db *db, const struct pc_staff_auth *by, const char *action,
                   const char *target_type, int64_t target_id, const cJSON *details, const char *ip,
                   const char *request_id)
{
    char target[24];
    snprintf(target, sizeof target, "%lld", (long long)target_id);
    struct pc_audit au = {.actor_type = "staff",
                          .actor_id = by->id,
                          .actor_name = by->username,
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
    return pc_staff_audit(db, auth, "staff.logout", "staff", auth->id, NULL, ip, request_id);
}

int pc_staff_audit_list(struct pc_db *db, int64_t before_id, int limit, cJSON **items)
{
    return pc_store_audit_list(db, before_id, limit, items);
}
