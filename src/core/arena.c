/*
 * arena.c - bump allocator over a chain of blocks.
 *
 * Blocks grow geometrically from 4 KiB; a request larger than half a block
 * gets a block of its own so that big allocations do not waste the tail of a
 * shared one.  The arena keeps a running total and refuses past its maximum,
 * which bounds what a single request or job can make the server allocate.
 */
#include "core/arena.h"

#include "core/alloc.h"

#include <stdio.h>
#include <string.h>

#define ARENA_MIN_BLOCK 4096
#define ARENA_ALIGN     16

typedef struct arena_block {
    struct arena_block *next;
    size_t cap, used;
    _Alignas(ARENA_ALIGN) unsigned char data[];
} arena_block;

typedef struct arena_cleanup {
    struct arena_cleanup *next;
    void (*fn)(void *);
    void *arg;
} arena_cleanup;

struct rg_arena {
    arena_block *head;
    arena_cleanup *cleanups;
    size_t total, max, next_block;
};

rg_arena *rg_arena_new(size_t max_bytes)
{
    rg_arena *a = rg_xcalloc(1, sizeof *a);
    a->max = max_bytes;
    a->next_block = ARENA_MIN_BLOCK;
    return a;
}

void rg_arena_free(rg_arena *a)
{
    if (!a)
        return;
    for (arena_cleanup *c = a->cleanups; c; c = c->next)
        c->fn(c->arg);
    for (arena_block *b = a->head, *n; b; b = n) {
        n = b->next;
        rg_free(b);
    }
    rg_free(a);
}

static arena_block *arena_grow(rg_arena *a, size_t n)
{
    size_t cap = a->next_block;
    if (n > cap / 2)
        cap = n;
    else if (a->next_block < (1u << 20))
        a->next_block *= 2;
    arena_block *b = rg_try_malloc(sizeof *b + cap);
    if (!b)
        return NULL;
    b->cap = cap;
    b->used = 0;
    if (cap == n && a->head) { /* a dedicated block: keep the current head for small ones */
        b->next = a->head->next;
        a->head->next = b;
    } else {
        b->next = a->head;
        a->head = b;
    }
    return b;
}

void *rg_arena_try_alloc(rg_arena *a, size_t n)
{
    size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (need < n || need > a->max - a->total || a->total > a->max)
        return NULL;
    arena_block *b = a->head;
    if (!b || b->cap - b->used < need) {
        b = arena_grow(a, need);
        if (!b)
            return NULL;
    }
    void *p = b->data + b->used;
    b->used += need;
    a->total += need;
    return p;
}

void *rg_arena_alloc(rg_arena *a, size_t n)
{
    void *p = rg_arena_try_alloc(a, n);
    if (!p) {
        fprintf(stderr, "ragd: arena limit of %zu bytes exceeded (asked %zu)\n", a->max, n);
        RG_ASSERT(!"arena exhausted");
    }
    return p;
}

void *rg_arena_calloc(rg_arena *a, size_t n, size_t sz)
{
    RG_ASSERT(sz == 0 || n <= SIZE_MAX / sz);
    void *p = rg_arena_alloc(a, n * sz);
    memset(p, 0, n * sz);
    return p;
}

char *rg_arena_strndup(rg_arena *a, const char *p, size_t n)
{
    char *z = rg_arena_alloc(a, n + 1);
    if (n)
        memcpy(z, p, n);
    z[n] = '\0';
    return z;
}

char *rg_arena_strdup(rg_arena *a, const char *z)
{
    return z ? rg_arena_strndup(a, z, strlen(z)) : NULL;
}

char *rg_arena_strz(rg_arena *a, rg_str s)
{
    return rg_arena_strndup(a, s.p, s.n);
}

char *rg_arena_printf(rg_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    RG_ASSERT(n >= 0);
    char *z = rg_arena_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(z, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return z;
}

void rg_arena_on_free(rg_arena *a, void (*fn)(void *), void *arg)
{
    arena_cleanup *c = rg_arena_alloc(a, sizeof *c);
    c->fn = fn;
    c->arg = arg;
    c->next = a->cleanups;
    a->cleanups = c;
}

size_t rg_arena_used(const rg_arena *a)
{
    return a->total;
}
