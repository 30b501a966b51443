/* base/alloc.h — allocation that aborts on out-of-memory (redis zmalloc, h2o_fatal).
 *
 * Callers never check these for NULL. Input-sized allocations that an attacker
 * controls (image pixels) use explicit limits before calling them. Any thread. */
#ifndef PC_BASE_ALLOC_H
#define PC_BASE_ALLOC_H

#include <stddef.h>

void *pc_xmalloc_(size_t n, const char *file, int line) __attribute__((malloc));
void *pc_xcalloc_(size_t nmemb, size_t size, const char *file, int line) __attribute__((malloc));
void *pc_xrealloc_(void *p, size_t n, const char *file, int line);
char *pc_xstrdup_(const char *s, const char *file, int line) __attribute__((malloc));
char *pc_xstrndup_(const char *s, size_t n, const char *file, int line) __attribute__((malloc));
void *pc_xmemdup_(const void *p, size_t n, const char *file, int line) __attribute__((malloc));

#define pc_xmalloc(n)     pc_xmalloc_((n), __FILE__, __LINE__)
#define pc_xcalloc(n, s)  pc_xcalloc_((n), (s), __FILE__, __LINE__)
#define pc_xrealloc(p, n) pc_xrealloc_((p), (n), __FILE__, __LINE__)
#define pc_xstrdup(s)     pc_xstrdup_((s), __FILE__, __LINE__)
#define pc_xstrndup(s, n) pc_xstrndup_((s), (n), __FILE__, __LINE__)
#define pc_xmemdup(p, n)  pc_xmemdup_((p), (n), __FILE__, __LINE__)
#define pc_new(type)      ((type *)pc_xcalloc(1, sizeof(type)))
/* Frees and NULLs a pointer lvalue (curl's safefree). */
#define pc_free_null(p)                                                                            \
    do {                                                                                           \
        free(p);                                                                                   \
        (p) = NULL;                                                                                \
    } while (0)

#endif
