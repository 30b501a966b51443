/* base/alloc.c — abort-on-OOM allocator. Owns nothing; any thread. */
#include "base/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t n, const char *file, int line)
{
    fprintf(stderr,
            "{\"level\":\"fatal\",\"msg\":\"out of memory\",\"bytes\":%zu,\"at\":\"%s:%d\"}\n", n,
            file, line);
    abort();
}

void *pc_xmalloc_(size_t n, const char *file, int line)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n, file, line);
    return p;
}

void *pc_xcalloc_(size_t nmemb, size_t size, const char *file, int line)
{
    void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
    if (!p)
        oom(nmemb * size, file, line);
    return p;
}

void *pc_xrealloc_(void *p, size_t n, const char *file, int line)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n, file, line);
    return q;
}

char *pc_xstrdup_(const char *s, const char *file, int line)
{
    return pc_xmemdup_(s, strlen(s) + 1, file, line);
}

char *pc_xstrndup_(const char *s, size_t n, const char *file, int line)
{
    size_t len = strnlen(s, n);
    char *p = pc_xmalloc_(len + 1, file, line);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

void *pc_xmemdup_(const void *p, size_t n, const char *file, int line)
{
    void *q = pc_xmalloc_(n, file, line);
    if (n)
        memcpy(q, p, n);
    return q;
}
