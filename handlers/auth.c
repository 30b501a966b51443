/* handlers/auth.c — the bearer-token guard for staff and student routes. */
#include "handlers/auth.h"

#include "base/err.h"
#include "staff/staff.h"
#include "users/users.h"

#include <string.h>
#include <strings.h>

const char *pc_auth_bearer(const struct pc_req *r, size_t *len)
{
    const char *h = pc_req_header(r, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return NULL;
    h += 7;
    while (*h == ' ')
        h++;
    size_t n = strcspn(h, " \t");
    if (n == 0 || n > 128)
        return NULL;
    if (len)
        *len = n;
    return h;
}

/* Copies the bearer token into token[129]; sets 401 and returns -1 when there is none. */
static int take_bearer(struct pc_req *r, char token[129])
{
    size_t n = 0;
    const char *tok = pc_auth_bearer(r, &n);
    if (!tok) {
        pc_resp_header(r, "WWW-Authenticate", "Bearer");
        pc_resp_error(r, 401, "UNAUTHORIZED", "请先登录", NULL);
        return -1;
    }
    memcpy(token, tok, n);
    token[n] = '\0';
    return 0;
}

static void token_refused(struct pc_req *r, bool expired)
{
    pc_resp_header(r, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
    if (expired)
        pc_resp_error(r, 401, "TOKEN_EXPIRED", "登录已过期，请重新登录", NULL);
    else
        pc_resp_error(r, 401, "UNAUTHORIZED", "登录已失效，请重新登录", NULL);
}

int pc_auth_user(struct pc_req *r, struct pc_ctx *ctx)
{
    char token[129];
    if (take_bearer(r, token))
        return -1;
    enum pc_user_token_state st;
    struct pc_user_auth u;
    int rc = pc_user_authenticate(ctx->db, token, &u, &st);
    if (rc) {
        pc_resp_from_err(r, ctx, rc);
        return -1;
    }
    if (st != PC_USER_TOKEN_OK) {
        token_refused(r, st == PC_USER_TOKEN_EXPIRED);
        return -1;
    }
    pc_req_set_user(r, &u);
    return 0;
}

int pc_auth_user_cached(struct pc_req *r)
{
    char token[129];
    if (take_bearer(r, token))
        return -1;
    struct pc_user_auth u;
    if (!pc_user_token_cached(token, &u))
        return 0;
    pc_req_set_user(r, &u);
    return 1;
}

int pc_auth_staff(struct pc_req *r, struct pc_ctx *ctx, unsigned roles_any)
{
    char token[129];
    if (take_bearer(r, token))
        return -1;
    enum pc_token_state st;
    struct pc_staff_auth s;
    int rc = pc_staff_authenticate(ctx->db, token, &s, &st);
    if (rc) {
        pc_resp_from_err(r, ctx, rc);
        return -1;
    }
    if (st != PC_TOKEN_OK) {
        token_refused(r, st == PC_TOKEN_EXPIRED);
        return -1;
    }
    pc_req_set_staff(r, &s);
    if (roles_any && !(s.roles & (roles_any | PC_ROLE_ADMIN))) {
        pc_resp_error(r, 403, "FORBIDDEN", "没有权限执行此操作", NULL);
        return -1;
    }
    return 0;
}
