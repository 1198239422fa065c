/*
 * arena.h - region allocation: one per request and one per job.
 *
 * Everything a request or a job allocates comes from its arena and is freed
 * at one point, when the arena is destroyed (nginx pools, h2o mem pools).
 * Cleanup callbacks release what is not memory (statements, file handles,
 * jansson values) at the same point, in reverse order of registration.
 */
#ifndef RG_CORE_ARENA_H
#define RG_CORE_ARENA_H

#include "core/common.h"
#include "core/str.h"

#include <stdarg.h>

typedef struct rg_arena rg_arena;

/* Creates an arena that refuses to grow past max_bytes in total.  Caller
 * destroys it with rg_arena_free. */
rg_arena *rg_arena_new(size_t max_bytes);
/* Runs cleanups (last registered first) and frees every block.  NULL is fine. */
void rg_arena_free(rg_arena *a);
/* Returns n bytes aligned for any type, owned by the arena, or NULL when the
 * arena's maximum would be exceeded. */
RG_WUR void *rg_arena_try_alloc(rg_arena *a, size_t n);
/* As rg_arena_try_alloc but for sizes the program controls: aborts past the maximum. */
void *rg_arena_alloc(rg_arena *a, size_t n);
/* Returns zeroed memory for n elements of sz bytes; aborts past the maximum. */
void *rg_arena_calloc(rg_arena *a, size_t n, size_t sz);
/* Returns a NUL-terminated copy of n bytes at p, owned by the arena. */
char *rg_arena_strndup(rg_arena *a, const char *p, size_t n);
/* Returns a NUL-terminated copy of z (NULL gives NULL), owned by the arena. */
char *rg_arena_strdup(rg_arena *a, const char *z);
/* Returns a NUL-terminated copy of s, owned by the arena. */
char *rg_arena_strz(rg_arena *a, rg_str s);
/* Returns a formatted string owned by the arena. */
char *rg_arena_printf(rg_arena *a, const char *fmt, ...) RG_PRINTF(2, 3);
/* Registers fn(arg) to run when the arena is freed. */
void rg_arena_on_free(rg_arena *a, void (*fn)(void *), void *arg);
/* Bytes handed out so far (for budgets in tests). */
size_t rg_arena_used(const rg_arena *a);

#endif
