/*
 * alloc.c - allocation with an explicit out-of-memory policy.
 *
 * The x-variants abort with a message: a server that cannot allocate 64 bytes
 * cannot do anything useful, and pretending otherwise spreads untested error
 * paths everywhere.  The try-variants return NULL so that a huge, input-sized
 * request fails only itself.
 */
#include "core/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static RG_NORETURN void alloc_die(size_t n)
{
    fprintf(stderr, "ragd: out of memory allocating %zu bytes\n", n);
    abort();
}

void *rg_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        alloc_die(n);
    return p;
}

void *rg_xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz ? sz : 1);
    if (!p)
        alloc_die(n * sz);
    return p;
}

void *rg_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        alloc_die(n);
    return q;
}

char *rg_xstrndup(const char *p, size_t n)
{
    char *z = rg_xmalloc(n + 1);
    if (n)
        memcpy(z, p, n);
    z[n] = '\0';
    return z;
}

char *rg_xstrdup(const char *z)
{
    return rg_xstrndup(z, strlen(z));
}

void *rg_try_malloc(size_t n)
{
    return malloc(n ? n : 1);
}

void *rg_try_realloc(void *p, size_t n)
{
    return realloc(p, n ? n : 1);
}

void rg_free(void *p)
{
    free(p);
}
