/* fuzz_time.c — RFC 3339 and DATETIME parsers; a parsed time must format and parse back. */
#include "base/timeutil.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    int64_t t, t2;
    char out[40];
    if (pc_time_parse_rfc3339(s, &t) == 0 && pc_time_rfc3339(t, out, sizeof out, 480) == 0) {
        if (pc_time_parse_rfc3339(out, &t2) != 0 || t2 != t)
            abort();
    }
    if (pc_time_parse_db(s, &t) == 0)
        pc_time_db_to_api(s, out, sizeof out);
    free(s);
    return 0;
}
