/* fuzz_router.c — method + path bytes into the router (captures, percent-decoding). */
#include "handlers/handlers.h"
#include "server/router.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
    if (size < 1)
        return 0;
    char *path = malloc(size);
    memcpy(path, data + 1, size - 1);
    path[size - 1] = '\0';
    struct pc_route_match m;
    int rc =
        pc_router_match(pc_routes, pc_routes_count, methods[data[0] % 5], path, data[0] & 8, &m);
    if (rc == 0)
        pc_route_match_clear(&m);
    free(path);
    return 0;
}
