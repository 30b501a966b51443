/* core/ctx.h — what a domain call needs besides its arguments, and who is calling.
 *
 * Knows nothing about HTTP: the same context is handed to a request's handler on a worker
 * thread, and to a background duty on the jobs thread. The program (app/) fills in the
 * process-wide part once at start-up; each thread that talks to the database adds its own
 * connection. Everything a context points to is borrowed and outlives it. */
#ifndef PC_CORE_CTX_H
#define PC_CORE_CTX_H

#include <stddef.h>
#include <stdint.h>

struct pc_config;
struct pc_db;
struct pc_pay;

struct pc_ctx {
    const struct pc_config *cfg; /* immutable, shared by every thread */
    struct pc_db *db;            /* this thread's connection; NULL on an event-loop thread */
    const struct pc_pay *pay;    /* WeChat Pay client (payment/wxpay.h); NULL when unconfigured */
    const char *instance;        /* this process among several (host:pid:random): lease holder */
    /* Makes the background jobs run now (any thread); NULL when there are none. */
    void (*wake_jobs)(void *arg);
    void *wake_arg;
};

/* Asks the background jobs to run now (e.g. a request saw a rejected access_token, a new
 * message waits in the outbox). Any thread; does nothing when no jobs are registered. */
static inline void pc_ctx_wake_jobs(const struct pc_ctx *ctx)
{
    if (ctx->wake_jobs)
        ctx->wake_jobs(ctx->wake_arg);
}

/* One role of a staff member with its own scope (staff_roles): a role grants only within it. */
#define PC_STAFF_AUTH_ROLES 16
struct pc_staff_role {
    unsigned role;     /* one PC_ROLE_* bit (staff/staff.h) */
    int64_t school_id; /* 0 = company-wide */
    char college[129]; /* a college role's college; "" otherwise */
    int64_t task_id;   /* a reviewer assigned to one task; 0 = every task in its school scope */
};

/* The staff member a call is made for (filled by the bearer-token guard, handlers/auth.h).
 * Each role carries its own scope: which role grants an action, and where, is decided per
 * role by staff/scope.h (never from the first role alone). */
struct pc_staff_auth {
    int64_t id;
    int64_t session_id;
    char username[65];
    unsigned roles; /* the union of the PC_ROLE_* bits of role[] */
    size_t nroles;
    struct pc_staff_role role[PC_STAFF_AUTH_ROLES];
};

/* The student a call is made for (filled by the bearer-token guard, handlers/auth.h). */
struct pc_user_auth {
    int64_t id;
    int64_t session_id;
    char openid[65];
};

#endif
