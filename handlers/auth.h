/* handlers/auth.h — the reusable guard for staff and student routes.
 *
 * pc_auth_staff resolves "Authorization: Bearer <token>" and checks roles; on failure it
 * has already set the response (401 UNAUTHORIZED / TOKEN_EXPIRED with WWW-Authenticate,
 * 403 FORBIDDEN, 503 when the database is down) and the handler just returns.
 * Worker thread (it reads the database). */
#ifndef PC_HANDLERS_AUTH_H
#define PC_HANDLERS_AUTH_H

#include "server/req.h"

/* Roles a route accepts: any one of the bits suffices; admin passes every guard;
 * 0 accepts any authenticated staff member. Returns 0 when the caller may proceed,
 * with pc_req_staff(r) filled in; non-zero when the response is set. */
int pc_auth_staff(struct pc_req *r, struct pc_ctx *ctx, unsigned roles_any);

/* The same for student routes: resolves the student token into pc_req_user(r).
 * 0 to proceed; non-zero when the response (401 / 503) is set. */
int pc_auth_user(struct pc_req *r, struct pc_ctx *ctx);

/* The student guard without the database, for a PC_ROUTE_LOOP handler on the loop: 1 with
 * pc_req_user(r) filled when the session cache knows the token; 0 when only the database can
 * tell (go on with pc_auth_user on a worker); -1 when the response (401, no token) is set. */
int pc_auth_user_cached(struct pc_req *r);

/* The bearer token of the request, or NULL. Borrowed from the request. */
const char *pc_auth_bearer(const struct pc_req *r, size_t *len);

#endif
