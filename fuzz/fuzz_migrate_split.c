/* fuzz_migrate_split.c — the migration statement splitter on arbitrary text. */
#include "store/migrate.h"

#include <stdint.h>
#include <stdlib.h>

static int count(const char *s, size_t n, void *arg)
{
    (void)s;
    *(size_t *)arg += n;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t total = 0;
    pc_migrate_split((const char *)data, size, count, &total);
    if (total > size + size / 2 + 1)
        abort(); /* statements cannot add text beyond the joining newlines */
    return 0;
}
