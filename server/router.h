/* server/router.h — matching a method and path against the route table.
 *
 * Patterns are literal segments and {name} captures ("/api/v1/orders/{order_no}").
 * A capture matches one non-empty segment; its value is percent-decoded and must not
 * contain '/' or NUL after decoding. Pure functions; any thread. */
#ifndef PC_SERVER_ROUTER_H
#define PC_SERVER_ROUTER_H

#include "server/req.h"

#include <stddef.h>

#define PC_ROUTER_MAX_CAPTURES 6

struct pc_route_match {
    int index;                            /* route index, or -1 */
    size_t ncap;                          /* captures found */
    char *names[PC_ROUTER_MAX_CAPTURES];  /* caller frees (pc_route_match_clear) */
    char *values[PC_ROUTER_MAX_CAPTURES]; /* decoded */
    char allow[64];                       /* when no method matched but the path did: "GET, POST" */
};

/* Finds the route for method+path. Returns 0 and fills m on a match; PC_ENOTFOUND when
 * no pattern matches the path (404), PC_ECONFLICT when the path matches only under other
 * methods (405, m->allow lists them). Routes flagged DEBUG are skipped unless debug. */
int pc_router_match(const struct pc_route *routes, size_t n, const char *method, const char *path,
                    int debug, struct pc_route_match *m);
void pc_route_match_clear(struct pc_route_match *m);

#endif
